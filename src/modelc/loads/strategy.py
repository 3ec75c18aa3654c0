"""How each dialect applies a plan's upserts, chosen from its capability flags.

Every upsert source holds full row images of changed rows only, so one
unconditioned MERGE on the key does it: the shape Redshift's restricted MERGE
accepts too (there without a target alias). An engine without MERGE (ClickHouse)
deletes the changed keys and inserts the new images; both statements touch only
the changed rows, so the load stays change-proportional.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=4096)
def _parsed(sql: str) -> exp.Expression:
    return parse(sql)


def _parse(sql: str) -> exp.Expression:
    # Dialects with the same flags write the same upsert text: parsed once for all of them (a copy each).
    return _parsed(sql).copy()


def upsert_statements(u: Upsert, dialect: Dialect) -> list[exp.Expression]:
    if u.narrow and dialect.has_update_from:
        t = "t" if dialect.merge_target_alias else u.target
        target = f"{u.target} AS t" if dialect.merge_target_alias else u.target
        match = " AND ".join(f"{t}.{q(k)} = c.{q(k)}" for k in u.key)
        sets = ", ".join(f"{q(c)} = c.{q(c)}" for c in u.narrow)
        narrow = [
            _parse(f"UPDATE {target} SET {sets} FROM {u.changes} AS c WHERE c._mc_op = 'close' AND {match}"),
            _parse(f"DELETE FROM {u.changes} WHERE _mc_op = 'close'"),
        ]
        return narrow + _upsert(u, dialect)
    return _upsert(u, dialect)


def _upsert(u: Upsert, dialect: Dialect) -> list[exp.Expression]:
    cols = [q(c) for c in u.columns]
    values = ", ".join(f"c.{c}" for c in cols)
    if dialect.has_merge:
        # Redshift's MERGE takes no target alias: name the table itself.
        t = "t" if dialect.merge_target_alias else u.target
        into = f"{u.target} AS t" if dialect.merge_target_alias else u.target
        match = " AND ".join(f"{t}.{q(k)} = c.{q(k)}" for k in u.key)
        sets = ", ".join(f"{c} = c.{c}" for c in cols if c not in {q(k) for k in u.key})
        return [
            _parse(
                f"MERGE INTO {into} USING {u.changes} AS c ON {match} WHEN MATCHED THEN UPDATE SET {sets} "
                f"WHEN NOT MATCHED THEN INSERT ({', '.join(cols)}) VALUES ({values})"
            )
        ]
    keys = ", ".join(q(k) for k in u.key)
    key_tuple = keys if len(u.key) == 1 else f"({keys})"
    insert = _parse(f"INSERT INTO {u.target} ({', '.join(cols)}) SELECT {values} FROM {u.changes} AS c")
    if dialect.has_update_from:
        match = " AND ".join(f"{u.target}.{q(k)} = c.{q(k)}" for k in u.key)
        sets = ", ".join(f"{c} = c.{c}" for c in cols if c not in {q(k) for k in u.key})
        fresh = " AND ".join(f"t.{q(k)} = c.{q(k)}" for k in u.key)
        return [
            _parse(f"UPDATE {u.target} SET {sets} FROM {u.changes} AS c WHERE {match}"),
            _parse(
                f"INSERT INTO {u.target} ({', '.join(cols)}) SELECT {values} FROM {u.changes} AS c "
                f"WHERE NOT EXISTS (SELECT 1 FROM {u.target} AS t WHERE {fresh})"
            ),
        ]
    return [_parse(f"DELETE FROM {u.target} WHERE {key_tuple} IN (SELECT {keys} FROM {u.changes})"), insert]


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
        # The plan is shared by every dialect: its statement is copied once (binding the load timestamp), and the
        # copy rewritten in place; upsert statements are new.
        if step.upsert:
            expressions = [bind_load_ts(e, load_ts, copy=False) for e in upsert_statements(step.upsert, dialect)]
        else:
            expressions = [bind_load_ts(step.expression, load_ts)]
        for e in expressions:
            if staged:
                e = dialect.persistent_staging(e, staged, schema, copy=False)
            named = dialect.with_names(e, copy=False)
            out.append(Rendered(step, named.sql(dialect=dialect.sqlglot_name, pretty=pretty), named))
    return out


def _staging(plan: LoadPlan) -> tuple[set[str], str]:
    """The temporary tables a plan creates, and the schema of its target (where a dialect without temporary
    tables keeps them)."""
    staged: set[str] = set()
    schemas: list[str] = []
    for step in plan.steps:
        for node in step.expression.walk() if step.expression is not None else ():  # one walk for both
            if isinstance(node, exp.Create):
                if node.find(exp.TemporaryProperty) and isinstance(node.this, exp.Table):
                    staged.add(node.this.name)
            elif isinstance(node, exp.Table) and node.db and node.name == plan.entity:
                schemas.append(node.db)
        if step.upsert is not None:
            schemas.append(parse(f"SELECT * FROM {step.upsert.target}").find(exp.Table).db)
    return staged, (schemas[0] if schemas else "default")
