"""Hypothesis strategies: dimension definitions over one small source, and batch sequences for them.

Built for the property test that loads one sequence with the generated SQL (DuckDB) and with the
reference model (`reference.dimension.load`) and compares the tables:

    dim = data.draw(dimensions()); settings = data.draw(settings_())
    text = to_dm_text(dim, SOURCE_NAME, settings)      # compile this with modelc
    state = DimensionState()
    for step in data.draw(batch_sequences(dim)):
        try:
            load(dim, settings, state, step.rows, step.load_ts, is_delete=delete_predicate(dim))
        except LoadError:
            ...                                          # the SQL load must fail too, and change nothing
        assert sql_rows(...) == canonical_rows(dim, state)

The source is `src.items(id int, a string, b int, c string, d decimal(10,2), updated_at timestamp,
op string)`; the key is `id`, the CDC delete condition `op = 'D'`. Values come from small pools so
that keys, values and change timestamps collide, and the sequences are driven by a simulated source
(inserts, changes, NULL flips, deletes, restores) plus deliberate noise: exact duplicates, several
versions of a key in one batch, re-sent old rows (late), conflicting rows at one timestamp, NULL keys
and reruns of the previous batch (same or later load timestamp). Every row's change timestamp is
before its batch's load timestamp (source clocks behind the loader), and load timestamps strictly
increase except for reruns with the same timestamp.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import NamedTuple

from hypothesis import strategies as st
from reference.dimension import DeletePredicate, Row, canonical_rows, is_versioned, physical_columns

from modelc import ir

__all__ = [
    "BASE",
    "CDC_CONDITION",
    "SOURCE",
    "SOURCE_NAME",
    "BatchLoad",
    "batch_sequences",
    "canonical_rows",
    "delete_predicate",
    "dimensions",
    "physical_columns",
    "settings_",
    "to_dm_text",
]

BASE = dt.datetime(2024, 1, 1)
SOURCE_NAME = "src.items"
CDC_CONDITION = "op = 'D'"
KEYS = (1, 2, 3, 4)
TRACKABLE = ("a", "b", "c", "d")
TYPES = {
    "id": ir.Type("int"),
    "a": ir.Type("string"),
    "b": ir.Type("int"),
    "c": ir.Type("string"),
    "d": ir.Type("decimal", precision=10, scale=2),
    "updated_at": ir.Type("timestamp"),
    "op": ir.Type("string"),
}
SOURCE = ir.Source(SOURCE_NAME, "src", "items", tuple(ir.Column(n, t) for n, t in TYPES.items()))

# None appears in every pool, so value -> NULL -> value flips happen without being asked for.
STRINGS = (None, "", "x", "y", " x ", "é", "日本", "a|b", "|", "\\", "\\N", "x\\|y")
INTS = (None, 0, 1, -1, 7)
DECIMALS = (None, Decimal("0.00"), Decimal("-0.00"), Decimal("1.50"), Decimal("-2.25"), Decimal("12345678.99"))
POOLS = {"a": STRINGS, "b": INTS, "c": STRINGS, "d": DECIMALS}


class BatchLoad(NamedTuple):
    rows: list[Row]
    load_ts: dt.datetime


# ---- definitions --------------------------------------------------------------------------------


@st.composite
def dimensions(draw: st.DrawFn, name: str = "item") -> ir.Dimension:
    """A dimension over `src.items`: any mix of scd0-3 columns in any order, every option varied."""
    kinds = {c: draw(st.sampled_from((None, 0, 1, 2, 3))) for c in TRACKABLE}
    if all(k is None for k in kinds.values()):
        kinds["a"] = draw(st.sampled_from((1, 2)))
    order = draw(st.permutations([c for c in TRACKABLE if kinds[c] is not None]))
    columns = tuple(
        ir.DimensionColumn(c, TYPES[c], kinds[c], previous=f"{c}_prev" if kinds[c] == 3 else None)  # type: ignore[arg-type]
        for c in order
    )
    by_timestamp = draw(st.booleans())
    change = ir.ChangeDetection("timestamp", "updated_at") if by_timestamp else ir.ChangeDetection("compare")
    mode = draw(st.sampled_from(("ignore", "invalidate", "tombstone")))
    deletes = ir.DeletePolicy(mode, CDC_CONDITION if draw(st.booleans()) else None)
    renamed = draw(st.booleans())
    history = ir.History(
        valid_from="start_at" if renamed else "valid_from",
        valid_to="end_at" if renamed else "valid_to",
        is_current="is_live" if renamed else "is_current",
        open_end=draw(st.sampled_from((None, dt.date(9999, 12, 31)))),
        scd1_scope=draw(st.sampled_from(("all", "current"))),
    )
    dim = ir.Dimension(
        name,
        SOURCE_NAME,
        key=(ir.Column("id", TYPES["id"]),),
        columns=columns,
        change=change,
        deletes=deletes,
        duplicates=draw(st.sampled_from(("error", "pick"))),
        late=draw(st.sampled_from(("ignore", "error"))),
        history=history,
    )
    # History options mean nothing without versions; keep the defaults so `to_dm_text` round-trips.
    return dim if is_versioned(dim) else replace(dim, history=ir.History())


def settings_() -> st.SearchStrategy[ir.Settings]:
    return st.builds(
        ir.Settings,
        schema=st.just("dw"),
        hash=st.sampled_from(("md5", "sha256")),
        hash_output=st.sampled_from(("hex", "binary")),
    )


def delete_predicate(dim: ir.Dimension) -> DeletePredicate | None:
    """The CDC condition `op = 'D'` as the Python predicate the reference takes (None: snapshot)."""
    if dim.deletes.where is None:
        return None
    if dim.deletes.where != CDC_CONDITION:
        raise ValueError(f"only {CDC_CONDITION!r} is known here")
    return lambda row: row.get("op") == "D"


def to_dm_text(dim: ir.Dimension, source_name: str = SOURCE_NAME, settings: ir.Settings | None = None) -> str:
    """`.dm` text declaring the source and `dim` (and the hash settings when given).

    One scd line per column keeps the declaration order of `dim.columns`.
    """
    lines: list[str] = []
    if settings is not None:
        lines += [
            "model reference_check {",
            f"  schema {settings.schema}",
            f"  hash {settings.hash}",
            f"  hash_output {settings.hash_output}",
            "}",
            "",
        ]
    lines.append(f"source {source_name} {{")
    lines += [f"  {name} {_type_text(t)}" for name, t in TYPES.items()]
    lines += ["}", "", f"dimension {dim.name} from {source_name} {{"]
    lines.append("  key " + ", ".join(k.name for k in dim.key))
    for c in dim.columns:
        alias = f" as {c.previous}" if c.scd == 3 and c.previous is not None else ""
        lines.append(f"  scd{c.scd} {c.name}{alias}")
    if dim.change.by == "timestamp":
        lines.append(f"  changed_by {dim.change.column}")
    where = f' when "{dim.deletes.where}"' if dim.deletes.where is not None else ""
    lines.append(f"  deletes {dim.deletes.mode}{where}")
    lines.append(f"  duplicates {dim.duplicates}")
    lines.append(f"  late {dim.late}")
    h = dim.history
    if is_versioned(dim):
        lines.append(f"  scd1_scope {h.scd1_scope}")
        lines.append(f"  open_end {h.open_end.isoformat() if h.open_end is not None else 'null'}")
        lines.append(f"  valid_from {h.valid_from}")
        lines.append(f"  valid_to {h.valid_to}")
        lines.append(f"  is_current {h.is_current}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _type_text(t: ir.Type) -> str:
    return f"decimal({t.precision}, {t.scale})" if t.name == "decimal" else t.name


# ---- batches ------------------------------------------------------------------------------------


@st.composite
def batch_sequences(draw: st.DrawFn, dim: ir.Dimension, max_loads: int = 6) -> list[BatchLoad]:
    """Loads for `dim`: batches from a simulated source, with noise, and reruns."""
    cdc = dim.deletes.where is not None
    source: dict[int, Row] = {}  # the source table now
    gone: dict[int, Row] = {}  # last row of each deleted key, for restores
    sent: list[Row] = []  # every row sent so far, to re-send as late rows
    loads: list[BatchLoad] = []
    day = 0
    for _ in range(draw(st.integers(1, max_loads))):
        if loads and draw(st.integers(0, 4)) == 0:
            # A rerun of the previous batch, at the same load timestamp or an hour later.
            previous = loads[-1]
            later = dt.timedelta(hours=1) if draw(st.booleans()) else dt.timedelta(0)
            loads.append(BatchLoad([dict(r) for r in previous.rows], previous.load_ts + later))
            continue
        day += 1
        window = BASE + dt.timedelta(days=day - 1)  # change timestamps fall in [window, load_ts)
        load_ts = BASE + dt.timedelta(days=day)
        events = _mutate(draw, source, gone, window)
        rows = _emit(draw, events, source, cdc)
        rows += _noise(draw, rows, sent, dim)
        rows = draw(st.permutations(rows))  # row order must not matter
        sent += rows
        loads.append(BatchLoad([dict(r) for r in rows], load_ts))
    return loads


def _mutate(draw: st.DrawFn, source: dict[int, Row], gone: dict[int, Row], window: dt.datetime) -> list[Row]:
    """Change the simulated source; return one event row per change, in change order."""
    events: list[Row] = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(KEYS))
        kind = draw(st.sampled_from(("set", "set", "flip", "delete", "restore")))
        ts = window + dt.timedelta(hours=draw(st.integers(1, 6)))
        current = source.get(key)
        if kind == "delete" and current is not None:
            del source[key]
            gone[key] = current
            # A CDC delete event carries the last values or nothing but the key.
            values = current if draw(st.booleans()) else dict.fromkeys(TRACKABLE)
            events.append({**values, "id": key, "updated_at": ts, "op": "D"})
        elif kind == "restore" and current is None and key in gone:
            # The key comes back exactly as it was: same values, same (old) change timestamp.
            source[key] = gone.pop(key)
            events.append(dict(source[key]))
        elif kind == "flip" and current is not None:
            # value -> NULL -> value, as two changes an hour apart.
            col = draw(st.sampled_from(TRACKABLE))
            old = current[col] if current[col] is not None else draw(st.sampled_from(POOLS[col][1:]))
            nulled = {**current, col: None, "updated_at": ts, "op": "U"}
            back = {**current, col: old, "updated_at": ts + dt.timedelta(hours=1), "op": "U"}
            events += [nulled, back]
            source[key] = back
        else:
            row: Row = {"id": key}
            for col in TRACKABLE:
                keep = current is not None and draw(st.integers(0, 2)) > 0
                row[col] = current[col] if keep and current is not None else draw(st.sampled_from(POOLS[col]))
            row.update(updated_at=ts, op="I" if current is None else "U")
            source[key] = row
            gone.pop(key, None)
            events.append(row)
    return events


def _emit(draw: st.DrawFn, events: list[Row], source: dict[int, Row], cdc: bool) -> list[Row]:
    """CDC: the events. Snapshot: the whole source. With `chains`, every intermediate state too."""
    chains = draw(st.booleans())
    if cdc:
        if chains:
            return [dict(e) for e in events]
        last = {e["id"]: e for e in events}  # later events of a key replace earlier ones
        return [dict(e) for e in last.values()]
    rows = [dict(r) for r in source.values()]
    if chains:
        rows += [dict(e) for e in events if e["op"] != "D" and e not in rows]
    return rows


def _noise(draw: st.DrawFn, rows: list[Row], sent: list[Row], dim: ir.Dimension) -> list[Row]:
    """Exact duplicates, re-sent old rows (as sent, or changed: late), same-timestamp conflicts, NULL keys."""
    extra: list[Row] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(("duplicate", "resend", "late", "late", "conflict", "null_key")))
        if kind in ("resend", "late") and sent:
            row = dict(draw(st.sampled_from(sent)))
            if kind == "late":  # an old change timestamp with values never sent then; versioned ones if any
                versioned = [c.name for c in dim.columns if c.scd == 2]
                col = draw(st.sampled_from(versioned or [c.name for c in dim.columns]))
                row[col] = draw(st.sampled_from(POOLS[col]))
            extra.append(row)
        elif rows:
            row = dict(draw(st.sampled_from(rows)))
            if kind == "conflict":
                col = draw(st.sampled_from(TRACKABLE))
                row[col] = draw(st.sampled_from(POOLS[col]))  # may equal the old value: then a duplicate
            elif kind == "null_key":
                row["id"] = None
            extra.append(row)
    return extra
