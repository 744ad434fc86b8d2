"""Audio out: the current candidate's loop played through PortAudio (sounddevice).

The audio callback never blocks and allocates nothing of its own: new loops
arrive through a bounded queue (``set_loop`` drops the oldest waiting loop
when it is full) and are picked up at the loop's end, which is the bar line.
:class:`LoopState` holds the logic and is tested without a sound card.
"""

from __future__ import annotations

import logging
import queue

import numpy as np

from .. import SAMPLE_RATE
from ..errors import BackendError

log = logging.getLogger("dd_live.audio")


class LoopState:
    """What the callback reads: the playing loop, its position, and the queue of next loops."""

    def __init__(self, depth: int = 2) -> None:
        self.loop: np.ndarray | None = None
        self.pos = 0
        self.playing = False
        self.next: queue.Queue[np.ndarray] = queue.Queue(maxsize=depth)
        self.switches = 0

    def offer(self, loop: np.ndarray) -> None:
        """Queue ``loop`` (float32 mono) to start at the next bar line; never blocks."""
        loop = np.ascontiguousarray(loop, dtype=np.float32)
        while True:
            try:
                self.next.put_nowait(loop)
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
            self.loop, self.pos = newest, 0
            self.switches += 1

    def fill(self, out: np.ndarray) -> None:
        """Write the next ``len(out)`` frames into ``out`` (frames x channels), switching loops at the bar line."""
        frames = out.shape[0]
        if self.loop is None:
            self._take_next()
        if not self.playing or self.loop is None:
            out.fill(0.0)
            return
        done = 0
        while done < frames:
            n = min(frames - done, self.loop.shape[0] - self.pos)
            out[done: done + n, :] = self.loop[self.pos: self.pos + n, None]
            done += n
            self.pos += n
            if self.pos >= self.loop.shape[0]:
                self.pos = 0
                self._take_next()


class AudioPlayer:
    """An output of the daemon: a PortAudio stream looping the shown loop (opened by start(), closed by
    stop() or close()). PortAudio owns the callback thread; ``error`` says if the stream ended by itself."""

    name = "dd-audio"

    def __init__(self, *, device: str | int | None = None, blocksize: int = 512, channels: int = 2) -> None:
        self.device, self.blocksize, self.channels = device, blocksize, channels
        self.state = LoopState()
        self._stream = None
        self.status_flags = 0

    @property
    def error(self) -> BaseException | None:
        stream = self._stream
        if stream is not None and not stream.active:
            return BackendError("the audio stream stopped by itself (the device went away?)")
        return None

    def is_alive(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def show(self, loop) -> None:
        """Play ``loop`` (its bar at its tempo, ``loop.playback``) from the end of the playing one."""
        self.set_loop(loop.playback)

    def start(self) -> None:
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

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status:
            self.status_flags += 1
        self.state.fill(outdata)

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
        self.state.playing = True

    def halt(self) -> None:
        self.state.playing = False

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # closing a stream whose device vanished
                log.debug("closing the audio stream failed", exc_info=True)

    def join(self, timeout: float | None = None) -> None:
        """Nothing to join: PortAudio owns the callback thread, stopped in stop()."""

    def close(self) -> None:
        """Close the stream; idempotent."""
        self.stop()
