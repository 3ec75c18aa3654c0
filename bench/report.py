"""bench/results.md from the results of bench/run.py (also kept as results.json)."""

from __future__ import annotations

from loads import median
from run import p95

TARGETS = {
    "startup_version": 0.15,
    "startup_check": 0.3,
    "compile_one": 0.5,
    "compile_all": 2.0,
    "scale_ratio": 5.5,
    "lsp_p95": 0.100,
    "inproc_ratio": 1.1,
    "process_1m": 1.3,
}


def _s(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**not met**")


def _wall(runs) -> float:
    return median([r[0] for r in runs])


def _cpu(runs) -> float:
    return median([r[1] for r in runs])


def render(r: dict) -> str:
    out: list[str] = []
    w = out.append
    sec = r["sections"]
    w("# modelc benchmarks: latest run\n")
    w(f"Written by `make bench` (`bench/run.py`, mode `{r.get('mode')}`) on {r.get('started')}, "
      f"in {r.get('total_seconds', 0):.0f} s. Raw numbers: `bench/results.json`.\n")
    w("## Machine and versions\n")
    m, v = r.get("machine", {}), r.get("versions", {})
    w("| | |\n|---|---|")
    for k, val in {**m, **v}.items():
        w(f"| {k} | {val} |")
    peers = (sec.get("scd2") or {}).get("peers") or {}
    for k, val in peers.items():
        w(f"| {k} (separate venv) | {val} |")
    w("")
    w("Load average (1/5/15 min) before and after each section: the machine may be shared, so wall "
      "seconds can be inflated; CPU seconds (user + system, all threads) are shown beside them.\n")
    w("| section | seconds | load before | load after | run |\n|---|---|---|---|---|")
    for name, info in r.get("load", {}).items():
        w(f"| {name} | {info['seconds']:.0f} | {info['before']} | {info['after']} | {info.get('run', 'this run')} |")
    if r.get("skipped"):
        w("\nSkipped to stay within the time budget: " + "; ".join(r["skipped"]) + ".")
    w("")
    targets: list[tuple[str, str, str, str]] = []

    # -- start-up
    st = sec.get("startup")
    if st and "times" in st:
        w("## Start-up (whole processes)\n")
        w(f"Median of {st['reps']} alternating runs after a warm-up.\n")
        w("| command | wall median | wall p95 | CPU median |\n|---|---|---|---|")
        for name, runs in st["times"].items():
            w(f"| `{name}` | {_wall(runs):.3f} s | {p95([x[0] for x in runs]):.3f} s | {_cpu(runs):.3f} s |")
        ver = _wall(st["times"]["modelc --version"])
        chk = _wall(st["times"]["modelc check retail.dm"])
        targets.append(("`modelc --version`", "< 0.15 s", f"{ver:.3f} s", _met(ver < TARGETS["startup_version"])))
        chk_cpu = _cpu(st["times"]["modelc check retail.dm"])
        targets.append(("`modelc check` retail", "< 0.3 s", f"{chk:.3f} s (CPU {chk_cpu:.3f} s)",
                        _met(chk < TARGETS["startup_check"])))
        w("\n`python -X importtime -m modelc check retail.dm`, largest imports (cumulative seconds):\n")
        w("| seconds | module |\n|---|---|")
        for secs, mod in st.get("importtime", []):
            w(f"| {secs:.3f} | `{mod}` |")
        w("")
    elif st:
        w(f"## Start-up\n\nfailed: {st.get('error')}\n")

    # -- compile
    cs = sec.get("compile")
    if cs and "sizes" in cs:
        w("## Compile scale\n")
        w("Synthetic models from `bench/gen_model.py` (seeded): per 10 entities three sources, an SCD2 and an "
          "SCD1 dimension, a fact with three references, two hubs, a link and a satellite; 20 units per "
          "file (sources, star and vault files with imports) plus one calendar. Each size runs in a fresh "
          "process. *load* = parse + check of every file (`modelc.loader.load_file`); *compile D* = "
          "`modelc.compile(model, D)` on a freshly loaded model (table and load plans built, DDL and "
          "loads rendered); *compile all* = the six dialects in turn on one model (plans built once).\n")
        w("| entities | files | lines | parse | load (parse + check) | check | compile "
          "| entities/s (load + compile) | peak RSS |")
        w("|---|---|---|---|---|---|---|---|---|")
        loads_by_n = {}
        one_by_n = {}
        for n, d in sorted(cs["sizes"].items(), key=lambda x: int(x[0])):
            runs = d["runs"]
            parse_t = median(runs["parse"]["wall"])
            load_t = median(runs["load"]["wall"])
            loads_by_n[int(n)] = (load_t, median(runs["load"]["cpu"]))
            comp = [(k.removeprefix("compile "), median(x["wall"]), median(x["cpu"])) for k, x in runs.items()
                    if k not in ("parse", "load")]
            comp_txt = "<br>".join(f"{k}: {t:.2f} s (CPU {c:.2f})" for k, t, c in comp) or "not run"
            duck = next((t for k, t, _ in comp if k == "duckdb"), None)
            if duck is not None:
                one_by_n[int(n)] = (load_t + duck, load_t, duck)
            rate = f"{d['entities'] / (load_t + duck):.0f}" if duck else f"{d['entities'] / load_t:.0f} (load only)"
            w(f"| {d['entities']} | {d['files']} | {d['lines']} | {parse_t:.2f} s | {load_t:.2f} s | "
              f"{max(0.0, load_t - parse_t):.2f} s | {comp_txt} | {rate} | {d['peak_rss_mb']:.0f} MB |")
        w("")
        if 1000 in one_by_n:
            total, lt, ct = one_by_n[1000]
            targets.append(("1,000 entities, load + compile to one dialect (duckdb)", "< 0.5 s",
                            f"{total:.1f} s (load {lt:.2f} + compile {ct:.1f})",
                            _met(total < TARGETS["compile_one"])))
        n100 = cs["sizes"].get("100") or cs["sizes"].get(100)
        if n100 and "compile all" in n100["runs"] and 1000 in one_by_n:
            all100 = median(n100["runs"]["compile all"]["wall"])
            one100 = median(n100["runs"]["compile duckdb"]["wall"])
            projected = one_by_n[1000][1] + one_by_n[1000][2] * all100 / one100
            targets.append(("1,000 entities to all six dialects", "< 2 s",
                            f"≈ {projected:.0f} s (projected: 1,000→duckdb × the all/one ratio "
                            f"{all100 / one100:.1f} at 100)",
                            _met(projected < TARGETS["compile_all"])))
        if 1000 in loads_by_n and 5000 in loads_by_n:
            ratio = loads_by_n[5000][0] / loads_by_n[1000][0]
            ratio_cpu = loads_by_n[5000][1] / loads_by_n[1000][1]
            targets.append(("time(5,000) / time(1,000), load (parse + check)", "<= 5.5",
                            f"{ratio:.2f} (CPU {ratio_cpu:.2f})", _met(ratio <= TARGETS["scale_ratio"])))
        if 100 in one_by_n and 1000 in one_by_n:
            per100 = one_by_n[100][2] / 100
            per1000 = one_by_n[1000][2] / 1000
            targets.append(("compile seconds per entity, 1,000 vs 100 (linearity)", "~1.0 (5,000/1,000 <= 5.5)",
                            f"{per1000 / per100:.2f} ({per100 * 1000:.0f} → {per1000 * 1000:.0f} ms per entity)",
                            "n/a (5,000 compile only with --full)"))
        w("Where compile time goes (cProfile, own time by area; load + compile of 100 entities to duckdb):\n")
        w("| share | area |\n|---|---|")
        for area, share in cs.get("profile_by_area", []):
            w(f"| {share:.0%} | `{area}` |")
        w("\n<details><summary>cProfile, top functions</summary>\n\n```")
        w("\n".join(line for line in cs.get("profile", "").splitlines()[:80]))
        w("```\n</details>\n")
    elif cs:
        w(f"## Compile scale\n\nfailed: {cs.get('error')}\n")

    # -- LSP
    ls = sec.get("lsp")
    if ls and "times" in ls:
        every = [t for ts in ls["times"].values() for t in ts]
        w("## Editor latency (language server over JSON-RPC)\n")
        w(f"`modelc lsp` as a subprocess, pytest-lsp's client; one file of {ls['lines']} lines (about "
          f"{ls['lines'] // 72 * 10} entities, no imports); opening it took {ls['open_seconds']:.2f} s. Each "
          "incremental edit is sent after a 0.3 s pause (longer than the server's 0.15 s debounce, so it is "
          "analysed at once); the time is didChange → publishDiagnostics of that file.\n")
        w("| edit | n | p50 | p95 |\n|---|---|---|---|")
        for label, ts in ls["times"].items():
            w(f"| {label} | {len(ts)} | {median(ts) * 1000:.0f} ms | {p95(ts) * 1000:.0f} ms |")
        w(f"| **all** | {len(every)} | {median(every) * 1000:.0f} ms | {p95(every) * 1000:.0f} ms |\n")
        targets.append(("editor didChange → diagnostics, 5,000 lines, p95", "< 100 ms",
                        f"{p95(every) * 1000:.0f} ms (p50 {median(every) * 1000:.0f} ms)",
                        _met(p95(every) < TARGETS["lsp_p95"])))
    elif ls:
        w(f"## Editor latency\n\nfailed: {ls.get('error')}\n")

    # -- SCD2
    sc = sec.get("scd2")
    if sc and "runs" in sc:
        w("## SCD2 loads on DuckDB\n")
        w("Batches from `bench/gen_data.py` (seeded): batch 0 = N customers, then 3 full snapshots, each with "
          "10% changed rows, 1% new keys, 0.5% deleted keys, as Parquet. modelc: a model with "
          "`scd2 name, email, segment, country`, `changed_by updated_at`, `deletes invalidate`, loaded by "
          "`modelc.runtime.run` (in-process; the source location points at the batch's Parquet file) and by "
          "`modelc run` (whole process). Hand-written: `bench/handwritten_scd2.sql` (same semantics on this "
          "data), in-process and as a Python process. Every tool starts from an empty DuckDB file per "
          "repetition; ours alternate; after each repetition the four final tables are asserted identical "
          "(every column: surrogate keys, validity, metadata). Peers run once and must end with the same "
          "(rows, current rows) as ours without the unknown/error members.\n")
        if not sc.get("peers"):
            w("dbt and SQLMesh: not installed in the peers' venv (`/tmp/benchvenv`), so not run; see bench/peers.py.\n")
        for n, run in sorted(sc["runs"].items(), key=lambda x: int(x[0])):
            n = int(n)
            w(f"### N = {n:,} ({run['reps']} repetition(s))\n")
            w("| tool | batch 0 | batch 1 | batch 2 | batch 3 | batch 1-3 median |\n|---|---|---|---|---|---|")
            for tool, batches in run["times"].items():
                cells = [f"{_wall(b):.2f} s <small>(CPU {_cpu(b):.2f})</small>" for b in batches]
                later = median([x[0] for b in batches[1:] for x in b])
                w(f"| {tool} | " + " | ".join(cells) + f" | {later:.2f} s |")
            t = run["times"]
            if "modelc (in-process)" in t and "hand-written (in-process)" in t:
                pairs = zip(t["modelc (in-process)"], t["hand-written (in-process)"], strict=True)
                ratios = [_wall(a) / _wall(h) for a, h in pairs]
                w("\nmodelc / hand-written, in-process: "
                  + ", ".join(f"batch {i}: {x:.1f}x" for i, x in enumerate(ratios)))
                later = median(ratios[1:])
                targets.append((f"SCD2 in-process, {n:,} rows, modelc / hand-written (batches 1-3)", "<= 1.1x",
                                f"{later:.1f}x", _met(later <= TARGETS["inproc_ratio"])))
            if "modelc run (process)" in t and "hand-written (process)" in t:
                pairs = zip(t["modelc run (process)"], t["hand-written (process)"], strict=True)
                ratios = [_wall(a) / _wall(h) for a, h in pairs]
                w("\nmodelc / hand-written, whole process: "
                  + ", ".join(f"batch {i}: {x:.1f}x" for i, x in enumerate(ratios)))
                if n >= 1_000_000:
                    worst = max(_wall(b) for b in t["modelc run (process)"][1:])
                    targets.append(("`modelc run` process per 1M-row batch (slowest of batches 1-3)", "<= 1.3 s",
                                    f"{worst:.1f} s", _met(worst <= TARGETS["process_1m"])))
            w("\nRows asserted: " + "; ".join(f"{k}: {v}" for k, v in run["digests"].items()) + "\n")
            if run.get("profile"):
                w(f"modelc's SCD2 load of batch 1 at N = {n:,}, statement by statement (DuckDB seconds):\n")
                w("| seconds | step | statement |\n|---|---|---|")
                for secs, kind, sql in run["profile"]:
                    if secs >= 0.005:
                        w(f"| {secs:.3f} | {kind} | `{sql.replace('|', '/')}` |")
                w("")
    elif sc:
        w(f"## SCD2 loads\n\nfailed: {sc.get('error')}\n")

    sa = sec.get("satellite")
    if sa and "times" in sa:
        w(f"## Satellite load on DuckDB ({sa['n']:,} keys, batch 1 changes 10% of the payloads)\n")
        w("modelc: hub + satellite model through `modelc.runtime.run` (total, and the satellite entity's own "
          "seconds as the runtime reports them); hand-written: `bench/handwritten_sat.sql`. The satellite "
          "tables are asserted identical.\n")
        w("| tool | batch 0 | batch 1 |\n|---|---|---|")
        for tool, batches in sa["times"].items():
            w(f"| {tool} | " + " | ".join(f"{_wall(b):.2f} s <small>(CPU {_cpu(b):.2f})</small>" for b in batches)
              + " |")
        w("| modelc, satellite entity only | " + " | ".join(f"{median(b):.2f} s" for b in sa["sat_entity"]) + " |")
        hand = sa["times"]["hand-written (in-process)"]
        ratios = [median(e) / _wall(h) for e, h in zip(sa["sat_entity"], hand, strict=True)]
        w("\nsatellite entity / hand-written: " + ", ".join(f"batch {i}: {x:.1f}x" for i, x in enumerate(ratios)))
        w("\nRows asserted: " + "; ".join(f"{k}: {v}" for k, v in sa["digests"].items()) + "\n")
    elif sa and sa.get("error"):
        w(f"## Satellite load\n\nfailed: {sa.get('error')}\n")

    w("## Targets\n")
    w("| target | goal | measured (wall median) | |\n|---|---|---|---|")
    for t in targets:
        w("| " + " | ".join(t) + " |")
    w("")
    try:
        from pathlib import Path

        w((Path(__file__).with_name("analysis.md")).read_text(encoding="utf-8"))
    except OSError:
        pass
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # re-render results.md from results.json (after editing analysis.md)
    import json
    import sys
    from pathlib import Path

    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results.json"))
    src.with_suffix(".md").write_text(render(json.loads(src.read_text(encoding="utf-8"))), encoding="utf-8")
