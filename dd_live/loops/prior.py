"""A drummer's prior over loops: where each role (low, backbeat, time, colour) plays in a bar, learned from real
drum parts, so that the first loops a session proposes already sound like drums.

Learned numbers only. A bar of drum MIDI becomes, per role, which positions of the bar hold a hit at
:data:`RESOLUTION` positions a beat (beats as song mode counts them: :func:`dd_live.song.arrange.grid_for`).
For each meter's grid (``16x4`` for 4/4, ``12x3`` for 3/4, ``12x2`` for 6/8, ...) a mixture of a few
product-Bernoulli components is fitted to those bars by EM (styles: a rock beat, four on the floor, a shuffle,
a waltz ...); each component's probabilities are shrunk towards the meter's overall ones by
:data:`SHRINK` pseudo-bars, and a component must rest on at least :data:`MIN_COMPONENT` bars. What ships
(``dd_live/data/drum_prior.json``, made by ``dd-live prior build`` from Debian's simutrans-data songs and mma's
groove library, both named in the file) holds those probabilities and mean velocities, never a bar.

Drawing a loop (:meth:`DrumPrior.draw`): a component by its weight, then each track's row from its role's
probabilities on the loop's own grid (each step gathers the positions nearest to it), moved denser or sparser
by the performer's density (a shift of every log-odds), and its sound from its role's samples
(:attr:`dd_live.sound.samples.SampleLibrary.role_pools`). Tracks take roles in the order of :data:`LAYOUT`.
A share :data:`FREE_SHARE` of the loops stays free (DeepDrummer's uniform cells and sounds), so a taste the
prior does not know is still reachable.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..sound.roles import ROLES
from .pattern import DENSITY, Constraints, apply_fotf, random_arrays
from .. import GRID

SCHEMA = "dd_live.drum_prior"
SCHEMA_VERSION = 1
RESOLUTION = 24          # positions a beat: 16ths, 8th and 16th triplets and 32nds all land on one
SHRINK = 4.0             # pseudo-bars pulling each component towards its meter's overall probabilities
MIN_COMPONENT = 20       # bars a component must rest on (fewer: fewer components)
MIN_BARS = 20            # bars a meter needs to be learned at all (others are built from 4/4's beats)
MAX_COMPONENTS = 8
FREE_SHARE = 0.2         # loops drawn as DeepDrummer's (uniform cells and sounds), whatever the prior says
PATTERNS_SHARE = 0.75    # a performer's own drum parts' weight on the grids they cover (--patterns)
SPREAD = 1.0             # prior loops' log-odds shift is drawn from +-SPREAD around the performer's density
LAYOUT = ("low", "backbeat", "time", "colour")   # the roles of tracks 1-4 (further tracks: colour)
KEEP_ROLES = ("low", "backbeat", "time")         # roles whose track is never left silent
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "drum_prior.json"


def layout(tracks: int) -> tuple[str, ...]:
    """The role of each of ``tracks`` tracks."""
    return tuple(LAYOUT[t] if t < len(LAYOUT) else "colour" for t in range(tracks))


def grid_key(steps: int, beats: int) -> str:
    return f"{steps}x{beats}"


def density_shift(density: float) -> float:
    """The log-odds shift of the performer's ``density`` (0-1): none at DeepDrummer's 0.5."""
    d = min(max(float(density), 0.01), 0.99)
    return math.log(d / (1 - d)) - math.log(DENSITY / (1 - DENSITY))


# ---------------------------------------------------------------- learning

def _em(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 60) -> tuple[np.ndarray, np.ndarray,
                                                                                  np.ndarray]:
    """A k-component product-Bernoulli mixture of the rows of binary ``x`` (n, d): weights (k,), probabilities
    (k, d) shrunk towards the overall ones, and each row's component (n,)."""
    n, d = x.shape
    overall = (x.sum(0) + 0.5) / (n + 1.0)
    xf = x.astype(np.float64)
    seeds = [int(rng.integers(n))]            # k-means++: each further start a bar far from those chosen
    far = np.full(n, np.inf)
    for _ in range(k - 1):
        far = np.minimum(far, np.abs(xf - xf[seeds[-1]]).sum(1))
        seeds.append(int(rng.choice(n, p=far / far.sum())) if far.sum() > 0 else int(rng.integers(n)))
    p = np.clip(xf[seeds] * 0.5 + overall * 0.5, 1e-3, 1 - 1e-3)
    w = np.full(k, 1.0 / k)
    for _ in range(iters):
        logp = xf @ np.log(p).T + (1 - xf) @ np.log(1 - p).T + np.log(w)
        logp -= logp.max(1, keepdims=True)
        r = np.exp(logp)
        r /= r.sum(1, keepdims=True)
        mass = r.sum(0)
        w = (mass + 1e-9) / (n + k * 1e-9)
        p = np.clip((r.T @ xf + SHRINK * overall) / (mass[:, None] + SHRINK), 1e-3, 1 - 1e-3)
    return w, p, np.argmax(r, 1)


def fit_grid(hits: np.ndarray, velocities: np.ndarray, *, seed: int = 0) -> dict:
    """The prior of one meter's grid from its bars: ``hits`` bool (bars, roles, positions), ``velocities``
    (same shape, 0 where no hit). Returns the JSON form: bars, components (weight, probability and mean
    velocity per role and position, rounded)."""
    n = hits.shape[0]
    rng = np.random.default_rng(seed)
    x = hits.reshape(n, -1)
    k = max(1, min(MAX_COMPONENTS, n // (2 * MIN_COMPONENT)))
    while True:
        w, p, z = _em(x, k, rng)
        sizes = np.bincount(z, minlength=k)
        if k == 1 or sizes.min() >= MIN_COMPONENT:
            break
        k -= 1
    vel_all = velocities.reshape(n, -1).astype(np.float64)
    role_mean = np.array([velocities[:, r][hits[:, r]].mean() if hits[:, r].any() else 100.0
                          for r in range(hits.shape[1])])
    prior_v = np.repeat(role_mean, hits.shape[2])
    components = []
    for j in np.argsort(-w):
        sel = z == j
        cnt = x[sel].sum(0)
        vel = (vel_all[sel].sum(0) + SHRINK * prior_v) / (cnt + SHRINK)
        components.append({
            "weight": round(float(w[j]), 4),
            "p": {role: [round(float(v), 4) for v in row] for role, row in zip(ROLES, p[j].reshape(hits.shape[1], -1))},
            "velocity": {role: [int(round(v)) for v in row]
                         for role, row in zip(ROLES, vel.reshape(hits.shape[1], -1))},
        })
    total = sum(c["weight"] for c in components)
    for c in components:
        c["weight"] = round(c["weight"] / total, 4)
    return {"bars": int(n), "beats": int(hits.shape[2] // RESOLUTION), "components": components}


def fit_prior(bars: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]], sources: list[dict], *,
              seed: int = 0, min_bars: int = MIN_BARS, whole: bool = True) -> dict:
    """The prior's JSON form from each meter grid's bars ((steps, beats) -> (hits, velocities), see
    :func:`fit_grid`); meters with fewer than ``min_bars`` bars are left out. ``sources``: where the bars came
    from (name, what, bars), written into the file. ``whole``: a prior that stands alone, which needs 4/4 (one
    that only shapes another, :meth:`DrumPrior.blend`, needs any grid)."""
    grids = {grid_key(*g): fit_grid(h, v, seed=seed) for g, (h, v) in sorted(bars.items()) if h.shape[0] >= min_bars}
    if whole and "16x4" not in grids:
        raise InputError(f"a drum prior needs at least {min_bars} bars of 4/4 drums")
    if not grids:
        raise InputError(f"no meter has {min_bars} bars of drums")
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "resolution": RESOLUTION, "roles": list(ROLES),
            "sources": sources, "grids": grids}


# ---------------------------------------------------------------- using it

@dataclass(frozen=True)
class GridPrior:
    """The prior on one loop grid: component weights (K,), hit probabilities and mean velocities
    (K, roles, steps)."""

    weights: np.ndarray
    p: np.ndarray
    velocity: np.ndarray


def _owner(positions: int, steps: int) -> np.ndarray:
    """The step each of a bar's ``positions`` goes to: the nearest (circularly)."""
    return np.floor(np.arange(positions) * steps / positions + 0.5).astype(int) % steps


def _gather(p: np.ndarray, steps: int) -> np.ndarray:
    """Probabilities (..., positions) at RESOLUTION a beat onto ``steps`` steps of the same bar: each position
    goes to its nearest step (circularly), a step plays if any of its positions does."""
    owner = _owner(p.shape[-1], steps)
    miss = np.zeros(p.shape[:-1] + (steps,))
    np.add.at(miss, (..., owner), np.log1p(-np.clip(p, 0.0, 0.999)))   # type: ignore[index]
    return 1.0 - np.exp(miss)


def _gather_mean(v: np.ndarray, weight: np.ndarray, steps: int) -> np.ndarray:
    """Mean values (..., positions) onto ``steps`` steps, each position weighted by ``weight`` (its hit
    probability): what a step plays at when it plays."""
    owner = _owner(v.shape[-1], steps)
    num, den = np.zeros(v.shape[:-1] + (steps,)), np.zeros(v.shape[:-1] + (steps,))
    np.add.at(num, (..., owner), v * weight)   # type: ignore[index]
    np.add.at(den, (..., owner), weight)       # type: ignore[index]
    return num / np.maximum(den, 1e-9)


@dataclass(frozen=True)
class _Learned:
    """One learned meter grid at RESOLUTION: its steps and beats, bars, weights (K,), probabilities and mean
    velocities (K, roles, beats x RESOLUTION)."""

    steps: int
    beats: int
    bars: int
    weights: np.ndarray
    p: np.ndarray
    velocity: np.ndarray

    @classmethod
    def from_json(cls, key: str, g: dict) -> _Learned:
        steps, beats = (int(x) for x in key.split("x"))
        comps = g["components"]
        w = np.array([c["weight"] for c in comps], dtype=np.float64)
        p = np.array([[c["p"][r] for r in ROLES] for c in comps], dtype=np.float64)
        v = np.array([[c["velocity"][r] for r in ROLES] for c in comps], dtype=np.float64)
        if beats != int(g["beats"]) or p.shape[-1] != beats * RESOLUTION or v.shape != p.shape \
                or not np.all((p >= 0) & (p <= 1)) or not (w > 0).all():
            raise ValueError(f"grid {key}: components do not match its beats")
        return cls(steps, beats, int(g["bars"]), w / w.sum(), p, v)


class DrumPrior:
    """A prior read from its JSON form (see the module docstring); :meth:`grid` gives it on any loop grid."""

    def __init__(self, doc: dict, *, name: str = "", whole: bool = True) -> None:
        name = name or "drum prior"
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or doc.get("version") != SCHEMA_VERSION:
            raise InputError(f"{name}: not a dd_live drum prior (schema {SCHEMA} {SCHEMA_VERSION})")
        try:
            if doc["resolution"] != RESOLUTION or list(doc["roles"]) != list(ROLES):
                raise ValueError("made for another resolution or other roles")
            self.grids = {key: _Learned.from_json(key, g) for key, g in doc["grids"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InputError(f"{name}: malformed ({type(err).__name__}: {err})") from None
        if whole and "16x4" not in self.grids:
            raise InputError(f"{name}: has no 4/4 grid (16x4)")
        self.sources = list(doc.get("sources", []))
        self.name = name
        self._cache: dict[tuple[int, int], GridPrior] = {}

    def blend(self, other: DrumPrior, share: float = PATTERNS_SHARE) -> DrumPrior:
        """This prior shaped by ``other`` (a performer's own drum parts): on every grid ``other`` learned, its
        components take ``share`` of the weight and this prior's the rest; other grids stay as they are."""
        out = DrumPrior.__new__(DrumPrior)
        out.grids = dict(self.grids)
        for key, g in other.grids.items():
            mine = self.grids.get(key)
            if mine is None:
                out.grids[key] = g
                continue
            out.grids[key] = _Learned(g.steps, g.beats, g.bars + mine.bars,
                                      np.concatenate([g.weights * share, mine.weights * (1 - share)]),
                                      np.concatenate([g.p, mine.p]), np.concatenate([g.velocity, mine.velocity]))
        out.sources = self.sources + [dict(s, share=share) for s in other.sources]
        out.name = f"{self.name} shaped by {other.name}"
        out._cache = {}
        return out

    def _source(self, steps: int, beats: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights, probabilities and velocities at RESOLUTION for a bar of ``beats`` beats: the learned grid of
        that many beats whose subdivision is like ``steps``' (in twos or in threes), the one of most bars among
        equals; else 4/4's beats laid out anew (its downbeat, then its second and third beats in turn, its
        last beat last)."""
        compound = (steps // beats) % 3 == 0
        same = [g for g in self.grids.values() if g.beats == beats]
        if same:
            g = max(same, key=lambda g: (((g.steps // g.beats) % 3 == 0) == compound, g.bars))
            return g.weights, g.p, g.velocity
        g = self.grids["16x4"]
        k, r = g.p.shape[:2]
        order = [0] + [1 + (b - 1) % 2 for b in range(1, beats)]
        if beats > 2:
            order[-1] = 3
        p = g.p.reshape(k, r, 4, RESOLUTION)[:, :, order].reshape(k, r, -1)
        v = g.velocity.reshape(k, r, 4, RESOLUTION)[:, :, order].reshape(k, r, -1)
        return g.weights, p, v

    def grid(self, steps: int, beats: int) -> GridPrior:
        """The prior on a loop of ``steps`` steps in ``beats`` beats."""
        key = (int(steps), int(beats))
        if key not in self._cache:
            w, p, v = self._source(*key)
            self._cache[key] = GridPrior(w, _gather(p, steps), _gather_mean(v, p, steps))
        return self._cache[key]

    def draw(self, library, rng: np.random.Generator, n: int, *, tracks: int = GRID.tracks, steps: int = GRID.steps,
             beats: int = GRID.beats,
             density: float = DENSITY, free_density: float | np.ndarray | None = None,
             constraints: Constraints = Constraints(), base: tuple[np.ndarray, np.ndarray] | None = None,
             free: float = FREE_SHARE, spread: float = SPREAD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` loops as (hits (n, tracks, steps) bool, sample indices (n, tracks)), :func:`random_arrays`'s
        form, and which of them are free (n,): a share ``free`` of them DeepDrummer's (each cell on with ``free_density``, one or one per loop,
        default ``density``), the rest from the prior with each loop's log-odds shifted by up to ``spread``
        around the performer's ``density``. Locked tracks come from ``base``; four on the floor puts a kick on
        every beat of track 1."""
        library.require(tracks)
        cells = density if free_density is None else free_density
        hits, idx = random_arrays(library, rng, n, tracks=tracks, steps=steps, beats=beats, density=cells,
                                  constraints=constraints, base=base)
        drawn = rng.random(n) >= free
        m = int(drawn.sum())
        if m == 0:
            return hits, idx, ~drawn
        g = self.grid(steps, beats)
        roles = layout(tracks)
        r_of = np.array([ROLES.index(r) for r in roles])
        comp = rng.choice(g.weights.size, size=m, p=g.weights)
        shift = density_shift(density) + rng.uniform(-spread, spread, m)
        p = g.p[comp][:, r_of]                                        # (m, tracks, steps)
        logit = np.log(np.clip(p, 1e-4, 1 - 1e-4) / np.clip(1 - p, 1e-4, 1)) + shift[:, None, None]
        prob = 1 / (1 + np.exp(-logit))
        h = rng.random(prob.shape) < prob
        for t, role in enumerate(roles):                              # a kick, snare or hat track never silent
            if role in KEEP_ROLES:
                empty = ~h[:, t].any(axis=1)
                if empty.any():
                    best = np.argmax(prob[empty, t] + rng.random((int(empty.sum()), steps)) * 1e-6, axis=1)
                    h[np.flatnonzero(empty), t, best] = True
        pools = library.role_pools
        sidx = np.empty((m, tracks), dtype=np.int64)
        for t, role in enumerate(roles):
            members, probs = pools[role]
            sidx[:, t] = members[rng.choice(members.size, size=m, p=probs)]
            for _ in range(8):                        # one sound on two tracks: draw that track's again
                twice = (sidx[:, :t] == sidx[:, t:t + 1]).any(axis=1)
                if not twice.any():
                    break
                sidx[twice, t] = members[rng.choice(members.size, size=int(twice.sum()), p=probs)]
        if constraints.fotf:
            kicks = library.in_category("kick")
            sidx[:, 0] = kicks[rng.integers(0, kicks.size, m)] if kicks.size else sidx[:, 0]
            apply_fotf(h, beats)
        if base is not None:
            rows, samp = constraints.rows_locked(tracks), constraints.samples_locked(tracks)
            h[:, rows] = base[0][rows]
            sidx[:, samp] = base[1][samp]
        hits[drawn], idx[drawn] = h, sidx
        return hits, idx, ~drawn


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> DrumPrior:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: not a readable drum prior ({type(err).__name__}: {err})") from None
    return DrumPrior(doc, name=str(path))


def load_prior(path: str | Path | None = None) -> DrumPrior:
    """The drum prior at ``path``, or the one dd_live ships (read once per file and change)."""
    p = Path(path) if path is not None else DEFAULT_PATH
    try:
        mtime = p.stat().st_mtime
    except OSError as err:
        raise InputError(f"{p}: no drum prior there ({err.strerror})") from None
    return _load(str(p), mtime)
