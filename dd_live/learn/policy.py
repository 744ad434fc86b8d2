"""Which loop to play next so that the performer hears their taste while the critic still learns it.

The critic's output layer, fitted by ``learn="head"`` (:meth:`dd_live.learn.trainer.Trainer.train`), is a
logistic regression on the dense layer's 128 outputs. :class:`HeadPosterior` is its Laplace
approximation: a Gaussian around the fitted weights whose covariance is the inverse Hessian of the
penalised log loss (summed over the rated loops), so it is wide where the ratings say little.
:class:`LeanSearch` is Thompson sampling over it: each loop comes from the bounded cold search of
best mode (:class:`dd_live.learn.sampler.BestSearch`) under one fresh draw of the output layer. With
few ratings the draws differ and the loops explore; as ratings accumulate they agree, and the loops
lean towards what the performer likes. The daemon's "lean" mode and the protocol's ``policy="lean"``
both use this class.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch

from .sampler import BEST_MAX_STEPS, BEST_PATIENCE, BEST_TEMPERATURE, BestSearch, Chains, Found, Scorer


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

    def draw(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One sample of (w, b), raw units."""
        z = torch.randn(self.theta.shape[0], generator=gen)
        return self.raw(self.theta + self.chol @ z)


class LeanSearch:
    """Thompson sampling: the next loop is best mode's bounded cold search over ``chains`` under one draw from
    the critic's head posterior (the critic itself where it has none: no ratings yet, or budget learning)."""

    def __init__(self, chains: Chains, scorer: Scorer, *, seed: int, max_steps: int = BEST_MAX_STEPS,
                 patience: int = BEST_PATIENCE, temperature: float = BEST_TEMPERATURE) -> None:
        self.chains, self.scorer = chains, scorer
        self.search = BestSearch(chains, max_steps=max_steps, patience=patience, temperature=temperature)
        self.gen = torch.Generator().manual_seed(int(seed))
        self._draw = None

    def next(self, critic) -> Found:
        """The next loop for ``critic`` (its chains are left scored by the draw: rescore before other use)."""
        posterior = getattr(critic, "head_posterior", None)
        judge = critic
        if posterior is not None:
            if self._draw is None:
                self._draw = copy.deepcopy(critic)
            else:
                self._draw.load_state_dict(critic.state_dict())
            set_head(self._draw, *posterior.draw(self.gen))
            judge = self._draw
        self.scorer.set_critics([judge])
        self.chains.rescore()
        try:
            return self.search.next()
        finally:
            self.scorer.set_critics([critic])
