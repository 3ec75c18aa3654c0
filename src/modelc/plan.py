"""Dialect-neutral table plans: the layout of every generated table, built once from the IR.

A `TableSpec` says which columns a table has, in which order, with which portable type,
nullability and lineage; the dialect modules only render it. Layouts per entity kind are
documented in docs/dialects.md; the names of generated columns are the constants below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from . import graph, ir
from .ast import NO_SPAN, Span
from .diagnostics import Diagnostic, did_you_mean, error, warning
from .memo import PerModel

# ---- names of generated columns (one place) ---------------------------------------------
KEY_SUFFIX = "_key"  # dimension surrogate key, fact reference keys
HASH_KEY_SUFFIX = "_hk"  # data vault hash keys
LOADED_AT = "dw_loaded_at"
UPDATED_AT = "dw_updated_at"
CHANGED_AT = "dw_changed_at"
IS_DELETED = "is_deleted"
LOAD_TS = "load_ts"
RECORD_SOURCE = "record_source"
HASH_DIFF = "hash_diff"
START_TS, END_TS, IS_ACTIVE = "start_ts", "end_ts", "is_active"
SNAPSHOT_DATE = "snapshot_date"
LOAD_TS_SUFFIX = "_load_ts"  # pit: `<satellite>_load_ts`
PREVIOUS_PREFIX = "previous_"  # scd3 previous-value column when the model names none
CALENDAR_KEY = "date_key"
CALENDAR_COLUMNS = (
    ("date", "date"),
    ("year", "smallint"),
    ("quarter", "smallint"),
    ("month", "smallint"),
    ("month_name", "string"),
    ("iso_week", "smallint"),
    ("day_of_week", "smallint"),
    ("is_weekend", "bool"),
)

# Diagnostic codes of this stage (docs/dialects.md).
E_UNKNOWN_COLUMN, E_DUPLICATE_COLUMN, W_UNTYPED = "E401", "E402", "W404"

T_STRING, T_TIMESTAMP, T_BOOL, T_DATE, T_INT = (ir.Type(n) for n in ("string", "timestamp", "bool", "date", "int"))


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    type: ir.Type
    nullable: bool = True
    comment: str | None = None
    lineage: tuple[str, ...] = ()  # upstream columns, qualified: "crm.customers.segment", "dw.customer.customer_key"
    generated: bool = False  # made by modelc (keys, history, metadata), not named in the model


def _gen(name: str, type_: ir.Type, nullable: bool = True, comment: str | None = None, lineage=()) -> ColumnSpec:
    return ColumnSpec(name, type_, nullable, comment, tuple(lineage), generated=True)


@dataclass(frozen=True, slots=True)
class TableSpec:
    schema: str
    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    physical: ir.Physical
    entity: str
    kind: str
    comment: str | None = None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class ModelPlan:
    """Every table of a model in graph order, with the problems found while laying them out."""

    model: ir.Model
    tables: tuple[TableSpec, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    def table(self, entity: str) -> TableSpec | None:
        return next((t for t in self.tables if t.entity == entity), None)

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(t.entity for t in self.tables)


# ---- building ------------------------------------------------------------------------------

_plans: PerModel[ModelPlan] = PerModel(16)


def build(model: ir.Model) -> ModelPlan:
    """The plan of `model`; built once per model object, then reused for every dialect."""
    return _plans.get(model, lambda: _build(model))


def _build(model: ir.Model) -> ModelPlan:
    cycles = graph.find_cycles(model)  # none in a model from the loader; a hand-built one may have some
    if cycles:
        return ModelPlan(model, (), tuple(cycles))
    planner = _Planner(model)
    tables = []
    for name in graph.order(model):
        entity = model.get(name)
        make = _BUILDERS.get(entity.kind) if entity is not None else None
        if make is not None:
            tables.append(planner.finish(make(planner, entity)))
    return ModelPlan(model, tuple(tables), tuple(planner.diagnostics))


class _Planner:
    def __init__(self, model: ir.Model) -> None:
        self.model = model
        self.schema = model.settings.schema
        self.diagnostics: list[Diagnostic] = []

    # ---- helpers shared by the layouts ----

    @property
    def hex_type(self) -> ir.Type:
        """A hex digest: dimension surrogate keys are always hex (docs/semantics.md)."""
        return ir.Type("string", length=32 if self.model.settings.hash == "md5" else 64)

    @property
    def hash_type(self) -> ir.Type:
        """Vault hash keys and hash diffs: hex, or raw bytes with `hash_output binary`."""
        return ir.Type("binary") if self.model.settings.hash_output == "binary" else self.hex_type

    def upstream(self, entity: str, column: str) -> str:
        """Lineage name of a column of a generated table."""
        return f"{self.schema}.{entity}.{column}"

    def table(self, entity, columns: Iterable[ColumnSpec], primary_key: Iterable[str]) -> TableSpec:
        return TableSpec(
            schema=self.schema,
            name=entity.name,
            columns=tuple(columns),
            primary_key=tuple(primary_key),
            physical=getattr(entity, "physical", ir.Physical()),
            entity=entity.name,
            kind=entity.kind,
            comment=getattr(entity, "doc", None),
            span=entity.span,
        )

    def finish(self, spec: TableSpec) -> TableSpec:
        """Drop columns that collide (case-insensitively, as most engines compare names) with a generated
        column or an earlier one, and physical options naming unknown columns; report both."""
        generated = {c.name.lower(): c.name for c in spec.columns if c.generated}
        seen: dict[str, str] = {}
        columns = []
        for c in spec.columns:
            folded = c.name.lower()
            other = generated.get(folded) if not c.generated else None
            other = other or seen.get(folded)
            if other is not None:
                what = "a generated column" if folded in generated else "another column"
                self.diagnostics.append(
                    error(
                        E_DUPLICATE_COLUMN,
                        f"column `{c.name}` of {spec.kind} `{spec.entity}` collides with {what} `{other}`",
                        spec.span,
                        hint="rename it (generated names are listed in docs/dialects.md)",
                    )
                )
                continue
            seen[folded] = c.name
            columns.append(c)
        spec = dataclasses.replace(spec, columns=tuple(columns))
        return dataclasses.replace(spec, physical=self._check_physical(spec))

    def _check_physical(self, spec: TableSpec) -> ir.Physical:
        names = spec.column_names
        p = spec.physical

        def known(option: str, cols: tuple[str, ...]) -> tuple[str, ...]:
            ok = []
            for col in cols:
                if col in names:
                    ok.append(col)
                    continue
                self.diagnostics.append(
                    error(
                        E_UNKNOWN_COLUMN,
                        f"`{option}` of {spec.kind} `{spec.entity}` names `{col}`, which is not a column of its table",
                        spec.span,
                        hint=did_you_mean(col, names) or f"columns: {', '.join(names)}",
                    )
                )
            return tuple(ok)

        partition = known("partition by", (p.partition_by,) if p.partition_by else ())
        distkey = known("distkey", (p.distkey,) if p.distkey else ())
        return dataclasses.replace(
            p,
            partition_by=partition[0] if partition else None,
            partition_transform=p.partition_transform if partition else None,
            cluster_by=known("cluster by", p.cluster_by),
            order_by=known("order by", p.order_by),
            sortkey=known("sortkey", p.sortkey),
            distkey=distkey[0] if distkey else None,
        )

    def metadata(self, *names_types: tuple[str, ir.Type, bool]) -> list[ColumnSpec]:
        return [_gen(n, t, nullable) for n, t, nullable in names_types]

    def source_columns(self, source: str) -> dict[str, ir.Column]:
        src = self.model.get(source)
        return {c.name: c for c in src.columns} if isinstance(src, ir.Source) else {}

    def expression(
        self, sql: str, source: str, derived: dict[str, str] | None = None, _seen: frozenset[str] = frozenset()
    ) -> tuple[tuple[str, ...], ir.Type | None]:
        """Lineage and inferred type of a derived column's SQL over its source's columns; a name that is
        another derived column (`derived`: name -> SQL) contributes that column's lineage."""
        try:
            parsed = sqlglot.parse_one(sql)
        except SqlglotError:
            return (), None
        lineage: list[str] = []
        for col in parsed.find_all(exp.Column):
            if derived and col.name in derived and col.name not in _seen:
                lineage += self.expression(derived[col.name], source, derived, _seen | {col.name})[0]
            else:
                lineage.append(f"{source}.{col.name}")
        return tuple(dict.fromkeys(lineage)), _infer_type(parsed, self.source_columns(source))

    def untyped(self, entity, name: str) -> None:
        self.diagnostics.append(
            warning(
                W_UNTYPED,
                f"cannot infer the type of derived column `{name}` of {entity.kind} `{entity.name}`; using string",
                entity.span,
                hint=f'declare it: `derive {name} <type> = "..."`',
            )
        )


# ---- layouts per entity kind ----------------------------------------------------------------


def _dimension(p: _Planner, d: ir.Dimension) -> TableSpec:
    src = d.source
    key_name = d.name + KEY_SUFFIX
    versioned = d.versioned  # scd2 columns, or deletes that close versions
    changed = (f"{src}.{d.change.column}",) if d.change.by == "timestamp" and d.change.column else ()
    lineage_key = tuple(f"{src}.{c.name}" for c in d.key) + (changed if versioned else ())
    cols = [_gen(key_name, p.hex_type, False, "surrogate key", lineage_key)]
    # Nullable: the unknown and error members have no natural key nor attributes (docs/semantics.md).
    cols += [ColumnSpec(c.name, c.type, True, c.doc, (f"{src}.{c.name}",)) for c in d.key]
    derived = {c.name: c.expression for c in d.columns if c.expression is not None}
    for c in d.columns:
        if c.expression is not None:  # its own name inside it is the source column
            lineage = p.expression(c.expression, src, derived, frozenset({c.name}))[0]
        else:
            lineage = (f"{src}.{c.name}",)
        cols.append(ColumnSpec(c.name, c.type, True, c.doc, lineage))
        if c.scd == 3:
            prev = c.previous or PREVIOUS_PREFIX + c.name
            cols.append(ColumnSpec(prev, c.type, True, f"previous value of {c.name}", lineage))
    if versioned:
        h = d.history
        cols.append(_gen(h.valid_from, T_TIMESTAMP, False, "version start", changed))
        cols.append(_gen(h.valid_to, T_TIMESTAMP, h.open_end is None, "version end (exclusive)"))
        cols.append(_gen(h.is_current, T_BOOL, False))
        if d.deletes.mode == "tombstone":
            cols.append(_gen(IS_DELETED, T_BOOL, False))
    cols.append(_gen(CHANGED_AT, T_TIMESTAMP, True, "change timestamp of the last row applied", changed))
    cols += p.metadata((LOADED_AT, T_TIMESTAMP, False), (UPDATED_AT, T_TIMESTAMP, True))
    return p.table(d, cols, (key_name,))


def _calendar(p: _Planner, c: ir.Calendar) -> TableSpec:
    # Nullable but the key: the unknown member is (0, NULL, ...).
    cols = [_gen(CALENDAR_KEY, T_INT, False, "yyyymmdd")]
    cols += [_gen(n, ir.Type(t), True) for n, t in CALENDAR_COLUMNS]
    return p.table(c, cols, (CALENDAR_KEY,))


def _fact(p: _Planner, f: ir.Fact) -> TableSpec:
    src = f.source
    source_cols = p.source_columns(src)
    derived = {d.name: d for d in f.derived}
    cols: dict[str, ColumnSpec] = {}

    def add(spec: ColumnSpec) -> None:
        cols.setdefault(spec.name, spec)  # a column named twice (grain and degenerate, measure of a derive) once

    def from_source(name: str, nullable: bool | None = None, comment: str | None = None) -> ColumnSpec:
        if name in derived:
            d = derived[name]
            sqls = {n: x.expression for n, x in derived.items()}
            lineage, inferred = p.expression(d.expression, src, sqls, frozenset({name}))
            if d.type is None and inferred is None:
                p.untyped(f, name)
            return ColumnSpec(
                name, d.type or inferred or T_STRING, True if nullable is None else nullable, comment, lineage
            )
        c = source_cols.get(name)
        t, null = (c.type, c.nullable) if c is not None else (T_STRING, True)
        return ColumnSpec(name, t, null if nullable is None else nullable, comment, (f"{src}.{name}",))

    for c in f.grain:
        add(dataclasses.replace(from_source(c.name, False, c.doc), type=c.type))
    for r in f.references:
        # A calendar's key is its yyyymmdd int; a dimension's is its hashed surrogate.
        calendar = isinstance(p.model.get(r.dimension), ir.Calendar)
        natural = (*r.columns, *((r.at,) if r.at else ()))
        lineage = (
            *(f"{src}.{c}" for c in natural),
            p.upstream(r.dimension, CALENDAR_KEY if calendar else r.dimension + KEY_SUFFIX),
        )
        add(_gen(r.role + KEY_SUFFIX, T_INT if calendar else p.hex_type, False, f"-> {r.dimension}", lineage))
        # The natural key stays next to the key, so unresolved rows can be re-resolved later.
        for name in natural:
            add(from_source(name))
    for c in f.degenerate:
        add(dataclasses.replace(from_source(c.name, c.nullable, c.doc), type=c.type))
    for m in f.measures:
        add(dataclasses.replace(from_source(m.name, True, f"measure ({m.aggregation})"), type=m.type))
    for d in f.derived:
        add(from_source(d.name))
    if f.incremental:
        add(from_source(f.incremental, comment="watermark"))
    add(_gen(LOADED_AT, T_TIMESTAMP, False))
    add(_gen(UPDATED_AT, T_TIMESTAMP, True))
    return p.table(f, cols.values(), [c.name for c in f.grain])


def _hub(p: _Planner, h: ir.Hub) -> TableSpec:
    hk = h.name + HASH_KEY_SUFFIX
    per_key = [tuple(f"{m.source}.{m.columns[i]}" for m in h.sources if i < len(m.columns)) for i in range(len(h.key))]
    cols = [_gen(hk, p.hash_type, False, "hash of the business key", tuple(x for xs in per_key for x in xs))]
    # Nullable: the zero and error rows have no business key, and one part of a composite key may be NULL.
    cols += [ColumnSpec(c.name, c.type, True, c.doc, per_key[i]) for i, c in enumerate(h.key)]
    cols += p.metadata((LOAD_TS, T_TIMESTAMP, False), (RECORD_SOURCE, T_STRING, False))
    return p.table(h, cols, (hk,))


def _link(p: _Planner, link: ir.Link) -> TableSpec:
    src = link.source
    hk = link.name + HASH_KEY_SUFFIX
    child = tuple(f"{src}.{c.name}" for c in link.child)
    roles = [(h.role + HASH_KEY_SUFFIX, tuple(f"{src}.{c}" for c in h.columns)) for h in link.hubs]
    all_lineage = tuple(x for _, lin in roles for x in lin) + child
    cols = [_gen(hk, p.hash_type, False, "hash of the hub keys and child keys", all_lineage)]
    cols += [_gen(name, p.hash_type, False, None, lin) for name, lin in roles]
    cols += [ColumnSpec(c.name, c.type, False, c.doc, (f"{src}.{c.name}",)) for c in link.child]
    cols += [ColumnSpec(c.name, c.type, c.nullable, c.doc, (f"{src}.{c.name}",)) for c in link.payload]
    cols += p.metadata((LOAD_TS, T_TIMESTAMP, False), (RECORD_SOURCE, T_STRING, False))
    return p.table(link, cols, (hk,))


def _satellite(p: _Planner, s: ir.Satellite) -> TableSpec:
    src = s.source
    hk = s.parent + HASH_KEY_SUFFIX
    parent = p.model.get(s.parent)
    if s.parent_columns:
        key_cols = s.parent_columns
    elif isinstance(parent, ir.Link):  # a link's key: its hubs' columns (and child keys) in the satellite's source
        key_cols = tuple(c for h in parent.hubs for c in h.columns) + tuple(c.name for c in parent.child)
    else:
        key_cols = ()
    cols = [_gen(hk, p.hash_type, False, f"-> {s.parent}", tuple(f"{src}.{c}" for c in key_cols))]
    cols.append(_gen(LOAD_TS, T_TIMESTAMP, False))
    pk = [hk, LOAD_TS]
    if s.changed_by is not None:
        source = p.model.get(src)
        assert isinstance(source, ir.Source)
        changed = source.column(s.changed_by)
        cols.append(ColumnSpec(changed.name, changed.type, False, changed.doc, (f"{src}.{changed.name}",)))
    if s.satellite_kind == "effectivity":
        cols += p.metadata((START_TS, T_TIMESTAMP, False), (END_TS, T_TIMESTAMP, True), (IS_ACTIVE, T_BOOL, False))
    elif s.satellite_kind != "tracking":
        cols += [ColumnSpec(c.name, c.type, False, c.doc, (f"{src}.{c.name}",)) for c in s.multi_active]
        pk += [c.name for c in s.multi_active]
        payload = tuple(f"{src}.{c.name}" for c in s.payload)
        cols.append(_gen(HASH_DIFF, p.hash_type, False, "hash of the payload", payload))
        cols += [ColumnSpec(c.name, c.type, c.nullable, c.doc, (f"{src}.{c.name}",)) for c in s.payload]
    cols += p.metadata((RECORD_SOURCE, T_STRING, False))
    return p.table(s, cols, pk)


def _pit(p: _Planner, pit: ir.Pit) -> TableSpec:
    hk = pit.hub + HASH_KEY_SUFFIX
    cols = [
        _gen(hk, p.hash_type, False, None, (p.upstream(pit.hub, hk),)),
        _gen(SNAPSHOT_DATE, T_DATE, False),
    ]
    for sat in pit.satellites:
        sat_entity = p.model.get(sat)
        parent_hk = (sat_entity.parent if isinstance(sat_entity, ir.Satellite) else pit.hub) + HASH_KEY_SUFFIX
        cols.append(_gen(sat + HASH_KEY_SUFFIX, p.hash_type, True, None, (p.upstream(sat, parent_hk),)))
        cols.append(_gen(sat + LOAD_TS_SUFFIX, T_TIMESTAMP, True, None, (p.upstream(sat, LOAD_TS),)))
    return p.table(pit, cols, (hk, SNAPSHOT_DATE))


def _bridge(p: _Planner, b: ir.Bridge) -> TableSpec:
    hk = b.hub + HASH_KEY_SUFFIX
    cols = [
        _gen(hk, p.hash_type, False, None, (p.upstream(b.hub, hk),)),
        _gen(SNAPSHOT_DATE, T_DATE, False),
    ]
    links = [link + HASH_KEY_SUFFIX for link in b.links]
    cols += [
        _gen(hk_, p.hash_type, False, None, (p.upstream(link, hk_),)) for link, hk_ in zip(b.links, links, strict=True)
    ]
    return p.table(b, cols, (hk, SNAPSHOT_DATE, *links))


_BUILDERS = {
    "dimension": _dimension,
    "calendar": _calendar,
    "fact": _fact,
    "hub": _hub,
    "link": _link,
    "satellite": _satellite,
    "pit": _pit,
    "bridge": _bridge,
}


# ---- type inference for derived columns ----------------------------------------------------

_T = exp.DataType.Type
_FROM_SQLGLOT = {
    _T.INT: "int",
    _T.BIGINT: "bigint",
    _T.SMALLINT: "smallint",
    _T.TINYINT: "smallint",
    _T.FLOAT: "float",
    _T.DOUBLE: "double",
    _T.BOOLEAN: "bool",
    _T.VARCHAR: "string",
    _T.TEXT: "string",
    _T.CHAR: "string",
    _T.NVARCHAR: "string",
    _T.DATE: "date",
    _T.TIME: "time",
    _T.TIMESTAMP: "timestamp",
    _T.DATETIME: "timestamp",
    _T.TIMESTAMPTZ: "timestamptz",
    _T.JSON: "json",
    _T.BINARY: "binary",
    _T.VARBINARY: "binary",
    _T.BLOB: "binary",
}
_TO_SQLGLOT = {
    "int": "INT",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "string": "VARCHAR",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "json": "JSON",
    "binary": "VARBINARY",
}


def _to_sqlglot(t: ir.Type) -> str:
    if t.name == "decimal":
        return f"DECIMAL({t.precision or 38}, {t.scale if t.scale is not None else 9})"
    return _TO_SQLGLOT[t.name]


def _infer_type(expression: exp.Expression, columns: dict[str, ir.Column]) -> ir.Type | None:
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    schema = {"src": {name: _to_sqlglot(c.type) for name, c in columns.items()}}
    try:
        select = qualify(
            exp.select(expression.copy().as_("v")).from_("src"), schema=schema, validate_qualify_columns=False
        )
        t = annotate_types(select, schema=schema).selects[0].type
    except (SqlglotError, KeyError, ValueError):
        return None
    if t is None:
        return None
    if t.this in (_T.DECIMAL, _T.BIGDECIMAL):
        params = [int(e.name) for e in t.expressions if e.name.isdigit()]
        return ir.Type("decimal", precision=params[0] if params else 38, scale=params[1] if len(params) > 1 else 9)
    name = _FROM_SQLGLOT.get(t.this)
    return ir.Type(name) if name else None
