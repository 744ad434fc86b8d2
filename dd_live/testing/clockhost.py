"""A MIDI clock host on JACK, for the clock tests and ``dd-live bench live``: a JACK client "host:out" that queues
Start, clock ticks, Stop, Song Position Pointer and Continue, each stamped to its exact time (s on the server's
frame clock), and keeps every tick's (song position, time) to measure against. The notes a follower plays are
judged by :func:`grid_errors`: each note-on against the host's sixteenth nearest in time."""

from __future__ import annotations

import time

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
