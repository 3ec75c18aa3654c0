"""Helpers for writing load SQL as text in one dialect, then parsing it into sqlglot.

Templates are written in DuckDB's dialect with every identifier quoted by `q`, and
literals made by `lit`, so no name or value from a model can break the SQL; the
text is parsed once into an expression and rendered per dialect from there.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

READ = "duckdb"  # the dialect load templates are written in


def q(name: str) -> str:
    """A quoted identifier in the template dialect: no name can break the SQL."""
    return exp.to_identifier(name, quoted=True).sql(READ)


def qt(schema: str | None, table: str) -> str:
    return f"{q(schema)}.{q(table)}" if schema else q(table)


def lit(value: str) -> str:
    return exp.Literal.string(value).sql(READ)


def eq_all(cols: list[str], left: str, right: str) -> str:
    """Null-safe equality of `cols` between two aliases (TRUE when there are none)."""
    if not cols:
        return "TRUE"
    return " AND ".join(f"{left}.{q(c)} IS NOT DISTINCT FROM {right}.{q(c)}" for c in cols)


def ne_any(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "FALSE"
    return "(" + " OR ".join(f"{a} IS DISTINCT FROM {b}" for a, b in pairs) + ")"


def on(cols: list[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{q(c)} = {right}.{q(c)}" for c in cols)


def _portable(node: exp.Expression) -> exp.Expression:
    # `_MC_ADD_DAYS(d, n)` in a template: sqlglot's DateAdd node, which each dialect spells its own way
    # (DuckDB's `d + INTERVAL (n) DAY` does not transpile when parsed from text).
    if isinstance(node, exp.Anonymous) and node.name.upper() == "_MC_ADD_DAYS":
        date, days = node.expressions
        return exp.DateAdd(this=date, expression=days, unit=exp.var("DAY"))
    return node


def parse(sql: str) -> exp.Expression:
    """A template (DuckDB dialect) as an expression, with modelc's portable functions resolved."""
    return sqlglot.parse_one(sql, read=READ).transform(_portable)
