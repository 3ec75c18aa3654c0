"""Load benchmarks on DuckDB: modelc's generated SCD2 and satellite loads against hand-written SQL
(and, where installed in a separate venv, a dbt snapshot and a SQLMesh SCD_TYPE_2_BY_TIME model).

Every tool loads the same Parquet batches into its own DuckDB file; runs alternate between tools
(so drift in the machine's load hits all alike); each repetition starts from an empty file; medians
per batch. After each repetition the final tables are compared.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import gen_data
import handwritten_scd2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
MODELC = str(Path(PY).parent / "modelc")

SCD2_MODEL = """\
model bench

source crm.customers from "{src}" {{
  customer_id  bigint     not null
  name         string
  email        string
  segment      string
  country      string
  updated_at   timestamp  not null
}}

dimension customer from crm.customers {{
  key customer_id
  scd2 name, email, segment, country
  changed_by updated_at
  deletes invalidate
}}
"""

SAT_MODEL = """\
model bench

source crm.customers from "{src}" {{
  customer_id  bigint     not null
  name         string
  email        string
  segment      string
  country      string
  updated_at   timestamp  not null
}}

hub customer_hub from crm.customers {{
  key customer_id
}}

satellite customer_details of customer_hub from crm.customers {{
  payload name, email, segment, country
}}
"""

COMPARE_SCD2 = (
    "customer_key, customer_id, name, email, segment, country, valid_from, valid_to, is_current, "
    "dw_changed_at, dw_loaded_at, dw_updated_at"
)


def ts(k: int) -> str:
    return gen_data.load_ts(k).isoformat(sep=" ")


def _fresh(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


def table_digest(db: Path, table: str, columns: str) -> tuple[int, str]:
    """(row count, an order-independent digest of the rows) of `table` in the DuckDB file `db`."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            f"SELECT COUNT(*), CAST(BIT_XOR(HASH(ROW({columns}))) AS VARCHAR) FROM {table}"
        ).fetchone()
    finally:
        con.close()


def row_counts(db: Path, table: str, where: str, current: str) -> tuple[int, int]:
    """(rows, current rows) of `table` in the DuckDB file `db`, among rows matching `where`."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return tuple(con.execute(
            f"SELECT COUNT(*), COUNT(*) FILTER (WHERE {current}) FROM {table} WHERE {where}"
        ).fetchone())
    finally:
        con.close()


# ---- SCD2 -------------------------------------------------------------------------------------------


class ModelcInProcess:
    name = "modelc (in-process)"

    def __init__(self, workdir: Path, files: list[Path]):
        from modelc.loader import load_text

        self.db = workdir / "modelc_inproc.duckdb"
        loaded = load_text(SCD2_MODEL.format(src=files[0]), str(workdir / "bench.dm"))
        assert loaded.ok, loaded.diagnostics
        self.model = loaded.model

    def reset(self) -> None:
        _fresh(self.db)

    def batch(self, k: int, src: Path) -> float:
        from modelc import runtime

        t, c = time.perf_counter(), time.process_time()
        with quiet():
            result = runtime.run(self.model, f"duckdb://{self.db}", sources={"crm.customers": str(src)},
                                 load_ts=gen_data.load_ts(k))
        elapsed = time.perf_counter() - t, time.process_time() - c
        assert result.ok, [e.error for e in result.entities]
        return elapsed


class ModelcProcess:
    name = "modelc run (process)"

    def __init__(self, workdir: Path, files: list[Path]):
        self.db = workdir / "modelc_proc.duckdb"
        self.model_file = workdir / "bench.dm"
        self.model_file.write_text(SCD2_MODEL.format(src=files[0]), encoding="utf-8")

    def reset(self) -> None:
        _fresh(self.db)

    def batch(self, k: int, src: Path) -> float:
        cmd = [MODELC, "run", str(self.model_file), "--target", f"duckdb://{self.db}",
               "--source", f"crm.customers={src}", "--load-ts", ts(k)]
        return timed_process(cmd)


class HandInProcess:
    name = "hand-written (in-process)"

    def __init__(self, workdir: Path, files: list[Path], sql: Path = handwritten_scd2.SCD2, tag: str = "hand"):
        self.db = workdir / f"{tag}_inproc.duckdb"
        self.sql = sql

    def reset(self) -> None:
        _fresh(self.db)

    def batch(self, k: int, src: Path) -> float:
        import duckdb

        t, c = time.perf_counter(), time.process_time()
        con = duckdb.connect(str(self.db))
        try:
            handwritten_scd2.load(con, self.sql, str(src), ts(k))
        finally:
            con.close()
        return time.perf_counter() - t, time.process_time() - c


class HandProcess:
    name = "hand-written (process)"

    def __init__(self, workdir: Path, files: list[Path], sql: Path = handwritten_scd2.SCD2, tag: str = "hand"):
        self.db = workdir / f"{tag}_proc.duckdb"
        self.sql = sql

    def reset(self) -> None:
        _fresh(self.db)

    def batch(self, k: int, src: Path) -> float:
        return timed_process([PY, str(HERE / "handwritten_scd2.py"), str(self.db), str(src), ts(k), str(self.sql)])


def timed_process(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the child and its threads) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env or bench_env())
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


@contextlib.contextmanager
def quiet():
    """Silence DuckDB's progress bar (it writes to fd 2) during in-process loads."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def bench_env() -> dict[str, str]:
    """Child processes keep compiled bytecode (as an installed modelc has) outside the work tree."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", "/tmp/modelc-bench-pycache")
    return env


def run_alternating(tools, files: list[Path], reps: int, check) -> dict[str, list[list[float]]]:
    """times[tool][batch] = list of (wall, cpu) seconds; tools alternate within each repetition and batch."""
    times = {t.name: [[] for _ in files] for t in tools}
    for rep in range(reps):
        for t in tools:
            t.reset()
        order = tools if rep % 2 == 0 else list(reversed(tools))
        for k, src in enumerate(files):
            for t in order:
                times[t.name][k].append(t.batch(k, src))
        check(tools)
    return times


def scd2(workdir: Path, n: int, reps: int, peers: list | None = None, process: bool = True) -> dict:
    """Load batch 0..3 of n customers with modelc and the hand-written SQL (in-process and, with
    `process`, as whole processes), alternating, `reps` times; then each peer once. Returns the
    times, and the digests / row counts that were asserted equal."""
    data = workdir / f"data_{n}"
    files = gen_data.customers(data, n)
    ours = [ModelcInProcess(workdir, files), HandInProcess(workdir, files)]
    if process:
        ours += [ModelcProcess(workdir, files), HandProcess(workdir, files)]
    digests: dict[str, tuple] = {}

    def check(tools) -> None:
        for t in tools:
            digests[t.name] = table_digest(t.db, "bench.customer", COMPARE_SCD2)
        assert len({digests[t.name] for t in tools}) == 1, f"tables differ: {digests}"

    times = run_alternating(ours, files, reps, check)
    expected = row_counts(ours[0].db, "bench.customer", "customer_id IS NOT NULL", "is_current")
    digests["(rows, current rows) without members"] = expected
    for make in peers or []:
        peer = make(workdir, files)
        times.update(run_alternating([peer], files, 1, lambda tools: None))
        digests[peer.name] = peer.row_counts()  # peers: no unknown/error members, their own keys
        assert digests[peer.name] == expected, f"{peer.name}: (rows, current) {digests[peer.name]} != {expected}"
    return {"n": n, "reps": reps, "times": times, "digests": digests, "tools": list(times)}


# ---- satellite --------------------------------------------------------------------------------------


HAND_SAT = HERE / "handwritten_sat.sql"


class SatModelc:
    """modelc's hub + satellite load in-process; the satellite entity's own seconds are reported too."""

    name = "modelc (in-process)"

    def __init__(self, workdir: Path, files: list[Path]):
        from modelc.loader import load_text

        self.db = workdir / "sat_modelc.duckdb"
        loaded = load_text(SAT_MODEL.format(src=files[0]), str(workdir / "sat.dm"))
        assert loaded.ok, loaded.diagnostics
        self.model = loaded.model
        self.entity_seconds: list[list[float]] = [[] for _ in files]

    def reset(self) -> None:
        _fresh(self.db)

    def batch(self, k: int, src: Path) -> float:
        from modelc import runtime

        t, c = time.perf_counter(), time.process_time()
        with quiet():
            result = runtime.run(self.model, f"duckdb://{self.db}", sources={"crm.customers": str(src)},
                                 load_ts=gen_data.load_ts(k))
        elapsed = time.perf_counter() - t, time.process_time() - c
        assert result.ok, [e.error for e in result.entities]
        self.entity_seconds[k].append(sum(e.seconds for e in result.entities if e.kind == "satellite"))
        return elapsed


def satellite(workdir: Path, n: int, reps: int) -> dict:
    files = gen_data.satellite(workdir / f"sat_{n}", n)
    tools = [SatModelc(workdir, files), HandInProcess(workdir, files, HAND_SAT, "sat_hand")]
    digests: dict[str, tuple] = {}
    cols = "customer_hub_hk, hash_diff, load_ts, record_source, name, email, segment, country"

    def check(tools) -> None:
        for t in tools:
            digests[t.name] = table_digest(t.db, "bench.customer_details", cols)
        assert len(set(digests.values())) == 1, f"satellite tables differ: {digests}"

    times = run_alternating(tools, files, reps, check)
    return {"n": n, "reps": reps, "times": times, "digests": digests, "tools": [t.name for t in tools],
            "sat_entity": tools[0].entity_seconds}


def median(xs: list[float]) -> float:
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def cleanup(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)


__all__ = ["scd2", "satellite", "median", "bench_env", "timed_process", "dt"]
