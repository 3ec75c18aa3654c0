"""The installed package finds its grammar: package data, not a path into the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent(
    """
    import sys
    import modelc
    from modelc.parser import grammar_text, parse

    assert modelc.__file__.startswith(sys.argv[1]), modelc.__file__
    result = parse("model shop\\n\\nsource crm.a {\\n  id int not null\\n}\\n", "probe.dm")
    assert result.ok and result.diagnostics == (), result.diagnostics
    assert result.module.entities[0].name.value == "crm.a"
    assert "start:" in grammar_text()
    print("parsed")
    """
)


def test_installed_package_parses_without_the_source_tree(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert (target / "modelc" / "grammar" / "modelc.lark").is_file()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(target)}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(target)],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert probe.stdout.strip() == "parsed"
