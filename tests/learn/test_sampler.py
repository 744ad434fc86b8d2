from __future__ import annotations

import numpy as np
import torch

from dd_live.learn.critic import Critic
from dd_live.loops.pattern import Constraints
from dd_live.learn.sampler import Chains, Scorer


class FakeScorer:
    """A known density over (hits, sample indices), for testing the chains alone."""

    def __init__(self, f):
        self.f = f

    def __call__(self, hits, idx):
        return np.array([self.f(h, i) for h, i in zip(hits, idx)], dtype=np.float64)


def _state_id(h: np.ndarray, i: np.ndarray) -> int:
    return int(h[0, 0]) + 2 * int(h[0, 1]) + 4 * int(i[0])


def test_explore_visits_states_in_proportion_to_f(rng, make_library):
    """1 track x 2 steps x 3 samples = 12 states; many short independent chains vs f normalised."""
    lib = make_library([100, 200, 300], ["kick", "snare", "perc"])
    weights = rng.uniform(0.05, 1.0, 12)
    scorer = FakeScorer(lambda h, i: weights[_state_id(h, i)])
    chains = Chains(lib, scorer, n=3000, rng=rng, tracks=1, steps=2, beats=1)
    chains.run(150)
    counts = np.bincount([_state_id(h, i) for h, i in zip(chains.hits, chains.idx)], minlength=12)
    expected = weights / weights.sum() * chains.n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 31.3, (chi2, counts, expected.round())  # df = 11, p = 0.001
    # and it is not the uniform distribution (the test would notice a sampler that ignores f)
    uniform = np.full(12, chains.n / 12)
    assert float(((counts - uniform) ** 2 / uniform).sum()) > 100


def test_explore_with_feel_visits_swing_in_proportion_to_f_and_keeps_locked_feel(rng, make_library):
    """f depends on the swing alone: under symmetric proposals the chains' swing is distributed as f."""
    from dd_live.groove.genes import SWINGS, flat

    lib = make_library([100, 200, 300], ["kick", "snare", "perc"])
    weights = np.array([0.1, 0.3, 0.2, 0.9, 0.5])

    class SwingScorer:
        def __call__(self, hits, idx, genes=None):
            return weights[genes.swing.astype(int)].astype(np.float64)

    template = flat(1, 2, 4)
    template.vel[0, 1] = 3
    template.push[0, 1] = 7
    chains = Chains(lib, SwingScorer(), n=3000, rng=rng, tracks=2, steps=4, beats=1, feel=True)
    chains.constrain(Constraints(lock_row=(False, True)), (np.zeros((2, 4), bool), np.zeros(2, int)), template)
    chains.run(200)
    counts = np.bincount(chains.genes.swing, minlength=SWINGS.size)
    expected = weights / weights.sum() * chains.n
    assert float(((counts - expected) ** 2 / expected).sum()) < 18.5  # df = 4, p = 0.001
    assert (chains.genes.vel[:, 1] == 3).all() and (chains.genes.push[:, 1] == 7).all()
    assert len(set(map(bytes, chains.genes.vel[:, 0]))) > 50     # the free track's accents move
    found = chains.pick()
    assert found.genes is not None and len(found.genes) == 1


def test_temperature_sharpens(rng, make_library):
    lib = make_library([100, 200, 300], ["kick", "snare", "perc"])
    scorer = FakeScorer(lambda h, i: 0.9 if (h[0].all() and i[0] == 2) else 0.1)
    hot = Chains(lib, scorer, n=2000, rng=rng, tracks=1, steps=2, beats=1, temperature=1.0)
    cold = Chains(lib, scorer, n=2000, rng=rng, tracks=1, steps=2, beats=1, temperature=0.25)
    hot.run(150)
    cold.run(150)
    assert (cold.scores == 0.9).mean() > (hot.scores == 0.9).mean() + 0.2


def easy(h, i):
    """An easy critic: the more of steps 0, 4, 8, 12 play on track 0, the better."""
    return 0.02 + 0.96 * h[0, ::4].mean() ** 2


def test_best_reaches_threshold_on_an_easy_critic(rng, make_library):
    lib = make_library([100, 200, 300, 400, 500])
    chains = Chains(lib, FakeScorer(easy), n=16, rng=rng)
    found = chains.best(threshold=0.95, max_steps=400)
    assert found.reached and found.score >= 0.95
    assert found.hits[0, ::4].all()
    again = chains.best(threshold=0.95, max_steps=400, exclude=[found.chain])
    assert again.reached and again.chain != found.chain


def test_best_is_bounded_and_says_so(rng, make_library):
    lib = make_library([100, 200, 300, 400, 500])
    scorer = FakeScorer(lambda h, i: 0.5 + 0.1 * h.mean())
    chains = Chains(lib, scorer, n=8, rng=rng)
    start_best = chains.scores.max()
    found = chains.best(threshold=0.95, max_steps=5)
    assert not found.reached
    assert found.score >= max(start_best, chains.scores.max())  # the best state seen, first or last
    assert found.score <= 0.6 and scorer.f(found.hits, found.idx) == found.score
    assert chains.proposed == 5 * 8
    # with patience, a critic that cannot improve stops the search early
    flat = Chains(lib, FakeScorer(lambda h, i: 0.5), n=8, rng=rng)
    found = flat.best(threshold=0.95, max_steps=50, patience=2)
    assert not found.reached and flat.proposed == 3 * 8


def test_a_colder_best_search_climbs_further_and_leaves_the_chains_temperature(rng, make_library):
    """A critic that never reaches 0.95 (scores 0.05-0.6): the bounded search at temperature 0.1 ends
    higher than at 1 from the same start, and the chains keep their own temperature."""
    import copy

    import pytest

    lib = make_library([100, 200, 300, 400, 500])
    scorer = FakeScorer(lambda h, i: 0.05 + 0.55 * h[:, ::2].mean() ** 3)
    warm = Chains(lib, scorer, n=8, rng=np.random.default_rng(1), temperature=1.0)
    cold = copy.deepcopy(warm)
    hot = warm.best(threshold=0.95, max_steps=150).score
    colder = cold.best(threshold=0.95, max_steps=150, temperature=0.1).score
    assert colder > hot + 0.05 and cold.temperature == 1.0
    with pytest.raises(ValueError, match="positive"):
        cold.best(temperature=0.0)


def test_worst_hill_climbs_down(rng, make_library):
    lib = make_library([100, 200, 300, 400, 500])
    chains = Chains(lib, FakeScorer(easy), n=16, rng=rng)
    before = chains.scores.copy()
    found = chains.worst(steps=100)
    assert (chains.scores <= before).all()
    assert found.score < 0.1


def test_constraints_hold_along_the_chain(rng, make_library):
    lib = make_library([100, 200, 300, 400, 500, 600])
    c = Constraints(fotf=True, lock_sample=(False, True), lock_row=(False, False, True))
    chains = Chains(lib, FakeScorer(lambda h, i: 0.5), n=32, rng=rng, constraints=c)
    start_idx1 = chains.idx[:, 1].copy()
    start_row2 = chains.hits[:, 2].copy()
    chains.run(60)
    assert chains.hits[:, 0, ::4].all()
    assert set(lib.categories[chains.idx[:, 0]]) == {"kick"}
    assert (chains.idx[:, 1] == start_idx1).all()
    assert (chains.hits[:, 2] == start_row2).all()
    assert chains.accepted > 0


def test_chains_persist_across_critic_changes(rng, make_library):
    lib = make_library([100, 200, 300, 400, 500])
    scorer = FakeScorer(easy)
    chains = Chains(lib, scorer, n=8, rng=rng)
    chains.run(20)
    hits = chains.hits.copy()
    scorer.f = lambda h, i: 0.3
    chains.rescore()
    assert (chains.scores == 0.3).all() and (chains.hits == hits).all()


def test_real_scorer_with_critic_and_ensemble(small_lib, rng):
    torch.manual_seed(0)
    a, b = Critic(), Critic()
    single = Scorer(small_lib, a)
    chains = Chains(small_lib, single, n=4, rng=rng)
    chains.run(2)
    assert chains.scores.shape == (4,) and ((chains.scores > 0) & (chains.scores < 1)).all()
    ens = Scorer(small_lib, [a, b])
    f = ens(chains.hits, chains.idx)
    fa = single(chains.hits, chains.idx)
    single.set_critics(b)
    fb = single(chains.hits, chains.idx)
    np.testing.assert_allclose(f, (fa + fb) / 2, rtol=1e-5)


def test_best_search_never_takes_a_chain_again_within_half_the_chains(rng, make_library):
    from dd_live.learn.sampler import BEST_MAX_STEPS, BestSearch

    lib = make_library([100, 200, 300, 400, 500])
    chains = Chains(lib, FakeScorer(easy), n=8, rng=rng)
    search = BestSearch(chains)
    picked = [search.next().chain for _ in range(24)]
    for k in range(len(picked)):
        assert picked[k] not in picked[max(0, k - 3):k], picked   # the 3 before it (n // 2 - 1 = 3)
    assert search.max_steps == BEST_MAX_STEPS and len(search.used) == 4


def test_a_large_batch_is_scored_in_whole_parts_on_the_work_threads(small_lib, rng, monkeypatch):
    """threads=2, 64 loops: two parts of 32, each rendered, analysed and scored on a work thread that computes
    with one torch thread, PART_ROWS at a time in a slot of the buffer of its own (the buffer holds 2 x PART_ROWS
    bars, not 64); the caller's own torch threads stay as they were, and every loop's score and embedding are
    what one thread computing the whole batch gives."""
    import threading

    from dd_live.groove import genes as feel_genes
    from dd_live.learn import sampler
    from dd_live.loops.pattern import random_arrays

    torch.manual_seed(3)
    critic = Critic(precision="fp32")
    hits, idx = random_arrays(small_lib, rng, 64)[:2]
    genes = feel_genes.prior(rng, 64, hits.shape[1], hits.shape[2])
    whole = Scorer(small_lib, critic, threads=1)
    split = Scorer(small_lib, critic, threads=2)
    seen = []
    real = sampler.Scorer._score_part

    def spy(self, h, i, g, slot, threads):
        seen.append((threading.current_thread().name, torch.get_num_threads(), slot, h.shape[0], threads))
        return real(self, h, i, g, slot, threads)

    monkeypatch.setattr(sampler.Scorer, "_score_part", spy)
    before = torch.get_num_threads()
    for g in (None, genes):
        np.testing.assert_allclose(split(hits, idx, g), whole(hits, idx, g), rtol=1e-5, atol=1e-6)
    by_split = [s for s in seen if s[4] == 1 and s[0].startswith("dd-work")]
    assert sorted((slot, n) for _, _, slot, n, _ in by_split) == [(0, 32), (0, 32), (1, 32), (1, 32)]
    assert split._buffer.shape[0] == 2 * sampler.PART_ROWS
    assert {t for _, t, *_ in by_split} == {1} and torch.get_num_threads() == before
    assert torch.allclose(split.embed(hits, idx, genes), whole.embed(hits, idx, genes), atol=1e-5)
    seen.clear()
    split(hits[:12], idx[:12])                       # under two parts of PART_MIN: on the caller's thread
    assert [s[0] for s in seen] == [threading.current_thread().name]


def test_several_threads_score_with_one_critic_that_is_training(small_lib, rng):
    """Scoring switches no module mode: a critic in training mode scored from two threads at once gives eval
    mode's scores, stays in training mode, and its batch-norm statistics are untouched."""
    from concurrent.futures import ThreadPoolExecutor

    from dd_live.learn.features import mfcc
    from dd_live.loops.pattern import random_arrays

    torch.manual_seed(4)
    critic = Critic(precision="fp32")
    feats = mfcc(torch.from_numpy(Scorer(small_lib, critic).audio(*random_arrays(small_lib, rng, 8)[:2]).copy()))
    critic.eval()
    want = critic.score(feats)
    critic.train()
    stats = [b.clone() for b in critic.buffers()]
    switched = []
    critic.train = lambda mode=True: switched.append(mode)     # any switch, however brief, would be a race
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda _: (critic.score(feats), critic.embed(feats))[0], range(16)))
    assert not switched and critic.training and all(torch.equal(a, b) for a, b in zip(stats, critic.buffers()))
    assert all(torch.allclose(g, want, atol=1e-6) for g in got)


def test_a_scorer_used_on_the_work_threads_themselves_never_waits_on_them(small_lib, rng):
    """Both work threads busy, each scoring a batch that would go in parts: each scores it all itself (waiting on
    parts queued behind it would never end), with the same scores."""
    from dd_live.loops.pattern import random_arrays
    from dd_live.loops.render import render_arrays, work_pool

    torch.manual_seed(5)
    critic = Critic(precision="fp32")
    hits, idx = random_arrays(small_lib, rng, 64)[:2]
    want = Scorer(small_lib, critic, threads=1)(hits, idx)
    scorers = [Scorer(small_lib, critic, threads=2) for _ in range(2)]
    jobs = [work_pool(2).submit(lambda s: (s(hits, idx), render_arrays(hits, idx, small_lib, threads=2)), s)
            for s in scorers]
    for job in jobs:
        got, audio = job.result(timeout=60)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert audio.shape[0] == 64
