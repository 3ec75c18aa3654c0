"""Reference surrogate-key hashing: the canonical text of each value, `|`-joined, then MD5 or SHA-256.

This is the definition the formal spec (docs/hashing.md) and every dialect's SQL are tested against.

Canonical text of one value, by its portable type:

=============  ===============================================================================
NULL           ``\\N``
int            decimal digits (``-`` for negatives): ``42``, ``-7`` (also bigint, smallint)
decimal(p,s)   fixed point with exactly ``s`` fraction digits, no point when ``s = 0``; ``-0`` is
               written ``0`` (``-0.00`` -> ``0.00``)
bool           ``true`` / ``false``
date           ``YYYY-MM-DD``
timestamp      ``YYYY-MM-DD HH:MM:SS.ffffff``
timestamptz    converted to UTC, ``YYYY-MM-DD HH:MM:SS.ffffffZ``
time           ``HH:MM:SS.ffffff``
string         the text with ``\\`` replaced by ``\\\\`` and ``|`` by ``\\|`` (so ``\\N`` the string is
               ``\\\\N``, never NULL, and a ``|`` inside a value never looks like a delimiter)
binary         lower-case hex
=============  ===============================================================================

The key is the lower-case hex digest of the UTF-8 bytes of the joined text (`key_hash`). float, double
and json have no canonical text yet: asking for one raises `TypeError` instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from decimal import Decimal, localcontext

from modelc import ir

NULL_TEXT = "\\N"
DELIMITER = "|"


def canonical_text(value: object, type_: ir.Type | None = None) -> str:
    """The canonical text of one value; `type_` (when given) decides, else the Python type does.

    A decimal needs its type for the scale; without one the value's own exponent is used, which is
    only right when the value was built with the column's scale (e.g. `Decimal("1.50")`).
    """
    if value is None:
        return NULL_TEXT
    name = type_.name if type_ is not None else _infer_type_name(value)
    if name in ("float", "double", "json"):
        raise TypeError(f"no canonical text is defined for {name} values")
    if name == "bool":
        _expect(value, bool, name)
        return "true" if value else "false"
    if name in ("int", "bigint", "smallint"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} value expected, got {value!r}")
        return str(value)
    if name == "decimal":
        return _decimal_text(value, type_.scale if type_ is not None else None)
    if name == "timestamptz":
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise TypeError(f"timestamptz value must be an aware datetime, got {value!r}")
        return _timestamp_text(value.astimezone(dt.UTC)) + "Z"
    if name == "timestamp":
        if not isinstance(value, dt.datetime) or value.tzinfo is not None:
            raise TypeError(f"timestamp value must be a naive datetime, got {value!r}")
        return _timestamp_text(value)
    if name == "date":
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise TypeError(f"date value expected, got {value!r}")
        return _date_text(value)
    if name == "time":
        _expect(value, dt.time, name)
        return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    if name == "string":
        _expect(value, str, name)
        return value.replace("\\", "\\\\").replace("|", "\\|")
    if name == "binary":
        _expect(value, bytes, name)
        return value.hex()
    raise TypeError(f"unknown type {name}")


def canonical_key_text(values: Sequence[object], types: Sequence[ir.Type | None] | None = None) -> str:
    """The text that is hashed: each value's canonical text, joined with `|`."""
    if types is None:
        types = [None] * len(values)
    if len(types) != len(values):
        raise ValueError("one type per value")
    return DELIMITER.join(canonical_text(v, t) for v, t in zip(values, types, strict=True))


def key_hash(
    values: Sequence[object], types: Sequence[ir.Type | None] | None = None, algorithm: ir.HashAlgorithm = "md5"
) -> str:
    """The surrogate key of `values` as lower-case hex (32 digits for md5, 64 for sha256)."""
    data = canonical_key_text(values, types).encode("utf-8")
    return hashlib.new(algorithm, data).hexdigest()


def hex_length(algorithm: ir.HashAlgorithm) -> int:
    return 32 if algorithm == "md5" else 64


def unknown_key_hex(algorithm: ir.HashAlgorithm = "md5") -> str:
    return "0" * hex_length(algorithm)


def error_key_hex(algorithm: ir.HashAlgorithm = "md5") -> str:
    return "f" * hex_length(algorithm)


def output(hex_key: str, settings: ir.Settings) -> str | bytes:
    """A key as the table stores it: hex text, or the raw digest bytes with `hash_output binary`."""
    return bytes.fromhex(hex_key) if settings.hash_output == "binary" else hex_key


def _infer_type_name(value: object) -> str:
    # Order matters: bool is an int, datetime is a date.
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.datetime):
        return "timestamp" if value.tzinfo is None else "timestamptz"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "binary"
    raise TypeError(f"no canonical text for {type(value).__name__} values")


def _expect(value: object, cls: type, name: str) -> None:
    if not isinstance(value, cls):
        raise TypeError(f"{name} value expected, got {value!r}")


def _decimal_text(value: object, scale: int | None) -> str:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"decimal value expected, got {value!r}")
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"decimal value must be finite, got {value!r}")
    if scale is None:
        scale = max(0, -int(d.as_tuple().exponent))
    with localcontext() as ctx:
        ctx.prec = 100  # decimal(38, s) values exceed the default 28 digits
        quantized = d.quantize(Decimal(1).scaleb(-scale))
    # The stored value has exactly `scale` digits; refuse to round, so a bad test input cannot hide.
    if quantized != d:
        raise ValueError(f"{value!r} has more than {scale} fraction digits")
    if quantized == 0:
        quantized = abs(quantized)  # -0 and -0.00 are written without a sign
    return f"{quantized:f}"


def _date_text(d: dt.date) -> str:
    # Not strftime: %Y does not zero-pad years before 1000 on every platform (0001-01-01 members).
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _timestamp_text(t: dt.datetime) -> str:
    return f"{_date_text(t)} {t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}"


# ---- business keys and hashdiffs (docs/hashing.md, sections 4 and 5) ----------------------------------

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def normalize_business_key(value: object, type_: ir.Type | None = None) -> object:
    """Strings lose leading and trailing U+0020 spaces and have ASCII letters upper-cased; others are kept."""
    name = type_.name if type_ is not None else (None if value is None else _infer_type_name(value))
    if name != "string" or value is None:
        return value
    return str(value).strip(" ").translate(_ASCII_UPPER)


def business_key_hash(
    values: Sequence[object], types: Sequence[ir.Type | None] | None = None, algorithm: ir.HashAlgorithm = "md5"
) -> str:
    """A hub's hash key as hex: the zero key when every value is NULL, else the digest of the normalized key."""
    if all(v is None for v in values):
        return unknown_key_hex(algorithm)
    types = list(types) if types is not None else [None] * len(values)
    normalized = [normalize_business_key(v, t) for v, t in zip(values, types, strict=True)]
    return key_hash(normalized, types, algorithm)


def hashdiff_text(values: Sequence[object], types: Sequence[ir.Type | None] | None = None) -> str:
    """The payload's canonical text with trailing NULLs dropped (all NULL: the empty text); case is kept."""
    values = list(values)
    types = list(types) if types is not None else [None] * len(values)
    while values and values[-1] is None:
        values.pop()
        types.pop()
    return canonical_key_text(values, types) if values else ""


def hashdiff(
    values: Sequence[object], types: Sequence[ir.Type | None] | None = None, algorithm: ir.HashAlgorithm = "md5"
) -> str:
    return hashlib.new(algorithm, hashdiff_text(values, types).encode("utf-8")).hexdigest()
