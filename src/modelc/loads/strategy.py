"""How each dialect applies a plan's upserts, chosen from its capability flags.

Every upsert source holds full row images of changed rows only, so one
unconditioned MERGE on the key does it: the shape Redshift's restricted MERGE
accepts too (there without a target alias). An engine without MERGE (ClickHouse)
deletes the changed keys and inserts the new images; both statements touch only
the changed rows, so the load stays change-proportional.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlglot import exp

from ..dialects.base import Dialect
from . import LoadPlan, Step, Upsert, bind_load_ts
from .sql import parse, q


@dataclass(frozen=True, slots=True)
class Rendered:
    step: Step
    sql: str
    expression: exp.Expression


def strategy(dialect: Dialect) -> str:
    if dialect.has_merge:
        return "merge"
    if dialect.has_update_from:
        return "update+insert"
    return "delete+insert"


def upsert_statements(u: Upsert, dialect: Dialect) -> list[exp.Expression]:
    cols = [q(c) for c in u.columns]
    values = ", ".join(f"c.{c}" for c in cols)
    if dialect.has_merge:
        # Redshift's MERGE takes no target alias: name the table itself.
        t = "t" if dialect.merge_target_alias else u.target
        into = f"{u.target} AS t" if dialect.merge_target_alias else u.target
        match = " AND ".join(f"{t}.{q(k)} = c.{q(k)}" for k in u.key)
        sets = ", ".join(f"{c} = c.{c}" for c in cols if c not in {q(k) for k in u.key})
        return [
            parse(
                f"MERGE INTO {into} USING {u.changes} AS c ON {match} WHEN MATCHED THEN UPDATE SET {sets} "
                f"WHEN NOT MATCHED THEN INSERT ({', '.join(cols)}) VALUES ({values})"
            )
        ]
    keys = ", ".join(q(k) for k in u.key)
    key_tuple = keys if len(u.key) == 1 else f"({keys})"
    insert = parse(f"INSERT INTO {u.target} ({', '.join(cols)}) SELECT {values} FROM {u.changes} AS c")
    if dialect.has_update_from:
        match = " AND ".join(f"{u.target}.{q(k)} = c.{q(k)}" for k in u.key)
        sets = ", ".join(f"{c} = c.{c}" for c in cols if c not in {q(k) for k in u.key})
        fresh = " AND ".join(f"t.{q(k)} = c.{q(k)}" for k in u.key)
        return [
            parse(f"UPDATE {u.target} SET {sets} FROM {u.changes} AS c WHERE {match}"),
            parse(
                f"INSERT INTO {u.target} ({', '.join(cols)}) SELECT {values} FROM {u.changes} AS c "
                f"WHERE NOT EXISTS (SELECT 1 FROM {u.target} AS t WHERE {fresh})"
            ),
        ]
    return [parse(f"DELETE FROM {u.target} WHERE {key_tuple} IN (SELECT {keys} FROM {u.changes})"), insert]


# sqlglot warns that it cannot spell NULLS LAST in some engines' window ORDER BY; our window
# orderings are over columns that are never NULL, so the warning says nothing about these plans.
logging.getLogger("sqlglot").addFilter(lambda record: "NULLS LAST" not in record.getMessage())


def render_plan(
    plan: LoadPlan, dialect: Dialect, load_ts: exp.Expression | None = None, pretty: bool = True
) -> list[Rendered]:
    """The plan's statements in `dialect`, in order, with the load timestamp bound (pretty for people,
    compact for the runtime)."""
    out = []
    staged, schema = _staging(plan) if not dialect.temporary_tables else (set(), "")
    for step in plan.steps:
        expressions = upsert_statements(step.upsert, dialect) if step.upsert else [step.expression]
        for e in expressions:
            e = bind_load_ts(e, load_ts)
            if staged:
                e = dialect.persistent_staging(e, staged, schema)
            named = dialect.with_names(e)
            out.append(Rendered(step, named.sql(dialect=dialect.sqlglot_name, pretty=pretty), named))
    return out


def _staging(plan: LoadPlan) -> tuple[set[str], str]:
    """The temporary tables a plan creates, and the schema of its target (where a dialect without temporary
    tables keeps them)."""
    staged: set[str] = set()
    schemas: list[str] = []
    for step in plan.steps:
        for e in (step.expression,) if step.expression is not None else ():
            for create in e.find_all(exp.Create):
                if create.find(exp.TemporaryProperty) and isinstance(create.this, exp.Table):
                    staged.add(create.this.name)
            schemas += [t.db for t in e.find_all(exp.Table) if t.db and t.name == plan.entity]
        if step.upsert is not None:
            schemas.append(parse(f"SELECT * FROM {step.upsert.target}").find(exp.Table).db)
    return staged, (schemas[0] if schemas else "default")
