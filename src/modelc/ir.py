"""The resolved model: immutable, typed, with every default filled in.

`modelc.semantic` builds it from the AST and is the only module that reads the
AST; code generation, the CLI and the language server read this. Each entity
kind is its own typed object with validated options (as SQLMesh's model kinds).
Spans are kept (compare=False) so later stages can point back at the source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from .ast import NO_SPAN, Span

PORTABLE_TYPES = ("int", "bigint", "smallint", "decimal", "float", "double", "bool", "string",
                  "date", "time", "timestamp", "timestamptz", "json", "binary")  # fmt: skip
NUMERIC_TYPES = frozenset(("int", "bigint", "smallint", "decimal", "float", "double"))
TEMPORAL_TYPES = frozenset(("date", "timestamp", "timestamptz"))

ScdKind = Literal[0, 1, 2, 3]
DeleteMode = Literal["ignore", "invalidate", "tombstone"]
DuplicatePolicy = Literal["error", "pick"]
LatePolicy = Literal["ignore", "error"]
Scd1Scope = Literal["all", "current"]
Aggregation = Literal["sum", "count", "min", "max", "avg", "count_distinct", "none"]
LoadMode = Literal["upsert", "append"]
HashAlgorithm = Literal["md5", "sha256"]
HashOutput = Literal["hex", "binary"]
SpineGrain = Literal["day", "week", "month"]
PartitionTransform = Literal["day", "month", "year"]
SatelliteKind = Literal["standard", "multi_active", "effectivity", "tracking"]


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Type:
    """A portable type; dialect modules map it to their own (docs/dialects.md)."""

    name: str  # one of PORTABLE_TYPES
    precision: int | None = None  # decimal
    scale: int | None = None  # decimal
    length: int | None = None  # string(n)

    def __str__(self) -> str:
        if self.name == "decimal":
            return f"decimal({self.precision}, {self.scale})"
        if self.length is not None:
            return f"string({self.length})"
        return self.name

    @property
    def is_numeric(self) -> bool:
        return self.name in NUMERIC_TYPES

    @property
    def is_temporal(self) -> bool:
        return self.name in TEMPORAL_TYPES


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: Type
    nullable: bool = True
    pii: bool = False
    doc: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DataTest:
    """A data test on an entity's rows; `kind` picks which fields matter."""

    kind: Literal["unique", "not_null", "accepted_values", "accepted_range", "relationships", "expression"]
    columns: tuple[str, ...] = ()
    values: tuple[object, ...] = ()  # accepted_values (None for null)
    low: object = None  # accepted_range
    high: object = None
    ref_entity: str | None = None  # relationships
    ref_columns: tuple[str, ...] = ()
    sql: str | None = None  # expression
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Physical:
    """Physical options; a dialect ignores (with a warning) what means nothing to it."""

    partition_by: str | None = None
    partition_transform: PartitionTransform | None = None
    cluster_by: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()  # ClickHouse sorting key
    sortkey: tuple[str, ...] = ()  # Redshift
    distkey: str | None = None  # Redshift
    diststyle: Literal["even", "all", "key", "auto"] | None = None
    engine: str | None = None  # ClickHouse table engine


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # qualified, as written: "crm.customers"
    schema: str | None
    table: str
    columns: tuple[Column, ...]
    location: str | None = None  # file glob, absolute, for the embedded runtime
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["source"] = "source"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class DimensionColumn:
    name: str
    type: Type
    scd: ScdKind
    expression: str | None = None  # derived: SQL over source columns (sqlglot-parsed)
    previous: str | None = None  # scd3: name of the previous-value column
    nullable: bool = True
    pii: bool = False
    doc: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ChangeDetection:
    """By a timestamp column, or by null-safe comparison of the tracked columns."""

    by: Literal["timestamp", "compare"]
    column: str | None = None  # the timestamp column


@dataclass(frozen=True, slots=True)
class DeletePolicy:
    mode: DeleteMode = "ignore"
    where: str | None = None  # CDC delete condition (SQL); None: absent from a full snapshot


@dataclass(frozen=True, slots=True)
class History:
    """SCD2 bookkeeping columns and conventions."""

    valid_from: str = "valid_from"
    valid_to: str = "valid_to"  # exclusive end
    is_current: str = "is_current"
    open_end: dt.date | None = None  # None: the current version's valid_to is NULL
    scd1_scope: Scd1Scope = "all"


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str
    source: str  # qualified source name
    key: tuple[Column, ...]  # natural key, typed from the source
    columns: tuple[DimensionColumn, ...]  # tracked columns in declaration order
    change: ChangeDetection
    deletes: DeletePolicy = DeletePolicy()
    duplicates: DuplicatePolicy = "error"
    late: LatePolicy = "ignore"
    history: History = History()
    filter: str | None = None
    physical: Physical = Physical()
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["dimension"] = "dimension"

    @property
    def versioned(self) -> bool:
        """True when any column is SCD2 or deletes invalidate/tombstone: rows carry validity."""
        return any(c.scd == 2 for c in self.columns) or self.deletes.mode in ("invalidate", "tombstone")


@dataclass(frozen=True, slots=True)
class Calendar:
    name: str
    start: dt.date
    end: dt.date
    doc: str | None = None
    span: Span = _span()
    kind: Literal["calendar"] = "calendar"


@dataclass(frozen=True, slots=True)
class DimensionRef:
    role: str
    dimension: str
    columns: tuple[str, ...]  # fact columns matched to the dimension's key, in key order
    at: str | None = None  # point-in-time column (SCD2 lookup)
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    type: Type
    aggregation: Aggregation = "sum"
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DerivedColumn:
    name: str
    type: Type | None
    expression: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    source: str
    grain: tuple[Column, ...]
    references: tuple[DimensionRef, ...]
    measures: tuple[Measure, ...]
    degenerate: tuple[Column, ...] = ()
    derived: tuple[DerivedColumn, ...] = ()
    incremental: str | None = None  # watermark column
    load: LoadMode = "upsert"
    duplicates: DuplicatePolicy = "error"  # same grain, different rows in one batch (docs/semantics.md)
    filter: str | None = None
    physical: Physical = Physical()
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["fact"] = "fact"


@dataclass(frozen=True, slots=True)
class SourceMapping:
    """A source feeding a vault entity; `columns` are that source's columns, in key order."""

    source: str
    columns: tuple[str, ...]
    record_source: str


@dataclass(frozen=True, slots=True)
class Hub:
    name: str
    key: tuple[Column, ...]  # business key, typed from the first source
    sources: tuple[SourceMapping, ...]
    physical: Physical = Physical()
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["hub"] = "hub"


@dataclass(frozen=True, slots=True)
class LinkHub:
    hub: str
    role: str  # defaults to the hub name; distinct per link
    columns: tuple[str, ...]  # source columns giving the hub's business key


@dataclass(frozen=True, slots=True)
class Link:
    name: str
    source: str
    record_source: str
    hubs: tuple[LinkHub, ...]
    child: tuple[Column, ...] = ()  # dependent child keys
    transactional: bool = False  # non-historized link
    payload: tuple[Column, ...] = ()
    physical: Physical = Physical()
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["link"] = "link"


@dataclass(frozen=True, slots=True)
class Satellite:
    name: str
    parent: str  # a hub or a link
    parent_kind: Literal["hub", "link"]
    source: str
    record_source: str
    parent_columns: tuple[str, ...]  # source columns giving the parent's key (hub) ; empty for links
    payload: tuple[Column, ...]
    satellite_kind: SatelliteKind = "standard"
    multi_active: tuple[Column, ...] = ()  # sub-sequence key
    driving: str | None = None  # effectivity: role of the driving hub in the link
    changed_by: str | None = None  # source column ordering several deltas of a key in one batch
    late: LatePolicy = "ignore"
    physical: Physical = Physical()
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["satellite"] = "satellite"


@dataclass(frozen=True, slots=True)
class Spine:
    every: SpineGrain = "day"
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Pit:
    name: str
    hub: str
    satellites: tuple[str, ...]
    spine: Spine = Spine()
    physical: Physical = Physical()
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["pit"] = "pit"


@dataclass(frozen=True, slots=True)
class Bridge:
    name: str
    hub: str
    links: tuple[str, ...]
    spine: Spine = Spine()
    physical: Physical = Physical()
    tests: tuple[DataTest, ...] = ()
    doc: str | None = None
    span: Span = _span()
    kind: Literal["bridge"] = "bridge"


Entity = Source | Dimension | Calendar | Fact | Hub | Link | Satellite | Pit | Bridge


@dataclass(frozen=True, slots=True)
class Settings:
    schema: str  # target schema of every generated table
    hash: HashAlgorithm = "md5"
    hash_output: HashOutput = "hex"
    ghost_records: bool = True  # zero/error rows in hubs, a ghost row in every satellite


@dataclass(frozen=True, slots=True)
class Model:
    """A whole model over all imported files. `entities` keeps declaration order."""

    name: str
    settings: Settings
    entities: tuple[Entity, ...]
    files: tuple[str, ...] = ()
    _index: dict[str, Entity] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {e.name: e for e in self.entities})

    def get(self, name: str) -> Entity | None:
        return self._index.get(name)

    def of_kind(self, kind: str) -> tuple[Entity, ...]:
        return tuple(e for e in self.entities if e.kind == kind)
