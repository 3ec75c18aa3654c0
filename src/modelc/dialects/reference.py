"""The tables of docs/dialects.md, generated from the dialect classes (a test keeps the page in sync)."""

from __future__ import annotations

from .. import ir
from . import all_dialects
from .base import CAPABILITIES, PHYSICAL_OPTIONS

# Portable types as written in a model, in the order of the docs.
TYPE_EXAMPLES = (
    ("int", ir.Type("int")),
    ("bigint", ir.Type("bigint")),
    ("smallint", ir.Type("smallint")),
    ("decimal(12, 2)", ir.Type("decimal", precision=12, scale=2)),
    ("decimal(38, 12)", ir.Type("decimal", precision=38, scale=12)),
    ("float", ir.Type("float")),
    ("double", ir.Type("double")),
    ("bool", ir.Type("bool")),
    ("string", ir.Type("string")),
    ("string(20)", ir.Type("string", length=20)),
    ("date", ir.Type("date")),
    ("time", ir.Type("time")),
    ("timestamp", ir.Type("timestamp")),
    ("timestamptz", ir.Type("timestamptz")),
    ("json", ir.Type("json")),
    ("binary", ir.Type("binary")),
)


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join([_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)])


def types_table() -> str:
    ds = all_dialects()
    rows = [
        [f"`{written}`"] + [f"`{d.render(d.data_type(t, nullable=False), pretty=False)}`" for d in ds]
        for written, t in TYPE_EXAMPLES
    ]
    return _table(["portable"] + [d.name for d in ds], rows)


def flags_table() -> str:
    ds = all_dialects()

    def cell(value: object) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "-" if value is None else str(value)

    rows = [[f"`{flag}`", meaning] + [cell(getattr(d, flag)) for d in ds] for flag, meaning in CAPABILITIES]
    return _table(["flag", "meaning"] + [d.name for d in ds], rows)


def hash_table() -> str:
    ds = all_dialects()
    keys = [("md5", "hex"), ("md5", "binary"), ("sha256", "hex"), ("sha256", "binary")]
    rows = [[d.name] + [f"`{d.hash_functions[k].replace('__value__', 'x')}`" for k in keys] for d in ds]
    return _table(["dialect", "md5 hex", "md5 binary", "sha256 hex", "sha256 binary"], rows)


def options_table() -> str:
    ds = all_dialects()
    rows = [
        [f"`{o.replace('_', ' ')}`"] + ["yes" if o in d.physical_options else "warning W401" for d in ds]
        for o in PHYSICAL_OPTIONS
    ]
    return _table(["option"] + [d.name for d in ds], rows)
