"""Snowflake: MERGE without NOT MATCHED BY SOURCE, informational keys, CLUSTER BY."""

from __future__ import annotations

from sqlglot import exp

from ..diagnostics import Diagnostic
from ..plan import TableSpec
from .base import Dialect


class Snowflake(Dialect):
    name = "snowflake"
    sqlglot_name = "snowflake"

    has_identity_columns = True
    primary_key = "informational"
    physical_options = frozenset({"cluster_by"})
    max_identifier_bytes = 255
    hash_functions = {
        ("md5", "hex"): "MD5(__value__)",
        ("md5", "binary"): "MD5_BINARY(__value__)",
        ("sha256", "hex"): "SHA2(__value__, 256)",
        ("sha256", "binary"): "SHA2_BINARY(__value__, 256)",
    }
    types = {
        "int": "INT",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "decimal(p,s)": "NUMBER({p}, {s})",
        "float": "FLOAT",
        "double": "DOUBLE",
        "bool": "BOOLEAN",
        "string": "VARCHAR",
        "string(n)": "VARCHAR({n})",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "TIMESTAMP_NTZ",
        "timestamptz": "TIMESTAMP_TZ",
        "json": "VARIANT",
        "binary": "BINARY",
    }

    def table_properties(self, spec: TableSpec, diags: list[Diagnostic]) -> list[exp.Expression]:
        if not spec.physical.cluster_by:
            return []
        return [exp.ClusterProperty(expressions=[self.column(c) for c in spec.physical.cluster_by])]
