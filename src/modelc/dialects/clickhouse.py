"""ClickHouse: no MERGE, no UPDATE ... FROM; ENGINE, ORDER BY (the sorting key) and PARTITION BY.

sqlglot wraps every ClickHouse type in `Nullable(...)` unless built with `nullable=False`,
and a Nullable column cannot be in a sorting or partition key: nullability is in the type.
"""

from __future__ import annotations

from sqlglot import exp

from .. import ir
from ..diagnostics import Diagnostic, did_you_mean, error, warning
from ..plan import ColumnSpec, TableSpec
from .base import E_OPTION, W_NULLABLE_KEY, Dialect, bad_option, temporal_unit

# Engines whose only required clause is ORDER BY (ReplacingMergeTree gets its version column with the loads).
ENGINES = ("MergeTree", "ReplacingMergeTree", "SummingMergeTree", "AggregatingMergeTree")
_PARTITION_FUNCTIONS = {"DAY": "toYYYYMMDD", "MONTH": "toYYYYMM", "YEAR": "toYear"}


class ClickHouse(Dialect):
    name = "clickhouse"
    sqlglot_name = "clickhouse"

    has_merge = False
    merge_when_conditions = False
    merge_target_alias = False
    merge_source_subquery = False
    has_update_from = False
    has_delete_using = False
    primary_key = "none"  # the sorting key (ORDER BY) plays its part
    supports_schemas = False  # the model's schema is a DATABASE
    max_decimal_precision = 76
    physical_options = frozenset({"engine", "order_by", "partition_by"})
    hash_functions = {
        ("md5", "hex"): "lower(hex(MD5(__value__)))",
        ("md5", "binary"): "MD5(__value__)",
        ("sha256", "hex"): "lower(hex(SHA256(__value__)))",
        ("sha256", "binary"): "SHA256(__value__)",
    }
    types = {
        "int": "Int32",
        "bigint": "Int64",
        "smallint": "Int16",
        "decimal(p,s)": "Decimal({p}, {s})",
        "float": "Float32",
        "double": "Float64",
        "bool": "Bool",
        "string": "String",
        "string(n)": "String",
        "date": "Date32",  # Date stops at 1970..2149
        "time": "Time",
        "timestamp": "DateTime64(6)",
        "timestamptz": "DateTime64(6, 'UTC')",
        "json": "JSON",
        "binary": "String",
    }

    def data_type(self, t: ir.Type, nullable: bool = True) -> exp.DataType:
        dt = super().data_type(t)
        dt.set("nullable", nullable)
        return dt

    def column_def(self, column: ColumnSpec, not_null: bool) -> exp.ColumnDef:
        # No NOT NULL: a column is non-Nullable by its type.
        return exp.ColumnDef(this=self.identifier(column.name), kind=self.column_type(column, nullable=not not_null))

    @staticmethod
    def sorting_key(spec: TableSpec) -> tuple[str, ...]:
        return spec.physical.order_by or spec.primary_key

    def not_null_columns(self, spec: TableSpec, diags: list[Diagnostic]) -> set[str]:
        keys = set(self.sorting_key(spec))
        if spec.physical.partition_by:
            keys.add(spec.physical.partition_by)
        for c in spec.columns:
            if c.nullable and c.name in keys:
                diags.append(
                    warning(
                        W_NULLABLE_KEY,
                        f"clickhouse keys cannot be Nullable: `{c.name}` of `{spec.entity}` is stored non-Nullable",
                        spec.span,
                        hint="a NULL loaded into it becomes the type's default value",
                    )
                )
        return keys | super().not_null_columns(spec, diags)

    def table_properties(self, spec: TableSpec, diags: list[Diagnostic]) -> list[exp.Expression]:
        p = spec.physical
        # A Var, not an Identifier: the quoting rule would quote the mixed-case engine name.
        props: list[exp.Expression] = [exp.EngineProperty(this=exp.Var(this=self._engine(spec, diags)))]
        if p.partition_by:
            col = spec.column(p.partition_by)
            key: exp.Expression = self.column(col.name)
            if col.type.is_temporal:
                key = exp.Anonymous(this=_PARTITION_FUNCTIONS[temporal_unit(p.partition_transform)], expressions=[key])
            elif p.partition_transform:
                diags.append(
                    bad_option(spec, f"`{col.name}` is {col.type}, not a date or timestamp: partitioned by its value")
                )
            props.append(exp.PartitionedByProperty(this=key))
        key = [self.column(c) for c in self.sorting_key(spec)]
        sorting = key[0] if len(key) == 1 else exp.Tuple(expressions=key)  # `tuple()`: no key
        props.append(exp.Order(expressions=[exp.Ordered(this=sorting, nulls_first=False)]))
        return props

    def _engine(self, spec: TableSpec, diags: list[Diagnostic]) -> str:
        wanted = spec.physical.engine
        if not wanted:
            return ENGINES[0]
        canonical = {e.lower(): e for e in ENGINES}.get(wanted.lower())
        if canonical:
            return canonical
        diags.append(
            error(
                E_OPTION,
                f"engine `{wanted}` of `{spec.entity}` is not one modelc can load",
                spec.span,
                hint=did_you_mean(wanted, ENGINES) or f"use one of {', '.join(ENGINES)}",
            )
        )
        return ENGINES[0]
