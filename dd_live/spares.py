"""Work buffers kept for as many computations as run at once, not one for every thread that ever ran one.

Reused buffers save the page faults of fresh large allocations (they cost as much as the arithmetic), but kept
per thread they add up: the daemon's work threads, its generator and its trainer each kept a set of MFCC buffers
and a mixing scratch of their own. A :class:`Spares` is a process's free list of one kind of buffer: a
computation takes one (or makes one, if none is free or the free one does not fit) and gives it back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Spares(Generic[T]):
    """A free list of buffers of one kind, shared by every thread; safe to use from any thread."""

    def __init__(self) -> None:
        self._free: list[T] = []
        self._lock = threading.Lock()

    def take(self, fits: Callable[[T], bool], make: Callable[[], T]) -> T:
        """A free buffer that ``fits``, else one ``make()`` makes (a free one that does not fit is dropped for it:
        the sizes asked for change rarely); nobody else's until :meth:`give`."""
        with self._lock:
            spare = self._free.pop() if self._free else None
        return spare if spare is not None and fits(spare) else make()

    def give(self, buffer: T) -> None:
        with self._lock:
            self._free.append(buffer)

    def __len__(self) -> int:
        """Buffers free now (as many as computations ran at once, once they are all done)."""
        return len(self._free)

    def clear(self) -> None:
        with self._lock:
            self._free.clear()
