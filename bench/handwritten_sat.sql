-- Hand-written DuckDB SQL for the benchmark's standard satellite (docs/semantics.md, Satellites):
-- one state per key per batch; a row is inserted when its hash_diff differs from the key's latest
-- stored row (or the key has none); the ghost row under the zero key. Hash key and hash diff are
-- spelled as docs/hashing.md says (the same expressions modelc generates), so the tables compare
-- row for row. Not handled (the generator never produces them): NULL keys, two states of one key
-- in a batch. $src is the batch's Parquet file, $load_ts the load timestamp.
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.customer_details (
  customer_hub_hk TEXT NOT NULL, load_ts TIMESTAMP NOT NULL, hash_diff TEXT NOT NULL,
  "name" TEXT, email TEXT, segment TEXT, country TEXT, record_source TEXT NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts)
);
BEGIN TRANSACTION;
INSERT INTO bench.customer_details
SELECT '00000000000000000000000000000000', TIMESTAMP '1900-01-01', '00000000000000000000000000000000',
       NULL, NULL, NULL, NULL, 'SYSTEM'
WHERE NOT EXISTS (SELECT 1 FROM bench.customer_details WHERE customer_hub_hk = '00000000000000000000000000000000');
INSERT INTO bench.customer_details
SELECT s.hk, TIMESTAMP '$load_ts', s.hd, s."name", s.email, s.segment, s.country, 'crm.customers'
FROM (
  SELECT MD5(CAST(customer_id AS TEXT)) AS hk,
         MD5(CASE WHEN "name" IS NULL AND email IS NULL AND segment IS NULL AND country IS NULL THEN ''
             ELSE COALESCE(REPLACE(REPLACE("name", '\', '\\'), '|', '\|'), '\N')
               || CASE WHEN email IS NULL AND segment IS NULL AND country IS NULL THEN ''
                  ELSE '|' || COALESCE(REPLACE(REPLACE(email, '\', '\\'), '|', '\|'), '\N')
                    || CASE WHEN segment IS NULL AND country IS NULL THEN ''
                       ELSE '|' || COALESCE(REPLACE(REPLACE(segment, '\', '\\'), '|', '\|'), '\N')
                         || CASE WHEN country IS NULL THEN ''
                            ELSE '|' || COALESCE(REPLACE(REPLACE(country, '\', '\\'), '|', '\|'), '\N') END
                       END
                  END
             END) AS hd,
         "name", email, segment, country
  FROM read_parquet('$src')
) s
LEFT JOIN (
  SELECT customer_hub_hk, ARG_MAX(hash_diff, load_ts) AS hd FROM bench.customer_details GROUP BY customer_hub_hk
) l ON l.customer_hub_hk = s.hk
WHERE l.hd IS DISTINCT FROM s.hd;
COMMIT;
