"""The default kit: drum one-shots synthesized from code, released CC0.

``build_kit(out_dir)`` writes every sample as 44.1 kHz mono 16-bit WAV into a
folder per category, plus ``kit.json`` (category, duration in seconds, peak and
RMS level in dBFS, spectral centroid in Hz). The build is deterministic: each
sample has its own seeded generator, filters run in plain double precision, so
the same dd_live version writes the same bytes.

Two kits share the folder. The default kit is a performer's: drum-machine-style
voices a producer would keep in a track (kicks, snares, claps, rims, hats,
cymbals, toms, bells, percussion). The research kit (``--samples research``) adds,
like DeepDrummer's collection, deliberately unpleasant sounds (harsh high tones,
noise bursts, zaps: :data:`RESEARCH_CATEGORIES`), so that a critic's learning to
avoid them can be measured; kit.json marks them ``research_only``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import SAMPLE_RATE, __version__
from .audio import write_bytes, write_wav
from .categories import CATEGORIES, RESEARCH_CATEGORIES, RESEARCH_KIT
from .voices import finish, kick, snare, clap, rim, hat, cymbal, tom, bell, perc, zap, harsh

SR = SAMPLE_RATE
KIT_SEED = 20201
LICENSE_TEXT = (
    "dd_live default kit\n\n"
    "These sounds were synthesized by dd_live's own code (dd_live/sound/voices.py).\n"
    "To the extent possible under law, the dd_live authors have waived all copyright\n"
    "and related rights to them: CC0 1.0 Universal,\n"
    "https://creativecommons.org/publicdomain/zero/1.0/\n"
)


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
        out.append((voice, finish(voice.make(rng), peak_db=voice.peak_db)))
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
        entries.append({"file": rel, "category": voice.category, **describe(pcm),
                        **({"research_only": True} if voice.category in RESEARCH_CATEGORIES else {})})
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


def listing(folder: Path | None = None) -> tuple[list[str], Any]:
    """One line per sample of a kit (the default kit if None, the research kit if ``research``; a kit's kit.json
    adds levels and centroid) or of a sample folder: category, duration (s), key; and the library read."""
    from .samples import default_kit_dir, load_kit, load_library

    meta: dict[str, dict] = {}
    research = folder is not None and str(folder) == RESEARCH_KIT and not folder.exists()
    if research:
        folder = None
    if folder is None or (folder / "kit.json").is_file():
        lib = load_kit(folder, research=research)
        meta = {e["file"]: e for e in json.loads(((folder or default_kit_dir()) / "kit.json").read_text())["samples"]}
    else:
        lib = load_library([folder])
    lines = []
    for s in lib.samples:
        m = meta.get(s.key)
        extra = (f"  peak {m['peak_db']:6.1f} dB  rms {m['rms_db']:6.1f} dB  centroid {m['centroid_hz']:7.0f} Hz"
                 if m else "")
        lines.append(f"{s.category:11s} {s.length / SR:6.3f} s  {s.key}{extra}")
    return lines, lib


def check_report(folder: Path) -> str:
    """``dd-live kit check``: one line per file of ``folder`` that would be skipped and why, then a count of
    the usable samples by category (read afresh, not from the cache)."""
    from collections import Counter

    from .samples import load_library

    lib = load_library([folder], use_cache=False)
    counts = Counter(s.category for s in lib.samples)
    cats = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
    return "\n".join([*(str(s) for s in lib.skipped),
                      f"{len(lib)} usable sample(s) ({cats or 'none'}), {len(lib.skipped)} would be skipped"])
