"""Reference data vault loads (hub, link, standard, ordered and multi-active satellite), in plain Python.

The semantics `src/modelc/loads/vault.py` implements, written the obvious way: tables are lists of dicts,
every load inserts only, and hash keys come from the hashing reference. A batch is a list of source rows
(dicts keyed by source column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from modelc import ir
from reference import hashing

GHOST_TS = dt.datetime(1900, 1, 1)
SYSTEM = "SYSTEM"


class LoadError(Exception):
    """The batch cannot be loaded (the load must fail and change nothing)."""


def zero_key(algorithm: ir.HashAlgorithm) -> str:
    return hashing.unknown_key_hex(algorithm)


def error_key(algorithm: ir.HashAlgorithm) -> str:
    return hashing.error_key_hex(algorithm)


def hub_system_rows(table: list[dict], hk: str, keys: Sequence[str], algorithm: ir.HashAlgorithm) -> None:
    """The zero and error members: no business key, load_ts 1900-01-01, record source SYSTEM."""
    for key in (zero_key(algorithm), error_key(algorithm)):
        if not any(r[hk] == key for r in table):
            table.append({hk: key, **dict.fromkeys(keys), "load_ts": GHOST_TS, "record_source": SYSTEM})


def ghost_row(table: list[dict], row: dict) -> None:
    """The satellite's ghost row (under the zero key), once."""
    if not any(r["load_ts"] == GHOST_TS for r in table):
        table.append({**row, "load_ts": GHOST_TS, "record_source": SYSTEM})


def hub_key(values: Sequence[object], types: Sequence[ir.Type], algorithm: ir.HashAlgorithm) -> str:
    return hashing.business_key_hash(list(values), list(types), algorithm)


def load_hub(
    table: list[dict],
    hk: str,
    keys: Sequence[str],
    types: Sequence[ir.Type],
    sources: Sequence[tuple[list[dict], Sequence[str], str]],  # (rows, columns in key order, record source)
    load_ts: dt.datetime,
    algorithm: ir.HashAlgorithm,
) -> None:
    """Earliest load wins; in one batch the smallest (record source, source position, key as delivered)."""
    stored = {r[hk] for r in table}
    best: dict[str, tuple] = {}
    for position, (rows, cols, record_source) in enumerate(sources):
        for row in rows:
            values = [row[c] for c in cols]
            if all(v is None for v in values):
                continue  # the zero key is no business key
            key = hub_key(values, types, algorithm)
            rank = (record_source, position, *values)
            if key not in best or rank < best[key]:
                best[key] = rank
    for key, (record_source, _, *values) in best.items():
        if key not in stored:
            table.append(
                {hk: key, **dict(zip(keys, values, strict=True)), "load_ts": load_ts, "record_source": record_source}
            )


def link_key(
    hub_values: Sequence[tuple[Sequence[object], Sequence[ir.Type]]], child: Sequence[tuple[object, ir.Type]], algorithm
) -> str:
    values: list[object] = []
    types: list[ir.Type] = []
    for vals, tys in hub_values:
        values += [hashing.normalize_business_key(v, t) for v, t in zip(vals, tys, strict=True)]
        types += tys
    values += [v for v, _ in child]
    types += [t for _, t in child]
    return hashing.key_hash(values, types, algorithm)


def load_link(table: list[dict], hk: str, rows: list[dict], make_row, load_ts: dt.datetime, record_source: str) -> None:
    """`make_row(source_row)` gives the link row without metadata; one row per link key, inserted once."""
    stored = {r[hk] for r in table}
    new: dict[str, dict] = {}
    for row in rows:
        built = make_row(row)
        new.setdefault(built[hk], built)
    for key, built in new.items():
        if key not in stored:
            table.append({**built, "load_ts": load_ts, "record_source": record_source})


def load_satellite(
    table: list[dict],
    hk: str,
    sub: Sequence[str],
    rows: list[dict],  # already with hk, hash_diff, sub-sequence and payload columns
    load_ts: dt.datetime,
    record_source: str,
) -> None:
    """Insert a key's batch rows when they differ from its latest stored rows (for multi-active: the set).
    Rows must not carry the zero key (the caller rejects them)."""
    batch: dict[object, set[tuple]] = {}
    images: dict[tuple, dict] = {}
    for row in rows:
        image = tuple(sorted(row.items()))
        ident = (row[hk], *[row[c] for c in sub])
        if ident in images and images[ident] != row:
            raise LoadError(f"different rows for one key in one batch: {ident}")
        images[ident] = row
        batch.setdefault(row[hk], set()).add(image)
    for key, current in batch.items():
        mine = [r for r in table if r[hk] == key]
        latest_ts = max((r["load_ts"] for r in mine), default=None)
        latest = {(tuple(r[c] for c in sub), r["hash_diff"]) for r in mine if r["load_ts"] == latest_ts}
        wanted = {(tuple(dict(i)[c] for c in sub), dict(i)["hash_diff"]) for i in current}
        if wanted != latest:
            for image in sorted(current):
                table.append({**dict(image), "load_ts": load_ts, "record_source": record_source})


def load_ordered_satellite(
    table: list[dict],
    hk: str,
    changed: str,
    rows: list[dict],  # with hk, hash_diff, the change column and payload; no zero keys, no NULL change times
    load_ts: dt.datetime,
    record_source: str,
    late: str,
) -> int:
    """Several states of a key per batch, applied in change order; returns the number of late rows.

    A row newer than the key's latest stored row (greatest load_ts) is a delta, stored when its hashdiff
    differs from the state before it; the deltas of a key get load_ts + 0, 1, 2... microseconds. An
    older row agreeing with the stored row in effect at its change time is known; otherwise late."""
    distinct = {tuple(sorted(r.items())) for r in rows}
    by_time: dict[tuple, dict] = {}
    for image in distinct:
        r = dict(image)
        ident = (r[hk], r[changed])
        if ident in by_time:
            raise LoadError(f"different rows for one key and change time in one batch: {ident}")
        by_time[ident] = r
    late_rows = 0
    inserts = []
    for key in {k for k, _ in by_time}:
        stored = sorted((r for r in table if r[hk] == key), key=lambda r: r["load_ts"])
        latest = stored[-1] if stored else None
        mine = sorted((r for (k, _), r in by_time.items() if k == key), key=lambda r: r[changed])
        previous = latest["hash_diff"] if latest else None
        seq = 0
        for r in mine:
            if latest is None or r[changed] > latest[changed]:
                if r["hash_diff"] != previous:
                    inserts.append({**r, "load_ts": load_ts + dt.timedelta(microseconds=seq),
                                    "record_source": record_source})  # fmt: skip
                    seq += 1
                    previous = r["hash_diff"]
            else:
                in_effect = [s for s in stored if s[changed] <= r[changed]]
                if not in_effect or in_effect[-1]["hash_diff"] != r["hash_diff"]:
                    late_rows += 1
    if late_rows and late == "error":
        raise LoadError("late rows")
    table.extend(inserts)
    return late_rows
