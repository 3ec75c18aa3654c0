CREATE DATABASE IF NOT EXISTS retail;

CREATE TABLE IF NOT EXISTS retail.customer (
  customer_key String,
  customer_id Nullable(Int32),
  segment Nullable(String),
  country Nullable(String),
  full_name Nullable(String),
  email Nullable(String),
  valid_from DateTime64(6),
  valid_to Nullable(DateTime64(6)),
  is_current Bool,
  dw_changed_at Nullable(DateTime64(6)),
  dw_loaded_at DateTime64(6),
  dw_updated_at Nullable(DateTime64(6))
)
ENGINE=MergeTree
ORDER BY customer_key;

CREATE TABLE IF NOT EXISTS retail.product (
  product_key String,
  product_code Nullable(String),
  product_name Nullable(String),
  category Nullable(String),
  list_price Nullable(Decimal(10, 2)),
  dw_changed_at Nullable(DateTime64(6)),
  dw_loaded_at DateTime64(6),
  dw_updated_at Nullable(DateTime64(6))
)
ENGINE=MergeTree
ORDER BY product_key;

CREATE TABLE IF NOT EXISTS retail."date" (
  date_key Int32,
  "date" Nullable(Date32),
  year Nullable(Int16),
  quarter Nullable(Int16),
  month Nullable(Int16),
  month_name Nullable(String),
  iso_week Nullable(Int16),
  day_of_week Nullable(Int16),
  is_weekend Nullable(Bool)
)
ENGINE=MergeTree
ORDER BY date_key;

CREATE TABLE IF NOT EXISTS retail.order_line (
  order_id Int64,
  line_no Int32,
  customer_key String,
  customer_id Int32,
  ordered_at DateTime64(6),
  product_key String,
  product_code String,
  order_date_key Int32,
  quantity Nullable(Int32),
  amount Nullable(Decimal(12, 2)),
  unit_price Nullable(Decimal(10, 2)),
  loaded_at DateTime64(6),
  dw_loaded_at DateTime64(6),
  dw_updated_at Nullable(DateTime64(6))
)
ENGINE=MergeTree
PARTITION BY toYYYYMMDD(ordered_at)
ORDER BY (order_id, line_no);

DROP TABLE IF EXISTS retail._mc_customer_changes;

DROP TABLE IF EXISTS retail._mc_customer_old;

DROP TABLE IF EXISTS retail._mc_customer_classified;

DROP TABLE IF EXISTS retail._mc_customer_batch;

CREATE OR REPLACE TABLE retail._mc_customer_batch
ENGINE=Memory AS
SELECT DISTINCT
  s.customer_id AS customer_id,
  s.segment AS segment,
  s.country AS country,
  s.full_name AS full_name,
  s.email AS email,
  CAST(s.updated_at AS Nullable(DateTime64(6))) AS _mc_ts,
  FALSE AS _mc_del
FROM crm.customers AS s
WHERE
  NOT (
    s.customer_id IS NULL
  ) AND NOT (
    s.updated_at IS NULL
  );

CREATE OR REPLACE TABLE retail._mc_customer_classified
ENGINE=Memory AS
WITH lat AS (
  SELECT
    t.*,
    1 AS _mc_rn
  FROM retail.customer AS t
  WHERE
    t.is_current
    AND NOT (
      t.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
    )
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      t.*,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY t.valid_from DESC) AS _mc_rn
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
  b.segment AS segment,
  b.country AS country,
  b.full_name AS full_name,
  b.email AS email,
  b._mc_ts AS _mc_ts,
  b._mc_del AS _mc_del,
  b._mc_n AS _mc_n,
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
    WHEN NOT (
      l.customer_key IS NULL
    )
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
  FROM retail._mc_customer_batch AS bb
  LEFT JOIN (
    SELECT
      customer_id
    FROM retail._mc_customer_batch
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
  NOT (
    b.customer_id IS NULL
  ) OR (
    l.is_current
  );

SELECT
  customer_id,
  _mc_ts
FROM retail._mc_customer_classified
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

CREATE OR REPLACE TABLE retail._mc_customer_old
ENGINE=Memory AS
SELECT
  k.customer_id AS customer_id,
  k._mc_ts AS _mc_ts,
  k._mc_del AS _mc_del,
  COUNT(v.customer_key) AS _mc_open,
  MAX(
    CASE
      WHEN NOT (
        v.customer_key IS NULL
      )
      AND k.segment IS NOT DISTINCT FROM v.segment
      AND k.country IS NOT DISTINCT FROM v.country
      THEN 1
      ELSE 0
    END
  ) AS _mc_agree,
  MAX(k._mc_same) AS _mc_same
FROM retail._mc_customer_classified AS k
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

CREATE OR REPLACE TABLE retail._mc_customer_changes
ENGINE=Memory AS
WITH lat AS (
  SELECT
    t.*
  FROM retail.customer AS t
  JOIN (
    SELECT DISTINCT
      _mc_lat_sk
    FROM retail._mc_customer_classified
    WHERE
      _mc_class IN ('chain', 'simple', 'absent') AND NOT (
        _mc_lat_sk IS NULL
      )
  ) AS a
    ON t.customer_key = a._mc_lat_sk
), all_lat AS (
  SELECT
    t.*,
    1 AS _mc_rn
  FROM retail.customer AS t
  WHERE
    t.is_current
    AND NOT (
      t.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
    )
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      t.*,
      ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY t.valid_from DESC) AS _mc_rn
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
    l.customer_id AS customer_id,
    l.segment AS segment,
    l.country AS country,
    l.full_name AS full_name,
    l.email AS email,
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
    FROM retail._mc_customer_classified
    WHERE
      _mc_class = 'chain'
  ) AS ck
    ON l.customer_id = ck.customer_id
  UNION ALL
  SELECT
    c.customer_id AS customer_id,
    c.segment AS segment,
    c.country AS country,
    c.full_name AS full_name,
    c.email AS email,
    c._mc_ts AS _mc_ts,
    CASE
      WHEN (
        c._mc_ts < c._mc_floor OR (
          c._mc_ts = c._mc_floor AND c._mc_floor_strict = 1
        )
      )
      THEN GREATEST(CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))), c._mc_floor)
      ELSE GREATEST(c._mc_ts, COALESCE(c._mc_lat_vf, c._mc_ts))
    END,
    c._mc_del AS _mc_del,
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
  FROM retail._mc_customer_classified AS c
  WHERE
    c._mc_class = 'chain'
), u2 AS (
  SELECT
    *
  FROM (
    SELECT
      u.*,
      ROW_NUMBER() OVER (PARTITION BY customer_id, _mc_eff, _mc_anchor ORDER BY _mc_ts DESC) AS _mc_r,
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
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY _mc_eff, _mc_anchor DESC, _mc_ts) AS _mc_seq
  FROM u2
), s2 AS (
  SELECT
    s1.*,
    lag(toNullable(_mc_state)) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_prev_state,
    lag(toNullable(_mc_eff)) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_prev_eff,
    lag(toNullable(segment)) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_lag_segment,
    lag(toNullable(country)) OVER (PARTITION BY customer_id ORDER BY _mc_seq) AS _mc_lag_country
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
    first_value_respect_nulls(full_name) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_full_name,
    first_value_respect_nulls(email) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq DESC
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
    g.customer_id AS customer_id,
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
    g._mc_maxts AS _mc_maxts
  FROM g
  JOIN s4 AS st
    ON st.customer_id = g.customer_id AND st._mc_seq = g._mc_first
  JOIN s4 AS lr
    ON lr.customer_id = g.customer_id AND lr._mc_seq = g._mc_last
  JOIN d3 AS dv
    ON dv.customer_id = g.customer_id AND dv._mc_seq = lr._mc_data_seq
)
SELECT
  LOWER(
    HEX(
      MD5(
        COALESCE(CAST(i.customer_id AS Nullable(String)), '\\N') || '|' || COALESCE(
          formatDateTime(i._mc_vf_new, '%Y-%m-%d %H:') || LPAD(CAST(EXTRACT(MINUTE FROM i._mc_vf_new) AS Nullable(String)), 2, '0') || formatDateTime(i._mc_vf_new, ':%S.%f'),
          '\\N'
        )
      )
    )
  ) AS customer_key,
  i.customer_id AS customer_id,
  i.segment AS segment,
  i.country AS country,
  i.full_name AS full_name,
  i.email AS email,
  i._mc_vf_new AS valid_from,
  COALESCE(i._mc_vt_new, CAST(NULL AS Nullable(DateTime64(6)))) AS valid_to,
  i._mc_vt_new IS NULL AS is_current,
  i._mc_maxts AS dw_changed_at,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))) AS dw_loaded_at,
  CAST(NULL AS Nullable(DateTime64(6))) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_closed
FROM img AS i
WHERE
  i._mc_is_anchor = 0
UNION ALL
SELECT
  i._mc_old_sk AS _mc_old_sk,
  i.customer_id AS customer_id,
  i.segment AS segment,
  i.country AS country,
  i.full_name AS full_name,
  i.email AS email,
  i._mc_old_vf AS _mc_old_vf,
  CASE
    WHEN i._mc_anchor_state = 'closed'
    THEN i._mc_old_vt
    ELSE COALESCE(i._mc_vt_new, CAST(NULL AS Nullable(DateTime64(6))))
  END,
  CASE WHEN i._mc_anchor_state = 'closed' THEN FALSE ELSE i._mc_vt_new IS NULL END,
  i._mc_maxts AS _mc_maxts,
  i._mc_old_la AS _mc_old_la,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
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
      ELSE COALESCE(i._mc_vt_new, CAST(NULL AS Nullable(DateTime64(6))))
    END IS DISTINCT FROM t.valid_to
    OR CASE WHEN i._mc_anchor_state = 'closed' THEN FALSE ELSE i._mc_vt_new IS NULL END IS DISTINCT FROM t.is_current
  )
UNION ALL
SELECT
  t.customer_key AS customer_key,
  t.customer_id AS customer_id,
  t.segment AS segment,
  t.country AS country,
  k1._mc_s1_full_name AS _mc_s1_full_name,
  k1._mc_s1_email AS _mc_s1_email,
  t.valid_from AS valid_from,
  t.valid_to AS valid_to,
  t.is_current AS is_current,
  t.dw_changed_at AS dw_changed_at,
  t.dw_loaded_at AS dw_loaded_at,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
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
    c.customer_id AS customer_id,
    c.full_name AS _mc_s1_full_name,
    c.email AS _mc_s1_email
  FROM retail._mc_customer_classified AS c
  WHERE
    c._mc_class = 'noop'
) AS k1
  ON t.customer_id = k1.customer_id
LEFT JOIN all_lat AS l
  ON l.customer_key = t.customer_key
WHERE
  l.customer_key IS NULL
  AND NOT (
    t.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  )
  AND (
    k1._mc_s1_full_name IS DISTINCT FROM t.full_name
    OR k1._mc_s1_email IS DISTINCT FROM t.email
  )
UNION ALL
SELECT
  l.customer_key AS customer_key,
  l.customer_id AS customer_id,
  l.segment AS segment,
  l.country AS country,
  l.full_name AS full_name,
  l.email AS email,
  l.valid_from AS valid_from,
  GREATEST(CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))), l.valid_from),
  FALSE,
  l.dw_changed_at AS dw_changed_at,
  l.dw_loaded_at AS dw_loaded_at,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  'close',
  1
FROM lat AS l
JOIN retail._mc_customer_classified AS a
  ON l.customer_id = a.customer_id AND a._mc_class = 'absent'
WHERE
  EXISTS(
    SELECT
      1
    FROM retail._mc_customer_batch
  );

SELECT
  (
    SELECT
      COUNT(*)
    FROM retail._mc_customer_changes
    WHERE
      _mc_op = 'insert'
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM retail._mc_customer_changes
    WHERE
      _mc_op = 'update' AND _mc_closed = 0
  ) AS updated,
  (
    SELECT
      COUNT(*)
    FROM retail._mc_customer_changes
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
      FROM retail._mc_customer_old
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
      ) AND NOT (
        s.customer_id IS NULL
      ) AND NOT (
        s.updated_at IS NULL
      )
  ) - (
    SELECT
      COUNT(*)
    FROM retail._mc_customer_batch
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
  CAST('0001-01-01 00:00:00' AS Nullable(DateTime64(6))),
  NULL,
  TRUE,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
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
  CAST('0001-01-01 00:00:00' AS Nullable(DateTime64(6))),
  NULL,
  TRUE,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail.customer
    WHERE
      customer_key = 'ffffffffffffffffffffffffffffffff'
  );

DELETE FROM retail.customer
WHERE
  customer_key IN (
    SELECT
      customer_key
    FROM retail._mc_customer_changes
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
  c.customer_key AS customer_key,
  c.customer_id AS customer_id,
  c.segment AS segment,
  c.country AS country,
  c.full_name AS full_name,
  c.email AS email,
  c.valid_from AS valid_from,
  c.valid_to AS valid_to,
  c.is_current AS is_current,
  c.dw_changed_at AS dw_changed_at,
  c.dw_loaded_at AS dw_loaded_at,
  c.dw_updated_at AS dw_updated_at
FROM retail._mc_customer_changes AS c;

DROP TABLE IF EXISTS retail._mc_customer_changes;

DROP TABLE IF EXISTS retail._mc_customer_old;

DROP TABLE IF EXISTS retail._mc_customer_classified;

DROP TABLE IF EXISTS retail._mc_customer_batch;

DROP TABLE IF EXISTS retail._mc_product_changes;

DROP TABLE IF EXISTS retail._mc_product_old;

DROP TABLE IF EXISTS retail._mc_product_classified;

DROP TABLE IF EXISTS retail._mc_product_batch;

CREATE OR REPLACE TABLE retail._mc_product_batch
ENGINE=Memory AS
SELECT DISTINCT
  s.product_code AS product_code,
  s.product_name AS product_name,
  s.category AS category,
  s.list_price AS list_price,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))) AS _mc_ts,
  FALSE AS _mc_del
FROM shop.products AS s
WHERE
  NOT (
    s.product_code IS NULL
  );

CREATE OR REPLACE TABLE retail._mc_product_classified
ENGINE=Memory AS
WITH lat AS (
  SELECT
    t.*,
    1 AS _mc_rn
  FROM retail.product AS t
  WHERE
    NOT (
      t.product_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
    )
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
      WHEN NOT (
        l.product_key IS NULL
      )
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
    FROM retail._mc_product_batch AS bb
    LEFT JOIN (
      SELECT
        product_code
      FROM retail._mc_product_batch
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
FROM retail._mc_product_classified
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

CREATE OR REPLACE TABLE retail._mc_product_old
ENGINE=Memory AS
SELECT
  *
FROM (
  SELECT
    k.product_code AS product_code,
    k._mc_ts AS _mc_ts,
    k._mc_del AS _mc_del,
    k._mc_class AS _mc_class,
    k._mc_same AS _mc_same,
    k._mc_at_asof AS _mc_at_asof,
    MAX(
      CASE
        WHEN k._mc_class = 'chain' OR (
          k._mc_at_asof = 1 AND k._mc_same = 1
        )
        THEN 1
        ELSE 0
      END
    ) OVER (PARTITION BY k.product_code) AS _mc_reach
  FROM retail._mc_product_classified AS k
) AS o
WHERE
  _mc_class = 'old';

CREATE OR REPLACE TABLE retail._mc_product_changes
ENGINE=Memory AS
WITH lat AS (
  SELECT
    t.*
  FROM retail.product AS t
  JOIN (
    SELECT DISTINCT
      _mc_lat_sk
    FROM retail._mc_product_classified
    WHERE
      _mc_class IN ('chain', 'simple', 'absent') AND NOT (
        _mc_lat_sk IS NULL
      )
  ) AS a
    ON t.product_key = a._mc_lat_sk
), u AS (
  SELECT
    l.product_code AS product_code,
    l.product_name AS product_name,
    l.category AS category,
    l.list_price AS list_price,
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
    FROM retail._mc_product_classified
    WHERE
      _mc_class = 'chain'
  ) AS ck
    ON l.product_code = ck.product_code
  UNION ALL
  SELECT
    c.product_code AS product_code,
    c.product_name AS product_name,
    c.category AS category,
    c.list_price AS list_price,
    c._mc_ts AS _mc_ts,
    c._mc_ts AS _mc_ts,
    c._mc_del AS _mc_del,
    0,
    CASE WHEN c._mc_del THEN 'closed' ELSE 'open' END,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    0
  FROM retail._mc_product_classified AS c
  WHERE
    c._mc_class = 'chain' AND NOT c._mc_del
), u2 AS (
  SELECT
    *
  FROM (
    SELECT
      u.*,
      ROW_NUMBER() OVER (PARTITION BY product_code, _mc_eff, _mc_anchor ORDER BY _mc_ts DESC) AS _mc_r,
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
    ROW_NUMBER() OVER (PARTITION BY product_code ORDER BY _mc_eff, _mc_anchor DESC, _mc_ts) AS _mc_seq
  FROM u2
), s2 AS (
  SELECT
    s1.*,
    lag(toNullable(_mc_state)) OVER (PARTITION BY product_code ORDER BY _mc_seq) AS _mc_prev_state,
    lag(toNullable(_mc_eff)) OVER (PARTITION BY product_code ORDER BY _mc_seq) AS _mc_prev_eff
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
    first_value_respect_nulls(product_name) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_product_name,
    first_value_respect_nulls(category) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_category,
    first_value_respect_nulls(list_price) OVER (
      PARTITION BY product_code
      ORDER BY _mc_seq DESC
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
    g.product_code AS product_code,
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
    g._mc_maxts AS _mc_maxts
  FROM g
  JOIN s4 AS st
    ON st.product_code = g.product_code AND st._mc_seq = g._mc_first
  JOIN s4 AS lr
    ON lr.product_code = g.product_code AND lr._mc_seq = g._mc_last
  JOIN d3 AS dv
    ON dv.product_code = g.product_code AND dv._mc_seq = lr._mc_data_seq
)
SELECT
  LOWER(
    HEX(MD5(COALESCE(REPLACE(REPLACE(i.product_code, '\\', '\\\\'), '|', '\\|'), '\\N')))
  ) AS product_key,
  i.product_code AS product_code,
  i.product_name AS product_name,
  i.category AS category,
  i.list_price AS list_price,
  i._mc_maxts AS dw_changed_at,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))) AS dw_loaded_at,
  CAST(NULL AS Nullable(DateTime64(6))) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_closed
FROM img AS i
WHERE
  i._mc_is_anchor = 0
UNION ALL
SELECT
  i._mc_old_sk AS _mc_old_sk,
  i.product_code AS product_code,
  i.product_name AS product_name,
  i.category AS category,
  i.list_price AS list_price,
  i._mc_maxts AS _mc_maxts,
  i._mc_old_la AS _mc_old_la,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
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
    FROM retail._mc_product_changes
    WHERE
      _mc_op = 'insert'
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM retail._mc_product_changes
    WHERE
      _mc_op = 'update' AND _mc_closed = 0
  ) AS updated,
  (
    SELECT
      COUNT(*)
    FROM retail._mc_product_changes
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
      FROM retail._mc_product_old
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
      ) AND NOT (
        s.product_code IS NULL
      )
  ) - (
    SELECT
      COUNT(*)
    FROM retail._mc_product_batch
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
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
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
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM retail.product
    WHERE
      product_key = 'ffffffffffffffffffffffffffffffff'
  );

DELETE FROM retail.product
WHERE
  product_key IN (
    SELECT
      product_key
    FROM retail._mc_product_changes
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
  c.product_key AS product_key,
  c.product_code AS product_code,
  c.product_name AS product_name,
  c.category AS category,
  c.list_price AS list_price,
  c.dw_changed_at AS dw_changed_at,
  c.dw_loaded_at AS dw_loaded_at,
  c.dw_updated_at AS dw_updated_at
FROM retail._mc_product_changes AS c;

DROP TABLE IF EXISTS retail._mc_product_changes;

DROP TABLE IF EXISTS retail._mc_product_old;

DROP TABLE IF EXISTS retail._mc_product_classified;

DROP TABLE IF EXISTS retail._mc_product_batch;

SELECT
  COUNT(*) AS inserted
FROM (
  SELECT
    y * 10000 + m * 100 + CAST(DAY(d) AS Nullable(Int32)),
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
    CAST(toISOWeek(d) AS Nullable(Int32)),
    dow,
    dow >= 6
  FROM (
    SELECT
      d,
      CAST(YEAR(d) AS Nullable(Int32)) AS y,
      CAST(MONTH(d) AS Nullable(Int32)) AS m,
      CAST((
        (
          DATE_DIFF(DAY, CAST('1900-01-01' AS Nullable(Date32)), d) % 7
        ) + 7
      ) % 7 + 1 AS Nullable(Int32)) AS dow
    FROM (
      SELECT
        CAST(DATE_ADD(
          DAY,
          d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000,
          CAST('2020-01-01' AS Nullable(Date32))
        ) AS Nullable(Date32)) AS d
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
  y * 10000 + m * 100 + CAST(DAY(d) AS Nullable(Int32)),
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
  CAST(toISOWeek(d) AS Nullable(Int32)),
  dow,
  dow >= 6
FROM (
  SELECT
    d,
    CAST(YEAR(d) AS Nullable(Int32)) AS y,
    CAST(MONTH(d) AS Nullable(Int32)) AS m,
    CAST((
      (
        DATE_DIFF(DAY, CAST('1900-01-01' AS Nullable(Date32)), d) % 7
      ) + 7
    ) % 7 + 1 AS Nullable(Int32)) AS dow
  FROM (
    SELECT
      CAST(DATE_ADD(
        DAY,
        d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000,
        CAST('2020-01-01' AS Nullable(Date32))
      ) AS Nullable(Date32)) AS d
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

DROP TABLE IF EXISTS retail._mc_order_line_changes;

DROP TABLE IF EXISTS retail._mc_order_line_batch;

CREATE OR REPLACE TABLE retail._mc_order_line_batch
ENGINE=Memory AS
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
  NOT (
    s.order_id IS NULL
  )
  AND NOT (
    s.line_no IS NULL
  )
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
FROM retail._mc_order_line_batch
GROUP BY
  order_id,
  line_no
HAVING
  COUNT(*) > 1
ORDER BY
  order_id,
  line_no
LIMIT 11;

CREATE OR REPLACE TABLE retail._mc_order_line_changes
ENGINE=Memory AS
WITH res AS (
  SELECT
    b.order_id AS order_id,
    b.line_no AS line_no,
    b.customer_id AS customer_id,
    b.ordered_at AS ordered_at,
    b.product_code AS product_code,
    b.quantity AS quantity,
    b.amount AS amount,
    b.unit_price AS unit_price,
    b.loaded_at AS loaded_at,
    COALESCE(
      _mc_r0._mc_sk,
      CASE
        WHEN CAST(b.ordered_at AS Nullable(DateTime64(6))) < _mc_f0._mc_vf
        THEN _mc_f0._mc_sk
      END,
      '00000000000000000000000000000000'
    ) AS customer_key,
    COALESCE(_mc_r1.product_key, '00000000000000000000000000000000') AS product_key,
    COALESCE(_mc_r2.date_key, 0) AS order_date_key
  FROM retail._mc_order_line_batch AS b
  LEFT JOIN (
    SELECT
      *
    FROM (
      SELECT
        x.order_id AS order_id,
        x.line_no AS line_no,
        d.customer_key AS _mc_sk,
        ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC) AS _mc_rn
      FROM retail._mc_order_line_batch AS x
      JOIN retail.customer AS d
        ON d.customer_id = x.customer_id
        AND d.valid_from <= CAST(x.ordered_at AS Nullable(DateTime64(6)))
      WHERE
        NOT (
          d.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
        )
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
        NOT (
          customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
        )
    ) AS x
    WHERE
      _mc_rn = 1
  ) AS _mc_f0
    ON _mc_f0.customer_id = b.customer_id
  LEFT JOIN retail.product AS _mc_r1
    ON _mc_r1.product_code = b.product_code
  LEFT JOIN retail."date" AS _mc_r2
    ON _mc_r2."date" = CAST(b.ordered_at AS Nullable(Date32))
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
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))) AS dw_loaded_at,
  CAST(NULL AS Nullable(DateTime64(6))) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_rekeyed
FROM res AS r
LEFT JOIN retail.order_line AS t
  ON t.order_id = r.order_id AND t.line_no = r.line_no
WHERE
  t.order_id IS NULL
UNION ALL
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
  t.dw_loaded_at AS dw_loaded_at,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
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
          CASE
            WHEN CAST(t.ordered_at AS Nullable(DateTime64(6))) < _mc_f0._mc_vf
            THEN _mc_f0._mc_sk
          END,
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
        CASE
          WHEN CAST(t.ordered_at AS Nullable(DateTime64(6))) < _mc_f0._mc_vf
          THEN _mc_f0._mc_sk
        END,
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
      x.order_id AS order_id,
      x.line_no AS line_no,
      d.customer_key AS _mc_sk,
      ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC) AS _mc_rn
    FROM retail.order_line AS x
    JOIN retail.customer AS d
      ON d.customer_id = x.customer_id
      AND d.valid_from <= CAST(x.ordered_at AS Nullable(DateTime64(6)))
    WHERE
      NOT (
        d.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
      )
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
      NOT (
        customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
      )
  ) AS x
  WHERE
    _mc_rn = 1
) AS _mc_f0
  ON _mc_f0.customer_id = t.customer_id
LEFT JOIN retail.product AS _mc_r1
  ON _mc_r1.product_code = t.product_code
LEFT JOIN retail."date" AS _mc_r2
  ON _mc_r2."date" = CAST(t.ordered_at AS Nullable(Date32))
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
        CASE
          WHEN CAST(t.ordered_at AS Nullable(DateTime64(6))) < _mc_f0._mc_vf
          THEN _mc_f0._mc_sk
        END,
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
        CASE
          WHEN CAST(t.ordered_at AS Nullable(DateTime64(6))) < _mc_f0._mc_vf
          THEN _mc_f0._mc_sk
        END,
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
  t.order_id AS order_id,
  t.line_no AS line_no,
  CASE
    WHEN t.customer_key = '00000000000000000000000000000000'
    THEN COALESCE(
      _mc_r0._mc_sk,
      CASE
        WHEN CAST(t.ordered_at AS Nullable(DateTime64(6))) < _mc_f0._mc_vf
        THEN _mc_f0._mc_sk
      END,
      '00000000000000000000000000000000'
    )
    ELSE t.customer_key
  END,
  t.customer_id AS customer_id,
  t.ordered_at AS ordered_at,
  CASE
    WHEN t.product_key = '00000000000000000000000000000000'
    THEN COALESCE(_mc_r1.product_key, '00000000000000000000000000000000')
    ELSE t.product_key
  END,
  t.product_code AS product_code,
  CASE
    WHEN t.order_date_key = 0
    THEN COALESCE(_mc_r2.date_key, 0)
    ELSE t.order_date_key
  END,
  t.quantity AS quantity,
  t.amount AS amount,
  t.unit_price AS unit_price,
  t.loaded_at AS loaded_at,
  t.dw_loaded_at AS dw_loaded_at,
  CAST(CURRENT_TIMESTAMP() AS Nullable(DateTime64(6))),
  'rekey',
  1
FROM retail.order_line AS t
LEFT JOIN (
  SELECT
    *
  FROM (
    SELECT
      x.order_id AS order_id,
      x.line_no AS line_no,
      d.customer_key AS _mc_sk,
      ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC) AS _mc_rn
    FROM retail.order_line AS x
    JOIN retail.customer AS d
      ON d.customer_id = x.customer_id
      AND d.valid_from <= CAST(x.ordered_at AS Nullable(DateTime64(6)))
    WHERE
      NOT (
        d.customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
      )
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
      NOT (
        customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
      )
  ) AS x
  WHERE
    _mc_rn = 1
) AS _mc_f0
  ON _mc_f0.customer_id = t.customer_id
LEFT JOIN retail.product AS _mc_r1
  ON _mc_r1.product_code = t.product_code
LEFT JOIN retail."date" AS _mc_r2
  ON _mc_r2."date" = CAST(t.ordered_at AS Nullable(Date32))
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
        CASE
          WHEN CAST(t.ordered_at AS Nullable(DateTime64(6))) < _mc_f0._mc_vf
          THEN _mc_f0._mc_sk
        END,
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
    FROM retail._mc_order_line_changes
    WHERE
      _mc_op = 'insert'
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM retail._mc_order_line_changes
    WHERE
      _mc_op = 'update'
  ) AS updated,
  (
    SELECT
      COUNT(*)
    FROM retail._mc_order_line_changes
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
    FROM retail._mc_order_line_changes
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
      NOT (
        s.order_id IS NULL
      )
      AND NOT (
        s.line_no IS NULL
      )
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
    FROM retail._mc_order_line_batch
  ) AS duplicates;

DELETE FROM retail.order_line
WHERE
  (order_id, line_no) IN (
    SELECT
      order_id,
      line_no
    FROM retail._mc_order_line_changes
  );

INSERT INTO retail.order_line (
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
)
SELECT
  c.order_id AS order_id,
  c.line_no AS line_no,
  c.customer_key AS customer_key,
  c.customer_id AS customer_id,
  c.ordered_at AS ordered_at,
  c.product_key AS product_key,
  c.product_code AS product_code,
  c.order_date_key AS order_date_key,
  c.quantity AS quantity,
  c.amount AS amount,
  c.unit_price AS unit_price,
  c.loaded_at AS loaded_at,
  c.dw_loaded_at AS dw_loaded_at,
  c.dw_updated_at AS dw_updated_at
FROM retail._mc_order_line_changes AS c;

DROP TABLE IF EXISTS retail._mc_order_line_changes;

DROP TABLE IF EXISTS retail._mc_order_line_batch;
