"""The README's compiled example is what modelc really prints for its example model."""

from __future__ import annotations

import re
from pathlib import Path

from modelc import api
from modelc.loader import load_text

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_readme_ddl_is_the_compiled_ddl():
    model_text = re.search(r"```modelc\n(.*?)```", README, re.S).group(1)
    shown = re.search(r"```sql\n(.*?)\n```", README, re.S).group(1)
    loaded = load_text(model_text, "shop.dm")
    assert loaded.ok, loaded.diagnostics
    result = api.compile(loaded.model, "snowflake")
    assert result.for_entity("customer", "ddl")[0].sql == shown
    merges = [s.sql for s in result.for_entity("customer", "load") if s.sql.startswith("MERGE")]
    assert len(merges) == 1 and merges[0].startswith("MERGE INTO shop.customer")
