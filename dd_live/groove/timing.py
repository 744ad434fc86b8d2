"""Timing learned from takes over a whole song, in rolypoly~'s spirit: each drum hit's offset and velocity
predicted from its context by a small recurrent net, fine-tuned on targets set by the drummer's own takes.

Offsets are in steps of the hit's bar grid (:mod:`dd_live.groove.score`), within +-:data:`OFFSET_LIMIT`: a
whole step either way, so the drums can morph x..x..x into three equal triplets (the last hit needs -2/3 of a
step) or swing an off-beat sixteenth by a third, where the looping bar's layer stops at +-0.5.

**Targets** (:func:`take_targets`). After a take, ``yhat`` is what the drums played (offset per hit) and
``diff`` the human's gap to it (human minus drum, steps; NaN where nobody played). rolypoly~'s equations::

    d = yhat + A * diff * std(yhat) / std(diff)          (1)
    y = B * (d - mean(d)) * std(yhat) / std(d)           (2)

``scale="paper"`` computes them as published. They cannot start from straight drums (std(yhat) = 0 gives
zero targets for ever) and keep the drums' spread whatever the human does, so the default
(``scale="none"``) drops the variance matching: d = yhat + A * (diff - latency), y = B * d (centred on the
on-beats' mean only with ``centre=True``, as the looping bar is). A is then the share of the human's gap
taken per take (1: the paper's default, all of it), B the weight on what was realised. Hits nobody played
get no target: the net fills them from hits like them (same place in the beat, bar and phrase, same role
and section label), which is how a verse played along in its first half teaches the second.

**Latency.** A song-wide lay-back cannot be told from the performer's rig latency by timing alone, so song
takes take off a *known* latency (the session's measured one, the audio driver's), not one estimated per take
as the looping bar does: a laid-back verse and a pushed chorus then each keep their own sign.

**The net** (:class:`TimingNet`): a GRU (:data:`HIDDEN` units) over the song's hits in order, then a linear
layer to two outputs: the offset (``OFFSET_LIMIT * tanh``) and a velocity factor
(``exp(VELOCITY_RANGE * tanh)``). rolypoly~ used a 2 x 256 LSTM pretrained on the Groove MIDI Dataset; no
expressive drum performances are in the package registries this runs from, so it starts from the session's
loop feel layer instead (:meth:`SongFeel.__init__`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .adapt import MATCH_FRACTION
from .score import FEATURES, Score, features

OFFSET_LIMIT = 1.0      # steps either way
VELOCITY_RANGE = 0.5    # velocity factors within exp(+-0.5): about 0.6-1.65 times the notated velocity
HIDDEN = 32             # GRU units
WINDOW = 32             # hits the GRU runs over in one sequence (about two bars of sixteenths)
EPOCHS = 150            # full-song passes per take (fine-tuning)
WARM_EPOCHS = 200       # passes to start the net on the loop feel layer
LEARNING_RATE = 2e-3
VELOCITY_WEIGHT = 0.2   # the velocity loss's share of the offset loss's scale
DEFAULT_A = 1.0         # rolypoly~'s default: the human's whole gap per take
DEFAULT_B = 1.0


def take_targets(yhat: np.ndarray, diff: np.ndarray, *, a: float = DEFAULT_A, b: float = DEFAULT_B,
                 latency: float | np.ndarray = 0.0, scale: str = "none", centre: bool = False,
                 on_beat: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Targets from one take (see the module docstring): (offset per hit in steps, which hits have one).
    ``latency`` (steps, scalar or per hit) is taken off the gaps first. ``centre``: subtract the mean target
    of the on-beats heard (``on_beat``)."""
    if scale not in ("none", "paper"):
        raise InputError(f"scale must be 'none' or 'paper', got {scale!r}")
    yhat = np.asarray(yhat, dtype=np.float64)
    gap = np.asarray(diff, dtype=np.float64) - latency
    heard = np.isfinite(gap)
    y = np.full(yhat.shape, np.nan)
    if not heard.any():
        return y, heard
    g = gap[heard]
    if scale == "paper":
        sy, sd = float(np.std(yhat[heard])), float(np.std(g))
        d = yhat[heard] + (a * g * sy / sd if sd > 0 else 0.0)
        s = float(np.std(d))
        y[heard] = b * (d - d.mean()) * sy / s if s > 0 else 0.0
        return y, heard
    d = yhat[heard] + a * g
    if centre and on_beat is not None and (on_beat & heard).any():
        d = d - float(np.mean(d[on_beat[heard]]))
    y[heard] = np.clip(b * d, -OFFSET_LIMIT, OFFSET_LIMIT)
    return y, heard


def match_onsets(played_s: np.ndarray, onsets_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair each onset (s) with the nearest drum hit as it was played (``played_s``, s, sorted); an onset farther
    than MATCH_FRACTION of the way to the next hit on its side is nobody's. Returns per hit the mean gap of its
    onsets (human minus drum, s; NaN where none), and per onset the hit it matched (-1: none)."""
    played = np.asarray(played_s, dtype=np.float64)
    onsets = np.asarray(onsets_s, dtype=np.float64).ravel()
    n = played.size
    which = np.full(onsets.size, -1, dtype=np.int64)
    if n == 0 or onsets.size == 0:
        return np.full(n, np.nan), which
    right = np.clip(np.searchsorted(played, onsets), 0, n - 1)
    left = np.clip(right - 1, 0, n - 1)
    k = np.where(np.abs(onsets - played[left]) <= np.abs(onsets - played[right]), left, right)
    gap = onsets - played[k]
    nxt = np.where(k + 1 < n, played[np.minimum(k + 1, n - 1)] - played[k], np.inf)
    prev = np.where(k > 0, played[k] - played[np.maximum(k - 1, 0)], np.inf)
    nxt, prev = np.where(np.isinf(nxt), prev, nxt), np.where(np.isinf(prev), nxt, prev)   # the ends: the other side
    ok = np.abs(gap) <= MATCH_FRACTION * np.where(gap >= 0, nxt, prev)
    which[ok] = k[ok]
    return _per_hit(gap, which, n), which


def _per_hit(values: np.ndarray, which: np.ndarray, n: int) -> np.ndarray:
    """The mean of ``values`` by the hit each belongs to (``which``; -1: none); NaN for hits with none."""
    ok = which >= 0
    total = np.bincount(which[ok], weights=values[ok], minlength=n)[:n]
    count = np.bincount(which[ok], minlength=n)[:n]
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


class TimingNet:
    """The GRU and its head (torch, imported on first use), on CPU, seeded."""

    def __init__(self, *, seed: int = 0, hidden: int = HIDDEN) -> None:
        import torch

        self.torch = torch
        gen = torch.Generator().manual_seed(int(seed))
        self.gru = torch.nn.GRU(FEATURES, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, 2)
        with torch.no_grad():
            for p in [*self.gru.parameters(), *self.head.parameters()]:
                p.copy_(torch.empty_like(p).uniform_(-1, 1, generator=gen) / np.sqrt(hidden))
        self.params = [*self.gru.parameters(), *self.head.parameters()]
        self.opt = torch.optim.Adam(self.params, lr=LEARNING_RATE)

    def _out(self, x):
        """Outputs for features ``x`` (rows, FEATURES): the song cut into windows of :data:`WINDOW` hits run side
        by side (the GRU's state starts afresh at each; what came just before a hit is in its features)."""
        torch = self.torch
        n = x.shape[0]
        pad = (-n) % WINDOW
        xw = torch.cat([x, x.new_zeros(pad, x.shape[1])]).reshape(-1, WINDOW, x.shape[1])
        h, _ = self.gru(xw)
        o = self.head(h).reshape(-1, 2)[:n]
        return OFFSET_LIMIT * torch.tanh(o[:, 0]), VELOCITY_RANGE * torch.tanh(o[:, 1])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(offset per hit in steps, velocity factor per hit) for features ``x``."""
        with self.torch.no_grad():
            off, logv = self._out(self.torch.from_numpy(x))
        return off.numpy().astype(np.float64), np.exp(logv.numpy()).astype(np.float64)

    def fit(self, x: np.ndarray, offsets: np.ndarray, mask: np.ndarray, *, velocity: np.ndarray | None = None,
            epochs: int = EPOCHS) -> float:
        """Fine-tune on ``offsets`` (steps) where ``mask``, and on velocity factors where finite; returns the
        last offset loss (mean squared, steps^2)."""
        torch = self.torch
        xt = torch.from_numpy(x)
        yt = torch.from_numpy(np.nan_to_num(offsets).astype(np.float32))
        mt = torch.from_numpy(np.asarray(mask, dtype=np.float32))
        vel = np.full(len(offsets), np.nan) if velocity is None else np.asarray(velocity, dtype=np.float64)
        vm = torch.from_numpy(np.isfinite(vel).astype(np.float32))
        vt = torch.from_numpy(np.log(np.nan_to_num(vel, nan=1.0).clip(1e-3)).astype(np.float32))
        loss_value = 0.0
        for _ in range(epochs):
            off, logv = self._out(xt)
            loss = ((off - yt) ** 2 * mt).sum() / mt.sum().clamp(min=1)
            loss_value = float(loss.detach())
            loss = loss + VELOCITY_WEIGHT * ((logv - vt) ** 2 * vm).sum() / vm.sum().clamp(min=1)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return loss_value


@dataclass(frozen=True)
class TakeReport:
    """One take over the song: hits played along with, onsets heard and matched, the mean |gap| (ms) before it
    was learned, and the drums' mean offset per section label after it (ms)."""

    matched_hits: int
    onsets: int
    matched_onsets: int
    mean_abs_gap_ms: float
    section_offsets_ms: dict[str, float]
    loss: float


class SongFeel:
    """What takes over one song have taught: the offset and velocity factor each hit plays with next.

    ``layer``: the session's loop feel layer (offset per step of a one-bar loop), the drums' timing before the
    first take; ``a``, ``b``, ``scale``: :func:`take_targets`; ``latency_s``: the human's known latency."""

    def __init__(self, score: Score, *, layer: np.ndarray | None = None, a: float = DEFAULT_A, b: float = DEFAULT_B,
                 scale: str = "none", latency_s: float = 0.0, seed: int = 0) -> None:
        if not 0.0 <= a <= 2.0 or not 0.0 <= b <= 2.0:
            raise InputError(f"A and B must be 0-2, got {a:g} and {b:g}")
        self.score, self.a, self.b, self.scale, self.latency_s = score, float(a), float(b), scale, float(latency_s)
        self.net = TimingNet(seed=seed)
        self.target = np.full(len(score), np.nan)       # the latest target each hit was given (steps)
        self.vel_target = np.full(len(score), np.nan)
        self.last_gap = np.zeros(len(score))             # the last take's gap per hit (steps; 0: not heard)
        self.offsets = _from_layer(score, layer)
        self.velocity = np.ones(len(score))
        self.takes = 0
        if np.any(self.offsets):
            self.net.fit(features(score), self.offsets, np.ones(len(score), bool), epochs=WARM_EPOCHS)
        else:
            self.net.fit(features(score), self.offsets, np.ones(len(score), bool), epochs=WARM_EPOCHS // 4)

    def played_s(self) -> np.ndarray:
        """Where each hit sounds next time (s from the song's start)."""
        return self.score.at_s + self.offsets * self.score.step_s

    def take(self, onsets_s: np.ndarray, velocities: np.ndarray | None = None, *, epochs: int = EPOCHS
             ) -> TakeReport:
        """Learn from one take: the human's onsets (s from the song's start, as the drums played
        :meth:`played_s`) and, if known, their velocities (1-127). Returns the take's figures."""
        s = self.score
        onsets = np.asarray(onsets_s, dtype=np.float64).ravel()
        gap_s, which = match_onsets(self.played_s(), onsets)
        diff = gap_s / s.step_s
        y, heard = take_targets(self.offsets, diff, a=self.a, b=self.b, latency=self.latency_s / s.step_s,
                                scale=self.scale)
        self.target[heard] = y[heard]
        if velocities is not None and heard.any():     # the human's dynamics, relative to their mean
            loud = _per_hit(np.asarray(velocities, dtype=np.float64).ravel(), which, len(s))
            self.vel_target[heard] = loud[heard] / float(np.nanmean(loud))
        mean_abs = float(np.nanmean(np.abs(gap_s - self.latency_s))) * 1e3 if heard.any() else float("nan")
        self.last_gap = np.where(heard, diff, 0.0)
        x = features(s, self.last_gap)
        known = np.isfinite(self.target)
        loss = self.net.fit(x, self.target, known, velocity=self.vel_target, epochs=epochs)
        self.offsets, self.velocity = self.net.predict(x)
        self.takes += 1
        return TakeReport(matched_hits=int(heard.sum()), onsets=int(onsets.size), matched_onsets=int((which >= 0).sum()),
                          mean_abs_gap_ms=round(mean_abs, 3), section_offsets_ms=self.section_offsets_ms(),
                          loss=round(loss, 6))

    def section_offsets_ms(self) -> dict[str, float]:
        """The drums' mean offset per section label (ms)."""
        s = self.score
        ms = self.offsets * s.step_s * 1e3
        return {label: round(float(np.mean(ms[s.section == k])), 3) for k, label in enumerate(s.labels)
                if (s.section == k).any()}


def _from_layer(score: Score, layer: np.ndarray | None) -> np.ndarray:
    """Each hit's offset from a loop's feel layer (steps), read at its place in the bar."""
    if layer is None or not np.any(layer):
        return np.zeros(len(score))
    from .feel import layer_for

    out = np.zeros(len(score))
    for steps in np.unique(score.beats_in_bar * score.steps_per_beat):
        rows = score.beats_in_bar * score.steps_per_beat == steps
        grid = layer_for(np.asarray(layer, dtype=np.float64), int(steps))
        pos = score.step_in_bar()[rows]
        out[rows] = np.interp(pos, np.arange(steps + 1), np.append(grid, grid[0]))
    return out


def save_feel(feel: SongFeel, path) -> None:
    """Keep what takes over a song taught (the net, each row's targets) in ``path`` (written whole)."""
    import torch

    from ..sound.audio import atomic_path

    state = {"gru": feel.net.gru.state_dict(), "head": feel.net.head.state_dict(), "target": feel.target,
             "vel_target": feel.vel_target, "last_gap": feel.last_gap, "takes": feel.takes, "rows": len(feel.score)}
    with atomic_path(path, force=True) as tmp:
        torch.save(state, tmp)


def load_state(path) -> dict | None:
    """What :func:`save_feel` kept, or None if there is no such file or it does not load (said once)."""
    import logging

    import torch

    from pathlib import Path

    if not Path(path).is_file():
        return None
    try:
        state = torch.load(path, weights_only=False)
        if not {"gru", "head", "target", "takes", "rows"} <= set(state):
            raise ValueError("not a song's timing")
        return state
    except Exception as err:   # an old or damaged file: nothing learned is used
        logging.getLogger("dd_live.daemon").warning("%s not used (%s)", path, str(err).splitlines()[0])
        return None


def restore(feel: SongFeel, state: dict) -> None:
    """Give ``feel`` what earlier takes taught: the net always (it reads each hit's context, so it fits the song
    arranged anew), each row's targets only if the song has the same rows."""
    feel.net.gru.load_state_dict(state["gru"])
    feel.net.head.load_state_dict(state["head"])
    feel.takes = int(state["takes"])
    if state["rows"] == len(feel.score):
        feel.target, feel.vel_target, feel.last_gap = state["target"], state["vel_target"], state["last_gap"]
    feel.offsets, feel.velocity = feel.net.predict(features(feel.score, feel.last_gap))
