"""The default kit's voices: drum one-shots synthesized from code (filters in plain double precision,
so each voice is deterministic given its generator). Each voice function returns mono float64 audio
at the sample rate; :mod:`dd_live.sound.kit` names, seeds, finishes and writes them."""

from __future__ import annotations

import math

import numpy as np

from .. import SAMPLE_RATE

SR = SAMPLE_RATE


# ---------------------------------------------------------------- primitives

def _t(seconds: float) -> np.ndarray:
    return np.arange(int(round(seconds * SR)), dtype=np.float64) / SR


def _phase(freq: np.ndarray) -> np.ndarray:
    """Phase in radians of an oscillator whose frequency (Hz) varies per sample."""
    return 2.0 * np.pi * np.cumsum(freq) / SR


def _square(phase: np.ndarray) -> np.ndarray:
    return np.where(np.sin(phase) >= 0.0, 1.0, -1.0)


def _decay(t: np.ndarray, tau: float) -> np.ndarray:
    return np.exp(-t / tau)


def _attack(t: np.ndarray, seconds: float) -> np.ndarray:
    return np.clip(t / seconds, 0.0, 1.0) if seconds > 0 else np.ones_like(t)


def _biquad(x: np.ndarray, kind: str, freq: float, q: float = 0.707, gain_db: float = 0.0) -> np.ndarray:
    """RBJ-cookbook biquad run sample by sample in Python floats (bit-reproducible)."""
    w0 = 2.0 * math.pi * min(freq, SR * 0.45) / SR
    cw, sw = math.cos(w0), math.sin(w0)
    alpha = sw / (2.0 * q)
    if kind == "lowpass":
        b = ((1 - cw) / 2, 1 - cw, (1 - cw) / 2)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "highpass":
        b = ((1 + cw) / 2, -(1 + cw), (1 + cw) / 2)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "bandpass":
        b = (alpha, 0.0, -alpha)
        a = (1 + alpha, -2 * cw, 1 - alpha)
    elif kind == "peak":
        amp = 10 ** (gain_db / 40)
        b = (1 + alpha * amp, -2 * cw, 1 - alpha * amp)
        a = (1 + alpha / amp, -2 * cw, 1 - alpha / amp)
    else:
        raise ValueError(f"unknown filter kind {kind!r}")
    b0, b1, b2 = (c / a[0] for c in b)
    a1, a2 = a[1] / a[0], a[2] / a[0]
    out = []
    x1 = x2 = y1 = y2 = 0.0
    for xn in x.tolist():
        yn = b0 * xn + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        out.append(yn)
        x2, x1, y2, y1 = x1, xn, y1, yn
    return np.array(out, dtype=np.float64)


def _metal(t: np.ndarray, scale: float = 1.0, freqs: tuple[float, ...] = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)) -> np.ndarray:
    """Six detuned square waves, the classic analogue cymbal/hat source."""
    return sum(_square(2 * np.pi * f * scale * t + k) for k, f in enumerate(freqs)) / len(freqs)


def finish(x: np.ndarray, *, peak_db: float = -1.0, floor_db: float = -60.0, fade_s: float = 0.004) -> np.ndarray:
    """Trim the silent tail, fade the last few ms, remove DC and normalise the peak (dBFS)."""
    peak = float(np.max(np.abs(x)))
    if peak == 0.0:
        raise ValueError("synthesized silence")
    x = x / peak
    above = np.nonzero(np.abs(x) > 10 ** (floor_db / 20))[0]
    end = int(above[-1]) + 1 if above.size else x.size
    x = x[: max(end, int(0.02 * SR))].copy()
    n = min(int(fade_s * SR), x.size)
    x[-n:] *= np.linspace(1.0, 0.0, n)
    return x * 10 ** (peak_db / 20)


# ---------------------------------------------------------------- voices

def kick(rng: np.random.Generator, *, f_end: float, f_start: float, pitch_tau: float, amp_tau: float,
         click: float = 0.3, drive: float = 1.0, length: float = 1.0) -> np.ndarray:
    t = _t(length)
    f = f_end + (f_start - f_end) * _decay(t, pitch_tau)
    body = np.sin(_phase(f)) * _decay(t, amp_tau) * _attack(t, 0.0015)
    noise = rng.standard_normal(t.size) * _decay(t, 0.0025)
    body = body + click * _biquad(noise, "bandpass", 3500, 0.8)
    if drive > 1.0:
        body = np.tanh(drive * body) / np.tanh(drive)
    return _biquad(body, "highpass", 25, 0.7)


def snare(rng: np.random.Generator, *, tone_hz: float, tone_tau: float, noise_tau: float, snappy: float,
          noise_hz: float = 5000, length: float = 0.7) -> np.ndarray:
    t = _t(length)
    f = tone_hz * (1 + 0.6 * _decay(t, 0.01))
    tone = (np.sin(_phase(f)) + 0.5 * np.sin(_phase(f * 1.63))) * _decay(t, tone_tau)
    noise = _biquad(rng.standard_normal(t.size), "highpass", 1200, 0.7)
    noise = _biquad(noise, "peak", noise_hz, 0.8, 6)
    noise = _biquad(noise, "lowpass", 9000, 0.7) * _decay(t, noise_tau) * _attack(t, 0.001)
    return (1 - snappy) * 1.4 * tone + snappy * 0.6 * noise


def clap(rng: np.random.Generator, *, bursts: int, spacing: float, tail_tau: float, centre: float, length: float = 0.8) -> np.ndarray:
    t = _t(length)
    env = np.zeros_like(t)
    for k in range(bursts):
        tk = t - k * spacing
        env += np.where(tk >= 0, np.exp(-np.maximum(tk, 0) / 0.0045), 0.0) * (0.8 + 0.2 * k / bursts)
    tail_start = bursts * spacing
    tk = t - tail_start
    env += np.where(tk >= 0, 0.55 * np.exp(-np.maximum(tk, 0) / tail_tau), 0.0)
    noise = _biquad(rng.standard_normal(t.size), "bandpass", centre, 1.2)
    return _biquad(noise * env, "highpass", 500, 0.7)


def rim(rng: np.random.Generator, *, f1: float, f2: float, tau: float, length: float = 0.25) -> np.ndarray:
    t = _t(length)
    x = (np.sin(2 * np.pi * f1 * t) + 0.6 * np.sin(2 * np.pi * f2 * t)) * _decay(t, tau)
    x += 0.8 * rng.standard_normal(t.size) * _decay(t, 0.0008)
    return _biquad(x, "bandpass", f1, 1.5) * 2 + 0.3 * x


def hat(rng: np.random.Generator, *, tau: float, scale: float, noise_mix: float, tone_hz: float,
        length: float, attack: float = 0.0005) -> np.ndarray:
    t = _t(length)
    src = (1 - noise_mix) * _metal(t, scale) + noise_mix * rng.standard_normal(t.size) * 0.5
    x = _biquad(src, "bandpass", tone_hz, 0.9)
    x = _biquad(x, "highpass", tone_hz * 0.7, 0.7)
    return x * _decay(t, tau) * _attack(t, attack)


def cymbal(rng: np.random.Generator, *, tau: float, scale: float, noise_mix: float, bell: float,
           hp_hz: float, length: float) -> np.ndarray:
    t = _t(length)
    metal = _metal(t, scale, (205.3, 304.4, 369.6, 522.7, 540.0, 800.0, 1127.0, 1395.0))
    src = (1 - noise_mix) * metal + noise_mix * 0.5 * rng.standard_normal(t.size)
    x = _biquad(src, "highpass", hp_hz, 0.7)
    x = _biquad(x, "peak", hp_hz * 2, 0.7, 4)
    env = _decay(t, tau) * _attack(t, 0.002) * (0.7 + 0.3 * _decay(t, 0.05))
    partials = sum(np.sin(2 * np.pi * f * t) * _decay(t, tau * 0.6) for f in (scale * 2100, scale * 3150, scale * 4720))
    return x * env + bell * 0.2 * partials


def tom(rng: np.random.Generator, *, hz: float, tau: float, bend: float, length: float = 1.0) -> np.ndarray:
    t = _t(length)
    f = hz * (1 + bend * _decay(t, 0.06))
    x = np.sin(_phase(f)) * _decay(t, tau) * _attack(t, 0.001)
    noise = _biquad(rng.standard_normal(t.size), "bandpass", hz * 4, 1.0) * _decay(t, 0.02)
    return x + 0.25 * noise


def bell(rng: np.random.Generator, *, hz: float, ratios: tuple[float, ...], tau: float, square: bool,
         bp_hz: float = 0.0, length: float = 1.2) -> np.ndarray:
    t = _t(length)
    osc = _square if square else np.sin
    x = sum(osc(2 * np.pi * hz * r * t) / (1 + k) for k, r in enumerate(ratios))
    env = _decay(t, tau) * (0.5 + 0.5 * _decay(t, tau / 8)) * _attack(t, 0.0008)
    x = x * env
    if bp_hz:
        x = _biquad(x, "bandpass", bp_hz, 1.4) * 2 + 0.2 * x
    return x


def perc(rng: np.random.Generator, *, kind: str, hz: float, tau: float, length: float = 0.6) -> np.ndarray:
    t = _t(length)
    if kind == "shaker":
        env = _attack(t, 0.012) * _decay(t, tau)
        return _biquad(rng.standard_normal(t.size), "bandpass", hz, 1.5) * env
    if kind == "tambourine":
        jingles = _biquad(rng.standard_normal(t.size), "highpass", hz, 0.7) + 0.5 * _metal(t, 9.0)
        return _biquad(jingles, "highpass", 5000, 0.7) * _decay(t, tau) * _attack(t, 0.002)
    if kind in ("conga", "bongo"):
        f = hz * (1 + 0.08 * _decay(t, 0.03))
        skin = np.sin(_phase(f)) * _decay(t, tau)
        slap = _biquad(rng.standard_normal(t.size), "bandpass", hz * 6, 2.0) * _decay(t, 0.006)
        return skin + 0.4 * slap
    if kind == "clave":
        return np.sin(2 * np.pi * hz * t) * _decay(t, tau) * _attack(t, 0.0003)
    if kind == "woodblock":
        x = rng.standard_normal(t.size) * _decay(t, 0.0015)
        return _biquad(x, "bandpass", hz, 12.0) * 6
    raise ValueError(kind)


def zap(rng: np.random.Generator, *, f_start: float, f_end: float, tau: float, fm: float, wave: str, length: float) -> np.ndarray:
    t = _t(length)
    f = f_end + (f_start - f_end) * _decay(t, tau)
    ph = _phase(f) + fm * np.sin(2 * np.pi * f_start * 0.5 * t) * _decay(t, tau)
    x = _square(ph) * 0.5 if wave == "square" else np.sin(ph)
    x = x * _decay(t, length / 3) * _attack(t, 0.001)
    return _biquad(x, "lowpass", 9000, 0.7) if wave == "square" else x


def harsh(rng: np.random.Generator, *, kind: str, hz: float, length: float) -> np.ndarray:
    t = _t(length)
    flat = _attack(t, 0.001)
    if kind == "tone":
        return np.sin(2 * np.pi * hz * t) * flat
    if kind == "square":
        return _square(2 * np.pi * hz * t) * flat
    if kind == "noise":
        return rng.uniform(-1, 1, t.size) * flat
    if kind == "buzz":
        saw = 2 * ((hz * t) % 1.0) - 1
        return np.clip(4 * saw, -1, 1) * flat
    if kind == "crush":
        steps = np.floor(rng.uniform(-1, 1, t.size // 8 + 1) * 4) / 4
        return np.repeat(steps, 8)[: t.size] * flat
    if kind == "clicks":
        x = np.zeros_like(t)
        x[:: int(SR / hz)] = 1.0
        return x
    raise ValueError(kind)
