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
