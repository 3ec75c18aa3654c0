CREATE DATABASE IF NOT EXISTS vault;

CREATE TABLE IF NOT EXISTS vault.customer_hub (
  customer_hub_hk String,
  customer_id Int32,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY customer_hub_hk;

CREATE TABLE IF NOT EXISTS vault.order_hub (
  order_hub_hk String,
  order_id Int64,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY order_hub_hk;

CREATE TABLE IF NOT EXISTS vault.product_hub (
  product_hub_hk String,
  product_code String,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY product_hub_hk;

CREATE TABLE IF NOT EXISTS vault.customer_order (
  customer_order_hk String,
  customer_hub_hk String,
  order_hub_hk String,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY customer_order_hk;

CREATE TABLE IF NOT EXISTS vault.order_product (
  order_product_hk String,
  order_hub_hk String,
  product_hub_hk String,
  line_no Int32,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY order_product_hk;

CREATE TABLE IF NOT EXISTS vault.customer_referral (
  customer_referral_hk String,
  customer_hk String,
  referrer_hk String,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY customer_referral_hk;

CREATE TABLE IF NOT EXISTS vault.customer_details (
  customer_hub_hk String,
  load_ts DateTime64(6),
  hash_diff String,
  full_name String,
  email Nullable(String),
  segment Nullable(String),
  record_source String
)
ENGINE=MergeTree
ORDER BY (customer_hub_hk, load_ts);

CREATE TABLE IF NOT EXISTS vault.customer_phones (
  customer_hub_hk String,
  load_ts DateTime64(6),
  phone_type String,
  hash_diff String,
  phone_number String,
  record_source String
)
ENGINE=MergeTree
ORDER BY (customer_hub_hk, load_ts, phone_type);

CREATE TABLE IF NOT EXISTS vault.order_details (
  order_hub_hk String,
  load_ts DateTime64(6),
  hash_diff String,
  status String,
  ordered_at DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY (order_hub_hk, load_ts);

CREATE TABLE IF NOT EXISTS vault.customer_order_eff (
  customer_order_hk String,
  load_ts DateTime64(6),
  start_ts DateTime64(6),
  end_ts Nullable(DateTime64(6)),
  is_active Bool,
  record_source String
)
ENGINE=MergeTree
ORDER BY (customer_order_hk, load_ts);

CREATE TABLE IF NOT EXISTS vault.customer_seen (
  customer_hub_hk String,
  load_ts DateTime64(6),
  record_source String
)
ENGINE=MergeTree
ORDER BY (customer_hub_hk, load_ts);

CREATE TABLE IF NOT EXISTS vault.customer_pit (
  customer_hub_hk String,
  snapshot_date Date32,
  customer_details_hk Nullable(String),
  customer_details_load_ts Nullable(DateTime64(6)),
  customer_phones_hk Nullable(String),
  customer_phones_load_ts Nullable(DateTime64(6))
)
ENGINE=MergeTree
ORDER BY (customer_hub_hk, snapshot_date);

CREATE TABLE IF NOT EXISTS vault.customer_orders (
  customer_hub_hk String,
  snapshot_date Date32,
  customer_order_hk String,
  order_product_hk String
)
ENGINE=MergeTree
ORDER BY (customer_hub_hk, snapshot_date, customer_order_hk, order_product_hk);
