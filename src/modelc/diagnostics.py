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


def render(diag: Diagnostic, source: str | None = None, colour: bool = False) -> str:
    """`file:line:col: error[E101]: message`, the source line, a caret, the hint."""

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    sp = diag.span
    head = f"{sp.file}:{sp.line}:{sp.column}: " + paint(f"{diag.severity}[{diag.code}]", _COLOURS[diag.severity])
    out = [head + ": " + paint(diag.message, _BOLD) if colour else head + ": " + diag.message]
    lines = source.splitlines() if source is not None else []
    if 1 <= sp.line <= len(lines):
        text = lines[sp.line - 1].replace("\t", " ")
        col = max(sp.column - 1, 0)
        width = sp.end_column - sp.column if sp.end_line == sp.line else len(text) - col
        width = max(1, min(width, max(len(text) - col, 1)))
        # Long lines: show a window around the caret.
        offset = 0
        if len(text) > _MAX_SHOWN:
            offset = max(0, min(col - _MAX_SHOWN // 2, len(text) - _MAX_SHOWN))
            shown = text[offset : offset + _MAX_SHOWN]
            text = ("..." if offset else "") + shown + ("..." if offset + _MAX_SHOWN < len(text) else "")
            offset -= 3 if offset else 0
        width = min(width, _MAX_SHOWN)
        gutter = f"{sp.line:>4} | "
        out.append(paint(gutter, _BLUE) + text)
        out.append(
            paint(" " * (len(gutter) - 2) + "| ", _BLUE)
            + " " * (col - offset)
            + paint("^" * width, _COLOURS[diag.severity])
        )
    if diag.hint:
        out.append(paint("   = hint: ", _BLUE) + diag.hint)
    return "\n".join(out)


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)
