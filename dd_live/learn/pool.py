"""Loops the critic's features have heard: grids, sample indices and their dense-layer embeddings.

When the critic learns only its output layer (``learn="head"``, the default for a pretrained start),
its features never change during a session, so a loop's embedding (the 128 numbers the output layer
weighs) is computed once and stays valid: scoring every pooled loop under any output layer is then one
matrix product. :class:`dd_live.learn.policy.PoolSearch` uses this to pick each loop from thousands.

A pool gets :data:`POOL_START` loops from its prior when a search first needs them (:meth:`LoopPool.prime`):
the drummer's prior (:class:`dd_live.loops.prior.DrumPrior`: roles, where each plays, a share left free) or,
without one, DeepDrummer's broad one (each loop's cell probability drawn from :func:`density_range`, samples
uniform), the constraints applied either way; it grows with mutations
(DeepDrummer's proposal: toggled cells, redrawn samples) of whichever loops a search finds promising. With a
drum prior, a loop of the prior's own mutates as a drummer's (a track's sound redrawn from its role's, its kick,
snare and hat tracks kept playing), while the free share's loops (:data:`dd_live.loops.prior.FREE_SHARE`) and
their descendants mutate as DeepDrummer's: tastes the prior does not know stay reachable.
Nothing in it is ever scored by a particular critic: scores are computed on demand.

With ``feel`` on, each loop also has its own feel (:mod:`dd_live.groove.genes`: accents and ghosts, each
track pushed or pulled, swing), drawn uniformly for prior and fresh loops; a mutation then changes either
the grid and samples or the feel, with even odds. With it off every loop is DeepDrummer's: velocity 100 on
the grid.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ..groove import genes as feel_genes
from ..loops.pattern import DENSITY, Constraints, propose_arrays, random_arrays
from ..loops.prior import KEEP_ROLES, layout
from .. import GRID

POOL_START = 256        # prior loops a new pool starts with
POOL_CAPACITY = 16384   # loops kept; beyond it the least promising are dropped (see LoopPool.trim)
EMBED_BATCH = 64        # loops rendered and embedded at once (a bar each: 64 take 22 MB)


def sound_kinds(library) -> np.ndarray:
    """Each sample's kind of sound, as the policy tallies dislikes by kind (:func:`dd_live.sound.roles.kinds_of`)."""
    from ..sound.roles import kinds_of

    return kinds_of(library)


def density_range(density: float = DENSITY) -> tuple[float, float]:
    """The cell probabilities a pool's prior loops are drawn from, around the performer's ``density``:
    0.1-0.7 at DeepDrummer's 0.5, so that sparse and busy tastes both find loops to start from."""
    return density / 5, min(0.95, density * 1.4)


class LoopPool:
    """A growing set of loops (hits, sample indices) with their embeddings; see the module docstring.

    ``scorer``: a :class:`dd_live.learn.sampler.Scorer` whose first critic gives the features.
    """

    def __init__(self, library, scorer, *, rng: np.random.Generator, tracks: int = GRID.tracks, steps: int = GRID.steps,
                 beats: int = GRID.beats, density: float = DENSITY, constraints: Constraints = Constraints(),
                 template: tuple[np.ndarray, np.ndarray] | None = None, start: int = POOL_START,
                 capacity: int = POOL_CAPACITY, feel: bool = False, template_genes=None, prior=None) -> None:
        """``template``: the loop locked tracks are copied from (hits, sample indices), ``template_genes`` its feel
        (locked tracks keep their velocities and push too). ``prior``: a
        :class:`dd_live.loops.prior.DrumPrior` new loops come from (None: DeepDrummer's uniform draws)."""
        if start < 1 or capacity < start:
            raise ValueError("a pool needs at least one loop to start with, and room for them")
        self.library, self.scorer, self.rng = library, scorer, rng
        # category per sample for the one-category rule; a sample whose name says nothing is its own
        self._codes = np.where(library.categories == "other", -1 - np.arange(len(library)),
                               np.unique(library.categories, return_inverse=True)[1].reshape(-1))
        self.kinds, kind_codes = np.unique(sound_kinds(library), return_inverse=True)
        self._kind_codes = kind_codes.reshape(-1)          # the kind of sound each sample is (see sound_kinds)
        self.feel, self.template_genes, self.prior = feel, template_genes, prior
        self.tracks, self.steps, self.beats = tracks, steps, beats
        self.start, self.capacity = start, capacity
        self._served: set[bytes] = set()
        self.recent: list[np.ndarray] = []     # the grids served last, oldest first
        self.recent_sets: list[np.ndarray] = []   # ... and the sets of sounds they played (see sound_sets)
        self.reset(constraints, density=density, template=template)

    def __len__(self) -> int:
        return self.hits.shape[0]

    def reset(self, constraints: Constraints, *, density: float = DENSITY,
              template: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Start again under ``constraints`` (locked tracks from ``template``): the loops here go, and new prior
        loops come when a search next needs them. (A new ``density`` alone needs no reset: set :attr:`density`,
        which the prior and :meth:`fresh` read; the loops here still keep the constraints.)"""
        self.constraints, self.density = constraints, density
        # the prior's loops mutate within their tracks' roles
        self._moves = constraints if self.prior is None else replace(constraints, roles=layout(self.tracks))
        self.hits = np.zeros((0, self.tracks, self.steps), dtype=bool)
        self.idx = np.zeros((0, self.tracks), dtype=np.int64)
        self.genes = feel_genes.flat(0, self.tracks, self.steps)
        self.emb = torch.zeros((0, 0))
        self.served = np.zeros(0, dtype=bool)
        self.free = np.zeros(0, dtype=bool)    # drawn (or descended) from the prior's free share
        self._keys: dict[bytes, int] = {}
        self.template = template
        self.primed = False                    # the prior loops come when a search first needs them (prime)

    def prime(self) -> None:
        """Add the :attr:`start` prior loops, once after each reset (a flat critic's random loops need none)."""
        if not self.primed:
            self.primed = True
            self.grow(self.start)

    def grow(self, n: int, *, free: bool | None = None) -> np.ndarray:
        """Add ``n`` new loops from the prior (``free``: only its free share's, or only its own); returns the
        positions of those not already here."""
        hits, idx, flags = self._draw(n, self.rng.uniform(*density_range(self.density), n), free)
        return self.add(hits, idx, self._new_genes(n), flags)

    def _draw(self, n: int, cells: np.ndarray | float, free: bool | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` new loops from the prior (uniform ones with ``cells`` as their cell probability), and which are
        free; ``free`` True or False: only those."""
        if self.prior is None or free:
            hits, idx = random_arrays(self.library, self.rng, n, tracks=self.tracks, steps=self.steps,
                                      beats=self.beats, density=cells, constraints=self.constraints,
                                      base=self.template)
            return hits, idx, np.ones(n, dtype=bool)
        return self.prior.draw(self.library, self.rng, n, tracks=self.tracks, steps=self.steps, beats=self.beats,
                               density=self.density, free_density=cells, constraints=self.constraints,
                               base=self.template, **({} if free is None else {"free": 0.0}))

    def _new_genes(self, n: int):
        """Feel for ``n`` new prior or fresh loops: drawn (feel on) or flat, locked tracks' from the template."""
        if not self.feel:
            return feel_genes.flat(n, self.tracks, self.steps)
        g = feel_genes.prior(self.rng, n, self.tracks, self.steps)
        return feel_genes.with_locked(g, self.template_genes, self.constraints.rows_locked(self.tracks))

    def fresh(self) -> int:
        """The position of a new loop from the prior (a free one: every cell at the performer's density, as
        DeepDrummer draws them), added; one never served if a hundred tries find one (everything locked: the
        one loop there is)."""
        for _ in range(100):
            hits, idx, free = self._draw(1, self.density)
            genes = self._new_genes(1)
            i = self._keys.get(self.key(hits[0], idx[0], genes, 0))
            if i is None:
                return int(self.add(hits, idx, genes, free)[0])
            if not self.served[i]:
                return i
        return i

    def serve(self, i: int, *, remember: int) -> None:
        """Note that loop ``i`` was played: it is never offered again, and its grid joins the ``remember``
        most recent ones."""
        self._served.add(self.key(self.hits[i], self.idx[i], self.genes, i))
        self.served[i] = True
        self.recent = (self.recent + [self.hits[i].ravel().copy()])[-remember:] if remember else []
        self.recent_sets = (self.recent_sets + [self.sound_sets(np.array([i]))[0]])[-remember:] if remember else []

    def kind_sums(self, terms: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Per loop (or ``rows``), the sum of ``terms`` (one per kind of sound, :attr:`kinds`) over the kinds its
        playing tracks play, each kind once: float64 (loops,). Gathered per track (loops x tracks), not through
        a (loops, kinds) matrix of 0s and 1s made for the whole pool at every loop served."""
        hits = self.hits if rows is None else self.hits[rows]
        idx = self.idx if rows is None else self.idx[rows]
        codes = np.sort(np.where(hits.any(axis=2), self._kind_codes[idx], -1), axis=1)
        once = codes >= 0
        once[:, 1:] &= codes[:, 1:] != codes[:, :-1]                      # a kind on two tracks counts once
        return np.where(once, np.asarray(terms, dtype=np.float64)[np.maximum(codes, 0)], 0.0).sum(axis=1)

    def sound_sets(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The set of sounds each loop plays: its playing tracks' sample indices sorted, each once, -1 for a
        silent track or a sound played twice (int64, (loops, tracks))."""
        hits = self.hits if rows is None else self.hits[rows]
        idx = self.idx if rows is None else self.idx[rows]
        s = np.sort(np.where(hits.any(axis=2), idx, -1), axis=1)
        twice = np.zeros(s.shape, dtype=bool)
        twice[:, 1:] = s[:, 1:] == s[:, :-1]
        return np.sort(np.where(twice, -1, s), axis=1)

    def varied(self, most: int, rows: np.ndarray | None = None) -> np.ndarray:
        """Which pooled loops (or ``rows``) keep the sounds varied: their set of sounds was served fewer than
        ``most`` times among the recent loops, and they are not one category on every playing track (unless
        the performer locked every track's sound)."""
        sets = self.sound_sets(rows)
        ok = np.ones(sets.shape[0], dtype=bool)
        if self.recent_sets:
            seen, counts = np.unique(np.stack(self.recent_sets), axis=0, return_counts=True)
            for s in seen[counts >= most]:
                ok &= ~(sets == s).all(axis=1)
        if not self.constraints.samples_locked(self.tracks).all():
            cats = self._codes[np.where(sets >= 0, sets, 0)]
            playing = sets >= 0
            first = cats[np.arange(cats.shape[0]), np.argmax(playing, axis=1)]
            one = ((cats == first[:, None]) | ~playing).all(axis=1) & (playing.sum(axis=1) >= 2)
            ok &= ~one
        return ok

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

    def add(self, hits: np.ndarray, idx: np.ndarray, genes=None, free: np.ndarray | None = None) -> np.ndarray:
        """Embed and keep the loops not already here (``genes``: their feel, default flat; ``free``: which are
        outside the drum prior, default all when there is none); returns their positions (int64)."""
        genes = feel_genes.flat(hits.shape[0], self.tracks, self.steps) if genes is None else genes
        fresh: dict[bytes, int] = {}            # key -> row, the first of each loop not here yet
        for i in range(hits.shape[0]):
            k = self.key(hits[i], idx[i], genes, i)
            if k not in self._keys:
                fresh.setdefault(k, i)
        if not fresh:
            return np.zeros(0, dtype=np.int64)
        rows = list(fresh.values())
        free = np.full(hits.shape[0], self.prior is None) if free is None else np.asarray(free, dtype=bool)
        hits, idx, genes, free = hits[rows], idx[rows], genes[rows], free[rows]
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
        self.free = np.concatenate([self.free, free])
        return np.arange(first, len(self), dtype=np.int64)

    def mutate(self, sources: np.ndarray) -> np.ndarray:
        """One proposal from each pooled loop in ``sources`` (constraints kept): DeepDrummer's (cells, samples), or
        with feel on, as often, a feel move instead; returns the new ones' positions."""
        free, src_hits, src_idx = self.free[sources], self.hits[sources], self.idx[sources]
        hits, idx = propose_arrays(src_hits, src_idx, self.library, self.rng, beats=self.beats,
                                   constraints=self._moves)
        if self.prior is not None:
            if free.any():       # the free share's loops mutate as DeepDrummer's
                hits[free], idx[free] = propose_arrays(src_hits[free], src_idx[free], self.library, self.rng,
                                                       beats=self.beats, constraints=self.constraints)
            core = np.array([r in KEEP_ROLES for r in layout(self.tracks)])     # the prior's keep their kick,
            silenced = ~free[:, None] & core & src_hits.any(axis=2) & ~hits.any(axis=2)   # snare and hat
            hits[silenced] = src_hits[silenced]
        genes = self.genes[sources]
        if self.feel:
            hits, idx, genes = feel_genes.mix(src_hits, src_idx, genes, (hits, idx), self.rng,
                                              locked=self.constraints.rows_locked(self.tracks),
                                              fixed_swing=getattr(self.scorer, "swing", None) is not None)
        return self.add(hits, idx, genes, free)

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
        self.free = self.free[order]
        self.genes = self.genes[order]
        self.emb = self.emb[torch.from_numpy(order)]
        self._keys = {self.key(self.hits[i], self.idx[i], self.genes, i): i for i in range(len(order))}
        return order
