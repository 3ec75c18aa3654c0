"""The semantic checker: one diagnostic per problem, at the right place, with a useful hint; and the IR."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pytest

from modelc import ir, semantic
from modelc.diagnostics import Severity
from modelc.loader import load_file, load_text
from modelc.parser import parse
from modelc.semantic import CODES, analyze

ROOT = Path(__file__).resolve().parents[1]

# Every case below is appended to this model, which is valid on its own.
PRELUDE = """\
model shop

source crm.customers {
  customer_id  int        not null
  full_name    string
  email        string     pii
  segment      string
  updated_at   timestamp  not null
  birth_date   date
}

source shop.orders {
  order_id       bigint          not null
  line_no        int             not null
  customer_id    int             not null
  customer_code  string
  ordered_at     timestamp       not null
  amount         decimal(12, 2)
  status         string
}

dimension customer from crm.customers {
  key customer_id
  scd2 segment
  scd1 full_name, email
  changed_by updated_at
}

dimension date calendar 2020-01-01 .. 2030-12-31

hub customer_hub from crm.customers {
  key customer_id
}

hub order_hub from shop.orders {
  key order_id
}

link customer_order from shop.orders {
  hubs customer_hub(customer_id), order_hub(order_id)
}

satellite customer_details of customer_hub from crm.customers {
  payload full_name, segment
}
"""
OFFSET = PRELUDE.count("\n")


def diagnose(snippet: str, skip: tuple[str, ...] = ("W203",)) -> list[tuple]:
    """(code, line in the snippet, column, message, hint) of each diagnostic of PRELUDE + snippet."""
    result = load_text(PRELUDE + snippet, "case.dm")
    assert all(d.span.line > OFFSET for d in result.diagnostics if d.code not in skip), result.diagnostics
    return [
        (d.code, d.span.line - OFFSET, d.span.column, d.message, d.hint)
        for d in result.diagnostics
        if d.code not in skip
    ]


def test_prelude_is_valid():
    result = load_text(PRELUDE, "case.dm")
    assert result.ok and result.diagnostics == ()


# (id, snippet, code, line in the snippet, column, message, hint)
CASES = [
    ("unknown-source", "dimension d from crm.custmers {\n  key customer_id\n}\n",
     "E203", 1, 18, "unknown source `crm.custmers`", "did you mean `crm.customers`?"),
    ("unknown-key-column", "dimension d from crm.customers {\n  key custmer_id\n}\n",
     "E204", 2, 7, "unknown column `custmer_id` in source `crm.customers`", "did you mean `customer_id`?"),
    ("unknown-column-in-derive-sql",
     'dimension d from crm.customers {\n  key customer_id\n  derive x = "upper(ful_name)"\n}\n',
     "E204", 3, 21, "unknown column `ful_name` in source `crm.customers`", "did you mean `full_name`?"),
    ("sql-syntax-error", 'dimension d from crm.customers {\n  key customer_id\n  derive x = "upper(full_name"\n}\n',
     "E300", 3, 14, "invalid SQL in derive `x`: Expecting )", None),
    ("sql-statement", 'fact f from shop.orders {\n  grain order_id\n  where "select 1"\n}\n',
     "E300", 3, 9, "where takes an SQL expression, not a statement", None),
    ("unknown-column-in-where", 'fact f from shop.orders {\n  grain order_id\n  where "statu = \'x\'"\n}\n',
     "E204", 3, 10, "unknown column `statu` in source `shop.orders`", "did you mean `status`?"),
    ("duplicate-entity", "dimension customer from crm.customers {\n  key customer_id\n}\n",
     "E200", 1, 11, "duplicate entity name `customer`", "a dimension `customer` is already declared at case.dm:22"),
    ("duplicate-source-column", "source s.t {\n  a int\n  a string\n}\n",
     "E201", 3, 3, "duplicate column `a` in source `s.t`", "first at line 47"),
    ("two-keys", "dimension d from crm.customers {\n  key customer_id\n  key full_name\n}\n",
     "E202", 3, 3, "`key` is given twice in dimension `d`", "first at line 47"),
    ("two-changed-by", "dimension d from crm.customers {\n  key customer_id\n  changed_by updated_at\n"
     "  changed_by birth_date\n}\n",
     "E202", 4, 3, "`changed_by` is given twice in dimension `d`", "first at line 48"),
    ("unknown-dimension", "fact f from shop.orders {\n  grain order_id\n  c -> custmer\n}\n",
     "E205", 3, 8, "unknown dimension `custmer`", "did you mean `customer`?"),
    ("wrong-kind", "fact f from shop.orders {\n  grain order_id\n  c -> customer_hub\n}\n",
     "E210", 3, 8, "`customer_hub` is a hub, not a dimension", "did you mean `customer`?"),
    ("reference-column-count",
     "fact f from shop.orders {\n  grain order_id\n  c -> customer(customer_id, line_no)\n}\n",
     "E301", 3, 17, "dimension `customer` has 1 key column (`customer_id`); 2 given", None),
    ("reference-type", "fact f from shop.orders {\n  grain order_id\n  c -> customer(customer_code)\n}\n",
     "E302", 3, 17, "`customer_code` is string but the key column `customer_id` of dimension `customer` is int", None),
    ("reference-default-columns", "fact f from shop.orders {\n  grain order_id\n  s -> shop\n}\n"
     "dimension shop from crm.customers {\n  key email\n}\n",
     "E204", 3, 8, "unknown column `email` in source `shop.orders`",
     "the reference matches the key of `shop` by name; list the fact's columns: `s -> shop(...)`"),
    ("at-not-temporal", "fact f from shop.orders {\n  grain order_id\n  c -> customer at amount\n}\n",
     "E303", 3, 20, "`at` column `amount` is decimal(12, 2); it must be a date or timestamp", None),
    ("calendar-column-type", "fact f from shop.orders {\n  grain order_id\n  d -> date(status)\n}\n",
     "E304", 3, 13, "a calendar reference takes a date or timestamp column; `status` is string", None),
    ("calendar-two-columns", "fact f from shop.orders {\n  grain order_id\n  d -> date(ordered_at, ordered_at)\n}\n",
     "E304", 3, 13, "a calendar reference takes one date or timestamp column, not 2", "write `d -> date(COLUMN)`"),
    ("sum-of-string", "fact f from shop.orders {\n  grain order_id\n  measure status\n}\n",
     "E305", 3, 11, "measure `status` is string; `sum` needs a number", "use count, count_distinct, min, max or none"),
    ("unknown-aggregation", "fact f from shop.orders {\n  grain order_id\n  measure amount summ\n}\n",
     "E106", 3, 18, "unknown keyword `summ`", "did you mean `sum`?"),  # aggregations are keywords
    ("two-scd-lists", "dimension d from crm.customers {\n  key customer_id\n  scd1 segment\n  scd2 segment\n}\n",
     "E307", 4, 8, "`segment` is in both scd1 and scd2", "a column has one scd type; it is scd1 at line 48"),
    ("alias-not-scd3", "dimension d from crm.customers {\n  key customer_id\n  scd2 segment as old_segment\n}\n",
     "E308", 3, 8, "`as old_segment` names a previous-value column, which only scd3 keeps",
     "move `segment` to an scd3 list, or drop `as`"),
    ("changed-by-not-temporal", "dimension d from crm.customers {\n  key customer_id\n  scd2 segment\n"
     "  changed_by full_name\n}\n",
     "E309", 4, 14, "`changed_by` column `full_name` is string; it must be a date or timestamp",
     "timestamp columns: `updated_at`, `birth_date`"),
    ("bad-deletes-mode", "dimension d from crm.customers {\n  key customer_id\n  deletes invalidte\n}\n",
     "E310", 3, 11, "invalid deletes value `invalidte`", "did you mean `invalidate`?"),
    ("bad-open-end", "dimension d from crm.customers {\n  key customer_id\n  open_end 42\n}\n",
     "E310", 3, 12, "invalid open_end value `42`", "`open_end` takes null or a date such as 9999-12-31"),
    ("satellite-late-without-order",
     "satellite s of customer_hub from crm.customers {\n  payload email\n  late error\n}\n",
     "W206", 3, 3, "`late` on satellite `s` has no effect without `changed_by`: a row is late when it changed "
     "before the stored rows", "add `changed_by COLUMN` (a date or timestamp of the source)"),
    ("multi-active-changed-by", "satellite s of customer_hub from crm.customers {\n  multi_active segment\n"
     "  payload email\n  changed_by updated_at\n}\n",
     "E327", 4, 14, "`changed_by` is not supported on a multi-active satellite",
     "deliver one state per key and batch, or use a standard satellite"),
    ("satellite-changed-by-string",
     "satellite s of customer_hub from crm.customers {\n  payload email\n  changed_by full_name\n}\n",
     "E309", 3, 14, "`changed_by` column `full_name` is string; it must be a date or timestamp", None),
    ("bad-late", "satellite s of customer_hub from crm.customers {\n  payload email\n  changed_by updated_at\n"
     "  late never\n}\n",
     "E310", 4, 8, "invalid late value `never`", "expected ignore or error"),
    ("option-in-wrong-entity", "hub h from crm.customers {\n  key customer_id\n  changed_by updated_at\n}\n",
     "E311", 3, 3, "`changed_by` does not belong in a hub", "`changed_by` is an option of dimensions and satellites"),
    ("load-in-dimension", "dimension d from crm.customers {\n  key customer_id\n  load append\n}\n",
     "E311", 3, 3, "`load` does not belong in a dimension", "`load` is an option of facts"),
    ("calendar-reversed", "dimension cal calendar 2030-01-01 .. 2020-01-01\n",
     "E312", 1, 24, "calendar `cal` is empty: 2030-01-01 is after 2020-01-01", "write the earlier date first"),
    ("spine-reversed", "pit p of customer_hub {\n  spine day from 2024-02-01 to 2024-01-01\n}\n",
     "E312", 2, 18, "spine range is reversed: 2024-02-01 is after 2024-01-01", "write `from EARLIER to LATER`"),
    ("dimension-without-key", "dimension d from crm.customers {\n  scd1 segment\n}\n",
     "E313", 1, 11, "dimension `d` needs a `key`", "add `key COLUMNS` (the natural key)"),
    ("hub-without-key", "hub h from crm.customers {\n}\n",
     "E313", 1, 5, "hub `h` needs a `key`", "add `key COLUMNS` (the business key)"),
    ("satellite-without-payload", "satellite s of customer_hub from crm.customers {\n}\n",
     "E313", 1, 11, "satellite `s` needs a `payload`", "add `payload COLUMNS`, or make it `tracking` or `effectivity`"),
    ("unknown-hub", "link l from shop.orders {\n  hubs customer_hub(customer_id), ordr_hub(order_id)\n}\n",
     "E206", 2, 35, "unknown hub `ordr_hub`", "did you mean `order_hub`?"),
    ("link-with-one-hub", "link l from shop.orders {\n  hubs order_hub(order_id)\n}\n",
     "E314", 2, 3, "link `l` links 1 hub; a link needs two or more",
     "a hub linked to itself needs two roles: `hub(a) as x, hub(b) as y`"),
    ("same-hub-twice", "link l from shop.orders {\n  hubs order_hub(order_id), order_hub(line_no)\n}\n",
     "E315", 2, 29, "hub `order_hub` appears twice in link `l`", "give each its own role: `order_hub(...) as ROLE`"),
    ("hub-key-type", "link l from shop.orders {\n  hubs order_hub(status), customer_hub(customer_id)\n}\n",
     "E302", 2, 18, "`status` is string but the key column `order_id` of hub `order_hub` is bigint", None),
    ("driving-not-in-link", "satellite s of customer_order from shop.orders {\n  effectivity driving ordr_hub\n}\n",
     "E316", 2, 23, "`ordr_hub` is not a hub or role of link `customer_order`", "did you mean `order_hub`?"),
    ("effectivity-on-hub", "satellite s of order_hub from shop.orders {\n  effectivity driving order_hub\n}\n",
     "E317", 2, 3, "an effectivity satellite needs a link as its parent; `order_hub` is a hub",
     "effectivity tracks which relationship of a link is current"),
    ("unknown-satellite", "pit p of customer_hub {\n  satellites customer_detail\n}\n",
     "E208", 2, 14, "unknown satellite `customer_detail`", "did you mean `customer_details`?"),
    ("pit-satellite-of-other-hub", "pit p of order_hub {\n  satellites customer_details\n}\n",
     "E318", 2, 14, "satellite `customer_details` belongs to `customer_hub`, not to hub `order_hub`", None),
    ("unknown-link", "bridge b of customer_hub {\n  links customer_ordr\n}\n",
     "E207", 2, 9, "unknown link `customer_ordr`", "did you mean `customer_order`?"),
    ("bridge-not-connected", "bridge b of customer_hub {\n  links customer_order, other\n}\n"
     "hub a_hub from shop.orders {\n  key line_no\n}\nhub b_hub from shop.orders {\n  key status\n}\n"
     "link other from shop.orders {\n  hubs a_hub(line_no), b_hub(status)\n}\n",
     "E319", 2, 25, "link `other` does not connect to hub `customer_hub` or the links before it",
     "it links `a_hub`, `b_hub`"),
    ("one-source-for-a-link", "link l from shop.orders, crm.customers {\n  hubs customer_hub(customer_id), "
     "order_hub(order_id)\n}\n",
     "E320", 1, 26, "link `l` reads one source; `crm.customers` is one too many", None),
    ("satellite-source-columns", "satellite s of customer_hub from crm.customers(customer_id) {\n  payload email\n}\n",
     "E325", 1, 48, "the source of satellite `s` takes no column list",
     "write the key columns on the parent: `of customer_hub(...)`"),
    ("satellite-two-kinds", "satellite s of customer_order from shop.orders {\n  effectivity driving order_hub\n"
     "  tracking\n}\n",
     "E321", 3, 3, "satellite `s` can be only one of multi_active, effectivity or tracking", None),
    ("physical-unknown-column", "fact f from shop.orders {\n  grain order_id\n  cluster by status\n}\n",
     "E211", 3, 14, "unknown column `status` in fact `f`", "known: `order_id`, `dw_loaded_at`"),
    ("partition-not-temporal", "fact f from shop.orders {\n  grain order_id\n  degenerate status\n"
     "  partition by month(status)\n}\n",
     "E322", 4, 22, "partition column `status` is string; it must be a date or timestamp", None),
    ("diststyle-key-without-distkey", "fact f from shop.orders {\n  grain order_id\n  diststyle key\n}\n",
     "E323", 3, 3, "`diststyle key` needs a `distkey`", "add `distkey COLUMN`"),
    ("bad-diststyle", "fact f from shop.orders {\n  grain order_id\n  diststyle evn\n}\n",
     "E310", 3, 13, "invalid diststyle value `evn`", "did you mean `even`?"),
    ("bad-partition-transform", "fact f from shop.orders {\n  grain order_id\n  c -> customer at ordered_at\n"
     "  partition by week(ordered_at)\n}\n",
     "E310", 4, 16, "invalid partition value `week`", "expected day, month or year"),
    ("incremental-on-string", "fact f from shop.orders {\n  grain order_id\n  incremental on status\n}\n",
     "E324", 3, 18, "`incremental on` column `status` is string; it must be a date, timestamp or number", None),
    ("fact-without-grain", "fact f from shop.orders {\n  measure amount\n}\n",
     "E313", 1, 6, "fact `f` needs a `grain`", "add `grain COLUMNS` (what one row is)"),
    ("test-unknown-entity",
     "fact f from shop.orders {\n  grain order_id\n  test order_id references ordrs(order_id)\n}\n",
     "E209", 3, 28, "unknown entity `ordrs`", "did you mean `shop.orders`?"),
    ("test-column-count", "fact f from shop.orders {\n  grain order_id, line_no\n"
     "  c -> customer\n  test customer_id, line_no references customer(customer_id)\n}\n",
     "E326", 4, 8, "2 column(s) of `f` reference 1 of `customer`", None),
    ("test-unknown-column", "dimension d from crm.customers {\n  key customer_id\n  test full_name not null\n}\n",
     "E211", 3, 8, "unknown column `full_name` in dimension `d`",
     "known: `customer_id`, `d_key`, `dw_changed_at`, `dw_loaded_at`, `dw_updated_at`"),
    ("test-between-reversed", "source s.t {\n  a int\n  test a between 10 and 1\n}\n"
     "fact f from s.t {\n  grain a\n}\n",
     "E312", 3, 18, "`between` range is reversed: 10 is after 1", "write the lower bound first"),
    ("test-sql-column", 'fact f from shop.orders {\n  grain order_id\n  test "amount > 0"\n}\n',
     "E211", 3, 9, "unknown column `amount` in fact `f`", "known: `order_id`, `dw_loaded_at`"),
    ("spine-every", "pit p of customer_hub {\n  spine dya\n}\n",
     "E310", 2, 9, "invalid spine value `dya`", "did you mean `day`?"),
    ("pii-cluster-key", "dimension d from crm.customers {\n  key customer_id\n  scd1 email\n  cluster by email\n}\n",
     "W200", 4, 14, "pii column `email` is used as a cluster key",
     "keys show in table metadata and query plans; pick a column without personal data"),
    ("pii-hub-key", "hub h from crm.customers {\n  key email\n}\n",
     "W201", 2, 7, "business key `email` of hub `h` is pii",
     "hash keys of personal data are still personal data; prefer a surrogate id"),
    ("tracked-key", "dimension d from crm.customers {\n  key customer_id\n  scd1 customer_id, segment\n}\n",
     "W202", 3, 8, "`customer_id` is the key of dimension `d`; tracking it has no effect",
     "remove it from the scd1 list"),
    ("at-without-history", "fact f from shop.orders {\n  grain order_id\n  d -> date(ordered_at) at ordered_at\n}\n",
     "W204", 3, 28, "dimension `date` keeps no history, so `at ordered_at` changes nothing",
     "`at` picks a version of a dimension with scd2 columns; remove it"),
    ("payload-on-plain-link", "link l from shop.orders {\n  hubs customer_hub(customer_id), order_hub(order_id)\n"
     "  payload amount\n}\n",
     "W205", 3, 3, "link `l` is not transactional, so its payload is not kept with history",
     "add `transactional`, or move the columns to a satellite"),
    ("history-column-collision", "dimension d from crm.customers {\n  key customer_id\n  scd2 segment, full_name\n"
     "  valid_from full_name\n}\n",
     "E201", 4, 3, "`full_name` is both a column of dimension `d` and its `valid_from` column",
     "rename it with `valid_from NAME`"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("snippet", "code", "line", "column", "message", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_semantic_case(snippet, code, line, column, message, hint):
    assert diagnose(snippet) == [(code, line, column, message, hint)]


def test_every_code_is_tested_or_listed():
    tested = {c[2] for c in CASES} & set(CODES)  # some cases pin the parser's code (E1xx) on purpose
    untested_here = {"E212", "E213", "E220", "W203"}  # loader, header, graph, unused-source tests below/elsewhere
    # E306 guards trees built in code: the grammar makes aggregations keywords, so the parser reports E106.
    untested_here.add("E306")
    assert set(CODES) == tested | untested_here
    assert all(code[0] in "EW" and len(code) == 4 for code in CODES)


def test_unknown_name_fix_replaces_the_span():
    result = load_text(PRELUDE + "dimension d from crm.customers {\n  key custmer_id\n}\n", "case.dm")
    (diag,) = [d for d in result.diagnostics if d.code == "E204"]
    assert diag.fix is not None and diag.fix.text == "customer_id" and diag.fix.span == diag.span
    text = result.texts["case.dm"]
    assert text[diag.span.start : diag.span.end] == "custmer_id"


def test_sql_column_span_points_inside_the_string():
    result = load_text(
        PRELUDE + 'dimension d from crm.customers {\n  key customer_id\n  derive x = "upper(ful_name)"\n}\n'
    )
    (diag,) = [d for d in result.diagnostics if d.code == "E204"]
    assert result.texts["<string>"][diag.span.start : diag.span.end] == "ful_name"
    assert diag.fix is not None and diag.fix.text == "full_name"


def test_many_problems_in_one_run():
    snippet = """\
dimension d from crm.customers {
  key custmer_id
  scd1 segment
  scd2 segment, email as x
  deletes tombstonee
  changed_by full_name
  load append
}

fact f from shop.orders {
  grain order_id, order_id
  c -> custmer
  measure status avg
  measure amount summ
  incremental on status
  cluster by nothing
}

link l from shop.orders {
  hubs order_hub(order_id)
}

pit p of order_hub {
  satellites customer_details
  spine fortnight
}

dimension cal calendar 2021-01-01 .. 2020-01-01
"""
    codes = [d[0] for d in diagnose(snippet)]
    assert codes == [
        "E204", "E307", "E308", "E310", "E309", "E311",
        "E201", "E205", "E305", "E106", "E324", "E211",
        "E314",
        "E318", "E310",
        "E312",
    ]  # fmt: skip


def test_one_day_calendar_is_valid():
    # Both ends are included: a calendar from a day to the same day holds that day.
    assert diagnose("dimension cal calendar 2024-02-29 .. 2024-02-29\n") == []


def test_ghost_records_setting():
    on = load_text("model m\n\nsource s.t {\n  a int\n}\n", "m.dm")
    off = load_text("model m { ghost_records false }\n\nsource s.t {\n  a int\n}\n", "m.dm")
    assert on.model.settings.ghost_records is True and off.model.settings.ghost_records is False
    bad = load_text("model m { ghost_records off }\n\nsource s.t {\n  a int\n}\n", "m.dm")
    assert [(d.code, d.message) for d in bad.diagnostics if d.is_error] == [
        ("E310", "`ghost_records` takes `true` or `false`")
    ]


def test_unused_source_and_bad_settings():
    text = "model m { schema dw  hash sha512  hash_outpt hex  schema other }\n\nsource s.t {\n  a int\n}\n"
    result = load_text(text, "m.dm")
    got = [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in result.diagnostics]
    assert got == [
        ("E310", 1, 27, "invalid hash value `sha512`", "did you mean `sha256`?"),
        ("E213", 1, 35, "unknown setting `hash_outpt`", "did you mean `hash_output`?"),
        ("E202", 1, 51, "setting `schema` is given twice", "first at line 1"),
        ("W203", 3, 8, "source `s.t` is not used by any entity",
         "build a dimension, fact, hub, link or satellite from it, or remove it"),
    ]  # fmt: skip
    assert result.diagnostics[-1].severity is Severity.WARNING


def test_syntax_errors_do_not_stop_semantic_checks():
    text = PRELUDE + "dimension d from crm.customers {\n  key custmer_id\n  scd1 = \n}\n"
    result = load_text(text, "case.dm")
    codes = {d.code for d in result.diagnostics}
    assert "E204" in codes and any(c.startswith("E1") for c in codes)
    assert result.model is None and not result.ok
    assert "case.dm" in result.modules


def test_warnings_alone_keep_the_model():
    result = load_text(PRELUDE + "source extra.t {\n  a int\n}\n", "case.dm")
    assert result.ok and result.model is not None
    assert [d.code for d in result.diagnostics] == ["W203"]


def test_analyze_never_raises_on_empty_input():
    model, diags = analyze([])
    assert model is not None and model.entities == () and diags == []
    model, diags = analyze([parse("", "empty.dm").module])
    assert model is not None and model.name == "empty" and model.settings.schema == "empty"


# ---- the IR --------------------------------------------------------------------------------------

IR_MODEL = """\
model warehouse { hash sha256  hash_output binary }

## Customers.
source crm.customers from "data/customers_*.csv" {
  customer_id  int            not null
  ## Full name.
  full_name    string(200)
  email        string         pii
  tier         string
  segment      string
  balance      decimal(12, 2)
  updated_at   timestamptz    not null
  op           string
}

source shop.orders from "/abs/orders.parquet" {
  order_id      bigint          not null
  line_no       int             not null
  customer_id   int             not null
  ordered_at    timestamp       not null
  quantity      int
  unit_price    decimal(10, 2)
  status        string
  test status in ["open", "closed", null]
  test quantity between 0 and 1.5
}

dimension customer from crm.customers {
  key customer_id
  scd0 email
  scd2 segment
  scd3 tier, balance as old_balance
  derive name_upper = "upper(full_name)"
  derive band string(1) = "case when balance > 0 then 'A' else 'B' end"
  scd1 band
  changed_by updated_at
  deletes tombstone when "op = 'D'"
  duplicates pick
  late error
  valid_from effective_from
  open_end 9999-12-31
  scd1_scope current
  where "customer_id > 0"
  cluster by segment
}

dimension date calendar 2020-01-01 .. 2030-12-31

fact orders from shop.orders {
  grain order_id, line_no
  customer -> customer at ordered_at
  ordered -> date(ordered_at)
  derive amount = "quantity * unit_price"
  measure amount
  measure quantity avg
  measure order_id count_distinct
  degenerate status
  incremental on ordered_at
  load append
  duplicates pick
  partition by month(ordered_at)
  sortkey ordered_at
  distkey order_id
  diststyle key
  test customer_id references customer(customer_id)
}

hub customer_hub from crm.customers, shop.orders(customer_id) {
  key customer_id
  record_source "crm"
}

hub order_hub from shop.orders {
  key order_id
}

link order_customer from shop.orders {
  hubs order_hub(order_id), customer_hub(customer_id) as buyer
  child line_no
  transactional
  payload quantity
}

link referral from shop.orders {
  hubs customer_hub(customer_id) as referrer, customer_hub(line_no) as referred
}

satellite customer_details of customer_hub from crm.customers {
  payload full_name, email
  changed_by updated_at
  late error
}

satellite order_lines of order_hub from shop.orders {
  multi_active line_no
  payload quantity
  record_source "shop"
  partition by day(load_ts)
}

satellite order_customer_eff of order_customer from shop.orders {
  effectivity driving customer_hub
}

satellite seen of customer_hub(customer_id) from shop.orders {
  tracking
}

pit customer_pit of customer_hub {
  spine week from 2024-01-01
  test customer_hub_hk, snapshot_date unique
}

bridge order_bridge of customer_hub {
  links order_customer
}
"""


@pytest.fixture(scope="module")
def model() -> ir.Model:
    result = load_text(IR_MODEL, "/models/warehouse.dm")
    assert result.ok, result.diagnostics
    assert result.diagnostics == ()
    return result.model


def test_model_header_and_settings(model):
    assert model.name == "warehouse"
    assert model.settings == ir.Settings(schema="warehouse", hash="sha256", hash_output="binary")
    assert model.files == ("/models/warehouse.dm",)
    assert [e.kind for e in model.entities][:5] == ["source", "source", "dimension", "calendar", "fact"]


def test_source_ir(model):
    src = model.get("crm.customers")
    assert (src.schema, src.table, src.location) == ("crm", "customers", "/models/data/customers_*.csv")
    assert src.doc == "Customers."
    assert src.column("customer_id") == ir.Column("customer_id", ir.Type("int"), nullable=False)
    assert src.column("full_name").type == ir.Type("string", length=200)
    assert src.column("full_name").doc == "Full name."
    assert src.column("email").pii
    assert src.column("balance").type == ir.Type("decimal", 12, 2)
    orders = model.get("shop.orders")
    assert orders.location == "/abs/orders.parquet"
    accepted, between = orders.tests
    assert accepted == ir.DataTest("accepted_values", ("status",), values=("open", "closed", None))
    assert between == ir.DataTest("accepted_range", ("quantity",), low=0, high=decimal.Decimal("1.5"))


def test_dimension_ir(model):
    d = model.get("customer")
    assert isinstance(d, ir.Dimension)
    assert d.key == (ir.Column("customer_id", ir.Type("int"), nullable=False),)
    cols = {c.name: c for c in d.columns}
    assert [c.name for c in d.columns] == ["email", "segment", "tier", "balance", "name_upper", "band"]
    assert [c.scd for c in d.columns] == [0, 2, 3, 3, 1, 1]
    assert cols["tier"].previous == "previous_tier" and cols["balance"].previous == "old_balance"
    assert cols["email"].pii and cols["email"].previous is None
    assert cols["name_upper"].expression == "upper(full_name)" and cols["name_upper"].type == ir.Type("string")
    assert cols["band"].type == ir.Type("string", length=1)
    assert d.change == ir.ChangeDetection("timestamp", "updated_at")
    assert d.deletes == ir.DeletePolicy("tombstone", "op = 'D'")
    assert (d.duplicates, d.late, d.filter) == ("pick", "error", "customer_id > 0")
    assert d.history == ir.History(valid_from="effective_from", open_end=dt.date(9999, 12, 31), scd1_scope="current")
    assert d.physical == ir.Physical(cluster_by=("segment",))
    assert d.versioned


def test_dimension_defaults():
    text = "source s.t {\n  id int\n  a string\n}\ndimension d from s.t {\n  key id\n  scd1 a\n}\n"
    d = load_text(text).model.get("d")
    assert d.change == ir.ChangeDetection("compare")
    assert (d.deletes, d.duplicates, d.late, d.history) == (ir.DeletePolicy(), "error", "ignore", ir.History())
    assert d.physical == ir.Physical() and d.filter is None and not d.versioned


def test_calendar_ir(model):
    assert model.get("date") == ir.Calendar("date", dt.date(2020, 1, 1), dt.date(2030, 12, 31))


def test_fact_ir(model):
    f = model.get("orders")
    assert [c.name for c in f.grain] == ["order_id", "line_no"]
    assert f.grain[0].type == ir.Type("bigint")
    assert f.references == (
        ir.DimensionRef("customer", "customer", ("customer_id",), "ordered_at"),
        ir.DimensionRef("ordered", "date", ("ordered_at",), None),
    )
    # `quantity * unit_price` is typed by sqlglot's annotate_types.
    assert f.derived == (ir.DerivedColumn("amount", ir.Type("decimal", 10, 2), "quantity * unit_price"),)
    assert [(m.name, m.type.name, m.aggregation) for m in f.measures] == [
        ("amount", "decimal", "sum"), ("quantity", "int", "avg"), ("order_id", "bigint", "count_distinct"),
    ]  # fmt: skip
    assert [c.name for c in f.degenerate] == ["status"]
    assert (f.incremental, f.load, f.duplicates) == ("ordered_at", "append", "pick")
    assert f.physical == ir.Physical(partition_by="ordered_at", partition_transform="month", sortkey=("ordered_at",),
                                     distkey="order_id", diststyle="key")  # fmt: skip
    assert f.tests == (ir.DataTest("relationships", ("customer_id",), ref_entity="customer",
                                   ref_columns=("customer_id",)),)  # fmt: skip


def test_hub_ir(model):
    h = model.get("customer_hub")
    assert h.key == (ir.Column("customer_id", ir.Type("int"), nullable=False),)
    assert h.sources == (
        ir.SourceMapping("crm.customers", ("customer_id",), "crm"),
        ir.SourceMapping("shop.orders", ("customer_id",), "crm"),
    )
    assert model.get("order_hub").sources == (ir.SourceMapping("shop.orders", ("order_id",), "shop.orders"),)


def test_link_ir(model):
    link = model.get("order_customer")
    assert (link.source, link.record_source, link.transactional) == ("shop.orders", "shop.orders", True)
    assert link.hubs == (
        ir.LinkHub("order_hub", "order_hub", ("order_id",)),  # the role defaults to the hub name
        ir.LinkHub("customer_hub", "buyer", ("customer_id",)),
    )
    assert [c.name for c in link.child] == ["line_no"] and [c.name for c in link.payload] == ["quantity"]
    roles = [h.role for h in model.get("referral").hubs]
    assert roles == ["referrer", "referred"]


def test_satellite_ir(model):
    details = model.get("customer_details")
    assert (details.parent, details.parent_kind, details.parent_columns) == ("customer_hub", "hub", ("customer_id",))
    assert (details.satellite_kind, details.record_source) == ("standard", "crm.customers")
    assert (details.changed_by, details.late) == ("updated_at", "error")
    assert [c.name for c in details.payload] == ["full_name", "email"]
    lines = model.get("order_lines")
    assert lines.satellite_kind == "multi_active" and [c.name for c in lines.multi_active] == ["line_no"]
    assert (lines.record_source, lines.late, lines.changed_by) == ("shop", "ignore", None)
    assert lines.physical == ir.Physical(partition_by="load_ts", partition_transform="day")
    eff = model.get("order_customer_eff")
    assert (eff.parent_kind, eff.satellite_kind, eff.driving, eff.parent_columns) == (
        "link", "effectivity", "buyer", ()
    )  # fmt: skip
    seen = model.get("seen")
    assert (seen.satellite_kind, seen.payload, seen.parent_columns) == ("tracking", (), ("customer_id",))


def test_pit_and_bridge_ir(model):
    pit = model.get("customer_pit")
    # Without a `satellites` line a PIT covers every satellite of its hub, in declaration order.
    assert pit.satellites == ("customer_details", "seen")
    assert pit.spine == ir.Spine("week", dt.date(2024, 1, 1), None)
    assert model.get("order_bridge").spine == ir.Spine()
    assert model.get("order_bridge").links == ("order_customer",)


def test_model_name_defaults_to_the_file_stem(tmp_path):
    path = tmp_path / "sales-model.dm"
    path.write_text("source s.t {\n  a int\n}\n", "utf-8")
    model = load_file(path).model
    assert model.name == "sales_model" and model.settings.schema == "sales_model"


def test_generated_column_names_match_the_plan():
    plan = pytest.importorskip("modelc.plan")
    for name in ("KEY_SUFFIX", "HASH_KEY_SUFFIX", "LOAD_TS_SUFFIX", "LOADED_AT", "UPDATED_AT", "CHANGED_AT",
                 "IS_DELETED", "LOAD_TS", "RECORD_SOURCE", "HASH_DIFF", "SNAPSHOT_DATE", "START_TS", "END_TS",
                 "IS_ACTIVE", "PREVIOUS_PREFIX"):  # fmt: skip
        if hasattr(plan, name):
            assert getattr(semantic, name) == getattr(plan, name), name


# ---- multi-file models -----------------------------------------------------------------------------


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, "utf-8")


def test_names_resolve_across_files(tmp_path):
    write(tmp_path, {
        "main.dm": 'model m\n\nimport "shared/sources.dm"\n\n'
                   "dimension c from crm.customers {\n  key id\n  scd1 name\n}\n",
        "shared/sources.dm": 'source crm.customers from "../data/c.csv" {\n  id int\n  name string\n}\n',
    })  # fmt: skip
    result = load_file(tmp_path / "main.dm")
    assert result.ok and result.diagnostics == ()
    model = result.model
    assert [e.name for e in model.entities] == ["c", "crm.customers"]  # root first, then imports
    assert model.get("crm.customers").location == str(tmp_path / "data" / "c.csv")
    assert model.files == (str(tmp_path / "main.dm"), str(tmp_path / "shared" / "sources.dm"))


def test_duplicate_across_files_and_errors_in_imported_files(tmp_path):
    write(tmp_path, {
        "main.dm": 'model m\nimport "lib.dm"\nsource crm.customers {\n  id int\n}\n'
                   "dimension c from crm.customers {\n  key idd\n}\n",
        "lib.dm": "source crm.customers {\n  id int\n}\nfact f from crm.customers {\n  grain nope\n}\n",
    })  # fmt: skip
    result = load_file(tmp_path / "main.dm")
    got = [(Path(d.span.file).name, d.span.line, d.code) for d in result.diagnostics]
    assert got == [("lib.dm", 1, "E200"), ("lib.dm", 5, "E204"), ("main.dm", 7, "E204")]
    dup = result.diagnostics[0]
    assert dup.hint == f"a source `crm.customers` is already declared at {tmp_path / 'main.dm'}:3"


# ---- the examples ------------------------------------------------------------------------------------

EXAMPLES = sorted((ROOT / "examples").rglob("*.dm"))


@pytest.mark.skipif(not EXAMPLES, reason="no examples yet")
@pytest.mark.parametrize("path", EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_example_loads_without_errors(path):
    result = load_file(path)
    errors = [f"{d.span}: {d.code} {d.message}" for d in result.diagnostics if d.is_error]
    assert not errors, "\n".join(errors)
    assert result.model is not None
