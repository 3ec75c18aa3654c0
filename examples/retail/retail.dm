## Retail star schema: a hybrid SCD customer dimension, an SCD1 product
## dimension, a calendar and an order-line fact. The embedded DuckDB runtime
## reads the CSV files under data/.
model retail

## Customers as exported from the CRM: one full snapshot per file.
source crm.customers from "data/customers_${batch}.csv" {
  customer_id  int        not null
  full_name    string     not null
  email        string     pii
  segment      string     not null
  country      string(2)  not null
  updated_at   timestamp  not null
  test customer_id unique
  test segment in ["retail", "smb", "enterprise"]
  test "country = upper(country)"
}

## The product catalogue.
source shop.products from "data/products_${batch}.csv" {
  product_code  string(20)      not null
  product_name  string          not null
  category      string
  list_price    decimal(10, 2)
  test product_code unique
  test list_price between 0 and 100000
}

## One row per order line; files arrive every hour, `loaded_at` is the load time.
source shop.order_lines from "data/order_lines_${batch}.csv" {
  order_id      bigint          not null
  line_no       int             not null
  customer_id   int             not null
  product_code  string(20)      not null
  ordered_at    timestamp       not null
  quantity      int             not null
  unit_price    decimal(10, 2)  not null
  amount        decimal(12, 2)  not null
  loaded_at     timestamp       not null
  test order_id, line_no unique
}

## Customers: segment and country are versioned, name and email are corrected in place.
dimension customer from crm.customers {
  key customer_id
  scd2 segment, country
  scd1 full_name, email
  changed_by updated_at
  deletes invalidate
  cluster by country
  test "email is null or email like '%@%'"
}

## Products: the current attributes only.
dimension product from shop.products {
  key product_code
  scd1 product_name, category, list_price
  test product_code unique
}

dimension date calendar 2020-01-01 .. 2030-12-31

## One row per order line.
fact order_line from shop.order_lines {
  grain order_id, line_no
  ## The customer version valid when the order was placed.
  customer -> customer at ordered_at
  product -> product(product_code)
  order_date -> date(ordered_at)
  measure quantity sum
  measure amount sum
  measure unit_price avg
  incremental on loaded_at
  partition by day(ordered_at)
  test ordered_at not null
  test quantity between 0 and 1000
  test customer_id references customer(customer_id)
  test product_code references product(product_code)
  test "amount >= 0"
}
