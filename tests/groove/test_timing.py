"""Timing learned over a whole song (dd_live.groove.timing, dd_live.groove.score): rolypoly~'s targets, onsets
matched to hits, and a simulated human's takes (dd_live.testing.songhuman) teaching each section its own feel."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.errors import InputError
from dd_live.groove.score import FEATURES, Score, features
from dd_live.groove.timing import OFFSET_LIMIT, SongFeel, match_onsets, take_targets
from dd_live.testing.songhuman import SongHuman, demo_song, first_half_of, morph_song, run_song_takes, triplets


def _labels(score):
    return np.array(score.labels)[score.section]


def _ms(feel, rows):
    return float(np.mean(feel.offsets[rows] * feel.score.step_s[rows] * 1e3))


# ---------------------------------------------------------------- targets and matching

def test_the_papers_targets_never_leave_straight_drums_and_ours_take_the_gap():
    yhat = np.zeros(6)
    diff = np.array([0.2, 0.25, 0.15, np.nan, 0.2, 0.22])
    y, heard = take_targets(yhat, diff, scale="paper")
    assert np.all(y[heard] == 0.0) and not heard[3]                 # equation (2) with std(yhat) = 0
    y, heard = take_targets(yhat, diff)
    np.testing.assert_allclose(y[heard], diff[heard])                # A = B = 1: the whole gap
    y, _ = take_targets(yhat + 0.1, diff, a=0.5, b=0.5, latency=0.05)
    np.testing.assert_allclose(y[heard], 0.5 * (0.1 + 0.5 * (diff[heard] - 0.05)))
    on = np.array([True, False, True, False, True, False])
    y, _ = take_targets(yhat, diff, centre=True, on_beat=on)
    assert abs(np.mean(y[on & heard])) < 1e-12                       # the looping bar's centring, on request
    assert np.nanmax(np.abs(take_targets(yhat, np.full(6, 5.0))[0])) == OFFSET_LIMIT
    with pytest.raises(InputError, match="scale must be"):
        take_targets(yhat, diff, scale="both")


def test_an_onset_is_matched_to_the_nearest_hit_within_a_third_of_the_way_to_its_neighbour():
    played = np.array([0.0, 0.5, 1.0, 1.125])
    gap, which = match_onsets(played, np.array([0.02, 0.04, 0.45, 0.7, 1.13, 1.16, 9.0]))
    assert which.tolist() == [0, 0, 1, -1, 3, 3, -1]          # the last hit: its window as on its other side
    np.testing.assert_allclose(gap, [0.03, -0.05, np.nan, 0.02], atol=1e-12)
    assert np.isnan(match_onsets(played, np.zeros(0))[0]).all()


def test_a_score_merges_simultaneous_hits_and_refuses_what_is_not_in_the_song():
    bars = [(0.0, 4, 4, 120.0), (2.0, 3, 4, 90.0)]
    s = Score.of([(0, 0.0, "low", 100), (0, 0.0, "time", 80), (1, 2.5, "backbeat", 90), (0, 1.0, "time", 60)], bars,
                 [(0, 1, "A"), (1, 2, "B")])
    assert len(s) == 3 and s.roles[0].tolist() == [True, False, True, False] and s.velocity[0] == 100
    np.testing.assert_allclose(s.at_s, [0.0, 0.5, 2.0 + 2.5 * 60 / 90])
    assert s.on_beat.tolist() == [True, True, False] and s.labels == ("A", "B") and features(s).shape == (3, FEATURES)
    for hits, said in [([(2, 0.0, "low", 1)], "the song has 2 bars"), ([(1, 3.0, "low", 1)], "which has 3 beats"),
                       ([(0, 0.0, "cowbell", 1)], "unknown drum role 'cowbell'"), ([], "at least one drum hit")]:
        with pytest.raises(InputError, match=said):
            Score.of(hits, bars, [(0, 2, "A")])
    with pytest.raises(InputError, match="bar 1 is in no section"):
        Score.of([(1, 0.0, "low", 1)], bars, [(0, 1, "A")])


# ---------------------------------------------------------------- takes over a song

@pytest.fixture(scope="module")
def song():
    return demo_song()


def test_each_section_gets_its_own_feel_in_three_takes(song):
    human = SongHuman(offsets_ms={"verse": 25.0, "chorus": -10.0}, swing={"bridge": 1 / 3}, loud={"chorus": 1.3},
                      seed=1)
    feel, reports = run_song_takes(human, song, seed=0)
    label = _labels(song)
    off16 = np.isclose(song.step_in_bar() % 2, 1.0)
    verse, chorus, bridge = (label == x for x in ("verse", "chorus", "bridge"))
    assert _ms(feel, verse) == pytest.approx(25.0, rel=0.3) and _ms(feel, chorus) == pytest.approx(-10.0, rel=0.3)
    swing = feel.offsets[bridge & off16].mean() - feel.offsets[bridge & ~off16].mean()
    assert swing == pytest.approx(1 / 3, abs=0.05) and abs(feel.offsets[bridge & ~off16].mean()) < 0.03
    assert feel.velocity[chorus].mean() > 1.15 * feel.velocity[verse].mean()   # they play the choruses louder
    assert reports[0].matched_hits == len(song) and reports[-1].mean_abs_gap_ms < reports[0].mean_abs_gap_ms / 2


def test_a_straight_human_leaves_the_drums_straight(song):
    feel, _ = run_song_takes(SongHuman(seed=2), song, seed=0)
    assert max(abs(v) for v in feel.section_offsets_ms().values()) < 0.03 * 125        # 0.03 step at 120 bpm
    assert np.mean(np.abs(feel.offsets)) < 0.03


def test_bars_nobody_played_along_with_learn_from_the_bars_like_them(song):
    human = SongHuman(offsets_ms={"verse": 25.0, "chorus": -10.0}, plays=first_half_of("verse"), seed=1)
    feel, reports = run_song_takes(human, song, seed=0)
    verse = _labels(song) == "verse"
    first = first_half_of("verse", others=False)(song)
    assert reports[0].matched_hits < len(song) - 100                                    # half of each verse unheard
    heard, unheard = _ms(feel, verse & first), _ms(feel, verse & ~first)
    assert heard == pytest.approx(25.0, rel=0.3) and unheard == pytest.approx(heard, rel=0.4)


def test_x_dot_dot_x_dot_dot_x_morphs_into_triplets_in_three_takes():
    score = morph_song()
    feel, _ = run_song_takes(SongHuman(intend=triplets, seed=3), score, seed=0)
    np.testing.assert_allclose([feel.offsets[triplets(score) == t].mean() for t in (0, -1 / 3, -2 / 3)],
                               [0, -1 / 3, -2 / 3], atol=0.05)                           # past the loop's 0.5 clip


def test_the_drums_start_from_the_sessions_loop_feel(song):
    layer = np.array([0.0, 0.25] * 8)
    feel = SongFeel(song, layer=layer, seed=0)
    off16 = np.isclose(song.step_in_bar() % 2, 1.0)
    assert feel.offsets[off16].mean() == pytest.approx(0.25, abs=1e-12) and not feel.offsets[~off16].any()
    before = feel.played_s().copy()
    onsets, vel = SongHuman(seed=5).play(song, feel.offsets)
    feel.take(onsets, vel)                                  # a straight human pulls the swing back
    assert feel.offsets[off16].mean() < 0.2 and not np.array_equal(feel.played_s(), before)
    with pytest.raises(InputError, match="A and B must be 0-2"):
        SongFeel(song, a=3.0)
