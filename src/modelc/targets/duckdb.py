"""`duckdb:///path.duckdb` (the default), `duckdb://rel.duckdb`, a bare path or `:memory:`: embedded, no server."""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp

from .. import ir
from .base import Result, RunError, Target, typed_select

CATALOG = "_modelc"  # our name for the attached database file


def database_path(target: str) -> str:
    if target.startswith("duckdb://"):
        return target[len("duckdb://") :] or ":memory:"
    if "://" in target:
        raise RunError(f"target `{target}`: not a DuckDB target")
    return target


def open_database(path: str):
    """A DuckDB connection to the file at `path`, attached under our own catalog name.

    DuckDB names a database after its file, so `retail.duckdb` holding schema `retail`
    makes `retail.customer` ambiguous; attaching it as `_modelc` avoids that.
    """
    import duckdb

    con = duckdb.connect()
    if path != ":memory:":
        con.execute(f"ATTACH {exp.Literal.string(path).sql('duckdb')} AS {CATALOG}")
        con.execute(f"USE {CATALOG}")
    return con


class DuckDBTarget(Target):
    scheme = "duckdb"
    dialect = "duckdb"
    default_schema = "main"

    def __init__(self, url: str, connect: bool = True):
        self.url = url
        self.path = database_path(url)
        self.con = open_database(self.path) if connect else None

    def exists(self) -> bool:
        return self.path == ":memory:" or Path(self.path).exists()

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def query(self, sql: str) -> Result:
        cur = self.con.execute(sql)
        return Result(tuple(d[0] for d in cur.description or ()), cur.fetchall())

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def close(self) -> None:
        self.con.close()

    def columns(self) -> dict[tuple[str, str], set[str]]:
        rows = self.con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE table_catalog = ?",
            [CATALOG],
        ).fetchall()
        out: dict[tuple[str, str], set[str]] = {}
        for schema, table, column in rows:
            out.setdefault((schema, table), set()).add(column)
        return out

    def stage(self, source: ir.Source, location: str) -> int:
        # The files are read by this very connection: no copy.
        select = typed_select(self.con, source, location)
        schema = exp.to_identifier(source.schema or "main", quoted=True).sql("duckdb")
        table = exp.table_(source.table, db=source.schema, quoted=True).sql("duckdb")
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}")
        except Exception as exc:  # a value that does not fit its declared type: name it, load nothing
            raise RunError(f"source {source.name}: {exc}".splitlines()[0]) from None
        return self.con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


class Wrapped(Target):
    """A DB-API-like connection or cursor (its `execute` returns a cursor, as DuckDB's and the Snowflake
    connector's do) used as a target by `execute_plan`: for tests and embedding."""

    def __init__(self, con, dialect: str, transactional: bool):
        self.con, self.dialect, self.transactional = con, dialect, transactional  # type: ignore[misc]

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def query(self, sql: str) -> Result:
        cur = self.con.execute(sql) or self.con
        return Result(tuple(d[0] for d in cur.description or ()), cur.fetchall())

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")
