CREATE SCHEMA IF NOT EXISTS vault_b;

CREATE TABLE IF NOT EXISTS vault_b.customer (
  customer_key TEXT NOT NULL,
  customer_id INT,
  "name" TEXT,
  email TEXT,
  segment TEXT,
  country TEXT,
  city TEXT,
  previous_city TEXT,
  birth_date DATE,
  name_upper TEXT,
  valid_from TIMESTAMP NOT NULL,
  valid_to TIMESTAMP,
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL,
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (customer_key)
);

CREATE TABLE IF NOT EXISTS vault_b.product (
  product_key TEXT NOT NULL,
  product_id TEXT,
  "name" TEXT,
  category TEXT,
  price DECIMAL(10, 2),
  dw_changed_at TIMESTAMP,
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (product_key)
);

CREATE TABLE IF NOT EXISTS vault_b.date_dim (
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

CREATE TABLE IF NOT EXISTS vault_b.sales (
  order_id BIGINT NOT NULL,
  line_no SMALLINT NOT NULL,
  customer_key TEXT NOT NULL,
  customer_id INT NOT NULL,
  ordered_at TIMESTAMPTZ NOT NULL,
  product_key TEXT NOT NULL,
  product_id TEXT NOT NULL,
  order_date_key INT NOT NULL,
  order_date DATE NOT NULL,
  channel TEXT,
  attrs JSON,
  signature BLOB,
  pickup TIME,
  is_gift BOOLEAN,
  quantity INT,
  amount DECIMAL(12, 2),
  weight DOUBLE,
  ratio REAL,
  net_amount DECIMAL(12, 2),
  big_amount DECIMAL(38, 12),
  dw_loaded_at TIMESTAMP NOT NULL,
  dw_updated_at TIMESTAMP,
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE IF NOT EXISTS vault_b.customer_h (
  customer_h_hk BLOB NOT NULL,
  customer_id INT NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_h_hk)
);

CREATE TABLE IF NOT EXISTS vault_b.product_h (
  product_h_hk BLOB NOT NULL,
  product_id TEXT NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (product_h_hk)
);

CREATE TABLE IF NOT EXISTS vault_b.order_link (
  order_link_hk BLOB NOT NULL,
  customer_hk BLOB NOT NULL,
  product_hk BLOB NOT NULL,
  line_no SMALLINT NOT NULL,
  quantity INT,
  amount DECIMAL(12, 2),
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (order_link_hk)
);

CREATE TABLE IF NOT EXISTS vault_b.customer_details (
  customer_h_hk BLOB NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  hash_diff BLOB NOT NULL,
  "name" TEXT,
  email TEXT,
  segment TEXT,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault_b.customer_phones (
  customer_h_hk BLOB NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  phone_type TEXT NOT NULL,
  hash_diff BLOB NOT NULL,
  phone TEXT,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts, phone_type)
);

CREATE TABLE IF NOT EXISTS vault_b.order_link_eff (
  order_link_hk BLOB NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  start_ts TIMESTAMP NOT NULL,
  end_ts TIMESTAMP,
  is_active BOOLEAN NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (order_link_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault_b.customer_seen (
  customer_h_hk BLOB NOT NULL,
  load_ts TIMESTAMP NOT NULL,
  record_source TEXT NOT NULL,
  PRIMARY KEY (customer_h_hk, load_ts)
);

CREATE TABLE IF NOT EXISTS vault_b.customer_pit (
  customer_h_hk BLOB NOT NULL,
  snapshot_date DATE NOT NULL,
  customer_details_hk BLOB,
  customer_details_load_ts TIMESTAMP,
  customer_phones_hk BLOB,
  customer_phones_load_ts TIMESTAMP,
  PRIMARY KEY (customer_h_hk, snapshot_date)
);

CREATE TABLE IF NOT EXISTS vault_b.customer_orders (
  customer_h_hk BLOB NOT NULL,
  snapshot_date DATE NOT NULL,
  order_link_hk BLOB NOT NULL,
  PRIMARY KEY (customer_h_hk, snapshot_date, order_link_hk)
);
