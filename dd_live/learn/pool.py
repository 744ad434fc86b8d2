"""Loops the critic's features have heard: grids, sample indices and their dense-layer embeddings.

When the critic learns only its output layer (``learn="head"``, the default for a pretrained start),
its features never change during a session, so a loop's embedding (the 128 numbers the output layer
weighs) is computed once and stays valid: scoring every pooled loop under any output layer is then one
matrix product. :class:`dd_live.learn.policy.PoolSearch` uses this to pick each loop from thousands.

A pool gets :data:`POOL_START` random loops from a broad prior (each loop's cell probability drawn from
:func:`density_range`, samples uniform, the constraints applied) when a search first needs them
(:meth:`LoopPool.prime`), and grows with mutations
(DeepDrummer's proposal: toggled cells, redrawn samples) of whichever loops a search finds promising.
Nothing in it is ever scored by a particular critic: scores are computed on demand.

With ``feel`` on, each loop also has its own feel (:mod:`dd_live.groove.genes`: accents and ghosts, each
track pushed or pulled, swing), drawn uniformly for prior and fresh loops; a mutation then changes either
the grid and samples or the feel, with even odds. With it off every loop is DeepDrummer's: velocity 100 on
the grid.
"""

from __future__ import annotations

import numpy as np
import torch

from ..groove import genes as feel_genes
from ..loops.pattern import DENSITY, Constraints, propose_arrays, random_arrays

POOL_START = 256        # prior loops a new pool starts with
POOL_CAPACITY = 16384   # loops kept; beyond it the least promising are dropped (see LoopPool.trim)
EMBED_BATCH = 64        # loops rendered and embedded at once (a bar each: 64 take 22 MB)


def density_range(density: float = DENSITY) -> tuple[float, float]:
    """The cell probabilities a pool's prior loops are drawn from, around the performer's ``density``:
    0.1-0.7 at DeepDrummer's 0.5, so that sparse and busy tastes both find loops to start from."""
    return density / 5, min(0.95, density * 1.4)


class LoopPool:
    """A growing set of loops (hits, sample indices) with their embeddings; see the module docstring.

    ``scorer``: a :class:`dd_live.learn.sampler.Scorer` whose first critic gives the features.
    """

    def __init__(self, library, scorer, *, rng: np.random.Generator, tracks: int = 4, steps: int = 16,
                 beats: int = 4, density: float = DENSITY, constraints: Constraints = Constraints(),
                 template: tuple[np.ndarray, np.ndarray] | None = None, start: int = POOL_START,
                 capacity: int = POOL_CAPACITY, feel: bool = False, template_genes=None) -> None:
        """``template``: the loop locked tracks are copied from (hits, sample indices), ``template_genes`` its feel
        (locked tracks keep their velocities and push too)."""
        if start < 1 or capacity < start:
            raise ValueError("a pool needs at least one loop to start with, and room for them")
        self.library, self.scorer, self.rng = library, scorer, rng
        self.feel, self.template_genes = feel, template_genes
        self.tracks, self.steps, self.beats = tracks, steps, beats
        self.start, self.capacity = start, capacity
        self._served: set[bytes] = set()
        self.recent: list[np.ndarray] = []     # the grids served last, oldest first
        self.reset(constraints, density=density, template=template)

    def __len__(self) -> int:
        return self.hits.shape[0]

    def reset(self, constraints: Constraints, *, density: float = DENSITY,
              template: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Start again under ``constraints`` (locked tracks from ``template``): the loops here go, and new prior
        loops come when a search next needs them. (A new ``density`` alone needs no reset: set :attr:`density`,
        which the prior and :meth:`fresh` read; the loops here still keep the constraints.)"""
        self.constraints, self.density = constraints, density
        self.hits = np.zeros((0, self.tracks, self.steps), dtype=bool)
        self.idx = np.zeros((0, self.tracks), dtype=np.int64)
        self.genes = feel_genes.flat(0, self.tracks, self.steps)
        self.emb = torch.zeros((0, 0))
        self.served = np.zeros(0, dtype=bool)
        self._keys: dict[bytes, int] = {}
        self.template = template
        self.primed = False                    # the prior loops come when a search first needs them (prime)

    def prime(self) -> None:
        """Add the :attr:`start` prior loops, once after each reset (a flat critic's random loops need none)."""
        if not self.primed:
            self.primed = True
            self.grow(self.start)

    def grow(self, n: int) -> np.ndarray:
        """Add ``n`` new loops from the prior; returns the positions of those not already here."""
        cells = self.rng.uniform(*density_range(self.density), n)
        hits, idx = random_arrays(self.library, self.rng, n, tracks=self.tracks, steps=self.steps, beats=self.beats,
                                  density=cells, constraints=self.constraints, base=self.template)
        return self.add(hits, idx, self._new_genes(n))

    def _new_genes(self, n: int):
        """Feel for ``n`` new prior or fresh loops: drawn (feel on) or flat, locked tracks' from the template."""
        if not self.feel:
            return feel_genes.flat(n, self.tracks, self.steps)
        g = feel_genes.prior(self.rng, n, self.tracks, self.steps)
        return feel_genes.with_locked(g, self.template_genes, self.constraints.rows_locked(self.tracks))

    def fresh(self) -> int:
        """The position of a new random loop as DeepDrummer draws them (every cell at the performer's density),
        added; one never served if a hundred tries find one (everything locked: the one loop there is)."""
        for _ in range(100):
            hits, idx = random_arrays(self.library, self.rng, 1, tracks=self.tracks, steps=self.steps,
                                      beats=self.beats, density=self.density, constraints=self.constraints,
                                      base=self.template)
            genes = self._new_genes(1)
            i = self._keys.get(self.key(hits[0], idx[0], genes, 0))
            if i is None:
                return int(self.add(hits, idx, genes)[0])
            if not self.served[i]:
                return i
        return i

    def serve(self, i: int, *, remember: int) -> None:
        """Note that loop ``i`` was played: it is never offered again, and its grid joins the ``remember``
        most recent ones."""
        self._served.add(self.key(self.hits[i], self.idx[i], self.genes, i))
        self.served[i] = True
        self.recent = (self.recent + [self.hits[i].ravel().copy()])[-remember:] if remember else []

    def novel(self, cells: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Which pooled loops (or ``rows``) differ from every recent grid in at least ``cells`` cells."""
        hits = self.hits if rows is None else self.hits[rows]
        if not self.recent or cells <= 0:
            return np.ones(hits.shape[0], dtype=bool)
        a = hits.reshape(hits.shape[0], -1).astype(np.float32) * 2 - 1
        r = np.stack(self.recent).astype(np.float32) * 2 - 1
        differ = (a.shape[1] - a @ r.T) / 2        # Hamming distances from +-1 codes
        return (differ >= cells - 0.5).all(axis=1)

    @staticmethod
    def key(hits: np.ndarray, idx: np.ndarray, genes=None, row: int = 0) -> bytes:
        """What makes two loops the same loop: their grid, their samples and their feel (``genes``' ``row``)."""
        k = np.packbits(hits).tobytes() + np.asarray(idx, dtype=np.int64).tobytes()
        return k if genes is None else k + genes.key(row)

    def add(self, hits: np.ndarray, idx: np.ndarray, genes=None) -> np.ndarray:
        """Embed and keep the loops not already here (``genes``: their feel, default flat); returns their positions
        (int64)."""
        genes = feel_genes.flat(hits.shape[0], self.tracks, self.steps) if genes is None else genes
        fresh: dict[bytes, int] = {}            # key -> row, the first of each loop not here yet
        for i in range(hits.shape[0]):
            k = self.key(hits[i], idx[i], genes, i)
            if k not in self._keys:
                fresh.setdefault(k, i)
        if not fresh:
            return np.zeros(0, dtype=np.int64)
        rows = list(fresh.values())
        hits, idx, genes = hits[rows], idx[rows], genes[rows]
        emb = torch.cat([self.scorer.embed(hits[i: i + EMBED_BATCH], idx[i: i + EMBED_BATCH],
                                           genes[i: i + EMBED_BATCH] if self.feel else None)
                         for i in range(0, len(rows), EMBED_BATCH)])
        first = len(self)
        self.hits = np.concatenate([self.hits, hits])
        self.idx = np.concatenate([self.idx, idx])
        self.genes = feel_genes.Genes.concat([self.genes, genes])
        self.emb = emb if first == 0 else torch.cat([self.emb, emb])
        for i, k in enumerate(fresh):
            self._keys[k] = first + i
        self.served = np.concatenate([self.served, np.array([k in self._served for k in fresh], dtype=bool)])
        return np.arange(first, len(self), dtype=np.int64)

    def mutate(self, sources: np.ndarray) -> np.ndarray:
        """One proposal from each pooled loop in ``sources`` (constraints kept): DeepDrummer's (cells, samples), or
        with feel on, as often, a feel move instead; returns the new ones' positions."""
        hits, idx = propose_arrays(self.hits[sources], self.idx[sources], self.library, self.rng,
                                   beats=self.beats, constraints=self.constraints)
        genes = self.genes[sources]
        if self.feel:
            hits, idx, genes = feel_genes.mix(self.hits[sources], self.idx[sources], genes, (hits, idx), self.rng,
                                              locked=self.constraints.rows_locked(self.tracks),
                                              fixed_swing=getattr(self.scorer, "swing", None) is not None)
        return self.add(hits, idx, genes)

    def logits(self, w: torch.Tensor, b: float | torch.Tensor, rows: np.ndarray | None = None) -> np.ndarray:
        """embedding . w + b of every pooled loop (or of ``rows``), float64."""
        emb = self.emb if rows is None else self.emb[torch.from_numpy(np.asarray(rows, dtype=np.int64))]
        return (emb @ w.float() + float(b)).double().numpy()

    def trim(self, logits: np.ndarray, keep: set[int] = frozenset()) -> np.ndarray:
        """Over capacity: keep the best half by ``logits`` (and the positions in ``keep``), drop the rest.
        Returns the old position of each kept loop (identity when nothing was dropped)."""
        n = len(self)
        if n <= self.capacity:
            return np.arange(n)
        kept = np.zeros(n, dtype=bool)
        kept[np.argsort(logits)[-(self.capacity // 2):]] = True
        kept[list(keep)] = True
        order = np.nonzero(kept)[0]
        self.hits, self.idx, self.served = self.hits[order], self.idx[order], self.served[order]
        self.genes = self.genes[order]
        self.emb = self.emb[torch.from_numpy(order)]
        self._keys = {self.key(self.hits[i], self.idx[i], self.genes, i): i for i in range(len(order))}
        return order
