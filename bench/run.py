"""modelc benchmarks (issue #8): start-up, compile scale, editor latency, loads on DuckDB.

    python bench/run.py [--quick | --full] [--only SECTION,...] [--out bench/results.md]

Sections: startup, compile, lsp, scd2, satellite. `make bench` runs the default set, sized to end
in well under 15 minutes on a quiet 2-core machine (a time guard skips what would overrun, and says
so); `--quick` is a smoke run with tiny sizes; `--full` adds 1,000 entities to all dialects,
5,000 entities compiled and three repetitions at 1M rows. Writes results.md (and results.json beside it).

Honesty rules: whole processes run with compiled bytecode (as an installed modelc does; the
session's PYTHONDONTWRITEBYTECODE is dropped and the cache kept outside the work tree), one
warm-up each, medians of alternating runs; wall and CPU seconds are both reported, since the
machine may be shared (the load average is printed next to every section).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import gen_model  # noqa: E402
import loads  # noqa: E402

PY = sys.executable
MODELC = str(Path(PY).parent / "modelc")
RETAIL = str(ROOT / "examples" / "retail" / "retail.dm")
DIALECTS = ("bigquery", "clickhouse", "duckdb", "postgres", "redshift", "snowflake")
BUDGET = 14 * 60  # seconds: parts that would start later are skipped (and reported as skipped)

median = loads.median


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]


def load_avg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


class Bench:
    def __init__(self, args):
        self.args = args
        self.started = time.perf_counter()
        self.results: dict = {"sections": {}, "skipped": [], "load": {}}
        self.work = Path(tempfile.mkdtemp(prefix="modelc-bench-"))

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def may_start(self, part: str, estimate: float) -> bool:
        """Whether `part` (about `estimate` seconds on a quiet machine) still fits in the budget."""
        if self.args.full or self.elapsed() + estimate <= BUDGET:
            return True
        self.results["skipped"].append(f"{part} (would start at {self.elapsed():.0f} s, needs about {estimate:.0f} s)")
        print(f"  skipped: {part}")
        return False

    def section(self, name: str, fn) -> None:
        print(f"== {name} (load average {load_avg()})", flush=True)
        before = load_avg()
        t = time.perf_counter()
        try:
            self.results["sections"][name] = fn()
        except Exception as exc:  # a failing section is reported, the others still run
            import traceback

            traceback.print_exc()
            self.results["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        self.results["load"][name] = {"before": before, "after": load_avg(), "seconds": time.perf_counter() - t}


# ---- start-up ---------------------------------------------------------------------------------------


def startup(b: Bench) -> dict:
    reps = 3 if b.args.quick else 15
    cmds = {
        "python -c pass (interpreter floor)": [PY, "-c", "pass"],
        "modelc --version": [MODELC, "--version"],
        "modelc check retail.dm": [MODELC, "check", RETAIL],
    }
    for cmd in cmds.values():  # warm-up: bytecode written, files in the page cache
        loads.timed_process(cmd)
    times: dict[str, list] = {k: [] for k in cmds}
    for i in range(reps):
        for name in list(cmds) if i % 2 == 0 else reversed(list(cmds)):
            times[name].append(loads.timed_process(cmds[name]))
    proc = subprocess.run([PY, "-X", "importtime", "-m", "modelc", "check", RETAIL], capture_output=True, text=True,
                          env=loads.bench_env())
    imports = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 3:  # top-level and first-level imports
            imports.append((int(m.group(2)) / 1e6, m.group(4)))
    imports.sort(reverse=True)
    return {"reps": reps, "times": times, "importtime": imports[:12]}


# ---- compile scale ----------------------------------------------------------------------------------


def compile_scale(b: Bench) -> dict:
    sizes = [100, 300] if b.args.quick else [100, 1000, 5000]
    out: dict = {"sizes": {}}
    for n in sizes:
        root = gen_model.generate(b.work / f"model_{n}", n)
        opts: dict = {"reps": 1 if n >= 5000 or b.args.quick else 3}
        if n == 100:
            opts.update(dialects=["duckdb"], all=True)
        elif n == 300:
            opts.update(dialects=["duckdb"])
        elif n == 1000 and b.may_start("compile 1,000 entities to duckdb", 60):
            opts.update(dialects=["duckdb"], all=b.args.full)
        elif n == 5000 and b.args.full:
            opts.update(dialects=["duckdb"])
        if n == 5000 and not b.may_start("parse and check of 5,000 entities", 25):
            continue
        print(f"  {n} entities: {opts}", flush=True)
        proc = subprocess.run([PY, str(HERE / "compile_scale.py"), str(root), json.dumps(opts)],
                              capture_output=True, text=True, env=loads.bench_env())
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        out["sizes"][n] = json.loads(proc.stdout.strip().splitlines()[-1])
    root = b.work / "model_100" / "model.dm"
    proc = subprocess.run([PY, str(HERE / "compile_scale.py"), "--profile", str(root), "duckdb"],
                          capture_output=True, text=True, env=loads.bench_env())
    if proc.returncode == 0:
        prof = json.loads(proc.stdout.strip().splitlines()[-1])
        out["profile"], out["profile_by_area"] = prof["text"], prof["areas"]
    return out


# ---- editor latency ---------------------------------------------------------------------------------


def lsp(b: Bench) -> dict:
    import lsp_latency

    samples = 12 if b.args.quick else 48
    r = lsp_latency.measure(b.work / "lsp", loads.bench_env(), warmup=6, samples=samples)
    return r


# ---- loads ------------------------------------------------------------------------------------------


def scd2(b: Bench) -> dict:
    import peers

    found = peers.available()
    out: dict = {"peers": found, "runs": {}}
    with_peers = [peers.Dbt, peers.Sqlmesh] if {"dbt-duckdb", "sqlmesh"} <= set(found) else []
    plan = [(20_000, 1, with_peers, 0)] if b.args.quick else [(100_000, 3, with_peers, 200),
                                                                 (1_000_000, 2, with_peers, 420)]
    if b.args.full:
        plan = [(100_000, 3, with_peers, 200), (1_000_000, 3, with_peers, 900)]
    for n, reps, these, estimate in plan:
        if not b.may_start(f"SCD2 loads, {n:,} rows", estimate):
            continue
        print(f"  {n:,} rows, {reps} repetition(s), peers: {[p.name for p in these]}", flush=True)
        out["runs"][n] = loads.scd2(b.work / f"scd2_{n}", n, reps, these)
        out["runs"][n]["profile"] = scd2_statement_profile(b.work / f"scd2_{n}", n)
    return out


def scd2_statement_profile(workdir: Path, n: int) -> list[tuple[float, str, str]]:
    """DuckDB seconds of each statement of modelc's SCD2 load of batch 1 (after batch 0), in order."""
    import duckdb
    from sqlglot import exp

    from modelc import dialects
    from modelc.loader import load_text
    from modelc.loads import plan_entity
    from modelc.loads.strategy import render_plan

    files = sorted((workdir / f"data_{n}").glob("customers_*.parquet"))
    model = load_text(loads.SCD2_MODEL.format(src=files[0]), str(workdir / "p.dm")).model
    db = workdir / "profile.duckdb"
    loads._fresh(db)
    with loads.quiet():
        from modelc import runtime

        runtime.run(model, f"duckdb://{db}", sources={"crm.customers": str(files[0])},
                    load_ts=loads.gen_data.load_ts(0))
    ts = exp.cast(exp.Literal.string(loads.ts(1)), exp.DataType.build("timestamp"))
    rendered = render_plan(plan_entity(model, "customer"), dialects.get("duckdb"), ts, pretty=False)
    con = duckdb.connect(str(db))
    out = []
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"CREATE OR REPLACE TABLE crm.customers AS SELECT * FROM read_parquet('{files[1]}')")
        con.execute("BEGIN TRANSACTION")
        for r in rendered:
            t = time.perf_counter()
            cur = con.execute(r.sql)
            if r.step.kind in ("check", "count"):
                cur.fetchall()
            out.append((time.perf_counter() - t, r.step.kind, r.sql[:90]))
        con.execute("COMMIT")
    finally:
        con.close()
        loads._fresh(db)
    return out


def satellite(b: Bench) -> dict:
    n = 20_000 if b.args.quick else 1_000_000
    if not b.may_start(f"satellite load, {n:,} keys", 150):
        return {"skipped": True}
    return loads.satellite(b.work / "satellite", n, 1 if not b.args.full else 3)


# ---- report -----------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("modelc", "duckdb", "sqlglot", "lark", "networkx", "pygls", "pytest-lsp"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    try:
        import sqlglot

        out["sqlglot C extension (sqlglotc)"] = "yes" if getattr(sqlglot, "_c", None) else "no"
    except ImportError:
        pass
    return out


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "?")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"], capture_output=True,
                           text=True).stdout.strip()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": mem, "os": platform.platform(),
            "commit": commit + (" + uncommitted changes in src/" if dirty else "")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of the harness")
    ap.add_argument("--full", action="store_true", help="everything, however long it takes")
    ap.add_argument("--only", help="comma-separated sections: startup,compile,lsp,scd2,satellite")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument("--merge", action="store_true", help="with --only: keep the other sections of the last run")
    args = ap.parse_args(argv)
    b = Bench(args)
    sections = {"startup": startup, "compile": compile_scale, "lsp": lsp, "scd2": scd2, "satellite": satellite}
    chosen = args.only.split(",") if args.only else list(sections)
    b.results["started"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    b.results["machine"] = machine()
    b.results["versions"] = versions()
    b.results["mode"] = "quick" if args.quick else "full" if args.full else "default"
    previous = Path(args.out).with_suffix(".json")
    if args.merge and previous.exists():  # keep the other sections of the last run, and say so
        old = json.loads(previous.read_text(encoding="utf-8"))
        for name, value in old.get("sections", {}).items():
            if name not in chosen:
                b.results["sections"][name] = value
                b.results["load"][name] = {**old["load"][name], "run": old.get("started")}
        b.results["merged_from"] = old.get("started")
    try:
        for name in chosen:
            b.section(name, lambda fn=sections[name]: fn(b))
    finally:
        b.results["total_seconds"] = b.elapsed()
        import report

        out = Path(args.out)
        out.with_suffix(".json").write_text(json.dumps(b.results, indent=1, default=str), encoding="utf-8")
        out.write_text(report.render(b.results), encoding="utf-8")
        import shutil

        shutil.rmtree(b.work, ignore_errors=True)
    print(f"wrote {args.out} in {b.elapsed():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
