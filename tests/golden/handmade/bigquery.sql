CREATE SCHEMA IF NOT EXISTS dw;

CREATE TABLE IF NOT EXISTS dw.customer (
  customer_key STRING(32) NOT NULL,
  customer_id INT64,
  `name` STRING,
  email STRING,
  segment STRING(20),
  country STRING,
  city STRING,
  previous_city STRING,
  birth_date DATE,
  name_upper STRING,
  valid_from DATETIME NOT NULL,
  valid_to DATETIME,
  is_current BOOL NOT NULL,
  is_deleted BOOL NOT NULL,
  dw_changed_at DATETIME,
  dw_loaded_at DATETIME NOT NULL,
  dw_updated_at DATETIME,
  PRIMARY KEY (customer_key) NOT ENFORCED
)
PARTITION BY DATETIME_TRUNC(valid_from, MONTH)
CLUSTER BY segment, country;

CREATE TABLE IF NOT EXISTS dw.product (
  product_key STRING(32) NOT NULL,
  product_id STRING,
  `name` STRING,
  category STRING,
  price NUMERIC(10, 2),
  dw_changed_at DATETIME,
  dw_loaded_at DATETIME NOT NULL,
  dw_updated_at DATETIME,
  PRIMARY KEY (product_key) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.date_dim (
  date_key INT64 NOT NULL,
  `date` DATE,
  year INT64,
  quarter INT64,
  month INT64,
  month_name STRING,
  iso_week INT64,
  day_of_week INT64,
  is_weekend BOOL,
  PRIMARY KEY (date_key) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.sales (
  order_id INT64 NOT NULL,
  line_no INT64 NOT NULL,
  customer_key STRING(32) NOT NULL,
  customer_id INT64 NOT NULL,
  ordered_at TIMESTAMP NOT NULL,
  product_key STRING(32) NOT NULL,
  product_id STRING NOT NULL,
  order_date_key INT64 NOT NULL,
  order_date DATE NOT NULL,
  channel STRING,
  attrs JSON,
  signature BYTES,
  pickup TIME,
  is_gift BOOL,
  quantity INT64,
  amount NUMERIC(12, 2),
  weight FLOAT64,
  ratio FLOAT64,
  net_amount NUMERIC(12, 2),
  big_amount BIGNUMERIC(38, 12),
  dw_loaded_at DATETIME NOT NULL,
  dw_updated_at DATETIME,
  PRIMARY KEY (order_id, line_no) NOT ENFORCED
)
PARTITION BY TIMESTAMP_TRUNC(ordered_at, DAY)
CLUSTER BY customer_key, product_key;

CREATE TABLE IF NOT EXISTS dw.customer_h (
  customer_h_hk STRING(32) NOT NULL,
  customer_id INT64 NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_h_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.product_h (
  product_h_hk STRING(32) NOT NULL,
  product_id STRING NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (product_h_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.order_link (
  order_link_hk STRING(32) NOT NULL,
  customer_hk STRING(32) NOT NULL,
  product_hk STRING(32) NOT NULL,
  line_no INT64 NOT NULL,
  quantity INT64,
  amount NUMERIC(12, 2),
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (order_link_hk) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.customer_details (
  customer_h_hk STRING(32) NOT NULL,
  load_ts DATETIME NOT NULL,
  hash_diff STRING(32) NOT NULL,
  `name` STRING,
  email STRING,
  segment STRING(20),
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts) NOT ENFORCED
)
PARTITION BY DATETIME_TRUNC(load_ts, YEAR)
CLUSTER BY customer_h_hk;

CREATE TABLE IF NOT EXISTS dw.customer_phones (
  customer_h_hk STRING(32) NOT NULL,
  load_ts DATETIME NOT NULL,
  phone_type STRING NOT NULL,
  hash_diff STRING(32) NOT NULL,
  phone STRING,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts, phone_type) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.order_link_eff (
  order_link_hk STRING(32) NOT NULL,
  load_ts DATETIME NOT NULL,
  start_ts DATETIME NOT NULL,
  end_ts DATETIME,
  is_active BOOL NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (order_link_hk, load_ts) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.customer_seen (
  customer_h_hk STRING(32) NOT NULL,
  load_ts DATETIME NOT NULL,
  record_source STRING NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.customer_pit (
  customer_h_hk STRING(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_details_hk STRING(32),
  customer_details_load_ts DATETIME,
  customer_phones_hk STRING(32),
  customer_phones_load_ts DATETIME,
  PRIMARY KEY (customer_h_hk, snapshot_date) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS dw.customer_orders (
  customer_h_hk STRING(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  order_link_hk STRING(32) NOT NULL,
  PRIMARY KEY (customer_h_hk, snapshot_date, order_link_hk) NOT ENFORCED
);
