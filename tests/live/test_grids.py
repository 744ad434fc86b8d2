"""Other grids live (issue 15, part 2): serve --steps/--beats, the critic hearing any bar in its 2 s, /dd/shape;
and /dd/set/swing (part 1): every loop that follows swings by the amount, the critic hearing it too."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from dd_live.errors import InputError
from dd_live.testing.harness import stop_daemon
from dd_live.session.settings import LiveSettings, grid_settings
from dd_live.loops.pattern import Pattern
from dd_live.loops.render import bar_length, render_reference


def _next(d, c, *, first: bool = False) -> tuple[int, Pattern]:
    c.drain(0.05)
    if not first:
        c.send("/dd/next")
    cid = c.wait("/dd/candidate", 30)[0]
    return cid, Pattern.from_json(d.session.candidate(cid).pattern)


def _critic_bar(d, cid: int) -> np.ndarray:
    return sf.read(d.session.candidate_dir(cid) / "critic.wav", dtype="float32")[0]


def test_a_3_4_grid_of_12_steps_is_served_shown_heard_by_the_critic_in_2_s_and_learned_from(daemon, tmp_path, kit):
    d, c = daemon(tmp_path / "s", settings=LiveSettings(steps=12, beats=3))
    cid = c.wait("/dd/candidate", 30)[0]
    assert c.wait("/dd/shape", 10) == [4, 12, 3]
    assert len(c.wait("/dd/grid", 10, where=lambda a: a[0] == cid)) == 1 + 4 * 12
    for _ in range(3):
        cid, p = _next(d, c)
        assert (p.steps, p.beats) == (12, 3)
        loop = sf.read(d.current.files["loop_wav"], dtype="float32")[0]
        assert loop.shape[0] == bar_length(120.0, 3)          # the loop is 3 beats at the session tempo
        bar = _critic_bar(d, cid)
        assert bar.shape[0] == 88200                          # the critic hears the bar in its 2 s (90 bpm)
        assert np.allclose(bar, render_reference([p], kit)[0], atol=1e-6)
        assert all(0 <= n.beat < 3 for n in d.current.notes)
    c.send("/dd/like")
    assert c.wait("/dd/trained", 60)[1] == 1                  # the critic learns from a 3-beat bar
    _, p = _next(d, c)
    assert (p.steps, p.beats) == (12, 3)
    assert d.session.settings()["live"]["steps"] == 12 and d.session.settings()["live"]["beats"] == 3


def test_swing_fixes_every_following_loops_swing_the_critic_hears_it_and_minus_one_frees_it(daemon, tmp_path, kit):
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    c.send("/dd/set/feel", 1)
    c.send("/dd/set/swing", 0.25)
    for _ in range(4):
        cid, p = _next(d, c)
        assert p.swing == 0.25 and len(set(p.velocities[p.hits].tolist())) > 1   # feel still searched
        assert np.allclose(_critic_bar(d, cid), render_reference([p], kit)[0], atol=1e-6)
    assert d.session.settings()["live"]["swing"] == 0.25
    c.send("/dd/set/feel", 0)                                  # flat loops swing too
    cid, p = _next(d, c)
    assert p.swing == 0.25 and np.all(p.velocities[p.hits] == 100)
    assert np.allclose(_critic_bar(d, cid), render_reference([p], kit)[0], atol=1e-6)
    c.send("/dd/set/feel", 1)
    c.send("/dd/set/swing", -1)                                # each loop's own again
    swings = {_next(d, c)[1].swing for _ in range(6)}
    assert len(swings) >= 2 and d.settings.swing is None


def test_a_triplet_grid_refuses_swing_and_keeps_serving(daemon, tmp_path):
    d, c = daemon(tmp_path / "s", settings=LiveSettings(steps=12, beats=4))
    c.wait("/dd/candidate", 30)
    c.drain(0.1)
    c.send("/dd/set/swing", 0.2)
    err = c.wait("/dd/error", 10)
    assert err[0] == "args" and "3 steps per beat" in err[1]
    assert d.settings.swing is None
    _, p = _next(d, c)
    assert (p.steps, p.beats, p.swing) == (12, 4, 0.0)


def test_a_session_served_on_another_grid_does_not_bring_back_the_old_grids_loops(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    cid = c.wait("/dd/candidate", 30)[0]
    c.send("/dd/like")
    c.wait("/dd/rated", 10)
    stop_daemon(d, c)
    d, c = daemon(tmp_path / "s", settings=LiveSettings(steps=24, beats=6))
    c.wait("/dd/candidate", 30)
    c.drain(0.2)
    c.send("/dd/undo")                                          # the 4/4 rating goes, its loop is not shown
    c.wait("/dd/status", 10)
    assert not [a for a, args in c.drain(0.5) if a == "/dd/candidate" and args[0] == cid]
    assert d.session.counts() == (0, 0)
    _, p = _next(d, c)
    assert (p.steps, p.beats) == (24, 6)


def test_grid_settings_take_the_options_over_the_session_and_refuse_a_grid_that_does_not_divide():
    live = LiveSettings(bpm=100.0, steps=12, beats=3, swing=0.25)
    assert grid_settings(live, {"bpm": None, "steps": None, "beats": None}) == live
    assert grid_settings(live, {"bpm": 90, "steps": 24, "beats": None}) == LiveSettings(bpm=90.0, steps=24, beats=3,
                                                                                        swing=0.25)
    with pytest.raises(InputError, match="16 steps does not divide into 3 beats"):
        grid_settings(live, {"steps": 16})
    assert grid_settings(live, {"beats": 4}).swing is None     # 3 steps per beat: nothing to swing
    assert LiveSettings.from_dict(live.to_dict()) == live


def test_the_grid_changes_while_serving_at_once_and_the_critic_keeps_what_it_learned(daemon, tmp_path, kit):
    """/dd/set/grid: the next loop comes without a click on the new grid, shown and heard in its 2 s; locks are
    released, a swing the grid cannot play goes, the settings say the grid and the session keeps it; the critic
    trained on a 4/4 bar goes on learning from a 3/4 one; a grid that does not divide is refused in one line."""
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    c.send("/dd/like")
    assert c.wait("/dd/trained", 60)[1] == 1
    c.wait("/dd/candidate", 30)
    c.send("/dd/set/lock", 1, 1)
    c.send("/dd/set/swing", 0.2)
    c.wait("/dd/settings", 10, where=lambda a: a[6] == pytest.approx(0.2))
    c.drain(0.1)
    c.send("/dd/set/grid", 12, 4)                                  # triplets: 3 steps a beat, nothing to swing
    settings = c.wait("/dd/settings", 10, where=lambda a: a[10:12] == [12, 4])
    assert settings[6] == -1 and settings[12:] == [0, 0, 0, 0]
    assert c.wait("/dd/shape", 30) == [4, 12, 4]                  # a new loop at once: no /dd/next was sent
    cid = c.wait("/dd/candidate", 30)[0]
    p = Pattern.from_json(d.session.candidate(cid).pattern)
    assert (p.steps, p.beats, p.swing) == (12, 4, 0.0)
    assert np.allclose(_critic_bar(d, cid), render_reference([p], kit)[0], atol=1e-6)
    c.send("/dd/dislike")
    assert c.wait("/dd/trained", 60)[1] == 2                       # one critic, ratings on two grids
    for _ in range(2):
        _, p = _next(d, c)
        assert (p.steps, p.beats) == (12, 4)
    live = d.session.settings()["live"]
    assert (live["steps"], live["beats"], live["swing"]) == (12, 4, None)
    c.drain(0.1)
    c.send("/dd/set/grid", 16, 3)
    err = c.wait("/dd/error", 10)
    assert err[0] == "args" and "16 steps does not divide into 3 beats" in err[1] and "\n" not in err[1]
    c.send("/dd/set/grid", 10, 4)
    assert c.wait("/dd/error", 10)[0] == "args"
    assert (d.settings.steps, d.settings.beats) == (12, 4)
    c.send("/dd/set/grid", 24, 6)
    _, p = _next(d, c, first=True)
    assert (p.steps, p.beats) == (24, 6) and (d.settings.steps, d.settings.beats) == (24, 6)
    c.send("/dd/set/mode", "explore")                              # the chains' loops: four on the floor kept
    c.send("/dd/set/fotf", 1)
    c.wait("/dd/settings", 10, where=lambda a: a[1] == "explore" and a[2] == 1)
    c.drain(0.1)
    c.send("/dd/set/grid", 12, 3)
    for k in range(3):
        _, p = _next(d, c, first=k == 0)
        assert (p.steps, p.beats) == (12, 3) and p.hits[0, ::4].all()
