"""Typed, frozen syntax tree of a `.dm` file.

The tree mirrors what was written (the formatter prints it back); meaning is
given later by `modelc.semantic`. Every node carries a `Span`; spans and the
presentation-only fields (quoting of names, raw text of literals) are excluded
from equality, so `parse(fmt(x)) == parse(x)` compares structure only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields


# Not frozen (treat it as immutable all the same): a frozen dataclass's `__init__` stores each field through
# `object.__setattr__`, which made building spans about 4x slower, and every node has one; the language
# server builds tens of thousands per keystroke when it moves the statements below an edit.
@dataclass(slots=True, unsafe_hash=True)
class Span:
    file: str
    line: int  # 1-based
    column: int  # 1-based, in characters
    end_line: int
    end_column: int  # exclusive
    start: int = 0  # character offsets into the text
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<none>", 1, 1, 1, 1)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Node:
    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first, in source order."""
        yield self
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield from value.walk()
            elif isinstance(value, tuple):
                for v in value:
                    if isinstance(v, Node):
                        yield from v.walk()


# ---- leaves -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name(Node):
    value: str
    quoted: bool = field(default=False, compare=False)
    span: Span = _span()

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class QName(Node):
    """A dotted name such as `crm.customers`."""

    parts: tuple[Name, ...]
    span: Span = _span()

    @property
    def value(self) -> str:
        return ".".join(p.value for p in self.parts)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Str(Node):
    """A string literal; `value` is unescaped. SQL fragments are strings."""

    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A value: kind is one of name, string, int, decimal, date, timestamp, null, bool."""

    kind: str
    text: str  # canonical text (strings unescaped)
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TypeRef(Node):
    name: Name
    params: tuple[int, ...] = ()
    span: Span = _span()


# ---- items inside entity bodies --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column(Node):
    name: Name
    type: TypeRef
    not_null: bool = False
    pii: bool = False
    doc: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Key(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ScdColumn(Node):
    name: Name
    alias: Name | None = None  # scd3: name of the previous-value column
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Scd(Node):
    kind: int  # 0, 1, 2 or 3
    columns: tuple[ScdColumn, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Deletes(Node):
    mode: Name
    where: Str | None = None  # CDC: SQL condition marking a delete row
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Option(Node):
    """`changed_by`, `duplicates`, `late`, `valid_from`, ... followed by one value."""

    key: str
    value: Literal
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Derive(Node):
    name: Name
    type: TypeRef | None
    sql: Str
    doc: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Where(Node):
    sql: Str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Grain(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Reference(Node):
    """`role -> dimension(columns) at column` in a fact."""

    role: Name
    dimension: Name
    columns: tuple[Name, ...] = ()  # empty: the dimension's key names
    at: Name | None = None
    doc: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Measure(Node):
    name: Name
    aggregation: Name | None = None
    doc: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Degenerate(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Incremental(Node):
    column: Name
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PartitionBy(Node):
    column: Name
    transform: Name | None = None  # day, month, year, ...
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ClusterBy(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class OrderBy(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SortKey(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DistKey(Node):
    column: Name
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DistStyle(Node):
    style: Name
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Engine(Node):
    engine: Name
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SourceRef(Node):
    """`crm.customers(customer_id)`: a source and, optionally, which of its columns to use."""

    source: QName
    columns: tuple[Name, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class HubRef(Node):
    hub: Name
    columns: tuple[Name, ...]
    role: Name | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Hubs(Node):
    hubs: tuple[HubRef, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Child(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Transactional(Node):
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Payload(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class MultiActive(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Effectivity(Node):
    driving: Name
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Tracking(Node):
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Satellites(Node):
    names: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Links(Node):
    names: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Spine(Node):
    every: Name  # day, week, month
    start: Literal | None = None
    end: Literal | None = None
    span: Span = _span()


# ---- data tests -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TestUnique(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestNotNull(Node):
    columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestAccepted(Node):
    column: Name
    values: tuple[Literal, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestRange(Node):
    column: Name
    low: Literal
    high: Literal
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestReferences(Node):
    columns: tuple[Name, ...]
    entity: Name
    target_columns: tuple[Name, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestExpression(Node):
    """A SQL condition every row must satisfy."""

    sql: Str
    span: Span = _span()


DataTest = TestUnique | TestNotNull | TestAccepted | TestRange | TestReferences | TestExpression


# ---- entities -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source(Node):
    name: QName
    location: Str | None
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "source"


@dataclass(frozen=True, slots=True)
class Dimension(Node):
    name: Name
    source: QName
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "dimension"


@dataclass(frozen=True, slots=True)
class Calendar(Node):
    name: Name
    start: Literal
    end: Literal
    doc: str | None = None
    span: Span = _span()
    kind = "calendar"
    items = ()


@dataclass(frozen=True, slots=True)
class Fact(Node):
    name: Name
    source: QName
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "fact"


@dataclass(frozen=True, slots=True)
class Hub(Node):
    name: Name
    sources: tuple[SourceRef, ...]
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "hub"


@dataclass(frozen=True, slots=True)
class Link(Node):
    name: Name
    sources: tuple[SourceRef, ...]
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "link"


@dataclass(frozen=True, slots=True)
class Satellite(Node):
    name: Name
    parent: Name
    parent_columns: tuple[Name, ...]
    sources: tuple[SourceRef, ...]
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "satellite"


@dataclass(frozen=True, slots=True)
class Pit(Node):
    name: Name
    hub: Name
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "pit"


@dataclass(frozen=True, slots=True)
class Bridge(Node):
    name: Name
    hub: Name
    items: tuple[Node, ...]
    doc: str | None = None
    span: Span = _span()
    kind = "bridge"


Entity = Source | Dimension | Calendar | Fact | Hub | Link | Satellite | Pit | Bridge


# ---- file ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setting(Node):
    key: Name
    value: Literal
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Header(Node):
    name: Name
    settings: tuple[Setting, ...] = ()
    doc: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Import(Node):
    path: Str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment (`##` is a doc comment); kept for the formatter, not structural."""

    text: str  # including the leading '#'
    span: Span


@dataclass(frozen=True, slots=True)
class Module(Node):
    header: Header | None
    imports: tuple[Import, ...]
    entities: tuple[Node, ...]
    file: str = field(default="<string>", compare=False)
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    span: Span = _span()


def entity_name(entity: Node) -> str:
    """The name an entity is referred to by (sources by their dotted name)."""
    return entity.name.value  # type: ignore[attr-defined]
