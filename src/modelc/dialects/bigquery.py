"""BigQuery: full MERGE, `PRIMARY KEY ... NOT ENFORCED`, PARTITION BY / CLUSTER BY."""

from __future__ import annotations

from sqlglot import exp

from .. import ir
from ..diagnostics import Diagnostic
from ..plan import TableSpec
from .base import Dialect, bad_option, temporal_unit

# BigQuery clusters on at most 4 top-level columns of these types.
_MAX_CLUSTER = 4
_CLUSTERABLE = frozenset({"int", "bigint", "smallint", "decimal", "bool", "string", "date", "timestamp", "timestamptz"})
_TRUNC = {"date": exp.DateTrunc, "timestamp": exp.DatetimeTrunc, "timestamptz": exp.TimestampTrunc}


class BigQuery(Dialect):
    name = "bigquery"
    sqlglot_name = "bigquery"

    merge_not_matched_by_source = True
    has_delete_using = False
    extract_iso_week = "ISOWEEK"  # EXTRACT(WEEK) counts weeks from Sunday
    primary_key = "informational"  # written `PRIMARY KEY (...) NOT ENFORCED`
    max_decimal_precision = 76
    physical_options = frozenset({"partition_by", "cluster_by"})
    max_identifier_bytes = 300
    # Quoted identifiers take string escapes; names with these characters are refused rather than escaped.
    forbidden_identifier_chars = "`\\"
    hash_functions = {
        ("md5", "hex"): "TO_HEX(MD5(__value__))",
        ("md5", "binary"): "MD5(__value__)",
        ("sha256", "hex"): "TO_HEX(SHA256(__value__))",
        ("sha256", "binary"): "SHA256(__value__)",
    }
    types = {
        "int": "INT64",
        "bigint": "INT64",
        "smallint": "INT64",
        "decimal(p,s)": "NUMERIC({p}, {s})",
        "float": "FLOAT64",
        "double": "FLOAT64",
        "bool": "BOOL",
        "string": "STRING",
        "string(n)": "STRING({n})",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "DATETIME",
        "timestamptz": "TIMESTAMP",
        "json": "JSON",
        "binary": "BYTES",
    }

    def type_sql(self, t: ir.Type) -> str:
        # NUMERIC holds at most 29 integer digits and scale 9; beyond that BIGNUMERIC.
        if t.name == "decimal":
            p, s = t.precision or 38, t.scale if t.scale is not None else 9
            if s > 9 or p - s > 29:
                return f"BIGNUMERIC({p}, {s})"
        return super().type_sql(t)

    def primary_key_constraint(self, spec: TableSpec) -> exp.PrimaryKey | None:
        pk = super().primary_key_constraint(spec)
        if pk is not None:
            pk.set("options", ["NOT ENFORCED"])
        return pk

    def table_properties(self, spec: TableSpec, diags: list[Diagnostic]) -> list[exp.Expression]:
        props: list[exp.Expression] = []
        p = spec.physical
        if p.partition_by:
            col = spec.column(p.partition_by)
            trunc = _TRUNC.get(col.type.name)
            if trunc is None:
                diags.append(
                    bad_option(
                        spec,
                        f"bigquery partitions by a date or timestamp; `{col.name}` is {col.type}: not partitioned",
                    )
                )
            elif col.type.name == "date" and temporal_unit(p.partition_transform) == "DAY":
                props.append(exp.PartitionedByProperty(this=self.column(col.name)))
            else:
                unit = exp.Var(this=temporal_unit(p.partition_transform))
                props.append(exp.PartitionedByProperty(this=trunc(this=self.column(col.name), unit=unit)))
        if p.cluster_by:
            cols = []
            for name in p.cluster_by:
                t = spec.column(name).type
                if t.name not in _CLUSTERABLE:
                    diags.append(bad_option(spec, f"bigquery cannot cluster by `{name}` of type {t}; left out"))
                elif len(cols) == _MAX_CLUSTER:
                    diags.append(
                        bad_option(spec, f"bigquery clusters by at most {_MAX_CLUSTER} columns; `{name}` left out")
                    )
                else:
                    cols.append(name)
            if cols:
                props.append(exp.ClusterProperty(expressions=[self.column(c) for c in cols]))
        return props
