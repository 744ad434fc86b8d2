"""Test material for the audio input's onset detector: a guitar (Karplus-Strong plucks) and hand claps at known
times, and a drum loop from the default kit to play beside them (what the input hears of dd_live's own output).
Deterministic for a seed."""

from __future__ import annotations

import numpy as np

from .. import SAMPLE_RATE


def pluck(rng: np.random.Generator, hz: float, seconds: float = 0.6, *, damping: float = 0.996) -> np.ndarray:
    """A plucked string (Karplus-Strong): a burst of noise through a delay line of one period, averaged."""
    period = max(int(round(SAMPLE_RATE / hz)), 2)
    n = int(seconds * SAMPLE_RATE)
    out = np.empty(n)
    line = rng.uniform(-1, 1, period)
    for i in range(n):   # the loop is the instrument; a test's notes are short
        k = i % period
        out[i] = line[k]
        line[k] = damping * 0.5 * (line[k] + line[(k + 1) % period])
    return out * np.exp(-np.arange(n) / (0.25 * SAMPLE_RATE))


def human_track(seconds: float, *, bpm: float = 120.0, seed: int = 0, jitter_ms: float = 8.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """(audio, onset samples): guitar plucks on most eighths and a clap on 2 and 4, each a little off the grid,
    never two within 60 ms."""
    from ..sound.samples import load_kit

    rng = np.random.default_rng(seed)
    kit = load_kit()
    claps = [i for i, s in enumerate(kit.samples) if s.category == "clap"]
    clap = kit.audio(claps[0]).astype(np.float64)
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n + SAMPLE_RATE)
    onsets = []
    eighth = 30.0 / bpm
    t = 0.25
    k = 0
    while t < seconds - 0.5:
        at = int((t + rng.normal(0, jitter_ms / 1e3)) * SAMPLE_RATE)
        if k % 4 == 2:
            out[at: at + clap.size] += 0.7 * clap
            onsets.append(at)
        elif rng.random() < 0.8:
            note = pluck(rng, float(rng.choice([82.4, 110.0, 146.8, 196.0, 246.9, 329.6])), 0.5)
            out[at: at + note.size] += 0.6 * note
            onsets.append(at)
        t += eighth
        k += 1
    return out[:n], np.array(onsets)


def drum_loop(seconds: float, *, bpm: float = 120.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(audio, hit samples): kick, snare and closed hat of the default kit on a plain rock beat."""
    from ..sound.samples import load_kit

    kit = load_kit()
    pick = {c: next(i for i, s in enumerate(kit.samples) if s.category == c) for c in ("kick", "snare", "hat_closed")}
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n + SAMPLE_RATE)
    hits = []
    step = 15.0 / bpm
    k = 0
    while k * step < seconds - 0.5:
        at = int((0.1 + k * step) * SAMPLE_RATE)
        s = k % 16
        for cat, on in (("kick", s in (0, 8, 10)), ("snare", s in (4, 12)), ("hat_closed", s % 2 == 0)):
            if on:
                y = kit.audio(pick[cat]).astype(np.float64)
                out[at: at + y.size] += 0.5 * y
        if s in (0, 4, 8, 10, 12) or s % 2 == 0:
            hits.append(at)
        k += 1
    return out[:n], np.array(hits)
