"""Incremental training of the critic on the growing set of rated loops.

After each rating the critic takes one budget of training (DeepDrummer's tuned
setting: 40 minibatches of 16, each half likes and half dislikes drawn with
replacement, Adam lr 5.7e-5, weight decay 5.9e-6, dropout 0.167) on every loop
rated so far. The critic learns from the very audio the user heard, one bar at
120 bpm; its MFCCs are computed once, when the rating arrives, and cached. With
``learn="head"`` a loop whose MFCCs can be made again (the daemon renders them from
its stored pattern) keeps only its embedding once it has one (512 bytes against
106 KB), so memory stays flat over a long session; the MFCCs are made again only
if the features change (a checkpoint of other weights, a budget of training).

Augmentation works on the cached MFCCs, so nothing is recomputed per batch
(:func:`dd_live.learn.trainset.augment_features`).

Training is seeded and deterministic: the same ratings in the same order give
the same weights.

With ``learn="head"`` (the default for a critic that starts from pretrained
features, see :func:`dd_live.learn.trainset.resolve_learn`) the features are
left as pretrained and each rating refits only the output layer: an L2-regularised logistic regression
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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .critic import Critic
from .trainset import TrainConfig, augment_features
from .policy import HeadPosterior, fit_logistic, rated_cells, set_head

CHECKPOINT_VERSION = 1
BASE_RATE = 1 / 3          # "head": the like rate expected of a loop like the reference loops, before any rating
BIAS_PRIOR = 2.0           # ... worth this many ratings (the random-loop rate of DeepDrummer-like loops is ~0.35)
EMBED_CHUNK = 64           # rated loops embedded (and their MFCCs made again, where let go) at a time


class Trainer:
    """Owns a critic, its optimiser, a copy of its initial weights, and the rated loops' features."""

    def __init__(self, critic: Critic, config: TrainConfig = TrainConfig()) -> None:
        self.critic = critic
        self.config = config
        self.initial = copy.deepcopy(critic.state_dict())
        self._optimizer: torch.optim.Adam | None = None   # made at the first budget of training (see optimizer)
        self._optimizer_state: dict | None = None          # ... then given this state (a checkpoint's)
        self.feats: list[torch.Tensor | None] = []     # None: let go (learn="head"), made again by ``remake``
        self.keys: list[int | None] = []               # each row's loop, for ``remake`` (None: cannot be made again)
        #: makes the MFCCs (n, 60, frames) of the loops with these keys again (the daemon renders them from their
        #: stored patterns); None: every row's MFCCs are kept
        self.remake: Callable[[list[int]], torch.Tensor] | None = None
        #: each row's grid by its key (hits, None where unknown), for the cells the ratings speak of (fit_cells)
        self.grids: Callable[[list[int | None]], list[np.ndarray | None]] | None = None
        #: learn="head": dense-layer outputs of feats, when known (numpy views of each chunk's output: a torch
        #: tensor a row cost 1.7 KB of memory, 512 bytes of it data)
        self._embedded: list[np.ndarray | None] = []
        self._embedded_by: dict[str, torch.Tensor] | None = None   # ... by these weights (all but the output's)
        self.labels: list[bool] = []
        self.rounds = 0
        self.last_loss = float("nan")
        self._noise: torch.Tensor | None = None
        self._noise_round = -1
        self._reference: torch.Tensor | None = None    # learn="head": embeddings of the reference loops
        self._reference_source: Callable | None = None  # ... what makes their MFCCs (at a fit where none are known)

    def set_reference(self, feats) -> None:
        """The reference loops the head's inputs are standardised over: their MFCCs, in batches (an iterable of
        (batch, 60, frames) tensors, or a callable giving one, called at the first fit, off a daemon's start),
        embedded and kept as embeddings (the features never change in ``learn="head"``)."""
        self._reference_source = feats if callable(feats) else None
        self._reference = None if callable(feats) else self._embedded_batches(feats)

    def _embedded_batches(self, feats) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([self.critic.embed(f) for f in feats])

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

    def add(self, feats: torch.Tensor | None, like: bool, *, key: int | None = None) -> int:
        """Add one rated loop's MFCCs (60, frames); returns its index. ``key``: the loop, for :attr:`remake`: with
        ``learn="head"`` its MFCCs are then let go once embedded (106 KB a loop against 512 bytes: memory stays
        flat over a long session), and ``feats`` may be None (made when first needed)."""
        if feats is None and (key is None or self.remake is None):
            raise ValueError("a rated loop needs its features or a key to make them again by")
        self.feats.append(None if feats is None else self._checked(feats[None])[0].detach().to(torch.float32).clone())
        self.keys.append(key)
        self._embedded.append(None)
        self.labels.append(bool(like))
        return len(self.feats) - 1

    def _checked(self, feats: torch.Tensor) -> torch.Tensor:
        if tuple(feats.shape[1:]) != self.critic.input_shape:
            raise ValueError(f"features must be {self.critic.input_shape}, got {tuple(feats.shape[1:])}")
        return feats

    def features(self, rows: list[int]) -> torch.Tensor:
        """The MFCCs (len(rows), 60, frames) of these rows: kept, or made again (all at once)."""
        gone = [i for i in rows if self.feats[i] is None]
        made = {}
        if gone:
            again = self._checked(self.remake([self.keys[i] for i in gone])).to(torch.float32)
            made = dict(zip(gone, again))
        return torch.stack([made[i] if self.feats[i] is None else self.feats[i] for i in rows])

    @property
    def pending(self) -> int:
        """How many rows are not embedded yet (``learn="head"``: the next fit embeds them)."""
        return sum(e is None for e in self._embedded)

    @property
    def held_features(self) -> int:
        """How many rated loops' MFCCs are held in memory now."""
        return sum(f is not None for f in self.feats)

    def rearrange(self, rows: list[int | None], keys: list[int], labels: list[bool]) -> None:
        """The rated loops become these rows of the present ones, in this order (None: a new row, made from its
        key when needed), with these labels: ratings rewound keep what was embedded."""
        self.feats = [None if i is None else self.feats[i] for i in rows]
        self._embedded = [None if i is None else self._embedded[i] for i in rows]
        self.keys = [k if i is None else self.keys[i] for i, k in zip(rows, keys)]
        self.labels = [bool(y) for y in labels]

    def relabel(self, index: int, like: bool) -> None:
        self.labels[index] = bool(like)

    def remove(self, index: int) -> None:
        del self.feats[index], self.labels[index], self._embedded[index], self.keys[index]

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
        """The rated loops ``pick``, each with a gain, a circular time shift and noise (see :mod:`.trainset`)."""
        if self._noise_round != self.rounds:
            self._noise, self._noise_round = None, self.rounds  # one bank of noise per round
        x = torch.stack([self.feats[i] for i in pick.tolist()])   # all kept while the budget trains (train)
        x, self._noise = augment_features(x, gen, self.config, self._noise)
        return x

    def train(self, batches: int | None = None, *, between: Callable[[], None] | None = None,
              every: int = 8) -> float:
        """Learn from everything rated so far; returns the mean loss.

        ``learn="budget"`` (the paper's): one rating's budget of minibatches on every
        weight; ``between`` is called after every ``every`` minibatches (the daemon
        lets the generator's torch work in there) and does not change the result.
        ``learn="head"``: the output layer alone is fitted again (:meth:`_fit_head`);
        a second call on the same ratings gives the same weights; ``between`` is
        called between chunks of loops still to embed.
        """
        if not self.feats:
            raise ValueError("nothing to train on: no rated loops")
        if self.config.learn == "head":
            return self._fit_head(between)
        gone = [i for i, f in enumerate(self.feats) if f is None]
        for k in range(0, len(gone), EMBED_CHUNK):     # every weight learns: all MFCCs are kept
            rows = gone[k:k + EMBED_CHUNK]
            for i, f in zip(rows, self.features(rows)):
                self.feats[i] = f.clone()
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

    def _fit_head(self, between: Callable[[], None] | None = None) -> float:
        """``learn="head"``: the features stay as they are; the output layer becomes the L2-regularised
        logistic regression of the labels on the rated loops' dense-layer outputs (standardised over
        the reference loops, else the rated ones; penalty ``head_l2`` times the squared weights, the bias
        drawn towards :data:`BASE_RATE` by :data:`BIAS_PRIOR` ratings), fitted by :func:`fit_logistic`. Returns
        the mean log loss on the rated loops."""
        self.embed_pending(between)
        emb = torch.from_numpy(np.stack(self._embedded))
        y = torch.tensor(self.labels, dtype=torch.float32)
        if self._reference is None and self._reference_source is not None:
            self._reference = self._embedded_batches(self._reference_source())
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
            self.critic.rated_cells = None if self.grids is None else rated_cells(
                self.grids(self.keys), y.numpy(), (x @ w + b).numpy())
            self.last_loss = float(nn.functional.binary_cross_entropy_with_logits(emb @ wf + bf, y))
        self.rounds += 1
        return self.last_loss

    def embed_pending(self, between: Callable[[], None] | None = None, *, chunk: int = EMBED_CHUNK,
                      most: int | None = None) -> None:
        """Embed rows not yet embedded (``most`` of them; None: all), ``chunk`` at a time, calling ``between``
        before each chunk but the first (the features never change in ``learn="head"``: each loop is embedded
        once); a row whose MFCCs can be made again lets them go."""
        missing = [i for i, e in enumerate(self._embedded) if e is None][:most]
        if missing and self._embedded_by is None:
            self._embedded_by = {k: v.clone() for k, v in self._embedding_weights().items()}
        for k in range(0, len(missing), chunk):
            if k and between is not None:
                between()
            rows = missing[k:k + chunk]
            for i, e in zip(rows, self.critic.embed(self.features(rows)).numpy()):
                self._embedded[i] = e
                if self.keys[i] is not None and self.remake is not None:
                    self.feats[i] = None

    def _embedding_weights(self) -> dict[str, torch.Tensor]:
        """The critic's weights and statistics an embedding depends on: all but the output layer's."""
        out = self.critic.output_name() + "."
        return {k: v for k, v in self.critic.state_dict().items() if not k.startswith(out)}

    def _weights_changed(self) -> None:
        """After the critic's weights were replaced: embeddings made by other features are forgotten."""
        made_by = self._embedded_by
        now = self._embedding_weights()
        if made_by is None or made_by.keys() != now.keys() or not all(torch.equal(made_by[k], now[k]) for k in now):
            self._embedded = [None] * len(self.feats)
            self._embedded_by = None
            if self._reference_source is not None:
                self._reference = None

    def reset(self) -> None:
        """Back to the initial critic and a fresh optimiser; the rated loops are kept."""
        self.critic.load_state_dict(self.initial)
        self.critic.head_posterior = self.critic.rated_cells = None
        self._weights_changed()
        self._optimizer = self._optimizer_state = None
        self.rounds = 0

    def snapshot(self) -> dict:
        """A copy of the training state (weights, optimiser, round counter), for :meth:`restore`."""
        return copy.deepcopy({"critic": self.critic.state_dict(), "optimizer": self._optimizer_state_dict(),
                              "rounds": self.rounds, "last_loss": self.last_loss})

    def restore(self, state: dict) -> None:
        """Go back to a :meth:`snapshot` (the rated loops are not part of it)."""
        self.critic.load_state_dict(state["critic"])
        self.critic.head_posterior = self.critic.rated_cells = None  # a snapshot keeps none: the next fit
        self._set_optimizer_state(state["optimizer"])
        self.rounds, self.last_loss = state["rounds"], state["last_loss"]
        self._weights_changed()
        self.critic.eval()

    def clear(self) -> None:
        """Forget the rated loops (the weights are kept)."""
        self.feats.clear()
        self.keys.clear()
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
            self._weights_changed()
            self.initial = state["initial"]
            self.rounds = int(state["rounds"])
            extra = dict(state.get("extra", {}))
        except InputError:
            raise
        except Exception as err:  # torch.load of a file that is not one raises almost anything (IndexError, ...)
            raise InputError(f"{path}: not a readable critic checkpoint ({err.__class__.__name__})") from err
        self.critic.eval()
        return extra

