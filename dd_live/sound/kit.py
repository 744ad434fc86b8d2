"""The default kit: drum one-shots synthesized from code, released CC0.

``build_kit(out_dir)`` writes every sample as 44.1 kHz mono 16-bit WAV into a
folder per category, plus ``kit.json`` (category, duration in seconds, peak and
RMS level in dBFS, spectral centroid in Hz). The build is deterministic: each
sample has its own seeded generator, filters run in plain double precision, so
the same dd_live version writes the same bytes.

Like DeepDrummer's collection, the kit mixes classic drum-machine-style voices
with a few deliberately unpleasant ones (harsh high tones, noise bursts), so a
critic can learn that they are unwanted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE, __version__
from .audio import write_bytes, write_wav

SR = SAMPLE_RATE
KIT_SEED = 20201
CATEGORIES = (
    "kick", "snare", "clap", "rim", "hat_closed", "hat_open", "crash", "ride",
    "tom", "bell", "perc", "zap", "harsh",
)
LICENSE_TEXT = (
    "dd_live default kit\n\n"
    "These sounds were synthesized by dd_live's own code (dd_live/kit.py).\n"
    "To the extent possible under law, the dd_live authors have waived all copyright\n"
    "and related rights to them: CC0 1.0 Universal,\n"
    "https://creativecommons.org/publicdomain/zero/1.0/\n"
)


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


def _finish(x: np.ndarray, *, peak_db: float = -1.0, floor_db: float = -60.0, fade_s: float = 0.004) -> np.ndarray:
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


# ---------------------------------------------------------------- the kit

@dataclass(frozen=True)
class Voice:
    """One sample of the kit: its category, file name and how to make it."""

    category: str
    name: str
    make: Callable[[np.random.Generator], np.ndarray]
    peak_db: float = -1.0


def _voices() -> list[Voice]:
    v: list[Voice] = []

    def add(category: str, name: str, make: Callable[[np.random.Generator], np.ndarray], peak_db: float = -1.0) -> None:
        v.append(Voice(category, name, make, peak_db))

    kicks = [  # name, f_end, f_start, pitch_tau, amp_tau, click, drive
        ("808_long", 48, 160, 0.045, 0.55, 0.10, 1.0), ("808_mid", 52, 170, 0.04, 0.32, 0.12, 1.0),
        ("808_short", 55, 180, 0.035, 0.14, 0.15, 1.0), ("909", 56, 260, 0.016, 0.22, 0.45, 1.6),
        ("909_tight", 60, 280, 0.012, 0.12, 0.5, 1.8), ("techno", 50, 240, 0.02, 0.3, 0.35, 3.5),
        ("techno_dry", 54, 230, 0.018, 0.15, 0.4, 3.0), ("sub", 38, 110, 0.06, 0.7, 0.05, 1.0),
        ("deep", 42, 130, 0.05, 0.45, 0.08, 1.2), ("punch", 62, 300, 0.01, 0.1, 0.6, 2.2),
        ("thump", 70, 150, 0.03, 0.09, 0.25, 1.0), ("hard", 58, 320, 0.014, 0.2, 0.55, 5.0),
        ("round", 47, 140, 0.05, 0.25, 0.1, 1.4), ("click", 64, 400, 0.008, 0.08, 0.9, 1.5),
        ("boom", 36, 120, 0.08, 0.9, 0.06, 1.1), ("lofi", 58, 200, 0.025, 0.18, 0.3, 6.0),
        ("garage", 66, 210, 0.02, 0.16, 0.3, 1.3), ("dusty", 52, 190, 0.03, 0.2, 0.2, 2.5),
    ]
    for i, (name, fe, fs, pt, at, cl, dr) in enumerate(kicks):
        add("kick", f"kick_{i + 1:02d}_{name}", lambda r, a=(fe, fs, pt, at, cl, dr): kick(
            r, f_end=a[0], f_start=a[1], pitch_tau=a[2], amp_tau=a[3], click=a[4], drive=a[5],
            length=min(1.5, a[3] * 6)))
    snares = [  # name, tone, tone_tau, noise_tau, snappy, noise_hz
        ("808", 190, 0.05, 0.09, 0.55, 4000), ("808_snappy", 200, 0.04, 0.12, 0.75, 5000),
        ("909", 220, 0.04, 0.16, 0.65, 6500), ("909_fat", 180, 0.07, 0.2, 0.6, 5500),
        ("tight", 260, 0.025, 0.06, 0.6, 7000), ("crack", 310, 0.02, 0.1, 0.8, 8000),
        ("low", 150, 0.08, 0.14, 0.45, 3500), ("noise", 200, 0.03, 0.18, 0.9, 6000),
        ("tone", 240, 0.09, 0.07, 0.3, 5000), ("bright", 280, 0.03, 0.14, 0.7, 9000),
        ("soft", 200, 0.05, 0.1, 0.5, 3000), ("long", 190, 0.06, 0.3, 0.7, 5000),
        ("piccolo", 380, 0.03, 0.08, 0.6, 8500), ("dub", 170, 0.1, 0.25, 0.55, 4500),
    ]
    for i, (name, hz, tt, nt, sn, nh) in enumerate(snares):
        add("snare", f"snare_{i + 1:02d}_{name}", lambda r, a=(hz, tt, nt, sn, nh): snare(
            r, tone_hz=a[0], tone_tau=a[1], noise_tau=a[2], snappy=a[3], noise_hz=a[4], length=min(1.2, a[2] * 7)))
    claps = [(3, 0.009, 0.12, 1200), (4, 0.011, 0.18, 1100), (3, 0.007, 0.08, 1500), (4, 0.013, 0.25, 1000),
             (5, 0.008, 0.15, 1300), (3, 0.012, 0.35, 900), (2, 0.01, 0.1, 1800), (4, 0.009, 0.2, 1400)]
    for i, (n, sp, tt, c) in enumerate(claps):
        add("clap", f"clap_{i + 1:02d}", lambda r, a=(n, sp, tt, c): clap(r, bursts=a[0], spacing=a[1], tail_tau=a[2], centre=a[3]))
    for i, (f1, f2, tau) in enumerate([(1700, 500, 0.012), (1900, 620, 0.01), (1500, 420, 0.018),
                                        (2200, 800, 0.008), (1300, 480, 0.025), (2500, 950, 0.006)]):
        add("rim", f"rim_{i + 1:02d}", lambda r, a=(f1, f2, tau): rim(r, f1=a[0], f2=a[1], tau=a[2]))
    closed = [(0.035, 1.0, 0.2, 9500), (0.05, 1.0, 0.3, 8500), (0.025, 1.1, 0.1, 10500), (0.07, 0.9, 0.4, 8000),
              (0.03, 1.3, 0.0, 11000), (0.045, 1.0, 0.7, 9000), (0.02, 1.0, 0.9, 12000), (0.06, 1.2, 0.5, 10000),
              (0.04, 0.8, 0.2, 7500), (0.09, 1.0, 0.3, 9000), (0.028, 1.4, 0.4, 12500), (0.055, 1.1, 1.0, 8500),
              (0.038, 0.95, 0.6, 9800), (0.033, 1.05, 0.25, 11500)]
    for i, (tau, sc, nm, hz) in enumerate(closed):
        add("hat_closed", f"hat_closed_{i + 1:02d}", lambda r, a=(tau, sc, nm, hz): hat(
            r, tau=a[0], scale=a[1], noise_mix=a[2], tone_hz=a[3], length=a[0] * 8), peak_db=-3.0)
    opened = [(0.25, 1.0, 0.2, 9000), (0.4, 1.0, 0.3, 8500), (0.18, 1.1, 0.1, 10000), (0.55, 0.9, 0.4, 8000),
              (0.3, 1.2, 0.6, 9500), (0.22, 1.3, 0.0, 11000), (0.35, 1.0, 0.8, 10500), (0.45, 1.05, 0.5, 9000)]
    for i, (tau, sc, nm, hz) in enumerate(opened):
        add("hat_open", f"hat_open_{i + 1:02d}", lambda r, a=(tau, sc, nm, hz): hat(
            r, tau=a[0], scale=a[1], noise_mix=a[2], tone_hz=a[3], length=min(1.6, a[0] * 6), attack=0.002), peak_db=-3.0)
    for i, (tau, sc, nm, hp) in enumerate([(0.9, 1.0, 0.5, 4000), (1.3, 1.1, 0.6, 3500), (0.6, 1.2, 0.7, 5000),
                                           (1.6, 0.9, 0.4, 3000), (1.0, 1.3, 0.8, 4500)]):
        add("crash", f"crash_{i + 1:02d}", lambda r, a=(tau, sc, nm, hp): cymbal(
            r, tau=a[0], scale=a[1], noise_mix=a[2], bell=0.2, hp_hz=a[3], length=min(3.0, a[0] * 5)), peak_db=-3.0)
    for i, (tau, sc, bl) in enumerate([(0.8, 1.4, 1.0), (1.1, 1.2, 0.6), (0.6, 1.6, 1.5)]):
        add("ride", f"ride_{i + 1:02d}", lambda r, a=(tau, sc, bl): cymbal(
            r, tau=a[0], scale=a[1], noise_mix=0.15, bell=a[2], hp_hz=6000, length=min(3.0, a[0] * 5)), peak_db=-4.0)
    toms = [(80, 0.35, 0.4), (95, 0.3, 0.35), (110, 0.28, 0.4), (130, 0.25, 0.3), (150, 0.22, 0.35), (175, 0.2, 0.3),
            (200, 0.18, 0.3), (230, 0.16, 0.25), (90, 0.5, 0.8), (140, 0.4, 0.8), (190, 0.3, 0.8), (260, 0.12, 0.2)]
    for i, (hz, tau, bend) in enumerate(toms):
        add("tom", f"tom_{i + 1:02d}_{hz}hz", lambda r, a=(hz, tau, bend): tom(r, hz=a[0], tau=a[1], bend=a[2], length=min(1.5, a[1] * 6)))
    bells = [("cowbell_808", 540, (1.0, 800 / 540), 0.09, True, 2600), ("cowbell_low", 460, (1.0, 1.48), 0.12, True, 2000),
             ("cowbell_short", 560, (1.0, 1.48), 0.05, True, 2800), ("agogo_high", 900, (1.0, 2.76, 5.4), 0.12, False, 0),
             ("agogo_low", 620, (1.0, 2.76, 5.4), 0.15, False, 0), ("bell_glass", 1500, (1.0, 2.32, 4.25, 6.63), 0.3, False, 0),
             ("bell_metal", 780, (1.0, 2.0, 2.92, 4.16), 0.4, False, 0), ("triangle", 3200, (1.0, 2.1, 3.3), 0.5, False, 0)]
    for i, (name, hz, ratios, tau, sq, bp) in enumerate(bells):
        add("bell", f"bell_{i + 1:02d}_{name}",
            lambda r, a=(hz, ratios, tau, sq, bp): bell(r, hz=a[0], ratios=a[1], tau=a[2], square=a[3], bp_hz=a[4],
                                                       length=min(2.0, a[2] * 6)), peak_db=-3.0)
    percs = [("shaker", 6500, 0.05), ("shaker", 8000, 0.035), ("shaker", 5000, 0.08), ("tambourine", 7000, 0.12),
             ("tambourine", 6000, 0.2), ("conga", 330, 0.18), ("conga", 220, 0.22), ("bongo", 420, 0.1),
             ("bongo", 520, 0.08), ("clave", 2500, 0.03), ("woodblock", 1100, 0.0), ("woodblock", 1600, 0.0)]
    for i, (kind, hz, tau) in enumerate(percs):
        add("perc", f"perc_{i + 1:02d}_{kind}", lambda r, a=(kind, hz, tau): perc(r, kind=a[0], hz=a[1], tau=a[2]), peak_db=-3.0)
    zaps = [(3000, 80, 0.02, 0.0, "sine", 0.25), (5000, 120, 0.012, 0.0, "sine", 0.15), (2000, 200, 0.04, 0.0, "square", 0.2),
            (1200, 1150, 0.5, 0.0, "square", 0.06), (1800, 1790, 0.5, 0.0, "sine", 0.05), (4000, 60, 0.05, 3.0, "sine", 0.4),
            (800, 3000, 0.05, 0.0, "sine", 0.15), (2500, 400, 0.03, 6.0, "square", 0.3), (6000, 300, 0.008, 0.0, "sine", 0.1),
            (900, 100, 0.08, 2.0, "sine", 0.35)]
    for i, (fs, fe, tau, fm, wave, ln) in enumerate(zaps):
        add("zap", f"zap_{i + 1:02d}", lambda r, a=(fs, fe, tau, fm, wave, ln): zap(
            r, f_start=a[0], f_end=a[1], tau=a[2], fm=a[3], wave=a[4], length=a[5]), peak_db=-3.0)
    harshes = [("tone", 9000, 0.4), ("tone", 13500, 0.3), ("square", 6200, 0.25), ("noise", 0, 0.5),
               ("noise", 0, 0.15), ("buzz", 2900, 0.35), ("crush", 0, 0.4), ("clicks", 350, 0.45)]
    for i, (kind, hz, ln) in enumerate(harshes):
        add("harsh", f"harsh_{i + 1:02d}_{kind}", lambda r, a=(kind, hz, ln): harsh(r, kind=a[0], hz=a[1], length=a[2]))
    return v


def describe(audio: np.ndarray) -> dict[str, float]:
    """Duration (s), peak and RMS level (dBFS) and spectral centroid (Hz) of a mono buffer."""
    x = np.asarray(audio, dtype=np.float64)
    peak = float(np.max(np.abs(x)))
    rms = float(np.sqrt(np.mean(x * x)))
    mag = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(x.size, 1.0 / SR)
    centroid = float(np.sum(freqs * mag) / np.sum(mag)) if np.sum(mag) > 0 else 0.0

    def db(a: float) -> float:
        return round(20 * math.log10(a), 2) if a > 0 else -120.0

    return {"duration": round(x.size / SR, 4), "peak_db": db(peak), "rms_db": db(rms), "centroid_hz": round(centroid, 1)}


def synthesize() -> list[tuple[Voice, np.ndarray]]:
    """Every voice of the kit with its audio (mono float64 at 44.1 kHz), in kit order."""
    out = []
    for index, voice in enumerate(_voices()):
        rng = np.random.default_rng([KIT_SEED, index])
        out.append((voice, _finish(voice.make(rng), peak_db=voice.peak_db)))
    return out


def build_kit(out_dir: Path, *, force: bool = True) -> Path:
    """Synthesize the default kit into ``out_dir``; returns the path of its kit.json.

    Existing kit files are replaced (the build is deterministic, so an unchanged
    version rewrites identical bytes).
    """
    out_dir = Path(out_dir)
    entries = []
    for voice, audio in synthesize():
        rel = f"{voice.category}/{voice.name}.wav"
        # Quantise exactly as the file will hold it, so the metadata describes the file.
        pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0) / 32767.0
        write_wav(out_dir / rel, pcm.astype(np.float32), bits=16, force=force)
        entries.append({"file": rel, "category": voice.category, **describe(pcm)})
    meta = {
        "name": "dd_live default kit",
        "version": __version__,
        "license": "CC0-1.0",
        "sample_rate": SR,
        "categories": list(CATEGORIES),
        "samples": entries,
    }
    write_bytes(out_dir / "LICENSE.txt", LICENSE_TEXT.encode(), force=force)
    kit_json = out_dir / "kit.json"
    write_bytes(kit_json, (json.dumps(meta, indent=1) + "\n").encode(), force=force)
    return kit_json
