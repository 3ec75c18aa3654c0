"""No name can break or inject into the SQL: reserved words, case, spaces, quotes of every kind, backslashes
and unicode compile, execute on DuckDB and ClickHouse, and come back exactly as written."""

from __future__ import annotations

import dataclasses
import json

import duckdb
import pytest
import sqlglot
from conftest import TORTURE_NAMES, rich_model, torture_model
from sqlglot import exp

from modelc import api, dialects, ir
from modelc.dialects import identifiers

SCHEMA = "Odd Schema"


@pytest.fixture(scope="module")
def torture() -> ir.Model:
    return torture_model(SCHEMA)


def test_quoting_rule():
    def show(name, fold_upper=False):
        return identifiers.make_identifier(name, fold_upper).sql("duckdb")

    assert show("customer_key") == "customer_key"
    assert show("select") == '"select"' and show("select", fold_upper=True) == '"SELECT"'
    assert show("date") == '"date"' and show("date", fold_upper=True) == '"DATE"'
    assert show("MixedCase", fold_upper=True) == '"MixedCase"'
    assert show("two words") == '"two words"'
    assert show('say "hi"') == '"say ""hi"""'
    assert show("1st") == '"1st"'


@pytest.mark.parametrize("name", dialects.names())
def test_torture_model_compiles_and_parses_back(name, torture):
    result = api.compile(torture, name)
    if name == "bigquery":  # backtick and backslash cannot be written safely there: errors, not SQL
        messages = [d.message for d in result.diagnostics if d.code == "E403"]
        assert len(messages) == 4  # two names, in two tables
        assert all("a\\b" in m or "back`tick" in m for m in messages)
        torture = _without(torture, ("back`tick", "a\\b"))
        result = api.compile(torture, name)
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    for st in result.ddl():
        assert result.dialect.render(sqlglot.parse_one(st.sql, read=result.dialect.sqlglot_name)) == st.sql


def _without(model: ir.Model, drop: tuple[str, ...]) -> ir.Model:
    def keep(cols):
        return tuple(c for c in cols if c.name not in drop)

    entities = []
    for e in model.entities:
        if isinstance(e, ir.Source):
            e = dataclasses.replace(e, columns=keep(e.columns))
        elif isinstance(e, ir.Dimension):
            e = dataclasses.replace(e, columns=keep(e.columns))
        elif isinstance(e, ir.Fact):
            e = dataclasses.replace(e, degenerate=keep(e.degenerate))
        entities.append(e)
    return dataclasses.replace(model, entities=tuple(entities))


def test_torture_executes_on_duckdb_with_exact_names(torture):
    result = api.compile(torture, "duckdb")
    con = duckdb.connect()
    for _ in range(2):
        for st in result.ddl():
            con.execute(st.sql)
    tables = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SCHEMA]).fetchall()
    assert sorted(t[0] for t in tables) == sorted(t.name for t in result.plan.tables)
    for t in result.plan.tables:
        cols = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
            " ORDER BY ordinal_position",
            [SCHEMA, t.name],
        ).fetchall()
        assert [c[0] for c in cols] == list(t.column_names)
    dim_columns = [c.name for c in result.plan.table("select").columns]
    assert set(TORTURE_NAMES) <= set(dim_columns)


def test_torture_executes_on_clickhouse_with_exact_names(torture, chdb_session):
    result = api.compile(torture, "clickhouse")
    for _ in range(2):
        for st in result.ddl():
            chdb_session.query(st.sql)
    for t in result.plan.tables:
        where = exp.and_(
            exp.column("database").eq(exp.Literal.string(SCHEMA)), exp.column("table").eq(exp.Literal.string(t.name))
        )
        query = exp.select("name").from_("system.columns").where(where).order_by("position")
        got = json.loads(chdb_session.query(query.sql("clickhouse"), "JSONCompact").bytes())["data"]
        assert [r[0] for r in got] == list(t.column_names)


def test_torture_on_snowflake_folds_plain_names_only(torture, snowflake_cursor):
    # fakesnow's own metadata SQL (varchar lengths) breaks on a quote, backtick or backslash in a column name;
    # Snowflake does not. DuckDB and chdb run those names above.
    result = api.compile(_without(torture, ("it's", "back`tick", "a\\b")), "snowflake")
    for _ in range(2):
        for st in result.ddl():
            snowflake_cursor.execute(st.sql)
    snowflake_cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
        " ORDER BY ordinal_position",
        (SCHEMA, "SELECT"),
    )
    got = [r[0] for r in snowflake_cursor.fetchall()]
    expected = [n.upper() if identifiers.PLAIN.match(n) else n for n in result.plan.table("select").column_names]
    assert got == expected
    assert {"SELECT_KEY", "ORDER", "GROUP", "MixedCase", "two words", 'say "hi"', "naïve_日本"} <= set(got)


def test_injection_attempts_are_just_names():
    evil = 'x"; DROP TABLE keep; --'
    m = rich_model()
    src = m.get("catalog.products")
    dim = m.get("product")
    src = dataclasses.replace(src, columns=(*src.columns, ir.Column(evil, ir.Type("string"))))
    dim = dataclasses.replace(dim, columns=(*dim.columns, ir.DimensionColumn(evil, ir.Type("string"), 1)))
    m = dataclasses.replace(
        m, entities=tuple({"catalog.products": src, "product": dim}.get(e.name, e) for e in m.entities)
    )
    con = duckdb.connect()
    con.execute("CREATE TABLE keep (a INT)")
    for st in api.compile(m, "duckdb").ddl():
        con.execute(st.sql)
    assert con.execute("SELECT count(*) FROM keep").fetchone() == (0,)
    cols = con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'product'").fetchall()
    assert evil in [c[0] for c in cols]


@pytest.mark.parametrize(("dialect", "limit"), [("postgres", 63), ("redshift", 127), ("snowflake", 255)])
def test_names_longer_than_the_engine_allows_are_errors(dialect, limit):
    m = rich_model()
    long = "é" * (limit // 2 + 1)  # two bytes each: within the limit in characters, beyond it in bytes
    src = m.get("catalog.products")
    dim = m.get("product")
    src = dataclasses.replace(src, columns=(*src.columns, ir.Column(long, ir.Type("string"))))
    dim = dataclasses.replace(dim, columns=(*dim.columns, ir.DimensionColumn(long, ir.Type("string"), 1)))
    m = dataclasses.replace(
        m, entities=tuple({"catalog.products": src, "product": dim}.get(e.name, e) for e in m.entities)
    )
    result = api.compile(m, dialect)
    (d,) = [d for d in result.diagnostics if d.code == "E403"]
    assert f"at most {limit}" in d.message and d.span == dim.span
    assert api.compile(m, "duckdb").ok


def test_control_characters_are_refused_everywhere():
    m = torture_model("dw\x07")
    for name in dialects.names():
        result = api.compile(m, name)
        assert any(d.code == "E403" and "control character" in d.message for d in result.diagnostics)


def test_render_applies_the_quoting_rule_to_any_expression():
    """Loads are built with every name quoted; rendered through the dialect they name what the DDL created."""
    sql = 'SELECT "d"."customer_key", "d"."date", "d"."MixedCase" FROM "dw"."customer" AS "d"'
    e = sqlglot.parse_one(sql, read="duckdb")
    snowflake = dialects.get("snowflake").render(e, pretty=False)
    assert snowflake == 'SELECT d.customer_key, d."DATE", d."MixedCase" FROM dw.customer AS d'
    assert dialects.get("postgres").render(e, pretty=False) == snowflake.replace('"DATE"', '"date"')
    assert e.sql("duckdb") == sql, "the expression itself is left as it was"
