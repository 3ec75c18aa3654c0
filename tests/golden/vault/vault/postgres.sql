CREATE SCHEMA IF NOT EXISTS vault;

CREATE TABLE IF NOT EXISTS vault.customer_hub (
  customer_hub_hk VARCHAR(64) NOT NULL,
  customer_id INT,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.order_hub (
  order_hub_hk VARCHAR(64) NOT NULL,
  order_id BIGINT,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (order_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.product_hub (
  product_hub_hk VARCHAR(64) NOT NULL,
  product_code VARCHAR(20),
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (product_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.customer_order (
  customer_order_hk VARCHAR(64) NOT NULL,
  customer_hub_hk VARCHAR(64) NOT NULL,
  order_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_order_hk)
);

CREATE TABLE IF NOT EXISTS vault.order_product (
  order_product_hk VARCHAR(64) NOT NULL,
  order_hub_hk VARCHAR(64) NOT NULL,
  product_hub_hk VARCHAR(64) NOT NULL,
  line_no INT NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (order_product_hk)
);

CREATE TABLE IF NOT EXISTS vault.customer_referral (
  customer_referral_hk VARCHAR(64) NOT NULL,
  customer_hk VARCHAR(64) NOT NULL,
  referrer_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_referral_hk)
);

CREATE TABLE IF NOT EXISTS vault.customer_details (
  customer_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  hash_diff VARCHAR(64) NOT NULL,
  full_name TEXT NOT NULL,
  email TEXT,
  segment TEXT,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault.customer_phones (
  customer_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  phone_type TEXT NOT NULL,
  hash_diff VARCHAR(64) NOT NULL,
  phone_number TEXT NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts, phone_type)
);

CREATE TABLE IF NOT EXISTS vault.order_details (
  order_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  loaded_at TIMESTAMP NOT NULL,
  hash_diff VARCHAR(64) NOT NULL,
  status TEXT NOT NULL,
  ordered_at TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (order_hub_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault.customer_order_eff (
  customer_order_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  start_ts TIMESTAMP NOT NULL,
  end_ts TIMESTAMP,
  is_active BOOLEAN NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_order_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault.customer_seen (
  customer_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault.customer_pit (
  customer_hub_hk VARCHAR(64) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_details_hk VARCHAR(64),
  customer_details_load_ts TIMESTAMP,
  customer_phones_hk VARCHAR(64),
  customer_phones_load_ts TIMESTAMP,
  PRIMARY KEY (customer_hub_hk, snapshot_date)
);

CREATE TABLE IF NOT EXISTS vault.customer_orders (
  customer_hub_hk VARCHAR(64) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_order_hk VARCHAR(64) NOT NULL,
  order_product_hk VARCHAR(64) NOT NULL,
  PRIMARY KEY (customer_hub_hk, snapshot_date, customer_order_hk, order_product_hk)
);

CREATE TEMPORARY TABLE _mc_customer_hub_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY customer_hub_hk ORDER BY record_source, _mc_src, customer_id) AS _mc_rn
  FROM (
    SELECT
      CASE
        WHEN s.customer_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.customer_id AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS customer_hub_hk,
      s.customer_id AS customer_id,
      'crm.customers' AS record_source,
      0 AS _mc_src
    FROM crm.customers AS s
    WHERE
      NOT s.customer_id IS NULL
    UNION ALL
    SELECT
      CASE
        WHEN s.customer_ref IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.customer_ref AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS customer_hub_hk,
      s.customer_ref AS customer_id,
      'shop.orders' AS record_source,
      1 AS _mc_src
    FROM shop.orders AS s
    WHERE
      NOT s.customer_ref IS NULL
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_customer_hub_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_hub AS t
    WHERE
      t.customer_hub_hk = b.customer_hub_hk
  );

INSERT INTO vault.customer_hub (
  customer_hub_hk,
  customer_id,
  load_ts,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST(NULL AS INT),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_hub AS t
    WHERE
      t.customer_hub_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.customer_hub (
  customer_hub_hk,
  customer_id,
  load_ts,
  record_source
)
SELECT
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  CAST(NULL AS INT),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_hub AS t
    WHERE
      t.customer_hub_hk = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
  );

INSERT INTO vault.customer_hub (
  customer_hub_hk,
  customer_id,
  load_ts,
  record_source
)
SELECT
  b.customer_hub_hk,
  b.customer_id,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  b.record_source
FROM _mc_customer_hub_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_hub AS t
    WHERE
      t.customer_hub_hk = b.customer_hub_hk
  );

DROP TABLE IF EXISTS _mc_customer_hub_batch;

CREATE TEMPORARY TABLE _mc_order_hub_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY order_hub_hk ORDER BY record_source, _mc_src, order_id) AS _mc_rn
  FROM (
    SELECT
      CASE
        WHEN s.order_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.order_id AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS order_hub_hk,
      s.order_id AS order_id,
      'shop.orders' AS record_source,
      0 AS _mc_src
    FROM shop.orders AS s
    WHERE
      NOT s.order_id IS NULL
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_order_hub_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.order_hub AS t
    WHERE
      t.order_hub_hk = b.order_hub_hk
  );

INSERT INTO vault.order_hub (
  order_hub_hk,
  order_id,
  load_ts,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST(NULL AS BIGINT),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.order_hub AS t
    WHERE
      t.order_hub_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.order_hub (
  order_hub_hk,
  order_id,
  load_ts,
  record_source
)
SELECT
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  CAST(NULL AS BIGINT),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.order_hub AS t
    WHERE
      t.order_hub_hk = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
  );

INSERT INTO vault.order_hub (
  order_hub_hk,
  order_id,
  load_ts,
  record_source
)
SELECT
  b.order_hub_hk,
  b.order_id,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  b.record_source
FROM _mc_order_hub_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.order_hub AS t
    WHERE
      t.order_hub_hk = b.order_hub_hk
  );

DROP TABLE IF EXISTS _mc_order_hub_batch;

CREATE TEMPORARY TABLE _mc_product_hub_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY product_hub_hk ORDER BY record_source, _mc_src, product_code) AS _mc_rn
  FROM (
    SELECT
      CASE
        WHEN s.product_code IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(
          SHA256(
            CONVERT_TO(
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
                                                                  REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_code), 'a', 'A'), 'b', 'B'), 'c', 'C'),
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
                    '\',
                    '\\'
                  ),
                  '|',
                  '\|'
                ),
                '\N'
              ),
              'UTF8'
            )
          ),
          'hex'
        )
      END AS product_hub_hk,
      s.product_code AS product_code,
      'shop' AS record_source,
      0 AS _mc_src
    FROM shop.products AS s
    WHERE
      NOT s.product_code IS NULL
    UNION ALL
    SELECT
      CASE
        WHEN s.product_code IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(
          SHA256(
            CONVERT_TO(
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
                                                                  REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_code), 'a', 'A'), 'b', 'B'), 'c', 'C'),
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
                    '\',
                    '\\'
                  ),
                  '|',
                  '\|'
                ),
                '\N'
              ),
              'UTF8'
            )
          ),
          'hex'
        )
      END AS product_hub_hk,
      s.product_code AS product_code,
      'shop' AS record_source,
      1 AS _mc_src
    FROM shop.order_lines AS s
    WHERE
      NOT s.product_code IS NULL
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_product_hub_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.product_hub AS t
    WHERE
      t.product_hub_hk = b.product_hub_hk
  );

INSERT INTO vault.product_hub (
  product_hub_hk,
  product_code,
  load_ts,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST(NULL AS TEXT),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.product_hub AS t
    WHERE
      t.product_hub_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.product_hub (
  product_hub_hk,
  product_code,
  load_ts,
  record_source
)
SELECT
  'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
  CAST(NULL AS TEXT),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.product_hub AS t
    WHERE
      t.product_hub_hk = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
  );

INSERT INTO vault.product_hub (
  product_hub_hk,
  product_code,
  load_ts,
  record_source
)
SELECT
  b.product_hub_hk,
  b.product_code,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  b.record_source
FROM _mc_product_hub_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.product_hub AS t
    WHERE
      t.product_hub_hk = b.product_hub_hk
  );

DROP TABLE IF EXISTS _mc_product_hub_batch;

CREATE TEMPORARY TABLE _mc_customer_order_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY customer_order_hk ORDER BY 1) AS _mc_rn
  FROM (
    SELECT
      ENCODE(
        SHA256(
          CONVERT_TO(
            COALESCE(CAST(s.customer_ref AS TEXT), '\N') || '|' || COALESCE(CAST(s.order_id AS TEXT), '\N'),
            'UTF8'
          )
        ),
        'hex'
      ) AS customer_order_hk,
      CASE
        WHEN s.customer_ref IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.customer_ref AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS customer_hub_hk,
      CASE
        WHEN s.order_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.order_id AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS order_hub_hk
    FROM shop.orders AS s
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_customer_order_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_order AS t
    WHERE
      t.customer_order_hk = b.customer_order_hk
  );

INSERT INTO vault.customer_order (
  customer_order_hk,
  customer_hub_hk,
  order_hub_hk,
  load_ts,
  record_source
)
SELECT
  b.customer_order_hk,
  b.customer_hub_hk,
  b.order_hub_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'shop.orders'
FROM _mc_customer_order_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_order AS t
    WHERE
      t.customer_order_hk = b.customer_order_hk
  );

DROP TABLE IF EXISTS _mc_customer_order_batch;

CREATE TEMPORARY TABLE _mc_order_product_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY order_product_hk ORDER BY 1) AS _mc_rn
  FROM (
    SELECT
      ENCODE(
        SHA256(
          CONVERT_TO(
            COALESCE(CAST(s.order_id AS TEXT), '\N') || '|' || COALESCE(
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
                                                                REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_code), 'a', 'A'), 'b', 'B'), 'c', 'C'),
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
                  '\',
                  '\\'
                ),
                '|',
                '\|'
              ),
              '\N'
            ) || '|' || COALESCE(CAST(s.line_no AS TEXT), '\N'),
            'UTF8'
          )
        ),
        'hex'
      ) AS order_product_hk,
      CASE
        WHEN s.order_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.order_id AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS order_hub_hk,
      CASE
        WHEN s.product_code IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(
          SHA256(
            CONVERT_TO(
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
                                                                  REPLACE(REPLACE(REPLACE(TRIM(' ' FROM s.product_code), 'a', 'A'), 'b', 'B'), 'c', 'C'),
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
                    '\',
                    '\\'
                  ),
                  '|',
                  '\|'
                ),
                '\N'
              ),
              'UTF8'
            )
          ),
          'hex'
        )
      END AS product_hub_hk,
      s.line_no AS line_no
    FROM shop.order_lines AS s
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_order_product_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.order_product AS t
    WHERE
      t.order_product_hk = b.order_product_hk
  );

INSERT INTO vault.order_product (
  order_product_hk,
  order_hub_hk,
  product_hub_hk,
  line_no,
  load_ts,
  record_source
)
SELECT
  b.order_product_hk,
  b.order_hub_hk,
  b.product_hub_hk,
  b.line_no,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'shop.order_lines'
FROM _mc_order_product_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.order_product AS t
    WHERE
      t.order_product_hk = b.order_product_hk
  );

DROP TABLE IF EXISTS _mc_order_product_batch;

CREATE TEMPORARY TABLE _mc_customer_referral_batch AS
SELECT
  *
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY customer_referral_hk ORDER BY 1) AS _mc_rn
  FROM (
    SELECT
      ENCODE(
        SHA256(
          CONVERT_TO(
            COALESCE(CAST(s.customer_id AS TEXT), '\N') || '|' || COALESCE(CAST(s.referred_by AS TEXT), '\N'),
            'UTF8'
          )
        ),
        'hex'
      ) AS customer_referral_hk,
      CASE
        WHEN s.customer_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.customer_id AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS customer_hk,
      CASE
        WHEN s.referred_by IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.referred_by AS TEXT), '\N'), 'UTF8')), 'hex')
      END AS referrer_hk
    FROM crm.customers AS s
  ) AS u
) AS r
WHERE
  _mc_rn = 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_customer_referral_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_referral AS t
    WHERE
      t.customer_referral_hk = b.customer_referral_hk
  );

INSERT INTO vault.customer_referral (
  customer_referral_hk,
  customer_hk,
  referrer_hk,
  load_ts,
  record_source
)
SELECT
  b.customer_referral_hk,
  b.customer_hk,
  b.referrer_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'crm.customers'
FROM _mc_customer_referral_batch AS b
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_referral AS t
    WHERE
      t.customer_referral_hk = b.customer_referral_hk
  );

DROP TABLE IF EXISTS _mc_customer_referral_batch;

CREATE TEMPORARY TABLE _mc_customer_details_batch AS
SELECT DISTINCT
  CASE
    WHEN s.customer_id IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.customer_id AS TEXT), '\N'), 'UTF8')), 'hex')
  END AS customer_hub_hk,
  ENCODE(
    SHA256(
      CONVERT_TO(
        CASE
          WHEN s.full_name IS NULL AND s.email IS NULL AND s.segment IS NULL
          THEN ''
          ELSE COALESCE(REPLACE(REPLACE(s.full_name, '\', '\\'), '|', '\|'), '\N') || CASE
            WHEN s.email IS NULL AND s.segment IS NULL
            THEN ''
            ELSE '|' || COALESCE(REPLACE(REPLACE(s.email, '\', '\\'), '|', '\|'), '\N') || CASE
              WHEN s.segment IS NULL
              THEN ''
              ELSE '|' || COALESCE(REPLACE(REPLACE(s.segment, '\', '\\'), '|', '\|'), '\N')
            END
          END
        END,
        'UTF8'
      )
    ),
    'hex'
  ) AS hash_diff,
  s.full_name AS full_name,
  s.email AS email,
  s.segment AS segment
FROM crm.customers AS s
WHERE
  NOT (
    s.customer_id IS NULL
  );

SELECT
  customer_hub_hk
FROM _mc_customer_details_batch
GROUP BY
  customer_hub_hk
HAVING
  COUNT(*) > 1;

CREATE TEMPORARY TABLE _mc_customer_details_new AS
SELECT
  b.*
FROM _mc_customer_details_batch AS b
LEFT JOIN (
  SELECT
    customer_hub_hk,
    hash_diff
  FROM (
    SELECT
      t.customer_hub_hk,
      t.hash_diff,
      ROW_NUMBER() OVER (PARTITION BY t.customer_hub_hk ORDER BY t.load_ts DESC NULLS LAST) AS _mc_r
    FROM vault.customer_details AS t
    WHERE
      t.customer_hub_hk IN (
        SELECT
          customer_hub_hk
        FROM _mc_customer_details_batch
      )
  ) AS r
  WHERE
    _mc_r = 1
) AS l
  ON l.customer_hub_hk = b.customer_hub_hk
WHERE
  l.customer_hub_hk IS NULL OR l.hash_diff <> b.hash_diff;

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

INSERT INTO vault.customer_details (
  customer_hub_hk,
  load_ts,
  hash_diff,
  full_name,
  email,
  segment,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('' AS TEXT),
  CAST(NULL AS TEXT),
  CAST(NULL AS TEXT),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_details AS t
    WHERE
      t.customer_hub_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.customer_details (
  customer_hub_hk,
  load_ts,
  hash_diff,
  full_name,
  email,
  segment,
  record_source
)
SELECT
  b.customer_hub_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  b.hash_diff,
  b.full_name,
  b.email,
  b.segment,
  'crm.customers'
FROM _mc_customer_details_new AS b;

DROP TABLE IF EXISTS _mc_customer_details_new;

DROP TABLE IF EXISTS _mc_customer_details_batch;

CREATE TEMPORARY TABLE _mc_customer_phones_batch AS
SELECT DISTINCT
  CASE
    WHEN s.customer_id IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.customer_id AS TEXT), '\N'), 'UTF8')), 'hex')
  END AS customer_hub_hk,
  ENCODE(
    SHA256(
      CONVERT_TO(
        CASE
          WHEN s.phone_number IS NULL
          THEN ''
          ELSE COALESCE(REPLACE(REPLACE(s.phone_number, '\', '\\'), '|', '\|'), '\N')
        END,
        'UTF8'
      )
    ),
    'hex'
  ) AS hash_diff,
  s.phone_type AS phone_type,
  s.phone_number AS phone_number
FROM crm.customer_phones AS s
WHERE
  NOT (
    s.customer_id IS NULL
  );

SELECT
  customer_hub_hk,
  phone_type
FROM _mc_customer_phones_batch
GROUP BY
  customer_hub_hk,
  phone_type
HAVING
  COUNT(*) > 1;

CREATE TEMPORARY TABLE _mc_customer_phones_latest AS
SELECT
  customer_hub_hk,
  phone_type,
  hash_diff
FROM (
  SELECT
    t.*,
    RANK() OVER (PARTITION BY t.customer_hub_hk ORDER BY t.load_ts DESC NULLS LAST) AS _mc_r
  FROM vault.customer_phones AS t
  WHERE
    t.customer_hub_hk IN (
      SELECT
        customer_hub_hk
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
  customer_hub_hk IN (
    SELECT
      customer_hub_hk
    FROM (
      SELECT
        customer_hub_hk,
        phone_type,
        hash_diff
      FROM _mc_customer_phones_batch
      EXCEPT
      SELECT
        customer_hub_hk,
        phone_type,
        hash_diff
      FROM _mc_customer_phones_latest
    ) AS a
    UNION
    SELECT
      customer_hub_hk
    FROM (
      SELECT
        customer_hub_hk,
        phone_type,
        hash_diff
      FROM _mc_customer_phones_latest
      EXCEPT
      SELECT
        customer_hub_hk,
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
    FROM crm.customer_phones AS s
    WHERE
      s.customer_id IS NULL
  ) AS rejected;

INSERT INTO vault.customer_phones (
  customer_hub_hk,
  load_ts,
  phone_type,
  hash_diff,
  phone_number,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  CAST('' AS TEXT),
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('' AS TEXT),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_phones AS t
    WHERE
      t.customer_hub_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.customer_phones (
  customer_hub_hk,
  load_ts,
  phone_type,
  hash_diff,
  phone_number,
  record_source
)
SELECT
  b.customer_hub_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  b.phone_type,
  b.hash_diff,
  b.phone_number,
  'crm.customer_phones'
FROM _mc_customer_phones_new AS b;

DROP TABLE IF EXISTS _mc_customer_phones_new;

DROP TABLE IF EXISTS _mc_customer_phones_latest;

DROP TABLE IF EXISTS _mc_customer_phones_batch;

CREATE TEMPORARY TABLE _mc_order_details_batch AS
SELECT DISTINCT
  CASE
    WHEN s.order_id IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.order_id AS TEXT), '\N'), 'UTF8')), 'hex')
  END AS order_hub_hk,
  ENCODE(
    SHA256(
      CONVERT_TO(
        CASE
          WHEN s.status IS NULL AND s.ordered_at IS NULL
          THEN ''
          ELSE COALESCE(REPLACE(REPLACE(s.status, '\', '\\'), '|', '\|'), '\N') || CASE
            WHEN s.ordered_at IS NULL
            THEN ''
            ELSE '|' || COALESCE(
              TO_CHAR(s.ordered_at, 'YYYY-MM-DD HH24:') || LPAD(CAST(EXTRACT(MINUTE FROM s.ordered_at) AS TEXT), 2, '0') || TO_CHAR(s.ordered_at, ':SS.US'),
              '\N'
            )
          END
        END,
        'UTF8'
      )
    ),
    'hex'
  ) AS hash_diff,
  s.loaded_at AS loaded_at,
  s.status AS status,
  s.ordered_at AS ordered_at
FROM shop.orders AS s
WHERE
  NOT (
    (
      s.order_id IS NULL
    ) OR s.loaded_at IS NULL
  );

SELECT
  order_hub_hk,
  loaded_at
FROM _mc_order_details_batch
GROUP BY
  order_hub_hk,
  loaded_at
HAVING
  COUNT(*) > 1;

CREATE TEMPORARY TABLE _mc_order_details_hist AS
SELECT
  t.order_hub_hk,
  t.loaded_at,
  t.hash_diff,
  LEAD(t.loaded_at) OVER (PARTITION BY t.order_hub_hk ORDER BY t.load_ts) AS _mc_next,
  ROW_NUMBER() OVER (PARTITION BY t.order_hub_hk ORDER BY t.load_ts DESC NULLS LAST) AS _mc_last
FROM vault.order_details AS t
WHERE
  t.order_hub_hk IN (
    SELECT
      order_hub_hk
    FROM _mc_order_details_batch
  );

CREATE TEMPORARY TABLE _mc_order_details_cls AS
SELECT
  b.*,
  l.loaded_at AS _mc_latest,
  CASE
    WHEN l.loaded_at IS NULL OR b.loaded_at > l.loaded_at
    THEN 'delta'
    WHEN EXISTS(
      SELECT
        1
      FROM _mc_order_details_hist AS e
      WHERE
        e.order_hub_hk = b.order_hub_hk
        AND e.loaded_at <= b.loaded_at
        AND (
          e._mc_next IS NULL OR b.loaded_at < e._mc_next
        )
        AND e.hash_diff = b.hash_diff
    )
    THEN 'known'
    ELSE 'late'
  END AS _mc_class
FROM _mc_order_details_batch AS b
LEFT JOIN _mc_order_details_hist AS l
  ON l.order_hub_hk = b.order_hub_hk AND l._mc_last = 1;

CREATE TEMPORARY TABLE _mc_order_details_new AS
SELECT
  c.*,
  ROW_NUMBER() OVER (PARTITION BY c.order_hub_hk ORDER BY c.loaded_at) - 1 AS _mc_seq
FROM _mc_order_details_cls AS c
JOIN (
  SELECT
    order_hub_hk,
    loaded_at,
    _mc_new
  FROM (
    SELECT
      order_hub_hk,
      loaded_at,
      _mc_new,
      hash_diff,
      LAG(hash_diff) OVER (PARTITION BY order_hub_hk ORDER BY loaded_at) AS _mc_prev
    FROM (
      SELECT
        order_hub_hk,
        loaded_at,
        hash_diff,
        1 AS _mc_new
      FROM _mc_order_details_cls
      WHERE
        _mc_class = 'delta'
      UNION ALL
      SELECT
        order_hub_hk,
        loaded_at,
        hash_diff,
        0 AS _mc_new
      FROM _mc_order_details_hist
      WHERE
        _mc_last = 1
    ) AS u
  ) AS w
  WHERE
    _mc_new = 1 AND (
      _mc_prev IS NULL OR _mc_prev <> hash_diff
    )
) AS d
  ON d.order_hub_hk = c.order_hub_hk AND d.loaded_at = c.loaded_at;

SELECT
  order_hub_hk,
  loaded_at
FROM _mc_order_details_cls
WHERE
  _mc_class = 'late'
ORDER BY
  order_hub_hk,
  loaded_at
LIMIT 11;

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_order_details_new
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM shop.orders AS s
    WHERE
      (
        (
          s.order_id IS NULL
        ) OR s.loaded_at IS NULL
      )
  ) AS rejected,
  (
    SELECT
      COUNT(*)
    FROM (
      SELECT
        order_hub_hk,
        loaded_at
      FROM _mc_order_details_cls
      WHERE
        _mc_class = 'late'
    ) AS x
  ) AS late;

INSERT INTO vault.order_details (
  order_hub_hk,
  load_ts,
  loaded_at,
  hash_diff,
  status,
  ordered_at,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('' AS TEXT),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.order_details AS t
    WHERE
      t.order_hub_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.order_details (
  order_hub_hk,
  load_ts,
  loaded_at,
  hash_diff,
  status,
  ordered_at,
  record_source
)
SELECT
  b.order_hub_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP) + INTERVAL '1 MICROSECOND' * b._mc_seq,
  b.loaded_at,
  b.hash_diff,
  b.status,
  b.ordered_at,
  'shop.orders'
FROM _mc_order_details_new AS b;

DROP TABLE IF EXISTS _mc_order_details_new;

DROP TABLE IF EXISTS _mc_order_details_cls;

DROP TABLE IF EXISTS _mc_order_details_hist;

DROP TABLE IF EXISTS _mc_order_details_batch;

CREATE TEMPORARY TABLE _mc_customer_order_eff_batch AS
SELECT DISTINCT
  ENCODE(
    SHA256(
      CONVERT_TO(
        COALESCE(CAST(s.customer_ref AS TEXT), '\N') || '|' || COALESCE(CAST(s.order_id AS TEXT), '\N'),
        'UTF8'
      )
    ),
    'hex'
  ) AS customer_order_hk,
  CASE
    WHEN s.order_id IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.order_id AS TEXT), '\N'), 'UTF8')), 'hex')
  END AS _mc_driving_hk
FROM shop.orders AS s
WHERE
  (
    NOT s.order_id IS NULL
  );

SELECT
  _mc_driving_hk,
  COUNT(*) AS links
FROM _mc_customer_order_eff_batch
GROUP BY
  _mc_driving_hk
HAVING
  COUNT(*) > 1;

CREATE TEMPORARY TABLE _mc_customer_order_eff_current AS
SELECT
  c.customer_order_hk,
  c.start_ts,
  c.is_active
FROM (
  SELECT
    t.customer_order_hk,
    t.start_ts,
    t.is_active,
    ROW_NUMBER() OVER (PARTITION BY t.customer_order_hk ORDER BY t.load_ts DESC NULLS LAST) AS _mc_rn
  FROM vault.customer_order_eff AS t
  WHERE
    t.customer_order_hk IN (
      SELECT
        b.customer_order_hk
      FROM _mc_customer_order_eff_batch AS b
    )
    OR t.customer_order_hk IN (
      SELECT
        k.customer_order_hk
      FROM vault.customer_order AS k
      WHERE
        k.order_hub_hk IN (
          SELECT
            b._mc_driving_hk
          FROM _mc_customer_order_eff_batch AS b
        )
    )
) AS c
WHERE
  c._mc_rn = 1;

SELECT
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_order_eff_batch AS b
    WHERE
      NOT b.customer_order_hk IN (
        SELECT
          c.customer_order_hk
        FROM _mc_customer_order_eff_current AS c
        WHERE
          c.is_active = TRUE
      )
  ) AS inserted,
  (
    SELECT
      COUNT(*)
    FROM _mc_customer_order_eff_current AS c
    WHERE
      c.is_active = TRUE
      AND NOT c.customer_order_hk IN (
        SELECT
          b.customer_order_hk
        FROM _mc_customer_order_eff_batch AS b
      )
  ) AS closed,
  (
    SELECT
      COUNT(*)
    FROM shop.orders AS s
    WHERE
      NOT (
        NOT s.order_id IS NULL
      )
  ) AS rejected;

INSERT INTO vault.customer_order_eff (
  customer_order_hk,
  load_ts,
  start_ts,
  end_ts,
  is_active,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  CAST(NULL AS TIMESTAMP),
  FALSE,
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_order_eff AS t
    WHERE
      t.customer_order_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.customer_order_eff (
  customer_order_hk,
  load_ts,
  start_ts,
  end_ts,
  is_active,
  record_source
)
SELECT
  c.customer_order_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  c.start_ts,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  FALSE,
  'shop.orders'
FROM _mc_customer_order_eff_current AS c
WHERE
  c.is_active = TRUE
  AND NOT c.customer_order_hk IN (
    SELECT
      b.customer_order_hk
    FROM _mc_customer_order_eff_batch AS b
  );

INSERT INTO vault.customer_order_eff (
  customer_order_hk,
  load_ts,
  start_ts,
  end_ts,
  is_active,
  record_source
)
SELECT
  b.customer_order_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  NULL,
  TRUE,
  'shop.orders'
FROM _mc_customer_order_eff_batch AS b
WHERE
  NOT b.customer_order_hk IN (
    SELECT
      c.customer_order_hk
    FROM _mc_customer_order_eff_current AS c
    WHERE
      c.is_active = TRUE
  );

DROP TABLE IF EXISTS _mc_customer_order_eff_batch;

DROP TABLE IF EXISTS _mc_customer_order_eff_current;

CREATE TEMPORARY TABLE _mc_customer_seen_batch AS
SELECT DISTINCT
  CASE
    WHEN s.customer_id IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE ENCODE(SHA256(CONVERT_TO(COALESCE(CAST(s.customer_id AS TEXT), '\N'), 'UTF8')), 'hex')
  END AS customer_hub_hk
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
      NOT b.customer_hub_hk IN (
        SELECT
          t.customer_hub_hk
        FROM vault.customer_seen AS t
        WHERE
          t.load_ts = CAST(CURRENT_TIMESTAMP AS TIMESTAMP)
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

INSERT INTO vault.customer_seen (
  customer_hub_hk,
  load_ts,
  record_source
)
SELECT
  '0000000000000000000000000000000000000000000000000000000000000000',
  CAST('1900-01-01 00:00:00' AS TIMESTAMP),
  'SYSTEM'
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM vault.customer_seen AS t
    WHERE
      t.customer_hub_hk = '0000000000000000000000000000000000000000000000000000000000000000'
  );

INSERT INTO vault.customer_seen (
  customer_hub_hk,
  load_ts,
  record_source
)
SELECT
  b.customer_hub_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  'crm.customers'
FROM _mc_customer_seen_batch AS b
WHERE
  NOT b.customer_hub_hk IN (
    SELECT
      t.customer_hub_hk
    FROM vault.customer_seen AS t
    WHERE
      t.load_ts = CAST(CURRENT_TIMESTAMP AS TIMESTAMP)
  );

DROP TABLE IF EXISTS _mc_customer_seen_batch;

CREATE TEMPORARY TABLE _mc_customer_pit_bounds AS
SELECT
  c._mc_start,
  c._mc_end,
  c._mc_first,
  CAST(EXTRACT(epoch FROM CAST(c._mc_end AS TIMESTAMP) - CAST(c._mc_start AS TIMESTAMP)) / 86400 AS BIGINT) AS _mc_steps
FROM (
  SELECT
    CAST(CAST('2024-01-01' AS DATE) AS DATE) AS _mc_start,
    CAST(CASE
      WHEN CAST('2024-12-31' AS DATE) < CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
      THEN CAST('2024-12-31' AS DATE)
      ELSE CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    END AS DATE) AS _mc_end,
    f._mc_h AS _mc_first
  FROM (
    SELECT
      (
        SELECT
          MIN(CAST(t.load_ts AS DATE))
        FROM vault.customer_hub AS t
        WHERE
          t.customer_hub_hk <> '0000000000000000000000000000000000000000000000000000000000000000'
          AND t.customer_hub_hk <> 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
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
    CAST(b._mc_start + INTERVAL '1 DAY' * g._mc_n AS DATE) AS _mc_d,
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
  CAST(s._mc_d + INTERVAL '1 DAY' AS TIMESTAMP) AS _mc_next
FROM _mc_customer_pit_spine AS s, _mc_customer_pit_bounds AS b
WHERE
  s._mc_d >= b._mc_first
  AND (
    s._mc_d >= CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    OR s._mc_d = (
      SELECT
        MAX(x.snapshot_date)
      FROM vault.customer_pit AS x
      WHERE
        x.snapshot_date < CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    )
    OR NOT s._mc_d IN (
      SELECT
        t.snapshot_date
      FROM vault.customer_pit AS t
    )
  );

CREATE TEMPORARY TABLE _mc_customer_pit_grid AS
SELECT
  k.customer_hub_hk,
  d._mc_d,
  d._mc_next
FROM vault.customer_hub AS k, _mc_customer_pit_dates AS d
WHERE
  k.customer_hub_hk <> '0000000000000000000000000000000000000000000000000000000000000000'
  AND k.customer_hub_hk <> 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
  AND k.load_ts < d._mc_next;

CREATE TEMPORARY TABLE _mc_customer_pit_new AS
SELECT
  a.customer_hub_hk,
  a._mc_d AS snapshot_date,
  CASE
    WHEN a._mc_ts0 IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE a.customer_hub_hk
  END AS customer_details_hk,
  COALESCE(a._mc_ts0, CAST('1900-01-01 00:00:00' AS TIMESTAMP)) AS customer_details_load_ts,
  CASE
    WHEN a._mc_ts1 IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE a.customer_hub_hk
  END AS customer_phones_hk,
  COALESCE(a._mc_ts1, CAST('1900-01-01 00:00:00' AS TIMESTAMP)) AS customer_phones_load_ts
FROM (
  SELECT
    u.customer_hub_hk,
    u._mc_d,
    MAX(CASE WHEN u._mc_sat = 0 THEN u._mc_ts END) AS _mc_ts0,
    MAX(CASE WHEN u._mc_sat = 1 THEN u._mc_ts END) AS _mc_ts1
  FROM (
    SELECT
      g.customer_hub_hk,
      g._mc_d,
      -1 AS _mc_sat,
      g._mc_next AS _mc_ts
    FROM _mc_customer_pit_grid AS g
    UNION ALL
    SELECT
      g.customer_hub_hk,
      g._mc_d,
      0 AS _mc_sat,
      x.load_ts AS _mc_ts
    FROM _mc_customer_pit_grid AS g
    JOIN vault.customer_details AS x
      ON x.customer_hub_hk = g.customer_hub_hk
    WHERE
      x.load_ts < g._mc_next
    UNION ALL
    SELECT
      g.customer_hub_hk,
      g._mc_d,
      1 AS _mc_sat,
      x.load_ts AS _mc_ts
    FROM _mc_customer_pit_grid AS g
    JOIN vault.customer_phones AS x
      ON x.customer_hub_hk = g.customer_hub_hk
    WHERE
      x.load_ts < g._mc_next
  ) AS u
  GROUP BY
    u.customer_hub_hk,
    u._mc_d
) AS a;

SELECT
  SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 0 THEN 1 ELSE 0 END) AS inserted,
  SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 1 AND k._mc_same = 0 THEN 1 ELSE 0 END) AS updated,
  SUM(CASE WHEN k._mc_n = 0 AND k._mc_o = 1 THEN 1 ELSE 0 END) AS deleted
FROM (
  SELECT
    r.customer_hub_hk,
    r.snapshot_date,
    MAX(r._mc_n) AS _mc_n,
    MAX(r._mc_o) AS _mc_o,
    MAX(r._mc_n * r._mc_o) AS _mc_same
  FROM (
    SELECT
      v.customer_hub_hk,
      v.snapshot_date,
      v.customer_details_hk,
      v.customer_details_load_ts,
      v.customer_phones_hk,
      v.customer_phones_load_ts,
      MAX(v._mc_n) AS _mc_n,
      MAX(v._mc_o) AS _mc_o
    FROM (
      SELECT
        customer_hub_hk,
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
        t.customer_hub_hk,
        t.snapshot_date,
        t.customer_details_hk,
        t.customer_details_load_ts,
        t.customer_phones_hk,
        t.customer_phones_load_ts,
        0 AS _mc_n,
        1 AS _mc_o
      FROM vault.customer_pit AS t
      WHERE
        (
          t.snapshot_date >= CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
          OR t.snapshot_date = (
            SELECT
              MAX(x.snapshot_date)
            FROM vault.customer_pit AS x
            WHERE
              x.snapshot_date < CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
          )
          OR t.snapshot_date < CAST('2024-01-01' AS DATE)
          OR t.snapshot_date > CAST('2024-12-31' AS DATE)
        )
    ) AS v
    GROUP BY
      v.customer_hub_hk,
      v.snapshot_date,
      v.customer_details_hk,
      v.customer_details_load_ts,
      v.customer_phones_hk,
      v.customer_phones_load_ts
  ) AS r
  GROUP BY
    r.customer_hub_hk,
    r.snapshot_date
) AS k;

DELETE FROM vault.customer_pit
WHERE
  (
    snapshot_date >= CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    OR snapshot_date = (
      SELECT
        MAX(x.snapshot_date)
      FROM vault.customer_pit AS x
      WHERE
        x.snapshot_date < CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    )
    OR snapshot_date < CAST('2024-01-01' AS DATE)
    OR snapshot_date > CAST('2024-12-31' AS DATE)
  );

INSERT INTO vault.customer_pit (
  customer_hub_hk,
  snapshot_date,
  customer_details_hk,
  customer_details_load_ts,
  customer_phones_hk,
  customer_phones_load_ts
)
SELECT
  customer_hub_hk,
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
  CAST(EXTRACT(epoch FROM CAST(c._mc_end AS TIMESTAMP) - CAST(c._mc_start AS TIMESTAMP)) / 86400 AS BIGINT) AS _mc_steps
FROM (
  SELECT
    CAST(f._mc_h AS DATE) AS _mc_start,
    CAST(CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE) AS DATE) AS _mc_end,
    (
      SELECT
        MAX(m._mc_f)
      FROM (
        SELECT
          MIN(CAST(t.load_ts AS DATE)) AS _mc_f
        FROM vault.customer_order AS t
        UNION ALL
        SELECT
          MIN(CAST(t.load_ts AS DATE)) AS _mc_f
        FROM vault.order_product AS t
      ) AS m
    ) AS _mc_first
  FROM (
    SELECT
      (
        SELECT
          MIN(CAST(t.load_ts AS DATE))
        FROM vault.customer_hub AS t
        WHERE
          t.customer_hub_hk <> '0000000000000000000000000000000000000000000000000000000000000000'
          AND t.customer_hub_hk <> 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
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
    CAST(b._mc_start + INTERVAL '1 DAY' * g._mc_n AS DATE) AS _mc_d,
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
  CAST(s._mc_d + INTERVAL '1 DAY' AS TIMESTAMP) AS _mc_next
FROM _mc_customer_orders_spine AS s, _mc_customer_orders_bounds AS b
WHERE
  s._mc_d >= b._mc_first
  AND (
    s._mc_d >= CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    OR s._mc_d = (
      SELECT
        MAX(x.snapshot_date)
      FROM vault.customer_orders AS x
      WHERE
        x.snapshot_date < CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    )
    OR NOT s._mc_d IN (
      SELECT
        t.snapshot_date
      FROM vault.customer_orders AS t
    )
  );

CREATE TEMPORARY TABLE _mc_customer_orders_e0 AS
SELECT
  x._mc_hk,
  x._mc_d
FROM (
  SELECT
    e.customer_order_hk AS _mc_hk,
    d._mc_d,
    e.is_active AS _mc_on,
    ROW_NUMBER() OVER (PARTITION BY e.customer_order_hk, d._mc_d ORDER BY e.load_ts DESC NULLS LAST) AS _mc_rn
  FROM vault.customer_order_eff AS e, _mc_customer_orders_dates AS d
  WHERE
    e.load_ts < d._mc_next
) AS x
WHERE
  x._mc_rn = 1 AND NOT x._mc_on;

CREATE TEMPORARY TABLE _mc_customer_orders_l0 AS
SELECT
  w._mc_hk,
  w.customer_hub_hk,
  w.order_hub_hk,
  w._mc_d
FROM (
  SELECT
    v.*,
    0 AS _mc_end
  FROM (
    SELECT
      l.customer_order_hk AS _mc_hk,
      l.customer_hub_hk,
      l.order_hub_hk,
      d._mc_d
    FROM vault.customer_order AS l, _mc_customer_orders_dates AS d
    WHERE
      l.load_ts < d._mc_next
  ) AS v
  UNION ALL
  SELECT
    l.customer_order_hk AS _mc_hk,
    l.customer_hub_hk,
    l.order_hub_hk,
    x._mc_d,
    1 AS _mc_end
  FROM vault.customer_order AS l
  JOIN _mc_customer_orders_e0 AS x
    ON x._mc_hk = l.customer_order_hk
) AS w
GROUP BY
  w._mc_hk,
  w.customer_hub_hk,
  w.order_hub_hk,
  w._mc_d
HAVING
  MAX(w._mc_end) = 0;

CREATE TEMPORARY TABLE _mc_customer_orders_l1 AS
SELECT
  l.order_product_hk AS _mc_hk,
  l.order_hub_hk,
  l.product_hub_hk,
  d._mc_d
FROM vault.order_product AS l, _mc_customer_orders_dates AS d
WHERE
  l.load_ts < d._mc_next;

CREATE TEMPORARY TABLE _mc_customer_orders_new AS
SELECT
  a0.customer_hub_hk AS customer_hub_hk,
  a0._mc_d AS snapshot_date,
  a0._mc_hk AS customer_order_hk,
  a1._mc_hk AS order_product_hk
FROM _mc_customer_orders_l0 AS a0
JOIN _mc_customer_orders_l1 AS a1
  ON a1._mc_d = a0._mc_d AND a1.order_hub_hk = a0.order_hub_hk
WHERE
  a0.customer_hub_hk <> '0000000000000000000000000000000000000000000000000000000000000000'
  AND a0.customer_hub_hk <> 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
  AND a1.order_hub_hk <> '0000000000000000000000000000000000000000000000000000000000000000'
  AND a1.order_hub_hk <> 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff';

SELECT
  SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 0 THEN 1 ELSE 0 END) AS inserted,
  SUM(CASE WHEN k._mc_n = 0 AND k._mc_o = 1 THEN 1 ELSE 0 END) AS deleted
FROM (
  SELECT
    r.customer_hub_hk,
    r.snapshot_date,
    r.customer_order_hk,
    r.order_product_hk,
    MAX(r._mc_n) AS _mc_n,
    MAX(r._mc_o) AS _mc_o,
    MAX(r._mc_n * r._mc_o) AS _mc_same
  FROM (
    SELECT
      v.customer_hub_hk,
      v.snapshot_date,
      v.customer_order_hk,
      v.order_product_hk,
      MAX(v._mc_n) AS _mc_n,
      MAX(v._mc_o) AS _mc_o
    FROM (
      SELECT
        customer_hub_hk,
        snapshot_date,
        customer_order_hk,
        order_product_hk,
        1 AS _mc_n,
        0 AS _mc_o
      FROM _mc_customer_orders_new
      UNION ALL
      SELECT
        t.customer_hub_hk,
        t.snapshot_date,
        t.customer_order_hk,
        t.order_product_hk,
        0 AS _mc_n,
        1 AS _mc_o
      FROM vault.customer_orders AS t
      WHERE
        (
          t.snapshot_date >= CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
          OR t.snapshot_date = (
            SELECT
              MAX(x.snapshot_date)
            FROM vault.customer_orders AS x
            WHERE
              x.snapshot_date < CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
          )
        )
    ) AS v
    GROUP BY
      v.customer_hub_hk,
      v.snapshot_date,
      v.customer_order_hk,
      v.order_product_hk
  ) AS r
  GROUP BY
    r.customer_hub_hk,
    r.snapshot_date,
    r.customer_order_hk,
    r.order_product_hk
) AS k;

DELETE FROM vault.customer_orders
WHERE
  (
    snapshot_date >= CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    OR snapshot_date = (
      SELECT
        MAX(x.snapshot_date)
      FROM vault.customer_orders AS x
      WHERE
        x.snapshot_date < CAST(CAST(CURRENT_TIMESTAMP AS TIMESTAMP) AS DATE)
    )
  );

INSERT INTO vault.customer_orders (
  customer_hub_hk,
  snapshot_date,
  customer_order_hk,
  order_product_hk
)
SELECT
  customer_hub_hk,
  snapshot_date,
  customer_order_hk,
  order_product_hk
FROM _mc_customer_orders_new;

DROP TABLE IF EXISTS _mc_customer_orders_bounds;

DROP TABLE IF EXISTS _mc_customer_orders_spine;

DROP TABLE IF EXISTS _mc_customer_orders_dates;

DROP TABLE IF EXISTS _mc_customer_orders_l0;

DROP TABLE IF EXISTS _mc_customer_orders_e0;

DROP TABLE IF EXISTS _mc_customer_orders_l1;

DROP TABLE IF EXISTS _mc_customer_orders_new;
