"""Ableton Link (``serve --sync link``, issue 17), through the optional extra ``pip install 'dd_live[link]'``
(LinkPython-extern, import name ``link``; its bundled Link is GPLv2+ and is never vendored here).

:class:`LinkFollower` answers what :class:`dd_live.ports.clock.ClockFollower` answers (running, the line from
song position in MIDI ticks to time, the tempo), so the MIDI player follows either the same way. A thread
(``dd-link``) reads the Link session every POLL_S: its tempo, the beat at the current Link time for a quantum of
one bar (so bar lines agree with every peer's) and, with start/stop sync, whether it plays; Link's clock is put
onto the player's clock by the offset between the two read together. A start, a stop, or a jump of the timeline
(a peer moved it) is reported through ``on_change``, as a MIDI clock's Start, Stop and Song Position Pointer are,
and so is a new tempo ("tempo").

Link multicasts on every network interface: tests use a fake session with the binding's API, never a real one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..errors import InputError
from .clock import TEMPO_STEP, TICKS_PER_BEAT, OnTheLine
from ..worker import Worker

POLL_S = 0.002
JUMP_TICKS = 1.0            # the timeline moved by more than this (ticks) between two reads: a jump
INSTALL = "pip install 'dd_live[link]'"


def _binding():
    try:
        import link
    except ImportError:
        raise InputError(f"--sync link needs Ableton Link's Python binding: {INSTALL} (LinkPython-extern; "
                         "Link is GPLv2+)") from None
    return link


class LinkFollower(Worker, OnTheLine):
    """A Link session followed as a clock. ``session``: an object with the binding's API (``link.Link``), made
    from the extra when None. ``clock``: the player's clock (s), set before :meth:`start`."""

    name = "dd-link"

    def __init__(self, *, on_change: Callable[[str], None] | None = None, bpm: float = 120.0, quantum: int = 4,
                 session=None, clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__()
        if session is None:
            session = _binding().Link(float(bpm))
        self.link, self.on_change, self.quantum, self.clock = session, on_change, int(quantum), clock
        self._lock = threading.Lock()
        self._line: tuple[float, float] | None = None
        self._read_at = 0.0                  # the player-clock time of the last read
        self._told = float(bpm)              # the tempo last reported
        self.running = False
        self.where = "Ableton Link"

    def start(self) -> None:
        self.link.enabled = True
        self.link.startStopSyncEnabled = True
        self.poll()
        super().start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(POLL_S)

    def poll(self) -> None:
        """Read the session once (the dd-link thread; tests call it directly)."""
        before = self.clock()
        micros = self.link.clock().micros()
        offset = (before + self.clock()) / 2 - micros / 1e6          # the player's clock minus Link's
        state = self.link.captureSessionState()
        tempo = float(state.tempo())
        beat = float(state.beatAtTime(micros, self.quantum))
        playing = bool(state.isPlaying())
        b = 60.0 / (tempo * TICKS_PER_BEAT)                          # seconds per tick
        line = (micros / 1e6 + offset - b * beat * TICKS_PER_BEAT, b)
        kind = None
        with self._lock:
            old = self._line
            if playing != self.running:
                kind = "start" if playing else "stop"
            elif old is not None and abs(tempo - 60.0 / (TICKS_PER_BEAT * old[1])) > 1e-6 and \
                    abs(tempo - self._told) > TEMPO_STEP:
                kind, self._told = "tempo", tempo
            elif old is not None and playing:
                # where the old line and the new put "now" differ by what a tempo change since the last read
                # explains at most, unless the timeline jumped
                at = micros / 1e6 + offset
                drift = (at - self._read_at) * abs(1 / b - 1 / old[1])
                if abs((at - old[0]) / old[1] - (at - line[0]) / b) > JUMP_TICKS + drift:
                    kind = "position"
            self._line, self.running, self._read_at = line, playing, micros / 1e6 + offset
        if kind is not None and self.on_change is not None:
            self.on_change(kind)

    def line(self) -> tuple[float, float] | None:
        with self._lock:
            return self._line

    def _release(self) -> None:
        """Leave the session; idempotent."""
        try:
            self.link.enabled = False
        except Exception:  # the binding may be gone at exit
            pass
