"""Hashing spec v1 (docs/hashing.md) as dialect-neutral sqlglot expressions.

A value's canonical text is fixed per portable type; values are joined with `|`,
NULL is `\\N`, and `\\` and `|` inside data are escaped, so the joined text is
injective. The hash is lower-case hex MD5 (or SHA-256) of its UTF-8 bytes. The
expressions are built once per plan and rendered by each dialect; where sqlglot
renders a node wrongly for a dialect, that dialect's module overrides it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from . import ir

SPEC_VERSION = 1
NULL_TOKEN = "\\N"
DELIMITER = "|"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
DATE_FORMAT = "%Y-%m-%d"


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _replace(text: exp.Expression, old: str, new: str) -> exp.Expression:
    return exp.Anonymous(this="REPLACE", expressions=[text, _lit(old), _lit(new)])


def canonical_text(value: exp.Expression, typ: ir.Type) -> exp.Expression:
    """The canonical text of `value`; NULL stays NULL."""
    name = typ.name
    if name == "string":
        # Backslash first, so the backslashes added before '|' are not doubled again.
        return _replace(_replace(value, "\\", "\\\\"), DELIMITER, "\\" + DELIMITER)
    if name == "bool":
        return exp.Case(
            ifs=[exp.If(this=exp.Is(this=value, expression=exp.Null()), true=exp.Null()),
                 exp.If(this=value, true=_lit("true"))],
            default=_lit("false"),
        )  # fmt: skip
    if name == "date":
        return exp.TimeToStr(this=value, format=_lit(DATE_FORMAT))
    if name == "timestamp":
        return exp.TimeToStr(this=value, format=_lit(TIMESTAMP_FORMAT))
    if name == "timestamptz":
        utc = exp.ConvertTimezone(target_tz=_lit("UTC"), timestamp=value)
        return exp.DPipe(this=exp.TimeToStr(this=utc, format=_lit(TIMESTAMP_FORMAT)), expression=_lit("Z"))
    if name == "binary":
        return exp.Lower(this=exp.Hex(this=value))
    # int types and decimal(p, s): the engine's text of an exact number (scale digits kept).
    return exp.cast(value, exp.DataType.build("text"))


def key_text(values: Sequence[tuple[exp.Expression, ir.Type]]) -> exp.Expression:
    """`canon(v1)|canon(v2)|...` with `\\N` for NULL."""
    parts = [exp.Coalesce(this=canonical_text(v, t), expressions=[_lit(NULL_TOKEN)]) for v, t in values]
    text = parts[0]
    for part in parts[1:]:
        text = exp.DPipe(this=exp.DPipe(this=text, expression=_lit(DELIMITER)), expression=part)
    return text


def digest(text: exp.Expression, algorithm: ir.HashAlgorithm = "md5") -> exp.Expression:
    """Lower-case hex digest of `text`."""
    if algorithm == "sha256":
        return exp.SHA2(this=text, length=exp.Literal.number(256))
    return exp.MD5(this=text)


def hash_key(values: Sequence[tuple[exp.Expression, ir.Type]], algorithm: ir.HashAlgorithm = "md5") -> exp.Expression:
    return digest(key_text(values), algorithm)


def special_key(kind: str, algorithm: ir.HashAlgorithm = "md5") -> str:
    """The unknown ('0...') and error ('f...') member keys, as long as a real key."""
    length = 64 if algorithm == "sha256" else 32
    return ("0" if kind == "unknown" else "f") * length
