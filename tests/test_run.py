"""`modelc run`, `modelc test` and `modelc show` on the embedded DuckDB, end to end through the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelc.cli import main
from modelc.runtime import open_database

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "retail"


@pytest.fixture
def retail(tmp_path: Path) -> Path:
    """A copy of the retail example, so runs write their database into tmp_path."""
    shutil.copytree(EXAMPLE / "data", tmp_path / "data")
    shutil.copy(EXAMPLE / "retail.dm", tmp_path / "retail.dm")
    return tmp_path / "retail.dm"


def run(model: Path, batch: int, ts: str, capsys) -> tuple[int, str]:
    code = main(["run", str(model), "--var", f"batch={batch}", "--load-ts", ts])
    return code, capsys.readouterr().out


def rows(model: Path, sql: str) -> list[tuple]:
    con = open_database(str(model.parent / "retail.duckdb"))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_three_batches_then_a_rerun_changes_nothing(retail, capsys):
    for b, ts in ((1, "2024-01-10"), (2, "2024-02-10"), (3, "2024-03-10")):
        code, out = run(retail, b, ts, capsys)
        assert code == 0, out
    code, out = run(retail, 3, "2024-03-11", capsys)
    assert code == 0
    assert out.rstrip().endswith("no changes"), out
    assert "late 1" in out  # the late row is still reported, and still not applied


def test_history_is_correct(retail, capsys):
    for b, ts in ((1, "2024-01-10"), (2, "2024-02-10"), (3, "2024-03-10")):
        assert run(retail, b, ts, capsys)[0] == 0
    history = rows(
        retail,
        "SELECT customer_id, segment, country, valid_from, valid_to, is_current FROM retail.customer "
        "WHERE customer_id IN (1, 2) ORDER BY customer_id, valid_from",
    )
    ts = lambda s: __import__("datetime").datetime.fromisoformat(s)  # noqa: E731
    assert history == [
        (1, "retail", "GB", ts("2024-01-01 09:00"), ts("2024-02-01 09:00"), False),
        (1, "smb", "GB", ts("2024-02-01 09:00"), ts("2024-03-01 09:00"), False),
        (1, "smb", "FR", ts("2024-03-01 09:00"), None, True),
        # deleted from the batch-2 snapshot, back in batch 3 with an old timestamp: reopened at the load
        (2, "smb", "GB", ts("2024-01-02 10:00"), ts("2024-02-10 00:00"), False),
        (2, "smb", "GB", ts("2024-03-10 00:00"), None, True),
    ]
    # scd1 applies to every version; the late row of customer 3 is not applied
    assert rows(retail, "SELECT DISTINCT full_name FROM retail.customer WHERE customer_id = 1") == [("Ada King",)]
    assert rows(retail, "SELECT segment, email FROM retail.customer WHERE customer_id = 3") == [
        ("enterprise", "grace@navy.mil")
    ]


def test_facts_resolve_point_in_time_and_rekey_late_members(retail, capsys):
    for b, ts in ((1, "2024-01-10"), (2, "2024-02-10")):
        assert run(retail, b, ts, capsys)[0] == 0
    unknown = "0" * 32
    assert rows(retail, "SELECT customer_key FROM retail.order_line WHERE order_id = 1004") == [(unknown,)]
    code, out = run(retail, 3, "2024-03-10", capsys)
    assert "rekeyed 1" in out
    resolved = rows(
        retail,
        "SELECT DISTINCT f.order_id, d.segment FROM retail.order_line f JOIN retail.customer d "
        "ON f.customer_key = d.customer_key WHERE f.order_id IN (1001, 1003, 1004) ORDER BY 1",
    )
    assert resolved == [(1001, "retail"), (1003, "smb"), (1004, "retail")]
    assert rows(retail, "SELECT COUNT(*) FROM retail.order_line") == [(8,)]


def test_data_tests_pass_then_fail(retail, capsys):
    assert run(retail, 1, "2024-01-10", capsys)[0] == 0
    assert main(["test", str(retail)]) == 0
    out = capsys.readouterr().out
    assert "data tests: 13 passed, 0 failed" in out
    con = open_database(str(retail.parent / "retail.duckdb"))
    con.execute("UPDATE retail.order_line SET quantity = 5000 WHERE order_id = 1002")
    con.close()
    assert main(["test", str(retail)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  order_line: quantity between 0 and 1000 (1 failing rows)" in out


def test_a_failing_load_changes_nothing(retail, capsys, tmp_path):
    assert run(retail, 1, "2024-01-10", capsys)[0] == 0
    before = rows(retail, "SELECT * FROM retail.customer ORDER BY ALL")
    # two different rows for one key and change timestamp: a conflict (duplicates error)
    bad = tmp_path / "data" / "customers_9.csv"
    bad.write_text(
        "customer_id,full_name,email,segment,country,updated_at\n"
        "1,Ada,ada@example.com,smb,GB,2024-04-01 00:00:00\n"
        "1,Ada,ada@example.com,retail,GB,2024-04-01 00:00:00\n"
        "2,Alan Turing,alan@example.com,enterprise,GB,2024-04-01 00:00:00\n"
    )
    code = main(["run", str(retail), "--var", "batch=1", "--source", f"crm.customers={bad}", "--load-ts", "2024-04-10"])
    out = capsys.readouterr().out
    assert code == 1
    assert "customer" in out and "FAILED, rolled back: different rows with the same key" in out
    assert rows(retail, "SELECT * FROM retail.customer ORDER BY ALL") == before


def test_show_and_usage_errors(retail, capsys):
    assert main(["test", str(retail)]) == 2  # nothing loaded yet
    assert "run the model first" in capsys.readouterr().err
    assert main(["run", str(retail)]) == 1  # ${batch} has no value
    assert "--var batch=VALUE" in capsys.readouterr().err
    assert main(["run", str(retail), "--var", "nonsense"]) == 2
    assert run(retail, 1, "2024-01-10", capsys)[0] == 0
    assert main(["show", str(retail), "product"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("product (4 rows)") and "Widget" in out and "9.99" in out


def _target_url(engine: str, tmp_path: Path, request) -> str | None:
    """None: the default (the DuckDB file next to the model)."""
    if engine == "duckdb":
        return None
    if engine == "chdb":
        return f"chdb://{tmp_path / 'chdb'}"
    pg = request.getfixturevalue("pg")
    database = f"evolve_{abs(hash(str(tmp_path))) % 10**8}"
    with pg.connect() as con:
        con.execute(f"DROP DATABASE IF EXISTS {database}")
        con.execute(f"CREATE DATABASE {database}")
    return f"postgresql://postgres@127.0.0.1:{pg.port}/{database}"


def _history(tmp_path: Path, url: str | None, where: str) -> list[tuple]:
    from modelc.targets import open_target

    engine = open_target(url or str(tmp_path / "m.duckdb"))
    try:
        rows = engine.query(f"SELECT id, a, b, is_current FROM m.item WHERE {where} ORDER BY id, valid_from").rows
    finally:
        engine.close()
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("engine", ["duckdb", "chdb", "postgres"])
def test_adding_a_column_never_reversions(tmp_path, capsys, request, engine):
    url = _target_url(engine, tmp_path, request)
    target = ["--target", url] if url else []
    data = tmp_path / "data"
    data.mkdir()
    (data / "items_1.csv").write_text("id,a,b,updated_at\n1,x,p,2024-01-01 00:00:00\n1,y,p,2024-01-02 00:00:00\n")
    (data / "items_2.csv").write_text("id,a,b,updated_at\n1,y,p,2024-01-02 00:00:00\n2,z,q,2024-01-03 00:00:00\n")
    (data / "items_3.csv").write_text("id,a,b,updated_at\n1,y,r,2024-01-04 00:00:00\n2,z,q,2024-01-03 00:00:00\n")
    source = (
        'source src.items from "data/items_${batch}.csv" {\n  id int not null\n  a string\n  b string\n'
        "  updated_at timestamp not null\n}\n"
    )
    model = tmp_path / "m.dm"
    model.write_text(
        "model m\n\n" + source + "\ndimension item from src.items {\n  key id\n  scd2 a\n  changed_by updated_at\n}\n"
    )
    assert main(["run", str(model), "--var", "batch=1", "--load-ts", "2024-01-10", *target]) == 0
    # The model gains a versioned column: existing versions do not know it yet.
    model.write_text(
        "model m\n\n"
        + source
        + "\ndimension item from src.items {\n  key id\n  scd2 a, b\n  changed_by updated_at\n}\n"
    )
    assert main(["run", str(model), "--var", "batch=2", "--load-ts", "2024-02-10", *target]) == 0
    out = capsys.readouterr().out
    assert "item" in out and "closed" not in out.split("item", 1)[1].splitlines()[0]
    # no new version for key 1: the first value fills every version that did not know the column
    history = _history(tmp_path, url, "id IS NOT NULL")
    assert history == [(1, "x", "p", False), (1, "y", "p", True), (2, "z", "q", True)]
    # from now on a change of the new column versions as usual
    assert main(["run", str(model), "--var", "batch=3", "--load-ts", "2024-03-10", *target]) == 0
    history = _history(tmp_path, url, "id = 1")
    assert history == [(1, "x", "p", False), (1, "y", "p", False), (1, "y", "r", True)]


# ---- other targets: the same commands on chdb and PostgreSQL; connectors and credentials ----------------


def _run_test_show(retail: Path, target: str, capsys) -> str:
    for b, ts in ((1, "2024-01-10"), (2, "2024-02-10")):
        assert main(["run", str(retail), "--var", f"batch={b}", "--load-ts", ts, "--target", target]) == 0
    code = main(["run", str(retail), "--var", "batch=2", "--load-ts", "2024-02-10", "--target", target])
    out = capsys.readouterr().out
    assert code == 0 and out.rstrip().endswith("no changes"), out
    # as on DuckDB: batch 2 has a duplicate customer and an order of a customer not known yet
    assert main(["test", str(retail), "--target", target]) == 1
    out = capsys.readouterr().out
    assert "data tests: 11 passed, 2 failed" in out
    assert "FAIL  crm.customers: customer_id unique (1 failing rows)\n        5, 2\n" in out
    assert main(["show", str(retail), "product", "--target", target]) == 0
    return capsys.readouterr().out


def test_run_test_show_on_chdb(retail, capsys):
    out = _run_test_show(retail, f"chdb://{retail.parent / 'chdb'}", capsys)
    assert out.startswith("product (5 rows)") and "Gizmo" in out and "10.49" in out
    assert not (retail.parent / "retail.duckdb").exists()


def test_run_test_show_on_postgres(retail, capsys, pg):
    with pg.connect() as con:
        con.execute("DROP DATABASE IF EXISTS run_cli")
        con.execute("CREATE DATABASE run_cli")
    out = _run_test_show(retail, f"postgresql://postgres@127.0.0.1:{pg.port}/run_cli", capsys)
    assert out.startswith("product (5 rows)") and "Gizmo" in out and "10.49" in out


def test_a_failing_load_on_chdb_changes_nothing(retail, capsys, tmp_path):
    """No transactions on ClickHouse: the checks run before any change, and the staging tables are dropped."""
    target = f"chdb://{tmp_path / 'chdb'}"
    assert main(["run", str(retail), "--var", "batch=1", "--load-ts", "2024-01-10", "--target", target]) == 0
    bad = tmp_path / "data" / "customers_9.csv"
    bad.write_text(
        "customer_id,full_name,email,segment,country,updated_at\n"
        "1,Ada,ada@example.com,smb,GB,2024-04-01 00:00:00\n"
        "1,Ada,ada@example.com,retail,GB,2024-04-01 00:00:00\n"
    )
    capsys.readouterr()
    code = main(["run", str(retail), "--var", "batch=1", "--source", f"crm.customers={bad}", "--load-ts",
                 "2024-04-10", "--target", target])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1 and "FAILED, rolled back: different rows with the same key" in out
    from modelc.targets import open_target

    engine = open_target(target)
    try:
        assert engine.query("SELECT count() FROM retail.customer").rows == [(6,)]
        left = engine.query("SELECT name FROM system.tables WHERE database = 'retail' AND name LIKE '\\_mc\\_%'")
        assert left.rows == []
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("url", "extra"),
    [("bigquery://project/dataset", "bigquery"), ("clickhouse://localhost", "clickhouse"),
     ("redshift://me@example.com/dev", "redshift")],
)  # fmt: skip
def test_a_missing_connector_names_its_extra(retail, capsys, url, extra):
    # These connectors are not installed by the test extra (they need a real service).
    assert main(["run", str(retail), "--var", "batch=1", "--target", url]) == 1
    err = capsys.readouterr().err
    assert f"pip install 'modelc[{extra}]'" in err and "Traceback" not in err


def test_credentials_in_a_url_are_refused_and_never_printed(retail, capsys):
    for url in ("postgresql://me:s3cret@db.example.com/dw", "snowflake://acct/db/schema?password=s3cret"):
        for command in (["run", str(retail), "--var", "batch=1"], ["test", str(retail)], ["show", str(retail)]):
            assert main([*command, "--target", url]) == 2
            captured = capsys.readouterr()
            assert "refused" in captured.err
            assert "s3cret" not in captured.out + captured.err
    assert main(["run", str(retail), "--var", "batch=1", "--target", "mysql://db"]) == 2
    assert "unknown kind of target" in capsys.readouterr().err


def test_runs_of_one_model_object_plan_each_entity_once(retail, monkeypatch):
    """In one process the same model object is planned once (plans are immutable; the load timestamp is
    bound when rendering): the second run builds no plan, and both runs load the same tables."""
    import datetime as dt

    from modelc import runtime
    from modelc.loader import load_file

    model = load_file(str(retail)).model
    built: list[str] = []
    real = runtime.plan_entity
    monkeypatch.setattr(runtime, "plan_entity", lambda m, name, added=None: built.append(name) or real(m, name, added))
    db = f"duckdb://{retail.parent / 'twice.duckdb'}"
    first = runtime.run(model, db, variables={"batch": "1"}, load_ts=dt.datetime(2024, 1, 10))
    planned = len(built)
    second = runtime.run(model, db, variables={"batch": "2"}, load_ts=dt.datetime(2024, 2, 10))
    assert first.ok and second.ok
    assert planned > 0 and len(built) == planned  # nothing planned again
    other = load_file(str(retail)).model  # an equal but different model object is planned afresh
    runtime.run(other, db, variables={"batch": "2"}, load_ts=dt.datetime(2024, 2, 11))
    assert len(built) == 2 * planned
