CREATE SCHEMA IF NOT EXISTS dw;

CREATE TABLE IF NOT EXISTS dw.customer (
  customer_key VARCHAR(32) NOT NULL,
  customer_id INTEGER,
  "name" VARCHAR(MAX),
  email VARCHAR(MAX),
  segment VARCHAR(80),
  country VARCHAR(MAX),
  city VARCHAR(MAX),
  previous_city VARCHAR(MAX),
  birth_date DATE,
  name_upper VARCHAR(MAX),
  valid_from TIMESTAMP NOT NULL,
  valid_to TIMESTAMP,
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (customer_key)
)
DISTSTYLE KEY
DISTKEY(customer_id)
SORTKEY(customer_id);

CREATE TABLE IF NOT EXISTS dw.product (
  product_key VARCHAR(32) NOT NULL,
  product_id VARCHAR(MAX),
  "name" VARCHAR(MAX),
  category VARCHAR(MAX),
  price DECIMAL(10, 2),
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (product_key)
)
DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS dw.date_dim (
  date_key INTEGER NOT NULL,
  "date" DATE,
  year SMALLINT,
  quarter SMALLINT,
  month SMALLINT,
  month_name VARCHAR(MAX),
  iso_week SMALLINT,
  day_of_week SMALLINT,
  is_weekend BOOLEAN,
  PRIMARY KEY (date_key)
);

CREATE TABLE IF NOT EXISTS dw.sales (
  order_id BIGINT NOT NULL,
  line_no SMALLINT NOT NULL,
  customer_key VARCHAR(32) NOT NULL,
  customer_id INTEGER NOT NULL,
  ordered_at TIMESTAMP WITH TIME ZONE NOT NULL,
  product_key VARCHAR(32) NOT NULL,
  product_id VARCHAR(MAX) NOT NULL,
  order_date_key INTEGER NOT NULL,
  order_date DATE NOT NULL,
  channel VARCHAR(MAX),
  attrs SUPER,
  signature VARBYTE,
  pickup TIME,
  is_gift BOOLEAN,
  quantity INTEGER,
  amount DECIMAL(12, 2),
  weight DOUBLE PRECISION,
  ratio REAL,
  net_amount DECIMAL(12, 2),
  big_amount DECIMAL(38, 12),
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (order_id, line_no)
)
DISTSTYLE KEY
DISTKEY(customer_key)
SORTKEY(ordered_at);

CREATE TABLE IF NOT EXISTS dw.customer_h (
  customer_h_hk VARCHAR(32) NOT NULL,
  customer_id INTEGER,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk)
);

CREATE TABLE IF NOT EXISTS dw.product_h (
  product_h_hk VARCHAR(32) NOT NULL,
  product_id VARCHAR(MAX),
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (product_h_hk)
);

CREATE TABLE IF NOT EXISTS dw.order_link (
  order_link_hk VARCHAR(32) NOT NULL,
  customer_hk VARCHAR(32) NOT NULL,
  product_hk VARCHAR(32) NOT NULL,
  line_no SMALLINT NOT NULL,
  quantity INTEGER,
  amount DECIMAL(12, 2),
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (order_link_hk)
);

CREATE TABLE IF NOT EXISTS dw.customer_details (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  hash_diff VARCHAR(32) NOT NULL,
  "name" VARCHAR(MAX),
  email VARCHAR(MAX),
  segment VARCHAR(80),
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_phones (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  phone_type VARCHAR(MAX) NOT NULL,
  hash_diff VARCHAR(32) NOT NULL,
  phone VARCHAR(MAX),
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts, phone_type)
);

CREATE TABLE IF NOT EXISTS dw.order_link_eff (
  order_link_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  start_ts TIMESTAMP NOT NULL,
  end_ts TIMESTAMP,
  is_active BOOLEAN NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (order_link_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_seen (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_pit (
  customer_h_hk VARCHAR(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_details_hk VARCHAR(32),
  customer_details_load_ts TIMESTAMP,
  customer_phones_hk VARCHAR(32),
  customer_phones_load_ts TIMESTAMP,
  PRIMARY KEY (customer_h_hk, snapshot_date)
);

CREATE TABLE IF NOT EXISTS dw.customer_orders (
  customer_h_hk VARCHAR(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  order_link_hk VARCHAR(32) NOT NULL,
  PRIMARY KEY (customer_h_hk, snapshot_date, order_link_hk)
);

DROP TABLE IF EXISTS _mc_customer_changes;

DROP TABLE IF EXISTS _mc_customer_old;

DROP TABLE IF EXISTS _mc_customer_classified;

DROP TABLE IF EXISTS _mc_customer_batch;

CREATE TEMPORARY TABLE _mc_customer_batch AS
SELECT DISTINCT
  s.customer_id,
  s."name" AS "name",
  s.email AS email,
  s.segment AS segment,
  s.country AS country,
  s.city AS city,
  s.birth_date AS birth_date,
  (
    UPPER("name")
  ) AS name_upper,
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
  FROM dw.customer AS t
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
    FROM dw.customer AS t
    WHERE
      NOT t.is_current
      AND NOT EXISTS(
        SELECT
          1
        FROM dw.customer AS c
        WHERE
          c.customer_id = t.customer_id AND c.is_current
      )
  ) AS x
  WHERE
    _mc_rn = 1
)
SELECT
  COALESCE(b.customer_id, l.customer_id) AS customer_id,
  b."name",
  b.email,
  b.segment,
  b.country,
  b.city,
  b.birth_date,
  b.name_upper,
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
    AND NOT l.is_deleted
    AND b."name" IS NOT DISTINCT FROM l."name"
    AND b.email IS NOT DISTINCT FROM l.email
    AND b.segment IS NOT DISTINCT FROM l.segment
    AND b.country IS NOT DISTINCT FROM l.country
    AND b.city IS NOT DISTINCT FROM l.city
    AND b.birth_date IS NOT DISTINCT FROM l.birth_date
    AND b.name_upper IS NOT DISTINCT FROM l.name_upper
    THEN 'noop'
    WHEN b._mc_ts > l.dw_changed_at
    THEN 'chain'
    WHEN b._mc_ts = l.dw_changed_at
    AND NOT b._mc_del
    AND (
      (
        l.is_current
        AND NOT l.is_deleted
        AND b.segment IS NOT DISTINCT FROM l.segment
        AND b.country IS NOT DISTINCT FROM l.country
      )
      OR (
        NOT (
          l.is_current AND NOT l.is_deleted
        )
        AND (
          CASE WHEN l.is_deleted THEN l.valid_from ELSE l.valid_to END
        ) > l.dw_changed_at
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
    WHEN l.is_deleted
    THEN l.valid_from
    ELSE NULL
  END AS _mc_floor,
  CASE WHEN l.is_deleted THEN 1 ELSE 0 END AS _mc_floor_strict,
  l.valid_from AS _mc_lat_vf,
  CASE
    WHEN NOT l.customer_key IS NULL
    AND l.is_current
    AND NOT l.is_deleted
    AND b."name" IS NOT DISTINCT FROM l."name"
    AND b.email IS NOT DISTINCT FROM l.email
    AND b.segment IS NOT DISTINCT FROM l.segment
    AND b.country IS NOT DISTINCT FROM l.country
    AND b.city IS NOT DISTINCT FROM l.city
    AND b.name_upper IS NOT DISTINCT FROM l.name_upper
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
    l.is_current AND NOT l.is_deleted
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
LEFT JOIN dw.customer AS v
  ON v.customer_id = k.customer_id
  AND v.valid_from <= k._mc_ts
  AND (
    v.valid_to IS NULL OR k._mc_ts < v.valid_to
  )
  AND NOT v.is_deleted
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
  FROM dw.customer AS t
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
  FROM dw.customer AS t
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
    FROM dw.customer AS t
    WHERE
      NOT t.is_current
      AND NOT EXISTS(
        SELECT
          1
        FROM dw.customer AS c
        WHERE
          c.customer_id = t.customer_id AND c.is_current
      )
  ) AS x
  WHERE
    _mc_rn = 1
), u AS (
  SELECT
    l.customer_id,
    l."name",
    l.email,
    l.segment,
    l.country,
    l.city,
    l.birth_date,
    l.name_upper,
    l.previous_city,
    l.dw_changed_at AS _mc_ts,
    l.valid_from AS _mc_eff,
    FALSE AS _mc_del,
    1 AS _mc_anchor,
    CASE WHEN l.is_deleted THEN 'deleted' WHEN l.is_current THEN 'open' ELSE 'closed' END AS _mc_state,
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
    c."name",
    c.email,
    c.segment,
    c.country,
    c.city,
    c.birth_date,
    c.name_upper,
    NULL,
    c._mc_ts,
    CASE
      WHEN (
        c._mc_ts < c._mc_floor OR (
          c._mc_ts = c._mc_floor AND c._mc_floor_strict = 1
        )
      )
      THEN GREATEST(CAST(GETDATE() AS TIMESTAMP), c._mc_floor)
      ELSE GREATEST(c._mc_ts, COALESCE(c._mc_lat_vf, c._mc_ts))
    END,
    c._mc_del,
    0,
    CASE WHEN c._mc_del THEN 'deleted' ELSE 'open' END,
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
      THEN CASE WHEN _mc_prev_state = 'open' THEN 1 ELSE 0 END
      WHEN _mc_prev_state IS NULL OR _mc_prev_state <> 'open'
      THEN 1
      WHEN (
        segment IS DISTINCT FROM _mc_lag_segment
        OR country IS DISTINCT FROM _mc_lag_country
      )
      THEN 1
      ELSE 0
    END AS _mc_start,
    0 AS _mc_close
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
    FIRST_VALUE(birth_date) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s0_birth_date,
    FIRST_VALUE("name") OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_name,
    FIRST_VALUE(email) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_email,
    FIRST_VALUE(name_upper) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_name_upper,
    CASE
      WHEN ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY _mc_seq) = 1
      THEN 1
      WHEN city IS DISTINCT FROM LAG(city) OVER (PARTITION BY customer_id ORDER BY _mc_seq)
      THEN 1
      ELSE 0
    END AS _mc_chg0,
    CASE
      WHEN _mc_anchor = 1
      THEN previous_city
      WHEN ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY _mc_seq) = 1
      THEN NULL
      ELSE LAG(city) OVER (PARTITION BY customer_id ORDER BY _mc_seq)
    END AS _mc_pv0
  FROM s4
  WHERE
    NOT _mc_del
), d2 AS (
  SELECT
    d1.*,
    SUM(_mc_chg0) OVER (
      PARTITION BY customer_id
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _mc_g0
  FROM d1
), d3 AS (
  SELECT
    d2.*,
    FIRST_VALUE(_mc_pv0) OVER (
      PARTITION BY customer_id, _mc_g0
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_p3_city
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
    dv._mc_s1_name AS "name",
    dv._mc_s1_email AS email,
    dv.segment AS segment,
    dv.country AS country,
    dv.city AS city,
    dv._mc_p3_city AS previous_city,
    dv._mc_s0_birth_date AS birth_date,
    dv._mc_s1_name_upper AS name_upper,
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
    COALESCE(CAST(i.customer_id AS VARCHAR(65535)), '\\N') || '|' || COALESCE(
      TO_CHAR(i._mc_vf_new, 'YYYY-MM-DD HH24:') || LPAD(CAST(EXTRACT(MINUTE FROM i._mc_vf_new) AS VARCHAR(65535)), 2, '0') || TO_CHAR(i._mc_vf_new, ':SS.US'),
      '\\N'
    )
  ) AS customer_key,
  i.customer_id AS customer_id,
  i."name" AS "name",
  i.email AS email,
  i.segment AS segment,
  i.country AS country,
  i.city AS city,
  i.previous_city AS previous_city,
  i.birth_date AS birth_date,
  i.name_upper AS name_upper,
  i._mc_vf_new AS valid_from,
  COALESCE(i._mc_vt_new, CAST(NULL AS TIMESTAMP)) AS valid_to,
  i._mc_vt_new IS NULL AS is_current,
  i._mc_tomb AS is_deleted,
  i._mc_maxts AS dw_changed_at,
  CAST(GETDATE() AS TIMESTAMP) AS dw_loaded_at,
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
  i."name",
  i.email,
  i.segment,
  i.country,
  i.city,
  i.previous_city,
  i.birth_date,
  i.name_upper,
  i._mc_old_vf,
  CASE
    WHEN i._mc_anchor_state = 'closed'
    THEN i._mc_old_vt
    ELSE COALESCE(i._mc_vt_new, CAST(NULL AS TIMESTAMP))
  END,
  CASE WHEN i._mc_anchor_state = 'closed' THEN FALSE ELSE i._mc_vt_new IS NULL END,
  t.is_deleted,
  i._mc_maxts,
  i._mc_old_la,
  CAST(GETDATE() AS TIMESTAMP),
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
JOIN dw.customer AS t
  ON t.customer_key = i._mc_old_sk
WHERE
  i._mc_is_anchor = 1
  AND (
    i."name" IS DISTINCT FROM t."name"
    OR i.email IS DISTINCT FROM t.email
    OR i.segment IS DISTINCT FROM t.segment
    OR i.country IS DISTINCT FROM t.country
    OR i.city IS DISTINCT FROM t.city
    OR i.previous_city IS DISTINCT FROM t.previous_city
    OR i.birth_date IS DISTINCT FROM t.birth_date
    OR i.name_upper IS DISTINCT FROM t.name_upper
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
  k1._mc_s1_name,
  k1._mc_s1_email,
  t.segment,
  t.country,
  t.city,
  t.previous_city,
  t.birth_date,
  k1._mc_s1_name_upper,
  t.valid_from,
  t.valid_to,
  t.is_current,
  t.is_deleted,
  t.dw_changed_at,
  t.dw_loaded_at,
  CAST(GETDATE() AS TIMESTAMP),
  'update',
  0
FROM dw.customer AS t
JOIN (
  SELECT DISTINCT
    customer_id,
    _mc_s1_name,
    _mc_s1_email,
    _mc_s1_name_upper
  FROM d3
  UNION ALL
  SELECT
    c.customer_id,
    c."name" AS _mc_s1_name,
    c.email AS _mc_s1_email,
    c.name_upper AS _mc_s1_name_upper
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
    k1._mc_s1_name IS DISTINCT FROM t."name"
    OR k1._mc_s1_email IS DISTINCT FROM t.email
    OR k1._mc_s1_name_upper IS DISTINCT FROM t.name_upper
  )
UNION ALL
SELECT
  l.customer_key,
  l.customer_id,
  l."name",
  l.email,
  l.segment,
  l.country,
  l.city,
  l.previous_city,
  l.birth_date,
  l.name_upper,
  l.valid_from,
  GREATEST(CAST(GETDATE() AS TIMESTAMP), l.valid_from),
  FALSE,
  FALSE,
  l.dw_changed_at,
  l.dw_loaded_at,
  CAST(GETDATE() AS TIMESTAMP),
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
  )
UNION ALL
SELECT
  MD5(
    COALESCE(CAST(l.customer_id AS VARCHAR(65535)), '\\N') || '|' || COALESCE(
      TO_CHAR(GREATEST(CAST(GETDATE() AS TIMESTAMP), l.valid_from), 'YYYY-MM-DD HH24:') || LPAD(
        CAST(EXTRACT(MINUTE FROM GREATEST(CAST(GETDATE() AS TIMESTAMP), l.valid_from)) AS VARCHAR(65535)),
        2,
        '0'
      ) || TO_CHAR(GREATEST(CAST(GETDATE() AS TIMESTAMP), l.valid_from), ':SS.US'),
      '\\N'
    )
  ),
  l.customer_id,
  l."name",
  l.email,
  l.segment,
  l.country,
  l.city,
  l.previous_city,
  l.birth_date,
  l.name_upper,
  GREATEST(CAST(GETDATE() AS TIMESTAMP), l.valid_from),
  CAST(NULL AS TIMESTAMP),
  TRUE,
  TRUE,
  l.dw_changed_at,
  CAST(GETDATE() AS TIMESTAMP),
  CAST(NULL AS TIMESTAMP),
  'insert',
  0
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

INSERT INTO dw.customer (
  customer_key,
  customer_id,
  "name",
  email,
  segment,
  country,
  city,
  previous_city,
  birth_date,
  name_upper,
  valid_from,
  valid_to,
  is_current,
  is_deleted,
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
  NULL,
  NULL,
  NULL,
  NULL,
  CAST('0001-01-01 00:00:00' AS TIMESTAMP),
  NULL,
  TRUE,
  FALSE,
  CAST(GETDATE() AS TIMESTAMP),
  CAST(GETDATE() AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer
    WHERE
      customer_key = '00000000000000000000000000000000'
  );

INSERT INTO dw.customer (
  customer_key,
  customer_id,
  "name",
  email,
  segment,
  country,
  city,
  previous_city,
  birth_date,
  name_upper,
  valid_from,
  valid_to,
  is_current,
  is_deleted,
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
  NULL,
  NULL,
  NULL,
  NULL,
  CAST('0001-01-01 00:00:00' AS TIMESTAMP),
  NULL,
  TRUE,
  FALSE,
  CAST(GETDATE() AS TIMESTAMP),
  CAST(GETDATE() AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer
    WHERE
      customer_key = 'ffffffffffffffffffffffffffffffff'
  );

UPDATE dw.customer SET valid_to = c.valid_to, is_current = c.is_current, dw_updated_at = c.dw_updated_at
FROM _mc_customer_changes AS c
WHERE
  c._mc_op = 'close' AND dw.customer.customer_key = c.customer_key;

DELETE FROM _mc_customer_changes
WHERE
  _mc_op = 'close';

MERGE INTO dw.customer
USING _mc_customer_changes AS c
ON dw.customer.customer_key = c.customer_key
WHEN MATCHED THEN UPDATE SET
  customer_id = c.customer_id,
  "name" = c."name",
  email = c.email,
  segment = c.segment,
  country = c.country,
  city = c.city,
  previous_city = c.previous_city,
  birth_date = c.birth_date,
  name_upper = c.name_upper,
  valid_from = c.valid_from,
  valid_to = c.valid_to,
  is_current = c.is_current,
  is_deleted = c.is_deleted,
  dw_changed_at = c.dw_changed_at,
  dw_loaded_at = c.dw_loaded_at,
  dw_updated_at = c.dw_updated_at
WHEN NOT MATCHED THEN INSERT (
  customer_key,
  customer_id,
  "name",
  email,
  segment,
  country,
  city,
  previous_city,
  birth_date,
  name_upper,
  valid_from,
  valid_to,
  is_current,
  is_deleted,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
) VALUES (
  c.customer_key,
  c.customer_id,
  c."name",
  c.email,
  c.segment,
  c.country,
  c.city,
  c.previous_city,
  c.birth_date,
  c.name_upper,
  c.valid_from,
  c.valid_to,
  c.is_current,
  c.is_deleted,
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
  s.product_id,
  s."name" AS "name",
  s.category AS category,
  s.price AS price,
  CAST(GETDATE() AS TIMESTAMP) AS _mc_ts,
  FALSE AS _mc_del
FROM catalog.products AS s
WHERE
  NOT s.product_id IS NULL;

CREATE TEMPORARY TABLE _mc_product_classified AS
WITH lat AS (
  SELECT
    t.*,
    1 AS _mc_rn
  FROM dw.product AS t
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
      AND b."name" IS NOT DISTINCT FROM l."name"
      AND b.category IS NOT DISTINCT FROM l.category
      AND b.price IS NOT DISTINCT FROM l.price
      THEN 'noop'
      WHEN b._mc_ts > l.dw_changed_at
      THEN 'chain'
      ELSE 'old'
    END AS _mc_class,
    l.product_key AS _mc_lat_sk,
    CASE
      WHEN NOT l.product_key IS NULL
      AND b."name" IS NOT DISTINCT FROM l."name"
      AND b.category IS NOT DISTINCT FROM l.category
      AND b.price IS NOT DISTINCT FROM l.price
      THEN 1
      ELSE 0
    END AS _mc_same,
    CASE WHEN b._mc_ts = l.dw_changed_at THEN 1 ELSE 0 END AS _mc_at_asof
  FROM (
    SELECT
      bb.*,
      CASE WHEN mk.product_id IS NULL THEN 1 ELSE 2 END AS _mc_n
    FROM _mc_product_batch AS bb
    LEFT JOIN (
      SELECT
        product_id
      FROM _mc_product_batch
      GROUP BY
        product_id
      HAVING
        COUNT(*) > 1
    ) AS mk
      ON bb.product_id = mk.product_id
  ) AS b
  LEFT JOIN lat AS l
    ON b.product_id = l.product_id
) AS x
WHERE
  _mc_class <> 'noop';

SELECT
  product_id,
  _mc_ts
FROM _mc_product_classified
WHERE
  _mc_n > 1
GROUP BY
  product_id,
  _mc_ts
HAVING
  COUNT(*) > 1
ORDER BY
  product_id,
  _mc_ts
LIMIT 11;

CREATE TEMPORARY TABLE _mc_product_old AS
SELECT
  *
FROM (
  SELECT
    k.product_id,
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
    ) OVER (PARTITION BY k.product_id) AS _mc_reach
  FROM _mc_product_classified AS k
) AS o
WHERE
  _mc_class = 'old';

CREATE TEMPORARY TABLE _mc_product_changes AS
WITH lat AS (
  SELECT
    t.*
  FROM dw.product AS t
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
    l.product_id,
    l."name",
    l.category,
    l.price,
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
      product_id
    FROM _mc_product_classified
    WHERE
      _mc_class = 'chain'
  ) AS ck
    ON l.product_id = ck.product_id
  UNION ALL
  SELECT
    c.product_id,
    c."name",
    c.category,
    c.price,
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
      ROW_NUMBER() OVER (PARTITION BY product_id, _mc_eff, _mc_anchor ORDER BY _mc_ts DESC NULLS LAST) AS _mc_r,
      MAX(CASE WHEN _mc_anchor = 0 AND _mc_clamped = 0 THEN 1 ELSE 0 END) OVER (PARTITION BY product_id) AS _mc_fresh
    FROM u
  ) AS x
  WHERE
    _mc_r = 1 AND NOT (
      _mc_clamped = 1 AND _mc_fresh = 1
    )
), s1 AS (
  SELECT
    u2.*,
    ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY _mc_eff, _mc_anchor DESC NULLS LAST, _mc_ts) AS _mc_seq
  FROM u2
), s2 AS (
  SELECT
    s1.*,
    LAG(_mc_state) OVER (PARTITION BY product_id ORDER BY _mc_seq) AS _mc_prev_state,
    LAG(_mc_eff) OVER (PARTITION BY product_id ORDER BY _mc_seq) AS _mc_prev_eff
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
      PARTITION BY product_id
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _mc_grp,
    MIN(CASE WHEN _mc_start = 1 OR _mc_close = 1 THEN _mc_eff END) OVER (
      PARTITION BY product_id
      ORDER BY _mc_seq
      ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
    ) AS _mc_next_end,
    MAX(CASE WHEN NOT _mc_del THEN _mc_seq END) OVER (
      PARTITION BY product_id
      ORDER BY _mc_seq
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS _mc_data_seq
  FROM s3
), d1 AS (
  SELECT
    s4.*,
    FIRST_VALUE("name") OVER (
      PARTITION BY product_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_name,
    FIRST_VALUE(category) OVER (
      PARTITION BY product_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_category,
    FIRST_VALUE(price) OVER (
      PARTITION BY product_id
      ORDER BY _mc_seq DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS _mc_s1_price
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
    product_id,
    _mc_grp,
    MIN(_mc_seq) AS _mc_first,
    MAX(_mc_seq) AS _mc_last,
    MAX(_mc_ts) AS _mc_maxts
  FROM s4
  GROUP BY
    product_id,
    _mc_grp
), img AS (
  SELECT
    g.product_id,
    dv._mc_s1_name AS "name",
    dv._mc_s1_category AS category,
    dv._mc_s1_price AS price,
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
    ON st.product_id = g.product_id AND st._mc_seq = g._mc_first
  JOIN s4 AS lr
    ON lr.product_id = g.product_id AND lr._mc_seq = g._mc_last
  JOIN d3 AS dv
    ON dv.product_id = g.product_id AND dv._mc_seq = lr._mc_data_seq
)
SELECT
  MD5(COALESCE(REPLACE(REPLACE(i.product_id, '\\', '\\\\'), '|', '\\|'), '\\N')) AS product_key,
  i.product_id AS product_id,
  i."name" AS "name",
  i.category AS category,
  i.price AS price,
  i._mc_maxts AS dw_changed_at,
  CAST(GETDATE() AS TIMESTAMP) AS dw_loaded_at,
  CAST(NULL AS TIMESTAMP) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_closed
FROM img AS i
WHERE
  i._mc_is_anchor = 0
UNION ALL
SELECT
  i._mc_old_sk,
  i.product_id,
  i."name",
  i.category,
  i.price,
  i._mc_maxts,
  i._mc_old_la,
  CAST(GETDATE() AS TIMESTAMP),
  'update',
  0
FROM img AS i
JOIN dw.product AS t
  ON t.product_key = i._mc_old_sk
WHERE
  i._mc_is_anchor = 1
  AND (
    i."name" IS DISTINCT FROM t."name"
    OR i.category IS DISTINCT FROM t.category
    OR i.price IS DISTINCT FROM t.price
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
    FROM catalog.products AS s
    WHERE
      (
        TRUE
      ) AND (
        s.product_id IS NULL
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
    FROM catalog.products AS s
    WHERE
      (
        TRUE
      ) AND NOT s.product_id IS NULL
  ) - (
    SELECT
      COUNT(*)
    FROM _mc_product_batch
  ) AS duplicates;

INSERT INTO dw.product (
  product_key,
  product_id,
  "name",
  category,
  price,
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
  CAST(GETDATE() AS TIMESTAMP),
  CAST(GETDATE() AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.product
    WHERE
      product_key = '00000000000000000000000000000000'
  );

INSERT INTO dw.product (
  product_key,
  product_id,
  "name",
  category,
  price,
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
  CAST(GETDATE() AS TIMESTAMP),
  CAST(GETDATE() AS TIMESTAMP),
  NULL
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.product
    WHERE
      product_key = 'ffffffffffffffffffffffffffffffff'
  );

MERGE INTO dw.product
USING _mc_product_changes AS c
ON dw.product.product_key = c.product_key
WHEN MATCHED THEN UPDATE SET
  product_id = c.product_id,
  "name" = c."name",
  category = c.category,
  price = c.price,
  dw_changed_at = c.dw_changed_at,
  dw_loaded_at = c.dw_loaded_at,
  dw_updated_at = c.dw_updated_at
WHEN NOT MATCHED THEN INSERT (
  product_key,
  product_id,
  "name",
  category,
  price,
  dw_changed_at,
  dw_loaded_at,
  dw_updated_at
) VALUES (
  c.product_key,
  c.product_id,
  c."name",
  c.category,
  c.price,
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
    y * 10000 + m * 100 + CAST(EXTRACT(DAY FROM d) AS INTEGER),
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
    CAST(EXTRACT(WEEK FROM d) AS INTEGER),
    dow,
    dow >= 6
  FROM (
    SELECT
      d,
      CAST(EXTRACT(YEAR FROM d) AS INTEGER) AS y,
      CAST(EXTRACT(MONTH FROM d) AS INTEGER) AS m,
      CAST((
        (
          DATEDIFF(DAY, CAST('1900-01-01' AS DATE), d) % 7
        ) + 7
      ) % 7 + 1 AS INTEGER) AS dow
    FROM (
      SELECT
        CAST(DATEADD(DAY, d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000, CAST('2020-01-01' AS DATE)) AS DATE) AS d
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
      FROM dw.date_dim AS t
      WHERE
        t."date" = c.d
    )
) AS m;

INSERT INTO dw.date_dim (
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
    FROM dw.date_dim
    WHERE
      date_key = 0
  );

INSERT INTO dw.date_dim (
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
  y * 10000 + m * 100 + CAST(EXTRACT(DAY FROM d) AS INTEGER),
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
  CAST(EXTRACT(WEEK FROM d) AS INTEGER),
  dow,
  dow >= 6
FROM (
  SELECT
    d,
    CAST(EXTRACT(YEAR FROM d) AS INTEGER) AS y,
    CAST(EXTRACT(MONTH FROM d) AS INTEGER) AS m,
    CAST((
      (
        DATEDIFF(DAY, CAST('1900-01-01' AS DATE), d) % 7
      ) + 7
    ) % 7 + 1 AS INTEGER) AS dow
  FROM (
    SELECT
      CAST(DATEADD(DAY, d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000, CAST('2020-01-01' AS DATE)) AS DATE) AS d
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
    FROM dw.date_dim AS t
    WHERE
      t."date" = c.d
  );

DROP TABLE IF EXISTS _mc_sales_changes;

DROP TABLE IF EXISTS _mc_sales_batch;

CREATE TEMPORARY TABLE _mc_sales_batch AS
SELECT DISTINCT
  s.order_id AS order_id,
  s.line_no AS line_no,
  s.customer_id AS customer_id,
  s.ordered_at AS ordered_at,
  s.product_id AS product_id,
  s.order_date AS order_date,
  s.channel AS channel,
  s.attrs AS attrs,
  s.signature AS signature,
  s.pickup AS pickup,
  s.is_gift AS is_gift,
  s.quantity AS quantity,
  s.amount AS amount,
  s.weight AS weight,
  s.ratio AS ratio,
  (
    amount - discount
  ) AS net_amount,
  (
    amount * 1000
  ) AS big_amount
FROM sales.orders AS s
WHERE
  NOT s.order_id IS NULL
  AND NOT s.line_no IS NULL
  AND (
    (
      SELECT
        MAX(ordered_at)
      FROM dw.sales
    ) IS NULL
    OR s.ordered_at > (
      SELECT
        MAX(ordered_at)
      FROM dw.sales
    )
  );

SELECT
  order_id,
  line_no
FROM _mc_sales_batch
GROUP BY
  order_id,
  line_no
HAVING
  COUNT(*) > 1
ORDER BY
  order_id,
  line_no
LIMIT 11;

CREATE TEMPORARY TABLE _mc_sales_changes AS
WITH res AS (
  SELECT
    b.order_id,
    b.line_no,
    b.customer_id,
    b.ordered_at,
    b.product_id,
    b.order_date,
    b.channel,
    b.attrs,
    b.signature,
    b.pickup,
    b.is_gift,
    b.quantity,
    b.amount,
    b.weight,
    b.ratio,
    b.net_amount,
    b.big_amount,
    COALESCE(
      _mc_r0._mc_sk,
      CASE WHEN CAST(b.ordered_at AS TIMESTAMP) < _mc_f0._mc_vf THEN _mc_f0._mc_sk END,
      '00000000000000000000000000000000'
    ) AS customer_key,
    COALESCE(_mc_r1.product_key, '00000000000000000000000000000000') AS product_key,
    COALESCE(_mc_r2.date_key, 0) AS order_date_key
  FROM _mc_sales_batch AS b
  LEFT JOIN (
    SELECT
      *
    FROM (
      SELECT
        x.order_id,
        x.line_no,
        d.customer_key AS _mc_sk,
        ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC NULLS LAST) AS _mc_rn
      FROM _mc_sales_batch AS x
      JOIN dw.customer AS d
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
      FROM dw.customer
      WHERE
        NOT customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
    ) AS x
    WHERE
      _mc_rn = 1
  ) AS _mc_f0
    ON _mc_f0.customer_id = b.customer_id
  LEFT JOIN dw.product AS _mc_r1
    ON _mc_r1.product_id = b.product_id
  LEFT JOIN dw.date_dim AS _mc_r2
    ON _mc_r2."date" = CAST(b.order_date AS DATE)
)
SELECT
  r.order_id AS order_id,
  r.line_no AS line_no,
  r.customer_key AS customer_key,
  r.customer_id AS customer_id,
  r.ordered_at AS ordered_at,
  r.product_key AS product_key,
  r.product_id AS product_id,
  r.order_date_key AS order_date_key,
  r.order_date AS order_date,
  r.channel AS channel,
  r.attrs AS attrs,
  r.signature AS signature,
  r.pickup AS pickup,
  r.is_gift AS is_gift,
  r.quantity AS quantity,
  r.amount AS amount,
  r.weight AS weight,
  r.ratio AS ratio,
  r.net_amount AS net_amount,
  r.big_amount AS big_amount,
  CAST(GETDATE() AS TIMESTAMP) AS dw_loaded_at,
  CAST(NULL AS TIMESTAMP) AS dw_updated_at,
  'insert' AS _mc_op,
  0 AS _mc_rekeyed
FROM res AS r
LEFT JOIN dw.sales AS t
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
  r.product_id,
  r.order_date_key,
  r.order_date,
  r.channel,
  r.attrs,
  r.signature,
  r.pickup,
  r.is_gift,
  r.quantity,
  r.amount,
  r.weight,
  r.ratio,
  r.net_amount,
  r.big_amount,
  t.dw_loaded_at,
  CAST(GETDATE() AS TIMESTAMP),
  CASE
    WHEN (
      r.customer_id IS DISTINCT FROM t.customer_id
      OR r.ordered_at IS DISTINCT FROM t.ordered_at
      OR r.product_id IS DISTINCT FROM t.product_id
      OR r.order_date IS DISTINCT FROM t.order_date
      OR r.channel IS DISTINCT FROM t.channel
      OR r.attrs IS DISTINCT FROM t.attrs
      OR r.signature IS DISTINCT FROM t.signature
      OR r.pickup IS DISTINCT FROM t.pickup
      OR r.is_gift IS DISTINCT FROM t.is_gift
      OR r.quantity IS DISTINCT FROM t.quantity
      OR r.amount IS DISTINCT FROM t.amount
      OR r.weight IS DISTINCT FROM t.weight
      OR r.ratio IS DISTINCT FROM t.ratio
      OR r.net_amount IS DISTINCT FROM t.net_amount
      OR r.big_amount IS DISTINCT FROM t.big_amount
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
JOIN dw.sales AS t
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
    FROM dw.sales AS x
    JOIN dw.customer AS d
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
    FROM dw.customer
    WHERE
      NOT customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  ) AS x
  WHERE
    _mc_rn = 1
) AS _mc_f0
  ON _mc_f0.customer_id = t.customer_id
LEFT JOIN dw.product AS _mc_r1
  ON _mc_r1.product_id = t.product_id
LEFT JOIN dw.date_dim AS _mc_r2
  ON _mc_r2."date" = CAST(t.order_date AS DATE)
WHERE
  (
    r.customer_id IS DISTINCT FROM t.customer_id
    OR r.ordered_at IS DISTINCT FROM t.ordered_at
    OR r.product_id IS DISTINCT FROM t.product_id
    OR r.order_date IS DISTINCT FROM t.order_date
    OR r.channel IS DISTINCT FROM t.channel
    OR r.attrs IS DISTINCT FROM t.attrs
    OR r.signature IS DISTINCT FROM t.signature
    OR r.pickup IS DISTINCT FROM t.pickup
    OR r.is_gift IS DISTINCT FROM t.is_gift
    OR r.quantity IS DISTINCT FROM t.quantity
    OR r.amount IS DISTINCT FROM t.amount
    OR r.weight IS DISTINCT FROM t.weight
    OR r.ratio IS DISTINCT FROM t.ratio
    OR r.net_amount IS DISTINCT FROM t.net_amount
    OR r.big_amount IS DISTINCT FROM t.big_amount
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
  t.product_id,
  CASE
    WHEN t.order_date_key = 0
    THEN COALESCE(_mc_r2.date_key, 0)
    ELSE t.order_date_key
  END,
  t.order_date,
  t.channel,
  t.attrs,
  t.signature,
  t.pickup,
  t.is_gift,
  t.quantity,
  t.amount,
  t.weight,
  t.ratio,
  t.net_amount,
  t.big_amount,
  t.dw_loaded_at,
  CAST(GETDATE() AS TIMESTAMP),
  'rekey',
  1
FROM dw.sales AS t
LEFT JOIN (
  SELECT
    *
  FROM (
    SELECT
      x.order_id,
      x.line_no,
      d.customer_key AS _mc_sk,
      ROW_NUMBER() OVER (PARTITION BY x.order_id, x.line_no ORDER BY d.valid_from DESC NULLS LAST) AS _mc_rn
    FROM dw.sales AS x
    JOIN dw.customer AS d
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
    FROM dw.customer
    WHERE
      NOT customer_key IN ('00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff')
  ) AS x
  WHERE
    _mc_rn = 1
) AS _mc_f0
  ON _mc_f0.customer_id = t.customer_id
LEFT JOIN dw.product AS _mc_r1
  ON _mc_r1.product_id = t.product_id
LEFT JOIN dw.date_dim AS _mc_r2
  ON _mc_r2."date" = CAST(t.order_date AS DATE)
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
    FROM _mc_sales_changes
    WHERE
      _mc_op = 'insert'
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM _mc_sales_changes
    WHERE
      _mc_op = 'update'
  ) AS updated,
  (
    SELECT
      COUNT(*)
    FROM _mc_sales_changes
    WHERE
      _mc_rekeyed = 1
  ) AS rekeyed,
  (
    SELECT
      COUNT(*)
    FROM sales.orders AS s
    WHERE
      TRUE AND (
        s.order_id IS NULL OR s.line_no IS NULL
      )
  ) AS rejected,
  (
    SELECT
      COUNT(*)
    FROM _mc_sales_changes
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
    FROM sales.orders AS s
    WHERE
      NOT s.order_id IS NULL
      AND NOT s.line_no IS NULL
      AND (
        (
          SELECT
            MAX(ordered_at)
          FROM dw.sales
        ) IS NULL
        OR s.ordered_at > (
          SELECT
            MAX(ordered_at)
          FROM dw.sales
        )
      )
  ) - (
    SELECT
      COUNT(*)
    FROM _mc_sales_batch
  ) AS duplicates;

MERGE INTO dw.sales
USING _mc_sales_changes AS c
ON dw.sales.order_id = c.order_id AND dw.sales.line_no = c.line_no
WHEN MATCHED THEN UPDATE SET
  customer_key = c.customer_key,
  customer_id = c.customer_id,
  ordered_at = c.ordered_at,
  product_key = c.product_key,
  product_id = c.product_id,
  order_date_key = c.order_date_key,
  order_date = c.order_date,
  channel = c.channel,
  attrs = c.attrs,
  signature = c.signature,
  pickup = c.pickup,
  is_gift = c.is_gift,
  quantity = c.quantity,
  amount = c.amount,
  weight = c.weight,
  ratio = c.ratio,
  net_amount = c.net_amount,
  big_amount = c.big_amount,
  dw_loaded_at = c.dw_loaded_at,
  dw_updated_at = c.dw_updated_at
WHEN NOT MATCHED THEN INSERT (
  order_id,
  line_no,
  customer_key,
  customer_id,
  ordered_at,
  product_key,
  product_id,
  order_date_key,
  order_date,
  channel,
  attrs,
  signature,
  pickup,
  is_gift,
  quantity,
  amount,
  weight,
  ratio,
  net_amount,
  big_amount,
  dw_loaded_at,
  dw_updated_at
) VALUES (
  c.order_id,
  c.line_no,
  c.customer_key,
  c.customer_id,
  c.ordered_at,
  c.product_key,
  c.product_id,
  c.order_date_key,
  c.order_date,
  c.channel,
  c.attrs,
  c.signature,
  c.pickup,
  c.is_gift,
  c.quantity,
  c.amount,
  c.weight,
  c.ratio,
  c.net_amount,
  c.big_amount,
  c.dw_loaded_at,
  c.dw_updated_at
);

DROP TABLE IF EXISTS _mc_sales_changes;

DROP TABLE IF EXISTS _mc_sales_batch;

CREATE TEMPORARY TABLE _mc_customer_h_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY customer_h_hk ORDER BY record_source, _mc_src, customer_id) AS _mc_rn
  FROM (
    SELECT
      CASE
        WHEN s.customer_id IS NULL
        THEN '00000000000000000000000000000000'
        ELSE MD5(COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N'))
      END AS customer_h_hk,
      s.customer_id AS customer_id,
      'crm' AS record_source,
      0 AS _mc_src
    FROM crm.customers AS s
    WHERE
      NOT s.customer_id IS NULL
    UNION ALL
    SELECT
      CASE
        WHEN s.customer_id IS NULL
        THEN '00000000000000000000000000000000'
        ELSE MD5(COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N'))
      END AS customer_h_hk,
      s.customer_id AS customer_id,
      'sales' AS record_source,
      1 AS _mc_src
    FROM sales.orders AS s
    WHERE
      NOT s.customer_id IS NULL
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_customer_h_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer_h AS t
    WHERE
      t.customer_h_hk = b.customer_h_hk
  );

INSERT INTO dw.customer_h (
  customer_h_hk,
  customer_id,
  load_ts,
  record_source
)
SELECT
  '00000000000000000000000000000000',
  CAST(NULL AS INTEGER),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer_h AS t
    WHERE
      t.customer_h_hk = '00000000000000000000000000000000'
  );

INSERT INTO dw.customer_h (
  customer_h_hk,
  customer_id,
  load_ts,
  record_source
)
SELECT
  'ffffffffffffffffffffffffffffffff',
  CAST(NULL AS INTEGER),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer_h AS t
    WHERE
      t.customer_h_hk = 'ffffffffffffffffffffffffffffffff'
  );

INSERT INTO dw.customer_h (
  customer_h_hk,
  customer_id,
  load_ts,
  record_source
)
SELECT
  b.customer_h_hk,
  b.customer_id,
  CAST(GETDATE() AS TIMESTAMP),
  b.record_source
FROM _mc_customer_h_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer_h AS t
    WHERE
      t.customer_h_hk = b.customer_h_hk
  );

DROP TABLE IF EXISTS _mc_customer_h_batch;

CREATE TEMPORARY TABLE _mc_product_h_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY product_h_hk ORDER BY record_source, _mc_src, product_id) AS _mc_rn
  FROM (
    SELECT
      CASE
        WHEN s.product_id IS NULL
        THEN '00000000000000000000000000000000'
        ELSE MD5(
          COALESCE(
            REPLACE(
              REPLACE(
                REPLACE(
                  REPLACE(
                    REPLACE(
                      REPLACE(
                        REPLACE(
                          REPLACE(
                            REPLACE(
                              REPLACE(
                                REPLACE(
                                  REPLACE(
                                    REPLACE(
                                      REPLACE(
                                        REPLACE(
                                          REPLACE(
                                            REPLACE(
                                              REPLACE(
                                                REPLACE(
                                                  REPLACE(
                                                    REPLACE(
                                                      REPLACE(
                                                        REPLACE(
                                                          REPLACE(
                                                            REPLACE(
                                                              REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_id), 'a', 'A'), 'b', 'B'), 'c', 'C'),
                                                              'd',
                                                              'D'
                                                            ),
                                                            'e',
                                                            'E'
                                                          ),
                                                          'f',
                                                          'F'
                                                        ),
                                                        'g',
                                                        'G'
                                                      ),
                                                      'h',
                                                      'H'
                                                    ),
                                                    'i',
                                                    'I'
                                                  ),
                                                  'j',
                                                  'J'
                                                ),
                                                'k',
                                                'K'
                                              ),
                                              'l',
                                              'L'
                                            ),
                                            'm',
                                            'M'
                                          ),
                                          'n',
                                          'N'
                                        ),
                                        'o',
                                        'O'
                                      ),
                                      'p',
                                      'P'
                                    ),
                                    'q',
                                    'Q'
                                  ),
                                  'r',
                                  'R'
                                ),
                                's',
                                'S'
                              ),
                              't',
                              'T'
                            ),
                            'u',
                            'U'
                          ),
                          'v',
                          'V'
                        ),
                        'w',
                        'W'
                      ),
                      'x',
                      'X'
                    ),
                    'y',
                    'Y'
                  ),
                  'z',
                  'Z'
                ),
                '\\',
                '\\\\'
              ),
              '|',
              '\\|'
            ),
            '\\N'
          )
        )
      END AS product_h_hk,
      s.product_id AS product_id,
      'catalog' AS record_source,
      0 AS _mc_src
    FROM catalog.products AS s
    WHERE
      NOT s.product_id IS NULL
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_product_h_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.product_h AS t
    WHERE
      t.product_h_hk = b.product_h_hk
  );

INSERT INTO dw.product_h (
  product_h_hk,
  product_id,
  load_ts,
  record_source
)
SELECT
  '00000000000000000000000000000000',
  CAST(NULL AS VARCHAR(65535)),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.product_h AS t
    WHERE
      t.product_h_hk = '00000000000000000000000000000000'
  );

INSERT INTO dw.product_h (
  product_h_hk,
  product_id,
  load_ts,
  record_source
)
SELECT
  'ffffffffffffffffffffffffffffffff',
  CAST(NULL AS VARCHAR(65535)),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.product_h AS t
    WHERE
      t.product_h_hk = 'ffffffffffffffffffffffffffffffff'
  );

INSERT INTO dw.product_h (
  product_h_hk,
  product_id,
  load_ts,
  record_source
)
SELECT
  b.product_h_hk,
  b.product_id,
  CAST(GETDATE() AS TIMESTAMP),
  b.record_source
FROM _mc_product_h_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.product_h AS t
    WHERE
      t.product_h_hk = b.product_h_hk
  );

DROP TABLE IF EXISTS _mc_product_h_batch;

CREATE TEMPORARY TABLE _mc_order_link_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY order_link_hk ORDER BY quantity, amount) AS _mc_rn
  FROM (
    SELECT
      MD5(
        COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N') || '|' || COALESCE(
          REPLACE(
            REPLACE(
              REPLACE(
                REPLACE(
                  REPLACE(
                    REPLACE(
                      REPLACE(
                        REPLACE(
                          REPLACE(
                            REPLACE(
                              REPLACE(
                                REPLACE(
                                  REPLACE(
                                    REPLACE(
                                      REPLACE(
                                        REPLACE(
                                          REPLACE(
                                            REPLACE(
                                              REPLACE(
                                                REPLACE(
                                                  REPLACE(
                                                    REPLACE(
                                                      REPLACE(
                                                        REPLACE(
                                                          REPLACE(
                                                            REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_id), 'a', 'A'), 'b', 'B'), 'c', 'C'),
                                                            'd',
                                                            'D'
                                                          ),
                                                          'e',
                                                          'E'
                                                        ),
                                                        'f',
                                                        'F'
                                                      ),
                                                      'g',
                                                      'G'
                                                    ),
                                                    'h',
                                                    'H'
                                                  ),
                                                  'i',
                                                  'I'
                                                ),
                                                'j',
                                                'J'
                                              ),
                                              'k',
                                              'K'
                                            ),
                                            'l',
                                            'L'
                                          ),
                                          'm',
                                          'M'
                                        ),
                                        'n',
                                        'N'
                                      ),
                                      'o',
                                      'O'
                                    ),
                                    'p',
                                    'P'
                                  ),
                                  'q',
                                  'Q'
                                ),
                                'r',
                                'R'
                              ),
                              's',
                              'S'
                            ),
                            't',
                            'T'
                          ),
                          'u',
                          'U'
                        ),
                        'v',
                        'V'
                      ),
                      'w',
                      'W'
                    ),
                    'x',
                    'X'
                  ),
                  'y',
                  'Y'
                ),
                'z',
                'Z'
              ),
              '\\',
              '\\\\'
            ),
            '|',
            '\\|'
          ),
          '\\N'
        ) || '|' || COALESCE(CAST(s.line_no AS VARCHAR(65535)), '\\N')
      ) AS order_link_hk,
      CASE
        WHEN s.customer_id IS NULL
        THEN '00000000000000000000000000000000'
        ELSE MD5(COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N'))
      END AS customer_hk,
      CASE
        WHEN s.product_id IS NULL
        THEN '00000000000000000000000000000000'
        ELSE MD5(
          COALESCE(
            REPLACE(
              REPLACE(
                REPLACE(
                  REPLACE(
                    REPLACE(
                      REPLACE(
                        REPLACE(
                          REPLACE(
                            REPLACE(
                              REPLACE(
                                REPLACE(
                                  REPLACE(
                                    REPLACE(
                                      REPLACE(
                                        REPLACE(
                                          REPLACE(
                                            REPLACE(
                                              REPLACE(
                                                REPLACE(
                                                  REPLACE(
                                                    REPLACE(
                                                      REPLACE(
                                                        REPLACE(
                                                          REPLACE(
                                                            REPLACE(
                                                              REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_id), 'a', 'A'), 'b', 'B'), 'c', 'C'),
                                                              'd',
                                                              'D'
                                                            ),
                                                            'e',
                                                            'E'
                                                          ),
                                                          'f',
                                                          'F'
                                                        ),
                                                        'g',
                                                        'G'
                                                      ),
                                                      'h',
                                                      'H'
                                                    ),
                                                    'i',
                                                    'I'
                                                  ),
                                                  'j',
                                                  'J'
                                                ),
                                                'k',
                                                'K'
                                              ),
                                              'l',
                                              'L'
                                            ),
                                            'm',
                                            'M'
                                          ),
                                          'n',
                                          'N'
                                        ),
                                        'o',
                                        'O'
                                      ),
                                      'p',
                                      'P'
                                    ),
                                    'q',
                                    'Q'
                                  ),
                                  'r',
                                  'R'
                                ),
                                's',
                                'S'
                              ),
                              't',
                              'T'
                            ),
                            'u',
                            'U'
                          ),
                          'v',
                          'V'
                        ),
                        'w',
                        'W'
                      ),
                      'x',
                      'X'
                    ),
                    'y',
                    'Y'
                  ),
                  'z',
                  'Z'
                ),
                '\\',
                '\\\\'
              ),
              '|',
              '\\|'
            ),
            '\\N'
          )
        )
      END AS product_hk,
      s.line_no AS line_no,
      s.quantity AS quantity,
      s.amount AS amount
    FROM sales.orders AS s
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_order_link_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.order_link AS t
    WHERE
      t.order_link_hk = b.order_link_hk
  );

INSERT INTO dw.order_link (
  order_link_hk,
  customer_hk,
  product_hk,
  line_no,
  quantity,
  amount,
  load_ts,
  record_source
)
SELECT
  b.order_link_hk,
  b.customer_hk,
  b.product_hk,
  b.line_no,
  b.quantity,
  b.amount,
  CAST(GETDATE() AS TIMESTAMP),
  'sales'
FROM _mc_order_link_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.order_link AS t
    WHERE
      t.order_link_hk = b.order_link_hk
  );

DROP TABLE IF EXISTS _mc_order_link_batch;

CREATE TEMPORARY TABLE _mc_customer_details_batch AS
SELECT DISTINCT
  CASE
    WHEN s.customer_id IS NULL
    THEN '00000000000000000000000000000000'
    ELSE MD5(COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N'))
  END AS customer_h_hk,
  MD5(
    CASE
      WHEN s."name" IS NULL AND s.email IS NULL AND s.segment IS NULL
      THEN ''
      ELSE COALESCE(REPLACE(REPLACE(s."name", '\\', '\\\\'), '|', '\\|'), '\\N') || CASE
        WHEN s.email IS NULL AND s.segment IS NULL
        THEN ''
        ELSE '|' || COALESCE(REPLACE(REPLACE(s.email, '\\', '\\\\'), '|', '\\|'), '\\N') || CASE
          WHEN s.segment IS NULL
          THEN ''
          ELSE '|' || COALESCE(REPLACE(REPLACE(s.segment, '\\', '\\\\'), '|', '\\|'), '\\N')
        END
      END
    END
  ) AS hash_diff,
  s."name" AS "name",
  s.email AS email,
  s.segment AS segment
FROM crm.customers AS s
WHERE
  NOT (
    s.customer_id IS NULL
  );

SELECT
  customer_h_hk
FROM _mc_customer_details_batch
GROUP BY
  customer_h_hk
HAVING
  COUNT(*) > 1;

CREATE TEMPORARY TABLE _mc_customer_details_new AS
SELECT
  b.*
FROM _mc_customer_details_batch AS b
LEFT JOIN (
  SELECT
    customer_h_hk,
    hash_diff
  FROM (
    SELECT
      t.customer_h_hk,
      t.hash_diff,
      ROW_NUMBER() OVER (PARTITION BY t.customer_h_hk ORDER BY t.load_ts DESC NULLS LAST) AS _mc_r
    FROM dw.customer_details AS t
    WHERE
      t.customer_h_hk IN (
        SELECT
          customer_h_hk
        FROM _mc_customer_details_batch
      )
  ) AS r
  WHERE
    _mc_r = 1
) AS l
  ON l.customer_h_hk = b.customer_h_hk
WHERE
  l.customer_h_hk IS NULL OR l.hash_diff <> b.hash_diff;

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_details_new
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM crm.customers AS s
    WHERE
      s.customer_id IS NULL
  ) AS rejected;

INSERT INTO dw.customer_details (
  customer_h_hk,
  load_ts,
  hash_diff,
  "name",
  email,
  segment,
  record_source
)
SELECT
  '00000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  '00000000000000000000000000000000',
  CAST(NULL AS VARCHAR(65535)),
  CAST(NULL AS VARCHAR(65535)),
  CAST(NULL AS VARCHAR(65535)),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer_details AS t
    WHERE
      t.customer_h_hk = '00000000000000000000000000000000'
  );

INSERT INTO dw.customer_details (
  customer_h_hk,
  load_ts,
  hash_diff,
  "name",
  email,
  segment,
  record_source
)
SELECT
  b.customer_h_hk,
  CAST(GETDATE() AS TIMESTAMP),
  b.hash_diff,
  b."name",
  b.email,
  b.segment,
  'crm'
FROM _mc_customer_details_new AS b;

DROP TABLE IF EXISTS _mc_customer_details_new;

DROP TABLE IF EXISTS _mc_customer_details_batch;

CREATE TEMPORARY TABLE _mc_customer_phones_batch AS
SELECT DISTINCT
  CASE
    WHEN s.customer_id IS NULL
    THEN '00000000000000000000000000000000'
    ELSE MD5(COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N'))
  END AS customer_h_hk,
  MD5(
    CASE
      WHEN s.phone IS NULL
      THEN ''
      ELSE COALESCE(REPLACE(REPLACE(s.phone, '\\', '\\\\'), '|', '\\|'), '\\N')
    END
  ) AS hash_diff,
  s.phone_type AS phone_type,
  s.phone AS phone
FROM crm.phones AS s
WHERE
  NOT (
    s.customer_id IS NULL
  );

SELECT
  customer_h_hk,
  phone_type
FROM _mc_customer_phones_batch
GROUP BY
  customer_h_hk,
  phone_type
HAVING
  COUNT(*) > 1;

CREATE TEMPORARY TABLE _mc_customer_phones_latest AS
SELECT
  customer_h_hk,
  phone_type,
  hash_diff
FROM (
  SELECT
    t.*,
    RANK() OVER (PARTITION BY t.customer_h_hk ORDER BY t.load_ts DESC NULLS LAST) AS _mc_r
  FROM dw.customer_phones AS t
  WHERE
    t.customer_h_hk IN (
      SELECT
        customer_h_hk
      FROM _mc_customer_phones_batch
    )
) AS r
WHERE
  _mc_r = 1;

CREATE TEMPORARY TABLE _mc_customer_phones_new AS
SELECT
  *
FROM _mc_customer_phones_batch
WHERE
  customer_h_hk IN (
    SELECT
      customer_h_hk
    FROM (
      SELECT
        customer_h_hk,
        phone_type,
        hash_diff
      FROM _mc_customer_phones_batch
      EXCEPT
      SELECT
        customer_h_hk,
        phone_type,
        hash_diff
      FROM _mc_customer_phones_latest
    ) AS a
    UNION
    SELECT
      customer_h_hk
    FROM (
      SELECT
        customer_h_hk,
        phone_type,
        hash_diff
      FROM _mc_customer_phones_latest
      EXCEPT
      SELECT
        customer_h_hk,
        phone_type,
        hash_diff
      FROM _mc_customer_phones_batch
    ) AS d
  );

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_phones_new
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM crm.phones AS s
    WHERE
      s.customer_id IS NULL
  ) AS rejected;

INSERT INTO dw.customer_phones (
  customer_h_hk,
  load_ts,
  phone_type,
  hash_diff,
  phone,
  record_source
)
SELECT
  '00000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  CAST('' AS VARCHAR(65535)),
  '00000000000000000000000000000000',
  CAST(NULL AS VARCHAR(65535)),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer_phones AS t
    WHERE
      t.customer_h_hk = '00000000000000000000000000000000'
  );

INSERT INTO dw.customer_phones (
  customer_h_hk,
  load_ts,
  phone_type,
  hash_diff,
  phone,
  record_source
)
SELECT
  b.customer_h_hk,
  CAST(GETDATE() AS TIMESTAMP),
  b.phone_type,
  b.hash_diff,
  b.phone,
  'crm'
FROM _mc_customer_phones_new AS b;

DROP TABLE IF EXISTS _mc_customer_phones_new;

DROP TABLE IF EXISTS _mc_customer_phones_latest;

DROP TABLE IF EXISTS _mc_customer_phones_batch;

CREATE TEMPORARY TABLE _mc_order_link_eff_batch AS
SELECT DISTINCT
  MD5(
    COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N') || '|' || COALESCE(
      REPLACE(
        REPLACE(
          REPLACE(
            REPLACE(
              REPLACE(
                REPLACE(
                  REPLACE(
                    REPLACE(
                      REPLACE(
                        REPLACE(
                          REPLACE(
                            REPLACE(
                              REPLACE(
                                REPLACE(
                                  REPLACE(
                                    REPLACE(
                                      REPLACE(
                                        REPLACE(
                                          REPLACE(
                                            REPLACE(
                                              REPLACE(
                                                REPLACE(
                                                  REPLACE(
                                                    REPLACE(
                                                      REPLACE(
                                                        REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_id), 'a', 'A'), 'b', 'B'), 'c', 'C'),
                                                        'd',
                                                        'D'
                                                      ),
                                                      'e',
                                                      'E'
                                                    ),
                                                    'f',
                                                    'F'
                                                  ),
                                                  'g',
                                                  'G'
                                                ),
                                                'h',
                                                'H'
                                              ),
                                              'i',
                                              'I'
                                            ),
                                            'j',
                                            'J'
                                          ),
                                          'k',
                                          'K'
                                        ),
                                        'l',
                                        'L'
                                      ),
                                      'm',
                                      'M'
                                    ),
                                    'n',
                                    'N'
                                  ),
                                  'o',
                                  'O'
                                ),
                                'p',
                                'P'
                              ),
                              'q',
                              'Q'
                            ),
                            'r',
                            'R'
                          ),
                          's',
                          'S'
                        ),
                        't',
                        'T'
                      ),
                      'u',
                      'U'
                    ),
                    'v',
                    'V'
                  ),
                  'w',
                  'W'
                ),
                'x',
                'X'
              ),
              'y',
              'Y'
            ),
            'z',
            'Z'
          ),
          '\\',
          '\\\\'
        ),
        '|',
        '\\|'
      ),
      '\\N'
    ) || '|' || COALESCE(CAST(s.line_no AS VARCHAR(65535)), '\\N')
  ) AS order_link_hk,
  CASE
    WHEN s.customer_id IS NULL
    THEN '00000000000000000000000000000000'
    ELSE MD5(COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N'))
  END AS _mc_driving_hk
FROM sales.orders AS s
WHERE
  (
    NOT s.customer_id IS NULL
  );

SELECT
  _mc_driving_hk,
  COUNT(*) AS links
FROM _mc_order_link_eff_batch
GROUP BY
  _mc_driving_hk
HAVING
  COUNT(*) > 1;

CREATE TEMPORARY TABLE _mc_order_link_eff_current AS
SELECT
  c.order_link_hk,
  c.start_ts,
  c.is_active
FROM (
  SELECT
    t.order_link_hk,
    t.start_ts,
    t.is_active,
    ROW_NUMBER() OVER (PARTITION BY t.order_link_hk ORDER BY t.load_ts DESC NULLS LAST) AS _mc_rn
  FROM dw.order_link_eff AS t
  WHERE
    t.order_link_hk IN (
      SELECT
        b.order_link_hk
      FROM _mc_order_link_eff_batch AS b
    )
    OR t.order_link_hk IN (
      SELECT
        k.order_link_hk
      FROM dw.order_link AS k
      WHERE
        k.customer_hk IN (
          SELECT
            b._mc_driving_hk
          FROM _mc_order_link_eff_batch AS b
        )
    )
) AS c
WHERE
  c._mc_rn = 1;

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_order_link_eff_batch AS b
    WHERE
      NOT b.order_link_hk IN (
        SELECT
          c.order_link_hk
        FROM _mc_order_link_eff_current AS c
        WHERE
          c.is_active = TRUE
      )
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM _mc_order_link_eff_current AS c
    WHERE
      c.is_active = TRUE
      AND NOT c.order_link_hk IN (
        SELECT
          b.order_link_hk
        FROM _mc_order_link_eff_batch AS b
      )
  ) AS closed,
  (
    SELECT
      COUNT(*)
    FROM sales.orders AS s
    WHERE
      NOT (
        NOT s.customer_id IS NULL
      )
  ) AS rejected;

INSERT INTO dw.order_link_eff (
  order_link_hk,
  load_ts,
  start_ts,
  end_ts,
  is_active,
  record_source
)
SELECT
  '00000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  CAST(NULL AS TIMESTAMP),
  FALSE,
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.order_link_eff AS t
    WHERE
      t.order_link_hk = '00000000000000000000000000000000'
  );

INSERT INTO dw.order_link_eff (
  order_link_hk,
  load_ts,
  start_ts,
  end_ts,
  is_active,
  record_source
)
SELECT
  c.order_link_hk,
  CAST(GETDATE() AS TIMESTAMP),
  c.start_ts,
  CAST(GETDATE() AS TIMESTAMP),
  FALSE,
  'sales'
FROM _mc_order_link_eff_current AS c
WHERE
  c.is_active = TRUE
  AND NOT c.order_link_hk IN (
    SELECT
      b.order_link_hk
    FROM _mc_order_link_eff_batch AS b
  );

INSERT INTO dw.order_link_eff (
  order_link_hk,
  load_ts,
  start_ts,
  end_ts,
  is_active,
  record_source
)
SELECT
  b.order_link_hk,
  CAST(GETDATE() AS TIMESTAMP),
  CAST(GETDATE() AS TIMESTAMP),
  NULL,
  TRUE,
  'sales'
FROM _mc_order_link_eff_batch AS b
WHERE
  NOT b.order_link_hk IN (
    SELECT
      c.order_link_hk
    FROM _mc_order_link_eff_current AS c
    WHERE
      c.is_active = TRUE
  );

DROP TABLE IF EXISTS _mc_order_link_eff_batch;

DROP TABLE IF EXISTS _mc_order_link_eff_current;

CREATE TEMPORARY TABLE _mc_customer_seen_batch AS
SELECT DISTINCT
  CASE
    WHEN s.customer_id IS NULL
    THEN '00000000000000000000000000000000'
    ELSE MD5(COALESCE(CAST(s.customer_id AS VARCHAR(65535)), '\\N'))
  END AS customer_h_hk
FROM crm.customers AS s
WHERE
  NOT (
    NOT (
      NOT s.customer_id IS NULL
    )
  );

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_seen_batch AS b
    WHERE
      NOT b.customer_h_hk IN (
        SELECT
          t.customer_h_hk
        FROM dw.customer_seen AS t
        WHERE
          t.load_ts = CAST(GETDATE() AS TIMESTAMP)
      )
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM crm.customers AS s
    WHERE
      NOT (
        NOT s.customer_id IS NULL
      )
  ) AS rejected;

INSERT INTO dw.customer_seen (
  customer_h_hk,
  load_ts,
  record_source
)
SELECT
  '00000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM dw.customer_seen AS t
    WHERE
      t.customer_h_hk = '00000000000000000000000000000000'
  );

INSERT INTO dw.customer_seen (
  customer_h_hk,
  load_ts,
  record_source
)
SELECT
  b.customer_h_hk,
  CAST(GETDATE() AS TIMESTAMP),
  'crm'
FROM _mc_customer_seen_batch AS b
WHERE
  NOT b.customer_h_hk IN (
    SELECT
      t.customer_h_hk
    FROM dw.customer_seen AS t
    WHERE
      t.load_ts = CAST(GETDATE() AS TIMESTAMP)
  );

DROP TABLE IF EXISTS _mc_customer_seen_batch;

CREATE TEMPORARY TABLE _mc_customer_pit_bounds AS
SELECT
  c._mc_start,
  c._mc_end,
  c._mc_first,
  DATEDIFF(DAY, c._mc_start, c._mc_end) AS _mc_steps
FROM (
  SELECT
    CAST(f._mc_h AS DATE) AS _mc_start,
    CAST(CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE) AS DATE) AS _mc_end,
    f._mc_h AS _mc_first
  FROM (
    SELECT
      (
        SELECT
          MIN(CAST(t.load_ts AS DATE))
        FROM dw.customer_h AS t
        WHERE
          t.customer_h_hk <> '00000000000000000000000000000000'
          AND t.customer_h_hk <> 'ffffffffffffffffffffffffffffffff'
      ) AS _mc_h
  ) AS f
) AS c;

SELECT
  b._mc_start,
  b._mc_end
FROM _mc_customer_pit_bounds AS b
WHERE
  b._mc_steps > 99999;

CREATE TEMPORARY TABLE _mc_customer_pit_spine AS
WITH _mc_digits AS (
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
)
SELECT
  x._mc_d
FROM (
  SELECT
    CAST(DATEADD(DAY, g._mc_n, b._mc_start) AS DATE) AS _mc_d,
    b._mc_end
  FROM (
    SELECT
      d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000 + d4.n * 10000 AS _mc_n
    FROM _mc_digits AS d0, _mc_digits AS d1, _mc_digits AS d2, _mc_digits AS d3, _mc_digits AS d4
  ) AS g, _mc_customer_pit_bounds AS b
  WHERE
    g._mc_n <= b._mc_steps
) AS x
WHERE
  x._mc_d <= x._mc_end;

CREATE TEMPORARY TABLE _mc_customer_pit_dates AS
SELECT
  s._mc_d,
  CAST(DATEADD(DAY, 1, s._mc_d) AS TIMESTAMP) AS _mc_next
FROM _mc_customer_pit_spine AS s, _mc_customer_pit_bounds AS b
WHERE
  s._mc_d >= b._mc_first
  AND (
    s._mc_d >= CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    OR s._mc_d = (
      SELECT
        MAX(x.snapshot_date)
      FROM dw.customer_pit AS x
      WHERE
        x.snapshot_date < CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    )
    OR NOT s._mc_d IN (
      SELECT
        t.snapshot_date
      FROM dw.customer_pit AS t
    )
  );

CREATE TEMPORARY TABLE _mc_customer_pit_grid AS
SELECT
  k.customer_h_hk,
  d._mc_d,
  d._mc_next
FROM dw.customer_h AS k, _mc_customer_pit_dates AS d
WHERE
  k.customer_h_hk <> '00000000000000000000000000000000'
  AND k.customer_h_hk <> 'ffffffffffffffffffffffffffffffff'
  AND k.load_ts < d._mc_next;

CREATE TEMPORARY TABLE _mc_customer_pit_new AS
SELECT
  a.customer_h_hk,
  a._mc_d AS snapshot_date,
  CASE
    WHEN a._mc_ts0 IS NULL
    THEN '00000000000000000000000000000000'
    ELSE a.customer_h_hk
  END AS customer_details_hk,
  COALESCE(a._mc_ts0, CAST('1900-01-01 00:00:00' AS TIMESTAMP)) AS customer_details_load_ts,
  CASE
    WHEN a._mc_ts1 IS NULL
    THEN '00000000000000000000000000000000'
    ELSE a.customer_h_hk
  END AS customer_phones_hk,
  COALESCE(a._mc_ts1, CAST('1900-01-01 00:00:00' AS TIMESTAMP)) AS customer_phones_load_ts
FROM (
  SELECT
    u.customer_h_hk,
    u._mc_d,
    MAX(CASE WHEN u._mc_sat = 0 THEN u._mc_ts END) AS _mc_ts0,
    MAX(CASE WHEN u._mc_sat = 1 THEN u._mc_ts END) AS _mc_ts1
  FROM (
    SELECT
      g.customer_h_hk,
      g._mc_d,
      -1 AS _mc_sat,
      g._mc_next AS _mc_ts
    FROM _mc_customer_pit_grid AS g
    UNION ALL
    SELECT
      g.customer_h_hk,
      g._mc_d,
      0 AS _mc_sat,
      x.load_ts AS _mc_ts
    FROM _mc_customer_pit_grid AS g
    JOIN dw.customer_details AS x
      ON x.customer_h_hk = g.customer_h_hk
    WHERE
      x.load_ts < g._mc_next
    UNION ALL
    SELECT
      g.customer_h_hk,
      g._mc_d,
      1 AS _mc_sat,
      x.load_ts AS _mc_ts
    FROM _mc_customer_pit_grid AS g
    JOIN dw.customer_phones AS x
      ON x.customer_h_hk = g.customer_h_hk
    WHERE
      x.load_ts < g._mc_next
  ) AS u
  GROUP BY
    u.customer_h_hk,
    u._mc_d
) AS a;

SELECT
  SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 0 THEN 1 ELSE 0 END) AS inserted,
  SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 1 AND k._mc_same = 0 THEN 1 ELSE 0 END) AS updated,
  SUM(CASE WHEN k._mc_n = 0 AND k._mc_o = 1 THEN 1 ELSE 0 END) AS deleted
FROM (
  SELECT
    r.customer_h_hk,
    r.snapshot_date,
    MAX(r._mc_n) AS _mc_n,
    MAX(r._mc_o) AS _mc_o,
    MAX(r._mc_n * r._mc_o) AS _mc_same
  FROM (
    SELECT
      v.customer_h_hk,
      v.snapshot_date,
      v.customer_details_hk,
      v.customer_details_load_ts,
      v.customer_phones_hk,
      v.customer_phones_load_ts,
      MAX(v._mc_n) AS _mc_n,
      MAX(v._mc_o) AS _mc_o
    FROM (
      SELECT
        customer_h_hk,
        snapshot_date,
        customer_details_hk,
        customer_details_load_ts,
        customer_phones_hk,
        customer_phones_load_ts,
        1 AS _mc_n,
        0 AS _mc_o
      FROM _mc_customer_pit_new
      UNION ALL
      SELECT
        t.customer_h_hk,
        t.snapshot_date,
        t.customer_details_hk,
        t.customer_details_load_ts,
        t.customer_phones_hk,
        t.customer_phones_load_ts,
        0 AS _mc_n,
        1 AS _mc_o
      FROM dw.customer_pit AS t
      WHERE
        (
          t.snapshot_date >= CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
          OR t.snapshot_date = (
            SELECT
              MAX(x.snapshot_date)
            FROM dw.customer_pit AS x
            WHERE
              x.snapshot_date < CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
          )
        )
    ) AS v
    GROUP BY
      v.customer_h_hk,
      v.snapshot_date,
      v.customer_details_hk,
      v.customer_details_load_ts,
      v.customer_phones_hk,
      v.customer_phones_load_ts
  ) AS r
  GROUP BY
    r.customer_h_hk,
    r.snapshot_date
) AS k;

DELETE FROM dw.customer_pit
WHERE
  (
    snapshot_date >= CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    OR snapshot_date = (
      SELECT
        MAX(x.snapshot_date)
      FROM dw.customer_pit AS x
      WHERE
        x.snapshot_date < CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    )
  );

INSERT INTO dw.customer_pit (
  customer_h_hk,
  snapshot_date,
  customer_details_hk,
  customer_details_load_ts,
  customer_phones_hk,
  customer_phones_load_ts
)
SELECT
  customer_h_hk,
  snapshot_date,
  customer_details_hk,
  customer_details_load_ts,
  customer_phones_hk,
  customer_phones_load_ts
FROM _mc_customer_pit_new;

DROP TABLE IF EXISTS _mc_customer_pit_bounds;

DROP TABLE IF EXISTS _mc_customer_pit_spine;

DROP TABLE IF EXISTS _mc_customer_pit_dates;

DROP TABLE IF EXISTS _mc_customer_pit_grid;

DROP TABLE IF EXISTS _mc_customer_pit_new;

CREATE TEMPORARY TABLE _mc_customer_orders_bounds AS
SELECT
  c._mc_start,
  c._mc_end,
  c._mc_first,
  DATEDIFF(DAY, c._mc_start, c._mc_end) AS _mc_steps
FROM (
  SELECT
    CAST(f._mc_h AS DATE) AS _mc_start,
    CAST(CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE) AS DATE) AS _mc_end,
    (
      SELECT
        MAX(m._mc_f)
      FROM (
        SELECT
          MIN(CAST(t.load_ts AS DATE)) AS _mc_f
        FROM dw.order_link AS t
      ) AS m
    ) AS _mc_first
  FROM (
    SELECT
      (
        SELECT
          MIN(CAST(t.load_ts AS DATE))
        FROM dw.customer_h AS t
        WHERE
          t.customer_h_hk <> '00000000000000000000000000000000'
          AND t.customer_h_hk <> 'ffffffffffffffffffffffffffffffff'
      ) AS _mc_h
  ) AS f
) AS c;

SELECT
  b._mc_start,
  b._mc_end
FROM _mc_customer_orders_bounds AS b
WHERE
  b._mc_steps > 99999;

CREATE TEMPORARY TABLE _mc_customer_orders_spine AS
WITH _mc_digits AS (
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
)
SELECT
  x._mc_d
FROM (
  SELECT
    CAST(DATEADD(DAY, g._mc_n, b._mc_start) AS DATE) AS _mc_d,
    b._mc_end
  FROM (
    SELECT
      d0.n * 1 + d1.n * 10 + d2.n * 100 + d3.n * 1000 + d4.n * 10000 AS _mc_n
    FROM _mc_digits AS d0, _mc_digits AS d1, _mc_digits AS d2, _mc_digits AS d3, _mc_digits AS d4
  ) AS g, _mc_customer_orders_bounds AS b
  WHERE
    g._mc_n <= b._mc_steps
) AS x
WHERE
  x._mc_d <= x._mc_end;

CREATE TEMPORARY TABLE _mc_customer_orders_dates AS
SELECT
  s._mc_d,
  CAST(DATEADD(DAY, 1, s._mc_d) AS TIMESTAMP) AS _mc_next
FROM _mc_customer_orders_spine AS s, _mc_customer_orders_bounds AS b
WHERE
  s._mc_d >= b._mc_first
  AND (
    s._mc_d >= CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    OR s._mc_d = (
      SELECT
        MAX(x.snapshot_date)
      FROM dw.customer_orders AS x
      WHERE
        x.snapshot_date < CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    )
    OR NOT s._mc_d IN (
      SELECT
        t.snapshot_date
      FROM dw.customer_orders AS t
    )
  );

CREATE TEMPORARY TABLE _mc_customer_orders_e0 AS
SELECT
  x._mc_hk,
  x._mc_d
FROM (
  SELECT
    e.order_link_hk AS _mc_hk,
    d._mc_d,
    e.is_active AS _mc_on,
    ROW_NUMBER() OVER (PARTITION BY e.order_link_hk, d._mc_d ORDER BY e.load_ts DESC NULLS LAST) AS _mc_rn
  FROM dw.order_link_eff AS e, _mc_customer_orders_dates AS d
  WHERE
    e.load_ts < d._mc_next
) AS x
WHERE
  x._mc_rn = 1 AND NOT x._mc_on;

CREATE TEMPORARY TABLE _mc_customer_orders_l0 AS
SELECT
  w._mc_hk,
  w.customer_hk,
  w.product_hk,
  w._mc_d
FROM (
  SELECT
    v.*,
    0 AS _mc_end
  FROM (
    SELECT
      l.order_link_hk AS _mc_hk,
      l.customer_hk,
      l.product_hk,
      d._mc_d
    FROM dw.order_link AS l, _mc_customer_orders_dates AS d
    WHERE
      l.load_ts < d._mc_next
  ) AS v
  UNION ALL
  SELECT
    l.order_link_hk AS _mc_hk,
    l.customer_hk,
    l.product_hk,
    x._mc_d,
    1 AS _mc_end
  FROM dw.order_link AS l
  JOIN _mc_customer_orders_e0 AS x
    ON x._mc_hk = l.order_link_hk
) AS w
GROUP BY
  w._mc_hk,
  w.customer_hk,
  w.product_hk,
  w._mc_d
HAVING
  MAX(w._mc_end) = 0;

CREATE TEMPORARY TABLE _mc_customer_orders_new AS
SELECT
  a0.customer_hk AS customer_h_hk,
  a0._mc_d AS snapshot_date,
  a0._mc_hk AS order_link_hk
FROM _mc_customer_orders_l0 AS a0
WHERE
  a0.customer_hk <> '00000000000000000000000000000000'
  AND a0.customer_hk <> 'ffffffffffffffffffffffffffffffff';

SELECT
  SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 0 THEN 1 ELSE 0 END) AS inserted,
  SUM(CASE WHEN k._mc_n = 0 AND k._mc_o = 1 THEN 1 ELSE 0 END) AS deleted
FROM (
  SELECT
    r.customer_h_hk,
    r.snapshot_date,
    r.order_link_hk,
    MAX(r._mc_n) AS _mc_n,
    MAX(r._mc_o) AS _mc_o,
    MAX(r._mc_n * r._mc_o) AS _mc_same
  FROM (
    SELECT
      v.customer_h_hk,
      v.snapshot_date,
      v.order_link_hk,
      MAX(v._mc_n) AS _mc_n,
      MAX(v._mc_o) AS _mc_o
    FROM (
      SELECT
        customer_h_hk,
        snapshot_date,
        order_link_hk,
        1 AS _mc_n,
        0 AS _mc_o
      FROM _mc_customer_orders_new
      UNION ALL
      SELECT
        t.customer_h_hk,
        t.snapshot_date,
        t.order_link_hk,
        0 AS _mc_n,
        1 AS _mc_o
      FROM dw.customer_orders AS t
      WHERE
        (
          t.snapshot_date >= CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
          OR t.snapshot_date = (
            SELECT
              MAX(x.snapshot_date)
            FROM dw.customer_orders AS x
            WHERE
              x.snapshot_date < CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
          )
        )
    ) AS v
    GROUP BY
      v.customer_h_hk,
      v.snapshot_date,
      v.order_link_hk
  ) AS r
  GROUP BY
    r.customer_h_hk,
    r.snapshot_date,
    r.order_link_hk
) AS k;

DELETE FROM dw.customer_orders
WHERE
  (
    snapshot_date >= CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    OR snapshot_date = (
      SELECT
        MAX(x.snapshot_date)
      FROM dw.customer_orders AS x
      WHERE
        x.snapshot_date < CAST(CAST(GETDATE() AS TIMESTAMP) AS DATE)
    )
  );

INSERT INTO dw.customer_orders (
  customer_h_hk,
  snapshot_date,
  order_link_hk
)
SELECT
  customer_h_hk,
  snapshot_date,
  order_link_hk
FROM _mc_customer_orders_new;

DROP TABLE IF EXISTS _mc_customer_orders_bounds;

DROP TABLE IF EXISTS _mc_customer_orders_spine;

DROP TABLE IF EXISTS _mc_customer_orders_dates;

DROP TABLE IF EXISTS _mc_customer_orders_l0;

DROP TABLE IF EXISTS _mc_customer_orders_e0;

DROP TABLE IF EXISTS _mc_customer_orders_new;
