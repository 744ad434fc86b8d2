"""The critic's int8 path (dd_live.learn.quantized): chosen by precision "int8", quantized alike in every copy
of a critic, ranking loops as fp32 only when its activation ranges hold the activations, and float32 where
torch has no quantized kernels."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from dd_live.learn import critic as critic_mod, quantized
from dd_live.learn.critic import resolve_precision
from dd_live.learn.folded import Folded

pytestmark = pytest.mark.skipif(quantized.engine() is None, reason="this torch has no quantized CPU engine")


@pytest.fixture(scope="module")
def loops(kit):
    """300 random loops of the default kit (MFCCs) and the pretrained critic with a seeded output layer."""
    from dd_live.learn.features import mfcc
    from dd_live.learn.pretrain import starting_critic
    from dd_live.loops.pattern import random_arrays
    from dd_live.loops.render import render_arrays

    hits, idx = random_arrays(kit, np.random.default_rng(8), 300)
    return mfcc(torch.from_numpy(render_arrays(hits, idx, kit, bpm=120.0))), starting_critic("pretrained", seed=8)


def test_int8_is_chosen_by_name_and_every_copy_of_a_critic_quantizes_alike(loops):
    feats, critic = loops
    critic = copy.deepcopy(critic)
    critic.precision = resolve_precision("int8")
    assert critic.precision == "int8" and isinstance(critic.folded(), quantized.Quantized)
    twin = copy.deepcopy(critic)             # the trainer's and the generator's copies: ranges from the weights
    assert torch.equal(critic.embed(feats[:40]), twin.embed(feats[:40]))
    critic.precision = "fp32"
    assert type(critic.folded()) is Folded


def test_activation_ranges_that_do_not_hold_the_activations_lose_the_ranking(loops, monkeypatch):
    """The ranking test's bar (Spearman >= 0.99 against fp32) is one a miscalibrated int8 path fails: ranges a
    twentieth of the calibrated ones saturate most activations."""
    from dd_live.song.make import spearman

    feats, critic = loops
    critic = copy.deepcopy(critic)
    critic.precision = "fp32"
    ref = critic.score(feats).numpy()
    critic.precision = "int8"
    good = critic.score(feats).numpy()
    monkeypatch.setattr(quantized, "MARGIN", 0.05)
    critic.__dict__.pop("_folded_key")       # made again with the narrow ranges
    bad = critic.score(feats).numpy()
    lost = spearman(bad, ref) or 0.0        # None: every loop scored alike
    assert spearman(good, ref) >= 0.99 > lost, (spearman(good, ref), lost)


def test_without_quantized_kernels_int8_computes_in_fp32(loops, monkeypatch, caplog):
    feats, critic = loops
    critic = copy.deepcopy(critic)
    critic.precision = "fp32"
    ref = critic.score(feats[:20])

    def refuse(self, critic):
        raise RuntimeError("no quantized::conv2d here")

    monkeypatch.setattr(quantized.Quantized, "__init__", refuse)
    critic.precision = "int8"
    with caplog.at_level("WARNING"):
        assert torch.equal(critic.score(feats[:20]), ref)
    assert "int8 scoring unavailable (no quantized::conv2d here)" in caplog.text
    monkeypatch.setattr(quantized, "engine", lambda: None)
    assert resolve_precision("int8") == "fp32"
    assert critic_mod.resolve_precision("bf16") == "bf16"


def test_auto_is_bf16_where_the_cpu_has_it_else_int8_else_fp32(monkeypatch):
    monkeypatch.setattr(critic_mod, "bf16_available", lambda: True)
    assert resolve_precision("auto") == "bf16"
    monkeypatch.setattr(critic_mod, "bf16_available", lambda: False)
    assert resolve_precision("auto") == "int8"
    monkeypatch.setattr(quantized, "engine", lambda: None)
    assert resolve_precision("auto") == "fp32"
