"""The Python API: lazy `modelc.load` / `modelc.compile`, results and manifest, and docs/api.md's doctests."""

from __future__ import annotations

import dataclasses
import doctest
import json
import subprocess
import sys

import pytest
from conftest import ROOT, rich_model

import modelc
from modelc import api, ir
from modelc.loads import plan_entity

RETAIL = ROOT / "examples" / "retail" / "retail.dm"
MINI = """model mini { schema dw }
source s.t {
  id int not null
  v string
}
dimension d from s.t {
  key id
  scd1 v
}
"""


def test_docs_api_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testfile(
        str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert tried > 10 and failures == 0


def test_import_is_lazy():
    code = "import sys, modelc; print('sqlglot' in sys.modules, 'modelc.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    assert modelc.compile is api.compile and modelc.load is api.load
    with pytest.raises(AttributeError):
        modelc.nothing  # noqa: B018


def test_load_takes_a_path_or_text(tmp_path):
    assert modelc.load(str(RETAIL)).ok
    assert modelc.load(RETAIL).ok  # a Path
    from_text = modelc.load(MINI)
    assert from_text.ok and from_text.model.name == "mini"
    missing = modelc.load(str(tmp_path / "nope.dm"))  # ends in .dm: a path, even when missing
    assert not missing.ok and missing.diagnostics[0].code == "E212"


def test_compile_accepts_a_load_result_and_rejects_a_failed_one():
    loaded = modelc.load(MINI)
    assert modelc.compile(loaded, "duckdb").ok
    with pytest.raises(ValueError, match="did not load"):
        modelc.compile(modelc.load("model m\nfact f from x.y { grain a }\n"), "duckdb")


def test_statements_follow_graph_order():
    result = api.compile(rich_model(), "snowflake")
    entities = [s.entity for s in result.ddl()]
    assert entities[0] is None and entities[1:] == list(result.plan.order)
    loads = [s.entity for s in result.statements if s.kind == "load"]
    assert list(dict.fromkeys(loads)) == [e for e in result.plan.order if plan_entity(result.model, e) is not None]
    assert [name for name, _ in result.groups()] == [None, *result.plan.order]
    assert result.sql().count(";\n\n") == len(result.statements) - 1 and result.sql().endswith(";\n")
    for s in result.statements:
        assert s.expression.sql("snowflake", pretty=True) == s.sql


def test_manifest_is_json_with_lineage():
    result = api.compile(rich_model(), "clickhouse")
    m = json.loads(json.dumps(result.manifest()))
    assert m["model"] == "retail_handmade" and m["dialect"] == "clickhouse" and m["schema"] == "dw"
    assert m["capabilities"]["has_merge"] is False
    assert m["order"] == list(result.plan.order)
    entity = {e["name"]: e for e in m["entities"]}
    customer = {c["name"]: c for c in entity["customer"]["columns"]}
    assert customer["segment"] == {
        "name": "segment",
        "type": "string(20)",
        "sql_type": "Nullable(String)",
        "nullable": True,
        "lineage": ["crm.customers.segment"],
    }
    assert entity["customer"]["kind"] == "dimension" and entity["customer"]["primary_key"] == ["customer_key"]
    assert {"from": "crm.customers.segment", "to": "dw.customer.segment"} in m["lineage"]
    assert {"from": "dw.customer_details.load_ts", "to": "dw.customer_pit.customer_details_load_ts"} in m["lineage"]
    assert len(m["statements"]) == len(result.statements)
    assert all(d["severity"] == "warning" for d in m["diagnostics"])


def test_untyped_derived_column_is_a_warning():
    m = rich_model()
    fact = m.get("sales")
    odd = ir.DerivedColumn("mystery", None, "some_udf(amount)")
    m = dataclasses.replace(
        m, entities=tuple(dataclasses.replace(fact, derived=(odd,)) if e is fact else e for e in m.entities)
    )
    result = api.compile(m, "duckdb")
    (w,) = [d for d in result.diagnostics if d.code == "W404"]
    assert "mystery" in w.message and result.ok
    assert result.plan.table("sales").column("mystery").type == ir.Type("string")
