"""PostgreSQL 15: the stand-in that executes Redshift-like SQL. One file and one registry line."""

from __future__ import annotations

from .base import Dialect


class Postgres(Dialect):
    name = "postgres"
    sqlglot_name = "postgres"

    merge_not_matched_by_source = False  # PostgreSQL 17+ only
    has_insert_on_conflict = True
    has_identity_columns = True
    transactional_ddl = True
    extract_iso_week = "WEEK"  # no WEEK_OF_YEAR function; EXTRACT(WEEK) is the ISO week
    primary_key = "enforced"
    max_decimal_precision = 1000
    max_identifier_bytes = 63  # longer names are truncated silently by the server
    hash_functions = {
        ("md5", "hex"): "MD5(__value__)",
        ("md5", "binary"): "DECODE(MD5(__value__), 'hex')",
        ("sha256", "hex"): "ENCODE(SHA256(CONVERT_TO(__value__, 'UTF8')), 'hex')",
        ("sha256", "binary"): "SHA256(CONVERT_TO(__value__, 'UTF8'))",
    }
    # No HEX/UNHEX functions (sqlglot writes those names); MD5(text) hashes the database encoding's bytes, so
    # the database must be UTF8 (docs/hashing.md, section 8). Its `x AT TIME ZONE 'UTC'` of a timestamptz is
    # the UTC timestamp whatever the session's TimeZone.
    hash_helpers = {
        "hex": "ENCODE(__value__, 'hex')",
        "unhex": "DECODE(__value__, 'hex')",
        "utc": "__value__ AT TIME ZONE 'UTC'",
    }
    types = {
        "int": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "decimal(p,s)": "DECIMAL({p}, {s})",
        "float": "REAL",
        "double": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "string": "TEXT",
        "string(n)": "VARCHAR({n})",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMPTZ",
        "json": "JSONB",
        "binary": "BYTEA",
    }

