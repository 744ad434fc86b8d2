"""Live MIDI in: a human's notes as onsets for the running take (rolypoly~'s listening, by MIDI).

Where MIDI out is frame-stamped on JACK (:mod:`.midi_jack`), MIDI in is too: a port "dd_live in" on MIDI out's
JACK client, whose C callback records each event with the frame it came at, and a thread that waits for them (woken by
the callback, no polling) and puts each frame on time.perf_counter through the player's clock. A note is
then stamped where it was played, to the sample; python-rtmidi's JACK input stamps every event of a cycle
with the time its callback ran, a whole period off at worst (23 ms at 1,024 frames).

Elsewhere python-rtmidi, opened lazily: a virtual input named "dd_live in" or an existing port by name, on the same
API choice as MIDI out ($DD_LIVE_MIDI_API), read by a :class:`dd_live.ports.rtmidi_in.RtmidiReader` thread (not a
callback on rtmidi's thread, which on JACK is the server's). Either way it does one thing per note-on: stamps it on
time.perf_counter (the MIDI player moves it onto its own clock) and hands it to ``on_onset`` (the daemon's
:meth:`dd_live.live.takes.Takes.onset_at`), which appends it to the take if one runs. Notes played outside a take
are the human playing, not errors: they are counted and dropped. Note-ons within MERGE_S of the previous onset (the
notes of a chord) make no new onset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..errors import BackendError, one_line
from .midi_out import PORT_NAME, close_rtmidi, open_rtmidi
from .rtmidi_in import RtmidiReader
from ..worker import RateLog, Worker

log = logging.getLogger("dd_live.midi")

IN_PORT_NAME = f"{PORT_NAME} in"
#: note-ons closer than this (s) to the previous onset are the same onset: a chord, a flam, a double trigger
#: (an onset detector's mask time, as bonk~'s)
MERGE_S = 0.030


class JackNotes(Worker):
    """MIDI in through JACK itself: a :class:`dd_live.ports.midi_jack.JackMidiReader` port "dd_live in" on MIDI
    out's JACK client (so "dd_live:dd_live in"; connected to JACK output ``spec`` unless it is "virtual"), recorded
    by the same process callback that writes MIDI out, and a thread that waits for its
    events and calls ``handle(message bytes, time.perf_counter)`` for each, its frame put on ``player``'s clock
    (``frames_now``, ``rate``, ``perf_of``: a frame-stamped MIDI player)."""

    def __init__(self, spec: str, handle: Callable[[list[int], float], None], player, *, name: str) -> None:
        from .midi_jack import reader_beside

        super().__init__()
        self.name, self.handle, self.player = name, handle, player
        self.reader = reader_beside(getattr(player, "jack_port", None), IN_PORT_NAME, (IN_PORT_NAME, IN_PORT_NAME),
                                    connect=None if spec == "virtual" else spec)
        self.where = f"JACK port {self.reader.name!r} (frame-stamped)" + ("" if spec == "virtual" else f" <- {spec!r}")
        self._bad = RateLog(log)

    def _run(self) -> None:
        from .midi_jack import relay

        player = self.player
        relay(self.reader, player.frames_now,
              lambda frame, data: self.handle(list(data), player.perf_of(frame / player.rate)),
              self._stop, self._bad, self.name)

    def _wake(self) -> None:
        self.reader.wake()

    def _release(self) -> None:
        self.reader.close()


class MidiInput:
    """An input of the daemon: a MIDI port whose note-ons become onsets (JACK's own with a frame-stamped
    ``player``, else python-rtmidi's). ``start`` opens it (BackendError if no MIDI system is usable), ``close``
    (idempotent; ``stop`` is the same) releases it."""

    name = "dd-midi-in"

    def __init__(self, spec: str, on_onset: Callable[[float], bool], *,
                 clock: Callable[[], float] = time.perf_counter, player=None) -> None:
        """``on_onset(t)``: an onset at clock time ``t`` (s); returns whether a take kept it. ``player``: the MIDI
        player, whose JACK frame clock (``frames_now``, set when it is frame-stamped) MIDI in then reads on."""
        self.spec, self.on_onset, self.clock, self.player = spec, on_onset, clock, player
        self._port = None
        self._reader: RtmidiReader | JackNotes | None = None
        self.where = ""
        self.kept = 0
        self.dropped = 0
        self.merged = 0
        self._last = float("-inf")

    @property
    def error(self) -> BaseException | None:
        return None if self._reader is None else self._reader.error

    def is_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def start(self) -> None:
        if getattr(self.player, "frames_now", None) is not None:
            try:
                self._reader = JackNotes(self.spec, self._on_message, self.player, name=self.name)
            except BackendError as err:   # a name JACK does not know whole: rtmidi matches part of one
                log.info("MIDI in: not through JACK's own port (%s); through rtmidi", one_line(err))
            else:
                self.where = self._reader.where
                self._reader.start()
                return
        self._port, self.where = open_rtmidi(self.spec, direction="in", name=IN_PORT_NAME)
        self._reader = RtmidiReader(self._port, self._on_message, name=self.name, clock=self.clock)
        self._reader.start()

    def _on_message(self, msg: list[int], t: float) -> None:
        """The reader's thread: a note-on (velocity > 0, any channel) is an onset at ``t`` (s, on ``clock``)."""
        if len(msg) >= 3 and msg[0] & 0xF0 == 0x90 and msg[2] > 0:
            if t - self._last < MERGE_S:
                self.merged += 1
                return
            self._last = t
            try:
                kept = self.on_onset(t)
            except Exception:  # counted as dropped; the reader thread goes on
                log.exception("MIDI in: an onset could not be recorded")
                kept = False
            if kept:
                self.kept += 1
            else:
                self.dropped += 1

    def stop(self) -> None:
        self.close()

    def revive(self) -> None:
        """Open the port again (the supervisor's call after the reader died); BackendError if it cannot."""
        self.close()
        self.start()

    def join(self, timeout: float | None = None) -> None:
        if self._reader is not None:
            self._reader.join(timeout)

    def close(self) -> None:
        reader = self._reader
        if isinstance(reader, JackNotes):
            reader.close()
        elif reader is not None:
            reader.stop()
            reader.join(2.0)
        port, self._port = self._port, None
        if port is not None:
            close_rtmidi(port, "MIDI in")
