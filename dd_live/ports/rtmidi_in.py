"""python-rtmidi input read on a thread of our own, never on rtmidi's.

rtmidi calls a Python callback on its own thread, and on JACK that thread is JACK's process thread: a callback
waiting for the GIL (a busy daemon holds it for milliseconds) holds up the whole JACK graph, every client's audio
and the host's clock with it. So no callback is set: rtmidi queues each message in its own thread with the time
since the one before (no Python there), and :class:`RtmidiReader` collects them every POLL_S.

Each message's time is rtmidi's: the running sum of those deltas, put on ``clock`` by the smallest difference
ever seen between a message's collection time and that sum (a message is never collected before it came, so the
least-delayed one anchors the rest: a one-sided, minimum filter, as NTP's), so neither the poll nor a held-up
interpreter moves it. The queue is emptied every POLL_S while messages come, and every IDLE_POLL_S once none has
come for IDLE_AFTER_S (an input nobody plays cost 3.4% of a core at 2,000 polls a second, 0.8% at 200, in a
daemon on JACK): the anchor is kept across the quiet, so only the very first message the input ever gets can be
stamped up to IDLE_POLL_S late; the first of each later run is stamped as exactly as the rest and merely
handed on up to IDLE_POLL_S later.

Units: seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..errors import one_line
from ..worker import RateLog, Worker

log = logging.getLogger("dd_live.midi")

POLL_S = 0.0005             # how often the queue is emptied while messages come (s)
IDLE_POLL_S = 0.02          # ... and once none has come for IDLE_AFTER_S (s)
IDLE_AFTER_S = 2.0


class RtmidiReader(Worker):
    """Empties python-rtmidi input ``port`` every POLL_S and calls ``handle(message bytes, time on clock)`` for
    each message, in order, on this thread. ``stop``/``join`` end it; the port stays the caller's."""

    def __init__(self, port, handle: Callable[[list[int], float], None], *, name: str,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__()
        self.name = name
        self.port, self.handle, self.clock = port, handle, clock
        self._sum = 0.0                    # rtmidi's deltas so far (s)
        self._anchor = float("inf")        # min(collected - sum): where rtmidi's time is on ``clock``
        self._bad = RateLog(log)

    def stamp(self, delta: float, collected: float) -> float:
        """The time (s, on ``clock``) of a message that came ``delta`` s after the one before and was collected
        at ``collected``."""
        self._sum += max(0.0, float(delta))
        self._anchor = min(self._anchor, collected - self._sum)
        return self._sum + self._anchor

    def drain(self) -> int:
        """Hand every message queued now to ``handle`` (on the calling thread: this reader's own, or another
        worker's that polls instead of starting this one); returns how many there were."""
        get, clock = self.port.get_message, self.clock
        n = 0
        got = get()
        while got is not None:
            msg, delta = got
            t = self.stamp(delta, clock())
            n += 1
            try:
                self.handle(msg, t)
            except Exception as err:  # one bad message must not end the input
                self._bad.warning("%s: a message could not be handled (%s): %s", self.name, msg, one_line(err))
            got = get()
        return n

    @staticmethod
    def poll_interval(quiet_s: float) -> float:
        """How long to wait before emptying the queue again, ``quiet_s`` seconds after the last message (s)."""
        return POLL_S if quiet_s < IDLE_AFTER_S else IDLE_POLL_S

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if self.drain():
                last = now
            time.sleep(self.poll_interval(now - last))   # stop is seen within one poll; an Event's timed wait cost
                                                          # 4x the CPU of a sleep (a lock made and waited on each time)
