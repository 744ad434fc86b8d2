"""Live MIDI in: a human's notes as onsets for the running take (rolypoly~'s listening, by MIDI).

python-rtmidi, opened lazily: a virtual input named "dd_live in" or an existing port by name, on the same
API choice as MIDI out ($DD_LIVE_MIDI_API). Its callback runs on rtmidi's own thread and does one thing per
note-on: stamps it with time.perf_counter (the MIDI player moves it onto its own clock) and hands it to
``on_onset`` (the daemon's :meth:`dd_live.live.takes.Takes.onset_at`), which appends it to the take if one runs. Notes
played outside a take are the human playing, not errors: they are counted and dropped. Note-ons within MERGE_S of the previous onset
(the notes of a chord) make no new onset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from .midi_out import PORT_NAME, close_rtmidi, open_rtmidi

log = logging.getLogger("dd_live.midi")

IN_PORT_NAME = f"{PORT_NAME} in"
#: note-ons closer than this (s) to the previous onset are the same onset: a chord, a flam, a double trigger
#: (an onset detector's mask time, as bonk~'s)
MERGE_S = 0.030


class MidiInput:
    """An input of the daemon: a python-rtmidi port whose note-ons become onsets. ``start`` opens it (BackendError
    if no MIDI system is usable), ``close`` (idempotent; ``stop`` is the same) releases it."""

    name = "dd-midi-in"

    def __init__(self, spec: str, on_onset: Callable[[float], bool], *,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        """``on_onset(t)``: an onset at clock time ``t`` (s); returns whether a take kept it."""
        self.spec, self.on_onset, self.clock = spec, on_onset, clock
        self._port = None
        self.where = ""
        self.kept = 0
        self.dropped = 0
        self.merged = 0
        self._last = float("-inf")

    @property
    def error(self) -> BaseException | None:
        return None

    def is_alive(self) -> bool:
        return self._port is not None

    def start(self) -> None:
        self._port, self.where = open_rtmidi(self.spec, direction="in", name=IN_PORT_NAME)
        self._port.set_callback(self._on_message)

    def _on_message(self, event, data=None) -> None:
        """rtmidi's thread: a note-on (velocity > 0, any channel) is an onset, now."""
        t = self.clock()
        msg = event[0]
        if len(msg) >= 3 and msg[0] & 0xF0 == 0x90 and msg[2] > 0:
            if t - self._last < MERGE_S:
                self.merged += 1
                return
            self._last = t
            try:
                kept = self.on_onset(t)
            except Exception:  # never let an exception into rtmidi's thread
                log.exception("MIDI in: an onset could not be recorded")
                kept = False
            if kept:
                self.kept += 1
            else:
                self.dropped += 1

    def stop(self) -> None:
        self.close()

    def join(self, timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            close_rtmidi(port, "MIDI in")
