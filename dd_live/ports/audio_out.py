"""Audio out: the current candidate's loop played through PortAudio (sounddevice).

The audio callback never blocks and allocates nothing of its own: new loops
arrive through a bounded queue (``set_loop`` drops the oldest waiting loop
when it is full) and are picked up at the loop's end, which is the bar line.
:class:`LoopState` holds the logic and is tested without a sound card.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Callable

import numpy as np

from .. import SAMPLE_RATE
from ..errors import BackendError, c_stderr
from .clock import TICKS_PER_BEAT

log = logging.getLogger("dd_live.audio")

#: following a host, the loop is moved back onto the host's clock when it is this far off (s): the sound card's
#: sample clock and the host's drift apart by tens of ppm, a millisecond every minute or so
DRIFT_S = 0.002
TAP_BLOCKS = 256   # blocks of what audio out played kept for audio in (3 s of 512-frame blocks)


class LoopState:
    """What the callback reads: the playing loop, its position, and the queue of next loops."""

    def __init__(self, depth: int = 2) -> None:
        self.loop: np.ndarray | None = None
        self.lines: np.ndarray | None = None   # a song's bar lines (samples), or None: switch at the loop's end
        self.pos = 0
        self.playing = False
        self.next: queue.Queue[np.ndarray] = queue.Queue(maxsize=depth)
        self.switches = 0
        self.seek_to: float | None = None   # set by another thread: the callback moves to this share of the bar
        self.grid: tuple[float, float, int] | None = None   # following a host: (a, b, ticks per bar), its song
        self.corrections = 0                # position (ticks) at stream time t being (t - a) / b; another thread sets it

    def offer(self, loop: np.ndarray, lines: np.ndarray | None = None, *, keep_place: bool = False) -> None:
        """Queue ``loop`` (float32 mono) to start at the next bar line (the playing loop's end, or for a long one
        with bar ``lines``, sample positions from its start, the next of them); ``keep_place``: at the same place
        in it as in the one playing (a song played anew with what a take taught); never blocks."""
        item = (np.ascontiguousarray(loop, dtype=np.float32), lines, keep_place)
        while True:
            try:
                self.next.put_nowait(item)
                return
            except queue.Full:
                try:
                    self.next.get_nowait()
                except queue.Empty:
                    pass

    def _take_next(self) -> None:
        newest = None
        while True:
            try:
                newest = self.next.get_nowait()
            except queue.Empty:
                break
        if newest is not None:
            audio, self.lines, keep = newest
            self.pos = self.pos % audio.shape[0] if keep and audio.shape[0] else 0
            self.loop = audio
            self.switches += 1

    def fill(self, out: np.ndarray, dac_time: float | None = None) -> None:
        """Write the next ``len(out)`` frames into ``out`` (frames x channels), switching loops at the bar line;
        ``dac_time``: when the first of them reaches the speaker (s, the stream's clock), to stay on a host's
        clock (:attr:`grid`) within DRIFT_S."""
        frames = out.shape[0]
        if self.loop is None:
            self._take_next()
        seek = self.seek_to
        if seek is not None and self.loop is not None and self.loop.shape[0]:
            self.seek_to = None
            self.pos = int(seek * self.loop.shape[0]) % self.loop.shape[0]
        if not self.playing or self.loop is None:
            out.fill(0.0)
            return
        grid = self.grid
        if grid is not None and dac_time is not None and self.loop.shape[0]:
            self._follow(grid, dac_time)
        done = 0
        while done < frames:
            end = self.loop.shape[0]
            lines = self.lines
            if lines is not None and not self.next.empty():   # a song: the next loop from its next bar line
                k = int(np.searchsorted(lines, self.pos, side="right"))
                end = int(lines[k]) if k < lines.size else end
            n = min(frames - done, end - self.pos)
            out[done: done + n, :] = self.loop[self.pos: self.pos + n, None]
            done += n
            self.pos += n
            if self.pos >= end:
                if self.pos >= self.loop.shape[0]:
                    self.pos = 0
                self._take_next()


    def _follow(self, grid: tuple[float, float, int], dac_time: float) -> None:
        a, b, ticks = grid
        n = self.loop.shape[0]
        want = int(((dac_time - a) / b % ticks) / ticks * n) % n
        off = (self.pos - want + n // 2) % n - n // 2          # samples, the shorter way round the loop
        if abs(off) > DRIFT_S * SAMPLE_RATE:
            self.pos = want
            self.corrections += 1


class AudioPlayer:
    """An output of the daemon: a PortAudio stream looping the shown loop (opened by start(), closed by
    stop() or close()). PortAudio owns the callback thread; ``error`` says if the stream ended by itself."""

    name = "dd-audio"

    def __init__(self, *, device: str | int | None = None, blocksize: int = 512, channels: int = 2, follower=None,
                 clock: Callable[[], float] = time.perf_counter,
                 stream_time: Callable[[], float] | None = None) -> None:
        """``follower``: a host's clock (:mod:`.clock`, :mod:`.link`; its times on ``clock``): the loop then
        starts, stops and is put at the host's place in the bar when the host starts, stops, continues or moves,
        and plays whenever the host runs (``play``/``halt`` arm and disarm it); between those events it is kept
        on the host's clock within DRIFT_S (``stream_time``: the stream's clock; None: PortAudio's)."""
        self.device, self.blocksize, self.channels = device, blocksize, channels
        self.state = LoopState()
        self._stream = None
        self.where = ""                     # the device, once open
        self.blocks = 0                     # callbacks so far (the callback's own counters, read by others)
        self.late_blocks = 0                # ... of which PortAudio flagged an output underflow (a dropout)
        self.longest_gap_s = 0.0            # the longest wall-clock time between two callbacks (s)
        self._last_call = 0.0
        self.follower, self.clock, self._stream_time = follower, clock, stream_time
        self.armed = follower is not None
        self.beats = 4
        self.tap = OutputTap(blocksize=blocksize)   # what it played, for audio in to take out of what it hears
        self._song = False                          # a song's drums play (cue_song) ...
        self._shown: tuple[np.ndarray, int] | None = None   # ... and the loop shown last plays after them
        self._clock = SampleClock()

    @property
    def error(self) -> BaseException | None:
        stream = self._stream
        if stream is not None and not stream.active:
            return BackendError("the audio stream stopped by itself (the device went away?)")
        return None

    def is_alive(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def show(self, loop) -> None:
        """Play ``loop`` (its bar at its tempo, ``loop.playback``) from the end of the playing one (or once the
        song playing is stopped)."""
        self._shown = (loop.playback, int(loop.pattern.beats))
        if self._song:
            return
        self.beats = int(loop.pattern.beats)
        self.set_loop(loop.playback)
        if self.follower is not None:
            self.resync()

    def cue_song(self, audio: np.ndarray | None, lines: np.ndarray | None = None, beats: int = 0) -> None:
        """Play a song's drums (``audio``: from the bar it starts at to its end, round again; ``lines``: its bar
        lines, samples; ``beats``: its beats, for a host's clock) from the next bar line; again while it plays:
        the same place in the new audio; None: the loop again from the song's next bar line."""
        if audio is None:
            if self._song and self._shown is not None:
                self.beats = self._shown[1]
                self.state.offer(self._shown[0])
            self._song = False
        else:
            self.state.offer(audio, lines, keep_place=self._song)
            self._song, self.beats = True, int(beats)
        if self.follower is not None:
            self.resync()

    def transport_changed(self, kind: str = "") -> None:
        """The followed host started, stopped, continued or moved: silence, or the loop from the host's place in
        its bar; a new tempo (a loop rendered at it arrives through :meth:`show`) renews the clock it is kept on."""
        if self.follower is None:
            return
        if kind == "tempo":
            self.resync()
            return
        if kind == "stop" or not self.follower.running:
            self.state.playing = False
            self.state.grid = None
            return
        self.align()
        self.resync()
        self.state.playing = self.armed

    def resync(self) -> None:
        """Give the callback the host's clock as a line on the stream's clock (None while it is not known)."""
        line = self.follower.line()
        try:
            now = self._stream_time() if self._stream_time is not None else self._stream.time
        except Exception:  # no stream (yet), or its device went away
            now = None
        if line is None or now is None or not self.follower.running:
            self.state.grid = None
            return
        offset = now - self.clock()                    # the stream's clock minus the player's, read together
        self.state.grid = (line[0] + offset, line[1], self.beats * TICKS_PER_BEAT)

    def align(self) -> None:
        """Move the loop to where the host is in its bar (bars of the loop's beats, 24 ticks each); the callback
        makes the move, at its next block."""
        at = self.follower.position_at(self.clock())
        position = float(self.follower.position if at is None else at)   # no line yet: the tick about to come
        ticks = self.beats * TICKS_PER_BEAT
        self.state.seek_to = (position % ticks) / ticks

    def start(self) -> None:
        with c_stderr("audio out"):      # PortAudio probing ALSA and JACK: the BackendError says what is missing
            try:
                import sounddevice as sd
            except (ImportError, OSError) as err:
                raise BackendError(f"audio out needs PortAudio ({err}); on Debian: apt install libportaudio2, "
                                   "or run with --no-audio") from err
            try:
                self._stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=self.channels, dtype="float32",
                                               blocksize=self.blocksize, device=self.device, callback=self._callback)
                self._stream.start()
            except Exception as err:  # sd.PortAudioError, ValueError for a bad device
                self._stream = None
                raise BackendError(f"cannot open an audio output ({err}); run with --no-audio to silence this") from err
        try:
            info = sd.query_devices(self._stream.device)
            api = sd.query_hostapis(info["hostapi"])["name"]
            self.where = (f"{info['name']} ({api}), {self.blocksize}-frame blocks, "
                          f"{self._stream.latency * 1000:.1f} ms output latency")
        except Exception:  # only a description
            self.where = "PortAudio's default output"

    def _callback(self, outdata, frames, time_info, status) -> None:
        now = time.perf_counter()
        if self.blocks and now - self._last_call > self.longest_gap_s:
            self.longest_gap_s = now - self._last_call
        self._last_call = now
        self.blocks += 1
        if status.output_underflow:
            self.late_blocks += 1
        dac = getattr(time_info, "outputBufferDacTime", None)
        self.state.fill(outdata, dac)
        self.tap.write(outdata[:, 0], self._clock.stamp(now, time_info.currentTime, dac, frames)
                       if dac is not None else now)

    def report(self) -> str:
        """One line on the blocks played, how many came late (PortAudio's output underflows: dropouts), and the
        longest wait between two callbacks (a callback held up, by the GIL say, shows there even where the
        audio system, JACK for one, stalls with it instead of flagging an underflow)."""
        return report_line(self.late_blocks, self.blocks, self.blocksize, "output underflow", self.longest_gap_s)

    def phase(self, at: float | None = None) -> float | None:
        """Share of the playing bar already sent to PortAudio (0-1; the device's latency later at the
        speaker), now (``at`` is not used: the stream's position is only known now); None when halted."""
        loop, pos = self.state.loop, self.state.pos
        if not self.state.playing or loop is None or loop.shape[0] == 0:
            return None
        return pos / loop.shape[0]

    def set_loop(self, audio: np.ndarray) -> None:
        self.state.offer(audio)

    def play(self) -> None:
        self.armed = True
        self.state.playing = self.follower is None or bool(self.follower.running)

    def halt(self) -> None:
        self.armed = False
        self.state.playing = False

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if close_stream(stream):
            (log.warning if self.late_blocks else log.info)(self.report())

    def revive(self) -> None:
        """Open the stream again after it stopped by itself (the supervisor's call); the loop and the transport's
        state are kept. BackendError if no device opens."""
        self.stop()
        self.start()

    def join(self, timeout: float | None = None) -> None:
        """Nothing to join: PortAudio owns the callback thread, stopped in stop()."""

    def close(self) -> None:
        """Close the stream; idempotent."""
        self.stop()


class SampleClock:
    """Each block's first sample on time.perf_counter, for a PortAudio callback: from the samples counted since the
    stream began and its stamps (DAC or ADC time) averaged, since a stamp may be a millisecond or two off from one
    block to the next (PortAudio on JACK, blocks of other sizes than the server's period): the mean of all so far,
    then a running mean of the last 1/SMOOTH blocks. The stream's clock is
    put on perf_counter by the smallest difference seen lately (a callback that runs late only makes it larger),
    let rise by RELAX_S a call so that it follows the two clocks' drift. Arithmetic only: safe in a callback."""

    RELAX_S = 2e-6       # s a call
    SMOOTH = 0.002       # the smallest share of a block in the stream's start time (the k-th block's: 1/k above it)
    JUMP_S = 0.02        # a block this far off: the stream restarted or skipped; start again from it

    def __init__(self) -> None:
        self.offset = float("inf")
        self.start: float | None = None
        self.samples = 0
        self.blocks = 0

    def stamp(self, now: float, current: float, stamp: float, frames: int) -> float:
        """A callback at perf_counter ``now`` whose time info says the stream's clock is ``current`` and its block
        of ``frames`` starts at ``stamp``: that block's first sample on perf_counter."""
        self.offset = min(self.offset + self.RELAX_S, now - current)
        start = stamp + self.offset - self.samples / SAMPLE_RATE
        if self.start is None or abs(start - self.start) > self.JUMP_S:
            self.start, self.blocks = start, 1
        else:
            self.blocks += 1
            self.start += max(1.0 / self.blocks, self.SMOOTH) * (start - self.start)
        at = self.start + self.samples / SAMPLE_RATE
        self.samples += frames
        return at


def close_stream(stream) -> bool:
    """Stop and close a PortAudio stream (None: nothing); whether there was one. A stream whose device vanished
    may fail to close: that is only logged (debug)."""
    if stream is None:
        return False
    try:
        stream.stop()
        stream.close()
    except Exception:  # closing a stream whose device vanished
        log.debug("closing an audio stream failed", exc_info=True)
    return True


def report_line(late: int, blocks: int, frames: int, why: str, longest_s: float) -> str:
    """The line an audio out logs as it stops, which :func:`read_report` reads (``why`` blocks come late)."""
    return (f"audio out: {late} of {blocks} blocks of {frames} frames came late ({why}); longest wait between blocks "
            f"{longest_s * 1000:.1f} ms (a block is {frames / SAMPLE_RATE * 1000:.1f} ms)")


_REPORT = re.compile(r"audio out: ([0-9]+) of ([0-9]+) blocks of ([0-9]+) frames came late .*?longest wait between "
                     r"blocks ([0-9.]+) ms")


def read_report(text: str) -> dict | None:
    """The figures of :func:`report_line` found in ``text`` (a daemon's log): audio_blocks,
    audio_late_blocks, audio_block_frames, audio_longest_gap_ms; None if it holds no report."""
    m = _REPORT.search(text)
    if m is None:
        return None
    return {"audio_blocks": int(m.group(2)), "audio_late_blocks": int(m.group(1)), "audio_block_frames": int(m.group(3)),
            "audio_longest_gap_ms": float(m.group(4))}


class OutputTap:
    """What audio out played, block by block with each block's DAC time (time.perf_counter), for audio in to take
    out of what it hears (written in audio out's callback into preallocated arrays; read by audio in's thread)."""

    def __init__(self, *, blocks: int = TAP_BLOCKS, blocksize: int = 512) -> None:
        self._audio = np.zeros((blocks, blocksize), dtype=np.float32)
        self._dac = np.full(blocks, -np.inf)
        self._n = np.zeros(blocks, dtype=np.int64)
        self._written = 0

    def write(self, block: np.ndarray, dac: float) -> None:
        """Audio out's callback: the mono block it just filled, and when its first sample reaches the DAC."""
        slot = self._written % self._audio.shape[0]
        n = min(block.shape[0], self._audio.shape[1])
        self._audio[slot, :n] = block[:n]
        self._n[slot], self._dac[slot] = n, dac
        self._written += 1

    def read_into(self, out: np.ndarray, at: float) -> None:
        """Fill ``out`` with what was played from DAC time ``at`` on (zeros where nothing was)."""
        out[:] = 0.0
        rate = float(SAMPLE_RATE)
        for slot in np.flatnonzero((self._dac <= at + out.size / rate)
                                   & (self._dac + self._n / rate > at)):
            start = int(round((self._dac[slot] - at) * rate))
            n = int(self._n[slot])
            lo, hi = max(start, 0), min(start + n, out.size)
            if hi > lo:
                out[lo:hi] = self._audio[slot, lo - start: hi - start]
