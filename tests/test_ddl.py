"""Table plans and their DDL: layouts per entity kind, and for every model and dialect DDL that parses
back, executes twice where an engine runs here (DuckDB, chdb, fakesnow), and matches its golden file."""

from __future__ import annotations

import dataclasses
import datetime
import json

import duckdb
import pytest
import sqlglot
from conftest import GOLDEN, MODEL_NAMES, check_golden, model_named, rich_model

from modelc import api, dialects, ir, plan

DIALECTS = dialects.names()


def names(spec: plan.TableSpec) -> list[str]:
    return list(spec.column_names)


# ---- layouts ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rich_plan() -> plan.ModelPlan:
    return plan.build(rich_model())


def test_plan_follows_graph_order(rich_plan):
    order = rich_plan.order
    assert "crm.customers" not in order  # sources are not built
    assert order.index("customer") < order.index("sales") and order.index("date_dim") < order.index("sales")
    assert order.index("customer_h") < order.index("order_link") < order.index("order_link_eff")
    assert order.index("customer_details") < order.index("customer_pit")
    assert rich_plan.diagnostics == ()


def test_dimension_layout(rich_plan):
    t = rich_plan.table("customer")
    assert names(t) == [
        "customer_key",
        "customer_id",
        "name",
        "email",
        "segment",
        "country",
        "city",
        "previous_city",
        "birth_date",
        "name_upper",
        "valid_from",
        "valid_to",
        "is_current",
        "is_deleted",
        "dw_changed_at",
        "dw_loaded_at",
        "dw_updated_at",
    ]
    assert t.primary_key == ("customer_key",)
    assert t.schema == "dw" and t.kind == "dimension"
    nullable = {c.name: c.nullable for c in t.columns}
    assert not nullable["customer_key"] and not nullable["valid_from"] and not nullable["is_current"]
    assert nullable["customer_id"], "the unknown member has no natural key (docs/semantics.md)"
    assert nullable["valid_to"]
    assert t.column("segment").type == ir.Type("string", length=20)
    assert t.column("customer_key").lineage == ("crm.customers.customer_id", "crm.customers.updated_at")
    assert t.column("name_upper").lineage == ("crm.customers.name",)
    assert t.column("previous_city").lineage == ("crm.customers.city",)


def test_unversioned_dimension_has_no_history(rich_plan):
    t = rich_plan.table("product")
    assert names(t) == [
        "product_key",
        "product_id",
        "name",
        "category",
        "price",
        "dw_changed_at",
        "dw_loaded_at",
        "dw_updated_at",
    ]


def test_history_names_and_open_end_come_from_the_model():
    m = rich_model()
    dim = m.get("customer")
    history = ir.History("starts", "ends", "live", open_end=datetime.date(9999, 12, 31))
    custom = dataclasses.replace(dim, history=history, physical=ir.Physical())
    t = plan.build(dataclasses.replace(m, entities=(*m.entities[:4], custom))).table("customer")
    assert {"starts", "ends", "live"} <= set(names(t)) and "valid_from" not in names(t)
    assert not t.column("ends").nullable  # an open end sentinel: never NULL


def test_calendar_layout(rich_plan):
    t = rich_plan.table("date_dim")
    assert names(t) == [
        "date_key",
        "date",
        "year",
        "quarter",
        "month",
        "month_name",
        "iso_week",
        "day_of_week",
        "is_weekend",
    ]
    assert t.column("date_key").type == ir.Type("int") and not t.column("date_key").nullable
    assert t.column("date").nullable  # the unknown member row (0, NULL, ...)
    assert t.primary_key == ("date_key",)


def test_fact_layout(rich_plan):
    t = rich_plan.table("sales")
    assert names(t) == [
        "order_id",
        "line_no",
        "customer_key",
        "customer_id",
        "ordered_at",
        "product_key",
        "product_id",
        "order_date_key",
        "order_date",
        "channel",
        "attrs",
        "signature",
        "pickup",
        "is_gift",
        "quantity",
        "amount",
        "weight",
        "ratio",
        "net_amount",
        "big_amount",
        "dw_loaded_at",
        "dw_updated_at",
    ]
    assert t.primary_key == ("order_id", "line_no")
    assert t.column("customer_key").type == ir.Type("string", length=32), "an md5 hex digest"
    assert t.column("order_date_key").type == ir.Type("int"), "a calendar key is yyyymmdd"
    assert t.column("net_amount").type == ir.Type("decimal", precision=12, scale=2), "inferred from the SQL"
    assert t.column("net_amount").lineage == ("sales.orders.amount", "sales.orders.discount")
    assert t.column("customer_key").lineage == (
        "sales.orders.customer_id",
        "sales.orders.ordered_at",
        "dw.customer.customer_key",
    )
    assert not t.column("order_id").nullable


def test_vault_layouts(rich_plan):
    assert names(rich_plan.table("customer_h")) == ["customer_h_hk", "customer_id", "load_ts", "record_source"]
    assert rich_plan.table("customer_h").column("customer_h_hk").lineage == (
        "crm.customers.customer_id",
        "sales.orders.customer_id",
    )
    link = rich_plan.table("order_link")
    assert names(link) == [
        "order_link_hk",
        "customer_hk",
        "product_hk",
        "line_no",
        "quantity",
        "amount",
        "load_ts",
        "record_source",
    ]
    sat = rich_plan.table("customer_details")
    assert names(sat) == ["customer_h_hk", "load_ts", "hash_diff", "name", "email", "segment", "record_source"]
    assert sat.primary_key == ("customer_h_hk", "load_ts")
    assert sat.column("hash_diff").lineage == ("crm.customers.name", "crm.customers.email", "crm.customers.segment")
    ma = rich_plan.table("customer_phones")
    assert names(ma) == ["customer_h_hk", "load_ts", "phone_type", "hash_diff", "phone", "record_source"]
    assert ma.primary_key == ("customer_h_hk", "load_ts", "phone_type")
    eff = rich_plan.table("order_link_eff")
    assert names(eff) == ["order_link_hk", "load_ts", "start_ts", "end_ts", "is_active", "record_source"]
    assert eff.column("order_link_hk").lineage == (
        "sales.orders.customer_id",
        "sales.orders.product_id",
        "sales.orders.line_no",
    )
    assert names(rich_plan.table("customer_seen")) == ["customer_h_hk", "load_ts", "record_source"]
    pit = rich_plan.table("customer_pit")
    assert names(pit) == [
        "customer_h_hk",
        "snapshot_date",
        "customer_details_hk",
        "customer_details_load_ts",
        "customer_phones_hk",
        "customer_phones_load_ts",
    ]
    assert pit.primary_key == ("customer_h_hk", "snapshot_date")
    assert pit.column("customer_details_load_ts").lineage == ("dw.customer_details.load_ts",)
    bridge = rich_plan.table("customer_orders")
    assert names(bridge) == ["customer_h_hk", "snapshot_date", "order_link_hk"]
    assert bridge.primary_key == ("customer_h_hk", "snapshot_date", "order_link_hk")


@pytest.mark.parametrize(
    ("hash_", "output", "expected"),
    [("md5", "hex", ir.Type("string", length=32)), ("sha256", "hex", ir.Type("string", length=64))]
    + [("md5", "binary", ir.Type("binary"))],
)
def test_hash_key_type_follows_settings(hash_, output, expected):
    p = plan.build(rich_model(hash_=hash_, output=output))
    assert p.table("customer_h").column("customer_h_hk").type == expected
    assert p.table("customer_details").column("hash_diff").type == expected


def test_plan_is_built_once_per_model():
    m = rich_model()
    assert plan.build(m) is plan.build(m)
    assert api.compile(m, "duckdb").plan is api.compile(m, "bigquery").plan


def test_colliding_column_is_an_error_and_dropped():
    m = rich_model()
    dim = m.get("product")
    clash = dataclasses.replace(dim, columns=(*dim.columns, ir.DimensionColumn("DW_LOADED_AT", ir.Type("int"), 1)))
    p = plan.build(dataclasses.replace(m, entities=(*m.entities[:5], clash)))
    assert [d.code for d in p.diagnostics] == ["E402"]
    assert (
        "`DW_LOADED_AT`" in p.diagnostics[0].message and "generated column `dw_loaded_at`" in p.diagnostics[0].message
    )
    assert names(p.table("product")).count("dw_loaded_at") == 1
    assert "DW_LOADED_AT" not in names(p.table("product"))
    result = api.compile(p.model, "duckdb")
    assert not result.ok


def test_physical_option_on_unknown_column_is_an_error():
    m = rich_model()
    dim = dataclasses.replace(m.get("product"), physical=ir.Physical(cluster_by=("nope", "category")))
    p = plan.build(dataclasses.replace(m, entities=(*m.entities[:5], dim)))
    (d,) = p.diagnostics
    assert d.code == "E401" and "nope" in d.message and d.span == dim.span
    assert p.table("product").physical.cluster_by == ("category",)


def test_cycle_gives_diagnostics_not_an_exception():
    m = rich_model()
    a = ir.Pit("a", "b", ())
    b = ir.Pit("b", "a", ())
    result = api.compile(dataclasses.replace(m, entities=(*m.entities, a, b)), "duckdb")
    assert not result.ok and result.plan.tables == ()


# ---- every model, every dialect ------------------------------------------------------------------


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_ddl_parses_back_in_its_dialect(name, dialect):
    result = api.compile(model_named(name), dialect)
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    assert len(result.ddl()) == len(result.plan.tables) + 1
    for st in result.ddl():
        assert st.kind == "ddl"
        again = sqlglot.parse_one(st.sql, read=result.dialect.sqlglot_name)
        assert result.dialect.render(again) == st.sql


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_golden_ddl(name, dialect, update_golden):
    check_golden(GOLDEN / name / f"{dialect}.sql", api.compile(model_named(name), dialect).sql(), update_golden)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_duckdb_executes_ddl_twice(name):
    result = api.compile(model_named(name), "duckdb")
    con = duckdb.connect()
    for _ in range(2):  # IF NOT EXISTS: re-runnable
        for st in result.ddl():
            con.execute(st.sql)
    for t in result.plan.tables:
        rows = con.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [t.schema, t.name],
        ).fetchall()
        assert [r[0] for r in rows] == names(t)
        pk = set(t.primary_key)
        assert [r[1] == "YES" for r in rows] == [c.nullable and c.name not in pk for c in t.columns]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_clickhouse_executes_ddl_twice(name, chdb_session):
    result = api.compile(model_named(name), "clickhouse")
    schema = result.model.settings.schema
    for _ in range(2):
        for st in result.ddl():
            chdb_session.query(st.sql)
    for t in result.plan.tables:
        got = chdb_session.query(
            f"SELECT name, type FROM system.columns WHERE database = '{schema}' AND table = '{t.name}'"
            " ORDER BY position",
            "JSONCompact",
        )
        rows = json.loads(got.bytes())["data"]
        assert [r[0] for r in rows] == names(t)
        keys = set(t.physical.order_by or t.primary_key) | {t.physical.partition_by}
        for (col, type_), spec in zip(rows, t.columns, strict=True):
            assert type_.startswith("Nullable(") == (spec.nullable and col not in keys), (t.name, col, type_)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_snowflake_ddl_runs_on_fakesnow_twice(name, snowflake_cursor):
    result = api.compile(model_named(name), "snowflake")
    for _ in range(2):
        for st in result.ddl():
            snowflake_cursor.execute(st.sql)
    for t in result.plan.tables:
        snowflake_cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
            " ORDER BY ordinal_position",
            (t.schema.upper(), t.name.upper()),
        )
        assert [r[0] for r in snowflake_cursor.fetchall()] == [n.upper() for n in names(t)]


def test_rerun_keeps_existing_tables():
    """IF NOT EXISTS never replaces a table: rows survive a second run of the DDL."""
    result = api.compile(model_named("handmade"), "duckdb")
    con = duckdb.connect()
    for st in result.ddl():
        con.execute(st.sql)
    con.execute("INSERT INTO dw.date_dim (date_key) VALUES (0)")
    for st in result.ddl():
        con.execute(st.sql)
    assert con.execute("SELECT count(*) FROM dw.date_dim").fetchone() == (1,)


def test_lineage_of_a_derived_column_follows_other_derived_columns():
    m = rich_model()
    fact = m.get("sales")
    derived = (
        ir.DerivedColumn("gross", None, "amount * 2"),
        ir.DerivedColumn("net", None, "gross - discount"),
        ir.DerivedColumn("amount", ir.Type("decimal", precision=12, scale=2), "coalesce(amount, 0)"),
    )
    fact = dataclasses.replace(fact, derived=derived)
    t = plan.build(dataclasses.replace(m, entities=tuple(fact if e.name == "sales" else e for e in m.entities)))
    sales = t.table("sales")
    assert sales.column("net").lineage == ("sales.orders.amount", "sales.orders.discount")
    assert sales.column("amount").lineage == ("sales.orders.amount",)  # its own name is the source column
    assert names(sales).count("amount") == 1


def test_missing_golden_file_says_how_to_create_it(tmp_path, monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "ROOT", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="missing; create it with `pytest --update-golden`"):
        check_golden(tmp_path / "golden" / "x.sql", "SELECT 1;\n", update=False)
    check_golden(tmp_path / "golden" / "x.sql", "SELECT 1;\n", update=True)
    check_golden(tmp_path / "golden" / "x.sql", "SELECT 1;\n", update=False)
    with pytest.raises(AssertionError, match="--update-golden"):
        check_golden(tmp_path / "golden" / "x.sql", "SELECT 2;\n", update=False)
