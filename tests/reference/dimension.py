"""Reference dimension loads: docs/semantics.md "Dimension tables", transcribed rule by rule, per key.

`load(dim, settings, state, batch, load_ts)` applies one batch to a `DimensionState` in place and
returns the run's counts; a failing load raises `LoadError` and leaves the state exactly as it was
(the load works on a copy that replaces the state only at the end).

Readings of the contract where it is silent or contradicts itself (each is listed in the report that
came with this file, so docs/semantics.md can be fixed) are marked `READING:` below. The main ones:

- "values equal that version" (the already-loaded test) compares the **scd2** columns, the only
  values a version keeps as they arrived: scd0 values are the first version's, scd1/scd3 values are
  overwritten in place later. Comparing them too would make every rerun of a batch with an in-place
  change report late rows (and fail with `late error`). A row whose change timestamp falls inside an
  existing version with the same scd2 values is already loaded (the doc's `ts = valid_from` case
  generalized to the rows that were applied in place to that version).
- Non-versioned dimensions keep the stored row's change timestamp (needed for "a row older than the
  stored row's change timestamp is late"); it is hidden state here (`DimensionState.changed_at`):
  the physical column list has no place for it.
- `dw_updated_at` and the counts are net per load: a row that existed before the load and differs
  after it (closing included) gets `dw_updated_at = L`; a row inserted by the load keeps NULL even if
  a later row of the same batch changed it.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from modelc import ir

from . import hashing

Row = dict[str, object]
Key = tuple[object, ...]
DeletePredicate = Callable[[Row], bool]

MEMBER_VALID_FROM = dt.datetime(1, 1, 1)
TIMESTAMP = ir.Type("timestamp")
MAX_NAMED_KEYS = 10


class LoadError(Exception):
    """A failed load: duplicate conflict with `duplicates error`, or a late row with `late error`."""

    def __init__(self, reason: str, keys: Iterable[Key]) -> None:
        self.reason = reason
        self.keys: tuple[Key, ...] = tuple(sorted(set(keys), key=sort_key))
        super().__init__(error_message(reason, self.keys))


def error_message(reason: str, keys: Sequence[Key]) -> str:
    """`reason: k1, k2, ...` naming at most 10 keys, then how many more (docs/semantics.md)."""
    shown = ", ".join(_key_text(k) for k in keys[:MAX_NAMED_KEYS])
    more = f" and {len(keys) - MAX_NAMED_KEYS} more" if len(keys) > MAX_NAMED_KEYS else ""
    return f"{reason}: {shown}{more}"


def _key_text(key: Key) -> str:
    return repr(key[0]) if len(key) == 1 else repr(key)


@dataclass
class LoadOutcome:
    """What a run reports. Net per load: each row counts once however many batch rows touched it."""

    inserted: int = 0  # new keys and new versions (tombstones included), not the unknown/error members
    updated: int = 0  # rows that existed before the load and whose tracked/previous values changed
    closed: int = 0  # versions closed by this load (by a change, a delete or a reappearance)
    rejected: int = 0  # rows with a NULL in the natural key (or a NULL change timestamp)
    late: int = 0  # rows skipped as late
    duplicates: int = 0  # identical rows collapsed
    deleted_ignored: int = 0  # CDC delete rows skipped by `deletes ignore`
    conflicts: int = 0  # rows dropped by `duplicates pick` (not in the doc's report list)


@dataclass
class DimensionState:
    """A dimension table. `rows` is the physical table; the rest is bookkeeping the SQL also needs."""

    members: list[Row] = field(default_factory=list)  # unknown member, error member
    keys: dict[Key, list[Row]] = field(default_factory=dict)  # natural key -> its rows, oldest version first
    # Non-versioned only: change timestamp of the row each key's values came from (hidden column).
    changed_at: dict[Key, dt.datetime] = field(default_factory=dict)
    # modelc_columns: the load timestamp at which each tracked (and previous) column joined the model.
    column_added: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def rows(self) -> list[Row]:
        out = list(self.members)
        for key in sorted(self.keys, key=sort_key):
            out.extend(self.keys[key])
        return out


def is_versioned(dim: ir.Dimension) -> bool:
    """docs/semantics.md: an scd2 column, or deletes `invalidate`/`tombstone`.

    READING: `ir.Dimension.versioned` leaves out `invalidate`; the doc's invalidate rule closes versions
    (`valid_to`, `is_current`), which only a versioned table has, so the doc wins.
    """
    return any(c.scd == 2 for c in dim.columns) or dim.deletes.mode in ("invalidate", "tombstone")


def key_column(dim: ir.Dimension) -> str:
    return f"{dim.name}_key"


def physical_columns(dim: ir.Dimension) -> list[str]:
    """Column names of the dimension table, in table order."""
    cols = [key_column(dim), *(k.name for k in dim.key)]
    for c in dim.columns:
        cols.append(c.name)
        if c.scd == 3 and c.previous is not None:
            cols.append(c.previous)
    if is_versioned(dim):
        h = dim.history
        cols += [h.valid_from, h.valid_to, h.is_current]
    if dim.deletes.mode == "tombstone":
        cols.append("is_deleted")
    return cols + ["dw_loaded_at", "dw_updated_at"]


def canonical_rows(dim: ir.Dimension, state: DimensionState) -> list[tuple[object, ...]]:
    """The table as sorted tuples in `physical_columns` order: what a SQL result is compared with."""
    cols = physical_columns(dim)
    return sorted((tuple(r.get(c) for c in cols) for r in state.rows), key=sort_key)


def sort_key(values: Sequence[object]) -> tuple[tuple[bool, object], ...]:
    """A total order on rows holding NULLs: NULL first; never compares None with a value."""
    return tuple((v is not None, v) for v in values)


def open_end(dim: ir.Dimension) -> dt.datetime | None:
    """The `valid_to` of an open version: NULL, or the `open_end` date at midnight."""
    end = dim.history.open_end
    return None if end is None else dt.datetime.combine(end, dt.time())


def change_timestamp(value: object) -> dt.datetime | None:
    """A `changed_by` value as a `timestamp`: a date is midnight, a timestamptz is converted to UTC."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is None else value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    raise TypeError(f"changed_by value must be a date or timestamp, got {value!r}")


@dataclass(frozen=True)
class Item:
    """One prepared batch row: natural key, change timestamp, tracked values, delete flag."""

    key: Key
    ts: dt.datetime
    values: tuple[object, ...]  # aligned with dim.columns
    deleted: bool


def load(
    dim: ir.Dimension,
    settings: ir.Settings,
    state: DimensionState,
    batch: Sequence[Row],
    load_ts: dt.datetime,
    *,
    is_delete: DeletePredicate | None = None,
) -> LoadOutcome:
    """Apply one batch (one `modelc run`) to `state`; return the counts or raise `LoadError`.

    `batch` rows are dicts holding the key columns, every tracked column (derived ones already
    computed) and the `changed_by` column. `is_delete` is the CDC condition (`deletes ... where`) as
    a Python predicate; it must be given exactly when the dimension declares one.
    """
    if (dim.deletes.where is not None) != (is_delete is not None):
        raise ValueError("pass is_delete exactly when the dimension has `deletes ... where`")
    work = copy.deepcopy(state)
    outcome = _Load(dim, settings, work, load_ts, is_delete).run(batch)
    # Only a load that did not raise replaces the state: a failure changes nothing.
    state.members, state.keys = work.members, work.keys
    state.changed_at, state.column_added = work.changed_at, work.column_added
    return outcome


class _Load:
    def __init__(
        self,
        dim: ir.Dimension,
        settings: ir.Settings,
        state: DimensionState,
        load_ts: dt.datetime,
        is_delete: DeletePredicate | None,
    ) -> None:
        self.dim = dim
        self.settings = settings
        self.state = state
        self.L = load_ts
        self.is_delete = is_delete
        self.cdc = is_delete is not None
        self.versioned = is_versioned(dim)
        self.tombstone = dim.deletes.mode == "tombstone"
        self.h = dim.history
        self.open = open_end(dim)
        self.index = {c.name: i for i, c in enumerate(dim.columns)}
        self.scd0 = [c for c in dim.columns if c.scd == 0]
        self.scd1 = [c for c in dim.columns if c.scd == 1]
        self.scd2 = [c for c in dim.columns if c.scd == 2]
        self.scd3 = [c for c in dim.columns if c.scd == 3]
        self.compared = self.scd1 + self.scd2 + self.scd3  # scd0 never changes, so it is never a change
        self.outcome = LoadOutcome()
        self.late_keys: list[Key] = []

    # ---- the run ------------------------------------------------------------------------------

    def run(self, batch: Sequence[Row]) -> LoadOutcome:
        before = copy.deepcopy(self.state.rows)
        self.add_new_columns()
        if not self.state.members:
            self.state.members = [self.member("0"), self.member("f")]
        chains = self.prepare(batch)
        for key in sorted(chains, key=sort_key):
            chain = sorted(chains[key], key=lambda item: item.ts)
            if self.dim.deletes.mode == "ignore":
                self.outcome.deleted_ignored += sum(item.deleted for item in chain)
                chain = [item for item in chain if not item.deleted]
            before_latest = copy.deepcopy(self.state.keys[key][-1]) if key in self.state.keys else None
            self.applied: list[dt.datetime] = []  # change timestamps of the rows applied after the as-of time
            if self.versioned:
                self.apply_versioned(key, chain)
            else:
                self.apply_non_versioned(key, chain)
            # READING (docs/semantics.md): the as-of time (dw_changed_at) moves only when the key's latest
            # row changed in this load, to the newest change timestamp applied to it.
            if key in self.state.keys and self.applied and self.state.keys[key][-1] != before_latest:
                self.state.changed_at[key] = max(self.applied)
        # An empty snapshot is almost always a failed extract: it deletes nothing (docs/semantics.md).
        if self.versioned and not self.cdc and self.dim.deletes.mode != "ignore" and chains:
            self.snapshot_deletes(present=set(chains))
        if self.late_keys and self.dim.late == "error":
            raise LoadError("late rows", self.late_keys)
        self.finish(before)
        return self.outcome

    def prepare(self, batch: Sequence[Row]) -> dict[Key, list[Item]]:
        """Reject NULL keys, collapse identical rows, resolve (key, ts) conflicts; chains per key."""
        items: list[Item] = []
        for row in batch:
            key = tuple(row.get(k.name) for k in self.dim.key)
            ts = self.L if self.dim.change.by == "compare" else change_timestamp(row.get(self.dim.change.column or ""))
            # READING: a NULL change timestamp cannot be ordered; it is rejected like a NULL key.
            if any(v is None for v in key) or ts is None:
                self.outcome.rejected += 1
                continue
            values = tuple(row.get(c.name) for c in self.dim.columns)
            deleted = bool(self.is_delete(row)) if self.is_delete is not None else False
            items.append(Item(key, ts, values, deleted))
        distinct = list(dict.fromkeys(items))  # identical rows collapse into one
        self.outcome.duplicates = len(items) - len(distinct)
        by_key_ts: dict[tuple[Key, dt.datetime], list[Item]] = {}
        for item in distinct:
            by_key_ts.setdefault((item.key, item.ts), []).append(item)
        conflicting = [k for (k, _), group in by_key_ts.items() if len(group) > 1]
        if conflicting and self.dim.duplicates == "error":
            raise LoadError("different rows with the same key and change timestamp", conflicting)
        chains: dict[Key, list[Item]] = {}
        for (key, _), group in by_key_ts.items():
            chains.setdefault(key, []).append(min(group, key=self.pick_order))
            self.outcome.conflicts += len(group) - 1
        return chains

    def pick_order(self, item: Item) -> tuple[str, bool]:
        """`duplicates pick`: the smallest row hash of the tracked values in declaration order.

        READING: two rows differing only in the delete flag have the same row hash; the delete wins.
        """
        row_hash = hashing.key_hash(item.values, [c.type for c in self.dim.columns], self.settings.hash)
        return (row_hash, not item.deleted)

    # ---- versioned dimensions -----------------------------------------------------------------

    def apply_versioned(self, key: Key, chain: list[Item]) -> None:
        i = 0
        while i < len(chain):
            item = chain[i]
            versions = self.state.keys.get(key)
            if not versions:
                if not item.deleted:  # a delete of a key never loaded changes nothing
                    self.state.keys[key] = [self.new_row(key, item, item.ts, base=None)]
                    self.state.changed_at[key] = item.ts
                    self.applied.append(item.ts)
                i += 1
            elif self.live(versions[-1]):
                if item.deleted:
                    self.delete_live(key, item)
                else:
                    self.apply_live(key, item)
                i += 1
            elif item.deleted:
                i += 1  # "a delete of a key that is already closed or deleted changes nothing"
            else:
                i += self.reappear(key, chain, i)

    def apply_live(self, key: Key, item: Item) -> None:
        versions = self.state.keys[key]
        latest = versions[-1]
        vf = self.h.valid_from
        asof = self.state.changed_at.get(key, latest[vf])
        # Older than the as-of time: already applied, superseded, or late (never a stale value back).
        newer = item.ts > asof or (item.ts == asof and not self.differs(latest, item, self.scd2))
        if newer and item.ts <= latest[vf]:
            # At the start of the latest version, or before it (a version reopened at L after a
            # deletion starts later than its data): the row's values go into that version in place.
            self.applied.append(item.ts)
            if self.differs(latest, item, self.scd2):
                for c in self.scd2:
                    latest[c.name] = self.value(item, c)
            if self.differs(latest, item, self.scd1 + self.scd3):
                self.update_in_place(versions, item)
            self.fill_unknown(versions, item)
        elif newer:
            self.applied.append(item.ts)
            if self.differs(latest, item, self.scd2):
                self.close(latest, item.ts)
                versions.append(self.new_row(key, item, item.ts, base=latest))
                self.write_scd1(versions, item)
            elif self.differs(latest, item, self.scd1 + self.scd3):
                self.update_in_place(versions, item)
            self.fill_unknown(versions, item)
        elif self.covered(versions, item) or not self.differs(latest, item, self.compared):
            # Already loaded (a rerun), or older but changing nothing. READING: a row equal to the
            # latest version is not late even when older: it is how a rerun of a reappearance reads.
            if item.ts == latest[vf]:
                self.fill_unknown(versions, item)
        else:
            self.mark_late(key)

    def delete_live(self, key: Key, item: Item) -> None:
        """CDC delete of a live key: close at ts(row); tombstone also inserts the deleted copy."""
        versions = self.state.keys[key]
        latest = versions[-1]
        if item.ts > self.state.changed_at.get(key, latest[self.h.valid_from]):
            self.applied.append(item.ts)
            self.close(latest, item.ts)
            if self.tombstone:
                versions.append(self.tombstone_row(key, latest, item.ts))
        elif self.live_version_at(versions, item.ts) is not None:
            # READING: a delete inside a live version older than the latest is late like any row
            # (closing a version before its own start is impossible).
            self.mark_late(key)
        # Otherwise the key was not live at ts (before its history, in a delete gap, under a
        # tombstone): the delete is already reflected, e.g. by a rerun. Nothing to do.

    def reappear(self, key: Key, chain: list[Item], i: int) -> int:
        """A row for a key whose latest version is closed or a tombstone. Returns rows consumed."""
        versions = self.state.keys[key]
        latest = versions[-1]
        item = chain[i]
        deleted_at = latest[self.h.valid_from] if latest.get("is_deleted") else latest[self.h.valid_to]
        last_live = next(v for v in reversed(versions) if not v.get("is_deleted"))
        assert isinstance(deleted_at, dt.datetime)
        if self.cdc:
            # READING: in CDC order a row at or before the delete predates it: reopening from it would
            # resurrect a deleted key (the dbt `new_record` complaint). It is late unless already loaded.
            if item.ts <= deleted_at:
                if not self.covered(versions, item):
                    self.mark_late(key)
                return 1
            reopen_at = item.ts
        else:
            if item.ts < last_live[self.h.valid_from]:
                if not self.covered(versions, item):
                    self.mark_late(key)
                return 1
            stale = item.ts <= deleted_at if self.tombstone else item.ts < deleted_at
            if stale and any(it.ts > deleted_at and not it.deleted for it in chain[i + 1 :]):
                return 1  # a row newer than the deletion follows: it tells more, this one is superseded
            # A row not newer than the deletion only tells that the key is back by now: it reopens at L
            # (docs/semantics.md). For a tombstone, its own start would also reuse the tombstone's key.
            if self.tombstone:
                reopen_at = item.ts if item.ts > deleted_at else max(self.L, deleted_at)
            else:
                reopen_at = item.ts if item.ts >= deleted_at else max(self.L, deleted_at)
        # READING: the chain rows up to the reopening instant collapse into it; the newest supplies
        # the values (a snapshot row restored as it was, with its old timestamp, lands here).
        end = i + 1
        while end < len(chain) and chain[end].ts <= reopen_at and not chain[end].deleted:
            end += 1
        newest = chain[end - 1]
        self.applied.extend(it.ts for it in chain[i:end])
        if latest.get("is_deleted"):
            self.close(latest, reopen_at)
        versions.append(self.new_row(key, newest, reopen_at, base=last_live))
        self.write_scd1(versions, newest)
        self.fill_unknown(versions, newest)
        return end - i

    def snapshot_deletes(self, present: set[Key]) -> None:
        """Full snapshot: keys absent from the batch whose latest version is live are closed at L."""
        for key, versions in self.state.keys.items():
            latest = versions[-1]
            if key in present or not self.live(latest):
                continue
            at = max(self.L, latest[self.h.valid_from])  # never before the version's own start
            self.close(latest, at)
            if self.tombstone:
                versions.append(self.tombstone_row(key, latest, at))

    def covered(self, versions: list[Row], item: Item) -> bool:
        """Already loaded: the (non-deleted) version valid at ts(row) has the row's scd2 values."""
        version = self.live_version_at(versions, item.ts)
        return version is not None and not self.differs(version, item, self.scd2)

    def live_version_at(self, versions: list[Row], ts: dt.datetime) -> Row | None:
        """The non-deleted version with valid_from <= ts < valid_to, if any."""
        vf, vt = self.h.valid_from, self.h.valid_to
        for v in versions:
            if not v.get("is_deleted") and v[vf] <= ts and (v[vt] == self.open or ts < v[vt]):
                return v
        return None

    def live(self, row: Row) -> bool:
        return bool(row[self.h.is_current]) and not row.get("is_deleted", False)

    def close(self, row: Row, at: object) -> None:
        row[self.h.valid_to] = at
        row[self.h.is_current] = False

    # ---- non-versioned dimensions -------------------------------------------------------------

    def apply_non_versioned(self, key: Key, chain: list[Item]) -> None:
        stored = self.state.changed_at.get(key)  # the as-of time before this load
        row = self.state.keys[key][0] if key in self.state.keys else None
        # READING: a row older than the stored change timestamp is late only when the batch brings
        # nothing for the key at or after it; otherwise it is an intermediate state superseded in the
        # same batch (without this every rerun of a chain would report late rows, and fail on `late error`).
        reaches = (
            row is not None
            and stored is not None
            and any(it.ts > stored or (it.ts == stored and not self.differs(row, it, self.compared)) for it in chain)
        )
        for item in chain:
            if key not in self.state.keys:
                self.state.keys[key] = [self.new_row(key, item, None, base=None)]
                self.state.changed_at[key] = item.ts
                self.applied.append(item.ts)
                continue
            row = self.state.keys[key][0]
            if stored is None or item.ts > stored:
                self.applied.append(item.ts)
                if self.differs(row, item, self.compared):
                    self.update_in_place([row], item)
                self.fill_unknown([row], item)
            elif not self.differs(row, item, self.compared):
                if item.ts == stored:
                    self.fill_unknown([row], item)
            elif item.ts < stored and reaches:
                pass
            else:
                # READING: `ts` equal to the stored one with other values is late, as for versions.
                self.mark_late(key)

    # ---- rows ---------------------------------------------------------------------------------

    def new_row(self, key: Key, item: Item, valid_from: dt.datetime | None, base: Row | None) -> Row:
        """A new key (base None) or a new version of `base`: the rules of "In-place changes"."""
        nk_types = [k.type for k in self.dim.key]
        if self.versioned:
            sk = hashing.key_hash([*key, valid_from], [*nk_types, TIMESTAMP], self.settings.hash)
        else:
            sk = hashing.key_hash(list(key), nk_types, self.settings.hash)
        row: Row = {key_column(self.dim): sk}  # dimension keys are hex whatever hash_output says
        row.update(zip((k.name for k in self.dim.key), key, strict=True))
        for c in self.dim.columns:
            value = self.value(item, c)
            if c.scd == 0 and base is not None and self.knows(base, c.name):
                value = base[c.name]  # scd0 keeps the first version's value, even NULL
            row[c.name] = value
            if c.scd == 3 and c.previous is not None:
                if base is None:
                    row[c.previous] = None
                elif self.knows(base, c.name) and base[c.name] != value:
                    row[c.previous] = base[c.name]  # the scd3 column changed with this version
                else:
                    row[c.previous] = base[c.previous]
        if self.versioned:
            row[self.h.valid_from] = valid_from
            row[self.h.valid_to] = self.open
            row[self.h.is_current] = True
        if self.tombstone:
            row["is_deleted"] = False
        row["dw_loaded_at"] = self.L
        row["dw_updated_at"] = None
        return row

    def tombstone_row(self, key: Key, closed: Row, at: dt.datetime) -> Row:
        """A copy of the closed version flagged deleted, current from `at`."""
        sk = hashing.key_hash([*key, at], [*(k.type for k in self.dim.key), TIMESTAMP], self.settings.hash)
        row = dict(closed)
        row[key_column(self.dim)] = sk
        row[self.h.valid_from] = at
        row[self.h.valid_to] = self.open
        row[self.h.is_current] = True
        row["is_deleted"] = True
        row["dw_loaded_at"] = self.L
        row["dw_updated_at"] = None
        return row

    def member(self, digit: str) -> Row:
        """The unknown ("0") or error ("f") member: natural key and attributes NULL."""
        row: Row = dict.fromkeys(physical_columns(self.dim))
        row[key_column(self.dim)] = digit * hashing.hex_length(self.settings.hash)
        if self.versioned:
            row[self.h.valid_from] = MEMBER_VALID_FROM
            row[self.h.valid_to] = self.open
            row[self.h.is_current] = True
        if self.tombstone:
            row["is_deleted"] = False  # READING: the doc does not say; a member is not deleted
        row["dw_loaded_at"] = self.L
        return row

    def update_in_place(self, versions: list[Row], item: Item) -> None:
        """scd3 on the latest version (READING: scd1_scope is about scd1 only), scd1 by its scope."""
        latest = versions[-1]
        for c in self.scd3:
            value = self.value(item, c)
            if self.knows(latest, c.name) and latest[c.name] != value:
                if c.previous is not None:
                    latest[c.previous] = latest[c.name]
                latest[c.name] = value
        self.write_scd1(versions, item)

    def write_scd1(self, versions: list[Row], item: Item) -> None:
        targets = versions if self.h.scd1_scope == "all" else versions[-1:]
        for row in targets:
            for c in self.scd1:
                row[c.name] = self.value(item, c)

    def fill_unknown(self, versions: list[Row], item: Item) -> None:
        """A column added to the model: the first incoming value goes into every version not knowing it."""
        for row in versions:
            for c in self.dim.columns:
                if not self.knows(row, c.name):
                    row[c.name] = self.value(item, c)

    def add_new_columns(self) -> None:
        """Columns new to the model join now (modelc_columns); existing rows get NULL there."""
        names = [c.name for c in self.dim.columns] + [c.previous for c in self.scd3 if c.previous]
        for name in names:
            if name not in self.state.column_added:
                self.state.column_added[name] = self.L
                for row in self.state.rows:
                    row.setdefault(name, None)

    def knows(self, row: Row, name: str) -> bool:
        """False for a NULL in a version loaded before its column joined the model: "not known yet"."""
        if row.get(name) is not None:
            return True
        loaded = row["dw_loaded_at"]
        assert isinstance(loaded, dt.datetime)
        return loaded >= self.state.column_added[name]

    def differs(self, row: Row, item: Item, columns: Sequence[ir.DimensionColumn]) -> bool:
        """Null-safe inequality on `columns`; a column the row does not know yet never differs."""
        return any(self.knows(row, c.name) and row[c.name] != self.value(item, c) for c in columns)

    def value(self, item: Item, column: ir.DimensionColumn) -> object:
        return item.values[self.index[column.name]]

    def mark_late(self, key: Key) -> None:
        self.outcome.late += 1
        self.late_keys.append(key)

    # ---- bookkeeping --------------------------------------------------------------------------

    def finish(self, before: list[Row]) -> None:
        """Net effects: dw_updated_at on changed pre-existing rows, and the counts."""
        kc = key_column(self.dim)
        cols = physical_columns(self.dim)
        attributes = [c for c in cols if c in self.index or c in {p.previous for p in self.scd3}]
        old_by_key = {r[kc]: r for r in before}
        after = self.state.rows
        if len({r[kc] for r in after}) != len(after):
            raise AssertionError(f"surrogate key collision in {self.dim.name}: two versions share a valid_from")
        members = {m[kc] for m in self.state.members}
        for row in after:
            old = old_by_key.get(row[kc])
            if old is None:
                if row[kc] not in members:
                    self.outcome.inserted += 1
                    if self.versioned and not row[self.h.is_current]:
                        self.outcome.closed += 1
                continue
            if any(row.get(c) != old.get(c) for c in cols if c != "dw_updated_at"):
                row["dw_updated_at"] = self.L  # READING: closing a version is an in-place change too
            if any(row.get(c) != old.get(c) for c in attributes):
                self.outcome.updated += 1
            if self.versioned and old[self.h.is_current] and not row[self.h.is_current]:
                self.outcome.closed += 1
