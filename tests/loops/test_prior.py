"""The drum prior: what ships, how it draws loops on any grid, and how it is learned from bars of drums."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dd_live.errors import InputError
from dd_live.loops.pattern import Constraints
from dd_live.loops.prior import (FREE_SHARE, KEEP_ROLES, MIN_COMPONENT, RESOLUTION, DrumPrior, fit_prior, layout,
                                 load_prior)
from dd_live.sound.roles import ROLES


@pytest.fixture(scope="module")
def prior() -> DrumPrior:
    return load_prior()


def test_the_shipped_prior_names_its_sources_and_holds_no_bars(prior):
    names = {s["name"] for s in prior.sources}
    assert names == {"simutrans-data", "mma"}
    assert sum(s["bars"] for s in prior.sources) > 5000
    assert {"16x4", "12x3"} <= set(prior.grids)
    for key, g in prior.grids.items():
        # each component rests on many bars: learned numbers, never one bar's pattern
        assert g.bars * g.weights.min() >= MIN_COMPONENT * 0.5, key
        assert np.all((g.p > 0) & (g.p < 1)), key            # shrunk: no position is certain
    raw = json.loads(prior.name and open(prior.name).read())
    assert set(raw["grids"]["16x4"]) == {"bars", "beats", "components"}


def test_a_drummer_plays_kick_on_the_downbeat_snare_on_the_backbeat_hats_between(prior):
    g = prior.grid(16, 4)
    p = (g.weights[:, None, None] * g.p).sum(0)          # the mixture's probability per role and step
    low, back, time = (p[ROLES.index(r)] for r in ("low", "backbeat", "time"))
    assert low[0] > 0.6 and low[0] > 2 * low[1:4].max()
    assert min(back[4], back[12]) > 0.5 and min(back[4], back[12]) > 2 * back[[1, 2, 3, 5, 6, 7]].max()
    eighths = time[0::2].mean()
    assert eighths > 0.5 and eighths > 1.5 * time[1::2].mean()
    # 3/4: a waltz's downbeat is the low drum's
    w = prior.grid(12, 3)
    pw = (w.weights[:, None, None] * w.p).sum(0)
    assert pw[ROLES.index("low"), 0] == pw[ROLES.index("low")].max()


@pytest.mark.parametrize("steps,beats", [(16, 4), (12, 3), (24, 6), (12, 4), (24, 4), (20, 5), (7, 7), (12, 2),
                                         (16, 2), (6, 6)])
def test_any_grid_gets_a_prior_and_loops_with_a_kit(prior, kit, steps, beats):
    g = prior.grid(steps, beats)
    assert g.p.shape == (g.weights.size, len(ROLES), steps) and np.all((g.p >= 0) & (g.p <= 1))
    assert abs(g.weights.sum() - 1) < 1e-9
    hits, idx, free = prior.draw(kit, np.random.default_rng(3), 200, steps=steps, beats=beats, free=0.0)
    assert hits.shape == (200, 4, steps) and idx.shape == (200, 4) and not free.any()
    roles = layout(4)
    for t, role in enumerate(roles):
        if role in KEEP_ROLES:
            assert hits[:, t].any(axis=1).all()                        # kick, snare and hat tracks play
            members = kit.role_pools[role][0]
            assert np.isin(idx[:, t], members).all()
    assert not (idx[:, :, None] == idx[:, None, :])[:, ~np.eye(4, dtype=bool)].any()   # four different sounds


def test_the_free_share_is_deepdrummers_and_the_rest_the_priors(prior, kit):
    rng = np.random.default_rng(0)
    hits, idx, free = prior.draw(kit, rng, 4000)
    share = free.mean()
    assert abs(share - FREE_SHARE) < 0.03
    ours = hits[~free].mean()
    theirs = hits[free].mean()                                   # DeepDrummer's 0.5 density
    assert abs(theirs - 0.5) < 0.03 and ours < 0.35
    kicks = kit.role_pools["low"][0]
    assert np.isin(idx[~free, 0], kicks).all() and np.isin(idx[free, 0], kicks).mean() < 0.4


def test_density_moves_the_prior_and_constraints_hold(prior, kit):
    rng = np.random.default_rng(1)
    sparse = prior.draw(kit, rng, 600, density=0.3, free=0.0)[0].mean()
    busy = prior.draw(kit, rng, 600, density=0.7, free=0.0)[0].mean()
    assert busy > sparse * 1.5
    base_hits = np.zeros((4, 16), dtype=bool)
    base_hits[2, 3] = True
    base = (base_hits, np.array([0, 1, 2, 3]))
    c = Constraints(fotf=True, lock_sample=(False, False, True, False), lock_row=(False, False, True, False))
    hits, idx, _ = prior.draw(kit, rng, 100, constraints=c, base=base)
    assert hits[:, 0, ::4].all() and np.isin(idx[:, 0], kit.in_category("kick")).all()
    assert (hits[:, 2] == base_hits[2]).all() and (idx[:, 2] == 2).all()


def _bars(rows: list[dict[str, list[int]]], n: int, beats: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """n copies of each pattern (role -> hit steps of 16ths) as hits and velocities at RESOLUTION."""
    h = np.zeros((len(rows) * n, len(ROLES), beats * RESOLUTION), dtype=bool)
    for k, row in enumerate(rows):
        for role, steps in row.items():
            h[k * n:(k + 1) * n, ROLES.index(role), [s * RESOLUTION // 4 for s in steps]] = True
    return h, np.where(h, 100, 0).astype(np.uint8)


def test_learning_finds_the_styles_in_the_bars():
    rock = {"low": [0, 8], "backbeat": [4, 12], "time": [0, 2, 4, 6, 8, 10, 12, 14]}
    floor = {"low": [0, 4, 8, 12], "backbeat": [4, 12], "time": [2, 6, 10, 14]}
    h, v = _bars([rock, floor], 60)
    doc = fit_prior({(16, 4): (h, v)}, [{"name": "test", "bars": 120}])
    g = DrumPrior(doc).grid(16, 4)
    assert g.weights.size == 2 and np.allclose(g.weights, 0.5, atol=0.05)
    low = g.p[:, ROLES.index("low")]
    fours = np.argmax(low[:, 4])                               # the four-on-the-floor component
    assert low[fours, [0, 4, 8, 12]].min() > 0.9 and low[1 - fours, [4, 12]].max() < 0.1
    assert g.p[:, ROLES.index("colour")].max() < 0.1           # nothing played there: shrunk to nearly nothing
    # too few bars of a meter: left out; no 4/4 at all: refused in one line
    h3, v3 = _bars([{"low": [0]}], 5, beats=3)
    doc = fit_prior({(16, 4): (h, v), (12, 3): (h3, v3)}, [])
    assert "12x3" not in doc["grids"]
    with pytest.raises(InputError, match="4/4"):
        fit_prior({(12, 3): (h3, v3)}, [], min_bars=1)


def test_a_broken_prior_file_is_one_line(tmp_path):
    bad = tmp_path / "p.json"
    for text in ("{", '{"schema": "x"}', json.dumps({"schema": "dd_live.drum_prior", "version": 1,
                                                     "resolution": 24, "roles": list(ROLES), "grids": {"16x4": {}}})):
        bad.write_text(text)
        with pytest.raises(InputError) as err:
            load_prior(bad)
        assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="no drum prior"):
        load_prior(tmp_path / "missing.json")
