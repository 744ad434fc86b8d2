"""How the critic trains, besides the ratings themselves: how it learns (``resolve_learn``, ``TrainConfig``: one
rating's budget and its augmentation), the reference loops a head's inputs are standardised over, and augmented
copies of rated loops' MFCCs.

Augmentation works on cached MFCCs, so nothing is recomputed per batch:

* gain: +-``gain_db`` dB of level. A gain adds the same number of dB to every
  mel band, and the 80 dB floor moves with the maximum, so in MFCC terms it adds
  ``gain_db * sqrt(128)`` to coefficient 0 only (the orthonormal DCT of a constant);
* time shift: a circular shift by up to ``shift_frames`` frames (200 samples
  each); the loops are periodic, so this is a shift of where the bar starts;
* noise: Gaussian noise of ``noise`` MFCC units on every coefficient.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .features import N_MELS

LEARN = ("budget", "head")
REFERENCE_LOOPS = 256      # loops in the reference set the head's inputs are standardised over


def resolve_learn(learn: str, init: object) -> str:
    """How a new critic learns: ``learn`` itself, or for "auto" the paper's "budget" when it starts
    from random weights (``init == "random"``: its features must be learned too) and "head" when it
    starts from pretrained features (see :meth:`dd_live.learn.trainer.Trainer.train`)."""
    if learn == "auto":
        return "budget" if init == "random" else "head"
    if learn not in LEARN:
        raise ValueError(f"learn must be auto, {' or '.join(LEARN)}, not {learn!r}")
    return learn


@dataclass(frozen=True)
class TrainConfig:
    """One rating's training budget and its augmentation."""

    batches: int = 40
    batch_size: int = 16
    lr: float = 5.7e-5
    weight_decay: float = 5.9e-6
    gain_db: float = 6.0
    shift_frames: int = 8
    noise: float = 0.5
    seed: int = 0
    learn: str = "budget"      # "budget": the minibatches above, every weight; "head": see Trainer.train
    head_l2: float = 3.0       # "head": L2 penalty on the standardised output weights

    def __post_init__(self) -> None:
        if self.learn not in LEARN:
            raise ValueError(f"learn must be one of {', '.join(LEARN)}, not {self.learn!r}")


def reference_features(library, features: Callable, *, prior=None, n: int = REFERENCE_LOOPS, seed: int = 0,
                       batch: int = 32):
    """MFCCs of ``n`` reference loops for :meth:`Trainer.set_reference`, in batches: loops as the policy draws
    them (from ``prior``, a :class:`dd_live.loops.prior.DrumPrior`, with its free share; else DeepDrummer's),
    one 4/4 bar each as the critic hears it. ``features``: float32 audio (batch, samples) -> MFCCs."""
    from ..loops.pattern import random_arrays
    from ..loops.render import REFERENCE_BPM, render_arrays

    rng = np.random.default_rng(seed)
    hits, idx = prior.draw(library, rng, n)[:2] if prior is not None else random_arrays(library, rng, n)
    for k in range(0, n, batch):
        yield features(render_arrays(hits[k:k + batch], idx[k:k + batch], library, bpm=REFERENCE_BPM))


def augment_features(x: torch.Tensor, gen: torch.Generator, config: TrainConfig,
                     noise_bank: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A copy of MFCCs ``x`` (batch, 60, frames), each with a gain, a circular time shift and noise
    (see the module docstring). Returns (x, the noise bank): noise is read at a random offset
    from a bank 8 batches long, drawn when ``noise_bank`` is None or too short (drawing fresh
    normals for every batch cost as much as the rest of the batch assembly)."""
    n, _, frames = x.shape
    shifts = torch.randint(-config.shift_frames, config.shift_frames + 1, (n,), generator=gen)
    cols = torch.remainder(torch.arange(frames)[None, :] - shifts[:, None], frames)  # roll each item
    x = torch.gather(x, 2, cols[:, None, :].expand(-1, x.shape[1], -1))
    if config.gain_db:
        gain = (torch.rand(n, generator=gen) * 2 - 1) * config.gain_db
        x[:, 0, :] += gain[:, None] * math.sqrt(N_MELS)
    if config.noise:
        if noise_bank is None or noise_bank.numel() < x.numel():
            noise_bank = torch.randn(8 * x.numel(), generator=gen) * config.noise
        start = int(torch.randint(0, noise_bank.numel() - x.numel() + 1, (1,), generator=gen))
        x += noise_bank[start: start + x.numel()].view(x.shape)
    return x, noise_bank
