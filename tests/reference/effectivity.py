"""Reference effectivity and record-tracking satellite loads, in plain Python (docs/semantics.md,
"Effectivity and record-tracking satellites"), written from the rules, not from the SQL.

A satellite table is a list of dicts with the columns of the table (`hk` is the parent hash key column's
name). The caller computes keys with the hashing reference: a batch is a list of (link key, driving key)
pairs for an effectivity satellite and a list of parent keys for a tracking satellite, None standing for
the zero key (every key column NULL). Each load returns its counters; a batch that cannot be loaded
raises `LoadError` and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

GHOST_TS = dt.datetime(1900, 1, 1)
SYSTEM = "SYSTEM"


class LoadError(Exception):
    """The batch cannot be loaded (the load must fail and change nothing)."""


def ghost_row(table: list[dict], hk: str, zero: str, effectivity: bool) -> None:
    """The ghost row under the zero key, once: load_ts 1900-01-01, record source SYSTEM; an effectivity
    satellite's ghost starts at 1900-01-01, never ends (end_ts NULL) and is inactive."""
    if any(r[hk] == zero for r in table):
        return
    row: dict = {hk: zero, "load_ts": GHOST_TS}
    if effectivity:
        row |= {"start_ts": GHOST_TS, "end_ts": None, "is_active": False}
    table.append(row | {"record_source": SYSTEM})


def _latest(table: list[dict], hk: str, key: str) -> dict | None:
    """A key's current state: its row with the greatest load_ts (None when it has no row)."""
    return max((r for r in table if r[hk] == key), key=lambda r: r["load_ts"], default=None)


class Effectivity:
    """An effectivity satellite on a link, with the driving key of every link key ever seen (the parent
    link holds it: a link key determines its driving key)."""

    def __init__(self, hk: str, zero: str, record_source: str):
        self.hk, self.zero, self.record_source = hk, zero, record_source
        self.table: list[dict] = []
        self.driving: dict[str, str] = {}  # link key -> driving key, as in the parent link

    def see(self, pairs: Sequence[tuple[str, str | None]]) -> None:
        """The parent link loads the batch first (whether or not the satellite load succeeds)."""
        for link_key, driving_key in pairs:
            if driving_key is not None:
                self.driving[link_key] = driving_key

    def load(self, pairs: Sequence[tuple[str, str | None]], load_ts: dt.datetime, ghost: bool = True) -> dict:
        rejected = sum(1 for _, d in pairs if d is None)
        batch: dict[str, set[str]] = {}  # driving key -> its link keys in this batch
        for link_key, driving_key in pairs:
            if driving_key is not None:
                batch.setdefault(driving_key, set()).add(link_key)
        if any(len(links) > 1 for links in batch.values()):
            raise LoadError("several relationships for one driving key in one batch")
        hk, before = self.hk, list(self.table)
        new_link = {d: next(iter(links)) for d, links in batch.items()}
        opened = []
        for key in sorted(new_link.values()):
            latest = _latest(before, hk, key)
            if latest is None or not latest["is_active"]:
                opened.append(key)
        closed = []
        for key in sorted({r[hk] for r in before}):
            latest = _latest(before, hk, key)
            d = self.driving.get(key)
            if latest["is_active"] and d in new_link and new_link[d] != key:
                closed.append(latest)
        if ghost:
            ghost_row(self.table, hk, self.zero, effectivity=True)
        for latest in closed:
            self.table.append(
                {hk: latest[hk], "load_ts": load_ts, "start_ts": latest["start_ts"], "end_ts": load_ts,
                 "is_active": False, "record_source": self.record_source}
            )  # fmt: skip
        for key in opened:
            self.table.append(
                {hk: key, "load_ts": load_ts, "start_ts": load_ts, "end_ts": None,
                 "is_active": True, "record_source": self.record_source}
            )  # fmt: skip
        return {"inserted": len(opened), "closed": len(closed), "rejected": rejected}


class Tracking:
    """A record-tracking satellite: the loads in which each parent key appeared."""

    def __init__(self, hk: str, zero: str, record_source: str):
        self.hk, self.zero, self.record_source = hk, zero, record_source
        self.table: list[dict] = []

    def load(self, keys: Sequence[str | None], load_ts: dt.datetime, ghost: bool = True) -> dict:
        rejected = sum(1 for k in keys if k is None)
        stored = {(r[self.hk], r["load_ts"]) for r in self.table}
        new = sorted({k for k in keys if k is not None and (k, load_ts) not in stored})
        if ghost:
            ghost_row(self.table, self.hk, self.zero, effectivity=False)
        for key in new:
            self.table.append({self.hk: key, "load_ts": load_ts, "record_source": self.record_source})
        return {"inserted": len(new), "rejected": rejected}
