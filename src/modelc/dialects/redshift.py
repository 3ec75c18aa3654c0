"""Redshift: restricted MERGE (one unconditioned WHEN of each kind, no alias, table source), DIST/SORT keys."""

from __future__ import annotations

from sqlglot import exp

from .. import ir
from ..diagnostics import Diagnostic
from ..plan import ColumnSpec, TableSpec
from .base import Dialect, bad_option

_MAX_VARCHAR = 65535  # bytes


def _cast_varchar(node: exp.Expression) -> exp.Expression:
    # A cast to text in a load: VARCHAR(65535), which Redshift reads as VARCHAR(MAX) (a bare VARCHAR would be
    # VARCHAR(256) and truncate) and PostgreSQL accepts too, so the load statements run on both.
    if isinstance(node, exp.DataType) and isinstance(node.parent, exp.Cast):
        size = node.find(exp.DataTypeParam)
        max_size = node.is_type("varchar") and size is not None and size.name.upper() == "MAX"
        if node.is_type("text") or max_size:  # sqlglot prints TEXT as VARCHAR(MAX) for Redshift
            return exp.DataType.build(f"VARCHAR({_MAX_VARCHAR})", dialect="redshift")
    return node


class Redshift(Dialect):
    name = "redshift"
    sqlglot_name = "redshift"

    merge_when_conditions = False
    merge_target_alias = False
    merge_source_subquery = False
    has_identity_columns = True
    transactional_ddl = True
    extract_iso_week = "WEEK"  # no WEEK_OF_YEAR function; its WEEK date part is the ISO week
    primary_key = "informational"  # accepted and used by the planner, never enforced
    physical_options = frozenset({"sortkey", "distkey", "diststyle"})
    max_identifier_bytes = 127
    hash_functions = {
        ("md5", "hex"): "MD5(__value__)",
        ("md5", "binary"): "FROM_HEX(MD5(__value__))",
        ("sha256", "hex"): "SHA2(__value__, 256)",
        ("sha256", "binary"): "FROM_HEX(SHA2(__value__, 256))",
    }
    # MD5 and SHA2 return lower-case hex text; VARBYTE <-> hex is TO_HEX (lower case) and FROM_HEX (no UNHEX).
    # CONVERT_TIMEZONE('UTC', x) would read a timestamptz in the session's time zone; AT TIME ZONE converts
    # the instant.
    hash_helpers = {
        "hex": "TO_HEX(__value__)",
        "unhex": "FROM_HEX(__value__)",
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
        "string": "VARCHAR(MAX)",  # a bare VARCHAR is VARCHAR(256) on Redshift
        "string(n)": "VARCHAR({n})",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMPTZ",
        "json": "SUPER",
        "binary": "VARBYTE",
    }

    def type_sql(self, t: ir.Type) -> str:
        # VARCHAR(n) counts bytes; a character takes up to 4 in UTF-8.
        if t.name == "string" and t.length is not None:
            return self.types["string(n)"].format(n=min(4 * t.length, _MAX_VARCHAR))
        return super().type_sql(t)

    def column_type(self, column: ColumnSpec, nullable: bool = True) -> exp.DataType:
        # Generated strings (hex hash keys) are ASCII: their length in bytes is exact.
        t = column.type
        if column.generated and t.name == "string" and t.length is not None:
            return exp.DataType.build(self.types["string(n)"].format(n=t.length), dialect=self.sqlglot_name)
        return super().column_type(column, nullable)

    def table_properties(self, spec: TableSpec, diags: list[Diagnostic]) -> list[exp.Expression]:
        props: list[exp.Expression] = []
        p = spec.physical
        style = p.diststyle
        if p.distkey:
            if style not in (None, "key"):
                diags.append(bad_option(spec, f"`distkey` implies `diststyle key`; `diststyle {style}` ignored"))
            props.append(exp.DistStyleProperty(this=exp.Var(this="KEY")))
            props.append(exp.DistKeyProperty(this=self.identifier(p.distkey)))
        elif style == "key":
            diags.append(bad_option(spec, "`diststyle key` needs a `distkey` column; ignored"))
        elif style:
            props.append(exp.DistStyleProperty(this=exp.Var(this=style.upper())))
        if p.sortkey:
            props.append(exp.SortKeyProperty(this=[self.identifier(c) for c in p.sortkey], compound=False))
        return props

    def with_names(self, expression: exp.Expression, copy: bool = True) -> exp.Expression:
        # Casts to text in loads as VARCHAR(65535): the same on Redshift, and PostgreSQL runs them too.
        return super().with_names(expression.transform(_cast_varchar, copy=copy), copy=False)
