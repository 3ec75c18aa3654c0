CREATE SCHEMA IF NOT EXISTS vault;

CREATE TABLE IF NOT EXISTS vault.customer_hub (
  customer_hub_hk VARCHAR(64) NOT NULL,
  customer_id INTEGER NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.order_hub (
  order_hub_hk VARCHAR(64) NOT NULL,
  order_id BIGINT NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (order_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.product_hub (
  product_hub_hk VARCHAR(64) NOT NULL,
  product_code VARCHAR(80) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (product_hub_hk)
);

CREATE TABLE IF NOT EXISTS vault.customer_order (
  customer_order_hk VARCHAR(64) NOT NULL,
  customer_hub_hk VARCHAR(64) NOT NULL,
  order_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_order_hk)
);

CREATE TABLE IF NOT EXISTS vault.order_product (
  order_product_hk VARCHAR(64) NOT NULL,
  order_hub_hk VARCHAR(64) NOT NULL,
  product_hub_hk VARCHAR(64) NOT NULL,
  line_no INTEGER NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (order_product_hk)
);

CREATE TABLE IF NOT EXISTS vault.customer_referral (
  customer_referral_hk VARCHAR(64) NOT NULL,
  customer_hk VARCHAR(64) NOT NULL,
  referrer_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_referral_hk)
);

CREATE TABLE IF NOT EXISTS vault.customer_details (
  customer_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  hash_diff VARCHAR(64) NOT NULL,
  full_name VARCHAR(MAX) NOT NULL,
  email VARCHAR(MAX),
  segment VARCHAR(MAX),
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault.customer_phones (
  customer_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  phone_type VARCHAR(MAX) NOT NULL,
  hash_diff VARCHAR(64) NOT NULL,
  phone_number VARCHAR(MAX) NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_hub_hk, load_ts, phone_type)
);

CREATE TABLE IF NOT EXISTS vault.order_details (
  order_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  hash_diff VARCHAR(64) NOT NULL,
  status VARCHAR(MAX) NOT NULL,
  ordered_at TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (order_hub_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault.customer_order_eff (
  customer_order_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  start_ts TIMESTAMP NOT NULL,
  end_ts TIMESTAMP,
  is_active BOOLEAN NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_order_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault.customer_seen (
  customer_hub_hk VARCHAR(64) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
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
