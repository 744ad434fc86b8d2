"""Audio in (``serve --audio-in DEVICE``): any instrument plays along, its onsets heard in its sound.

PortAudio's input callback only copies each block into a preallocated ring with its ADC time (on
time.perf_counter) and hands the slot's number over a bounded queue; a block that finds the queue full is
counted and dropped. Thread ``dd-audio-in`` reads what audio out played at the same time
(:class:`dd_live.ports.audio_out.OutputTap`), runs :class:`dd_live.sound.onsets.OnsetDetector` and hands each
onset, stamped on time.perf_counter, to ``on_onset``: the take service's, as MIDI in's notes.

The drums' own sound: after :data:`FIRST_S` of audio, then twice that and so on up to :data:`WINDOW_S`, and then
every :data:`CALIBRATE_S` of it, while audio out plays, the last :data:`WINDOW_S` of input and of
what audio out played are cross-correlated (:func:`dd_live.sound.onsets.loopback`); where the input hears them
(gain above :data:`MIN_BLEED`) the detector takes them out with that delay and gain, so a drum hit is never a
human's onset (onsets heard while the drums play before the first measure are not handed over).
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable

import numpy as np

from .. import SAMPLE_RATE
from ..errors import BackendError
from ..worker import Worker
from .audio_out import SampleClock

log = logging.getLogger("dd_live.audio")

BLOCK = 256               # frames per input block (5.8 ms)
RING = 256                # blocks the ring holds (1.5 s): the detector's thread may fall this far behind
SETTLE_BLOCKS = 64        # PortAudio's overflows in the stream's first blocks (its start) are not counted
CALIBRATE_S = 2.0         # how often the drums' path into the input is measured again (s) ...
WINDOW_S = 2.0            # ... over this much audio (s); the first measures at FIRST_S, then doubling to WINDOW_S
FIRST_S = 0.5
MIN_BLEED = 0.05          # a gain below this: the input does not hear the drums
TAP_AHEAD_S = 0.02        # the drums are read from this much after the input's ADC time, so that their way back
                          # is a positive delay even where the two streams' stamps disagree by a few ms


class AudioInput(Worker):
    """An input of the daemon: a human's instrument on PortAudio ``device`` (a name, an index, or None for the
    default input); ``on_onset(t)`` gets each onset at time.perf_counter ``t`` and says whether a take kept it.
    ``tap``: audio out's ring of what it played (None: the input never hears the drums)."""

    name = "dd-audio-in"

    def __init__(self, device: str | int | None, on_onset: Callable[[float], bool], *, tap=None,
                 blocksize: int = BLOCK) -> None:
        super().__init__()
        self.device, self.on_onset, self.tap, self.blocksize = device, on_onset, tap, blocksize
        self._ring = np.zeros((RING, blocksize), dtype=np.float32)
        self._adc = np.zeros(RING)                     # each block's first sample's ADC time (time.perf_counter)
        self._frames = np.zeros(RING, dtype=np.int64)
        self._written = 0
        self._slots: queue.Queue = queue.Queue(maxsize=RING - 1)
        self._stream = None
        self._clock = SampleClock()
        self.where = ""
        self.blocks = self.dropped = self.onsets = self.kept = 0
        self.unsure = 0                                # onsets heard while the drums' way back was not measured yet
        self.overflows = 0                             # blocks PortAudio says came after input it lost
        self.bleed: tuple[int, float] = (0, 0.0)      # the drums' (delay in samples, gain) in the input

    def start(self) -> None:
        try:
            import sounddevice as sd
        except (ImportError, OSError) as err:
            raise BackendError(f"audio in needs PortAudio ({err}); on Debian: apt install libportaudio2") from err
        try:
            self._stream = sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32",
                                          blocksize=self.blocksize, device=self.device, callback=self._callback)
            self._stream.start()
        except Exception as err:  # sd.PortAudioError, ValueError for a bad device
            self._stream = None
            raise BackendError(f"cannot open audio input {self.device!r} ({err}); see python -m sounddevice "
                               "for the devices") from err
        try:
            info = sd.query_devices(self._stream.device)
            self.where = f"{info['name']}, {self._stream.latency * 1000:.1f} ms input latency"
        except Exception:  # only a description
            self.where = f"audio input {self.device!r}"
        super().start()

    # ------------------------------------------------------------ PortAudio's thread: copy, hand over, nothing else

    def _callback(self, indata, frames, time_info, status) -> None:
        now = time.perf_counter()
        if status and getattr(status, "input_overflow", False) and self._written > SETTLE_BLOCKS:
            self.overflows += 1
        slot = self._written % RING
        n = min(frames, self.blocksize)
        self._ring[slot, :n] = indata[:n, 0]
        self._frames[slot] = n
        # the block's first sample's ADC time, on time.perf_counter (PortAudio's stream clocks are the streams')
        self._adc[slot] = (self._clock.stamp(now, time_info.currentTime, time_info.inputBufferAdcTime, n)
                           if time_info else now)
        self._written += 1
        try:
            self._slots.put_nowait(slot)
        except queue.Full:
            self.dropped += 1

    # ------------------------------------------------------------ the dd-audio-in thread

    def _run(self) -> None:
        from collections import deque

        from ..sound.onsets import OnsetDetector

        self._det = OnsetDetector()
        self._seen = 0                             # samples fed to the detector
        self._history: list[tuple[np.ndarray, np.ndarray]] = []
        self._calibrate_at = int(FIRST_S * SAMPLE_RATE)   # FIRST_S, twice that ... WINDOW_S, then every CALIBRATE_S
        self._measured = False
        waiting: deque[tuple[np.ndarray, float]] = deque()   # blocks whose drums audio out has not played yet
        while not self._stop.is_set():
            try:
                slot = self._slots.get(timeout=0.01)
                n = int(self._frames[slot])
                waiting.append((self._ring[slot, :n].copy(), float(self._adc[slot])))
            except queue.Empty:
                pass
            # with audio out, a block waits until what was played TAP_AHEAD_S after it is in the tap
            ready = time.perf_counter() - TAP_AHEAD_S - self.blocksize / SAMPLE_RATE
            while waiting and (self.tap is None or waiting[0][1] <= ready):
                self._block(*waiting.popleft())

    def _block(self, block: np.ndarray, adc: float) -> None:
        """One input block through the detector (the dd-audio-in thread), its onsets handed over."""
        from ..sound.onsets import loopback

        det, n = self._det, block.size
        ref = np.zeros(n, dtype=np.float32)
        self.blocks += 1
        if self.tap is not None:
            self.tap.read_into(ref, adc + TAP_AHEAD_S)
            self._history.append((block, ref))
            self._history = self._history[-int(WINDOW_S * SAMPLE_RATE / self.blocksize):]
            if self._seen >= self._calibrate_at and any(r.any() for _, r in self._history):
                span = sum(b.size for b, _ in self._history)
                full = span + self.blocksize > WINDOW_S * SAMPLE_RATE            # the window holds WINDOW_S
                self._calibrate_at = self._seen + (int(CALIBRATE_S * SAMPLE_RATE) if full else span)
                delay, gain = loopback(np.concatenate([b for b, _ in self._history]),
                                       np.concatenate([r for _, r in self._history]))
                self.bleed = (delay, gain) if gain >= MIN_BLEED else (0, 0.0)
                det.set_bleed(*self.bleed)
                self._measured = True
        unsure = self.tap is not None and not self._measured and ref.any()   # drums playing, their way unknown
        for at in det.process(block, ref if det.gain else None):
            self.onsets += 1
            if unsure:
                self.unsure += 1
                continue
            self.kept += bool(self.on_onset(adc + (at - self._seen) / SAMPLE_RATE))
        self._seen += n

    def stop(self) -> None:
        super().stop()
        from .audio_out import close_stream

        stream, self._stream = self._stream, None
        if close_stream(stream):
            log.info("audio in: %d blocks, %d dropped (the detector fell behind), %d onsets, %d kept by takes",
                     self.blocks, self.dropped, self.onsets, self.kept)
