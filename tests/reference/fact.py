"""Reference fact loads: docs/semantics.md "Facts", transcribed rule by rule.

`load_fact(fact, settings, state, batch, load_ts, dimensions)` applies one batch to a `FactState`
and returns the counts; a duplicate conflict with `duplicates error` raises `LoadError` and changes
nothing. References are resolved against reference dimension states (`dimension.DimensionState`,
`calendar.CalendarState`), passed by dimension name together with their definitions.

The doc gives no column list for fact tables. READING (see `fact_columns`): the grain, then per
reference `<role>_key` followed by the fact columns it is resolved from (natural key, and the `at`
column, both needed to re-resolve unknown-member rows later), then degenerate columns, measures,
derived columns, the `incremental` column, and `dw_loaded_at`/`dw_updated_at` as for dimensions.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from modelc import ir

from . import calendar, hashing
from .dimension import DimensionState, LoadError, Row, change_timestamp, is_versioned, key_column, open_end, sort_key

Key = tuple[object, ...]
DimensionTables = Mapping[str, tuple[ir.Dimension, DimensionState] | tuple[ir.Calendar, calendar.CalendarState]]


@dataclass
class FactOutcome:
    inserted: int = 0
    updated: int = 0  # upsert: an existing grain whose columns differ
    skipped: int = 0  # append: the grain is already present
    rejected: int = 0  # NULL in a grain column
    duplicates: int = 0  # identical rows collapsed
    conflicts: int = 0  # rows dropped by `duplicates pick`
    unresolved: int = 0  # rows inserted/updated with at least one reference on the unknown member
    rekeyed: int = 0  # stored rows whose unknown-member reference now resolves
    below_watermark: int = 0  # rows not read by `incremental on c`


@dataclass
class FactState:
    rows: dict[Key, Row] = field(default_factory=dict)  # grain -> row


def role_key_column(ref: ir.DimensionRef) -> str:
    return f"{ref.role}_key"


def fact_columns(fact: ir.Fact) -> list[str]:
    """Column names of the fact table, in table order (each name once)."""
    cols: list[str] = []

    def add(name: str) -> None:
        if name not in cols:
            cols.append(name)

    for g in fact.grain:
        add(g.name)
    for ref in fact.references:
        add(role_key_column(ref))
        for c in ref.columns:
            add(c)
        if ref.at is not None:
            add(ref.at)
    for d in fact.degenerate:
        add(d.name)
    for m in fact.measures:
        add(m.name)
    for dc in fact.derived:
        add(dc.name)
    if fact.incremental is not None:
        add(fact.incremental)
    add("dw_loaded_at")
    add("dw_updated_at")
    return cols


def input_columns(fact: ir.Fact) -> list[str]:
    """The columns read from the source: every table column except role keys and dw_* columns."""
    generated = {role_key_column(r) for r in fact.references} | {"dw_loaded_at", "dw_updated_at"}
    return [c for c in fact_columns(fact) if c not in generated]


def canonical_rows(fact: ir.Fact, state: FactState) -> list[tuple[object, ...]]:
    cols = fact_columns(fact)
    return sorted((tuple(r.get(c) for c in cols) for r in state.rows.values()), key=sort_key)


def load_fact(
    fact: ir.Fact,
    settings: ir.Settings,
    state: FactState,
    batch: Sequence[Row],
    load_ts: dt.datetime,
    dimensions: DimensionTables,
) -> FactOutcome:
    out = FactOutcome()
    resolver = _Resolver(fact, settings, dimensions)
    inputs = input_columns(fact)
    grain = [g.name for g in fact.grain]

    # incremental on c: read only rows with c above the largest c loaded. READING: a NULL c is never
    # "greater", so it is not read once a watermark exists.
    if fact.incremental is not None:
        c = fact.incremental
        loaded = [r[c] for r in state.rows.values() if r.get(c) is not None]
        if loaded:
            mark = max(loaded)
            kept = [r for r in batch if r.get(c) is not None and r[c] > mark]  # type: ignore[operator]
            out.below_watermark = len(batch) - len(kept)
            batch = kept

    items: list[tuple[object, ...]] = []
    for row in batch:
        if any(row.get(g) is None for g in grain):
            out.rejected += 1
            continue
        items.append(tuple(row.get(c) for c in inputs))
    distinct = list(dict.fromkeys(items))
    out.duplicates = len(items) - len(distinct)
    by_grain: dict[Key, list[tuple[object, ...]]] = {}
    for item in distinct:
        by_grain.setdefault(tuple(item[inputs.index(g)] for g in grain), []).append(item)
    conflicting = [g for g, group in by_grain.items() if len(group) > 1]
    if conflicting and fact.duplicates == "error":
        raise LoadError("different rows with the same grain", conflicting)

    work = copy.deepcopy(state)
    # Late-arriving dimension members: re-resolve stored rows on the unknown member first.
    for row in work.rows.values():
        if resolver.rekey(row):
            row["dw_updated_at"] = load_ts
            out.rekeyed += 1

    types = _input_types(fact, inputs)
    for g in sorted(by_grain, key=sort_key):
        group = by_grain[g]
        # `duplicates pick`: smallest row hash of the row's values (inputs in table order).
        item = min(group, key=lambda it: hashing.key_hash(it, types, settings.hash))
        out.conflicts += len(group) - 1
        new = dict(zip(inputs, item, strict=True))
        unresolved = resolver.resolve_all(new)
        existing = work.rows.get(g)
        if existing is None:
            new["dw_loaded_at"], new["dw_updated_at"] = load_ts, None
            work.rows[g] = new
            out.inserted += 1
        elif fact.load == "append":
            out.skipped += 1
            continue
        elif any(existing.get(c) != new[c] for c in new):
            existing.update(new)
            existing["dw_updated_at"] = load_ts
            out.updated += 1
        else:
            continue
        out.unresolved += unresolved
    state.rows = work.rows
    return out


def _input_types(fact: ir.Fact, inputs: list[str]) -> list[ir.Type | None]:
    """Types for the row hash where the fact declares them; the others are read from the values."""
    known: dict[str, ir.Type | None] = {c.name: c.type for c in (*fact.grain, *fact.degenerate)}
    known.update({m.name: m.type for m in fact.measures})
    known.update({d.name: d.type for d in fact.derived})
    return [known.get(c) for c in inputs]


class _Resolver:
    """References -> role keys against the reference dimension tables."""

    def __init__(self, fact: ir.Fact, settings: ir.Settings, dimensions: DimensionTables) -> None:
        self.fact = fact
        self.settings = settings
        self.dimensions = dimensions
        self.unknown = hashing.unknown_key_hex(settings.hash)  # dimension keys are always hex

    def resolve_all(self, row: Row) -> int:
        """Set every `<role>_key`; return 1 when any reference fell back to the unknown member."""
        unresolved = False
        for ref in self.fact.references:
            key = self.resolve(ref, row)
            row[role_key_column(ref)] = key
            unresolved |= key == self.unknown_for(ref)
        return int(unresolved)

    def rekey(self, row: Row) -> bool:
        """Re-resolve references on the unknown member; True when one now resolves."""
        changed = False
        for ref in self.fact.references:
            col = role_key_column(ref)
            if row[col] == self.unknown_for(ref):
                key = self.resolve(ref, row)
                if key != row[col]:
                    row[col] = key
                    changed = True
        return changed

    def unknown_for(self, ref: ir.DimensionRef) -> object:
        definition, _ = self.dimensions[ref.dimension]
        return calendar.UNKNOWN_DATE_KEY if isinstance(definition, ir.Calendar) else self.unknown

    def resolve(self, ref: ir.DimensionRef, row: Row) -> object:
        definition, table = self.dimensions[ref.dimension]
        if isinstance(definition, ir.Calendar):
            assert isinstance(table, calendar.CalendarState)
            return _calendar_key(row.get(ref.columns[0]), table)
        natural = tuple(row.get(c) for c in ref.columns)
        assert isinstance(table, DimensionState)
        versions = None if any(v is None for v in natural) else table.keys.get(natural)
        if not versions:
            return self.unknown  # NULL or not found: the unknown member, counted as unresolved
        kc = key_column(definition)
        if not is_versioned(definition):
            return versions[0][kc]
        h = definition.history
        if ref.at is None:
            # "without at, the current version". READING: a key closed by `deletes invalidate` has
            # none; its latest version (the member's last known state) is used.
            current = [v for v in versions if v[h.is_current]]
            return (current or versions)[-1][kc]
        t = change_timestamp(row.get(ref.at))
        if t is None:
            return self.unknown  # READING: no point in time, no version
        if t < versions[0][h.valid_from]:
            return versions[0][kc]  # the member existed; its history starts later
        for v in versions:
            if v[h.valid_from] <= t and (v[h.valid_to] == open_end(definition) or t < v[h.valid_to]):
                return v[kc]
        # READING: t in a delete gap or after the last version closed: the version before t.
        return [v for v in versions if v[h.valid_from] <= t][-1][kc]


def _calendar_key(value: object, table: calendar.CalendarState) -> int:
    """`yyyymmdd` of the value (a timestamp truncated to its date, a timestamptz first in UTC), or 0."""
    if value is None:
        return calendar.UNKNOWN_DATE_KEY
    if isinstance(value, dt.datetime):
        value = change_timestamp(value)
        assert value is not None
        value = value.date()
    if not isinstance(value, dt.date):
        raise TypeError(f"a calendar reference needs a date or timestamp, got {value!r}")
    key = calendar.date_key(value)
    return key if key in table.rows and key != calendar.UNKNOWN_DATE_KEY else calendar.UNKNOWN_DATE_KEY
