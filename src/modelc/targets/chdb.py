"""`chdb:///path`: ClickHouse embedded in the process (PyPI `chdb`), a persistent session on a directory.

ClickHouse has no transactions: `execute_plan` runs a plan's checks before it changes anything and
drops the staging tables when a load fails (docs/dialects.md, ClickHouse). chdb allows one session
per process at a time.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from .base import Result, RunError, Target, missing_connector, parse_url

# Settings every modelc session runs with (docs/dialects.md): standard NULLs from outer joins and from
# aggregates of no rows, UTC, and
# mutations (the DELETE of the no-MERGE strategy) finished before the statement returns.
SETTINGS = {
    "join_use_nulls": "1",
    "aggregate_functions_null_for_empty": "1",
    "session_timezone": "'UTC'",
    "mutations_sync": "2",
    "lightweight_deletes_sync": "2",
}


def arrow_rows(table) -> Result:
    """A pyarrow table as rows of Python values; ClickHouse's UTC DateTime64 comes back naive, like the others."""
    columns = tuple(table.column_names)
    data = [table.column(i).to_pylist() for i in range(len(columns))]
    for values in data:
        for i, v in enumerate(values):
            if isinstance(v, dt.datetime) and v.tzinfo is not None:
                values[i] = v.astimezone(dt.UTC).replace(tzinfo=None)
    return Result(columns, list(zip(*data, strict=True)) if data else [])


class ChdbTarget(Target):
    scheme = "chdb"
    dialect = "clickhouse"
    transactional = False
    default_schema = "default"

    def __init__(self, url: str, connect: bool = True):
        self.url = url
        parts = parse_url(url)
        self.path = (parts.netloc + parts.path) or ""
        if not self.path:
            raise RunError(f"target {url}: give the session directory, chdb:///path/to/dir")
        self.session = None
        if connect:
            try:
                from chdb import session
            except ImportError:
                raise missing_connector("chdb", "chdb", "chdb") from None
            Path(self.path).mkdir(parents=True, exist_ok=True)
            self.session = session.Session(self.path)
            for name, value in SETTINGS.items():
                self.session.query(f"SET {name} = {value}")

    def exists(self) -> bool:
        return Path(self.path).is_dir()

    def execute(self, sql: str) -> None:
        self.session.query(sql)

    def query(self, sql: str) -> Result:
        return arrow_rows(self.session.query(sql, "ArrowTable"))

    def begin(self) -> None:  # no transactions
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def columns(self) -> dict[tuple[str, str], set[str]]:
        rows = self.query(
            "SELECT database, table, name FROM system.columns "
            "WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema')"
        ).rows
        out: dict[tuple[str, str], set[str]] = {}
        for schema, table, column in rows:
            out.setdefault((schema, table), set()).add(column)
        return out

    def create_table_sql(self, schema, name, columns) -> str:
        return super().create_table_sql(schema, name, columns) + " ENGINE = MergeTree ORDER BY tuple()"

    def load_rows(self, reader, select: str, source, table: str) -> int:
        # DuckDB writes the typed rows to a Parquet file; ClickHouse reads it in one INSERT ... SELECT.
        fd, path = tempfile.mkstemp(suffix=".parquet", prefix="modelc_")
        os.close(fd)
        try:
            reader.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
            self.execute(f"INSERT INTO {table} SELECT * FROM file('{path}', Parquet)")
        finally:
            os.unlink(path)
        return int(self.query(f"SELECT count() AS n FROM {table}").rows[0][0])
