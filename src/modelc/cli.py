"""The `modelc` command line. Heavy modules are imported lazily so start-up stays fast."""

from __future__ import annotations

import argparse
import gc
import re
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2
# Listed here for --help without importing the dialects (and sqlglot) at start-up; tests keep it in sync.
_DIALECTS = ("bigquery", "clickhouse", "duckdb", "postgres", "redshift", "snowflake")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2, as documented
        self.print_usage(sys.stderr)
        print(f"modelc: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        print(f"modelc: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return None


def _print_diagnostics(diags, text: str | None) -> None:
    from .diagnostics import render

    colour = sys.stderr.isatty()
    for d in diags:
        print(render(d, text, colour=colour), file=sys.stderr)


def cmd_check(args) -> int:
    """Syntax and semantic checks of each model (its imports included)."""
    # A short process that frees nothing before it exits: the collector's passes over the objects that
    # importing and checking create are pure cost (~5% of a `check` of the retail example).
    gc.disable()
    status = EXIT_OK
    for path in args.files:
        loaded = _load(path)
        if loaded is None:
            status = EXIT_USAGE
        elif not loaded.ok:
            status = max(status, EXIT_DIAGNOSTICS)
    return status


def _load(path: str):
    """The loaded model with its diagnostics printed; None (after a message) when the file cannot be read."""
    from .loader import load_file

    if not Path(path).is_file():
        why = "not a file" if Path(path).exists() else "no such file"
        print(f"modelc: cannot read {path}: {why}", file=sys.stderr)
        return None
    loaded = load_file(path)
    _print_all(loaded.diagnostics, loaded.texts)
    return loaded


def _print_all(diags, texts: dict[str, str]) -> None:
    from .diagnostics import render

    colour = sys.stderr.isatty()
    for d in diags:
        print(render(d, texts.get(d.span.file), colour=colour), file=sys.stderr)


def cmd_compile(args) -> int:
    from . import dialects

    try:
        dialect = dialects.get(args.dialect)
    except dialects.UnknownDialectError as exc:
        print(f"modelc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    loaded = _load(args.file)
    if loaded is None:
        return EXIT_USAGE
    if loaded.model is None:
        return EXIT_DIAGNOSTICS
    from .api import compile

    result = compile(loaded.model, dialect)
    _print_all(result.diagnostics, loaded.texts)
    if not result.ok:
        return EXIT_DIAGNOSTICS
    if args.out:
        return _write_out(result, Path(args.out))
    if args.format == "json":
        sys.stdout.write(_json(result.manifest()))
    else:
        sys.stdout.write(_script(result))
    return EXIT_OK


def _comment(text: str) -> str:
    """A one-line SQL comment; control characters cannot end it early."""
    return "-- " + "".join(ch if ch.isprintable() else "?" for ch in text)


def _header(result, entity: str | None) -> str:
    if entity is None:
        return _comment(f"model {result.model.name} for {result.dialect.name}: schema {result.model.settings.schema}")
    return _comment(f"{result.plan.table(entity).kind} {entity}")


def _group(result, entity: str | None, statements) -> str:
    """One entity's statements (or the model-wide ones) under a header comment."""
    return _header(result, entity) + "\n" + "\n".join(s.sql + ";\n" for s in statements)


def _script(result) -> str:
    """The whole result: a group per entity in graph order, separated by blank lines."""
    return "\n".join(_group(result, name, st) for name, st in result.groups() if st)


def _json(data) -> str:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


_SAFE_FILE_CHARS = re.compile(r"[^\w.-]+")


def _write_out(result, out: Path) -> int:
    """One file per entity in graph order (`00_schema.sql`, `01_customer.sql`, ...) and `manifest.json`."""
    groups = [(name, st) for name, st in result.groups() if st]
    width = max(2, len(str(len(groups))))
    files: dict[str | None, str] = {}
    for i, (name, _) in enumerate(groups):
        stem = "schema" if name is None else _SAFE_FILE_CHARS.sub("_", name).strip("._") or "entity"
        files[name] = f"{i:0{width}d}_{stem}.sql"
    manifest = result.manifest()
    manifest["files"] = [{"entity": name, "file": file} for name, file in files.items()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        _remove_stale(out, set(files.values()))
        for name, statements in groups:
            (out / files[name]).write_text(_group(result, name, statements), encoding="utf-8")
        (out / "manifest.json").write_text(_json(manifest), encoding="utf-8")
    except OSError as exc:
        print(f"modelc: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {len(files)} SQL files and manifest.json to {out}", file=sys.stderr)
    return EXIT_OK


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Files an earlier compile into `out` wrote (listed in its manifest) that this one does not."""
    import json

    try:
        old = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        listed = {f["file"] for f in old.get("files", ()) if isinstance(f, dict) and isinstance(f.get("file"), str)}
    except (OSError, ValueError, TypeError, AttributeError):
        return
    for file in listed - keep:
        if "/" not in file and "\\" not in file and file.endswith(".sql"):
            (out / file).unlink(missing_ok=True)


def cmd_graph(args) -> int:
    loaded = _load(args.file)
    if loaded is None:
        return EXIT_USAGE
    if loaded.model is None:
        return EXIT_DIAGNOSTICS
    from .graph import render

    sys.stdout.write(render(loaded.model, args.format))
    return EXIT_OK


def cmd_fmt(args) -> int:
    from .fmt import format_text
    from .parser import parse

    status = EXIT_OK
    for path in args.files:
        data = _read(path)
        if data is None:
            status = EXIT_USAGE
            continue
        result = parse(data, path)
        if not result.ok:
            _print_diagnostics(result.diagnostics, result.text)
            status = max(status, EXIT_DIAGNOSTICS)
            continue
        formatted = format_text(result)
        if formatted == result.text:
            continue
        if args.check:
            print(f"would reformat {path}")
            status = max(status, EXIT_DIAGNOSTICS)
        else:
            Path(path).write_text(formatted, encoding="utf-8")
            print(f"reformatted {path}")
    return status


def _pairs(items: list[str] | None, what: str) -> dict[str, str] | None:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"modelc: error: {what} takes NAME=VALUE, not `{item}`", file=sys.stderr)
            return None
        out[name] = value
    return out


_COUNTERS = (
    "staged", "inserted", "updated", "closed", "rekeyed", "rejected", "late", "unresolved", "skipped", "duplicates",
)  # fmt: skip


def _entity_line(e) -> str:
    if e.skipped:
        return f"  {e.entity:<28} {e.kind:<10} skipped: {e.skipped}"
    if e.error and e.partial:
        return f"  {e.entity:<28} {e.kind:<10} FAILED part way (no transactions on this engine; rerun): {e.error}"
    if e.error:
        return f"  {e.entity:<28} {e.kind:<10} FAILED, rolled back: {e.error}"
    counts = "  ".join(f"{k} {e.counts[k]}" for k in _COUNTERS if e.counts.get(k))
    return f"  {e.entity:<28} {e.kind:<10} {counts or 'no changes'}  ({e.seconds:.2f} s)"


def cmd_run(args) -> int:
    """Load the model into its target (DuckDB by default): schemas, tables, sources, then every load in graph order."""
    import datetime as dt

    from . import runtime

    variables, sources = _pairs(args.var, "--var"), _pairs(args.source, "--source")
    if variables is None or sources is None:
        return EXIT_USAGE
    load_ts = None
    if args.load_ts:
        try:
            load_ts = dt.datetime.fromisoformat(args.load_ts)
        except ValueError:
            print(f"modelc: error: --load-ts takes an ISO timestamp, not `{args.load_ts}`", file=sys.stderr)
            return EXIT_USAGE
        if load_ts.tzinfo is not None:  # load timestamps are UTC without a zone
            load_ts = load_ts.astimezone(dt.UTC).replace(tzinfo=None)
    loaded = _load(args.file)
    if loaded is None:
        return EXIT_USAGE
    if not loaded.ok:
        return EXIT_DIAGNOSTICS
    model = loaded.model
    target = args.target or runtime.default_target(args.file, model)
    try:
        runtime.check_target(target)  # before it is printed: a URL with credentials is refused, never shown
    except runtime.RunError as exc:
        print(f"modelc: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"modelc run {model.name} -> {target}")
    try:
        result = runtime.run(
            model, target, sources=sources, variables=variables, load_ts=load_ts,
            on_entity=lambda e: print(_entity_line(e), flush=True),
        )  # fmt: skip
    except runtime.RunError as exc:
        print(f"modelc: {exc}", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    changed = result.changed()
    print(f"load ts {result.load_ts.isoformat(sep=' ')}: " + (f"{changed} rows changed" if changed else "no changes"))
    return EXIT_OK if result.ok else EXIT_DIAGNOSTICS


def _against_target(args, action) -> int:
    """Load the model, find its target, and run `action(model, target) -> exit code` on it."""
    from . import runtime

    loaded = _load(args.file)
    if loaded is None:
        return EXIT_USAGE
    if not loaded.ok:
        return EXIT_DIAGNOSTICS
    try:
        return action(loaded.model, args.target or runtime.default_target(args.file, loaded.model))
    except runtime.RunError as exc:
        print(f"modelc: {exc}", file=sys.stderr)
        return EXIT_USAGE


def cmd_test(args) -> int:
    """Run the model's data tests against a loaded target."""
    from . import runtime

    def test(model, target) -> int:
        results = runtime.run_tests(model, target)
        failed = 0
        for r in results:
            if r.failures == 0:
                print(f"PASS  {r.entity}: {r.name}")
                continue
            failed += 1
            print(f"FAIL  {r.entity}: {r.name} ({r.failures} failing rows)")
            for row in r.rows:
                print("        " + ", ".join("NULL" if v is None else str(v) for v in row))
        print(f"data tests: {len(results) - failed} passed, {failed} failed")
        return EXIT_DIAGNOSTICS if failed else EXIT_OK

    return _against_target(args, test)


def cmd_show(args) -> int:
    """Print the loaded tables compactly."""
    from . import runtime

    def show(model, target) -> int:
        print(runtime.show(model, target, args.entities, args.limit), end="")
        return EXIT_OK

    return _against_target(args, show)


def cmd_lsp(args) -> int:
    """Serve the language server protocol on stdin/stdout (needs the `lsp` extra: pygls)."""
    try:
        from .lsp import serve
    except ImportError as exc:
        print(f"modelc: the language server needs pygls (pip install 'modelc[lsp]'): {exc}", file=sys.stderr)
        return EXIT_USAGE
    serve()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="modelc", description="Compile warehouse models (.dm) to SQL.")
    p.add_argument("--version", action="version", version=f"modelc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    c = sub.add_parser("check", help="report syntax and semantic problems")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.set_defaults(func=cmd_check)
    f = sub.add_parser("fmt", help="rewrite files in the canonical layout")
    f.add_argument("files", nargs="+", metavar="FILE")
    f.add_argument("--check", action="store_true", help="list files that would change; exit 1 if any")
    f.set_defaults(func=cmd_fmt)
    k = sub.add_parser("compile", help="compile a model to SQL for one dialect")
    k.add_argument("file", metavar="FILE")
    k.add_argument("--dialect", "-d", required=True, metavar="D", help=f"target: {', '.join(_DIALECTS)}")
    k.add_argument("--out", "-o", metavar="DIR", help="write one file per entity and manifest.json into DIR")
    k.add_argument("--format", choices=("sql", "json"), default="sql", help="stdout: the SQL, or the manifest")
    k.set_defaults(func=cmd_compile)
    g = sub.add_parser("graph", help="print the dependency graph of a model")
    g.add_argument("file", metavar="FILE")
    g.add_argument("--format", choices=("dot", "mermaid", "json"), default="dot")
    g.set_defaults(func=cmd_graph)
    target_help = (
        "duckdb:///path.duckdb (default: MODEL_NAME.duckdb next to the model), chdb:///dir, "
        "postgresql://user@host/db, snowflake://account/db/schema, bigquery://project/dataset, "
        "clickhouse://host, redshift://user@host/db; credentials from the environment (docs/dialects.md)"
    )
    r = sub.add_parser("run", help="load the model into a target (the embedded DuckDB by default)")
    r.add_argument("file", metavar="MODEL")
    r.add_argument("--target", "-t", help=target_help)
    r.add_argument("--var", action="append", metavar="NAME=VALUE", help="fills ${NAME} in source locations")
    r.add_argument("--source", action="append", metavar="NAME=PATH", help="read a source from other files")
    r.add_argument("--load-ts", metavar="TS", help="the run's load timestamp (ISO), for reproducible runs")
    r.set_defaults(func=cmd_run)
    t = sub.add_parser("test", help="run the model's data tests against the loaded target")
    t.add_argument("file", metavar="MODEL")
    t.add_argument("--target", "-t", help=target_help)
    t.set_defaults(func=cmd_test)
    w = sub.add_parser("show", help="print loaded tables")
    w.add_argument("file", metavar="MODEL")
    w.add_argument("entities", nargs="*", metavar="ENTITY")
    w.add_argument("--target", "-t", help=target_help)
    w.add_argument("--limit", type=int, default=30, help="rows per table (default 30)")
    w.set_defaults(func=cmd_show)
    ls = sub.add_parser("lsp", help="run the language server on stdio (for editors)")
    ls.set_defaults(func=cmd_lsp)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
