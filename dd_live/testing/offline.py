"""Virtual time for a player thread's loop run in the test's own thread: time moves only when the player reads its
clock (by :data:`LOOK_S`) or waits on its bell (up to the next scheduled event), and events (a host's clock
messages, a halt, the end of the run) fire at their virtual times. What a test judges is then where each message
lands, never how busy the machine was."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from types import SimpleNamespace

LOOK_S = 1e-5       # how far virtual time moves each time the clock is read (s)


class Offline:
    """Virtual time (s) and what is due in it; :meth:`now` is a player's ``clock``."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = float(start)
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def at(self, t: float, fn: Callable[[], None]) -> None:
        """Call ``fn`` once virtual time reaches ``t`` (s)."""
        heapq.heappush(self._due, (float(t), next(self._order), fn))

    def _fire(self) -> None:
        while self._due and self._due[0][0] <= self.t:
            heapq.heappop(self._due)[2]()

    def now(self) -> float:
        self.t += LOOK_S
        self._fire()
        return self.t

    def wait(self, seconds: float | None = None) -> bool:
        """A wait on a bell: until ``seconds`` have passed or the next event is due (it may ring the bell),
        whichever comes first. Always False (not rung), so the waiter looks again, as after a spurious wake."""
        until = self.t + max(seconds if seconds is not None else 1.0, LOOK_S)
        self.t = min(until, self._due[0][0]) if self._due else until
        self._fire()
        return False

    def bell(self) -> SimpleNamespace:
        """A stand-in for a player's ``threading.Event`` bell whose waits move virtual time."""
        return SimpleNamespace(wait=self.wait, set=lambda: None, clear=lambda: None, is_set=lambda: False)
