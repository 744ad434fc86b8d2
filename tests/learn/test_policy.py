"""The lean policy: the head's Laplace posterior, the loop pool and Thompson sampling over it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dd_live.learn.critic import Critic
from dd_live.learn.policy import PoolSearch, head_of, set_head
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


def _pool(lib, *, start: int = 48, seed: int = 0, critic=None, prime: bool = True, **kw):
    from dd_live.learn.pool import LoopPool
    from dd_live.learn.sampler import Scorer

    critic = critic if critic is not None else Critic().eval()
    pool = LoopPool(lib, Scorer(lib, critic), rng=np.random.default_rng(seed), start=start, **kw)
    if prime:
        pool.prime()
    return pool, critic


def _liking_density(critic, pool) -> None:
    """Give ``critic`` an output layer that likes what the embedding says about busy grids (a least-squares
    direction), so that the pool's loops have clearly different scores."""
    x = torch.cat([pool.emb, torch.ones(len(pool), 1)], 1)
    target = torch.from_numpy(pool.hits.mean(axis=(1, 2)).astype(np.float32) * 8 - 3)
    sol = torch.linalg.lstsq(x, target[:, None]).solution[:, 0]
    set_head(critic, sol[:-1], sol[-1])


def test_best_mode_serves_the_pools_best_loop_once(small_lib):
    pool, critic = _pool(small_lib)
    _liking_density(critic, pool)
    search = PoolSearch(pool, seed=1, novelty=0)
    w, b = head_of(critic)
    before = pool.logits(w, b).max()
    n0 = len(pool)
    found = search.next(critic, draw=False)
    assert len(pool) > n0                                     # mutations of the best loops joined the pool
    assert int(np.argmax(pool.logits(w, b))) == found.chain and pool.logits(w, b).max() >= before
    assert found.score == pytest.approx(float(torch.sigmoid(torch.tensor(pool.logits(w, b).max()))), rel=1e-5)
    np.testing.assert_array_equal(found.hits, pool.hits[found.chain])
    keys = {pool.key(found.hits, found.idx)}
    for _ in range(20):                                        # never the same loop twice
        f = search.next(critic, draw=False)
        assert pool.key(f.hits, f.idx) not in keys
        keys.add(pool.key(f.hits, f.idx))


def test_thompson_draws_differ_and_a_zero_spread_is_best_mode(small_lib):
    trainer = _fitted(24)
    critic = trainer.critic
    picks = {}
    for scale, draw in ((0.0, True), (None, False), (1.0, True)):
        pool, _ = _pool(small_lib, critic=critic)
        search = PoolSearch(pool, seed=3, scale=scale if scale is not None else 1.0)
        picks[(scale, draw)] = [pool.key(f.hits, f.idx) for f in (search.next(critic, draw=draw) for _ in range(4))]
    assert picks[(0.0, True)] == picks[(None, False)]          # no spread: the critic's own best loops
    assert picks[(1.0, True)] != picks[(None, False)]          # draws: other loops
    post = critic.head_posterior
    g = torch.Generator().manual_seed(0)
    w0, _ = post.draw(g, scale=0.0)
    np.testing.assert_allclose(w0.numpy(), post.raw(post.theta)[0].numpy(), rtol=1e-6)


def test_a_flat_critic_serves_new_random_loops_at_the_performers_density(small_lib):
    pool, critic = _pool(small_lib, start=8, density=0.25, prime=False)
    set_head(critic, torch.zeros(critic.output().in_features), 0.0)
    search = PoolSearch(pool, seed=2)
    picks = [search.next(critic, draw=True) for _ in range(40)]
    assert [f.chain for f in picks] == list(range(40)) and len(pool) == 40   # each a new loop, no prior loops
    assert np.mean([f.hits.mean() for f in picks]) == pytest.approx(0.25, abs=0.03)
    assert all(f.score == pytest.approx(0.5) for f in picks)


def test_served_loops_stay_novel_and_the_pool_grows_when_it_runs_out(small_lib):
    import copy

    pool, critic = _pool(small_lib, start=6)
    _liking_density(critic, pool)
    w, b = head_of(critic)
    best = int(np.argmax(pool.logits(w, b)))
    rests = np.argwhere(~pool.hits[best])[:12]
    near = np.repeat(pool.hits[best][None], len(rests), 0)
    near[np.arange(len(rests)), rests[:, 0], rests[:, 1]] = True       # the best loop and one more hit each
    pool.add(near, np.repeat(pool.idx[best][None], len(rests), 0))
    control = copy.deepcopy(pool)
    plain = [PoolSearch(control, seed=4, top=0, per=0, recent=5, novelty=0, set_share=1.0).next(critic, draw=False)
             for _ in range(4)]
    assert min((f.hits != g.hits).sum() for f, g in zip(plain, plain[1:])) <= 2   # without the rule: near-repeats
    search = PoolSearch(pool, seed=4, top=0, per=0, recent=5, novelty=6, set_share=1.0)
    served = [search.next(critic, draw=False) for _ in range(30)]  # more than the pool's loops
    assert len({pool.key(f.hits, f.idx) for f in served}) == 30
    for i, f in enumerate(served):
        for g in served[max(0, i - 5): i]:
            assert (f.hits != g.hits).sum() >= 6


def test_the_pool_keeps_constraints_dedupes_and_remembers_what_was_served(kit):
    from dd_live.loops.pattern import Constraints

    locks = (False, True, False, False)
    template = (np.tile([True, False], (4, 8)), np.array([0, 5, 9, 12]))
    pool, critic = _pool(kit, start=32, constraints=Constraints(fotf=True, lock_sample=locks, lock_row=locks),
                         template=template)
    pool.mutate(np.arange(32))
    kicks = kit.in_category("kick")
    assert pool.hits[:, 0, ::4].all() and np.isin(pool.idx[:, 0], kicks).all()
    assert (pool.hits[:, 1] == template[0][1]).all() and (pool.idx[:, 1] == 5).all()
    n = len(pool)
    assert pool.add(pool.hits[:3].copy(), pool.idx[:3].copy()).size == 0 and len(pool) == n
    pool.serve(0, remember=4)
    first = (pool.hits[0].copy(), pool.idx[0].copy())
    pool.reset(Constraints())
    assert len(pool) == 0
    pool.prime()
    pool.prime()                                                       # once per reset
    assert len(pool) == 32 and not pool.served.any()
    assert pool.add(first[0][None], first[1][None]).size == 1 and pool.served[-1]  # served before the reset
    pool.capacity = 20
    order = pool.trim(np.arange(len(pool), dtype=float), keep={0})
    assert len(pool) == 11 and order[0] == 0 and pool.served[-1]   # the best half, and what was kept


def test_novel_counts_differing_cells(small_lib):
    pool, _ = _pool(small_lib, start=4)
    pool.hits[:] = False
    pool.hits[1, 0, :3] = True
    pool.hits[2, 0, :5] = True
    pool.recent = [np.zeros(pool.hits[0].size, dtype=bool)]
    np.testing.assert_array_equal(pool.novel(4), [False, False, True, False])
    np.testing.assert_array_equal(pool.novel(3), [False, True, True, False])
    np.testing.assert_array_equal(pool.novel(3, np.array([2, 3])), [True, False])


def test_protocol_phase1_can_lean(kit):
    from dd_live.lab.evaluate import run_protocol

    rep = run_protocol(lambda c: bool(c.pattern.hits[:, :4].sum() % 2), ratings=4, per_model=1, seed=1,
                       library=kit, chains=4, best_steps=2, policy="lean")
    assert rep["policy"] == "lean" and len(rep["phase1_likes"]) == 4
    with pytest.raises(ValueError, match="policy"):
        run_protocol(lambda c: True, ratings=1, per_model=1, library=kit, policy="greedy")


def test_a_new_session_leans_on_the_drum_prior_and_a_disliked_lineage_gives_way():
    """The lineage choice: with nothing rated the prior's loops about seven times in eight; after the prior's
    loops were disliked again and again and the free ones liked, mostly free ones."""
    from dd_live.learn.policy import choose_lineage

    rng = np.random.default_rng(0)
    new = np.mean([choose_lineage(rng) for _ in range(4000)])
    assert 0.08 < new < 0.25
    hated = np.mean([choose_lineage(rng, {False: (1, 14), True: (4, 3)}) for _ in range(4000)])
    assert hated > 0.9
    loved = np.mean([choose_lineage(rng, {False: (12, 3), True: (1, 6)}) for _ in range(4000)])
    assert loved < 0.02


def test_the_prior_lineage_mutates_as_a_drummer_and_the_free_one_as_deepdrummer(kit):
    from dd_live.learn.pool import LoopPool
    from dd_live.learn.sampler import Scorer
    from dd_live.loops.prior import KEEP_ROLES, layout, load_prior

    pool = LoopPool(kit, Scorer(kit, Critic().eval()), rng=np.random.default_rng(3), start=200,
                    prior=load_prior())
    pool.prime()
    assert 0.65 < (~pool.free).mean() < 0.95
    ours, theirs = np.flatnonzero(~pool.free), np.flatnonzero(pool.free)
    for _ in range(6):                                  # six generations of each lineage
        ours = pool.mutate(np.repeat(ours[:20], 2))
        theirs = pool.mutate(np.repeat(theirs[:20], 2))
    assert not pool.free[ours].any() and pool.free[theirs].all()
    roles = layout(4)
    for t, role in enumerate(roles):
        members = kit.role_pools[role][0]
        assert np.isin(pool.idx[ours, t], members).all()          # sounds stay in their roles
        if role in KEEP_ROLES:
            assert pool.hits[ours, t].any(axis=1).all()           # kick, snare and hats keep playing
    kicks = kit.role_pools["low"][0]
    assert np.isin(pool.idx[theirs, 0], kicks).mean() < 0.6      # DeepDrummer's draw any sound anywhere


def test_sounds_stay_varied(kit):
    """No set of sounds in more than a fifth of the last 40 loops, no loop all of one category (unless locked)."""
    from dd_live.learn.pool import LoopPool
    from dd_live.learn.sampler import Scorer
    from dd_live.loops.pattern import Constraints

    pool = LoopPool(kit, Scorer(kit, Critic().eval()), rng=np.random.default_rng(4), start=64)
    pool.prime()
    kicks = kit.in_category("kick")[:4]
    hats = kit.in_category("hat_closed")
    rows = np.arange(8)
    pool.idx[rows] = kicks                                   # eight loops of four kicks: one category
    assert not pool.varied(8, rows).any()
    base = (pool.hits[0], pool.idx[0])
    pool.reset(Constraints(lock_sample=(True,) * 4, lock_row=(False,) * 4), template=base)
    pool.prime()
    assert pool.varied(8).all()                                # locked by the performer: allowed
    pool.reset(Constraints(), template=None)
    pool.prime()
    same = np.array([kicks[0], kit.in_category("snare")[0], hats[0], hats[1]])
    pool.idx[:3] = same
    pool.hits[:3] = True
    for k in range(8):                                        # the set served 8 times of the last 40
        pool.recent_sets.append(np.sort(same))
    assert not pool.varied(8, np.arange(3)).any() and pool.varied(9, np.arange(3)).all()
    # one sound on two tracks is still the same set of sounds
    a, b = pool.sound_sets(np.array([0]))[0], None
    pool.idx[3] = [same[0], same[1], same[2], same[2]]
    pool.idx[4] = [same[0], same[1], same[1], same[2]]
    pool.hits[3:5] = True
    b, c = pool.sound_sets(np.array([3, 4]))
    assert (b == c).all() and set(b.tolist()) == {-1, *same[:3].tolist()} and not (a == b).all()


def test_a_loops_sound_terms_count_each_kind_it_plays_once(kit):
    """A loop gains the term of every kind of sound its playing tracks play, once per kind: a silent track's
    sound adds nothing, two tracks of one kind add its term once (as the sum over a 0/1 kinds matrix would)."""
    pool, _ = _pool(kit, start=64, seed=5)
    terms = np.random.default_rng(0).normal(size=pool.kinds.size)
    kick, snare = kit.in_category("kick")[:2], kit.in_category("snare")[0]
    pool.idx[0], pool.hits[0] = [kick[0], kick[1], snare, snare], True
    pool.hits[0, 3] = False                     # the second snare silent: the snare still plays on track 2
    pool.hits[1] = False                        # a silent loop
    codes = pool._kind_codes
    dense = np.zeros((len(pool), pool.kinds.size))
    for loop in range(len(pool)):
        for track in range(pool.hits.shape[1]):
            if pool.hits[loop, track].any():
                dense[loop, codes[pool.idx[loop, track]]] = 1.0
    np.testing.assert_allclose(pool.kind_sums(terms), dense @ terms, atol=1e-12)
    rows = np.array([1, 0, 7])
    np.testing.assert_allclose(pool.kind_sums(terms, rows), (dense @ terms)[rows], atol=1e-12)
    kinds = {codes[kick[0]], codes[kick[1]], codes[snare]}
    assert pool.kind_sums(terms, np.array([0]))[0] == pytest.approx(sum(terms[k] for k in kinds))
    assert pool.kind_sums(terms, np.array([1]))[0] == 0.0


def test_an_unnamed_folder_is_not_one_category(make_library):
    """Samples whose names say nothing are all 'other': that is no category, so their loops stay allowed."""
    from dd_live.learn.pool import LoopPool
    from dd_live.learn.sampler import Scorer

    lib = make_library([3000, 9000, 800, 20000, 5000, 7000], ["other"] * 6)
    pool = LoopPool(lib, Scorer(lib, Critic().eval()), rng=np.random.default_rng(2), start=32)
    pool.prime()
    assert pool.varied(8).all()


def test_kept_edits_are_per_cell_comparisons_on_their_grid():
    from dd_live.learn.policy import cell_terms

    proposed = np.zeros((4, 16), dtype=bool)
    proposed[1, 4] = True
    on = proposed.copy()
    on[0, 0] = True                                           # a kick added on 1
    off = proposed.copy()
    off[1, 4] = False                                         # a snare taken away
    assert cell_terms([], (4, 16)) is None
    assert cell_terms([(np.zeros((4, 12), bool), np.ones((4, 12), bool))], (4, 16)) is None   # another grid
    terms = cell_terms([(on, proposed), (on, proposed), (off, proposed), (off, proposed)], (4, 16))
    assert terms[0, 0] == pytest.approx(np.log(3.0))          # on twice, off never: log((2 + 1) / (0 + 1))
    assert terms[1, 4] == pytest.approx(np.log(1 / 3))        # off twice
    both = cell_terms([(on, off)], (4, 16))                   # the kick added and the snare put back at once
    assert both[0, 0] == both[1, 4] == pytest.approx(np.log(2.0))
    untouched = np.ones((4, 16), bool)
    untouched[0, 0] = untouched[1, 4] = False
    assert not terms[untouched].any()


def test_the_search_leans_to_cells_kept_edits_turned_on(small_lib):
    """The same pool and head: with terms for the cell its loops played least, the loops served play it far more
    often; turned off as often, the cell they played most is played no more often."""
    from dd_live.learn.policy import cell_terms

    def served(cells, seed: int = 5) -> np.ndarray:
        pool, critic = _pool(small_lib, seed=seed)
        _liking_density(critic, pool)
        search = PoolSearch(pool, seed=seed)
        return np.mean([search.next(critic, draw=True, cells=cells).hits for _ in range(30)], axis=0)

    plain = served(None)
    for cell, sign in ((np.unravel_index(np.argmin(plain), plain.shape), 1), (np.unravel_index(np.argmax(plain),
                                                                                                  plain.shape), -1)):
        proposed = np.zeros((4, 16), dtype=bool)
        edited = proposed.copy()
        edited[cell] = True
        pairs = [(edited, proposed) if sign > 0 else (proposed, edited)] * 6
        leaned = served(cell_terms(pairs, (4, 16)))[cell]
        if sign > 0:
            assert leaned >= plain[cell] + 0.3, (cell, plain[cell], leaned)
        else:
            assert leaned <= plain[cell], (cell, plain[cell], leaned)


def test_the_ratings_cells_are_what_the_heads_logits_leave_unexplained():
    from dd_live.learn.policy import MIN_CELL_RATINGS, fit_cells, rated_cells

    rng = np.random.default_rng(0)
    hits = rng.random((80, 4, 16)) < 0.25
    y = hits[:, 2, 5].astype(float)                           # liked exactly when the hat plays step 5
    base = np.full(80, np.log(y.mean() / (1 - y.mean())))      # a head that knows the like rate, no more
    got = fit_cells(hits, y, base)
    assert got.shape == (4, 16) and np.argmax(got.mean) == 2 * 16 + 5 and got.mean[2 * 16 + 5] > 1.0
    others = np.delete(got.mean, 2 * 16 + 5)
    assert np.abs(others).max() < got.mean[2 * 16 + 5] / 2
    explained = fit_cells(hits, y, np.where(y > 0, 6.0, -6.0))      # the head already knows it
    assert np.abs(explained.mean).max() < 0.2
    grids = [None, *list(hits[:MIN_CELL_RATINGS - 1])]
    assert rated_cells(grids, y[:MIN_CELL_RATINGS], base[:MIN_CELL_RATINGS]) is None      # too few yet
    grids = [np.zeros((4, 12), bool), *list(hits)]                 # a rating on another grid is left out
    assert rated_cells(grids, np.r_[1.0, y], np.r_[0.0, base]).mean == pytest.approx(got.mean)


def test_the_search_leans_to_the_cells_the_ratings_liked(small_lib):
    """The critic's cell terms (fitted beside its head) move the loops served towards a cell, as kept edits'
    terms do; a trainer given each rating's grid fits them, a trainer without grids none."""
    from dd_live.learn.policy import CellTerms

    def served(posterior, seed: int = 5) -> np.ndarray:
        pool, critic = _pool(small_lib, seed=seed)
        _liking_density(critic, pool)
        critic.rated_cells = posterior
        search = PoolSearch(pool, seed=seed)
        return np.mean([search.next(critic, draw=True).hits for _ in range(30)], axis=0)

    plain = served(None)
    cell = np.unravel_index(np.argmin(plain), plain.shape)
    mean = np.zeros(64)
    mean[np.ravel_multi_index(cell, (4, 16))] = 3.0
    leaned = served(CellTerms((4, 16), mean))[cell]
    assert leaned >= plain[cell] + 0.3, (cell, plain[cell], leaned)
    class OtherGrid:                                           # fitted on another grid: never read
        shape = (4, 12)

        @property
        def mean(self):
            raise AssertionError("terms of another grid were read")

    served(OtherGrid())

    trainer = _fitted(40)
    assert trainer.critic.rated_cells is None
    rng = np.random.default_rng(1)
    grids = {k: rng.random((4, 16)) < 0.3 for k in range(len(trainer.labels))}
    trainer.keys = list(range(len(trainer.labels)))
    trainer.grids = lambda keys: [grids[k] for k in keys]
    trainer.train()
    assert trainer.critic.rated_cells is not None and trainer.critic.rated_cells.shape == (4, 16)
