"""Metropolis-Hastings over patterns, with the critic as unnormalised density.

Many chains move together: each step proposes a new pattern for every chain
(DeepDrummer's symmetric proposal: toggle cells with p = 0.05, redraw samples
with p = 0.15), renders all proposals at the reference 120 bpm in one batch,
scores them with one batched critic call, and accepts each with probability
min(1, (f'/f) ** (1/s)) at temperature s.

Modes:

* ``explore``: the chains' stationary distribution is proportional to f
  (DeepDrummer's Phase I); with a ``density`` other than 0.5 it is
  proportional to f times a Bernoulli(density) prior on every grid cell, so
  the performer can ask for busier or sparser loops.
* ``best``: run the same chains until one reaches f >= 0.95 (Phase II); bounded
  by ``max_steps``, it returns the best state found and whether the threshold
  was reached.
* ``worst``: hill-climb towards f = 0 (accept only moves that do not raise f).

Chains persist: after the critic changes, :meth:`Chains.rescore` re-scores the
current states and the chains carry on from where they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from ..groove import genes as feel_genes
from .critic import BAR_SAMPLES, Ensemble
from ..errors import PatternError
from .features import MFCC
from ..loops.pattern import DENSITY, Constraints, apply_fotf, propose_arrays, random_arrays
from ..loops.render import on_work_thread, reference_bpm, render_arrays, work_pool
from .. import GRID

FLOOR = 1e-6  # scores are clamped here so that f'/f stays finite
BEST_THRESHOLD = 0.95
BEST_TEMPERATURE = 0.2  # best mode's search: colder than the chains, so that it climbs (see README, learning)
BEST_MAX_STEPS = 60     # best mode's search bound (steps), in the daemon and in Phase II
BEST_PATIENCE = 8       # ... and the steps it waits without a new best


class Scorer:
    """Patterns (as arrays) -> reference audio -> MFCCs -> critic score, batched.

    ``critics``: one critic, or several whose mean score is used (an ensemble).
    The critic list can be swapped with :meth:`set_critics` between calls.
    """

    def __init__(self, library, critics, *, threads: int = 1, beats: int = GRID.beats,
                 swing: float | None = None) -> None:
        """``beats``: the loops' beats per bar (their bar is heard in 2 s, :func:`reference_bpm`); ``swing``: a
        swing (fractions of a step) every loop is heard with instead of its own (None: its own)."""
        self.library = library
        self.threads = threads
        self.beats, self.swing = beats, swing
        self.mfcc = MFCC()
        self._buffer = np.empty((0, BAR_SAMPLES), dtype=np.float32)
        self.set_critics(critics)

    def set_critics(self, critics) -> None:
        self.model = Ensemble(list(critics) if isinstance(critics, (list, tuple)) else [critics])

    def audio(self, hits: np.ndarray, idx: np.ndarray, genes=None) -> np.ndarray:
        """Reference-tempo loops, float32 (batch, 88200), with the feel of ``genes`` (a
        :class:`dd_live.groove.genes.Genes` batch; None: velocity 100 on the grid) and :attr:`swing` if set; the
        buffer is reused by the next call.

        One buffer, as large as the largest batch so far, is kept; a smaller batch renders into its first
        rows (batches of every size from 1 to 64 come from the pool, one buffer per size would keep them all).
        """
        self._reserve(hits.shape[0])
        return self._render(hits, idx, genes, 0, self.threads)

    def _reserve(self, n: int) -> None:
        if self._buffer.shape[0] < n:
            self._buffer = np.empty((n, BAR_SAMPLES), dtype=np.float32)

    def _render(self, hits: np.ndarray, idx: np.ndarray, genes, row: int, threads: int) -> np.ndarray:
        """Render into the buffer's rows from ``row`` on (the caller has reserved them)."""
        feel = ({"swing": self.swing or 0.0} if genes is None else
                {"velocities": genes.velocities(), "step_times": genes.step_times(self.swing)})
        return render_arrays(hits, idx, self.library, bpm=reference_bpm(self.beats), beats=self.beats,
                             threads=threads, out=self._buffer[row: row + hits.shape[0]], **feel)

    def features(self, audio: np.ndarray) -> torch.Tensor:
        return self.mfcc(torch.from_numpy(audio))

    def embed(self, hits: np.ndarray, idx: np.ndarray, genes=None) -> torch.Tensor:
        """The first critic's dense-layer outputs for patterns (batch, 128): what its output layer weighs."""
        return self._split(self._embed_part, hits, idx, genes)

    def score_features(self, feats: torch.Tensor) -> np.ndarray:
        return self.model.score(feats).numpy().astype(np.float64)

    def __call__(self, hits: np.ndarray, idx: np.ndarray, genes=None) -> np.ndarray:
        """Scores f in [0, 1] (float64, batch), the loops played with ``genes``' feel (None: flat)."""
        return self._split(self._score_part, hits, idx, genes).numpy().astype(np.float64)

    def _score_part(self, hits, idx, genes, slot: int, threads: int) -> torch.Tensor:
        return self._through(self.model.score, hits, idx, genes, slot, threads)

    def _embed_part(self, hits, idx, genes, slot: int, threads: int) -> torch.Tensor:
        return self._through(self.model.critics[0].embed, hits, idx, genes, slot, threads)

    def _through(self, last, hits, idx, genes, slot: int, threads: int) -> torch.Tensor:
        """``last`` (the critic's score or embedding) of the MFCCs of the loops rendered, PART_ROWS at a time, into
        the buffer's ``slot``-th PART_ROWS rows (reserved by the caller)."""
        row = slot * PART_ROWS
        return torch.cat([last(self.features(self._render(hits[a: a + PART_ROWS], idx[a: a + PART_ROWS],
                                                          None if genes is None else genes[a: a + PART_ROWS],
                                                          row, threads)))
                          for a in range(0, hits.shape[0], PART_ROWS)])

    def _split(self, part, hits: np.ndarray, idx: np.ndarray, genes) -> torch.Tensor:
        """``part`` (render, MFCC, critic) of the whole batch: cut in :attr:`threads` parts, each taken end to end
        by a work thread with one torch thread of its own, or on the caller's thread with :attr:`threads` torch
        threads when the batch is small (under two parts of :data:`PART_MIN`).

        Why: on 2 cores, batch 64, each stage shared between two threads came to 1.2-1.3 ms a bar, where two
        whole halves side by side come to 1.0-1.1 (the MFCC's many small passes and the render gain little from a
        second thread; whole parts keep both cores busy). Each loop's result is the same either way: the critic
        scores in chunks of SCORE_CHUNK items, each item's independently of the others."""
        n = hits.shape[0]
        if on_work_thread():                        # a work thread's own scoring: all of it here, never the pool
            self._reserve(PART_ROWS)
            return _on_work_thread(part, hits, idx, genes, 0)
        parts = min(self.threads, n // PART_MIN)
        self._reserve(max(parts, 1) * PART_ROWS)
        if parts < 2:
            return part(hits, idx, genes, 0, self.threads)
        bounds = [round(n * k / parts) for k in range(parts + 1)]
        jobs = [work_pool(self.threads).submit(_on_work_thread, part, hits[a:b], idx[a:b],
                                               None if genes is None else genes[a:b], k)
                for k, (a, b) in enumerate(zip(bounds, bounds[1:]))]
        return torch.cat([job.result() for job in jobs])


PART_MIN = 8                    # items: a batch scored in parts gives each at least this many (a step of the
                                # daemon's 16 chains goes in two parts: 1.2-1.3x the loops a second, 2 cores)
PART_ROWS = 16                  # a part renders, analyses and scores this many loops at a time, into rows of the
                                # buffer of its own: a batch of 64 no longer holds 64 bars of audio (22.6 MB)


def _on_work_thread(part, hits, idx, genes, slot: int) -> torch.Tensor:
    """Run ``part`` (in the buffer's ``slot``) on this work thread, which computes torch work with one thread of
    its own (the setting is this thread's alone: the caller's torch threads are left as they were)."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    return part(hits, idx, genes, slot, 1)


@dataclass
class Found:
    """A state picked from the chains: pattern arrays, score, and whether the target was reached."""

    hits: np.ndarray
    idx: np.ndarray
    score: float
    reached: bool
    chain: int
    genes: object = None  # its feel (a one-loop dd_live.groove.genes.Genes), None for DeepDrummer's flat feel
    free: bool = False    # drawn outside the drum prior (its free share, or a descendant of one)


class Chains:
    """A batch of persistent MH chains over (hits, sample indices), and with ``feel`` over each loop's own feel
    too (:mod:`dd_live.groove.genes`: half the proposals a symmetric feel move instead of DeepDrummer's, so
    the explore distribution is still f times the density prior)."""

    def __init__(self, library, scorer: Scorer, *, n: int = 16, rng: np.random.Generator, tracks: int = GRID.tracks,
                 steps: int = GRID.steps, beats: int = GRID.beats, density: float = DENSITY,
                 constraints: Constraints = Constraints(), temperature: float = 1.0, feel: bool = False,
                 prior=None) -> None:
        """``prior``: a :class:`dd_live.loops.prior.DrumPrior` the chains start from (None: DeepDrummer's random
        loops at ``density``)."""
        if n < 1:
            raise ValueError("need at least one chain")
        self.library, self.scorer, self.rng = library, scorer, rng
        self.beats, self.constraints = beats, constraints
        self.temperature = temperature
        self.density = density
        draw = random_arrays if prior is None else partial(prior.draw, free_density=density)
        self.hits, self.idx = draw(library, rng, n, tracks=tracks, steps=steps, beats=beats, density=density,
                                   constraints=constraints)[:2]
        self.feel = feel
        self.genes = feel_genes.prior(rng, n, tracks, steps) if feel else feel_genes.flat(n, tracks, steps)
        self.scores = self._score(self.hits, self.idx, self.genes)
        self.accepted = 0
        self.proposed = 0

    def _score(self, hits: np.ndarray, idx: np.ndarray, genes) -> np.ndarray:
        return self.scorer(hits, idx, genes) if self.feel else self.scorer(hits, idx)

    def set_feel(self, feel: bool) -> None:
        """Search each loop's feel too (drawn afresh for every chain), or play every loop flat; re-scored.
        (Locked tracks get the template's feel from :meth:`constrain`.)"""
        n, tracks, steps = self.hits.shape
        self.feel = feel
        self.genes = feel_genes.prior(self.rng, n, tracks, steps) if feel else feel_genes.flat(n, tracks, steps)
        self.rescore()

    @property
    def n(self) -> int:
        return self.hits.shape[0]

    def constrain(self, constraints: Constraints, template: tuple[np.ndarray, np.ndarray] | None = None,
                  template_genes=None) -> None:
        """Switch to new constraints: locked tracks of every chain take the template's (hits, idx)
        rows (and, with feel, its velocities and push: ``template_genes``), four-on-the-floor is imposed,
        and the chains are re-scored."""
        tracks = self.hits.shape[1]
        lock_s, lock_r = constraints.samples_locked(tracks), constraints.rows_locked(tracks)
        if (lock_s.any() or lock_r.any()) and template is None:
            raise ValueError("locking a track needs a template pattern")
        if template is not None:
            t_hits, t_idx = template
            self.hits[:, lock_r] = np.asarray(t_hits, dtype=bool)[lock_r]
            self.idx[:, lock_s] = np.asarray(t_idx)[lock_s]
            if self.feel:
                self.genes = feel_genes.with_locked(self.genes, template_genes, lock_r)
        if constraints.fotf:
            kicks = self.library.in_category("kick")
            if kicks.size == 0:
                raise PatternError("four-on-the-floor needs at least one kick-category sample in the library")
            apply_fotf(self.hits, self.beats)
            not_kick = ~np.isin(self.idx[:, 0], kicks)
            if not lock_s[0]:
                self.idx[not_kick, 0] = kicks[self.rng.integers(0, kicks.size, int(not_kick.sum()))]
        self.constraints = constraints
        self.rescore()

    def rescore(self) -> None:
        """Re-score the current states (call after the critic changed)."""
        self.scores = self._score(self.hits, self.idx, self.genes)

    def step(self, mode: str = "explore") -> None:
        """One proposal and accept/reject for every chain."""
        hits, idx = propose_arrays(self.hits, self.idx, self.library, self.rng, beats=self.beats,
                                   constraints=self.constraints)
        genes = self.genes
        if self.feel:  # half the chains move their feel instead
            hits, idx, genes = feel_genes.mix(self.hits, self.idx, genes, (hits, idx), self.rng,
                                              locked=self.constraints.rows_locked(self.hits.shape[1]),
                                              fixed_swing=getattr(self.scorer, "swing", None) is not None)
        new = self._score(hits, idx, genes)
        if mode in ("explore", "best"):
            ratio = (np.maximum(new, FLOOR) / np.maximum(self.scores, FLOOR)) ** (1.0 / self.temperature)
            if self.density != DENSITY:  # a Bernoulli(density) prior on every cell (1 at the paper's 0.5)
                gained = hits.sum(axis=(1, 2)) - self.hits.sum(axis=(1, 2))
                ratio = ratio * (self.density / (1.0 - self.density)) ** gained.astype(np.float64)
            accept = self.rng.random(self.n) < ratio
        elif mode == "worst":
            accept = new <= self.scores
        else:
            raise ValueError(f"unknown mode {mode!r} (explore, best or worst)")
        self.hits[accept], self.idx[accept], self.scores[accept] = hits[accept], idx[accept], new[accept]
        if self.feel:
            self.genes = self.genes.where(accept, genes)
        self.accepted += int(accept.sum())
        self.proposed += self.n

    def run(self, steps: int, mode: str = "explore") -> None:
        for _ in range(steps):
            self.step(mode)

    def _found(self, i: int, reached: bool) -> Found:
        return Found(self.hits[i].copy(), self.idx[i].copy(), float(self.scores[i]), reached, i,
                     self.genes[i] if self.feel else None)

    def pick(self) -> Found:
        """The state of one chain chosen uniformly (a draw from the explore distribution)."""
        i = int(self.rng.integers(self.n))
        return self._found(i, True)

    def best(self, *, threshold: float = BEST_THRESHOLD, max_steps: int = 100, patience: int | None = None,
             exclude: Sequence[int] = (), temperature: float | None = None) -> Found:
        """Advance the chains until one (not in ``exclude``) scores >= threshold.

        Gives up after ``max_steps`` steps, or after ``patience`` steps without a new
        best score (a critic that cannot reach the threshold, such as an untrained
        one, then costs little). Returns the first chain over the threshold (a random
        one if several are), or the best state seen, with ``reached`` False.
        ``temperature``: the MH temperature while searching (None: the chains' own);
        below 1 the chains climb f faster.
        """
        if temperature is None:
            return self._best(threshold, max_steps, patience, exclude)
        if not temperature > 0:
            raise ValueError("temperature must be positive")
        kept, self.temperature = self.temperature, temperature
        try:
            return self._best(threshold, max_steps, patience, exclude)
        finally:
            self.temperature = kept

    def _best(self, threshold: float, max_steps: int, patience: int | None, exclude: Sequence[int]) -> Found:
        best: Found | None = None
        since = 0
        allowed = np.ones(self.n, dtype=bool)
        allowed[list(exclude)] = False
        for step in range(max_steps + 1):
            over = np.nonzero(allowed & (self.scores >= threshold))[0]
            if over.size:
                return self._found(int(self.rng.choice(over)), True)
            masked = np.where(allowed, self.scores, -1.0)
            i = int(np.argmax(masked))
            if best is None or masked[i] > best.score:
                best, since = self._found(i, False), 0
            else:
                since += 1
            if step == max_steps or (patience is not None and since > patience):
                break
            self.step("best")
        assert best is not None
        return best

    def worst(self, *, steps: int = 50) -> Found:
        """Hill-climb towards f = 0 for ``steps`` steps; the lowest-scoring state."""
        self.run(steps, "worst")
        i = int(np.argmin(self.scores))
        return self._found(i, self.scores[i] <= 1 - BEST_THRESHOLD)


class BestSearch:
    """Best mode as the daemon and Phase II both run it: a bounded, colder :meth:`Chains.best` search
    after another, never taking a chain again within half the chains' number of searches."""

    def __init__(self, chains: Chains, *, max_steps: int = BEST_MAX_STEPS, patience: int = BEST_PATIENCE,
                 temperature: float = BEST_TEMPERATURE) -> None:
        self.chains, self.max_steps, self.patience, self.temperature = chains, max_steps, patience, temperature
        self.used: list[int] = []

    def next(self, *, temperature: float | None = None) -> Found:
        """The next loop; ``temperature`` overrides the search's own for this one."""
        found = self.chains.best(max_steps=self.max_steps, patience=self.patience, exclude=self.used,
                                 temperature=self.temperature if temperature is None else temperature)
        self.used = (self.used + [found.chain])[-(self.chains.n // 2):]
        return found
