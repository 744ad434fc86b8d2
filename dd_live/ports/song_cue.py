"""A song's bars for the MIDI player (:meth:`dd_live.ports.midi_out.MidiPlayer.cue`): which bar plays next, and
the clock time each played bar began at, so a human's onsets can be placed in the song.

On its own tempo the player takes the bars in order from ``start`` and, at the song's end, again from
``start`` (each such return is a *pass*, counted). Following a host's clock it plays the bar the host is in
(its song position, in bars of the player's meter), and nothing past the song's end.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

LINES_KEPT = 64     # played bar lines remembered for placing onsets (a few takes' worth of late onsets)


class SongCue:
    """``bars``: per song bar (notes with beats from its line, bpm, beats); ``start``: the bar to begin at."""

    def __init__(self, name: str, bars: Sequence[tuple[list, float, int]], *, start: int = 0) -> None:
        if not bars:
            raise ValueError("a song needs at least one bar")
        self.name = name
        self._bars = list(bars)
        self.start = min(max(int(start), 0), len(self._bars) - 1)
        self._next = self.start
        self.passes = 0
        self._lines: deque[tuple[int, float, float]] = deque(maxlen=LINES_KEPT)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._bars)

    def take(self, bar: int | None = None) -> tuple[int, list, float, int] | None:
        """The next bar to play (the player's thread): (its index, notes, bpm, beats); ``bar``: the host's bar
        number instead of the next in order (None past the song's end)."""
        with self._lock:
            if bar is not None:
                if not 0 <= bar < len(self._bars):
                    return None
                k = int(bar)
            else:
                k = self._next
                if k >= len(self._bars):
                    k, self.passes = self.start, self.passes + 1
            self._next = k + 1
            return (k, *self._bars[k])

    def beats(self, k: int) -> int:
        """Bar ``k``'s beats."""
        with self._lock:
            return int(self._bars[k][2])

    def replace(self, bars: Sequence[tuple[list, float, int]]) -> None:
        """New notes for the same bars (after a take taught the drums): from each bar's next line."""
        with self._lock:
            if len(bars) != len(self._bars):
                raise ValueError("a song's bars are replaced by as many bars")
            self._bars = list(bars)

    def line(self, k: int, at: float, length: float) -> None:
        """Bar ``k`` began at clock time ``at`` and lasts ``length`` s (the player's thread)."""
        with self._lock:
            self._lines.append((int(k), float(at), float(length)))

    def place(self, t: float) -> tuple[int, float] | None:
        """Where clock time ``t`` fell in the song: (bar, share of it played, 0-1), from the latest bar line at or
        before ``t``; None before the first line played."""
        with self._lock:
            lines = list(self._lines)
        for k, at, length in reversed(lines):
            if at <= t:
                return k, min((t - at) / length, 1.0) if length > 0 else 0.0
        return None
