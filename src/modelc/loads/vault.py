"""Data vault loads (docs/language.md, "Data vault"; keys by docs/hashing.md) as staged, insert-only plans.

Every load only inserts, and only what the target does not hold yet, so running it again with the same
source rows changes nothing (idempotent):

- hub: each source's business keys, unioned; one row per hash key, the earliest load wins (a key
  already stored is never touched); within one batch the smallest record source wins, then the
  source's position in `from`, then the key as delivered. All-NULL keys (the zero key) are not loaded.
- link: one row per link hash key (hub keys in declared order, then the dependent child keys).
- satellite: a row per parent key whose hashdiff differs from the latest stored one. A batch holds one
  state per key (the source has no change column to order several): different rows for one key fail
  the load. Multi-active: the set of (sub-sequence key, hashdiff) rows of a key is the unit of change;
  a changed set is inserted whole under the new load_ts.

The SQL is written in DuckDB's dialect like the other loads; the hash expressions are spliced in as
sqlglot nodes after parsing (`_MC_HASH_n()` placeholders) rather than round-tripped through DuckDB text,
which would turn a portable digest node into DuckDB-only function calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from .. import hashing, ir
from ..plan import HASH_DIFF, HASH_KEY_SUFFIX, LOAD_TS, RECORD_SOURCE
from . import LOAD_TS as LOAD_TS_PARAM
from . import LoadPlan, Step
from .sql import lit, parse, q, qt

LOAD_TS_SQL = f"CAST(${LOAD_TS_PARAM} AS TIMESTAMP)"


class _Hashes:
    """Hash expressions kept aside while a template is written; `splice` puts them into the parsed SQL."""

    def __init__(self) -> None:
        self.nodes: list[exp.Expression] = []

    def add(self, node: exp.Expression) -> str:
        self.nodes.append(node)
        return f"_MC_HASH_{len(self.nodes) - 1}()"

    def parse(self, sql: str) -> exp.Expression:
        def splice(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Anonymous) and node.name.upper().startswith("_MC_HASH_"):
                return self.nodes[int(node.name.rsplit("_", 1)[1])].copy()
            return node

        return parse(sql).transform(splice)


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


def _steps_around(tag: str, stages: list[Step], count: str, apply: list[str], hashes: _Hashes) -> list[Step]:
    return [
        *stages,
        Step("count", hashes.parse(count), "counts"),
        *[Step("apply", hashes.parse(a), "insert") for a in apply],
        Step("cleanup", parse(f"DROP TABLE IF EXISTS {q(tag)}"), "drop staging"),
    ]


def plan_hub(hub: ir.Hub, model: ir.Model) -> LoadPlan:
    s = model.settings
    hk = hub.name + HASH_KEY_SUFFIX
    target = qt(s.schema, hub.name)
    tag = f"_mc_{hub.name}_batch"
    keys = [c.name for c in hub.key]
    h = _Hashes()
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
    )
    return LoadPlan(hub.name, "insert", tuple(steps))


def plan_link(link: ir.Link, model: ir.Model) -> LoadPlan:
    s = model.settings
    hk = link.name + HASH_KEY_SUFFIX
    target = qt(s.schema, link.name)
    tag = f"_mc_{link.name}_batch"
    source = model.get(link.source)
    assert isinstance(source, ir.Source)
    h = _Hashes()
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


def plan_satellite(sat: ir.Satellite, model: ir.Model) -> LoadPlan | None:
    if sat.satellite_kind not in ("standard", "multi_active"):
        return None  # effectivity and record-tracking loads are not written yet
    s = model.settings
    hk = sat.parent + HASH_KEY_SUFFIX
    target = qt(s.schema, sat.name)
    tag = f"_mc_{sat.name}_batch"
    source = model.get(sat.source)
    assert isinstance(source, ir.Source)
    h = _Hashes()
    sub = [c.name for c in sat.multi_active]
    payload = [c.name for c in sat.payload]
    diff = hashing.hashdiff(_cols("s", payload, [c.type for c in sat.payload]), s.hash, s.hash_output)
    select = ", ".join(
        [f"{h.add(_parent_key(sat, model, 's'))} AS {q(hk)}", f"{h.add(diff)} AS {q(HASH_DIFF)}"]
        + [f"s.{q(c)} AS {q(c)}" for c in sub + payload]
    )
    stage = f"CREATE TEMPORARY TABLE {q(tag)} AS SELECT DISTINCT {select} FROM {qt(source.schema, source.table)} AS s"
    ident = [hk, *sub]
    group = ", ".join(q(c) for c in ident)
    check = f"SELECT {group} FROM {q(tag)} GROUP BY {group} HAVING COUNT(*) > 1"
    message = f"satellite {sat.name}: different rows for one key in one batch"
    # The latest stored rows of each key: for a multi-active satellite, the whole set of its latest load.
    latest = (
        f"SELECT t.* FROM {target} AS t WHERE t.{q(LOAD_TS)} = "
        f"(SELECT MAX(m.{q(LOAD_TS)}) FROM {target} AS m WHERE m.{q(hk)} = t.{q(hk)})"
    )
    same = " AND ".join(f"l.{q(c)} = b2.{q(c)}" for c in [*ident, HASH_DIFF])
    changed_keys = (
        f"SELECT DISTINCT b.{q(hk)} FROM {q(tag)} AS b WHERE "
        f"(SELECT COUNT(*) FROM {q(tag)} AS b1 WHERE b1.{q(hk)} = b.{q(hk)}) <> "
        f"(SELECT COUNT(*) FROM ({latest}) AS l1 WHERE l1.{q(hk)} = b.{q(hk)}) "
        f"OR EXISTS (SELECT 1 FROM {q(tag)} AS b2 WHERE b2.{q(hk)} = b.{q(hk)} "
        f"AND NOT EXISTS (SELECT 1 FROM ({latest}) AS l WHERE {same}))"
    )
    new = f"FROM {q(tag)} AS b WHERE b.{q(hk)} IN ({changed_keys})"
    columns = [hk, LOAD_TS, *sub, HASH_DIFF, *payload, RECORD_SOURCE]
    values = ", ".join(
        LOAD_TS_SQL if c == LOAD_TS else lit(sat.record_source) if c == RECORD_SOURCE else f"b.{q(c)}" for c in columns
    )
    steps = _steps_around(
        tag,
        [Step("stage", h.parse(stage), "batch"), Step("check", parse(check), "one state per key", message)],
        f"SELECT COUNT(*) AS inserted {new}",
        [f"INSERT INTO {target} ({', '.join(q(c) for c in columns)}) SELECT {values} {new}"],
        h,
    )
    return LoadPlan(sat.name, "insert", tuple(steps))


def plan_vault(entity: ir.Entity, model: ir.Model) -> LoadPlan | None:
    """The load of a hub, link or satellite; None for kinds not loaded yet (PIT, bridge)."""
    if isinstance(entity, ir.Hub):
        return plan_hub(entity, model)
    if isinstance(entity, ir.Link):
        return plan_link(entity, model)
    if isinstance(entity, ir.Satellite):
        return plan_satellite(entity, model)
    return None
