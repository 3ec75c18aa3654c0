"""Engines `modelc run`, `modelc test` and `modelc show` execute on, chosen by the target URL.

    duckdb:///path.duckdb   (default: MODEL.duckdb next to the model)   embedded, no extra
    chdb:///path/to/dir                                                  extra `chdb`
    postgresql://user@host:5432/db                                       extra `postgres`
    snowflake://account/database/schema?warehouse=W                      extra `snowflake`
    bigquery://project/dataset                                           extra `bigquery`
    clickhouse://host:8123/database                                      extra `clickhouse`
    redshift://user@host:5439/database                                   extra `redshift`

Each adapter is one small module following `base.Target`; connector packages are imported only when
their target is opened, and a missing one is a RunError naming the extra to install.
"""

from __future__ import annotations

import importlib

from .base import Result, RunError, Target

_REGISTRY = {
    "duckdb": "duckdb:DuckDBTarget",
    "chdb": "chdb:ChdbTarget",
    "postgresql": "postgres:PostgresTarget",
    "postgres": "postgres:PostgresTarget",
    "snowflake": "snowflake:SnowflakeTarget",
    "bigquery": "bigquery:BigQueryTarget",
    "clickhouse": "clickhouse:ClickHouseTarget",
    "redshift": "redshift:RedshiftTarget",
}


def scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "duckdb"


def target_class(url: str) -> type[Target]:
    name = scheme(url)
    if name not in _REGISTRY:
        known = ", ".join(f"{s}://" for s in _REGISTRY if s != "postgres")
        raise RunError(f"target `{url.split('://', 1)[0]}://...`: unknown kind of target (known: {known})")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def open_target(url: str, connect: bool = True) -> Target:
    """The target at `url`, connected (or only parsed and checked, `connect=False`)."""
    cls = target_class(url)
    try:
        return cls(url, connect=connect)
    except RunError:
        raise
    except Exception as exc:  # the connector's own error, on one line (URLs with credentials are refused earlier)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"cannot open target {url}: {first}") from None


__all__ = ["Result", "RunError", "Target", "open_target", "scheme", "target_class"]
