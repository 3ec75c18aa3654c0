"""The loader: imports (relative, recursive, once each, cycles allowed), missing files, results."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelc.loader import LoadResult, load_file, load_text

SOURCE = "source s.{name} {{\n  id int\n}}\n"


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, "utf-8")


def dims(*names: str) -> str:
    return "".join(f"dimension d_{n} from s.{n} {{\n  key id\n}}\n" for n in names)


def test_imports_are_followed_recursively_and_relative_to_the_importer(tmp_path):
    write(tmp_path, {
        "root.dm": 'model r\nimport "a/a.dm"\nimport "b.dm"\n' + dims("a", "b", "c"),
        "a/a.dm": 'import "../c/c.dm"\n' + SOURCE.format(name="a"),
        "b.dm": SOURCE.format(name="b"),
        "c/c.dm": SOURCE.format(name="c"),
    })  # fmt: skip
    result = load_file(tmp_path / "root.dm")
    assert isinstance(result, LoadResult)
    assert result.ok and result.diagnostics == ()
    files = [Path(f).relative_to(tmp_path).as_posix() for f in result.modules]
    assert files == ["root.dm", "a/a.dm", "c/c.dm", "b.dm"]  # depth first, in import order
    assert set(result.texts) == set(result.modules)
    assert result.model.name == "r"
    assert [e.name for e in result.model.entities if e.kind == "source"] == ["s.a", "s.c", "s.b"]


def test_a_file_imported_twice_is_read_once(tmp_path):
    write(tmp_path, {
        "root.dm": 'model r\nimport "x.dm"\nimport "./x.dm"\nimport "y.dm"\n' + dims("x"),
        "x.dm": SOURCE.format(name="x"),
        "y.dm": 'import "x.dm"\n',
    })  # fmt: skip
    result = load_file(tmp_path / "root.dm")
    assert result.ok, result.diagnostics
    assert len(result.modules) == 3  # no E200 for `s.x`: it was read once


def test_import_cycles_are_fine(tmp_path):
    write(tmp_path, {
        "a.dm": 'model a\nimport "b.dm"\n' + SOURCE.format(name="a") + dims("a", "b"),
        "b.dm": 'import "a.dm"\n' + SOURCE.format(name="b"),
    })  # fmt: skip
    result = load_file(tmp_path / "a.dm")
    assert result.ok, result.diagnostics
    assert [Path(f).name for f in result.modules] == ["a.dm", "b.dm"]


def test_a_file_importing_itself(tmp_path):
    write(tmp_path, {"a.dm": 'model a\nimport "a.dm"\n' + SOURCE.format(name="a") + dims("a")})
    assert load_file(tmp_path / "a.dm").ok


def test_missing_import_is_an_error_at_the_import(tmp_path):
    write(tmp_path, {
        "root.dm": 'model r\nimport "sources.dm"\nimport "nothing/here.dm"\n',
        "source.dm": SOURCE.format(name="a"),
    })  # fmt: skip
    result = load_file(tmp_path / "root.dm")
    assert not result.ok and result.model is None
    got = [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in result.diagnostics]
    assert got == [
        ("E212", 2, 1, "imported file `sources.dm` not found", "did you mean `source.dm`?"),
        ("E212", 3, 1, "imported file `nothing/here.dm` not found", None),
    ]
    fix = result.diagnostics[0].fix
    assert fix is not None and fix.text == '"source.dm"' and (fix.span.line, fix.span.column) == (2, 8)


def test_missing_import_does_not_hide_other_problems(tmp_path):
    write(tmp_path, {"root.dm": 'model r\nimport "gone.dm"\ndimension d from s.a {\n  key id\n}\n'})
    result = load_file(tmp_path / "root.dm")
    assert [d.code for d in result.diagnostics] == ["E212", "E203"]


def test_unreadable_root_file(tmp_path):
    result = load_file(tmp_path / "nope.dm")
    assert result.model is None and not result.ok
    (diag,) = result.diagnostics
    assert diag.code == "E212" and "nope.dm" in diag.message


def test_import_of_a_directory_is_reported(tmp_path):
    (tmp_path / "dir.dm").mkdir()
    write(tmp_path, {"root.dm": 'model r\nimport "dir.dm"\n'})
    result = load_file(tmp_path / "root.dm")
    assert [d.code for d in result.diagnostics] == ["E212"]
    assert result.diagnostics[0].message.startswith("cannot read imported file `dir.dm`")


def test_diagnostics_of_all_files_are_sorted(tmp_path):
    write(tmp_path, {
        "root.dm": 'model r\nimport "z.dm"\ndimension d from s.nope {\n  key id\n}\n',
        "z.dm": "source s.z {\n  id intt\n}\n",
    })  # fmt: skip
    result = load_file(tmp_path / "root.dm")
    keys = [d.sort_key() for d in result.diagnostics]
    assert keys == sorted(keys)
    assert {Path(d.span.file).name for d in result.diagnostics} == {"root.dm", "z.dm"}
    assert {d.code for d in result.diagnostics} >= {"E110", "E203"}


def test_load_text_resolves_imports_against_the_given_file(tmp_path):
    write(tmp_path, {"lib.dm": SOURCE.format(name="a")})
    result = load_text('model t\nimport "lib.dm"\n' + dims("a"), str(tmp_path / "t.dm"))
    assert result.ok, result.diagnostics
    assert result.texts[str(tmp_path / "t.dm")].startswith("model t")


def test_load_text_defaults():
    result = load_text("source s.a {\n  id int\n}\n" + dims("a"))
    assert result.ok and list(result.modules) == ["<string>"]
    assert result.model.name == "string"


@pytest.mark.parametrize("text", ["", "model", "source {", "dimension d from { key }", "\x00\x01"])
def test_garbage_never_raises(text):
    result = load_text(text)
    assert isinstance(result, LoadResult)
