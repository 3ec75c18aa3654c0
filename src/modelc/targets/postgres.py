"""`postgresql://[user@]host[:port]/dbname[?host=/socket/dir&...]` (psycopg 3, the `postgres` extra).

The URL goes to libpq as it is, so the password comes from PGPASSWORD, ~/.pgpass or a service file,
never from the URL. Sources are loaded with COPY FROM STDIN.
"""

from __future__ import annotations

from .base import Result, Target, batches, missing_connector, parse_url


class PostgresTarget(Target):
    scheme = "postgresql"
    dialect = "postgres"

    def __init__(self, url: str, connect: bool = True):
        self.url = url
        parse_url(url)
        self.con = None
        if connect:
            try:
                import psycopg
            except ImportError:
                raise missing_connector("postgresql", "psycopg", "postgres") from None
            self.con = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def query(self, sql: str) -> Result:
        cur = self.con.execute(sql)
        return Result(tuple(d.name for d in cur.description or ()), cur.fetchall())

    def close(self) -> None:
        if self.con is not None:
            self.con.close()

    def columns(self) -> dict[tuple[str, str], set[str]]:
        rows = self.query(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).rows
        out: dict[tuple[str, str], set[str]] = {}
        for schema, table, column in rows:
            out.setdefault((schema, table), set()).add(column)
        return out

    def load_rows(self, reader, select: str, source, table: str) -> int:
        cols = ", ".join(self.ident(c.name) for c in source.columns)
        n = 0
        with self.con.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for rows in batches(reader.execute(select)):
                for row in rows:
                    copy.write_row(row)
                n += len(rows)
        return n
