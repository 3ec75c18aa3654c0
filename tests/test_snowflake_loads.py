"""The retail example's Snowflake loads, executed through fakesnow, end with the same tables as DuckDB.

fakesnow translates Snowflake SQL onto DuckDB, so this proves the Snowflake statements we emit are
accepted and mean the same thing there; it is not a real Snowflake (docs/dialects.md says what it
cannot show)."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import fakesnow
import pytest

from modelc import api, dialects, plan
from modelc.loader import load_file
from modelc.loads import plan_entity
from modelc.runtime import execute_plan, open_database, run

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "retail"
BATCHES = ((1, dt.datetime(2024, 1, 10)), (2, dt.datetime(2024, 2, 10)), (3, dt.datetime(2024, 3, 10)))
TABLES = ("customer", "product", "date", "order_line")


def normal(value: object) -> object:
    """Values as both engines' drivers return them, made comparable."""
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, float):
        return Decimal(str(value)).normalize()
    return value


def table_rows(cur, model, name: str) -> list[tuple]:
    spec = plan.build(model).table(name)
    # Hash keys are left out: their canonical text needs TO_CHAR formats that fakesnow does not
    # translate (cross-engine hash equality is tested on its own, tests/test_dialects.py and hashing).
    cols = ", ".join(c.name for c in spec.columns if not (c.name.endswith("_key") and c.type.name == "string"))
    cur.execute(f"SELECT {cols} FROM {spec.schema}.{spec.name}")
    return sorted((tuple(normal(v) for v in row) for row in cur.fetchall()), key=repr)


@pytest.fixture(scope="module")
def model():
    return load_file(EXAMPLE / "retail.dm").model


@pytest.fixture(scope="module")
def duckdb_tables(model, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("duck") / "retail.duckdb")
    for batch, ts in BATCHES:
        assert run(model, path, variables={"batch": str(batch)}, load_ts=ts).ok
    con = open_database(path)
    try:
        return {name: table_rows(con, model, name) for name in TABLES}
    finally:
        con.close()


def test_snowflake_loads_match_duckdb(model, duckdb_tables):
    sf = dialects.get("snowflake")
    with fakesnow.patch():
        import snowflake.connector

        con = snowflake.connector.connect(database="db", schema="public")
        cur = con.cursor()
        for st in api.compile(model, "snowflake", loads=False).ddl():
            cur.execute(st.sql)
        for src in model.of_kind("source"):
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {src.schema}")
            cols = ", ".join(f"{c.name} {sf.type_sql(c.type)}" for c in src.columns)
            cur.execute(f"CREATE OR REPLACE TABLE {src.schema}.{src.table} ({cols})")
        order = [n for n in plan.build(model).order if n in TABLES]
        for batch, ts in BATCHES:
            for src in model.of_kind("source"):
                cur.execute(f"DELETE FROM {src.schema}.{src.table}")
                path = src.location.replace("${batch}", str(batch))
                with open(path, newline="", encoding="utf-8") as f:
                    rows = [[r[c.name] or None for c in src.columns] for r in csv.DictReader(f)]
                marks = ", ".join("%s" for _ in src.columns)
                cur.executemany(f"INSERT INTO {src.schema}.{src.table} VALUES ({marks})", rows)
            for name in order:
                # fakesnow keeps its own catalog in another database: no transaction around temp tables
                counts, error = execute_plan(cur, plan_entity(model, name), ts, dialect="snowflake", atomic=False)
                assert error is None, f"batch {batch}, {name}: {error}"
        got = {name: table_rows(cur, model, name) for name in TABLES}
    for name in TABLES:
        assert got[name] == duckdb_tables[name], name
