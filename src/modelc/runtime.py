"""`modelc run` on the embedded default: a DuckDB file, no server.

A run creates schemas and tables (re-runnable DDL), stages each source from its
declared files (or an existing table), then runs every entity's load plan in graph
order, one transaction per entity: a failed check rolls the entity back and leaves
its table exactly as it was. Each entity reports its counters and seconds.
"""

from __future__ import annotations

import datetime as dt
import glob
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from . import ir
from .loads import LoadPlan, plan_entity

DIALECT = "duckdb"
_VAR = re.compile(r"\$\{(\w+)\}")


class RunError(Exception):
    """A run cannot start (bad target, missing files, unknown variable): nothing was loaded."""


@dataclass(frozen=True, slots=True)
class EntityResult:
    entity: str
    kind: str
    counts: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None  # the load failed and was rolled back
    skipped: str | None = None  # not loaded, and why


@dataclass(frozen=True, slots=True)
class RunResult:
    target: str
    load_ts: dt.datetime
    entities: tuple[EntityResult, ...]

    @property
    def ok(self) -> bool:
        return all(e.error is None for e in self.entities)

    def changed(self) -> int:
        """Rows inserted, updated or closed over all entities (zero on a rerun)."""
        return sum(
            v for e in self.entities for k, v in e.counts.items() if k in ("inserted", "updated", "closed", "rekeyed")
        )


def default_target(model_file: str | None, model: ir.Model) -> str:
    base = Path(model_file).resolve().parent if model_file else Path.cwd()
    return str(base / f"{model.name}.duckdb")


def database_path(target: str) -> str:
    """`duckdb:///abs/path.duckdb`, `duckdb://rel.duckdb`, a bare path, or `:memory:`."""
    if target.startswith("duckdb://"):
        rest = target[len("duckdb://") :]
        return rest or ":memory:"
    if "://" in target:
        scheme = target.split("://", 1)[0]
        raise RunError(f"target `{target}`: the `{scheme}` runtime is not available here; use duckdb:///path.duckdb")
    return target


def source_location(source: ir.Source, overrides: Mapping[str, str], variables: Mapping[str, str]) -> str | None:
    """The files to stage a source from: `--source NAME=PATH` wins, then the model's `from "..."`."""
    location = overrides.get(source.name, source.location)
    if location is None:
        return None

    def subst(m: re.Match[str]) -> str:
        if m.group(1) not in variables:
            raise RunError(f"source {source.name}: its location uses ${{{m.group(1)}}}; pass --var {m.group(1)}=VALUE")
        return variables[m.group(1)]

    return _VAR.sub(subst, location)


def _duck_type(t: ir.Type) -> str:
    from . import dialects

    return dialects.get(DIALECT).type_sql(t)


CATALOG = "_modelc"  # our name for the attached database file


def open_database(path: str):
    """A connection to the DuckDB file at `path`, attached under our own catalog name.

    DuckDB names a database after its file, so `retail.duckdb` holding schema `retail`
    makes `retail.customer` ambiguous; attaching it as `_modelc` avoids that.
    """
    import duckdb

    con = duckdb.connect()
    if path != ":memory:":
        con.execute(f"ATTACH {exp.Literal.string(path).sql(DIALECT)} AS {CATALOG}")
        con.execute(f"USE {CATALOG}")
    return con


def stage_source(con, source: ir.Source, location: str) -> int:
    """Replace the source's table by the rows of its files; columns typed as declared."""
    files = sorted(glob.glob(location))
    if not files:
        raise RunError(f"source {source.name}: no file matches {location}")
    reader = "read_parquet" if all(f.endswith(".parquet") for f in files) else "read_csv"
    options = ", header = true, all_varchar = true" if reader == "read_csv" else ""
    file_list = exp.Array(expressions=[exp.Literal.string(f) for f in files]).sql(DIALECT)
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}({file_list}{options})").fetchall()}
    missing = [c.name for c in source.columns if c.name not in present]
    if missing:
        raise RunError(f"source {source.name}: {location} has no column {', '.join(missing)}")
    schema = exp.to_identifier(source.schema or "main", quoted=True).sql(DIALECT)
    table = exp.table_(source.table, db=source.schema, quoted=True).sql(DIALECT)
    cols = ", ".join(
        f"CAST(NULLIF({_q(c.name)}, '') AS {_duck_type(c.type)}) AS {_q(c.name)}"
        if reader == "read_csv" and c.type.name != "string"
        else f"CAST({_q(c.name)} AS {_duck_type(c.type)}) AS {_q(c.name)}"
        for c in source.columns
    )
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {reader}({file_list}{options})")
    except Exception as exc:  # a value that does not fit its declared type: name it, load nothing
        raise RunError(f"source {source.name}: {exc}".splitlines()[0]) from None
    return con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(DIALECT)


def execute_plan(
    con, plan: LoadPlan, load_ts: dt.datetime, dialect: str = DIALECT, atomic: bool = True
) -> tuple[dict[str, int], str | None]:
    """Run a plan in one transaction on a DB-API-like connection or cursor (anything with `execute`
    returning a cursor, as DuckDB's and the Snowflake connector's cursors do); (counters, error).
    On error nothing is changed. `atomic=False` runs without a transaction (for test doubles such as
    fakesnow, whose own bookkeeping cannot share a transaction with temporary tables)."""
    from . import dialects
    from .loads.strategy import render_plan

    ts = exp.Literal.string(load_ts.isoformat(sep=" "))
    counts: dict[str, int] = {}

    def control(statement: str) -> None:
        if atomic:
            con.execute(statement)

    control("BEGIN TRANSACTION")
    try:
        for r in render_plan(plan, dialects.get(dialect), exp.cast(ts, exp.DataType.build("timestamp")), pretty=False):
            step = r.step
            cursor = con.execute(r.sql) or con
            if step.kind == "check":
                rows = cursor.fetchall()
                if rows:
                    control("ROLLBACK")
                    shown = "; ".join(", ".join(str(v) for v in row) for row in rows[:10])
                    more = " and more" if len(rows) > 10 else ""
                    return counts, f"{step.message}: {shown}{more}"
            elif step.kind == "count":
                row = cursor.fetchone()
                counts.update({d[0].lower(): int(v or 0) for d, v in zip(cursor.description, row, strict=True)})
        control("COMMIT")
    except Exception as exc:
        control("ROLLBACK")
        return counts, str(exc).splitlines()[0]
    return counts, None


METADATA = "_modelc_columns"  # per schema: which columns joined which table after it was created, and when


def _existing_columns(con) -> dict[tuple[str, str], set[str]]:
    rows = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE table_catalog = ?",
        [CATALOG],
    ).fetchall()
    out: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in rows:
        out.setdefault((schema, table), set()).add(column)
    return out


def evolve(con, tables, before: dict[tuple[str, str], set[str]], load_ts: dt.datetime) -> dict[str, dict]:
    """Add the columns a model gained to tables that already existed, and record when (DuckDB).

    Returns, per entity, the columns added since its table was created and when: a load treats a NULL
    there in an older row as "not known yet" (docs/semantics.md), so adding a column never re-versions.
    """
    from . import dialects

    duck = dialects.get(DIALECT)
    out: dict[str, dict] = {}
    if not tables.tables:
        return out
    schema = _q(tables.tables[0].schema)
    meta = f"{schema}.{_q(METADATA)}"
    con.execute(f"CREATE TABLE IF NOT EXISTS {meta} (table_name VARCHAR, column_name VARCHAR, added_at TIMESTAMP)")
    for spec in tables.tables:
        existing = before.get((spec.schema, spec.name))
        if existing is None:
            continue  # created by this run: every column is there from the start
        target = exp.table_(spec.name, db=spec.schema, quoted=True).sql(DIALECT)
        for col in spec.columns:
            if col.name not in existing:
                con.execute(f"ALTER TABLE {target} ADD COLUMN {_q(col.name)} {duck.type_sql(col.type)}")
                con.execute(f"INSERT INTO {meta} VALUES (?, ?, ?)", [spec.name, col.name, load_ts])
    for table, column, added_at in con.execute(f"SELECT table_name, column_name, MAX(added_at) FROM {meta} "
                                               "GROUP BY table_name, column_name").fetchall():  # fmt: skip
        entity = next((t.entity for t in tables.tables if t.name == table), None)
        if entity is not None:
            out.setdefault(entity, {})[column] = added_at
    return out


def run(
    model: ir.Model,
    target: str,
    *,
    sources: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    load_ts: dt.datetime | None = None,
    on_entity: Callable[[EntityResult], None] | None = None,
) -> RunResult:

    from .api import compile as compile_model

    sources, variables = dict(sources or {}), dict(variables or {})
    unknown = [name for name in sources if not isinstance(model.get(name), ir.Source)]
    if unknown:
        raise RunError(f"--source names no source of the model: {', '.join(unknown)}")
    load_ts = load_ts or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    path = database_path(target)
    compiled = compile_model(model, DIALECT, loads=False)
    locations = {s.name: source_location(s, sources, variables) for s in model.of_kind("source")}
    con = open_database(path)
    try:
        before = _existing_columns(con)
        for st in compiled.statements:
            if st.kind == "ddl":
                con.execute(st.sql)
        added = evolve(con, compiled.plan, before, load_ts)
        results: list[EntityResult] = []

        def report(result: EntityResult) -> None:
            results.append(result)
            if on_entity:
                on_entity(result)

        for source in model.of_kind("source"):
            started = time.perf_counter()
            location = locations[source.name]
            if location is None:
                report(EntityResult(source.name, "source", skipped="an existing table"))
                continue
            rows = stage_source(con, source, location)
            report(EntityResult(source.name, "source", {"staged": rows}, time.perf_counter() - started))
        for name in compiled.plan.order:
            entity = model.get(name)
            if isinstance(entity, ir.Source):
                continue
            started = time.perf_counter()
            plan = plan_entity(model, name, added.get(name))
            if plan is None:
                report(EntityResult(name, entity.kind, skipped="no load for this entity kind yet"))
                continue
            counts, err = execute_plan(con, plan, load_ts)
            report(EntityResult(name, entity.kind, counts, time.perf_counter() - started, err))
    finally:
        con.close()
    return RunResult(target, load_ts, tuple(results))


@dataclass(frozen=True, slots=True)
class TestResult:
    entity: str
    name: str
    failures: int
    rows: tuple[tuple, ...]  # a few failing rows


def _connect_existing(target: str):

    path = database_path(target)
    if path != ":memory:" and not Path(path).exists():
        raise RunError(f"{path} does not exist: run the model first (modelc run)")
    return open_database(path)


def run_tests(model: ir.Model, target: str) -> list[TestResult]:
    from . import dialects
    from .datatests import compile_tests

    dialect = dialects.get(DIALECT)
    con = _connect_existing(target)
    out = []
    try:
        for t in compile_tests(model):
            try:
                failures = con.execute(dialect.render(t.count, pretty=False)).fetchone()[0]
                rows = tuple(con.execute(dialect.render(t.failing, pretty=False)).fetchall()) if failures else ()
            except Exception as exc:  # e.g. a table not loaded yet: the test fails, with the reason
                failures, rows = 1, ((str(exc).splitlines()[0],),)
            out.append(TestResult(t.entity, t.name, failures, rows))
    finally:
        con.close()
    return out


def show(model: ir.Model, target: str, entities: list[str] | None = None, limit: int = 30) -> str:
    """The loaded tables as compact text boxes (DuckDB's own renderer)."""
    from . import plan

    tables = plan.build(model)
    names = entities or [n for n in tables.order if not isinstance(model.get(n), ir.Source)]
    unknown = [n for n in names if tables.table(n) is None]
    if unknown:
        raise RunError(f"no table for {', '.join(unknown)}")
    con = _connect_existing(target)
    parts = []
    try:
        for name in names:
            spec = tables.table(name)
            table = exp.table_(spec.name, db=spec.schema, quoted=True).sql(DIALECT)
            hidden = {"dw_loaded_at", "dw_updated_at", "dw_changed_at"}
            cols = ", ".join(_q(c) for c in spec.column_names if c not in hidden)
            order = ", ".join(_q(c) for c in _display_order(model.get(name))) or "1"
            total = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            cur = con.execute(f"SELECT {cols} FROM {table} ORDER BY {order} NULLS FIRST LIMIT {int(limit)}")
            header = [d[0] for d in cur.description]
            parts.append(f"{name} ({total} rows)\n{_box(header, cur.fetchall())}")
    finally:
        con.close()
    return "\n".join(parts)


def _display_order(entity: ir.Entity) -> list[str]:
    if isinstance(entity, ir.Dimension):
        return [c.name for c in entity.key] + ([entity.history.valid_from] if entity.versioned else [])
    if isinstance(entity, ir.Fact):
        return [c.name for c in entity.grain]
    if isinstance(entity, ir.Calendar):
        return ["date_key"]
    return []


_HEX_KEY = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")


def _cell(v: object) -> str:
    if v is None:
        return "NULL"
    text = str(v)
    return text[:8] + "…" if _HEX_KEY.fullmatch(text) else text  # surrogate keys: enough to tell apart


def _box(header: list[str], data: list[tuple]) -> str:
    """A plain text table: columns padded to their widest value."""
    rows = [[_cell(v) for v in r] for r in data]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]) + "\n"
