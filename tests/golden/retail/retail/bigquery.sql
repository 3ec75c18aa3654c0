CREATE SCHEMA IF NOT EXISTS retail;

CREATE TABLE IF NOT EXISTS retail.customer (
  customer_key STRING(32) NOT NULL,
  customer_id INT64,
  segment STRING,
  country STRING(2),
  full_name STRING,
  email STRING,
  valid_from DATETIME NOT NULL,
  valid_to DATETIME,
  is_current BOOL NOT NULL,
  dw_changed_at DATETIME,
  dw_loaded_at DATETIME NOT NULL,
  dw_updated_at DATETIME,
  PRIMARY KEY (customer_key) NOT ENFORCED
)
CLUSTER BY country;

CREATE TABLE IF NOT EXISTS retail.product (
  product_key STRING(32) NOT NULL,
  product_code STRING(20),
  product_name STRING,
  category STRING,
  list_price NUMERIC(10, 2),
  dw_changed_at DATETIME,
  dw_loaded_at DATETIME NOT NULL,
  dw_updated_at DATETIME,
  PRIMARY KEY (product_key) NOT ENFORCED
);

CREATE TABLE IF NOT EXISTS retail.`date` (
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

CREATE TABLE IF NOT EXISTS retail.order_line (
  order_id INT64 NOT NULL,
  line_no INT64 NOT NULL,
  customer_key STRING(32) NOT NULL,
  customer_id INT64 NOT NULL,
  ordered_at DATETIME NOT NULL,
  product_key STRING(32) NOT NULL,
  product_code STRING(20) NOT NULL,
  order_date_key INT64 NOT NULL,
  quantity INT64,
  amount NUMERIC(12, 2),
  unit_price NUMERIC(10, 2),
  loaded_at DATETIME NOT NULL,
  dw_loaded_at DATETIME NOT NULL,
  dw_updated_at DATETIME,
  PRIMARY KEY (order_id, line_no) NOT ENFORCED
)
PARTITION BY DATETIME_TRUNC(ordered_at, DAY);
