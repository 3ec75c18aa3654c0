"""`modelc check`: exit 0 clean (warnings allowed), 1 with errors, 2 for usage; diagnostics on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelc.cli import main

CLEAN = """model shop

source crm.customers {
  customer_id int not null
  name string
}

dimension customer from crm.customers {
  key customer_id
  scd1 name
}
"""
BROKEN = CLEAN.replace("  scd1 name", "  sdc1 name").replace("  name string", "  name strng")


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_clean_file_exits_0_and_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", write(tmp_path, "shop.dm", CLEAN)]) == 0
    assert capsys.readouterr() == ("", "")


def test_errors_exit_1_with_diagnostics_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "shop.dm", BROKEN)
    assert main(["check", path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"{path}:5:8: error[E110]: unknown type `strng`\n"
        "   5 |   name strng\n"
        "     |        ^^^^^\n"
        "   = hint: did you mean `string`?\n"
        f"{path}:10:3: error[E106]: unknown keyword `sdc1`\n"
        "  10 |   sdc1 name\n"
        "     |   ^^^^\n"
        "   = hint: did you mean `scd1`?\n"
    )


def test_warnings_alone_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "shop.dm", CLEAN.replace("  customer_id int", "\tcustomer_id int"))
    assert main(["check", path]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:4:1: warning[W101]: tab character in indentation\n")
    assert "error" not in err


def test_empty_file_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "empty.dm", "")
    assert main(["check", path]) == 0
    assert f"{path}:1:1: warning[W102]: the file defines nothing" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "nope.dm")
    assert main(["check", path]) == 2
    assert capsys.readouterr().err == f"modelc: cannot read {path}: no such file\n"


def test_a_directory_is_not_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["check"], ["check", "--bogus", "x.dm"], ["frobnicate"]])
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: modelc" in err and "modelc: error:" in err


def test_no_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: modelc" in capsys.readouterr().err


def test_several_files_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = write(tmp_path, "clean.dm", CLEAN)
    broken = write(tmp_path, "broken.dm", BROKEN)
    assert main(["check", clean, broken]) == 1
    err = capsys.readouterr().err
    assert clean not in err
    assert err.count(f"{broken}:") == 2


def test_several_files_worst_status_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = write(tmp_path, "broken.dm", BROKEN)
    missing = str(tmp_path / "missing.dm")
    assert main(["check", broken, missing, write(tmp_path, "clean.dm", CLEAN)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}:5:8: error[E110]" in err  # the files after a bad one are still checked
    assert f"cannot read {missing}" in err


def test_invalid_utf8_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "latin1.dm", CLEAN.replace("crm.customers {", "crm.customers { # café").encode("latin-1"))
    assert main(["check", path]) == 1
    assert f"{path}:3:29: error[E100]: invalid UTF-8 byte 0xe9" in capsys.readouterr().err


def test_no_colour_when_stderr_is_not_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", write(tmp_path, "shop.dm", BROKEN)])
    assert "\x1b[" not in capsys.readouterr().err


def test_colour_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "shop.dm", BROKEN)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    main(["check", path])
    assert "\x1b[1;31merror[E110]\x1b[0m" in capsys.readouterr().err


def test_garbage_gives_diagnostics_not_a_traceback(tmp_path: Path) -> None:
    """The real process, on bytes that are not a model at all."""
    path = write(tmp_path, "garbage.dm", bytes(range(256)) * 4 + b'source { } } { ` " model import')
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "modelc", "check", path], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{path}:1:1: error[E103]" in proc.stderr
