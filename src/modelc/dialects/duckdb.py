"""DuckDB: full MERGE (with NOT MATCHED BY SOURCE), enforced keys, no physical options."""

from __future__ import annotations

from .base import Dialect


class DuckDB(Dialect):
    name = "duckdb"
    sqlglot_name = "duckdb"

    merge_not_matched_by_source = True
    has_insert_on_conflict = True
    transactional_ddl = True
    primary_key = "enforced"
    hash_functions = {
        ("md5", "hex"): "md5(__value__)",
        ("md5", "binary"): "unhex(md5(__value__))",
        ("sha256", "hex"): "sha256(__value__)",
        ("sha256", "binary"): "unhex(sha256(__value__))",
    }
    types = {
        "int": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "decimal(p,s)": "DECIMAL({p}, {s})",
        "float": "REAL",
        "double": "DOUBLE",
        "bool": "BOOLEAN",
        "string": "VARCHAR",
        "string(n)": "VARCHAR({n})",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMPTZ",
        "json": "JSON",
        "binary": "BLOB",
    }
