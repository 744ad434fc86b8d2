"""The critic's folded inference path (dd_live.learn.folded) computes the critic's own eval-mode function: batch
norms folded into the next layer, leaky ReLUs fused, the first convolution space-to-depth; remade when the
weights change; and its scores rank 1,000 random loops as the plain fp32 forward does (bf16 and int8 too)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dd_live.learn import folded
from dd_live.learn.critic import Critic


def _plain(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    """The critic's forward as written (modules one after the other), in eval mode: log-probabilities."""
    critic.eval()
    with torch.enable_grad():
        return critic(x).detach()


def _scrambled(critic: Critic, seed: int = 0) -> Critic:
    """``critic`` with batch-norm statistics and affine terms far from the identity, and input statistics."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in critic.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 1.5 + 0.5)
                m.weight.copy_(1 + 0.3 * torch.randn(m.num_features, generator=g))
                m.bias.copy_(0.3 * torch.randn(m.num_features, generator=g))
    critic.set_input_stats(torch.randn(16, *critic.input_shape, generator=g) * 20 + 5)
    return critic


@pytest.mark.parametrize("fused", [True, False], ids=["onednn-post-op", "plain-conv"])
def test_the_folded_path_is_the_critics_own_function(fused, monkeypatch):
    if not fused:
        monkeypatch.setattr(folded, "_FUSED", None)
    elif folded._FUSED is None:
        pytest.skip("this torch has no fused convolution")
    torch.manual_seed(1)
    critic = _scrambled(Critic(precision="fp32"))
    x = torch.randn(70, *critic.input_shape) * 20 + 5
    with torch.inference_mode():
        fast = critic(x)
        emb = critic.embed(x)
    plain = _plain(critic, x)
    assert torch.allclose(fast, plain, atol=2e-5), (fast - plain).abs().max()
    assert critic.folded().layers[0].s2d == (2, 4)            # the first layer went space-to-depth
    with torch.enable_grad():                                # and the dense output (what the head weighs) too
        h = critic.features(((x - critic.in_mean) / critic.in_std)[:, None])
        for layer in list(critic.head)[:-2]:
            h = layer(h)
    assert torch.allclose(emb, h.detach(), atol=2e-5)


def test_a_critic_that_learns_is_folded_again():
    torch.manual_seed(2)
    critic = _scrambled(Critic(precision="fp32"), seed=3)
    x = torch.randn(8, *critic.input_shape) * 20
    with torch.inference_mode():
        before = critic(x)
    first = critic.folded()
    critic.train()                                           # one step of training changes every layer
    opt = torch.optim.SGD(critic.parameters(), lr=0.1)
    torch.nn.functional.nll_loss(critic(x), torch.tensor([0, 1] * 4)).backward()
    opt.step()
    critic.eval()
    with torch.inference_mode():
        after = critic(x)
    assert critic.folded() is not first and not torch.allclose(before, after)
    assert torch.allclose(after, _plain(critic, x), atol=2e-5)
    critic.load_state_dict(Critic(precision="fp32").state_dict())   # weights loaded in place: folded again
    with torch.inference_mode():
        assert torch.allclose(critic(x), _plain(critic, x), atol=2e-5)
    critic.set_input_stats(torch.randn(16, *critic.input_shape) * 7 - 3)   # the input's statistics alone
    with torch.inference_mode():
        assert torch.allclose(critic(x), _plain(critic, x), atol=2e-5)


def test_a_first_layer_that_cannot_go_space_to_depth_keeps_its_convolution():
    critic = _scrambled(Critic(precision="fp32", kernel=(3, 6), stride=(2, 4)), seed=4)
    x = torch.randn(5, *critic.input_shape) * 20
    with torch.inference_mode():
        fast = critic(x)
    assert critic.folded().layers[0].s2d is None
    assert torch.allclose(fast, _plain(critic, x), atol=2e-5)


def test_fast_scores_rank_a_thousand_random_loops_as_fp32_does(kit):
    """The pretrained critic on 1,000 random loops of the default kit: the folded fp32, the bf16 and the int8
    scores against the plain fp32 forward's (Spearman)."""
    from dd_live.learn.features import mfcc
    from dd_live.learn.pretrain import starting_critic
    from dd_live.loops.pattern import random_arrays
    from dd_live.loops.render import render_arrays
    from dd_live.song.make import spearman

    rng = np.random.default_rng(5)
    hits, idx = random_arrays(kit, rng, 1000)
    feats = mfcc(torch.from_numpy(render_arrays(hits, idx, kit, bpm=120.0)))
    critic = starting_critic("pretrained", seed=5)
    critic.precision = "fp32"
    plain = _plain(critic, feats)[:, 1].exp().numpy()
    fast = critic.score(feats).numpy()
    critic.precision = "bf16"
    half = critic.score(feats).numpy()
    critic.precision = "int8"
    eight = critic.score(feats).numpy()
    assert np.abs(fast - plain).max() < 1e-5
    assert spearman(fast, plain) > 0.9999 and spearman(half, plain) >= 0.99, spearman(half, plain)
    assert spearman(eight, plain) >= 0.99, spearman(eight, plain)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "int8"])
def test_an_items_embedding_does_not_depend_on_the_batch_it_came_in(precision):
    """A rated loop's embedding is what its head fit sees: the same loops must give the same fit, however they
    were batched (after an undo, a restart, a relabel)."""
    torch.manual_seed(6)
    critic = _scrambled(Critic(precision=precision), seed=6)
    x = torch.randn(45, *critic.input_shape) * 20
    whole = critic.embed(x)
    assert torch.equal(whole[7:12], critic.embed(x[7:12])) and torch.equal(whole[40:], critic.embed(x[40:]))
