"""Hashing spec v1 (docs/hashing.md) as dialect-neutral sqlglot expressions.

A value's canonical text is fixed per portable type; values are joined with `|`,
NULL is `\\N`, and `\\` and `|` inside data are escaped, so the joined text is
injective. The hash is lower-case hex MD5 (or SHA-256) of its UTF-8 bytes, or
the raw digest bytes with `hash_output binary`. Business keys (hub keys) are
trimmed and ASCII upper-cased first; hashdiffs keep case and drop trailing NULLs.

Every expression is built only from nodes sqlglot renders alike on every engine:
where an engine's own text of a value differs (ClickHouse drops a decimal's
trailing zeros and reads `%M` as the month name), the text is composed from
parts instead of trusting a cast or a format string.

The few parts that have no node sqlglot spells right everywhere (the digest, bytes <-> hex, the
conversion of a timestamptz to UTC) are *dialect parts*: sqlglot's own node, tagged in its `meta`.
Rendering through a dialect (`Dialect.render`, the load strategies; both use `Dialect.with_names`)
replaces each by that dialect's spelling: `Dialect.hash_expression` for digests, the dialect's
`hash_helpers` for the rest. Untagged (e.g. after a round trip through SQL text) they keep sqlglot's
rendering, which is right on DuckDB, ClickHouse and Snowflake only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from . import ir

SPEC_VERSION = 1
NULL_TOKEN = "\\N"
DELIMITER = "|"
DATE_FORMAT = "%Y-%m-%d"
LOWER_ASCII = "abcdefghijklmnopqrstuvwxyz"
HashValues = Sequence[tuple[exp.Expression, ir.Type]]
# `meta` key of a dialect part: ("digest", algorithm, output), ("hex",), ("unhex",) or ("utc",).
DIALECT_PART = "modelc_hashing"
HELPERS = ("hex", "unhex", "utc")  # the parts a dialect may spell in `hash_helpers`


def _part_of(node: exp.Expression, *what: str) -> exp.Expression:
    node.meta[DIALECT_PART] = what
    return node


def dialect_part(node: exp.Expression) -> tuple[tuple[str, ...], exp.Expression] | None:
    """`(tag, argument)` when `node` is a dialect part built here, else None: the argument is the hashed
    text of a digest, the bytes of "hex", the hex text of "unhex", the timestamptz of "utc"."""
    meta = node._meta  # not `node.meta`: that creates a dict on every node it is asked of
    what = meta.get(DIALECT_PART) if meta else None
    if what is None:
        return None
    kind = what[0]
    if kind == "digest":
        # MD5(t), MD5Digest(t), SHA2Digest(t) or LOWER(HEX(SHA2Digest(t))): see `digest`.
        return what, node.this.this.this if isinstance(node, exp.Lower) else node.this
    if kind == "hex":
        return what, node.this.this  # LOWER(HEX(b))
    if kind == "unhex":
        return what, node.this
    if kind == "utc":
        return what, node.args["timestamp"]
    raise ValueError(f"unknown hashing part {what!r}")


def to_hex(value: exp.Expression) -> exp.Expression:
    """Lower-case hex text of bytes."""
    return _part_of(exp.Lower(this=exp.Hex(this=value)), "hex")


def from_hex(text: exp.Expression) -> exp.Expression:
    """The bytes that a hex text spells."""
    return _part_of(exp.Unhex(this=text), "unhex")


def to_utc(value: exp.Expression) -> exp.Expression:
    """A timestamptz as the UTC timestamp (without time zone) of its instant."""
    return _part_of(exp.ConvertTimezone(target_tz=_lit("UTC"), timestamp=value), "utc")


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _concat(*parts: exp.Expression) -> exp.Expression:
    text = parts[0]
    for part in parts[1:]:
        text = exp.DPipe(this=text, expression=part)
    return text


def _replace(text: exp.Expression, old: str, new: str) -> exp.Expression:
    return exp.Anonymous(this="REPLACE", expressions=[text, _lit(old), _lit(new)])


def _text(value: exp.Expression) -> exp.Expression:
    return exp.cast(value, exp.DataType.build("text"))


def _pad(value: exp.Expression, width: int) -> exp.Expression:
    return exp.Pad(this=_text(value), expression=exp.Literal.number(width), fill_pattern=_lit("0"), is_left=True)


def _decimal_text(value: exp.Expression, typ: ir.Type) -> exp.Expression:
    # The engine's text, then the fraction padded with zeros to the scale: ClickHouse (and BigQuery) drop
    # trailing zeros ('-0.5', '0'), the others keep them; no engine writes exponents for decimals.
    scale = typ.scale if typ.scale is not None else 9
    text = _text(value)
    if scale == 0:
        return text
    dotted = exp.Case(
        ifs=[exp.If(this=exp.EQ(this=exp.StrPosition(this=text, substr=_lit(".")), expression=exp.Literal.number(0)),
                    true=_concat(text.copy(), _lit(".")))],
        default=text.copy(),
    )  # fmt: skip
    # Append `scale` zeros and cut after `scale` fraction digits (no RPAD: its width must be a 32-bit int
    # on DuckDB, which fakesnow's INT is not).
    width = exp.Add(this=exp.StrPosition(this=dotted.copy(), substr=_lit(".")), expression=exp.Literal.number(scale))
    padded = _concat(dotted, _lit("0" * scale))
    return exp.Substring(this=padded, start=exp.Literal.number(1), length=width)


def _timestamp_text(value: exp.Expression) -> exp.Expression:
    # Minutes from EXTRACT: a format's minute token differs per engine (ClickHouse `%M` is the month name).
    minute = _pad(exp.Extract(this=exp.var("MINUTE"), expression=value.copy()), 2)
    head = exp.TimeToStr(this=value.copy(), format=_lit("%Y-%m-%d %H:"))
    tail = exp.TimeToStr(this=value.copy(), format=_lit(":%S.%f"))
    return _concat(head, minute, tail)


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
        return _timestamp_text(value)
    if name == "timestamptz":
        return _concat(_timestamp_text(to_utc(value)), _lit("Z"))
    if name == "binary":
        return to_hex(value)
    if name == "decimal":
        return _decimal_text(value, typ)
    # int types: an exact integer's text. float/double/json are outside spec v1 (docs/hashing.md): the
    # engine's own text is used, which is stable on one engine but not across engines.
    return _text(value)


def normalize_business_key(value: exp.Expression, typ: ir.Type) -> exp.Expression:
    """Hub keys only: strings lose leading/trailing spaces and ASCII letters are upper-cased.

    ASCII only, on purpose: engines disagree on Unicode case mapping (ClickHouse `upper` is bytewise,
    `ß` upper-cases to `SS` in some and stays in others), and a key must hash alike everywhere.
    """
    if typ.name != "string":
        return value
    # One REPLACE per letter, not TRANSLATE: sqlglot spells it `TRANSLATE`, which ClickHouse (case-sensitive
    # function names) does not know, and UPPER is Unicode-aware on some engines.
    text: exp.Expression = exp.Trim(this=value, expression=_lit(" "))
    for letter in LOWER_ASCII:
        text = _replace(text, letter, letter.upper())
    return text


def _part(value: exp.Expression, typ: ir.Type) -> exp.Expression:
    return exp.Coalesce(this=canonical_text(value, typ), expressions=[_lit(NULL_TOKEN)])


def key_text(values: HashValues) -> exp.Expression:
    """`canon(v1)|canon(v2)|...` with `\\N` for NULL."""
    parts = [_part(v, t) for v, t in values]
    return _concat(*[p for i, part in enumerate(parts) for p in ((part,) if i == 0 else (_lit(DELIMITER), part))])


def business_key_text(values: HashValues) -> exp.Expression:
    return key_text([(normalize_business_key(v, t), t) for v, t in values])


def _all_null(values: Sequence[exp.Expression]) -> exp.Expression:
    return exp.and_(*[exp.Is(this=v.copy(), expression=exp.Null()) for v in values])


def hashdiff_text(values: HashValues) -> exp.Expression:
    """The payload's text with trailing NULLs dropped: adding a nullable column at the end keeps old hashdiffs.

    Built from the right: each value contributes `|canon(v)` (no `|` for the first) and everything after
    it, unless it and every value after it are NULL.
    """
    if not values:
        return _lit("")
    tail: exp.Expression = _lit("")
    for i in range(len(values) - 1, -1, -1):
        v, t = values[i]
        here = _part(v, t) if i == 0 else _concat(_lit(DELIMITER), _part(v, t))
        with_tail = here if i == len(values) - 1 else _concat(here, tail)
        rest = [x for x, _ in values[i:]]
        tail = exp.Case(ifs=[exp.If(this=_all_null(rest), true=_lit(""))], default=with_tail)
    return tail


def digest(text: exp.Expression, algorithm: ir.HashAlgorithm = "md5", output: ir.HashOutput = "hex") -> exp.Expression:
    """Lower-case hex digest of `text`, or the digest's bytes with `output="binary"`: a dialect part, which
    each dialect writes with its `hash_expression` (section 8 of docs/hashing.md).

    Its own node is sqlglot's closest one: SHA-256 hex as the hex of the binary digest (sqlglot writes
    `SHA2(x, 256)` as ClickHouse's and BigQuery's `SHA256(x)`, which returns bytes there).
    """
    node: exp.Expression
    if algorithm == "sha256":
        node = exp.SHA2Digest(this=text, length=exp.Literal.number(256))
        if output == "hex":
            node = exp.Lower(this=exp.Hex(this=node))
    else:
        node = exp.MD5Digest(this=text) if output == "binary" else exp.MD5(this=text)
    return _part_of(node, "digest", algorithm, output)


def hash_key(values: HashValues, algorithm: ir.HashAlgorithm = "md5", output: ir.HashOutput = "hex") -> exp.Expression:
    return digest(key_text(values), algorithm, output)


def special_key(kind: str, algorithm: ir.HashAlgorithm = "md5") -> str:
    """The unknown/zero ('0...') and error ('f...') member keys as hex, as long as a real key."""
    length = 64 if algorithm == "sha256" else 32
    return ("0" if kind in ("unknown", "zero") else "f") * length


def special_key_expression(
    kind: str, algorithm: ir.HashAlgorithm = "md5", output: ir.HashOutput = "hex"
) -> exp.Expression:
    text = _lit(special_key(kind, algorithm))
    return from_hex(text) if output == "binary" else text


def business_key_hash(
    values: HashValues, algorithm: ir.HashAlgorithm = "md5", output: ir.HashOutput = "hex"
) -> exp.Expression:
    """A hub's hash key: the zero key when every business key value is NULL, else the digest of the
    normalized key text."""
    real = digest(business_key_text(values), algorithm, output)
    zero = special_key_expression("zero", algorithm, output)
    return exp.Case(ifs=[exp.If(this=_all_null([v for v, _ in values]), true=zero)], default=real)


def hashdiff(values: HashValues, algorithm: ir.HashAlgorithm = "md5", output: ir.HashOutput = "hex") -> exp.Expression:
    return digest(hashdiff_text(values), algorithm, output)
