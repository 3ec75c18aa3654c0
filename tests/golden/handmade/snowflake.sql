CREATE SCHEMA IF NOT EXISTS dw;

CREATE TABLE IF NOT EXISTS dw.customer (
  customer_key VARCHAR(32) NOT NULL,
  customer_id INT,
  "NAME" VARCHAR,
  email VARCHAR,
  segment VARCHAR(20),
  country VARCHAR,
  city VARCHAR,
  previous_city VARCHAR,
  birth_date DATE,
  name_upper VARCHAR,
  valid_from TIMESTAMPNTZ NOT NULL,
  valid_to TIMESTAMPNTZ,
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMPNTZ,
  dw_loaded_at TIMESTAMPNTZ NOT NULL,
  dw_updated_at TIMESTAMPNTZ,
  PRIMARY KEY (customer_key)
)
CLUSTER BY (segment, country);

CREATE TABLE IF NOT EXISTS dw.product (
  product_key VARCHAR(32) NOT NULL,
  product_id VARCHAR,
  "NAME" VARCHAR,
  category VARCHAR,
  price DECIMAL(10, 2),
  dw_changed_at TIMESTAMPNTZ,
  dw_loaded_at TIMESTAMPNTZ NOT NULL,
  dw_updated_at TIMESTAMPNTZ,
  PRIMARY KEY (product_key)
);

CREATE TABLE IF NOT EXISTS dw.date_dim (
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

CREATE TABLE IF NOT EXISTS dw.sales (
  order_id BIGINT NOT NULL,
  line_no SMALLINT NOT NULL,
  customer_key VARCHAR(32) NOT NULL,
  customer_id INT NOT NULL,
  ordered_at TIMESTAMPTZ NOT NULL,
  product_key VARCHAR(32) NOT NULL,
  product_id VARCHAR NOT NULL,
  order_date_key INT NOT NULL,
  order_date DATE NOT NULL,
  channel VARCHAR,
  attrs VARIANT,
  signature BINARY,
  pickup TIME,
  is_gift BOOLEAN,
  quantity INT,
  amount DECIMAL(12, 2),
  weight DOUBLE,
  ratio DOUBLE,
  net_amount DECIMAL(12, 2),
  big_amount DECIMAL(38, 12),
  dw_loaded_at TIMESTAMPNTZ NOT NULL,
  dw_updated_at TIMESTAMPNTZ,
  PRIMARY KEY (order_id, line_no)
)
CLUSTER BY (customer_key, product_key);

CREATE TABLE IF NOT EXISTS dw.customer_h (
  customer_h_hk VARCHAR(32) NOT NULL,
  customer_id INT NOT NULL,
  load_ts TIMESTAMPNTZ NOT NULL,
  record_source VARCHAR NOT NULL,
  PRIMARY KEY (customer_h_hk)
);

CREATE TABLE IF NOT EXISTS dw.product_h (
  product_h_hk VARCHAR(32) NOT NULL,
  product_id VARCHAR NOT NULL,
  load_ts TIMESTAMPNTZ NOT NULL,
  record_source VARCHAR NOT NULL,
  PRIMARY KEY (product_h_hk)
);

CREATE TABLE IF NOT EXISTS dw.order_link (
  order_link_hk VARCHAR(32) NOT NULL,
  customer_hk VARCHAR(32) NOT NULL,
  product_hk VARCHAR(32) NOT NULL,
  line_no SMALLINT NOT NULL,
  quantity INT,
  amount DECIMAL(12, 2),
  load_ts TIMESTAMPNTZ NOT NULL,
  record_source VARCHAR NOT NULL,
  PRIMARY KEY (order_link_hk)
);

CREATE TABLE IF NOT EXISTS dw.customer_details (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMPNTZ NOT NULL,
  hash_diff VARCHAR(32) NOT NULL,
  "NAME" VARCHAR,
  email VARCHAR,
  segment VARCHAR(20),
  record_source VARCHAR NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
)
CLUSTER BY (customer_h_hk);

CREATE TABLE IF NOT EXISTS dw.customer_phones (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMPNTZ NOT NULL,
  phone_type VARCHAR NOT NULL,
  hash_diff VARCHAR(32) NOT NULL,
  phone VARCHAR,
  record_source VARCHAR NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts, phone_type)
);

CREATE TABLE IF NOT EXISTS dw.order_link_eff (
  order_link_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMPNTZ NOT NULL,
  start_ts TIMESTAMPNTZ NOT NULL,
  end_ts TIMESTAMPNTZ,
  is_active BOOLEAN NOT NULL,
  record_source VARCHAR NOT NULL,
  PRIMARY KEY (order_link_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_seen (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMPNTZ NOT NULL,
  record_source VARCHAR NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_pit (
  customer_h_hk VARCHAR(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_details_hk VARCHAR(32),
  customer_details_load_ts TIMESTAMPNTZ,
  customer_phones_hk VARCHAR(32),
  customer_phones_load_ts TIMESTAMPNTZ,
  PRIMARY KEY (customer_h_hk, snapshot_date)
);

CREATE TABLE IF NOT EXISTS dw.customer_orders (
  customer_h_hk VARCHAR(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  order_link_hk VARCHAR(32) NOT NULL,
  PRIMARY KEY (customer_h_hk, snapshot_date, order_link_hk)
);
