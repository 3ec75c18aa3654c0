"""One Diagnostic type shared by the parser, the checker, the CLI and the language server."""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from .ast import Span


class Severity(enum.IntEnum):
    ERROR = 1
    WARNING = 2
    INFO = 3

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text of `span` by `text` (a quick fix)."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str  # E1xx syntax, E2xx names, E3xx types/options, W... warnings
    severity: Severity
    message: str
    span: Span
    hint: str | None = None
    fix: Edit | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.column, self.code)


def error(code: str, message: str, span: Span, hint: str | None = None, fix: Edit | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, hint, fix)


def warning(code: str, message: str, span: Span, hint: str | None = None, fix: Edit | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, hint, fix)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to `word` (case-insensitive), if any is near enough."""
    pool = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(word.lower(), list(pool), n=1, cutoff=0.6)
    return pool[match[0]] if match else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    near = closest(word, candidates)
    return f"did you mean `{near}`?" if near else None


# ---- rendering ------------------------------------------------------------------------

_COLOURS = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;33m", Severity.INFO: "\033[1;36m"}
_BOLD, _BLUE, _RESET = "\033[1m", "\033[1;34m", "\033[0m"
_MAX_SHOWN = 100  # characters of a source line shown around the caret


_CONTROL = {c: "?" for c in (*range(0x20), *range(0x7F, 0xA0)) if c != 0x09}  # would drive the terminal


def render(diag: Diagnostic, source: str | None = None, colour: bool = False) -> str:
    """`file:line:col: error[E101]: message`, the source line, a caret under the span, the hint.

    Lines are split on "\n" only, as the lexer counts them. A tab shows as one space, so the caret
    stays under the column the lexer counted; a line longer than 100 characters shows as a window
    around the caret, cut ends marked `...`. Colour codes only when `colour` is set.
    """

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    sp = diag.span
    sev = paint(f"{diag.severity}[{diag.code}]", _COLOURS[diag.severity])
    out = [f"{sp.file}:{sp.line}:{sp.column}: {sev}: {paint(diag.message.translate(_CONTROL), _BOLD)}"]
    lines = source.split("\n") if source is not None else []
    if 1 <= sp.line <= len(lines):
        text = lines[sp.line - 1].removesuffix("\r").replace("\t", " ").translate(_CONTROL)
        col = min(max(sp.column - 1, 0), len(text))
        end = sp.end_column - 1 if sp.end_line == sp.line else len(text)
        width = max(1, min(end, len(text)) - col)
        if len(text) > _MAX_SHOWN:
            start = max(0, min(col - _MAX_SHOWN // 2, len(text) - _MAX_SHOWN))
            width = max(1, min(width, start + _MAX_SHOWN - col))
            cut_end = start + _MAX_SHOWN < len(text)
            text = ("..." if start else "") + text[start : start + _MAX_SHOWN] + ("..." if cut_end else "")
            col += (3 if start else 0) - start
        gutter = f"{sp.line:>4} | "
        out.append(paint(gutter, _BLUE) + text)
        caret = paint("^" * width, _COLOURS[diag.severity])
        out.append(paint(" " * (len(gutter) - 2) + "| ", _BLUE) + " " * col + caret)
    if diag.hint:
        out.append(paint("   = hint: ", _BLUE) + diag.hint.translate(_CONTROL))
    return "\n".join(out)


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)
