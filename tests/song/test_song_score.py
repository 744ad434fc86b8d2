"""Song mode's drums as a score to play along with (dd_live.song.score): every hit where song mode put it, on
its bar's grid, in its section, and takes over it teaching the drums."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.groove.score import ROLES
from dd_live.song.arrange import arrange
from dd_live.song.read import read_song
from dd_live.song.score import score_of
from dd_live.testing.songhuman import SongHuman, run_song_takes

from .checks import PARTS, make_midi
from .test_song import _fake_taste


@pytest.fixture(scope="module")
def arranged(tmp_path_factory, kit):
    src = make_midi(tmp_path_factory.mktemp("song") / "s.mid", PARTS)
    song = read_song(src)
    return song, arrange(song, _fake_taste(kit, True))


def test_every_hit_of_song_modes_drums_is_in_the_score_at_its_time(arranged):
    song, arr = arranged
    roles = ("low", "backbeat", "time", "colour")
    score = score_of(arr, roles)
    ticks = np.unique(arr.events()["tick"])
    assert len(score) == ticks.size
    np.testing.assert_allclose(score.at_s, song.seconds(ticks), atol=1e-6)
    assert set(score.labels) == {s.label for s in arr.sections}
    for k, b in enumerate(song.bars):
        rows = score.bar == k
        if not rows.any():
            continue
        if (b.numerator, b.denominator) == (6, 8):           # two dotted-quarter beats of six sixteenths
            assert set(score.beats_in_bar[rows]) == {2} and set(score.steps_per_beat[rows]) == {6}
            assert score.bpm[rows][0] == pytest.approx(b.bpm * 2 / 3)
        else:
            assert set(score.beats_in_bar[rows]) == {b.numerator} and set(score.steps_per_beat[rows]) == {4}
        assert (score.beat[rows] >= 0).all() and (score.beat[rows] < score.beats_in_bar[rows]).all()
    tracks = arr.events()["track"]
    assert score.roles.sum() >= len(score) and score.roles[:, ROLES.index("colour")].sum() <= np.sum(tracks >= 3)


def test_takes_over_song_modes_drums_teach_a_section_its_lay_back(arranged):
    _, arr = arranged
    score = score_of(arr, ("low", "backbeat", "time", "colour"))
    busy = score.labels[int(np.bincount(score.section).argmax())]      # the section with the most hits
    feel, reports = run_song_takes(SongHuman(offsets_ms={busy: 20.0}, seed=0), score, seed=0)
    sec = feel.section_offsets_ms()
    assert sec[busy] == pytest.approx(20.0, rel=0.3)
    assert all(abs(v) < 6.0 for k, v in sec.items() if k != busy)
    assert reports[0].matched_onsets == reports[0].onsets


def test_dd_live_song_with_a_session_writes_the_drums_with_what_its_takes_taught(tmp_path, capsys, daemon):
    from dd_live.cli import main
    from dd_live.groove.timing import save_feel
    from dd_live.live.song_play import read_written
    from dd_live.song.score import timing_file
    from dd_live.testing.harness import stop_daemon

    d, c = daemon(tmp_path / "s")                       # a session with a critic of its own
    c.wait("/dd/candidate", 30)
    stop_daemon(d, c)
    src = make_midi(tmp_path / "tune.mid", [("busy", 4, 4, 4, 110.0)])
    args = ["song", str(src), "--session", str(tmp_path / "s"), "--threads", "1", "--out"]
    assert main(args + [str(tmp_path / "plain")]) == 0
    plain, _, _ = read_written(tmp_path / "plain")
    feel, _ = run_song_takes(SongHuman(offsets_ms={label: 20.0 for label in plain.labels}, seed=1), plain, seed=0)
    save_feel(feel, timing_file(tmp_path / "s" / "songs" / "tune"))
    capsys.readouterr()
    assert main(args + [str(tmp_path / "felt")]) == 0
    assert "timing from 3 takes over this song" in capsys.readouterr().out
    felt, _, _ = read_written(tmp_path / "felt")
    assert felt.at_s.size == plain.at_s.size and 0.014 < float(np.mean(felt.at_s - plain.at_s)) < 0.026
