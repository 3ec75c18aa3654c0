"""No input makes `parse()` raise: random bytes, random text, and mangled versions of a model that uses
every construct of the grammar. Each run must give a `ParseResult` whose diagnostics all render.

Sized for CI (the whole file runs in well under 40 s); raise FUZZ_EXAMPLES locally for a longer hunt.
"""

from __future__ import annotations

import os
import random
import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelc import ast
from modelc.diagnostics import Diagnostic, render
from modelc.parser import ParseResult, lark_parser, parse

# A valid model with every construct the grammar has (syntax only: it need not pass the checker).
FULL_MODEL = """\
## The shop warehouse.
model shop {
  dialect duckdb
  schema "analytics"
  version 3
  ratio 0.5
  strict true
  since 2024-01-01
  stamp 2024-01-01T10:00:00Z
  nothing null
  `quoted key` value
}

import "common.dm"
import "more/other.dm"

## Customers from the CRM.
source crm.customers from "raw/customers.csv" {
  customer_id int not null
  name string(200) pii
  `e-mail` string not null pii
  balance decimal(12, 2)
  signup date
  updated_at timestamp
  status string
  test customer_id unique
  test customer_id, name not null
  test status in ["a", "b", 1, -2, 2.5, 2024-01-01, 2024-01-01 10:00, null, true, `x`]
  test balance between 0 and 1000000
  test customer_id references customers(customer_id)
  test "balance >= 0"
}

source crm.orders {
  order_id bigint not null
  customer_id int
  order_date date
  amount decimal(10, 2)
}

dimension customers from crm.customers {
  key customer_id
  scd0 signup
  scd1 `e-mail`
  scd2 name, balance
  scd3 status as previous_status, name as previous_name
  changed_by updated_at
  deletes soft when "op = 'D'"
  deletes hard
  duplicates latest
  late reject
  valid_from valid_from
  valid_to valid_to
  is_current is_current
  open_end 9999-12-31
  scd1_scope all
  record_source "crm"
  load full
  derive full_name string = "first || ' ' || last"
  derive flag = "1"
  where "customer_id is not null"
  partition by signup (month)
  partition by signup
  cluster by customer_id, name
  order by customer_id
  sortkey customer_id, signup
  distkey customer_id
  diststyle key
  engine MergeTree
  test customer_id unique
  test name, `e-mail` not null
  test status in ["a"]
  test balance between -1 and 1.5
  test customer_id references customers(customer_id)
  test "balance >= 0"
}

dimension dates calendar 2000-01-01 .. 2030-12-31

fact orders from crm.orders {
  grain order_id, order_date
  customer -> customers (customer_id) at order_date
  order_day -> dates (order_date)
  seller -> customers at order_date
  measure amount sum
  measure quantity
  degenerate order_id, status
  incremental on order_date
  load append
  derive net decimal(10, 2) = "amount - tax"
  where "amount > 0"
  partition by order_date (day)
  cluster by customer_id
  test order_id unique
}

hub customer from crm.customers(customer_id), erp.clients(client_no), web.users {
  key customer_id
  record_source "multi"
  partition by customer_id
  test customer_id unique
}

link order_customer from crm.orders, web.orders(order_id, customer_id) {
  hubs customer(customer_id) as buyer, customer(seller_id) as seller, product(product_id, variant)
  child line_no, batch
  transactional
  payload amount, quantity
  record_source "orders"
}

satellite customer_details of customer(customer_id) from crm.customers {
  payload name, `e-mail`
  multi_active phone_type
  late accept
}

satellite customer_eff of order_customer from crm.orders {
  effectivity driving customer
}

satellite customer_track of customer from crm.customers, web.users(user_id) {
  tracking
}

pit customer_pit of customer {
  satellites customer_details, customer_track
  spine day from 2020-01-01 to 2030-12-31
  cluster by customer_id
}

bridge order_bridge of customer {
  links order_customer
  spine month
}

bridge order_bridge2 of customer {
  links order_customer, order_customer
  spine week from 2021-01-01
}
"""

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = re.findall(r'"(?:[^"\\\n]|\\.)*"|`[^`\n]*`|#[^\n]*|\w[\w.:+-]*|->|\.\.|[^\s\w]', FULL_MODEL)
LINES = FULL_MODEL.split("\n")
NOISE = [
    *("model import source dimension calendar fact hub link satellite pit bridge from of as at on by".split()),
    *("key test unique not null pii in between and references scd2 grain measure spine to".split()),
    *list('{}()[],.=`"#$;:/\\'),
    *("->", "..", "\t", "\n", "\r\n", "\ufeff", "\x00", "\u2028", "2020-13-45", "1e9", "-", "``", '"\\'),
]


def check(result: ParseResult) -> None:
    """What every parse must give: a result, sane spans, renderable diagnostics and no internal error."""
    assert isinstance(result, ParseResult)
    assert isinstance(result.module, ast.Module)
    lines = result.text.count("\n") + 1
    for d in result.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.code != "E199", d  # the safety net in parse() must never be needed
        assert 1 <= d.span.line <= lines and d.span.column >= 1, d
        assert isinstance(render(d, result.text), str)
        assert isinstance(render(d, result.text, colour=True), str)
        assert isinstance(render(d), str)
    assert list(result.diagnostics) == sorted(result.diagnostics, key=Diagnostic.sort_key)


def test_full_model_is_valid_and_uses_every_construct() -> None:
    result = parse(FULL_MODEL, "full.dm")
    assert result.diagnostics == ()
    used = {type(node).__name__ for node in result.module.walk()}
    every = {name for name, cls in vars(ast).items() if isinstance(cls, type) and issubclass(cls, ast.Node)}
    assert every - used - {"Node", "Comment"} == set()


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    check(parse(data, "fuzz.dm"))


@FUZZ
@given(st.text(max_size=1000))
def test_random_text(text: str) -> None:
    check(parse(text, "fuzz.dm"))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS + NOISE), max_size=200))
def test_random_token_soup(tokens: list[str]) -> None:
    check(parse(" ".join(tokens), "fuzz.dm"))


Edit = tuple[str, int, int, str]  # (operation, position, other position, text)


@st.composite
def edits(draw: st.DrawFn, size: int) -> list[Edit]:
    ops = st.sampled_from(["delete", "duplicate", "swap", "insert"])
    pos = st.integers(0, size - 1)
    return draw(st.lists(st.tuples(ops, pos, pos, st.sampled_from(NOISE + TOKENS)), min_size=1, max_size=6))


def apply(items: list[str], changes: list[Edit]) -> list[str]:
    items = list(items)
    for op, i, j, text in changes:
        if not items:
            break
        i, j = i % len(items), j % len(items)
        if op == "delete":
            del items[i]
        elif op == "duplicate":
            items.insert(i, items[i])
        elif op == "swap":
            items[i], items[j] = items[j], items[i]
        else:
            items.insert(i, text)
    return items


@FUZZ
@given(edits(len(TOKENS)), st.sampled_from([" ", "\n", "  "]))
def test_mutated_tokens(changes: list[Edit], joiner: str) -> None:
    check(parse(joiner.join(apply(TOKENS, changes)), "fuzz.dm"))


@FUZZ
@given(edits(len(LINES)))
def test_mutated_lines(changes: list[Edit]) -> None:
    check(parse("\n".join(apply(LINES, changes)), "fuzz.dm"))


@FUZZ
@given(st.integers(0, len(FULL_MODEL)), st.booleans())
def test_truncated_anywhere(cut: int, as_bytes: bool) -> None:
    text = FULL_MODEL[:cut]
    check(parse(text.encode() if as_bytes else text, "fuzz.dm"))


@FUZZ
@given(st.integers(0, len(FULL_MODEL.encode())), st.binary(min_size=1, max_size=4))
def test_bytes_spliced_in(at: int, junk: bytes) -> None:
    data = FULL_MODEL.encode()
    check(parse(data[:at] + junk + data[at:], "fuzz.dm"))


LEXEMES = [t.value for t in lark_parser().lex(FULL_MODEL)]  # comments dropped
BASELINE = parse(" ".join(LEXEMES))
GAPS = [" ", "\n", "\n\n    ", "  ", " # note\n", "\r\n", "\n# comment\n  "]


def _same_model(a: ast.Module, b: ast.Module) -> bool:
    return (a.header, a.imports, a.entities) == (b.header, b.imports, b.entities)


@settings(FUZZ, max_examples=max(1, EXAMPLES // 2))
@given(st.randoms(use_true_random=False))
def test_layout_never_matters(rng: random.Random) -> None:
    """The grammar ignores white space: the recovery heuristics, which look at lines, must never report an
    error in a valid model, however it is laid out."""
    text = "".join(lexeme + rng.choice(GAPS) for lexeme in LEXEMES)
    result = parse(text, "layout.dm")
    assert result.diagnostics == (), text
    assert _same_model(result.module, BASELINE.module)


# ---- time: linear on good and on bad input -------------------------------------------------------


def _big_model(lines: int) -> str:
    out = ["model big", ""]
    i = 0
    while len(out) < lines:
        out += [f'source crm.t{i} from "raw/t{i}.csv" {{', *(f"  col{j} string(20) not null" for j in range(20))]
        out += ["  test col0 unique", "}", f"dimension d{i} from crm.t{i} {{", "  key col0", "  scd2 col1, col2", "}"]
        out += [f"fact f{i} from crm.t{i} {{", "  grain col0", f"  customer -> d{i} (col0) at col1", "}", ""]
        i += 1
    return "\n".join(out) + "\n"


def test_a_5000_line_model_parses_quickly() -> None:
    text = _big_model(5000)
    parse("model warm_up")
    start = time.process_time()
    result = parse(text, "big.dm")
    elapsed = time.process_time() - start
    assert result.diagnostics == ()
    assert elapsed < 3.0, f"{elapsed:.2f} s"  # about 0.35 s on a laptop; the bound only catches blow-ups


def test_garbage_stays_linear() -> None:
    """Costly repairs stop after a fixed number per file; the rest is plain panic mode."""
    soup = "".join(TOKENS[(i * 7919) % len(TOKENS)] + " \n"[i % 5 == 0] for i in range(20000))
    start = time.process_time()
    result = parse(soup, "soup.dm")
    elapsed = time.process_time() - start
    check(result)
    assert len(result.diagnostics) > 200
    assert elapsed < 6.0, f"{elapsed:.2f} s"  # about 0.6 s on a laptop
