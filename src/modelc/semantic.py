"""Semantic analysis: resolve names across files, check every reference, build the `ir.Model`.

`analyze` takes the AST modules of a model (root file first) and returns the resolved model plus
every problem found, in one run; it never raises on bad input. Entities are indexed by name once,
then built once each, in dependency phases (sources, dimensions, facts, hubs, links, satellites,
PITs, bridges) so that whatever an entity refers to is already built when it is checked.

A name that cannot be resolved becomes a placeholder column of type `_UNKNOWN`; checks that depend
on it are skipped, so one mistake gives one diagnostic, not a cascade. Placeholders only exist
next to an error, and a model with errors is never returned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types

from . import ast, ir
from .diagnostics import Diagnostic, Edit, closest, error, warning

# Every code this stage can emit, plus the loader's (E212) and the graph's (E220), which share the
# range: one table, so the reference docs can be generated from it.
CODES: dict[str, str] = {
    "E200": "duplicate entity name (names are shared across all files of a model)",
    "E201": "duplicate column, role, measure or list entry",
    "E202": "an item that may appear once in a body (`key`, `changed_by`, `grain`, ...) is given twice",
    "E203": "unknown source",
    "E204": "unknown source column",
    "E205": "unknown dimension",
    "E206": "unknown hub (for a satellite: unknown hub or link)",
    "E207": "unknown link",
    "E208": "unknown satellite",
    "E209": "unknown entity in a `references` test",
    "E210": "a name refers to an entity of the wrong kind",
    "E211": "unknown column of the entity's table (physical options, data tests)",
    "E212": "imported file not found or unreadable",
    "E213": "unknown model setting",
    "E220": "dependency cycle between entities",
    "E300": "SQL syntax error, or a statement where an SQL expression belongs",
    "E301": "the number of columns does not match the key",
    "E302": "a column's type does not match the key column it is matched to",
    "E303": "`at` must name a date or timestamp column",
    "E304": "a calendar reference takes one date or timestamp column",
    "E305": "the aggregation does not fit the measure's type",
    "E306": "unknown aggregation",
    "E307": "a column is in two scd lists",
    "E308": "`as` (previous-value column) is only allowed in an scd3 list",
    "E309": "`changed_by` must name a date or timestamp column",
    "E310": "invalid option or setting value",
    "E311": "an option that does not belong to this kind of entity",
    "E312": "an empty or reversed range (calendar, spine, `between` test)",
    "E313": "a required item is missing (`key`, `grain`, `hubs`, `payload`, ...)",
    "E314": "a link needs two or more hub references",
    "E315": "duplicate hub role in a link",
    "E316": "`effectivity driving` does not name a hub or role of the link",
    "E317": "an effectivity satellite needs a link as its parent",
    "E318": "a PIT satellite does not belong to the PIT's hub",
    "E319": "a bridge link does not connect to the hub or to the links before it",
    "E320": "a link or satellite reads exactly one source",
    "E321": "a satellite has more than one kind (`multi_active`, `effectivity`, `tracking`)",
    "E322": "partitioning needs a date or timestamp column",
    "E323": "`diststyle key` needs a `distkey`",
    "E324": "`incremental on` needs a date, timestamp or numeric column",
    "E325": "key columns given in the wrong place",
    "E326": "a `references` test maps a different number of columns",
    "E327": "`changed_by` on a multi-active, effectivity or record-tracking satellite",
    "W200": "a pii column is used as a partition, cluster, sort or distribution key",
    "W201": "a pii column is a hub business key",
    "W202": "a tracked (scd) column is also the key; it is left out of the tracked columns",
    "W203": "a source no entity uses",
    "W204": "`at` on a dimension without history",
    "W205": "a payload on a link that is not `transactional`",
    "W206": "`late` on a satellite without `changed_by` has no effect",
}

AGGREGATIONS = ("sum", "count", "min", "max", "avg", "count_distinct", "none")
CHOICES: dict[str, tuple[str, ...]] = {
    "deletes": ("ignore", "invalidate", "tombstone"),
    "duplicates": ("error", "pick"),
    "late": ("ignore", "error"),
    "scd1_scope": ("all", "current"),
    "load": ("upsert", "append"),
    "diststyle": ("even", "all", "key", "auto"),
    "partition": ("day", "month", "year"),
    "spine": ("day", "week", "month"),
    "hash": ("md5", "sha256"),
    "hash_output": ("hex", "binary"),
}
SETTINGS = ("schema", "hash", "hash_output", "ghost_records")
# The one-value options the grammar accepts in any body, and the entity kinds they mean something in.
OPTION_KINDS: dict[str, tuple[str, ...]] = {
    "changed_by": ("dimension", "satellite"),
    "duplicates": ("dimension", "fact"),
    "late": ("dimension", "satellite"),
    "valid_from": ("dimension",),
    "valid_to": ("dimension",),
    "is_current": ("dimension",),
    "open_end": ("dimension",),
    "scd1_scope": ("dimension",),
    "record_source": ("hub", "link", "satellite"),
    "load": ("fact",),
}
# Build order: an entity only refers to entities of earlier phases (tests aside, checked last).
PHASES = ("source", "calendar", "dimension", "fact", "hub", "link", "satellite", "pit", "bridge")

# Names of the columns modelc generates, as `modelc.plan` lays the tables out (tests check they agree):
# data tests and physical options may name them. Kept here because nothing before the plan reads it.
KEY_SUFFIX, HASH_KEY_SUFFIX, LOAD_TS_SUFFIX = "_key", "_hk", "_load_ts"
LOADED_AT, UPDATED_AT, CHANGED_AT, IS_DELETED = "dw_loaded_at", "dw_updated_at", "dw_changed_at", "is_deleted"
LOAD_TS, RECORD_SOURCE, HASH_DIFF, SNAPSHOT_DATE = "load_ts", "record_source", "hash_diff", "snapshot_date"
START_TS, END_TS, IS_ACTIVE = "start_ts", "end_ts", "is_active"
PREVIOUS_PREFIX = "previous_"

_UNKNOWN = ir.Type("?")  # type of a column that could not be resolved (an error was reported)
_TIMESTAMP, _BOOL, _DATE = ir.Type("timestamp"), ir.Type("bool"), ir.Type("date")
_STATEMENTS = (exp.Query, exp.DDL, exp.DML, exp.Command)
_PLAIN_NAME = re.compile(r"(?!\d)\w+")
_SLOTS: dict[type, str] = {
    ast.Column: "column", ast.Key: "key", ast.Scd: "scd", ast.Deletes: "deletes", ast.Derive: "derive",
    ast.Where: "where", ast.Grain: "grain", ast.Reference: "reference", ast.Measure: "measure",
    ast.Degenerate: "degenerate", ast.Incremental: "incremental", ast.PartitionBy: "partition by",
    ast.ClusterBy: "cluster by", ast.OrderBy: "order by", ast.SortKey: "sortkey", ast.DistKey: "distkey",
    ast.DistStyle: "diststyle", ast.Engine: "engine", ast.Hubs: "hubs", ast.Child: "child",
    ast.Transactional: "transactional", ast.Payload: "payload", ast.MultiActive: "multi_active",
    ast.Effectivity: "effectivity", ast.Tracking: "tracking", ast.Satellites: "satellites", ast.Links: "links",
    ast.Spine: "spine", ast.TestUnique: "test", ast.TestNotNull: "test", ast.TestAccepted: "test",
    ast.TestRange: "test", ast.TestReferences: "test", ast.TestExpression: "test",
}  # fmt: skip
Target = dict[str, ir.Column]  # the columns of the table an entity builds (tests and physical options)
_MANY = frozenset(("column", "scd", "derive", "reference", "measure", "degenerate", "test"))
_INTEGER = frozenset(("int", "bigint", "smallint"))


# ---- small helpers ------------------------------------------------------------------------------


def _quote(name: str) -> str:
    """`name` as written in a .dm file (backquoted when it is not a plain identifier)."""
    return name if _PLAIN_NAME.fullmatch(name) else "`" + name.replace("`", "``") + "`"


def _listing(names: Iterable[str], limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _one_of(choices: Sequence[str]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def _plural(kinds: Sequence[str]) -> str:
    words = [k + "s" if k != "pit" else "PITs" for k in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _join(first: ast.Span, last: ast.Span) -> ast.Span:
    return ast.Span(first.file, first.line, first.column, last.end_line, last.end_column, first.start, last.end)


def _names_span(names: Sequence[ast.Name], fallback: ast.Span) -> ast.Span:
    return _join(names[0].span, names[-1].span) if names else fallback


def _ir_type(t: ast.TypeRef) -> ir.Type:
    name = t.name.value if t.name.value in ir.PORTABLE_TYPES else "string"  # bad names: E110 from the parser
    if name == "decimal" and len(t.params) == 2:
        return ir.Type("decimal", precision=t.params[0], scale=t.params[1])
    if name == "string" and len(t.params) == 1:
        return ir.Type("string", length=t.params[0])
    return ir.Type(name)


def _family(t: ir.Type) -> str:
    """Types that compare and join without surprises share a family (string lengths do not matter)."""
    if t.name in _INTEGER:
        return "integer"
    if t.name in ("float", "double"):
        return "float"
    if t.name in ("timestamp", "timestamptz"):
        return "timestamp"
    return t.name


def _compatible(a: ir.Type, b: ir.Type) -> bool:
    return a is _UNKNOWN or b is _UNKNOWN or _family(a) == _family(b)


def _literal_value(lit: ast.Literal) -> object:
    """The Python value of a literal for the IR (None for null); the text when it does not convert."""
    try:
        match lit.kind:
            case "int":
                return int(lit.text)
            case "decimal":
                return decimal.Decimal(lit.text)
            case "date":
                return dt.date.fromisoformat(lit.text)
            case "timestamp":
                return dt.datetime.fromisoformat(lit.text)
            case "null":
                return None
            case "bool":
                return lit.text == "true"
    except ValueError:
        pass  # an impossible date was already reported by the parser (E109)
    return lit.text


def _date(lit: ast.Literal | None) -> dt.date | None:
    value = _literal_value(lit) if lit is not None else None
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else None


def _location(loc: ast.Str | None, file: str) -> str | None:
    """A source's file glob, made absolute relative to the file that declares it (URLs unchanged)."""
    if loc is None:
        return None
    if "://" in loc.value or os.path.isabs(loc.value):
        return loc.value
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(file)), loc.value))


_GENERATED = "generated by modelc"  # doc of generated columns in a Target (targets never reach the IR)


def _generated(*names_types: tuple[str, ir.Type]) -> Target:
    return {n: ir.Column(n, t, nullable=False, doc=_GENERATED) for n, t in names_types}


def _user_first(columns: Mapping[str, ir.Column]) -> list[str]:
    """Column names, the ones the user wrote before the generated ones (for "known: ..." hints)."""
    return sorted(columns, key=lambda n: columns[n].doc == _GENERATED)


def _model_name(root: ast.Module | None) -> str:
    if root is not None and root.header is not None and root.header.name.value:
        return root.header.name.value
    stem = Path(root.file).stem if root is not None else ""
    return re.sub(r"\W+", "_", stem).strip("_") or "model"


# ---- SQL fragments (sqlglot) --------------------------------------------------------------------

_TO_SQLGLOT = {"int": "INT", "bigint": "BIGINT", "smallint": "SMALLINT", "float": "FLOAT", "double": "DOUBLE",
               "bool": "BOOLEAN", "string": "VARCHAR", "date": "DATE", "time": "TIME", "timestamp": "TIMESTAMP",
               "timestamptz": "TIMESTAMPTZ", "json": "JSON", "binary": "VARBINARY"}  # fmt: skip
_T = exp.DataType.Type
_FROM_SQLGLOT = {
    _T.INT: "int", _T.UINT: "bigint", _T.BIGINT: "bigint", _T.SMALLINT: "smallint", _T.TINYINT: "smallint",
    _T.FLOAT: "float", _T.DOUBLE: "double", _T.BOOLEAN: "bool", _T.VARCHAR: "string", _T.CHAR: "string",
    _T.TEXT: "string", _T.NVARCHAR: "string", _T.NCHAR: "string", _T.DATE: "date", _T.TIME: "time",
    _T.TIMESTAMP: "timestamp", _T.DATETIME: "timestamp", _T.TIMESTAMPTZ: "timestamptz",
    _T.TIMESTAMPLTZ: "timestamptz", _T.JSON: "json", _T.BINARY: "binary", _T.VARBINARY: "binary",
}  # fmt: skip


def _sqlglot_type(t: ir.Type) -> str:
    if t.name == "decimal":
        return f"DECIMAL({t.precision or 38}, {t.scale or 0})"
    return _TO_SQLGLOT.get(t.name, "VARCHAR")


def _portable_type(t: exp.DataType | None) -> ir.Type | None:
    if t is None:
        return None
    if t.this == _T.DECIMAL:
        params = [p.this.to_py() for p in t.expressions if isinstance(p.this, exp.Literal)]
        return ir.Type("decimal", params[0], params[1]) if len(params) == 2 else ir.Type("double")
    name = _FROM_SQLGLOT.get(t.this)
    return ir.Type(name) if name else None


def infer_type(tree: exp.Expression, columns: Mapping[str, ir.Column]) -> ir.Type | None:
    """The type of an SQL expression over `columns`, by sqlglot's annotate_types; None if unknown."""
    try:
        select = exp.select(tree.copy().as_("x")).from_("t")
        for col in select.find_all(exp.Column):
            col.set("table", exp.to_identifier("t"))
        schema = {"t": {n: _sqlglot_type(c.type) for n, c in columns.items() if c.type is not _UNKNOWN}}
        return _portable_type(annotate_types(select, schema=schema).selects[0].type)
    except Exception:  # inference is a convenience: any failure just means "unknown"
        return None


def _sql_span(s: ast.Str, col: exp.Column) -> ast.Span | None:
    """The span of a column inside an SQL string, when offsets in the string map to the file."""
    meta = col.this.meta if isinstance(col.this, exp.Identifier) else {}
    sp = s.span
    # Only a one-line literal without escapes maps one to one (its span is the text plus 2 quotes).
    if "start" not in meta or sp.line != sp.end_line or sp.end - sp.start != len(s.value) + 2:
        return None
    a, b = meta["start"], meta["end"] + 1
    return ast.Span(sp.file, sp.line, sp.column + 1 + a, sp.line, sp.column + 1 + b, sp.start + 1 + a, sp.start + 1 + b)


# ---- analysis -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Scope:
    """The columns an entity reads: its source's, plus its derived ones (which shadow them)."""

    owner: str  # for messages: "source `crm.customers`"
    columns: dict[str, ir.Column] | None  # None: the source is unknown, so every name is accepted quietly

    def extend(self, extra: Iterable[ir.Column]) -> _Scope:
        if self.columns is None:
            return self
        return _Scope(self.owner, {**self.columns, **{c.name: c for c in extra}})


@dataclass(frozen=True, slots=True)
class _Derived:
    node: ast.Derive
    column: ir.Column  # typed: declared, else inferred, else string
    sql: str


class _Items:
    """An entity's body items grouped by slot (`key`, `grain`, an option's name, `test`, ...)."""

    def __init__(self) -> None:
        self.by_slot: dict[str, list[Any]] = defaultdict(list)

    def one(self, slot: str) -> Any | None:
        items = self.by_slot.get(slot)
        return items[0] if items else None

    def all(self, slot: str) -> list[Any]:
        return self.by_slot.get(slot, [])


# ---- re-use between runs (the language server) ------------------------------------------------------
#
# Building an entity reads the analyzer's state only through `resolve` (the AST and the built entity a name
# stands for, and on an error the names of a kind) and, for a PIT, the satellites of its hub; it writes
# diagnostics, its own table's columns (`targets`), the sources it uses, its hub's satellites and its
# relationship tests. A `_Trace` records all of that; the next run replays it instead of building again when
# the entity is the same object (its statement was not parsed again, nor moved) and every read gives the same
# object (or equal names) again. So a run with a cache gives exactly what a run without one gives.
#
# An edit above a statement moves it: the language server then hands over a new tree, the old one with every
# span moved by (lines, chars), and says so in `AnalysisCache.moved`, with the text range the old tree came
# from. Such an entity is replayed with its results moved: spans in its own range move as it did, spans that
# came from an entity it read (a source's columns in a dimension) as that entity moved (not at all if it is
# the same object), so every read must give the same object or the one moved from it. Not when a diagnostic
# of it could quote a line number that moved ("first at line 12").


# (file, start, end, lines, chars): the spans that start in [start, end) of `file` moved by (lines, chars)
Move = tuple[str, int, int, int, int]


@dataclass(slots=True)
class _Trace:
    entity: Any  # the AST entity built
    reads: list[tuple[str, Any, Any]]  # (what, key, value seen): "index"/"built" by identity, "names"/"sats" by ==
    built: ir.Entity | None = None
    diags: list[Diagnostic] = dataclasses.field(default_factory=list)
    targets: list[tuple[str, Target | None]] = dataclasses.field(default_factory=list)
    used: list[str] = dataclasses.field(default_factory=list)
    sats: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (hub, satellite)
    pending: list[tuple[str, ast.TestReferences]] = dataclasses.field(default_factory=list)


class AnalysisCache:
    """What `analyze` built last time, per entity name, for the next run over an edited model."""

    def __init__(
        self,
        remap: Callable[[Any, list[Move]], Any] | None = None,
        shift: Callable[[Any, int, int], Any] | None = None,
    ) -> None:
        self.traces: dict[str, _Trace] = {}
        self.hash_type: ir.Type | None = None
        self.reused = 0  # entities replayed in the last run (for tests and profiling)
        # id(new AST entity) -> (it, the entity it was moved from, how): filled by the caller before a run
        self.moved: Mapping[int, tuple[Any, Any, Move]] = {}
        # `remap(value, moves)`: `value` (trees, diagnostics, IR) with each span moved as the first move whose
        # range it starts in says, the others kept. None: moved entities are built again. `shift(value, lines,
        # chars)` moves every span alike (faster), when everything the entity's results came from moved alike.
        self.remap = remap
        self.shift = shift


class _Targets(dict):
    """The analyzer's `targets`, logging what a traced build sets."""

    trace: _Trace | None = None

    def __setitem__(self, key: str, value: Target | None) -> None:
        if self.trace is not None:
            self.trace.targets.append((key, value))
        super().__setitem__(key, value)


class _Analyzer:
    def __init__(self) -> None:
        self.diags: list[Diagnostic] = []
        self.index: dict[str, Any] = {}  # name -> AST entity (the first declaration)
        self.order: list[Any] = []  # AST entities in declaration order, duplicates left out
        self.names: dict[str, list[str]] = defaultdict(list)  # kind -> names, for did-you-mean hints
        self.built: dict[str, ir.Entity] = {}
        self.targets: _Targets = _Targets()
        self.trace: _Trace | None = None  # of the entity being built, when a cache is kept
        # id(entity built) -> (it, the one it was moved from, how, whether all its spans moved alike)
        self.moved_built: dict[int, tuple[Any, Any, list[Move], bool]] = {}
        self.used_sources: set[str] = set()
        self.sats_by_hub: dict[str, list[str]] = defaultdict(list)
        self.pending: list[tuple[str, ast.TestReferences]] = []  # relationship tests, checked last
        self.hash_type = ir.Type("string")  # of generated hash keys, set from the settings

    # -- reporting
    def err(self, code: str, message: str, span: ast.Span, hint: str | None = None, fix: Edit | None = None) -> None:
        self.diags.append(error(code, message, span, hint, fix))

    def warn(self, code: str, message: str, span: ast.Span, hint: str | None = None) -> None:
        self.diags.append(warning(code, message, span, hint))

    def unknown(
        self,
        code: str,
        message: str,
        span: ast.Span | None,
        word: str,
        candidates: Iterable[str],
        fallback: ast.Span | None = None,
        hint: str | None = None,
        qualified: bool = False,
    ) -> None:
        """An unknown name: a did-you-mean hint and a fix when a candidate is near, else what exists.

        `qualified`: the span holds a dotted name (`crm.customers`), so the fix is not backquoted.
        """
        pool = list(candidates)
        near = closest(word, pool)
        if near is not None:
            hint = f"did you mean `{near}`?"
        elif hint is None and pool:
            hint = "known: " + _listing(pool)
        fix = Edit(span, near if qualified else _quote(near)) if near is not None and span else None
        self.err(code, message, span or fallback or ast.NO_SPAN, hint, fix)

    def duplicate(self, seen: dict[str, ast.Span], name: ast.Name, what: str, owner: str) -> bool:
        """Report `name` if already in `seen` (E201); else record it. True when it is a duplicate."""
        first = seen.get(name.value)
        if first is None:
            seen[name.value] = name.span
            return False
        self.err("E201", f"duplicate {what} `{name.value}` in {owner}", name.span, hint=f"first at line {first.line}")
        return True

    def choice(self, value: str, span: ast.Span, what: str) -> str | None:
        choices = CHOICES[what]
        if value in choices:
            return value
        near = closest(value, choices)
        hint = f"did you mean `{near}`?" if near else f"expected {_one_of(choices)}"
        self.err("E310", f"invalid {what} value `{value}`", span, hint, Edit(span, near) if near else None)
        return None

    # -- entry point
    def run(
        self, modules: Sequence[ast.Module], cache: AnalysisCache | None = None
    ) -> tuple[ir.Model | None, list[Diagnostic]]:
        root = modules[0] if modules else None
        name = _model_name(root)
        settings = self.settings(root.header if root is not None else None, name)
        self.hash_type = ir.Type("binary") if settings.hash_output == "binary" else ir.Type("string")
        self.collect(modules)
        builders = {
            "source": self.source, "calendar": self.calendar, "dimension": self.dimension, "fact": self.fact,
            "hub": self.hub, "link": self.link, "satellite": self.satellite, "pit": self.pit, "bridge": self.bridge,
        }  # fmt: skip
        by_kind: dict[str, list[Any]] = defaultdict(list)
        for entity in self.order:
            by_kind[entity.kind].append(entity)
        old = cache.traces if cache is not None and cache.hash_type == self.hash_type else {}
        traces: dict[str, _Trace] = {}
        for kind in PHASES:
            for entity in by_kind[kind]:
                entity_name = ast.entity_name(entity)
                if cache is None:
                    self.built[entity_name] = builders[kind](entity)
                    continue
                trace = old.get(entity_name)
                if trace is not None and trace.entity is entity and self.still(trace):
                    self.replay(trace)
                    cache.reused += 1
                elif trace is not None and (moved := self.moved_trace(cache, trace, entity)) is not None:
                    trace = moved
                    self.replay(trace)
                    cache.reused += 1
                else:
                    trace = self.traced(entity, builders[kind])
                traces[entity_name] = trace
                self.built[entity_name] = trace.built  # type: ignore[assignment]
        if cache is not None:
            cache.traces, cache.hash_type = traces, self.hash_type
        self.check_relationships()
        self.check_unused_sources(by_kind["source"])
        self.diags.sort(key=Diagnostic.sort_key)
        if any(d.is_error for d in self.diags):
            return None, self.diags
        entities = tuple(self.built[ast.entity_name(e)] for e in self.order)
        return ir.Model(name, settings, entities, tuple(m.file for m in modules)), self.diags

    # -- re-use (see `_Trace`)
    def traced(self, entity: Any, build: Any) -> _Trace:
        trace = self.trace = self.targets.trace = _Trace(entity, [])
        first = len(self.diags)
        try:
            trace.built = build(entity)
        finally:
            self.trace = self.targets.trace = None
        trace.diags = self.diags[first:]
        return trace

    def note(self, what: str, key: Any, value: Any) -> Any:
        if self.trace is not None:
            self.trace.reads.append((what, key, value))
        return value

    def still(self, trace: _Trace) -> bool:
        """Whether every read of `trace` gives the same now."""
        for what, key, value in trace.reads:
            if what == "index":
                if self.index.get(key) is not value:
                    return False
            elif what == "built":
                if self.built.get(key) is not value:
                    return False
            elif what == "names":
                if tuple(n for k in key for n in self.names.get(k, ())) != value:
                    return False
            elif tuple(self.sats_by_hub.get(key, ())) != value:  # "sats"
                return False
        return True

    def moved_trace(self, cache: AnalysisCache, trace: _Trace, entity: Any) -> _Trace | None:
        """`trace` moved along with `entity`, if it was moved from the entity traced and all it read is the same
        or moved from what it read then."""
        found = cache.moved.get(id(entity))
        if found is None or found[0] is not entity or found[1] is not trace.entity or cache.remap is None:
            return None
        moves = [found[2]]
        uniform = True  # every span in its results moved alike (none came from an entity that stayed)
        reads = []
        for what, key, value in trace.reads:
            now = value
            if what == "index":
                now = self.index.get(key)
                if now is not value:
                    was = cache.moved.get(id(now))
                    if was is None or was[0] is not now or was[1] is not value:
                        return None
                    moves.append(was[2])
            elif what == "built":
                now = self.built.get(key)
                if now is not value:
                    was = self.moved_built.get(id(now))
                    if was is None or was[0] is not now or was[1] is not value:
                        return None
                    moves += was[2]
                    uniform &= was[3]
                elif value is not None:
                    uniform = False
            elif what == "names":
                if tuple(n for k in key for n in self.names.get(k, ())) != value:
                    return None
            elif tuple(self.sats_by_hub.get(key, ())) != value:
                return None
            reads.append((what, key, now))
        if trace.diags and any(m[3] for m in moves):  # a message may quote a line that moved
            return None
        remap, shift, (_, _, _, lines, chars) = cache.remap, cache.shift, moves[0]
        uniform = uniform and shift is not None and all(m[3:] == (lines, chars) for m in moves)

        def move(value: Any) -> Any:
            return shift(value, lines, chars) if uniform else remap(value, moves)  # type: ignore[misc]

        moved = _Trace(
            entity,
            reads,
            move(trace.built),
            [move(d) for d in trace.diags],
            trace.targets,  # read for names, types and `pii` only: their spans never reach a diagnostic
            trace.used,
            trace.sats,
            [(name, move(node)) for name, node in trace.pending],
        )
        self.moved_built[id(moved.built)] = (moved.built, trace.built, moves, uniform)
        return moved

    def replay(self, trace: _Trace) -> None:
        self.diags.extend(trace.diags)
        for key, target in trace.targets:
            dict.__setitem__(self.targets, key, target)
        self.used_sources.update(trace.used)
        for hub, sat in trace.sats:
            self.sats_by_hub[hub].append(sat)
        self.pending.extend(trace.pending)

    def collect(self, modules: Sequence[ast.Module]) -> None:
        """Index every entity by name once; a second declaration of a name is reported and skipped."""
        for module in modules:
            for entity in module.entities:
                name = ast.entity_name(entity)
                if not name:  # a placeholder from the parser's error recovery, already reported
                    continue
                first = self.index.get(name)
                if first is not None:
                    where = f"{first.name.span.file}:{first.name.span.line}"
                    self.err(
                        "E200",
                        f"duplicate entity name `{name}`",
                        entity.name.span,
                        hint=f"{_article(first.kind)} `{name}` is already declared at {where}",
                    )
                    continue
                self.index[name] = entity
                self.order.append(entity)
                self.names[entity.kind].append(name)

    def settings(self, header: ast.Header | None, model: str) -> ir.Settings:
        values: dict[str, str] = {}
        seen: dict[str, ast.Span] = {}
        for s in header.settings if header is not None else ():
            key, lit = s.key.value, s.value
            if key not in SETTINGS:
                self.unknown("E213", f"unknown setting `{key}`", s.key.span, key, SETTINGS)
                continue
            if key in seen:
                self.err("E202", f"setting `{key}` is given twice", s.span, hint=f"first at line {seen[key].line}")
                continue
            seen[key] = s.span
            if key == "schema":
                if lit.kind in ("name", "string"):
                    values[key] = lit.text
                else:
                    self.err("E310", "`schema` takes a name", lit.span)
            elif key == "ghost_records":
                if lit.kind == "bool":
                    values[key] = lit.text
                else:
                    self.err("E310", "`ghost_records` takes `true` or `false`", lit.span)
            elif (value := self.choice(lit.text, lit.span, key)) is not None:
                values[key] = value
        return ir.Settings(
            values.get("schema", model),
            values.get("hash", "md5"),  # type: ignore[arg-type]
            values.get("hash_output", "hex"),  # type: ignore[arg-type]
            values.get("ghost_records", "true") == "true",
        )

    # -- name resolution
    def resolve(self, ref: ast.Name | ast.QName, kinds: tuple[str, ...], code: str, what: str) -> Any | None:
        """The built entity `ref` names, if it is one of `kinds`; None (after a diagnostic) if not."""
        name = ref.value
        if not name:
            return None
        target = self.note("index", name, self.index.get(name))
        if target is None or target.kind not in kinds:  # only an error lists them (O(entities) per call)
            candidates = [n for k in kinds for n in self.names.get(k, ())]
            self.note("names", kinds, tuple(candidates))
        if target is None:
            self.unknown(
                code, f"unknown {what} `{name}`", ref.span, name, candidates, qualified=isinstance(ref, ast.QName)
            )
            return None
        if target.kind not in kinds:
            near = closest(name, candidates)
            self.err(
                "E210",
                f"`{name}` is {_article(target.kind)}, not {_article(what)}",
                ref.span,
                hint=f"did you mean `{near}`?" if near else None,
            )
            return None
        if target.kind == "source":
            self.used_sources.add(name)
            if self.trace is not None:
                self.trace.used.append(name)
        return self.note("built", name, self.built.get(name))

    def source_scope(self, ref: ast.QName) -> _Scope:
        source = self.resolve(ref, ("source",), "E203", "source")
        owner = f"source `{ref.value}`"
        if not isinstance(source, ir.Source):
            return _Scope(owner, None)
        return _Scope(owner, {c.name: c for c in source.columns})

    def column(self, scope: _Scope, name: ast.Name) -> ir.Column:
        """The column `name` of `scope`, or a placeholder after an E204."""
        if scope.columns is None or not name.value:
            return ir.Column(name.value, _UNKNOWN)
        col = scope.columns.get(name.value)
        if col is None:
            self.unknown(
                "E204", f"unknown column `{name.value}` in {scope.owner}", name.span, name.value, scope.columns
            )
            return ir.Column(name.value, _UNKNOWN)
        return col

    def columns(
        self, names: Sequence[ast.Name], scope: _Scope, what: str, owner: str, seen: dict[str, ast.Span] | None = None
    ) -> list[ir.Column]:
        """Resolve a column list; a name listed twice (in this list or `seen`) is E201 and dropped."""
        seen = {} if seen is None else seen
        return [self.column(scope, n) for n in names if not self.duplicate(seen, n, what, owner)]

    def match_key(
        self,
        given: Sequence[ast.Name],
        key: Sequence[ir.Column],
        scope: _Scope,
        what: str,
        at: ast.Span,
        default_hint: str | None,
    ) -> tuple[ir.Column, ...]:
        """Columns of `scope` matched to `key`, in key order: the `given` ones, else those named like the key."""
        if not given:
            names = [ast.Name(k.name, span=at) for k in key]
            if scope.columns is not None:
                for n in names:
                    if n.value not in scope.columns:
                        self.err("E204", f"unknown column `{n.value}` in {scope.owner}", at, hint=default_hint)
            given, explicit = names, False
        else:
            explicit = True
        if key and len(given) != len(key):
            self.err(
                "E301",
                f"{what} has {len(key)} key column{'s' * (len(key) > 1)} ({_listing(k.name for k in key)})"
                f"; {len(given)} given",
                _names_span(given, at),
            )
            return tuple(self.column(scope, n) for n in given)
        out = []
        pairs = zip(given, key, strict=True) if key else ((n, None) for n in given)
        for n, k in pairs:
            col = (
                self.column(scope, n) if explicit else (scope.columns or {}).get(n.value, ir.Column(n.value, _UNKNOWN))
            )
            if k is not None and not _compatible(col.type, k.type):
                self.err(
                    "E302", f"`{n.value}` is {col.type} but the key column `{k.name}` of {what} is {k.type}", n.span
                )
            out.append(col)
        return tuple(out)

    # -- items of a body
    def gather(self, entity: Any, owner: str) -> _Items:
        """Group body items by slot, reporting options out of place (E311) and repeated once-items (E202)."""
        items = _Items()
        for item in entity.items:
            slot = item.key if isinstance(item, ast.Option) else _SLOTS.get(type(item), type(item).__name__.lower())
            if isinstance(item, ast.Option):
                kinds = OPTION_KINDS.get(item.key, ())
                if entity.kind not in kinds:
                    self.err(
                        "E311",
                        f"`{item.key}` does not belong in {_article(entity.kind)}",
                        item.span,
                        hint=f"`{item.key}` is an option of {_plural(kinds)}" if kinds else None,
                    )
                    continue
            first = items.one(slot)
            if first is not None and slot not in _MANY:
                self.err(
                    "E202", f"`{slot}` is given twice in {owner}", item.span, hint=f"first at line {first.span.line}"
                )
                continue
            items.by_slot[slot].append(item)
        return items

    def option_name(self, opt: ast.Option | None) -> ast.Name | None:
        """The column name an option names (`changed_by updated_at`), as a Name for lookups."""
        if opt is None:
            return None
        if opt.value.kind != "name":
            self.err("E310", f"`{opt.key}` takes a column name", opt.value.span)
            return None
        return ast.Name(opt.value.text, span=opt.value.span)

    def option_choice(self, opt: ast.Option | None, default: str) -> str:
        if opt is None:
            return default
        return self.choice(opt.value.text, opt.value.span, opt.key) or default

    def record_source(self, opt: ast.Option | None) -> str | None:
        if opt is None:
            return None
        if opt.value.kind not in ("string", "name"):
            self.err("E310", "`record_source` takes a string", opt.value.span)
            return None
        return opt.value.text

    # -- SQL fragments
    def sql(
        self, s: ast.Str, what: str, scope: Mapping[str, ir.Column] | None, owner: str, code: str = "E204"
    ) -> exp.Expression | None:
        """Parse an SQL expression and check the columns it names against `scope` (None: unchecked)."""
        if not s.value.strip():
            self.err("E300", f"empty SQL in {what}", s.span)
            return None
        try:
            tree = sqlglot.parse_one(s.value)
        except ParseError as exc:
            reason = exc.errors[0].get("description") if exc.errors else str(exc)
            self.err("E300", f"invalid SQL in {what}: {reason}", s.span)
            return None
        except TokenError:
            self.err("E300", f"invalid SQL in {what}: unterminated string or quoted name", s.span)
            return None
        except Exception as exc:  # sqlglot raises assorted errors on odd input; none may escape
            self.err(
                "E300", f"invalid SQL in {what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", s.span
            )
            return None
        if isinstance(tree, _STATEMENTS):
            self.err("E300", f"{what} takes an SQL expression, not a statement", s.span)
            return None
        if scope is not None:
            self.sql_columns(tree, s, scope, owner, code)
        return tree

    def sql_columns(
        self, tree: exp.Expression, s: ast.Str, scope: Mapping[str, ir.Column], owner: str, code: str
    ) -> None:
        folded = {n.lower() for n in scope}  # SQL identifiers are case-insensitive
        for col in tree.find_all(exp.Column):
            if isinstance(col.this, exp.Star) or col.find_ancestor(exp.Select) is not None:
                continue  # a subquery's columns belong to its own tables
            name = col.name
            if name and name not in scope and name.lower() not in folded:
                span = _sql_span(s, col)
                self.unknown(
                    code, f"unknown column `{name}` in {owner}", span, name, _user_first(scope), fallback=s.span
                )

    def derived(self, nodes: list[ast.Derive], scope: _Scope, owner: str) -> dict[str, _Derived]:
        out: dict[str, _Derived] = {}
        seen: dict[str, ast.Span] = {}
        for d in nodes:
            if self.duplicate(seen, d.name, "derived column", owner):
                continue
            tree = self.sql(d.sql, f"derive `{d.name.value}`", scope.columns, scope.owner)
            typ = _ir_type(d.type) if d.type is not None else None
            if typ is None and tree is not None and scope.columns is not None:
                typ = infer_type(tree, scope.columns)
            column = ir.Column(d.name.value, typ or ir.Type("string"), doc=d.doc, span=d.span)
            out[d.name.value] = _Derived(d, column, d.sql.value)
        return out

    def filter(self, node: ast.Where | None, scope: _Scope) -> str | None:
        if node is None:
            return None
        self.sql(node.sql, "where", scope.columns, scope.owner)
        return node.sql.value

    # -- physical options and tests (both name columns of the entity's own table)
    def target_column(self, target: Target | None, name: ast.Name, owner: str, key: str | None) -> ir.Column | None:
        if target is None or not name.value:
            return None
        col = target.get(name.value)
        if col is None:
            self.unknown(
                "E211", f"unknown column `{name.value}` in {owner}", name.span, name.value, _user_first(target)
            )
            return None
        if key is not None and col.pii:
            self.warn(
                "W200",
                f"pii column `{name.value}` is used as a {key} key",
                name.span,
                hint="keys show in table metadata and query plans; pick a column without personal data",
            )
        return col

    def physical(self, items: _Items, target: Target | None, owner: str) -> ir.Physical:
        def names(slot: str, key: str) -> tuple[str, ...]:
            node = items.one(slot)
            if node is None:
                return ()
            for n in node.columns:
                self.target_column(target, n, owner, key)
            return tuple(n.value for n in node.columns)

        partition_by = transform = distkey = diststyle = engine = None
        if (p := items.one("partition by")) is not None:
            col = self.target_column(target, p.column, owner, "partition")
            partition_by = p.column.value
            if p.transform is not None:
                transform = self.choice(p.transform.value, p.transform.span, "partition")
            if col is not None and col.type is not _UNKNOWN and not col.type.is_temporal:
                self.err(
                    "E322",
                    f"partition column `{p.column.value}` is {col.type}; it must be a date or timestamp",
                    p.column.span,
                )
        if (d := items.one("distkey")) is not None:
            self.target_column(target, d.column, owner, "distribution")
            distkey = d.column.value
        if (s := items.one("diststyle")) is not None:
            diststyle = self.choice(s.style.value, s.style.span, "diststyle")
            if diststyle == "key" and distkey is None:
                self.err("E323", "`diststyle key` needs a `distkey`", s.span, hint="add `distkey COLUMN`")
        if (e := items.one("engine")) is not None:
            engine = e.engine.value
        return ir.Physical(
            partition_by=partition_by,
            partition_transform=transform,  # type: ignore[arg-type]
            cluster_by=names("cluster by", "cluster"),
            order_by=names("order by", "sort"),
            sortkey=names("sortkey", "sort"),
            distkey=distkey,
            diststyle=diststyle,  # type: ignore[arg-type]
            engine=engine,
        )

    def tests(self, nodes: list[Any], target: Target | None, owner: str, entity: str) -> tuple[ir.DataTest, ...]:
        out = []
        for t in nodes:
            cols = (t.column,) if isinstance(t, (ast.TestAccepted, ast.TestRange)) else getattr(t, "columns", ())
            for n in cols:
                self.target_column(target, n, owner, None)
            names = tuple(n.value for n in cols)
            match t:
                case ast.TestUnique():
                    out.append(ir.DataTest("unique", names, span=t.span))
                case ast.TestNotNull():
                    out.append(ir.DataTest("not_null", names, span=t.span))
                case ast.TestAccepted():
                    values = tuple(_literal_value(v) for v in t.values)
                    out.append(ir.DataTest("accepted_values", names, values=values, span=t.span))
                case ast.TestRange():
                    low, high = _literal_value(t.low), _literal_value(t.high)
                    self.check_range(low, high, _join(t.low.span, t.high.span), "`between` range")
                    out.append(ir.DataTest("accepted_range", names, low=low, high=high, span=t.span))
                case ast.TestReferences():
                    self.pending.append((entity, t))
                    if self.trace is not None:
                        self.trace.pending.append((entity, t))
                    refs = tuple(n.value for n in t.target_columns)
                    out.append(
                        ir.DataTest("relationships", names, ref_entity=t.entity.value, ref_columns=refs, span=t.span)
                    )
                case ast.TestExpression():
                    self.sql(t.sql, "test", target, owner, code="E211")
                    out.append(ir.DataTest("expression", sql=t.sql.value, span=t.span))
        return tuple(out)

    def check_range(self, low: object, high: object, span: ast.Span, what: str) -> None:
        def rank(v: object) -> tuple[int, object] | None:
            if isinstance(v, bool) or v is None:
                return None
            if isinstance(v, (int, decimal.Decimal)):
                return (0, v)
            if isinstance(v, dt.datetime):  # a datetime is a date: test it first
                return (1, v.replace(tzinfo=None))
            if isinstance(v, dt.date):
                return (1, dt.datetime.combine(v, dt.time()))
            return None

        a, b = rank(low), rank(high)
        if a is not None and b is not None and a[0] == b[0] and a[1] > b[1]:  # type: ignore[operator]
            self.err("E312", f"{what} is reversed: {low} is after {high}", span, hint="write the lower bound first")

    def check_relationships(self) -> None:
        """`test COLS references ENTITY(COLS)`: checked once every entity (and its table) is known."""
        all_names = list(self.index)
        for entity, t in self.pending:
            target_name = t.entity.value
            if target_name not in self.index:
                self.unknown("E209", f"unknown entity `{target_name}`", t.entity.span, target_name, all_names)
                continue
            if self.index[target_name].kind == "source":
                self.used_sources.add(target_name)
            target = self.targets.get(target_name)
            owner = f"{self.index[target_name].kind} `{target_name}`"
            for n in t.target_columns:
                self.target_column(target, n, owner, None)
            if len(t.columns) != len(t.target_columns):
                self.err(
                    "E326",
                    f"{len(t.columns)} column(s) of `{entity}` reference {len(t.target_columns)} of `{target_name}`",
                    _join(t.columns[0].span, t.target_columns[-1].span) if t.columns and t.target_columns else t.span,
                )

    def check_unused_sources(self, sources: list[ast.Source]) -> None:
        for s in sources:
            if s.name.value not in self.used_sources:
                self.warn(
                    "W203",
                    f"source `{s.name.value}` is not used by any entity",
                    s.name.span,
                    hint="build a dimension, fact, hub, link or satellite from it, or remove it",
                )

    # ---- sources and star schema -----------------------------------------------------------------

    def source(self, e: ast.Source) -> ir.Source:
        name = e.name.value
        owner = f"source `{name}`"
        items = self.gather(e, owner)
        columns: dict[str, ir.Column] = {}
        seen: dict[str, ast.Span] = {}
        for c in items.all("column"):
            if not self.duplicate(seen, c.name, "column", owner):
                columns[c.name.value] = ir.Column(c.name.value, _ir_type(c.type), not c.not_null, c.pii, c.doc, c.span)
        self.targets[name] = columns
        parts = [p.value for p in e.name.parts]
        return ir.Source(
            name=name,
            schema=".".join(parts[:-1]) or None,
            table=parts[-1],
            columns=tuple(columns.values()),
            location=_location(e.location, e.span.file),
            tests=self.tests(items.all("test"), columns, owner, name),
            doc=e.doc,
            span=e.span,
        )

    def calendar(self, e: ast.Calendar) -> ir.Calendar:
        start, end = _date(e.start), _date(e.end)
        if start is not None and end is not None and start > end:  # both ends are days of the calendar
            self.err(
                "E312",
                f"calendar `{e.name.value}` is empty: {start} is after {end}",
                _join(e.start.span, e.end.span),
                hint="write the earlier date first",
            )
        self.targets[e.name.value] = None  # generated columns; a calendar has no tests
        return ir.Calendar(e.name.value, start or dt.date.min, end or dt.date.max, e.doc, e.span)

    def dimension(self, e: ast.Dimension) -> ir.Dimension:
        name = e.name.value
        owner = f"dimension `{name}`"
        items = self.gather(e, owner)
        base = self.source_scope(e.source)
        derived = self.derived(items.all("derive"), base, owner)
        scope = base.extend(d.column for d in derived.values())
        key = self.key(items.one("key"), scope, e.name, owner)
        columns = self.tracked(e, derived, scope, {k.name for k in key}, owner)
        changed_by = self.option_name(items.one("changed_by"))
        change = ir.ChangeDetection("compare")
        if changed_by is not None:
            col = self.column(scope, changed_by)
            if col.type is not _UNKNOWN and not col.type.is_temporal:
                temporal = [c.name for c in (scope.columns or {}).values() if c.type.is_temporal]
                self.err(
                    "E309",
                    f"`changed_by` column `{col.name}` is {col.type}; it must be a date or timestamp",
                    changed_by.span,
                    hint=("timestamp columns: " + _listing(temporal)) if temporal else None,
                )
            change = ir.ChangeDetection("timestamp", changed_by.value)
        deletes = ir.DeletePolicy()
        if (d := items.one("deletes")) is not None:
            if d.where is not None:
                self.sql(d.where, "deletes where", base.columns, base.owner)
            mode = self.choice(d.mode.value, d.mode.span, "deletes") or "ignore"
            deletes = ir.DeletePolicy(mode, d.where.value if d.where is not None else None)  # type: ignore[arg-type]
        history = self.history(items)
        dim = ir.Dimension(
            name=name,
            source=e.source.value,
            key=key,
            columns=tuple(columns),
            change=change,
            deletes=deletes,
            duplicates=self.option_choice(items.one("duplicates"), "error"),  # type: ignore[arg-type]
            late=self.option_choice(items.one("late"), "ignore"),  # type: ignore[arg-type]
            history=history,
            filter=self.filter(items.one("where"), base),
            doc=e.doc,
            span=e.span,
        )
        target = self.dimension_target(dim, items, e.name.span, owner)
        self.targets[name] = target
        physical = self.physical(items, target, owner)
        return dataclasses.replace(dim, physical=physical, tests=self.tests(items.all("test"), target, owner, name))

    def key(self, node: ast.Key | None, scope: _Scope, entity: ast.Name, owner: str) -> tuple[ir.Column, ...]:
        if node is None:
            self.err("E313", f"{owner} needs a `key`", entity.span, hint="add `key COLUMNS` (the natural key)")
            return ()
        return tuple(self.columns(node.columns, scope, "key column", owner))

    def tracked(
        self, e: ast.Dimension, derived: dict[str, _Derived], scope: _Scope, key: set[str], owner: str
    ) -> list[ir.DimensionColumn]:
        """Tracked columns in declaration order; derived columns in no scd list are scd1."""
        listed: dict[str, tuple[int, ast.Span]] = {}
        in_lists = {c.name.value for item in e.items if isinstance(item, ast.Scd) for c in item.columns}
        out: list[ir.DimensionColumn] = []
        for item in e.items:
            if isinstance(item, ast.Derive) and item.name.value in derived:
                d = derived[item.name.value]
                if d.node is item and item.name.value not in in_lists and item.name.value not in key:
                    out.append(
                        ir.DimensionColumn(d.column.name, d.column.type, 1, d.sql, doc=d.node.doc, span=d.node.span)
                    )
            if not isinstance(item, ast.Scd):
                continue
            for sc in item.columns:
                n = sc.name.value
                if n in key:
                    self.warn(
                        "W202",
                        f"`{n}` is the key of {owner}; tracking it has no effect",
                        sc.name.span,
                        hint=f"remove it from the scd{item.kind} list",
                    )
                    continue
                if n in listed:
                    kind, first = listed[n]
                    if kind == item.kind:
                        self.err(
                            "E201",
                            f"duplicate scd{kind} column `{n}` in {owner}",
                            sc.name.span,
                            hint=f"first at line {first.line}",
                        )
                    else:
                        self.err(
                            "E307",
                            f"`{n}` is in both scd{kind} and scd{item.kind}",
                            sc.name.span,
                            hint=f"a column has one scd type; it is scd{kind} at line {first.line}",
                        )
                    continue
                listed[n] = (item.kind, sc.name.span)
                if sc.alias is not None and item.kind != 3:
                    self.err(
                        "E308",
                        f"`as {sc.alias.value}` names a previous-value column, which only scd3 keeps",
                        _join(sc.name.span, sc.alias.span),
                        hint=f"move `{n}` to an scd3 list, or drop `as`",
                    )
                col = self.column(scope, sc.name)
                d = derived.get(n)
                previous = (sc.alias.value if sc.alias is not None else PREVIOUS_PREFIX + n) if item.kind == 3 else None
                out.append(
                    ir.DimensionColumn(
                        n,
                        col.type,
                        item.kind,  # type: ignore[arg-type]
                        d.sql if d else None,
                        previous,
                        col.nullable,
                        col.pii,
                        col.doc,
                        sc.span,
                    )
                )
        return out

    def history(self, items: _Items) -> ir.History:
        names = {}
        for opt in ("valid_from", "valid_to", "is_current"):
            if (n := self.option_name(items.one(opt))) is not None:
                names[opt] = n.value
        open_end = None
        if (o := items.one("open_end")) is not None:
            open_end = _date(o.value)
            if o.value.kind not in ("null", "date"):
                self.err(
                    "E310",
                    f"invalid open_end value `{o.value.text}`",
                    o.value.span,
                    hint="`open_end` takes null or a date such as 9999-12-31",
                )
        scope = self.option_choice(items.one("scd1_scope"), "all")
        return ir.History(**names, open_end=open_end, scd1_scope=scope)  # type: ignore[arg-type]

    def dimension_target(self, dim: ir.Dimension, items: _Items, at: ast.Span, owner: str) -> Target:
        """The dimension table's columns (as modelc.plan lays it out); user-named ones must not collide."""
        target: Target = {k.name: k for k in dim.key}
        for c in dim.columns:
            target[c.name] = ir.Column(c.name, c.type, c.nullable, c.pii, span=c.span)
        for c in dim.columns:
            if c.previous is not None:
                what = f"scd3 `{c.name}`'s previous-value column"
                self.add_column(
                    target, ir.Column(c.previous, c.type, pii=c.pii), c.span, owner, what, "name it with `as`"
                )
        if dim.versioned:
            h = dim.history
            history = _generated((h.valid_from, _TIMESTAMP), (h.valid_to, _TIMESTAMP), (h.is_current, _BOOL))
            for opt, col in zip(("valid_from", "valid_to", "is_current"), history.values(), strict=True):
                node = items.one(opt)
                where = node.span if node is not None else at
                self.add_column(target, col, where, owner, f"`{opt}` column", f"rename it with `{opt} NAME`")
        system = [(dim.name + KEY_SUFFIX, ir.Type("string")), (CHANGED_AT, _TIMESTAMP)]
        system += [(LOADED_AT, _TIMESTAMP), (UPDATED_AT, _TIMESTAMP)]
        if dim.deletes.mode == "tombstone":
            system.append((IS_DELETED, _BOOL))
        return target | {n: c for n, c in _generated(*system).items() if n not in target}

    def add_column(self, target: Target, col: ir.Column, span: ast.Span, owner: str, what: str, hint: str) -> None:
        if col.name in target:
            self.err("E201", f"`{col.name}` is both a column of {owner} and its {what}", span, hint=hint)
        else:
            target[col.name] = col

    def fact(self, e: ast.Fact) -> ir.Fact:
        name = e.name.value
        owner = f"fact `{name}`"
        items = self.gather(e, owner)
        base = self.source_scope(e.source)
        derived = self.derived(items.all("derive"), base, owner)
        scope = base.extend(d.column for d in derived.values())
        target: Target = {d.column.name: d.column for d in derived.values()} | _generated((LOADED_AT, _TIMESTAMP))
        grain_node = items.one("grain")
        if grain_node is None:
            self.err("E313", f"{owner} needs a `grain`", e.name.span, hint="add `grain COLUMNS` (what one row is)")
        grain = self.columns(grain_node.columns if grain_node else (), scope, "grain column", owner)
        references = self.references(items.all("reference"), scope, owner, target)
        measures = self.measures(items.all("measure"), scope, owner, derived)
        seen: dict[str, ast.Span] = {}
        degenerate = [
            c
            for node in items.all("degenerate")
            for c in self.columns(node.columns, scope, "degenerate column", owner, seen)
        ]
        incremental = None
        if (inc := items.one("incremental")) is not None:
            col = self.column(scope, inc.column)
            if col.type is not _UNKNOWN and not (col.type.is_temporal or col.type.is_numeric):
                self.err(
                    "E324",
                    f"`incremental on` column `{col.name}` is {col.type}; it must be a date, timestamp or number",
                    inc.column.span,
                )
            incremental = inc.column.value
            target[col.name] = col
        for col in (*grain, *degenerate):
            target[col.name] = col
        for m in measures:
            target[m.name] = (scope.columns or {}).get(m.name, ir.Column(m.name, m.type))
        self.targets[name] = target
        return ir.Fact(
            name=name,
            source=e.source.value,
            grain=tuple(grain),
            references=tuple(references),
            measures=tuple(measures),
            degenerate=tuple(degenerate),
            derived=tuple(ir.DerivedColumn(d.column.name, d.column.type, d.sql, d.node.span) for d in derived.values()),
            incremental=incremental,
            load=self.option_choice(items.one("load"), "upsert"),  # type: ignore[arg-type]
            duplicates=self.option_choice(items.one("duplicates"), "error"),  # type: ignore[arg-type]
            filter=self.filter(items.one("where"), base),
            physical=self.physical(items, target, owner),
            tests=self.tests(items.all("test"), target, owner, name),
            doc=e.doc,
            span=e.span,
        )

    def references(
        self, nodes: list[ast.Reference], scope: _Scope, owner: str, target: Target
    ) -> list[ir.DimensionRef]:
        out = []
        roles: dict[str, ast.Span] = {}
        for r in nodes:
            if self.duplicate(roles, r.role, "role", owner):
                continue
            dim = self.resolve(r.dimension, ("dimension", "calendar"), "E205", "dimension")
            if isinstance(dim, ir.Calendar):
                columns = self.calendar_columns(r, scope)
            elif isinstance(dim, ir.Dimension):
                hint = (
                    f"the reference matches the key of `{dim.name}` by name; list the fact's columns: "
                    f"`{r.role.value} -> {dim.name}(...)`"
                )
                columns = self.match_key(r.columns, dim.key, scope, f"dimension `{dim.name}`", r.dimension.span, hint)
            else:
                columns = tuple(self.column(scope, n) for n in r.columns)
            at = None
            if r.at is not None:
                col = self.column(scope, r.at)
                if col.type is not _UNKNOWN and not col.type.is_temporal:
                    self.err(
                        "E303", f"`at` column `{col.name}` is {col.type}; it must be a date or timestamp", r.at.span
                    )
                if isinstance(dim, ir.Calendar) or (isinstance(dim, ir.Dimension) and not dim.versioned):
                    self.warn(
                        "W204",
                        f"dimension `{dim.name}` keeps no history, so `at {r.at.value}` changes nothing",
                        r.at.span,
                        hint="`at` picks a version of a dimension with scd2 columns; remove it",
                    )
                at = r.at.value
                target[col.name] = col
            for col in columns:
                target[col.name] = col
            key_type = ir.Type("int") if isinstance(dim, ir.Calendar) else ir.Type("string")  # yyyymmdd or a hash
            target |= _generated((r.role.value + KEY_SUFFIX, key_type))
            out.append(ir.DimensionRef(r.role.value, r.dimension.value, tuple(c.name for c in columns), at, r.span))
        return out

    def calendar_columns(self, r: ast.Reference, scope: _Scope) -> tuple[ir.Column, ...]:
        """A calendar is matched on one date or timestamp column (by default the one named like the role)."""
        names = r.columns
        if not names and scope.columns is not None and r.role.value in scope.columns:
            names = (r.role,)
        if len(names) != 1:
            self.err(
                "E304",
                f"a calendar reference takes one date or timestamp column, not {len(names)}",
                _names_span(names, r.span),
                hint=f"write `{r.role.value} -> {r.dimension.value}(COLUMN)`",
            )
            return tuple(self.column(scope, n) for n in names)
        col = self.column(scope, names[0])
        if col.type is not _UNKNOWN and not col.type.is_temporal:
            self.err(
                "E304",
                f"a calendar reference takes a date or timestamp column; `{col.name}` is {col.type}",
                names[0].span,
            )
        return (col,)

    def measures(
        self, nodes: list[ast.Measure], scope: _Scope, owner: str, derived: Mapping[str, _Derived]
    ) -> list[ir.Measure]:
        out = []
        seen: dict[str, ast.Span] = {}
        for m in nodes:
            if self.duplicate(seen, m.name, "measure", owner):
                continue
            col = self.column(scope, m.name)
            agg = "sum"
            if m.aggregation is not None:
                agg = m.aggregation.value
                if agg not in AGGREGATIONS:
                    self.unknown(
                        "E306",
                        f"unknown aggregation `{agg}`",
                        m.aggregation.span,
                        agg,
                        AGGREGATIONS,
                        hint="aggregations: " + ", ".join(AGGREGATIONS),
                    )
                    agg = "none"
            if agg in ("sum", "avg") and col.type is not _UNKNOWN and not col.type.is_numeric:
                span = m.aggregation.span if m.aggregation is not None else m.name.span
                hint = "use count, count_distinct, min, max or none"
                d = derived.get(col.name)
                if d is not None and d.node.type is None:  # its type was inferred, or defaulted to string
                    hint = f"declare the derived column's type: `derive {col.name} decimal(18, 2) = ...`"
                self.err("E305", f"measure `{m.name.value}` is {col.type}; `{agg}` needs a number", span, hint=hint)
            out.append(ir.Measure(m.name.value, col.type, agg, m.span))  # type: ignore[arg-type]
        return out

    # ---- data vault ------------------------------------------------------------------------------

    def hub(self, e: ast.Hub) -> ir.Hub:
        name = e.name.value
        owner = f"hub `{name}`"
        items = self.gather(e, owner)
        key_node = items.one("key")
        if key_node is None:
            self.err("E313", f"{owner} needs a `key`", e.name.span, hint="add `key COLUMNS` (the business key)")
        seen: dict[str, ast.Span] = {}
        key_names = [
            n for n in (key_node.columns if key_node else ()) if not self.duplicate(seen, n, "key column", owner)
        ]
        record_source = self.record_source(items.one("record_source"))
        key: tuple[ir.Column, ...] = tuple(ir.Column(n.value, _UNKNOWN, span=n.span) for n in key_names)
        mappings = []
        for i, ref in enumerate(e.sources):
            scope = self.source_scope(ref.source)
            hint = f"the key of {owner} is looked up by name; map it: `{ref.source.value}(...)`"
            cols = self.match_key(ref.columns, key, scope, owner, ref.source.span, hint)
            mappings.append(
                ir.SourceMapping(ref.source.value, tuple(c.name for c in cols), record_source or ref.source.value)
            )
            if i == 0 and len(cols) == len(key):  # the first source types the key
                key = tuple(
                    ir.Column(k.name, c.type, c.nullable, c.pii, c.doc, k.span) for k, c in zip(key, cols, strict=True)
                )
                for n, c in zip(key_names, cols, strict=True):
                    if c.pii:
                        self.warn(
                            "W201",
                            f"business key `{n.value}` of {owner} is pii",
                            n.span,
                            hint="hash keys of personal data are still personal data; prefer a surrogate id",
                        )
        target = _generated(
            (name + HASH_KEY_SUFFIX, self.hash_type), (LOAD_TS, _TIMESTAMP), (RECORD_SOURCE, ir.Type("string"))
        )
        target.update({k.name: k for k in key})
        self.targets[name] = target
        return ir.Hub(
            name,
            key,
            tuple(mappings),
            self.physical(items, target, owner),
            self.tests(items.all("test"), target, owner, name),
            e.doc,
            e.span,
        )

    def single_source(self, e: ast.Link | ast.Satellite, owner: str, hint: str) -> ast.SourceRef:
        """Links and satellites read one source; its column list, if any, is in the wrong place."""
        for extra in e.sources[1:]:
            self.err("E320", f"{owner} reads one source; `{extra.source.value}` is one too many", extra.span)
        ref = e.sources[0]
        if ref.columns:
            self.err(
                "E325", f"the source of {owner} takes no column list", _names_span(ref.columns, ref.span), hint=hint
            )
        return ref

    def link(self, e: ast.Link) -> ir.Link:
        name = e.name.value
        owner = f"link `{name}`"
        items = self.gather(e, owner)
        ref = self.single_source(e, owner, "the `hubs` line names each hub's columns")
        scope = self.source_scope(ref.source)
        hubs: list[ir.LinkHub] = []
        node = items.one("hubs")
        if node is None:
            self.err("E313", f"{owner} needs a `hubs` line", e.name.span, hint="add `hubs HUB(COLUMNS), HUB(COLUMNS)`")
        else:
            hubs = self.link_hubs(node, scope, owner)
        seen: dict[str, ast.Span] = {}
        child = [c for n in items.all("child") for c in self.columns(n.columns, scope, "child column", owner, seen)]
        payload = [
            c for n in items.all("payload") for c in self.columns(n.columns, scope, "payload column", owner, seen)
        ]
        transactional = items.one("transactional") is not None
        if payload and not transactional:
            self.warn(
                "W205",
                f"{owner} is not transactional, so its payload is not kept with history",
                items.one("payload").span,
                hint="add `transactional`, or move the columns to a satellite",
            )
        hash_keys = [(n + HASH_KEY_SUFFIX, self.hash_type) for n in (name, *(h.role for h in hubs))]
        target = _generated(*hash_keys, (LOAD_TS, _TIMESTAMP), (RECORD_SOURCE, ir.Type("string")))
        target.update({c.name: c for c in (*child, *payload)})
        self.targets[name] = target
        record_source = self.record_source(items.one("record_source")) or ref.source.value
        return ir.Link(
            name,
            ref.source.value,
            record_source,
            tuple(hubs),
            tuple(child),
            transactional,
            tuple(payload),
            self.physical(items, target, owner),
            self.tests(items.all("test"), target, owner, name),
            e.doc,
            e.span,
        )

    def link_hubs(self, node: ast.Hubs, scope: _Scope, owner: str) -> list[ir.LinkHub]:
        out = []
        roles: dict[str, ast.Span] = {}
        for hr in node.hubs:
            hub = self.resolve(hr.hub, ("hub",), "E206", "hub")
            role = hr.role.value if hr.role is not None else hr.hub.value
            if role in roles:
                span = hr.role.span if hr.role is not None else hr.hub.span
                if hr.role is None:
                    self.err(
                        "E315",
                        f"hub `{role}` appears twice in {owner}",
                        span,
                        hint=f"give each its own role: `{role}(...) as ROLE`",
                    )
                else:
                    self.err(
                        "E315", f"duplicate role `{role}` in {owner}", span, hint=f"first at line {roles[role].line}"
                    )
                continue
            roles[role] = hr.role.span if hr.role is not None else hr.hub.span
            key = hub.key if isinstance(hub, ir.Hub) else ()
            cols = self.match_key(hr.columns, key, scope, f"hub `{hr.hub.value}`", hr.span, None)
            out.append(ir.LinkHub(hr.hub.value, role, tuple(c.name for c in cols)))
        if len(node.hubs) < 2:
            self.err(
                "E314",
                f"{owner} links {len(node.hubs)} hub; a link needs two or more",
                node.span,
                hint="a hub linked to itself needs two roles: `hub(a) as x, hub(b) as y`",
            )
        return out

    def satellite(self, e: ast.Satellite) -> ir.Satellite:
        name = e.name.value
        owner = f"satellite `{name}`"
        items = self.gather(e, owner)
        parent = self.resolve(e.parent, ("hub", "link"), "E206", "hub or link")
        ref = self.single_source(e, owner, f"write the key columns on the parent: `of {e.parent.value}(...)`")
        scope = self.source_scope(ref.source)
        parent_columns: tuple[ir.Column, ...] = ()
        if isinstance(parent, ir.Hub):
            hint = f"the key of hub `{parent.name}` is looked up by name; map it: `of {parent.name}(...)`"
            parent_columns = self.match_key(e.parent_columns, parent.key, scope, f"hub `{parent.name}`", ref.span, hint)
            self.sats_by_hub[parent.name].append(name)
            if self.trace is not None:
                self.trace.sats.append((parent.name, name))
        elif isinstance(parent, ir.Link):
            if e.parent_columns:
                self.err(
                    "E325",
                    f"a satellite of link `{parent.name}` takes no key columns",
                    _names_span(e.parent_columns, e.parent.span),
                    hint="the link's hub columns are read from the satellite's source",
                )
            self.link_columns(parent, scope, ref.span)
        kinds = [
            n for n in (items.one("multi_active"), items.one("effectivity"), items.one("tracking")) if n is not None
        ]
        for extra in kinds[1:]:
            self.err("E321", f"{owner} can be only one of multi_active, effectivity or tracking", extra.span)
        seen: dict[str, ast.Span] = {}  # a column is multi-active or payload, not both
        multi = [c for n in items.all("multi_active") for c in self.columns(n.columns, scope, "column", owner, seen)]
        payload = [c for n in items.all("payload") for c in self.columns(n.columns, scope, "column", owner, seen)]
        kind = "standard"
        if kinds:
            kind = {ast.MultiActive: "multi_active", ast.Effectivity: "effectivity", ast.Tracking: "tracking"}[
                type(kinds[0])
            ]
        if not payload and kind in ("standard", "multi_active") and items.one("payload") is None:
            self.err(
                "E313",
                f"{owner} needs a `payload`",
                e.name.span,
                hint="add `payload COLUMNS`, or make it `tracking` or `effectivity`",
            )
        driving = self.driving(items.one("effectivity"), parent, e.parent)
        changed_by = self.satellite_order(items, scope, kind, owner)
        target = _generated(
            (e.parent.value + HASH_KEY_SUFFIX, self.hash_type),
            (LOAD_TS, _TIMESTAMP),
            (RECORD_SOURCE, ir.Type("string")),
        )
        if kind == "effectivity":
            target |= _generated((START_TS, _TIMESTAMP), (END_TS, _TIMESTAMP), (IS_ACTIVE, _BOOL))
        elif kind != "tracking":
            target |= _generated((HASH_DIFF, self.hash_type)) | {c.name: c for c in (*multi, *payload)}
        if changed_by is not None:
            target[changed_by.name] = changed_by
        self.targets[name] = target
        return ir.Satellite(
            name=name,
            parent=e.parent.value,
            parent_kind="link" if isinstance(parent, ir.Link) else "hub",
            source=ref.source.value,
            record_source=self.record_source(items.one("record_source")) or ref.source.value,
            parent_columns=tuple(c.name for c in parent_columns),
            payload=tuple(payload),
            satellite_kind=kind,  # type: ignore[arg-type]
            multi_active=tuple(multi),
            driving=driving,
            changed_by=changed_by.name if changed_by is not None else None,
            late=self.option_choice(items.one("late"), "ignore"),  # type: ignore[arg-type]
            physical=self.physical(items, target, owner),
            tests=self.tests(items.all("test"), target, owner, name),
            doc=e.doc,
            span=e.span,
        )

    def satellite_order(self, items: Any, scope: _Scope, kind: str, owner: str) -> ir.Column | None:
        """`changed_by`: the source column that orders several deltas of one key in a batch; `late`
        needs it (a row is late against the change time of the stored rows)."""
        node = self.option_name(items.one("changed_by"))
        late = items.one("late")
        if node is None:
            if late is not None:
                self.warn(
                    "W206",
                    f"`late` on {owner} has no effect without `changed_by`: a row is late when it changed "
                    "before the stored rows",
                    late.span,
                    hint="add `changed_by COLUMN` (a date or timestamp of the source)",
                )
            return None
        if kind != "standard":
            self.err(
                "E327",
                f"`changed_by` is not supported on a {kind.replace('_', '-')} satellite",
                node.span,
                hint="deliver one state per key and batch, or use a standard satellite",
            )
            return None
        col = self.column(scope, node)
        if col.type is not _UNKNOWN and not col.type.is_temporal:
            self.err(
                "E309",
                f"`changed_by` column `{col.name}` is {col.type}; it must be a date or timestamp",
                node.span,
            )
            return None
        return col if col.type is not _UNKNOWN else None

    def link_columns(self, link: ir.Link, scope: _Scope, at: ast.Span) -> None:
        """A satellite of a link reads the link's key (hub columns and child keys) from its own source."""
        if scope.columns is None:
            return
        needed = [*(c for h in link.hubs for c in h.columns), *(c.name for c in link.child)]
        for c in needed:
            if c not in scope.columns:
                hint = f"a satellite of link `{link.name}` reads its key columns ({_listing(needed)}) from its source"
                self.err("E204", f"unknown column `{c}` in {scope.owner}", at, hint=hint)

    def driving(self, node: ast.Effectivity | None, parent: Any, ref: ast.Name) -> str | None:
        """The role of the driving hub: `driving` names a role of the link, or a hub it links once."""
        if node is None:
            return None
        if not isinstance(parent, ir.Link):
            if parent is not None:
                self.err(
                    "E317",
                    f"an effectivity satellite needs a link as its parent; `{ref.value}` is a hub",
                    node.span,
                    hint="effectivity tracks which relationship of a link is current",
                )
            return None
        word = node.driving.value
        roles = [h.role for h in parent.hubs]
        if word in roles:
            return word
        playing = [h.role for h in parent.hubs if h.hub == word]
        if len(playing) == 1:
            return playing[0]
        if playing:
            self.err(
                "E316",
                f"hub `{word}` plays {len(playing)} roles in link `{parent.name}`",
                node.driving.span,
                hint="name one: " + _listing(playing),
            )
            return None
        self.unknown(
            "E316",
            f"`{word}` is not a hub or role of link `{parent.name}`",
            node.driving.span,
            word,
            dict.fromkeys([*roles, *(h.hub for h in parent.hubs)]),
        )
        return None

    def pit(self, e: ast.Pit) -> ir.Pit:
        name = e.name.value
        owner = f"PIT `{name}`"
        items = self.gather(e, owner)
        hub = self.resolve(e.hub, ("hub",), "E206", "hub")
        node = items.one("satellites")
        satellites: list[str] = []
        if node is None:
            # Default: every satellite of the hub, in declaration order.
            satellites = list(self.sats_by_hub.get(e.hub.value, ())) if hub is not None else []
            self.note("sats", e.hub.value, tuple(satellites) if hub is not None else ())
            if hub is not None and not satellites:
                self.err(
                    "E313",
                    f"{owner} needs satellites, and hub `{hub.name}` has none",
                    e.name.span,
                    hint="declare a satellite of the hub, or list them: `satellites SAT, ...`",
                )
        else:
            seen: dict[str, ast.Span] = {}
            for n in node.names:
                if self.duplicate(seen, n, "satellite", owner):
                    continue
                sat = self.resolve(n, ("satellite",), "E208", "satellite")
                if isinstance(sat, ir.Satellite) and hub is not None and sat.parent != hub.name:
                    self.err(
                        "E318",
                        f"satellite `{sat.name}` belongs to `{sat.parent}`, not to hub `{hub.name}`",
                        n.span,
                        hint=("satellites of the hub: " + _listing(self.sats_by_hub[hub.name]))
                        if self.note("sats", hub.name, tuple(self.sats_by_hub.get(hub.name, ())))
                        else None,
                    )
                satellites.append(n.value)
        target = _generated((e.hub.value + HASH_KEY_SUFFIX, self.hash_type), (SNAPSHOT_DATE, _DATE))
        for sat_name in satellites:
            target |= _generated((sat_name + HASH_KEY_SUFFIX, self.hash_type), (sat_name + LOAD_TS_SUFFIX, _TIMESTAMP))
        self.targets[name] = target
        return ir.Pit(
            name,
            e.hub.value,
            tuple(satellites),
            self.spine(items.one("spine")),
            self.physical(items, target, owner),
            self.tests(items.all("test"), target, owner, name),
            e.doc,
            e.span,
        )

    def bridge(self, e: ast.Bridge) -> ir.Bridge:
        name = e.name.value
        owner = f"bridge `{name}`"
        items = self.gather(e, owner)
        hub = self.resolve(e.hub, ("hub",), "E206", "hub")
        node = items.one("links")
        links: list[str] = []
        if node is None:
            self.err("E313", f"{owner} needs a `links` line", e.name.span, hint="add `links LINK, ...`")
        else:
            reached = {e.hub.value}  # hubs the walk has reached so far
            seen: dict[str, ast.Span] = {}
            for n in node.names:
                if self.duplicate(seen, n, "link", owner):
                    continue
                link = self.resolve(n, ("link",), "E207", "link")
                if isinstance(link, ir.Link):
                    hubs = {h.hub for h in link.hubs}
                    if hub is not None and not hubs & reached:
                        before = " or the links before it" if len(reached) > 1 else ""
                        self.err(
                            "E319",
                            f"link `{link.name}` does not connect to hub `{e.hub.value}`{before}",
                            n.span,
                            hint=f"it links {_listing(sorted(hubs))}",
                        )
                    reached |= hubs
                links.append(n.value)
        target = _generated((e.hub.value + HASH_KEY_SUFFIX, self.hash_type), (SNAPSHOT_DATE, _DATE))
        target |= _generated(*((link + HASH_KEY_SUFFIX, self.hash_type) for link in links))
        self.targets[name] = target
        return ir.Bridge(
            name,
            e.hub.value,
            tuple(links),
            self.spine(items.one("spine")),
            self.physical(items, target, owner),
            self.tests(items.all("test"), target, owner, name),
            e.doc,
            e.span,
        )

    def spine(self, node: ast.Spine | None) -> ir.Spine:
        if node is None:
            return ir.Spine()
        every = self.choice(node.every.value, node.every.span, "spine") or "day"
        start, end = _date(node.start), _date(node.end)
        if start is not None and end is not None and start > end:
            self.err(
                "E312",
                f"spine range is reversed: {start} is after {end}",
                _join(node.start.span, node.end.span),
                hint="write `from EARLIER to LATER`",
            )
        return ir.Spine(every, start, end)  # type: ignore[arg-type]


def analyze(
    modules: Sequence[ast.Module], cache: AnalysisCache | None = None
) -> tuple[ir.Model | None, list[Diagnostic]]:
    """Resolve and check `modules` (the root file first, then the files it imports).

    Returns the model (None when there is any error) and every diagnostic, sorted. With a `cache` (kept by
    the caller between runs over an edited model), entities whose statements and references did not change
    are taken from the last run: same result, less work.
    """
    from .parser import fewer_collections

    if cache is not None:
        cache.reused = 0
    with fewer_collections():
        return _Analyzer().run(modules, cache)
