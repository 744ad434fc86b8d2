"""Adaptive microtiming: after each take, move a per-step *feel layer* towards where a human played.

Units: every time here is in **steps** of the loop's grid (a sixteenth in a 16-step 4/4 bar), measured
from the bar line; the layer holds one offset per step, a fraction of a step, within +-:data:`FEEL_LIMIT`.
Pure numpy: no clocks, no I/O.

A take gives, for each human onset, its position in the loop and the drum hits that were playing (their
steps and realised times: grid + swing + the loop's offsets + the layer). :func:`match` pairs each onset
with the nearest drum step (circularly) and drops onsets farther than a third of the gap to the
neighbouring drum step on that side, after taking off the human's latency (estimated from the on-beats in
a first pass: 12 ms late plus a third of a sixteenth of swing would otherwise leave the window). :func:`adapt` then updates the layer.

rolypoly~ (Jourdan & Caramiaux) sets the next take's target offsets from the realised drum offsets
``yhat`` and the drum-to-human gaps ``diff``::

    d = yhat + A * diff * std(yhat) / std(diff)          (1)
    y = B * (d - mean(d)) * std(yhat) / std(d)           (2)

(:func:`rolypoly_targets`). Two properties make it unusable as it stands for a drum machine whose loops
start straight: (2) gives the targets exactly the spread of ``yhat``, so the drums' timing can change
shape but never grow; and with straight drums std(yhat) = 0, so nothing ever moves. Centring on the mean of
all steps also drags the downbeats early whenever the human lays back on the off-beats.

:func:`adapt` keeps the paper's idea (targets = realised offsets + the human's gap, centred) and replaces
the variance matching by two things a performer can reason about:

* ``rate`` (0-1): the share of the remaining gap closed per take (1: the paper's morphing setting, where
  A and B cancel the variance scaling);
* a per-step noise guard: a step's mean gap counts in proportion ``e^2 / (e^2 + se^2)``, ``se`` being the
  standard error of that mean over the take (the within-step spread, pooled over steps), so a human's
  jitter does not walk the drums around while a consistent push or lay-back is followed at full rate.

Gaps are centred on the on-beats (steps that start a beat): the human's mean gap there is taken as their
latency and sound-card delay, not as feel, and after the update the layer is shifted so that its on-beat
steps average zero. The drums follow the human's shape without drifting early or late.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

FEEL_LIMIT = 0.5        # the layer's range, +- a fraction of a step
MATCH_FRACTION = 1 / 3  # onsets farther than this share of the gap to the next drum step are not matched
DEFAULT_RATE = 0.5      # share of the gap closed per take (the /dd/set/adapt default)


@dataclass(frozen=True)
class TakeFit:
    """What one take says: per step, the onsets matched (``count``), their mean gap to the drum (``gap``,
    steps, human minus drum; NaN where none) and the latency removed (``centre``, steps)."""

    count: np.ndarray
    gap: np.ndarray
    spread: float        # pooled within-step standard deviation of the gaps (steps)
    centre: float
    matched: int
    onsets: int
    mean_abs_gap: float  # mean |human - nearest drum hit| over all onsets, latency included (steps)
    mean_abs_gap_centred: float  # the same with the on-beat latency removed (steps)


def circular(d: np.ndarray, steps: int) -> np.ndarray:
    """Wrap differences into [-steps/2, steps/2)."""
    return (np.asarray(d, dtype=np.float64) + steps / 2) % steps - steps / 2


def match(onsets: np.ndarray, drum_steps: np.ndarray, drum_times: np.ndarray, steps: int, *,
          latency: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair onsets with drum steps.

    ``onsets``: human onset positions (steps, any real; wrapped into the loop). ``drum_steps``: the grid
    steps that have a hit (distinct ints); ``drum_times``: where each of them sounded (steps). ``latency``
    (steps) is taken off the onsets before pairing (a late human's off-beats would otherwise fall outside
    the window), and the gaps returned are the raw ones. Returns, per onset, the index into ``drum_steps``
    it matched (-1: none), its gap (human - drum, steps; NaN: none) and its gap to the nearest drum hit
    whether matched or not (steps).
    """
    onsets = np.asarray(onsets, dtype=np.float64).ravel() - latency
    drum_steps = np.asarray(drum_steps).ravel()
    times = np.asarray(drum_times, dtype=np.float64).ravel()
    which = np.full(onsets.shape, -1, dtype=np.int64)
    gaps = np.full(onsets.shape, np.nan)
    if times.size == 0 or onsets.size == 0:
        return which, gaps, gaps.copy()
    order = np.argsort(times % steps)
    t = times[order] % steps
    d = circular(onsets[:, None] - t[None, :], steps)          # (onsets, hits)
    k = np.argmin(np.abs(d), axis=1)
    gap = d[np.arange(onsets.size), k]
    n = t.size
    if n == 1:
        local = np.full(onsets.shape, float(steps))
    else:  # the gap from the matched hit to its neighbour on the onset's side
        nxt = (t[(k + 1) % n] - t[k]) % steps
        prev = (t[k] - t[(k - 1) % n]) % steps
        local = np.where(gap >= 0, nxt, prev)
    ok = np.abs(gap) <= MATCH_FRACTION * local
    which[ok] = order[k[ok]]
    gaps[ok] = gap[ok] + latency
    return which, gaps, gap + latency


def fit_take(step_of_onset: np.ndarray, gaps: np.ndarray, steps: int, steps_per_beat: int,
             nearest: np.ndarray | None = None) -> TakeFit:
    """Per-step statistics of one take's matched onsets (``step_of_onset``: the drum step each matched,
    -1 for none; ``gaps`` in steps; ``nearest``: every onset's gap to the nearest drum hit, for the mean
    gaps, default the matched ones' gaps)."""
    s = np.asarray(step_of_onset, dtype=np.int64).ravel()
    g = np.asarray(gaps, dtype=np.float64).ravel()
    near = g[np.isfinite(g)] if nearest is None else np.asarray(nearest, dtype=np.float64).ravel()
    near = near[np.isfinite(near)]
    ok = (s >= 0) & np.isfinite(g)
    s, g = s[ok], g[ok]
    count = np.bincount(s, minlength=steps).astype(np.int64)[:steps]
    total = np.bincount(s, weights=g, minlength=steps)[:steps]
    gap = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    resid = g - gap[s] if s.size else g
    dof = int(np.sum(np.maximum(count - 1, 0)))
    spread = float(np.sqrt(np.sum(resid ** 2) / dof)) if dof > 0 else 0.0
    on = (np.arange(steps) % steps_per_beat == 0) & (count > 0)
    pick = on[s] if s.size else np.zeros(0, bool)
    if pick.any():
        centre = float(np.mean(g[pick]))
    elif s.size:
        centre = float(np.median(g))
    else:
        centre = 0.0
    return TakeFit(count=count, gap=gap, spread=spread, centre=centre, matched=int(s.size), onsets=int(ok.size),
                   mean_abs_gap=float(np.mean(np.abs(near))) if near.size else float("nan"),
                   mean_abs_gap_centred=float(np.mean(np.abs(near - centre))) if near.size else float("nan"))


def adapt(layer: np.ndarray, fit: TakeFit, *, rate: float = DEFAULT_RATE, steps_per_beat: int) -> np.ndarray:
    """The layer after a take: each step with matched onsets moves by ``rate`` x its centred mean gap, that
    gap weighted by how clearly it stands out of the take's jitter; then the on-beats are re-centred on zero
    and everything clipped to +-FEEL_LIMIT. Steps the take did not hear keep their value."""
    if not 0.0 <= rate <= 1.0:
        raise InputError(f"adapt rate must be 0-1, got {rate}")
    layer = np.asarray(layer, dtype=np.float64)
    steps = layer.size
    heard = fit.count > 0
    e = np.where(heard, fit.gap - fit.centre, 0.0)
    se2 = np.where(heard, fit.spread ** 2 / np.maximum(fit.count, 1), 0.0)
    weight = np.where(heard & (e * e + se2 > 0), e * e / np.maximum(e * e + se2, 1e-300), 0.0)
    new = layer + rate * weight * e
    on = np.arange(steps) % steps_per_beat == 0
    new = new - float(np.mean(new[on]))
    return np.clip(new, -FEEL_LIMIT, FEEL_LIMIT)


def rolypoly_targets(yhat: np.ndarray, diff: np.ndarray, *, a: float = 1.0, b: float = 1.0) -> np.ndarray:
    """rolypoly~'s equations (1) and (2) as published, for comparison (see the module docstring): the
    targets keep std(yhat), and are all zero when the drums were straight."""
    yhat = np.asarray(yhat, dtype=np.float64)
    diff = np.asarray(diff, dtype=np.float64)
    sy, sd = float(np.std(yhat)), float(np.std(diff))
    d = yhat + (a * diff * sy / sd if sd > 0 else 0.0)
    s = float(np.std(d))
    return b * (d - d.mean()) * sy / s if s > 0 else np.zeros_like(d)
