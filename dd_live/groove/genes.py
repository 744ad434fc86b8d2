"""A loop's own feel as the search sees it: accents and ghost notes, each track pushed or pulled, swing.

The sampler's loops are arrays (hits, sample indices); their feel is a third set of arrays, a batch of
:class:`Genes`, on small lattices so that proposals are symmetric and loops compare exactly:

* ``vel`` (n, tracks, steps): an index into :data:`VELOCITIES` (ghost 40, soft 70, normal 100, accent 127);
* ``push`` (n, tracks): an index into :data:`PUSHES`, the track's timing offset (steps: -0.25 to 0.25);
* ``swing`` (n,): an index into :data:`SWINGS` (0 to 1/3 of a step on the odd steps; 1/3 a triplet shuffle).

:func:`flat` is DeepDrummer's loop (velocity 100, on the grid). :func:`propose` changes one thing per
proposal: with probability 1/3 each, the velocity of every cell with probability :data:`P_VELOCITY`
(redrawn uniformly), one track's push by one lattice step either way (a step off the lattice is no
change), or the swing (redrawn uniformly). Each move is its own inverse's mirror image with the same
probability, so the proposal is symmetric, and so is its mixture with DeepDrummer's grid proposal.
Locked tracks keep their velocities and push.

Units: steps of the loop's grid; velocities MIDI 1-127.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import VELOCITY_LEVELS

VELOCITIES = np.array(list(VELOCITY_LEVELS.values()), dtype=np.uint8)   # ghost, soft, normal, accent
NORMAL = list(VELOCITY_LEVELS).index("normal")   # VELOCITIES[NORMAL]: DeepDrummer's one velocity
PUSHES = np.linspace(-0.25, 0.25, 9)         # a track's offset, steps
ON_GRID = 4                                  # PUSHES[ON_GRID] == 0
SWINGS = np.array([0.0, 1 / 12, 1 / 6, 1 / 4, 1 / 3])
P_VELOCITY = 0.08                            # per cell, in a velocity move


@dataclass
class Genes:
    """A batch of loops' feel as lattice indices (see the module docstring)."""

    vel: np.ndarray      # (n, tracks, steps) int8
    push: np.ndarray     # (n, tracks) int8
    swing: np.ndarray    # (n,) int8

    def __len__(self) -> int:
        return int(self.swing.shape[0])

    def __getitem__(self, rows) -> Genes:
        rows = np.atleast_1d(np.asarray(rows)) if not isinstance(rows, slice) else rows
        return Genes(self.vel[rows], self.push[rows], self.swing[rows])

    @staticmethod
    def concat(parts: list[Genes]) -> Genes:
        return Genes(np.concatenate([p.vel for p in parts]), np.concatenate([p.push for p in parts]),
                     np.concatenate([p.swing for p in parts]))

    def velocities(self) -> np.ndarray:
        """MIDI velocities (n, tracks, steps), uint8."""
        return VELOCITIES[self.vel]

    def offsets(self) -> np.ndarray:
        """Each cell's offset from the grid without swing (n, tracks, steps), steps."""
        return np.broadcast_to(PUSHES[self.push][:, :, None], self.vel.shape)

    def swing_amount(self) -> np.ndarray:
        """(n,) swing, fractions of a step."""
        return SWINGS[self.swing]

    def step_times(self, swing: float | None = None) -> np.ndarray:
        """Every cell's time (n, tracks, steps) in steps from the bar line: grid, swing, push; ``swing``
        (fractions of a step) instead of the loops' own if given."""
        steps = self.vel.shape[-1]
        grid = np.arange(steps, dtype=np.float64)
        odd = (grid % 2 == 1).astype(np.float64)
        amount = self.swing_amount() if swing is None else np.full(len(self), float(swing))
        return grid[None, None, :] + amount[:, None, None] * odd + self.offsets()

    def where(self, mask: np.ndarray, other: Genes) -> Genes:
        """Per loop, ``other``'s feel where ``mask`` (n,) holds, else this one's."""
        return Genes(np.where(mask[:, None, None], other.vel, self.vel), np.where(mask[:, None], other.push, self.push),
                     np.where(mask, other.swing, self.swing))

    def key(self, i: int) -> bytes:
        """What makes loop ``i``'s feel the same feel (for the pool's dedupe)."""
        return self.vel[i].tobytes() + self.push[i].tobytes() + self.swing[i:i + 1].tobytes()


def flat(n: int, tracks: int, steps: int) -> Genes:
    """DeepDrummer's feel: velocity 100 everywhere, on the grid, no swing."""
    return Genes(np.full((n, tracks, steps), NORMAL, dtype=np.int8), np.full((n, tracks), ON_GRID, dtype=np.int8),
                 np.zeros(n, dtype=np.int8))


def prior(rng: np.random.Generator, n: int, tracks: int, steps: int) -> Genes:
    """Feel drawn uniformly from the lattices (the prior of a search with feel on)."""
    return Genes(rng.integers(0, VELOCITIES.size, (n, tracks, steps)).astype(np.int8),
                 rng.integers(0, PUSHES.size, (n, tracks)).astype(np.int8),
                 rng.integers(0, SWINGS.size, n).astype(np.int8))


def with_locked(genes: Genes, template: Genes | None, locked: np.ndarray) -> Genes:
    """``genes`` with the ``locked`` tracks' velocities and push copied from ``template`` (one loop's genes)."""
    if template is None or not np.any(locked):
        return genes
    vel, push = genes.vel.copy(), genes.push.copy()
    vel[:, locked] = template.vel[0, locked]
    push[:, locked] = template.push[0, locked]
    return Genes(vel, push, genes.swing)


def of_pattern(pattern) -> Genes:
    """One loop's genes from a :class:`dd_live.loops.pattern.Pattern`: each value at its nearest lattice point
    (a track's push from the mean offset of its hits)."""
    vel = np.abs(pattern.velocities.astype(np.int64)[..., None] - VELOCITIES.astype(np.int64)).argmin(-1)
    hits = pattern.hits
    mean = np.array([pattern.offsets[t][hits[t]].mean() if hits[t].any() else 0.0 for t in range(hits.shape[0])])
    push = np.abs(mean[:, None] - PUSHES[None, :]).argmin(-1)
    swing = int(np.abs(SWINGS - pattern.swing).argmin())
    return Genes(vel[None].astype(np.int8), push[None].astype(np.int8), np.array([swing], dtype=np.int8))


def pattern_fields(genes: Genes, i: int) -> dict:
    """Loop ``i``'s velocities, offsets and swing as :func:`dd_live.loops.pattern.from_arrays` takes them."""
    return {"velocities": genes.velocities()[i], "offsets": genes.offsets()[i],
            "swing": float(genes.swing_amount()[i])}


def propose(genes: Genes, rng: np.random.Generator, *, locked: np.ndarray | None = None,
            fixed_swing: bool = False) -> Genes:
    """One symmetric feel move per loop (see the module docstring); ``locked`` (tracks,) bool keeps those tracks'
    velocities and push; ``fixed_swing``: the swing is set from outside (/dd/set/swing), so only velocity and
    push moves are made (each then with probability 1/2)."""
    n, tracks, steps = genes.vel.shape
    locked = np.zeros(tracks, dtype=bool) if locked is None else np.asarray(locked, dtype=bool)
    move = rng.integers(0, 2 if fixed_swing else 3, n)      # 0 velocity, 1 push, 2 swing
    vel, push, swing = genes.vel.copy(), genes.push.copy(), genes.swing.copy()
    redraw = (rng.random(vel.shape) < P_VELOCITY) & (move == 0)[:, None, None]
    redraw[:, locked, :] = False
    vel = np.where(redraw, rng.integers(0, VELOCITIES.size, vel.shape), vel).astype(np.int8)
    track = rng.integers(0, tracks, n)
    step = rng.choice(np.array([-1, 1], dtype=np.int8), n)
    rows = np.flatnonzero((move == 1) & ~locked[track])
    moved = push[rows, track[rows]] + step[rows]
    ok = (moved >= 0) & (moved < PUSHES.size)                 # off the lattice: no change (keeps it symmetric)
    push[rows[ok], track[rows[ok]]] = moved[ok]
    sw = move == 2
    swing[sw] = rng.integers(0, SWINGS.size, int(sw.sum()))
    return Genes(vel, push, swing)


def mix(hits: np.ndarray, idx: np.ndarray, genes: Genes, proposed: tuple[np.ndarray, np.ndarray],
        rng: np.random.Generator, *, locked: np.ndarray | None = None,
        fixed_swing: bool = False) -> tuple[np.ndarray, np.ndarray, Genes]:
    """The search's proposal with feel on: for each loop, with even odds, DeepDrummer's ``proposed`` (hits,
    sample indices) with its feel kept, or its grid and samples kept with a feel move (:func:`propose`).
    A fixed mixture of symmetric proposals is symmetric."""
    moved = propose(genes, rng, locked=locked, fixed_swing=fixed_swing)
    felt = rng.random(len(genes)) < 0.5
    return (np.where(felt[:, None, None], hits, proposed[0]), np.where(felt[:, None], idx, proposed[1]),
            genes.where(felt, moved))
