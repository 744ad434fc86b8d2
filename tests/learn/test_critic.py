from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from dd_live.learn.critic import Critic, Ensemble, parameter_count
from dd_live.learn.trainer import TrainConfig, Trainer


def test_parameter_count_is_the_papers():
    assert parameter_count(Critic()) == 291_290


def test_score_is_a_probability_and_batched():
    torch.manual_seed(0)
    c = Critic(precision="fp32")
    x = torch.randn(70, 60, 442) * 20
    s = c.score(x)
    assert s.shape == (70,) and bool(((s >= 0) & (s <= 1)).all())
    np.testing.assert_allclose(s[5:9].numpy(), c.score(x[5:9]).numpy(), rtol=1e-5, atol=1e-6)
    assert not c.training
    with pytest.raises(ValueError, match="expects"):
        c.score(torch.zeros(2, 60, 100))


def test_bf16_scores_close_to_fp32():
    from dd_live.learn.critic import bf16_available

    if not bf16_available():
        pytest.skip("no native bf16 on this CPU")
    torch.manual_seed(0)
    c32 = Critic(precision="fp32")
    c16 = Critic(precision="bf16")
    c16.load_state_dict(c32.state_dict())
    x = torch.randn(16, 60, 442) * 20
    assert (c32.score(x) - c16.score(x)).abs().max() < 0.02


def _toy(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, np.ndarray]:
    """Separable toy features: 'liked' items carry a rhythmic stripe pattern in the low coefficients."""
    x = rng.normal(0, 5, (n, 60, 442)).astype(np.float32)
    y = rng.random(n) < 0.5
    stripes = np.where((np.arange(442) // 20) % 2 == 0, 25.0, -25.0).astype(np.float32)
    x[y, 1:8, :] += stripes
    return torch.from_numpy(x), y


def test_training_separates_held_out_toy_data(rng):
    torch.manual_seed(0)
    critic = Critic(precision="fp32")
    trainer = Trainer(critic, TrainConfig(seed=1, noise=0.5, lr=3e-4))
    x, y = _toy(rng, 48)
    for xi, yi in zip(x, y):
        trainer.add(xi, bool(yi))
    losses = [trainer.train(batches=10) for _ in range(8)]
    assert losses[-1] < 0.5 * losses[0]
    xt, yt = _toy(rng, 40)
    s = critic.score(xt).numpy()
    assert s[yt].mean() - s[~yt].mean() > 0.4
    assert ((s > 0.5) == yt).mean() >= 0.9


def test_head_learning_fits_only_the_output_layer_and_separates_held_out_toy_data(rng):
    torch.manual_seed(0)
    critic = Critic(precision="fp32")
    before = {k: v.clone() for k, v in critic.state_dict().items()}
    trainer = Trainer(critic, TrainConfig(seed=1, learn="head"))
    assert not trainer.budgeted
    x, y = _toy(rng, 40)
    for xi, yi in zip(x, y):
        trainer.add(xi, bool(yi))
    loss = trainer.train()
    assert 0 < loss < 0.4 and trainer.rounds == 1
    after = critic.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert changed == {"head.4.weight", "head.4.bias"}          # the features are left as they were
    xt, yt = _toy(rng, 40)
    s = critic.score(xt).numpy()
    assert ((s > 0.5) == yt).mean() >= 0.9
    weights = critic.output().weight.clone()
    trainer.train()                                             # the same ratings: the same fit
    assert torch.equal(critic.output().weight, weights)
    trainer.remove(0)                                           # cached embeddings follow removals and relabels
    trainer.relabel(0, not bool(y[1]))
    trainer.train()
    fresh = Trainer(copy.deepcopy(critic), TrainConfig(learn="head"))
    for k in range(1, len(y)):
        fresh.add(x[k], bool(y[k]) if k > 1 else not bool(y[1]))
    fresh.train()
    torch.testing.assert_close(fresh.critic.output().weight, critic.output().weight)


def test_head_learning_from_dislikes_alone_pushes_down_what_they_share(rng):
    """Only dislikes, of loops that share something (the toy's stripes) the reference loops mostly lack: the
    critic scores loops like them below the rest, and below the base like rate; with only likes, above it.
    (Standardised over the rated loops alone, or with a free bias, dislikes alone would teach nothing.)"""
    from dd_live.learn.trainer import BASE_RATE

    x, y = _toy(rng, 80)
    striped, plain = x[torch.from_numpy(y)], x[torch.from_numpy(~y)]
    reference = plain[:30]                                  # loops as the policy draws them: mostly no stripes
    for label in (False, True):
        torch.manual_seed(0)
        t = Trainer(Critic(precision="fp32"), TrainConfig(learn="head"))
        t.set_reference([reference])
        for xi in striped[:6]:
            t.add(xi, label)
        t.train()
        like_them, others = t.critic.score(striped[6:]).numpy(), t.critic.score(plain[30:]).numpy()
        if label:
            assert like_them.mean() > max(others.mean(), BASE_RATE) + 0.1
        else:
            assert like_them.mean() < min(others.mean(), BASE_RATE) - 0.1


def test_learn_setting_resolves_and_is_checked():
    from dd_live.learn.trainset import resolve_learn

    assert resolve_learn("auto", "random") == "budget"
    assert resolve_learn("auto", "pretrained") == "head" and resolve_learn("auto", "/x/pre.pt") == "head"
    assert resolve_learn("budget", "pretrained") == "budget"
    with pytest.raises(ValueError, match="learn must be"):
        resolve_learn("sgd", "random")
    with pytest.raises(ValueError, match="learn must be"):
        TrainConfig(learn="auto")


def test_training_is_deterministic(rng):
    x, y = _toy(rng, 12)
    outs = []
    for _ in range(2):
        torch.manual_seed(3)
        c = Critic(precision="fp32")
        t = Trainer(c, TrainConfig(seed=5))
        for xi, yi in zip(x, y):
            t.add(xi, bool(yi))
        t.train(batches=4)
        outs.append(c.score(x))
    assert torch.equal(outs[0], outs[1])


def test_checkpoint_round_trip_gives_identical_scores(rng, tmp_path):
    x, y = _toy(rng, 10)
    torch.manual_seed(4)
    c = Critic()
    t = Trainer(c, TrainConfig(seed=2))
    for xi, yi in zip(x, y):
        t.add(xi, bool(yi))
    t.train(batches=3)
    path = t.save(tmp_path / "critic.pt")
    torch.manual_seed(99)
    c2 = Critic()
    t2 = Trainer(c2)
    t2.load(path)
    assert torch.equal(c.score(x), c2.score(x))
    assert torch.equal(t.initial_critic().score(x), t2.initial_critic().score(x))
    assert t2.rounds == 1 and t2.config == t.config
    # both go on training the same way: the optimiser state came along
    for xi, yi in zip(x, y):
        t2.add(xi, bool(yi))
    t.train(batches=2)
    t2.train(batches=2)
    assert torch.allclose(c.score(x), c2.score(x), atol=1e-6)


def test_checkpoint_keeps_how_the_critic_learns(rng, tmp_path):
    x, y = _toy(rng, 6)
    t = Trainer(Critic(), TrainConfig(learn="head", head_l2=1.5))
    for xi, yi in zip(x, y):
        t.add(xi, bool(yi))
    t.train()
    t2 = Trainer(Critic())
    t2.load(t.save(tmp_path / "critic.pt"))
    assert t2.config.learn == "head" and t2.config.head_l2 == 1.5
    assert torch.equal(t.critic.score(x), t2.critic.score(x))


def test_bad_checkpoint_is_a_clear_error(tmp_path):
    from dd_live.errors import InputError

    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable critic checkpoint"):
        Trainer(Critic()).load(bad)


def test_balanced_batches_and_one_class(rng):
    t = Trainer(Critic(precision="fp32"), TrainConfig(seed=0, gain_db=0, shift_frames=0, noise=0))
    x, _ = _toy(rng, 6)
    for k, xi in enumerate(x):
        t.add(xi, k == 0)  # one like, five dislikes
    gen = torch.Generator().manual_seed(0)
    _, labels = t._batch(gen)
    assert int(labels.sum()) == 8 and labels.numel() == 16
    t2 = Trainer(Critic(precision="fp32"))
    t2.add(x[0], True)
    assert t2.train(batches=1) >= 0


def test_gain_augmentation_is_exact_in_mfcc_domain(rng):
    """A gain of g dB on the audio adds g * sqrt(128) to MFCC 0 and nothing else."""
    from dd_live.learn.features import mfcc

    audio = torch.tensor(rng.standard_normal((1, 20000)) * np.exp(-np.arange(20000) / 4000), dtype=torch.float32)
    a, b = mfcc(audio), mfcc(audio * 10 ** (3 / 20))
    np.testing.assert_allclose((b - a)[0, 0].numpy(), 3 * np.sqrt(128), rtol=1e-3)
    assert (b - a)[0, 1:].abs().max() < 1e-2


def test_ensemble_is_the_mean():
    torch.manual_seed(0)
    a, b = Critic(precision="fp32"), Critic(precision="fp32")
    x = torch.randn(4, 60, 442)
    np.testing.assert_allclose(Ensemble([a, b]).score(x).numpy(), ((a.score(x) + b.score(x)) / 2).numpy(), rtol=1e-6)


def test_keep_freed_memory_stops_page_faults_when_scoring():
    # Counted in page faults, not time: MFCC + critic on 16 bars (the daemon's batch), the fewest faults of 7
    # single rounds after 5 warm-up rounds: the steady state (two CI runs counted 1,773 and 1,732 over 5 rounds
    # together, against 0 here quiet or loaded: something else on the machine, not reproduced). 16 bars, not
    # 64: in float32 (CPUs without native bf16) 64 bars need blocks over glibc's 32 MB limit for this setting,
    # which are mapped afresh whatever it says. One torch thread: with two, a busy machine moves them over
    # glibc's per-thread arenas, each faulting its blocks in once.
    code = """
import resource, sys, torch
from dd_live.learn.critic import Critic, keep_freed_memory
from dd_live.learn.features import MFCC
torch.set_num_threads(1)
ok = keep_freed_memory() if sys.argv[1] == "keep" else True
critic, mfcc, x = Critic(), MFCC(), torch.randn(16, 88200) * 0.1
for _ in range(5):
    critic.score(mfcc(x))
rounds = []
for _ in range(7):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    critic.score(mfcc(x))
    rounds.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(ok, min(rounds))
"""
    import platform
    import subprocess
    import sys

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    got = {}
    for mode in ("keep", "default"):
        r = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True)
        ok, faults = r.stdout.split()
        assert ok == "True"
        got[mode] = int(faults)
    # after warm-up the kept blocks serve every call (0 faults, busy machine or not, measured 12 times); glibc's
    # defaults mostly fault the activations in afresh on every call (1,700-2,900 here), though its dynamic
    # threshold sometimes keeps them too (0 in one CI run): the setting must never be worse, and near nothing
    assert got["keep"] <= 50 and got["keep"] * 20 <= max(got["default"], 50), got
