"""A daemon's output or input without hardware, for the tests: it records what it is shown, how often it is
stopped, whether it is closed, its latency and the onset callback it was given, and can be made to fail (set
``error``)."""

from __future__ import annotations


class FakePort:
    """An output (``show``, ``play``, ``halt``, ``set_latency``) or an input (``on_onset``) of the daemon's."""

    def __init__(self, name: str = "dd-fake") -> None:
        self.name, self.error, self.closed, self.playing = name, None, False, False
        self.shown: list = []
        self.stops = 0
        self.latency: float | None = None      # seconds, once set_latency was called
        self.on_onset = None

    def is_alive(self) -> bool:
        return not self.closed

    def start(self) -> None:
        pass

    def show(self, loop) -> None:
        self.shown.append(loop)
        assert [(n.pitch, n.beat, n.velocity) for n in loop.notes]   # what a MIDI output reads

    def play(self) -> None:
        self.playing = True

    def phase(self, at: float | None = None) -> None:
        return None                                  # where it is in the bar: unknown

    def halt(self) -> None:
        self.playing = False

    def set_latency(self, s: float) -> None:
        self.latency = s

    def stop(self) -> None:
        self.stops += 1

    def join(self, timeout=None) -> None:
        pass

    def close(self) -> None:
        self.closed = True
