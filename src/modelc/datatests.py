"""Data tests compiled to SQL: each query returns the rows that fail the test.

Tests on a source read the staged source table; tests on a dimension read its real
rows (not the unknown and error members) and, for a versioned dimension, only the
current versions; tests on a fact read the fact table. NULL passes `in`, `between`
and `references` unless `null` is listed among accepted values; an expression test
fails where the expression is not TRUE.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from sqlglot import exp

from . import hashing, ir
from .loads.sql import READ, lit, parse, q, qt


@dataclass(frozen=True, slots=True)
class CompiledTest:
    entity: str
    name: str  # how the test reads in the model, for reports
    failing: exp.Expression  # SELECT of the failing rows
    count: exp.Expression  # SELECT COUNT(*) of the failing rows


def _value(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float | decimal.Decimal):
        return exp.Literal.number(v).sql(READ)
    if isinstance(v, dt.datetime):
        return f"CAST({lit(v.isoformat(sep=' '))} AS TIMESTAMP)"
    if isinstance(v, dt.date):
        return f"CAST({lit(v.isoformat())} AS DATE)"
    return lit(str(v))


def _describe(t: ir.DataTest) -> str:
    cols = ", ".join(t.columns)
    match t.kind:
        case "unique":
            return f"{cols} unique"
        case "not_null":
            return f"{cols} not null"
        case "accepted_values":
            return f"{cols} in [{', '.join('null' if v is None else repr(v) for v in t.values)}]"
        case "accepted_range":
            return f"{cols} between {t.low} and {t.high}"
        case "relationships":
            return f"{cols} references {t.ref_entity}({', '.join(t.ref_columns)})"
        case _:
            return f'"{t.sql}"'


def _relation(model: ir.Model, entity: ir.Entity) -> str | None:
    """The rows an entity's tests look at, as a FROM item."""
    schema = model.settings.schema
    if isinstance(entity, ir.Source):
        return qt(entity.schema, entity.table)
    if isinstance(entity, ir.Dimension):
        sk = q(f"{entity.name}_key")
        members = ", ".join(lit(hashing.special_key(k, model.settings.hash)) for k in ("unknown", "error"))
        current = f" AND {q(entity.history.is_current)}" if entity.versioned else ""
        return f"(SELECT * FROM {qt(schema, entity.name)} WHERE {sk} NOT IN ({members}){current})"
    if entity.kind in ("fact", "hub", "link", "satellite", "pit", "bridge"):
        return qt(schema, entity.name)
    return None


def _where(model: ir.Model, t: ir.DataTest) -> str:
    cols = [q(c) for c in t.columns]
    match t.kind:
        case "not_null":
            return " OR ".join(f"r.{c} IS NULL" for c in cols)
        case "accepted_values":
            listed = [v for v in t.values if v is not None]
            in_list = f"r.{cols[0]} IN ({', '.join(_value(v) for v in listed)})" if listed else "FALSE"
            if None in t.values:
                return f"r.{cols[0]} IS NOT NULL AND NOT ({in_list})"
            return f"r.{cols[0]} IS NULL OR NOT ({in_list})"
        case "accepted_range":
            return f"r.{cols[0]} < {_value(t.low)} OR r.{cols[0]} > {_value(t.high)}"
        case "relationships":
            target = model.get(t.ref_entity or "")
            rel = _relation(model, target) if target is not None else None
            if isinstance(target, ir.Dimension) and target.versioned:  # any version may be referenced
                rel = qt(model.settings.schema, target.name)
            match = " AND ".join(f"p.{q(rc)} = r.{c}" for c, rc in zip(cols, t.ref_columns, strict=True))
            present = " AND ".join(f"r.{c} IS NOT NULL" for c in cols)
            return f"{present} AND NOT EXISTS (SELECT 1 FROM {rel} AS p WHERE {match})"
        case "expression":
            return f"NOT COALESCE(({parse(t.sql or 'TRUE').sql(READ, identify=True)}), FALSE)"
    raise ValueError(t.kind)


def compile_tests(model: ir.Model) -> list[CompiledTest]:
    out = []
    for entity in model.entities:
        tests = getattr(entity, "tests", ())
        relation = _relation(model, entity) if tests else None
        if relation is None:
            continue
        for t in tests:
            if t.kind == "unique":
                cols = ", ".join(q(c) for c in t.columns)
                failing = (
                    f"SELECT {cols}, COUNT(*) AS occurrences FROM {relation} AS r GROUP BY {cols} HAVING COUNT(*) > 1"
                )
            else:
                failing = f"SELECT * FROM {relation} AS r WHERE {_where(model, t)}"
            out.append(
                CompiledTest(
                    entity.name,
                    _describe(t),
                    parse(f"{failing} LIMIT 5"),
                    parse(f"SELECT COUNT(*) FROM ({failing}) AS f"),
                )
            )
    return out
