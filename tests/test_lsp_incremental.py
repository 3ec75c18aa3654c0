"""The language server's incremental stages give what a full check gives, after any sequence of edits.

In-process: `lsp.parse_buffer` (statements parsed one by one, kept between edits) against `parser.parse`,
and `lsp.load_model` (with the incremental semantic stage) against `loader.load_text`, over random
character-level edits of real models: misspelt keywords, broken names, stray braces, new lines.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelc import lsp
from modelc.loader import load_text
from modelc.parser import parse

ROOT = Path(__file__).resolve().parent.parent
VAULT = (ROOT / "examples" / "vault" / "vault.dm").read_text(encoding="utf-8")
RETAIL = (ROOT / "examples" / "retail" / "retail.dm").read_text(encoding="utf-8")
BOTH = RETAIL + VAULT[VAULT.index("\nsource") :]  # one model line; some names twice (E200)
# what an edit inserts: keyword and name fragments, punctuation the parser recovers from, line breaks
SNIPPETS = ["x", "s", "d", "_", "2", " ", "\n", "\n\n", "{", "}", "(", ")", ",", "#", "## a\n", "->", '"', "`",
            "scd", "key", "source", "dimension ", "hub", "satellite", "from", "of", "customer", "order", "string",
            "int", "\nsource q.r {\n  a int\n}\n", "payload", "link "]  # fmt: skip
_files = itertools.count()


def edits() -> st.SearchStrategy[list[tuple[float, int, str]]]:
    """(where, as a fraction of the text; how many characters to delete; what to insert)."""
    edit = st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from(SNIPPETS) | st.text("abc}{ \n", max_size=3))
    return st.lists(edit, min_size=1, max_size=12)


def apply(text: str, where: float, delete: int, insert: str) -> str:
    at = int(where * len(text))
    return text[:at] + insert + text[at + delete :]


def _spans(module) -> list:
    return [(type(n).__name__, getattr(n, "span", None), getattr(n, "doc", None)) for n in module.walk()] + [
        (c.text, c.span) for c in module.comments
    ]


EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(base=st.sampled_from([VAULT, BOTH]), steps=edits(), revert=st.booleans())
def test_statement_parse_matches_whole_parse_after_random_edits(base: str, steps, revert: bool):
    file = f"/nonexistent/fuzz{next(_files)}.dm"
    text = base
    parse_buffer_matches(text, file)
    for where, delete, insert in steps:
        before = text
        text = apply(text, where, delete, insert)
        parse_buffer_matches(text, file)
        if revert:  # a repair: the pieces of the text before come back
            parse_buffer_matches(before, file)
            parse_buffer_matches(text, file)
    lsp._PIECES.clear()


def parse_buffer_matches(text: str, file: str) -> None:
    mine, whole = lsp.parse_buffer(text, file), parse(text, file)
    assert mine.module == whole.module and mine.module.span == whole.module.span
    assert _spans(mine.module) == _spans(whole.module)
    assert mine.diagnostics == whole.diagnostics and mine.text == whole.text


def test_misspelt_keyword_is_parsed_alone(monkeypatch):
    """`scdd` inside a body is read the same alone: the file is not parsed whole again (the bench's slow case)."""
    file = "/nonexistent/keyword.dm"
    text = BOTH
    lsp.parse_buffer(text, file)
    broken = text.replace("  scd2 ", "  scdd ", 1)
    assert broken != text
    calls = []
    real = lsp._parse_whole
    monkeypatch.setattr(lsp, "_parse_whole", lambda *a: calls.append(a) or real(*a))
    try:
        parse_buffer_matches(broken, file)
        parse_buffer_matches(text, file)
    finally:
        lsp._PIECES.clear()
    assert calls == []


def units(n: int) -> str:
    """A model of `n` units (sources, a star and a vault each), each unit's fact also reading the unit before."""
    out = ["model gen\n\ndimension date calendar 2020-01-01 .. 2020-12-31\n"]
    for i in range(n):
        prev = f"customer_{i - 1}" if i else f"customer_{i}"
        out.append(f"""\
## Customers of system {i}.
source crm.customers_{i} {{
  customer_id  int        not null
  full_name    string
  segment      string
  updated_at   timestamp  not null
}}

source shop.orders_{i} {{
  order_id     int        not null
  customer_id  int        not null
  ordered_at   timestamp  not null
  amount       decimal(12, 2)
}}

dimension customer_{i} from crm.customers_{i} {{
  key customer_id
  scd2 segment
  changed_by updated_at
  test customer_id unique
}}

fact orders_{i} from shop.orders_{i} {{
  grain order_id
  customer -> customer_{i}
  other -> {prev}(customer_id)
  ordered_on -> date(ordered_at)
  measure amount sum
  test customer_id references customer_{i}(customer_id)
}}

hub customer_hub_{i} from crm.customers_{i} {{
  key customer_id
}}

satellite customer_details_{i} of customer_hub_{i} from crm.customers_{i} {{
  payload full_name, segment
  changed_by updated_at
}}

pit customer_pit_{i} of customer_hub_{i} {{
  spine day from 2020-01-01 to 2020-12-31
}}
""")
    return "\n".join(out)


def _deep(value: object) -> object:
    """`value` as nested tuples of every field, spans included (equality of nodes leaves spans out)."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(_deep(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, tuple | list):
        return tuple(_deep(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _deep(v)) for k, v in value.items())
    return value


def load_model_matches(text: str, file: str) -> int:
    """The incremental load of `text` equals a fresh one (diagnostics, model, spans); how many entities it re-used."""
    mine, full = lsp.load_model(text, file), load_text(text, file)
    assert mine.diagnostics == full.diagnostics
    assert (mine.model is None) == (full.model is None) and _deep(mine.model) == _deep(full.model)
    assert list(mine.modules) == list(full.modules) and mine.texts == full.texts
    return lsp._SEMANTIC[lsp._file_key(file)].reused


def test_units_model_is_valid():
    result = load_text(units(3), "/nonexistent/units.dm")
    assert result.ok, result.diagnostics[:3]


@FUZZ
@given(base=st.sampled_from([VAULT, BOTH, units(4)]), steps=edits(), revert=st.booleans())
def test_incremental_semantic_stage_matches_a_full_check(base: str, steps, revert: bool):
    file = f"/nonexistent/sem{next(_files)}.dm"
    text = base
    load_model_matches(text, file)
    try:
        for where, delete, insert in steps:
            before = text
            text = apply(text, where, delete, insert)
            load_model_matches(text, file)
            if revert:
                load_model_matches(before, file)
                load_model_matches(text, file)
    finally:
        lsp._PIECES.clear()
        lsp._SEMANTIC.clear()


def test_an_edit_rebuilds_only_what_it_touches():
    file = "/nonexistent/touch.dm"
    text = units(6)
    total = len(load_text(text, file).model.entities)  # type: ignore[union-attr]
    try:
        load_model_matches(text, file)
        broken = text.replace("other -> customer_2(", "other -> customerX2(", 1)
        assert broken != text
        # the fact naming a dimension that does not exist, alone: the rest is re-used
        assert load_model_matches(broken, file) == total - 1
        assert load_model_matches(text, file) == total - 1
        # a changed source: it and what reads it are built again
        assert load_model_matches(text.replace("  segment      string\n", "  segment      int\n", 1), file) < total - 3
        load_model_matches(text, file)
        # a line inserted near the top moves every statement below it: all is re-used, moved
        assert load_model_matches(text.replace("model gen\n", "model gen\n\n", 1), file) == total
        load_model_matches(text, file)
        # a character typed into the first doc comment: that source and what reads it are built again
        typed = text.replace("## Customers of system 0.", "## Customers of system 0.x", 1)
        assert total - 10 <= load_model_matches(typed, file) < total
    finally:
        lsp._PIECES.clear()
        lsp._SEMANTIC.clear()
