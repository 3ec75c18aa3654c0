"""Hashing spec v1 (docs/hashing.md): the SQL of `modelc.hashing` gives byte-identical hashes on DuckDB,
ClickHouse (chdb) and Snowflake (fakesnow), equal to the Python reference (tests/reference/hashing.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
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


def fits_fakesnow(row: tuple) -> bool:
    # fakesnow stores NUMBER(38, 0) as DuckDB's BIGINT (real Snowflake holds 38 digits).
    v = row[TYPES.index(DEC0)]
    return v is None or -(2**63) <= v < 2**63


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
    return exp.select(*outputs).sql(d.sqlglot_name)


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


ENGINE_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ENGINE_SETTINGS
@given(rows)
def test_duckdb_matches_the_reference(row):
    assert list(_DUCK.execute(select(row, "duckdb")).fetchone()) == expected(row)


@pytest.fixture(scope="module")
def engines(chdb_session, snowflake_cursor):
    return chdb_session, snowflake_cursor


@ENGINE_SETTINGS
@given(row=rows)
def test_clickhouse_and_snowflake_match_the_reference(engines, row):
    session, cursor = engines
    want = expected(row)
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
def test_canonical_text_examples(values, types, text):
    assert ref.canonical_key_text(values, types) == text
    duck = dialects.get("duckdb")
    got = _duck(
        exp.select(hashing.key_text([(literal(v, t, duck), t) for v, t in zip(values, types, strict=True)])).sql(
            "duckdb"
        )
    )
    assert got == text


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
def test_binary_output_is_the_digest_bytes(algorithm, chdb_session, snowflake_cursor):
    values = [("Ab|c", STRING), (7, INT)]
    want = bytes.fromhex(ref.business_key_hash([v for v, _ in values], [t for _, t in values], algorithm))
    zero = bytes(len(want))

    def sql(name: str, vals) -> str:
        d = dialects.get(name)
        e = hashing.business_key_hash([(literal(v, t, d), t) for v, t in vals], algorithm, "binary")
        return exp.select(exp.Lower(this=exp.Hex(this=e))).sql(d.sqlglot_name)

    nulls = [(None, STRING), (None, INT)]
    for vals, bytes_ in ((values, want), (nulls, zero)):
        assert _duck(sql("duckdb", vals)) == bytes_.hex()
        assert on_clickhouse(chdb_session, sql("clickhouse", vals)) == [bytes_.hex()]
        snowflake_cursor.execute(sql("snowflake", vals))
        assert snowflake_cursor.fetchone()[0].lower() == bytes_.hex()
