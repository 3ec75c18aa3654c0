"""ClickHouse: no MERGE, no UPDATE ... FROM; ENGINE, ORDER BY (the sorting key) and PARTITION BY.

sqlglot wraps every ClickHouse type in `Nullable(...)` unless built with `nullable=False`,
and a Nullable column cannot be in a sorting or partition key: nullability is in the type.
"""

from __future__ import annotations

from sqlglot import exp

from .. import ir
from ..diagnostics import Diagnostic, did_you_mean, error, warning
from ..plan import ColumnSpec, TableSpec
from .base import E_OPTION, W_NULLABLE_KEY, Dialect, bad_option, replace_node, temporal_unit

# Engines whose only required clause is ORDER BY (ReplacingMergeTree gets its version column with the loads).
ENGINES = ("MergeTree", "ReplacingMergeTree", "SummingMergeTree", "AggregatingMergeTree")
_SECONDS_TIMESTAMPS = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)
_PARTITION_FUNCTIONS = {"DAY": "toYYYYMMDD", "MONTH": "toYYYYMM", "YEAR": "toYear"}


def _standard_nulls(node: exp.Expression) -> exp.Expression:
    """Window functions with the standard's NULLs: ClickHouse's `lag`/`lead` past the partition give the
    type's default (0, 1970-01-01) for a non-Nullable argument, and its `first_value`/`last_value` skip
    NULLs. The argument is made Nullable, and FIRST_VALUE/LAST_VALUE respect NULLs."""
    if isinstance(node, exp.Lag | exp.Lead):
        node.set("this", exp.Anonymous(this="toNullable", expressions=[node.this]))
    elif isinstance(node, exp.FirstValue | exp.LastValue):
        name = "first_value_respect_nulls" if isinstance(node, exp.FirstValue) else "last_value_respect_nulls"
        return exp.Anonymous(this=name, expressions=[node.this])
    return node


def _name_projections(node: exp.Expression) -> exp.Expression:
    """`SELECT b.x` names its column `b.x` on ClickHouse (the analyzer keeps the qualifier), elsewhere `x`:
    give every qualified column of a projection its plain name, so CTEs and staging tables read the same."""
    if isinstance(node, exp.Select):
        named = [
            exp.alias_(p, p.name) if isinstance(p, exp.Column) and p.table and not isinstance(p.this, exp.Star) else p
            for p in node.expressions
        ]
        node.set("expressions", named)
    return node


class ClickHouse(Dialect):
    name = "clickhouse"
    sqlglot_name = "clickhouse"

    has_merge = False
    merge_when_conditions = False
    merge_target_alias = False
    merge_source_subquery = False
    has_update_from = False
    has_delete_using = False
    temporary_tables = False  # a mutation (the DELETE of an upsert) cannot read the session's temporary tables
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

    def with_names(self, expression: exp.Expression, copy: bool = True) -> exp.Expression:
        # sqlglot spells TIMESTAMP as DateTime: whole seconds from 1970. Casts in loads must keep microseconds
        # (ordered satellite deltas) and reach 1900 (system rows), like the DateTime64(6) columns.
        def widen(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DATE:
                # Date stops at 1970..2149: a cast to DATE ('1900-01-01', birth dates) is Date32, like the columns.
                cast = isinstance(node.parent, exp.Cast)
                node = exp.DataType.build("Date32", dialect="clickhouse")
                node.set("nullable", True if cast else None)
            if isinstance(node, exp.DataType) and node.this in _SECONDS_TIMESTAMPS:
                # A cast can meet a NULL (`CAST(NULL AS TIMESTAMP)` fills a UNION branch): Nullable, as elsewhere.
                cast = isinstance(node.parent, exp.Cast)
                node = exp.DataType.build("DateTime64(6)", dialect="clickhouse")
                node.set("nullable", True if cast else None)
            return node

        if copy:
            expression = expression.copy()
        # In one walk, what `transform` with `widen`, `_standard_nulls`, then `_name_projections` did: they rewrite
        # nodes of different types, and only a FIRST_VALUE/LAST_VALUE replaced by `_standard_nulls` had its
        # argument left alone by that transform (not by the others): that subtree is walked with `nulls` off.
        stack = [(expression, True)]
        while stack:
            node, nulls = stack.pop()
            new = widen(node)
            if new is not node:  # a type: nothing below it for any of the three
                expression = replace_node(new, node, expression)
                continue
            if nulls:
                new = _standard_nulls(node)
                if new is not node:
                    expression = replace_node(new, node, expression)
                    node, nulls = new, False
            _name_projections(node)
            for value in node.args.values():
                if type(value) is list:
                    stack.extend((v, nulls) for v in value if isinstance(v, exp.Expr))
                elif isinstance(value, exp.Expr):
                    stack.append((value, nulls))
        return super().with_names(expression, copy=False)

    def persistent_staging(
        self, expression: exp.Expression, staged: set[str], schema: str, copy: bool = True
    ) -> exp.Expression:
        # A Memory table in the model's database, replaced when a failed run left one behind.
        def stage(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and not node.args.get("db") and node.name in staged:
                node = node.copy()
                node.set("db", exp.to_identifier(schema))
                return node
            if isinstance(node, exp.Create) and node.find(exp.TemporaryProperty):
                node.set("replace", True)
                props = [p for p in node.args["properties"].expressions if not isinstance(p, exp.TemporaryProperty)]
                node.set("properties", exp.Properties(expressions=[*props, exp.EngineProperty(this=exp.var("Memory"))]))
            return node

        return expression.transform(stage, copy=copy)

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
