"""What keeps the daemon light: a head fit without torch's optimisers (whose first use imports torch's compiler
stack), Adam made only for the paper's budget and kept across checkpoints, one set of MFCC work buffers a
thread, and freed heap memory given back when a worker rests."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from dd_live.learn.policy import fit_logistic


def test_newtons_fit_is_the_minimum_of_the_head_objective(rng):
    x = torch.from_numpy(rng.normal(size=(60, 12))).float()
    y = (torch.from_numpy(rng.random(60)) < torch.sigmoid(x[:, 0] - x[:, 3]).double()).float()
    l2, pull, b0 = 0.05, 2 / 60, float(np.log(0.5))
    w, b = fit_logistic(x, y, l2=l2, pull=pull, b0=b0)
    wv, bv = w.clone().requires_grad_(True), b.reshape(1).clone().requires_grad_(True)
    loss = (torch.nn.functional.binary_cross_entropy_with_logits(x @ wv + bv, y) + l2 * (wv * wv).sum()
            + pull * ((bv - b0) ** 2).sum())
    loss.backward()
    assert float(wv.grad.abs().max()) < 1e-5 and float(bv.grad.abs().max()) < 1e-5   # a stationary point
    assert w[0] > 0.3 and w[3] < -0.3                                                    # ... of the right kind
    only_dislikes = fit_logistic(x, torch.zeros(60), l2=l2, pull=pull, b0=b0)[1]
    assert float(only_dislikes) < b0                                                     # the bias follows


def test_a_head_learning_daemon_part_never_imports_torchs_compiler_stack(tmp_path):
    code = """
import sys, torch
from dd_live.learn.critic import Critic
from dd_live.learn.trainer import Trainer, TrainConfig
t = Trainer(Critic(precision="fp32"), TrainConfig(learn="head"))
for k in range(6):
    t.add(torch.randn(60, 442), k % 2 == 0)
t.train()
t.save(sys.argv[1])
t2 = Trainer(Critic(precision="fp32"), TrainConfig(learn="head"))
t2.load(sys.argv[1])
print(sorted(m for m in ("torch._dynamo", "sympy", "torch._inductor") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c.pt")], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_budgets_adam_is_made_when_needed_and_kept_by_a_checkpoint(tmp_path):
    from dd_live.learn.critic import Critic
    from dd_live.learn.trainer import TrainConfig, Trainer

    t = Trainer(Critic(precision="fp32"), TrainConfig(learn="budget", batches=2, seed=1))
    assert t._optimizer is None
    for k in range(4):
        t.add(torch.randn(60, 442), k % 2 == 0)
    t.train()
    steps = [s["step"] for s in t.optimizer.state_dict()["state"].values()]
    assert steps and all(float(s) == 2 for s in steps)
    t.save(tmp_path / "b.pt")
    t2 = Trainer(Critic(precision="fp32"), TrainConfig(learn="budget"))
    t2.load(tmp_path / "b.pt")
    assert [float(s["step"]) for s in t2.optimizer.state_dict()["state"].values()] == [float(s) for s in steps]
    snap = t2.snapshot()
    t2.reset()
    assert t2._optimizer is None
    t2.restore(snap)
    assert len(t2.optimizer.state_dict()["state"]) == len(steps)


def test_mfcc_keeps_one_set_of_work_buffers_for_one_caller_and_any_chunk_gives_the_same():
    from dd_live.learn import features
    from dd_live.learn.features import CHUNK, MFCC

    features.SPARES.clear()
    m = MFCC()
    x = torch.randn(CHUNK + 3, 88200)
    whole = m(x)
    parts = torch.cat([m(x[i:i + 1]) for i in range(x.shape[0])])
    assert torch.equal(whole, parts) and torch.equal(m(x[:3]), whole[:3])
    assert len(features.SPARES) == 1
    work = features.SPARES.take(lambda w: True, dict)
    features.SPARES.give(work)
    assert work["frames"].shape[0] == CHUNK and set(work) == {"samples", "edges", "frames", "mel"}
    m(torch.randn(2, 44100))                     # another length: its set replaces this one
    assert len(features.SPARES) == 1 and features.SPARES.take(lambda w: True, dict)["samples"] == 44100


def test_freed_heap_memory_goes_back_to_the_system_when_a_worker_rests():
    from dd_live.learn.critic import _libc, keep_freed_memory, release_memory

    if _libc() is None:
        pytest.skip("not glibc")
    keep_freed_memory()

    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            return int(f.read().split("VmRSS:")[1].split()[0]) / 1024

    blocks = [np.ones(1 << 17) for _ in range(200)]    # 200 x 1 MB from the heap (under both thresholds)
    held = rss_mb()
    del blocks
    kept = rss_mb()
    assert release_memory()
    assert held - kept < 50 and kept - rss_mb() > 150    # kept while freed, given back by the trim


def test_a_head_trainer_keeps_embeddings_not_mfccs_and_makes_them_again_only_for_other_features(tmp_path):
    """With learn="head" a rated loop the trainer can make again keeps its embedding (512 bytes) and lets its
    MFCCs (106 KB) go, so memory stays flat over thousands of ratings; the fit is the one a trainer holding every
    MFCC makes. New features (a checkpoint of other weights) make them again; a snapshot or reset of the same
    features does not; a budget of training (every weight learns) keeps them all."""
    from dd_live.learn.critic import Critic
    from dd_live.learn.trainer import TrainConfig, Trainer

    g = torch.Generator().manual_seed(5)
    feats = torch.randn(70, 60, 442, generator=g)
    likes = [bool(k % 3 == 0) for k in range(70)]
    made: list[int] = []

    def remake(keys):
        made.extend(keys)
        return feats[keys]

    def trainer(critic, *, keyed=True, given=True, learn="head"):
        t = Trainer(critic, TrainConfig(learn=learn, batches=1))
        t.remake = remake if keyed else None
        for k, (f, like) in enumerate(zip(feats, likes)):
            t.add(f if given else None, like, key=k if keyed else None)
        return t

    def head(t):
        return t.critic.output().weight.detach().clone()

    torch.manual_seed(0)
    lean = trainer(Critic(precision="fp32"))
    torch.manual_seed(0)
    full = trainer(Critic(precision="fp32"), keyed=False)
    lean.train()
    full.train()
    assert lean.held_features == 0 and full.held_features == 70 and made == []
    assert torch.allclose(head(lean), head(full), atol=1e-6)

    snap = lean.snapshot()
    lean.reset()
    lean.restore(snap)
    lean.train()
    assert made == []                                          # the same features: the embeddings stand

    torch.manual_seed(1)
    other = Trainer(Critic(precision="fp32"), TrainConfig(learn="head"))
    other.save(tmp_path / "other.pt")
    lean.load(tmp_path / "other.pt")
    lean.train()
    assert sorted(made) == list(range(70)) and lean.held_features == 0   # made again, once each, let go again
    torch.manual_seed(1)
    fresh = trainer(Critic(precision="fp32"), keyed=False)
    fresh.train()
    assert torch.allclose(head(lean), head(fresh), atol=1e-6)

    made.clear()
    torch.manual_seed(0)
    lazy = trainer(Critic(precision="fp32"), given=False, learn="budget")
    assert lazy.held_features == 0 and lazy.pending == 70
    lazy.train()
    assert lazy.held_features == 70 and sorted(made) == list(range(70))
    with pytest.raises(ValueError, match="key"):
        trainer(Critic(precision="fp32"), keyed=False, given=False)
