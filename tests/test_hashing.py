"""Hashing spec v1 (docs/hashing.md): the SQL of `modelc.hashing` gives byte-identical hashes on DuckDB,
ClickHouse (chdb), Snowflake (fakesnow) and PostgreSQL (a real server, tests/pgserver.py), equal to the
Python reference (tests/reference/hashing.py). Every engine's SQL is rendered by its modelc dialect."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reference import hashing as ref
from sqlglot import exp

from modelc import dialects, hashing, ir

# ---- values ------------------------------------------------------------------------------------------

INT, BIGINT = ir.Type("int"), ir.Type("bigint")
DEC0, DEC2, DEC9 = ir.Type("decimal", 38, 0), ir.Type("decimal", 38, 2), ir.Type("decimal", 18, 9)
BOOL, STRING, DATE = ir.Type("bool"), ir.Type("string"), ir.Type("date")
TS, TSTZ = ir.Type("timestamp"), ir.Type("timestamptz")
# ClickHouse's Date32 and DateTime64 hold 1900-01-01 .. 2299-12-31 only: wider values are tested elsewhere.
CH_MIN, CH_MAX = dt.datetime(1900, 1, 2), dt.datetime(2299, 12, 30)

# Data that looks like the spec's own syntax: delimiters, escapes, the NULL token, spaces around keys.
TRICKY = ["", " ", "|", "\\", "\\N", "\\|", "a|b", "N", "abc ", " AbC", "ß", "ǅ", "naïve ✓ 日本", "\t"]
texts = st.one_of(
    st.sampled_from(TRICKY), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
)


def decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    top = 10**precision - 1
    extreme = st.sampled_from([top, -top, 0, 1, -1, 5, -5])
    # Built from text: exact, where scaleb would round to the context's 28 digits.
    return st.one_of(extreme, st.integers(-top, top)).map(lambda n: Decimal(f"{n}E-{scale}"))


def timestamps(lo: dt.datetime = dt.datetime(1, 1, 2), hi: dt.datetime = dt.datetime(9999, 12, 30)):
    return st.datetimes(min_value=lo, max_value=hi)


offsets = st.integers(-14 * 4, 14 * 4).map(lambda q: dt.timezone(dt.timedelta(minutes=15 * q)))
COLUMNS: list[tuple[ir.Type, st.SearchStrategy]] = [
    (INT, st.one_of(st.sampled_from([-(2**31), 2**31 - 1, 0]), st.integers(-(2**31), 2**31 - 1))),
    (BIGINT, st.one_of(st.sampled_from([-(2**63), 2**63 - 1]), st.integers(-(2**63), 2**63 - 1))),
    (DEC0, decimals(38, 0)),
    (DEC2, decimals(38, 2)),
    (DEC9, decimals(18, 9)),
    (BOOL, st.booleans()),
    (STRING, texts),
    (STRING, texts),
    (DATE, st.dates(dt.date(1, 1, 2), dt.date(9999, 12, 30))),
    (TS, timestamps()),
    (TSTZ, st.builds(lambda t, tz: t.replace(tzinfo=tz), timestamps(CH_MIN, CH_MAX), offsets)),
]
TYPES = [t for t, _ in COLUMNS]
rows = st.tuples(*[st.one_of(st.none(), s) for _, s in COLUMNS])


def literal(value: object, t: ir.Type, d) -> exp.Expression:
    """`value` as a typed SQL literal of dialect `d` (the way a column of that type would hold it)."""
    if value is None:
        return exp.cast(exp.Null(), d.data_type(t))
    if t.name == "bool":
        return exp.Boolean(this=value)
    if t.name == "string":
        return exp.Literal.string(value)
    if t.name == "timestamptz":
        text = value.isoformat(sep=" ")
    elif t.name == "decimal":
        text = f"{value:f}"
    else:
        text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
    return exp.cast(exp.Literal.string(text), d.data_type(t))


def in_clickhouse_range(row: tuple) -> bool:
    for v, t in zip(row, TYPES, strict=True):
        if v is not None and t.name == "date" and not CH_MIN.date() <= v <= CH_MAX.date():
            return False
        if v is not None and t.name == "timestamp" and not CH_MIN <= v <= CH_MAX:
            return False
    return True


def _strip_space_separators(text: str) -> str:
    is_space = [unicodedata.category(c) == "Zs" for c in text]
    start = next((i for i, s in enumerate(is_space) if not s), len(text))
    end = next((i for i, s in reversed(list(enumerate(is_space))) if not s), -1)
    return text[start : end + 1]


def fits_fakesnow(row: tuple) -> bool:
    # fakesnow stores NUMBER(38, 0) as DuckDB's BIGINT (real Snowflake holds 38 digits).
    v = row[TYPES.index(DEC0)]
    if v is not None and not -(2**63) <= v < 2**63:
        return False
    # fakesnow 0.12 rewrites TRIM(x, ' ') as DuckDB's TRIM(CAST(x AS VARCHAR)) (its `trim_cast_varchar` drops
    # the characters), which also strips U+00A0 and the other space separators (real Snowflake does not).
    keys = [row[i] for i in (6, 7)]
    return all(k is None or k.strip(" ") == _strip_space_separators(k) for k in keys)


# ---- the SQL under test -------------------------------------------------------------------------------


def select(row: tuple, dialect: str) -> str:
    d = dialects.get(dialect)
    values = [(literal(v, t, d), t) for v, t in zip(row, TYPES, strict=True)]
    keys = [values[i] for i in (0, 6, 7)]  # an int and two strings: the normalization matters
    outputs = [
        hashing.hash_key(values, "md5"),
        hashing.hash_key(values, "sha256"),
        hashing.business_key_hash(keys, "md5"),
        hashing.hashdiff(values, "md5"),
        hashing.hashdiff(values[:3], "sha256"),
    ]
    return d.render(exp.select(*outputs), pretty=False)


def expected(row: tuple) -> list[str]:
    keys, key_types = [row[i] for i in (0, 6, 7)], [TYPES[i] for i in (0, 6, 7)]
    return [
        ref.key_hash(row, TYPES, "md5"),
        ref.key_hash(row, TYPES, "sha256"),
        ref.business_key_hash(keys, key_types, "md5"),
        ref.hashdiff(row, TYPES, "md5"),
        ref.hashdiff(row[:3], TYPES[:3], "sha256"),
    ]


def on_clickhouse(session, sql: str) -> list[str]:
    return session.query(sql, "TabSeparatedRaw").bytes().decode().rstrip("\n").split("\t")


_DUCK = duckdb.connect()


def _duck(sql: str) -> object:
    return _DUCK.execute(sql).fetchone()[0]


# The session time zone is not UTC (and has a half-hour offset): timestamptz texts must not depend on it.
PG_TIMEZONE = "Asia/Kolkata"


@pytest.fixture(scope="module")
def pg_cursor(pg):
    with pg.connect() as con:
        con.execute(f"SET TimeZone = '{PG_TIMEZONE}'")
        yield con.cursor()


def on_postgres(cursor, sql: str) -> list[object]:
    return list(cursor.execute(sql).fetchone())


ENGINE_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ENGINE_SETTINGS
@given(rows)
def test_duckdb_matches_the_reference(row):
    assert list(_DUCK.execute(select(row, "duckdb")).fetchone()) == expected(row)


@pytest.fixture(scope="module")
def engines(chdb_session, snowflake_cursor, pg_cursor):
    return chdb_session, snowflake_cursor, pg_cursor


@ENGINE_SETTINGS
@given(row=rows)
@example(row=(None,) * 7 + ("\xa0",) + (None,) * 3)  # a business key that is a no-break space: kept
def test_postgres_clickhouse_and_snowflake_match_the_reference(engines, row):
    session, cursor, pg_cur = engines
    want = expected(row)
    assert on_postgres(pg_cur, select(row, "postgres")) == want
    if fits_fakesnow(row):
        cursor.execute(select(row, "snowflake"))
        assert list(cursor.fetchone()) == want
    if in_clickhouse_range(row):
        assert on_clickhouse(session, select(row, "clickhouse")) == want


# ---- fixed examples: the spec's own words -------------------------------------------------------------


PLUS2 = dt.timezone(dt.timedelta(hours=2))


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("values", "types", "text"),
    [
        ([Decimal("-0.50"), Decimal("0")], [DEC2, DEC2], "-0.50|0.00"),
        ([dt.datetime(2024, 1, 2, 3, 4, 5)], [TS], "2024-01-02 03:04:05.000000"),
        ([dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS2)], [TSTZ], "2024-01-02 01:04:05.000000Z"),
        ([None, "a|b", "\\N"], [INT, STRING, STRING], "\\N|a\\|b|\\\\N"),
    ],
)  # fmt: skip
def test_canonical_text_examples(values, types, text, pg_cursor):
    assert ref.canonical_key_text(values, types) == text
    for name in ("duckdb", "postgres"):
        d = dialects.get(name)
        sql = d.render(
            exp.select(hashing.key_text([(literal(v, t, d), t) for v, t in zip(values, types, strict=True)]))
        )
        assert (_duck(sql) if name == "duckdb" else on_postgres(pg_cursor, sql)[0]) == text, name


@pytest.mark.parametrize(
    ("value", "type_"),
    [
        (dt.datetime(1, 1, 2, 0, 0, 0, 1), TS),  # the year zero-padded, six fraction digits
        (dt.datetime(2024, 12, 31, 23, 59, 59, 999999), TS),
        (dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))), TSTZ),
        (dt.datetime(2024, 3, 31, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=14))), TSTZ),
        (dt.date(1, 1, 1), DATE),
        (dt.date(9999, 12, 31), DATE),
        (Decimal("-0.05"), DEC2),
        (Decimal("0"), DEC2),
        (Decimal("-12"), DEC0),
        (Decimal("10") ** 37, DEC0),
        (Decimal("-0.000000001"), DEC9),
        (Decimal("123456789.100000000"), DEC9),
        (True, BOOL),
        (False, BOOL),
        (-(2**63), BIGINT),
    ],
)  # fmt: skip
def test_postgres_canonical_text_of_each_type(value, type_, pg_cursor):
    """The spec's text of single values on PostgreSQL (in a session whose time zone is not UTC)."""
    d = dialects.get("postgres")
    sql = d.render(exp.select(hashing.canonical_text(literal(value, type_, d), type_)), pretty=False)
    assert on_postgres(pg_cursor, sql) == [ref.canonical_text(value, type_)]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (1 / 3, "0.3333333333333333"), (1e100, "1e+100"), (-2.5e-7, "-2.5e-07"), (123.0, "123")],
)
def test_postgres_float_text_is_the_shortest_round_trip(value, text, pg_cursor):
    """Floats are outside spec v1: the engine's text is used. PostgreSQL's (extra_float_digits >= 1, the
    default) is the shortest text that reads back as the same double, so it is stable on one server."""
    d, double = dialects.get("postgres"), ir.Type("double")
    sql = d.render(exp.select(hashing.canonical_text(exp.cast(exp.Literal.number(repr(value)), d.data_type(double)),
                                                     double)), pretty=False)  # fmt: skip
    assert on_postgres(pg_cursor, sql) == [text]


def test_business_keys_are_trimmed_and_ascii_upper_cased():
    assert ref.business_key_hash(["  abc "], [STRING]) == md5("ABC")
    assert ref.business_key_hash(["straße"], [STRING]) == md5("STRAßE")  # ASCII only: ß stays
    assert ref.business_key_hash([None, None], [INT, STRING]) == "0" * 32
    assert ref.business_key_hash([None, "x"], [INT, STRING]) == md5("\\N|X")
    assert ref.key_hash(["abc"]) != ref.business_key_hash(["abc"], [STRING])  # hashdiffs and plain keys keep case


def test_trailing_nulls_keep_old_hashdiffs():
    old = ref.hashdiff(["a", 1], [STRING, INT])
    assert ref.hashdiff(["a", 1, None, None], [STRING, INT, STRING, DATE]) == old
    assert ref.hashdiff(["a", None, 2], [STRING, INT, INT]) == md5("a|\\N|2")  # only trailing NULLs go
    assert ref.hashdiff_text([None, None], [STRING, INT]) == ""


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_binary_output_is_the_digest_bytes(algorithm, chdb_session, snowflake_cursor, pg_cursor):
    values = [("Ab|c", STRING), (7, INT)]
    want = bytes.fromhex(ref.business_key_hash([v for v, _ in values], [t for _, t in values], algorithm))
    zero = bytes(len(want))

    def sql(name: str, vals, as_hex: bool = True) -> str:
        d = dialects.get(name)
        e = hashing.business_key_hash([(literal(v, t, d), t) for v, t in vals], algorithm, "binary")
        return d.render(exp.select(hashing.to_hex(e) if as_hex else e), pretty=False)

    nulls = [(None, STRING), (None, INT)]
    for vals, bytes_ in ((values, want), (nulls, zero)):
        assert _duck(sql("duckdb", vals)) == bytes_.hex()
        assert on_clickhouse(chdb_session, sql("clickhouse", vals)) == [bytes_.hex()]
        snowflake_cursor.execute(sql("snowflake", vals))
        assert snowflake_cursor.fetchone()[0].lower() == bytes_.hex()
        assert on_postgres(pg_cursor, sql("postgres", vals)) == [bytes_.hex()]
        assert on_postgres(pg_cursor, sql("postgres", vals, as_hex=False)) == [bytes_]  # bytea, as stored


@pytest.mark.parametrize("output", ["hex", "binary"])
@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_postgres_digests_of_binary_and_timestamptz_values(algorithm, output, pg_cursor):
    """The parts sqlglot spells wrong for PostgreSQL (hex of bytea, the digests, UTC) in one key."""
    values = [b"\x00\xff|", dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=PLUS2), "naïve ✓"]
    types = [ir.Type("binary"), TSTZ, STRING]
    want = ref.key_hash(values, types, algorithm)
    d = dialects.get("postgres")
    lits = [exp.cast(exp.Literal.string("\\x00ff7c"), d.data_type(types[0]))]
    lits += [literal(v, t, d) for v, t in zip(values[1:], types[1:], strict=True)]
    e = hashing.hash_key(list(zip(lits, types, strict=True)), algorithm, output)
    got = on_postgres(pg_cursor, d.render(exp.select(e), pretty=False))[0]
    assert got == (want if output == "hex" else bytes.fromhex(want))


# ---- the loads that hash, on PostgreSQL -----------------------------------------------------------------

HASHING_KINDS = (ir.Dimension, ir.Fact, ir.Hub, ir.Link, ir.Satellite)


@pytest.mark.parametrize("name", ["handmade", "handmade_sha256_binary"])
def test_postgres_runs_every_load_that_hashes(name, pg):
    """Every dimension, fact and vault load of the hand-made models (md5 hex; sha256 binary) as the postgres
    dialect renders it runs on PostgreSQL: each hash is spelled the way PostgreSQL has it (empty sources are
    enough: PostgreSQL resolves every function when it plans a statement)."""
    import psycopg
    from conftest import model_named

    from modelc import api

    model = model_named(name)
    d = dialects.get("postgres")
    result = api.compile(model, d)
    hashing_entities = {e.name for e in model.entities if isinstance(e, HASHING_KINDS)}
    with pg.connect(autocommit=False) as con:
        for e in model.entities:
            if isinstance(e, ir.Source):
                cols = ", ".join(f"{d.render(d.identifier(c.name))} {d.type_sql(c.type)}" for c in e.columns)
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {d.render(d.identifier(e.schema))}")
                con.execute(f"CREATE TABLE {d.render(d.table(e.schema, e.table))} ({cols})")
        ran = 0
        for st in result.statements:
            if st.kind == "ddl" or st.entity in hashing_entities:
                try:
                    con.execute(st.sql)
                except psycopg.Error as e:
                    pytest.fail(f"{st.entity} ({st.kind}) fails on PostgreSQL: {e}\n{st.sql}")
                ran += st.kind == "load"
        con.rollback()
    assert ran > 20
