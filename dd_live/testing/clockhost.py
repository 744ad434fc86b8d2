"""A MIDI clock host on JACK, for the clock tests and ``dd-live bench live``: a JACK client "host:out" that queues
Start, clock ticks, Stop, Song Position Pointer and Continue, each stamped to its exact time (s on the server's
frame clock), and keeps every tick's (song position, time) to measure against. The notes a follower plays are
judged by :func:`grid_errors`: each note-on against the host's sixteenth nearest in time."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..ports.clock import CONTINUE, SPP, START, STOP, TICK, TICKS_PER_BEAT


class ClockHost:
    def __init__(self, name: str = "host") -> None:
        from ..ports.midi_jack import JackMidiPort

        self.port = JackMidiPort(name, "out")
        self.ticks: list[tuple[int, float]] = []
        self.position = 0

    def at(self, status: int, t: float, data: list[int] = ()) -> None:
        self.port.send_at([status, *data], t)

    def start(self, t: float) -> None:
        self.at(START, t)
        self.position = 0

    def play(self, t: float, bpm: float, beats: int) -> float:
        """Ticks at ``bpm`` for ``beats`` beats from ``t``; returns when the next would be."""
        period = 60.0 / bpm / TICKS_PER_BEAT
        for k in range(beats * TICKS_PER_BEAT):
            self.at(TICK, t + k * period)
            self.ticks.append((self.position, t + k * period))
            self.position += 1
        return t + beats * TICKS_PER_BEAT * period

    def stop(self, t: float) -> None:
        self.at(STOP, t)

    def pointer(self, t: float, sixteenth: int) -> None:
        self.at(SPP, t, [sixteenth & 0x7F, sixteenth >> 7])
        self.position = sixteenth * 6

    def resume(self, t: float) -> None:
        self.at(CONTINUE, t)

    def nearest(self, at: float) -> tuple[int, float]:
        """The host's sixteenth nearest in time to ``at``: (its step, its time)."""
        ticks = np.array(self.ticks, dtype=np.float64)
        six = ticks[ticks[:, 0] % 6 == 0]
        k = int(np.argmin(np.abs(six[:, 1] - at)))
        return int(six[k, 0]) // 6, float(six[k, 1])

    def close(self) -> None:
        self.port.close()


def grid_errors(host: ClockHost, note_times, *, skip=()) -> np.ndarray:
    """|note time - the host's nearest sixteenth| (s) for each of ``note_times`` not inside one of ``skip``'s
    (start, end) windows."""
    out = [abs(t - host.nearest(t)[1]) for t in note_times if not any(a <= t < b for a, b in skip)]
    return np.array(out, dtype=np.float64)


def collect(reader, until: float, *, clock) -> list[tuple[float, list[int]]]:
    """What a JACK MIDI ``reader`` hears, (s on its frame clock, bytes), until ``clock()`` (the host port's) passes
    ``until``."""
    out = []
    while True:
        out += [(frame / reader.rate, list(data)) for frame, data in reader.read()]
        if clock() > until:
            out += [(frame / reader.rate, list(data)) for frame, data in reader.read()]
            return out
        time.sleep(0.01)


def song_on_host(d, c, host: ClockHost, song: Path, *, bars: int = 5, bpm: float = 120.0
                 ) -> tuple[int, np.ndarray, int, int, int]:
    """A running daemon ``d`` (MIDI out ``virtual`` on a JACK server, ``sync="midi"`` on ``host``'s port; ``c``
    its client) plays ``song`` live while ``host`` starts and plays ``bars`` bars of 4/4 at ``bpm``. Returns (the
    host's messages JACK wrote late, each note-on's error against where the host's clock puts the song's note (s;
    bars 1 to ``bars`` - 1), note-ons heard there, note-ons the song has there, note-ons MIDI out dropped as too
    late to play: a machine that held its thread up)."""
    from ..ports.midi_jack import JackMidiReader
    from .harness import jack_connect

    reader = JackMidiReader("reader")
    try:
        if not jack_connect("dd_live:dd_live", "reader:in"):
            raise RuntimeError("MIDI out's JACK port did not appear")
        c.wait("/dd/candidate", 30)
        c.send("/dd/song/play", str(song))
        c.wait("/dd/song/playing", 120)
        cue = [[(n.beat * 4, n.pitch) for n in notes] for notes, _, _ in d.song_play.playing.cue._bars]
        t = host.port.clock() + 0.5
        host.start(t)
        end = host.play(t + 0.01, bpm, 4 * bars)
        host.stop(end)
        got = collect(reader, end + 0.5, clock=host.port.clock)
        late = host.port.late
        dropped = sum(getattr(o, "dropped_late", 0) for o in d.outputs)
    finally:
        reader.close()
    ticks = np.array(host.ticks, dtype=np.float64)            # the host's (position in ticks, time)
    want = [(float(np.interp((bar * 16 + six) * TICKS_PER_BEAT / 4, ticks[:, 0], ticks[:, 1])), pitch)
            for bar in range(1, bars) for six, pitch in cue[bar]]
    first, last = want[0][0] - 0.02, want[-1][0] + 0.02
    ons = [(t, m[1]) for t, m in got if m[0] == 0x99 and m[2] > 0 and first <= t <= last]
    errors = np.array([min((abs(t - w) for w, q in want if q == p), default=1.0) for t, p in ons])
    return late, errors, len(ons), len(want), dropped
