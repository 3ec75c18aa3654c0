"""dbt (snapshot, timestamp strategy, hard_deletes invalidate) and SQLMesh (SCD_TYPE_2_BY_TIME,
updated_at_as_valid_from, invalidate_hard_deletes) on the same Parquet batches, each batch a whole
process, as their users run them. They live in a separate venv (never modelc's):

    python3 -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install dbt-duckdb "dbt-core<1.12" sqlmesh

(`make bench` does this once, ~30 s here).

`PEERS_VENV` overrides the location. Without it the peers are skipped and results.md says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import loads

HERE = Path(__file__).resolve().parent
VENV = Path(os.environ.get("PEERS_VENV", "/tmp/benchvenv"))


def available() -> dict[str, str]:
    """{tool: version} of the peers installed in the venv."""
    out = {}
    py = VENV / "bin" / "python"
    if not py.exists():
        return out
    for tool, module in (("dbt-core", "dbt-core"), ("dbt-duckdb", "dbt-duckdb"), ("sqlmesh", "sqlmesh"),
                         ("duckdb (peers)", "duckdb")):
        proc = subprocess.run([str(py), "-c", f"import importlib.metadata as m; print(m.version('{module}'))"],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            out[tool] = proc.stdout.strip()
    return out


def _env() -> dict[str, str]:
    env = loads.bench_env()
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="false", DO_NOT_TRACK="1", SQLMESH_DISABLE_ANONYMIZED_ANALYTICS="1")
    return env


class Dbt:
    name = "dbt snapshot (process)"

    def __init__(self, workdir: Path, files: list[Path]):
        self.dir = workdir / "dbt"
        self.db = self.dir / "dbt.duckdb"
        (self.dir / "snapshots").mkdir(parents=True, exist_ok=True)
        (self.dir / "dbt_project.yml").write_text(
            'name: bench\nversion: "1.0"\nprofile: bench\nsnapshot-paths: ["snapshots"]\n', encoding="utf-8")
        (self.dir / "profiles.yml").write_text(
            f"bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {self.db}\n"
            "      threads: 1\n", encoding="utf-8")
        (self.dir / "snapshots" / "customer.sql").write_text(
            "{% snapshot customer %}\n"
            "{{ config(target_schema='bench', unique_key='customer_id', strategy='timestamp',"
            " updated_at='updated_at', hard_deletes='invalidate') }}\n"
            "select * from read_parquet('{{ var(\"src\") }}')\n"
            "{% endsnapshot %}\n", encoding="utf-8")

    def reset(self) -> None:
        loads._fresh(self.db)

    def batch(self, k: int, src: Path) -> tuple[float, float]:
        cmd = [str(VENV / "bin" / "dbt"), "snapshot", "--project-dir", str(self.dir), "--profiles-dir",
               str(self.dir), "--no-version-check", "--vars", f"{{src: '{src}'}}"]
        return loads.timed_process(cmd, cwd=self.dir, env=_env())

    def row_counts(self) -> tuple[int, int]:
        return loads.row_counts(self.db, "bench.customer", "TRUE", "dbt_valid_to IS NULL")


class Sqlmesh:
    name = "sqlmesh run (process)"

    def __init__(self, workdir: Path, files: list[Path]):
        self.dir = workdir / "sqlmesh"
        self.db = self.dir / "warehouse.duckdb"
        (self.dir / "models").mkdir(parents=True, exist_ok=True)
        (self.dir / "config.yaml").write_text(
            f"gateways:\n  local:\n    connection:\n      type: duckdb\n      database: {self.db}\n"
            "default_gateway: local\nmodel_defaults:\n  dialect: duckdb\n  start: '2024-01-01'\n", encoding="utf-8")
        (self.dir / "models" / "customer.sql").write_text(
            "MODEL (\n  name bench.customer,\n  kind SCD_TYPE_2_BY_TIME (\n    unique_key customer_id,\n"
            "    updated_at_name updated_at,\n    updated_at_as_valid_from true,\n    invalidate_hard_deletes true\n"
            "  ),\n  cron '@daily'\n);\n"
            "SELECT customer_id, name, email, segment, country, updated_at\n"
            f"FROM read_parquet('{self.dir}/current.parquet')\n",
            encoding="utf-8")

    def reset(self) -> None:
        loads._fresh(self.db)
        shutil.rmtree(self.dir / ".cache", ignore_errors=True)

    def batch(self, k: int, src: Path) -> tuple[float, float]:
        shutil.copyfile(src, self.dir / "current.parquet")  # not timed: the model reads a fixed path
        cmd = [str(VENV / "bin" / "python"), str(HERE / "sqlmesh_batch.py"), str(self.dir), loads.ts(k)]
        return loads.timed_process(cmd + (["plan"] if k == 0 else []), cwd=self.dir, env=_env())

    def row_counts(self) -> tuple[int, int]:
        return loads.row_counts(self.db, "bench.customer", "TRUE", "valid_to IS NULL")
