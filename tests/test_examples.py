"""The example models parse cleanly and pass `modelc check`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelc import ast
from modelc.cli import main
from modelc.parser import parse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").rglob("*.dm"))
IDS = [str(p.relative_to(ROOT)) for p in EXAMPLES]


def test_examples_exist():
    names = {p.relative_to(ROOT).as_posix() for p in EXAMPLES}
    assert {"examples/retail/retail.dm", "examples/vault/vault.dm"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_parses_without_diagnostics(path):
    result = parse(path.read_bytes(), str(path))
    assert result.diagnostics == (), "\n".join(f"{d.span}: {d.code} {d.message}" for d in result.diagnostics)
    assert result.module.header is not None, "an example starts with its `model` line"


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_modelc_check_accepts_example(path, capsys):
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_layout(path):
    """The canonical layout: `model` first, 2-space indents, no tabs or trailing blanks, one blank line."""
    text = path.read_text("utf-8")
    lines = text.split("\n")
    assert text.endswith("\n") and not text.endswith("\n\n")
    code = [ln for ln in lines if ln and not ln.startswith("#")]
    assert code[0].startswith("model ")
    for n, ln in enumerate(lines, 1):
        assert "\t" not in ln and ln == ln.rstrip(), f"{path.name}:{n}"
        indent = len(ln) - len(ln.lstrip(" "))
        assert indent in (0, 2), f"{path.name}:{n}: indent {indent}"
    assert "\n\n\n" not in text


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_source_columns_form_a_table(path):
    """Name and type columns padded to the longest entry plus two spaces; flags after."""
    result = parse(path.read_bytes(), str(path))
    lines = result.text.split("\n")
    for entity in result.module.entities:
        columns = [item for item in entity.items if isinstance(item, ast.Column)]
        if not columns:
            continue
        cells = [_cells(lines[c.span.line - 1]) for c in columns]
        name_w = max(len(c[0]) for c in cells) + 2
        type_w = max(len(c[1]) for c in cells) + 2
        for c, (name, typ, flags) in zip(columns, cells, strict=True):
            expected = "  " + name.ljust(name_w) + (typ.ljust(type_w) + flags if flags else typ)
            assert lines[c.span.line - 1] == expected, f"{path.name}:{c.span.line}"


def _cells(line: str) -> tuple[str, str, str]:
    """(name, type, flags) of a canonical column line; the type may contain ', '."""
    m = re.fullmatch(r"  (\S+)  +(\w+(?:\([\d, ]+\))?)(?:  +(.*))?", line)
    assert m, line
    return m.group(1), m.group(2), m.group(3) or ""


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_is_formatted(path, capsys):
    pytest.importorskip("modelc.fmt", reason="the formatter is not there yet")
    assert main(["fmt", "--check", str(path)]) == 0, capsys.readouterr().out
