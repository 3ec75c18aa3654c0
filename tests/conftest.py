"""Shared fixtures: hand-made models (independent of the parser and the semantic stage) and golden files."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pytest

from modelc import ir
from modelc.ast import Span

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = ROOT / "examples"


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden/ from the current output",
    )


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


def check_golden(path: Path, actual: str, update: bool) -> None:
    """Compare `actual` with the golden file; rewrite it only when asked (pytest --update-golden)."""
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path.relative_to(ROOT)} is missing; create it with `pytest --update-golden`")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path.relative_to(ROOT)} differs; if the change is intended run `pytest --update-golden`"
    )


# ---- hand-made models --------------------------------------------------------------------


def span(line: int) -> Span:
    return Span("handmade.dm", line, 1, line, 20)


def col(name: str, type_: str = "string", nullable: bool = True, **kw) -> ir.Column:
    return ir.Column(name, _type(type_), nullable, **kw)


def _type(text: str) -> ir.Type:
    if text.startswith("decimal"):
        p, s = text[8:-1].split(",")
        return ir.Type("decimal", precision=int(p), scale=int(s))
    if text.startswith("string("):
        return ir.Type("string", length=int(text[7:-1]))
    return ir.Type(text)


def dcol(name: str, type_: str, scd: int, **kw) -> ir.DimensionColumn:
    return ir.DimensionColumn(name, _type(type_), scd, **kw)


def rich_model(schema: str = "dw", hash_: str = "md5", output: str = "hex") -> ir.Model:
    """Every entity kind and option: what a real model would use."""
    customers = ir.Source(
        "crm.customers",
        "crm",
        "customers",
        (
            col("customer_id", "int", False),
            col("name"),
            col("email", pii=True),
            col("segment", "string(20)"),
            col("country"),
            col("city"),
            col("birth_date", "date"),
            col("updated_at", "timestamp", False),
        ),
        span=span(3),
    )
    phones = ir.Source(
        "crm.phones",
        "crm",
        "phones",
        (col("customer_id", "int", False), col("phone_type", nullable=False), col("phone")),
        span=span(13),
    )
    orders = ir.Source(
        "sales.orders",
        "sales",
        "orders",
        (
            col("order_id", "bigint", False),
            col("line_no", "smallint", False),
            col("customer_id", "int", False),
            col("product_id", "string", False),
            col("order_date", "date", False),
            col("ordered_at", "timestamptz", False),
            col("quantity", "int"),
            col("amount", "decimal(12,2)"),
            col("discount", "decimal(12,2)"),
            col("weight", "double"),
            col("channel"),
            col("attrs", "json"),
            col("signature", "binary"),
            col("pickup", "time"),
            col("ratio", "float"),
            col("is_gift", "bool"),
        ),
        span=span(20),
    )
    products = ir.Source(
        "catalog.products",
        "catalog",
        "products",
        (col("product_id", nullable=False), col("name"), col("category"), col("price", "decimal(10,2)")),
        span=span(40),
    )
    customer = ir.Dimension(
        "customer",
        "crm.customers",
        key=(col("customer_id", "int", False),),
        columns=(
            dcol("name", "string", 1),
            dcol("email", "string", 1, pii=True),
            dcol("segment", "string(20)", 2),
            dcol("country", "string", 2),
            dcol("city", "string", 3, previous="previous_city"),
            dcol("birth_date", "date", 0),
            dcol("name_upper", "string", 1, expression="upper(name)"),
        ),
        change=ir.ChangeDetection("timestamp", "updated_at"),
        deletes=ir.DeletePolicy("tombstone"),
        physical=ir.Physical(
            partition_by="valid_from",
            partition_transform="month",
            cluster_by=("segment", "country"),
            sortkey=("customer_id",),
            distkey="customer_id",
        ),
        span=span(50),
    )
    product = ir.Dimension(
        "product",
        "catalog.products",
        key=(col("product_id", nullable=False),),
        columns=(dcol("name", "string", 1), dcol("category", "string", 1), dcol("price", "decimal(10,2)", 1)),
        change=ir.ChangeDetection("compare"),
        physical=ir.Physical(diststyle="all"),
        span=span(65),
    )
    calendar = ir.Calendar("date_dim", dt.date(2020, 1, 1), dt.date(2030, 12, 31), span=span(75))
    sales = ir.Fact(
        "sales",
        "sales.orders",
        grain=(col("order_id", "bigint", False), col("line_no", "smallint", False)),
        references=(
            ir.DimensionRef("customer", "customer", ("customer_id",), at="ordered_at"),
            ir.DimensionRef("product", "product", ("product_id",)),
            ir.DimensionRef("order_date", "date_dim", ("order_date",)),
        ),
        measures=(
            ir.Measure("quantity", _type("int")),
            ir.Measure("amount", _type("decimal(12,2)")),
            ir.Measure("weight", _type("double"), "avg"),
            ir.Measure("ratio", _type("float"), "avg"),
        ),
        degenerate=(
            col("order_id", "bigint", False),
            col("channel"),
            col("ordered_at", "timestamptz", False),
            col("attrs", "json"),
            col("signature", "binary"),
            col("pickup", "time"),
            col("is_gift", "bool"),
        ),
        derived=(
            ir.DerivedColumn("net_amount", None, "amount - discount"),
            ir.DerivedColumn("big_amount", _type("decimal(38,12)"), "amount * 1000"),
        ),
        incremental="ordered_at",
        physical=ir.Physical(
            partition_by="ordered_at",
            partition_transform="day",
            cluster_by=("customer_key", "product_key"),
            order_by=("order_id", "line_no"),
            engine="ReplacingMergeTree",
            sortkey=("ordered_at",),
            distkey="customer_key",
            diststyle="key",
        ),
        span=span(80),
    )
    customer_h = ir.Hub(
        "customer_h",
        key=(col("customer_id", "int", False),),
        sources=(
            ir.SourceMapping("crm.customers", ("customer_id",), "crm"),
            ir.SourceMapping("sales.orders", ("customer_id",), "sales"),
        ),
        physical=ir.Physical(order_by=("customer_h_hk",)),
        span=span(110),
    )
    product_h = ir.Hub(
        "product_h",
        key=(col("product_id", nullable=False),),
        sources=(ir.SourceMapping("catalog.products", ("product_id",), "catalog"),),
        span=span(115),
    )
    order_link = ir.Link(
        "order_link",
        "sales.orders",
        "sales",
        hubs=(
            ir.LinkHub("customer_h", "customer", ("customer_id",)),
            ir.LinkHub("product_h", "product", ("product_id",)),
        ),
        child=(col("line_no", "smallint", False),),
        transactional=True,
        payload=(col("quantity", "int"), col("amount", "decimal(12,2)")),
        span=span(120),
    )
    details = ir.Satellite(
        "customer_details",
        "customer_h",
        "hub",
        "crm.customers",
        "crm",
        parent_columns=("customer_id",),
        payload=(col("name"), col("email", pii=True), col("segment", "string(20)")),
        physical=ir.Physical(partition_by="load_ts", partition_transform="year", cluster_by=("customer_h_hk",)),
        span=span(130),
    )
    phones_sat = ir.Satellite(
        "customer_phones",
        "customer_h",
        "hub",
        "crm.phones",
        "crm",
        parent_columns=("customer_id",),
        payload=(col("phone"),),
        satellite_kind="multi_active",
        multi_active=(col("phone_type", nullable=False),),
        span=span(140),
    )
    effectivity = ir.Satellite(
        "order_link_eff",
        "order_link",
        "link",
        "sales.orders",
        "sales",
        parent_columns=(),
        payload=(),
        satellite_kind="effectivity",
        driving="customer",
        span=span(150),
    )
    tracking = ir.Satellite(
        "customer_seen",
        "customer_h",
        "hub",
        "crm.customers",
        "crm",
        parent_columns=("customer_id",),
        payload=(),
        satellite_kind="tracking",
        span=span(160),
    )
    pit = ir.Pit("customer_pit", "customer_h", ("customer_details", "customer_phones"), span=span(170))
    bridge = ir.Bridge("customer_orders", "customer_h", ("order_link",), span=span(180))
    entities = (
        customers,
        phones,
        orders,
        products,
        customer,
        product,
        calendar,
        sales,
        customer_h,
        product_h,
        order_link,
        details,
        phones_sat,
        effectivity,
        tracking,
        pit,
        bridge,
    )
    return ir.Model("retail_handmade", ir.Settings(schema, hash_, output), entities, ("handmade.dm",))


# Names chosen to break naive SQL: reserved words, case, spaces, quotes of every kind, unicode, backslash.
TORTURE_NAMES = (
    "select",
    "order",
    "group",
    "MixedCase",
    "two words",
    'say "hi"',
    "it's",
    "back`tick",
    "naïve_日本",
    "a\\b",
)


def torture_model(schema: str = "Odd Schema") -> ir.Model:
    src = ir.Source(
        "raw.src",
        "raw",
        "src",
        (col("order", "int", False), *(col(n) for n in TORTURE_NAMES if n != "order")),
        span=span(1),
    )
    dim = ir.Dimension(
        "select",
        "raw.src",
        key=(col("order", "int", False),),
        columns=tuple(dcol(n, "string", 2 if i % 2 else 1) for i, n in enumerate(TORTURE_NAMES) if n != "order"),
        change=ir.ChangeDetection("compare"),
        physical=ir.Physical(order_by=("order",), partition_by="valid_from"),
        span=span(10),
    )
    fact = ir.Fact(
        "Order Lines",
        "raw.src",
        grain=(col("order", "int", False),),
        references=(ir.DimensionRef("group", "select", ("order",)),),
        measures=(),
        degenerate=tuple(col(n) for n in TORTURE_NAMES if n not in ("order", "group")),
        span=span(20),
    )
    hub = ir.Hub(
        "MixedCase",
        key=(col("two words", nullable=False),),
        sources=(ir.SourceMapping("raw.src", ("two words",), "raw"),),
        span=span(30),
    )
    return ir.Model("torture", ir.Settings(schema), (src, dim, fact, hub))


@pytest.fixture
def model() -> ir.Model:
    return rich_model()


# ---- example models and every model the DDL tests run ----------------------------------------


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.rglob("*.dm"))


@functools.cache
def load_example(relative: str) -> ir.Model:
    import modelc

    loaded = modelc.load(str(ROOT / relative))
    assert loaded.model is not None, [f"{d.span}: {d.code} {d.message}" for d in loaded.diagnostics]
    return loaded.model


@functools.cache
def model_named(name: str) -> ir.Model:
    """A model by test name: the hand-made ones, or an example by its path under examples/ (built once)."""
    if name == "handmade":
        return rich_model()
    if name == "handmade_sha256_binary":
        return rich_model("vault_b", "sha256", "binary")
    return load_example(f"examples/{name}.dm")


MODEL_NAMES = ["handmade", "handmade_sha256_binary"] + [
    p.relative_to(EXAMPLES).with_suffix("").as_posix() for p in example_paths()
]


# ---- engines (embedded; each fixture lives for one test module) --------------------------------


@pytest.fixture(scope="module")
def chdb_session(tmp_path_factory):
    """Embedded ClickHouse. chdb allows one session per process at a time: it is closed after the module."""
    from chdb import session

    s = session.Session(str(tmp_path_factory.mktemp("chdb")))
    yield s
    s.close()


@pytest.fixture(scope="module")
def snowflake_cursor():
    """Snowflake SQL run by fakesnow (translated to DuckDB): proves the DDL is accepted, not Snowflake's semantics."""
    import fakesnow

    with fakesnow.patch():
        import snowflake.connector

        conn = snowflake.connector.connect(database="modelc_test", schema="public")
        cur = conn.cursor()
        yield cur
        cur.close()
        conn.close()


@pytest.fixture(scope="session")
def pg():
    """A real PostgreSQL server (tests/pgserver.py), one per test session: `pg.connect()` gives a psycopg 3
    connection (autocommit), `pg.dsn` a libpq connection string. No PostgreSQL is a failure, not a skip."""
    import pgserver

    try:
        server = pgserver.start()
    except pgserver.PostgresNotFoundError as e:
        missing = str(e)
    else:
        missing = None
    if missing:
        pytest.fail(missing, pytrace=False)
    yield server
    server.stop()
