CREATE SCHEMA IF NOT EXISTS retail;

CREATE TABLE IF NOT EXISTS retail.customer (
  customer_key VARCHAR(32) NOT NULL,
  customer_id INTEGER,
  segment VARCHAR(MAX),
  country VARCHAR(8),
  full_name VARCHAR(MAX),
  email VARCHAR(MAX),
  valid_from TIMESTAMP NOT NULL,
  valid_to TIMESTAMP,
  is_current BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (customer_key)
);

CREATE TABLE IF NOT EXISTS retail.product (
  product_key VARCHAR(32) NOT NULL,
  product_code VARCHAR(80),
  product_name VARCHAR(MAX),
  category VARCHAR(MAX),
  list_price DECIMAL(10, 2),
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (product_key)
);

CREATE TABLE IF NOT EXISTS retail."date" (
  date_key INTEGER NOT NULL,
  "date" DATE,
  year SMALLINT,
  quarter SMALLINT,
  month SMALLINT,
  month_name VARCHAR(MAX),
  iso_week SMALLINT,
  day_of_week SMALLINT,
  is_weekend BOOLEAN,
  PRIMARY KEY (date_key)
);

CREATE TABLE IF NOT EXISTS retail.order_line (
  order_id BIGINT NOT NULL,
  line_no INTEGER NOT NULL,
  customer_key VARCHAR(32) NOT NULL,
  customer_id INTEGER NOT NULL,
  ordered_at TIMESTAMP NOT NULL,
  product_key VARCHAR(32) NOT NULL,
  product_code VARCHAR(80) NOT NULL,
  order_date_key INTEGER NOT NULL,
  quantity INTEGER,
  amount DECIMAL(12, 2),
  unit_price DECIMAL(10, 2),
  loaded_at TIMESTAMP NOT NULL,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (order_id, line_no)
);
