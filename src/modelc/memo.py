"""Values derived from a model object, kept for the next call with the same object.

Models are immutable, so what is built from one (its table plan, its load plans) can be reused by every
dialect and every run in a process. Keyed by the model's identity (hashing a whole model would cost more
than a lookup should) and an optional key; the model is held so its id cannot be reused while cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class PerModel(Generic[V]):
    """A bounded, thread-safe cache of values made from a model object (oldest entry evicted first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[tuple[int, Hashable], tuple[object, V]] = {}
        self._lock = threading.Lock()

    def get(self, model: object, make: Callable[[], V], key: Hashable = None) -> V:
        """The value for (`model`, `key`), made by `make()` (outside the lock) the first time."""
        slot = (id(model), key)
        with self._lock:
            hit = self._values.get(slot)
            if hit is not None and hit[0] is model:
                return hit[1]
        value = make()
        with self._lock:
            if len(self._values) >= self.size:
                self._values.pop(next(iter(self._values)))
            self._values[slot] = (model, value)
        return value
