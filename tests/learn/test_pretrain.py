"""The critic's pretrained start: sample descriptors, loop targets, pretraining, the shipped file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dd_live.learn import pretrain
from dd_live.errors import InputError
from dd_live.learn.pretrain import DESCRIPTORS, PretrainConfig, describe_sample, loop_targets, starting_critic

SR = 44100


def test_descriptors_tell_a_low_thump_from_noise(rng):
    t = np.arange(int(0.3 * SR)) / SR
    thump = np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.05)
    noise = rng.standard_normal(int(0.3 * SR)) * 0.5
    d_thump, d_noise = describe_sample(thump), describe_sample(noise)
    k = {name: i for i, name in enumerate(DESCRIPTORS)}
    assert d_thump[k["count"]] == d_noise[k["count"]] == 1.0
    assert d_thump[k["band_0_150"]] > 0.9 and d_noise[k["band_6000_up"]] > 0.6
    assert d_noise[k["flatness"]] > 0.5 > d_thump[k["flatness"]]
    assert d_thump[k["log10_duration"]] < d_noise[k["log10_duration"]]   # the thump decays, the noise does not
    assert d_noise[k["sustain"]] > 0.8 > d_thump[k["sustain"]]
    assert sum(d_thump[1:5]) == pytest.approx(1.0, abs=1e-5)
    for bad in (np.zeros(0), np.array([0.0, np.nan]), np.zeros((2, 10))):
        with pytest.raises(ValueError):
            describe_sample(bad)


def test_loop_targets_sum_the_descriptors_of_what_plays_on_each_step():
    table = np.arange(3 * len(DESCRIPTORS), dtype=np.float32).reshape(3, -1)
    hits = np.zeros((1, 4, 16), dtype=bool)
    hits[0, 0, [0, 4]] = True        # track 0 (sample 2) on steps 0 and 4
    hits[0, 1, 4] = True             # track 1 (sample 1) on step 4
    idx = np.array([[2, 1, 0, 0]])   # tracks 2 and 3 never play
    y = loop_targets(hits, idx, table).reshape(17, -1)
    assert np.array_equal(y[0], table[2]) and np.array_equal(y[4], table[2] + table[1])
    assert not y[[1, 2, 3, 5]].any()
    assert np.array_equal(y[16], table[2] + table[1])


def test_pretraining_learns_the_description_of_held_out_loops(kit):
    stages = []
    pre = pretrain.pretrain(kit, PretrainConfig(loops=768, epochs=3, seed=1, start="scratch"), threads=2,
                            progress=lambda stage, done, total: stages.append((stage, done, total)))
    losses = pre.report["holdout_loss"]
    assert len(losses) == 3 and losses[-1] < losses[0] and losses[-1] < 0.99
    assert pre.report["holdout_loss_start"] > 0.9                        # random weights know nothing yet
    assert not any(k.startswith("head.4.") for k in pre.state) and pre.probe["weight"].shape[0] == 17 * len(DESCRIPTORS)
    assert ("render", 768, 768) in stages and stages[-1][1] == stages[-1][2] and stages[-1][0].startswith("epoch 3/3")


def test_going_on_from_the_shipped_features_starts_where_they_are(make_library):
    """A kit the shipped features never heard: they already describe its loops far better than the mean does
    (with a pretext layer fitted to this kit's targets), and a short pass goes on from there."""
    lib = make_library([2000, 6000, 30000, 900, 12000, 4000, 20000, 1500], seed=3)
    shipped = pretrain.load(pretrain.shipped_path())
    pre = pretrain.pretrain(lib, PretrainConfig(loops=512, epochs=1, seed=2), threads=2)
    assert pre.report["holdout_loss_start"] < 0.9 and pre.report["holdout_loss"][-1] < 0.9
    assert torch.equal(pre.state["in_mean"], shipped.state["in_mean"])    # the shipped input standardisation
    scratch = pretrain.pretrain(lib, PretrainConfig(loops=512, epochs=1, seed=2, start="scratch"), threads=2)
    assert scratch.report["holdout_loss_start"] > 0.9
    assert pre.report["holdout_loss"][-1] < scratch.report["holdout_loss"][-1]


def test_saved_features_start_a_critic_with_a_new_seeded_output_layer(kit, tmp_path, rng):
    from dd_live.loops.pattern import random_arrays
    from dd_live.learn.sampler import Scorer

    pre = pretrain.pretrain(kit, PretrainConfig(loops=256, epochs=1), threads=2)
    path = pretrain.save(tmp_path / "pre.pt", pre)
    critic = starting_critic(path, seed=5)
    loaded = pretrain.load(path)
    assert torch.equal(critic.state_dict()["features.0.weight"], loaded.state["features.0.weight"])
    assert torch.equal(critic.in_std, loaded.state["in_std"]) and not torch.all(critic.in_std == 1)
    again, other = starting_critic(path, seed=5), starting_critic(path, seed=6)
    assert torch.equal(again.head[-2].weight, critic.head[-2].weight)
    assert not torch.equal(other.head[-2].weight, critic.head[-2].weight)
    assert torch.equal(other.head[1].weight, critic.head[1].weight)        # only the output layer is new
    hits, idx = random_arrays(kit, rng, 8)
    scores = Scorer(kit, critic)(hits, idx)
    assert np.array_equal(scores, Scorer(kit, again)(hits, idx)) and np.ptp(scores) > 0


def test_the_shipped_features_describe_loops_they_never_saw(kit):
    """The package's file really is pretrained: its pretext layer predicts fresh loops' descriptions
    far better than their mean does (1.0)."""
    from dd_live.learn.sampler import Scorer

    shipped = pretrain.load(pretrain.shipped_path())
    assert shipped.report["config"]["loops"] >= 10000 and shipped.report["holdout_loss"][-1] < 0.6
    critic = starting_critic("pretrained")
    rng = np.random.default_rng(12345)
    hits = rng.random((256, 4, 16)) < rng.uniform(0.1, 0.7, (256, 1, 1))
    idx = rng.integers(0, len(kit.samples), (256, 4))
    sc = Scorer(kit, critic, threads=2)
    feats = sc.features(sc.audio(hits, idx))
    probe = shipped.probe
    pred = critic.embed(feats) @ probe["weight"].T + probe["bias"]
    want = (torch.from_numpy(loop_targets(hits, idx, pretrain.describe_library(kit))) - probe["mean"]) / probe["std"]
    assert float(torch.nn.functional.mse_loss(pred.float(), want)) < 0.7


def test_bad_starts_are_one_line_errors(tmp_path, kit):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable pretrained critic"):
        starting_critic(tmp_path / "junk.pt")
    with pytest.raises(InputError, match="not a readable pretrained critic"):
        starting_critic(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="needs the library"):
        starting_critic("random")
    critic = starting_critic("random", library=kit, seed=1)
    assert not torch.all(critic.in_std == 1)
    other = pretrain.Pretrained({"features.0.weight": torch.zeros(3)}, {}, {})
    pretrain.save(tmp_path / "other.pt", other)
    with pytest.raises(InputError, match="do not fit this critic"):
        starting_critic(tmp_path / "other.pt")
