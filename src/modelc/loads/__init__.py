"""Load plans: dialect-neutral steps (sqlglot expressions) that bring a target up to date.

A plan is built once per entity and rendered per dialect. Steps run in order in one
transaction: `stage` fills temporary tables, `check` aborts the load (rollback) when
its query returns rows, `count` returns one row of counters for the run summary,
`apply` changes the target, `cleanup` drops the staging tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from .sql import node_copy

StepKind = Literal["stage", "check", "count", "apply", "cleanup"]
LOAD_TS = "load_ts"  # name of the placeholder for the run's load timestamp


@dataclass(frozen=True, slots=True)
class Upsert:
    """Make `target` hold every row of `changes` (full row images), matched on `key`.

    A plan says *what* to apply; each dialect's flags decide *how* (`loads.strategy`):
    MERGE where the engine has one, DELETE + INSERT where it has none.
    """

    target: str  # quoted, qualified name (template dialect)
    changes: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    # Rows of `changes` with `_mc_op = 'close'` change only these columns of a stored row: a dialect with
    # UPDATE ... FROM sets just those (engines update column by column) before applying the other rows.
    narrow: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    expression: exp.Expression | None
    purpose: str
    message: str | None = None  # check: what is wrong when the query returns rows
    upsert: Upsert | None = None  # apply steps whose statement depends on the dialect


@dataclass(frozen=True, slots=True)
class LoadPlan:
    entity: str
    strategy: str  # e.g. "merge", "update+insert", "insert"
    steps: tuple[Step, ...]


def load_ts_placeholder() -> exp.Expression:
    return exp.cast(exp.Placeholder(this=LOAD_TS), exp.DataType.build("timestamp"))


def bind_load_ts(expression: exp.Expression, value: exp.Expression | None, copy: bool = True) -> exp.Expression:
    """Replace the load-timestamp placeholder by `value` (default: the current timestamp); in a copy of
    `expression` unless `copy` is False."""
    value = value if value is not None else exp.CurrentTimestamp()
    if copy:
        return _copy_bound(expression, value)
    # The placeholder is a leaf: replacing each one found is what `transform` would do, with less work.
    for node in list(expression.find_all(exp.Placeholder)):
        if node.name == LOAD_TS:
            if node is expression:
                return value.copy()
            node.replace(value.copy())
    return expression


def _is_load_ts(node: exp.Expr) -> bool:
    return type(node) is exp.Placeholder and node.name == LOAD_TS


def _copy_bound(expression: exp.Expression, value: exp.Expression) -> exp.Expression:
    """`expression.copy()` with a copy of `value` in place of each load-timestamp placeholder: binding while
    copying (rendering copies every statement of a plan) saves a walk over each statement."""
    if _is_load_ts(expression):
        return value.copy()
    root = node_copy(expression)
    stack = [(expression, root)]
    while stack:
        node, new = stack.pop()
        args = new.args
        for key, vs in node.args.items():
            if isinstance(vs, exp.Expr):
                args[key] = _child(vs, new, key, None, value, stack)
            elif type(vs) is list:
                args[key] = [
                    _child(v, new, key, i, value, stack) if isinstance(v, exp.Expr) else v for i, v in enumerate(vs)
                ]
            else:
                args[key] = vs
    return root


def _child(
    node: exp.Expression, parent: exp.Expression, key: str, index: int | None, value: exp.Expression, stack: list
) -> exp.Expression:
    """The copy of `node`, a child of `parent` (its own arguments are filled when `stack` gets to it)."""
    if not _is_load_ts(node):
        new = node_copy(node, parent, key, index)
        stack.append((node, new))
        return new
    new = value.copy()
    new.parent, new.arg_key, new.index = parent, key, index
    return new


def plan_entity(model, name: str, added=None) -> LoadPlan | None:
    """The load plan of one entity, or None for kinds that have no load yet (sources have none).

    `added` maps columns that joined the model after the table was created to when they did."""
    from .. import ir, plan
    from .calendar import plan_calendar
    from .dimension import plan_dimension
    from .fact import plan_fact

    entity = model.get(name)
    table = plan.build(model).table(name)
    if isinstance(entity, ir.Dimension):
        return plan_dimension(entity, model.get(entity.source), model.settings, table, added)
    if isinstance(entity, ir.Fact):
        return plan_fact(entity, model.get(entity.source), model, table)
    if isinstance(entity, ir.Calendar):
        return plan_calendar(entity, model.settings)
    if isinstance(entity, ir.Hub | ir.Link | ir.Satellite | ir.Pit | ir.Bridge):
        from .vault import plan_vault

        return plan_vault(entity, model)
    return None
