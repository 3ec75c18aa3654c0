"""PIT and bridge loads (src/modelc/loads/pit.py) against tests/reference/pit.py, on DuckDB and ClickHouse (chdb).

The hub, link and satellite tables are filled by inserting rows directly (not by their loads), so these tests
depend on the table layouts only. Every generated history then runs the PIT and bridge loads at some of its
load times; the tables and the counters must equal the reference's, and a rerun must change nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import shutil
from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reference import pit as ref
from sqlglot import exp

from modelc import dialects, ir, plan
from modelc.api import compile as compile_model
from modelc.cli import main
from modelc.loader import load_text
from modelc.loads import plan_entity
from modelc.loads.sql import parse
from modelc.loads.strategy import render_plan
from modelc.runtime import execute_plan, open_database

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "vault"
ALL = ("duckdb", "clickhouse", "snowflake", "bigquery", "redshift", "postgres")
ZERO, ERROR = "0" * 32, "f" * 32
KEYS = ref.Keys(ZERO, ERROR)

MODEL = """model t {{
  ghost_records {ghost}
}}
source s.people {{
  code    string
  parent  string
  name    string
}}
source s.phones {{
  code    string
  kind    string  not null
  number  string
}}
source s.orders {{
  order_id  int
  code      string
  product   string
  line      int
}}
hub person from s.people, s.orders(code) {{
  key code
}}
hub order_h from s.orders {{
  key order_id
}}
hub product from s.orders(product) {{
  key product
}}
link person_order from s.orders {{
  hubs person(code), order_h(order_id)
}}
link order_product from s.orders {{
  hubs order_h(order_id), product(product)
  child line
}}
## A hierarchical link: the person hub twice.
link referral from s.people {{
  hubs person(code) as child, person(parent) as parent
}}
satellite details of person from s.people {{
  payload name
}}
satellite phones of person from s.phones {{
  multi_active kind
  payload number
}}
satellite extra of person from s.people {{
  payload parent
}}
satellite person_order_eff of person_order from s.orders {{
  effectivity driving order_h
}}
pit person_pit of person {{
  satellites details, phones, extra
  spine {pit_spine}
}}
bridge person_orders of person {{
  links person_order, order_product
  spine {bridge_spine}
}}
bridge person_tree of person {{
  links referral, person_order
  spine {bridge_spine}
}}
"""
LOADS = ("person_pit", "person_orders", "person_tree")


def hk(*parts: object) -> str:
    """A hash key: the zero key when every part is NULL (as for a hub), else a digest."""
    if all(p is None for p in parts):
        return ZERO
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()


def _spine(s: ir.Spine) -> str:
    text = s.every
    if s.start:
        text += f" from {s.start.isoformat()}"
    if s.end:
        text += f" to {s.end.isoformat()}"
    return text


# ---- a vault history, kept as the reference's rows ----------------------------------------------------------


class Vault:
    """The vault tables as lists of dicts, grown one load at a time (only what PIT and bridge loads read)."""

    def __init__(self, ghost: bool) -> None:
        self.ghost = ghost
        self.rows: dict[str, list[dict]] = {
            n: [] for n in ("person", "order_h", "product", "person_order", "order_product", "referral",
                            "details", "phones", "extra", "person_order_eff")
        }  # fmt: skip
        self.new: dict[str, list[dict]] = {n: [] for n in self.rows}  # rows of the current load, to insert
        if ghost:
            for hub in ("person", "order_h", "product"):
                for key in (ZERO, ERROR):
                    self.add(hub, {f"{hub}_hk": key, "load_ts": ref.GHOST_TS, "record_source": "SYSTEM"})
            for sat in ("details", "phones", "extra"):
                self.add(sat, {"person_hk": ZERO, "load_ts": ref.GHOST_TS, "record_source": "SYSTEM"})
            self.add("person_order_eff", {"person_order_hk": ZERO, "load_ts": ref.GHOST_TS, "is_active": False,
                                          "start_ts": ref.GHOST_TS, "record_source": "SYSTEM"})  # fmt: skip

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)
        self.new[table].append(row)

    def has(self, table: str, **values) -> bool:
        return any(all(r.get(k) == v for k, v in values.items()) for r in self.rows[table])

    def hub(self, table: str, value: object, ts: dt.datetime) -> str:
        key = hk(value)
        if value is not None and not self.has(table, **{f"{table}_hk": key}):
            self.add(table, {f"{table}_hk": key, "load_ts": ts, "record_source": "src"})
        return key

    def link(self, table: str, ts: dt.datetime, dependent: dict | None = None, **roles: str) -> str | None:
        key = hk(table, *roles.values(), *(dependent or {}).values())
        if self.has(table, **{f"{table}_hk": key}):
            return None
        self.add(table, {f"{table}_hk": key, **{f"{r}_hk": v for r, v in roles.items()}, **(dependent or {}),
                         "load_ts": ts, "record_source": "src"})  # fmt: skip
        return key

    def eff(self, link_key: str, ts: dt.datetime, active: bool) -> None:
        if not self.has("person_order_eff", person_order_hk=link_key, load_ts=ts):
            self.add("person_order_eff", {"person_order_hk": link_key, "load_ts": ts, "is_active": active,
                                          "start_ts": ts, "record_source": "src"})  # fmt: skip

    def eff_active(self, link_key: str) -> bool | None:
        mine = [r for r in self.rows["person_order_eff"] if r["person_order_hk"] == link_key]
        return max(mine, key=lambda r: r["load_ts"])["is_active"] if mine else None

    def sat(self, table: str, person: str, ts: dt.datetime, kinds: tuple[str | None, ...] = (None,)) -> None:
        key = hk(person)
        if not self.has("person", person_hk=key) or self.has(table, person_hk=key, load_ts=ts):
            return
        for kind in kinds:
            self.add(table, {"person_hk": key, "load_ts": ts, "kind": kind, "hash_diff": hk(ts, kind),
                             "record_source": "src"})  # fmt: skip

    def load(self, step: dict, ts: dt.datetime) -> None:
        """One load of the vault at `ts`: hubs, links, then satellites (as a run orders them)."""
        for p in step["persons"]:
            self.hub("person", p, ts)
        for person, order in step["orders"]:
            key = self.link("person_order", ts, person=self.hub("person", person, ts),
                            order_h=self.hub("order_h", order, ts))  # fmt: skip
            if key is not None:
                self.eff(key, ts, True)
        for order, product, line in step["lines"]:
            self.link("order_product", ts, order_h=self.hub("order_h", order, ts),
                      product=self.hub("product", product, ts), dependent={"line": line})  # fmt: skip
        for child, parent in step["referrals"]:
            self.link("referral", ts, child=self.hub("person", child, ts), parent=self.hub("person", parent, ts))
        for p in step["details"]:
            self.sat("details", p, ts)
        for p, n in step["phones"]:
            self.sat("phones", p, ts, ("home", "work")[:n])
        for p in step["extra"]:
            self.sat("extra", p, ts)
        links = [r["person_order_hk"] for r in self.rows["person_order"]]
        for i in step["flips"]:
            if links:
                key = links[i % len(links)]
                self.eff(key, ts, not self.eff_active(key))

    # -- the reference loads

    def snapshot(self, name: str):
        if name == "person_pit":
            sats = [(s, self.rows[s]) for s in ("details", "phones", "extra")]
            return lambda d: ref.pit_snapshot(d, self.rows["person"], "person_hk", sats, KEYS, self.ghost)
        po = ref.BridgeLink("person_order", [("person", "person"), ("order_h", "order_h")],
                            self.rows["person_order"], [self.rows["person_order_eff"]])  # fmt: skip
        if name == "person_orders":
            op = ref.BridgeLink("order_product", [("order_h", "order_h"), ("product", "product")],
                                self.rows["order_product"])  # fmt: skip
            links = [po, op]
        else:
            links = [ref.BridgeLink("referral", [("child", "person"), ("parent", "person")], self.rows["referral"]), po]
        return lambda d: ref.bridge_snapshot(d, "person", links, KEYS)

    def first(self) -> dt.date | None:
        return ref.first_load(self.rows["person"], "person_hk", KEYS)


KEY = {
    "person_pit": ["person_hk", "snapshot_date"],
    "person_orders": ["person_hk", "snapshot_date", "person_order_hk", "order_product_hk"],
    "person_tree": ["person_hk", "snapshot_date", "referral_hk", "person_order_hk"],
}

# ---- strategies -----------------------------------------------------------------------------------------------

PEOPLE = ["a", "b", "c", "d"]
# Same-day loads are the frequent case (today's snapshots are rewritten); longer gaps make catch-up dates.
GAPS = [dt.timedelta(hours=h) for h in (1, 3, 8)] + [dt.timedelta(days=d) for d in (1, 2, 9, 40)]
step = st.fixed_dictionaries(
    {
        "gap": st.sampled_from(GAPS),
        "persons": st.lists(st.sampled_from(PEOPLE), max_size=2),
        "orders": st.lists(
            st.tuples(st.sampled_from([None, *PEOPLE[:3]]), st.sampled_from([None, 1, 2, 3])), max_size=3
        ),
        "lines": st.lists(
            st.tuples(st.sampled_from([None, 1, 2, 3]), st.sampled_from(["x", "y"]), st.integers(1, 2)), max_size=3
        ),
        "referrals": st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from([None, *PEOPLE])), max_size=2),
        "details": st.lists(st.sampled_from(PEOPLE), max_size=3),
        "phones": st.lists(st.tuples(st.sampled_from(PEOPLE), st.integers(1, 2)), max_size=2),
        "extra": st.lists(st.sampled_from(PEOPLE[:2]), max_size=1),
        "flips": st.lists(st.integers(0, 5), max_size=3),
        "run": st.sampled_from([True, True, True, False]),
    }
)
FIRST = dt.datetime(2024, 1, 1, 6)
DATES = [dt.date(2023, 12, 20), dt.date(2024, 1, 3), dt.date(2024, 1, 31), dt.date(2024, 2, 15),
         dt.date(2024, 3, 31)]  # fmt: skip


@st.composite
def spines(draw) -> ir.Spine:
    every = draw(st.sampled_from(["day", "week", "month"]))
    start = draw(st.sampled_from([None, *DATES[:3]]))
    end = draw(st.sampled_from([None, *[d for d in DATES[1:] if start is None or d >= start]]))
    return ir.Spine(every, start, end)


history = st.lists(step, min_size=2, max_size=5)


@functools.cache
def _model(ghost: bool, pit_spine: ir.Spine, bridge_spine: ir.Spine) -> ir.Model:
    text = MODEL.format(ghost=str(ghost).lower(), pit_spine=_spine(pit_spine), bridge_spine=_spine(bridge_spine))
    loaded = load_text(text, "t.dm")
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    return loaded.model


@functools.cache
def _ddl(ghost: bool, dialect: str) -> tuple[str, ...]:
    """The tables (the spines change no layout)."""
    day = ir.Spine()
    return tuple(st.sql for st in compile_model(_model(ghost, day, day), dialect, loads=False).ddl())


@functools.cache
def _plan(ghost: bool, spine: ir.Spine, name: str):
    """A load's plan depends on its own spine only: built once per spine."""
    return plan_entity(_model(ghost, spine, spine), name)


def _full(model: ir.Model, table: str, row: dict) -> list:
    """A row with every column of the table: what the test did not set is NULL, or a filler when NOT NULL."""
    spec = plan.build(model).table(table)
    out = []
    for c in spec.columns:
        if c.name in row or c.nullable:
            out.append(row.get(c.name))
        elif c.type.name in ("timestamp", "date"):
            out.append(row["load_ts"])
        elif c.type.name == "bool":
            out.append(False)
        elif c.type.name in ("int", "bigint", "smallint"):
            out.append(0)
        else:
            out.append("")
    return out


def _expected(rows: list[dict], columns: list[str]) -> list[tuple]:
    return sorted((tuple(r[c] for c in columns) for r in rows), key=repr)


# ---- DuckDB ------------------------------------------------------------------------------------------------------


def _duck_rows(con, model: ir.Model, table: str) -> tuple[list[str], list[tuple]]:
    columns = list(plan.build(model).table(table).column_names)
    listed = ", ".join(f'"{c}"' for c in columns)
    return columns, sorted(con.execute(f'SELECT {listed} FROM "t"."{table}"').fetchall(), key=repr)


def _step(gap: dt.timedelta, run: bool = True, **rows) -> dict:
    empty = {k: [] for k in ("persons", "orders", "lines", "referrals", "details", "phones", "extra", "flips")}
    return {**empty, **rows, "gap": gap, "run": run}


HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
# A history with every case: a second load the same day changes a pointer (updated) and ends a relationship
# (deleted); a key and a satellite row arrive late; a relationship reopens; a gap makes catch-up dates; a load
# without the PIT and bridge loads, followed the next day by one.
STORY = [
    _step(HOUR, persons=["a", "b"], orders=[("a", 1), ("b", 2), (None, 3)],
          lines=[(1, "x", 1), (2, "y", 1), (None, "y", 2)], referrals=[("a", "b"), ("b", None)], details=["a"],
          phones=[("a", 2)]),
    _step(3 * HOUR, details=["a", "b"], orders=[("c", 3)], lines=[(3, "x", 1)], flips=[0], extra=["a"]),
    _step(40 * DAY, persons=["d"], phones=[("b", 1), ("a", 1)], flips=[0, 1], referrals=[("d", "a")]),
    _step(HOUR, run=False, details=["d"], orders=[("d", 1)]),
    _step(DAY, lines=[(1, "y", 2)]),
]  # fmt: skip


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ghost=st.booleans(), pit_spine=spines(), bridge_spine=spines(), steps=history)
@example(ghost=True, pit_spine=ir.Spine("day"), bridge_spine=ir.Spine("day"), steps=STORY)
@example(ghost=False, pit_spine=ir.Spine("week"), bridge_spine=ir.Spine("day", end=dt.date(2024, 2, 5)), steps=STORY)
@example(ghost=True, pit_spine=ir.Spine("month", dt.date(2023, 12, 31)), bridge_spine=ir.Spine("month"), steps=STORY)
def test_pit_and_bridges_equal_the_reference_on_duckdb(ghost, pit_spine, bridge_spine, steps):
    model = _model(ghost, pit_spine, bridge_spine)
    spines_of = {"person_pit": pit_spine, "person_orders": bridge_spine, "person_tree": bridge_spine}
    con = open_database(":memory:")
    for sql in _ddl(ghost, "duckdb"):
        con.execute(sql)
    plans = {n: _plan(ghost, spines_of[n], n) for n in LOADS}
    vault = Vault(ghost)
    tables: dict[str, list[dict]] = {n: [] for n in LOADS}
    ts = FIRST
    steps[-1] = {**steps[-1], "run": True}
    for i, s in enumerate(steps):
        ts = ts + s["gap"] if i else ts
        vault.load(s, ts)
        for table, rows in vault.new.items():
            if rows:
                cols = plan.build(model).table(table).column_names
                con.executemany(f'INSERT INTO "t"."{table}" VALUES ({", ".join("?" for _ in cols)})',
                                [_full(model, table, r) for r in rows])  # fmt: skip
            rows.clear()
        if not s["run"]:
            continue
        for n in LOADS:
            want = ref.load(tables[n], spines_of[n], ts, vault.first(), vault.snapshot(n), KEY[n])
            counts, error = execute_plan(con, plans[n], ts)
            assert error is None, (i, n, error)
            assert {k: counts.get(k, 0) for k in want} == want, (i, n)
            columns, got = _duck_rows(con, model, n)
            assert got == _expected(tables[n], columns), (i, n)
    for n in LOADS:  # a rerun with the same load time changes nothing
        before = _duck_rows(con, model, n)
        counts, error = execute_plan(con, plans[n], ts)
        assert error is None and not any(counts.values()), (n, counts, error)
        assert _duck_rows(con, model, n) == before
        # With load times that only grow, the incremental table is the snapshot of every spine date.
        columns, got = before
        everything = [r for d in ref.spine_dates(spines_of[n], vault.first(), ts.date()) for r in vault.snapshot(n)(d)]
        assert got == _expected(everything, columns), n
    con.close()


def test_a_spine_too_long_fails_the_load_and_changes_nothing():
    day = ir.Spine("day", dt.date(1700, 1, 1))
    model = _model(True, day, day)
    con = open_database(":memory:")
    for statement in compile_model(model, "duckdb", loads=False).ddl():
        con.execute(statement.sql)
    cols = plan.build(model).table("person").column_names
    con.execute(f'INSERT INTO "t"."person" VALUES ({", ".join("?" for _ in cols)})',
                _full(model, "person", {"person_hk": hk("a"), "load_ts": FIRST, "record_source": "src"}))  # fmt: skip
    counts, error = execute_plan(con, plan_entity(model, "person_pit"), FIRST)
    assert error is not None and "more than 100,000 days" in error
    assert con.execute('SELECT COUNT(*) FROM "t"."person_pit"').fetchone()[0] == 0
    with pytest.raises(ref.SpineTooLongError):
        ref.spine_dates(day, FIRST.date(), FIRST.date())
    con.close()


# ---- ClickHouse (chdb): no transactions; the DELETE is a mutation ------------------------------------------------


def _ch(v: object) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _ch_literal(v: object) -> str:
    if isinstance(v, dt.datetime | dt.date):
        return exp.Literal.string(_ch(v)).sql("clickhouse")
    return exp.convert(v).sql("clickhouse")


def _ch_rows(session, model: ir.Model, table: str) -> tuple[list[str], list[tuple]]:
    columns = list(plan.build(model).table(table).column_names)
    out = session.query(f"SELECT {', '.join(f'toString(`{c}`)' for c in columns)} FROM t.`{table}`", "TabSeparatedRaw")
    return columns, sorted((tuple(line.split("\t")) for line in out.bytes().decode().splitlines() if line), key=repr)


def _ch_run(session, load_plan, ts: dt.datetime) -> dict[str, int]:
    ch = dialects.get("clickhouse")
    bound = exp.cast(exp.Literal.string(ts.isoformat(sep=" ")), exp.DataType.build("timestamp"))
    counts: dict[str, int] = {}
    for r in render_plan(load_plan, ch, bound, pretty=False):
        if r.step.kind == "count":
            names, values = session.query(r.sql, "TabSeparatedWithNames").bytes().decode().splitlines()
            pairs = zip(names.split("\t"), values.split("\t"), strict=True)
            counts = {k: int(v) if v != "\\N" else 0 for k, v in pairs}
        else:
            result = session.query(r.sql, "TabSeparatedRaw").bytes().decode()
            assert not (r.step.kind == "check" and result.strip()), result
    return counts


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ghost=st.booleans(), pit_spine=spines(), bridge_spine=spines(), steps=history)
@example(ghost=True, pit_spine=ir.Spine("day"), bridge_spine=ir.Spine("day"), steps=STORY)
@example(ghost=False, pit_spine=ir.Spine("month", dt.date(2023, 12, 31)), bridge_spine=ir.Spine("week"), steps=STORY)
def test_pit_and_bridges_equal_the_reference_on_clickhouse(chdb_session, ghost, pit_spine, bridge_spine, steps):
    session = chdb_session
    model = _model(ghost, pit_spine, bridge_spine)
    spines_of = {"person_pit": pit_spine, "person_orders": bridge_spine, "person_tree": bridge_spine}
    session.query("DROP DATABASE IF EXISTS t")
    for sql in _ddl(ghost, "clickhouse"):
        session.query(sql)
    # The ghost pointer is written like the satellites' ghost rows (`loads.vault.system_rows`): a TIMESTAMP
    # cast, which sqlglot spells `DateTime` for ClickHouse; that type starts in 1970. Compare with what the
    # engine makes of it, so the pointer is checked to equal the satellites' own ghost rows.
    ghost_sql = dialects.get("clickhouse").render(parse(f"SELECT CAST('{ref.GHOST_TS}' AS TIMESTAMP)"), pretty=False)
    engine_ghost = session.query(f"SELECT toString(CAST(({ghost_sql}) AS DateTime64(6)))", "TabSeparatedRaw")
    engine_ghost = engine_ghost.bytes().decode().strip()
    plans = {n: _plan(ghost, spines_of[n], n) for n in LOADS}
    vault = Vault(ghost)
    tables: dict[str, list[dict]] = {n: [] for n in LOADS}
    ts = FIRST
    steps[-1] = {**steps[-1], "run": True}

    def expected(n: str, rows: list[dict], columns: list[str]) -> list[tuple]:
        text = [tuple(engine_ghost if r[c] == ref.GHOST_TS and c.endswith("_load_ts") else _ch(r[c]) for c in columns)
                for r in rows]  # fmt: skip
        return sorted(text, key=repr)

    for i, s in enumerate(steps):
        ts = ts + s["gap"] if i else ts
        vault.load(s, ts)
        for table, rows in vault.new.items():
            if rows:
                values = ", ".join(f"({', '.join(_ch_literal(v) for v in _full(model, table, r))})" for r in rows)
                session.query(f"INSERT INTO t.`{table}` VALUES {values}")
            rows.clear()
        if not s["run"]:
            continue
        for n in LOADS:
            want = ref.load(tables[n], spines_of[n], ts, vault.first(), vault.snapshot(n), KEY[n])
            counts = _ch_run(session, plans[n], ts)
            assert {k: counts.get(k, 0) for k in want} == want, (i, n)
            columns, got = _ch_rows(session, model, n)
            assert got == expected(n, tables[n], columns), (i, n)
    for n in LOADS:
        before = _ch_rows(session, model, n)
        assert not any(_ch_run(session, plans[n], ts).values()), n
        assert _ch_rows(session, model, n) == before, n


# ---- every dialect ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ALL)
def test_plans_render_and_parse_back_everywhere(dialect):
    example = load_text((EXAMPLE / "vault.dm").read_text(encoding="utf-8"), str(EXAMPLE / "vault.dm")).model
    models = [
        (example, ("customer_pit", "customer_orders")),
        (_model(False, ir.Spine("week"), ir.Spine("month", dt.date(2024, 1, 31))), LOADS),
    ]
    d = dialects.get(dialect)
    for model, names in models:
        for name in names:
            rendered = render_plan(plan_entity(model, name), d)
            assert rendered and not re.search(r"_MC_(NODE|HASH|ADD)", " ".join(r.sql for r in rendered), re.I), name
            for r in rendered:
                sqlglot.parse_one(r.sql, read=d.sqlglot_name)


# ---- the example through `modelc run` ---------------------------------------------------------------------------


def _run(model: Path, batch: int, ts: str, capsys) -> dict[str, str]:
    code = main(["run", str(model), "--var", f"batch={batch}", "--load-ts", ts])
    out = capsys.readouterr().out
    lines = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(\S+)\s+(?:pit|bridge)\s+(.*?)\s+\(", out, re.M)}
    assert set(lines) == {"customer_pit", "customer_orders"}, out
    assert "FAILED" not in lines["customer_pit"] + lines["customer_orders"], out
    del code  # other entities (effectivity, tracking) are not this test's concern
    return lines


def test_example_pit_and_bridge_follow_the_loaded_vault(tmp_path: Path, capsys):
    shutil.copytree(EXAMPLE / "data", tmp_path / "data")
    shutil.copy(EXAMPLE / "vault.dm", tmp_path / "vault.dm")
    path = tmp_path / "vault.dm"
    _run(path, 1, "2024-01-10", capsys)
    _run(path, 2, "2024-02-10", capsys)
    assert _run(path, 2, "2024-02-10", capsys) == {"customer_pit": "no changes", "customer_orders": "no changes"}
    model = load_text(path.read_text(encoding="utf-8"), str(path)).model
    pit, bridge = model.get("customer_pit"), model.get("customer_orders")
    con = open_database(str(tmp_path / "vault.duckdb"))
    try:

        def rows(table: str) -> list[dict]:
            cur = con.execute(f"SELECT * FROM vault.{table}")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        keys = ref.Keys("0" * 64, "f" * 64)  # sha256
        hk = f"{pit.hub}_hk"
        hub = rows(pit.hub)
        first, end = ref.first_load(hub, hk, keys), dt.date(2024, 2, 10)
        sats = [(s, rows(s)) for s in pit.satellites]
        want = [r for d in ref.spine_dates(pit.spine, first, end)
                for r in ref.pit_snapshot(d, hub, hk, sats, keys, model.settings.ghost_records)]  # fmt: skip
        got = rows(pit.name)
        days = {first + dt.timedelta(days=i) for i in range((end - first).days + 1)}
        assert {r["snapshot_date"] for r in got} == days
        assert sorted(map(repr, got)) == sorted(map(repr, want))
        links = []
        for name in bridge.links:
            link = model.get(name)
            effs = [e.name for e in model.entities if getattr(e, "parent", None) == name
                    and getattr(e, "satellite_kind", None) == "effectivity"]  # fmt: skip
            roles = [(h.role, h.hub) for h in link.hubs]
            links.append(ref.BridgeLink(name, roles, rows(name), [rows(e) for e in effs]))
        want = [r for d in ref.spine_dates(bridge.spine, ref.first_load(rows(bridge.hub), hk, keys), end)
                for r in ref.bridge_snapshot(d, bridge.hub, links, keys)]  # fmt: skip
        assert want and sorted(map(repr, rows(bridge.name))) == sorted(map(repr, want))
    finally:
        con.close()
