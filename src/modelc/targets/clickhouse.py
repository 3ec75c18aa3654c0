"""`clickhouse://[user@]host[:port][/database][?secure=1]` (clickhouse-connect, the `clickhouse` extra).

The password comes from CLICKHOUSE_PASSWORD (user: CLICKHOUSE_USER or the URL). The same SQL and session
settings as the embedded chdb target; sources are inserted in batches through the HTTP interface.
Staging tables are Memory tables in the model's database: use a single node (or one replica) per run.
"""

from __future__ import annotations

import os

from .base import Result, RunError, Target, missing_connector, parse_url, query_params
from .chdb import SETTINGS, ChdbTarget


class ClickHouseTarget(Target):
    scheme = "clickhouse"
    dialect = "clickhouse"
    transactional = False
    default_schema = "default"

    def __init__(self, url: str, connect: bool = True):
        self.url = url
        parts = parse_url(url)
        if not parts.hostname:
            raise RunError("a clickhouse target is clickhouse://host[:port][/database]")
        params = query_params(parts)
        self.args = {
            "host": parts.hostname,
            "username": parts.username or os.environ.get("CLICKHOUSE_USER") or "default",
            "password": os.environ.get("CLICKHOUSE_PASSWORD", ""),
            "secure": params.get("secure", "0") in ("1", "true"),
            "settings": {k: v.strip("'") for k, v in SETTINGS.items()},
        }
        if parts.port:
            self.args["port"] = parts.port
        if parts.path.strip("/"):
            self.args["database"] = parts.path.strip("/")
        self.client = None
        if connect:
            try:
                import clickhouse_connect
            except ImportError:
                raise missing_connector("clickhouse", "clickhouse-connect", "clickhouse") from None
            self.client = clickhouse_connect.get_client(**self.args)

    def execute(self, sql: str) -> None:
        self.client.command(sql)

    def query(self, sql: str) -> Result:
        r = self.client.query(sql)
        return Result(tuple(r.column_names), [tuple(row) for row in r.result_rows])

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    columns = ChdbTarget.columns
    create_table_sql = ChdbTarget.create_table_sql

    def load_rows(self, reader, select: str, source, table: str) -> int:
        names = [c.name for c in source.columns]
        n = 0
        cursor = reader.execute(select)
        while rows := cursor.fetchmany(100_000):
            self.client.insert(source.table, rows, column_names=names, database=source.schema or "default")
            n += len(rows)
        return n
