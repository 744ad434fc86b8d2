"""Adaptive microtiming on its own (no daemon): matching, the take's fit, the layer's update, and a
simulated human over takes, as issue 15 asks (swing, straight, the paper's morph)."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.errors import InputError
from dd_live.groove.adapt import FEEL_LIMIT, adapt, fit_take, match, rolypoly_targets
from dd_live.groove.feel import Frame, Take, apply, flat, layer_for
from dd_live.testing.human import Human, run_takes
from dd_live.loops.pattern import Pattern

SWING = 1 / 3   # the human's off-beat sixteenths, late by a third of a step


def _pattern(cols_by_track: dict[int, list[int]] | None = None, steps: int = 16) -> Pattern:
    hits = np.zeros((4, steps), bool)
    if cols_by_track is None:  # a groove: kick on the beats, snare on 2 and 4, hats on every 16th
        hits[0, ::4] = True
        hits[1, 4::8] = True
        hits[2, :] = True
    else:
        for t, cols in cols_by_track.items():
            hits[t, cols] = True
    return Pattern(hits=hits, samples=("k", "s", "h", "o"))


def test_match_pairs_onsets_with_the_nearest_drum_step_and_wraps_around_the_bar():
    steps = np.array([0, 4, 8, 12])
    which, gaps, _ = match(np.array([0.2, 3.9, 15.8, 6.0, 9.0]), steps, steps.astype(float), 16)
    # 15.8 is 0.2 before step 0 of the next bar; 6.0 is halfway (farther than a third of the gap of 4)
    assert which.tolist() == [0, 1, 0, -1, 2]
    assert np.allclose(gaps[[0, 1, 2, 4]], [0.2, -0.1, -0.2, 1.0]) and np.isnan(gaps[3])


def test_the_match_window_is_a_third_of_the_gap_on_the_onsets_side():
    steps = np.array([0, 1, 8])          # gap of 1 after step 0, of 7 after step 1
    which, _, _ = match(np.array([0.4, 1.0 + 2.2, 1.0 + 2.4]), steps, steps.astype(float), 16)
    assert which.tolist() == [-1, 1, -1]  # 0.4 > 1/3 of 1; 2.2 < 7/3 < 2.4


def test_the_fit_takes_the_latency_from_the_on_beats():
    s = np.array([0, 4, 2, 6, 0, 4, 2, 6])
    g = np.array([0.1, 0.1, 0.4, 0.4, 0.1, 0.1, 0.4, 0.4])
    fit = fit_take(s, g, 16, 4)
    assert fit.centre == pytest.approx(0.1) and fit.count[[0, 2, 4, 6]].tolist() == [2, 2, 2, 2]
    assert fit.gap[2] == pytest.approx(0.4) and np.isnan(fit.gap[1]) and fit.spread == pytest.approx(0.0)
    new = adapt(flat(16), fit, rate=1.0, steps_per_beat=4)
    assert new[2] == pytest.approx(0.3) and new[6] == pytest.approx(0.3) and new[0] == pytest.approx(0.0)


def test_rolypolys_published_rule_never_moves_straight_drums_and_cannot_grow_their_spread():
    # why dd_live's rule differs (see groove/adapt.py): with A = B = 1 the targets keep std(yhat)
    diff = np.array([0.0, 0.3, 0.0, 0.3])
    assert np.allclose(rolypoly_targets(np.zeros(4), diff), 0.0)
    yhat = np.array([0.0, 0.05, 0.0, 0.05])
    assert np.std(rolypoly_targets(yhat, diff)) == pytest.approx(np.std(yhat))
    # dd_live's rule on the same straight start does move
    fit = fit_take(np.array([0, 1, 2, 3] * 4), np.tile(diff, 4), 4, 2)
    assert adapt(flat(4), fit, rate=0.5, steps_per_beat=2)[1] > 0.1


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_a_swinging_human_pulls_the_off_beats_late_over_three_takes(seed):
    human = Human(swing=SWING, pull=0.3, jitter_ms=4.0, latency_ms=12.0, seed=seed)
    takes = run_takes(human, _pattern(), takes=3, bars=4, bpm=120.0)
    off = [float(np.mean(t["layer"][1::2])) for t in takes]
    assert off[0] > 0 and off[1] > off[0] and off[2] > off[1]
    assert off[2] >= 0.6 * SWING
    for t in takes:
        assert np.max(np.abs(t["layer"][::4])) <= 0.03      # the beats stay put: latency is not feel
    gaps = [t["fit"].mean_abs_gap for t in takes] + [None]
    gaps[3] = run_takes(human, _pattern(), takes=1, layer=takes[2]["layer"])[0]["fit"].mean_abs_gap
    assert all(b < a for a, b in zip(gaps, gaps[1:])), gaps   # heard in takes 1-3, then in a fourth


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_a_straight_human_keeps_the_drums_straight(seed):
    takes = run_takes(Human(swing=0.0, seed=seed), _pattern(), takes=3)
    assert max(np.max(np.abs(t["layer"])) for t in takes) <= 0.03


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_papers_morph_moves_x__x__x_towards_three_equal_triplets(seed):
    # x . . x . . x . twice a bar; the human plays three equal notes over each 8 steps (0, 8/3, 16/3).
    # Step 3 needs -1/3 of a step; step 6 needs -2/3, beyond the layer's +-0.5: it goes to the limit.
    # Morphing is the paper's rate-1 setting (A and B cancelling the variance scaling): /dd/set/adapt 1.
    pattern = _pattern({0: [0, 3, 6, 8, 11, 14]})
    human = Human(offsets={3: -1 / 3, 6: -2 / 3, 11: -1 / 3, 14: -2 / 3}, seed=seed)
    layer = run_takes(human, pattern, takes=5, rate=1.0)[-1]["layer"]
    assert abs(layer[3] + 1 / 3) <= 0.05 and abs(layer[11] + 1 / 3) <= 0.05
    assert layer[6] == pytest.approx(-FEEL_LIMIT) and layer[14] == pytest.approx(-FEEL_LIMIT)
    assert abs(layer[0]) <= 0.03 and abs(layer[8]) <= 0.03


def test_rate_zero_keeps_the_layer_and_rates_outside_0_1_are_refused():
    human = Human(swing=SWING, seed=0)
    assert np.allclose(run_takes(human, _pattern(), takes=2, rate=0.0)[-1]["layer"], 0.0)
    with pytest.raises(InputError):
        adapt(flat(16), fit_take(np.array([0]), np.array([0.0]), 16, 4), rate=1.5, steps_per_beat=4)


def test_the_layer_plays_in_the_pattern_and_carries_to_other_grids():
    p = _pattern()
    layer = flat(16)
    layer[1::2] = 0.25
    played = apply(p, layer)
    times = played.step_times()
    assert times[2, 1] == pytest.approx(1.25) and times[2, 2] == pytest.approx(2.0)
    assert apply(p, flat(16)) is p and np.all(np.abs(apply(p, np.full(16, 0.5)).offsets) <= 0.5)
    # a 32-step grid reads the same bar positions: 0.25 of a 16th is 0.5 of a 32nd
    assert layer_for(layer, 32)[2] == pytest.approx(0.5) and layer_for(layer, 32)[0] == pytest.approx(0.0)


def test_a_take_against_another_grid_is_refused_and_onsets_keep_their_frame():
    frame = Frame.of(_pattern())
    take = Take()
    take.add(frame, 1.1)
    take.add(frame, 2.9)
    assert take.fit(16).matched == 2 and len(take.frames) == 1
    with pytest.raises(InputError, match="grid"):
        take.fit(12)
