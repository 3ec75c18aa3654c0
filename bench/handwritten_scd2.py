"""Run bench/handwritten_scd2.sql (or handwritten_sat.sql) on a DuckDB file.

In-process: `load(con, sql_file, src, load_ts)`. As a whole process (what `modelc run` is compared
with): `python bench/handwritten_scd2.py DB SRC LOAD_TS [SQL_FILE]`.
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCD2 = HERE / "handwritten_scd2.sql"


def script(sql_file: Path, src: str, load_ts: str) -> str:
    return string.Template(sql_file.read_text(encoding="utf-8")).substitute(src=src, load_ts=load_ts)


def load(con, sql_file: Path, src: str, load_ts: str) -> None:
    con.execute(script(sql_file, src, load_ts))


def main(argv: list[str]) -> int:
    import duckdb

    db, src, ts = argv[:3]
    sql_file = Path(argv[3]) if len(argv) > 3 else SCD2
    con = duckdb.connect(db)
    try:
        load(con, sql_file, src, ts)
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
