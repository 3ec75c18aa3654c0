"""Parse `.dm` text into a `modelc.ast.Module` plus diagnostics.

Lark LALR with the contextual lexer (linear time). We drive Lark's interactive
parser token by token so that one run reports every syntax error: a missing
token is inserted when one literal token fixes the input, otherwise tokens are
skipped (panic mode) and a top-level keyword in column 1 closes the entity
that is still open. Errors right after an error are not reported (no cascade).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import ast
from .diagnostics import Diagnostic, Edit, closest, error, warning

TYPES = ("int", "bigint", "smallint", "decimal", "float", "double", "bool", "string",
         "date", "time", "timestamp", "timestamptz", "json", "binary")  # fmt: skip
TOP_KEYWORDS = frozenset(
    ("model", "import", "source", "dimension", "fact", "hub", "link", "satellite", "pit", "bridge")
)
_QUIET_AFTER_ERROR = 3  # tokens to shift after an error before reporting another
_MAX_FILLERS = 64


@dataclass(frozen=True, slots=True)
class ParseResult:
    module: ast.Module
    diagnostics: tuple[Diagnostic, ...]
    text: str

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("modelc").joinpath("grammar/modelc.lark").read_text("utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False, cache=True)  # fmt: skip


@lru_cache(maxsize=1)
def _terminals() -> tuple[dict[str, str], dict[str, str]]:
    """(terminal name -> literal text, literal text -> terminal name) for fixed-string terminals."""
    by_name: dict[str, str] = {}
    for term in lark_parser().terminals:
        if term.pattern.type == "str":
            by_name[term.name] = term.pattern.value
    return by_name, {v: k for k, v in by_name.items()}


_DESCRIBE = {
    "NAME": "identifier", "QUOTED_NAME": "identifier", "STRING": "string", "UNTERMINATED_STRING": "string",
    "INT": "integer", "DECIMAL": "number", "DATE": "date (YYYY-MM-DD)", "TIMESTAMP": "timestamp",
    "$END": "end of file",
}  # fmt: skip


def describe_terminal(name: str) -> str:
    literal = _terminals()[0].get(name)
    return f"'{literal}'" if literal is not None else _DESCRIBE.get(name, name.lower())


def describe_expected(names: set[str]) -> list[str]:
    """What a user could write here, in the words they write it; keywords first, sorted."""
    words = {describe_terminal(n) for n in names if n != "UNTERMINATED_STRING"}
    return sorted(words, key=lambda w: (not w.startswith("'"), w))


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type in ("NAME", "QUOTED_NAME"):
        return f"`{tok.value}`"
    if tok.type in _terminals()[0]:
        return f"'{tok.value}'"
    return f"{describe_terminal(tok.type)} {tok.value!r}" if len(tok.value) < 40 else describe_terminal(tok.type)


def _expected_phrase(names: set[str]) -> str:
    words = describe_expected(names)
    if len(words) > 9:
        return ", ".join(words[:8]) + f" or {len(words) - 8} more"
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else "nothing"


# ---- the recovering driver ----------------------------------------------------------------


class _Driver:
    def __init__(self, text: str, file: str):
        self.text, self.file = text, file
        self.diags: list[Diagnostic] = []
        self.quiet = _QUIET_AFTER_ERROR  # tokens shifted since the last error
        self.last: Token | None = None
        self.braces: list[Token] = []  # open '{' tokens, for messages
        self.bad_bytes = False
        self.lit_by_name, self.name_by_lit = _terminals()
        self.ip = lark_parser().parse_interactive(text)

    # -- spans
    def _span(self, line: int, col: int, end_line: int, end_col: int, start: int, end: int) -> ast.Span:
        return ast.Span(self.file, line, col, end_line, end_col, start, end)

    def token_span(self, tok: Token) -> ast.Span:
        if tok.type == "$END" or tok.line is None:
            return self.after_last()
        return self._span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)

    def after_last(self) -> ast.Span:
        """Right after the last good token: where a missing token belongs."""
        if self.last is None or self.last.end_line is None:
            return self._span(1, 1, 1, 2, 0, 0)
        t = self.last
        return self._span(t.end_line, t.end_column, t.end_line, t.end_column + 1, t.end_pos, t.end_pos)

    def report(self, diag: Diagnostic) -> None:
        if self.quiet >= _QUIET_AFTER_ERROR:
            self.diags.append(diag)
        self.quiet = 0

    # -- token helpers
    def retype(self, tok: Token, accepts: set[str]) -> Token | None:
        """`tok` as a terminal the parser accepts now (a keyword may be an identifier)."""
        if tok.type in accepts:
            return tok
        kw = self.name_by_lit.get(tok.value)
        if kw in accepts:
            return Token.new_borrow_pos(kw, tok.value, tok)
        if tok.type in self.lit_by_name and "NAME" in accepts and re.fullmatch(r"(?!\d)\w+", tok.value):
            return Token.new_borrow_pos("NAME", tok.value, tok)
        return None

    def filler(self, name: str) -> Token:
        value = self.lit_by_name.get(name, {"INT": "0", "DATE": "2000-01-01"}.get(name, ""))
        t = self.last
        if t is not None and t.end_line is not None:
            return Token(name, value, t.end_pos, t.end_line, t.end_column, t.end_line, t.end_column, t.end_pos)
        return Token(name, value, 0, 1, 1, 1, 1, 0)

    def feed(self, tok: Token) -> None:
        self.ip.feed_token(tok)
        if tok.type == "LBRACE":
            self.braces.append(tok)
        elif tok.type == "RBRACE" and self.braces:
            self.braces.pop()
        if tok.type != "$END":
            self.last = tok
            self.quiet += 1

    # -- recovery
    def try_insert(self, tok: Token, accepts: set[str]) -> bool:
        """Insert one literal token if that lets `tok` through."""
        # Only punctuation: an inserted keyword would turn a stray word into a name.
        order = sorted(n for n in accepts if n in self.lit_by_name and not self.lit_by_name[n][0].isalpha())
        for name in order:
            trial = self.ip.copy(deepcopy_values=False)
            try:
                trial.feed_token(self.filler(name))
            except UnexpectedInput:
                continue
            fixed = self.retype(tok, trial.accepts())
            if fixed is None:
                continue
            lit = self.lit_by_name[name]
            where = self.after_last()
            after = f" after `{self.last.value}`" if self.last is not None else ""
            at = self._span(where.line, where.column, where.line, where.column, where.start, where.start)
            self.report(error("E102", f"missing '{lit}'{after}", where, hint=f"insert '{lit}'", fix=Edit(at, lit)))
            self.feed(self.filler(name))
            self.feed(fixed)
            return True
        return False

    def complete_statement(self, until: Token | None) -> bool:
        """Feed the fewest filler tokens (closing braces first) until `until` (or end of file) fits."""
        for _ in range(_MAX_FILLERS):
            accepts = self.ip.accepts()
            if until is None and "$END" in accepts:
                return True
            if until is not None and (fixed := self.retype(until, accepts)) is not None:
                if fixed.type != "NAME" or "NAME" not in accepts or not self.is_sync(until):
                    self.feed(fixed)
                    return True
            for pick in ("RBRACE", "RPAR", "RSQB", "NAME", "STRING", "DATE", "INT"):
                if pick in accepts:
                    break
            else:
                candidates = sorted(n for n in accepts if n != "$END")
                if not candidates:
                    return False
                pick = candidates[0]
            self.feed(self.filler(pick))
            self.quiet = 0  # fillers are not real tokens
        return False

    def on_token_error(self, tok: Token) -> None:
        accepts = self.ip.accepts()
        if tok.type == "$END":
            self.report(self.unexpected(tok, accepts))
            self.complete_statement(None)
            return
        if self.is_sync(tok) and self.braces and self.name_by_lit.get(tok.value) not in accepts:
            self.report_unclosed(tok, accepts)
            self.complete_statement(tok)
            return
        fixed = self.retype(tok, accepts)
        if fixed is not None:  # a keyword used as a name: fine where a name fits
            self.feed(fixed)
            return
        if tok.type == "UNTERMINATED_STRING":
            self.report(error("E104", "unterminated string", self.token_span(tok),
                              hint="close it with '\"' on the same line"))  # fmt: skip
            if "STRING" in accepts:
                self.feed(Token.new_borrow_pos("STRING", tok.value + '"', tok))
            return
        if self.try_replace(tok, accepts) or self.try_insert(tok, accepts):
            return
        self.report(self.unexpected(tok, accepts))
        # panic mode: drop the token; the following ones decide

    def try_replace(self, tok: Token, accepts: set[str]) -> bool:
        """A misspelt keyword: report it with the nearest expected keyword, and read it as that."""
        if not re.fullmatch(r"(?!\d)\w+", tok.value):
            return False
        keywords = {
            self.lit_by_name[n]: n for n in accepts if n in self.lit_by_name and self.lit_by_name[n].isidentifier()
        }
        near = closest(tok.value, keywords)
        if near is None:
            return False
        span = self.token_span(tok)
        self.report(error("E106", f"unknown keyword `{tok.value}`", span, hint=f"did you mean `{near}`?",
                          fix=Edit(span, near)))  # fmt: skip
        self.feed(Token.new_borrow_pos(keywords[near], near, tok))
        return True

    def report_unclosed(self, tok: Token, accepts: set[str]) -> None:
        opened = f" (opened at line {self.braces[-1].line})" if self.braces else ""
        self.report(error("E108", f"`{tok.value}` starts a new entity, but the one before is not finished{opened}",
                          self.after_last(), hint=f"expected {_expected_phrase(accepts)}"))  # fmt: skip

    def is_sync(self, tok: Token) -> bool:
        return tok.value in TOP_KEYWORDS and tok.column == 1

    def unexpected(self, tok: Token, accepts: set[str]) -> Diagnostic:
        span = self.token_span(tok)
        if tok.type == "$END":
            if "RBRACE" in accepts and self.braces:
                b = self.braces[-1]
                return error("E107", "unexpected end of file: '}' is missing", span,
                             hint=f"the '{{' at line {b.line}, column {b.column} is never closed")  # fmt: skip
            return error("E107", f"unexpected end of file; expected {_expected_phrase(accepts)}", span)
        hint, fix = None, None
        keywords = [
            self.lit_by_name[n] for n in accepts if n in self.lit_by_name and self.lit_by_name[n].isidentifier()
        ]
        if tok.type in ("NAME", "QUOTED_NAME") or tok.value.isidentifier():
            near = closest(tok.value, keywords)
            if near:
                hint, fix = f"did you mean `{near}`?", Edit(span, near)
        if tok.value == "import":
            hint = "imports come right after the `model` line, before the first entity"
        elif tok.value == "model":
            hint = "a file has one `model` line, at its top"
        return error(
            "E101", f"unexpected {_describe_token(tok)}; expected {_expected_phrase(accepts)}", span, hint, fix
        )

    # -- main loop
    def run(self) -> Tree | None:
        lexer_state = self.ip.lexer_thread.state
        while True:
            try:
                for tok in self.ip.lexer_thread.lex(self.ip.parser_state):
                    self.step(tok)
                break
            except UnexpectedToken as e:  # lexed by the root lexer: a token, but not one allowed here
                self.on_token_error(e.token)
            except UnexpectedCharacters as e:
                self.skip_to = e.pos_in_stream + 1
                self.bad_character(e)
                lexer_state.line_ctr.feed(self.text[e.pos_in_stream : self.skip_to])
        end = Token("$END", "")
        try:
            return self.ip.feed_eof(self.last)
        except UnexpectedToken:
            self.on_token_error(end)
            try:
                return self.ip.feed_eof(self.last)
            except UnexpectedInput:
                return None

    def step(self, tok: Token) -> None:
        if tok.type == "NAME" and self.is_sync(tok):
            # A top-level keyword in column 1 lexed as an identifier: an entity was left open.
            accepts = self.ip.accepts()
            if self.braces and self.name_by_lit.get(tok.value) not in accepts:
                self.report_unclosed(tok, accepts)
                self.complete_statement(tok)
                return
        try:
            self.feed(tok)
        except UnexpectedToken:
            self.on_token_error(tok)

    def bad_character(self, e: UnexpectedCharacters) -> None:
        pos = e.pos_in_stream
        char = self.text[pos]
        span = self._span(e.line, e.column, e.line, e.column + 1, pos, pos + 1)
        if self.diags and self.diags[-1].code == "E103" and self.diags[-1].span.end == pos:
            # a run of bad characters is one error
            last = self.diags[-1]
            self.diags[-1] = Diagnostic(last.code, last.severity, last.message,
                                        ast.Span(self.file, last.span.line, last.span.column, e.line, e.column + 1,
                                                 last.span.start, pos + 1), last.hint)  # fmt: skip
            return
        if char == "\ufffd" and self.bad_bytes:
            return  # already reported as invalid UTF-8
        if char == "`":
            self.report(error("E105", "unterminated quoted name", span, hint="close it with '`' on the same line"))
            line_end = self.text.find("\n", pos)
            self.skip_to = len(self.text) if line_end < 0 else line_end
            return
        shown = repr(char) if not char.isprintable() else f"'{char}'"
        self.report(error("E103", f"unexpected character {shown}", span,
                          hint="comments start with '#'" if char in "/-;" else None))  # fmt: skip


# ---- tree -> AST ---------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


class _ToAst(Transformer):
    """Builds AST nodes; checks what the grammar cannot (types, literals)."""

    def __init__(self, file: str, docs: dict[int, str], diags: list[Diagnostic]):
        super().__init__(visit_tokens=True)
        self.file, self.docs, self.diags = file, docs, diags

    def sp(self, meta) -> ast.Span:
        if getattr(meta, "empty", True):
            return ast.NO_SPAN
        return ast.Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)

    def tsp(self, tok: Token) -> ast.Span:
        return ast.Span(self.file, tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1,
                        tok.start_pos or 0, tok.end_pos or 0)  # fmt: skip

    def doc(self, meta) -> str | None:
        return None if getattr(meta, "empty", True) else self.docs.get(meta.line)

    # leaves
    def name(self, children):
        tok = children[0]
        if tok.type == "QUOTED_NAME":
            return ast.Name(tok.value[1:-1].replace("``", "`"), True, self.tsp(tok))
        return ast.Name(tok.value, False, self.tsp(tok))

    def string(self, children):
        tok = children[0]
        span = self.tsp(tok)
        if tok.type == "UNTERMINATED_STRING":
            self.diags.append(error("E104", "unterminated string", span, hint="close it with '\"' on the same line"))
            return ast.Str(_unescape(tok.value[1:]), span)
        return ast.Str(_unescape(tok.value[1:-1]), span)

    def literal(self, tok: Token) -> ast.Literal:
        kind = {"INT": "int", "DECIMAL": "decimal", "DATE": "date", "TIMESTAMP": "timestamp", "NULL": "null",
                "BOOL": "bool"}[tok.type]  # fmt: skip
        if kind == "date":
            self.check_date(tok)
        return ast.Literal(kind, tok.value, self.tsp(tok))

    def check_date(self, tok: Token) -> None:
        import datetime

        try:
            datetime.date.fromisoformat(tok.value)
        except ValueError:
            self.diags.append(error("E109", f"invalid date {tok.value}", self.tsp(tok), hint="write YYYY-MM-DD"))

    def DATE(self, tok):  # noqa: N802 - Lark calls terminal callbacks by name
        return self.literal(tok)

    TIMESTAMP = NULL = BOOL = DATE

    def number(self, children):
        return self.literal(children[0])

    def _value(self, v) -> ast.Literal:
        if isinstance(v, ast.Literal):
            return v
        if isinstance(v, ast.Name):
            return ast.Literal("name", v.value, v.span)
        if isinstance(v, ast.Str):
            return ast.Literal("string", v.value, v.span)
        raise TypeError(v)

    def name_list(self, children):
        return tuple(children)

    def qname(self, children):
        return ast.QName(tuple(children), ast.Span(self.file, children[0].span.line, children[0].span.column,
                                                    children[-1].span.end_line, children[-1].span.end_column,
                                                    children[0].span.start, children[-1].span.end))  # fmt: skip

    @v_args(meta=True)
    def type(self, meta, children):
        name, params = children[0], children[1:]
        ints = tuple(int(p) for p in params)
        node = ast.TypeRef(name, ints, self.sp(meta))
        self.check_type(node)
        return node

    def check_type(self, t: ast.TypeRef) -> None:
        n = t.name.value
        if not n:
            return  # a placeholder from error recovery, already reported
        if n not in TYPES:
            near = closest(n, TYPES)
            self.diags.append(error("E110", f"unknown type `{n}`", t.name.span,
                                    hint=(f"did you mean `{near}`?" if near else "types: " + ", ".join(TYPES)),
                                    fix=Edit(t.name.span, near) if near else None))  # fmt: skip
        elif n == "decimal":
            if len(t.params) != 2 or not (1 <= t.params[0] <= 38 and 0 <= t.params[1] <= t.params[0]):
                self.diags.append(error("E111", "decimal needs a precision 1..38 and a scale 0..precision",
                                        t.span, hint="for example decimal(12, 2)"))  # fmt: skip
        elif n == "string":
            if len(t.params) > 1 or (t.params and t.params[0] < 1):
                self.diags.append(error("E111", "string takes one positive length, as in string(20)", t.span))
        elif t.params:
            self.diags.append(error("E111", f"type `{n}` takes no parameters", t.span))

    # module
    @v_args(meta=True)
    def start(self, meta, children):
        header = next((c for c in children if isinstance(c, ast.Header)), None)
        imports = tuple(c for c in children if isinstance(c, ast.Import))
        entities = tuple(c for c in children if not isinstance(c, (ast.Header, ast.Import)))
        return ast.Module(header, imports, entities, self.file, (), self.sp(meta))

    @v_args(meta=True)
    def header(self, meta, children):
        settings = children[1] if len(children) > 1 else ()
        return ast.Header(children[0], settings, self.doc(meta), self.sp(meta))

    def settings(self, children):
        return tuple(children)

    @v_args(meta=True)
    def setting(self, meta, children):
        return ast.Setting(children[0], self._value(children[1]), self.sp(meta))

    @v_args(meta=True)
    def import_stmt(self, meta, children):
        return ast.Import(children[0], self.sp(meta))

    # source
    @v_args(meta=True)
    def source(self, meta, children):
        name, rest = children[0], children[1:]
        location = rest[0] if rest and isinstance(rest[0], ast.Str) else None
        items = tuple(rest[1:] if location is not None else rest)
        return ast.Source(name, location, items, self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def column(self, meta, children):
        flags = {c for c in children[2:] if isinstance(c, str)}
        return ast.Column(children[0], children[1], "not_null" in flags, "pii" in flags, self.doc(meta), self.sp(meta))

    def not_null(self, _):
        return "not_null"

    def pii(self, _):
        return "pii"

    # dimension
    @v_args(meta=True)
    def dimension(self, meta, children):
        return ast.Dimension(children[0], children[1], tuple(children[2:]), self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def calendar(self, meta, children):
        return ast.Calendar(children[0], children[1], children[2], self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def key_item(self, meta, children):
        return ast.Key(children[0], self.sp(meta))

    def scd_kind(self, children):
        return int(children[0].value[3])

    @v_args(meta=True)
    def scd_item(self, meta, children):
        return ast.Scd(children[0], tuple(children[1:]), self.sp(meta))

    @v_args(meta=True)
    def scd_column(self, meta, children):
        return ast.ScdColumn(children[0], children[1] if len(children) > 1 else None, self.sp(meta))

    @v_args(meta=True)
    def deletes(self, meta, children):
        return ast.Deletes(children[0], children[1] if len(children) > 1 else None, self.sp(meta))

    def option_key(self, children):
        return children[0].value

    @v_args(meta=True)
    def option(self, meta, children):
        return ast.Option(children[0], self._value(children[1]), self.sp(meta))

    @v_args(meta=True)
    def derive(self, meta, children):
        name, rest = children[0], children[1:]
        typ = rest[0] if isinstance(rest[0], ast.TypeRef) else None
        return ast.Derive(name, typ, rest[-1], self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def where(self, meta, children):
        return ast.Where(children[0], self.sp(meta))

    # fact
    @v_args(meta=True)
    def fact(self, meta, children):
        return ast.Fact(children[0], children[1], tuple(children[2:]), self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def grain(self, meta, children):
        return ast.Grain(children[0], self.sp(meta))

    @v_args(meta=True)
    def reference(self, meta, children):
        role, dim, rest = children[0], children[1], children[2:]
        cols = next((c[1] for c in rest if c[0] == "columns"), ())
        at = next((c[1] for c in rest if c[0] == "at"), None)
        return ast.Reference(role, dim, cols, at, self.doc(meta), self.sp(meta))

    def ref_columns(self, children):
        return ("columns", children[0])

    def ref_at(self, children):
        return ("at", children[0])

    @v_args(meta=True)
    def measure(self, meta, children):
        return ast.Measure(children[0], children[1] if len(children) > 1 else None, self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def degenerate(self, meta, children):
        return ast.Degenerate(children[0], self.sp(meta))

    @v_args(meta=True)
    def incremental(self, meta, children):
        return ast.Incremental(children[0], self.sp(meta))

    # physical
    @v_args(meta=True)
    def partition_by(self, meta, children):
        if len(children) == 2:
            return ast.PartitionBy(children[1], children[0], self.sp(meta))
        return ast.PartitionBy(children[0], None, self.sp(meta))

    @v_args(meta=True)
    def cluster_by(self, meta, children):
        return ast.ClusterBy(children[0], self.sp(meta))

    @v_args(meta=True)
    def order_by(self, meta, children):
        return ast.OrderBy(children[0], self.sp(meta))

    @v_args(meta=True)
    def sortkey(self, meta, children):
        return ast.SortKey(children[0], self.sp(meta))

    @v_args(meta=True)
    def distkey(self, meta, children):
        return ast.DistKey(children[0], self.sp(meta))

    @v_args(meta=True)
    def diststyle(self, meta, children):
        return ast.DistStyle(children[0], self.sp(meta))

    @v_args(meta=True)
    def engine(self, meta, children):
        return ast.Engine(children[0], self.sp(meta))

    # vault
    def source_refs(self, children):
        return tuple(children)

    @v_args(meta=True)
    def source_ref(self, meta, children):
        return ast.SourceRef(children[0], children[1] if len(children) > 1 else (), self.sp(meta))

    @v_args(meta=True)
    def hub(self, meta, children):
        return ast.Hub(children[0], children[1], tuple(children[2:]), self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def link(self, meta, children):
        return ast.Link(children[0], children[1], tuple(children[2:]), self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def hubs(self, meta, children):
        return ast.Hubs(tuple(children), self.sp(meta))

    @v_args(meta=True)
    def hub_ref(self, meta, children):
        return ast.HubRef(children[0], children[1], children[2] if len(children) > 2 else None, self.sp(meta))

    @v_args(meta=True)
    def child(self, meta, children):
        return ast.Child(children[0], self.sp(meta))

    @v_args(meta=True)
    def transactional(self, meta, children):
        return ast.Transactional(self.sp(meta))

    @v_args(meta=True)
    def payload(self, meta, children):
        return ast.Payload(children[0], self.sp(meta))

    @v_args(meta=True)
    def satellite(self, meta, children):
        name, (parent, parent_cols), sources, items = children[0], children[1], children[2], children[3:]
        return ast.Satellite(name, parent, parent_cols, sources, tuple(items), self.doc(meta), self.sp(meta))

    def parent_ref(self, children):
        return (children[0], children[1] if len(children) > 1 else ())

    @v_args(meta=True)
    def multi_active(self, meta, children):
        return ast.MultiActive(children[0], self.sp(meta))

    @v_args(meta=True)
    def effectivity(self, meta, children):
        return ast.Effectivity(children[0], self.sp(meta))

    @v_args(meta=True)
    def tracking(self, meta, children):
        return ast.Tracking(self.sp(meta))

    @v_args(meta=True)
    def pit(self, meta, children):
        return ast.Pit(children[0], children[1], tuple(children[2:]), self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def bridge(self, meta, children):
        return ast.Bridge(children[0], children[1], tuple(children[2:]), self.doc(meta), self.sp(meta))

    @v_args(meta=True)
    def satellites(self, meta, children):
        return ast.Satellites(children[0], self.sp(meta))

    @v_args(meta=True)
    def links(self, meta, children):
        return ast.Links(children[0], self.sp(meta))

    @v_args(meta=True)
    def spine(self, meta, children):
        every, rest = children[0], children[1:]
        start = next((v for k, v in rest if k == "from"), None)
        end = next((v for k, v in rest if k == "to"), None)
        return ast.Spine(every, start, end, self.sp(meta))

    def spine_from(self, children):
        return ("from", children[0])

    def spine_to(self, children):
        return ("to", children[0])

    # tests
    @v_args(meta=True)
    def test(self, meta, children):
        return children[0]

    @v_args(meta=True)
    def test_unique(self, meta, children):
        return ast.TestUnique(children[0], self.sp(meta))

    @v_args(meta=True)
    def test_not_null(self, meta, children):
        return ast.TestNotNull(children[0], self.sp(meta))

    @v_args(meta=True)
    def test_accepted(self, meta, children):
        return ast.TestAccepted(children[0], tuple(self._value(v) for v in children[1:]), self.sp(meta))

    @v_args(meta=True)
    def test_range(self, meta, children):
        return ast.TestRange(children[0], self._value(children[1]), self._value(children[2]), self.sp(meta))

    @v_args(meta=True)
    def test_references(self, meta, children):
        return ast.TestReferences(children[0], children[1], children[2], self.sp(meta))

    @v_args(meta=True)
    def test_expression(self, meta, children):
        return ast.TestExpression(children[0], self.sp(meta))


# ---- comments, doc comments, whitespace checks -----------------------------------------------

_LEXEME = re.compile(r'"(?:[^"\\\n]|\\.)*"?|`[^`\n]*`?|#[^\n]*')


def scan_comments(text: str, file: str) -> tuple[ast.Comment, ...]:
    """Every `#` comment outside strings and quoted names, with its span."""
    out = []
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    import bisect

    for m in _LEXEME.finditer(text):
        if m.group().startswith("#"):
            line = bisect.bisect_right(line_starts, m.start())
            col = m.start() - line_starts[line - 1] + 1
            out.append(ast.Comment(m.group().rstrip(), ast.Span(file, line, col, line, col + len(m.group().rstrip()),
                                                                m.start(), m.end())))  # fmt: skip
    return tuple(out)


def doc_comments(text: str, comments: tuple[ast.Comment, ...]) -> dict[int, str]:
    """Line of a construct -> the `##` block right above it (only comments on those lines)."""
    lines = text.split("\n")
    own_line = {c.span.line: c for c in comments
                if c.text.startswith("##") and lines[c.span.line - 1][: c.span.column - 1].strip() == ""}  # fmt: skip
    docs: dict[int, str] = {}
    for line in sorted(own_line):
        nxt = line + 1
        if nxt in own_line:
            continue
        block, ln = [], line
        while ln in own_line:
            block.append(own_line[ln].text[2:].removeprefix(" "))
            ln -= 1
        docs[nxt] = "\n".join(reversed(block))
    return docs


def _whitespace_warnings(text: str, file: str) -> list[Diagnostic]:
    tabbed = [i for i, line in enumerate(text.split("\n"), 1) if "\t" in line[: len(line) - len(line.lstrip())]]
    if not tabbed:
        return []
    first = tabbed[0]
    more = f" (and {len(tabbed) - 1} more lines)" if len(tabbed) > 1 else ""
    return [warning("W101", f"tab character in indentation{more}", ast.Span(file, first, 1, first, 2),
                    hint="indent with spaces; `modelc fmt` fixes this")]  # fmt: skip


def decode(data: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text of `data`; each undecodable byte becomes U+FFFD and an error at its position."""
    parts: list[str] = []
    diags: list[Diagnostic] = []
    pos = 0
    while True:
        try:
            parts.append(data[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            parts.append(data[pos : pos + exc.start].decode("utf-8"))
            before = "".join(parts)
            line = before.count("\n") + 1
            col = len(before) - (before.rfind("\n") + 1) + 1
            if len(diags) < 10:
                span = ast.Span(file, line, col, line, col + 1, len(before), len(before) + 1)
                diags.append(error("E100", f"invalid UTF-8 byte 0x{data[pos + exc.start]:02x}", span,
                                   hint="save the file as UTF-8"))  # fmt: skip
            parts.append("\ufffd")
            pos += exc.end
    return "".join(parts).removeprefix("\ufeff"), diags


def parse(source: str | bytes, file: str = "<string>") -> ParseResult:
    """Parse one file. Never raises for bad input: problems come back as diagnostics."""
    diags: list[Diagnostic] = []
    if isinstance(source, bytes):
        text, diags = decode(source, file)
    else:
        text = source
    diags += _whitespace_warnings(text, file)
    comments = scan_comments(text, file)
    driver = _Driver(text, file)
    driver.bad_bytes = bool(diags)
    tree = driver.run()
    diags += driver.diags
    module = ast.Module(None, (), (), file, comments, ast.Span(file, 1, 1, 1, 1))
    if tree is not None:
        module = _ToAst(file, doc_comments(text, comments), diags).transform(tree)
        module = ast.Module(module.header, module.imports, module.entities, file, comments, module.span)
    if not module.entities and module.header is None and not module.imports and not driver.diags:
        diags.append(warning("W102", "the file defines nothing" + (" (only comments)" if comments else ""),
                             ast.Span(file, 1, 1, 1, 1), hint="start with `model NAME`"))  # fmt: skip
    diags.sort(key=Diagnostic.sort_key)
    return ParseResult(module, tuple(diags), text)
