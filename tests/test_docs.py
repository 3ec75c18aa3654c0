"""The language reference stays honest: its examples parse, and it covers the whole grammar.

Every ```modelc block in docs/language.md (and README.md) is a complete file that must parse
with no diagnostics at all; every keyword of the grammar must be used in some example; every
diagnostic code the parser can emit must be listed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelc.parser import lark_parser, parse

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = ROOT / "docs" / "language.md"
README = ROOT / "README.md"
GRAMMAR = ROOT / "src" / "modelc" / "grammar" / "modelc.lark"
PARSER = ROOT / "src" / "modelc" / "parser.py"

_FENCE = re.compile(r"^```modelc[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def modelc_blocks(path: Path) -> list[tuple[int, str]]:
    """(line of the opening fence, text) of each ```modelc block."""
    text = path.read_text("utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in _FENCE.finditer(text)]


def grammar_keywords() -> set[str]:
    """The word literals of the grammar ("model", "scd2", "true", ...), comments left out."""
    text = re.sub(r"//[^\n]*", "", GRAMMAR.read_text("utf-8"))
    return set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', text))


def tokens(text: str) -> list:
    """The tokens the parser reads, lexed in context (so a keyword used as a name is a NAME)."""
    ip = lark_parser().parse_interactive(text)
    out = []
    for tok in ip.lexer_thread.lex(ip.parser_state):
        ip.feed_token(tok)
        out.append(tok)
    return out


BLOCKS = [(path.name, line, text) for path in (LANGUAGE, README) for line, text in modelc_blocks(path)]


def test_docs_have_examples():
    assert len(modelc_blocks(LANGUAGE)) >= 20
    assert modelc_blocks(README)


def test_no_mistagged_fences():
    for path in (LANGUAGE, README):
        tags = re.findall(r"^```(\S*)", path.read_text("utf-8"), re.MULTILINE)
        # `sql` blocks show compiled output; tests/test_readme.py checks it against the compiler.
        assert set(tags) <= {"", "modelc", "text", "sh", "console", "sql"}, f"{path.name}: {set(tags)}"


@pytest.mark.parametrize(("doc", "line", "text"), BLOCKS, ids=[f"{d}:{n}" for d, n, _ in BLOCKS])
def test_example_parses_cleanly(doc, line, text):
    result = parse(text, f"{doc}:{line}")
    assert result.diagnostics == (), "\n".join(f"{d.span}: {d.code} {d.message}" for d in result.diagnostics)
    assert result.module.header is not None or result.module.entities


def test_grammar_keywords_are_found():
    words = grammar_keywords()
    assert {"model", "import", "scd3", "multi_active", "references", "null", "true", "false"} <= words


def test_every_keyword_is_in_an_example():
    literal_terminals = {t.pattern.value for t in lark_parser().terminals if t.pattern.type == "str"}
    as_keyword: set[str] = set()  # words lexed as their own keyword terminal
    as_word: set[str] = set()  # every word, whatever its terminal
    for _, _, text in BLOCKS:
        for tok in tokens(text):
            as_word.add(tok.value)
            if tok.type not in ("NAME", "QUOTED_NAME", "STRING"):
                as_keyword.add(tok.value)
    # A keyword with a terminal of its own must be used as that keyword; one that is only part of
    # a pattern terminal (true/false in BOOL) just has to appear.
    missing = sorted(k for k in grammar_keywords() if k not in (as_keyword if k in literal_terminals else as_word))
    assert not missing, f"keywords used in no ```modelc example of the docs: {missing}"


def test_keyword_index_lists_every_keyword():
    index = LANGUAGE.read_text("utf-8").split("## Keyword index", 1)[1]
    missing = sorted(k for k in grammar_keywords() if f"`{k}`" not in index)
    assert not missing, f"keywords missing from the keyword index: {missing}"


def test_every_parser_diagnostic_code_is_documented():
    doc = LANGUAGE.read_text("utf-8")
    codes = set(re.findall(r"\b([EW]1\d\d)\b", PARSER.read_text("utf-8")))
    assert codes, "no diagnostic codes found in parser.py"
    listed = set(re.findall(r"^\| ([EW]\d{3}) \|", doc, re.MULTILINE))
    assert codes <= listed, f"undocumented parser codes: {sorted(codes - listed)}"
    expected = {f"E{n}" for n in range(100, 112)} | {"W101", "W102"}
    assert expected <= listed


def test_every_documented_type_is_a_parser_type():
    from modelc.parser import TYPES

    doc = LANGUAGE.read_text("utf-8")
    table = doc.split("| Type | Meaning |", 1)[1].split("\n\n", 1)[0]
    first_cells = re.findall(r"^\| ([^|]*) \|", table, re.MULTILINE)
    documented = {m for cell in first_cells for m in re.findall(r"`([a-z]+)(?:\([^`]*\))?`", cell)}
    assert documented == set(TYPES)
