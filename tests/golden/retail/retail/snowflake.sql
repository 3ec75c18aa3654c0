CREATE SCHEMA IF NOT EXISTS retail;

CREATE TABLE IF NOT EXISTS retail.customer (
  customer_key VARCHAR(32) NOT NULL,
  customer_id INT,
  segment VARCHAR,
  country VARCHAR(2),
  full_name VARCHAR,
  email VARCHAR,
  valid_from TIMESTAMPNTZ NOT NULL,
  valid_to TIMESTAMPNTZ,
  is_current BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMPNTZ,
  dw_loaded_at TIMESTAMPNTZ NOT NULL,
  dw_updated_at TIMESTAMPNTZ,
  PRIMARY KEY (customer_key)
)
CLUSTER BY (country);

CREATE TABLE IF NOT EXISTS retail.product (
  product_key VARCHAR(32) NOT NULL,
  product_code VARCHAR(20),
  product_name VARCHAR,
  category VARCHAR,
  list_price DECIMAL(10, 2),
  dw_changed_at TIMESTAMPNTZ,
  dw_loaded_at TIMESTAMPNTZ NOT NULL,
  dw_updated_at TIMESTAMPNTZ,
  PRIMARY KEY (product_key)
);

CREATE TABLE IF NOT EXISTS retail."DATE" (
  date_key INT NOT NULL,
  "DATE" DATE,
  year SMALLINT,
  quarter SMALLINT,
  month SMALLINT,
  month_name VARCHAR,
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
  ordered_at TIMESTAMPNTZ NOT NULL,
  product_key VARCHAR(32) NOT NULL,
  product_code VARCHAR(20) NOT NULL,
  order_date_key INT NOT NULL,
  quantity INT,
  amount DECIMAL(12, 2),
  unit_price DECIMAL(10, 2),
  loaded_at TIMESTAMPNTZ NOT NULL,
  dw_loaded_at TIMESTAMPNTZ NOT NULL,
  dw_updated_at TIMESTAMPNTZ,
  PRIMARY KEY (order_id, line_no)
);
