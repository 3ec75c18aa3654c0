"""Seeded batch generator for the load benchmarks (Parquet files).

Customers (SCD2): batch 0 holds N rows; each later batch is a full snapshot of the previous one in
which 10% of the rows changed (one attribute and `updated_at`), 1% are new keys and 0.5% of the keys
are gone (deleted). Changed values always differ from the old ones and `updated_at` always moves
forward, so "timestamp changed" and "values changed" mean the same thing for every tool.

Satellite: N keys with a payload; the second batch changes the payload of 10% of them.

Randomness is DuckDB's `hash()` of (key, seed, batch, purpose): the same seed gives the same files
(for one DuckDB version) and generation of 1M rows takes well under a second.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

BASE = dt.datetime(2024, 1, 1)
SEGMENTS = ("retail", "smb", "enterprise", "public")


def batch_time(k: int) -> dt.datetime:
    """The day of batch k's changes (rows changed in batch k get a time within that day)."""
    return BASE + dt.timedelta(days=k)


def load_ts(k: int) -> dt.datetime:
    """The load timestamp of batch k: after every `updated_at` in it."""
    return BASE + dt.timedelta(days=k + 1)


def _h(expr: str, seed: int, k: int, purpose: str) -> str:
    return f"(hash({expr}, {seed}, {k}, '{purpose}') % 1000)::BIGINT"


def customers(out: Path, n: int, batches: int = 3, seed: int = 42) -> list[Path]:
    """Write customers_0.parquet .. customers_{batches}.parquet into `out`; returns the paths."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    seg = "[" + ", ".join(f"'{s}'" for s in SEGMENTS) + "]"
    t0 = batch_time(0).isoformat(sep=" ")
    con.execute(f"""
        CREATE TABLE cur AS
        SELECT i::BIGINT AS customer_id,
               'Customer ' || i AS name,
               'c' || i || '@example.com' AS email,
               {seg}[1 + {_h('i', seed, 0, 's')} % 4] AS segment,
               'C' || chr(65 + ({_h('i', seed, 0, 'c')} % 20)::INT) AS country,
               TIMESTAMP '{t0}' AS updated_at
        FROM range(1, {n} + 1) t(i)""")
    paths = []
    for k in range(batches + 1):
        if k > 0:
            day = batch_time(k).isoformat(sep=" ")
            deleted = f"{_h('customer_id', seed, k, 'd')} < 5"
            changed = f"{_h('customer_id', seed, k, 'c')} < 100"  # 10% of the remaining rows
            which = f"{_h('customer_id', seed, k, 'w')} % 4"
            con.execute(f"DELETE FROM cur WHERE {deleted}")
            con.execute(f"""
                UPDATE cur SET
                  name = CASE WHEN {which} = 0 THEN name || ' v{k}' ELSE name END,
                  email = CASE WHEN {which} = 1 THEN 'c' || customer_id || '.v{k}@example.com' ELSE email END,
                  segment = CASE WHEN {which} = 2
                                 THEN {seg}[1 + (list_position({seg}, segment) % 4)::BIGINT] ELSE segment END,
                  country = CASE WHEN {which} = 3 THEN country || 'X' ELSE country END,
                  updated_at = TIMESTAMP '{day}' + INTERVAL ({_h('customer_id', seed, k, 't')} * 60) SECOND
                WHERE {changed}""")
            top = con.execute("SELECT max(customer_id) FROM cur").fetchone()[0]
            new = max(1, n // 100)
            con.execute(f"""
                INSERT INTO cur
                SELECT i, 'Customer ' || i, 'c' || i || '@example.com',
                       {seg}[1 + {_h('i', seed, k, 's')} % 4], 'C' || chr(65 + ({_h('i', seed, k, 'c')} % 20)::INT),
                       TIMESTAMP '{day}' + INTERVAL ({_h('i', seed, k, 't')} * 60) SECOND
                FROM range({top} + 1, {top} + 1 + {new}) t(i)""")
        path = out / f"customers_{k}.parquet"
        con.execute(f"COPY (SELECT * FROM cur ORDER BY customer_id) TO '{path}' (FORMAT parquet)")
        paths.append(path)
    con.close()
    return paths


def satellite(out: Path, n: int, seed: int = 7) -> list[Path]:
    """Two batches of `n` keys (customer_id, name, email, segment, country, updated_at); batch 1
    changes the payload of 10% of the keys."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    seg = "[" + ", ".join(f"'{s}'" for s in SEGMENTS) + "]"
    paths = []
    for k in range(2):
        changed = f"{_h('i', seed, 1, 'c')} < 100" if k else "FALSE"
        path = out / f"sat_{k}.parquet"
        con.execute(f"""
            COPY (SELECT i::BIGINT AS customer_id,
                         'Customer ' || i || CASE WHEN {changed} THEN ' v1' ELSE '' END AS name,
                         'c' || i || '@example.com' AS email,
                         {seg}[1 + {_h('i', seed, 0, 's')} % 4] AS segment,
                         'C' || chr(65 + ({_h('i', seed, 0, 'c')} % 20)::INT) AS country,
                         TIMESTAMP '{batch_time(k).isoformat(sep=' ')}' AS updated_at
                  FROM range(1, {n} + 1) t(i) ORDER BY i)
            TO '{path}' (FORMAT parquet)""")
        paths.append(path)
    con.close()
    return paths
