"""Target dialects by name. Adding one is one module and one line in `_REGISTRY`."""

from __future__ import annotations

import importlib

from ..diagnostics import closest
from .base import Dialect

_REGISTRY = {
    "bigquery": "bigquery:BigQuery",
    "clickhouse": "clickhouse:ClickHouse",
    "duckdb": "duckdb:DuckDB",
    "postgres": "postgres:Postgres",
    "redshift": "redshift:Redshift",
    "snowflake": "snowflake:Snowflake",
}
_instances: dict[str, Dialect] = {}


class UnknownDialectError(ValueError):
    def __init__(self, name: str) -> None:
        near = closest(name, _REGISTRY)
        hint = f"; did you mean `{near}`?" if near else ""
        super().__init__(f"unknown dialect `{name}`{hint} (valid: {', '.join(names())})")
        self.name = name
        self.suggestion = near


def names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get(name: str | Dialect) -> Dialect:
    """The dialect called `name` (case-insensitive); UnknownDialectError lists the valid names."""
    if isinstance(name, Dialect):
        return name
    key = str(name).strip().lower()
    if key not in _REGISTRY:
        raise UnknownDialectError(str(name))
    if key not in _instances:
        module, cls = _REGISTRY[key].split(":")
        _instances[key] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)()
    return _instances[key]


def all_dialects() -> tuple[Dialect, ...]:
    return tuple(get(n) for n in names())


__all__ = ["Dialect", "UnknownDialectError", "all_dialects", "get", "names"]
