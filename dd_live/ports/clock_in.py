"""MIDI clock in (``serve --sync midi``, issue 17): the host's clock, Start, Stop, Continue and Song Position
Pointer, stamped on the MIDI player's clock and handed to a :class:`dd_live.ports.clock.ClockFollower`.

On JACK (``DD_LIVE_MIDI_API=jack``, where the frame-stamped MIDI out runs) the messages come through
``jack_midi.c``'s reader, each with the frame it arrived at, into a port "dd_live:dd_live clock" of MIDI out's own
JACK client (its process callback records them: no second client for JACK to wake every cycle; a client of its own,
"dd_live_clock:in", if MIDI out's cannot take it); a thread (``dd-clock``)
waits for them (the reader's callback wakes it after the cycle they came in: no polling, which at 2,000 polls a
second cost 7% of a core with no clock coming) and puts them on the player's clock (JACK frames, unwrapped against
it). Elsewhere python-rtmidi's input (timing messages switched on: rtmidi drops them by default), emptied by the
same thread every CLOCK_POLL_S through a :class:`dd_live.ports.rtmidi_in.RtmidiReader`, which puts rtmidi's own
times on time.perf_counter, the clock the rtmidi player runs on (never a callback on rtmidi's thread: on JACK that
is the server's process thread, which a callback waiting for the GIL would hold up, and the host's clock with it).
``--clock-in NAME``: a port to read (JACK: an output's full name, connected to ours; rtmidi: part of an input port's
name), or ``virtual``: a port of our own called "dd_live clock" for the host to connect to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .clock import REALTIME, SPP, ClockFollower
from .rtmidi_in import RtmidiReader
from ..worker import RateLog, Worker

log = logging.getLogger("dd_live.midi")

CLOCK_PORT_NAME = "dd_live clock"
CLOCK_POLL_S = 0.0005     # rtmidi: how often its queue is emptied (s)


class ClockInput(Worker):
    """An input of the daemon: the host's MIDI clock into ``follower``. ``frames_now``: the JACK player's
    unwrapped frame clock (None: rtmidi, stamped with time.perf_counter); ``port``: its
    :class:`.midi_jack.JackMidiPort`, whose client carries the clock's port."""

    name = "dd-clock"

    def __init__(self, spec: str, follower: ClockFollower, *, frames_now: Callable[[], int] | None = None,
                 rate: float = 0.0, port=None) -> None:
        super().__init__()
        self.spec, self.follower, self.frames_now, self.rate, self.port = spec, follower, frames_now, rate, port
        self._reader = None
        self._port = None
        self._poller: RtmidiReader | None = None
        self.where = ""
        self.heard = 0
        self._bad = RateLog(log)

    def start(self) -> None:
        if self.frames_now is not None:
            from .midi_jack import reader_beside

            self._reader = reader_beside(self.port, CLOCK_PORT_NAME, (CLOCK_PORT_NAME.replace(" ", "_"), "in"),
                                         connect=None if self.spec == "virtual" else self.spec)
            self.where = f"JACK port {self._reader.name!r} (frame-stamped)"
            super().start()
            return
        from .midi_out import open_rtmidi

        self._port, self.where = open_rtmidi(self.spec, direction="in", name=CLOCK_PORT_NAME)
        self._port.ignore_types(sysex=True, timing=False, active_sense=True)
        self._poller = RtmidiReader(self._port, self._on_message, name=self.name)   # drained here, not started
        super().start()

    # ------------------------------------------------------------ the dd-clock thread

    def _run(self) -> None:
        poller = self._poller
        if poller is not None:
            while not self._stop.is_set():
                poller.drain()
                self._stop.wait(CLOCK_POLL_S)
            return
        self._run_jack()

    def _run_jack(self) -> None:
        from .midi_jack import relay

        rate = self._reader.rate
        relay(self._reader, self.frames_now, lambda frame, data: self._on_message(list(data), frame / rate),
              self._stop, self._bad, "MIDI clock")

    def _on_message(self, msg: list[int], t: float) -> None:
        """A message at ``t`` (s, the player's clock): clock, Start, Stop, Continue and Song Position go to the
        follower; the rest are not the clock's."""
        if msg and (msg[0] in REALTIME or msg[0] == SPP):
            self.heard += 1
            self.follower.feed(msg[0], t, bytes(msg[1:3]))

    def _wake(self) -> None:
        reader = self._reader
        if reader is not None:
            reader.wake()

    def _release(self) -> None:
        """Release the port; idempotent."""
        self._poller = None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        port, self._port = self._port, None
        if port is not None:
            from .midi_out import close_rtmidi

            close_rtmidi(port, "MIDI clock in")
