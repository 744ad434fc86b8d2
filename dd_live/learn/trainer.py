"""Incremental training of the critic on the growing set of rated loops.

After each rating the critic takes one budget of training (DeepDrummer's tuned
setting: 40 minibatches of 16, each half likes and half dislikes drawn with
replacement, Adam lr 5.7e-5, weight decay 5.9e-6, dropout 0.167) on every loop
rated so far. The critic learns from the very audio the user heard, one bar at
120 bpm; its MFCCs are computed once, when the rating arrives, and cached.

Augmentation works on the cached MFCCs, so nothing is recomputed per batch:

* gain: +-``gain_db`` dB of level. A gain adds the same number of dB to every
  mel band, and the 80 dB floor moves with the maximum, so in MFCC terms it adds
  ``gain_db * sqrt(128)`` to coefficient 0 only (the orthonormal DCT of a constant);
* time shift: a circular shift by up to ``shift_frames`` frames (200 samples
  each); the loops are periodic, so this is a shift of where the bar starts;
* noise: Gaussian noise of ``noise`` MFCC units on every coefficient.

Training is seeded and deterministic: the same ratings in the same order give
the same weights.

With ``learn="head"`` (the default for a critic that starts from pretrained
features, see :func:`resolve_learn`) the features are left as pretrained and
each rating refits only the output layer: an L2-regularised logistic regression
on the rated loops' dense-layer outputs. With 80 ratings the paper's budget
overfits the features to those loops, and its scores saturate: about a fifth of
random loops score 0.95 or more after 80 ratings. See the README's learning section.

The head's inputs are standardised over a reference set of loops, the ones the
policy chooses from (:func:`reference_features`: loops from the drum prior and its
free share), and its bias has a prior of its own: a loop like those is liked
:data:`BASE_RATE` of the time, worth :data:`BIAS_PRIOR` ratings. So the like rate
alone cannot explain a run of dislikes away: each dislike pushes down what its
loop has more of than the loops around it (hats, say), and a session of only
dislikes steers away from what it disliked. Standardised over the rated loops
themselves, what every rated loop shares would have no direction at all.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .critic import Critic
from .policy import HeadPosterior, fit_logistic, set_head
from .features import N_MELS

CHECKPOINT_VERSION = 1
LEARN = ("budget", "head")
BASE_RATE = 1 / 3          # "head": the like rate expected of a loop like the reference loops, before any rating
BIAS_PRIOR = 2.0           # ... worth this many ratings (the random-loop rate of DeepDrummer-like loops is ~0.35)
REFERENCE_LOOPS = 256      # loops in the reference set the head's inputs are standardised over


def resolve_learn(learn: str, init: object) -> str:
    """How a new critic learns: ``learn`` itself, or for "auto" the paper's "budget" when it starts
    from random weights (``init == "random"``: its features must be learned too) and "head" when it
    starts from pretrained features (see :meth:`Trainer.train`)."""
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


class Trainer:
    """Owns a critic, its optimiser, a copy of its initial weights, and the rated loops' features."""

    def __init__(self, critic: Critic, config: TrainConfig = TrainConfig()) -> None:
        self.critic = critic
        self.config = config
        self.initial = copy.deepcopy(critic.state_dict())
        self._optimizer: torch.optim.Adam | None = None   # made at the first budget of training (see optimizer)
        self._optimizer_state: dict | None = None          # ... then given this state (a checkpoint's)
        self.feats: list[torch.Tensor] = []
        self._embedded: list[torch.Tensor | None] = []  # learn="head": dense-layer outputs of feats, when known
        self.labels: list[bool] = []
        self.rounds = 0
        self.last_loss = float("nan")
        self._noise: torch.Tensor | None = None
        self._noise_round = -1
        self._reference: torch.Tensor | None = None    # learn="head": embeddings of the reference loops
        self._reference_feats: Callable | None = None   # ... or what makes their MFCCs, until the first fit

    def set_reference(self, feats) -> None:
        """The reference loops the head's inputs are standardised over: their MFCCs, in batches (an iterable of
        (batch, 60, frames) tensors, or a callable giving one, called at the first fit, off a daemon's start),
        embedded and kept as embeddings (the features never change in ``learn="head"``)."""
        self._reference, self._reference_feats = None, feats if callable(feats) else None
        if not callable(feats):
            with torch.no_grad():
                self._reference = torch.cat([self.critic.embed(f) for f in feats])

    @property
    def optimizer(self) -> torch.optim.Adam:
        """The budget's Adam, made when first asked for: a head fit needs none, and making any torch optimiser
        imports torch's compiler stack (72 MB of a daemon's memory)."""
        if self._optimizer is None:
            self._optimizer = self._adam()
            if self._optimizer_state is not None:
                self._optimizer.load_state_dict(self._optimizer_state)
                self._optimizer_state = None
        return self._optimizer

    def _optimizer_state_dict(self) -> dict | None:
        """The optimiser's state for a checkpoint (None: it was never made, so it has none)."""
        return self._optimizer.state_dict() if self._optimizer is not None else copy.deepcopy(self._optimizer_state)

    def _set_optimizer_state(self, state: dict | None) -> None:
        self._optimizer, self._optimizer_state = None, state
        if state is not None and self.config.learn == "budget":
            self.optimizer                                  # noqa: B018 (made now, so a bad state fails here)

    def _adam(self) -> torch.optim.Adam:
        """Adam with the configured rate and decay; the fused CPU kernel where torch has one (4x faster step)."""
        cfg = self.config
        try:
            return torch.optim.Adam(self.critic.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.Adam(self.critic.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    # ------------------------------------------------------------ data

    def add(self, feats: torch.Tensor, like: bool) -> int:
        """Add one rated loop's MFCCs (60, frames); returns its index."""
        if tuple(feats.shape) != self.critic.input_shape:
            raise ValueError(f"features must be {self.critic.input_shape}, got {tuple(feats.shape)}")
        self.feats.append(feats.detach().to(torch.float32).clone())
        self._embedded.append(None)
        self.labels.append(bool(like))
        return len(self.feats) - 1

    def relabel(self, index: int, like: bool) -> None:
        self.labels[index] = bool(like)

    def remove(self, index: int) -> None:
        del self.feats[index], self.labels[index], self._embedded[index]

    @property
    def budgeted(self) -> bool:
        """True if every rating is owed a budget of minibatches (``learn="budget"``); with "head" one fit
        on all ratings so far is all there is to do."""
        return self.config.learn == "budget"

    @property
    def counts(self) -> tuple[int, int]:
        """(likes, dislikes) so far."""
        likes = sum(self.labels)
        return likes, len(self.labels) - likes

    # ------------------------------------------------------------ training

    def _batch(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        labels = torch.tensor(self.labels)
        likes, dislikes = torch.nonzero(labels).flatten(), torch.nonzero(~labels).flatten()
        if len(likes) and len(dislikes):
            half = cfg.batch_size // 2
            pick = torch.cat([likes[torch.randint(len(likes), (half,), generator=gen)],
                              dislikes[torch.randint(len(dislikes), (cfg.batch_size - half,), generator=gen)]])
        else:
            pool = likes if len(likes) else dislikes
            pick = pool[torch.randint(len(pool), (cfg.batch_size,), generator=gen)]
        y = labels[pick].long()
        return self.augment(pick, gen), y

    def augment(self, pick: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """The rated loops ``pick``, each with a gain, a circular time shift and noise (see the module docstring)."""
        if self._noise_round != self.rounds:
            self._noise, self._noise_round = None, self.rounds  # one bank of noise per round
        x = torch.stack([self.feats[i] for i in pick.tolist()])
        x, self._noise = augment_features(x, gen, self.config, self._noise)
        return x

    def train(self, batches: int | None = None, *, between: Callable[[], None] | None = None,
              every: int = 8) -> float:
        """Learn from everything rated so far; returns the mean loss.

        ``learn="budget"`` (the paper's): one rating's budget of minibatches on every
        weight; ``between`` is called after every ``every`` minibatches (the daemon
        lets the generator's torch work in there) and does not change the result.
        ``learn="head"``: the output layer alone is fitted again (:meth:`_fit_head`);
        a second call on the same ratings gives the same weights.
        """
        if not self.feats:
            raise ValueError("nothing to train on: no rated loops")
        if self.config.learn == "head":
            return self._fit_head()
        batches = self.config.batches if batches is None else batches
        seed = self.config.seed * 1_000_003 + self.rounds
        gen = torch.Generator().manual_seed(seed)
        self.critic.train()
        self.critic.set_dropout_generator(np.random.default_rng(seed))
        total = 0.0
        try:
            for b in range(batches):
                if between is not None and b and b % every == 0:
                    between()
                x, y = self._batch(gen)
                self.optimizer.zero_grad(set_to_none=True)
                loss = nn.functional.nll_loss(self.critic(x), y)
                loss.backward()
                self.optimizer.step()
                total += float(loss.detach())
        finally:
            self.critic.set_dropout_generator(None)
            self.critic.eval()
        self.rounds += 1
        self.last_loss = total / max(batches, 1)
        return self.last_loss

    def _fit_head(self) -> float:
        """``learn="head"``: the features stay as they are; the output layer becomes the L2-regularised
        logistic regression of the labels on the rated loops' dense-layer outputs (standardised over
        the reference loops, else the rated ones; penalty ``head_l2`` times the squared weights, the bias
        drawn towards :data:`BASE_RATE` by :data:`BIAS_PRIOR` ratings), fitted by :func:`fit_logistic`. Returns
        the mean log loss on the rated loops."""
        missing = [i for i, e in enumerate(self._embedded) if e is None]
        if missing:  # the features never change in this mode: each loop is embedded once
            for i, e in zip(missing, self.critic.embed(torch.stack([self.feats[i] for i in missing]))):
                self._embedded[i] = e
        emb = torch.stack(self._embedded)
        y = torch.tensor(self.labels, dtype=torch.float32)
        if self._reference_feats is not None:
            self.set_reference(self._reference_feats())
        ref = emb if self._reference is None else self._reference
        mean, std = ref.mean(0), ref.std(0, unbiased=False).clamp(min=1e-3)
        x = (emb - mean) / std
        b0 = math.log(BASE_RATE / (1 - BASE_RATE))
        pull = BIAS_PRIOR / len(y)            # the bias prior, per rating of the mean loss
        w, b = fit_logistic(x, y, l2=self.config.head_l2, pull=pull, b0=b0)
        with torch.no_grad():
            posterior = HeadPosterior.laplace(x, y, w, b, l2=self.config.head_l2, mean=mean,
                                              std=std, bias_precision=2 * BIAS_PRIOR)
            wf, bf = posterior.raw(posterior.theta)
            set_head(self.critic, wf, bf)
            self.critic.head_posterior = posterior  # what Thompson sampling draws from (learn/policy.py)
            self.last_loss = float(nn.functional.binary_cross_entropy_with_logits(emb @ wf + bf, y))
        self.rounds += 1
        return self.last_loss

    def reset(self) -> None:
        """Back to the initial critic and a fresh optimiser; the rated loops are kept."""
        self.critic.load_state_dict(self.initial)
        self.critic.head_posterior = None
        self._embedded = [None] * len(self.feats)
        self._optimizer = self._optimizer_state = None
        self.rounds = 0

    def snapshot(self) -> dict:
        """A copy of the training state (weights, optimiser, round counter), for :meth:`restore`."""
        return copy.deepcopy({"critic": self.critic.state_dict(), "optimizer": self._optimizer_state_dict(),
                              "rounds": self.rounds, "last_loss": self.last_loss})

    def restore(self, state: dict) -> None:
        """Go back to a :meth:`snapshot` (the rated loops are not part of it)."""
        self.critic.load_state_dict(state["critic"])
        self.critic.head_posterior = None  # a snapshot keeps no posterior: the next fit makes one
        self._set_optimizer_state(state["optimizer"])
        self.rounds, self.last_loss = state["rounds"], state["last_loss"]
        self._embedded = [None] * len(self.feats)
        self.critic.eval()

    def clear(self) -> None:
        """Forget the rated loops (the weights are kept)."""
        self.feats.clear()
        self._embedded.clear()
        self.labels.clear()

    def initial_critic(self) -> Critic:
        """A copy of the critic as it was before any training."""
        c = copy.deepcopy(self.critic)
        c.load_state_dict(self.initial)
        c.eval()
        return c

    # ------------------------------------------------------------ checkpoints

    def save(self, path: Path, *, extra: dict | None = None) -> Path:
        """Write weights, optimiser, the initial weights, counters and ``extra`` (plain data) atomically."""
        from ..sound.audio import atomic_path, write_error

        state = {
            "version": CHECKPOINT_VERSION,
            "critic": self.critic.state_dict(),
            "optimizer": self._optimizer_state_dict(),
            "initial": self.initial,
            "rounds": self.rounds,
            "config": asdict(self.config),
            "extra": extra or {},
        }
        with atomic_path(Path(path), force=True) as tmp:
            try:
                torch.save(state, tmp)
            except RuntimeError as err:  # torch's "PytorchStreamWriter failed writing file" on a full disk
                raise write_error(Path(path), err) from err
        return Path(path)

    def load(self, path: Path) -> dict:
        """Restore a checkpoint written by :meth:`save`: weights, optimiser, initial weights, counters and
        training settings (the rated loops are not part of it). Returns the checkpoint's ``extra``."""
        from ..errors import InputError

        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
            if state.get("version") != CHECKPOINT_VERSION:
                raise InputError(f"{path}: checkpoint version {state.get('version')!r} is not supported")
            self.critic.load_state_dict(state["critic"])
            self.config = TrainConfig(**state["config"])
            self._set_optimizer_state(state["optimizer"])
            self._embedded = [None] * len(self.feats)
            self.initial = state["initial"]
            self.rounds = int(state["rounds"])
            extra = dict(state.get("extra", {}))
        except InputError:
            raise
        except Exception as err:  # torch.load of a file that is not one raises almost anything (IndexError, ...)
            raise InputError(f"{path}: not a readable critic checkpoint ({err.__class__.__name__})") from err
        self.critic.eval()
        return extra

