"""The critic's starting point: features pretrained on unrated loops, a new like/dislike layer.

Eighty noisy likes and dislikes are too few for a 291,290-parameter CNN to
learn *what* plays *where* in a bar from raw MFCCs; with a random start, the
paper's critic ends a session ranking loops barely better than chance. But
what plays where costs nothing to know for loops we render ourselves. So
before any session, the critic's convolutions and dense layer learn to predict,
from a random loop's MFCCs, a plain description of that loop:

* for every step, the summed descriptors of the samples hit on it, and
* the same summed over the tracks that play at all,

where a sample's descriptors (:data:`DESCRIPTORS`) are measured from its audio:
a count, the share of its energy in four bands, its log duration, its spectral
flatness and how much it sustains. No taste goes in; any taste that depends on
which sounds play on which steps can then be learned from few ratings.

After pretraining the output layer is replaced by the paper's two-way layer
with torch's default random start, seeded, so the new critic has a random
taste of its own, as the paper's untrained critic does. (A zero layer, every
loop 0.5, or one a tenth of that size learned worse: with the first gradients
into the features scaled by a near-zero layer, the ratings moved the
features more than the layer; see README.) The input
standardisation (:meth:`Critic.set_input_stats`) is part of the pretrained
state. ``dd-live pretrain`` makes the file; the package ships the one made from
the default kit (:func:`shipped_path`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

DESCRIPTORS = ("count", "band_0_150", "band_150_1500", "band_1500_6000", "band_6000_up",
               "log10_duration", "flatness", "sustain")
BANDS_HZ = ((0.0, 150.0), (150.0, 1500.0), (1500.0, 6000.0), (6000.0, math.inf))
TRACKS, STEPS = 4, 16   # the grid pretrained on: dd_live's default bar
PROBE_FIT = 1024        # loops the pretext layer is fitted on before going on from pretrained features
FORMAT = 1


def describe_sample(y: np.ndarray) -> np.ndarray:
    """:data:`DESCRIPTORS` of a one-shot (mono float at 44.1 kHz), float32 (8,)."""
    from ..sound.audio import SAMPLE_RATE, measure_one_shot, validate_audio

    validate_audio(y, name="a sample")
    m = measure_one_shot(y)
    bands = [float(m.power[(m.freqs >= lo) & (m.freqs < hi)].sum()) / m.total for lo, hi in BANDS_HZ]
    duration = max(m.duration, 1.0 / SAMPLE_RATE)  # silence: one sample, so that its log is finite
    sustain = min(m.late_rms / max(m.early_rms, 1e-12), 2.0)
    return np.array([1.0, *bands, math.log10(duration), m.flatness, sustain], dtype=np.float32)


def describe_library(library) -> np.ndarray:
    """:func:`describe_sample` of every sample in ``library``, float32 (samples, 8)."""
    return np.stack([describe_sample(library.audio(i)) for i in range(len(library.samples))])


def loop_targets(hits: np.ndarray, idx: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The description of loops (hits (n, tracks, steps), sample indices (n, tracks)) that the
    features learn to predict: float32 (n, (steps + 1) * 8), per step then over playing tracks."""
    d = table[idx]                                                            # n, tracks, K
    per_step = np.einsum("nts,ntk->nsk", hits.astype(np.float32), d)
    playing = np.einsum("nt,ntk->nk", hits.any(axis=2).astype(np.float32), d)
    return np.concatenate([per_step, playing[:, None]], axis=1).reshape(hits.shape[0], -1)


@dataclass
class Pretrained:
    """Pretrained features: the critic's state without its output layer; the pretext layer that read
    the descriptions from them with the targets' mean and spread (``probe``); and how they were made."""

    state: dict
    probe: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PretrainConfig:
    """How many random loops, how long, and how.

    ``start``: "shipped" (default) goes on from the shipped features (:func:`shipped_path`) with their
    input standardisation and pretext layer, so a kit of one's own costs a few epochs over a few thousand
    of its loops; "scratch" starts from random weights, as the shipped file was made
    (``--from scratch --loops 20000 --epochs 10``); or a file from :func:`save` to go on from.
    """

    loops: int = 4000
    epochs: int = 2
    batch_size: int = 64
    lr: float = 1e-3
    density: tuple[float, float] = (0.1, 0.7)   # each loop's cell probability is drawn from this range
    holdout: float = 0.1                         # share of loops kept aside to measure the fit
    seed: int = 0
    start: str = "shipped"


def pretrain(library, config: PretrainConfig = PretrainConfig(), *, threads: int = 1,
             progress: Callable[[str, int, int], None] | None = None) -> Pretrained:
    """Pretrain a critic's features on random loops of ``library``.

    The report's ``holdout_loss`` per epoch is the mean squared error on held-out
    loops of the standardised targets, where predicting their mean scores 1.0
    (``holdout_loss_start``: the same before the first epoch).
    ``progress(stage, done, total)`` is called as loops are rendered ("render") and
    as each epoch's batches are learned ("epoch 2/3, holdout 0.61": the previous one's loss).
    """
    import torch
    from torch import nn

    from .critic import Critic, configure_threads
    from .sampler import Scorer
    from .trainer import TrainConfig
    from .trainset import augment_features

    if config.loops < 2 * config.batch_size or config.epochs < 1 or not 0 < config.holdout < 1:
        raise ValueError("pretraining needs at least two batches of loops, one epoch and a holdout in (0, 1)")
    configure_threads(threads)
    t0 = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    library.require(TRACKS)
    critic = Critic()
    start = None if config.start == "scratch" else load(shipped_path() if config.start == "shipped"
                                                         else Path(config.start))
    if start is not None:
        critic.load_state_dict(start.state, strict=False)   # the like/dislike layer is not part of it
    scorer = Scorer(library, critic, threads=threads)
    table = describe_library(library)
    n = config.loops
    feats = torch.empty((n, *critic.input_shape))
    targets = np.empty((n, (STEPS + 1) * len(DESCRIPTORS)), dtype=np.float32)
    for s in range(0, n, 256):
        m = min(256, n - s)
        hits = rng.random((m, TRACKS, STEPS)) < rng.uniform(*config.density, (m, 1, 1))
        idx = rng.integers(0, len(library.samples), (m, TRACKS))
        feats[s: s + m] = scorer.features(scorer.audio(hits, idx))
        targets[s: s + m] = loop_targets(hits, idx, table)
        if progress:
            progress("render", s + m, n)
    y = torch.from_numpy(targets)
    mean, std = y.mean(0), y.std(0).clamp(min=1e-3)
    y = (y - mean) / std
    if start is None:
        critic.set_input_stats(feats[: min(n, 1024)])
    train_n = n - max(1, int(n * config.holdout))
    out = critic.output_name()
    critic.head[-2], critic.head[-1] = nn.Linear(critic.output().in_features, y.shape[1]), nn.Identity()
    if start is not None:  # the pretext layer: a ridge regression of this kit's targets on the features
        k = min(train_n, PROBE_FIT)
        emb = torch.cat([critic.embed(feats[i: min(i + 256, k)]) for i in range(0, k, 256)])
        x = torch.cat([emb, torch.ones(k, 1)], 1).double()
        sol = torch.linalg.solve(x.T @ x + torch.eye(x.shape[1], dtype=torch.float64), x.T @ y[:k].double())
        with torch.no_grad():
            critic.head[-2].weight.copy_(sol[:-1].T.float())
            critic.head[-2].bias.copy_(sol[-1].float())
    critic.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(critic.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(config.seed)
    aug = TrainConfig(shift_frames=0)  # a time shift would move sounds off the steps the targets name
    bank = None

    def holdout() -> float:
        critic.eval()
        with torch.inference_mode():
            pred = torch.cat([critic(feats[i: i + 256]) for i in range(train_n, n, 256)])
            return round(float(nn.functional.mse_loss(pred, y[train_n:])), 4)

    first = holdout()
    losses = []
    batches = range(0, train_n - config.batch_size + 1, config.batch_size)
    for epoch in range(config.epochs):
        critic.train()
        order = torch.randperm(train_n, generator=gen)
        stage = f"epoch {epoch + 1}/{config.epochs}, holdout {losses[-1] if losses else first:.3f}"
        for k, s in enumerate(batches):
            pick = order[s: s + config.batch_size]
            x, bank = augment_features(feats[pick], gen, aug, bank)
            loss = nn.functional.mse_loss(critic(x), y[pick])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if progress and (k % 8 == 7 or k == len(batches) - 1):
                progress(stage, k + 1, len(batches))
        losses.append(holdout())
    state = {k: v.detach().clone() for k, v in critic.state_dict().items() if not k.startswith(out + ".")}
    pretext = critic.output()
    probe = {"weight": pretext.weight.detach().clone(), "bias": pretext.bias.detach().clone(), "mean": mean, "std": std}
    report = {"config": asdict(config), "samples": len(library.samples), "holdout_loss_start": first,
              "holdout_loss": losses, "wall_s": round(time.perf_counter() - t0, 1)}
    return Pretrained(state, probe, report)


def save(path: Path, pre: Pretrained) -> Path:
    """Write pretrained features (atomically)."""
    import torch

    from ..sound.audio import atomic_path

    with atomic_path(Path(path), force=True) as tmp:
        torch.save({"format": FORMAT, "state": pre.state, "probe": pre.probe, "report": pre.report}, tmp)
    return Path(path)


def load(path: Path) -> Pretrained:
    """Read a file written by :func:`save`; InputError if it is not one."""

    import torch

    from ..errors import InputError

    try:
        blob = torch.load(Path(path), map_location="cpu", weights_only=True)
        if blob.get("format") != FORMAT:
            raise InputError(f"{path}: pretrained-critic format {blob.get('format')!r} is not supported")
        return Pretrained(dict(blob["state"]), dict(blob["probe"]), dict(blob["report"]))
    except InputError:
        raise
    except Exception as err:  # torch.load of a file that is not one raises almost anything (IndexError, ...)
        raise InputError(f"{path}: not a readable pretrained critic ({err.__class__.__name__})") from err


def user_path() -> Path:
    """Where ``dd-live pretrain`` writes by default: the user data dir ($DD_LIVE_DATA overrides), never
    the installed package (whose shipped features every new session starts from)."""
    env = os.environ.get("DD_LIVE_DATA")
    if env:
        return Path(env) / "critic_pretrained.pt"
    from platformdirs import user_data_dir

    return Path(user_data_dir("dd_live")) / "critic_pretrained.pt"


def shipped_path() -> Path:
    """The pretrained features made from the default kit by ``dd-live pretrain`` (package data)."""
    return Path(__file__).resolve().parents[1] / "data" / "critic_pretrained.pt"


def starting_critic(init: str | Path = "pretrained", *, library=None, seed: int = 0,
                    rng: np.random.Generator | None = None, flat: bool = False):
    """A new session's critic.

    ``init``: "pretrained" (the shipped features and a new, seeded output layer),
    a path to a file from ``dd-live pretrain`` (the same, from that file), or
    "random" (the paper's random start, inputs standardised over 64 random loops
    of ``library`` drawn from ``rng``, by default one seeded with ``seed``).
    ``flat``: a pretrained start's output layer is zero, so every loop scores 0.5 until the first
    ratings: right for a critic whose output layer is fitted from the ratings alone (``learn="head"``),
    whose first loops are then draws from the prior rather than a random layer's arbitrary best (which
    a rater liked less often than random loops).
    """
    import torch

    from .critic import Critic

    torch.manual_seed(seed)
    critic = Critic()
    if init == "random":
        if library is None:
            raise ValueError("a random start needs the library, for its input statistics")
        from ..loops.pattern import random_arrays
        from .sampler import Scorer

        scorer = Scorer(library, critic)
        rng = rng if rng is not None else np.random.default_rng(seed)
        critic.set_input_stats(scorer.features(scorer.audio(*random_arrays(library, rng, 64))))
        return critic
    state = dict(load(shipped_path() if init == "pretrained" else Path(init)).state)
    out = critic.output_name()
    fresh = critic.state_dict()  # the seeded random start of every layer, the output layer's kept
    state[out + ".weight"], state[out + ".bias"] = fresh[out + ".weight"], fresh[out + ".bias"]
    if flat:
        state[out + ".weight"], state[out + ".bias"] = fresh[out + ".weight"] * 0, fresh[out + ".bias"] * 0
    try:
        critic.load_state_dict(state)
    except RuntimeError as err:
        from ..errors import InputError

        raise InputError(f"{init}: pretrained features do not fit this critic ({str(err).splitlines()[0]})") from err
    critic.eval()
    return critic
