"""`redshift://[user@]host[:port]/database` (redshift_connector, the `redshift` extra).

The password comes from REDSHIFT_PASSWORD (user: REDSHIFT_USER or the URL). Redshift's COPY reads
from S3 only, so local source files are inserted in batches (fine for small extracts; stage large ones
in S3 and declare the source as an existing table).
"""

from __future__ import annotations

import os

from .base import Result, RunError, Target, missing_connector, parse_url
from .postgres import PostgresTarget


class RedshiftTarget(Target):
    scheme = "redshift"
    dialect = "redshift"

    def __init__(self, url: str, connect: bool = True):
        self.url = url
        parts = parse_url(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise RunError("a redshift target is redshift://[user@]host[:port]/database")
        self.args = {
            "host": parts.hostname,
            "port": parts.port or 5439,
            "database": parts.path.strip("/"),
            "user": parts.username or os.environ.get("REDSHIFT_USER", ""),
            "password": os.environ.get("REDSHIFT_PASSWORD", ""),
        }
        self.con = None
        if connect:
            try:
                import redshift_connector
            except ImportError:
                raise missing_connector("redshift", "redshift_connector", "redshift") from None
            self.con = redshift_connector.connect(**self.args)
            self.con.autocommit = True
            self.cur = self.con.cursor()

    def execute(self, sql: str) -> None:
        self.cur.execute(sql)

    def query(self, sql: str) -> Result:
        self.cur.execute(sql)
        return Result(tuple(d[0] for d in self.cur.description or ()), [tuple(r) for r in self.cur.fetchall()])

    def close(self) -> None:
        if self.con is not None:
            self.con.close()

    columns = PostgresTarget.columns

    def load_rows(self, reader, select: str, source, table: str) -> int:
        cols = ", ".join(self.ident(c.name) for c in source.columns)
        marks = ", ".join("%s" for _ in source.columns)
        n = 0
        cursor = reader.execute(select)
        while rows := cursor.fetchmany(1_000):
            self.cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
            n += len(rows)
        return n
