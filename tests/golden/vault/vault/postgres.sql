CREATE SCHEMA IF NOT EXISTS vault;

CREATE TABLE IF NOT EXISTS vault.customer_hub (
  customer_hub_hk VARCHAR(64) NOT NULL,
  customer_id INT NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.order_hub (
  order_hub_hk VARCHAR(64) NOT NULL,
  order_id BIGINT NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (order_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.product_hub (
  product_hub_hk VARCHAR(64) NOT NULL,
  product_code VARCHAR(20) NOT NULL,
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
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.customer_id AS TEXT), '\N'))))
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
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.customer_ref AS TEXT), '\N'))))
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
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.order_id AS TEXT), '\N'))))
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
        ELSE LOWER(
          HEX(
            SHA256(
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
              )
            )
          )
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
        ELSE LOWER(
          HEX(
            SHA256(
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
              )
            )
          )
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
      LOWER(
        HEX(
          SHA256(
            COALESCE(CAST(s.customer_ref AS TEXT), '\N') || '|' || COALESCE(CAST(s.order_id AS TEXT), '\N')
          )
        )
      ) AS customer_order_hk,
      CASE
        WHEN s.customer_ref IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.customer_ref AS TEXT), '\N'))))
      END AS customer_hub_hk,
      CASE
        WHEN s.order_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.order_id AS TEXT), '\N'))))
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
      LOWER(
        HEX(
          SHA256(
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
            ) || '|' || COALESCE(CAST(s.line_no AS TEXT), '\N')
          )
        )
      ) AS order_product_hk,
      CASE
        WHEN s.order_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.order_id AS TEXT), '\N'))))
      END AS order_hub_hk,
      CASE
        WHEN s.product_code IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE LOWER(
          HEX(
            SHA256(
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
              )
            )
          )
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
      LOWER(
        HEX(
          SHA256(
            COALESCE(CAST(s.customer_id AS TEXT), '\N') || '|' || COALESCE(CAST(s.referred_by AS TEXT), '\N')
          )
        )
      ) AS customer_referral_hk,
      CASE
        WHEN s.customer_id IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.customer_id AS TEXT), '\N'))))
      END AS customer_hk,
      CASE
        WHEN s.referred_by IS NULL
        THEN '0000000000000000000000000000000000000000000000000000000000000000'
        ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.referred_by AS TEXT), '\N'))))
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
    ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.customer_id AS TEXT), '\N'))))
  END AS customer_hub_hk,
  LOWER(
    HEX(
      SHA256(
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
        END
      )
    )
  ) AS hash_diff,
  s.full_name AS full_name,
  s.email AS email,
  s.segment AS segment
FROM crm.customers AS s;

SELECT
  customer_hub_hk
FROM _mc_customer_details_batch
GROUP BY
  customer_hub_hk
HAVING
  COUNT(*) > 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_customer_details_batch AS b
WHERE
  b.customer_hub_hk IN (
    SELECT DISTINCT
      b.customer_hub_hk
    FROM _mc_customer_details_batch AS b
    WHERE
      (
        SELECT
          COUNT(*)
        FROM _mc_customer_details_batch AS b1
        WHERE
          b1.customer_hub_hk = b.customer_hub_hk
      ) <> (
        SELECT
          COUNT(*)
        FROM (
          SELECT
            t.*
          FROM vault.customer_details AS t
          WHERE
            t.load_ts = (
              SELECT
                MAX(m.load_ts)
              FROM vault.customer_details AS m
              WHERE
                m.customer_hub_hk = t.customer_hub_hk
            )
        ) AS l1
        WHERE
          l1.customer_hub_hk = b.customer_hub_hk
      )
      OR EXISTS(
        SELECT
          1
        FROM _mc_customer_details_batch AS b2
        WHERE
          b2.customer_hub_hk = b.customer_hub_hk
          AND NOT EXISTS(
            SELECT
              1
            FROM (
              SELECT
                t.*
              FROM vault.customer_details AS t
              WHERE
                t.load_ts = (
                  SELECT
                    MAX(m.load_ts)
                  FROM vault.customer_details AS m
                  WHERE
                    m.customer_hub_hk = t.customer_hub_hk
                )
            ) AS l
            WHERE
              l.customer_hub_hk = b2.customer_hub_hk AND l.hash_diff = b2.hash_diff
          )
      )
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
FROM _mc_customer_details_batch AS b
WHERE
  b.customer_hub_hk IN (
    SELECT DISTINCT
      b.customer_hub_hk
    FROM _mc_customer_details_batch AS b
    WHERE
      (
        SELECT
          COUNT(*)
        FROM _mc_customer_details_batch AS b1
        WHERE
          b1.customer_hub_hk = b.customer_hub_hk
      ) <> (
        SELECT
          COUNT(*)
        FROM (
          SELECT
            t.*
          FROM vault.customer_details AS t
          WHERE
            t.load_ts = (
              SELECT
                MAX(m.load_ts)
              FROM vault.customer_details AS m
              WHERE
                m.customer_hub_hk = t.customer_hub_hk
            )
        ) AS l1
        WHERE
          l1.customer_hub_hk = b.customer_hub_hk
      )
      OR EXISTS(
        SELECT
          1
        FROM _mc_customer_details_batch AS b2
        WHERE
          b2.customer_hub_hk = b.customer_hub_hk
          AND NOT EXISTS(
            SELECT
              1
            FROM (
              SELECT
                t.*
              FROM vault.customer_details AS t
              WHERE
                t.load_ts = (
                  SELECT
                    MAX(m.load_ts)
                  FROM vault.customer_details AS m
                  WHERE
                    m.customer_hub_hk = t.customer_hub_hk
                )
            ) AS l
            WHERE
              l.customer_hub_hk = b2.customer_hub_hk AND l.hash_diff = b2.hash_diff
          )
      )
  );

DROP TABLE IF EXISTS _mc_customer_details_batch;

CREATE TEMPORARY TABLE _mc_customer_phones_batch AS
SELECT DISTINCT
  CASE
    WHEN s.customer_id IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.customer_id AS TEXT), '\N'))))
  END AS customer_hub_hk,
  LOWER(
    HEX(
      SHA256(
        CASE
          WHEN s.phone_number IS NULL
          THEN ''
          ELSE COALESCE(REPLACE(REPLACE(s.phone_number, '\', '\\'), '|', '\|'), '\N')
        END
      )
    )
  ) AS hash_diff,
  s.phone_type AS phone_type,
  s.phone_number AS phone_number
FROM crm.customer_phones AS s;

SELECT
  customer_hub_hk,
  phone_type
FROM _mc_customer_phones_batch
GROUP BY
  customer_hub_hk,
  phone_type
HAVING
  COUNT(*) > 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_customer_phones_batch AS b
WHERE
  b.customer_hub_hk IN (
    SELECT DISTINCT
      b.customer_hub_hk
    FROM _mc_customer_phones_batch AS b
    WHERE
      (
        SELECT
          COUNT(*)
        FROM _mc_customer_phones_batch AS b1
        WHERE
          b1.customer_hub_hk = b.customer_hub_hk
      ) <> (
        SELECT
          COUNT(*)
        FROM (
          SELECT
            t.*
          FROM vault.customer_phones AS t
          WHERE
            t.load_ts = (
              SELECT
                MAX(m.load_ts)
              FROM vault.customer_phones AS m
              WHERE
                m.customer_hub_hk = t.customer_hub_hk
            )
        ) AS l1
        WHERE
          l1.customer_hub_hk = b.customer_hub_hk
      )
      OR EXISTS(
        SELECT
          1
        FROM _mc_customer_phones_batch AS b2
        WHERE
          b2.customer_hub_hk = b.customer_hub_hk
          AND NOT EXISTS(
            SELECT
              1
            FROM (
              SELECT
                t.*
              FROM vault.customer_phones AS t
              WHERE
                t.load_ts = (
                  SELECT
                    MAX(m.load_ts)
                  FROM vault.customer_phones AS m
                  WHERE
                    m.customer_hub_hk = t.customer_hub_hk
                )
            ) AS l
            WHERE
              l.customer_hub_hk = b2.customer_hub_hk
              AND l.phone_type = b2.phone_type
              AND l.hash_diff = b2.hash_diff
          )
      )
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
FROM _mc_customer_phones_batch AS b
WHERE
  b.customer_hub_hk IN (
    SELECT DISTINCT
      b.customer_hub_hk
    FROM _mc_customer_phones_batch AS b
    WHERE
      (
        SELECT
          COUNT(*)
        FROM _mc_customer_phones_batch AS b1
        WHERE
          b1.customer_hub_hk = b.customer_hub_hk
      ) <> (
        SELECT
          COUNT(*)
        FROM (
          SELECT
            t.*
          FROM vault.customer_phones AS t
          WHERE
            t.load_ts = (
              SELECT
                MAX(m.load_ts)
              FROM vault.customer_phones AS m
              WHERE
                m.customer_hub_hk = t.customer_hub_hk
            )
        ) AS l1
        WHERE
          l1.customer_hub_hk = b.customer_hub_hk
      )
      OR EXISTS(
        SELECT
          1
        FROM _mc_customer_phones_batch AS b2
        WHERE
          b2.customer_hub_hk = b.customer_hub_hk
          AND NOT EXISTS(
            SELECT
              1
            FROM (
              SELECT
                t.*
              FROM vault.customer_phones AS t
              WHERE
                t.load_ts = (
                  SELECT
                    MAX(m.load_ts)
                  FROM vault.customer_phones AS m
                  WHERE
                    m.customer_hub_hk = t.customer_hub_hk
                )
            ) AS l
            WHERE
              l.customer_hub_hk = b2.customer_hub_hk
              AND l.phone_type = b2.phone_type
              AND l.hash_diff = b2.hash_diff
          )
      )
  );

DROP TABLE IF EXISTS _mc_customer_phones_batch;

CREATE TEMPORARY TABLE _mc_order_details_batch AS
SELECT DISTINCT
  CASE
    WHEN s.order_id IS NULL
    THEN '0000000000000000000000000000000000000000000000000000000000000000'
    ELSE LOWER(HEX(SHA256(COALESCE(CAST(s.order_id AS TEXT), '\N'))))
  END AS order_hub_hk,
  LOWER(
    HEX(
      SHA256(
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
        END
      )
    )
  ) AS hash_diff,
  s.status AS status,
  s.ordered_at AS ordered_at
FROM shop.orders AS s;

SELECT
  order_hub_hk
FROM _mc_order_details_batch
GROUP BY
  order_hub_hk
HAVING
  COUNT(*) > 1;

SELECT
  COUNT(*) AS inserted
FROM _mc_order_details_batch AS b
WHERE
  b.order_hub_hk IN (
    SELECT DISTINCT
      b.order_hub_hk
    FROM _mc_order_details_batch AS b
    WHERE
      (
        SELECT
          COUNT(*)
        FROM _mc_order_details_batch AS b1
        WHERE
          b1.order_hub_hk = b.order_hub_hk
      ) <> (
        SELECT
          COUNT(*)
        FROM (
          SELECT
            t.*
          FROM vault.order_details AS t
          WHERE
            t.load_ts = (
              SELECT
                MAX(m.load_ts)
              FROM vault.order_details AS m
              WHERE
                m.order_hub_hk = t.order_hub_hk
            )
        ) AS l1
        WHERE
          l1.order_hub_hk = b.order_hub_hk
      )
      OR EXISTS(
        SELECT
          1
        FROM _mc_order_details_batch AS b2
        WHERE
          b2.order_hub_hk = b.order_hub_hk
          AND NOT EXISTS(
            SELECT
              1
            FROM (
              SELECT
                t.*
              FROM vault.order_details AS t
              WHERE
                t.load_ts = (
                  SELECT
                    MAX(m.load_ts)
                  FROM vault.order_details AS m
                  WHERE
                    m.order_hub_hk = t.order_hub_hk
                )
            ) AS l
            WHERE
              l.order_hub_hk = b2.order_hub_hk AND l.hash_diff = b2.hash_diff
          )
      )
  );

INSERT INTO vault.order_details (
  order_hub_hk,
  load_ts,
  hash_diff,
  status,
  ordered_at,
  record_source
)
SELECT
  b.order_hub_hk,
  CAST(CURRENT_TIMESTAMP AS TIMESTAMP),
  b.hash_diff,
  b.status,
  b.ordered_at,
  'shop.orders'
FROM _mc_order_details_batch AS b
WHERE
  b.order_hub_hk IN (
    SELECT DISTINCT
      b.order_hub_hk
    FROM _mc_order_details_batch AS b
    WHERE
      (
        SELECT
          COUNT(*)
        FROM _mc_order_details_batch AS b1
        WHERE
          b1.order_hub_hk = b.order_hub_hk
      ) <> (
        SELECT
          COUNT(*)
        FROM (
          SELECT
            t.*
          FROM vault.order_details AS t
          WHERE
            t.load_ts = (
              SELECT
                MAX(m.load_ts)
              FROM vault.order_details AS m
              WHERE
                m.order_hub_hk = t.order_hub_hk
            )
        ) AS l1
        WHERE
          l1.order_hub_hk = b.order_hub_hk
      )
      OR EXISTS(
        SELECT
          1
        FROM _mc_order_details_batch AS b2
        WHERE
          b2.order_hub_hk = b.order_hub_hk
          AND NOT EXISTS(
            SELECT
              1
            FROM (
              SELECT
                t.*
              FROM vault.order_details AS t
              WHERE
                t.load_ts = (
                  SELECT
                    MAX(m.load_ts)
                  FROM vault.order_details AS m
                  WHERE
                    m.order_hub_hk = t.order_hub_hk
                )
            ) AS l
            WHERE
              l.order_hub_hk = b2.order_hub_hk AND l.hash_diff = b2.hash_diff
          )
      )
  );

DROP TABLE IF EXISTS _mc_order_details_batch;
