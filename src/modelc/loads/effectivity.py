"""Effectivity and record-tracking satellite loads (docs/semantics.md, "Effectivity and record-tracking
satellites") as staged, insert-only plans, written like the other vault loads (`loads.vault`).

- effectivity (a satellite of a link with a driving hub): per batch, each driving key has at most one
  relationship (link key). A batch link key whose latest row is absent or inactive gets an active row
  (start_ts = the load time, end_ts NULL); a stored, currently active link key whose driving key
  arrives with a different link key gets a closing row (its start_ts kept, end_ts = the load time,
  is_active FALSE). Driving keys absent from the batch change nothing. Rows whose driving key is the zero
  key are rejected (counted, not loaded).
- record-tracking: one row per distinct parent key of the batch and load time; rows whose (hub) parent key
  is the zero key are rejected.

The driving key of a stored link key is read from the parent link's `<driving role>_hk` column: the
satellite table does not store it, and the link is loaded before its satellites.

No correlated subqueries and no outer joins (ClickHouse fills unmatched outer-join columns with defaults,
not NULLs): the current state of the keys concerned is staged with a window function, and every other
condition is an uncorrelated `IN` / `NOT IN`.
"""

from __future__ import annotations

from .. import ir
from ..plan import END_TS, HASH_KEY_SUFFIX, IS_ACTIVE, LOAD_TS, RECORD_SOURCE, START_TS
from . import LoadPlan, Step
from .sql import Spliced, lit, parse, q, qt
from .vault import LOAD_TS_SQL, _hub_key, _parent_key, _steps_around, system_rows

DRIVING = "_mc_driving_hk"  # the batch's driving-key column


def _source(sat: ir.Satellite, model: ir.Model) -> str:
    source = model.get(sat.source)
    assert isinstance(source, ir.Source)
    return qt(source.schema, source.table)


def _some_value(columns: list[str] | tuple[str, ...], alias: str = "s") -> str:
    """TRUE when at least one of `columns` is not NULL: the key is not the zero key."""
    return "(" + " OR ".join(f"{alias}.{q(c)} IS NOT NULL" for c in columns) + ")"


def _zero_parent(sat: ir.Satellite, model: ir.Model) -> str:
    """The condition on a source row whose parent key is the zero key: every column of a hub parent's key
    NULL (as `vault._parent_key` reads them). A link key is a digest even when all its hub keys are the
    zero key (the link stores such a row), so no row of a link parent has the zero key."""
    parent = model.get(sat.parent)
    if isinstance(parent, ir.Link):
        return "FALSE"
    assert isinstance(parent, ir.Hub)
    return f"NOT {_some_value(sat.parent_columns or tuple(c.name for c in parent.key))}"


def plan_effectivity(sat: ir.Satellite, model: ir.Model) -> LoadPlan:
    s = model.settings
    link = model.get(sat.parent)
    if not isinstance(link, ir.Link):
        raise ValueError(f"effectivity satellite {sat.name}: its parent {sat.parent} is not a link")
    driving = next((hl for hl in link.hubs if hl.role == sat.driving), None)
    if driving is None:
        raise ValueError(f"effectivity satellite {sat.name}: {sat.driving!r} is no role of link {link.name}")
    hk = sat.parent + HASH_KEY_SUFFIX
    target = qt(s.schema, sat.name)
    link_table = qt(s.schema, link.name)
    role_hk = driving.role + HASH_KEY_SUFFIX
    tag = f"_mc_{sat.name}_batch"
    current = f"_mc_{sat.name}_current"
    source = _source(sat, model)
    h = Spliced()
    link_key = h.add(_parent_key(sat, model, "s"))
    driving_key = h.add(_hub_key(model, driving.hub, "s", driving.columns))
    known = _some_value(driving.columns)
    # One row per (link key, driving key); a link key determines its driving key (the link key hashes the
    # driving hub's normalized business key), so the check below finds driving keys with two link keys.
    stage = (
        f"CREATE TEMPORARY TABLE {q(tag)} AS SELECT DISTINCT {link_key} AS {q(hk)}, {driving_key} AS {q(DRIVING)} "
        f"FROM {source} AS s WHERE {known}"
    )
    check = f"SELECT {q(DRIVING)}, COUNT(*) AS links FROM {q(tag)} GROUP BY {q(DRIVING)} HAVING COUNT(*) > 1"
    message = f"effectivity satellite {sat.name}: several {link.name} relationships for one {driving.role} in one batch"
    # The latest stored row of every link key the batch may change: its own link keys, and the stored link
    # keys of its driving keys (through the parent link).
    concerned = (
        f"t.{q(hk)} IN (SELECT b.{q(hk)} FROM {q(tag)} AS b) OR t.{q(hk)} IN (SELECT k.{q(hk)} FROM {link_table} AS k "
        f"WHERE k.{q(role_hk)} IN (SELECT b.{q(DRIVING)} FROM {q(tag)} AS b))"
    )
    stage_current = (
        f"CREATE TEMPORARY TABLE {q(current)} AS SELECT c.{q(hk)}, c.{q(START_TS)}, c.{q(IS_ACTIVE)} FROM "
        f"(SELECT t.{q(hk)}, t.{q(START_TS)}, t.{q(IS_ACTIVE)}, ROW_NUMBER() OVER (PARTITION BY t.{q(hk)} "
        f"ORDER BY t.{q(LOAD_TS)} DESC) AS _mc_rn FROM {target} AS t WHERE {concerned}) AS c WHERE c._mc_rn = 1"
    )
    opened = (
        f"FROM {q(tag)} AS b WHERE b.{q(hk)} NOT IN "
        f"(SELECT c.{q(hk)} FROM {q(current)} AS c WHERE c.{q(IS_ACTIVE)} = TRUE)"
    )
    # Every key in `current` that is not a batch link key has a batch driving key; the check guarantees
    # that driving key came with another link key.
    batch_keys = f"SELECT b.{q(hk)} FROM {q(tag)} AS b"
    closed = f"FROM {q(current)} AS c WHERE c.{q(IS_ACTIVE)} = TRUE AND c.{q(hk)} NOT IN ({batch_keys})"
    unknown = f"NOT {known}"
    count = (
        f"SELECT (SELECT COUNT(*) {opened}) AS inserted, (SELECT COUNT(*) {closed}) AS closed, "
        f"(SELECT COUNT(*) FROM {source} AS s WHERE {unknown}) AS rejected"
    )
    columns = ", ".join(q(c) for c in (hk, LOAD_TS, START_TS, END_TS, IS_ACTIVE, RECORD_SOURCE))
    source_name = lit(sat.record_source)
    close = (
        f"INSERT INTO {target} ({columns}) SELECT c.{q(hk)}, {LOAD_TS_SQL}, c.{q(START_TS)}, {LOAD_TS_SQL}, FALSE, "
        f"{source_name} {closed}"
    )
    # end_ts: an untyped NULL takes the column's type in every engine (a cast would have to say Nullable in
    # ClickHouse).
    open_ = (
        f"INSERT INTO {target} ({columns}) SELECT b.{q(hk)}, {LOAD_TS_SQL}, {LOAD_TS_SQL}, NULL, TRUE, "
        f"{source_name} {opened}"
    )
    steps = _steps_around(
        tag,
        [
            Step("stage", h.parse(stage), "batch"),
            Step("check", parse(check), "one relationship per driving key", message),
            Step("stage", parse(stage_current), "current state of the keys concerned"),
        ],
        count,
        [close, open_],
        h,
        system_rows(model, sat.name),
    )
    steps.append(Step("cleanup", parse(f"DROP TABLE IF EXISTS {q(current)}"), "drop current state"))
    return LoadPlan(sat.name, "insert", tuple(steps))


def plan_tracking(sat: ir.Satellite, model: ir.Model) -> LoadPlan:
    s = model.settings
    hk = sat.parent + HASH_KEY_SUFFIX
    target = qt(s.schema, sat.name)
    tag = f"_mc_{sat.name}_batch"
    source = _source(sat, model)
    h = Spliced()
    zero = _zero_parent(sat, model)
    stage = (
        f"CREATE TEMPORARY TABLE {q(tag)} AS SELECT DISTINCT {h.add(_parent_key(sat, model, 's'))} AS {q(hk)} "
        f"FROM {source} AS s WHERE NOT ({zero})"
    )
    new = (
        f"FROM {q(tag)} AS b WHERE b.{q(hk)} NOT IN "
        f"(SELECT t.{q(hk)} FROM {target} AS t WHERE t.{q(LOAD_TS)} = {LOAD_TS_SQL})"
    )
    count = f"SELECT (SELECT COUNT(*) {new}) AS inserted, (SELECT COUNT(*) FROM {source} AS s WHERE {zero}) AS rejected"
    columns = ", ".join(q(c) for c in (hk, LOAD_TS, RECORD_SOURCE))
    insert = f"INSERT INTO {target} ({columns}) SELECT b.{q(hk)}, {LOAD_TS_SQL}, {lit(sat.record_source)} {new}"
    steps = _steps_around(
        tag, [Step("stage", h.parse(stage), "batch")], count, [insert], h, system_rows(model, sat.name)
    )
    return LoadPlan(sat.name, "insert", tuple(steps))
