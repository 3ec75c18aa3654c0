CREATE SCHEMA IF NOT EXISTS retail;

CREATE TABLE IF NOT EXISTS retail.customer (
  customer_key VARCHAR(32) NOT NULL,
  customer_id INT,
  segment TEXT,
  country VARCHAR(2),
  full_name TEXT,
  email TEXT,
  valid_from TIMESTAMP NOT NULL,
  valid_to TIMESTAMP,
  is_current BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (customer_key)
);

CREATE TABLE IF NOT EXISTS retail.product (
  product_key VARCHAR(32) NOT NULL,
  product_code VARCHAR(20),
  product_name TEXT,
  category TEXT,
  list_price DECIMAL(10, 2),
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (product_key)
);

CREATE TABLE IF NOT EXISTS retail."date" (
  date_key INT NOT NULL,
  "date" DATE,
  year SMALLINT,
  quarter SMALLINT,
  month SMALLINT,
  month_name TEXT,
  iso_week SMALLINT,
  day_of_week SMALLINT,
  is_weekend BOOLEAN,
  PRIMARY KEY (date_key)
);

CREATE TABLE IF NOT EXISTS retail.order_line (
  order_id BIGINT NOT NULL,
  line_no INT NOT NULL,
  customer_key VARCHAR(32) NOT NULL,
  customer_id INT NOT NULL,
  ordered_at TIMESTAMP NOT NULL,
  product_key VARCHAR(32) NOT NULL,
  product_code VARCHAR(20) NOT NULL,
  order_date_key INT NOT NULL,
  quantity INT,
  amount DECIMAL(12, 2),
  unit_price DECIMAL(10, 2),
  loaded_at TIMESTAMP NOT NULL,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (order_id, line_no)
);

DROP TABLE IF EXISTS _mc_customer_changes;

DROP TABLE IF EXISTS _mc_customer_old;

DROP TABLE IF EXISTS _mc_customer_classified;

DROP TABLE IF EXISTS _mc_customer_batch;

CREATE TEMPORARY TABLE _mc_customer_batch AS
SELECT DISTINCT
  s.customer_id,
  s.segment AS segment,
  s.country AS country,
  s.full_name AS full_name,
  s.email AS email,
  CAST(s.updated_at AS TIMESTAMP) AS _mc_ts,
  FALSE AS _mc_del
FROM crm.customers AS s
WHERE
  NOT s.customer_id IS NULL AND NOT s.updated_at IS NULL;

CREATE TEMPORARY TABLE _mc_customer_classified AS
WITH lat AS (
  SELECT
    t.*,
    1 AS _mc_rn
  FROM retail.customer AS t
  WHERE
    t.is_current
    AND NOT t.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      t.*,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY t.valid_from DESC NULLS LAST) AS _mc_rn
    FROM retail.customer AS t
    WHERE
      NOT t.is_current
      AND NOT EXISTS(
        SELECT
          1
        FROM retail.customer AS c
        WHERE
          c.customer_id = t.customer_id AND c.is_current
      )
  ) AS x
  WHERE
    _mc_rn = 1
)
SELECT
  COALESCE(b.customer_id, l.customer_id) AS customer_id,
  b.segment,
  b.country,
  b.full_name,
  b.email,
  b._mc_ts,
  b._mc_del,
  b._mc_n,
  CASE
    WHEN b.customer_id IS NULL
    THEN 'absent'
    WHEN l.customer_key IS NULL
    THEN 'chain'
    WHEN b._mc_n = 1
    AND NOT b._mc_del
    AND b._mc_ts >= l.dw_changed_at
    AND l.is_current
    AND b.segment IS NOT DISTINCT FROM l.segment
    AND b.country IS NOT DISTINCT FROM l.country
    AND b.full_name IS NOT DISTINCT FROM l.full_name
    AND b.email IS NOT DISTINCT FROM l.email
    THEN 'noop'
    WHEN b._mc_ts > l.dw_changed_at
    THEN 'chain'
    WHEN b._mc_ts = l.dw_changed_at
    AND NOT b._mc_del
    AND (
      (
        l.is_current
        AND b.segment IS NOT DISTINCT FROM l.segment
        AND b.country IS NOT DISTINCT FROM l.country
      )
      OR (
        NOT (
          l.is_current
        ) AND l.valid_to > l.dw_changed_at
      )
    )
    THEN 'chain'
    ELSE 'old'
  END AS _mc_class,
  l.customer_key AS _mc_lat_sk,
  CASE
    WHEN l.customer_key IS NULL
    THEN NULL
    WHEN NOT l.is_current
    THEN l.valid_to
    ELSE NULL
  END AS _mc_floor,
  0 AS _mc_floor_strict,
  l.valid_from AS _mc_lat_vf,
  CASE
    WHEN NOT l.customer_key IS NULL
    AND l.is_current
    AND b.segment IS NOT DISTINCT FROM l.segment
    AND b.country IS NOT DISTINCT FROM l.country
    AND b.full_name IS NOT DISTINCT FROM l.full_name
    AND b.email IS NOT DISTINCT FROM l.email
    THEN 1
    ELSE 0
  END AS _mc_same
FROM (
  SELECT
    bb.*,
    CASE WHEN mk.customer_id IS NULL THEN 1 ELSE 2 END AS _mc_n
  FROM _mc_customer_batch AS bb
  LEFT JOIN (
    SELECT
      customer_id
    FROM _mc_customer_batch
    GROUP BY
      customer_id
    HAVING
      COUNT(*) > 1
  ) AS mk
    ON bb.customer_id = mk.customer_id
) AS b
FULL JOIN lat AS l
  ON b.customer_id = l.customer_id
WHERE
  NOT b.customer_id IS NULL OR (
    l.is_current
  );

SELECT
  customer_id,
  _mc_ts
FROM _mc_customer_classified
WHERE
  _mc_n > 1
GROUP BY
  customer_id,
  _mc_ts
HAVING
  COUNT(*) > 1
ORDER BY
  customer_id,
  _mc_ts
LIMIT 11;

CREATE TEMPORARY TABLE _mc_customer_old AS
SELECT
  k.customer_id,
  k._mc_ts,
  k._mc_del,
  COUNT(v.customer_key) AS _mc_open,
  MAX(
    CASE
      WHEN NOT v.customer_key IS NULL
      AND k.segment IS NOT DISTINCT FROM v.segment
      AND k.country IS NOT DISTINCT FROM v.country
      THEN 1
      ELSE 0
    END
  ) AS _mc_agree,
  MAX(k._mc_same) AS _mc_same
FROM _mc_customer_classified AS k
LEFT JOIN retail.customer AS v
  ON v.customer_id = k.customer_id
  AND v.valid_from <= k._mc_ts
  AND (
    v.valid_to IS NULL OR k._mc_ts < v.valid_to
  )
WHERE
  k._mc_class = 'old'
GROUP BY
  k.customer_id,
  k._mc_ts,
  k._mc_del;

CREATE TEMPORARY TABLE _mc_customer_changes AS
WITH lat AS (
  SELECT
    t.*
  FROM retail.customer AS t
  JOIN (
    SELECT DISTINCT
      _mc_lat_sk
    FROM _mc_customer_classified
    WHERE
      _mc_class IN ('chain', 'simple', 'absent') AND NOT _mc_lat_sk IS NULL
  ) AS a
    ON t.customer_key = a._mc_lat_sk
), all_lat AS (
  SELECT
    t.*,
    1 AS _mc_rn
  FROM retail.customer AS t
  WHERE
    t.is_current
    AND NOT t.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      t.*,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY t.valid_from DESC NULLS LAST) AS _mc_rn
    FROM retail.customer AS t
    WHERE
      NOT t.is_current
      AND NOT EXISTS(
        SELECT
          1
        FROM retail.customer AS c
        WHERE
          c.customer_id = t.customer_id AND c.is_current
      )
  ) AS x
  WHERE
    _mc_rn = 1
), u AS (
  SELECT
    l.customer_id,
    l.segment,
    l.country,
    l.full_name,
    l.email,
    l.dw_changed_at AS _mc_ts,
    l.valid_from AS _mc_eff,
    FALSE AS _mc_del,
    1 AS _mc_anchor,
    CASE WHEN l.is_current THEN 'open' ELSE 'closed' END AS _mc_state,
    l.customer_key AS _mc_sk,
    l.valid_from AS _mc_vf,
    l.valid_to AS _mc_vt,
    l.dw_loaded_at AS _mc_la,
    l.dw_changed_at AS _mc_ch,
    0 AS _mc_clamped
  FROM lat AS l
  JOIN (
    SELECT DISTINCT
      customer_id
    FROM _mc_customer_classified
    WHERE
      _mc_class = 'chain'
  ) AS ck
    ON l.customer_id = ck.customer_id
  UNION ALL
  SELECT
    c.customer_id,
    c.segment,
    c.country,
    c.full_name,
    c.email,
    c._mc_ts,
    CASE
      WHEN (
        c._mc_ts < c._mc_floor OR (
          c._mc_ts = c._mc_floor AND c._mc_floor_strict = 1
        )
      )
      THEN GREATEST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP), c._mc_floor)
      ELSE GREATEST(c._mc_ts, COALESCE(c._mc_lat_vf, c._mc_ts))
    END,
    c._mc_del,
    0,
    CASE WHEN c._mc_del THEN 'closed' ELSE 'open' END,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    CASE
      WHEN (
        c._mc_ts < c._mc_floor OR (
          c._mc_ts = c._mc_floor AND c._mc_floor_strict = 1
        )
      )
      THEN 1
      ELSE 0
    END
  FROM _mc_customer_classified AS c
  WHERE
    c._mc_class = 'chain'
), u2 AS (
  SELECT
    *
  FROM (
    SELECT
      u.*,
      ROW_NUMBER() OVER (PARTITION BY customer_id, _mc_eff, _mc_anchor ORDER BY _mc_ts DESC NULLS LAST) AS _mc_r,
      MAX(CASE WHEN _mc_anchor = 0 AND _mc_clamped = 0 THEN 1 ELSE 0 END) OVER (PARTITION BY customer_id) AS _mc_fresh
    FROM u
  ) AS x
  WHERE
    _mc_r = 1 AND NOT (
      _mc_clamped = 1 AND _mc_fresh = 1
    )
), s1 AS (
  SELECT
    u2.*,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY _mc_eff, _mc_anchor DESC NULLS LAST, _mc_ts) AS _mc_seq
  FROM u2
), s2 AS (
  SELECT
    s1.*,
    LAG(_mc_state) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_prev_state,
    LAG(_mc_eff) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_prev_eff,
    LAG(segment) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_lag_segment,
    LAG(country) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_lag_country
  FROM s1
), s3 AS (
  SELECT
    s2.*,
    CASE
      WHEN _mc_anchor = 1
      THEN 0
      WHEN _mc_eff = _mc_prev_eff
      THEN 0
      WHEN _mc_del
      THEN 0
      WHEN _mc_prev_state IS NULL OR _mc_prev_state <> 'open'
      THEN 1
      WHEN (
        segment IS DISTINCT FROM _mc_lag_segment
        OR country IS DISTINCT FROM _mc_lag_country
      )
      THEN 1
      ELSE 0
    END AS _mc_start,
    CASE WHEN _mc_del AND _mc_prev_state = 'open' THEN 1 ELSE 0 END AS _mc_close
  FROM s2
), s4 AS (
  SELECT
    s3.*,
    SUM(_mc_start) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _mc_grp,
    MIN(CASE WHEN _mc_start = 1 OR _mc_close = 1 THEN _mc_eff END) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq
      ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS _mc_next_end,
    MAX(CASE WHEN NOT _mc_del THEN _mc_seq END) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _mc_data_seq
  FROM s3
), d1 AS (
  SELECT
    s4.*,
    FIRST_VALUE(full_name) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_full_name,
    FIRST_VALUE(email) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_email
  FROM s4
  WHERE
    NOT _mc_del
), d2 AS (
  SELECT
    d1.*
  FROM d1
), d3 AS (
  SELECT
    d2.*
  FROM d2
), g AS (
  SELECT
    customer_id,
    _mc_grp,
    MIN(_mc_seq) AS _mc_first,
    MAX(_mc_seq) AS _mc_last,
    MAX(_mc_ts) AS _mc_maxts
  FROM s4
  GROUP BY
    customer_id,
    _mc_grp
), img AS (
  SELECT
    g.customer_id,
    dv.segment AS segment,
    dv.country AS country,
    dv._mc_s1_full_name AS full_name,
    dv._mc_s1_email AS email,
    st._mc_anchor AS _mc_is_anchor,
    st._mc_state AS _mc_anchor_state,
    st._mc_sk AS _mc_old_sk,
    st._mc_eff AS _mc_vf_new,
    st._mc_next_end AS _mc_vt_new,
    st._mc_del AS _mc_tomb,
    st._mc_vf AS _mc_old_vf,
    st._mc_vt AS _mc_old_vt,
    st._mc_la AS _mc_old_la,
    st._mc_ch AS _mc_old_ch,
    g._mc_maxts
  FROM g
  JOIN s4 AS st
    ON st.customer_id = g.customer_id AND st._mc_seq = g._mc_first
  JOIN s4 AS lr
    ON lr.customer_id = g.customer_id AND lr._mc_seq = g._mc_last
  JOIN d3 AS dv
    ON dv.customer_id = g.customer_id AND dv._mc_seq = lr._mc_data_seq
)
SELECT
  MD5(
    COALESCE(CAST(i.customer_id AS TEXT), '\N') || '|' || COALESCE(
      TO_CHAR(i._mc_vf_new, 'YYYY-MM-DD HH24:') || LPAD(CAST(EXTRACT(MINUTE FROM i._mc_vf_new) AS TEXT), 2, '0') || TO_CHAR(i._mc_vf_new, ':SS.US'),
      '\N'
    )
  ) AS customer_key,
  i.customer_id AS customer_id,
  i.segment AS segment,
  i.country AS country,
  i.full_name AS full_name,
  i.email AS email,
  i._mc_vf_new AS valid_from,
  COALESCE(i._mc_vt_new, CAST(NULL AS TIMESTAMP)) AS valid_to,
  i._mc_vt_new IS NULL AS is_current,
  i._mc_maxts AS dw_changed_at,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS dw_loaded_at,
  CAST(NULL AS TIMESTAMP) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_closed
FROM img AS i
WHERE
  i._mc_is_anchor = 0
UNION ALL
SELECT
  i._mc_old_sk,
  i.customer_id,
  i.segment,
  i.country,
  i.full_name,
  i.email,
  i._mc_old_vf,
  CASE
    WHEN i._mc_anchor_state = 'closed'
    THEN i._mc_old_vt
    ELSE COALESCE(i._mc_vt_new, CAST(NULL AS TIMESTAMP))
  END,
  CASE WHEN i._mc_anchor_state = 'closed' THEN FALSE ELSE i._mc_vt_new IS NULL END,
  i._mc_maxts,
  i._mc_old_la,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'update',
  CASE
    WHEN t.is_current
    AND NOT (
      CASE WHEN i._mc_anchor_state = 'closed' THEN FALSE ELSE i._mc_vt_new IS NULL END
    )
    THEN 1
    ELSE 0
  END
FROM img AS i
JOIN retail.customer AS t
  ON t.customer_key = i._mc_old_sk
WHERE
  i._mc_is_anchor = 1
  AND (
    i.segment IS DISTINCT FROM t.segment
    OR i.country IS DISTINCT FROM t.country
    OR i.full_name IS DISTINCT FROM t.full_name
    OR i.email IS DISTINCT FROM t.email
    OR CASE
      WHEN i._mc_anchor_state = 'closed'
      THEN i._mc_old_vt
      ELSE COALESCE(i._mc_vt_new, CAST(NULL AS TIMESTAMP))
    END IS DISTINCT FROM t.valid_to
    OR CASE WHEN i._mc_anchor_state = 'closed' THEN FALSE ELSE i._mc_vt_new IS NULL END IS DISTINCT FROM t.is_current
  )
UNION ALL
SELECT
  t.customer_key,
  t.customer_id,
  t.segment,
  t.country,
  k1._mc_s1_full_name,
  k1._mc_s1_email,
  t.valid_from,
  t.valid_to,
  t.is_current,
  t.dw_changed_at,
  t.dw_loaded_at,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'update',
  0
FROM retail.customer AS t
JOIN (
  SELECT DISTINCT
    customer_id,
    _mc_s1_full_name,
    _mc_s1_email
  FROM d3
  UNION ALL
  SELECT
    c.customer_id,
    c.full_name AS _mc_s1_full_name,
    c.email AS _mc_s1_email
  FROM _mc_customer_classified AS c
  WHERE
    c._mc_class = 'noop'
) AS k1
  ON t.customer_id = k1.customer_id
LEFT JOIN all_lat AS l
  ON l.customer_key = t.customer_key
WHERE
  l.customer_key IS NULL
  AND NOT t.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  AND (
    k1._mc_s1_full_name IS DISTINCT FROM t.full_name
    OR k1._mc_s1_email IS DISTINCT FROM t.email
  )
UNION ALL
SELECT
  l.customer_key,
  l.customer_id,
  l.segment,
  l.country,
  l.full_name,
  l.email,
  l.valid_from,
  GREATEST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP), l.valid_from),
  FALSE,
  l.dw_changed_at,
  l.dw_loaded_at,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'close',
  1
FROM lat AS l
JOIN _mc_customer_classified AS a
  ON l.customer_id = a.customer_id AND a._mc_class = 'absent'
WHERE
  EXISTS(
    SELECT
      1
    FROM _mc_customer_batch
  );

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_changes
    WHERE
      _mc_op = 'insert'
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_changes
    WHERE
      _mc_op = 'update' AND _mc_closed = 0
  ) AS updated,
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_changes
    WHERE
      _mc_closed = 1
  ) AS closed,
  (
    SELECT
      COUNT(*)
    FROM crm.customers AS s
    WHERE
      (
        TRUE
      ) AND (
        s.customer_id IS NULL OR s.updated_at IS NULL
      )
  ) AS rejected,
  (
    SELECT
      COUNT(*)
    FROM (
      SELECT
        *
      FROM _mc_customer_old
      WHERE
        (
          NOT _mc_del AND _mc_agree = 0 AND _mc_same = 0
        )
        OR (
          _mc_del AND _mc_open > 0
        )
    ) AS x
  ) AS late,
  (
    SELECT
      COUNT(*)
    FROM crm.customers AS s
    WHERE
      (
        TRUE
      ) AND NOT s.customer_id IS NULL AND NOT s.updated_at IS NULL
  ) - (
    SELECT
      COUNT(*)
    FROM _mc_customer_batch
  ) AS duplicates;

INSERT INTO retail.customer (
  customer_key,
  customer_id,
  segment,
  country,
  full_name,
  email,
  valid_from,
  valid_to,
  is_current,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
)
SELECT
  '00000000000000000000000000000000',
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  CAST('0001-01-01 00:00:00' AS TIMESTAMP),
  NULL,
  TRUE,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail.customer
    WHERE
      customer_key = '00000000000000000000000000000000'
  );

INSERT INTO retail.customer (
  customer_key,
  customer_id,
  segment,
  country,
  full_name,
  email,
  valid_from,
  valid_to,
  is_current,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
)
SELECT
  'ffffffffffffffffffffffffffffffff',
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  CAST('0001-01-01 00:00:00' AS TIMESTAMP),
  NULL,
  TRUE,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail.customer
    WHERE
      customer_key = 'ffffffffffffffffffffffffffffffff'
  );

UPDATE retail.customer AS t SET valid_to = c.valid_to, is_current = c.is_current, dw_updated_at = c.dw_updated_at
FROM _mc_customer_changes AS c
WHERE
  c._mc_op = 'close' AND t.customer_key = c.customer_key;

DELETE FROM _mc_customer_changes
WHERE
  _mc_op = 'close';

MERGE INTO retail.customer AS t
USING _mc_customer_changes AS c
ON t.customer_key = c.customer_key
WHEN MATCHED THEN UPDATE SET
  customer_id = c.customer_id,
  segment = c.segment,
  country = c.country,
  full_name = c.full_name,
  email = c.email,
  valid_from = c.valid_from,
  valid_to = c.valid_to,
  is_current = c.is_current,
  dw_changed_at = c.dw_changed_at,
  dw_loaded_at = c.dw_loaded_at,
  dw_updated_at = c.dw_updated_at
WHEN NOT MATCHED THEN INSERT (
  customer_key,
  customer_id,
  segment,
  country,
  full_name,
  email,
  valid_from,
  valid_to,
  is_current,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
) VALUES (
  c.customer_key,
  c.customer_id,
  c.segment,
  c.country,
  c.full_name,
  c.email,
  c.valid_from,
  c.valid_to,
  c.is_current,
  c.dw_changed_at,
  c.dw_loaded_at,
  c.dw_updated_at
);

DROP TABLE IF EXISTS _mc_customer_changes;

DROP TABLE IF EXISTS _mc_customer_old;

DROP TABLE IF EXISTS _mc_customer_classified;

DROP TABLE IF EXISTS _mc_customer_batch;

DROP TABLE IF EXISTS _mc_product_changes;

DROP TABLE IF EXISTS _mc_product_old;

DROP TABLE IF EXISTS _mc_product_classified;

DROP TABLE IF EXISTS _mc_product_batch;

CREATE TEMPORARY TABLE _mc_product_batch AS
SELECT DISTINCT
  s.product_code,
  s.product_name AS product_name,
  s.category AS category,
  s.list_price AS list_price,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS _mc_ts,
  FALSE AS _mc_del
FROM shop.products AS s
WHERE
  NOT s.product_code IS NULL;

CREATE TEMPORARY TABLE _mc_product_classified AS
WITH lat AS (
  SELECT
    t.*,
    1 AS _mc_rn
  FROM retail.product AS t
  WHERE
    NOT t.product_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
)
SELECT
  *
FROM (
  SELECT
    b.*,
    CASE
      WHEN l.product_key IS NULL
      THEN 'chain'
      WHEN b._mc_n = 1
      AND NOT b._mc_del
      AND b._mc_ts >= l.dw_changed_at
      AND b.product_name IS NOT DISTINCT FROM l.product_name
      AND b.category IS NOT DISTINCT FROM l.category
      AND b.list_price IS NOT DISTINCT FROM l.list_price
      THEN 'noop'
      WHEN b._mc_ts > l.dw_changed_at
      THEN 'chain'
      ELSE 'old'
    END AS _mc_class,
    l.product_key AS _mc_lat_sk,
    CASE
      WHEN NOT l.product_key IS NULL
      AND b.product_name IS NOT DISTINCT FROM l.product_name
      AND b.category IS NOT DISTINCT FROM l.category
      AND b.list_price IS NOT DISTINCT FROM l.list_price
      THEN 1
      ELSE 0
    END AS _mc_same,
    CASE WHEN b._mc_ts = l.dw_changed_at THEN 1 ELSE 0 END AS _mc_at_asof
  FROM (
    SELECT
      bb.*,
      CASE WHEN mk.product_code IS NULL THEN 1 ELSE 2 END AS _mc_n
    FROM _mc_product_batch AS bb
    LEFT JOIN (
      SELECT
        product_code
      FROM _mc_product_batch
      GROUP BY
        product_code
      HAVING
        COUNT(*) > 1
    ) AS mk
      ON bb.product_code = mk.product_code
  ) AS b
  LEFT JOIN lat AS l
    ON b.product_code = l.product_code
) AS x
WHERE
  _mc_class <> 'noop';

SELECT
  product_code,
  _mc_ts
FROM _mc_product_classified
WHERE
  _mc_n > 1
GROUP BY
  product_code,
  _mc_ts
HAVING
  COUNT(*) > 1
ORDER BY
  product_code,
  _mc_ts
LIMIT 11;

CREATE TEMPORARY TABLE _mc_product_old AS
SELECT
  *
FROM (
  SELECT
    k.product_code,
    k._mc_ts,
    k._mc_del,
    k._mc_class,
    k._mc_same,
    k._mc_at_asof,
    MAX(
      CASE
        WHEN k._mc_class = 'chain' OR (
          k._mc_at_asof = 1 AND k._mc_same = 1
        )
        THEN 1
        ELSE 0
      END
    ) OVER (PARTITION BY k.product_code) AS _mc_reach
  FROM _mc_product_classified AS k
) AS o
WHERE
  _mc_class = 'old';

CREATE TEMPORARY TABLE _mc_product_changes AS
WITH lat AS (
  SELECT
    t.*
  FROM retail.product AS t
  JOIN (
    SELECT DISTINCT
      _mc_lat_sk
    FROM _mc_product_classified
    WHERE
      _mc_class IN ('chain', 'simple', 'absent') AND NOT _mc_lat_sk IS NULL
  ) AS a
    ON t.product_key = a._mc_lat_sk
), u AS (
  SELECT
    l.product_code,
    l.product_name,
    l.category,
    l.list_price,
    l.dw_changed_at AS _mc_ts,
    l.dw_changed_at AS _mc_eff,
    FALSE AS _mc_del,
    1 AS _mc_anchor,
    'open' AS _mc_state,
    l.product_key AS _mc_sk,
    NULL AS _mc_vf,
    NULL AS _mc_vt,
    l.dw_loaded_at AS _mc_la,
    l.dw_changed_at AS _mc_ch,
    0 AS _mc_clamped
  FROM lat AS l
  JOIN (
    SELECT DISTINCT
      product_code
    FROM _mc_product_classified
    WHERE
      _mc_class = 'chain'
  ) AS ck
    ON l.product_code = ck.product_code
  UNION ALL
  SELECT
    c.product_code,
    c.product_name,
    c.category,
    c.list_price,
    c._mc_ts,
    c._mc_ts,
    c._mc_del,
    0,
    CASE WHEN c._mc_del THEN 'closed' ELSE 'open' END,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    0
  FROM _mc_product_classified AS c
  WHERE
    c._mc_class = 'chain' AND NOT c._mc_del
), u2 AS (
  SELECT
    *
  FROM (
    SELECT
      u.*,
      ROW_NUMBER() OVER (PARTITION BY product_code, _mc_eff, _mc_anchor ORDER BY _mc_ts DESC NULLS LAST) AS _mc_r,
      MAX(CASE WHEN _mc_anchor = 0 AND _mc_clamped = 0 THEN 1 ELSE 0 END) OVER (PARTITION BY product_code) AS _mc_fresh
    FROM u
  ) AS x
  WHERE
    _mc_r = 1 AND NOT (
      _mc_clamped = 1 AND _mc_fresh = 1
    )
), s1 AS (
  SELECT
    u2.*,
    ROW_NUMBER() OVER (PARTITION BY product_code ORDER BY _mc_eff, _mc_anchor DESC NULLS LAST, _mc_ts) AS _mc_seq
  FROM u2
), s2 AS (
  SELECT
    s1.*,
    LAG(_mc_state) OVER (PARTITION BY product_code ORDER BY _mc_seq) AS _mc_prev_state,
    LAG(_mc_eff) OVER (PARTITION BY product_code ORDER BY _mc_seq) AS _mc_prev_eff
  FROM s1
), s3 AS (
  SELECT
    s2.*,
    CASE
      WHEN _mc_anchor = 1
      THEN 0
      WHEN _mc_eff = _mc_prev_eff
      THEN 0
      WHEN _mc_del
      THEN 0
      WHEN _mc_prev_state IS NULL OR _mc_prev_state <> 'open'
      THEN 1
      WHEN FALSE
      THEN 1
      ELSE 0
    END AS _mc_start,
    0 AS _mc_close
  FROM s2
), s4 AS (
  SELECT
    s3.*,
    SUM(_mc_start) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _mc_grp,
    MIN(CASE WHEN _mc_start = 1 OR _mc_close = 1 THEN _mc_eff END) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq
      ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS _mc_next_end,
    MAX(CASE WHEN NOT _mc_del THEN _mc_seq END) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _mc_data_seq
  FROM s3
), d1 AS (
  SELECT
    s4.*,
    FIRST_VALUE(product_name) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_product_name,
    FIRST_VALUE(category) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_category,
    FIRST_VALUE(list_price) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_list_price
  FROM s4
  WHERE
    NOT _mc_del
), d2 AS (
  SELECT
    d1.*
  FROM d1
), d3 AS (
  SELECT
    d2.*
  FROM d2
), g AS (
  SELECT
    product_code,
    _mc_grp,
    MIN(_mc_seq) AS _mc_first,
    MAX(_mc_seq) AS _mc_last,
    MAX(_mc_ts) AS _mc_maxts
  FROM s4
  GROUP BY
    product_code,
    _mc_grp
), img AS (
  SELECT
    g.product_code,
    dv._mc_s1_product_name AS product_name,
    dv._mc_s1_category AS category,
    dv._mc_s1_list_price AS list_price,
    st._mc_anchor AS _mc_is_anchor,
    st._mc_state AS _mc_anchor_state,
    st._mc_sk AS _mc_old_sk,
    st._mc_eff AS _mc_vf_new,
    st._mc_next_end AS _mc_vt_new,
    st._mc_del AS _mc_tomb,
    st._mc_vf AS _mc_old_vf,
    st._mc_vt AS _mc_old_vt,
    st._mc_la AS _mc_old_la,
    st._mc_ch AS _mc_old_ch,
    g._mc_maxts
  FROM g
  JOIN s4 AS st
    ON st.product_code = g.product_code AND st._mc_seq = g._mc_first
  JOIN s4 AS lr
    ON lr.product_code = g.product_code AND lr._mc_seq = g._mc_last
  JOIN d3 AS dv
    ON dv.product_code = g.product_code AND dv._mc_seq = lr._mc_data_seq
)
SELECT
  MD5(COALESCE(REPLACE(REPLACE(i.product_code, '\', '\\'), '|', '\|'), '\N')) AS product_key,
  i.product_code AS product_code,
  i.product_name AS product_name,
  i.category AS category,
  i.list_price AS list_price,
  i._mc_maxts AS dw_changed_at,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS dw_loaded_at,
  CAST(NULL AS TIMESTAMP) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_closed
FROM img AS i
WHERE
  i._mc_is_anchor = 0
UNION ALL
SELECT
  i._mc_old_sk,
  i.product_code,
  i.product_name,
  i.category,
  i.list_price,
  i._mc_maxts,
  i._mc_old_la,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'update',
  0
FROM img AS i
JOIN retail.product AS t
  ON t.product_key = i._mc_old_sk
WHERE
  i._mc_is_anchor = 1
  AND (
    i.product_name IS DISTINCT FROM t.product_name
    OR i.category IS DISTINCT FROM t.category
    OR i.list_price IS DISTINCT FROM t.list_price
  );

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_product_changes
    WHERE
      _mc_op = 'insert'
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM _mc_product_changes
    WHERE
      _mc_op = 'update' AND _mc_closed = 0
  ) AS updated,
  (
    SELECT
      COUNT(*)
    FROM _mc_product_changes
    WHERE
      _mc_closed = 1
  ) AS closed,
  (
    SELECT
      COUNT(*)
    FROM shop.products AS s
    WHERE
      (
        TRUE
      ) AND (
        s.product_code IS NULL
      )
  ) AS rejected,
  (
    SELECT
      COUNT(*)
    FROM (
      SELECT
        *
      FROM _mc_product_old
      WHERE
        _mc_same = 0 AND (
          _mc_at_asof = 1 OR _mc_reach = 0
        )
    ) AS x
  ) AS late,
  (
    SELECT
      COUNT(*)
    FROM shop.products AS s
    WHERE
      (
        TRUE
      ) AND NOT s.product_code IS NULL
  ) - (
    SELECT
      COUNT(*)
    FROM _mc_product_batch
  ) AS duplicates;

INSERT INTO retail.product (
  product_key,
  product_code,
  product_name,
  category,
  list_price,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
)
SELECT
  '00000000000000000000000000000000',
  NULL,
  NULL,
  NULL,
  NULL,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail.product
    WHERE
      product_key = '00000000000000000000000000000000'
  );

INSERT INTO retail.product (
  product_key,
  product_code,
  product_name,
  category,
  list_price,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
)
SELECT
  'ffffffffffffffffffffffffffffffff',
  NULL,
  NULL,
  NULL,
  NULL,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail.product
    WHERE
      product_key = 'ffffffffffffffffffffffffffffffff'
  );

MERGE INTO retail.product AS t
USING _mc_product_changes AS c
ON t.product_key = c.product_key
WHEN MATCHED THEN UPDATE SET
  product_code = c.product_code,
  product_name = c.product_name,
  category = c.category,
  list_price = c.list_price,
  dw_changed_at = c.dw_changed_at,
  dw_loaded_at = c.dw_loaded_at,
  dw_updated_at = c.dw_updated_at
WHEN NOT MATCHED THEN INSERT (
  product_key,
  product_code,
  product_name,
  category,
  list_price,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
) VALUES (
  c.product_key,
  c.product_code,
  c.product_name,
  c.category,
  c.list_price,
  c.dw_changed_at,
  c.dw_loaded_at,
  c.dw_updated_at
);

DROP TABLE IF EXISTS _mc_product_changes;

DROP TABLE IF EXISTS _mc_product_old;

DROP TABLE IF EXISTS _mc_product_classified;

DROP TABLE IF EXISTS _mc_product_batch;

SELECT
  COUNT(*) AS inserted
FROM (
  SELECT
    y * 10000 + m * 100 + CAST(EXTRACT(DAY FROM d) AS INT),
    d,
    y,
    CASE WHEN m <= 3 THEN 1 WHEN m <= 6 THEN 2 WHEN m <= 9 THEN 3 ELSE 4 END,
    m,
    CASE
      WHEN m = 1
      THEN 'January'
      WHEN m = 2
      THEN 'February'
      WHEN m = 3
      THEN 'March'
      WHEN m = 4
      THEN 'April'
      WHEN m = 5
      THEN 'May'
      WHEN m = 6
      THEN 'June'
      WHEN m = 7
      THEN 'July'
      WHEN m = 8
      THEN 'August'
      WHEN m = 9
      THEN 'September'
      WHEN m = 10
      THEN 'October'
      WHEN m = 11
      THEN 'November'
      WHEN m = 12
      THEN 'December'
    END,
    CAST(EXTRACT(WEEK FROM d) AS INT),
    dow,
    dow >= 6
  FROM (
    SELECT
      d,
      CAST(EXTRACT(YEAR FROM d) AS INT) AS y,
      CAST(EXTRACT(MONTH FROM d) AS INT) AS m,
      CAST((
        (
          CAST(EXTRACT(epoch FROM CAST(d AS TIMESTAMP) - CAST(CAST('1900-01-01' AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) % 7
        ) + 7
      ) % 7 + 1 AS INT) AS dow
    FROM (
      SELECT
        CAST(CAST('2020-01-01' AS DATE) + INTERVAL '1 DAY' * (
          d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000
        ) AS DATE) AS d
      FROM (
        SELECT
          0 AS n
        UNION ALL
        SELECT
          1 AS n
        UNION ALL
        SELECT
          2 AS n
        UNION ALL
        SELECT
          3 AS n
        UNION ALL
        SELECT
          4 AS n
        UNION ALL
        SELECT
          5 AS n
        UNION ALL
        SELECT
          6 AS n
        UNION ALL
        SELECT
          7 AS n
        UNION ALL
        SELECT
          8 AS n
        UNION ALL
        SELECT
          9 AS n
      ) AS d0, (
        SELECT
          0 AS n
        UNION ALL
        SELECT
          1 AS n
        UNION ALL
        SELECT
          2 AS n
        UNION ALL
        SELECT
          3 AS n
        UNION ALL
        SELECT
          4 AS n
        UNION ALL
        SELECT
          5 AS n
        UNION ALL
        SELECT
          6 AS n
        UNION ALL
        SELECT
          7 AS n
        UNION ALL
        SELECT
          8 AS n
        UNION ALL
        SELECT
          9 AS n
      ) AS d1, (
        SELECT
          0 AS n
        UNION ALL
        SELECT
          1 AS n
        UNION ALL
        SELECT
          2 AS n
        UNION ALL
        SELECT
          3 AS n
        UNION ALL
        SELECT
          4 AS n
        UNION ALL
        SELECT
          5 AS n
        UNION ALL
        SELECT
          6 AS n
        UNION ALL
        SELECT
          7 AS n
        UNION ALL
        SELECT
          8 AS n
        UNION ALL
        SELECT
          9 AS n
      ) AS d2, (
        SELECT
          0 AS n
        UNION ALL
        SELECT
          1 AS n
        UNION ALL
        SELECT
          2 AS n
        UNION ALL
        SELECT
          3 AS n
        UNION ALL
        SELECT
          4 AS n
        UNION ALL
        SELECT
          5 AS n
        UNION ALL
        SELECT
          6 AS n
        UNION ALL
        SELECT
          7 AS n
        UNION ALL
        SELECT
          8 AS n
        UNION ALL
        SELECT
          9 AS n
      ) AS d3
      WHERE
        d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000 < 4018
    ) AS days
  ) AS c
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM retail."date" AS t
      WHERE
        t."date" = c.d
    )
) AS m;

INSERT INTO retail."date" (
  date_key,
  "date",
  year,
  quarter,
  month,
  month_name,
  iso_week,
  day_of_week,
  is_weekend
)
SELECT
  0,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL,
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail."date"
    WHERE
      date_key = 0
  );

INSERT INTO retail."date" (
  date_key,
  "date",
  year,
  quarter,
  month,
  month_name,
  iso_week,
  day_of_week,
  is_weekend
)
SELECT
  y * 10000 + m * 100 + CAST(EXTRACT(DAY FROM d) AS INT),
  d,
  y,
  CASE WHEN m <= 3 THEN 1 WHEN m <= 6 THEN 2 WHEN m <= 9 THEN 3 ELSE 4 END,
  m,
  CASE
    WHEN m = 1
    THEN 'January'
    WHEN m = 2
    THEN 'February'
    WHEN m = 3
    THEN 'March'
    WHEN m = 4
    THEN 'April'
    WHEN m = 5
    THEN 'May'
    WHEN m = 6
    THEN 'June'
    WHEN m = 7
    THEN 'July'
    WHEN m = 8
    THEN 'August'
    WHEN m = 9
    THEN 'September'
    WHEN m = 10
    THEN 'October'
    WHEN m = 11
    THEN 'November'
    WHEN m = 12
    THEN 'December'
  END,
  CAST(EXTRACT(WEEK FROM d) AS INT),
  dow,
  dow >= 6
FROM (
  SELECT
    d,
    CAST(EXTRACT(YEAR FROM d) AS INT) AS y,
    CAST(EXTRACT(MONTH FROM d) AS INT) AS m,
    CAST((
      (
        CAST(EXTRACT(epoch FROM CAST(d AS TIMESTAMP) - CAST(CAST('1900-01-01' AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) % 7
      ) + 7
    ) % 7 + 1 AS INT) AS dow
  FROM (
    SELECT
      CAST(CAST('2020-01-01' AS DATE) + INTERVAL '1 DAY' * (
        d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000
      ) AS DATE) AS d
    FROM (
      SELECT
        0 AS n
      UNION ALL
      SELECT
        1 AS n
      UNION ALL
      SELECT
        2 AS n
      UNION ALL
      SELECT
        3 AS n
      UNION ALL
      SELECT
        4 AS n
      UNION ALL
      SELECT
        5 AS n
      UNION ALL
      SELECT
        6 AS n
      UNION ALL
      SELECT
        7 AS n
      UNION ALL
      SELECT
        8 AS n
      UNION ALL
      SELECT
        9 AS n
    ) AS d0, (
      SELECT
        0 AS n
      UNION ALL
      SELECT
        1 AS n
      UNION ALL
      SELECT
        2 AS n
      UNION ALL
      SELECT
        3 AS n
      UNION ALL
      SELECT
        4 AS n
      UNION ALL
      SELECT
        5 AS n
      UNION ALL
      SELECT
        6 AS n
      UNION ALL
      SELECT
        7 AS n
      UNION ALL
      SELECT
        8 AS n
      UNION ALL
      SELECT
        9 AS n
    ) AS d1, (
      SELECT
        0 AS n
      UNION ALL
      SELECT
        1 AS n
      UNION ALL
      SELECT
        2 AS n
      UNION ALL
      SELECT
        3 AS n
      UNION ALL
      SELECT
        4 AS n
      UNION ALL
      SELECT
        5 AS n
      UNION ALL
      SELECT
        6 AS n
      UNION ALL
      SELECT
        7 AS n
      UNION ALL
      SELECT
        8 AS n
      UNION ALL
      SELECT
        9 AS n
    ) AS d2, (
      SELECT
        0 AS n
      UNION ALL
      SELECT
        1 AS n
      UNION ALL
      SELECT
        2 AS n
      UNION ALL
      SELECT
        3 AS n
      UNION ALL
      SELECT
        4 AS n
      UNION ALL
      SELECT
        5 AS n
      UNION ALL
      SELECT
        6 AS n
      UNION ALL
      SELECT
        7 AS n
      UNION ALL
      SELECT
        8 AS n
      UNION ALL
      SELECT
        9 AS n
    ) AS d3
    WHERE
      d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000 < 4018
  ) AS days
) AS c
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail."date" AS t
    WHERE
      t."date" = c.d
  );

DROP TABLE IF EXISTS _mc_order_line_changes;

DROP TABLE IF EXISTS _mc_order_line_batch;

CREATE TEMPORARY TABLE _mc_order_line_batch AS
SELECT DISTINCT
  s.order_id AS order_id,
  s.line_no AS line_no,
  s.customer_id AS customer_id,
  s.ordered_at AS ordered_at,
  s.product_code AS product_code,
  s.quantity AS quantity,
  s.amount AS amount,
  s.unit_price AS unit_price,
  s.loaded_at AS loaded_at
FROM shop.order_lines AS s
WHERE
  NOT s.order_id IS NULL
  AND NOT s.line_no IS NULL
  AND (
    (
      SELECT
        MAX(loaded_at)
      FROM retail.order_line
    ) IS NULL
    OR s.loaded_at > (
      SELECT
        MAX(loaded_at)
      FROM retail.order_line
    )
  );

SELECT
  order_id,
  line_no
FROM _mc_order_line_batch
GROUP BY
  order_id,
  line_no
HAVING
  COUNT(*) > 1
ORDER BY
  order_id,
  line_no
LIMIT 11;

CREATE TEMPORARY TABLE _mc_order_line_changes AS
WITH res AS (
  SELECT
    b.order_id,
    b.line_no,
    b.customer_id,
    b.ordered_at,
    b.product_code,
    b.quantity,
    b.amount,
    b.unit_price,
    b.loaded_at,
    COALESCE(
      _mc_r0._mc_sk,
      CASE WHEN CAST(b.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
      '00000000000000000000000000000000'
    ) AS customer_key,
    COALESCE(_mc_r1.product_key, '00000000000000000000000000000000') AS product_key,
    COALESCE(_mc_r2.date_key, 0) AS order_date_key
  FROM _mc_order_line_batch AS b
  LEFT JOIN (
    SELECT
      *
    FROM (
      SELECT
        x.order_id,
        x.line_no,
        d.customer_key AS _mc_sk,
        ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC NULLS LAST) AS _mc_rn
      FROM _mc_order_line_batch AS x
      JOIN retail.customer AS d
        ON d.customer_id = x.customer_id AND d.valid_from <= CAST(x.ordered_at AS TIMESTAMP)
      WHERE
        NOT d.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
    ) AS y
    WHERE
      _mc_rn = 1
  ) AS _mc_r0
    ON _mc_r0.order_id = b.order_id AND _mc_r0.line_no = b.line_no
  LEFT JOIN (
    SELECT
      *
    FROM (
      SELECT
        customer_id,
        valid_from AS _mc_vf,
        customer_key AS _mc_sk,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY valid_from ASC) AS _mc_rn
      FROM retail.customer
      WHERE
        NOT customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
    ) AS x
    WHERE
      _mc_rn = 1
  ) AS _mc_f0
    ON _mc_f0.customer_id = b.customer_id
  LEFT JOIN retail.product AS _mc_r1
    ON _mc_r1.product_code = b.product_code
  LEFT JOIN retail."date" AS _mc_r2
    ON _mc_r2."date" = CAST(b.ordered_at AS DATE)
)
SELECT
  r.order_id AS order_id,
  r.line_no AS line_no,
  r.customer_key AS customer_key,
  r.customer_id AS customer_id,
  r.ordered_at AS ordered_at,
  r.product_key AS product_key,
  r.product_code AS product_code,
  r.order_date_key AS order_date_key,
  r.quantity AS quantity,
  r.amount AS amount,
  r.unit_price AS unit_price,
  r.loaded_at AS loaded_at,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS dw_loaded_at,
  CAST(NULL AS TIMESTAMP) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_rekeyed
FROM res AS r
LEFT JOIN retail.order_line AS t
  ON t.order_id = r.order_id AND t.line_no = r.line_no
WHERE
  t.order_id IS NULL
UNION ALL
SELECT
  r.order_id,
  r.line_no,
  r.customer_key,
  r.customer_id,
  r.ordered_at,
  r.product_key,
  r.product_code,
  r.order_date_key,
  r.quantity,
  r.amount,
  r.unit_price,
  r.loaded_at,
  t.dw_loaded_at,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  CASE
    WHEN (
      r.customer_id IS DISTINCT FROM t.customer_id
      OR r.ordered_at IS DISTINCT FROM t.ordered_at
      OR r.product_code IS DISTINCT FROM t.product_code
      OR r.quantity IS DISTINCT FROM t.quantity
      OR r.amount IS DISTINCT FROM t.amount
      OR r.unit_price IS DISTINCT FROM t.unit_price
      OR r.loaded_at IS DISTINCT FROM t.loaded_at
      OR r.customer_key IS DISTINCT FROM CASE
        WHEN t.customer_key = '00000000000000000000000000000000'
        THEN COALESCE(
          _mc_r0._mc_sk,
          CASE WHEN CAST(t.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
          '00000000000000000000000000000000'
        )
        ELSE t.customer_key
      END
      OR r.product_key IS DISTINCT FROM CASE
        WHEN t.product_key = '00000000000000000000000000000000'
        THEN COALESCE(_mc_r1.product_key, '00000000000000000000000000000000')
        ELSE t.product_key
      END
      OR r.order_date_key IS DISTINCT FROM CASE
        WHEN t.order_date_key = 0
        THEN COALESCE(_mc_r2.date_key, 0)
        ELSE t.order_date_key
      END
    )
    THEN 'update'
    ELSE 'rekey'
  END,
  CASE
    WHEN (
      t.customer_key = '00000000000000000000000000000000'
      AND COALESCE(
        _mc_r0._mc_sk,
        CASE WHEN CAST(t.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
        '00000000000000000000000000000000'
      ) <> '00000000000000000000000000000000'
    )
    OR (
      t.product_key = '00000000000000000000000000000000'
      AND COALESCE(_mc_r1.product_key, '00000000000000000000000000000000') <> '00000000000000000000000000000000'
    )
    OR (
      t.order_date_key = 0 AND COALESCE(_mc_r2.date_key, 0) <> 0
    )
    THEN 1
    ELSE 0
  END
FROM res AS r
JOIN retail.order_line AS t
  ON t.order_id = r.order_id AND t.line_no = r.line_no
LEFT JOIN (
  SELECT
    *
  FROM (
    SELECT
      x.order_id,
      x.line_no,
      d.customer_key AS _mc_sk,
      ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC NULLS LAST) AS _mc_rn
    FROM retail.order_line AS x
    JOIN retail.customer AS d
      ON d.customer_id = x.customer_id AND d.valid_from <= CAST(x.ordered_at AS TIMESTAMP)
    WHERE
      NOT d.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  ) AS y
  WHERE
    _mc_rn = 1
) AS _mc_r0
  ON _mc_r0.order_id = t.order_id AND _mc_r0.line_no = t.line_no
LEFT JOIN (
  SELECT
    *
  FROM (
    SELECT
      customer_id,
      valid_from AS _mc_vf,
      customer_key AS _mc_sk,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY valid_from ASC) AS _mc_rn
    FROM retail.customer
    WHERE
      NOT customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  ) AS x
  WHERE
    _mc_rn = 1
) AS _mc_f0
  ON _mc_f0.customer_id = t.customer_id
LEFT JOIN retail.product AS _mc_r1
  ON _mc_r1.product_code = t.product_code
LEFT JOIN retail."date" AS _mc_r2
  ON _mc_r2."date" = CAST(t.ordered_at AS DATE)
WHERE
  (
    r.customer_id IS DISTINCT FROM t.customer_id
    OR r.ordered_at IS DISTINCT FROM t.ordered_at
    OR r.product_code IS DISTINCT FROM t.product_code
    OR r.quantity IS DISTINCT FROM t.quantity
    OR r.amount IS DISTINCT FROM t.amount
    OR r.unit_price IS DISTINCT FROM t.unit_price
    OR r.loaded_at IS DISTINCT FROM t.loaded_at
    OR r.customer_key IS DISTINCT FROM CASE
      WHEN t.customer_key = '00000000000000000000000000000000'
      THEN COALESCE(
        _mc_r0._mc_sk,
        CASE WHEN CAST(t.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
        '00000000000000000000000000000000'
      )
      ELSE t.customer_key
    END
    OR r.product_key IS DISTINCT FROM CASE
      WHEN t.product_key = '00000000000000000000000000000000'
      THEN COALESCE(_mc_r1.product_key, '00000000000000000000000000000000')
      ELSE t.product_key
    END
    OR r.order_date_key IS DISTINCT FROM CASE
      WHEN t.order_date_key = 0
      THEN COALESCE(_mc_r2.date_key, 0)
      ELSE t.order_date_key
    END
  )
  OR (
    (
      t.customer_key = '00000000000000000000000000000000'
      AND COALESCE(
        _mc_r0._mc_sk,
        CASE WHEN CAST(t.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
        '00000000000000000000000000000000'
      ) <> '00000000000000000000000000000000'
    )
    OR (
      t.product_key = '00000000000000000000000000000000'
      AND COALESCE(_mc_r1.product_key, '00000000000000000000000000000000') <> '00000000000000000000000000000000'
    )
    OR (
      t.order_date_key = 0 AND COALESCE(_mc_r2.date_key, 0) <> 0
    )
  )
UNION ALL
SELECT
  t.order_id,
  t.line_no,
  CASE
    WHEN t.customer_key = '00000000000000000000000000000000'
    THEN COALESCE(
      _mc_r0._mc_sk,
      CASE WHEN CAST(t.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
      '00000000000000000000000000000000'
    )
    ELSE t.customer_key
  END,
  t.customer_id,
  t.ordered_at,
  CASE
    WHEN t.product_key = '00000000000000000000000000000000'
    THEN COALESCE(_mc_r1.product_key, '00000000000000000000000000000000')
    ELSE t.product_key
  END,
  t.product_code,
  CASE
    WHEN t.order_date_key = 0
    THEN COALESCE(_mc_r2.date_key, 0)
    ELSE t.order_date_key
  END,
  t.quantity,
  t.amount,
  t.unit_price,
  t.loaded_at,
  t.dw_loaded_at,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'rekey',
  1
FROM retail.order_line AS t
LEFT JOIN (
  SELECT
    *
  FROM (
    SELECT
      x.order_id,
      x.line_no,
      d.customer_key AS _mc_sk,
      ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC NULLS LAST) AS _mc_rn
    FROM retail.order_line AS x
    JOIN retail.customer AS d
      ON d.customer_id = x.customer_id AND d.valid_from <= CAST(x.ordered_at AS TIMESTAMP)
    WHERE
      NOT d.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  ) AS y
  WHERE
    _mc_rn = 1
) AS _mc_r0
  ON _mc_r0.order_id = t.order_id AND _mc_r0.line_no = t.line_no
LEFT JOIN (
  SELECT
    *
  FROM (
    SELECT
      customer_id,
      valid_from AS _mc_vf,
      customer_key AS _mc_sk,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY valid_from ASC) AS _mc_rn
    FROM retail.customer
    WHERE
      NOT customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  ) AS x
  WHERE
    _mc_rn = 1
) AS _mc_f0
  ON _mc_f0.customer_id = t.customer_id
LEFT JOIN retail.product AS _mc_r1
  ON _mc_r1.product_code = t.product_code
LEFT JOIN retail."date" AS _mc_r2
  ON _mc_r2."date" = CAST(t.ordered_at AS DATE)
LEFT JOIN res AS r
  ON t.order_id = r.order_id AND t.line_no = r.line_no
WHERE
  r.order_id IS NULL
  AND (
    t.customer_key = '00000000000000000000000000000000'
    OR t.product_key = '00000000000000000000000000000000'
    OR t.order_date_key = 0
  )
  AND (
    (
      t.customer_key = '00000000000000000000000000000000'
      AND COALESCE(
        _mc_r0._mc_sk,
        CASE WHEN CAST(t.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
        '00000000000000000000000000000000'
      ) <> '00000000000000000000000000000000'
    )
    OR (
      t.product_key = '00000000000000000000000000000000'
      AND COALESCE(_mc_r1.product_key, '00000000000000000000000000000000') <> '00000000000000000000000000000000'
    )
    OR (
      t.order_date_key = 0 AND COALESCE(_mc_r2.date_key, 0) <> 0
    )
  );

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_order_line_changes
    WHERE
      _mc_op = 'insert'
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM _mc_order_line_changes
    WHERE
      _mc_op = 'update'
  ) AS updated,
  (
    SELECT
      COUNT(*)
    FROM _mc_order_line_changes
    WHERE
      _mc_rekeyed = 1
  ) AS rekeyed,
  (
    SELECT
      COUNT(*)
    FROM shop.order_lines AS s
    WHERE
      TRUE AND (
        s.order_id IS NULL OR s.line_no IS NULL
      )
  ) AS rejected,
  (
    SELECT
      COUNT(*)
    FROM _mc_order_line_changes
    WHERE
      _mc_op <> 'rekey'
      AND (
        customer_key = '00000000000000000000000000000000'
        OR product_key = '00000000000000000000000000000000'
        OR order_date_key = 0
      )
  ) AS unresolved,
  (
    SELECT
      COUNT(*)
    FROM shop.order_lines AS s
    WHERE
      NOT s.order_id IS NULL
      AND NOT s.line_no IS NULL
      AND (
        (
          SELECT
            MAX(loaded_at)
          FROM retail.order_line
        ) IS NULL
        OR s.loaded_at > (
          SELECT
            MAX(loaded_at)
          FROM retail.order_line
        )
      )
  ) - (
    SELECT
      COUNT(*)
    FROM _mc_order_line_batch
  ) AS duplicates;

MERGE INTO retail.order_line AS t
USING _mc_order_line_changes AS c
ON t.order_id = c.order_id AND t.line_no = c.line_no
WHEN MATCHED THEN UPDATE SET
  customer_key = c.customer_key,
  customer_id = c.customer_id,
  ordered_at = c.ordered_at,
  product_key = c.product_key,
  product_code = c.product_code,
  order_date_key = c.order_date_key,
  quantity = c.quantity,
  amount = c.amount,
  unit_price = c.unit_price,
  loaded_at = c.loaded_at,
  dw_loaded_at = c.dw_loaded_at,
  dw_updated_at = c.dw_updated_at
WHEN NOT MATCHED THEN INSERT (
  order_id,
  line_no,
  customer_key,
  customer_id,
  ordered_at,
  product_key,
  product_code,
  order_date_key,
  quantity,
  amount,
  unit_price,
  loaded_at,
  dw_loaded_at,
  dw_updated_at
) VALUES (
  c.order_id,
  c.line_no,
  c.customer_key,
  c.customer_id,
  c.ordered_at,
  c.product_key,
  c.product_code,
  c.order_date_key,
  c.quantity,
  c.amount,
  c.unit_price,
  c.loaded_at,
  c.dw_loaded_at,
  c.dw_updated_at
);

DROP TABLE IF EXISTS _mc_order_line_changes;

DROP TABLE IF EXISTS _mc_order_line_batch;
