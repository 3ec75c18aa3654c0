"""Load statements for every dialect: each parses back in its dialect, and the strategy follows the flags."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from modelc import api, dialects
from modelc.loader import load_file

ROOT = Path(__file__).resolve().parents[1]
RETAIL = load_file(ROOT / "examples" / "retail" / "retail.dm").model
DIALECTS = ("bigquery", "clickhouse", "duckdb", "postgres", "redshift", "snowflake")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_load_statement_parses_back(dialect):
    loads = [s for s in api.compile(RETAIL, dialect).statements if s.kind == "load"]
    assert {s.entity for s in loads} == {"customer", "product", "date", "order_line"}
    for s in loads:
        assert sqlglot.parse_one(s.sql, read=dialects.get(dialect).sqlglot_name) is not None, s.sql


def applies(dialect: str) -> list[str]:
    return [s.sql.split()[0] for s in api.compile(RETAIL, dialect).for_entity("customer", "load")]


def test_strategy_follows_capabilities():
    # MERGE where the engine has one (Redshift's restricted form: no target alias) ...
    for dialect in ("duckdb", "snowflake", "bigquery", "postgres"):
        merges = [s.sql for s in api.compile(RETAIL, dialect).for_entity("customer", "load") if "MERGE" in s.sql]
        assert len(merges) == 1 and merges[0].startswith("MERGE INTO retail.customer AS t")
    redshift = [s.sql for s in api.compile(RETAIL, "redshift").for_entity("customer", "load") if "MERGE" in s.sql]
    assert len(redshift) == 1 and redshift[0].startswith("MERGE INTO retail.customer\nUSING")
    # ... and DELETE + INSERT of the changed keys where there is none (ClickHouse).
    assert "MERGE" not in applies("clickhouse")
    ch = [s.sql for s in api.compile(RETAIL, "clickhouse").for_entity("customer", "load")]
    assert any(s.startswith("DELETE FROM retail.customer") for s in ch)


def test_loads_are_change_proportional():
    # The target is written only from the staged changes: no statement rewrites the whole table.
    for dialect in DIALECTS:
        for s in api.compile(RETAIL, dialect).statements:
            if s.kind == "load" and s.sql.split()[0] in ("UPDATE", "DELETE"):
                assert "_mc_" in s.sql, s.sql


def test_docs_strategy_table_matches_the_flags():
    from modelc.loads.strategy import strategy

    doc = (ROOT / "docs" / "dialects.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Loads") : doc.index("## Types")]
    for dialect in DIALECTS:
        row = next(line for line in section.splitlines() if line.startswith(f"| {dialect} | "))
        cell = row.split("|")[2]
        assert ("MERGE" in cell and "no MERGE" not in cell) == (strategy(dialects.get(dialect)) == "merge"), row
