"""Grid patterns: tracks x steps of hits, one sample per track.

A pattern is one bar of ``beats`` beats (4/4 by default) split into ``steps``
steps (16 sixteenths by default; 12 or 24 give triplets). Each hit has a
velocity (1-127) and a micro-offset (a fraction of a step, -0.5 to 0.5, added
to its grid time). ``swing`` delays every odd step by that fraction of a step
(1/3 is a triplet shuffle on 16ths).

Random generation and the DeepDrummer proposals (toggle each cell with
p = 0.05, redraw each track's sample with p = 0.15) work on whole batches of
arrays so the sampler can move many chains at once; :class:`Pattern` is the
single, named, JSON-serialisable form.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import GRID, MAX_TRACKS, VELOCITY_LEVELS
from ..errors import PatternError

SCHEMA = "dd_live.pattern"
SCHEMA_VERSION = 1
DEFAULT_VELOCITY = VELOCITY_LEVELS["normal"]
MAX_STEPS = 64
DENSITY = 0.5
P_TOGGLE = 0.05
P_SAMPLE = 0.15


@dataclass(frozen=True)
class Constraints:
    """What generation and proposals must keep.

    ``fotf``: track 0 plays every beat with a kick-category sample.
    ``lock_sample``/``lock_row``: per track, keep its sample / its row of hits.
    ``roles``: per track, the role (:mod:`dd_live.sound.roles`) its sounds are drawn from, uniformly among that
    role's samples (song mode: every kit a drummer's); empty: any sample.
    """

    fotf: bool = False
    lock_sample: tuple[bool, ...] = ()
    lock_row: tuple[bool, ...] = ()
    roles: tuple[str, ...] = ()

    def samples_locked(self, tracks: int) -> np.ndarray:
        return _per_track(self.lock_sample, tracks)

    def rows_locked(self, tracks: int) -> np.ndarray:
        return _per_track(self.lock_row, tracks)


def _per_track(flags: Sequence[bool], tracks: int) -> np.ndarray:
    out = np.zeros(tracks, dtype=bool)
    out[: min(len(flags), tracks)] = np.asarray(flags[:tracks], dtype=bool)
    return out


@dataclass(eq=False)
class Pattern:
    """One bar: ``hits`` (bool, tracks x steps), ``velocities`` (1-127), ``offsets`` (steps), one sample key per track."""

    hits: np.ndarray
    samples: tuple[str, ...]
    velocities: np.ndarray | None = None
    offsets: np.ndarray | None = None
    swing: float = 0.0
    beats: int = GRID.beats
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hits = np.asarray(self.hits)
        if hits.ndim != 2:
            raise PatternError(f"hits must be a tracks x steps grid, got shape {hits.shape}")
        if hits.dtype != bool:
            if not np.all(np.isin(hits, (0, 1))):
                raise PatternError("hits must be booleans (0 or 1)")
            hits = hits.astype(bool)
        self.hits = hits
        if self.velocities is None:
            self.velocities = np.full(hits.shape, DEFAULT_VELOCITY, dtype=np.uint8)
        if self.offsets is None:
            self.offsets = np.zeros(hits.shape, dtype=np.float32)
        self.samples = tuple(self.samples)
        validate(self)
        self.velocities = np.where(hits, np.asarray(self.velocities), DEFAULT_VELOCITY).astype(np.uint8)
        self.offsets = np.where(hits, np.asarray(self.offsets, dtype=np.float64), 0.0).astype(np.float32)
        self.swing = float(self.swing)

    @property
    def tracks(self) -> int:
        return int(self.hits.shape[0])

    @property
    def steps(self) -> int:
        return int(self.hits.shape[1])

    @property
    def steps_per_beat(self) -> int:
        return self.steps // self.beats

    def step_times(self) -> np.ndarray:
        """Onset of every cell in steps from the bar line (float64, tracks x steps), swing and offsets included."""
        grid = np.arange(self.steps, dtype=np.float64)
        grid = grid + self.swing * (grid % 2 == 1)
        return grid[None, :] + self.offsets.astype(np.float64)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pattern):
            return NotImplemented
        return (self.samples == other.samples and self.beats == other.beats and self.swing == other.swing
                and np.array_equal(self.hits, other.hits) and np.array_equal(self.velocities, other.velocities)
                and np.array_equal(self.offsets, other.offsets))

    # ------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: rows of velocities (0 = rest), offsets only where any is non-zero."""
        rows = []
        for t in range(self.tracks):
            row: dict[str, Any] = {
                "sample": self.samples[t],
                "velocities": [int(v) if h else 0 for h, v in zip(self.hits[t], self.velocities[t])],
            }
            if np.any(self.offsets[t]):
                row["offsets"] = [round(float(o), 6) for o in self.offsets[t]]
            rows.append(row)
        out = {"schema": SCHEMA, "version": SCHEMA_VERSION, "steps": self.steps, "beats": self.beats,
               "swing": self.swing, "tracks": rows}
        if self.extra:
            out["extra"] = self.extra
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: Any) -> Pattern:
        """Parse the JSON form; PatternError with the first problem found."""
        if not isinstance(d, dict):
            raise PatternError("a pattern must be a JSON object")
        if d.get("schema") != SCHEMA:
            raise PatternError(f"not a dd_live pattern (schema {d.get('schema')!r})")
        if d.get("version") != SCHEMA_VERSION:
            raise PatternError(f"pattern schema version {d.get('version')!r} is not supported (this dd_live reads {SCHEMA_VERSION})")
        rows = d.get("tracks")
        if not isinstance(rows, list) or not rows:
            raise PatternError("pattern has no tracks")
        steps = d.get("steps")
        try:
            vel = np.array([r["velocities"] for r in rows], dtype=np.int64)
            off = np.array([r.get("offsets", [0.0] * len(r["velocities"])) for r in rows], dtype=np.float64)
            samples = tuple(r["sample"] for r in rows)
        except (KeyError, TypeError, ValueError) as err:
            raise PatternError(f"malformed track rows ({err.__class__.__name__}: {err})") from None
        if vel.ndim != 2 or vel.shape[1] != steps or off.shape != vel.shape:
            raise PatternError(f"every track must have {steps} velocities (and offsets)")
        if np.any((vel < 0) | (vel > 127)):
            raise PatternError("velocities must be 0 (rest) or 1-127")
        if not all(isinstance(s, str) for s in samples):
            raise PatternError("each track's sample must be a string")
        return cls(hits=vel > 0, samples=samples, velocities=np.where(vel > 0, vel, DEFAULT_VELOCITY),
                   offsets=off, swing=d.get("swing", 0.0), beats=d.get("beats", 4), extra=d.get("extra", {}))

    @classmethod
    def from_json(cls, text: str) -> Pattern:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as err:
            raise PatternError(f"pattern is not valid JSON: {err}") from None


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _finite_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool) and math.isfinite(x)


# Each check: (what is wrong, test that passes on a good pattern). First failure raises.
_CHECKS: tuple[tuple[str, Callable[[Pattern], bool]], ...] = (
    ("tracks must be 1-%d" % MAX_TRACKS, lambda p: 1 <= p.hits.shape[0] <= MAX_TRACKS),
    ("steps must be 1-%d" % MAX_STEPS, lambda p: 1 <= p.hits.shape[1] <= MAX_STEPS),
    ("beats must be a whole number 1-16", lambda p: _is_int(p.beats) and 1 <= p.beats <= 16),
    ("steps must be a multiple of beats", lambda p: p.hits.shape[1] % p.beats == 0),
    ("velocities must have the same shape as hits", lambda p: np.shape(p.velocities) == p.hits.shape),
    ("offsets must have the same shape as hits", lambda p: np.shape(p.offsets) == p.hits.shape),
    ("velocities must be whole numbers", lambda p: np.all(np.mod(np.asarray(p.velocities, dtype=np.float64), 1) == 0)),
    ("velocities of hits must be 1-127", lambda p: np.all((np.asarray(p.velocities)[p.hits] >= 1) & (np.asarray(p.velocities)[p.hits] <= 127))),
    ("offsets must be finite and within -0.5..0.5 of a step", lambda p: np.all(np.isfinite(np.asarray(p.offsets, dtype=np.float64))) and np.all(np.abs(np.asarray(p.offsets, dtype=np.float64)) <= 0.5)),
    ("swing must be a number from 0 to 0.5", lambda p: _finite_number(p.swing) and 0.0 <= p.swing <= 0.5),
    ("swing needs an even number of steps per beat", lambda p: p.swing == 0 or (p.hits.shape[1] // p.beats) % 2 == 0),
    ("there must be one sample per track", lambda p: len(p.samples) == p.hits.shape[0]),
    ("sample names must be non-empty strings", lambda p: all(isinstance(s, str) and s for s in p.samples)),
)


def validate(p: Pattern, library: Any = None) -> None:
    """Raise PatternError on the first problem; with a library, also check every sample exists in it."""
    for message, ok in _CHECKS:
        try:
            good = bool(ok(p))
        except (TypeError, ValueError):
            good = False
        if not good:
            raise PatternError(message)
    if library is not None:
        missing = [s for s in p.samples if s not in library]
        if missing:
            raise PatternError(f"sample {missing[0]!r} is not in the sample library")


# ---------------------------------------------------------------- batched generation

def _draw_samples(rng: np.random.Generator, library: Any, shape: tuple[int, ...],
                  constraints: Constraints, free: float = 0.0) -> np.ndarray:
    """Sample indices of ``shape`` (..., tracks): uniform over the library, or over each track's role's samples
    (each draw uniform over the library instead with probability ``free``)."""
    idx = rng.integers(0, len(library), size=shape)
    for t, role in enumerate(constraints.roles[: shape[-1]]):
        members = library.role_pools[role][0]
        keep = rng.random(shape[:-1]) < free
        idx[..., t] = np.where(keep, idx[..., t], members[rng.integers(0, members.size, size=shape[:-1])])
    if constraints.fotf:
        kicks = library.in_category("kick")
        if kicks.size == 0:
            raise PatternError("four-on-the-floor needs at least one kick-category sample in the library")
        idx[..., 0] = kicks[rng.integers(0, kicks.size, size=shape[:-1])]
    return idx


def apply_fotf(hits: np.ndarray, beats: int) -> None:
    hits[..., 0, :: hits.shape[-1] // beats] = True


def random_arrays(library: Any, rng: np.random.Generator, n: int, *, tracks: int = GRID.tracks,
                  steps: int = GRID.steps, beats: int = GRID.beats,
                  density: float | np.ndarray = DENSITY, constraints: Constraints = Constraints(),
                  base: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random patterns as (hits (n, tracks, steps) bool, sample indices (n, tracks)).

    Each cell is on with probability ``density`` (one for all, or one per pattern, shape (n,)); each
    track's sample is uniform over the library. Locked tracks are copied from ``base`` (hits (tracks,
    steps), indices (tracks,)).
    """
    cells = np.asarray(density, dtype=np.float64)
    if cells.shape not in ((), (n,)) or not (np.isfinite(cells) & (cells >= 0.0) & (cells <= 1.0)).all():
        raise PatternError(f"density must be 0-1 (one, or one per pattern), got {density}")
    library.require(tracks)
    hits = rng.random((n, tracks, steps)) < cells.reshape(-1, 1, 1)
    idx = _draw_samples(rng, library, (n, tracks), constraints)
    if base is not None:
        rows, samp = constraints.rows_locked(tracks), constraints.samples_locked(tracks)
        hits[:, rows] = base[0][rows]
        idx[:, samp] = base[1][samp]
    if constraints.fotf:
        apply_fotf(hits, beats)
    return hits, idx


def propose_arrays(hits: np.ndarray, idx: np.ndarray, library: Any, rng: np.random.Generator, *,
                   beats: int = GRID.beats, p_toggle: float = P_TOGGLE, p_sample: float = P_SAMPLE,
                   constraints: Constraints = Constraints(), free: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """DeepDrummer's symmetric proposal for a batch: toggle cells with ``p_toggle``, redraw samples with ``p_sample``
    (from each track's role's samples where ``constraints.roles`` says, any sample with probability ``free``).

    Locked rows and samples, and four-on-the-floor beats, never change.
    """
    tracks = hits.shape[-2]
    flip = rng.random(hits.shape) < p_toggle
    flip[..., constraints.rows_locked(tracks), :] = False
    if constraints.fotf:
        flip[..., 0, :: hits.shape[-1] // beats] = False
    new_hits = hits ^ flip
    redraw = rng.random(idx.shape) < p_sample
    redraw[..., constraints.samples_locked(tracks)] = False
    fresh = _draw_samples(rng, library, idx.shape, constraints, free)
    new_idx = np.where(redraw, fresh, idx)
    return new_hits, new_idx


def from_arrays(hits: np.ndarray, idx: np.ndarray, library: Any, *, beats: int = GRID.beats, swing: float = 0.0,
                velocity: int = DEFAULT_VELOCITY, velocities: np.ndarray | None = None,
                offsets: np.ndarray | None = None) -> Pattern:
    """One Pattern from a single (hits, sample indices) pair; ``velocities`` and ``offsets`` (steps) per cell, or
    ``velocity`` everywhere and on the grid."""
    return Pattern(hits=np.array(hits, dtype=bool), samples=library.keys(idx),
                   velocities=np.full(hits.shape, velocity, dtype=np.uint8) if velocities is None else velocities,
                   offsets=offsets, swing=swing, beats=beats)


def random_pattern(library: Any, rng: np.random.Generator, *, tracks: int = GRID.tracks, steps: int = GRID.steps,
                   beats: int = GRID.beats,
                   density: float = DENSITY, swing: float = 0.0, constraints: Constraints = Constraints(),
                   base: Pattern | None = None) -> Pattern:
    """A random pattern (DeepDrummer's generator), keeping ``base``'s locked tracks."""
    b = None if base is None else (base.hits, library.indices(base.samples))
    hits, idx = random_arrays(library, rng, 1, tracks=tracks, steps=steps, beats=beats, density=density,
                              constraints=constraints, base=b)
    return from_arrays(hits[0], idx[0], library, beats=beats, swing=swing)


def propose(p: Pattern, library: Any, rng: np.random.Generator, *, p_toggle: float = P_TOGGLE,
            p_sample: float = P_SAMPLE, constraints: Constraints = Constraints()) -> Pattern:
    """One proposal from ``p``; velocities and offsets of kept hits are kept."""
    hits, new_idx = propose_arrays(p.hits, library.indices(p.samples), library, rng, beats=p.beats,
                                   p_toggle=p_toggle, p_sample=p_sample, constraints=constraints)
    return Pattern(hits=hits, samples=library.keys(new_idx),
                   velocities=p.velocities, offsets=np.where(hits & p.hits, p.offsets, 0.0),
                   swing=p.swing, beats=p.beats)
