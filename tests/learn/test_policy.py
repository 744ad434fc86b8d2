"""The lean policy: the head's Laplace posterior and Thompson sampling over it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dd_live.learn.critic import Critic
from dd_live.learn.policy import LeanSearch, set_head
from dd_live.learn.trainer import TrainConfig, Trainer


def _fitted(n: int, seed: int = 0) -> Trainer:
    """A head-learning trainer fitted on n loops whose label is the sign of one MFCC direction."""
    g = torch.Generator().manual_seed(seed)
    trainer = Trainer(Critic(), TrainConfig(seed=seed, learn="head"))
    feats = torch.randn(n, *trainer.critic.input_shape, generator=g)
    emb = trainer.critic.embed(feats)
    direction = emb[:, 0] - emb[:, 0].median()
    for f, like in zip(feats, (direction > 0).tolist()):
        trainer.add(f, like)
    trainer.train()
    return trainer


def test_the_posterior_is_centred_on_the_fit_and_narrows_with_ratings():
    few, many = _fitted(12), _fitted(96)
    for trainer in (few, many):
        post = trainer.critic.head_posterior
        w, b = post.raw(post.theta)
        out = trainer.critic.output()
        np.testing.assert_allclose(out.weight[1].detach().numpy(), (w / 2).numpy(), rtol=1e-6)
        np.testing.assert_allclose(float(out.bias[1].detach()), float(b / 2), rtol=1e-5, atol=1e-7)
    spread = {k: float(t.critic.head_posterior.chol.diagonal().square().sum()) for k, t in (("few", few),
                                                                                             ("many", many))}
    assert spread["many"] < 0.5 * spread["few"]          # more ratings, surer weights
    post = many.critic.head_posterior
    g = torch.Generator().manual_seed(1)
    draws = torch.stack([torch.cat([w, b.reshape(1)]) for w, b in (post.draw(g) for _ in range(2000))])
    raw_w, raw_b = post.raw(post.theta)
    centre = torch.cat([raw_w, raw_b.reshape(1)])
    assert float((draws.mean(0) - centre).abs().max()) < 0.1 * float(draws.std(0).max())
    assert float(draws.std(0).min()) > 0


def test_a_restored_or_reset_trainer_keeps_no_stale_posterior():
    trainer = _fitted(12)
    state = trainer.snapshot()
    trainer.restore(state)
    assert trainer.critic.head_posterior is None
    trainer.train()
    assert trainer.critic.head_posterior is not None
    trainer.reset()
    assert trainer.critic.head_posterior is None


def test_set_head_gives_the_logistic_score():
    critic = Critic()
    feats = torch.randn(3, *critic.input_shape)
    emb = critic.embed(feats)
    w, b = torch.randn(emb.shape[1]) * 0.01, 0.3
    set_head(critic, w, b)
    np.testing.assert_allclose(critic.score(feats).numpy(), torch.sigmoid(emb @ w + b).numpy(), rtol=1e-4)


def test_lean_search_judges_by_a_draw_and_gives_the_critic_back(small_lib):
    from dd_live.learn.sampler import Chains, Scorer

    trainer = _fitted(24)
    critic = trainer.critic
    scorer = Scorer(small_lib, critic)
    chains = Chains(small_lib, scorer, n=4, rng=np.random.default_rng(0))
    lean = LeanSearch(chains, scorer, seed=3, max_steps=3, patience=2)
    judged = []
    real = scorer.set_critics
    scorer.set_critics = lambda critics: judged.append(critics[0]) or real(critics)
    found = lean.next(critic)
    assert found.hits.shape == (4, 16)
    assert judged[0] is not critic and judged[-1] is critic          # a draw judged; the critic is back
    assert scorer.model.critics == [critic]
    w_draw = judged[0].output().weight.detach().clone()
    lean.next(critic)
    assert not torch.equal(w_draw, judged[-2].output().weight)        # a fresh draw each loop
    critic.head_posterior = None
    judged.clear()
    lean.next(critic)
    assert judged[0] is critic                                         # no posterior: the critic itself


def test_protocol_phase1_can_lean(kit):
    from dd_live.lab.evaluate import run_protocol

    rep = run_protocol(lambda c: bool(c.pattern.hits[:, :4].sum() % 2), ratings=4, per_model=1, seed=1,
                       library=kit, chains=4, best_steps=2, policy="lean")
    assert rep["policy"] == "lean" and len(rep["phase1_likes"]) == 4
    with pytest.raises(ValueError, match="policy"):
        run_protocol(lambda c: True, ratings=1, per_model=1, library=kit, policy="greedy")
