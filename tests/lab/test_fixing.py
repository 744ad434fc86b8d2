"""Editing as rating, simulated (dd_live.lab.fixing): the fixer's edit is the one-cell change its taste likes most,
its clicks are its ratings and edits, and what it stores follows the daemon's rule for kept edits."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.lab import fixing
from dd_live.lab.raters import GrooveRater
from dd_live.loops.pattern import Pattern
from dd_live.groove.record import Loop


def _loop(kit, hits):
    keys = [s.key for s in kit.samples[:4]]
    p = Pattern(np.asarray(hits, dtype=bool), tuple(keys))
    return Loop.from_pattern(p, kit, np.zeros(10, np.float32), 0.5)


def test_the_best_edit_is_the_one_cell_toggle_the_taste_likes_most(kit):
    rater = GrooveRater(seed=0)
    rng = np.random.default_rng(3)
    loop = _loop(kit, rng.random((4, 16)) < 0.3)
    best, p = fixing.best_edit(rater, loop, kit)
    assert np.count_nonzero(best.pattern.hits != loop.pattern.hits) == 1 and p > rater.p_like(loop)
    for t in range(4):                                   # no other single toggle does better
        for s in range(16):
            hits = loop.pattern.hits.copy()
            hits[t, s] = not hits[t, s]
            assert rater.p_like(_loop(kit, hits)) <= p + 1e-12


def test_clicks_are_ratings_and_edits_and_a_kept_edit_stores_a_like_and_a_dislike(kit, monkeypatch):
    added = []
    rate = fixing.session(GrooveRater(seed=1), kit, seed=1, fixes=False, loops=8)
    assert rate["clicks"] == list(range(1, 9)) and rate["edits"] == rate["kept"] == 0
    from dd_live.learn.trainer import Trainer

    real = Trainer.add
    monkeypatch.setattr(Trainer, "add", lambda self, feats, like, **kw: added.append(like) or real(self, feats, like, **kw))
    fix = fixing.session(GrooveRater(seed=1), kit, seed=1, fixes=True, loops=8)
    assert fix["clicks"][-1] == 8 + fix["edits"] and len(fix["rated_p_like"]) == len(fix["p_like"]) == 8
    assert fix["edits"] > 0
    # every loop stores one rating, a kept edit two (its like and the proposal's dislike)
    assert len(added) == 8 + fix["kept"]
    assert sum(added) >= fix["kept"]


def test_clicks_to_a_goal_reads_the_running_rate_of_the_proposals():
    run = {"p_like": [0.2] * 20 + [0.9] * 20, "clicks": list(range(2, 82, 2))}
    assert fixing.clicks_to(run, 0.2) == 40                 # the first full window
    assert fixing.clicks_to(run, 0.5) == run["clicks"][28]   # nine of the window at 0.9
    assert fixing.clicks_to(run, 0.95) is None


def test_the_late_rate_by_clicks_takes_the_proposals_heard_over_clicks_41_to_80():
    rate = {"p_like": [0.1] * 40 + [0.6] * 40, "clicks": list(range(1, 81))}
    assert fixing.by_clicks(rate) == pytest.approx(0.6)                 # one click a loop: loops 41-80
    # two clicks a loop from the 21st: the 41st click is the 31st loop's first, the 80th the 50th's second
    fix = {"p_like": [0.1] * 30 + [0.9] * 20 + [0.0] * 10,
           "clicks": list(range(1, 21)) + list(range(22, 102, 2))[:40]}
    assert fix["clicks"][29] == 40 and fix["clicks"][49] == 80
    assert fixing.by_clicks(fix) == pytest.approx(0.9)
    assert fixing.by_clicks({"p_like": [0.5] * 10, "clicks": list(range(1, 11))}) is None   # fewer clicks


def test_the_fixers_search_reads_its_kept_edits_on_the_grid_as_the_daemons_does(kit, monkeypatch):
    from dd_live.learn.policy import PoolSearch

    seen = []
    real = PoolSearch.next
    monkeypatch.setattr(PoolSearch, "next", lambda self, critic, **kw: seen.append(kw.get("cells")) or real(
        self, critic, **kw))
    fix = fixing.session(GrooveRater(seed=1), kit, seed=1, fixes=True, loops=8)
    assert fix["kept"] > 0
    given = [c for c in seen if c is not None]
    assert len(given) >= 1 and given[-1].shape == (4, 16) and given[-1].any()
    seen.clear()
    fixing.session(GrooveRater(seed=1), kit, seed=1, fixes=True, loops=8, cells_learn=False)
    assert seen and all(c is None for c in seen)
