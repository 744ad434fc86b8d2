"""Live MIDI out: the current candidate played in a loop at the session tempo.

The player thread keeps its own clock (time.perf_counter): it sleeps until about a millisecond before each event
and waits out the rest, so events leave within tens of microseconds of the grid. A new pattern or tempo takes
effect on the next bar line; stop and exit send note-offs and All Notes Off (CC 123).

The port is python-rtmidi's, opened lazily (:func:`open_port`): a virtual output named "dd_live" (CoreMIDI,
ALSA or JACK) or an existing port by name. $DD_LIVE_MIDI_API picks the rtmidi API (alsa, jack, coremidi, winmm).
With ``jack``, the port is :mod:`dd_live.ports.midi_jack`'s instead where its C writer builds: the player then runs
on JACK's frame clock and hands each message over :data:`LOOKAHEAD_S` ahead, stamped with the frame it must sound
at. With a follower (``serve --sync midi|link``) the bars are the host's instead (:mod:`.clock_sync`); ``latency``
shifts every note.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

from ..errors import BackendError, c_stderr
from ..worker import Worker
from .clock import TICKS_PER_BEAT
from ..loops.export import DRUM_CHANNEL as CHANNEL, NOTE_BEATS, Note
from .. import GRID

log = logging.getLogger("dd_live.midi")

PORT_NAME = "dd_live"
#: how far ahead the player hands messages to a frame-stamping port (JACK): the most its thread may be held up
#: (by the OS or the GIL, on a loaded machine) with notes still sounding on time; as SuperCollider's default
#: server latency. A loop shown less than this before a bar line starts at the bar line after.
LOOKAHEAD_S = 0.2
EARLY_S = 0.02          # a stamping port is handed a message up to this much before its hand-over time (s)
LATE_S = 0.005          # a port that sends at once: a note-on this late (s) is dropped, not played
_APIS = {"alsa": "API_LINUX_ALSA", "jack": "API_UNIX_JACK", "coremidi": "API_MACOSX_CORE", "winmm": "API_WINDOWS_MM"}


def bar_timeline(notes: Sequence[Note], bpm: float, beats: int) -> list[tuple[float, list[int]]]:
    """(seconds from the bar line, MIDI bytes) for one bar: note-ons and their note-offs, offs first on ties."""
    spb = 60.0 / bpm
    events: list[tuple[float, int, list[int]]] = []
    for n in notes:
        on = n.beat * spb
        events.append((on, 1, [0x90 | CHANNEL, n.pitch, n.velocity]))
        events.append((min(on + NOTE_BEATS * spb, beats * spb - 1e-4), 0, [0x80 | CHANNEL, n.pitch, 0]))
    events.sort(key=lambda e: (e[0], e[1]))
    return [(t, msg) for t, _, msg in events]


def _rtmidi_api():
    import rtmidi

    name = os.environ.get("DD_LIVE_MIDI_API", "").strip().lower()
    if not name:
        return rtmidi, None
    if name not in _APIS:
        raise BackendError(f"DD_LIVE_MIDI_API={name!r}: use one of {', '.join(_APIS)}")
    return rtmidi, getattr(rtmidi, _APIS[name])


def open_player(spec: str, *, bpm: float, follower=None, latency: float = 0.0, clock_out: bool = False) -> MidiPlayer:
    """A :class:`MidiPlayer` on port ``spec`` (see :func:`open_port`), not yet started; BackendError if none.
    With $DD_LIVE_MIDI_API=jack, a frame-stamped JACK port (:mod:`.midi_jack`) where its writer builds."""
    from . import midi_jack

    if os.environ.get("DD_LIVE_MIDI_API", "").strip().lower() == "jack":
        if midi_jack.available():
            port = midi_jack.JackMidiPort(PORT_NAME, PORT_NAME, connect=None if spec == "virtual" else spec)
            player = MidiPlayer(port.send, bpm=bpm, close_port=port.close, where=port.where, clock=port.clock,
                                send_at=port.send_at, cancel=port.cancel, lookahead=LOOKAHEAD_S, follower=follower,
                                latency=latency, clock_out=clock_out)
            player.frames_now, player.rate, player.jack_port = port.frames, port.rate, port   # clock in, MIDI in
            player.written_late = lambda: port.late                   # JACK wrote after their frame (missed cycles)
            return player
        log.info("the frame-stamped JACK MIDI writer is not available (no C compiler or libjack): MIDI out uses "
                 "rtmidi's JACK API, a JACK period's resolution")
    send, close, where = open_port(spec)
    return MidiPlayer(send, bpm=bpm, close_port=close, where=where, follower=follower, latency=latency,
                      clock_out=clock_out)


def open_rtmidi(spec: str, *, direction: str, name: str):
    """A python-rtmidi port: ``direction`` "out" or "in", ``spec`` "virtual" (a virtual port called ``name``) or
    part of an existing port's name. Tries $DD_LIVE_MIDI_API's API, else the default, then JACK. Returns
    (port, description); BackendError, with what is missing and how to get it, if no MIDI system is usable."""
    try:
        rtmidi, api = _rtmidi_api()
    except ImportError as err:
        raise BackendError(f"MIDI {direction} needs python-rtmidi (pip install python-rtmidi)") from err
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never let libjack start a server behind the user's back
    apis = [api] if api is not None else [rtmidi.API_UNSPECIFIED]
    if api is None and rtmidi.API_UNIX_JACK in rtmidi.get_compiled_api():
        apis.append(rtmidi.API_UNIX_JACK)  # ALSA's sequencer is missing in containers; JACK may be running
    kind = rtmidi.MidiOut if direction == "out" else rtmidi.MidiIn
    problems = []
    for a in apis:
        with c_stderr(f"MIDI {direction}"):      # libasound's and libjack's complaints: the BackendError says it
            found = _try_rtmidi(kind, a, name, spec, direction, problems)
        if found is not None:
            return found
    raise BackendError(f"no usable MIDI system for MIDI {direction} (" + "; ".join(problems) + "); on Linux load "
                       f"snd-seq or start a JACK server (jackd -d dummy), or run with --midi-{direction} none")


def _try_rtmidi(kind, a, name: str, spec: str, direction: str, problems: list[str]):
    """One rtmidi API's port for ``spec``: (port, description), or None with why in ``problems``."""
    import rtmidi

    port = None
    try:
        port = kind(rtapi=a, name=name)
        if spec == "virtual":
            port.open_virtual_port(name)
            return port, f"virtual port {name!r} ({rtmidi.get_api_display_name(port.get_current_api())})"
        names = port.get_ports()
        match = [i for i, n in enumerate(names) if spec.lower() in n.lower()]
        if not match:
            raise BackendError(f"no MIDI {direction}put port matching {spec!r} (ports: {', '.join(names) or 'none'})")
        port.open_port(match[0])
        return port, f"port {names[match[0]]!r}"
    except BackendError:
        raise
    except Exception as err:  # rtmidi.SystemError, InvalidPortError, ... differ by version
        problems.append(f"{rtmidi.get_api_display_name(a)}: {err}")
        del port                  # a failed client is closed here, inside c_stderr (libjack speaks as it goes)
        return None


def close_rtmidi(port, what: str) -> None:
    """Cancel a python-rtmidi input's callback and close it; a MIDI system already gone is logged, not raised."""
    try:
        port.cancel_callback()
        port.close_port()
    except Exception:  # the MIDI system may be gone at exit
        log.debug("closing %s failed", what, exc_info=True)


def open_port(spec: str) -> tuple[Callable[[list[int]], None], Callable[[], None], str]:
    """Open MIDI out ``spec`` ("virtual" or part of a port name); returns (send, close, description)."""
    out, where = open_rtmidi(spec, direction="out", name=PORT_NAME)
    lock = threading.Lock()

    def send(msg: list[int]) -> None:
        with lock:
            out.send_message(msg)

    return send, out.close_port, where


class MidiPlayer(Worker):
    """The player thread, an output of the daemon: loops the shown loop's notes at its tempo through
    ``send``; ``close_port`` (called once by :meth:`close`) releases the port."""

    name = "dd-midi"

    def __init__(self, send: Callable[[list[int]], None], *, beats: int = GRID.beats, bpm: float = 120.0,
                 clock: Callable[[], float] = time.perf_counter, close_port: Callable[[], None] | None = None,
                 where: str = "", send_at: Callable[[list[int], float], None] | None = None,
                 cancel: Callable[[], None] | None = None, lookahead: float = 0.0, follower=None,
                 latency: float = 0.0, clock_out: bool = False) -> None:
        """``where``: the port, in words (for the log). A port that stamps messages with their time gives
        ``send_at(msg, at)`` (``at`` on ``clock``), ``cancel()`` (forget what is queued) and how far ahead
        (``lookahead``, s) it wants them; ``send`` then still sends at once. ``follower``: a
        :class:`dd_live.ports.clock.ClockFollower` whose host clock places the bars (its stamps on ``clock``;
        None: the loop's own tempo). ``latency`` (s): every note this much later (earlier if negative).
        ``clock_out``: on its own tempo, also send MIDI clock (24 ticks a quarter note), Start at the first bar
        line and Stop on a halt, for a DAW or sampler to follow."""
        super().__init__()
        self.follower = follower
        self.latency = float(latency)
        self.clock_out = bool(clock_out) and follower is None
        self.frames_now: Callable[[], int] | None = None   # a JACK port's frame clock (MIDI clock in stamps on it)
        self.jack_port, self.rate = None, 0.0   # that port (a JackMidiPort: MIDI in's joins its client), its rate
        self._transport = 0              # raised by transport_changed(): the host started, stopped or moved
        self.send, self.clock = send, clock
        self._send_at, self._cancel, self.lookahead = send_at, cancel, lookahead
        self._offset = clock() - time.perf_counter()   # this clock minus time.perf_counter (s), kept by the thread
        self._close_port = close_port
        self.where = where
        self._lock = threading.Lock()
        self._pending: tuple[list[Note], float, int] | None = None
        self._notes: list[Note] = []
        self._bpm = bpm
        self._beats = beats
        self._playing = follower is not None   # following a host: armed, it plays while the host's transport runs
        self._bell = threading.Event()   # rung by every control call and by stop()
        self._sounding: set[int] = set()
        self._bar: tuple[float, float] | None = None   # (clock time of the playing bar's line, its length in s)
        self._cue = None                 # a song playing instead of the loop (cue()), and the loop to go back to
        self._cue_bar: int | None = None
        self._after: tuple | None = None
        self.sent = 0
        self.dropped_late = 0            # note-ons whose time had passed when the thread could hand them over
        self.written_late: Callable[[], int] = lambda: 0   # a stamping port's messages written after their frame

    # ------------------------------------------------------------ control (any thread)

    def show(self, loop) -> None:
        """Play ``loop`` (a :class:`dd_live.groove.record.Loop`: its notes at its tempo) from the next bar line, or
        once a song playing (:meth:`cue`) is stopped."""
        with self._lock:
            bar = (list(loop.notes), float(loop.bpm), int(loop.pattern.beats))
            if self._cue is not None:
                self._after = bar
            else:
                self._pending = bar
        self._bell.set()

    def cue(self, song) -> None:
        """Play ``song`` (a :class:`dd_live.ports.song_cue.SongCue`) from the next bar line instead of the loop;
        None: back to the loop at the next bar line."""
        with self._lock:
            if song is not None and self._cue is None:
                self._after = self._pending or (self._notes, self._bpm, self._beats)
            elif song is None and self._cue is not None:
                self._pending, self._after = self._after, None
            self._cue = song
        self._bell.set()

    def play(self) -> None:
        with self._lock:
            self._playing = True
        self._bell.set()

    def halt(self) -> None:
        with self._lock:
            self._playing = False
        self._bell.set()

    @property
    def playing(self) -> bool:
        return self._playing

    def phase(self, at: float | None = None) -> float | None:
        """Share of the playing bar already played (0-1) now, or at ``at`` (s, time.perf_counter: MIDI in's
        stamps, put on this player's clock by :meth:`clock_of`, with no call into the port); None when halted."""
        bar = self._bar
        if not self._playing or bar is None:
            return None
        now = self.clock() if at is None else self.clock_of(at)
        return ((now - bar[0]) / bar[1]) % 1.0

    def clock_of(self, t: float) -> float:
        """Time ``t`` (s, time.perf_counter: MIDI in's stamps) on this player's clock, by its thread's offset."""
        return t + self._offset

    def perf_of(self, t: float) -> float:
        """Time ``t`` (s, this player's clock) on time.perf_counter: the inverse of :meth:`clock_of`."""
        return t - self._offset

    def _wake(self) -> None:
        self._bell.set()

    def transport_changed(self, kind: str = "") -> None:
        """The followed clock started, stopped, continued or moved (any thread): the player stops what it has
        queued at once and starts again where the host now is. A new tempo changes nothing here: every note is
        placed by the clock's line anyway."""
        if kind == "tempo":
            return
        self._transport += 1
        self._bell.set()

    def set_latency(self, seconds: float) -> None:
        """Every note from now ``seconds`` later (earlier if negative)."""
        self.latency = float(seconds)

    def _release(self) -> None:
        """Release the port (the thread sent all notes off as it ended); idempotent."""
        close, self._close_port = self._close_port, None
        if close is not None:
            close()

    # ------------------------------------------------------------ the thread

    def all_notes_off(self) -> None:
        if self._cancel is not None:
            self._cancel()             # notes handed over ahead of their time must not sound after a halt
        for pitch in sorted(self._sounding):
            self.send([0x80 | CHANNEL, pitch, 0])
        self._sounding.clear()
        self.send([0xB0 | CHANNEL, 123, 0])

    def _swap(self, bar: int | None = None) -> None:
        """At a bar line: the song's next bar (``bar``: the host's bar number), or the loop shown last."""
        with self._lock:
            if self._cue is not None:
                got = self._cue.take(bar)
                self._cue_bar = None if got is None else got[0]
                self._notes, self._bpm, self._beats = (got[1:] if got else ([], self._bpm, self._beats))
            elif self._pending is not None:
                self._notes, self._bpm, self._beats = self._pending
                self._pending = None

    def _line(self, at: float, length: float) -> None:
        """The playing bar began at clock time ``at`` and lasts ``length`` s."""
        self._bar = (at, length)
        cue, k = self._cue, self._cue_bar
        if cue is not None and k is not None:
            cue.line(k, at, length)

    def _wait_until(self, deadline: float, transport: int | None = None) -> bool:
        """Sleep until ``deadline`` (interruptible by stop/halt, and by the host's transport when ``transport``
        is the count it started from). A port that sends at once: the last ms is spun out for precision; one
        that stamps messages (JACK): up to EARLY_S early, never spinning (a third of the idle daemon's CPU)."""
        early = 0.0 if self._send_at is None else EARLY_S
        while True:
            now = self.clock()
            self._offset = now - time.perf_counter()
            left = deadline - now - early
            if transport is not None and transport != self._transport:
                return False
            if left <= 0:
                return True
            if self._stop.is_set() or not self._playing:
                return False
            if early or left > 0.0015:             # else: spin out the last millisecond
                self._bell.wait(left if early else left - 0.001)
                self._bell.clear()

    def too_late(self, msg: list[int], at: float) -> bool:
        """A note-on whose time ``at`` has passed when the thread hands it over (it woke late: a busy machine) is
        dropped, not played late (counted in ``dropped_late``); everything else goes (note-offs, clock). A port
        that stamps notes would write it at a later frame; one that sends at once (rtmidi) LATE_S late at most."""
        slack = 0.0 if self._send_at is not None else LATE_S
        if len(msg) == 3 and msg[0] & 0xF0 == 0x90 and msg[2] > 0 and at < self.clock() - slack:
            self.dropped_late += 1
            if self.dropped_late == 1 or self.dropped_late % 100 == 0:
                log.warning("MIDI out: %d notes dropped, the player woke after their time (a busy machine)",
                            self.dropped_late)
            return True
        return False

    def _emit(self, msg: list[int], at: float) -> None:
        if self._send_at is not None:
            self._send_at(msg, at)
        else:
            self.send(msg)
        if len(msg) < 3:               # clock, Start, Stop
            return
        self.sent += 1
        (self._sounding.add if msg[0] & 0xF0 == 0x90 else self._sounding.discard)(msg[1])

    def _bar_events(self) -> list[tuple[float, list[int]]]:
        """The playing bar's messages (s from its line), with MIDI clock's ticks when it sends clock."""
        events = bar_timeline(self._notes, self._bpm, self._beats)
        if not self.clock_out:
            return events
        tick = 60.0 / self._bpm / TICKS_PER_BEAT
        ticks = [(k * tick, [0xF8]) for k in range(self._beats * TICKS_PER_BEAT)]
        return sorted(events + ticks, key=lambda e: (e[0], len(e[1]) == 3))   # a tick before notes at its time

    def _run(self) -> None:
        if self.follower is not None:
            from .clock_sync import run_synced

            try:
                run_synced(self)
            finally:
                try:
                    self.all_notes_off()
                except Exception:  # the port may be gone at exit
                    log.debug("all notes off failed at exit", exc_info=True)
            return
        try:
            while not self._stop.is_set():
                if not self._playing:
                    self._bell.wait(0.5)
                    self._bell.clear()
                    continue
                ahead = self.lookahead
                bar_start = self.clock() + 0.01 + ahead + max(0.0, -self.latency)
                if self.clock_out:
                    self._emit([0xFA], bar_start + self.latency)          # Start: the next tick is beat 1
                while self._playing and not self._stop.is_set():
                    self._swap()
                    bar = self._beats * 60.0 / self._bpm
                    self._line(bar_start, bar)
                    for t, msg in self._bar_events():
                        at = bar_start + t + self.latency
                        if not self._wait_until(at - ahead):
                            break
                        if not self.too_late(msg, at):
                            self._emit(msg, at)
                    else:
                        if self._wait_until(bar_start + bar - ahead):
                            bar_start += bar
                            continue
                    break
                self._bar = None
                self.all_notes_off()
                if self.clock_out:
                    self.send([0xFC])                                       # Stop
        finally:
            try:
                self.all_notes_off()
            except Exception:  # the port may be gone at exit
                log.debug("all notes off failed at exit", exc_info=True)
