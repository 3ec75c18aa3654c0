CREATE SCHEMA IF NOT EXISTS vault;

CREATE TABLE IF NOT EXISTS vault.customer_hub (
  customer_hub_hk STRING(64) NOT NULL,
  customer_id INT64 NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_hub_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.order_hub (
  order_hub_hk STRING(64) NOT NULL,
  order_id INT64 NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (order_hub_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.product_hub (
  product_hub_hk STRING(64) NOT NULL,
  product_code STRING(20) NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (product_hub_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_order (
  customer_order_hk STRING(64) NOT NULL,
  customer_hub_hk STRING(64) NOT NULL,
  order_hub_hk STRING(64) NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_order_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.order_product (
  order_product_hk STRING(64) NOT NULL,
  order_hub_hk STRING(64) NOT NULL,
  product_hub_hk STRING(64) NOT NULL,
  line_no INT64 NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (order_product_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_referral (
  customer_referral_hk STRING(64) NOT NULL,
  customer_hk STRING(64) NOT NULL,
  referrer_hk STRING(64) NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_referral_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_details (
  customer_hub_hk STRING(64) NOT NULL,
  load_ts DATETIME NOT NULL,
  hash_diff STRING(64) NOT NULL,
  full_name STRING NOT NULL,
  email STRING,
  segment STRING,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_phones (
  customer_hub_hk STRING(64) NOT NULL,
  load_ts DATETIME NOT NULL,
  phone_type STRING NOT NULL,
  hash_diff STRING(64) NOT NULL,
  phone_number STRING NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts, phone_type) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.order_details (
  order_hub_hk STRING(64) NOT NULL,
  load_ts DATETIME NOT NULL,
  hash_diff STRING(64) NOT NULL,
  status STRING NOT NULL,
  ordered_at DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (order_hub_hk, load_ts) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_order_eff (
  customer_order_hk STRING(64) NOT NULL,
  load_ts DATETIME NOT NULL,
  start_ts DATETIME NOT NULL,
  end_ts DATETIME,
  is_active BOOL NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_order_hk, load_ts) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_seen (
  customer_hub_hk STRING(64) NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_pit (
  customer_hub_hk STRING(64) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_details_hk STRING(64),
  customer_details_load_ts DATETIME,
  customer_phones_hk STRING(64),
  customer_phones_load_ts DATETIME,
  PRIMARY KEY (customer_hub_hk, snapshot_date) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS vault.customer_orders (
  customer_hub_hk STRING(64) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_order_hk STRING(64) NOT NULL,
  order_product_hk STRING(64) NOT NULL,
  PRIMARY KEY (customer_hub_hk, snapshot_date, customer_order_hk, order_product_hk) NOT ENFORCED
);
