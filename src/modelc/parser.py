"""Parse `.dm` text into a `modelc.ast.Module` plus diagnostics.

Lark LALR with the contextual lexer (linear time). We drive Lark's interactive parser token by
token so that one run reports every syntax error:

- At an error the driver weighs a few local repairs -- read a misspelt keyword as the keyword,
  insert the missing token(s), swap one punctuation mark for another, drop the token -- by how far
  each lets a trial parse (a copy of the LALR state stack, no trees) run through the rest of the
  line and the next one. It applies the best and names it in the diagnostic.
- Three cheap checks on the happy path catch what LALR alone would misread silently: a top-level
  keyword at the start of a line while a statement is still open (a missing '}'), a word next to a
  keyword that may also come there (`tset id unique` in a source, where a column could start), and a
  new line while the item on the line before is unfinished (`key` alone, a column without a type).
  The grammar ignores white space, so these only defer: the token is read as written, and only if
  the parse then fails within the look-ahead that preferred the repair does the driver go back to
  that token and make it. Valid input, however it is laid out, never gets a diagnostic.
- One syntax error per line at most, and none while tokens are being dropped: no cascades.
- Costly repairs stop after a fixed number per file; the rest is plain panic mode, so garbage
  input stays linear too.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import dataclasses
import gc
import re
from collections.abc import Callable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass
from functools import lru_cache, partial
from importlib import resources

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.grammar import Rule
from lark.lexer import LexerThread
from lark.parsers.lalr_analysis import Shift

from . import ast
from .diagnostics import Diagnostic, Edit, closest, error, warning

TYPES = ("int", "bigint", "smallint", "decimal", "float", "double", "bool", "string",
         "date", "time", "timestamp", "timestamptz", "json", "binary")  # fmt: skip
TOP_KEYWORDS = frozenset(
    ("model", "import", "source", "dimension", "fact", "hub", "link", "satellite", "pit", "bridge")
)
_WORD = re.compile(r"(?!\d)\w+")
_LOOKAHEAD_CHARS = 400  # how much text the repair look-ahead may lex (keeps one error O(1))
_LOOKAHEAD_TOKENS = 12
_SEARCH_DEPTH = 6  # longest run of invented tokens (e.g. `NAME ( NAME ) }` after `test x references`)
_EOF_DEPTH = 9  # to close all at the end of the file, from anywhere
_SEARCH_BUDGET = 600  # trial stacks one search may make
_MAX_REPAIRS = 200  # weighed repairs per file; after that plain panic mode keeps garbage linear
_MAX_BAD_BYTES = 10  # E100 diagnostics per file
# Terminals never invented: each has a plainer twin (NAME, STRING, INT) wherever it may come.
_NO_FILLER = frozenset(("QUOTED_NAME", "UNTERMINATED_STRING", "DECIMAL", "TIMESTAMP", "TRUE", "FALSE", "$END"))
_FILLER_VALUE = {"INT": "0", "DATE": "2000-01-01", "STRING": '""'}
_QUOTED_NAME_HINT = "names are written without quotes; `backquotes` allow any characters"
_CHAR_HINTS = {"/": "comments start with '#'", "-": "comments start with '#'", ";": "lines need no ';' at the end",
               ":": "no ':' here: a setting is written `name value`"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParseResult:
    module: ast.Module
    diagnostics: tuple[Diagnostic, ...]
    text: str
    # For the language server, which parses a file statement by statement: the offsets of the repairs the
    # driver weighed (a file gets at most `_MAX_REPAIRS`), and whether a look-ahead ran into the end of the
    # text (then what follows in a longer text might have changed how an error was read).
    repairs: tuple[int, ...] = ()
    clipped: bool = False

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


@lru_cache(maxsize=1)
def _basic_lexer():
    """A context-free lexer over all terminals, for looking ahead past an error."""
    return lark_parser()._build_lexer()


@lru_cache(maxsize=1)
def _type_states() -> frozenset[int]:
    """LALR states in which the next name is a type (found by parsing two samples), for messages."""
    samples = (["SOURCE", "NAME", "LBRACE", "NAME", "NAME"], ["DIMENSION", "NAME", "FROM", "NAME", "LBRACE",
                                                              "DERIVE", "NAME", "NAME"])  # fmt: skip
    states = set()
    for sample in samples:
        ip = lark_parser().parse_interactive("")
        for name in sample:
            ip.feed_token(Token(name, _terminals()[0].get(name, "x")))
        states.add(ip.parser_state.state_stack[-2])
    return frozenset(states)


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=1)
def _typo_index() -> dict[str, frozenset[str]]:
    """One-deletion neighbourhoods of every keyword: a cheap gate for `closest()` on the happy path."""
    index: dict[str, set[str]] = {}
    for lit in _terminals()[1]:
        if lit.isidentifier():
            for variant in _deletions(lit):
                index.setdefault(variant, set()).add(lit)
    return {k: frozenset(v) for k, v in index.items()}


@lru_cache(maxsize=4096)
def near_keywords(word: str) -> frozenset[str]:
    """Keywords one edit (or one transposition) away from `word`; not `word` itself."""
    if len(word) < 3:
        return frozenset()
    index = _typo_index()
    found: set[str] = set()
    for variant in _deletions(word.lower()):
        found |= index.get(variant, frozenset())
    found.discard(word)
    return frozenset(found)


_DESCRIBE = {
    "NAME": "identifier", "QUOTED_NAME": "identifier", "STRING": "string", "UNTERMINATED_STRING": "string",
    "INT": "integer", "DECIMAL": "number", "DATE": "date (YYYY-MM-DD)", "TIMESTAMP": "timestamp",
    "$END": "end of file",
}  # fmt: skip


def _detached(values: list) -> list:
    """The value stack with each tree's child list copied. Lark builds `item*` lists left-recursively by
    appending to the list of the tree already on the stack, so a saved stack must not share those lists."""
    return [Tree(v.data, list(v.children), v.meta) if isinstance(v, Tree) else v for v in values]


def describe_terminal(name: str) -> str:
    literal = _terminals()[0].get(name)
    return f"'{literal}'" if literal is not None else _DESCRIBE.get(name, name.lower())


def describe_expected(names: set[str]) -> list[str]:
    """What a user could write here, in the words they write it; keywords first, sorted."""
    if {"NAME", "STRING", "INT"} <= names:  # any value: one word instead of seven
        names = (names - {"NAME", "QUOTED_NAME", "STRING", "UNTERMINATED_STRING", "INT", "DECIMAL", "DATE",
                          "TIMESTAMP", "NULL", "TRUE", "FALSE"}) | {"value"}  # fmt: skip
    words = {describe_terminal(n) for n in names if n != "UNTERMINATED_STRING"}
    return sorted(words, key=lambda w: (not w.startswith("'"), w))


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type in ("NAME", "QUOTED_NAME"):
        return f"`{tok.value}`"
    if tok.type in _terminals()[0]:
        return f"'{tok.value}'"
    if tok.type in ("STRING", "UNTERMINATED_STRING"):
        return "string " + (tok.value if len(tok.value) <= 20 else tok.value[:16] + '..."')
    return f"{describe_terminal(tok.type)} {tok.value}" if len(tok.value) <= 20 else describe_terminal(tok.type)


def _expected_phrase(names: set[str]) -> str:
    words = describe_expected(names)
    if len(words) > 9:  # an item start: keywords summed up here, listed in the hint (`_keywords_hint`)
        words = [w for w in words if not (w.startswith("'") and w[1:-1].isidentifier())] + ["a keyword"]
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else "nothing"


def _keywords_hint(names: set[str]) -> str | None:
    """For a long expected set: the keywords that may come here, in full."""
    words = describe_expected(names)
    if len(words) <= 9:
        return None
    kws = [w.strip("'") for w in words if w.startswith("'") and w[1:-1].isidentifier()]
    return "expected one of " + ", ".join(f"`{k}`" for k in kws)


# ---- the recovering driver ----------------------------------------------------------------

# (line ends between items, its tokens consumed, same for the next line, -keywords read as names):
# the error's own line decides first, the next line breaks ties.
Score = tuple[bool, int, bool, int, int]
Stack = list[int]  # LALR states: trials run on these alone, no trees, no lexer
Lookahead = tuple[list[Token], list[Token]]  # rest of the line, next line


class _Rewind(Exception):  # noqa: N818 - control flow, not an error
    """A syntax error while a deferred repair is pending: go back and make it."""

    def __init__(self, checkpoint: _Checkpoint):
        self.checkpoint = checkpoint


@dataclass(slots=True)
class _Checkpoint:
    horizon: int  # a syntax error up to here (a text position) sends the parse back to make the repair
    repair: Callable[[], None]
    saved: tuple  # the lexer, the parser and the driver as they were at the token


@dataclass(slots=True)
class _Brace:
    token: Token
    owner: str  # "`source crm.a`": what the brace opens, for messages


class _Driver:
    def __init__(self, text: str, file: str, quiet_lines: frozenset[int] = frozenset()):
        self.text, self.file = text, file
        self.diags: list[Diagnostic] = []
        self.quiet_lines = set(quiet_lines)  # lines that already carry an error
        self.panic = False  # a token was dropped: quiet until one is shifted
        self.repairs = 0
        self.repair_at: list[int] = []  # text offsets of the repairs counted in `repairs`
        self.clipped = False  # a look-ahead or a repair's horizon reached the end of the text
        self.skipping = False  # dropping a misplaced `import`/`model` statement
        self.last: Token | None = None  # the last real token shifted
        self.braces: list[_Brace] = []
        self.entity_start: Token | None = None  # keyword of the current top-level statement
        self.header_line: int | None = None
        self.first_entity_line: int | None = None
        self.bad_bytes = False
        self.checkpoints: list[_Checkpoint] = []  # deferred repairs, oldest first
        self.lit_by_name, self.name_by_lit = _terminals()
        self.ip = lark_parser().parse_interactive(text)
        self.ps = self.ip.parser_state
        self.states = self.ps.parse_conf.states
        self.end_state = self.ps.parse_conf.end_state
        self.defaults = _default_reductions()

    # -- spans and reporting
    def _span(self, line: int, col: int, end_line: int, end_col: int, start: int, end: int) -> ast.Span:
        return ast.Span(self.file, line, col, end_line, end_col, start, end)

    def token_span(self, tok: Token) -> ast.Span:
        if tok.type == "$END" or tok.line is None:
            return self.after_last()
        return self._span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)

    def after_last(self, width: int = 1) -> ast.Span:
        """Right after the last good token: where a missing token belongs."""
        t = self.last
        if t is None or t.end_line is None:
            return self._span(1, 1, 1, 1 + width, 0, 0)
        return self._span(t.end_line, t.end_column, t.end_line, t.end_column + width, t.end_pos, t.end_pos)

    def report(self, diag: Diagnostic, always: bool = False) -> None:
        """One syntax error per line, none while dropping tokens (`always`: lexical and structural errors)."""
        if always or not (self.panic or diag.span.line in self.quiet_lines):
            self.diags.append(diag)
        if diag.code not in ("E107", "E108"):  # these sit after a line's last token: the line may be fine
            self.quiet_lines.add(diag.span.line)

    # -- the trial parser: a copy of the state stack
    def stack(self) -> Stack:
        return self.ps.state_stack[:]

    def advance(self, stack: Stack, term: str) -> bool:
        """Feed terminal `term` to `stack` in place; False if it does not fit (`stack` is then spoilt)."""
        states = self.states
        while True:
            action = states[stack[-1]].get(term)
            if action is None:
                return False
            kind, arg = action
            if kind is Shift:
                stack.append(arg)
                return True
            if arg.expansion:
                del stack[-len(arg.expansion) :]
            stack.append(states[stack[-1]][arg.origin.name][1])
            if term == "$END" and stack[-1] == self.end_state:
                return True

    def takes(self, stack: Stack, term: str) -> bool:
        """Would `stack` shift `term`? The table alone over-promises: LALR look-aheads may fail after reducing."""
        return self.advance(stack[:], term)

    def fit(self, tok: Token, stack: Stack) -> Token | None:
        """`tok` as a terminal `stack` takes: a keyword can be a name, and a name a keyword.

        After a name the contextual lexer lexes with every terminal (the name is not reduced yet), so a
        keyword often arrives typed as a keyword where only a name fits; this puts that right."""
        kw = self.name_by_lit.get(tok.value)
        if kw is not None and kw != tok.type and self.takes(stack, kw):  # as the contextual lexer would read it
            return Token.new_borrow_pos(kw, tok.value, tok)
        if self.takes(stack, tok.type):
            return tok
        if tok.type == "UNTERMINATED_STRING" and self.takes(stack, "STRING"):
            return Token.new_borrow_pos("STRING", tok.value + '"', tok)
        if tok.type != "NAME" and _WORD.fullmatch(tok.value) and self.takes(stack, "NAME"):
            return Token.new_borrow_pos("NAME", tok.value, tok)
        return None

    def settle(self, stack: Stack) -> Stack:
        """`stack` after the reductions its state makes whatever comes next, so that its table row lists
        what may really follow (after a name, the row of `name: NAME .` lists every terminal)."""
        states, defaults = self.states, self.defaults
        while (rule := defaults.get(stack[-1])) is not None and len(stack) > len(rule.expansion):
            below = stack[: len(stack) - len(rule.expansion)]
            goto = states[below[-1]].get(rule.origin.name)
            if goto is None:
                break
            stack = [*below, goto[1]]
        return stack

    def choices(self, stack: Stack) -> list[str]:
        """Terminals the settled state has an action for (a few may still fail after reducing)."""
        return [t for t in self.states[self.settle(stack)[-1]] if t.isupper()]

    def expected(self, stack: Stack) -> set[str]:
        return {t for t in self.choices(stack) if self.takes(stack, t)}

    def between_items(self, stack: Stack) -> bool:
        return self.takes(stack, "RBRACE") or self.takes(stack, "$END")

    def awaits_type(self, stack: Stack) -> bool:
        """Is the next name a type? Only visible once a name is fed: reductions wait for a look-ahead."""
        s = stack[:]
        return self.advance(s, "NAME") and s[-2] in _type_states()

    def filler(self, name: str) -> Token:
        """An invented token, zero-width right after the last real one (the transformer skips its checks)."""
        value = self.lit_by_name.get(name, _FILLER_VALUE.get(name, ""))
        t = self.last
        if t is not None and t.end_line is not None:
            return Token(name, value, t.end_pos, t.end_line, t.end_column, t.end_line, t.end_column, t.end_pos)
        return Token(name, value, 0, 1, 1, 1, 1, 0)

    # -- the real parser
    def shift(self, tok: Token, real: bool = True) -> bool:
        """Feed one token; on failure restore the stacks (a failed feed may already have reduced)."""
        action = self.states[self.ps.state_stack[-1]].get(tok.type)
        if action is None:
            return False
        if action[0] is Shift:  # cannot fail
            self.ps.feed_token(tok)
        else:
            # Reductions may run before an LALR error shows, and Lark grows `item*` lists in place, so a
            # failed feed cannot be undone by restoring the stacks: check on the state stack alone first.
            if not self.takes(self.ps.state_stack, tok.type):
                return False
            self.ps.feed_token(tok, tok.type == "$END")
        if tok.type == "LBRACE":
            self.braces.append(_Brace(tok, self.owner(tok)))
        elif tok.type == "RBRACE" and self.braces:
            self.braces.pop()
        if real:
            self.last = tok
            self.panic = False
            if not self.braces and tok.value in TOP_KEYWORDS and tok.type in self.lit_by_name:
                self.entity_start = tok
                if tok.value == "model":
                    self.header_line = tok.line
                elif tok.value != "import" and self.first_entity_line is None:
                    self.first_entity_line = tok.line
        return True

    def shift_all(self, fillers: Sequence[Token], tok: Token) -> None:
        for t in fillers:
            self.shift(t, real=False)
        fixed = self.fit(tok, self.stack())
        if fixed is None or not self.shift(fixed):
            self.on_error(tok)

    def owner(self, upto: Token, inclusive: bool = False) -> str:
        """The first two words of the statement `upto` (a brace) belongs to, as "`source crm.a`"."""
        start = self.entity_start
        end = upto.end_pos if inclusive else upto.start_pos
        if start is None or start.start_pos is None or end is None or start.start_pos > end:
            return "this block"
        return "`" + " ".join(self.text[start.start_pos : end].split()[:2])[:60] + "`"

    # -- weighing repairs
    def lookahead(self, tok: Token) -> Lookahead:
        """The tokens after `tok` to the end of its line, and those of the next line (at most 12 in all),
        lexed without parser context."""
        if tok.type == "$END" or tok.end_pos is None:
            return [], []
        start = tok.end_pos
        stop = self.ahead_end(tok)
        nl = self.text.find("\n", start, stop)
        line: list[Token] = []
        after: list[Token] = []
        try:
            for t in LexerThread.from_text(_basic_lexer(), self.text[start:stop]).lex(None):
                (line if nl < 0 or start + t.start_pos < nl else after).append(t)
                if len(line) + len(after) >= _LOOKAHEAD_TOKENS:
                    break
        except UnexpectedInput:
            pass  # a bad character ends the look-ahead
        return line, after

    def ahead_end(self, tok: Token) -> int:
        """Where the look-ahead after `tok` ends: the end of the next line, 400 characters at most."""
        stop = min(len(self.text), tok.end_pos + _LOOKAHEAD_CHARS)
        nl = self.text.find("\n", tok.end_pos, stop)
        nl2 = self.text.find("\n", nl + 1, stop) if nl >= 0 else -1
        if nl2 < 0 and stop == len(self.text):
            self.clipped = True
        return nl2 if nl2 >= 0 else stop

    def score(self, prefix: Sequence[Token], first: Token | None, ahead: Lookahead) -> Score:
        """How well the parse runs through `first` and the look-ahead after `prefix` (`first` None: dropped)."""
        stack = self.stack()
        if not all(self.advance(stack, t.type) for t in prefix):
            return (False, -1, False, -1, 0)
        line = ([first] if first is not None else []) + ahead[0]
        renamed = 0
        parts: list[tuple[bool, int]] = []
        for tokens, consumed in ((line, int(first is None)), (ahead[1], 0)):
            for t in tokens:
                fixed = self.fit(t, stack)
                if fixed is None or not self.advance(stack, fixed.type):
                    parts.append((False, consumed))
                    break
                consumed += 1
                renamed += fixed.type == "NAME" and t.type != "NAME"
            else:
                parts.append((self.between_items(stack), consumed))
                continue
            break
        (line_ok, line_n), (next_ok, next_n) = parts[0], parts[1] if len(parts) > 1 else (False, 0)
        return (line_ok, line_n, next_ok, next_n, -renamed)

    def search(self, goal: Callable[[Stack], bool], min_depth: int = 1, depth: int = _SEARCH_DEPTH,
               closing: bool = True, budget: int = _SEARCH_BUDGET) -> list[Token] | None:  # fmt: skip
        """Fewest invented tokens after which `goal` holds, breadth first ('}' only if `closing`).

        Keywords are invented only where few may come (`on` after `incremental`): inventing a whole new
        item is never the fix."""
        frontier: list[tuple[Stack, list[str]]] = [(self.stack(), [])]
        seen = {tuple(frontier[0][0])}
        for level in range(depth + 1):
            if level >= min_depth:
                for stack, path in frontier:
                    if goal(stack):
                        return [self.filler(name) for name in path]
            if level == depth:
                break
            nxt = []
            for stack, path in frontier:
                names = [n for n in self.choices(stack) if n not in _NO_FILLER and (closing or n != "RBRACE")]
                if self.item_start(names):
                    names = [n for n in names if not self.lit_by_name.get(n, "").isidentifier()]
                for name in sorted(names, key=_filler_order):
                    budget -= 1
                    if budget < 0:
                        return None
                    s = stack[:]
                    if self.advance(s, name) and (key := tuple(s)) not in seen:
                        seen.add(key)
                        nxt.append((s, [*path, name]))
            frontier = nxt
        return None

    def item_start(self, names: Sequence[str]) -> bool:
        """Many keywords may come: a new item or statement starts here (inventing one is never the fix)."""
        return sum(1 for n in names if self.lit_by_name.get(n, "").isidentifier()) > 3

    def describe_missing(self, filler: Token) -> str:
        stack = self.stack()
        if filler.type == "NAME" and self.awaits_type(stack):
            return "type"
        if filler.type in ("NAME", "STRING", "INT", "DATE") and {"NAME", "STRING", "INT"} <= self.expected(stack):
            return "value"
        return describe_terminal(filler.type)

    # -- per token: the happy path plus three cheap checks
    def step(self, tok: Token, line_checked: bool = False) -> None:
        if self.skipping:
            if not (tok.column == 1 and tok.value in TOP_KEYWORDS and tok.value not in ("model", "import")):
                return
            self.skipping = False
        if tok.type == "UNTERMINATED_STRING":
            self.report(error("E104", "unterminated string", self.token_span(tok),
                              hint="close it with '\"' on the same line"), always=True)  # fmt: skip
            tok = Token.new_borrow_pos("STRING", tok.value + '"', tok)
        if self.checkpoints:
            while self.checkpoints and self.checkpoints[0].horizon < tok.start_pos:
                self.checkpoints.pop(0)  # read past its look-ahead without an error: the text meant what it says
            self.check_type_name(tok)
        if self.repairs < _MAX_REPAIRS and self.checks(tok, line_checked):
            self.check_type_name(tok)  # a deferred repair now pending: `tok` is its first test
        if not self.shift(tok):
            self.on_error(tok)

    def checks(self, tok: Token, line_checked: bool) -> bool:
        """The happy-path checks; True if one of them deferred a repair."""
        last = self.last
        if not line_checked and (tok.column == 1 or (last is not None and tok.line > last.end_line)):
            new_line = last is not None and tok.line > last.end_line
            if (tok.column == 1 or (new_line and tok.value in TOP_KEYWORDS)) and self.sync(tok):
                return True
            if new_line and self.braces and not self.takes(self.ps.state_stack, "RBRACE") and self.line_break(tok):
                return True
        return tok.type == "NAME" and self.respell(tok)

    def check_type_name(self, tok: Token) -> None:
        """While a repair is pending, an unknown type counts as a failure too (`id int nto null` reads as a
        column `nto` of type `null`: valid syntax, but the keyword reading is what was meant)."""
        if self.checkpoints and tok.value not in TYPES and self.awaits_type(self.ps.state_stack):
            raise _Rewind(self.checkpoints[0])

    def defer(self, tok: Token, repair: Callable[[], None]) -> bool:
        """Read `tok` as it is for now, but if the parse fails within the look-ahead that preferred `repair`,
        go back and make the repair instead. So valid input, however it is laid out, gets no diagnostic."""
        self.count_repair(tok)
        values = _detached(self.ps.value_stack)
        saved = (copy(self.ip.lexer_thread.state), self.ps.state_stack[:], values, self.braces[:], self.last,
                 self.entity_start, self.header_line, self.first_entity_line, set(self.quiet_lines),
                 self.panic, self.skipping, len(self.diags))  # fmt: skip
        self.checkpoints.append(_Checkpoint(self.ahead_end(tok), repair, saved))
        return True

    def rewind(self, cp: _Checkpoint) -> None:
        # Restore copies: the saved trees must stay as they were if we rewind to this checkpoint again.
        (lexer, states, values, self.braces, self.last, self.entity_start, self.header_line, self.first_entity_line,
         self.quiet_lines, self.panic, self.skipping, n_diags) = cp.saved  # fmt: skip
        self.ip.lexer_thread.state = lexer
        self.ps.state_stack[:], self.ps.value_stack[:] = states, _detached(values)
        del self.diags[n_diags:]
        self.checkpoints.clear()
        cp.repair()

    def sync(self, tok: Token) -> bool:
        """A top-level keyword first on its line (or a near miss in column 1) while a statement is open: does
        it start a new one?"""
        word = tok.value
        if word in TOP_KEYWORDS:
            kw: str | None = word
        else:
            near = [k for k in near_keywords(word) if k in TOP_KEYWORDS]
            kw = closest(word, near) if near else None
        if kw is None or self.takes(self.ps.state_stack, "$END"):
            return False  # not a statement keyword, or nothing is open
        kw_tok = Token.new_borrow_pos(self.name_by_lit[kw], kw, tok)
        rest = self.lookahead(tok)
        as_is = self.score([], tok, rest)
        path = self.search(lambda s: self.takes(s, "$END"))
        if path is None:
            return False
        if kw in ("model", "import"):  # misplaced there anyway: wins unless the line reads fine as is
            if as_is[0]:
                return False
        elif self.score(path, kw_tok, rest) <= as_is:
            return False

        def close_and_start_anew() -> None:
            self.report_unclosed(path, kw)
            if kw != word:
                self.report(self.respelt(tok, kw))
            self.shift_all(path, kw_tok)

        return self.defer(tok, close_and_start_anew)

    def line_break(self, tok: Token) -> bool:
        """`tok` opens a line while the item before is unfinished: is something missing at that line's end?"""
        rest = self.lookahead(tok)
        as_is = self.score([], tok, rest)
        if self.awaits_type(self.stack()):
            as_is = (False, 0, False, 0, 0)  # a column's type is never on the next line
        elif as_is[0]:
            return False  # the item simply continues on this line
        path = self.search(lambda s: self.takes(s, "RBRACE"), closing=False)
        if not path or self.score(path, tok, rest) <= as_is:
            return False

        def finish_the_line_before() -> None:
            self.report(self.missing(path))
            for t in path:
                self.shift(t, real=False)
            # Read `tok` again as the lexer would here (`measure` is a keyword now), and check it once more:
            # it may still be misspelt.
            self.step(self.fit(tok, self.stack()) or tok, line_checked=True)

        return self.defer(tok, finish_the_line_before)

    def respell(self, tok: Token) -> bool:
        """A name where a keyword also fits and nearly matches (`tset id unique`): which reads better?"""
        near = near_keywords(tok.value)
        if near:
            choices = self.choices(self.ps.state_stack)
            near = frozenset(k for k in near if self.name_by_lit[k] in choices)
        if not near:
            return False
        rest = self.lookahead(tok)
        best, kw_tok = self.score([], tok, rest), None
        for kw in sorted(near):
            cand = Token.new_borrow_pos(self.name_by_lit[kw], kw, tok)
            if (s := self.score([], cand, rest)) > best:
                best, kw_tok = s, cand
        if kw_tok is None:
            return False

        def read_as_keyword() -> None:
            self.report(self.respelt(tok, kw_tok.value))
            self.shift_all([], kw_tok)

        return self.defer(tok, read_as_keyword)

    def count_repair(self, tok: Token) -> None:
        self.repairs += 1
        self.repair_at.append(tok.start_pos or 0)

    # -- at an error
    def on_error(self, tok: Token) -> None:
        if tok.type == "$END":
            self.on_eof()
            return
        stack = self.stack()
        fixed = self.fit(tok, stack)
        if fixed is not None and fixed is not tok:
            self.check_type_name(fixed)
            if self.shift(fixed):
                return  # a keyword used as a name, or the reverse: fine where it fits
        if self.checkpoints:
            raise _Rewind(self.checkpoints[0])
        if tok.value in ("import", "model") and self.takes(stack, "$END"):
            self.misplaced(tok)
            return
        accepts = self.expected(stack)
        if self.repairs >= _MAX_REPAIRS:  # plain panic mode from here on
            self.report(self.unexpected(tok, accepts))
            self.panic = True
            return
        self.count_repair(tok)
        rest = self.lookahead(tok)
        span = self.token_span(tok)
        # (rank, invented tokens, what `tok` becomes or None to drop it, the diagnostic); lower ranks win ties
        candidates: list[tuple[int, list[Token], Token | None, Callable[[], Diagnostic]]] = []
        near = None
        if _WORD.fullmatch(tok.value):
            kws = {lit: n for n in accepts if (lit := self.lit_by_name.get(n, "")).isidentifier()}
            near = closest(tok.value, kws)
            if near is not None:
                kw_tok = Token.new_borrow_pos(kws[near], near, tok)
                candidates.append((0, [], kw_tok, partial(self.respelt, tok, near)))
        no_keywords = self.item_start(list(accepts))
        for name in sorted(accepts - _NO_FILLER):
            lit = self.lit_by_name.get(name)
            if no_keywords and lit is not None and lit.isidentifier():
                continue
            rank = 1 if lit is not None and not lit.isidentifier() else 4 if lit is not None else 5
            fill = [self.filler(name)]
            candidates.append((rank, fill, tok, partial(self.missing, fill)))
            if rank == 1 and tok.type in self.lit_by_name and not tok.value.isidentifier():
                # one punctuation mark for another: `(` for `{`
                swap = Token.new_borrow_pos(name, lit, tok)
                candidates.append((2, [], swap, partial(self.unexpected, tok, accepts, lit)))
        if tok.type == "STRING" and "NAME" in accepts:  # a quoted name
            unquoted = Token.new_borrow_pos("NAME", tok.value.strip('"'), tok)
            candidates.append((2, [], unquoted, partial(self.unexpected, tok, accepts, hint=_QUOTED_NAME_HINT)))
        path = self.search(lambda s: self.fit(tok, s) is not None, min_depth=2, depth=3)
        if path is not None:
            candidates.append((6, path, tok, partial(self.missing, path)))
        candidates.append((3, [], None, partial(self.unexpected, tok, accepts, near)))
        scored = [(self.score(c[1], c[2], rest), -c[0], c) for c in candidates]
        best_score, _, (rank, prefix, replacement, diagnostic) = max(scored, key=lambda x: (x[0], x[1]))
        diag = diagnostic()
        if replacement is None:
            if best_score[0] and (diag.hint is None or diag.hint.startswith("expected one of")):
                diag = error(diag.code, diag.message, span, hint="remove it", fix=Edit(span, ""))  # it mends the line
            self.report(diag)
            self.panic = True
            return
        self.report(diag)
        self.shift_all(prefix, replacement)

    def on_eof(self) -> None:
        if self.checkpoints:
            raise _Rewind(self.checkpoints[0])
        accepts = self.expected(self.stack())
        if "RBRACE" in accepts and self.braces:
            b = self.braces[-1]
            self.report(error("E107", f"unexpected end of file: missing '}}' to close {b.owner}", self.after_last(),
                              hint=f"the '{{' at line {b.token.line}, column {b.token.column} is never closed",
                              fix=Edit(self.after_last(0), "\n}")), always=True)  # fmt: skip
        else:
            hint = None
            if self.braces:
                b = self.braces[-1]
                hint = f"the '{{' of {b.owner} at line {b.token.line}, column {b.token.column} is never closed"
            self.report(error("E107", f"unexpected end of file; expected {_expected_phrase(accepts)}",
                              self.after_last(), hint=hint), always=True)  # fmt: skip
        # Close everything, so that the transformer still sees (and checks) what was written.
        for t in self.search(lambda s: self.takes(s, "$END"), depth=_EOF_DEPTH, budget=4 * _SEARCH_BUDGET) or ():
            self.shift(t, real=False)

    def misplaced(self, tok: Token) -> None:
        """A second `model` line, or `model`/`import` after what must follow them: report, skip the statement."""
        span = self.token_span(tok)
        if tok.value == "import":
            where = f" (line {self.first_entity_line})" if self.first_entity_line else ""
            diag = error("E112", "`import` must come before the first entity", span,
                         hint=f"move it above the first entity{where}")  # fmt: skip
        elif self.header_line is not None:
            diag = error("E112", "a file has only one `model` line", span,
                         hint=f"the `model` line is at line {self.header_line}")  # fmt: skip
        else:
            diag = error("E112", "the `model` line must come first", span, hint="move it to the top of the file")
        self.report(diag, always=True)
        self.skipping = True

    # -- messages
    def after(self) -> str:
        return f" after {_describe_token(self.last)}" if self.last is not None else ""

    def respelt(self, tok: Token, kw: str) -> Diagnostic:
        span = self.token_span(tok)
        return error("E106", f"unknown keyword `{tok.value}`", span, hint=f"did you mean `{kw}`?", fix=Edit(span, kw))

    def missing(self, path: Sequence[Token]) -> Diagnostic:
        what = self.describe_missing(path[0])
        lit = self.lit_by_name.get(path[0].type)
        fix = Edit(self.after_last(0), ("" if lit in ",)]" else " ") + lit) if lit and len(path) == 1 else None
        hint = "a column is written `name type`, e.g. `amount decimal(12, 2)`" if what == "type" else None
        return error("E102", f"missing {what}{self.after()}", self.after_last(), hint=hint, fix=fix)

    def report_unclosed(self, path: Sequence[Token], kw: str) -> None:
        """E108: a top-level keyword in column 1 while the statement before is still open."""
        brace = self.braces[-1] if self.braces else None
        hint = f"the '{{' at line {brace.token.line}, column {brace.token.column} is still open" if brace else None
        fix = None
        if brace is not None and path and path[0].type == "RBRACE":
            msg = f"missing '}}' to close {brace.owner} before `{kw}`"
            fix = Edit(self.after_last(0), "\n}")
        else:
            owner = brace.owner if brace else self.owner(self.last, inclusive=True) if self.last else "the statement"
            msg = f"{owner} is not finished before `{kw}`; expected {self.describe_missing(path[0])}"
        # An open '{' is an error of its own; an unfinished header line is usually reported already.
        self.report(error("E108", msg, self.after_last(), hint=hint, fix=fix), always=brace is not None)

    def unexpected(self, tok: Token, accepts: set[str], near: str | None = None, hint: str | None = None) -> Diagnostic:
        span = self.token_span(tok)
        if tok.type == "RBRACE" and not self.braces:
            return error("E101", "unexpected '}': no '{' is open here", span, hint="remove it", fix=Edit(span, ""))
        fix = None
        if near is not None:
            shown = f"`{near}`" if near.isidentifier() else f"'{near}'"
            hint, fix = f"did you mean {shown}?", Edit(span, near)
        hint = hint or _keywords_hint(accepts)
        return error("E101", f"unexpected {_describe_token(tok)}; expected {_expected_phrase(accepts)}", span,
                     hint, fix)  # fmt: skip

    # -- main loop
    def run(self) -> Tree | None:
        pending: _Checkpoint | None = None
        while True:
            try:
                if pending is not None:
                    checkpoint, pending = pending, None
                    self.rewind(checkpoint)
                self.read_all()
                if not self.takes(self.ps.state_stack, "$END"):
                    self.on_eof()
                break
            except _Rewind as r:
                pending = r.checkpoint
        try:
            return self.ip.feed_eof(self.last)
        except UnexpectedInput:
            return None

    def read_all(self) -> None:
        while True:
            try:
                for tok in self.ip.lexer_thread.lex(self.ps):
                    self.step(tok)
                return
            except UnexpectedToken as e:  # lexed by the root lexer: a token, but not one allowed here
                self.step(e.token)
            except UnexpectedCharacters as e:
                skip_to = self.bad_character(e)
                self.ip.lexer_thread.state.line_ctr.feed(self.text[e.pos_in_stream : skip_to])

    def bad_character(self, e: UnexpectedCharacters) -> int:
        """Report a character no token starts with; return where lexing resumes."""
        pos = e.pos_in_stream
        char = self.text[pos]
        span = self._span(e.line, e.column, e.line, e.column + 1, pos, pos + 1)
        if char == "\ufffd" and self.bad_bytes:
            return pos + 1  # already reported as invalid UTF-8
        last = self.diags[-1] if self.diags else None
        if last is not None and last.code == "E103" and last.span.end == pos and last.span.line == e.line:
            sp = last.span  # a run of bad characters is one error
            grown = ast.Span(self.file, sp.line, sp.column, e.line, e.column + 1, sp.start, pos + 1)
            run = self.text[sp.start : pos + 1]
            self.diags[-1] = Diagnostic("E103", last.severity, f"unexpected characters {run!r}", grown, last.hint)
            return pos + 1
        if char == "`":
            line_end = self.text.find("\n", pos)
            end = len(self.text) if line_end < 0 else line_end
            span = self._span(e.line, e.column, e.line, e.column + (end - pos), pos, end)
            self.report(error("E105", "unterminated quoted name", span, hint="close it with '`' on the same line"),
                        always=True)  # fmt: skip
            return end
        shown = repr(char) if not char.isprintable() else f"'{char}'"
        hint = _CHAR_HINTS.get(char)
        self.report(error("E103", f"unexpected character {shown}", span, hint=hint), always=True)
        return pos + 1


@lru_cache(maxsize=1)
def _default_reductions() -> dict[int, Rule]:
    """States whose every action reduces by one rule: the reduction happens whatever comes next."""
    out = {}
    for state, row in lark_parser().parse_interactive("").parser_state.parse_conf.states.items():
        actions = {(kind, arg) for kind, arg in row.values() if kind is not Shift}
        if len(actions) == 1 and all(kind is not Shift for kind, _ in row.values()):
            out[state] = next(iter(actions))[1]
    return out


def _filler_order(name: str) -> tuple[int, str]:
    """Invent closing punctuation first, then other punctuation, then names and values, keywords last."""
    lit = _terminals()[0].get(name)
    if name == "RBRACE":
        return (0, name)
    if lit is not None and not lit.isidentifier():
        return (1, name)
    return (2 if lit is None else 3, name)


# ---- tree -> AST ---------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


class _ToAst(Transformer):
    """Builds AST nodes; checks what the grammar cannot (types, literals)."""

    def __init__(
        self, file: str, docs: dict[int, tuple[str, int]], diags: list[Diagnostic], quiet: set[int] | None = None
    ):
        super().__init__(visit_tokens=True)
        self.file, self.docs, self.diags = file, docs, diags
        self.quiet = quiet or set()  # lines with a syntax error: one error per line, the syntax error

    def add(self, diag: Diagnostic) -> None:
        if diag.span.line not in self.quiet:
            self.diags.append(diag)

    def sp(self, meta) -> ast.Span:
        if getattr(meta, "empty", True):
            return ast.NO_SPAN
        return ast.Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)

    def tsp(self, tok: Token) -> ast.Span:
        return ast.Span(self.file, tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1,
                        tok.start_pos or 0, tok.end_pos or 0)  # fmt: skip

    def doc(self, meta) -> str | None:
        if getattr(meta, "empty", True) or meta.line not in self.docs:
            return None
        text, column = self.docs[meta.line]
        return text if meta.column == column else None

    # leaves
    def name(self, children):
        tok = children[0]
        if tok.type == "QUOTED_NAME":
            return ast.Name(tok.value[1:-1].replace("``", "`"), True, self.tsp(tok))
        return ast.Name(tok.value, False, self.tsp(tok))

    def string(self, children):
        tok = children[0]
        if tok.type == "UNTERMINATED_STRING":  # reported (E104) by the driver
            return ast.Str(_unescape(tok.value[1:]), self.tsp(tok))
        return ast.Str(_unescape(tok.value[1:-1]), self.tsp(tok))

    def literal(self, tok: Token) -> ast.Literal:
        kind = {"INT": "int", "DECIMAL": "decimal", "DATE": "date", "TIMESTAMP": "timestamp", "NULL": "null",
                "TRUE": "bool", "FALSE": "bool"}[tok.type]  # fmt: skip
        if kind == "date":
            self.check_date(tok)
        return ast.Literal(kind, tok.value, self.tsp(tok))

    def check_date(self, tok: Token) -> None:
        import datetime

        try:
            datetime.date.fromisoformat(tok.value)
        except ValueError:
            self.add(error("E109", f"invalid date {tok.value}", self.tsp(tok), hint="write YYYY-MM-DD"))

    def DATE(self, tok):  # noqa: N802 - Lark calls terminal callbacks by name
        return self.literal(tok)

    TIMESTAMP = NULL = TRUE = FALSE = DATE

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
        node = ast.TypeRef(name, tuple(int(p) for p in params), self.sp(meta))
        if not any(p.start_pos == p.end_pos for p in params):  # an invented `0` is no user error
            self.check_type(node)
        return node

    def check_type(self, t: ast.TypeRef) -> None:
        n = t.name.value
        if not n:
            return  # a placeholder from error recovery, already reported
        if n not in TYPES:
            near = closest(n, TYPES)
            self.add(error("E110", f"unknown type `{n}`", t.name.span,
                                    hint=(f"did you mean `{near}`?" if near else "types: " + ", ".join(TYPES)),
                                    fix=Edit(t.name.span, near) if near else None))  # fmt: skip
        elif n == "decimal":
            if len(t.params) != 2 or not (1 <= t.params[0] <= 38 and 0 <= t.params[1] <= t.params[0]):
                self.add(error("E111", "decimal needs a precision 1..38 and a scale 0..precision",
                                        t.span, hint="for example decimal(12, 2)"))  # fmt: skip
        elif n == "string":
            if len(t.params) > 1 or (t.params and t.params[0] < 1):
                self.add(error("E111", "string takes one positive length, as in string(20)", t.span))
        elif t.params:
            self.add(error("E111", f"type `{n}` takes no parameters", t.span))

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

    def aggregation(self, children):
        tok = children[0]
        return ast.Name(tok.value, False, self.tsp(tok))

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
        # The test's span starts at `test`, as the item does.
        return dataclasses.replace(children[0], span=self.sp(meta))

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
    for m in _LEXEME.finditer(text):
        if m.group().startswith("#"):
            line = bisect.bisect_right(line_starts, m.start())
            col = m.start() - line_starts[line - 1] + 1
            out.append(ast.Comment(m.group().rstrip(), ast.Span(file, line, col, line, col + len(m.group().rstrip()),
                                                                m.start(), m.end())))  # fmt: skip
    return tuple(out)


def doc_comments(text: str, comments: tuple[ast.Comment, ...]) -> dict[int, tuple[str, int]]:
    """Line of a construct -> (the `##` block right above it, the column where that line's text starts).

    Only the construct that starts the line gets the doc: in `source s { a int }` the source, not `a`."""
    lines = text.split("\n")
    own_line = {c.span.line: c for c in comments
                if c.text.startswith("##") and lines[c.span.line - 1][: c.span.column - 1].strip() == ""}  # fmt: skip
    docs: dict[int, tuple[str, int]] = {}
    for line in sorted(own_line):
        nxt = line + 1
        if nxt in own_line:
            continue
        block, ln = [], line
        while ln in own_line:
            block.append(own_line[ln].text[2:].removeprefix(" "))
            ln -= 1
        target = lines[nxt - 1] if nxt <= len(lines) else ""
        docs[nxt] = ("\n".join(reversed(block)), len(target) - len(target.lstrip()) + 1)
    return docs


def _whitespace_warnings(text: str, file: str) -> list[Diagnostic]:
    tabbed = [i for i, line in enumerate(text.split("\n"), 1) if "\t" in line[: len(line) - len(line.lstrip())]]
    if not tabbed:
        return []
    first = tabbed[0]
    n = len(tabbed) - 1
    more = f" (and {n} more line{'s' if n > 1 else ''})" if n else ""
    return [warning("W101", f"tab character in indentation{more}", ast.Span(file, first, 1, first, 2),
                    hint="indent with spaces; `modelc fmt` fixes this")]  # fmt: skip


def decode(data: bytes, file: str) -> tuple[str, list[Diagnostic]]:
    """UTF-8 text of `data`; each invalid byte sequence becomes U+FFFD and an error (E100) at its place.

    Linear: each stretch is decoded once, positions are carried forward, not recounted.
    """
    data = data.removeprefix(codecs.BOM_UTF8)
    view = memoryview(data)
    parts: list[str] = []
    diags: list[Diagnostic] = []
    pos = offset = 0  # byte position; characters decoded so far
    line, line_start = 1, 0  # current line and the character offset where it starts
    bad = 0
    while True:
        try:
            parts.append(codecs.utf_8_decode(view[pos:], "strict", True)[0])
            break
        except UnicodeDecodeError as exc:
            chunk = codecs.utf_8_decode(view[pos : pos + exc.start], "strict", True)[0]
            parts.append(chunk)
            newlines = chunk.count("\n")
            if newlines:
                line += newlines
                line_start = offset + chunk.rfind("\n") + 1
            offset += len(chunk)
            bad += 1
            if bad <= _MAX_BAD_BYTES:
                col = offset - line_start + 1
                seq = bytes(view[pos + exc.start : pos + exc.end])
                what = f"byte 0x{seq[0]:02x}" if len(seq) == 1 else "sequence " + " ".join(f"0x{b:02x}" for b in seq)
                span = ast.Span(file, line, col, line, col + 1, offset, offset + 1)
                diags.append(error("E100", f"invalid UTF-8 {what}", span, hint="save the file as UTF-8"))
            parts.append("\ufffd")
            offset += 1
            pos += exc.end
    if bad > _MAX_BAD_BYTES:
        last = diags[-1]
        diags[-1] = error("E100", f"{last.message} ({bad - _MAX_BAD_BYTES} more not shown)", last.span, last.hint)
    return "".join(parts), diags


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run a block with a larger gen-0 garbage-collection threshold (50,000 instead of 700).

    Parsing, checking and compiling allocate many small objects (tokens, trees, sqlglot nodes with
    parent links); at the default threshold the collector runs thousands of times and its older
    generations walk everything built so far, which made time grow faster than the model
    (bench/results.md). The old thresholds come back afterwards; peak memory stays the same."""
    old = gc.get_threshold()
    if old[0] >= _GC_THRESHOLD:
        yield
        return
    gc.set_threshold(_GC_THRESHOLD, max(old[1], 20), max(old[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*old)


_GC_THRESHOLD = 50_000


def parse(source: str | bytes, file: str = "<string>") -> ParseResult:
    """Parse one file. Never raises for bad input: problems come back as diagnostics."""
    with fewer_collections():
        return _parse(source, file)


def _parse(source: str | bytes, file: str) -> ParseResult:
    diags: list[Diagnostic] = []
    if isinstance(source, bytes):
        text, diags = decode(source, file)
    else:
        text = source.removeprefix("\ufeff")
    bad_lines = frozenset(d.span.line for d in diags)
    diags += _whitespace_warnings(text, file)
    comments = scan_comments(text, file)
    driver = _Driver(text, file, quiet_lines=bad_lines)
    driver.bad_bytes = bool(bad_lines)
    module = ast.Module(None, (), (), file, comments, ast.Span(file, 1, 1, 1, 1))
    try:
        tree = driver.run()
        if tree is not None:
            found = _ToAst(file, doc_comments(text, comments), diags, driver.quiet_lines).transform(tree)
            module = ast.Module(found.header, found.imports, found.entities, file, comments, found.span)
    except Exception as exc:  # noqa: BLE001 - a bug must not cost the user the other diagnostics
        diags.append(error("E199", f"internal parser error ({type(exc).__name__}); please report it",
                           ast.Span(file, 1, 1, 1, 1), hint=str(exc)[:200] or None))  # fmt: skip
    diags += driver.diags
    if not module.entities and module.header is None and not module.imports and not driver.diags:
        diags.append(warning("W102", "the file defines nothing" + (" (only comments)" if comments else ""),
                             ast.Span(file, 1, 1, 1, 1), hint="start with `model NAME`"))  # fmt: skip
    diags.sort(key=Diagnostic.sort_key)
    return ParseResult(module, tuple(diags), text, tuple(driver.repair_at), driver.clipped)
