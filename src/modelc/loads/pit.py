"""PIT and bridge loads (docs/semantics.md, "PIT tables and bridges"): incremental snapshots per spine date.

Snapshot date D is the state at the end of day D: the vault rows with `load_ts < D + 1 day`. A load at
load time L rewrites the snapshots of dates >= date(L) (the day is not over: later loads the same day may
still change them) and the latest snapshot before date(L) (vault rows may have been loaded after it the same
day, in a run whose PIT load failed), and adds the snapshots of spine dates the table does not hold yet.
Earlier snapshots are final: later loads only add vault rows with `load_ts >= L`. Running a load again
rewrites the same rows, so it changes nothing; the counters compare the new rows with the ones they replace:

- `inserted`: rows for a key (PIT: hub key and date; bridge: the whole row) the table did not hold,
- `updated` (PIT only): rows whose satellite pointers differ from the row they replace,
- `deleted`: rows removed and not written again.

The spine is generated like the calendar's days (`loads.calendar`): a cross join of ten-row digit tables,
here five of them (at most 100,000 steps; a longer spine fails the load's check), so no generate_series.

Portability: no MERGE or UPDATE, no correlated subqueries and no outer joins (ClickHouse fills unmatched
outer-join columns with default values, not NULLs): a PIT's latest satellite rows and a bridge's ended
relationships come from UNION ALL + GROUP BY, "the latest effectivity row" is a window function, and no
NULL literal needs a type. The DELETE reads the target's own columns, constants and the target itself only:
ClickHouse runs a DELETE as a mutation, which can read neither temporary tables nor correlated subqueries.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from .. import hashing, ir, plan
from ..plan import HASH_KEY_SUFFIX, IS_ACTIVE, LOAD_TS, LOAD_TS_SUFFIX, SNAPSHOT_DATE
from . import LoadPlan, Step
from .sql import Spliced, lit, parse, q, qt
from .vault import GHOST_LOAD_TS, LOAD_TS_SQL

DIGITS = 5
MAX_STEPS = 10**DIGITS - 1  # the largest step number the generator gives (0 .. 99,999)
LOAD_DATE = f"CAST({LOAD_TS_SQL} AS DATE)"
# A known Monday: the week of a date is counted from it. 1970 or later, because ClickHouse's `Date` (what a
# DATE cast gives there) starts at 1970-01-01.
MONDAY = "CAST('1970-01-05' AS DATE)"


def _months(node: exp.Expression) -> exp.Expression:
    # `_MC_ADD_MONTHS(d, n)`: sqlglot's DateAdd by months, spelled per dialect (clamped to the month's end
    # everywhere: 2024-01-31 plus one month is 2024-02-29).
    if isinstance(node, exp.Anonymous) and node.name.upper() == "_MC_ADD_MONTHS":
        date, months = node.expressions
        return exp.DateAdd(this=date, expression=months, unit=exp.var("MONTH"))
    return node


class _Sql:
    """Templates of one plan: the hash expressions it needs (zero and error keys) and its statements."""

    def __init__(self, model: ir.Model, tag: str) -> None:
        s = model.settings
        self.model = model
        self.tag = tag
        self.h = Spliced()
        self.zero = self.h.add(hashing.special_key_expression("zero", s.hash, s.hash_output))
        self.error = self.h.add(hashing.special_key_expression("error", s.hash, s.hash_output))
        self.temps: list[str] = []

    def parse(self, sql: str) -> exp.Expression:
        expression = self.h.parse(sql)  # a new tree: rewritten in place
        return expression.transform(_months, copy=False) if "_MC_ADD_MONTHS" in sql.upper() else expression

    def temp(self, suffix: str) -> str:
        name = q(f"{self.tag}_{suffix}")
        self.temps.append(name)
        return name

    def business(self, column: str) -> str:
        """The key is a business key: neither the zero nor the error key (the system rows of a hub)."""
        return f"{column} <> {self.zero} AND {column} <> {self.error}"

    def step(self, kind, sql: str, purpose: str, message: str | None = None) -> Step:
        return Step(kind, self.parse(sql), purpose, message)

    def cleanup(self) -> list[Step]:
        return [Step("cleanup", parse(f"DROP TABLE IF EXISTS {t}"), "drop staging") for t in self.temps]


def _date(d) -> str:
    return f"CAST({lit(d.isoformat())} AS DATE)"


def _spine_steps(
    sql: _Sql, name: str, spine: ir.Spine, hub: str, first_links: Sequence[str], target: str
) -> tuple[list[Step], str]:
    """Stage the spine bounds, check the length, stage the spine and the dates to (re)compute.

    `first_links`: tables whose earliest load date bounds the dates that can have rows (a bridge's links;
    empty for a PIT, whose bound is the hub's first business key). Returns the steps and the dates table:
    `_mc_d` (the snapshot date) and `_mc_next` (its end: midnight of the next day, a timestamp).
    """
    s = sql.model.settings
    hub_first = (
        f"(SELECT MIN(CAST(t.{q(LOAD_TS)} AS DATE)) FROM {qt(s.schema, hub)} AS t "
        f"WHERE {sql.business('t.' + q(hub + HASH_KEY_SUFFIX))})"
    )
    if first_links:
        mins = " UNION ALL ".join(
            f"SELECT MIN(CAST(t.{q(LOAD_TS)} AS DATE)) AS _mc_f FROM {qt(s.schema, link)} AS t" for link in first_links
        )
        first = f"(SELECT MAX(m._mc_f) FROM ({mins}) AS m)"
    else:
        first = "f._mc_h"
    if spine.start is not None:
        start = _date(spine.start)
    elif spine.every == "week":  # back to the Monday of the first load's week
        start = f"_MC_ADD_DAYS(f._mc_h, -((((DATE_DIFF('day', {MONDAY}, f._mc_h) % 7) + 7) % 7)))"
    elif spine.every == "month":  # back to the first day of the first load's month
        start = "_MC_ADD_DAYS(f._mc_h, 1 - CAST(DAY(f._mc_h) AS INT))"
    else:
        start = "f._mc_h"
    end = LOAD_DATE
    if spine.end is not None:
        end = f"CASE WHEN {_date(spine.end)} < {LOAD_DATE} THEN {_date(spine.end)} ELSE {LOAD_DATE} END"
    if spine.every == "day":
        steps = "DATE_DIFF('day', c._mc_start, c._mc_end)"
    elif spine.every == "week":
        steps = "CAST(FLOOR(DATE_DIFF('day', c._mc_start, c._mc_end) / 7) AS INT)"
    else:
        steps = (
            "(CAST(YEAR(c._mc_end) AS INT) - CAST(YEAR(c._mc_start) AS INT)) * 12 "
            "+ CAST(MONTH(c._mc_end) AS INT) - CAST(MONTH(c._mc_start) AS INT)"
        )
    bounds, spine_t, dates = sql.temp("bounds"), sql.temp("spine"), sql.temp("dates")
    out = [
        sql.step(
            "stage",
            f"CREATE TEMPORARY TABLE {bounds} AS SELECT c._mc_start, c._mc_end, c._mc_first, {steps} AS _mc_steps "
            f"FROM (SELECT CAST({start} AS DATE) AS _mc_start, CAST({end} AS DATE) AS _mc_end, "
            f"{first} AS _mc_first FROM (SELECT {hub_first} AS _mc_h) AS f) AS c",
            "spine bounds",
        ),
        sql.step(
            "check",
            f"SELECT b._mc_start, b._mc_end FROM {bounds} AS b WHERE b._mc_steps > {MAX_STEPS}",
            "spine length",
            f"{name}: the spine has more than {MAX_STEPS + 1:,} {spine.every}s up to the load date; "
            "give it a later `from`",
        ),
    ]
    digit_table = " UNION ALL ".join(f"SELECT {i} AS n" for i in range(10))
    joins = ", ".join(f"_mc_digits AS d{i}" for i in range(DIGITS))
    number = " + ".join(f"d{i}.n * {10**i}" for i in range(DIGITS))
    if spine.every == "day":
        date = "_MC_ADD_DAYS(b._mc_start, g._mc_n)"
    elif spine.every == "week":
        date = "_MC_ADD_DAYS(b._mc_start, g._mc_n * 7)"
    else:
        date = "_MC_ADD_MONTHS(b._mc_start, g._mc_n)"
    # The step numbers are cut to the bound before any date is computed from them: no date past the end
    # (which could overflow an engine's date range) is ever made.
    out.append(
        sql.step(
            "stage",
            f"CREATE TEMPORARY TABLE {spine_t} AS WITH _mc_digits AS ({digit_table}) "
            f"SELECT x._mc_d FROM (SELECT CAST({date} AS DATE) AS _mc_d, "
            f"b._mc_end FROM (SELECT {number} AS _mc_n FROM {joins}) AS g, {bounds} AS b "
            f"WHERE g._mc_n <= b._mc_steps) AS x WHERE x._mc_d <= x._mc_end",
            "spine",
        )
    )
    # Dates to compute (from the first date that can have a row): the replaced ones still in the spine, and
    # the ones the table does not hold.
    out.append(
        sql.step(
            "stage",
            f"CREATE TEMPORARY TABLE {dates} AS SELECT s._mc_d, CAST(_MC_ADD_DAYS(s._mc_d, 1) AS TIMESTAMP) "
            f"AS _mc_next FROM {spine_t} AS s, {bounds} AS b WHERE s._mc_d >= b._mc_first AND "
            f"(s._mc_d >= {LOAD_DATE} OR s._mc_d = {_last_before(target)} "
            f"OR s._mc_d NOT IN (SELECT t.{q(SNAPSHOT_DATE)} FROM {target} AS t))",
            "dates to compute",
        )
    )
    return out, dates


def _replaced(spine: ir.Spine, target: str, alias: str | None = None) -> str:
    """The target rows a load replaces: snapshots of the load date or later, the latest snapshot before the
    load date (it may predate vault rows loaded later that day, by a run whose PIT or bridge load failed),
    and any outside the spine's fixed bounds (left by an earlier spine). The target's own columns, constants
    and the target itself only: a ClickHouse DELETE is a mutation, which cannot read temporary tables."""
    col = f"{alias}.{q(SNAPSHOT_DATE)}" if alias else q(SNAPSHOT_DATE)
    parts = [f"{col} >= {LOAD_DATE}", f"{col} = {_last_before(target)}"]
    if spine.start is not None:
        parts.append(f"{col} < {_date(spine.start)}")
    if spine.end is not None:
        parts.append(f"{col} > {_date(spine.end)}")
    return "(" + " OR ".join(parts) + ")"


def _last_before(target: str) -> str:
    """The latest snapshot date before the load date (NULL when there is none)."""
    return f"(SELECT MAX(x.{q(SNAPSHOT_DATE)}) FROM {target} AS x WHERE x.{q(SNAPSHOT_DATE)} < {LOAD_DATE})"


def _count(new: str, target: str, spine: ir.Spine, key: list[str], values: list[str]) -> str:
    """Counters of the new rows against the replaced ones, without correlated subqueries: rows of both
    sides grouped by every column (identical rows meet), then by the key."""
    cols = [*key, *values]
    listed = ", ".join(f"v.{q(c)}" for c in cols)
    both = (
        f"SELECT {', '.join(q(c) for c in cols)}, 1 AS _mc_n, 0 AS _mc_o FROM {new} UNION ALL "
        f"SELECT {', '.join('t.' + q(c) for c in cols)}, 0 AS _mc_n, 1 AS _mc_o FROM {target} AS t "
        f"WHERE {_replaced(spine, target, 't')}"
    )
    rows = f"SELECT {listed}, MAX(v._mc_n) AS _mc_n, MAX(v._mc_o) AS _mc_o FROM ({both}) AS v GROUP BY {listed}"
    keys = ", ".join(f"r.{q(c)}" for c in key)
    per_key = (
        f"SELECT {keys}, MAX(r._mc_n) AS _mc_n, MAX(r._mc_o) AS _mc_o, MAX(r._mc_n * r._mc_o) AS _mc_same "
        f"FROM ({rows}) AS r GROUP BY {keys}"
    )
    counters = ["SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 0 THEN 1 ELSE 0 END) AS inserted"]
    if values:
        counters.append("SUM(CASE WHEN k._mc_n = 1 AND k._mc_o = 1 AND k._mc_same = 0 THEN 1 ELSE 0 END) AS updated")
    counters.append("SUM(CASE WHEN k._mc_n = 0 AND k._mc_o = 1 THEN 1 ELSE 0 END) AS deleted")
    return f"SELECT {', '.join(counters)} FROM ({per_key}) AS k"


def _finish(sql: _Sql, name: str, spine: ir.Spine, target: str, new: str, key: list[str], values: list[str],
            stages: list[Step]) -> LoadPlan:  # fmt: skip
    cols = ", ".join(q(c) for c in [*key, *values])
    steps = [
        *stages,
        sql.step("count", _count(new, target, spine, key, values), "counts"),
        sql.step("apply", f"DELETE FROM {target} WHERE {_replaced(spine, target)}", "drop the snapshots to rewrite"),
        sql.step("apply", f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {new}", "insert"),
        *sql.cleanup(),
    ]
    return LoadPlan(name, "delete+insert", tuple(steps))


def plan_pit(pit: ir.Pit, model: ir.Model) -> LoadPlan:
    """One row per business hub key and spine date D for every key loaded before the end of D; per satellite
    the hash key and load time of its latest row before the end of D, or of the ghost row (zero key,
    1900-01-01) when there is none (NULLs with `ghost_records false`)."""
    s = model.settings
    table = plan.build(model).table(pit.name)
    target = qt(s.schema, table.name)
    hk = pit.hub + HASH_KEY_SUFFIX
    sql = _Sql(model, f"_mc_{pit.name}")
    stages, dates = _spine_steps(sql, f"PIT {pit.name}", pit.spine, pit.hub, (), target)
    grid, new = sql.temp("grid"), sql.temp("new")
    stages.append(
        sql.step(
            "stage",
            f"CREATE TEMPORARY TABLE {grid} AS SELECT k.{q(hk)}, d._mc_d, d._mc_next FROM "
            f"{qt(s.schema, pit.hub)} AS k, {dates} AS d WHERE {sql.business('k.' + q(hk))} "
            f"AND k.{q(LOAD_TS)} < d._mc_next",
            "hub keys per date",
        )
    )
    latest = [f"_mc_ts{i}" for i in range(len(pit.satellites))]
    # One long UNION ALL (key, date, satellite number, load_ts), pivoted by conditional MAX: no NULL literal
    # needs a type (engines disagree on an untyped NULL in a UNION, and a typed one is not nullable on
    # ClickHouse). The grid's own row (number -1) keeps the keys without any satellite row.
    parts = [f"SELECT g.{q(hk)}, g._mc_d, -1 AS _mc_sat, g._mc_next AS _mc_ts FROM {grid} AS g"]
    for i, sat in enumerate(pit.satellites):
        # A satellite's parent key column is named after its parent: the PIT's hub (docs/language.md, E318).
        parts.append(
            f"SELECT g.{q(hk)}, g._mc_d, {i} AS _mc_sat, x.{q(LOAD_TS)} AS _mc_ts FROM {grid} AS g "
            f"JOIN {qt(s.schema, sat)} AS x ON x.{q(hk)} = g.{q(hk)} WHERE x.{q(LOAD_TS)} < g._mc_next"
        )
    ghost_ts = f"CAST('{GHOST_LOAD_TS}' AS TIMESTAMP)"
    pointers = []
    for sat, c in zip(pit.satellites, latest, strict=True):
        if s.ghost_records:
            pointers.append(f"CASE WHEN a.{c} IS NULL THEN {sql.zero} ELSE a.{q(hk)} END AS {q(sat + HASH_KEY_SUFFIX)}")
            pointers.append(f"COALESCE(a.{c}, {ghost_ts}) AS {q(sat + LOAD_TS_SUFFIX)}")
        else:
            pointers.append(f"CASE WHEN a.{c} IS NULL THEN NULL ELSE a.{q(hk)} END AS {q(sat + HASH_KEY_SUFFIX)}")
            pointers.append(f"a.{c} AS {q(sat + LOAD_TS_SUFFIX)}")
    maxes = [f"MAX(CASE WHEN u._mc_sat = {i} THEN u._mc_ts END) AS {c}" for i, c in enumerate(latest)]
    outer = ", ".join([f"a.{q(hk)}", f"a._mc_d AS {q(SNAPSHOT_DATE)}", *pointers])
    inner = ", ".join([f"u.{q(hk)}", "u._mc_d", *maxes])
    stages.append(
        sql.step(
            "stage",
            f"CREATE TEMPORARY TABLE {new} AS SELECT {outer} FROM (SELECT {inner} FROM "
            f"({' UNION ALL '.join(parts)}) AS u GROUP BY u.{q(hk)}, u._mc_d) AS a",
            "latest satellite rows",
        )
    )
    values = [c.name for c in table.columns if c.name not in (hk, SNAPSHOT_DATE)]
    return _finish(sql, pit.name, pit.spine, target, new, [hk, SNAPSHOT_DATE], values, stages)


def _role_of(link: ir.Link, hub: str) -> ir.LinkHub | None:
    """The link's first role (declaration order) on `hub`."""
    return next((h for h in link.hubs if h.hub == hub), None)


def bridge_joins(bridge: ir.Bridge, model: ir.Model) -> tuple[str, list[tuple[str, int, str]]]:
    """How the bridge walks its links: the column of the first link that holds the bridge's hub key, and
    for every next link (its role column, the index of the earlier link it joins, that link's column).

    The partner of a link is the first, in this order, of: the bridge's hub (joined through the first
    link's column), then the links before it in the listed order; with each partner, the link's roles are
    tried in declaration order, and a partner link's first role on the same hub is its column."""
    links = [model.get(name) for name in bridge.links]
    assert all(isinstance(link, ir.Link) for link in links)
    first = _role_of(links[0], bridge.hub)
    assert first is not None, f"bridge {bridge.name}: its first link does not hold hub {bridge.hub}"
    root = first.role + HASH_KEY_SUFFIX
    joins: list[tuple[str, int, str]] = []
    for link in links[1:]:
        found = None
        partners = [(0, None)] + list(enumerate(links[: len(joins) + 1]))
        for j, partner in partners:
            for role in link.hubs:
                if partner is None:
                    if role.hub == bridge.hub:
                        found = (role.role + HASH_KEY_SUFFIX, 0, root)
                else:
                    other = _role_of(partner, role.hub)
                    if other is not None:
                        found = (role.role + HASH_KEY_SUFFIX, j, other.role + HASH_KEY_SUFFIX)
                if found:
                    break
            if found:
                break
        assert found is not None, f"bridge {bridge.name}: link {link.name} does not connect"
        joins.append(found)
    return root, joins


def effectivity_of(link: str, model: ir.Model) -> list[ir.Satellite]:
    return [
        e
        for e in model.entities
        if isinstance(e, ir.Satellite) and e.parent == link and e.satellite_kind == "effectivity"
    ]


def plan_bridge(bridge: ir.Bridge, model: ir.Model) -> LoadPlan:
    """One row per business hub key, spine date D and complete path through the listed links whose every
    link row was loaded before the end of D and, for a link with effectivity satellites, is not ended at D
    (the latest effectivity row before the end of D, if any, is active). A path never runs through a zero or
    error key."""
    s = model.settings
    table = plan.build(model).table(bridge.name)
    target = qt(s.schema, table.name)
    sql = _Sql(model, f"_mc_{bridge.name}")
    stages, dates = _spine_steps(sql, f"bridge {bridge.name}", bridge.spine, bridge.hub, bridge.links, target)
    root, joins = bridge_joins(bridge, model)
    active: list[str] = []
    for i, name in enumerate(bridge.links):
        link = model.get(name)
        assert isinstance(link, ir.Link)
        lhk = name + HASH_KEY_SUFFIX
        roles = list(dict.fromkeys(h.role + HASH_KEY_SUFFIX for h in link.hubs))
        cols = ", ".join([f"l.{q(lhk)} AS _mc_hk", *(f"l.{q(r)}" for r in roles)])
        rows = f"SELECT {cols}, d._mc_d FROM {qt(s.schema, name)} AS l, {dates} AS d WHERE l.{q(LOAD_TS)} < d._mc_next"
        a = sql.temp(f"l{i}")
        effs = effectivity_of(name, model)
        if effs:
            ended = sql.temp(f"e{i}")
            latest = " UNION ALL ".join(
                f"SELECT x._mc_hk, x._mc_d FROM (SELECT e.{q(lhk)} AS _mc_hk, d._mc_d, e.{q(IS_ACTIVE)} AS _mc_on, "
                f"ROW_NUMBER() OVER (PARTITION BY e.{q(lhk)}, d._mc_d ORDER BY e.{q(LOAD_TS)} DESC) AS _mc_rn "
                f"FROM {qt(s.schema, e.name)} AS e, {dates} AS d WHERE e.{q(LOAD_TS)} < d._mc_next) AS x "
                f"WHERE x._mc_rn = 1 AND NOT x._mc_on"
                for e in effs
            )
            stages.append(sql.step("stage", f"CREATE TEMPORARY TABLE {ended} AS {latest}", f"ended {name} rows"))
            # A link row of a date is kept unless an ended marker meets it (GROUP BY, not an outer join).
            listed = ", ".join(["w._mc_hk", *(f"w.{q(r)}" for r in roles), "w._mc_d"])
            marked = (
                f"SELECT {cols}, x._mc_d, 1 AS _mc_end FROM {qt(s.schema, name)} AS l "
                f"JOIN {ended} AS x ON x._mc_hk = l.{q(lhk)}"
            )
            rows = (
                f"SELECT {listed} FROM (SELECT v.*, 0 AS _mc_end FROM ({rows}) AS v UNION ALL {marked}) AS w "
                f"GROUP BY {listed} HAVING MAX(w._mc_end) = 0"
            )
        stages.append(sql.step("stage", f"CREATE TEMPORARY TABLE {a} AS {rows}", f"{name} rows per date"))
        active.append(a)
    hk = bridge.hub + HASH_KEY_SUFFIX
    select = [f"a0.{q(root)} AS {q(hk)}", f"a0._mc_d AS {q(SNAPSHOT_DATE)}"]
    select += [f"a{i}._mc_hk AS {q(name + HASH_KEY_SUFFIX)}" for i, name in enumerate(bridge.links)]
    source = f"{active[0]} AS a0"
    where = [sql.business(f"a0.{q(root)}")]
    for i, (col, j, other) in enumerate(joins, 1):
        source += f" JOIN {active[i]} AS a{i} ON a{i}._mc_d = a0._mc_d AND a{i}.{q(col)} = a{j}.{q(other)}"
        where.append(sql.business(f"a{i}.{q(col)}"))
    new = sql.temp("new")
    stages.append(
        sql.step(
            "stage",
            f"CREATE TEMPORARY TABLE {new} AS SELECT {', '.join(select)} FROM {source} WHERE {' AND '.join(where)}",
            "paths",
        )
    )
    key = [c.name for c in table.columns]
    return _finish(sql, bridge.name, bridge.spine, target, new, key, [], stages)
