"""The feel raters: calibrated on loops with a random feel, and judging what they say they judge."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.groove import genes as G
from dd_live.lab.evaluate import Candidate
from dd_live.lab.raters import FEEL_RATERS, RATERS, AccentRater, LaidBackRater, ShuffleRater, sound_of
from dd_live.loops.pattern import from_arrays, random_arrays


def _candidates(kit, n, seed, *, feel=True):
    rng = np.random.default_rng(seed)
    hits, idx = random_arrays(kit, rng, n)
    g = G.prior(rng, n, 4, 16)
    return [Candidate(from_arrays(h, i, kit, **(G.pattern_fields(g, k) if feel else {})),
                      [kit.samples[j].path for j in i], np.zeros(1, np.float32), 0.5)
            for k, (h, i) in enumerate(zip(hits, idx))]


@pytest.mark.parametrize("name", sorted(FEEL_RATERS))
def test_random_felt_loops_are_liked_25_to_45_percent_and_flat_ones_less(kit, name):
    rater = FEEL_RATERS[name](seed=3)
    felt = np.mean([rater.p_like(c) for c in _candidates(kit, 1500, seed=11)])
    flat = np.mean([rater.p_like(c) for c in _candidates(kit, 1500, seed=11, feel=False)])
    assert 0.25 <= felt <= 0.45 and flat < felt - 0.1


def _with(c, **fields):
    p = c.pattern
    kw = {"velocities": p.velocities, "offsets": p.offsets, "swing": p.swing, **fields}
    return Candidate(from_arrays(p.hits, np.zeros(p.tracks, int), _Keys(p.samples), **kw), c.sample_paths,
                     c.audio, c.score)


class _Keys:
    """A stand-in library that gives back the pattern's own sample keys."""

    def __init__(self, keys):
        self._keys = tuple(keys)

    def keys(self, idx):
        return self._keys


def test_each_feel_rater_likes_what_it_says(kit):
    c = next(x for x in _candidates(kit, 200, seed=5, feel=False)
             if not any(sound_of(p).harsh for p in x.sample_paths) and x.pattern.hits[:, 1::2].sum() > 6
             and any(sound_of(p).snare_like or sound_of(p).centroid > 4000 for p in x.sample_paths))
    hits = c.pattern.hits
    beats = np.zeros(hits.shape, bool)
    beats[:, ::4] = True
    accented = np.where(beats, 127, 40).astype(np.uint8)
    a = AccentRater(seed=0)
    assert a.taste(_with(c, velocities=accented)) > a.taste(c) + 1.0            # vs one flat velocity
    assert a.taste(_with(c, velocities=accented)) > a.taste(_with(c, velocities=127 + 40 - accented))
    s = ShuffleRater(seed=0)
    assert s.taste(_with(c, swing=1 / 3)) > s.taste(_with(c, swing=1 / 6)) > s.taste(c)
    assert s.taste(_with(c, swing=1 / 3)) > s.taste(_with(c, swing=1 / 3, offsets=np.full(hits.shape, 0.25)))
    kinds = [sound_of(p) for p in c.sample_paths]
    late = np.zeros(hits.shape)
    for t, k in enumerate(kinds):
        if k.snare_like or k.centroid > 4000:
            late[t] = 0.125
    lb = LaidBackRater(seed=0)
    assert late.any() and lb.taste(_with(c, offsets=late)) > lb.taste(c) > lb.taste(_with(c, offsets=-late))


def test_the_feel_raters_are_not_the_grid_raters():
    assert not set(FEEL_RATERS) & set(RATERS)
