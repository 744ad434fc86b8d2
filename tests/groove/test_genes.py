"""A loop's own feel in the search space: lattices, the symmetric proposal, locks, and what it sounds like."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.groove import genes as G
from dd_live.loops.pattern import from_arrays
from dd_live.loops.render import render_arrays


def test_flat_genes_are_deepdrummers_loops():
    g = G.flat(3, 4, 16)
    assert np.all(g.velocities() == 100) and np.all(g.offsets() == 0) and np.all(g.swing_amount() == 0)
    assert np.array_equal(g.step_times()[0, 0], np.arange(16))


def test_step_times_carry_swing_on_odd_steps_and_each_tracks_push():
    g = G.flat(1, 2, 16)
    g.swing[:] = 4                                   # 1/3: a triplet shuffle
    g.push[0, 1] = 0                                 # track 2 pulled a quarter step early
    t = g.step_times()[0]
    assert t[0, 1] == pytest.approx(1 + 1 / 3) and t[0, 2] == pytest.approx(2)
    assert t[1, 2] == pytest.approx(1.75) and t[1, 3] == pytest.approx(3 + 1 / 3 - 0.25)


def _rate(a: G.Genes, b: G.Genes, rng, n: int = 300000) -> float:
    """How often one proposal from ``a`` lands on ``b``."""
    moved = G.propose(G.Genes(np.repeat(a.vel, n, 0), np.repeat(a.push, n, 0), np.repeat(a.swing, n, 0)), rng)
    same = (moved.vel == b.vel).all(axis=(1, 2)) & (moved.push == b.push).all(axis=1) & (moved.swing == b.swing)
    return float(same.mean())


def _one(vel, push, swing) -> G.Genes:
    return G.Genes(np.array([[vel]], dtype=np.int8), np.array([[push]], dtype=np.int8), np.array([swing], np.int8))


@pytest.mark.parametrize("a, b", [
    (_one([0, 2], 3, 1), _one([3, 2], 3, 1)),    # one velocity redrawn
    (_one([1, 1], 3, 1), _one([1, 1], 4, 1)),    # push one lattice step
    (_one([1, 1], 3, 0), _one([1, 1], 3, 4)),    # swing redrawn
    (_one([2, 0], 0, 2), _one([2, 0], 0, 2)),    # staying put at the lattice's edge (a push off it)
], ids=["velocity", "push", "swing", "edge"])
def test_the_proposal_is_symmetric(a, b):
    rng = np.random.default_rng(0)
    there, back = _rate(a, b, rng), _rate(b, a, rng)
    assert there > 0.003 and there == pytest.approx(back, rel=0.12)


def test_a_proposal_changes_one_kind_of_thing():
    rng = np.random.default_rng(3)
    g = G.prior(rng, 5000, 4, 16)
    m = G.propose(g, rng)
    kinds = ((m.vel != g.vel).any(axis=(1, 2)).astype(int) + (m.push != g.push).any(axis=1) + (m.swing != g.swing))
    assert kinds.max() == 1 and 0.5 < kinds.mean() < 1.0   # some moves are no change (same value redrawn, an edge)


def test_with_the_swing_fixed_from_outside_moves_keep_the_swing_and_the_loops_play_that_swing():
    rng = np.random.default_rng(4)
    g = G.prior(rng, 5000, 4, 16)
    m = G.propose(g, rng, fixed_swing=True)
    assert np.array_equal(m.swing, g.swing)
    changed = (m.vel != g.vel).any(axis=(1, 2)) | (m.push != g.push).any(axis=1)
    assert changed.mean() > 0.7                       # no move is spent on a swing nobody hears
    t = g.step_times(0.2)
    assert np.allclose(t[:, :, 1] - t[:, :, 0], 1.2 + 0 * t[:, :, 0]) and np.allclose(t[:, :, 2] - t[:, :, 0], 2.0)


def test_locked_tracks_keep_their_velocities_and_push():
    rng = np.random.default_rng(1)
    g = G.prior(rng, 200, 4, 16)
    locked = np.array([True, False, False, True])
    for _ in range(10):
        moved = G.propose(g, rng, locked=locked)
        assert np.array_equal(moved.vel[:, locked], g.vel[:, locked])
        assert np.array_equal(moved.push[:, locked], g.push[:, locked])
    template = G.prior(rng, 1, 4, 16)
    kept = G.with_locked(G.prior(rng, 5, 4, 16), template, locked)
    assert np.array_equal(kept.vel[:, locked], np.repeat(template.vel[:, locked], 5, 0))


def test_a_pattern_carries_its_genes_and_gives_them_back(kit):
    rng = np.random.default_rng(2)
    g = G.prior(rng, 1, 4, 16)
    hits = rng.random((4, 16)) < 0.5
    hits[:, 0] = True
    p = from_arrays(hits, np.arange(4), kit, **G.pattern_fields(g, 0))
    back = G.of_pattern(p)
    assert np.array_equal(back.vel[0][hits], g.vel[0][hits]) and np.array_equal(back.push, g.push)
    assert back.swing[0] == g.swing[0]
    # and the critic hears it: accents and timing change the rendered bar
    flat = render_arrays(hits[None], np.arange(4)[None], kit)
    felt = render_arrays(hits[None], np.arange(4)[None], kit, velocities=g.velocities(), step_times=g.step_times())
    assert not np.allclose(flat, felt)
