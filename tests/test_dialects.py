"""Dialects: the registry, the type mapping, physical options (rendered or warned), capability flags,
hash functions that agree across engines, and docs/dialects.md kept in sync with the classes."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
from pathlib import Path

import duckdb
import pytest
import sqlglot
from conftest import ROOT, rich_model
from sqlglot import exp

from modelc import api, cli, dialects, ir, plan
from modelc.dialects import reference
from modelc.dialects.base import Dialect

ALL = dialects.names()


def compile_(model: ir.Model, dialect: str) -> api.CompileResult:
    return api.compile(model, dialect)


def ddl(result: api.CompileResult, entity: str) -> str:
    (st,) = result.for_entity(entity, "ddl")
    return st.sql


def codes(result: api.CompileResult, entity: str | None = None) -> list[str]:
    spans = {e.name: e.span for e in result.model.entities}
    return [d.code for d in result.diagnostics if entity is None or d.span == spans[entity]]


def with_entity(model: ir.Model, entity) -> ir.Model:
    return dataclasses.replace(model, entities=tuple(entity if e.name == entity.name else e for e in model.entities))


# ---- registry ---------------------------------------------------------------------------------


def test_registry_names_and_lookup():
    assert ALL == ("bigquery", "clickhouse", "duckdb", "postgres", "redshift", "snowflake")
    assert cli._DIALECTS == ALL, "the CLI lists the dialects without importing them"
    assert dialects.get("DuckDB") is dialects.get("duckdb")
    assert dialects.get(dialects.get("redshift")).name == "redshift"


def test_unknown_dialect_suggests_the_nearest():
    with pytest.raises(dialects.UnknownDialectError) as info:
        dialects.get("snowflak")
    assert "did you mean `snowflake`?" in str(info.value)
    assert "bigquery, clickhouse, duckdb, postgres, redshift, snowflake" in str(info.value)
    with pytest.raises(ValueError, match="unknown dialect `oracle`") as info:
        dialects.get("oracle")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("name", ALL)
def test_each_dialect_is_one_module_with_one_class(name):
    module = importlib.import_module(f"modelc.dialects.{name}")
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, Dialect) and c is not Dialect]
    assert [c.name for c in classes] == [name]
    d = dialects.get(name)
    assert d.sqlglot_name and sqlglot.Dialect.get_or_raise(d.sqlglot_name)


def test_postgres_is_declarative_only():
    """The sixth dialect proves the design: flags and tables in one new file, no behaviour of its own."""
    from modelc.dialects.postgres import Postgres

    own = {k: v for k, v in vars(Postgres).items() if not k.startswith("__")}
    assert not [k for k, v in own.items() if callable(v)]
    source = Path(inspect.getsourcefile(dialects)).read_text()
    assert len([line for line in source.splitlines() if "postgres" in line.lower()]) == 1, "one registry line"


# ---- types ------------------------------------------------------------------------------------

MAPPED = ("int", "bigint", "smallint", "decimal(p,s)", "float", "double", "bool", "string", "string(n)", "date", "time")
MAPPED += ("timestamp", "timestamptz", "json", "binary")


@pytest.mark.parametrize("name", ALL)
def test_type_table_is_complete_and_parses(name):
    d = dialects.get(name)
    assert set(d.types) == set(MAPPED)
    assert set(MAPPED) - {"decimal(p,s)", "string(n)"} | {"decimal", "string"} == set(ir.PORTABLE_TYPES)
    for _, t in reference.TYPE_EXAMPLES:
        rendered = d.render(d.data_type(t), pretty=False)
        assert exp.DataType.build(rendered, dialect=d.sqlglot_name)


@pytest.mark.parametrize(
    ("dialect", "portable", "expected"),
    [
        ("bigquery", ir.Type("decimal", precision=30, scale=2), "NUMERIC(30, 2)"),
        ("bigquery", ir.Type("decimal", precision=32, scale=2), "BIGNUMERIC(32, 2)"),  # 30 integer digits
        ("bigquery", ir.Type("decimal", precision=20, scale=10), "BIGNUMERIC(20, 10)"),
        ("bigquery", ir.Type("timestamp"), "DATETIME"),
        ("bigquery", ir.Type("timestamptz"), "TIMESTAMP"),
        ("redshift", ir.Type("string"), "VARCHAR(MAX)"),
        ("redshift", ir.Type("string", length=20), "VARCHAR(80)"),
        ("redshift", ir.Type("string", length=20000), "VARCHAR(65535)"),
        ("snowflake", ir.Type("timestamp"), "TIMESTAMPNTZ"),
        ("snowflake", ir.Type("json"), "VARIANT"),
        ("clickhouse", ir.Type("date"), "Nullable(Date32)"),
        ("clickhouse", ir.Type("timestamptz"), "Nullable(DateTime64(6, 'UTC'))"),
        ("postgres", ir.Type("json"), "JSONB"),
    ],
)
def test_type_mapping_details(dialect, portable, expected):
    d = dialects.get(dialect)
    assert d.render(d.data_type(portable), pretty=False) == expected


def test_clickhouse_nullability_lives_in_the_type():
    d = dialects.get("clickhouse")
    assert d.render(d.data_type(ir.Type("int"), nullable=False)) == "Int32"
    sql = ddl(compile_(rich_model(), "clickhouse"), "customer")
    assert "NOT NULL" not in sql and "customer_key String," in sql and "email Nullable(String)" in sql


@pytest.mark.parametrize("dialect", ["duckdb", "snowflake", "redshift"])
def test_decimal_beyond_the_engine_is_an_error(dialect):
    m = rich_model()
    fact = m.get("sales")
    wide = ir.DerivedColumn("wide", ir.Type("decimal", precision=40, scale=2), "amount")
    result = compile_(with_entity(m, dataclasses.replace(fact, derived=(wide,))), dialect)
    assert not result.ok and "E405" in codes(result)
    for other in ("clickhouse", "bigquery"):
        assert compile_(result.model, other).ok


# ---- physical options ---------------------------------------------------------------------------


def test_bigquery_partition_and_cluster():
    result = compile_(rich_model(), "bigquery")
    assert "PARTITION BY DATETIME_TRUNC(valid_from, MONTH)\nCLUSTER BY segment, country" in ddl(result, "customer")
    sales = ddl(result, "sales")
    assert "PARTITION BY TIMESTAMP_TRUNC(ordered_at, DAY)" in sales and "CLUSTER BY customer_key, product_key" in sales
    assert "PRIMARY KEY (order_id, line_no) NOT ENFORCED" in sales
    assert "PARTITION BY DATETIME_TRUNC(load_ts, YEAR)" in ddl(result, "customer_details")


@pytest.mark.parametrize(("transform", "expected"), [(None, "order_date"), ("month", "DATE_TRUNC(order_date, MONTH)")])
def test_bigquery_partition_by_a_date_column(transform, expected):
    m = rich_model()
    fact = dataclasses.replace(m.get("sales"), physical=ir.Physical("order_date", transform))
    assert f"PARTITION BY {expected}\n" in ddl(compile_(with_entity(m, fact), "bigquery"), "sales") + "\n"


def test_bigquery_cluster_limits_are_warnings():
    m = rich_model()
    cols = ("channel", "weight", "quantity", "order_id", "line_no", "customer_key")
    fact = dataclasses.replace(m.get("sales"), physical=ir.Physical(partition_by="quantity", cluster_by=cols))
    result = compile_(with_entity(m, fact), "bigquery")
    sql = ddl(result, "sales")
    assert "CLUSTER BY channel, quantity, order_id, line_no\n" in sql + "\n" and "PARTITION" not in sql
    messages = [d.message for d in result.diagnostics if d.code == "W403"]
    assert len(messages) == 3, messages  # a float column, a fifth column, a non-temporal partition
    assert result.ok


def test_snowflake_cluster_by():
    result = compile_(rich_model(), "snowflake")
    assert ddl(result, "customer").endswith("CLUSTER BY (segment, country)")
    assert ddl(result, "sales").endswith("CLUSTER BY (customer_key, product_key)")


def test_redshift_dist_and_sort_keys():
    result = compile_(rich_model(), "redshift")
    assert ddl(result, "sales").endswith("DISTSTYLE KEY\nDISTKEY(customer_key)\nSORTKEY(ordered_at)")
    assert ddl(result, "customer").endswith("DISTSTYLE KEY\nDISTKEY(customer_id)\nSORTKEY(customer_id)")
    assert ddl(result, "product").endswith("DISTSTYLE ALL")


def test_redshift_conflicting_distribution_is_a_warning_not_bad_sql():
    m = rich_model()
    fact = dataclasses.replace(m.get("sales"), physical=ir.Physical(distkey="order_id", diststyle="even"))
    result = compile_(with_entity(m, fact), "redshift")
    assert ddl(result, "sales").endswith("DISTSTYLE KEY\nDISTKEY(order_id)") and "W403" in codes(result, "sales")
    fact = dataclasses.replace(fact, physical=ir.Physical(diststyle="key"))
    result = compile_(with_entity(m, fact), "redshift")
    assert "DIST" not in ddl(result, "sales") and "W403" in codes(result, "sales")


def test_clickhouse_engine_order_and_partition():
    result = compile_(rich_model(), "clickhouse")
    sales = ddl(result, "sales")
    assert sales.endswith(
        "ENGINE=ReplacingMergeTree\nPARTITION BY toYYYYMMDD(ordered_at)\nORDER BY (order_id, line_no)"
    )
    assert ddl(result, "customer").endswith(
        "ENGINE=MergeTree\nPARTITION BY toYYYYMM(valid_from)\nORDER BY customer_key"
    )
    assert "PARTITION BY toYear(load_ts)" in ddl(result, "customer_details")
    assert "PRIMARY KEY" not in result.sql()


def test_clickhouse_nullable_key_column_is_stored_non_nullable_with_a_warning():
    m = rich_model()
    fact = dataclasses.replace(m.get("sales"), physical=ir.Physical(order_by=("order_id", "channel")))
    result = compile_(with_entity(m, fact), "clickhouse")
    assert "channel String," in ddl(result, "sales") and "W402" in codes(result, "sales")


def test_clickhouse_engine_is_checked():
    m = rich_model()
    fact = dataclasses.replace(m.get("sales"), physical=ir.Physical(engine="replacingmergetree"))
    assert "ENGINE=ReplacingMergeTree" in ddl(compile_(with_entity(m, fact), "clickhouse"), "sales")
    fact = dataclasses.replace(fact, physical=ir.Physical(engine="ReplacingMergeTre; DROP TABLE x"))
    result = compile_(with_entity(m, fact), "clickhouse")
    (d,) = [d for d in result.diagnostics if d.code == "E404"]
    assert d.hint == "did you mean `ReplacingMergeTree`?" and "DROP" not in result.sql()


@pytest.mark.parametrize("name", ALL)
def test_ignored_options_warn_once_per_entity(name):
    result = compile_(rich_model(), name)
    d = dialects.get(name)
    for e in result.model.entities:
        physical = getattr(e, "physical", ir.Physical())
        ignored = [o for o in ("partition_by", "cluster_by", "order_by", "sortkey", "distkey", "diststyle", "engine")]
        ignored = [o for o in ignored if getattr(physical, o) and o not in d.physical_options]
        warnings = [x for x in result.diagnostics if x.code == "W401" and x.span == e.span]
        assert len(warnings) == (1 if ignored else 0), (e.name, ignored)
        for o in ignored:
            assert f"`{o.replace('_', ' ')}`" in warnings[0].message
            assert f"`{o.replace('_', ' ')}` is understood by " in warnings[0].hint
    assert result.ok


def test_warnings_name_the_options_and_the_engines_that_use_them():
    result = compile_(rich_model(), "duckdb")
    (w,) = [d for d in result.diagnostics if d.code == "W401" and d.span == result.model.get("product").span]
    assert w.message == "`diststyle` on dimension `product` means nothing on duckdb; ignored"
    assert w.hint == "`diststyle` is understood by redshift"


# ---- capabilities --------------------------------------------------------------------------------


def test_capability_flags_say_what_the_engines_do():
    ch, rs, sf, dk, bq, pg = (
        dialects.get(n) for n in ("clickhouse", "redshift", "snowflake", "duckdb", "bigquery", "postgres")
    )
    assert not ch.has_merge and not ch.has_update_from and ch.primary_key == "none" and not ch.supports_schemas
    assert rs.has_merge and not rs.merge_when_conditions and not rs.merge_target_alias and not rs.merge_source_subquery
    assert sf.has_merge and not sf.merge_not_matched_by_source and sf.primary_key == "informational"
    assert dk.merge_not_matched_by_source and dk.primary_key == "enforced" and dk.transactional_ddl
    assert bq.merge_not_matched_by_source and not bq.has_delete_using
    assert pg.has_merge and not pg.merge_not_matched_by_source and pg.max_identifier_bytes == 63
    for d in dialects.all_dialects():
        assert d.physical_options <= {
            "partition_by",
            "cluster_by",
            "order_by",
            "sortkey",
            "distkey",
            "diststyle",
            "engine",
        }
        assert json.dumps(d.capabilities())


# ---- hashing -----------------------------------------------------------------------------------

HASH_KEYS = [("md5", "hex"), ("md5", "binary"), ("sha256", "hex"), ("sha256", "binary")]
SAMPLES = ["abc", "naïve ✓ 日本", ""]


@pytest.mark.parametrize("name", ALL)
def test_hash_templates_round_trip(name):
    d = dialects.get(name)
    assert set(d.hash_functions) == set(HASH_KEYS)
    for key in HASH_KEYS:
        e = d.hash_expression(exp.column("payload"), *key)
        sql = d.render(e, pretty=False)
        assert "payload" in sql and "__value__" not in sql
        assert d.render(sqlglot.parse_one(sql, read=d.sqlglot_name), pretty=False) == sql


def _hash_sql(name: str, key, value: str) -> str:
    d = dialects.get(name)
    e = d.hash_expression(exp.Literal.string(value), *key)
    if key[1] == "binary":  # compare as lower-case hex, in each engine's own words
        e = {"duckdb": exp.Lower(this=exp.Hex(this=e)), "clickhouse": exp.Lower(this=exp.Hex(this=e))}.get(name, e)
    return exp.select(e).sql(d.sqlglot_name)


def _expected(key, value: str) -> str:
    import hashlib

    return hashlib.new(key[0], value.encode()).hexdigest()


@pytest.mark.parametrize("key", HASH_KEYS)
def test_hashes_agree_on_duckdb_and_clickhouse(key, chdb_session):
    con = duckdb.connect()
    for value in SAMPLES:
        assert con.execute(_hash_sql("duckdb", key, value)).fetchone()[0] == _expected(key, value)
        got = chdb_session.query(_hash_sql("clickhouse", key, value), "TabSeparatedRaw").bytes().decode().strip()
        assert got == _expected(key, value)


@pytest.mark.parametrize("key", HASH_KEYS)
def test_hashes_agree_on_snowflake(key, snowflake_cursor):
    for value in SAMPLES:
        snowflake_cursor.execute(_hash_sql("snowflake", key, value))
        got = snowflake_cursor.fetchone()[0]
        assert (got.hex() if isinstance(got, bytes | bytearray) else got) == _expected(key, value)


# ---- docs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "table", [reference.types_table, reference.flags_table, reference.hash_table, reference.options_table]
)
def test_docs_tables_match_the_classes(table):
    page = (ROOT / "docs" / "dialects.md").read_text(encoding="utf-8")
    assert table() in page, (
        f"docs/dialects.md is out of date; paste the output of modelc.dialects.reference.{table.__name__}()"
    )


def test_generated_column_names_are_documented():
    page = (ROOT / "docs" / "dialects.md").read_text(encoding="utf-8")
    for name in (plan.LOADED_AT, plan.UPDATED_AT, plan.CHANGED_AT, plan.IS_DELETED, plan.LOAD_TS, plan.RECORD_SOURCE):
        assert f"`{name}`" in page
    for name in (plan.HASH_DIFF, plan.START_TS, plan.END_TS, plan.IS_ACTIVE, plan.SNAPSHOT_DATE, plan.CALENDAR_KEY):
        assert f"`{name}`" in page
    for code in ("W401", "W402", "W403", "W404", "E401", "E402", "E403", "E404", "E405"):
        assert code in page
