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


def bind_load_ts(expression: exp.Expression, value: exp.Expression | None) -> exp.Expression:
    """Replace the load-timestamp placeholder by `value` (default: the current timestamp)."""
    value = value if value is not None else exp.CurrentTimestamp()

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name == LOAD_TS:
            return value.copy()
        return node

    return expression.transform(swap)


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
