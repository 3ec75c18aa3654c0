"""Hypothesis strategies for the fact property test: a small star and run sequences for it.

The star: a customer dimension (scd2 `segment`, scd1 `name`, `changed_by updated_at`, deletes
`ignore` or `invalidate`, snapshot or CDC), a calendar over `CALENDAR_START .. CALENDAR_END`, and a
fact `sale` over `shop.sales` whose options (grain, a second reference without `at`, a degenerate
column, `incremental on loaded_at`, `load`, `duplicates`) are drawn:

    case, runs = data.draw(scenarios())
    text = to_dm_text(case)                       # compile this with modelc
    for run in runs:                              # one `modelc run`: calendar, customer, sale
        ... load run.customers, then run.sales, at run.load_ts

The dimension side is a clean feed (one change per key and timestamp, timestamps increasing, every
change before its run's load timestamp) so that the dimension only plays its part of supplying
versions, gaps and late-arriving members; its own corner cases are tests/test_load_properties.py's
job. The fact side is noisy on purpose: unknown and never-existing customers, NULL references, NULL
grains, identical duplicates, conflicting rows of one grain, order times before a customer's first
version, on version boundaries, in delete gaps and outside the calendar, rows below the watermark,
and reruns of a whole run at the same or a later load timestamp.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple

from hypothesis import strategies as st
from reference.dimension import Row

__all__ = [
    "BASE",
    "CALENDAR_END",
    "CALENDAR_START",
    "CUSTOMER_COLUMNS",
    "SALES_COLUMNS",
    "FactCase",
    "Run",
    "cases",
    "scenarios",
    "to_dm_text",
]

BASE = dt.datetime(2024, 1, 1)
CALENDAR_START, CALENDAR_END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)

CUSTOMER_COLUMNS = {
    "customer_id": "int",
    "segment": "string",
    "name": "string",
    "updated_at": "timestamp",
    "op": "string",
}
SALES_COLUMNS = {
    "order_id": "int",
    "line_no": "int",
    "customer_id": "int",
    "referrer_id": "int",
    "ordered_at": "timestamp",
    "channel": "string",
    "quantity": "int",
    "amount": "decimal(10, 2)",
    "loaded_at": "timestamp",
}

CUSTOMER_KEYS = (1, 2, 3, 4)
# 9 never exists; None is a NULL reference. Known keys dominate so that most rows resolve.
FACT_CUSTOMERS = (1, 1, 2, 2, 3, 4, 9, None)
REFERRERS = (1, 2, 4, 9, None)
SEGMENTS = ("a", "b", None)
NAMES = ("x", "y")
CHANNELS = (None, "web", "", "a|b", "\\N")  # hashing's special characters, for `duplicates pick`
QUANTITIES = (None, 0, 1, 5, -1)
AMOUNTS = (None, Decimal("0.00"), Decimal("1.50"), Decimal("12.25"), Decimal("99999999.99"))
# The calendar's edges: the last instant inside it and the first ones outside.
EDGE_TIMES = (
    dt.datetime(2023, 12, 31, 23, 59, 59),
    dt.datetime(2024, 1, 1),
    dt.datetime(2024, 3, 31, 23, 59, 59),
    dt.datetime(2024, 4, 1),
    dt.datetime(2025, 1, 1),
)


@dataclass(frozen=True)
class FactCase:
    grain: tuple[str, ...] = ("order_id", "line_no")
    referrer: bool = False  # `referrer -> customer(referrer_id)`: a versioned reference without `at`
    degenerate: bool = False  # `degenerate channel`
    incremental: bool = False  # `incremental on loaded_at`
    load: Literal["upsert", "append"] = "upsert"
    duplicates: Literal["error", "pick"] = "error"
    deletes: Literal["ignore", "invalidate"] = "ignore"
    cdc: bool = False  # `deletes ... where "op = 'D'"`: the customer feed sends events, else snapshots
    hash: Literal["md5", "sha256"] = "md5"


class Run(NamedTuple):
    customers: list[Row]
    sales: list[Row]
    load_ts: dt.datetime


def cases() -> st.SearchStrategy[FactCase]:
    return st.builds(
        FactCase,
        grain=st.sampled_from((("order_id",), ("order_id", "line_no"))),
        referrer=st.booleans(),
        degenerate=st.booleans(),
        incremental=st.booleans(),
        load=st.sampled_from(("upsert", "append")),
        duplicates=st.sampled_from(("error", "pick")),
        deletes=st.sampled_from(("ignore", "invalidate")),
        cdc=st.booleans(),
        hash=st.sampled_from(("md5", "sha256")),
    )


def to_dm_text(case: FactCase, calendar_end: dt.date = CALENDAR_END) -> str:
    def source(name: str, columns: dict[str, str]) -> list[str]:
        return [f"source {name} {{", *(f"  {c} {t}" for c, t in columns.items()), "}"]

    lines = ["model fact_check {", "  schema dw", f"  hash {case.hash}", "}"]
    lines += source("crm.customers", CUSTOMER_COLUMNS) + source("shop.sales", SALES_COLUMNS)
    where = " when \"op = 'D'\"" if case.cdc else ""
    lines += [
        "dimension customer from crm.customers {",
        "  key customer_id",
        "  scd2 segment",
        "  scd1 name",
        "  changed_by updated_at",
        f"  deletes {case.deletes}{where}",
        "}",
        f"dimension date calendar {CALENDAR_START.isoformat()} .. {calendar_end.isoformat()}",
        "fact sale from shop.sales {",
        f"  grain {', '.join(case.grain)}",
        "  customer -> customer at ordered_at",
    ]
    if case.referrer:
        lines.append("  referrer -> customer(referrer_id)")
    lines.append("  order_date -> date(ordered_at)")
    if case.degenerate:
        lines.append("  degenerate channel")
    lines += ["  measure quantity sum", "  measure amount sum"]
    if case.incremental:
        lines.append("  incremental on loaded_at")
    lines += [f"  load {case.load}", f"  duplicates {case.duplicates}", "}"]
    return "\n".join(lines) + "\n"


# ---- run sequences ------------------------------------------------------------------------------


@st.composite
def scenarios(draw: st.DrawFn, max_runs: int = 6) -> tuple[FactCase, list[Run]]:
    case = draw(cases(), label="case")
    return case, draw(runs(case, max_runs), label="runs")


@st.composite
def runs(draw: st.DrawFn, case: FactCase, max_runs: int = 6) -> list[Run]:
    customers: dict[int, Row] = {}  # the CRM now
    history: dict[int, list[dt.datetime]] = {}  # change times per customer ever sent: version boundaries
    sales: dict[tuple[object, ...], Row] = {}  # the last row sent per (order_id, line_no)
    out: list[Run] = []
    day = 0
    for _ in range(draw(st.integers(1, max_runs))):
        if out and draw(st.integers(0, 4)) == 0:
            # The same run again, at the same load timestamp or an hour later: must change nothing.
            last = out[-1]
            later = dt.timedelta(hours=draw(st.sampled_from((0, 1))))
            out.append(Run([dict(r) for r in last.customers], [dict(r) for r in last.sales], last.load_ts + later))
            continue
        day += 1
        window, load_ts = BASE + dt.timedelta(days=day - 1), BASE + dt.timedelta(days=day)
        events = _customer_events(draw, customers, window, case.deletes == "invalidate")
        for e in events:
            # A snapshot closes a deleted key's version at the load timestamp, a CDC delete at its own time.
            closed = load_ts if e["op"] == "D" and not case.cdc else e["updated_at"]
            history.setdefault(e["customer_id"], []).append(closed)  # type: ignore[arg-type]
        feed = [dict(e) for e in events] if case.cdc else [dict(r) for r in customers.values()]
        rows = _sales(draw, case, sales, history, load_ts)
        out.append(Run(draw(st.permutations(feed)), draw(st.permutations(rows)), load_ts))
    return out


def _customer_events(draw: st.DrawFn, customers: dict[int, Row], window: dt.datetime, gaps: bool) -> list[Row]:
    """Change the CRM; one event per change, at distinct hours of the window (so never a conflict).
    With `gaps` (deletes invalidate) deletes are more frequent: each one opens a delete gap."""
    events: list[Row] = []
    for hour in sorted(draw(st.lists(st.integers(1, 23), max_size=4, unique=True))):
        ts = window + dt.timedelta(hours=hour)
        key = draw(st.sampled_from(CUSTOMER_KEYS))
        current = customers.get(key)
        if current is not None and draw(st.integers(0, 1 if gaps else 3)) == 0:
            del customers[key]
            # A CDC delete carries the last values or only the key.
            values = current if draw(st.booleans()) else {"segment": None, "name": None}
            events.append({**values, "customer_id": key, "updated_at": ts, "op": "D"})
            continue
        # A new key, a change, or a deleted key coming back (with a change time after its deletion).
        row: Row = {
            "customer_id": key,
            "segment": draw(st.sampled_from(SEGMENTS)),
            "name": draw(st.sampled_from(NAMES)),
            "updated_at": ts,
            "op": "I" if current is None else "U",
        }
        customers[key] = row
        events.append(row)
    return events


def _order_time(draw: st.DrawFn, boundaries: list[dt.datetime]) -> dt.datetime | None:
    kind = draw(st.sampled_from(("boundary", "boundary", "latest", "any", "any", "edge", "null")))
    if kind == "boundary" and boundaries:  # on, just before or just after a version boundary
        offset = dt.timedelta(minutes=draw(st.sampled_from((-60, -1, 0, 0, 1, 60))))
        return draw(st.sampled_from(boundaries)) + offset
    if kind == "latest" and boundaries:  # after the customer's last change: in a delete gap if that was a delete
        return boundaries[-1] + dt.timedelta(minutes=draw(st.sampled_from((1, 60))))
    if kind == "edge":
        return draw(st.sampled_from(EDGE_TIMES))
    if kind == "null":
        return None
    return BASE + dt.timedelta(hours=draw(st.integers(-30, 24 * 8)))


def _sales(
    draw: st.DrawFn,
    case: FactCase,
    sent: dict[tuple[object, ...], Row],
    history: dict[int, list[dt.datetime]],
    load_ts: dt.datetime,
) -> list[Row]:
    loaded_at = load_ts - dt.timedelta(minutes=30)  # increases from run to run: the watermark moves
    known = sorted(history)

    def member(pool: tuple[int | None, ...]) -> int | None:
        # Mostly a customer already loaded; else any of the pool: NULL, the never-existing 9, or one
        # that arrives in a later run (a late-arriving member: its rows are re-keyed then).
        if known and draw(st.integers(0, 2)) > 0:
            return draw(st.sampled_from(known))
        return draw(st.sampled_from(pool))

    def fresh(order_id: object, line_no: object) -> Row:
        customer_id = member(FACT_CUSTOMERS)
        return {
            "order_id": order_id,
            "line_no": line_no,
            "customer_id": customer_id,
            "referrer_id": member(REFERRERS),
            "ordered_at": _order_time(draw, history.get(customer_id, []) if customer_id is not None else []),
            "channel": draw(st.sampled_from(CHANNELS)),
            "quantity": draw(st.sampled_from(QUANTITIES)),
            "amount": draw(st.sampled_from(AMOUNTS)),
            "loaded_at": loaded_at,
        }

    def grain(row: Row) -> tuple[object, ...]:
        return tuple(row[g] for g in case.grain)

    # One row per grain here; conflicts come from the noise below, so that most loads get through.
    rows: list[Row] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(("new", "new", "change", "resend")))
        taken = {grain(r) for r in rows}
        old = [r for r in sent.values() if grain(r) not in taken]
        if kind == "new" or not old:
            row = fresh(draw(st.integers(1, 6)), draw(st.integers(1, 2)))
            if grain(row) in taken:
                continue
        else:
            row = dict(draw(st.sampled_from(old)))
            if kind == "change":  # a correction of some columns, sent again with this run's loaded_at
                new = fresh(row["order_id"], row["line_no"])
                for col in draw(st.lists(st.sampled_from(("customer_id", "ordered_at", "amount", "channel")))):
                    row[col] = new[col]
                row["loaded_at"] = loaded_at
        rows.append(row)
    sent.update({(r["order_id"], r["line_no"]): r for r in rows})
    noise: list[Row] = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(("duplicate", "duplicate", "conflict", "null_grain", "below_mark", "null_mark")))
        if not rows:
            break
        row = dict(draw(st.sampled_from(rows)))
        if kind == "conflict":  # same grain, another amount (may draw the same one: then a duplicate)
            row["amount"] = draw(st.sampled_from(AMOUNTS))
        elif kind == "null_grain":
            row[draw(st.sampled_from(("order_id", "line_no")))] = None
        elif kind == "below_mark":  # re-sent late with an older loaded_at and another quantity
            row["quantity"] = draw(st.sampled_from(QUANTITIES))
            row["loaded_at"] = loaded_at - dt.timedelta(days=draw(st.integers(1, 3)))
        elif kind == "null_mark":
            row["loaded_at"] = None
        noise.append(row)
    return rows + noise
