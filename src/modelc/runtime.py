"""`modelc run`, `modelc test` and `modelc show` on a target engine (docs/dialects.md, Targets).

The target URL chooses the engine (`modelc.targets`): the embedded DuckDB file by default, chdb,
PostgreSQL, Snowflake, BigQuery, ClickHouse or Redshift. The dialect rendered is the target's.
A run creates schemas and tables (re-runnable DDL), stages each source from its declared files (or
an existing table), then runs every entity's load plan in graph order, one transaction per entity
where the engine has transactions: a failed check rolls the entity back and leaves its table exactly
as it was. Engines without transactions (ClickHouse) run a plan's checks before it changes anything.
Each entity reports its counters and seconds.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from . import ir
from .loads import LoadPlan, plan_entity
from .memo import PerModel
from .targets import RunError, Target, open_target
from .targets.duckdb import CATALOG, DuckDBTarget, Wrapped, database_path, open_database

DIALECT = "duckdb"
_VAR = re.compile(r"\$\{(\w+)\}")

__all__ = [
    "CATALOG", "EntityResult", "RunError", "RunResult", "TestResult", "check_target", "database_path", "default_target",
    "execute_plan", "open_database", "run", "run_tests", "show", "stage_source",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class EntityResult:
    entity: str
    kind: str
    counts: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None  # the load failed: rolled back, or (no transactions) stopped
    skipped: str | None = None  # not loaded, and why
    partial: bool = False  # failed after changing the target (an engine without transactions): rerun it


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


def check_target(url: str) -> str:
    """The target URL checked without connecting (known kind, no credentials in it); how to show it."""
    return open_target(url, connect=False).display


def stage_source(con, source: ir.Source, location: str) -> int:
    """Replace the source's table by the rows of its files, on a target or a DuckDB connection."""
    if not isinstance(con, Target):
        target = DuckDBTarget(":memory:", connect=False)
        target.con = con
        con = target
    return con.stage(source, location)


def _as_target(con, dialect: str | None, atomic: bool) -> Target:
    if isinstance(con, Target):
        return con
    return Wrapped(con, dialect or DIALECT, atomic)


def execute_plan(
    con, plan: LoadPlan, load_ts: dt.datetime, dialect: str | None = None, atomic: bool = True
) -> tuple[dict[str, int], str | None]:
    """Run a plan on a target, in one transaction where it has them; (counters, error).

    `con` is a `Target`, or a DB-API-like connection or cursor (anything whose `execute` returns a cursor,
    as DuckDB's and the Snowflake connector's do) in `dialect` (default DuckDB); `atomic=False` runs such a
    connection without a transaction (for fakesnow, whose own bookkeeping cannot share a transaction with
    temporary tables). On a transactional target an error changes nothing. Without transactions the checks
    run before the first change, and the staging tables are dropped when the load fails."""
    counts, error, _ = _execute(_as_target(con, dialect, atomic), plan, load_ts)
    return counts, error


def _execute(target: Target, plan: LoadPlan, load_ts: dt.datetime) -> tuple[dict[str, int], str | None, bool]:
    """(counters, error, whether the target was changed before the error)."""
    from . import dialects
    from .loads.strategy import render_plan

    ts = exp.Literal.string(load_ts.isoformat(sep=" "))
    counts: dict[str, int] = {}
    atomic = target.transactional
    rendered = render_plan(plan, dialects.get(target.dialect_for(plan)),
                           exp.cast(ts, exp.DataType.build("timestamp")),
                           pretty=False)  # fmt: skip
    applied = False

    def fail(message: str) -> tuple[dict[str, int], str | None, bool]:
        if atomic:
            target.rollback()
            return counts, message, False
        for r in rendered:  # no rollback: at least leave no staging tables behind
            if r.step.kind == "cleanup":
                try:
                    target.execute(r.sql)
                except Exception:  # noqa: S110 - best effort, the load's own error is the one to report
                    pass
        return counts, message, applied

    if atomic:
        target.begin()
    try:
        for r in rendered:
            step = r.step
            if step.kind == "check":
                rows = target.query(r.sql).rows
                if rows:
                    shown = "; ".join(", ".join(str(v) for v in row) for row in rows[:10])
                    more = " and more" if len(rows) > 10 else ""
                    return fail(f"{step.message}: {shown}{more}")
            elif step.kind == "count":
                result = target.query(r.sql)
                row = result.rows[0]
                counts.update({c.lower(): int(v or 0) for c, v in zip(result.columns, row, strict=True)})
            else:
                target.execute(r.sql)
                applied = applied or step.kind == "apply"
        if atomic:
            target.commit()
    except Exception as exc:
        return fail(_first_line(exc))
    return counts, None, False


def _first_line(exc: Exception, limit: int = 400) -> str:
    """An engine's error as one line, without the statement some engines quote in full."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    line = line.split(": In scope ", 1)[0].split(" In scope ", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


METADATA = "_modelc_columns"  # per schema: which columns joined which table after it was created, and when
_META_COLUMNS = (("table_name", ir.Type("string")), ("column_name", ir.Type("string")),
                 ("added_at", ir.Type("timestamp")))  # fmt: skip


def _existing_columns(con) -> dict[tuple[str, str], set[str]]:
    return _as_target(con, DIALECT, True).columns()


def evolve(con, tables, before: dict[tuple[str, str], set[str]], load_ts: dt.datetime) -> dict[str, dict]:
    """Add the columns a model gained to tables that already existed, and record when.

    Returns, per entity, the columns added since its table was created and when: a load treats a NULL
    there in an older row as "not known yet" (docs/semantics.md), so adding a column never re-versions.
    """
    from . import dialects

    target = _as_target(con, DIALECT, True)
    d = dialects.get(target.dialect)
    out: dict[str, dict] = {}
    if not tables.tables:
        return out
    schema = tables.tables[0].schema
    meta = target.table_sql(schema, METADATA)
    if (schema, METADATA) not in before:
        create = target.create_table_sql(schema, METADATA, _META_COLUMNS)
        target.execute(create.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1))
    for spec in tables.tables:
        existing = before.get((spec.schema, spec.name))
        if existing is None:
            continue  # created by this run: every column is there from the start
        table = target.table_sql(spec.schema, spec.name)
        for col in spec.columns:
            if col.name not in existing:
                kind = d.render(d.column_type(col, nullable=True), pretty=False)
                target.execute(f"ALTER TABLE {table} ADD COLUMN {target.ident(col.name)} {kind}")
                values = exp.values([(exp.Literal.string(spec.name), exp.Literal.string(col.name),
                                      exp.cast(exp.Literal.string(load_ts.isoformat(sep=" ")), "timestamp"))])
                target.execute(f"INSERT INTO {meta} {target.sql(values)}")  # fmt: skip
    names = ", ".join(target.ident(c) for c in ("table_name", "column_name"))
    rows = target.query(f"SELECT {names}, MAX({target.ident('added_at')}) FROM {meta} GROUP BY {names}").rows
    for table_name, column, added_at in rows:
        entity = next((t.entity for t in tables.tables if t.name == table_name), None)
        if entity is not None:
            out.setdefault(entity, {})[column] = added_at
    return out


def run(
    model: ir.Model,
    target: str | Target,
    *,
    sources: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    load_ts: dt.datetime | None = None,
    on_entity: Callable[[EntityResult], None] | None = None,
) -> RunResult:
    """Load `model` into the engine at the URL `target` (a bare path is a DuckDB file), or into an open
    `Target` (left open)."""
    from .api import compile as compile_model

    sources, variables = dict(sources or {}), dict(variables or {})
    unknown = [name for name in sources if not isinstance(model.get(name), ir.Source)]
    if unknown:
        raise RunError(f"--source names no source of the model: {', '.join(unknown)}")
    load_ts = load_ts or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    locations = {s.name: source_location(s, sources, variables) for s in model.of_kind("source")}
    engine = target if isinstance(target, Target) else open_target(target)
    try:
        compiled = compile_model(model, engine.dialect, loads=False)
        if not compiled.ok:
            problems = "; ".join(d.message for d in compiled.diagnostics if str(d.severity) == "error")
            raise RunError(f"the model cannot be loaded on {engine.dialect}: {problems}")
        try:
            before = engine.columns()
            for st in compiled.statements:
                if st.kind == "ddl":
                    engine.execute(st.sql)
            added = evolve(engine, compiled.plan, before, load_ts)
        except Exception as exc:  # the engine refused the DDL: say so in one line, no traceback
            raise RunError(f"creating the tables on {engine.display}: {_first_line(exc)}") from None
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
            try:
                rows = engine.stage(source, location)
            except RunError:
                raise
            except Exception as exc:
                raise RunError(f"source {source.name}: {_first_line(exc)}") from None
            report(EntityResult(source.name, "source", {"staged": rows}, time.perf_counter() - started))
        for name in compiled.plan.order:
            entity = model.get(name)
            if isinstance(entity, ir.Source):
                continue
            started = time.perf_counter()
            plan = _entity_plan(model, name, added.get(name))
            if plan is None:
                report(EntityResult(name, entity.kind, skipped="no load for this entity kind yet"))
                continue
            counts, err, partial = _execute(engine, plan, load_ts)
            report(EntityResult(name, entity.kind, counts, time.perf_counter() - started, err, partial=partial))
    finally:
        if engine is not target:
            engine.close()
    return RunResult(engine.display, load_ts, tuple(results))


@dataclass(frozen=True, slots=True)
class TestResult:
    entity: str
    name: str
    failures: int
    rows: tuple[tuple, ...]  # a few failing rows


_entity_plans: PerModel[LoadPlan | None] = PerModel(256)  # a process that loads a model again skips planning


def _entity_plan(model: ir.Model, name: str, added: Mapping[str, dt.datetime] | None) -> LoadPlan | None:
    """`plan_entity`, kept for the next run of the same model object (plans are immutable and dialect-neutral;
    the load timestamp is bound when rendering)."""
    key = (name, tuple(sorted((added or {}).items())))
    return _entity_plans.get(model, lambda: plan_entity(model, name, added), key)


def _connect_existing(target: str) -> Target:
    probe = open_target(target, connect=False)
    if not probe.exists():
        where = getattr(probe, "path", target)
        raise RunError(f"{where} does not exist: run the model first (modelc run)")
    return open_target(target)


def run_tests(model: ir.Model, target: str) -> list[TestResult]:
    from . import dialects
    from .datatests import compile_tests

    engine = _connect_existing(target)
    dialect = dialects.get(engine.dialect)
    out = []
    try:
        for t in compile_tests(model):
            try:
                failures = engine.query(dialect.render(t.count, pretty=False)).rows[0][0]
                rows = tuple(engine.query(dialect.render(t.failing, pretty=False)).rows) if failures else ()
            except Exception as exc:  # e.g. a table not loaded yet: the test fails, with the reason
                failures, rows = 1, ((str(exc).strip().splitlines()[0],),)
            out.append(TestResult(t.entity, t.name, int(failures), rows))
    finally:
        engine.close()
    return out


def show(model: ir.Model, target: str, entities: list[str] | None = None, limit: int = 30) -> str:
    """The loaded tables as compact text boxes."""
    import sqlglot

    from . import dialects, plan

    tables = plan.build(model)
    names = entities or [n for n in tables.order if not isinstance(model.get(n), ir.Source)]
    unknown = [n for n in names if tables.table(n) is None]
    if unknown:
        raise RunError(f"no table for {', '.join(unknown)}")
    engine = _connect_existing(target)
    d = dialects.get(engine.dialect)
    parts = []
    try:
        for name in names:
            spec = tables.table(name)
            table = exp.table_(spec.name, db=spec.schema, quoted=True).sql(DIALECT)
            hidden = {"dw_loaded_at", "dw_updated_at", "dw_changed_at"}
            cols = ", ".join(_q(c) for c in spec.column_names if c not in hidden)
            order = ", ".join(_q(c) for c in _display_order(model.get(name))) or "1"
            total = engine.query(d.render(sqlglot.parse_one(f"SELECT COUNT(*) FROM {table}", read=DIALECT),
                                          pretty=False)).rows[0][0]  # fmt: skip
            select = f"SELECT {cols} FROM {table} ORDER BY {order} NULLS FIRST LIMIT {int(limit)}"
            result = engine.query(d.render(sqlglot.parse_one(select, read=DIALECT), pretty=False))
            header = [model_column(c, spec.column_names) for c in result.columns]
            parts.append(f"{name} ({total} rows)\n{_box(header, result.rows)}")
    finally:
        engine.close()
    return "\n".join(parts)


def model_column(name: str, known) -> str:
    """A result column as the model spells it (Snowflake returns bare names upper-cased)."""
    return next((k for k in known if k.lower() == name.lower()), name) if name not in known else name


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(DIALECT)


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
