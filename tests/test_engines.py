"""Both examples, every load, on real engines through `modelc run`: DuckDB, ClickHouse (chdb), PostgreSQL
(a real server, tests/pgserver.py) and Snowflake SQL (fakesnow). After the batches of `make demo` the
final tables are equal on all four after normalizing types (decimals, timestamps to microseconds,
booleans, binary as hex), surrogate and hash keys included; so are the per-batch counters.

One gap is fakesnow's, not ours, and is checked as narrowly as it can be: fakesnow drops the format of
Snowflake's `TO_CHAR(ts, 'YYYY-MM-DD HH24:MI:SS.FF6')` when it translates to DuckDB, so a hash over a
timestamp (a versioned dimension's surrogate key, a hashdiff over a timestamp payload) hashes other text
there. For those columns (`FAKESNOW_TIMESTAMP_HASHES`) the rows must still be equal with the column left
out, and the column must map one-to-one onto DuckDB's (the same rows share a key); every other key is
compared byte for byte. Real Snowflake's TO_CHAR is tested by the hashing tests' reference texts.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal
from pathlib import Path

import fakesnow
import pytest
from sqlglot import exp

from modelc import plan
from modelc.loader import load_file
from modelc.runtime import run
from modelc.targets import open_target
from modelc.targets.postgres import PostgresTarget

ROOT = Path(__file__).resolve().parents[1]
# The batches of `make demo`, the last one run twice (the rerun changes nothing).
BATCHES = {
    "retail": [(1, "2024-01-10"), (2, "2024-02-10"), (3, "2024-03-10"), (3, "2024-03-11")],
    "vault": [(1, "2024-01-10"), (2, "2024-02-10"), (2, "2024-02-10")],
}
ENGINES = ("duckdb", "chdb", "postgres", "snowflake")
FAKESNOW_TIMESTAMP_HASHES = {
    ("retail", "customer"): {"customer_key"},  # hash of (customer_id, valid_from)
    ("retail", "order_line"): {"customer_key"},  # the same key, referenced
    ("vault", "order_details"): {"hash_diff"},  # the payload has ordered_at
}


def normal(value: object) -> object:
    """One spelling per value whatever the driver: Decimal without trailing zeros, naive UTC timestamps,
    bytes as hex."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return value.normalize() if value != 0 else Decimal(0)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def _url(engine: str, example: str, tmp: Path, pg) -> str:
    if engine == "duckdb":
        return f"duckdb://{tmp / f'{example}.duckdb'}"
    if engine == "chdb":
        return f"chdb://{tmp / f'{example}_chdb'}"
    if engine == "postgres":
        return f"postgresql://postgres@127.0.0.1:{pg.port}/{example}"
    return f"snowflake://fakesnow/{example}_db/public"  # fakesnow: a database named like a schema is ambiguous


def _tables(url: str, model) -> dict[str, list[tuple]]:
    target = open_target(url)
    try:
        out = {}
        for spec in plan.build(model).tables:
            cols = ", ".join(target.ident(c) for c in spec.column_names)
            rows = target.query(f"SELECT {cols} FROM {target.table_sql(spec.schema, spec.name)}").rows
            out[spec.name] = sorted((tuple(normal(v) for v in r) for r in rows), key=repr)
        return out
    finally:
        target.close()


def _without(rows: list[tuple], keep: list[int]) -> list[tuple]:
    return sorted((tuple(r[i] for i in keep) for r in rows), key=repr)


@pytest.fixture(scope="module")
def loaded(pg, tmp_path_factory):
    """{example: {engine: (per-batch counters, final tables)}}: every example run on every engine."""
    out: dict[str, dict[str, tuple]] = {}
    with pg.connect() as con:
        for example in BATCHES:
            con.execute(f"DROP DATABASE IF EXISTS {example}")
            con.execute(f"CREATE DATABASE {example}")
    cwd = os.getcwd()
    with fakesnow.patch():
        for example, batches in BATCHES.items():
            tmp = tmp_path_factory.mktemp(example)
            shutil.copytree(ROOT / "examples" / example / "data", tmp / "data")
            model = load_file(ROOT / "examples" / example / f"{example}.dm").model
            out[example] = {}
            os.chdir(tmp)  # source locations are relative to the model
            try:
                for engine in ENGINES:
                    url = _url(engine, example, tmp, pg)
                    counters = []
                    for batch, ts in batches:
                        result = run(model, url, variables={"batch": str(batch)}, load_ts=dt.datetime.fromisoformat(ts))
                        counters.append(result)
                    out[example][engine] = (counters, _tables(url, model))
            finally:
                os.chdir(cwd)
    return out


@pytest.mark.parametrize("example", sorted(BATCHES))
@pytest.mark.parametrize("engine", ENGINES)
def test_every_load_runs(loaded, example, engine):
    for result in loaded[example][engine][0]:
        failed = [(e.entity, e.error) for e in result.entities if e.error]
        assert not failed, f"{engine}: {failed}"
        skipped = [e.entity for e in result.entities if e.skipped and e.kind != "source"]
        assert not skipped, f"{engine}: no load for {skipped}"
    # the rerun of the last batch changes nothing
    assert loaded[example][engine][0][-1].changed() == 0


@pytest.mark.parametrize("example", sorted(BATCHES))
@pytest.mark.parametrize("engine", ENGINES[1:])
def test_counters_equal_duckdb(loaded, example, engine):
    def counters(results):
        return [{e.entity: dict(e.counts) for e in r.entities} for r in results]

    assert counters(loaded[example][engine][0]) == counters(loaded[example]["duckdb"][0])


@pytest.mark.parametrize("example", sorted(BATCHES))
@pytest.mark.parametrize("engine", ENGINES[1:])
def test_tables_equal_duckdb(loaded, example, engine):
    model = load_file(ROOT / "examples" / example / f"{example}.dm").model
    got, want = loaded[example][engine][1], loaded[example]["duckdb"][1]
    assert set(got) == set(want)
    for table, rows in want.items():
        assert rows, f"{example}.{table} is empty: the example should fill every table"
        loose = FAKESNOW_TIMESTAMP_HASHES.get((example, table), set()) if engine == "snowflake" else set()
        if not loose:
            assert got[table] == rows, f"{engine}: {example}.{table} differs"
            continue
        names = plan.build(model).table(table).column_names
        keep = [i for i, c in enumerate(names) if c not in loose]
        assert _without(got[table], keep) == _without(rows, keep), f"{engine}: {example}.{table} differs, {loose} aside"
        for i in (i for i, c in enumerate(names) if c in loose):
            # Rows equal but for the loose column (the unknown and error members) must hold the same values.
            ours: dict[tuple, set] = {}
            theirs: dict[tuple, set] = {}
            for r in rows:
                ours.setdefault(tuple(r[j] for j in keep), set()).add(r[i])
            for r in got[table]:
                theirs.setdefault(tuple(r[j] for j in keep), set()).add(r[i])
            pairs = set()
            for rest, values in ours.items():
                if len(values) == 1 and len(theirs[rest]) == 1:
                    pairs.add((next(iter(values)), next(iter(theirs[rest]))))
                else:
                    assert values == theirs[rest], f"{engine}: {example}.{table}.{names[i]} at {rest}"
                    pairs |= {(v, v) for v in values}
            assert len({a for a, _ in pairs}) == len({b for _, b in pairs}) == len(pairs), (
                f"{engine}: {example}.{table}.{names[i]} does not map one-to-one onto DuckDB's"
            )


# ---- Redshift's load statements on PostgreSQL ----------------------------------------------------------------

# Redshift functions PostgreSQL lacks, defined with Redshift's documented meaning (lower-case hex text, hex text
# to VARBYTE): the only help the stand-in gets. Everything else is Redshift's SQL as rendered.
REDSHIFT_FUNCTIONS = (
    "CREATE FUNCTION sha2(text, integer) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "AS $$ SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') $$",
    "CREATE FUNCTION from_hex(text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT decode($1, 'hex') $$",
    "CREATE FUNCTION to_hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT encode($1, 'hex') $$",
)


def _redshift_only(plan) -> bool:
    """Whether a plan does date arithmetic, which Redshift spells DATEADD/DATEDIFF(DAY, ...): not PostgreSQL."""
    return any(
        step.expression is not None and step.expression.find(exp.DateAdd, exp.DateDiff) is not None
        for step in plan.steps
    )


class RedshiftOnPostgres(PostgresTarget):
    """PostgreSQL tables, Redshift's load statements, but for plans outside the Postgres-compatible subset."""

    def __init__(self, url: str):
        super().__init__(url)
        self.as_postgres: set[str] = set()
        self.execute("SET escape_string_warning = off")

    def dialect_for(self, plan) -> str:
        # Redshift reads a backslash in a string literal as an escape (its '\\N' is `\N`, the hashing's NULL
        # marker), as PostgreSQL does with standard_conforming_strings off; PostgreSQL's own SQL wants it on.
        redshift = not _redshift_only(plan)
        self.execute(f"SET standard_conforming_strings = {'off' if redshift else 'on'}")
        if not redshift:
            self.as_postgres.add(plan.entity)
        return "redshift" if redshift else "postgres"


# Entities whose Redshift load is outside the subset (date arithmetic: the calendar, PIT and bridge spines, the
# microsecond steps of an ordered satellite): they run as PostgreSQL's own loads.
OUTSIDE_THE_SUBSET = {"retail": {"date"}, "vault": {"order_details", "customer_pit", "customer_orders"}}


@pytest.mark.parametrize("example", sorted(BATCHES))
def test_redshift_loads_run_on_postgres(pg, loaded, example, tmp_path):
    """The tables and sources are PostgreSQL's (Redshift DDL has DISTKEY, VARCHAR(MAX), SUPER); every load
    statement is rendered for Redshift (MERGE without a target alias, from a temporary table) and run on
    the PostgreSQL server; the final tables equal DuckDB's."""
    database = f"{example}_redshift"
    with pg.connect() as con:
        con.execute(f"DROP DATABASE IF EXISTS {database}")
        con.execute(f"CREATE DATABASE {database}")
    url = f"postgresql://postgres@127.0.0.1:{pg.port}/{database}"
    target = RedshiftOnPostgres(url)
    for statement in REDSHIFT_FUNCTIONS:
        target.execute(statement)
    shutil.copytree(ROOT / "examples" / example / "data", tmp_path / "data")
    model = load_file(ROOT / "examples" / example / f"{example}.dm").model
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for batch, ts in BATCHES[example]:
            result = run(model, target, variables={"batch": str(batch)}, load_ts=dt.datetime.fromisoformat(ts))
            assert result.ok, [(e.entity, e.error) for e in result.entities if e.error]
    finally:
        os.chdir(cwd)
        target.close()
    assert target.as_postgres == OUTSIDE_THE_SUBSET[example]
    assert _tables(url, model) == loaded[example]["duckdb"][1]


# ---- generated dimension loads on ClickHouse and PostgreSQL against the reference model -------------------

# Few sequences: each chdb load takes a second of ClickHouse query planning. MODELC_ENGINE_EXAMPLES=N for more.
ENGINE_EXAMPLES = int(os.environ.get("MODELC_ENGINE_EXAMPLES", 0)) or 5


@pytest.fixture(scope="module")
def property_targets(pg, tmp_path_factory):
    """A chdb session and a PostgreSQL database for the generated loads (not at the same time as `loaded`'s
    sessions: chdb allows one session per process)."""
    with pg.connect() as con:
        con.execute("DROP DATABASE IF EXISTS properties")
        con.execute("CREATE DATABASE properties")
    return {"chdb": f"chdb://{tmp_path_factory.mktemp('properties') / 'chdb'}",
            "postgres": f"postgresql://postgres@127.0.0.1:{pg.port}/properties"}  # fmt: skip


@pytest.mark.parametrize("engine", ["chdb", "postgres"])
def test_generated_dimension_loads_equal_the_reference(property_targets, engine):
    """hypothesis draws a dimension (SCD kinds, change detection, deletes, policies) and batches full of corner
    cases (tests/strategies.py); every batch is loaded on the engine with the plan `modelc run` executes and
    with the reference model: the tables are equal row for row after each batch, surrogate keys included, and
    a load the reference rejects fails and changes nothing (on ClickHouse too: its checks come first)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from reference.dimension import DimensionState, LoadError, load, sort_key
    from strategies import (
        SOURCE,
        batch_sequences,
        canonical_rows,
        delete_predicate,
        dimensions,
        physical_columns,
        settings_,
        to_dm_text,
    )

    from modelc import dialects
    from modelc.api import compile as compile_model
    from modelc.loader import load_text
    from modelc.loads import plan_entity
    from modelc.runtime import execute_plan

    target = open_target(property_targets[engine])
    d = dialects.get(target.dialect)
    names = [c.name for c in SOURCE.columns]

    def table(model, dim) -> list[tuple]:
        cols = ", ".join(target.ident(c) for c in physical_columns(dim))
        rows = target.query(f"SELECT {cols} FROM {target.table_sql(model.settings.schema, dim.name)}").rows
        return sorted((tuple(normal(v) for v in r) for r in rows), key=sort_key)

    def expected(dim, state) -> list[tuple]:
        return sorted((tuple(normal(v) for v in r) for r in canonical_rows(dim, state)), key=sort_key)

    @settings(max_examples=ENGINE_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(data=st.data())
    def check(data):
        dim = data.draw(dimensions(), label="dimension")
        model_settings = data.draw(settings_(), label="settings")
        loaded = load_text(to_dm_text(dim, SOURCE.name, model_settings), "prop.dm")
        assert loaded.ok, [x.message for x in loaded.diagnostics]
        model = loaded.model
        for schema in ("src", model.settings.schema):
            target.execute(f"DROP {'DATABASE' if engine == 'chdb' else 'SCHEMA'} IF EXISTS {target.ident(schema)}"
                           + ("" if engine == "chdb" else " CASCADE"))  # fmt: skip
        target.execute(target.sql(d.create_schema("src")))
        target.execute(target.create_table_sql("src", "items", [(c.name, c.type) for c in SOURCE.columns]))
        for statement in compile_model(model, target.dialect, loads=False).ddl():
            target.execute(statement.sql)
        plan = plan_entity(model, dim.name)
        state = DimensionState()
        source = target.table_sql("src", "items")
        for i, step in enumerate(data.draw(batch_sequences(dim), label="batches")):
            target.execute(f"{'TRUNCATE TABLE' if engine == 'chdb' else 'DELETE FROM'} {source}")
            if step.rows:
                values = exp.values([tuple(exp.convert(row.get(n)) for n in names) for row in step.rows])
                target.execute(f"INSERT INTO {source} {target.sql(values)}")
            before = table(model, dim)
            try:
                load(dim, model_settings, state, step.rows, step.load_ts, is_delete=delete_predicate(dim))
                expected_error = None
            except LoadError as exc:
                expected_error = exc
            _, error = execute_plan(target, plan, step.load_ts)
            if expected_error is not None:
                assert error is not None, f"batch {i}: the reference rejects the load ({expected_error})"
                assert table(model, dim) == before, f"batch {i}: a failed load changed the table"
            else:
                assert error is None, f"batch {i}: {error}"
            assert table(model, dim) == expected(dim, state), f"batch {i} (load ts {step.load_ts})"

    try:
        check()
    finally:
        target.close()
