"""When and how a name is quoted, so that no name can break or inject into the SQL.

Rule (the same for every dialect, see docs/dialects.md): a name made of lowercase ASCII
letters, digits and `_` (not starting with a digit) that is not an SQL keyword is written
bare; every other name is quoted, and the dialect's generator escapes the quote character.
A keyword that is otherwise plain (`select`, `date`) is quoted in the case the engine folds
bare names to, so `"DATE"` on Snowflake means exactly what a bare `date` would.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect as SqlglotDialect
from sqlglot.dialects.dialect import NormalizationStrategy

PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")
# Keywords of the engines we target, as sqlglot knows them: quoting one is always harmless.
_KEYWORD_SOURCES = ("duckdb", "snowflake", "bigquery", "redshift", "clickhouse", "postgres")


@functools.cache
def keywords() -> frozenset[str]:
    words: set[str] = set()
    for name in _KEYWORD_SOURCES:
        d = SqlglotDialect.get_or_raise(name)
        words.update(k.lower() for k in d.tokenizer_class.KEYWORDS)
        words.update(k.lower() for k in d.generator_class.RESERVED_KEYWORDS)
    return frozenset(w for w in words if PLAIN.match(w))


def is_plain(name: str) -> bool:
    return bool(PLAIN.match(name)) and name not in keywords()


def make_identifier(name: str, fold_upper: bool) -> exp.Identifier:
    text, quoted = spelling(name, fold_upper)
    return exp.Identifier(this=text, quoted=quoted)


@functools.lru_cache(maxsize=65536)  # every identifier of every statement is named per dialect: names repeat
def spelling(name: str, fold_upper: bool) -> tuple[str, bool]:
    """(text, quoted) of the identifier that writes `name` by the quoting rule."""
    if is_plain(name):
        return name, False
    if fold_upper and PLAIN.match(name):
        return name.upper(), True
    return name, True


def folds_upper(sqlglot_name: str) -> bool:
    d = SqlglotDialect.get_or_raise(sqlglot_name)
    return d.normalization_strategy is NormalizationStrategy.UPPERCASE


def problem(name: str, max_bytes: int | None, forbidden: str) -> str | None:
    """Why `name` cannot be written as an identifier of a dialect, or None."""
    if not name:
        return "is empty"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        return "contains a control character"
    bad = sorted(set(name) & set(forbidden))
    if bad:
        return "contains " + ", ".join(repr(c) for c in bad)
    size = len(name.encode("utf-8"))
    if max_bytes is not None and size > max_bytes:
        return f"is {size} bytes long (at most {max_bytes})"
    return None
