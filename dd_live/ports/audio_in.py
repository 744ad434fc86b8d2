"""Audio in (``serve --audio-in DEVICE``): any instrument plays along, its onsets heard in its sound.

PortAudio's input callback only copies each block into a preallocated ring with its ADC time (on
time.perf_counter) and hands the slot's number over a bounded queue; a block that finds the queue full is
counted and dropped. Thread ``dd-audio-in`` reads what audio out played at the same time
(:class:`dd_live.ports.audio_out.OutputTap`), runs :class:`dd_live.sound.onsets.OnsetDetector` and hands each
onset, stamped on time.perf_counter, to ``on_onset``: the take service's, as MIDI in's notes.

The drums' own sound: once :data:`WINDOW_S` of audio has come in, and then every :data:`CALIBRATE_S` of it,
while audio out plays, the last :data:`WINDOW_S` of input and of
what audio out played are cross-correlated (:func:`dd_live.sound.onsets.loopback`); where the input hears them
(gain above :data:`MIN_BLEED`) the detector takes them out with that delay and gain, so a drum hit is never a
human's onset.
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

log = logging.getLogger("dd_live.audio")

BLOCK = 256               # frames per input block (5.8 ms)
RING = 256                # blocks the ring holds (1.5 s): the detector's thread may fall this far behind
CALIBRATE_S = 10.0        # how often the drums' path into the input is measured again (s)
WINDOW_S = 2.0            # over this much audio (s)
MIN_BLEED = 0.05          # a gain below this: the input does not hear the drums


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
        self.where = ""
        self.blocks = self.dropped = self.onsets = self.kept = 0
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
        slot = self._written % RING
        n = min(frames, self.blocksize)
        self._ring[slot, :n] = indata[:n, 0]
        self._frames[slot] = n
        # the block's first sample's ADC time, on time.perf_counter (PortAudio's stream clocks are the streams')
        self._adc[slot] = now - (time_info.currentTime - time_info.inputBufferAdcTime) if time_info else now
        self._written += 1
        try:
            self._slots.put_nowait(slot)
        except queue.Full:
            self.dropped += 1

    # ------------------------------------------------------------ the dd-audio-in thread

    def _run(self) -> None:
        from ..sound.onsets import OnsetDetector, loopback

        det = OnsetDetector()
        seen = 0                                   # samples fed to the detector
        history: list[tuple[np.ndarray, np.ndarray]] = []
        calibrate_at = int(WINDOW_S * SAMPLE_RATE)   # first once the window is full, then every CALIBRATE_S
        while not self._stop.is_set():
            try:
                slot = self._slots.get(timeout=0.1)
            except queue.Empty:
                continue
            n = int(self._frames[slot])
            block, adc = self._ring[slot, :n].copy(), float(self._adc[slot])
            ref = np.zeros(n, dtype=np.float32)
            self.blocks += 1
            if self.tap is not None:
                self.tap.read_into(ref, adc)
                history.append((block, ref))
                history = history[-int(WINDOW_S * SAMPLE_RATE / self.blocksize):]
                if seen >= calibrate_at and any(r.any() for _, r in history):
                    calibrate_at = seen + int(CALIBRATE_S * SAMPLE_RATE)
                    delay, gain = loopback(np.concatenate([b for b, _ in history]),
                                           np.concatenate([r for _, r in history]))
                    self.bleed = (delay, gain) if gain >= MIN_BLEED else (0, 0.0)
                    det.set_bleed(*self.bleed)
            for at in det.process(block, ref if det.gain else None):
                t = adc + (at - seen) / SAMPLE_RATE
                self.onsets += 1
                self.kept += bool(self.on_onset(t))
            seen += n

    def stop(self) -> None:
        super().stop()
        from .audio_out import close_stream

        stream, self._stream = self._stream, None
        if close_stream(stream):
            log.info("audio in: %d blocks, %d dropped (the detector fell behind), %d onsets, %d kept by takes",
                     self.blocks, self.dropped, self.onsets, self.kept)
