"""Data vault loads (docs/language.md, "Data vault"; keys by docs/hashing.md) as staged, insert-only plans.

Every load only inserts, and only what the target does not hold yet, so running it again with the same
source rows changes nothing (idempotent):

- hub: each source's business keys, unioned; one row per hash key, the earliest load wins (a key
  already stored is never touched); within one batch the smallest record source wins, then the
  source's position in `from`, then the key as delivered. All-NULL keys (the zero key) are not loaded.
- link: one row per link hash key (hub keys in declared order, then the dependent child keys).
- satellite: a row per parent key whose hashdiff differs from the latest stored one. Without
  `changed_by` a batch holds one state per key: different rows for one key fail the load; with it,
  several states are applied in change order (`_plan_ordered_satellite`). Multi-active: the set of
  (sub-sequence key, hashdiff) rows of a key is the unit of change; a changed set is inserted whole.
- system rows (zero/error hub members, satellite ghosts), effectivity and record-tracking satellites
  (loads/effectivity.py), PIT and bridge tables (loads/pit.py): docs/semantics.md, "Data vault".

The SQL is written in DuckDB's dialect like the other loads; the hash expressions are spliced in as
sqlglot nodes after parsing (`sql.Spliced` placeholders) rather than round-tripped through DuckDB text,
which would turn a portable digest node into DuckDB-only function calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from .. import hashing, ir, plan
from ..plan import HASH_DIFF, HASH_KEY_SUFFIX, IS_ACTIVE, LOAD_TS, RECORD_SOURCE
from . import LOAD_TS as LOAD_TS_PARAM
from . import LoadPlan, Step
from .sql import Spliced, lit, parse, q, qt

LOAD_TS_SQL = f"CAST(${LOAD_TS_PARAM} AS TIMESTAMP)"
# System rows (docs/semantics.md, "Ghost records"): the zero and error members of a hub and the ghost row
# of a satellite carry this load time and record source. 1900-01-01 is inside every engine's timestamp
# range (ClickHouse's DateTime64 starts there) and before any real load.
GHOST_LOAD_TS = "1900-01-01 00:00:00"
SYSTEM_SOURCE = "SYSTEM"


def _placeholder(t: ir.Type) -> str:
    """A value for a NOT NULL column of a system row. Only system rows carry the zero or error key, so
    these values can never collide with a real row's."""
    if t.name in ("string", "binary"):
        value = "''"
    elif t.name == "date":
        value = f"'{GHOST_LOAD_TS[:10]}'"
    elif t.name in ("timestamp", "timestamptz"):
        value = f"'{GHOST_LOAD_TS}'"
    elif t.name == "bool":
        value = "FALSE"
    else:
        value = "0"
    return f"CAST({value} AS {_template_type(t)})"


def system_rows(model: ir.Model, name: str, kinds: Sequence[str] = ("zero",)) -> list[Step]:
    """Insert the system rows of a hub (`kinds` zero and error) or satellite (the ghost: zero key) unless
    they are there: the key columns get the zero/error key, load_ts 1900-01-01, record_source SYSTEM,
    hash columns the same special key, flags FALSE, other columns NULL (or a placeholder when NOT NULL).
    Off with the model setting `ghost_records false`."""
    if not model.settings.ghost_records:
        return []
    s = model.settings
    table = plan.build(model).table(name)
    target = qt(s.schema, table.name)
    hk = table.primary_key[0]
    steps = []
    for kind in kinds:
        h = Spliced()
        special = h.add(hashing.special_key_expression(kind, s.hash, s.hash_output))
        values = []
        for c in table.columns:
            if c.name == LOAD_TS:
                values.append(f"CAST('{GHOST_LOAD_TS}' AS TIMESTAMP)")
            elif c.name == RECORD_SOURCE:
                values.append(lit(SYSTEM_SOURCE))
            elif c.name.endswith(HASH_KEY_SUFFIX) or c.name == HASH_DIFF:
                values.append(special)
            elif c.name == IS_ACTIVE:
                values.append("FALSE")
            elif c.nullable:
                values.append(f"CAST(NULL AS {_template_type(c.type)})")
            else:
                values.append(_placeholder(c.type))
        columns = ", ".join(q(c.name) for c in table.columns)
        sql = (
            f"INSERT INTO {target} ({columns}) SELECT {', '.join(values)} WHERE NOT EXISTS "
            f"(SELECT 1 FROM {target} AS t WHERE t.{q(hk)} = {special})"
        )
        steps.append(Step("apply", h.parse(sql), f"{kind} system row"))
    return steps


def _template_type(t: ir.Type) -> str:
    from ..dialects import get

    return get("duckdb").type_sql(t)


def _cols(alias: str, names: Sequence[str], types: Sequence[ir.Type]) -> list[tuple[exp.Expression, ir.Type]]:
    return [(exp.column(n, table=alias, quoted=True), t) for n, t in zip(names, types, strict=True)]


def _link_key(
    model: ir.Model, link: ir.Link, alias: str, hub_columns: Sequence[Sequence[str]], child: Sequence[str]
) -> exp.Expression:
    """The link hash key: every hub's business key (normalized), then the child keys as data."""
    s = model.settings
    values: list[tuple[exp.Expression, ir.Type]] = []
    for h, cols in zip(link.hubs, hub_columns, strict=True):
        hub = model.get(h.hub)
        assert isinstance(hub, ir.Hub)
        values += [(hashing.normalize_business_key(v, t), t) for v, t in _cols(alias, cols, [c.type for c in hub.key])]
    values += _cols(alias, child, [c.type for c in link.child])
    return hashing.digest(hashing.key_text(values), s.hash, s.hash_output)


def _hub_key(model: ir.Model, hub_name: str, alias: str, cols: Sequence[str]) -> exp.Expression:
    hub = model.get(hub_name)
    assert isinstance(hub, ir.Hub)
    s = model.settings
    return hashing.business_key_hash(_cols(alias, cols, [c.type for c in hub.key]), s.hash, s.hash_output)


def _steps_around(
    tag: str, stages: list[Step], count: str, apply: list[str], hashes: Spliced, system: list[Step]
) -> list[Step]:
    return [
        *stages,
        Step("count", hashes.parse(count), "counts"),
        *system,
        *[Step("apply", hashes.parse(a), "insert") for a in apply],
        Step("cleanup", parse(f"DROP TABLE IF EXISTS {q(tag)}"), "drop staging"),
    ]


def plan_hub(hub: ir.Hub, model: ir.Model) -> LoadPlan:
    s = model.settings
    hk = hub.name + HASH_KEY_SUFFIX
    target = qt(s.schema, hub.name)
    tag = f"_mc_{hub.name}_batch"
    keys = [c.name for c in hub.key]
    h = Spliced()
    parts = []
    for i, m in enumerate(hub.sources):
        source = model.get(m.source)
        assert isinstance(source, ir.Source)
        cols = ", ".join(f"s.{q(c)} AS {q(k)}" for c, k in zip(m.columns, keys, strict=True))
        some_value = " OR ".join(f"s.{q(c)} IS NOT NULL" for c in m.columns)
        parts.append(
            f"SELECT {h.add(_hub_key(model, hub.name, 's', m.columns))} AS {q(hk)}, {cols}, "
            f"{lit(m.record_source)} AS {q(RECORD_SOURCE)}, {i} AS _mc_src "
            f"FROM {qt(source.schema, source.table)} AS s WHERE {some_value}"
        )
    order = ", ".join([q(RECORD_SOURCE), "_mc_src", *[q(k) for k in keys]])
    stage = (
        f"CREATE TEMPORARY TABLE {q(tag)} AS SELECT * FROM (SELECT *, ROW_NUMBER() OVER "
        f"(PARTITION BY {q(hk)} ORDER BY {order}) AS _mc_rn FROM ({' UNION ALL '.join(parts)}) AS u) AS r "
        f"WHERE _mc_rn = 1"
    )
    new = f"FROM {q(tag)} AS b WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE t.{q(hk)} = b.{q(hk)})"
    columns = [hk, *keys, LOAD_TS, RECORD_SOURCE]
    values = ", ".join(f"b.{q(c)}" if c != LOAD_TS else LOAD_TS_SQL for c in columns)
    steps = _steps_around(
        tag,
        [Step("stage", h.parse(stage), "batch")],
        f"SELECT COUNT(*) AS inserted {new}",
        [f"INSERT INTO {target} ({', '.join(q(c) for c in columns)}) SELECT {values} {new}"],
        h,
        system_rows(model, hub.name, ("zero", "error")),
    )
    return LoadPlan(hub.name, "insert", tuple(steps))


def plan_link(link: ir.Link, model: ir.Model) -> LoadPlan:
    s = model.settings
    hk = link.name + HASH_KEY_SUFFIX
    target = qt(s.schema, link.name)
    tag = f"_mc_{link.name}_batch"
    source = model.get(link.source)
    assert isinstance(source, ir.Source)
    h = Spliced()
    child = [c.name for c in link.child]
    payload = [c.name for c in link.payload]
    roles = [(hl.role + HASH_KEY_SUFFIX, h.add(_hub_key(model, hl.hub, "s", hl.columns))) for hl in link.hubs]
    link_key = h.add(_link_key(model, link, "s", [hl.columns for hl in link.hubs], child))
    select = ", ".join(
        [f"{link_key} AS {q(hk)}"]
        + [f"{e} AS {q(r)}" for r, e in roles]
        + [f"s.{q(c)} AS {q(c)}" for c in child + payload]
    )
    # One row per link key; a transactional link's events with one key keep the smallest payload, so a
    # rerun picks the same row.
    order = ", ".join(q(c) for c in payload) or "1"
    stage = (
        f"CREATE TEMPORARY TABLE {q(tag)} AS SELECT * FROM (SELECT *, ROW_NUMBER() OVER "
        f"(PARTITION BY {q(hk)} ORDER BY {order}) AS _mc_rn FROM (SELECT {select} "
        f"FROM {qt(source.schema, source.table)} AS s) AS u) AS r WHERE _mc_rn = 1"
    )
    new = f"FROM {q(tag)} AS b WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE t.{q(hk)} = b.{q(hk)})"
    columns = [hk, *[r for r, _ in roles], *child, *payload, LOAD_TS, RECORD_SOURCE]
    values = ", ".join(
        LOAD_TS_SQL if c == LOAD_TS else lit(link.record_source) if c == RECORD_SOURCE else f"b.{q(c)}" for c in columns
    )
    steps = _steps_around(
        tag,
        [Step("stage", h.parse(stage), "batch")],
        f"SELECT COUNT(*) AS inserted {new}",
        [f"INSERT INTO {target} ({', '.join(q(c) for c in columns)}) SELECT {values} {new}"],
        h,
        [],
    )
    return LoadPlan(link.name, "insert", tuple(steps))


def _parent_key(sat: ir.Satellite, model: ir.Model, alias: str) -> exp.Expression:
    parent = model.get(sat.parent)
    if isinstance(parent, ir.Link):
        hub_cols = [hl.columns for hl in parent.hubs]
        return _link_key(model, parent, alias, hub_cols, [c.name for c in parent.child])
    assert isinstance(parent, ir.Hub)
    cols = sat.parent_columns or tuple(c.name for c in parent.key)
    return _hub_key(model, parent.name, alias, cols)


def plan_satellite(sat: ir.Satellite, model: ir.Model) -> LoadPlan:
    if sat.satellite_kind == "effectivity":
        from .effectivity import plan_effectivity

        return plan_effectivity(sat, model)
    if sat.satellite_kind == "tracking":
        from .effectivity import plan_tracking

        return plan_tracking(sat, model)
    if sat.changed_by is not None:
        return _plan_ordered_satellite(sat, model)
    s = model.settings
    hk = sat.parent + HASH_KEY_SUFFIX
    target = qt(s.schema, sat.name)
    tag = f"_mc_{sat.name}_batch"
    source = model.get(sat.source)
    assert isinstance(source, ir.Source)
    h = Spliced()
    sub = [c.name for c in sat.multi_active]
    payload = [c.name for c in sat.payload]
    diff = hashing.hashdiff(_cols("s", payload, [c.type for c in sat.payload]), s.hash, s.hash_output)
    select = ", ".join(
        [f"{h.add(_parent_key(sat, model, 's'))} AS {q(hk)}", f"{h.add(diff)} AS {q(HASH_DIFF)}"]
        + [f"s.{q(c)} AS {q(c)}" for c in sub + payload]
    )
    no_key = _no_parent_key(sat, model)
    stage = (
        f"CREATE TEMPORARY TABLE {q(tag)} AS SELECT DISTINCT {select} FROM {qt(source.schema, source.table)} AS s "
        f"WHERE NOT ({no_key})"
    )
    ident = [hk, *sub]
    group = ", ".join(q(c) for c in ident)
    check = f"SELECT {group} FROM {q(tag)} GROUP BY {group} HAVING COUNT(*) > 1"
    message = f"satellite {sat.name}: different rows for one key in one batch"
    latest, new = f"_mc_{sat.name}_latest", f"_mc_{sat.name}_new"
    in_batch = f"t.{q(hk)} IN (SELECT {q(hk)} FROM {q(tag)})"
    if sub:
        # Multi-active: the whole set of the latest load of each of the batch's keys, staged once; a key changed
        # when its batch set and its latest set differ either way. Uncorrelated (EXCEPT, IN): planned as joins.
        image = ", ".join(q(c) for c in [*ident, HASH_DIFF])
        stage_latest = (
            f"CREATE TEMPORARY TABLE {q(latest)} AS SELECT {image} FROM (SELECT t.*, RANK() OVER "
            f"(PARTITION BY t.{q(hk)} ORDER BY t.{q(LOAD_TS)} DESC) AS _mc_r FROM {target} AS t "
            f"WHERE {in_batch}) AS r WHERE _mc_r = 1"
        )
        changed = (
            f"SELECT {q(hk)} FROM (SELECT {image} FROM {q(tag)} EXCEPT SELECT {image} FROM {q(latest)}) AS a "
            f"UNION SELECT {q(hk)} FROM (SELECT {image} FROM {q(latest)} EXCEPT SELECT {image} FROM {q(tag)}) AS d"
        )
        stage_new = f"CREATE TEMPORARY TABLE {q(new)} AS SELECT * FROM {q(tag)} WHERE {q(hk)} IN ({changed})"
        staged = [Step("stage", parse(stage_latest), "latest stored rows"), Step("stage", parse(stage_new), "changed")]
    else:
        # One state per key per batch (checked above): a row is new when its hash diff differs from the key's
        # latest stored one. One join with the latest rows (ROW_NUMBER: (key, load_ts) is unique).
        stage_new = (
            f"CREATE TEMPORARY TABLE {q(new)} AS SELECT b.* FROM {q(tag)} AS b LEFT JOIN (SELECT {q(hk)}, "
            f"{q(HASH_DIFF)} FROM (SELECT t.{q(hk)}, t.{q(HASH_DIFF)}, ROW_NUMBER() OVER (PARTITION BY t.{q(hk)} "
            f"ORDER BY t.{q(LOAD_TS)} DESC) AS _mc_r FROM {target} AS t WHERE {in_batch}) AS r WHERE _mc_r = 1) AS l "
            f"ON l.{q(hk)} = b.{q(hk)} WHERE l.{q(hk)} IS NULL OR l.{q(HASH_DIFF)} <> b.{q(HASH_DIFF)}"
        )
        staged = [Step("stage", parse(stage_new), "changed")]
    columns = [hk, LOAD_TS, *sub, HASH_DIFF, *payload, RECORD_SOURCE]
    values = ", ".join(
        LOAD_TS_SQL if c == LOAD_TS else lit(sat.record_source) if c == RECORD_SOURCE else f"b.{q(c)}" for c in columns
    )
    rejected = f"SELECT COUNT(*) FROM {qt(source.schema, source.table)} AS s WHERE {no_key}"
    steps = [
        Step("stage", h.parse(stage), "batch"),
        Step("check", parse(check), "one state per key", message),
        *staged,
        Step("count", parse(f"SELECT (SELECT COUNT(*) FROM {q(new)}) AS inserted, ({rejected}) AS rejected"), "counts"),
        *system_rows(model, sat.name),
        Step(
            "apply",
            parse(f"INSERT INTO {target} ({', '.join(q(c) for c in columns)}) SELECT {values} FROM {q(new)} AS b"),
            "insert",
        ),
        *[
            Step("cleanup", parse(f"DROP TABLE IF EXISTS {q(t)}"), "drop staging")
            for t in ((new, latest, tag) if sub else (new, tag))
        ],
    ]
    return LoadPlan(sat.name, "insert", tuple(steps))


def _no_parent_key(sat: ir.Satellite, model: ir.Model, alias: str = "s") -> str:
    """The condition on a source row whose parent key is the zero key: every hub key column NULL. Such rows
    describe no business key; they are counted as rejected, never stored (the zero key holds the ghost)."""
    parent = model.get(sat.parent)
    if not isinstance(parent, ir.Hub):
        return "FALSE"  # a link key is a digest even when its hub keys are the zero key
    cols = sat.parent_columns or tuple(c.name for c in parent.key)
    return " AND ".join(f"{alias}.{q(c)} IS NULL" for c in cols)


def _plan_ordered_satellite(sat: ir.Satellite, model: ir.Model) -> LoadPlan:
    """A standard satellite with `changed_by`: a batch may hold several states of a key, applied in change
    order. A row that changed after the key's latest stored row is a delta; it is inserted when its
    hashdiff differs from the state before it (the latest stored row, then the previous delta). The
    deltas of one key get load_ts, load_ts + 1 microsecond, ... so (key, load_ts) stays the identity
    and "the latest row" stays the one with the greatest load_ts. A row that changed at or before the
    latest stored change is known when it agrees with the stored row in effect at its change time, else
    late: counted (`late ignore`) or failing the load (`late error`)."""
    s = model.settings
    hk = sat.parent + HASH_KEY_SUFFIX
    ct = sat.changed_by
    assert ct is not None
    target = qt(s.schema, sat.name)
    source = model.get(sat.source)
    assert isinstance(source, ir.Source)
    tag, hist, cls, new = (f"_mc_{sat.name}_{x}" for x in ("batch", "hist", "cls", "new"))
    h = Spliced()
    payload = [c.name for c in sat.payload]
    diff = hashing.hashdiff(_cols("s", payload, [c.type for c in sat.payload]), s.hash, s.hash_output)
    select = ", ".join(
        [f"{h.add(_parent_key(sat, model, 's'))} AS {q(hk)}", f"{h.add(diff)} AS {q(HASH_DIFF)}"]
        + [f"s.{q(c)} AS {q(c)}" for c in [ct, *payload]]
    )
    no_key = f"(({_no_parent_key(sat, model)}) OR s.{q(ct)} IS NULL)"
    src = qt(source.schema, source.table)
    k, t_ct, hd = q(hk), q(ct), q(HASH_DIFF)
    stages = [
        Step(
            "stage",
            h.parse(f"CREATE TEMPORARY TABLE {q(tag)} AS SELECT DISTINCT {select} FROM {src} AS s WHERE NOT {no_key}"),
            "batch",
        ),
        Step(
            "check",
            parse(f"SELECT {k}, {t_ct} FROM {q(tag)} GROUP BY {k}, {t_ct} HAVING COUNT(*) > 1"),
            "one state per key and change time",
            f"satellite {sat.name}: different rows for one key and {ct} in one batch",
        ),
        # The stored rows of the batch's keys, each with the change time of the next one (its validity).
        Step(
            "stage",
            parse(
                f"CREATE TEMPORARY TABLE {q(hist)} AS SELECT t.{k}, t.{t_ct}, t.{hd}, "
                f"LEAD(t.{t_ct}) OVER (PARTITION BY t.{k} ORDER BY t.{q(LOAD_TS)}) AS _mc_next, "
                f"ROW_NUMBER() OVER (PARTITION BY t.{k} ORDER BY t.{q(LOAD_TS)} DESC) AS _mc_last "
                f"FROM {target} AS t WHERE t.{k} IN (SELECT {k} FROM {q(tag)})"
            ),
            "stored history of the batch keys",
        ),
        Step(
            "stage",
            parse(
                f"CREATE TEMPORARY TABLE {q(cls)} AS SELECT b.*, l.{t_ct} AS _mc_latest, "
                f"CASE WHEN l.{t_ct} IS NULL OR b.{t_ct} > l.{t_ct} THEN 'delta' "
                f"WHEN EXISTS (SELECT 1 FROM {q(hist)} AS e WHERE e.{k} = b.{k} AND e.{t_ct} <= b.{t_ct} "
                f"AND (e._mc_next IS NULL OR b.{t_ct} < e._mc_next) AND e.{hd} = b.{hd}) THEN 'known' "
                f"ELSE 'late' END AS _mc_class "
                f"FROM {q(tag)} AS b LEFT JOIN {q(hist)} AS l ON l.{k} = b.{k} AND l._mc_last = 1"
            ),
            "classified",
        ),
        # Deltas in change order after the latest stored row; a delta equal to the state before it is none.
        Step(
            "stage",
            parse(
                f"CREATE TEMPORARY TABLE {q(new)} AS SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.{k} "
                f"ORDER BY c.{t_ct}) - 1 AS _mc_seq FROM {q(cls)} AS c JOIN (SELECT {k}, {t_ct}, _mc_new FROM "
                f"(SELECT {k}, {t_ct}, _mc_new, {hd}, LAG({hd}) OVER (PARTITION BY {k} ORDER BY {t_ct}) AS _mc_prev "
                f"FROM (SELECT {k}, {t_ct}, {hd}, 1 AS _mc_new FROM {q(cls)} WHERE _mc_class = 'delta' "
                f"UNION ALL SELECT {k}, {t_ct}, {hd}, 0 AS _mc_new FROM {q(hist)} WHERE _mc_last = 1) AS u) AS w "
                f"WHERE _mc_new = 1 AND (_mc_prev IS NULL OR _mc_prev <> {hd})) AS d "
                f"ON d.{k} = c.{k} AND d.{t_ct} = c.{t_ct}"
            ),
            "deltas",
        ),
    ]
    late = f"SELECT {k}, {t_ct} FROM {q(cls)} WHERE _mc_class = 'late'"
    if sat.late == "error":
        stages.append(
            Step(
                "check",
                parse(f"{late} ORDER BY {k}, {t_ct} LIMIT 11"),
                "late rows",
                f"satellite {sat.name}: rows that changed before the stored history and disagree with it (late error)",
            )
        )
    columns = [hk, LOAD_TS, ct, HASH_DIFF, *payload, RECORD_SOURCE]
    values = ", ".join(
        "_MC_ADD_MICROS(" + LOAD_TS_SQL + ", b._mc_seq)"
        if c == LOAD_TS
        else lit(sat.record_source)
        if c == RECORD_SOURCE
        else f"b.{q(c)}"
        for c in columns
    )
    count = (
        f"SELECT (SELECT COUNT(*) FROM {q(new)}) AS inserted, "
        f"(SELECT COUNT(*) FROM {src} AS s WHERE {no_key}) AS rejected, "
        f"(SELECT COUNT(*) FROM ({late}) AS x) AS late"
    )
    steps = [
        *stages,
        Step("count", parse(count), "counts"),
        *system_rows(model, sat.name),
        Step(
            "apply",
            parse(f"INSERT INTO {target} ({', '.join(q(c) for c in columns)}) SELECT {values} FROM {q(new)} AS b"),
            "insert",
        ),
        *[Step("cleanup", parse(f"DROP TABLE IF EXISTS {q(t)}"), "drop staging") for t in (new, cls, hist, tag)],
    ]
    return LoadPlan(sat.name, "insert", tuple(steps))


def plan_vault(entity: ir.Entity, model: ir.Model) -> LoadPlan | None:
    """The load of a hub, link, satellite, PIT or bridge."""
    if isinstance(entity, ir.Pit | ir.Bridge):
        from .pit import plan_bridge, plan_pit

        return plan_pit(entity, model) if isinstance(entity, ir.Pit) else plan_bridge(entity, model)
    if isinstance(entity, ir.Hub):
        return plan_hub(entity, model)
    if isinstance(entity, ir.Link):
        return plan_link(entity, model)
    if isinstance(entity, ir.Satellite):
        return plan_satellite(entity, model)
    return None
