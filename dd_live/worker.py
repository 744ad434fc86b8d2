"""What the daemon's threads share: :class:`Worker` (start / stop / join, and the error a thread
died of) and :class:`Gate`, which lets one of the trainer and the generator run torch code at a
time, the generator first, so neither oversubscribes the cores the user granted (``--threads``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import one_line
from .osc.osc import RateLimiter

log = logging.getLogger("dd_live.workers")


class RateLog:
    """A warning said at most once every ``every`` seconds, with how many were held back since: for a part that
    meets the same bad input thousands of times a second (one line, never a traceback per message)."""

    def __init__(self, logger: logging.Logger, every: float = 1.0) -> None:
        self.logger = logger
        self._limit = RateLimiter(rate=1.0 / every, burst=1)   # one token, back after ``every`` s
        self._held = 0
        self._lock = threading.Lock()                          # the limiter is not thread-safe by itself

    def warning(self, msg: str, *args) -> bool:
        """Log ``msg % args`` unless one was logged less than ``every`` s ago; True if it was logged."""
        with self._lock:
            if not self._limit.allow(None):
                self._held += 1
                return False
            held, self._held = self._held, 0
        self.logger.warning(msg + (f" (and {held} more like it)" if held else ""), *args)
        return True


class Gate:
    """One holder of torch work at a time; a waiting high-priority holder (the generator) goes first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting_high = 0

    @contextmanager
    def hold(self, *, high: bool) -> Iterator[None]:
        self.acquire(high=high)
        try:
            yield
        finally:
            self.release()

    def acquire(self, *, high: bool) -> None:
        with self._cond:
            if high:
                self._waiting_high += 1
            try:
                while self._busy or (not high and self._waiting_high):
                    self._cond.wait()
            finally:
                if high:
                    self._waiting_high -= 1
            self._busy = True

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def yield_to_high(self) -> None:
        """Called by the low-priority holder between chunks of work."""
        with self._cond:
            if not self._waiting_high:
                return
        self.release()
        self.acquire(high=False)


class Worker:
    """start/stop/join around a ``_run`` method."""

    name = "dd-worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as err:  # recorded for the supervisor, which says it in one line; the thread ends
            self.error = err
            log.debug("%s stopped", self.name, exc_info=True)

    def revive(self) -> None:
        """Run again after the thread died (the supervisor's call): a new thread on the same resources. A part
        whose resources die with its thread opens them again first."""
        if self.is_alive():
            return
        self.error = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        self._wake()

    def _wake(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


def failure(workers) -> str | None:
    """One line naming the first of ``workers`` that died (its error) or ended by itself, or None."""
    for w in workers:
        err = w.error
        if err is not None:
            return f"{w.name} failed: {one_line(err)}"
        if not w.is_alive():
            return f"{w.name} stopped by itself"
    return None
