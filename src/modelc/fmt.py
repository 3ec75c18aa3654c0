"""`modelc fmt`: print a parsed file in the canonical layout, keeping every comment.

Two passes, both linear. `_Layout` turns the tree into output lines, each remembering the
source offsets of its first and last token. `_weave` then walks those lines and the
comments (sorted by offset) together with one moving index: a comment before a line goes
on its own line above it, a comment after a line's last token on the same source line
stays at the end of that line, and the rare comment between the tokens of one line
(`key a,  # x` / `b`) is appended to the line or printed right below it.

Doc comments need no special handling: they are ordinary comments, and a `##` block is
a doc comment exactly when it sits on the lines right above a construct. The weaving
keeps that adjacency: it only removes blank lines after `{` and before `}`, and puts a
blank line after a `##` comment it had to move, so no comment becomes a doc comment.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

from . import ast

if TYPE_CHECKING:
    from .parser import ParseResult

__all__ = ["format_module", "format_text"]

_IDENT = re.compile(r"(?!\d)\w+")  # the NAME terminal of the grammar
_VALUE_WORDS = frozenset(("null", "true", "false"))  # a bare name value with these spellings may be a literal
_ESCAPE = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"})


def format_text(result: ParseResult) -> str:
    """The canonical text of a parsed file; the parse must be free of errors."""
    if not result.ok:
        raise ValueError(f"{result.module.file}: cannot format a file with syntax errors")
    return format_module(result.module, result.text)


def format_module(module: ast.Module, text: str) -> str:
    """The canonical text of `module`, parsed from `text` (comments and blank lines come from there).

    A tree built in code (no spans, `text` empty) also works: its doc strings are printed as `##` lines.
    """
    return _weave(_Layout(text).module(module), module.comments, text)


# ---- leaves ---------------------------------------------------------------------------------


def name(n: ast.Name) -> str:
    if n.quoted or not _IDENT.fullmatch(n.value):
        return "`" + n.value.replace("`", "``") + "`"
    return n.value


def names(ns: tuple[ast.Name, ...]) -> str:
    return ", ".join(map(name, ns))


def qname(q: ast.QName) -> str:
    return ".".join(map(name, q.parts))


def string(value: str) -> str:
    return '"' + value.translate(_ESCAPE) + '"'


def value(v: ast.Literal) -> str:
    if v.kind == "string":
        return string(v.text)
    if v.kind == "name":
        # The tree does not keep how a name value was written: quote it when bare text would mean something else.
        return name(ast.Name(v.text, v.text in _VALUE_WORDS and not _bare_value_is_name(v.text)))
    return v.text


@cache
def _bare_value_is_name(word: str) -> bool:
    """Does the parser read `word`, unquoted in a value place, as a name? Asked, not assumed: `null` is a
    literal, while whether `true`/`false` lex as BOOL or NAME is up to the lexer's terminal priorities."""
    from .parser import parse

    header = parse(f"model m {{ k {word} }}").module.header
    return header is not None and len(header.settings) == 1 and header.settings[0].value.kind == "name"


def type_ref(t: ast.TypeRef) -> str:
    return name(t.name) + (f"({', '.join(map(str, t.params))})" if t.params else "")


def _source_refs(refs: tuple[ast.SourceRef, ...]) -> str:
    return ", ".join(qname(r.source) + (f"({names(r.columns)})" if r.columns else "") for r in refs)


def _width(s: str) -> int:
    """Columns `s` takes in a terminal, so that tables with wide (CJK) names still line up."""
    if s.isascii():
        return len(s)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, width: int) -> str:
    return s + " " * (width - _width(s))


def item(node: ast.Node) -> str:
    """One body item, as one line without indentation (columns of a source are aligned by `_Layout`)."""
    match node:
        case ast.Column():
            return f"{name(node.name)} {type_ref(node.type)} {_flags(node)}".rstrip()
        case ast.Setting():
            return f"{name(node.key)} {value(node.value)}"
        case ast.Key():
            return f"key {names(node.columns)}"
        case ast.Scd():
            cols = (name(c.name) + (f" as {name(c.alias)}" if c.alias else "") for c in node.columns)
            return f"scd{node.kind} " + ", ".join(cols)
        case ast.Deletes():
            return f"deletes {name(node.mode)}" + (f" when {string(node.where.value)}" if node.where else "")
        case ast.Option():
            return f"{node.key} {value(node.value)}"
        case ast.Derive():
            return (
                f"derive {name(node.name)}"
                + (f" {type_ref(node.type)}" if node.type else "")
                + f" = {string(node.sql.value)}"
            )
        case ast.Where():
            return f"where {string(node.sql.value)}"
        case ast.Grain():
            return f"grain {names(node.columns)}"
        case ast.Reference():
            cols = f"({names(node.columns)})" if node.columns else ""
            return f"{name(node.role)} -> {name(node.dimension)}{cols}" + (f" at {name(node.at)}" if node.at else "")
        case ast.Measure():
            return f"measure {name(node.name)}" + (f" {name(node.aggregation)}" if node.aggregation else "")
        case ast.Degenerate():
            return f"degenerate {names(node.columns)}"
        case ast.Incremental():
            return f"incremental on {name(node.column)}"
        case ast.PartitionBy():
            col = name(node.column)
            return "partition by " + (f"{name(node.transform)}({col})" if node.transform else col)
        case ast.ClusterBy():
            return f"cluster by {names(node.columns)}"
        case ast.OrderBy():
            return f"order by {names(node.columns)}"
        case ast.SortKey():
            return f"sortkey {names(node.columns)}"
        case ast.DistKey():
            return f"distkey {name(node.column)}"
        case ast.DistStyle():
            return f"diststyle {name(node.style)}"
        case ast.Engine():
            return f"engine {name(node.engine)}"
        case ast.Hubs():
            refs = (f"{name(h.hub)}({names(h.columns)})" + (f" as {name(h.role)}" if h.role else "") for h in node.hubs)
            return "hubs " + ", ".join(refs)
        case ast.Child():
            return f"child {names(node.columns)}"
        case ast.Transactional():
            return "transactional"
        case ast.Payload():
            return f"payload {names(node.columns)}"
        case ast.MultiActive():
            return f"multi_active {names(node.columns)}"
        case ast.Effectivity():
            return f"effectivity driving {name(node.driving)}"
        case ast.Tracking():
            return "tracking"
        case ast.Satellites():
            return f"satellites {names(node.names)}"
        case ast.Links():
            return f"links {names(node.names)}"
        case ast.Spine():
            start = f" from {node.start.text}" if node.start else ""
            return f"spine {name(node.every)}{start}" + (f" to {node.end.text}" if node.end else "")
        case ast.TestUnique():
            return f"test {names(node.columns)} unique"
        case ast.TestNotNull():
            return f"test {names(node.columns)} not null"
        case ast.TestAccepted():
            return f"test {name(node.column)} in [{', '.join(map(value, node.values))}]"
        case ast.TestRange():
            return f"test {name(node.column)} between {value(node.low)} and {value(node.high)}"
        case ast.TestReferences():
            return f"test {names(node.columns)} references {name(node.entity)}({names(node.target_columns)})"
        case ast.TestExpression():
            return f"test {string(node.sql.value)}"
    raise TypeError(f"cannot format {type(node).__name__}")


def _flags(c: ast.Column) -> str:
    return " ".join(f for f, on in (("not null", c.not_null), ("pii", c.pii)) if on)


# ---- layout ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    level: int  # indentation, in steps of two spaces
    start: int  # source offset of the line's first token
    end: int  # source offset just after its last token
    top: bool = False  # starts a top-level block: one blank line before it and the comments above it
    opens: bool = False  # ends with '{'
    closes: bool = False  # a lone '}'
    empty: bool = False  # opens a body without items: `{}` on this line unless a comment is inside
    doc: str | None = None  # printed as `##` lines: only for nodes built in code, whose docs have no comments


class _Layout:
    def __init__(self, text: str):
        self.text = text
        self.lines: list[_Line] = []

    def module(self, m: ast.Module) -> list[_Line]:
        if m.header is not None:
            h = m.header
            head = f"model {name(h.name)}"
            if h.settings:
                self.body(head, h, h.name.span.end, h.settings)
            else:
                self.add(_Line(head, 0, h.span.start, h.span.end, top=True, doc=_code_doc(h)))
        for i, imp in enumerate(m.imports):
            self.add(_Line(f"import {string(imp.path.value)}", 0, imp.span.start, imp.span.end, top=i == 0))
        for e in m.entities:
            self.entity(e)
        return self.lines

    def add(self, line: _Line) -> None:
        self.lines.append(line)

    def entity(self, e: ast.Node) -> None:
        match e:
            case ast.Calendar():
                text = f"dimension {name(e.name)} calendar {e.start.text} .. {e.end.text}"
                self.add(_Line(text, 0, e.span.start, e.span.end, top=True, doc=_code_doc(e)))
            case ast.Source():
                head = f"source {qname(e.name)}" + (f" from {string(e.location.value)}" if e.location else "")
                self.body(head, e, (e.location or e.name).span.end, e.items)
            case ast.Dimension() | ast.Fact():
                self.body(f"{e.kind} {name(e.name)} from {qname(e.source)}", e, e.source.span.end, e.items)
            case ast.Hub() | ast.Link():
                head = f"{e.kind} {name(e.name)} from {_source_refs(e.sources)}"
                self.body(head, e, e.sources[-1].span.end, e.items)
            case ast.Satellite():
                parent = name(e.parent) + (f"({names(e.parent_columns)})" if e.parent_columns else "")
                head = f"satellite {name(e.name)} of {parent} from {_source_refs(e.sources)}"
                self.body(head, e, e.sources[-1].span.end, e.items)
            case ast.Pit() | ast.Bridge():
                self.body(f"{e.kind} {name(e.name)} of {name(e.hub)}", e, e.hub.span.end, e.items)
            case _:
                raise TypeError(f"cannot format {type(e).__name__}")

    def body(self, head: str, node: ast.Node, head_end: int, items: tuple[ast.Node, ...]) -> None:
        """`head {`, one line per item, `}`. `head_end` is where the head's last token ends."""
        span: ast.Span = node.span  # type: ignore[attr-defined]
        brace = _next_token(self.text, head_end)
        end = brace + 1 if self.text.startswith("{", brace) else head_end
        self.add(_Line(head + " {", 0, span.start, end, top=True, opens=True, empty=not items, doc=_code_doc(node)))
        texts = self.table(items)
        for it, text in zip(items, texts, strict=True):
            it_span: ast.Span = it.span  # type: ignore[attr-defined]
            start = it_span.start
            if isinstance(it, ast.DataTest):  # the span of a test leaves out its `test` keyword
                kw = _next_token(self.text, end)
                start = kw if self.text.startswith("test", kw) else start
            self.add(_Line(text, 1, start, it_span.end, doc=_code_doc(it)))
            end = it_span.end
        self.add(_Line("}", 0, max(span.end - 1, 0), span.end, closes=True))

    @staticmethod
    def table(items: tuple[ast.Node, ...]) -> list[str]:
        """Item texts; the columns of a source line up as a table: name, type, flags."""
        cols = [c for c in items if isinstance(c, ast.Column)]
        if not cols:
            return [item(it) for it in items]
        name_w = max(_width(name(c.name)) for c in cols)
        type_w = max(_width(type_ref(c.type)) for c in cols)
        return [
            f"{_pad(name(it.name), name_w)}  {_pad(type_ref(it.type), type_w)}  {_flags(it)}".rstrip()
            if isinstance(it, ast.Column)
            else item(it)
            for it in items
        ]


def _code_doc(node: ast.Node) -> str | None:
    """The doc to print from the tree: only for a node without a source position (a parsed doc is a comment)."""
    span: ast.Span = node.span  # type: ignore[attr-defined]
    return getattr(node, "doc", None) if span.end == 0 else None


def _next_token(text: str, pos: int) -> int:
    """Offset of the first token at or after `pos`, skipping blanks and comments (len(text) if none)."""
    n = len(text)
    while pos < n:
        c = text[pos]
        if c == "#":
            nl = text.find("\n", pos)
            pos = n if nl < 0 else nl
        elif c in " \t\f\r\n":
            pos += 1
        else:
            return pos
    return n


# ---- weaving in comments and blank lines ------------------------------------------------------


def _weave(lines: list[_Line], comments: tuple[ast.Comment, ...], text: str) -> str:
    out: list[str] = []
    ci, n = 0, len(comments)
    cursor = 0  # source offset after the last line or comment placed
    after_open = False  # nothing printed yet since a '{'
    pending_blank = False  # a moved `##` comment was printed: a blank line must follow it

    def put(s: str, level: int, blank: bool) -> None:
        nonlocal after_open, pending_blank
        if blank and out:
            out.append("")
        out.append("  " * level + s)
        after_open = pending_blank = False

    def blank_before(line: _Line, first: bool, closing: bool, upto: int) -> bool:
        if line.top and first:
            return True
        if after_open or closing:
            return False
        return pending_blank or text.count("\n", cursor, upto) > 1  # the user left a blank line

    k = 0
    while k < len(lines):
        line = lines[k]
        k += 1
        first = True
        # Comments above the line, on their lines; those before a `}` stay inside the body.
        while ci < n and comments[ci].span.start < line.start:
            c = comments[ci]
            put(c.text, line.level + line.closes, blank_before(line, first, False, c.span.start))
            cursor, first, ci = c.span.end, False, ci + 1
        if line.empty and (ci == n or comments[ci].span.start >= lines[k].start):
            close = lines[k]  # nothing inside the braces: `name {}`
            line, k = replace(line, text=line.text + "}", end=close.end, opens=False), k + 1
        blank = blank_before(line, first, line.closes, line.start)
        for d in line.doc.split("\n") if line.doc is not None else ():
            put(f"## {d}".rstrip(), line.level, blank)
            blank = False
        put(line.text, line.level, blank)
        after_open, cursor = line.opens, max(cursor, line.end)

        # Comments between the line's tokens, then the one after its last token on the same source line.
        tail: list[ast.Comment] = []
        while ci < n and comments[ci].span.start < line.end:
            tail.append(comments[ci])
            ci += 1
        upto = lines[k].start if k < len(lines) else len(text)
        if ci < n and comments[ci].span.start < upto and text.find("\n", line.end, comments[ci].span.start) < 0:
            tail.append(comments[ci])
            cursor, ci = comments[ci].span.end, ci + 1
        if not tail:
            continue
        out[-1] += "  " + tail[0].text
        # More than one fits no line: print the rest below, where a re-run reads them as comments above the next
        # line, so put the blank line a top-level block gets now. A moved `##` gets a blank line after it: it must
        # not become the doc of what follows.
        next_top = k < len(lines) and lines[k].top
        for i, c in enumerate(tail[1:]):
            put(c.text, line.level + line.opens, i == 0 and next_top)
        if len(tail) > 1:
            pending_blank = tail[-1].text.startswith("##")

    while ci < n:  # comments after the last line
        c = comments[ci]
        put(c.text, 0, pending_blank or text.count("\n", cursor, c.span.start) > 1)
        cursor, ci = c.span.end, ci + 1
    return "\n".join(out) + "\n" if out else ""
