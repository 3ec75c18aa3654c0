"""The protocol every engine adapter follows, and what they share.

A target is an open connection to one engine plus what `modelc run/test/show` need from it:
`execute` a statement, `query` one (column names and rows as Python values), `begin`/`commit`/
`rollback` where the engine has transactions, `stage` a source from its CSV/Parquet files (read by an
in-process DuckDB, then bulk-inserted the engine's way), `columns` (what tables exist, for `evolve`),
`close`. The SQL it is given is already in its dialect (`Target.dialect`).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import SplitResult, urlsplit

from sqlglot import exp

from .. import dialects, ir

# Query parameters that would carry a secret: credentials come from the environment or the connector's config.
_SECRET_PARAMS = re.compile(r"pass|secret|token|key", re.IGNORECASE)


class RunError(Exception):
    """A run cannot start (bad target, missing files or connector, unknown variable): nothing was loaded."""


@dataclass(frozen=True, slots=True)
class Result:
    columns: tuple[str, ...]
    rows: list[tuple]


def missing_connector(scheme: str, module: str, extra: str) -> RunError:
    return RunError(f"the {scheme}:// target needs the `{module}` package: pip install 'modelc[{extra}]'")


def parse_url(url: str) -> SplitResult:
    """The target URL, refused when it carries a password or another secret (never echoed back)."""
    parts = urlsplit(url)
    if parts.password is not None:
        shown = parts._replace(netloc=f"{parts.username}:***@{parts.hostname or ''}" + (
            f":{parts.port}" if parts.port else ""
        )).geturl()  # fmt: skip
        raise RunError(
            f"target {shown}: a password in the URL is refused; pass it through the environment or the "
            "connector's own configuration (docs/dialects.md, Targets)"
        )
    for pair in parts.query.split("&"):
        name = pair.partition("=")[0]
        if name and _SECRET_PARAMS.search(name):
            raise RunError(f"target {parts.scheme}://...: `{name}` in the URL is refused; use the environment")
    return parts


def query_params(parts: SplitResult) -> dict[str, str]:
    out = {}
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if name:
            out[name] = value
    return out


class Target:
    """One engine. Subclasses set `scheme`, `dialect`, `transactional` and implement the methods."""

    scheme: ClassVar[str]
    dialect: ClassVar[str]
    transactional: ClassVar[bool] = True
    url: str = ""
    # The dialect the loads are rendered in, when not `dialect`: a stand-in engine running another engine's
    # load statements (Redshift's on PostgreSQL, tests/test_engines.py). DDL and staging stay in `dialect`.
    load_dialect: str | None = None

    # ---- statements ----

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def query(self, sql: str) -> Result:
        raise NotImplementedError

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def close(self) -> None:
        pass

    def dialect_for(self, plan) -> str:
        """The dialect a load plan is rendered in: `load_dialect` when set, else the target's."""
        return self.load_dialect or self.dialect

    # ---- what `run`, `test` and `show` need ----

    @property
    def display(self) -> str:
        """The target as shown to people (never with credentials: URLs with any are refused)."""
        return self.url

    def exists(self) -> bool:
        """Whether there is something loaded to test or show (a local file or directory); servers: True."""
        return True

    def columns(self) -> dict[tuple[str, str], set[str]]:
        """(schema, table) -> column names, as the model spells them, of the tables that exist."""
        raise NotImplementedError

    def stage(self, source: ir.Source, location: str) -> int:
        """Replace the source's table by the rows of its files (columns typed as declared); the row count."""
        import duckdb

        reader = duckdb.connect()
        try:
            select = typed_select(reader, source, location)
            self.execute(self.sql(dialect_of(self).create_schema(source.schema or self.default_schema)))
            table = self.table_sql(source.schema, source.table)
            self.execute(f"DROP TABLE IF EXISTS {table}")
            self.execute(self.create_table_sql(source.schema, source.table, [(c.name, c.type) for c in source.columns]))
            try:
                rows = self.load_rows(reader, select, source, table)
            except Exception as exc:
                raise RunError(f"source {source.name}: {exc}".splitlines()[0]) from None
        finally:
            reader.close()
        return rows

    def load_rows(self, reader, select: str, source: ir.Source, table: str) -> int:
        """Bulk-insert the rows of DuckDB query `select` (on connection `reader`) into `table`."""
        raise NotImplementedError

    # ---- SQL in this target's dialect ----

    default_schema: ClassVar[str] = "public"

    def sql(self, expression: exp.Expression) -> str:
        return dialect_of(self).render(expression, pretty=False)

    def ident(self, name: str) -> str:
        d = dialect_of(self)
        return d.identifier(name).sql(dialect=d.sqlglot_name)

    def table_sql(self, schema: str | None, name: str) -> str:
        d = dialect_of(self)
        return d.table(schema or self.default_schema, name).sql(dialect=d.sqlglot_name)

    def create_table_sql(self, schema: str | None, name: str, columns: Sequence[tuple[str, ir.Type]]) -> str:
        """A plain table of nullable columns (sources, bookkeeping)."""
        d = dialect_of(self)
        body = [exp.ColumnDef(this=d.identifier(c), kind=d.data_type(t, nullable=True)) for c, t in columns]
        create = exp.Create(
            this=exp.Schema(this=d.table(schema or self.default_schema, name), expressions=body), kind="TABLE"
        )
        return self.sql(create)


def dialect_of(target: Target) -> dialects.Dialect:
    return dialects.get(target.dialect)


def typed_select(con, source: ir.Source, location: str) -> str:
    """DuckDB SQL reading the source's files (CSV as text, then cast; Parquet as is) typed as declared.

    Raises RunError when no file matches or a declared column is missing."""
    files = sorted(glob.glob(location))
    if not files:
        raise RunError(f"source {source.name}: no file matches {location}")
    reader = "read_parquet" if all(f.endswith(".parquet") for f in files) else "read_csv"
    options = ", header = true, all_varchar = true" if reader == "read_csv" else ""
    file_list = exp.Array(expressions=[exp.Literal.string(f) for f in files]).sql("duckdb")
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}({file_list}{options})").fetchall()}
    missing = [c.name for c in source.columns if c.name not in present]
    if missing:
        raise RunError(f"source {source.name}: {location} has no column {', '.join(missing)}")
    duck = dialects.get("duckdb")

    def q(name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql("duckdb")

    cols = ", ".join(
        f"CAST(NULLIF({q(c.name)}, '') AS {duck.type_sql(c.type)}) AS {q(c.name)}"
        if reader == "read_csv" and c.type.name != "string"
        else f"CAST({q(c.name)} AS {duck.type_sql(c.type)}) AS {q(c.name)}"
        for c in source.columns
    )
    return f"SELECT {cols} FROM {reader}({file_list}{options})"


def batches(cursor, size: int = 10_000) -> Iterator[list[tuple]]:
    """The rows of a DuckDB cursor, a batch at a time."""
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            return
        yield rows


def model_name(stored: str, folds_upper: bool) -> str:
    """A column or table name as the model spells it, from its stored spelling (Snowflake folds bare names up)."""
    # Bare names and keywords are both stored folded (`CUSTOMER_KEY`, `DATE`); quoted odd names keep their case.
    if folds_upper and re.fullmatch(r"[A-Z_][A-Z0-9_$]*", stored):
        return stored.lower()
    return stored
