CREATE DATABASE IF NOT EXISTS vault_b;

CREATE TABLE IF NOT EXISTS vault_b.customer (
  customer_key String,
  customer_id Nullable(Int32),
  "name" Nullable(String),
  email Nullable(String),
  segment Nullable(String),
  country Nullable(String),
  city Nullable(String),
  previous_city Nullable(String),
  birth_date Nullable(Date32),
  name_upper Nullable(String),
  valid_from DateTime64(6),
  valid_to Nullable(DateTime64(6)),
  is_current Bool,
  is_deleted Bool,
  dw_changed_at Nullable(DateTime64(6)),
  dw_loaded_at DateTime64(6),
  dw_updated_at Nullable(DateTime64(6))
)
ENGINE=MergeTree
PARTITION BY toYYYYMM(valid_from)
ORDER BY customer_key;

CREATE TABLE IF NOT EXISTS vault_b.product (
  product_key String,
  product_id Nullable(String),
  "name" Nullable(String),
  category Nullable(String),
  price Nullable(Decimal(10, 2)),
  dw_changed_at Nullable(DateTime64(6)),
  dw_loaded_at DateTime64(6),
  dw_updated_at Nullable(DateTime64(6))
)
ENGINE=MergeTree
ORDER BY product_key;

CREATE TABLE IF NOT EXISTS vault_b.date_dim (
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

CREATE TABLE IF NOT EXISTS vault_b.sales (
  order_id Int64,
  line_no Int16,
  customer_key String,
  customer_id Int32,
  ordered_at DateTime64(6, 'UTC'),
  product_key String,
  product_id String,
  order_date_key Int32,
  order_date Date32,
  channel Nullable(String),
  attrs Nullable(JSON),
  signature Nullable(String),
  pickup Nullable(TIME),
  is_gift Nullable(Bool),
  quantity Nullable(Int32),
  amount Nullable(Decimal(12, 2)),
  weight Nullable(Float64),
  ratio Nullable(Float32),
  net_amount Nullable(Decimal(12, 2)),
  big_amount Nullable(Decimal(38, 12)),
  dw_loaded_at DateTime64(6),
  dw_updated_at Nullable(DateTime64(6))
)
ENGINE=ReplacingMergeTree
PARTITION BY toYYYYMMDD(ordered_at)
ORDER BY (order_id, line_no);

CREATE TABLE IF NOT EXISTS vault_b.customer_h (
  customer_h_hk String,
  customer_id Int32,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY customer_h_hk;

CREATE TABLE IF NOT EXISTS vault_b.product_h (
  product_h_hk String,
  product_id String,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY product_h_hk;

CREATE TABLE IF NOT EXISTS vault_b.order_link (
  order_link_hk String,
  customer_hk String,
  product_hk String,
  line_no Int16,
  quantity Nullable(Int32),
  amount Nullable(Decimal(12, 2)),
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY order_link_hk;

CREATE TABLE IF NOT EXISTS vault_b.customer_details (
  customer_h_hk String,
  load_ts DateTime64(6),
  hash_diff String,
  "name" Nullable(String),
  email Nullable(String),
  segment Nullable(String),
  record_source String
)
ENGINE=MergeTree
PARTITION BY toYear(load_ts)
ORDER BY (customer_h_hk, load_ts);

CREATE TABLE IF NOT EXISTS vault_b.customer_phones (
  customer_h_hk String,
  load_ts DateTime64(6),
  phone_type String,
  hash_diff String,
  phone Nullable(String),
  record_source String
)
ENGINE=MergeTree
ORDER BY (customer_h_hk, load_ts, phone_type);

CREATE TABLE IF NOT EXISTS vault_b.order_link_eff (
  order_link_hk String,
  load_ts DateTime64(6),
  start_ts DateTime64(6),
  end_ts Nullable(DateTime64(6)),
  is_active Bool,
  record_source String
)
ENGINE=MergeTree
ORDER BY (order_link_hk, load_ts);

CREATE TABLE IF NOT EXISTS vault_b.customer_seen (
  customer_h_hk String,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY (customer_h_hk, load_ts);

CREATE TABLE IF NOT EXISTS vault_b.customer_pit (
  customer_h_hk String,
  snapshot_date Date32,
  customer_details_hk Nullable(String),
  customer_details_load_ts Nullable(DateTime64(6)),
  customer_phones_hk Nullable(String),
  customer_phones_load_ts Nullable(DateTime64(6))
)
ENGINE=MergeTree
ORDER BY (customer_h_hk, snapshot_date);

CREATE TABLE IF NOT EXISTS vault_b.customer_orders (
  customer_h_hk String,
  snapshot_date Date32,
  order_link_hk String
)
ENGINE=MergeTree
ORDER BY (customer_h_hk, snapshot_date, order_link_hk);
