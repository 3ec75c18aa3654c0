CREATE SCHEMA IF NOT EXISTS retail;

CREATE TABLE IF NOT EXISTS retail.customer (
  customer_key VARCHAR(32) NOT NULL,
  customer_id INT,
  segment TEXT,
  country VARCHAR(2),
  full_name TEXT,
  email TEXT,
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
  product_code VARCHAR(20),
  product_name TEXT,
  category TEXT,
  list_price DECIMAL(10, 2),
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (product_key)
);

CREATE TABLE IF NOT EXISTS retail."date" (
  date_key INT NOT NULL,
  "date" DATE,
  year SMALLINT,
  quarter SMALLINT,
  month SMALLINT,
  month_name TEXT,
  iso_week SMALLINT,
  day_of_week SMALLINT,
  is_weekend BOOLEAN,
  PRIMARY KEY (date_key)
);

CREATE TABLE IF NOT EXISTS retail.order_line (
  order_id BIGINT NOT NULL,
  line_no INT NOT NULL,
  customer_key VARCHAR(32) NOT NULL,
  customer_id INT NOT NULL,
  ordered_at TIMESTAMP NOT NULL,
  product_key VARCHAR(32) NOT NULL,
  product_code VARCHAR(20) NOT NULL,
  order_date_key INT NOT NULL,
  quantity INT,
  amount DECIMAL(12, 2),
  unit_price DECIMAL(10, 2),
  loaded_at TIMESTAMP NOT NULL,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (order_id, line_no)
);
