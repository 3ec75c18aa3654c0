-- The leanest correct hand-written DuckDB SQL for the benchmark's SCD2 dimension, written for the
-- same semantics as modelc's generated load (docs/semantics.md) on full-snapshot batches with at
-- most one row per key: timestamp change detection (`changed_by updated_at`: a row whose
-- updated_at is after the stored one and whose values differ closes the current version at
-- updated_at and opens a new one), `deletes invalidate` (a current key absent from the batch is
-- closed at the load timestamp), new keys open a version at updated_at, unknown and error members.
-- Not handled (the generator never produces them, modelc does handle them): duplicate rows per
-- key, late rows, keys that come back after a delete, NULL keys, empty batches.
-- $src is the batch's Parquet file, $load_ts the load timestamp. The surrogate key is the same
-- expression modelc uses (docs/hashing.md), so both tables can be compared row for row.
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.customer (
  customer_key TEXT NOT NULL, customer_id BIGINT, "name" TEXT, email TEXT, segment TEXT, country TEXT,
  valid_from TIMESTAMP NOT NULL, valid_to TIMESTAMP, is_current BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMP, dw_loaded_at TIMESTAMP NOT NULL, dw_updated_at TIMESTAMP,
  PRIMARY KEY (customer_key)
);
BEGIN TRANSACTION;
INSERT INTO bench.customer
SELECT k, NULL, NULL, NULL, NULL, NULL, TIMESTAMP '0001-01-01', NULL, TRUE, TIMESTAMP '$load_ts', TIMESTAMP '$load_ts', NULL
FROM (VALUES ('00000000000000000000000000000000'), ('ffffffffffffffffffffffffffffffff')) m(k)
WHERE NOT EXISTS (SELECT 1 FROM bench.customer WHERE customer_key = m.k);
CREATE TEMP TABLE stg AS SELECT customer_id, "name", email, segment, country, updated_at FROM read_parquet('$src');
CREATE TEMP TABLE chg AS
SELECT s.*, d.customer_key AS old_key
FROM stg s JOIN bench.customer d ON d.customer_id = s.customer_id
WHERE d.is_current AND s.updated_at > d.dw_changed_at
  AND (s."name" IS DISTINCT FROM d."name" OR s.email IS DISTINCT FROM d.email
       OR s.segment IS DISTINCT FROM d.segment OR s.country IS DISTINCT FROM d.country);
UPDATE bench.customer AS d SET valid_to = c.updated_at, is_current = FALSE, dw_updated_at = TIMESTAMP '$load_ts'
FROM chg c WHERE d.customer_key = c.old_key;
UPDATE bench.customer AS d SET valid_to = GREATEST(TIMESTAMP '$load_ts', d.valid_from), is_current = FALSE,
  dw_updated_at = TIMESTAMP '$load_ts'
WHERE d.is_current AND d.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM stg s WHERE s.customer_id = d.customer_id);
INSERT INTO bench.customer
SELECT MD5(CAST(customer_id AS TEXT) || '|' || STRFTIME(updated_at, '%Y-%m-%d %H:')
           || LPAD(CAST(EXTRACT(MINUTE FROM updated_at) AS TEXT), 2, '0') || STRFTIME(updated_at, ':%S.%f')),
       customer_id, "name", email, segment, country, updated_at, NULL, TRUE, updated_at, TIMESTAMP '$load_ts', NULL
FROM (SELECT customer_id, "name", email, segment, country, updated_at FROM chg
      UNION ALL
      SELECT s.* FROM stg s ANTI JOIN bench.customer d ON d.customer_id = s.customer_id);
DROP TABLE stg;
DROP TABLE chg;
COMMIT;
