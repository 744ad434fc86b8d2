"""Onsets of a human's instrument in an audio input, in blocks as they arrive, with the drums' own sound taken
out (``serve --audio-in``; numpy only).

**Detection** is spectral flux (Bello et al., "A Tutorial on Onset Detection in Music Signals", 2005): frames of
:data:`FRAME` samples every :data:`HOP` (2.9 ms at 44.1 kHz), log-compressed magnitudes, the sum of their
rises over the frame :data:`LAG` hops before, maximum-filtered over neighbouring bins (SuperFlux, Böck and
Widmer 2013: a decaying or beating sound's small rises are not a new note); a frame is an onset where its flux is a local peak over the last :data:`PEAK_FRAMES`
frames, stands :data:`THRESHOLD` robust deviations (median absolute deviation) above the median of the last
:data:`HISTORY_S` and at least :data:`RELATIVE` of its largest flux, at least :data:`MIN_GAP_S` after the
previous onset. The frame says only that a new sound
entered its 11.6 ms window, so each onset is then placed in the time domain: the first sample, back from the
peak, where the envelope (1 ms RMS) of what is new rose past half of its rise (**backtracking**).

**The drums' own sound**: rolypoly~ listens to its own output as well as the human. Where the input also hears
the drums (a microphone in the room, a mixer's sum), :class:`OnsetDetector` is given what the drums played
(``reference``, the audio out's blocks) with the loopback's delay and gain (:func:`loopback`, measured by
cross-correlation): their spectrum (each bin's largest over the frame and its neighbours a hop either side, so a
reference a few samples off still covers a hit) is subtracted from the input's before the flux (magnitudes,
floored at zero) and their waveform before the backtracking, so a drum hit adds no onset and a human note played with it
is still heard.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from .. import SAMPLE_RATE

FRAME = 512               # samples per analysis frame (11.6 ms)
HOP = 128                 # samples between frames (2.9 ms)
PEAK_FRAMES = 4           # an onset's flux is the largest of this many frames around it
THRESHOLD = 6.0           # robust deviations above the median flux
HISTORY_S = 1.5           # the median and deviation are over this much flux (s)
MIN_GAP_S = 0.03          # onsets closer than this are one (s)
FLOOR = 1e-3              # flux of silence: the threshold never falls below FLOOR x THRESHOLD ...
RELATIVE = 0.15           # ... nor below this share of the largest flux of the last HISTORY_S (a note's own
                          # decay, heard after silence, is not a new note)
COMPRESS = 100.0          # log(1 + COMPRESS |X|)
LAG = 2                   # frames back each frame is compared with, after a maximum over neighbouring bins
ENVELOPE_S = 0.001        # the backtracking envelope's RMS window (s)
OVERSUBTRACT = 1.2        # the drums' spectrum taken off a little over their measured gain (a room colours them)


def loopback(received: np.ndarray, sent: np.ndarray, *, most_s: float = 0.5,
             sample_rate: int = SAMPLE_RATE) -> tuple[int, float]:
    """(delay in samples, gain) of ``sent`` (what audio out played) inside ``received`` (the input at the same
    time), from their cross-correlation up to ``most_s`` of delay: the drums' path back into the input."""
    x = np.asarray(received, dtype=np.float64)
    y = np.asarray(sent, dtype=np.float64)
    n = min(x.size, y.size)
    most = min(int(most_s * sample_rate), n - 1)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    corr = np.fft.irfft(np.fft.rfft(x[:n], size) * np.conj(np.fft.rfft(y[:n], size)), size)[: most + 1]
    d = int(np.argmax(corr))
    energy = float(np.dot(y[: n - d], y[: n - d]))
    return d, (float(corr[d]) / energy if energy > 0 else 0.0)


class OnsetDetector:
    """Streaming onsets: feed blocks (any size) with :meth:`process`; onset times are in samples from the first
    one fed. ``delay`` and ``gain``: the drums' path into the input (:func:`loopback`), used with ``reference``
    blocks of the same length as the input's (what audio out played at the same time)."""

    def __init__(self, *, sample_rate: int = SAMPLE_RATE, delay: int = 0, gain: float = 0.0) -> None:
        self.rate, self.delay, self.gain = sample_rate, int(delay), float(gain)
        self._window = np.hanning(FRAME).astype(np.float64)
        self._x = np.zeros(0)                 # input not yet framed, from sample self._x0
        self._r = np.zeros(self.delay)        # reference, delayed, aligned with self._x
        self._x0 = 0
        self._prev: deque[np.ndarray] = deque(maxlen=LAG)   # the last frames' magnitudes (input minus drums)
        self._last_drums: np.ndarray | None = None
        self._flux: deque[tuple[int, float]] = deque(maxlen=PEAK_FRAMES * 2 + 1)
        self._history: deque[float] = deque(maxlen=int(HISTORY_S * sample_rate / HOP))
        self._last = -10 ** 12
        self._keep = np.zeros(0)              # residual waveform kept for backtracking
        self._keep0 = 0

    def set_bleed(self, delay: int, gain: float) -> None:
        """A new measure of the drums' path into the input (:func:`loopback`), from the next block on."""
        shift = int(delay) - self.delay
        self._r = np.concatenate([np.zeros(shift), self._r]) if shift > 0 else self._r[-shift:]
        self.delay, self.gain = int(delay), float(gain)
        self._prev.clear()        # frames before the change are not compared with frames after it

    def process(self, block: np.ndarray, reference: np.ndarray | None = None) -> list[int]:
        """Onsets (sample index from the stream's start) found once ``block`` arrived; the drums' ``reference``
        for the same samples when the input hears them."""
        block = np.asarray(block, dtype=np.float64).ravel()
        ref = np.zeros(block.size) if reference is None else np.asarray(reference, dtype=np.float64).ravel()
        self._x = np.concatenate([self._x, block])
        self._r = np.concatenate([self._r, ref])
        resid = block - self.gain * self._r[self._x.size - block.size: self._x.size] if self.gain else block
        self._keep = np.concatenate([self._keep, resid])
        found = []
        while self._x.size >= FRAME:
            frame = self._x[:FRAME] * self._window
            mag = np.abs(np.fft.rfft(frame))
            if self.gain:
                drums = self._drums()
                mag = np.maximum(mag - OVERSUBTRACT * self.gain * drums, 0.0)
            mag = np.log1p(COMPRESS * mag)
            if len(self._prev) == LAG:
                before = self._prev[0]
                before = np.maximum(np.maximum(before, np.roll(before, 1)), np.roll(before, -1))
                flux = float(np.sum(np.maximum(mag - before, 0.0))) / mag.size
                found += self._peak(self._x0 + FRAME, flux)
            self._prev.append(mag)
            self._x, self._r, self._x0 = self._x[HOP:], self._r[HOP:], self._x0 + HOP
        # keep enough residual waveform to backtrack over the frames still undecided
        keep = FRAME * 2 + HOP * (PEAK_FRAMES + 2)
        if self._keep.size > keep:
            cut = self._keep.size - keep
            self._keep, self._keep0 = self._keep[cut:], self._keep0 + cut
        return found

    def _drums(self) -> np.ndarray:
        """The drums' magnitudes in this frame, the largest of it and the frames a hop before and after: stamps a
        few samples apart from block to block then still take a drum hit out whole."""
        now = np.abs(np.fft.rfft(self._r[:FRAME] * self._window))
        ahead = self._r[HOP:HOP + FRAME]
        out = now if self._last_drums is None else np.maximum(now, self._last_drums)
        if ahead.size == FRAME:
            out = np.maximum(out, np.abs(np.fft.rfft(ahead * self._window)))
        self._last_drums = now
        return out

    def _peak(self, end: int, flux: float) -> list[int]:
        """Add one frame's flux (its window ends at sample ``end``); an onset when the frame PEAK_FRAMES back is a
        peak above the threshold."""
        self._flux.append((end, flux))
        self._history.append(flux)
        if len(self._flux) < self._flux.maxlen:
            return []
        mid = len(self._flux) // 2
        end_mid, f = self._flux[mid]
        if f < max(v for _, v in self._flux) or f <= 0:
            return []
        hist = np.fromiter(self._history, dtype=np.float64)
        med = float(np.median(hist))
        mad = float(np.median(np.abs(hist - med))) * 1.4826
        if f < max(med + THRESHOLD * max(mad, FLOOR), RELATIVE * float(hist.max())):
            return []
        at = self._backtrack(end_mid)
        if at - self._last < MIN_GAP_S * self.rate:
            return []
        self._last = at
        return [at]

    def _backtrack(self, end: int) -> int:
        """Where, in the frame ending at sample ``end`` (and the hop before it), the new sound began: the first
        sample whose envelope passes half way from the quiet before to the peak."""
        lo, hi = max(end - FRAME - HOP, self._keep0), min(end, self._keep0 + self._keep.size)
        seg = self._keep[lo - self._keep0: hi - self._keep0]
        if seg.size < 8:
            return end - FRAME // 2
        w = max(int(ENVELOPE_S * self.rate), 1)
        env = np.sqrt(np.convolve(seg ** 2, np.ones(w) / w, mode="same"))
        top = int(np.argmax(env))
        base = float(np.min(env[: top + 1]))
        half = base + 0.5 * (float(env[top]) - base)
        rise = int(np.argmax(env[: top + 1] >= half))
        return lo + rise
