## A small data vault over customers, orders and products. Hash keys are
## SHA-256, rendered as hex (docs/hashing.md).
model vault {
  hash sha256
}

source crm.customers from "data/customers_${batch}.csv" {
  customer_id  int        not null
  full_name    string     not null
  email        string     pii
  segment      string
  referred_by  int
  updated_at   timestamp  not null
  test customer_id unique
}

## One row per customer and phone type; a customer has several at once.
source crm.customer_phones from "data/customer_phones_${batch}.csv" {
  customer_id   int        not null
  phone_type    string     not null
  phone_number  string     not null pii
  updated_at    timestamp  not null
  test customer_id, phone_type unique
  test phone_type in ["home", "mobile", "work"]
}

source shop.orders from "data/orders_${batch}.csv" {
  order_id      bigint     not null
  customer_ref  int        not null
  status        string     not null
  ordered_at    timestamp  not null
  loaded_at     timestamp  not null
  test order_id, loaded_at unique
  test status in ["placed", "shipped", "delivered", "cancelled"]
}

source shop.products from "data/products_${batch}.csv" {
  product_code  string(20)  not null
  product_name  string      not null
  category      string
}

source shop.order_lines from "data/order_lines_${batch}.csv" {
  order_id      bigint          not null
  line_no       int             not null
  product_code  string(20)      not null
  quantity      int             not null
  amount        decimal(12, 2)  not null
  loaded_at     timestamp       not null
  test order_id, line_no unique
  test quantity between 1 and 1000
}

## Customers known to the CRM or seen on an order, whichever comes first.
hub customer_hub from crm.customers, shop.orders(customer_ref) {
  key customer_id
}

hub order_hub from shop.orders {
  key order_id
}

hub product_hub from shop.products, shop.order_lines {
  key product_code
  record_source "shop"
}

link customer_order from shop.orders {
  hubs customer_hub(customer_ref), order_hub(order_id)
}

## Order lines: one link row per line of an order (line_no is a dependent child key).
link order_product from shop.order_lines {
  hubs order_hub(order_id), product_hub(product_code)
  child line_no
}

## Which customer referred which (a hierarchical link on one hub).
link customer_referral from crm.customers {
  hubs customer_hub(customer_id) as customer, customer_hub(referred_by) as referrer
}

satellite customer_details of customer_hub from crm.customers {
  payload full_name, email, segment
}

## Phone numbers: several active rows per customer, one per phone type.
satellite customer_phones of customer_hub from crm.customer_phones {
  multi_active phone_type
  payload phone_number
}

## Several states of an order in one extract are applied in `loaded_at` order.
satellite order_details of order_hub from shop.orders {
  payload status, ordered_at
  changed_by loaded_at
  late error
}

## Which customer an order currently belongs to; the order drives.
satellite customer_order_eff of customer_order from shop.orders {
  effectivity driving order_hub
}

## The loads in which each customer appeared in a CRM extract.
satellite customer_seen of customer_hub from crm.customers {
  tracking
}

pit customer_pit of customer_hub {
  satellites customer_details, customer_phones
  spine day from 2024-01-01 to 2024-12-31
}

bridge customer_orders of customer_hub {
  links customer_order, order_product
  spine day
}
