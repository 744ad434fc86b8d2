"""Which loop to play next so that the performer hears their taste while the critic still learns it.

The critic's output layer, fitted by ``learn="head"`` (:meth:`dd_live.learn.trainer.Trainer.train`), is a
logistic regression on the dense layer's 128 outputs. :class:`HeadPosterior` is its Laplace
approximation: a Gaussian around the fitted weights whose covariance is the inverse Hessian of the
penalised log loss (summed over the rated loops), so it is wide where the ratings say little.

:class:`PoolSearch` is Thompson sampling over it: each loop is the best of a growing pool of embedded
loops (:class:`dd_live.learn.pool.LoopPool`) under one fresh draw of the output layer. With few ratings
the draws differ and the loops explore; as ratings accumulate they agree, and the loops lean towards
what the performer likes. The draws' spread is the posterior's times :data:`POSTERIOR_SCALE` (below 1,
as Chapelle and Li found best for logistic Thompson sampling, "An Empirical Evaluation of Thompson
Sampling", 2011): the full spread at 128 dimensions and a few dozen ratings spends most loops exploring.
Without a draw the same search is best mode. The daemon's "lean" and "best" modes and the protocol's
Phase I (``policy="lean"``) and Phase II all use this class.

With a drum prior (:mod:`dd_live.loops.prior`) the pool holds two lineages: the prior's own loops (a drummer's
kit and placements) and its free share (DeepDrummer's uniform loops) with their descendants. Which lineage the
next loop comes from is a two-armed Thompson choice (:func:`choose_lineage`) on how often the performer liked
each: Beta pseudo-counts :data:`LINEAGE_PRIOR` (a drum loop liked two times in three, a free one one in three,
worth 4.5 ratings each: a new session hears a free loop about one time in eight) plus the session's ratings.
The strength was chosen among 3, 4.5 and 6 ratings on seeds 0-3 of the built-in raters (README). A
performer who dislikes what drummers play soon hears mostly free loops; the critic chooses within the lineage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from .sampler import BEST_THRESHOLD, Found

POSTERIOR_SCALE = 0.3   # Thompson draws' spread, times the posterior's (chosen on seeds 0-4; see README)
SEARCH_TOP = 8          # loops whose mutations each search adds to the pool ...
SEARCH_PER = 4          # ... this many each
RECENT = 40             # a served loop differs from each of the last RECENT served grids ...
NOVELTY = 4             # ... in at least this many cells,
SET_SHARE = 0.2         # ... and its set of sounds is in at most this share of any RECENT consecutive loops
LINEAGE_PRIOR = {False: (3.0, 1.5), True: (1.5, 3.0)}   # (likes, dislikes) pseudo-counts: prior's loops, free ones
SOUND_PRIOR = 4.0       # a kind of sound's share of loops not disliked: the overall share worth this many loops


ALL_SOUNDS = "*"        # the key of sound_terms' counts that holds every served loop's


def sound_terms(kinds: np.ndarray, counts: dict[str, tuple[int, int]] | None) -> np.ndarray | None:
    """Per kind of sound (:attr:`dd_live.learn.pool.LoopPool.kinds`), the log-odds a loop gains for playing it:
    how much less often loops with it were disliked than loops on the whole. ``counts``: kind -> (served,
    disliked) over the loops the performer heard (rated or skipped), and :data:`ALL_SOUNDS` -> the same over
    every one. A kind's share not disliked is a Beta posterior around the overall share worth
    :data:`SOUND_PRIOR` loops; its term is the log odds ratio of the two. None without counts.

    Why besides the head: a run of dislikes often says one thing about a sound ("no hats"), which the head,
    spread over 128 features of the whole bar, learns slowly. Here each dislike lowers the kinds of sound its
    loop played against the loops that were heard and not disliked; a kind that plays in every loop, or as often
    in the disliked ones as in the rest, stays where it was. Likes steer through the head.
    """
    if not counts or ALL_SOUNDS not in counts:
        return None
    served, disliked = counts[ALL_SOUNDS]
    overall = (served - disliked + 1.0) / (served + 2.0)
    n = np.array([counts.get(str(k), (0, 0))[0] for k in kinds], dtype=np.float64)
    bad = np.array([counts.get(str(k), (0, 0))[1] for k in kinds], dtype=np.float64)
    share = (n - bad + SOUND_PRIOR * overall) / (n + SOUND_PRIOR)
    return np.log(share / (1 - share)) - np.log(overall / (1 - overall))


def count_evidence(ratings: Iterable[tuple[int, bool]], free: dict[int, bool], played: dict[int, set[str]],
                   heard: set[int]) -> tuple[dict[bool, tuple[int, int]], dict[str, tuple[int, int]]]:
    """What a performer said of one run's loops, as :func:`choose_lineage` and :func:`sound_terms` read it:
    (likes, dislikes) by lineage (``free[id]``: drawn outside the drum prior) over the ``ratings`` (id, like) of
    loops in ``free``; and (heard, disliked) by each kind of sound ``played[id]`` (and :data:`ALL_SOUNDS`) over
    the loops rated or ``heard`` (shown and skipped)."""
    lineages: dict[bool, list[int]] = {False: [0, 0], True: [0, 0]}
    labels = {}
    for cid, like in ratings:
        if cid in free:
            lineages[free[cid]][0 if like else 1] += 1
            labels[cid] = like
    sounds: dict[str, list[int]] = {}
    for cid in heard | set(labels):
        for kind in played.get(cid, set()) | {ALL_SOUNDS}:
            counts = sounds.setdefault(kind, [0, 0])
            counts[0] += 1
            counts[1] += labels.get(cid) is False
    return {k: (v[0], v[1]) for k, v in lineages.items()}, {k: (v[0], v[1]) for k, v in sounds.items()}


def cell_terms(pairs: Iterable[tuple[np.ndarray, np.ndarray]], shape: tuple[int, int]) -> np.ndarray | None:
    """What the performer's kept edits say of each grid cell: (tracks, steps) logit terms added to a pooled loop's
    score for each cell it plays (None: no kept edit on a grid of ``shape``).

    ``pairs``: (edited hits, proposed hits) of each edit the performer kept (liked), bool (tracks, steps). Such an
    edit is a comparison: the edited loop preferred to the proposal, differing in a few cells. The critic hears
    the two a cell apart in its features and learns little from the pair; this reads it on the grid instead, as
    Bradley-Terry comparisons with a utility u per cell (each changed cell counted as a comparison of its own):
    a cell turned on a times and off r times has P(on preferred) = sigmoid(u), and with one imaginary comparison
    each way as the prior, its most probable u is exactly log((a + 1) / (r + 1)). A cell no edit touched adds
    nothing; utilities on the scale of a logit add to the head's logit."""
    on = off = None
    for edited, proposed in pairs:
        if edited.shape != tuple(shape) or proposed.shape != tuple(shape):
            continue                                  # an edit on another grid
        if on is None:
            on, off = np.zeros(shape), np.zeros(shape)
        changed = edited != proposed
        on += changed & edited
        off += changed & proposed
    return None if on is None else np.log((on + 1.0) / (off + 1.0))


#: a priori, one cell played moves a loop's like odds beyond what the critic hears by at most about e^+-1 (two
#: standard deviations of its logit)
CELL_PRIOR_SD = 0.5
MIN_CELL_RATINGS = 8   # rated loops on the grid before the cells are fitted


@dataclass(frozen=True)
class CellTerms:
    """What the ratings say of each grid cell beyond what the critic hears: a logit per (track, step) added to
    the head's for every cell a loop plays (see :func:`fit_cells`). The search adds their most probable values,
    not a draw: the head's Thompson draw already explores, and a draw over every cell as well added noise as
    large as the head's signal for a taste the cells do not carry (chosen on seeds 0-4: a draw cost dark 0.04 of
    late P(like) against the most probable values, and the mean of the six raters 0.02)."""

    shape: tuple[int, int]  # (tracks, steps) of the grid it was fitted on
    mean: np.ndarray        # (tracks * steps,) the most probable logits


def fit_cells(hits: np.ndarray, y: np.ndarray, offset: np.ndarray, *, prior_sd: float = CELL_PRIOR_SD,
              iters: int = 30) -> CellTerms:
    """The rated loops' grid cells as a logistic regression on top of the critic's own logits: P(like_i) =
    sigmoid(offset_i + hits_i . c), each cell's c ~ N(0, prior_sd^2), fitted by Newton's
    method (a strictly convex objective). ``hits`` (n, tracks, steps) bool, ``y`` (n,)
    0/1, ``offset`` (n,) the head's logit of each. Why besides the head: a taste of placement that the critic's
    features blur (hits between the eighths, a sparse bar) shows here in the cells; a cell no rating tells
    apart stays near 0, and the head's own logit is the offset, so what it explains is not counted twice."""
    n, t, s = hits.shape
    x = hits.reshape(n, t * s).astype(np.float64)
    yd, o = np.asarray(y, np.float64), np.asarray(offset, np.float64)
    prec = 1.0 / prior_sd ** 2
    c = np.zeros(t * s)

    def loss(v: np.ndarray) -> float:
        z = o + x @ v
        return float(np.sum(np.logaddexp(0.0, z) - yd * z) + 0.5 * prec * v @ v)

    value = loss(c)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(o + x @ c)))
        grad = x.T @ (p - yd) + prec * c
        hess = (x.T * (p * (1 - p))) @ x + prec * np.eye(t * s)
        step = np.linalg.solve(hess, grad)
        slope, k = float(grad @ step), 1.0
        while True:
            trial = loss(c - k * step)
            if trial <= value - 1e-4 * k * slope or k < 1e-6:
                break
            k *= 0.5
        c, value = c - k * step, trial
        if float(np.abs(k * step).max()) < 1e-9:
            break
    return CellTerms((t, s), c)


def rated_cells(grids: list[np.ndarray | None], y: np.ndarray, logits: np.ndarray) -> CellTerms | None:
    """:func:`fit_cells` over the rated loops on the grid of the latest one (``grids``: each rated loop's hits,
    None where unknown; ``y`` their labels; ``logits`` the head's for each); None with fewer than
    :data:`MIN_CELL_RATINGS` of them."""
    shape = next((g.shape for g in reversed(grids) if g is not None), None)
    rows = [i for i, g in enumerate(grids) if g is not None and g.shape == shape]
    if len(rows) < MIN_CELL_RATINGS:
        return None
    return fit_cells(np.stack([grids[i] for i in rows]), np.asarray(y)[rows], np.asarray(logits)[rows])


def choose_lineage(rng: np.random.Generator, counts: dict[bool, tuple[int, int]] | None = None) -> bool:
    """Whether the next loop comes from the free lineage: a draw of each lineage's like rate from its Beta
    posterior (:data:`LINEAGE_PRIOR` plus ``counts``, lineage -> (likes, dislikes) of its rated loops), the
    higher one winning."""
    counts = counts or {}
    draws = {}
    for free, (a, b) in LINEAGE_PRIOR.items():
        likes, dislikes = counts.get(free, (0, 0))
        draws[free] = rng.beta(a + likes, b + dislikes)
    return bool(draws[True] > draws[False])


def set_head(critic, w: torch.Tensor, b: float | torch.Tensor) -> None:
    """Make ``critic``'s P(like) = sigmoid(embedding . w + b) (w, b in the dense layer's raw units)."""
    with torch.no_grad():
        out = critic.output()
        b = torch.as_tensor(b, dtype=torch.float32).reshape(())
        out.weight.copy_(torch.stack([-w, w]) / 2)   # P(like) = sigmoid(logit 1 - logit 0)
        out.bias.copy_(torch.stack([-b, b]) / 2)


def fit_logistic(x: torch.Tensor, y: torch.Tensor, *, l2: float, pull: float, b0: float,
                 iters: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    """(w, b) minimising mean BCE(x w + b, y) + l2 |w|^2 + pull (b - b0)^2: a strictly convex objective, so
    Newton's method with a backtracking line search (in float64) reaches its one minimum in a few steps, each
    a solve of (features + 1) equations. (torch's optimisers would do as well, but making one imports torch's
    compiler stack into the daemon: 72 MB.) ``x`` (n, d), ``y`` (n,) of 0/1; float32 results, b a 0-d tensor."""
    n, d = x.shape
    xs = torch.cat([x.double(), torch.ones(n, 1, dtype=torch.float64)], 1)
    yd = y.double()
    reg = torch.full((d + 1,), 2.0 * l2, dtype=torch.float64)
    reg[d] = 2.0 * pull
    centre = torch.zeros(d + 1, dtype=torch.float64)
    centre[d] = b0
    theta = centre.clone()

    def loss(t: torch.Tensor) -> float:
        z = xs @ t
        return float((torch.nn.functional.softplus(z) - yd * z).mean() + 0.5 * (reg * (t - centre) ** 2).sum())

    value = loss(theta)
    for _ in range(iters):
        p = torch.sigmoid(xs @ theta)
        grad = xs.t() @ (p - yd) / n + reg * (theta - centre)
        hess = (xs.t() * (p * (1 - p) / n)) @ xs + torch.diag(reg)
        step = torch.linalg.solve(hess, grad)
        slope, t = float(grad @ step), 1.0
        while True:                               # backtracking (Armijo): Newton's full step is nearly always taken
            trial = loss(theta - t * step)
            if trial <= value - 1e-4 * t * slope or t < 1e-6:
                break
            t *= 0.5
        theta, value = theta - t * step, trial
        if float((t * step).abs().max()) < 1e-9:
            break
    return theta[:d].float(), theta[d].float()


@dataclass(frozen=True)
class HeadPosterior:
    """Laplace posterior of the output layer, in the standardised embedding space of the fit:
    x = (embedding - mean) / std, P(like) = sigmoid(x . theta[:-1] + theta[-1])."""

    mean: torch.Tensor      # (d,) embedding mean over the reference loops (or the rated ones)
    std: torch.Tensor       # (d,)
    theta: torch.Tensor     # (d + 1,) the fitted weights, then the bias
    chol: torch.Tensor      # (d + 1, d + 1) lower Cholesky factor of the covariance

    @classmethod
    def laplace(cls, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor, *, l2: float,
                mean: torch.Tensor, std: torch.Tensor, bias_precision: float = 0.0) -> HeadPosterior:
        """From the standardised rated loops ``x`` (n, d), labels ``y`` and the fit (w, b) of the loss
        mean log loss + l2 |w|^2 (+ the bias prior's, whose precision is ``bias_precision``): the Hessian of n
        times that loss at the fit, inverted."""
        n, d = x.shape
        xa = torch.cat([x, torch.ones(n, 1)], 1).double()
        p = torch.sigmoid(x @ w + b).double()
        h = xa.T @ (xa * (p * (1 - p))[:, None])
        h[:d, :d] += torch.eye(d, dtype=torch.float64) * (2 * l2 * n)
        h[d, d] += bias_precision + 1e-3              # the bias prior (and a little, for a proper inverse)
        cov = torch.cholesky_inverse(torch.linalg.cholesky(h))
        chol = torch.linalg.cholesky(cov + torch.eye(d + 1, dtype=torch.float64) * 1e-9)
        return cls(mean.clone(), std.clone(), torch.cat([w.detach(), b.detach().reshape(1)]).clone(), chol.float())

    def raw(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(w, b) in the dense layer's raw units for standardised ``theta``."""
        w = theta[:-1] / self.std
        return w, theta[-1] - (w * self.mean).sum()

    def draw(self, gen: torch.Generator, *, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """One sample of (w, b), raw units, from the posterior with its spread times ``scale``."""
        z = torch.randn(self.theta.shape[0], generator=gen)
        return self.raw(self.theta + scale * (self.chol @ z))


def head_of(critic) -> tuple[torch.Tensor, torch.Tensor]:
    """(w, b) of ``critic``'s output layer as a logistic regression on its embedding: P(like) =
    sigmoid(embedding . w + b) (the inverse of :func:`set_head`)."""
    out = critic.output()
    with torch.no_grad():
        return (out.weight[1] - out.weight[0]).clone(), (out.bias[1] - out.bias[0]).clone()


class PoolSearch:
    """The next loop from a :class:`dd_live.learn.pool.LoopPool`: under one draw from the critic's head
    posterior scaled by ``scale`` (``draw=True``: Thompson sampling, lean mode) or under the critic's own
    output layer (``draw=False``: best mode).

    Each call mutates the ``top`` loops that score highest under that output layer ``per`` times each
    (so the pool grows where it is promising) and serves the highest-scoring loop that was never served,
    differs from each of the last ``recent`` served grids in at least ``novelty`` cells, keeps the sounds varied
    (its set of sounds in at most :data:`SET_SHARE` of the last ``recent`` loops, and not one category on every
    track unless the performer locked them) and, with a drum prior, is of the lineage :func:`choose_lineage`
    picked. A critic
    whose output layer is flat (a new session's: every loop 0.5) has nothing to lean on: it serves a new
    loop from the pool's prior (:meth:`dd_live.learn.pool.LoopPool.fresh`: a drummer's, or one of its free
    share, as DeepDrummer draws them).
    """

    def __init__(self, pool, *, seed: int, scale: float = POSTERIOR_SCALE, top: int = SEARCH_TOP,
                 per: int = SEARCH_PER, recent: int = RECENT, novelty: int = NOVELTY,
                 set_share: float = SET_SHARE) -> None:
        if not scale >= 0 or top < 0 or per < 0 or recent < 0 or novelty < 0 or not 0 < set_share <= 1:
            raise ValueError("scale, top, per, recent and novelty must not be negative, set_share in (0, 1]")
        self.pool, self.scale, self.top, self.per = pool, scale, top, per
        self.recent, self.novelty = recent, novelty
        self.most_of_a_set = max(1, int(set_share * recent))   # times one set of sounds may be served in RECENT
        self.gen = torch.Generator().manual_seed(int(seed))
        self.rng = np.random.default_rng(int(seed))

    def head(self, critic, *, draw: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The output layer the next loop is chosen under."""
        posterior = getattr(critic, "head_posterior", None)
        if draw and posterior is not None:
            return posterior.draw(self.gen, scale=self.scale)
        return head_of(critic)

    def next(self, critic, *, draw: bool, lineages: dict[bool, tuple[int, int]] | None = None,
             sounds: dict[str, tuple[int, int]] | None = None, cells: np.ndarray | None = None) -> Found:
        """The next loop; its score is the critic's own. ``lineages``: with a drum prior, the (likes, dislikes)
        of the prior's rated loops (False) and the free ones (True), for :func:`choose_lineage`; ``sounds``:
        the (served, disliked) loops each kind of sound played in (:func:`sound_terms`); ``cells``: the kept edits'
        per-cell terms (:func:`cell_terms`), added to the ratings' (the critic's ``rated_cells``)."""
        pool = self.pool
        w, b = self.head(critic, draw=draw)
        rated = getattr(critic, "rated_cells", None)      # what the ratings say of the cells (CellTerms)
        if rated is not None and rated.shape == pool.hits.shape[1:]:
            c = rated.mean.reshape(rated.shape)              # steered by, not drawn: the head's draw explores
            cells = c if cells is None else cells + c
        if not bool((w != 0).any()):  # nothing learned yet: a new loop from the prior at the performer's density
            i = pool.fresh()
        else:
            pool.prime()
            # with a drum prior, one lineage: the prior's own loops or its free share's (and their descendants)
            arm = choose_lineage(self.rng, lineages) if pool.prior is not None else None

            def open_(rows=None) -> np.ndarray:
                ok = ~(pool.served if rows is None else pool.served[rows]) & pool.novel(self.novelty, rows) \
                    & pool.varied(self.most_of_a_set, rows)
                return ok if arm is None else ok & ((pool.free if rows is None else pool.free[rows]) == arm)

            allowed = open_()
            while not allowed.any():  # everything here was served (a small kit, a long session): more loops
                new = pool.grow(max(pool.start // 4, 1), free=arm)
                allowed = open_()
                if new.size == 0 and not allowed.any():
                    allowed = ~pool.served if (~pool.served).any() else np.ones(len(pool), dtype=bool)
            terms = sound_terms(pool.kinds, sounds)

            def score(rows=None) -> np.ndarray:
                s = pool.logits(w, b, rows)
                if cells is not None and cells.shape == pool.hits.shape[1:]:
                    h = pool.hits if rows is None else pool.hits[rows]
                    s = s + h.reshape(h.shape[0], -1) @ cells.ravel()
                return s if terms is None else s + pool.kind_sums(terms, rows)

            logits = np.where(allowed, score(), -np.inf)
            if self.top and self.per:   # the lineage grows where it is promising
                top = np.argsort(logits)[-self.top:]
                new = pool.mutate(np.repeat(top[np.isfinite(logits[top])], self.per))
                if new.size:
                    logits = np.concatenate([logits, np.where(open_(new), score(new), -np.inf)])
            i = int(np.argmax(logits))
        mean_w, mean_b = head_of(critic)
        score = float(1 / (1 + np.exp(-pool.logits(mean_w, mean_b, np.array([i]))[0])))
        found = Found(pool.hits[i].copy(), pool.idx[i].copy(), score, score >= BEST_THRESHOLD, i,
                      pool.genes[i] if pool.feel else None, bool(pool.free[i]))
        pool.serve(i, remember=self.recent)
        if len(pool) > pool.capacity:
            pool.trim(pool.logits(mean_w, mean_b))
        return found
