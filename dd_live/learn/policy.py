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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .sampler import BEST_THRESHOLD, Found

POSTERIOR_SCALE = 0.3   # Thompson draws' spread, times the posterior's (chosen on seeds 0-4; see README)
SEARCH_TOP = 8          # loops whose mutations each search adds to the pool ...
SEARCH_PER = 4          # ... this many each
RECENT = 40             # a served loop differs from each of the last RECENT served grids ...
NOVELTY = 4             # ... in at least this many cells


def set_head(critic, w: torch.Tensor, b: float | torch.Tensor) -> None:
    """Make ``critic``'s P(like) = sigmoid(embedding . w + b) (w, b in the dense layer's raw units)."""
    with torch.no_grad():
        out = critic.output()
        b = torch.as_tensor(b, dtype=torch.float32).reshape(())
        out.weight.copy_(torch.stack([-w, w]) / 2)   # P(like) = sigmoid(logit 1 - logit 0)
        out.bias.copy_(torch.stack([-b, b]) / 2)


@dataclass(frozen=True)
class HeadPosterior:
    """Laplace posterior of the output layer, in the standardised embedding space of the fit:
    x = (embedding - mean) / std, P(like) = sigmoid(x . theta[:-1] + theta[-1])."""

    mean: torch.Tensor      # (d,) embedding mean over the rated loops
    std: torch.Tensor       # (d,)
    theta: torch.Tensor     # (d + 1,) the fitted weights, then the bias
    chol: torch.Tensor      # (d + 1, d + 1) lower Cholesky factor of the covariance

    @classmethod
    def laplace(cls, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor, *, l2: float,
                mean: torch.Tensor, std: torch.Tensor) -> HeadPosterior:
        """From the standardised rated loops ``x`` (n, d), labels ``y`` and the fit (w, b) of the loss
        mean log loss + l2 |w|^2: the Hessian of n times that loss at the fit, inverted."""
        n, d = x.shape
        xa = torch.cat([x, torch.ones(n, 1)], 1).double()
        p = torch.sigmoid(x @ w + b).double()
        h = xa.T @ (xa * (p * (1 - p))[:, None])
        h[:d, :d] += torch.eye(d, dtype=torch.float64) * (2 * l2 * n)
        h[d, d] += 1e-3                               # the bias has no penalty: a little, for a proper inverse
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
    (so the pool grows where it is promising) and serves the highest-scoring loop that was never served
    and differs from each of the last ``recent`` served grids in at least ``novelty`` cells. A critic
    whose output layer is flat (a new session's: every loop 0.5) has nothing to lean on: it serves a new
    random loop as DeepDrummer draws them (:meth:`dd_live.learn.pool.LoopPool.fresh`), so a new
    session's first loops are exactly as good as random loops.
    """

    def __init__(self, pool, *, seed: int, scale: float = POSTERIOR_SCALE, top: int = SEARCH_TOP,
                 per: int = SEARCH_PER, recent: int = RECENT, novelty: int = NOVELTY) -> None:
        if not scale >= 0 or top < 0 or per < 0 or recent < 0 or novelty < 0:
            raise ValueError("scale, top, per, recent and novelty must not be negative")
        self.pool, self.scale, self.top, self.per = pool, scale, top, per
        self.recent, self.novelty = recent, novelty
        self.gen = torch.Generator().manual_seed(int(seed))

    def head(self, critic, *, draw: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The output layer the next loop is chosen under."""
        posterior = getattr(critic, "head_posterior", None)
        if draw and posterior is not None:
            return posterior.draw(self.gen, scale=self.scale)
        return head_of(critic)

    def next(self, critic, *, draw: bool) -> Found:
        """The next loop; its score is the critic's own."""
        pool = self.pool
        w, b = self.head(critic, draw=draw)
        if not bool((w != 0).any()):  # nothing learned yet: a DeepDrummer random loop at the performer's density
            i = pool.fresh()
        else:
            pool.prime()
            allowed = ~pool.served & pool.novel(self.novelty)
            while not allowed.any():  # everything here was served (a small kit, a long session): more loops
                new = pool.grow(max(pool.start // 4, 1))
                allowed = ~pool.served & pool.novel(self.novelty)
                if new.size == 0 and not allowed.any():
                    allowed = ~pool.served if (~pool.served).any() else np.ones(len(pool), dtype=bool)
            logits = np.where(allowed, pool.logits(w, b), -np.inf)
            if self.top and self.per:
                top = np.argsort(logits)[-self.top:]
                new = pool.mutate(np.repeat(top[np.isfinite(logits[top])], self.per))
                if new.size:
                    fresh = np.where(~pool.served[new] & pool.novel(self.novelty, new), pool.logits(w, b, new),
                                     -np.inf)
                    logits = np.concatenate([logits, fresh])
            i = int(np.argmax(logits))
        mean_w, mean_b = head_of(critic)
        score = float(1 / (1 + np.exp(-pool.logits(mean_w, mean_b, np.array([i]))[0])))
        found = Found(pool.hits[i].copy(), pool.idx[i].copy(), score, score >= BEST_THRESHOLD, i,
                      pool.genes[i] if pool.feel else None)
        pool.serve(i, remember=self.recent)
        if len(pool) > pool.capacity:
            pool.trim(pool.logits(mean_w, mean_b))
        return found
