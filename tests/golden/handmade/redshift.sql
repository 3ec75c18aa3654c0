CREATE SCHEMA IF NOT EXISTS dw;

CREATE TABLE IF NOT EXISTS dw.customer (
  customer_key VARCHAR(32) NOT NULL,
  customer_id INTEGER,
  "name" VARCHAR(MAX),
  email VARCHAR(MAX),
  segment VARCHAR(80),
  country VARCHAR(MAX),
  city VARCHAR(MAX),
  previous_city VARCHAR(MAX),
  birth_date DATE,
  name_upper VARCHAR(MAX),
  valid_from TIMESTAMP NOT NULL,
  valid_to TIMESTAMP,
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (customer_key)
)
DISTSTYLE KEY
DISTKEY(customer_id)
SORTKEY(customer_id);

CREATE TABLE IF NOT EXISTS dw.product (
  product_key VARCHAR(32) NOT NULL,
  product_id VARCHAR(MAX),
  "name" VARCHAR(MAX),
  category VARCHAR(MAX),
  price DECIMAL(10, 2),
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (product_key)
)
DISTSTYLE ALL;

CREATE TABLE IF NOT EXISTS dw.date_dim (
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

CREATE TABLE IF NOT EXISTS dw.sales (
  order_id BIGINT NOT NULL,
  line_no SMALLINT NOT NULL,
  customer_key VARCHAR(32) NOT NULL,
  customer_id INTEGER NOT NULL,
  ordered_at TIMESTAMP WITH TIME ZONE NOT NULL,
  product_key VARCHAR(32) NOT NULL,
  product_id VARCHAR(MAX) NOT NULL,
  order_date_key INTEGER NOT NULL,
  order_date DATE NOT NULL,
  channel VARCHAR(MAX),
  attrs SUPER,
  signature VARBYTE,
  pickup TIME,
  is_gift BOOLEAN,
  quantity INTEGER,
  amount DECIMAL(12, 2),
  weight DOUBLE PRECISION,
  ratio REAL,
  net_amount DECIMAL(12, 2),
  big_amount DECIMAL(38, 12),
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (order_id, line_no)
)
DISTSTYLE KEY
DISTKEY(customer_key)
SORTKEY(ordered_at);

CREATE TABLE IF NOT EXISTS dw.customer_h (
  customer_h_hk VARCHAR(32) NOT NULL,
  customer_id INTEGER NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk)
);

CREATE TABLE IF NOT EXISTS dw.product_h (
  product_h_hk VARCHAR(32) NOT NULL,
  product_id VARCHAR(MAX) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (product_h_hk)
);

CREATE TABLE IF NOT EXISTS dw.order_link (
  order_link_hk VARCHAR(32) NOT NULL,
  customer_hk VARCHAR(32) NOT NULL,
  product_hk VARCHAR(32) NOT NULL,
  line_no SMALLINT NOT NULL,
  quantity INTEGER,
  amount DECIMAL(12, 2),
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (order_link_hk)
);

CREATE TABLE IF NOT EXISTS dw.customer_details (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  hash_diff VARCHAR(32) NOT NULL,
  "name" VARCHAR(MAX),
  email VARCHAR(MAX),
  segment VARCHAR(80),
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_phones (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  phone_type VARCHAR(MAX) NOT NULL,
  hash_diff VARCHAR(32) NOT NULL,
  phone VARCHAR(MAX),
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts, phone_type)
);

CREATE TABLE IF NOT EXISTS dw.order_link_eff (
  order_link_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  start_ts TIMESTAMP NOT NULL,
  end_ts TIMESTAMP,
  is_active BOOLEAN NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (order_link_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_seen (
  customer_h_hk VARCHAR(32) NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source VARCHAR(MAX) NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS dw.customer_pit (
  customer_h_hk VARCHAR(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_details_hk VARCHAR(32),
  customer_details_load_ts TIMESTAMP,
  customer_phones_hk VARCHAR(32),
  customer_phones_load_ts TIMESTAMP,
  PRIMARY KEY (customer_h_hk, snapshot_date)
);

CREATE TABLE IF NOT EXISTS dw.customer_orders (
  customer_h_hk VARCHAR(32) NOT NULL,
  snapshot_date DATE NOT NULL,
  order_link_hk VARCHAR(32) NOT NULL,
  PRIMARY KEY (customer_h_hk, snapshot_date, order_link_hk)
);
