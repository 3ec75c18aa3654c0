"""modelc: a concise language for warehouse models, compiled to SQL for five engines.

`modelc.load(path_or_text)` and `modelc.compile(model, dialect)` (docs/api.md) are imported on
first use, so `import modelc` (and the CLI's start-up) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["__version__", "compile", "load"]

if TYPE_CHECKING:
    from .api import compile, load


def __getattr__(name: str):
    if name in ("load", "compile"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'modelc' has no attribute {name!r}")
