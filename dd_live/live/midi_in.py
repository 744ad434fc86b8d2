"""Live MIDI in: a human's notes as onsets for the running take (rolypoly~'s listening, by MIDI).

python-rtmidi, opened lazily: a virtual input named "dd_live in" or an existing port by name, on the same
API choice as MIDI out ($DD_LIVE_MIDI_API). Its callback runs on rtmidi's own thread and does one thing per
note-on: stamps it with the clock the MIDI player uses (time.perf_counter) and hands it to ``on_onset``
(the daemon's :meth:`dd_live.live.takes.Takes.onset_at`), which appends it to the take if one runs. Notes
played outside a take are the human playing, not errors: they are counted and dropped. Note-ons within MERGE_S of the previous onset
(the notes of a chord) make no new onset.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from ..errors import BackendError
from .midi_out import PORT_NAME, _rtmidi_api

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
        try:
            rtmidi, api = _rtmidi_api()
        except ImportError as err:
            raise BackendError("MIDI in needs python-rtmidi (pip install python-rtmidi)") from err
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        apis = [api] if api is not None else [rtmidi.API_UNSPECIFIED]
        if api is None and rtmidi.API_UNIX_JACK in rtmidi.get_compiled_api():
            apis.append(rtmidi.API_UNIX_JACK)
        problems = []
        for a in apis:
            try:
                port = rtmidi.MidiIn(rtapi=a, name=IN_PORT_NAME)
                if self.spec == "virtual":
                    port.open_virtual_port(IN_PORT_NAME)
                    where = f"virtual port {IN_PORT_NAME!r} ({rtmidi.get_api_display_name(port.get_current_api())})"
                else:
                    names = port.get_ports()
                    match = [i for i, n in enumerate(names) if self.spec.lower() in n.lower()]
                    if not match:
                        raise BackendError(f"no MIDI input port matching {self.spec!r} "
                                           f"(ports: {', '.join(names) or 'none'})")
                    port.open_port(match[0])
                    where = f"port {names[match[0]]!r}"
            except BackendError:
                raise
            except Exception as err:  # rtmidi's errors differ by version
                problems.append(f"{rtmidi.get_api_display_name(a)}: {err}")
                continue
            port.set_callback(self._on_message)
            self._port, self.where = port, where
            return
        raise BackendError("no usable MIDI system for MIDI in (" + "; ".join(problems) + ")")

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
            try:
                port.cancel_callback()
                port.close_port()
            except Exception:  # the MIDI system may be gone at exit
                log.debug("closing MIDI in failed", exc_info=True)
