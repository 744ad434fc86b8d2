"""What the daemon's parts share: one lifecycle (:class:`Part`; :class:`Worker` is it for a thread of ours) and
:class:`Gate`, which lets one of the trainer and the generator run torch code at a time, the generator first, so
neither oversubscribes the cores the user granted (``--threads``)."""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class Part(Protocol):
    """One lifecycle for every part the daemon owns (threads, ports, streams), whoever runs its thread:

    - ``start()``: open what it needs and begin; BackendError or InputError in one line if it cannot.
    - ``stop()``: ask it to end; returns at once, never blocks; idempotent.
    - ``join(timeout)``: wait (up to ``timeout`` s) for it to have ended.
    - ``close()``: stop, join and release its port, socket or stream; idempotent, and safe on a part that never
      started or that failed.
    - ``revive()``: run again after it died (the supervisor's call); BackendError if it cannot.
    - ``error`` and ``is_alive()``: what the supervisor watches (the error it died of; whether it runs).
    """

    name: str

    @property
    def error(self) -> BaseException | None: ...
    def is_alive(self) -> bool: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def close(self) -> None: ...
    def revive(self) -> None: ...


def name_os_thread(name: str) -> None:
    """Give the calling thread ``name`` in the OS as well (Linux: its first 15 bytes, what ``top -H`` and
    /proc/PID/task/*/comm show, and ``dd-live bench live`` adds up CPU by); elsewhere nothing."""
    if sys.platform != "linux":
        return
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)   # PR_SET_NAME
    except (OSError, AttributeError):  # no prctl: the thread keeps the process's name
        pass


class Worker:
    """:class:`Part` around a ``_run`` method on a thread of its own; a subclass with a port or socket releases it
    in ``_release`` (called once the thread has ended, by :meth:`close`)."""

    name = "dd-worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        name_os_thread(self.name)
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

    def close(self, timeout: float = 2.0) -> None:
        """Stop, join (up to ``timeout`` s; not from its own thread) and release what it holds; idempotent."""
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self.join(timeout)
        self._release()

    def _release(self) -> None:
        """Release the port or socket this part holds (idempotent); nothing by default."""


class QueueWorker(Worker):
    """A :class:`Worker` running jobs one at a time, in order, from a queue of at most ``size`` (``_job``)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._jobs: queue.Queue = queue.Queue(maxsize=size)

    def _wake(self) -> None:
        try:
            self._jobs.put_nowait(None)
        except queue.Full:   # a job is waiting: the thread looks at its stop flag after it
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            job = self._jobs.get()
            if job is not None:
                self._job(job)

    def _job(self, job) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def failure(workers) -> str | None:
    """One line naming the first of ``workers`` that died (its error) or ended by itself, or None."""
    for w in workers:
        err = w.error
        if err is not None:
            return f"{w.name} failed: {one_line(err)}"
        if not w.is_alive():
            return f"{w.name} stopped by itself"
    return None
