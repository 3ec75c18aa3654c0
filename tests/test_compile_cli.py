"""`modelc compile`, `modelc graph` and the loader-backed `modelc check`, run in-process."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from modelc.cli import main

RETAIL = str(ROOT / "examples" / "retail" / "retail.dm")
VAULT = str(ROOT / "examples" / "vault" / "vault.dm")

SMALL = """model small { schema dw }

source crm.customers {
  customer_id  int     not null
  segment      string
}

dimension customer from crm.customers {
  key customer_id
  scd1 segment
  cluster by segment
}
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.dm"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_compile_to_stdout(small, capsys):
    assert main(["compile", str(small), "--dialect", "snowflake"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("-- model small for snowflake: schema dw\nCREATE SCHEMA IF NOT EXISTS dw;\n\n")
    assert "-- dimension customer\nCREATE TABLE IF NOT EXISTS dw.customer (\n" in out
    assert "CLUSTER BY (segment);\n" in out
    assert "MERGE INTO dw.customer AS t" in out
    assert err == ""


def test_warnings_go_to_stderr_with_the_source_line(small, capsys):
    assert main(["compile", str(small), "-d", "duckdb"]) == 0
    out, err = capsys.readouterr()
    assert "CLUSTER" not in out
    assert "warning[W401]: `cluster by` on dimension `customer` means nothing on duckdb; ignored" in err
    assert f"{small}:8:1" in err and "dimension customer from crm.customers {" in err


def test_compile_examples_every_dialect(capsys):
    for dialect in ("bigquery", "clickhouse", "duckdb", "postgres", "redshift", "snowflake"):
        for path in (RETAIL, VAULT):
            assert main(["compile", path, "--dialect", dialect]) == 0, (path, dialect)
            assert "CREATE TABLE IF NOT EXISTS" in capsys.readouterr().out


def test_compile_out_writes_one_file_per_entity_and_a_manifest(tmp_path, capsys):
    out = tmp_path / "build"
    assert main(["compile", RETAIL, "--dialect", "duckdb", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    files = sorted(p.name for p in out.iterdir())
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert files == sorted(
        ["manifest.json", "00_schema.sql"] + [f"{i + 1:02d}_{n}.sql" for i, n in enumerate(manifest["order"])]
    )
    assert manifest["order"] == ["customer", "product", "date", "order_line"]
    assert [f["file"] for f in manifest["files"]] == ["00_schema.sql", "01_customer.sql", "02_product.sql"] + [
        "03_date.sql",
        "04_order_line.sql",
    ]
    assert (out / "00_schema.sql").read_text().endswith("CREATE SCHEMA IF NOT EXISTS retail;\n")
    customer = (out / "01_customer.sql").read_text()
    assert customer.startswith("-- dimension customer\nCREATE TABLE IF NOT EXISTS retail.customer (")
    cols = {c["name"]: c for c in manifest["entities"][0]["columns"]}
    assert cols["segment"]["lineage"] == ["crm.customers.segment"]
    assert cols["segment"]["type"] == "string" and cols["segment"]["sql_type"] == "TEXT"
    assert {"from": "shop.order_lines.quantity", "to": "retail.order_line.quantity"} in manifest["lineage"]
    # The files run, in order, on DuckDB (DDL and loads, over empty sources).
    import duckdb

    from modelc import dialects, ir
    from modelc.loader import load_file

    con = duckdb.connect()
    duck = dialects.get("duckdb")
    for src in load_file(RETAIL).model.of_kind("source"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {src.schema}")
        cols = ", ".join(f"{c.name} {duck.type_sql(c.type)}" for c in src.columns)
        con.execute(f"CREATE TABLE {src.schema}.{src.table} ({cols})")
    assert all(isinstance(s, ir.Source) for s in load_file(RETAIL).model.of_kind("source"))
    for name in [f["file"] for f in manifest["files"]]:
        con.execute((out / name).read_text())
    assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'retail'").fetchone() == (
        4,
    )
    assert con.execute("SELECT count(*) FROM retail.date").fetchone() == (4018 + 1,)  # days and unknown


def test_out_removes_files_a_previous_compile_wrote(tmp_path, small, capsys):
    out = tmp_path / "build"
    assert main(["compile", RETAIL, "-d", "duckdb", "-o", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    assert main(["compile", str(small), "-d", "duckdb", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["00_schema.sql", "01_customer.sql", "manifest.json", "notes.txt"]


def test_format_json_prints_the_manifest(small, capsys):
    assert main(["compile", str(small), "--dialect", "clickhouse", "--format", "json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["dialect"] == "clickhouse" and m["order"] == ["customer"]
    assert m["entities"][0]["columns"][1] == {
        "name": "customer_id",
        "type": "int",
        "sql_type": "Nullable(Int32)",
        "nullable": True,
        "lineage": ["crm.customers.customer_id"],
    }
    assert m["statements"][1]["sql"].startswith("CREATE TABLE IF NOT EXISTS dw.customer")


def test_unknown_dialect_is_a_usage_error_with_a_suggestion(small, capsys):
    assert main(["compile", str(small), "--dialect", "bigqury"]) == 2
    err = capsys.readouterr().err
    assert "unknown dialect `bigqury`; did you mean `bigquery`?" in err and "Traceback" not in err


def test_usage_errors_exit_2(small, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["compile", str(small)])  # --dialect is required
    assert info.value.code == 2
    assert main(["compile", str(tmp_path / "missing.dm"), "-d", "duckdb"]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["graph", str(small), "--format", "png"])
    assert info.value.code == 2


def test_model_with_errors_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.dm"
    bad.write_text("model bad\n\ndimension d from nowhere.t {\n  key id\n}\n", encoding="utf-8")
    assert main(["compile", str(bad), "--dialect", "duckdb"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "error[E203]" in err and "dimension d from nowhere.t" in err


def test_dialect_specific_error_exits_1(tmp_path, capsys):
    """A name BigQuery cannot hold is an error there, and fine elsewhere."""
    odd = tmp_path / "odd.dm"
    odd.write_text(SMALL.replace("segment", "`seg\\ment`"), encoding="utf-8")
    assert main(["compile", str(odd), "-d", "bigquery"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "error[E403]" in err
    assert main(["compile", str(odd), "-d", "duckdb"]) == 0


@pytest.mark.parametrize(
    "data", [b"", b"\xff\xfe\x00garbage", b"model", b"fact { grain }", "dimension `\u202e` from".encode()]
)
def test_no_traceback_for_any_input(tmp_path, capsys, data):
    path = tmp_path / "any.dm"
    path.write_bytes(data)
    for command in (["compile", str(path), "-d", "redshift"], ["graph", str(path)], ["check", str(path)]):
        assert main(command) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(("fmt", "start"), [("dot", "digraph"), ("mermaid", "flowchart"), ("json", "{")])
def test_graph_formats(fmt, start, capsys):
    assert main(["graph", VAULT, "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.startswith(start) and "customer_hub" in out
    if fmt == "json":
        assert {"source": "customer_hub", "target": "customer_details"} in json.loads(out)["edges"]


def test_graph_defaults_to_dot(small, capsys):
    assert main(["graph", str(small)]) == 0
    assert capsys.readouterr().out.startswith("digraph")


def test_check_runs_the_semantic_checks(tmp_path, small, capsys):
    assert main(["check", str(small)]) == 0
    assert capsys.readouterr().err == ""
    bad = tmp_path / "bad.dm"
    bad.write_text(
        "model bad\n\nsource a.b {\n  id int\n}\n\ndimension d from a.b {\n  key nope\n}\n", encoding="utf-8"
    )
    assert main(["check", str(bad)]) == 1
    assert "error[E204]" in capsys.readouterr().err
