"""Reference PIT and bridge loads (docs/semantics.md, "PIT tables and bridges"), in plain Python.

Written from the semantics, the obvious way: the vault tables are lists of dicts (a hub row has its hash key
and `load_ts`; a satellite row its parent key and `load_ts`; a link row its key, its role columns and
`load_ts`; an effectivity row its link key, `load_ts` and `is_active`), a snapshot is computed by looping
over them, and a load keeps the final snapshots and computes the others.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from modelc import ir

GHOST_TS = dt.datetime(1900, 1, 1)
MAX_STEPS = 99_999
Row = dict[str, object]


class SpineTooLongError(Exception):
    """The load's check fails: the spine has more steps than the generator makes."""


def add_months(d: dt.date, n: int) -> dt.date:
    """`d` plus `n` months, clamped to the end of the month (Jan 31 + 1 month = Feb 29 in a leap year)."""
    month0 = d.month - 1 + n
    year, month = d.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def spine_dates(spine: ir.Spine, first_hub_load: dt.date | None, load_date: dt.date) -> list[dt.date]:
    """Every spine date up to the load date. An open start is the first hub load's date, moved back to its
    week's Monday or its month's first day; the end is the spine's end or the load date, the earlier."""
    if spine.start is not None:
        start = spine.start
    elif first_hub_load is None:
        return []
    elif spine.every == "week":
        start = first_hub_load - dt.timedelta(days=first_hub_load.weekday())
    elif spine.every == "month":
        start = first_hub_load.replace(day=1)
    else:
        start = first_hub_load
    end = min(spine.end, load_date) if spine.end is not None else load_date
    if spine.every == "day":
        steps = (end - start).days
    elif spine.every == "week":
        steps = (end - start).days // 7
    else:
        steps = (end.year - start.year) * 12 + end.month - start.month
    if steps > MAX_STEPS:
        raise SpineTooLongError(steps)
    out = []
    for n in range(max(steps + 1, 0)):
        if spine.every == "day":
            d = start + dt.timedelta(days=n)
        elif spine.every == "week":
            d = start + dt.timedelta(days=7 * n)
        else:
            d = add_months(start, n)
        if d <= end:
            out.append(d)
    return out


def end_of(d: dt.date) -> dt.datetime:
    """Snapshot date `d` holds the rows loaded before this instant."""
    return dt.datetime.combine(d + dt.timedelta(days=1), dt.time())


@dataclass
class Keys:
    zero: object
    error: object

    def business(self, hk: object) -> bool:
        return hk not in (self.zero, self.error)


def first_load(hub: list[Row], hk: str, keys: Keys) -> dt.date | None:
    dates = [r["load_ts"].date() for r in hub if keys.business(r[hk])]
    return min(dates) if dates else None


def pit_snapshot(
    d: dt.date, hub: list[Row], hk: str, satellites: Sequence[tuple[str, list[Row]]], keys: Keys, ghost: bool
) -> list[Row]:
    """One row per business key loaded before the end of `d`; per satellite, its latest row then (or the
    ghost row, or NULLs without ghost records)."""
    end = end_of(d)
    out = []
    for h in hub:
        if not keys.business(h[hk]) or h["load_ts"] >= end:
            continue
        row: Row = {hk: h[hk], "snapshot_date": d}
        for name, rows in satellites:
            latest = max((r["load_ts"] for r in rows if r[hk] == h[hk] and r["load_ts"] < end), default=None)
            if latest is not None:
                row[name + "_hk"], row[name + "_load_ts"] = h[hk], latest
            elif ghost:
                row[name + "_hk"], row[name + "_load_ts"] = keys.zero, GHOST_TS
            else:
                row[name + "_hk"], row[name + "_load_ts"] = None, None
        out.append(row)
    return out


@dataclass
class BridgeLink:
    name: str  # the link: its key column is `<name>_hk`
    roles: list[tuple[str, str]]  # (role, hub) in declaration order: columns `<role>_hk`
    rows: list[Row]
    effectivity: list[list[Row]] = field(default_factory=list)  # rows of each effectivity satellite


def bridge_walk(hub: str, links: Sequence[BridgeLink]) -> tuple[str, list[tuple[str, int, str]]]:
    """The documented walk: the bridge's hub key is the first link's first role on the hub; every next link
    joins the first partner, trying the hub itself, then the earlier links in order, and with each partner
    the link's roles in declaration order; in a partner link, its first role on the hub concerned."""
    root = next(role for role, h in links[0].roles if h == hub)
    joins = []
    for i, link in enumerate(links[1:], 1):
        found = None
        for j in [None, *range(i)]:
            for role, h in link.roles:
                if j is None and h == hub:
                    found = (role, 0, root)
                elif j is not None:
                    other = next((r for r, ph in links[j].roles if ph == h), None)
                    if other is not None:
                        found = (role, j, other)
                if found:
                    break
            if found:
                break
        assert found is not None
        joins.append(found)
    return root, joins


def bridge_snapshot(d: dt.date, hub: str, links: Sequence[BridgeLink], keys: Keys) -> list[Row]:
    end = end_of(d)

    def ended(link: BridgeLink, row: Row) -> bool:
        for eff in link.effectivity:
            mine = [e for e in eff if e[link.name + "_hk"] == row[link.name + "_hk"] and e["load_ts"] < end]
            if mine and not max(mine, key=lambda e: e["load_ts"])["is_active"]:
                return True
        return False

    active = [[r for r in link.rows if r["load_ts"] < end and not ended(link, r)] for link in links]
    root, joins = bridge_walk(hub, links)
    paths = [[r] for r in active[0] if keys.business(r[root + "_hk"])]
    for i, (role, j, other) in enumerate(joins, 1):
        paths = [
            [*p, r]
            for p in paths
            for r in active[i]
            if keys.business(r[role + "_hk"]) and r[role + "_hk"] == p[j][other + "_hk"]
        ]
    out = []
    for p in paths:
        row: Row = {hub + "_hk": p[0][root + "_hk"], "snapshot_date": d}
        row.update({link.name + "_hk": r[link.name + "_hk"] for link, r in zip(links, p, strict=True)})
        out.append(row)
    return out


def load(
    table: list[Row],
    spine: ir.Spine,
    load_ts: dt.datetime,
    first_hub_load: dt.date | None,
    snapshot: Callable[[dt.date], list[Row]],
    key: Sequence[str],
) -> dict[str, int]:
    """One incremental load: snapshots of the load date or later, the latest one before it, and the ones
    outside the spine's fixed bounds are replaced; every spine date without a row left is computed. The
    counters compare the new rows with the replaced ones by key (`updated`: same key, other values; the
    bridge's key is the whole row)."""
    load_date = load_ts.date()
    last = max((r["snapshot_date"] for r in table if r["snapshot_date"] < load_date), default=None)

    def replaced(r: Row) -> bool:
        d = r["snapshot_date"]
        return (
            d >= load_date
            or d == last
            or (spine.start is not None and d < spine.start)
            or (spine.end is not None and d > spine.end)
        )

    dates = spine_dates(spine, first_hub_load, load_date)  # raises before anything changes
    kept = [r for r in table if not replaced(r)]
    old = [r for r in table if replaced(r)]
    present = {r["snapshot_date"] for r in kept}
    new = [row for d in dates if d not in present for row in snapshot(d)]
    table[:] = kept + new

    def by_key(rows: list[Row]) -> dict[tuple, Row]:
        return {tuple(r[c] for c in key): r for r in rows}

    before, after = by_key(old), by_key(new)
    return {
        "inserted": sum(1 for k in after if k not in before),
        "updated": sum(1 for k, r in after.items() if k in before and before[k] != r),
        "deleted": sum(1 for k in before if k not in after),
    }
