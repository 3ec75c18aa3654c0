"""Compile scale, one model size per fresh process: `python bench/compile_scale.py ROOT.dm JSON_OPTIONS`.

Prints one JSON object: parse, check (load minus parse) and compile times (wall and CPU), entities,
lines, peak RSS. Compile of one dialect starts from a freshly loaded model (so it includes building
the table and load plans); "all" compiles the same fresh model for every dialect in turn (plans are
built once per model object and rendered per dialect).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from pathlib import Path

DIALECTS = ("bigquery", "clickhouse", "duckdb", "postgres", "redshift", "snowflake")


def _timed(fn):
    gc.collect()
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main(root: str, options: dict) -> dict:
    from modelc.api import compile
    from modelc.loader import load_file
    from modelc.parser import parse

    files = sorted(Path(root).parent.glob("*.dm"))
    data = [(f.read_bytes(), str(f)) for f in files]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict = {"files": len(files), "lines": sum(d.count(b"\n") for d, _ in data), "runs": {}}
    runs = out["runs"]

    def record(name, wall, cpu):
        runs.setdefault(name, {"wall": [], "cpu": []})
        runs[name]["wall"].append(wall)
        runs[name]["cpu"].append(cpu)

    load_file(root)  # warm-up: lazy imports, the grammar, caches of constant things
    for _ in range(options.get("reps", 1)):
        _, w, c = _timed(lambda: [parse(d, f) for d, f in data])
        record("parse", w, c)
        loaded, w, c = _timed(lambda: load_file(root))
        assert loaded.ok, [str(d) for d in loaded.diagnostics[:5]]
        record("load", w, c)
        out["entities"] = len(loaded.model.entities)
    for dialect in options.get("dialects", ()):
        model = load_file(root).model
        result, w, c = _timed(lambda: compile(model, dialect))  # noqa: B023
        assert result.ok, [str(d) for d in result.diagnostics[:5]]
        record(f"compile {dialect}", w, c)
        out.setdefault("statements", {})[dialect] = len(result.statements)
    if options.get("all"):
        model = load_file(root).model
        w_all = c_all = 0.0
        for dialect in DIALECTS:  # the first one builds the plans, the others only render them
            _, w, c = _timed(lambda: compile(model, dialect))  # noqa: B023
            record(f"render {dialect} (plans built)" if dialect != DIALECTS[0] else f"{dialect} (first)", w, c)
            w_all, c_all = w_all + w, c_all + c
        record("compile all", w_all, c_all)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["base_rss_mb"] = rss0 / 1024
    return out


def profile(root: str, dialect: str, top: int = 25) -> dict:
    """cProfile of load + compile for one dialect: the functions with the most own time, and own time
    summed per area of the code."""
    import cProfile
    import io
    import pstats

    from modelc.api import compile
    from modelc.loader import load_file

    load_file(root)
    pr = cProfile.Profile()
    pr.enable()
    compile(load_file(root).model, dialect)
    pr.disable()
    buf = io.StringIO()
    stats = pstats.Stats(pr, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    areas: dict[str, float] = {}
    for (file, _, _func), (_, _, tottime, _, _) in stats.stats.items():
        if "/modelc/" in file:
            area = "modelc/" + file.split("/modelc/", 1)[1]
        elif "sqlglot" in file:
            area = "sqlglot/" + file.split("sqlglot/", 1)[1].split("/")[0].removesuffix(".py")
        elif file.endswith("copy.py"):
            area = "copy.deepcopy (sqlglot Expression.copy)"
        elif "lark" in file:
            area = "lark"
        else:
            area = "other (builtins, stdlib)"
        areas[area] = areas.get(area, 0.0) + tottime
    total = sum(areas.values())
    by_area = [(a, t / total) for a, t in sorted(areas.items(), key=lambda x: -x[1])[:14]]
    return {"text": buf.getvalue(), "areas": by_area}


if __name__ == "__main__":
    if sys.argv[1] == "--profile":
        print(json.dumps(profile(sys.argv[2], sys.argv[3])))
    else:
        print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2]))))
