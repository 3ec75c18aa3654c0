"""The `modelc` command line. Heavy modules are imported lazily so start-up stays fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2


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
    from .parser import parse

    status = EXIT_OK
    for path in args.files:
        data = _read(path)
        if data is None:
            status = EXIT_USAGE
            continue
        result = parse(data, path)
        _print_diagnostics(result.diagnostics, result.text)
        if not result.ok:
            status = max(status, EXIT_DIAGNOSTICS)
    return status


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
