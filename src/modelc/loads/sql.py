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
    if isinstance(node, exp.Anonymous) and node.name.upper() == "_MC_ADD_MICROS":
        ts, micros = node.expressions
        return exp.DateAdd(this=ts, expression=micros, unit=exp.var("MICROSECOND"))
    return node


def parse(sql: str) -> exp.Expression:
    """A template (DuckDB dialect) as an expression, with modelc's portable functions resolved."""
    return sqlglot.parse_one(sql, read=READ).transform(_portable)


class Spliced:
    """sqlglot expressions kept aside while a template is written as text, put back after parsing.

    `add(node)` returns a placeholder call (`_MC_NODE_<n>()`) to write into the template; `parse(sql)`
    parses the template (like `parse`) and puts a copy of each node in place of its placeholder. For
    nodes whose meaning does not survive a round trip through DuckDB text: the hash expressions of
    `modelc.hashing`, which each dialect spells its own way when rendering (as the vault loads do).
    """

    PREFIX = "_MC_NODE_"

    def __init__(self) -> None:
        self.nodes: list[exp.Expression] = []

    def add(self, node: exp.Expression) -> str:
        self.nodes.append(node)
        return f"{self.PREFIX}{len(self.nodes) - 1}()"

    def splice(self, expression: exp.Expression) -> exp.Expression:
        def put(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Anonymous) and node.name.upper().startswith(self.PREFIX):
                return self.nodes[int(node.name[len(self.PREFIX) :])].copy()
            return node

        return expression.transform(put)

    def parse(self, sql: str) -> exp.Expression:
        return self.splice(parse(sql))
