"""Benchmarks behind ``dd-live bench``: measured figures for the README, never timed tests.

* ``render``: batched one-bar renders per second (4 x 16 random patterns at the
  reference 120 bpm, density 0.5, samples drawn from the default kit).
* ``load``: a generated library of one-shots in mixed formats (WAV 16/24-bit,
  48 kHz stereo, FLAC, AIFF), loaded cold (empty cache) and warm (cached).
* ``critic``: evaluations per second (render + MFCC + critic, batched) and the
  time of one rating's training budget (40 minibatches of 16).
* ``protocol``: one simulated user through DeepDrummer's whole protocol.
* ``live``: the daemon from outside (see :mod:`dd_live.bench.live`).
* ``song``: song mode on a 4-minute song and the longest simutrans song (see :mod:`dd_live.bench.song`).
"""

from __future__ import annotations

import copy
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import GRID, SAMPLE_RATE


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__}


def bench_render(*, seconds: float = 3.0, batch: int = 256, threads: int = 2, seed: int = 0) -> dict:
    from ..loops.pattern import random_arrays
    from ..loops.render import bar_length, mix_kernel, render_arrays
    from ..sound.samples import load_kit

    lib = load_kit()
    rng = np.random.default_rng(seed)
    batches = [random_arrays(lib, rng, batch) for _ in range(8)]
    out = np.empty((batch, bar_length(120.0)), dtype=np.float32)

    def measure(reuse: bool) -> tuple[float, int]:
        render_arrays(*batches[0], lib, threads=threads, out=out if reuse else None)  # warm-up
        bars, elapsed, i = 0, 0.0, 0
        while elapsed < seconds:
            hits, idx = batches[i % len(batches)]
            t0 = time.perf_counter()
            audio = render_arrays(hits, idx, lib, threads=threads, out=out if reuse else None)
            elapsed += time.perf_counter() - t0
            bars += audio.shape[0]
            i += 1
        return bars / elapsed, bars

    reused, bars = measure(True)
    fresh, _ = measure(False)
    mean_len = float(lib.lengths.mean()) / SAMPLE_RATE
    return {"benchmark": "render", "bars_per_s": round(reused, 1), "bars_per_s_fresh_buffer": round(fresh, 1),
            "bars": bars, "seconds_each": seconds, "kernel": mix_kernel(),
            "batch": batch, "threads": threads, "tracks": 4, "steps": 16, "bpm": 120, "density": 0.5, "kit_samples": len(lib),
            "mean_sample_s": round(mean_len, 3), **_machine()}


def make_library(root: Path, files: int, *, seed: int = 0) -> None:
    """Write ``files`` one-shots in mixed formats under ``root`` (in 20 sub-folders)."""
    import soundfile as sf

    from ..sound.samples import load_kit

    kit = load_kit()
    rng = np.random.default_rng(seed)
    formats = [("wav", "PCM_16", SAMPLE_RATE, 1), ("wav", "PCM_24", 48000, 2), ("flac", "PCM_16", SAMPLE_RATE, 1),
               ("aiff", "PCM_16", 96000, 1), ("wav", "FLOAT", SAMPLE_RATE, 2)]
    for n in range(files):
        src = kit.audio(int(rng.integers(len(kit))))
        ext, subtype, rate, ch = formats[n % len(formats)]
        y = src * float(rng.uniform(0.3, 1.0))
        if rate != SAMPLE_RATE:
            y = np.interp(np.arange(int(y.size * rate / SAMPLE_RATE)) * SAMPLE_RATE / rate, np.arange(y.size), y)
        data = np.stack([y] * ch, axis=1) if ch > 1 else y
        folder = root / f"pack_{n % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(str(folder / f"hit_{n:05d}.{ext}"), data.astype(np.float32), rate, subtype=subtype)


def bench_load(*, files: int = 2000) -> dict:
    from ..sound.samples import load_library

    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "library", Path(tmp) / "cache"
        make_library(root, files)
        old = os.environ.get("DD_LIVE_CACHE")
        os.environ["DD_LIVE_CACHE"] = str(cache)
        try:
            t0 = time.perf_counter()
            cold = load_library([root])
            cold_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            warm = load_library([root])
            warm_s = time.perf_counter() - t0
        finally:
            if old is None:
                os.environ.pop("DD_LIVE_CACHE", None)
            else:
                os.environ["DD_LIVE_CACHE"] = old
        if len(warm) != len(cold) or not np.array_equal(warm.flat, cold.flat):
            raise RuntimeError("warm load differs from cold load")
        return {"benchmark": "load", "files": files, "loaded": len(cold), "cold_s": round(cold_s, 3),
                "warm_s": round(warm_s, 3), "audio_s": round(cold.flat.size / SAMPLE_RATE, 1), **_machine()}


def bench_critic(*, seconds: float = 3.0, batch: int = 64, threads: int = 2, seed: int = 0, feel: bool = False) -> dict:
    """evals_per_s: render + MFCC + critic on batches of random patterns (with ``feel``, each with a feel drawn
    from the genes' prior: velocities, push, swing); train_s: one rating's budget."""
    import torch

    from ..groove import genes as feel_genes
    from ..learn.critic import Critic, configure_threads
    from ..loops.pattern import random_arrays
    from ..learn.sampler import Scorer
    from ..sound.samples import load_kit
    from ..learn.trainer import TrainConfig, Trainer

    configure_threads(threads)
    torch.manual_seed(seed)
    lib = load_kit()
    rng = np.random.default_rng(seed)
    critic = Critic()
    scorer = Scorer(lib, critic, threads=threads)
    batches = [(*random_arrays(lib, rng, batch), feel_genes.prior(rng, batch, 4, 16) if feel else None)
               for _ in range(4)]
    scorer(*batches[0])  # warm-up
    evals, elapsed, i = 0, 0.0, 0
    while elapsed < seconds:                  # as the daemon scores: the batch in parts on the work threads
        t0 = time.perf_counter()
        scorer(*batches[i % len(batches)])
        elapsed += time.perf_counter() - t0
        evals += batch
        i += 1
    stages = {"render": 0.0, "features": 0.0, "critic": 0.0}
    rounds = 8
    for k in range(rounds):                   # each stage alone, the whole batch on this thread
        hits, idx, genes = batches[k % len(batches)]
        t0 = time.perf_counter()
        audio = scorer.audio(hits, idx, genes)
        t1 = time.perf_counter()
        feats = scorer.features(audio)
        t2 = time.perf_counter()
        scorer.score_features(feats)
        t3 = time.perf_counter()
        for name, t in (("render", t1 - t0), ("features", t2 - t1), ("critic", t3 - t2)):
            stages[name] += t / (rounds * batch)
    trainer = Trainer(critic)
    hits, idx = random_arrays(lib, rng, 40)  # 40 rated loops, a typical mid-session training set
    feats = scorer.features(scorer.audio(hits, idx))
    for k in range(40):
        trainer.add(feats[k], k % 3 == 0)
    trainer.train()  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        trainer.train()
        times.append(time.perf_counter() - t0)
    # learn="head": the output layer fitted to 80 rated loops (a whole Phase I), features included
    head = Trainer(copy.deepcopy(critic), TrainConfig(learn="head"))
    hits, idx = random_arrays(lib, rng, 80)
    feats = scorer.features(scorer.audio(hits, idx))
    for k in range(80):
        head.add(feats[k], k % 3 == 0)
    fits = []
    for _ in range(4):
        t0 = time.perf_counter()
        head.train()
        fits.append(time.perf_counter() - t0)
    return {"benchmark": "critic", "evals_per_s": round(evals / elapsed, 1), "train_s": round(float(np.median(times)), 3),
            "train_s_runs": [round(t, 3) for t in times], "fit_head_80_s": round(float(np.median(fits[1:])), 4),
            "ms_per_eval": {k: round(v * 1e3, 3) for k, v in stages.items()},
            "batch": batch, "threads": threads, "feel": feel, "precision": critic.precision, "torch": torch.__version__,
            **_machine()}


def bench_protocol(*, seed: int = 0, threads: int = 2, learn: str = "auto") -> dict:
    """One simulated user (GrooveRater) through the whole protocol: 80 ratings + 2 x 30."""
    from ..lab.evaluate import run_protocol
    from ..lab.raters import GrooveRater

    report = run_protocol(GrooveRater(seed), seed=seed, threads=threads, learn=learn)
    return {"benchmark": "protocol", "wall_s": round(report["wall_s"], 1), "train_s_mean": round(report["train_s_mean"], 3),
            "theta_init": report["theta_init"], "theta_final": report["theta_final"], "learn": report["learn"],
            "threads": threads, **_machine()}


def bench_pretrain(*, samples: list[str] | None = None, threads: int = 2) -> dict:
    """``dd-live pretrain`` with its defaults, on ``samples`` (default: the built-in kit)."""
    from ..learn.pretrain import PretrainConfig, pretrain
    from ..sound.samples import open_library

    lib = open_library(samples, tracks=GRID.tracks)
    config = PretrainConfig()
    pre = pretrain(lib, config, threads=threads)
    return {"benchmark": "pretrain", "samples": len(lib), "loops": config.loops, "epochs": config.epochs,
            "start": config.start, "wall_s": pre.report["wall_s"], "holdout_loss_start": pre.report["holdout_loss_start"],
            "holdout_loss": pre.report["holdout_loss"][-1], "threads": threads, **_machine()}


def bench_prior(*, samples: list[str] | None = None, seed: int = 0, seeds: int = 3) -> dict:
    """The drum prior: the seconds to build it from Debian's simutrans-data and mma (not written anywhere), then
    on the kit (default: the built-in one) each built-in rater through the first loops of ``seeds`` new
    sessions from seed ``seed`` (P(like), drum-kit share), and a performer who only dislikes hats."""
    from ..sound.samples import open_library
    from ..lab.drum_sources import build
    from ..lab.first_minutes import dislikes_only, first_loops

    doc, build_s, _ = build(seed=seed)
    lib = open_library(samples, tracks=GRID.tracks)
    first = first_loops(lib, seeds=range(seed, seed + seeds))
    hats = [dislikes_only(lib, seed=s) for s in range(seed, seed + seeds)]
    return {"build_s": round(build_s, 2), "bars": sum(s.get("bars", 0) for s in doc["sources"]),
            "grids": sorted(doc["grids"]), "first_p_like": round(first["p_like"], 3),
            "first_kit_share": round(first["kit_share"], 3),
            "first_by_rater": {k: {m: round(v, 3) for m, v in r.items()} for k, r in first["raters"].items()},
            "dislikes_only_hats": [{"first_30": round(h["first_half"], 3), "last_30": round(h["second_half"], 3),
                                    "dislikes": h["dislikes"]} for h in hats]}
