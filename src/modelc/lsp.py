"""`modelc lsp`: a language server for `.dm` files (pygls 2.x, stdio).

Each open document is analysed as the root of a model as `modelc check` loads one (`load_model` follows
`loader.load_text` step by step; a test checks they agree), so the editor shows exactly the CLI's
diagnostics. Imports of open documents are read from the editor's buffers, not the disk, so an unsaved
change to an imported file is seen by the files importing it. An edit is analysed at once after a pause,
and once a burst of edits pauses; only the statements it touched are parsed again, and only the entities
they declare and those reading them are checked again (`semantic.AnalysisCache`); the navigation index is
built when a feature first needs it, after the diagnostics are out. Every handler is
guarded so a bug logs instead of killing the server. Positions: spans count characters from 1, LSP counts
the client's code units (UTF-16 by default) from 0; the workspace's position codec converts.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import gc
import inspect
import itertools
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, is_dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import ServerTextPosition

from . import __version__, ast, ir, loader
from .diagnostics import Diagnostic, Edit, Severity
from .fmt import string as fmt_string
from .loader import LoadResult
from .parser import _MAX_REPAIRS, TOP_KEYWORDS, ParseResult, lark_parser, parse
from .semantic import AnalysisCache

if TYPE_CHECKING:
    from .api import CompileResult

log = logging.getLogger("modelc.lsp")

DEBOUNCE_SECONDS = 0.15
# The server turns the cyclic garbage collector off (its full passes over a large model's trees took 0.3 s, at
# random moments while typing; the trees hold no cycles, so reference counting frees them) and collects when the
# user pauses, or after a long stretch of typing.
IDLE_COLLECT_SECONDS = 1.0
MAX_COLLECT_INTERVAL = 30.0
SHOW_SQL_COMMAND = "modelc.showCompiledSql"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
_SYMBOL_KIND = {
    "source": types.SymbolKind.Struct, "dimension": types.SymbolKind.Class, "calendar": types.SymbolKind.Class,
    "fact": types.SymbolKind.Class, "hub": types.SymbolKind.Interface, "link": types.SymbolKind.Interface,
    "satellite": types.SymbolKind.Object, "pit": types.SymbolKind.Object, "bridge": types.SymbolKind.Object,
}  # fmt: skip
# After these keywords a name is an entity of one of these kinds (for completion).
_ENTITY_AFTER = {
    "from": ("source",), "->": ("dimension", "calendar"), "of": ("hub", "link"), "references": None,
    "satellites": ("satellite",), "links": ("link",), "hubs": ("hub",),
}  # fmt: skip
_NAME_RE = re.compile(r"(?!\d)\w+")
_QNAME_RE = re.compile(r"(?!\d)\w+(\.(?!\d)\w+)*")
_PARTIAL_WORD = re.compile(r"\w*\Z")

Key = tuple[str, ...]  # ("entity", name) or ("column", source, column)


# ---- file identity and imports from open buffers ------------------------------------------------


# called per name occurrence on every lookup: spare the file system
_file_key = functools.lru_cache(maxsize=4096)(loader.file_key)


def _uri_to_file(uri: str) -> str:
    return uris.to_fs_path(uri) or uri  # an `untitled:` document keeps its URI as its file name


_OPEN_TEXTS: dict[str, str] = {}  # file key -> editor text of each open document
_OPEN_URIS: dict[str, str] = {}  # file key -> the URI the client opened it by (its spelling, or `untitled:`)


def _file_to_uri(file: str) -> str:
    return _OPEN_URIS.get(_file_key(file)) or uris.from_fs_path(file) or file


# ---- positions --------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return text.split("\n")  # as the parser counts lines (pygls' `lines` also splits on \r, \f, ...)


@dataclass(slots=True)
class _Text:
    """A file's text with conversions between LSP positions, spans and character offsets."""

    text: str
    lines: list[str] = field(init=False)
    starts: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = _lines(self.text)
        self.starts, pos = [], 0
        for line in self.lines:
            self.starts.append(pos)
            pos += len(line) + 1

    def position(self, ls: LanguageServer, line: int, char: int) -> types.Position:
        return ls.workspace.position_codec.position_to_client_units(self.lines, ServerTextPosition(line, char))

    def range(self, ls: LanguageServer, span: ast.Span) -> types.Range:
        if span.file == ast.NO_SPAN.file:
            span = ast.Span(span.file, 1, 1, 1, 1)
        start = self.position(ls, span.line - 1, span.column - 1)
        end = self.position(ls, span.end_line - 1, span.end_column - 1)
        return types.Range(start, end if (end.line, end.character) >= (start.line, start.character) else start)

    def offset(self, ls: LanguageServer, pos: types.Position) -> int:
        if pos.line >= len(self.lines):
            return len(self.text)
        server = ls.workspace.position_codec.position_from_client_units(
            self.lines, types.Position(pos.line, pos.character)
        )
        return self.starts[server.line] + min(server.character, len(self.lines[server.line]))

    def end(self, ls: LanguageServer) -> types.Position:
        return self.position(ls, len(self.lines) - 1, len(self.lines[-1]))

    def position_at(self, ls: LanguageServer, offset: int) -> types.Position:
        line = bisect.bisect_right(self.starts, offset) - 1
        return self.position(ls, line, offset - self.starts[line])


# ---- the index: which name refers to what ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Occurrence:
    file: str
    span: ast.Span
    key: Key
    decl: bool


@dataclass(slots=True)
class Index:
    entities: dict[str, tuple[str, ast.Node]] = field(default_factory=dict)  # name -> (file, node)
    columns: dict[str, dict[str, ast.Column]] = field(default_factory=dict)  # source -> column -> node
    occurrences: list[Occurrence] = field(default_factory=list)

    def at(self, file: str, offset: int) -> Occurrence | None:
        """The innermost name in `file` covering `offset` (a cursor right after a name counts)."""
        key = _file_key(file)
        hits = [o for o in self.occurrences if _file_key(o.file) == key and o.span.start <= offset <= o.span.end]
        return min(hits, key=lambda o: o.span.end - o.span.start, default=None)


def _item_names(item: ast.Node) -> tuple[list[ast.Node], list[ast.Name]]:
    """(names that may be columns of the entity's source(s), names of entities) in one body item."""
    match item:
        case ast.Reference():
            return [*item.columns, *([item.at] if item.at else [])], [item.dimension]
        case ast.Hubs():
            return [c for h in item.hubs for c in h.columns], [h.hub for h in item.hubs]
        case ast.Satellites() | ast.Links():
            return [], list(item.names)
        case ast.TestReferences():
            return list(item.columns), [item.entity]
        case ast.Scd():
            return [c.name for c in item.columns], []
        case ast.Option():
            return ([item.value] if item.value.kind == "name" else []), []
        case ast.Measure():
            return [item.name], []
        case ast.Effectivity():
            return [item.driving], []
        case ast.PartitionBy() | ast.DistKey() | ast.Incremental() | ast.TestAccepted() | ast.TestRange():
            return [item.column], []
        case ast.Derive() | ast.Where() | ast.Deletes() | ast.Spine() | ast.Engine() | ast.DistStyle():
            return [], []
    return list(getattr(item, "columns", ())), []


def _entity_sources(entity: ast.Node) -> list[ast.QName]:
    if isinstance(entity, ast.Dimension | ast.Fact):
        return [entity.source]
    return [r.source for r in getattr(entity, "sources", ())]


def build_index(result: LoadResult) -> Index:
    idx = Index()
    for file, module in result.modules.items():
        for e in module.entities:
            idx.entities.setdefault(ast.entity_name(e), (file, e))
            if isinstance(e, ast.Source):
                idx.columns.setdefault(e.name.value, {c.name.value: c for c in e.items if isinstance(c, ast.Column)})
    occ = idx.occurrences
    for file, module in result.modules.items():
        for e in module.entities:
            name = ast.entity_name(e)
            occ.append(Occurrence(file, e.name.span, ("entity", name), True))
            if isinstance(e, ast.Source):
                for c in e.items:
                    if isinstance(c, ast.Column):
                        occ.append(Occurrence(file, c.name.span, ("column", name, c.name.value), True))
            sources = [q.value for q in _entity_sources(e)]
            refs: list[ast.Node] = list(_entity_sources(e))
            refs += [n for n in (getattr(e, "parent", None), getattr(e, "hub", None)) if n is not None]
            cols: list[tuple[ast.Node, list[str]]] = []  # (name, the sources it may be a column of)
            for r in getattr(e, "sources", ()):
                cols += [(c, [r.source.value]) for c in r.columns]
            for item in getattr(e, "items", ()):
                if isinstance(item, ast.Column):
                    continue
                maybe_cols, entity_refs = _item_names(item)
                cols += [(c, sources) for c in maybe_cols]
                refs += entity_refs
                if isinstance(item, ast.TestReferences):  # its target columns belong to the referenced entity
                    cols += [(c, [item.entity.value]) for c in item.target_columns]
            if isinstance(e, ast.Source):
                cols = [(c, [name]) for c, _ in cols]
            for r in refs:
                value = r.value  # type: ignore[attr-defined]
                if value in idx.entities:
                    occ.append(Occurrence(file, r.span, ("entity", value), False))  # type: ignore[attr-defined]
            for c, candidates in cols:
                text = c.text if isinstance(c, ast.Literal) else c.value  # type: ignore[attr-defined]
                src = next((s for s in candidates if text in idx.columns.get(s, {})), None)
                if src is not None:
                    occ.append(Occurrence(file, c.span, ("column", src, text), False))  # type: ignore[attr-defined]
    return idx


# ---- loading with parses kept between edits -----------------------------------------------------------
#
# A 5,000-line model takes a few hundred milliseconds to parse, and a keystroke changes one statement of it.
# An open file is cut into top-level statements (a line starting with a top keyword, with the comment lines
# right above it); each statement is parsed on its own and kept, so an edit re-parses only the statements it
# touched and moves the others' positions. Whenever the pieces might not add up to what parsing the whole
# file gives (a syntax error that may reach past its statement, a warning, a tab, statements out of order), the
# whole file is parsed. Closed imported files are parsed again only when their bytes change. The statements
# moved are reported to the semantic stage (`_MOVED`), which then moves what it built from them instead of
# building it again.

_STATEMENT_LINE = re.compile("^(?:" + "|".join(sorted(TOP_KEYWORDS)) + r")\b", re.M)
_COMMENT_LINE = re.compile(r"[ \t]*#[^\n]*\n\Z")
_MIN_PIECES = 8  # a smaller file is parsed whole: the bookkeeping would not pay


@dataclass(slots=True)
class _Piece:
    line: int  # 0-based line and character offset of the piece the cached tree's positions count from
    offset: int
    module: ast.Module
    diagnostics: tuple[Diagnostic, ...]
    repairs: int  # repairs the parser weighed in it (`parser._MAX_REPAIRS` per file)


_PIECES: dict[str, dict[str, _Piece]] = {}  # file key -> piece text -> its parse (positions of its last use)
_DISK_PARSES: dict[str, tuple[bytes, ParseResult]] = {}  # file key -> bytes of a closed file, their parse
_SHIFTERS: dict[type, Callable[[Any, int, int], Any]] = {}
# Errors the parser finds in a type (`strin`, `decimal(40, 2)`) once the statement is read: they depend on the
# statement alone, wherever they are.
_LOCAL_ERRORS = frozenset(("E110", "E111"))
# Syntax errors inside a statement (`scdd`, a missing name): the parser reads them the same in the whole file
# when the statement still ends in its piece (no E107/E108) and no look-ahead weighing a repair ran past the
# piece's end (`ParseResult.clipped`). Pieces of a whole file's parse are not checked that way: they are kept
# only without such errors.
_STATEMENT_ERRORS = frozenset(("E101", "E102", "E103", "E104", "E105", "E106", "E109", *_LOCAL_ERRORS))


def _stands_alone(result: ParseResult) -> bool:
    """Whether a piece parsed alone reads as it would in the whole file."""
    if not all(d.code in _STATEMENT_ERRORS for d in result.diagnostics):
        return False
    return not (result.clipped and any(d.code not in _LOCAL_ERRORS for d in result.diagnostics))


def _statement_starts(text: str) -> list[int]:
    """Offsets where top-level statements start, each with the comment lines right above it."""
    starts = []
    for m in _STATEMENT_LINE.finditer(text):
        start = m.start()
        while start > 0:
            above = text.rfind("\n", 0, start - 1) + 1
            if not _COMMENT_LINE.match(text, above, start):
                break
            start = above
        if not starts or start > starts[-1]:
            starts.append(start)
    if starts:
        starts[0] = 0  # what comes before the first statement (comments) goes with it
    return starts


def _shift_span(span: ast.Span, lines: int, chars: int) -> ast.Span:
    if span.file == ast.NO_SPAN.file:
        return span
    return ast.Span(span.file, span.line + lines, span.column, span.end_line + lines, span.end_column,
                    span.start + chars, span.end + chars)  # fmt: skip


_PLAIN = frozenset(("str", "str | None", "bool", "int", "int | None", "tuple[int, ...]", "tuple[str, ...]",
                    "Severity"))  # fmt: skip
_MOVED_SPAN = (
    "(s if (s := v.{0}).file == NO_FILE else "
    "Span(s.file, s.line + a, s.column, s.end_line + a, s.end_column, s.start + b, s.end + b))"
)
# (file, start, end, lines, chars): spans starting in [start, end) of `file` move by (lines, chars)
Move = tuple[str, int, int, int, int]


def _field_class(cls: type, annotation: str) -> type | None:
    """The dataclass a field annotation names (`Name`, `tuple[Column, ...]`, `Edit | None`) where `cls` is defined."""
    name = annotation.removeprefix("tuple[").removesuffix(", ...]").removesuffix(" | None")
    found = vars(sys.modules[cls.__module__]).get(name) or {"Diagnostic": Diagnostic, "Edit": Edit}.get(name)
    return found if isinstance(found, type) and is_dataclass(found) else None


@functools.cache
def _spanless(cls: type) -> bool:
    """Whether a `cls` can hold no span (`ir.Type`): moving it is the identity."""
    if cls is ast.Span or cls is ast.Node:  # a node field may hold any node
        return False
    for f in dataclass_fields(cls):
        kind = str(f.type)
        if kind == "Span":
            return False
        if kind in _PLAIN:
            continue
        target = _field_class(cls, kind)
        plain_alias = target is None and not isinstance(vars(sys.modules[cls.__module__]).get(kind), type | None)
        if not (plain_alias or (target is not None and target is not cls and _spanless(target))):
            return False
    return True


def _mover(cls: type, remap: bool) -> Callable[[Any, Any, Any], Any]:
    """A function rebuilding a `cls` with its spans moved: generated, as this runs for every node of a file
    below an edit. `f(v, lines, chars)` moves every span alike; with `remap`, `f(v, moves, None)` moves each
    span as the first of `moves` it starts in says (`_remap_span`). Spans are moved inline, a field of a known
    node type calls that type's function directly (no dispatch on the value's type), one that holds no span is
    kept; other fields go through `_shift`/`_remap`."""
    if _spanless(cls):
        return lambda v, a, b: v
    generic = "remap" if remap else "shift"
    args, scope = [], {"cls": cls, "shift": _shift, "remap": _remap, "remap_span": _remap_span, "Span": ast.Span,
                       "NO_FILE": ast.NO_SPAN.file}  # fmt: skip
    for f in dataclass_fields(cls):
        kind = str(f.type)
        target = _field_class(cls, kind)
        name = generic
        if target is not None and target is not ast.Node and target is not cls:
            name = f"{generic}_{target.__name__}"
            scope[name] = _mover_of(target, remap)
        if kind in _PLAIN or (target is not None and target is not cls and _spanless(target)):
            args.append(f"v.{f.name}")
        elif kind == "Span":
            args.append(f"remap_span(v.{f.name}, a)" if remap else _MOVED_SPAN.format(f.name))
        elif kind.startswith("tuple["):
            args.append(f"tuple([{name}(x, a, b) for x in v.{f.name}])")
        elif kind.endswith(" | None"):
            args.append(f"(None if (x := v.{f.name}) is None else {name}(x, a, b))")
        else:
            args.append(f"{name}(v.{f.name}, a, b)")
    head = f"def {generic}_{cls.__name__}(v, a, b):\n"
    if cls.__dataclass_params__.frozen and not hasattr(cls, "__post_init__"):  # type: ignore[attr-defined]
        # A frozen node's `__init__` stores each field through `object.__setattr__`; the slots' own setters
        # build the same object in half the time.
        fields = dataclass_fields(cls)
        scope |= {f"set_{f.name}": getattr(cls, f.name).__set__ for f in fields}
        sets = "".join(f"    set_{f.name}(o, {arg})\n" for f, arg in zip(fields, args, strict=True))
        code = f"{head}    o = new(cls)\n{sets}    return o\n"
        scope["new"] = object.__new__
    else:
        code = f"{head}    return cls({', '.join(args)})\n"
    exec(code, scope)  # noqa: S102 - the code is built from the field names of our own dataclasses
    return scope[f"{generic}_{cls.__name__}"]


_REMAPPERS: dict[type, Callable[[Any, Any, Any], Any]] = {}


def _mover_of(cls: type, remap: bool = False) -> Callable[[Any, Any, Any], Any]:
    table = _REMAPPERS if remap else _SHIFTERS
    found = table.get(cls)
    if found is None:
        if cls is ast.Span:
            found = (lambda s, moves, _: _remap_span(s, moves)) if remap else _shift_span
        else:
            found = _mover(cls, remap)
        table[cls] = found
    return found


_SHIFTABLE = frozenset((ast.__name__, ir.__name__, Diagnostic.__module__))  # modules of the dataclasses moved


def _movable(kind: type) -> bool:
    return kind.__module__ in _SHIFTABLE and is_dataclass(kind) and kind is not ir.Model


def _shift(value: Any, lines: int, chars: int) -> Any:
    """`value` with every span in it moved down `lines` lines and on `chars` characters (columns stay):
    syntax trees, diagnostics, and the resolved entities built from them."""
    kind = type(value)
    if kind is tuple:
        return tuple([_shift(v, lines, chars) for v in value])
    shift = _SHIFTERS.get(kind)
    if shift is None:
        if not _movable(kind):
            return value
        shift = _mover_of(kind)
    return shift(value, lines, chars)


def _remap_span(s: ast.Span, moves: list[Move]) -> ast.Span:
    for file, start, end, lines, chars in moves:
        if start <= s.start < end and s.file == file:
            if not lines and not chars:
                return s
            return ast.Span(s.file, s.line + lines, s.column, s.end_line + lines, s.end_column,
                            s.start + chars, s.end + chars)  # fmt: skip
    return s


def _remap(value: Any, moves: list[Move], _: Any = None) -> Any:
    """`value` with each span in it moved as the first of `moves` it starts in says (others stay)."""
    kind = type(value)
    if kind is tuple:
        return tuple([_remap(v, moves) for v in value])
    remap = _REMAPPERS.get(kind)
    if remap is None:
        if not _movable(kind):
            return value
        remap = _mover_of(kind, remap=True)
    return remap(value, moves, None)


def _module_span(file: str, parts: list[ast.Module]) -> ast.Span:
    spans = [m.span for m in parts if m.span.file != ast.NO_SPAN.file]
    if not spans:
        return ast.NO_SPAN
    first, last = spans[0], spans[-1]
    return ast.Span(file, first.line, first.column, last.end_line, last.end_column, first.start, last.end)


def _split(result: ParseResult, text: str, starts: list[int]) -> dict[str, _Piece] | None:
    """The pieces of a whole file's parse, as if each had been parsed alone (None if they might not be)."""
    if any(d.code not in _LOCAL_ERRORS for d in result.diagnostics):
        return None
    m = result.module
    nodes: list[ast.Node] = sorted([*([m.header] if m.header else []), *m.imports, *m.entities],
                                   key=lambda n: n.span.start)  # type: ignore[attr-defined]  # fmt: skip
    ends = [*starts[1:], len(text)]

    def piece_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset) - 1

    grouped: list[tuple[list[ast.Node], list[ast.Comment], list[Diagnostic]]] = [([], [], []) for _ in starts]
    for n in nodes:
        grouped[piece_of(n.span.start)][0].append(n)  # type: ignore[attr-defined]
    for c in m.comments:
        grouped[piece_of(c.span.start)][1].append(c)
    for d in result.diagnostics:
        grouped[piece_of(d.span.start)][2].append(d)
    out: dict[str, _Piece] = {}
    line = 0
    repairs = [0] * len(starts)
    for at in result.repairs:
        repairs[piece_of(at)] += 1
    for start, end, (ns, cs, ds), n_repairs in zip(starts, ends, grouped, repairs, strict=True):
        header = next((n for n in ns if isinstance(n, ast.Header)), None)
        imports = tuple(n for n in ns if isinstance(n, ast.Import))
        entities = tuple(n for n in ns if not isinstance(n, ast.Header | ast.Import))
        spans = [n.span for n in ns]  # type: ignore[attr-defined]
        span = (ast.Span(m.file, spans[0].line, spans[0].column, spans[-1].end_line, spans[-1].end_column,
                         spans[0].start, spans[-1].end) if spans else ast.NO_SPAN)  # fmt: skip
        piece = text[start:end]
        module = ast.Module(header, imports, entities, m.file, tuple(cs), span)
        out[piece] = _Piece(line, start, module, tuple(ds), n_repairs)
        line += piece.count("\n")
    return out


def parse_buffer(text: str, file: str) -> ParseResult:
    """`parse(text, file)`, re-using the parses of the statements that did not change since the last call."""
    text = text.removeprefix("\ufeff")
    key = _file_key(file)
    starts = _statement_starts(text) if "\t" not in text else []
    old = _PIECES.get(key)
    if len(starts) < _MIN_PIECES or old is None:
        return _parse_whole(text, file, starts, {})
    new: dict[str, _Piece] = {}
    parts: list[ast.Module] = []
    diags: list[Diagnostic] = []
    line = repairs = 0
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        piece = text[start:end]
        cached = new.get(piece) or old.get(piece)
        if cached is None:
            result = parse(piece, file)
            if not _stands_alone(result):  # or a warning about the whole file
                return _parse_whole(text, file, starts, {**old, **new})
            cached = _Piece(0, 0, result.module, result.diagnostics, len(result.repairs))
        if (cached.line, cached.offset) != (line, start):
            lines, chars = line - cached.line, start - cached.offset
            moved = _Piece(line, start, _shift(cached.module, lines, chars),
                           _shift(cached.diagnostics, lines, chars), cached.repairs)  # fmt: skip
            move = (file, cached.offset, cached.offset + len(piece), lines, chars)
            for was, now in zip(cached.module.entities, moved.module.entities, strict=True):
                _MOVED[id(now)] = (now, was, move)  # the semantic stage moves what it built from `was`
            cached = moved
        new[piece] = cached
        repairs += cached.repairs
        parts.append(cached.module)
        diags.extend(cached.diagnostics)
        line += piece.count("\n")
    headers = [m.header for m in parts if m.header is not None]
    in_order = (not headers or parts[0].header is not None) and len(headers) <= 1
    seen_entity = False
    for m in parts:
        in_order &= not (m.imports and seen_entity)
        seen_entity |= bool(m.entities)
    if not in_order or repairs >= _MAX_REPAIRS:  # the whole file's parse reports where they belong (or panics)
        return _parse_whole(text, file, starts, {**old, **new})
    _PIECES[key] = new
    module = ast.Module(
        headers[0] if headers else None,
        tuple(i for m in parts for i in m.imports),
        tuple(e for m in parts for e in m.entities),
        file,
        tuple(c for m in parts for c in m.comments),
        _module_span(file, parts),
    )
    return ParseResult(module, tuple(sorted(diags, key=Diagnostic.sort_key)), text)


def _parse_whole(text: str, file: str, starts: list[int], keep: dict[str, _Piece]) -> ParseResult:
    """Parse the whole file; keep its pieces if they can be re-used, else `keep` (pieces seen lately)."""
    result = parse(text, file)
    key = _file_key(file)
    pieces = _split(result, text, starts) if len(starts) >= _MIN_PIECES else None
    if pieces is not None or keep:
        _PIECES[key] = pieces if pieces is not None else keep
    else:
        _PIECES.pop(key, None)
    return result


def _parse_disk(file: str, data: bytes) -> ParseResult:
    key = _file_key(file)
    cached = _DISK_PARSES.get(key)
    if cached is None or cached[0] != data:
        cached = _DISK_PARSES[key] = (data, parse(data, file))
    return cached[1]


def _parse_any(data: str | bytes, file: str) -> ParseResult:
    return parse_buffer(data, file) if isinstance(data, str) else _parse_disk(file, data)


_SEMANTIC: dict[str, AnalysisCache] = {}  # root file key -> the semantic stage's last run over its model
_MOVED: dict[int, tuple[Any, Any, Move]] = {}  # id(entity) -> (it, the entity it was moved from, how)


def load_model(text: str, file: str) -> LoadResult:
    """`loader.load_text(text, file, overlay=<open buffers>)`, with the parses above and the semantic stage
    re-using the entities an edit did not touch or only moved (tests check they agree)."""
    cache = _SEMANTIC.get(_file_key(file))
    if cache is None:
        cache = _SEMANTIC[_file_key(file)] = AnalysisCache(_remap, _shift)
    cache.moved = _MOVED
    try:
        return loader.load_text(text, file, overlay=_OPEN_TEXTS, parser=_parse_any, cache=cache, key=_file_key)
    finally:
        _MOVED.clear()


# ---- the server ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Analysis:
    file: str
    text: _Text
    result: LoadResult
    sql: dict[str, CompileResult | str] = field(default_factory=dict)  # dialect -> DDL, or why there is none
    built_index: Index | None = None

    @property
    def index(self) -> Index:
        """Built when a feature first asks: publishing the diagnostics of an edit does not wait for it."""
        if self.built_index is None:
            self.built_index = build_index(self.result)
        return self.built_index


class ModelcServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("modelc", __version__)
        self.analyses: dict[str, Analysis] = {}  # uri -> latest analysis
        self.pending: dict[str, asyncio.Handle] = {}
        self.changed_at: dict[str, float] = {}  # uri -> loop time of its last change
        self.gc_timer: asyncio.TimerHandle | None = None
        self.collected_at = time.monotonic()
        self.imported: dict[str, dict[str, list[types.Diagnostic]]] = {}  # closed file -> root -> diagnostics
        self.dialect = "duckdb"

    # -- analysis
    def analyse(self, uri: str, cascade: bool = True) -> Analysis | None:
        doc = self.workspace.get_text_document(uri)
        file = _uri_to_file(uri)
        _OPEN_TEXTS[_file_key(file)] = doc.source
        _OPEN_URIS[_file_key(file)] = uri
        # imports are read from open buffers first: importers see what the user sees, saved or not
        result = load_model(doc.source, file)
        analysis = Analysis(file, _Text(doc.source.removeprefix("\ufeff")), result)
        self.analyses[uri] = analysis
        self.publish(uri, analysis)
        self.collect_garbage_later()
        if cascade:
            self.analyse_importers(uri, file)
        return analysis

    def analyse_importers(self, uri: str, file: str) -> None:
        """Re-analyse the open files importing `file`, directly or not (their modules include it)."""
        key = _file_key(file)
        for other, a in list(self.analyses.items()):
            if other != uri and any(_file_key(f) == key for f in a.result.modules):
                self.analyse(other, cascade=False)

    def publish(self, uri: str, analysis: Analysis) -> None:
        own = _file_key(analysis.file)
        by_file: dict[str, list[Diagnostic]] = {}
        for d in analysis.result.diagnostics:
            by_file.setdefault(own if d.span.file == ast.NO_SPAN.file else _file_key(d.span.file), []).append(d)
        mine = [self.to_lsp(d, analysis.text) for d in by_file.pop(own, [])]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=mine))
        files = {_file_key(f): f for f in analysis.result.modules}
        imported = {
            _file_to_uri(files[k]): [self.to_lsp(d, _Text(analysis.result.texts.get(files[k], ""))) for d in ds]
            for k, ds in by_file.items()
            if k in files
        }
        self.publish_imported(uri, imported)

    def publish_imported(self, root: str, found: dict[str, list[types.Diagnostic]]) -> None:
        """Publish the diagnostics `root`'s analysis found in imported files that are not open themselves.

        A file imported by several open roots shows the union; a root's closing or fixing clears its share."""
        touched = {u for u, by_root in self.imported.items() if by_root.pop(root, None) is not None}
        for u, diags in found.items():
            if not self._is_open(u):  # an open file publishes its own analysis
                self.imported.setdefault(u, {})[root] = diags
                touched.add(u)
        for u in touched:
            if self._is_open(u):
                continue
            merged: dict[tuple, types.Diagnostic] = {}
            for diags in self.imported.get(u, {}).values():
                for d in diags:
                    merged.setdefault((d.range.start.line, d.range.start.character, d.code, d.message), d)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=u, diagnostics=list(merged.values()))
            )
            if not self.imported.get(u):
                self.imported.pop(u, None)

    def to_lsp(self, d: Diagnostic, text: _Text) -> types.Diagnostic:
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        return types.Diagnostic(text.range(self, d.span), message, _SEVERITY[d.severity], code=d.code, source="modelc")

    def schedule(self, uri: str) -> None:
        """Analyse after a change: at once after a pause, else once the burst of changes pauses for the delay."""
        loop = asyncio.get_running_loop()
        now, last = loop.time(), self.changed_at.get(uri)
        self.changed_at[uri] = now
        if (old := self.pending.pop(uri, None)) is not None:
            old.cancel()
        if old is None and (last is None or now - last >= DEBOUNCE_SECONDS):
            self.pending[uri] = loop.call_soon(self._debounced, uri)
        else:
            self.pending[uri] = loop.call_later(DEBOUNCE_SECONDS, self._debounced, uri)

    def collect_garbage_later(self) -> None:
        if gc.isenabled():  # not turned off: not the server process
            return
        if self.gc_timer is not None:
            self.gc_timer.cancel()
        if time.monotonic() - self.collected_at > MAX_COLLECT_INTERVAL:
            self._collect()
        else:
            self.gc_timer = asyncio.get_running_loop().call_later(IDLE_COLLECT_SECONDS, self._collect)

    def _collect(self) -> None:
        self.gc_timer = None
        self.collected_at = time.monotonic()
        gc.collect()

    def _debounced(self, uri: str) -> None:
        self.pending.pop(uri, None)
        try:
            if self._is_open(uri):  # not closed meanwhile
                self.analyse(uri)
        except Exception:  # noqa: BLE001 - a timer callback has no caller to report to
            self.report_internal_error("analysis")

    def report_internal_error(self, what: str) -> None:
        log.exception("modelc lsp: internal error in %s", what)
        try:
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Error, f"modelc: internal error in {what}; see the server log")
            )
        except Exception:  # noqa: BLE001 - logging must not fail the handler
            pass

    # -- lookups shared by the features
    def current(self, uri: str) -> Analysis | None:
        """The analysis of the text as it is now: a request during the debounce delay runs it at once."""
        if (pending := self.pending.pop(uri, None)) is not None:
            pending.cancel()
            return self.analyse(uri)
        return self.analyses.get(uri) or (self.analyse(uri, cascade=False) if self._is_open(uri) else None)

    def _is_open(self, uri: str) -> bool:
        return uri in self.workspace.text_documents

    def text_of(self, file: str, analysis: Analysis) -> _Text:
        for a in (analysis, *self.analyses.values()):
            if _file_key(a.file) == _file_key(file):
                return a.text
        return _Text(analysis.result.texts.get(file, ""))

    def all_indexes(self, first: Analysis) -> Iterator[tuple[Analysis, Index]]:
        yield first, first.index
        for a in self.analyses.values():
            if a is not first:
                yield a, a.index

    def locations(self, analysis: Analysis, key: Key, decl: bool | None) -> list[tuple[str, ast.Span]]:
        """Every occurrence of `key` in the open models (decl None: all; True: declarations only)."""
        seen: set[tuple[str, int]] = set()
        out = []
        for _, idx in self.all_indexes(analysis):
            for o in idx.occurrences:
                if o.key == key and (decl is None or o.decl == decl):
                    ident = (_file_key(o.file), o.span.start)
                    if ident not in seen:
                        seen.add(ident)
                        out.append((o.file, o.span))
        return out

    def location(self, analysis: Analysis, file: str, span: ast.Span) -> types.Location:
        return types.Location(_file_to_uri(file), self.text_of(file, analysis).range(self, span))

    def compiled(self, analysis: Analysis, dialect: str) -> CompileResult | str:
        """The model compiled for `dialect` (DDL only), or a message saying why there is none."""
        if dialect not in analysis.sql:
            if analysis.result.model is None:
                analysis.sql[dialect] = "the model has errors"
            else:
                from .api import compile

                try:
                    analysis.sql[dialect] = compile(analysis.result.model, dialect, loads=False)
                except Exception as exc:  # noqa: BLE001 - an unknown dialect, or a generator bug
                    analysis.sql[dialect] = f"cannot compile for {dialect}: {exc}"
        return analysis.sql[dialect]


server = ModelcServer()
F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Log an exception in a handler and answer `None`: one bad request must not stop the server."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(ls: ModelcServer, *args: Any) -> Any:
            try:
                return await fn(ls, *args)
            except Exception:  # noqa: BLE001
                ls.report_internal_error(fn.__name__)
                return None

        return run_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(ls: ModelcServer, *args: Any) -> Any:
        try:
            return fn(ls, *args)
        except Exception:  # noqa: BLE001
            ls.report_internal_error(fn.__name__)
            return None

    return run  # type: ignore[return-value]


def _set_dialect(ls: ModelcServer, settings: Any) -> None:
    if isinstance(settings, dict):
        section = settings.get("modelc", settings)
        dialect = section.get("dialect") if isinstance(section, dict) else None
        if isinstance(dialect, str) and dialect:
            ls.dialect = dialect
            for a in ls.analyses.values():
                a.sql.clear()


@server.feature(types.INITIALIZE)
@guarded
def initialize(ls: ModelcServer, params: types.InitializeParams) -> None:
    _set_dialect(ls, params.initialization_options)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
@guarded
def did_change_configuration(ls: ModelcServer, params: types.DidChangeConfigurationParams) -> None:
    _set_dialect(ls, params.settings)


# ---- diagnostics ----------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
@guarded
def did_open(ls: ModelcServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.analyse(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
@guarded
async def did_change(ls: ModelcServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    _OPEN_TEXTS[_file_key(_uri_to_file(uri))] = ls.workspace.get_text_document(uri).source
    ls.schedule(uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
@guarded
def did_save(ls: ModelcServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
@guarded
def did_close(ls: ModelcServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    if (pending := ls.pending.pop(uri, None)) is not None:
        pending.cancel()
    ls.analyses.pop(uri, None)
    ls.changed_at.pop(uri, None)
    file = _uri_to_file(uri)
    _OPEN_TEXTS.pop(_file_key(file), None)
    _OPEN_URIS.pop(_file_key(file), None)
    _PIECES.pop(_file_key(file), None)
    _SEMANTIC.pop(_file_key(file), None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
    ls.publish_imported(uri, {})  # withdraw what this root reported in its imports
    ls.analyse_importers(uri, file)  # they now read the file from disk, unsaved edits gone


# ---- formatting --------------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
@guarded
def formatting(ls: ModelcServer, params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
    from .fmt import format_text

    uri = params.text_document.uri
    source = ls.workspace.get_text_document(uri).source
    result = parse_buffer(source, _uri_to_file(uri))  # re-uses the statements parsed for the diagnostics
    if not result.ok:  # the formatter needs a clean parse; the diagnostics already say why
        return None
    new = format_text(result)
    if new == source:
        return []
    text = _Text(source)
    return [types.TextEdit(types.Range(types.Position(0, 0), text.end(ls)), new)]


@server.feature(types.TEXT_DOCUMENT_RANGE_FORMATTING)
@guarded
def range_formatting(ls: ModelcServer, params: types.DocumentRangeFormattingParams) -> list[types.TextEdit] | None:
    """Format the header, imports and entities the range touches, as `modelc fmt` would; the rest is left as is."""
    from .fmt import format_module

    uri = params.text_document.uri
    source = ls.workspace.get_text_document(uri).source
    result = parse_buffer(source, _uri_to_file(uri))  # re-uses the statements parsed for the diagnostics
    if not result.ok:
        return None
    doc, text, module = _Text(source), result.text, result.module
    bom = len(source) - len(text)  # spans count from after a byte order mark
    lo, hi = doc.offset(ls, params.range.start) - bom, doc.offset(ls, params.range.end) - bom
    blocks: list[ast.Node] = [*([module.header] if module.header else []), *module.imports, *module.entities]
    edits = []
    for node in blocks:
        span: ast.Span = node.span  # type: ignore[attr-defined]
        if span.start > hi or span.end < lo:
            continue
        inside = tuple(c for c in module.comments if span.start <= c.span.start < span.end)
        alone = ast.Module(
            node if isinstance(node, ast.Header) else None,
            (node,) if isinstance(node, ast.Import) else (),
            () if isinstance(node, ast.Header | ast.Import) else (node,),
            module.file,
            inside,
            span,
        )
        new = format_module(alone, text).removesuffix("\n")
        line_start = text.rfind("\n", 0, span.start) + 1
        start = line_start if not text[line_start : span.start].strip() else span.start  # indentation goes too
        if text[start : span.end] != new:
            rng = types.Range(doc.position_at(ls, start + bom), doc.position_at(ls, span.end + bom))
            edits.append(types.TextEdit(rng, new))
    return edits


# ---- hover, definition, references, rename, symbols -------------------------------------------------


def _occurrence(ls: ModelcServer, uri: str, pos: types.Position) -> tuple[Analysis, Occurrence] | None:
    analysis = ls.current(uri)
    if analysis is None:
        return None
    occ = analysis.index.at(analysis.file, analysis.text.offset(ls, pos))
    return (analysis, occ) if occ is not None else None


def _type_text(t: ast.TypeRef) -> str:
    return t.name.value + (f"({', '.join(map(str, t.params))})" if t.params else "")


def _options_text(entity: ast.Node) -> str:
    """The entity's key, grain, SCD and one-value options, one per line, as written."""

    def names(ns: tuple[ast.Name, ...]) -> str:
        return ", ".join(n.value for n in ns)

    out = []
    for item in getattr(entity, "items", ()):
        match item:
            case ast.Key() | ast.Grain():
                out.append(f"{'key' if isinstance(item, ast.Key) else 'grain'} {names(item.columns)}")
            case ast.Scd():
                out.append(f"scd{item.kind} " + ", ".join(c.name.value for c in item.columns))
            case ast.Option():
                out.append(f"{item.key} {item.value.text}")
            case ast.Deletes():
                out.append(f"deletes {item.mode.value}")
            case ast.Incremental():
                out.append(f"incremental on {item.column.value}")
    return "\n".join(f"- `{line}`" for line in out)


@server.feature(types.TEXT_DOCUMENT_HOVER)
@guarded
def hover(ls: ModelcServer, params: types.HoverParams) -> types.Hover | None:
    found = _occurrence(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, occ = found
    idx = analysis.index
    parts: list[str] = []
    if occ.key[0] == "column":
        src, col = occ.key[1], occ.key[2]
        c = idx.columns[src][col]
        flags = " ".join(f for f, on in (("not null", c.not_null), ("pii", c.pii)) if on)
        parts.append(f"**column** `{col}` `{_type_text(c.type)}`" + (f" {flags}" if flags else "") + f" of `{src}`")
        if c.doc:
            parts.append(c.doc)
    else:
        name = occ.key[1]
        _, e = idx.entities[name]
        head = f"**{e.kind}** `{name}`"  # type: ignore[attr-defined]
        if sources := _entity_sources(e):
            head += " from " + ", ".join(f"`{q.value}`" for q in sources)
        parts.append(head)
        if getattr(e, "doc", None):
            parts.append(e.doc)  # type: ignore[attr-defined]
        if isinstance(e, ast.Source):
            cols = idx.columns.get(name, {}).values()
            parts.append("\n".join(f"- `{c.name.value}` `{_type_text(c.type)}`" for c in cols))
        else:
            parts.append(_options_text(e))
            compiled = ls.compiled(analysis, ls.dialect)
            if isinstance(compiled, str):
                parts.append(f"*{compiled}*")
            else:
                ddl = "\n".join(s.sql + ";" for s in compiled.for_entity(name, "ddl"))
                if ddl:
                    parts.append(f"{ls.dialect}:\n```sql\n{ddl}\n```")
    content = types.MarkupContent(types.MarkupKind.Markdown, "\n\n".join(p for p in parts if p))
    return types.Hover(content, analysis.text.range(ls, occ.span))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@guarded
def definition(ls: ModelcServer, params: types.DefinitionParams) -> list[types.Location] | None:
    found = _occurrence(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, occ = found
    return [ls.location(analysis, f, s) for f, s in ls.locations(analysis, occ.key, decl=True)]


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@guarded
def references(ls: ModelcServer, params: types.ReferenceParams) -> list[types.Location] | None:
    found = _occurrence(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, occ = found
    decl = None if params.context.include_declaration else False
    return [ls.location(analysis, f, s) for f, s in ls.locations(analysis, occ.key, decl=decl)]


@server.feature(types.TEXT_DOCUMENT_RENAME)
@guarded
def rename(ls: ModelcServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    found = _occurrence(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, occ = found
    is_source = occ.key[0] == "entity" and isinstance(analysis.index.entities[occ.key[1]][1], ast.Source)
    if not (_QNAME_RE if is_source else _NAME_RE).fullmatch(params.new_name):
        return None  # names needing backquotes are not worth the risk of a half-renamed model
    changes: dict[str, list[types.TextEdit]] = {}
    for file, span in ls.locations(analysis, occ.key, decl=None):
        edit = types.TextEdit(ls.text_of(file, analysis).range(ls, span), params.new_name)
        changes.setdefault(_file_to_uri(file), []).append(edit)
    return types.WorkspaceEdit(changes=changes)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded
def document_symbols(ls: ModelcServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
    analysis = ls.current(params.text_document.uri)
    if analysis is None:
        return None
    module = next((m for f, m in analysis.result.modules.items() if _file_key(f) == _file_key(analysis.file)), None)
    out = []
    for e in module.entities if module else ():
        rng = analysis.text.range(ls, e.span)  # type: ignore[attr-defined]
        children = [
            types.DocumentSymbol(
                c.name.value,
                types.SymbolKind.Field,
                analysis.text.range(ls, c.span),
                analysis.text.range(ls, c.name.span),
                detail=_type_text(c.type),
            )  # fmt: skip
            for c in getattr(e, "items", ())
            if isinstance(c, ast.Column)
        ]
        out.append(types.DocumentSymbol(ast.entity_name(e), _SYMBOL_KIND.get(e.kind, types.SymbolKind.Class), rng,  # type: ignore[attr-defined]
                                        analysis.text.range(ls, e.name.span), detail=e.kind,  # type: ignore[attr-defined]
                                        children=children or None))  # fmt: skip
    return out


@server.feature(types.WORKSPACE_SYMBOL)
@guarded
def workspace_symbols(ls: ModelcServer, params: types.WorkspaceSymbolParams) -> list[types.SymbolInformation]:
    query, seen, out = params.query.lower(), set(), []
    for a in list(ls.analyses.values()):
        for name, (file, e) in a.index.entities.items():
            if query in name.lower() and name not in seen:
                seen.add(name)
                kind = _SYMBOL_KIND.get(e.kind, types.SymbolKind.Class)  # type: ignore[attr-defined]
                out.append(types.SymbolInformation(location=ls.location(a, file, e.name.span), name=name, kind=kind))  # type: ignore[attr-defined]
    return out


# ---- completion ------------------------------------------------------------------------------------


def _unquote(tok: Any) -> str:
    return tok.value[1:-1].replace("``", "`") if tok.type == "QUOTED_NAME" else tok.value


def _statement_start(text: str, offset: int) -> int:
    """Offset of the top-level statement holding `offset`: a line starting (column 1) with a top keyword.

    Parsing from there, not from the top, keeps completion fast and independent of errors above."""
    pos = text.rfind("\n", 0, offset)
    while pos >= 0:
        line_start = pos + 1
        word = _NAME_RE.match(text, line_start)
        if word and word.group() in TOP_KEYWORDS and line_start < offset:
            return line_start
        pos = text.rfind("\n", 0, pos)
    return 0


def completions(text: str, offset: int, index: Index) -> list[types.CompletionItem]:
    """Keywords the parser accepts at `offset`, plus entity or column names where a name may come."""
    from lark.exceptions import LarkError

    from .parser import _terminals

    start = _statement_start(text, offset)
    prefix = text[start:offset]
    prefix = prefix[: len(prefix) - len(_PARTIAL_WORD.search(prefix).group())]  # the word being typed
    ip = lark_parser().parse_interactive(prefix)
    try:
        tokens = ip.exhaust_lexer()
        accepts = ip.accepts()
    except LarkError:
        return []
    literals = _terminals()[0]
    items = [
        types.CompletionItem(literals[t], kind=types.CompletionItemKind.Keyword)
        for t in sorted(accepts)
        if t in literals and literals[t].isidentifier()
    ]
    if "NAME" not in accepts:
        return items
    # `from crm.|`: the qualifier typed so far; offer the rest of the names it starts (`customers`).
    k, qualifier = len(tokens), ""
    while k >= 2 and tokens[k - 1].value == "." and tokens[k - 2].type in ("NAME", "QUOTED_NAME"):
        qualifier = _unquote(tokens[k - 2]) + "." + qualifier
        k -= 2
    last = tokens[k - 1].value if k else None
    if last in _ENTITY_AFTER:
        kinds = _ENTITY_AFTER[last]
        if tokens[0].value in ("pit", "bridge") and last == "of":
            kinds = ("hub",)
        for name, (_, e) in index.entities.items():
            if (kinds is None or e.kind in kinds) and name.startswith(qualifier):  # type: ignore[attr-defined]
                label = name[len(qualifier) :]
                items.append(types.CompletionItem(label, kind=types.CompletionItemKind.Class, detail=e.kind))  # type: ignore[attr-defined]
        return items
    if not any(t.type == "LBRACE" for t in tokens):
        return items
    for src in _header_sources(tokens):
        for col in index.columns.get(src, {}).values():
            items.append(types.CompletionItem(col.name.value, kind=types.CompletionItemKind.Field,
                                              detail=f"{_type_text(col.type)} ({src})"))  # fmt: skip
    return items


def _header_sources(tokens: list[Any]) -> list[str]:
    """The sources an entity header names: a source's own name, else the names after `from`, up to `{`."""
    head = list(itertools.takewhile(lambda t: t.type != "LBRACE", tokens))
    values = [t.value for t in head]
    if not head or (head[0].value != "source" and "from" not in values):
        return []
    if head[0].value == "source":
        rest = list(itertools.takewhile(lambda t: t.value != "from", head[1:]))
        return [".".join(_unquote(t) for t in rest if t.type in ("NAME", "QUOTED_NAME"))]
    out: list[list[str]] = [[]]
    depth = 0
    for tok in head[values.index("from") + 1 :]:
        if tok.value in ("(", ")"):
            depth += 1 if tok.value == "(" else -1
        elif depth == 0 and tok.value == ",":
            out.append([])
        elif depth == 0 and tok.type in ("NAME", "QUOTED_NAME"):
            out[-1].append(_unquote(tok))
    return [".".join(p) for p in out if p]


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[">", "."]))
@guarded
def completion(ls: ModelcServer, params: types.CompletionParams) -> types.CompletionList | None:
    uri = params.text_document.uri
    source = ls.workspace.get_text_document(uri).source
    analysis = ls.analyses.get(uri)
    index = analysis.index if analysis else Index()
    text = _Text(source)
    return types.CompletionList(is_incomplete=False, items=completions(source, text.offset(ls, params.position), index))


# ---- semantic tokens --------------------------------------------------------------------------------

TOKEN_TYPES = ["keyword", "type", "class", "property", "variable", "string", "comment", "number", "operator"]
TOKEN_MODIFIERS = ["declaration", "documentation"]
_LEXEME = re.compile(
    r'(?P<comment>#[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*"?)|(?P<name>`[^`\n]*`?|(?!\d)\w+)'
    r"|(?P<number>-?\d[\d:.TZ+-]*)|(?P<operator>->|\.\.|=)"
)


def semantic_tokens(analysis: Analysis, ls: LanguageServer) -> list[int]:
    """LSP's relative encoding of every lexeme: the tree decides what a word is, so `key key` colours right."""
    from .parser import _terminals

    keywords = {v for v in _terminals()[0].values() if v.isidentifier()}
    own = _file_key(analysis.file)
    module = next((m for f, m in analysis.result.modules.items() if _file_key(f) == own), None)
    occ_kind = {
        o.span.start: "class" if o.key[0] == "entity" else "property"
        for o in analysis.index.occurrences
        if _file_key(o.file) == own
    }
    decl_starts = {o.span.start for o in analysis.index.occurrences if o.decl and _file_key(o.file) == own}
    names: dict[int, str] = {}  # start offset of a word -> token type, from the tree
    decls: set[int] = set()
    for node in module.walk() if module else ():
        if isinstance(node, ast.TypeRef):
            names[node.name.span.start] = "type"
        elif isinstance(node, ast.QName):  # walked before its parts: each part gets the whole name's kind
            for part in node.parts:
                names[part.span.start] = occ_kind.get(node.span.start, "variable")
                if node.span.start in decl_starts:
                    decls.add(part.span.start)
        elif isinstance(node, ast.Name | ast.Literal) and node.span.start not in names:
            if isinstance(node, ast.Name) or node.kind == "name":
                names[node.span.start] = occ_kind.get(node.span.start, "variable")
                if node.span.start in decl_starts:
                    decls.add(node.span.start)
    text, out = analysis.text, []
    prev_line = prev_char = 0
    for m in _LEXEME.finditer(text.text):
        kind, start = m.lastgroup or "", m.start()
        mods = 0
        if kind == "name":
            kind = names.get(start) or ("keyword" if m.group() in keywords else "variable")
            mods = 1 if start in decls else 0
        elif kind == "comment" and m.group().startswith("##"):
            mods = 2
        line = bisect.bisect_right(text.starts, start) - 1
        begin = text.position(ls, line, start - text.starts[line])
        length = text.position(ls, line, m.end() - text.starts[line]).character - begin.character
        delta_char = begin.character - prev_char if line == prev_line else begin.character
        out += [line - prev_line, delta_char, length, TOKEN_TYPES.index(kind), mods]
        prev_line, prev_char = line, begin.character
    return out


@server.feature(
    types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
    types.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS),
)
@guarded
def semantic_tokens_full(ls: ModelcServer, params: types.SemanticTokensParams) -> types.SemanticTokens | None:
    analysis = ls.current(params.text_document.uri)
    return types.SemanticTokens(data=semantic_tokens(analysis, ls)) if analysis else None


# ---- code actions and commands --------------------------------------------------------------------


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _own_module(analysis: Analysis) -> ast.Module | None:
    own = _file_key(analysis.file)
    return next((m for f, m in analysis.result.modules.items() if _file_key(f) == own), None)


# -- "add missing import": the entity is declared in a .dm file of the workspace the model does not import

# what an unknown-name message calls the entity -> the kinds that would resolve it (None: any)
_UNKNOWN_ENTITY = re.compile(r"unknown (source|dimension|hub or link|hub|link|satellite|entity) `(.+)`\Z")
_IMPORT_KINDS: dict[str, tuple[str, ...] | None] = {
    "source": ("source",), "dimension": ("dimension", "calendar"), "hub": ("hub",), "hub or link": ("hub", "link"),
    "link": ("link",), "satellite": ("satellite",), "entity": None,
}  # fmt: skip
_IMPORT_CODES = frozenset(("E203", "E205", "E206", "E207", "E208", "E209"))
_SKIP_DIRS = frozenset(("node_modules", "__pycache__", "venv", "site-packages"))
MAX_SCANNED_FILES = 5000  # .dm files looked at per workspace folder, so a huge tree cannot stall a request
# file key -> (its text, or size and time on disk; the text; (name, kind) of its entities once parsed)
_DECLARED: dict[str, tuple[tuple[int, int] | str, str, tuple[tuple[str, str], ...] | None]] = {}
_LISTINGS: dict[str, tuple[float, list[str]]] = {}  # workspace folder -> (when, its .dm files)
LISTING_SECONDS = 2.0  # editors ask for code actions at each cursor move: list the folders that often at most
MAX_SCANNED_DIRS = 20000


def _workspace_roots(ls: LanguageServer, file: str) -> list[str]:
    """The workspace folders holding `file`; without any, the file's own folder."""
    roots = [uris.to_fs_path(f.uri) for f in ls.workspace.folders.values()]
    if not roots and ls.workspace.root_path:
        roots = [ls.workspace.root_path]
    real = os.path.realpath(file)
    inside = [r for r in roots if r and (real + os.sep).startswith(os.path.realpath(r).rstrip(os.sep) + os.sep)]
    return inside or [os.path.dirname(file)]


def _dm_files(root: str) -> list[str]:
    """The .dm files under `root`, hidden folders and dependency trees left out (listed again after a while)."""
    now = time.monotonic()
    cached = _LISTINGS.get(root)
    if cached is not None and now - cached[0] < LISTING_SECONDS:
        return cached[1]
    found: list[str] = []
    for dirs_seen, (folder, dirs, files) in enumerate(os.walk(root)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        found += [os.path.join(folder, name) for name in sorted(files) if name.endswith(".dm")]
        if len(found) >= MAX_SCANNED_FILES or dirs_seen >= MAX_SCANNED_DIRS:
            break
    _LISTINGS[root] = (now, found)
    return found


def _declared(file: str, word: str) -> tuple[tuple[str, str], ...]:
    """(name, kind) of the entities `file` declares, if its text has `word` (else maybe none: not parsed).

    An open file is read from its buffer; a file on disk again only when its size or time changes."""
    key = _file_key(file)
    text = _OPEN_TEXTS.get(key)
    if text is not None:
        stamp: tuple[int, int] | str = text
    else:
        try:
            st = os.stat(file)
        except OSError:
            return ()
        stamp = (st.st_mtime_ns, st.st_size)
    cached = _DECLARED.get(key)
    if cached is None or cached[0] != stamp:
        if text is None:
            try:
                text = Path(file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                return ()
        cached = _DECLARED[key] = (stamp, text, None)
    if cached[2] is None:
        if word not in cached[1]:  # most files cannot declare it: spare parsing them
            return ()
        module = parse(cached[1], file).module
        found = tuple((ast.entity_name(e), e.kind) for e in module.entities)  # type: ignore[attr-defined]
        cached = _DECLARED[key] = (stamp, cached[1], found)
    return cached[2]


def declaring_files(ls: LanguageServer, analysis: Analysis, name: str, kinds: tuple[str, ...] | None) -> list[str]:
    """Workspace files outside the model that declare an entity `name` of one of `kinds`."""
    seen = {_file_key(f) for f in analysis.result.modules}
    word, out = name.rsplit(".", 1)[-1], []
    for root in _workspace_roots(ls, analysis.file):
        for file in _dm_files(root):
            key = _file_key(file)
            if key not in seen:
                seen.add(key)
                if any(n == name and (kinds is None or k in kinds) for n, k in _declared(file, word)):
                    out.append(file)
    return out


def _import_edit(ls: LanguageServer, analysis: Analysis, path: str) -> types.TextEdit:
    """Insert `import "path"` after the last import, else after the header, else at the top."""
    module, text = _own_module(analysis), analysis.text
    line = f"import {fmt_string(path)}"
    if module is not None and module.imports:
        after, new = max(i.span.end_line for i in module.imports), line + "\n"
    elif module is not None and module.header is not None:
        after, new = module.header.span.end_line, "\n" + line + "\n"
    else:
        return types.TextEdit(types.Range(types.Position(0, 0), types.Position(0, 0)), line + "\n\n")
    if after >= len(text.lines):  # the anchor ends the file without a newline
        end = text.end(ls)
        return types.TextEdit(types.Range(end, end), "\n" + new.removesuffix("\n"))
    at = types.Position(after, 0)
    return types.TextEdit(types.Range(at, at), new)


def _import_actions(
    ls: ModelcServer, analysis: Analysis, d: Diagnostic, diag: types.Diagnostic
) -> list[types.CodeAction]:
    m = _UNKNOWN_ENTITY.match(d.message)
    if m is None or uris.to_fs_path(_file_to_uri(analysis.file)) is None:
        return []  # an untitled document has no folder to import from
    files = declaring_files(ls, analysis, m.group(2), _IMPORT_KINDS[m.group(1)])
    out = []
    for file in files:
        path = os.path.relpath(file, os.path.dirname(analysis.file)).replace(os.sep, "/")
        edit = types.WorkspaceEdit(changes={_file_to_uri(analysis.file): [_import_edit(ls, analysis, path)]})
        title = f'Add `import "{path}"` (declares `{m.group(2)}`)'
        out.append(
            types.CodeAction(title, types.CodeActionKind.QuickFix, [diag], edit=edit, is_preferred=len(files) == 1)
        )
    return out


# -- "add missing column": the source does not declare a column an entity reads

_UNKNOWN_COLUMN = re.compile(r"unknown column `(.+)` in source `(.+)`\Z")


def _type(name: str, *params: int) -> ast.TypeRef:
    return ast.TypeRef(ast.Name(name), params)


def _key_types(index: Index, name: str) -> list[ast.TypeRef | None]:
    """The types of the key columns of the dimension or hub `name`, in key order (None: unknown)."""
    e = index.entities.get(name, (None, None))[1]
    if isinstance(e, ast.Calendar):
        return [_type("date")]
    if isinstance(e, ast.Dimension):
        source, given = e.source.value, ()
    elif isinstance(e, ast.Hub) and e.sources:
        source, given = e.sources[0].source.value, e.sources[0].columns
    else:
        return []
    key = next((it.columns for it in e.items if isinstance(it, ast.Key)), ())
    columns = index.columns.get(source, {})
    return [c.type if (c := columns.get(n.value)) else None for n in (given or key)]


def infer_column_type(analysis: Analysis, d: Diagnostic, column: str) -> ast.TypeRef:
    """The type a missing source column needs where the diagnostic points; `string` when usage says nothing."""
    module = next((m for f, m in analysis.result.modules.items() if _file_key(f) == _file_key(d.span.file)), None)
    at = d.span.start
    entity = next((e for e in module.entities if e.span.start <= at < e.span.end), None) if module else None  # type: ignore[attr-defined]
    if entity is None:
        return _type("string")

    def here(n: ast.Node | None) -> bool:
        return n is not None and n.span.start == at  # type: ignore[attr-defined]

    def key_type(owner: str, names: tuple[ast.Name, ...]) -> ast.TypeRef | None:
        types_ = _key_types(analysis.index, owner)
        for i, n in enumerate(names):
            if here(n) and i < len(types_):
                return types_[i]
        return None

    timestamp = _type("timestamp")
    if isinstance(entity, ast.Satellite) and (t := key_type(entity.parent.value, entity.parent_columns)):
        return t
    if isinstance(entity, ast.Hub):
        for ref in entity.sources[1:]:
            if t := key_type(entity.name.value, ref.columns):
                return t
    for item in entity.items:  # type: ignore[attr-defined]
        match item:
            case ast.Option(key="changed_by") if here(item.value):
                return timestamp
            case ast.Incremental() if here(item.column):
                return timestamp
            case ast.PartitionBy() if here(item.column):
                return timestamp if item.transform else _type("date")
            case ast.Measure() if here(item.name):
                agg = item.aggregation.value if item.aggregation else "sum"
                return _type("decimal", 18, 2) if agg in ("sum", "avg", "min", "max") else _type("string")
            case ast.Reference():
                if here(item.at):
                    return timestamp
                if t := key_type(item.dimension.value, item.columns):
                    return t
                if not item.columns and here(item.dimension):  # the dimension's key names, read implicitly
                    e = analysis.index.entities.get(item.dimension.value, (None, None))[1]
                    key = next((k.columns for k in getattr(e, "items", ()) if isinstance(k, ast.Key)), ())
                    types_ = _key_types(analysis.index, item.dimension.value)
                    for n, t in zip(key, types_, strict=False):
                        if n.value == column and t is not None:
                            return t
                    if isinstance(e, ast.Calendar):
                        return _type("date")
            case ast.Hubs():
                for h in item.hubs:
                    if t := key_type(h.hub.value, h.columns):
                        return t
    return _type("string")


def add_column_edits(
    ls: ModelcServer, analysis: Analysis, source: str, column: ast.Column
) -> tuple[str, list[types.TextEdit]] | None:
    """(file, edits) adding `column` to the body of `source`, lined up with its other columns as `modelc fmt` does."""
    from .fmt import _Layout

    file, src = analysis.index.entities.get(source, (None, None))
    if not isinstance(src, ast.Source) or file is None:
        return None
    text = ls.text_of(file, analysis)
    cols = [c for c in src.items if isinstance(c, ast.Column)]
    texts = _Layout.table((*cols, column))
    edits = []
    if cols and _Layout.table(tuple(cols)) != texts[:-1]:  # the new name or type is wider: realign them all
        for c, new in zip(cols, texts, strict=False):
            if text.text[c.span.start : c.span.end] != new:
                edits.append(types.TextEdit(text.range(ls, c.span), new))
    if cols:
        last = cols[-1]
        before = text.lines[last.span.line - 1][: last.span.column - 1]
        indent = before if not before.strip() else "  "  # the last column's, if it starts its line
        rest = text.lines[last.span.end_line - 1][last.span.end_column - 1 :].strip()
        if (not rest or rest.startswith("#")) and last.span.end_line < len(text.lines):
            at = types.Position(last.span.end_line, 0)
            edits.append(types.TextEdit(types.Range(at, at), indent + texts[-1] + "\n"))
        else:  # something follows on the line (`{ a int }`): break the line after the column
            end = text.range(ls, last.span).end
            edits.append(types.TextEdit(types.Range(end, end), "\n" + indent + texts[-1]))
        return file, edits
    # no column yet: right after `{`
    body = text.text[src.span.start : src.span.end]
    brace = src.span.start + body.find("{", (src.location or src.name).span.end - src.span.start)
    close = src.span.end - 1
    if not text.text[brace + 1 : close].strip():
        rng = types.Range(text.position_at(ls, brace + 1), text.position_at(ls, close))
        return file, [types.TextEdit(rng, "\n  " + texts[-1] + "\n")]
    at = text.position_at(ls, brace + 1)
    return file, [types.TextEdit(types.Range(at, at), "\n  " + texts[-1])]


def _column_actions(
    ls: ModelcServer, analysis: Analysis, d: Diagnostic, diag: types.Diagnostic
) -> list[types.CodeAction]:
    m = _UNKNOWN_COLUMN.match(d.message)
    if m is None:
        return []
    name, source = m.group(1), m.group(2)
    column = ast.Column(ast.Name(name), infer_column_type(analysis, d, name))
    found = add_column_edits(ls, analysis, source, column)
    if found is None:
        return []
    file, edits = found
    title = f"Add column `{name} {_type_text(column.type)}` to source `{source}`"
    edit = types.WorkspaceEdit(changes={_file_to_uri(file): edits})
    preferred = d.fix is None  # a near name of the source's is more likely meant (`segmnt`: `segment`)
    return [types.CodeAction(title, types.CodeActionKind.QuickFix, [diag], edit=edit, is_preferred=preferred)]


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])
)
@guarded
def code_actions(ls: ModelcServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    analysis = ls.current(params.text_document.uri)
    if analysis is None:
        return None
    own, out = _file_key(analysis.file), []
    for d in analysis.result.diagnostics:
        if _file_key(d.span.file) != own:
            continue
        lsp_diag = ls.to_lsp(d, analysis.text)
        if not _overlaps(lsp_diag.range, params.range):
            continue
        found = []
        if d.code in _IMPORT_CODES:
            found = _import_actions(ls, analysis, d, lsp_diag)
        elif d.code == "E204":
            found = _column_actions(ls, analysis, d, lsp_diag)
        out += found
        if d.fix is None:
            continue
        fix_text = ls.text_of(d.fix.span.file, analysis)
        edit = types.TextEdit(fix_text.range(ls, d.fix.span), d.fix.text)
        title = d.hint if d.hint and "did you mean" in d.hint else f"Replace with `{d.fix.text}`"
        change = types.WorkspaceEdit(changes={_file_to_uri(d.fix.span.file): [edit]})
        kind = types.CodeActionKind.QuickFix
        preferred = not any(a.is_preferred for a in found)  # an import of the exact name beats a near one
        out.append(
            types.CodeAction(title[0].upper() + title[1:], kind, [lsp_diag], edit=change, is_preferred=preferred)
        )
    return out


@server.command(SHOW_SQL_COMMAND)
@guarded
def show_compiled_sql(ls: ModelcServer, uri: str, dialect: str = "") -> str:
    """The DDL and loads of the model rooted at `uri`, for `dialect` (default: the `modelc.dialect` setting)."""
    from .api import compile

    analysis = ls.current(uri)
    if analysis is None:
        return f"-- {uri} is not open"
    if analysis.result.model is None:
        return "-- the model has errors; see the problems list"
    try:
        result = compile(analysis.result.model, dialect or ls.dialect)
    except Exception as exc:  # noqa: BLE001 - e.g. an unknown dialect: say so in the output
        return f"-- cannot compile: {exc}"
    problems = "".join(f"-- {d.severity}[{d.code}]: {d.message}\n" for d in result.diagnostics)
    return problems + result.sql()


def serve() -> None:
    """Run the server on stdin/stdout until the client exits."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    lark_parser()  # build the parser before the first request
    gc.collect()
    gc.freeze()  # what start-up made lives as long as the server: leave it out of collections
    gc.disable()  # collected when the user pauses: `ModelcServer.collect_garbage_later`
    server.start_io()
