"""Audio out on MIDI out's JACK client: ports "dd_live:out_1" and "dd_live:out_2", filled in C.

A PortAudio stream on JACK is a second JACK client, whose process thread JACK wakes every cycle, and whose
Python callback takes the GIL every block. Where MIDI out is frame-stamped JACK (:mod:`.midi_jack`), audio out
instead puts two audio ports on the same client and the same process callback fills them (``jack_audio.c``):
one JACK client a cycle for MIDI out, MIDI in and audio out, and no Python in the audio path. The loop logic is
:class:`.audio_out.LoopState`'s (tests run both); :class:`JackLoop` is its interface over the C player, and
:class:`JackAudioPlayer` is :class:`.audio_out.AudioPlayer` with that loop instead of a stream.
$DD_LIVE_AUDIO_API=portaudio keeps PortAudio (see :func:`.outputs.open_outputs`).
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import threading
import time

import numpy as np

from .. import SAMPLE_RATE
from ..errors import BackendError
from .audio_out import DRIFT_S, AudioPlayer, LoopState, report_line
from .midi_jack import JackMidiPort, _library

log = logging.getLogger("dd_live.audio")

OFFER, SEEK, PLAY, GRID, NO_GRID = 1, 2, 3, 4, 5   # jack_audio.c's commands
TAP_S = 3.0          # what was played, kept for audio in (s; half of it readable, the other half being written)
STALL_S = 2.0        # no JACK cycle for this long while attached: the server has gone (s)
OFFSET_S = 1.0       # the tap's reader measures JACK's clock against time.perf_counter this often (s)


class JackLoop:
    """:class:`.audio_out.LoopState`'s interface over ``jack_audio.c``'s player: :meth:`offer`, and
    :attr:`playing`, :attr:`seek_to` and :attr:`grid` (seconds on JACK's clock), each set by any thread and
    handed to the callback as a command. Attached to ``port``'s client its ports play; unattached (tests),
    :meth:`fill` runs the callback's fill on a buffer. Loops are kept alive here until the callback gives
    them back."""

    def __init__(self, port: JackMidiPort | None = None) -> None:
        self._lib = _library()
        self.rate = port.rate if port is not None else float(SAMPLE_RATE)
        self._p = self._lib.ja_new(int(TAP_S * self.rate))
        if not self._p:
            raise BackendError("audio out on JACK: no memory for its player")
        self._lock = threading.Lock()              # one producer of commands; close()
        self._kept: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        self._ids = itertools.count(1)
        self._playing, self._seek, self._grid = False, None, None
        self._frame = 0                            # fill()'s own frame count, when no time is given
        self._offset: tuple[float, float] | None = None   # JACK's clock minus perf_counter (s), and when measured
        self.port = port
        if port is not None:
            with port._lock:
                ok = bool(port._w) and self._lib.ja_attach(self._p, port._w, b"out_1", b"out_2",
                                                                        DRIFT_S * self.rate) == 0
            if not ok:
                self._lib.ja_close(self._p)
                self._p = None
                raise BackendError(f"audio out's ports could not be made on {port.name!r}'s JACK client")

    def _send(self, kind: int, *, id_: int = 0, audio: np.ndarray | None = None, lines: np.ndarray | None = None,
              flag: int = 0, x: float = 0.0, y: float = 0.0, z: float = 0.0) -> None:
        with self._lock:
            if not self._p:
                return
            self._collect()
            if audio is not None:
                self._kept[id_] = (audio, lines)
            sent = self._lib.ja_command(self._p, kind, id_, audio.ctypes.data if audio is not None else None,
                                        0 if audio is None else audio.size,
                                        lines.ctypes.data if lines is not None else None,
                                        0 if lines is None else lines.size, flag, x, y, z)
            if sent != 0:
                self._kept.pop(id_, None)
                log.warning("audio out on JACK: its command queue is full (is the JACK server running?)")

    def _collect(self) -> None:
        """Let go of every loop the callback has given back (holding the lock)."""
        freed = ctypes.c_uint32(0)
        while self._lib.ja_freed(self._p, ctypes.byref(freed)):
            self._kept.pop(freed.value, None)

    def offer(self, loop: np.ndarray, lines: np.ndarray | None = None, *, keep_place: bool = False) -> None:
        """As :meth:`.audio_out.LoopState.offer`: ``loop`` from the next bar line (``lines``: a song's)."""
        audio = np.ascontiguousarray(loop, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            audio = np.zeros(1, np.float32)        # an empty loop: a sample of silence, round again
        marks = None if lines is None else np.ascontiguousarray(lines, dtype=np.int64).reshape(-1)
        self._send(OFFER, id_=next(self._ids), audio=audio, lines=marks, flag=int(keep_place))

    @property
    def playing(self) -> bool:
        return self._playing

    @playing.setter
    def playing(self, on: bool) -> None:
        self._playing = bool(on)
        self._send(PLAY, flag=int(self._playing))

    @property
    def seek_to(self) -> float | None:
        """The last share of the bar asked for (the callback moves there at its next cycle)."""
        return self._seek

    @seek_to.setter
    def seek_to(self, share: float | None) -> None:
        self._seek = share
        if share is not None:
            self._send(SEEK, x=float(share))

    @property
    def grid(self) -> tuple[float, float, int] | None:
        """Following a host: (a, b, ticks a bar), its position in ticks at JACK time t being (t - a) / b."""
        return self._grid

    @grid.setter
    def grid(self, line: tuple[float, float, int] | None) -> None:
        self._grid = line
        if line is None:
            self._send(NO_GRID)
        else:
            self._send(GRID, x=line[0] * self.rate, y=line[1] * self.rate, z=float(line[2]))

    def stats(self) -> dict[str, int]:
        """The callback's counts: cycles, missed, switches, corrections, at and length (the loop playing; 0:
        silent), longest_us (between two cycles), unfreed, id (the loop in place; 0: none)."""
        out = (ctypes.c_uint64 * 9)()
        with self._lock:
            if self._p:
                self._lib.ja_stats(self._p, out)
        keys = ("cycles", "missed", "switches", "corrections", "at", "length", "longest_us", "unfreed", "id")
        return dict(zip(keys, (int(v) for v in out)))

    def _in_place(self) -> tuple:
        key = self.stats()["id"]
        with self._lock:
            return self._kept.get(key, (None, None))

    @property
    def loop(self) -> np.ndarray | None:
        """The loop in place (as of the callback's last cycle), or None."""
        return self._in_place()[0]

    @property
    def lines(self) -> np.ndarray | None:
        """Its bar lines (a song's, samples), or None."""
        return self._in_place()[1]

    @property
    def pos(self) -> int:
        """Where in it the callback's last cycle ended (samples)."""
        return self.stats()["at"]

    @property
    def corrections(self) -> int:
        return self.stats()["corrections"]

    @property
    def switches(self) -> int:
        return self.stats()["switches"]

    def fill(self, out: np.ndarray, dac_time: float | None = None) -> None:
        """Unattached: run the callback's fill for ``len(out)`` frames (every channel of ``out`` gets them) at
        ``dac_time`` (s; None: right after the last fill), as :meth:`.audio_out.LoopState.fill`."""
        if self.port is not None:
            raise RuntimeError("JackLoop.fill runs the callback's fill: only on a loop attached to no JACK client")
        mono = np.empty(out.shape[0], np.float32)
        frame = self._frame if dac_time is None else int(round(dac_time * self.rate))
        with self._lock:
            self._collect()
            self._lib.ja_fill(self._p, mono.ctypes.data, mono.size, frame, DRIFT_S * self.rate)
        self._frame = frame + mono.size
        out[:] = mono[:, None]

    def read_into(self, out: np.ndarray, at: float) -> None:
        """The tap (audio in's): what was played from ``at`` (time.perf_counter, at the port) into ``out``: the
        frame is the one the callback's last cycle puts at that time on JACK's clock."""
        buf = np.ascontiguousarray(out, dtype=np.float32)
        with self._lock:
            frame = self._lib.ja_frame_at(self._p, self._jack_us(at)) if self._p and self.port else -1.0
            if frame >= 0:
                self._lib.ja_tap(self._p, buf.ctypes.data, buf.size, int(round(frame)))
            else:
                buf[:] = 0.0
        out[:] = buf

    def _jack_us(self, at: float) -> int:
        """``at`` (time.perf_counter) on JACK's clock (microseconds): the two clocks' offset from the tightest of a
        few readings of both (a thread held up between two readings would put it off by the hold-up), renewed
        every OFFSET_S for their drift."""
        now = time.perf_counter()
        if self._offset is None or now - self._offset[1] > OFFSET_S:
            tightest = (float("inf"), 0.0)
            for _ in range(5):
                before = time.perf_counter()
                us = self._lib.ja_now_us()
                after = time.perf_counter()
                tightest = min(tightest, (after - before, us / 1e6 - (before + after) / 2))
            self._offset = (tightest[1], now)
        return max(0, int(round((at + self._offset[0]) * 1e6)))

    def names(self) -> list[str]:
        with self._lock:
            return [self._lib.ja_port_name(self._p, i).decode() for i in (0, 1)] if self._p and self.port else []

    def connect_physical(self) -> int:
        """Connect the ports to the first physical playback ports: how many were connected."""
        with self._lock:
            return int(self._lib.ja_connect_physical(self._p)) if self._p and self.port else 0

    def period(self) -> int:
        with self._lock:
            return int(self._lib.ja_period(self._p)) if self._p and self.port else 0

    def close(self) -> None:
        """Detach from the client (the callback lets go first), free the player, drop the loops; idempotent."""
        with self._lock:
            p, self._p = self._p, None
            if p:
                self._lib.ja_close(p)
            self._kept.clear()


class JackAudioPlayer(AudioPlayer):
    """Audio out as ports on MIDI out's JACK client (``port``, a :class:`.midi_jack.JackMidiPort`), connected to
    the first physical playback ports if ``connect``: :class:`.audio_out.AudioPlayer`'s transport, song and host
    logic, with :class:`JackLoop` as its loop; times on JACK's clock (the MIDI player's)."""

    def __init__(self, port: JackMidiPort, *, follower=None, connect: bool = True) -> None:
        super().__init__(follower=follower, clock=port.clock, stream_time=port.clock)
        self.port, self.connect = port, connect
        self._seen = (-1, 0.0)                    # (cycles, when they were last seen to move)

    def start(self) -> None:
        loop = JackLoop(self.port)
        connected = loop.connect_physical() if self.connect else 0
        self.state, self.tap = loop, loop
        self._seen = (-1, time.monotonic())
        period = loop.period()
        to = f" -> {connected} playback port{'s' if connected != 1 else ''}" if self.connect else ""
        self.where = (f"JACK ports {', '.join(loop.names())}{to} on MIDI out's client (one process callback for "
                      f"MIDI and audio), {period}-frame periods")

    @property
    def error(self) -> BaseException | None:
        state = self.state
        if not isinstance(state, JackLoop):
            return None
        cycles, since = self._seen
        now_cycles = state.stats()["cycles"]
        if now_cycles != cycles:
            self._seen = (now_cycles, time.monotonic())
        elif time.monotonic() - since > STALL_S:
            return BackendError(f"JACK has run no cycle of audio out for {STALL_S:.0f} s (the server went away?)")
        return None

    def is_alive(self) -> bool:
        return isinstance(self.state, JackLoop) and self.error is None

    def phase(self, at: float | None = None) -> float | None:
        """Share of the playing bar the callback has written (its cycle's end); None when silent."""
        state = self.state
        s = state.stats() if isinstance(state, JackLoop) else {"length": 0}
        return s["at"] / s["length"] if s["length"] else None

    def report(self) -> str:
        s = self.state.stats() if isinstance(self.state, JackLoop) else {"cycles": 0, "missed": 0, "longest_us": 0}
        period = self.state.period() if isinstance(self.state, JackLoop) else 0
        return report_line(s["missed"], s["cycles"], period, "JACK cycles missed", s["longest_us"] / 1e6)

    def stop(self) -> None:
        state = self.state
        if isinstance(state, JackLoop):
            (log.warning if state.stats()["missed"] else log.info)(self.report())
            self.state = LoopState()               # what a closed player holds: nothing plays
            state.close()

    def revive(self) -> None:
        """A new player on the same client, playing what was shown (a song playing is not resumed)."""
        self.stop()
        self.start()
        self._song = False
        if self._shown is not None:
            self.beats = self._shown[1]
            self.state.offer(self._shown[0])
        self.state.playing = self.armed and (self.follower is None or bool(self.follower.running))
        if self.follower is not None:
            self.resync()
