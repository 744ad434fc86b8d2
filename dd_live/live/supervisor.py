"""The one owner of the daemon's parts' lives (thread ``dd-supervisor``): a policy per part, so the show goes on.

A core part (OSC, the trainer, the generator) that dies ends the daemon with one line: without them nothing can be
rated or proposed, and the session store they write is safer closed. Any other part (MIDI out and in, audio out,
the host's clock, Link, the web page, automatic takes, songs) that dies is logged once with its cause, told to the
front ends (``/dd/error part`` and ``/dd/part``) and revived (:meth:`dd_live.worker.Worker.revive`: a new
thread on the same port, or the port opened again) after a backoff that doubles from BACKOFF_S[0] to
BACKOFF_S[-1]; a part that then runs SETTLED_S starts its backoff again. Meanwhile the rest plays on: a MIDI
player following a host whose clock input died keeps the held tempo (:class:`dd_live.ports.clock.ClockFollower`
extrapolates its line), so the drums keep playing at the last tempo until the clock is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import one_line
from ..worker import Worker

log = logging.getLogger("dd_live.daemon")

#: every part by thread name: (what a performer calls it, whether its death ends the daemon)
PARTS: dict[str, tuple[str, bool]] = {
    "dd-osc": ("OSC", True),
    "dd-trainer": ("the trainer", True),
    "dd-generator": ("the loop generator", True),
    "dd-supervisor": ("the supervisor", True),
    "dd-midi": ("MIDI out", False),
    "dd-audio": ("audio out", False),
    "dd-midi-in": ("MIDI in", False),
    "dd-audio-in": ("audio in", False),
    "dd-clock": ("the host's MIDI clock in", False),
    "dd-link": ("Ableton Link", False),
    "dd-web": ("the web page", False),
    "dd-takes": ("automatic takes", False),
    "dd-song": ("song mode", False),
    "dd-song-play": ("the song player", False),
}
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)   # waits before each revival of a part that keeps dying (s)
SETTLED_S = 30.0                                      # a part running this long after a revival starts afresh
POLL_S = 0.25                                         # how often the parts are looked at (s): within half the first backoff


def policy(part) -> tuple[str, bool]:
    """A part's name as a performer says it, and whether its death ends the daemon (unknown parts: not core)."""
    return PARTS.get(part.name, (part.name, False))


def front_ends(replies) -> Callable[[str, str, str], None]:
    """The supervisor's ``tell`` for a daemon's :class:`dd_live.osc.replies.Replies`: ``/dd/error part`` when a
    part failed (logged already), and ``/dd/part`` always."""

    def tell(name: str, state: str, message: str) -> None:
        if state == "failed":
            replies.error("part", message, logged=True)
        replies.send("/dd/part", name, state, message)

    return tell


@dataclass
class _Watch:
    down_since: float | None = None   # when it was found dead (None: running)
    next_try: float = 0.0             # when to revive it next
    fails: int = 0                    # deaths since it last settled
    back_at: float = 0.0              # when it was last revived


class Supervisor(Worker):
    """Looks at ``parts()`` every POLL_S: ``fatal`` is set (one line) when a core part dies; others are revived.
    ``tell(name, state, message)`` reaches the front ends (state "failed", "restarted"). ``check`` runs one look
    (tests call it with their own ``now``)."""

    name = "dd-supervisor"

    def __init__(self, parts: Callable[[], list], tell: Callable[[str, str, str], None], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.parts, self.tell, self.clock = parts, tell, clock
        self.fatal: str | None = None
        self.revivals = 0
        self._watch: dict[int, _Watch] = {}

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self.check(self.clock())

    def stop(self) -> None:
        """Stop looking, and wait for a look in progress to end, so nothing is revived once the parts stop."""
        super().stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self.join(2.0)

    def check(self, now: float) -> None:
        for part in self.parts():
            if part is self or self._stop.is_set():
                continue
            w = self._watch.setdefault(id(part), _Watch())
            err = part.error
            if err is None and part.is_alive():
                if w.fails and w.down_since is None and now - w.back_at > SETTLED_S:
                    w.fails = 0
                continue
            cause = one_line(err) if err is not None else "stopped by itself"
            said, core = policy(part)
            if core:
                if self.fatal is None:
                    self.fatal = f"{part.name} failed: {cause}" if err is not None else f"{part.name} {cause}"
                continue
            if w.down_since is None:
                w.down_since = now
                w.next_try = now + BACKOFF_S[min(w.fails, len(BACKOFF_S) - 1)]
                log.error("%s failed: %s; restarting it in %.1f s", said, cause, w.next_try - now)
                self._tell(part.name, "failed", f"{said} failed: {cause}; restarting it")
            elif now >= w.next_try:
                w.fails += 1
                try:
                    part.revive()
                except Exception as err2:
                    w.next_try = now + BACKOFF_S[min(w.fails, len(BACKOFF_S) - 1)]
                    log.warning("%s could not restart: %s; trying again in %.1f s", said, one_line(err2),
                                w.next_try - now)
                    continue
                w.down_since, w.back_at = None, now
                self.revivals += 1
                log.warning("%s is running again", said)
                self._tell(part.name, "restarted", f"{said} is running again")

    def _tell(self, name: str, state: str, message: str) -> None:
        try:
            self.tell(name, state, message)
        except Exception as err:  # telling must not stop the looking
            log.debug("could not tell the front ends: %s", err)
