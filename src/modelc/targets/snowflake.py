"""`snowflake://account/database/schema?warehouse=W&role=R` (snowflake-connector-python, the `snowflake` extra).

Credentials come from the environment (SNOWFLAKE_USER, SNOWFLAKE_PASSWORD, SNOWFLAKE_AUTHENTICATOR,
SNOWFLAKE_PRIVATE_KEY_FILE, SNOWFLAKE_TOKEN) or from the connector's own connections.toml
(`?connection_name=NAME`, or no account at all for its default connection). Under fakesnow (tests) the
same code runs on DuckDB; fakesnow cannot hold temporary tables in a transaction, so there loads run
without one.
"""

from __future__ import annotations

import os

from .base import Result, RunError, Target, missing_connector, model_name, parse_url, query_params

_ENV = {
    "user": "SNOWFLAKE_USER",
    "password": "SNOWFLAKE_PASSWORD",
    "authenticator": "SNOWFLAKE_AUTHENTICATOR",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_FILE",
    "token": "SNOWFLAKE_TOKEN",
}
_PARAMS = ("warehouse", "role", "connection_name", "authenticator", "region", "host")


def connect_args(url: str) -> dict[str, str]:
    parts = parse_url(url)
    path = [p for p in parts.path.split("/") if p]
    if len(path) > 2:
        raise RunError("a snowflake target is snowflake://account/database[/schema]")
    args: dict[str, str] = {}
    if parts.hostname:
        args["account"] = parts.netloc.rsplit("@", 1)[-1]
    if parts.username:
        args["user"] = parts.username
    if path:
        args["database"] = path[0]
    if len(path) > 1:
        args["schema"] = path[1]
    params = query_params(parts)
    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise RunError(f"snowflake target: unknown parameter {', '.join(unknown)} (known: {', '.join(_PARAMS)})")
    args.update(params)
    for arg, var in _ENV.items():
        if arg not in args and os.environ.get(var):
            args[arg] = os.environ[var]
    return args


class SnowflakeTarget(Target):
    scheme = "snowflake"
    dialect = "snowflake"

    def __init__(self, url: str, connect: bool = True):
        self.url = url
        args = connect_args(url)
        self.con = self.cur = None
        if connect:
            try:
                import snowflake.connector
            except ImportError:
                raise missing_connector("snowflake", "snowflake-connector-python", "snowflake") from None
            self.con = snowflake.connector.connect(**args)
            self.cur = self.con.cursor()
            # fakesnow (tests) runs on DuckDB, which cannot write temporary tables and its catalog in one transaction
            self.transactional = not type(self.con).__module__.startswith("fakesnow")  # type: ignore[misc]

    def execute(self, sql: str) -> None:
        self.cur.execute(sql)

    def query(self, sql: str) -> Result:
        self.cur.execute(sql)
        return Result(tuple(d[0] for d in self.cur.description or ()), self.cur.fetchall())

    def close(self) -> None:
        if self.con is not None:
            self.cur.close()
            self.con.close()

    def columns(self) -> dict[tuple[str, str], set[str]]:
        rows = self.query(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema <> 'INFORMATION_SCHEMA'"
        ).rows
        out: dict[tuple[str, str], set[str]] = {}
        for schema, table, column in rows:
            key = (model_name(schema, True), model_name(table, True))
            out.setdefault(key, set()).add(model_name(column, True))
        return out

    def load_rows(self, reader, select: str, source, table: str) -> int:
        # executemany of one INSERT: the connector sends the rows in multi-row INSERTs.
        marks = ", ".join("%s" for _ in source.columns)
        cols = ", ".join(self.ident(c.name) for c in source.columns)
        n = 0
        cursor = reader.execute(select)
        while rows := cursor.fetchmany(16_384):
            self.cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
            n += len(rows)
        return n
