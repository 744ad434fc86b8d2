"""MIDI through JACK itself, stamped to the frame.

python-rtmidi's JACK API writes every message at the start of the next process cycle, so a note leaves
up to a period late plus however late its thread woke. :class:`JackMidiPort` instead takes each message
with the time it must sound, on JACK's own frame clock, some tens of milliseconds ahead, and its process
callback writes it at that exact frame of the cycle that contains it: the drums' grid, swing, offsets and
feel come out sample-accurate, whatever the Python threads are doing, as long as messages arrive ahead of
their time.

The process callback is C (``jack_midi.c`` beside this file, compiled on first use together with
``jack_audio.c``, audio out's share of the same callback, by the system's C compiler into the user cache, then
loaded with ctypes over libjack): it takes no lock, allocates nothing and never waits for Python's GIL. Messages reach it through a lock-free jack_ringbuffer. Without a C compiler or
libjack, :func:`available` is False and MIDI out uses rtmidi's JACK API.

:class:`JackMidiReader` is the reverse, for MIDI clock in, tests and benchmarks: every incoming event with its
frame, also recorded by a C callback (a Python one misses whole cycles when its process is busy: JACK2 skips a
client that does not finish in time, and its events with it). A thread waits for events in :meth:`wait` (the
callback writes a byte to a pipe after a cycle that brought some) instead of polling: a clock input polled
every 0.5 ms cost 7% of a core with nothing coming.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import os
import platform
import select
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import BackendError, one_line

log = logging.getLogger("dd_live.midi")

SOURCES = tuple(Path(__file__).with_name(n) for n in ("jack_io.h", "jack_midi.c", "jack_audio.c"))  # one library
_LOCK = threading.Lock()
_NOW = 0x100                 # jw_send's size flag: a message for the next cycle (jack_midi.c's NOW)
_LIB: list = []        # the loaded writer library, once
WAIT_S = 0.5           # a thread waiting for a reader's events gives up this often to see whether to stop (s)


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("DD_LIVE_CACHE") or user_cache_dir("dd_live")) / "jack_midi"


def _library() -> ctypes.CDLL:
    """The compiled writer over libjack (built once per source version); BackendError saying what is missing."""
    with _LOCK:
        if _LIB:
            return _LIB[0]
        name = ctypes.util.find_library("jack")
        if name is None:
            raise BackendError("frame-stamped JACK MIDI needs libjack (apt install libjack-jackd2-0, or JACK's "
                               "installer)")
        try:
            ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError as err:
            raise BackendError(f"libjack ({name}) does not load: {err}") from err
        source = b"".join(path.read_bytes() for path in SOURCES)
        out = _cache_dir() / f"jack_midi-{hashlib.sha256(source).hexdigest()[:16]}.so"
        if not out.is_file():
            _compile(out)
        try:
            lib = ctypes.CDLL(str(out))
        except OSError as err:
            raise BackendError(f"the JACK MIDI writer {out} does not load: {err}") from err
        _declare(lib)
        _LIB.append(lib)
        return lib


def _compile(out: Path) -> None:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise BackendError("frame-stamped JACK MIDI is compiled on first use and needs a C compiler (cc)")
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = ["-undefined", "dynamic_lookup"] if platform.system() == "Darwin" else []
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        part = Path(tmp) / out.name
        done = subprocess.run([cc, "-O2", "-shared", "-fPIC", *flags, *(str(p) for p in SOURCES[1:]), "-o", str(part)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            first = (done.stderr.strip().splitlines() or ["no output"])[0]
            raise BackendError(f"compiling the JACK MIDI writer failed: {first}")
        os.replace(part, out)  # atomic: another process compiling the same source writes the same file
    log.info("compiled the JACK MIDI writer into %s", out)


def _declare(lib: ctypes.CDLL) -> None:
    p, u32, u64, cp, d = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_double
    for fn, args, res in (("jw_open", [cp, cp, ctypes.POINTER(ctypes.c_int)], p), ("jw_port_name", [p], cp),
                          ("jw_frame_time", [p], u32), ("jw_sample_rate", [p], u32), ("jw_late", [p], u64),
                          ("jw_lost", [p], u64), ("jw_connect", [p, cp], ctypes.c_int),
                          ("jw_send", [p, u32, cp, u32], ctypes.c_int), ("jw_cancel", [p], None),
                          ("jw_close", [p], None), ("jr_open", [cp, cp, ctypes.POINTER(ctypes.c_int)], p),
                          ("jr_sample_rate", [p], u32), ("jr_lost", [p], u64), ("jr_port_name", [p], cp),
                          ("jr_connect", [p, cp], ctypes.c_int),
                          ("jr_read", [p, ctypes.POINTER(u32), cp, ctypes.POINTER(u32)], ctypes.c_int),
                          ("jr_notify", [p, ctypes.c_int], None), ("jr_close", [p], None),
                          ("jr_attach", [p, cp], p), ("ja_new", [u64], p), ("ja_attach", [p, p, cp, cp, d], ctypes.c_int),
                          ("ja_port_name", [p, ctypes.c_int], cp), ("ja_period", [p], u32), ("ja_connect_physical", [p], ctypes.c_int),
                          ("ja_command", [p, u32, u32, p, u64, p, u64, ctypes.c_int32, d, d, d], ctypes.c_int),
                          ("ja_fill", [p, p, u32, u64, d], None), ("ja_freed", [p, ctypes.POINTER(u32)], ctypes.c_int),
                          ("ja_stats", [p, p], None), ("ja_now_us", [], u64), ("ja_frame_at", [p, u64], d), ("ja_tap", [p, p, u64, u64], u64), ("ja_close", [p], None)):
        f = getattr(lib, fn)
        f.argtypes, f.restype = args, res


def available() -> bool:
    """Whether frame-stamped JACK MIDI out can be used here (libjack loads and the writer builds)."""
    try:
        _library()
    except BackendError as err:
        log.debug("frame-stamped JACK MIDI unavailable: %s", err)
        return False
    return True


class JackMidiPort:
    """A JACK MIDI output port ``client:port`` whose messages sound at the frames they are stamped with.

    ``connect``: part of the name of a JACK MIDI input to connect to (None: left for the user to connect).
    """

    def __init__(self, name: str = "dd_live", port: str = "dd_live", *, connect: str | None = None) -> None:
        self._lib = _library()
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        status = ctypes.c_int(0)
        self._w = self._lib.jw_open(name.encode(), port.encode(), ctypes.byref(status))
        if not self._w:
            raise BackendError(f"no JACK server to open MIDI on (JACK status {status.value:#x}): start one "
                               "(jackd -d dummy), or run with --midi-out none")
        self.rate = float(self._lib.jw_sample_rate(self._w))
        self.name = self._lib.jw_port_name(self._w).decode()
        self._lock = threading.Lock()    # every call into the writer, and close(): the player and OSC threads
        self._raw = self._lib.jw_frame_time(self._w)
        self._wraps = 0                    # JACK's frame counter is 32 bits: it wraps after 27 h at 44.1 kHz
        self._last = 0                     # the latest frame queued (messages stay in time order)
        self.where = f"JACK port {self.name!r} (frame-stamped)"
        if connect is not None:
            if self._lib.jw_connect(self._w, connect.encode()) != 0:
                self.close()
                raise BackendError(f"could not connect {self.name} to the JACK MIDI input {connect!r} "
                                   "(give its full name, client:port)")
            self.where = f"JACK port {self.name!r} -> {connect!r} (frame-stamped)"

    def frames(self) -> int:
        """Now on JACK's frame clock (frames since the server started, unwrapped)."""
        with self._lock:
            if not self._w:                # closed: the clock stands still, nothing is called
                return (self._wraps << 32) + self._raw
            raw = self._lib.jw_frame_time(self._w)
            if raw < self._raw and self._raw - raw > 1 << 31:
                self._wraps += 1
            self._raw = raw
            return (self._wraps << 32) + raw

    def clock(self) -> float:
        """Now on JACK's frame clock, in seconds (the clock :meth:`send_at` times are on)."""
        return self.frames() / self.rate

    def send_at(self, msg: list[int], at: float, *, now: bool = False) -> None:
        """Queue ``msg`` to sound at ``at`` (s, :meth:`clock`); times never go backwards (an earlier one is
        sent with the latest queued). ``now``: for the next cycle (never counted :attr:`late`)."""
        frame = max(int(round(at * self.rate)), self._last)
        self._last = frame
        data = bytes(msg)
        with self._lock:
            full = bool(self._w) and self._lib.jw_send(self._w, frame & 0xFFFFFFFF, data,
                                                       len(data) | (_NOW if now else 0)) == -2
        if full:
            log.warning("JACK MIDI: the writer's queue is full, a message was dropped")

    def send(self, msg: list[int]) -> None:
        """``msg`` now (in the next cycle), after everything queued."""
        self.send_at(msg, self.clock(), now=True)

    def cancel(self) -> None:
        """Forget every queued message not yet written (a halt: notes scheduled ahead must not sound)."""
        with self._lock:
            if self._w:
                self._lib.jw_cancel(self._w)
        self._last = 0

    @property
    def late(self) -> int:
        """Messages written after their frame: handed over too late, or this client missed its cycle (the
        machine did not run it in time); :meth:`send`'s are not counted."""
        with self._lock:
            return int(self._lib.jw_late(self._w)) if self._w else 0

    def close(self) -> None:
        """Deactivate and close the client; idempotent. Afterwards every method is safe and does nothing (a
        thread still finishing may call them)."""
        with self._lock:
            w, self._w = self._w, None
            if w:
                self._lib.jw_close(w)


def unwrap(frame: int, now: int) -> int:
    """A 32-bit JACK frame as the unwrapped frame nearest ``now`` (an unwrapped frame clock, such as
    :meth:`JackMidiPort.frames`): the newest frames JACK has counted are at most a cycle ahead of it."""
    back = (now - frame) & 0xFFFFFFFF
    return now - back if back < 1 << 31 else now + ((1 << 32) - back)


def relay(reader: "JackMidiReader", frames_now: Callable[[], int], handle: Callable[[int, bytes], None],
          stop: threading.Event, bad, what: str) -> None:
    """A reader's thread (MIDI clock in, MIDI in): until ``stop`` is set, wait for ``reader``'s events (woken by its
    callback, or every WAIT_S to look at ``stop``) and hand each to ``handle(frame, bytes)``, its frame unwrapped
    against ``frames_now()``. A message ``handle`` raises on is logged through ``bad`` (a RateLog) as ``what``'s,
    and the rest go on."""
    while not stop.is_set():
        events = reader.read()
        if events:
            now = frames_now()
            for frame, data in events:
                try:  # one bad message must not end the input
                    handle(unwrap(frame, now), data)
                except Exception as err:
                    bad.warning("%s: a message could not be handled: %s (%s)", what, one_line(err), data.hex())
        reader.wait(WAIT_S)


def reader_beside(out: "JackMidiPort | None", port: str, alone: tuple[str, str], *,
                  connect: str | None = None) -> "JackMidiReader":
    """A reader whose port ``port`` is on MIDI out's client ``out`` (one JACK client woken a cycle for all of
    them); a client of its own, ``alone`` (client, port), where there is no ``out`` or its client cannot take
    the port (closing under a revival, or carrying all the readers it can). BackendError if neither opens."""
    if out is not None:
        try:
            return JackMidiReader(port=port, connect=connect, on=out)
        except BackendError:
            pass
    return JackMidiReader(*alone, connect=connect)


class JackMidiReader:
    """A JACK MIDI input ``name:port`` recording every event with its frame (MIDI clock in, MIDI in, tests, benches):
    :meth:`read` gives [(frame, bytes)] of everything since the last call (frames as JACK counts them, 32-bit).
    ``connect``: the full name of a JACK MIDI output to connect to it. ``on``: an open :class:`JackMidiPort` whose
    client carries the port instead (``name`` unused: its client's), its callback recording the events, so that
    MIDI out and in wake one JACK process thread a cycle, not two; either may close first."""

    def __init__(self, name: str = "reader", port: str = "in", *, connect: str | None = None,
                 on: JackMidiPort | None = None) -> None:
        self._lib = _library()
        os.environ.setdefault("JACK_NO_START_SERVER", "1")
        if on is not None:
            with on._lock:
                self._r = self._lib.jr_attach(on._w, port.encode()) if on._w else None
            if not self._r:
                raise BackendError(f"the MIDI reader's port {port!r} could not be made on {on.name!r}'s client")
        else:
            status = ctypes.c_int(0)
            self._r = self._lib.jr_open(name.encode(), port.encode(), ctypes.byref(status))
            if not self._r:
                raise BackendError(f"no JACK server for the MIDI reader (JACK status {status.value:#x})")
        self.rate = float(self._lib.jr_sample_rate(self._r))
        self.name = self._lib.jr_port_name(self._r).decode()
        self._lock = threading.Lock()    # read() and close() may come from two threads
        self._woken, self._waker = os.pipe()         # the callback's "events came"; wake() writes it too
        os.set_blocking(self._waker, False)          # never blocks the process callback, nor wake()
        self._waiting = threading.Lock()             # held by wait(): close() closes the pipe only after it
        self._closed = False
        self._lib.jr_notify(self._r, self._waker)
        if connect is not None and self._lib.jr_connect(self._r, connect.encode()) != 0:
            self.close()
            raise BackendError(f"could not connect the JACK MIDI output {connect!r} to {self.name} "
                               "(give its full name, client:port)")

    def read(self) -> list[tuple[int, bytes]]:
        out = []
        frame, size, data = ctypes.c_uint32(0), ctypes.c_uint32(0), ctypes.create_string_buffer(4)
        with self._lock:
            while self._r and self._lib.jr_read(self._r, ctypes.byref(frame), data, ctypes.byref(size)):
                out.append((frame.value, data.raw[: size.value]))
        return out

    def wait(self, timeout: float) -> bool:
        """Block until events have come since the last wait (or :meth:`wake` was called): True; False after
        ``timeout`` seconds without, or once the reader is closed. Collect the events with :meth:`read`."""
        with self._waiting:
            if self._closed:
                return False
            if not select.select([self._woken], [], [], timeout)[0]:
                return False
            os.read(self._woken, 4096)      # every byte written so far: the events are all in the ring
            return not self._closed

    def wake(self) -> None:
        """Make a thread in :meth:`wait` return now (another thread's call: it is stopping)."""
        with self._lock:
            if not self._closed:
                try:
                    os.write(self._waker, b"\0")
                except BlockingIOError:     # the pipe is full: a wait returns anyway
                    pass

    @property
    def lost(self) -> int:
        with self._lock:
            return int(self._lib.jr_lost(self._r)) if self._r else 0

    def close(self) -> None:
        """Deactivate and close the client (its callback is not called again), then the pipe, once no thread
        waits on it (a waiting one is woken first); idempotent."""
        with self._lock:
            r, self._r = self._r, None
            if not r:
                return
            self._lib.jr_close(r)
            self._closed = True
            try:
                os.write(self._waker, b"\0")      # a thread in wait() returns False now
            except BlockingIOError:
                pass
        with self._waiting:                         # ... and none waits once this is held: no fd is in use
            os.close(self._woken)
            os.close(self._waker)
