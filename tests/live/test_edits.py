"""Editing a loop is rating it (/dd/edit, /dd/edit/sound): the edited loop is a candidate of its own, and a like
of it is also a dislike of the loop the daemon proposed; undo and redo take and bring both."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dd_live.loops.pattern import Pattern
from dd_live.loops.render import render_reference


def _current(c, timeout: float = 30.0) -> tuple[int, list[int]]:
    cid = c.wait("/dd/candidate", timeout)[0]
    return cid, c.wait("/dd/grid", where=lambda a: a[0] == cid)[1:]


def test_an_edit_is_a_candidate_of_its_own_and_keeping_it_dislikes_the_proposal(daemon):
    d, c = daemon()
    root, cells = _current(c)
    steps = d.current.pattern.steps
    step = next(s for s in range(steps) if cells[s] == 0)          # an empty step of track 1: put a kick there
    c.send("/dd/edit", root, 1, step, 90)
    first = c.wait("/dd/candidate", 20, lambda a: a[0] != root)
    assert c.wait("/dd/edited", 10) == [first[0], root, root]
    grid = c.wait("/dd/grid", where=lambda a: a[0] == first[0])[1:]
    want = list(cells)
    want[step] = 90
    assert grid == want
    assert all(Path(f).is_file() for f in first[3:6])
    row = d.session.candidate(first[0])
    assert row.mode == "edit" and d.current.id == first[0]
    # what the critic trains on is the edited bar, and its score is the critic's for that bar
    p = Pattern.from_json(row.pattern)
    assert p.velocities[0, step] == 90 and p.hits[0, step]
    audio = render_reference([p], d.library)[0]
    stored = d.session.candidate_dir(first[0]) / "critic.wav"
    import soundfile as sf
    assert np.allclose(sf.read(str(stored), dtype="float32")[0], audio, atol=1e-6)
    feats = d.generator.scorer.features(audio[None])
    assert abs(first[1] - float(d.generator.scorer.score_features(feats)[0])) < 1e-4
    # a second edit builds on the first: its root is still the proposal
    c.send("/dd/edit", first[0], 1, step, 0)
    second = c.wait("/dd/candidate", 20, lambda a: a[0] not in (root, first[0]))[0]
    assert c.wait("/dd/edited", 10) == [second, first[0], root]
    assert c.wait("/dd/grid", where=lambda a: a[0] == second)[1:] == cells
    c.drain(0.2)
    c.send("/dd/like")                                   # keeping the edit
    assert c.wait("/dd/rated")[:2] == [root, "dislike"]
    assert c.wait("/dd/rated")[:2] == [second, "like"]
    assert d.session.ratings() == [(root, False), (second, True)]
    assert d.session.label(first[0]) is None             # the edit in between is never rated
    assert not d.generator._evidence()["cells"].any()     # the second edit undid the first: no cell changed
    c.send("/dd/undo")                                   # one undo takes back both
    c.wait("/dd/status")
    assert d.session.ratings() == []
    c.send("/dd/redo")                                   # and one redo brings both back
    assert c.wait("/dd/rated")[:2] == [root, "dislike"]
    assert c.wait("/dd/rated")[:2] == [second, "like"]
    assert d.session.ratings() == [(root, False), (second, True)]


def test_a_disliked_edit_and_an_edit_of_a_rated_loop_imply_nothing(daemon):
    d, c = daemon()
    root, cells = _current(c)
    c.send("/dd/edit", root, 2, 0, 0 if cells[d.current.pattern.steps] else 100)
    edit = c.wait("/dd/candidate", 20, lambda a: a[0] != root)[0]
    c.drain(0.2)
    c.send("/dd/dislike")
    assert c.wait("/dd/rated")[:2] == [edit, "dislike"]
    assert d.session.ratings() == [(edit, False)]
    c.send("/dd/rate", root, 1)                          # the proposal liked on its own
    c.wait("/dd/rated")
    c.send("/dd/edit", root, 2, 0, 0 if cells[d.current.pattern.steps] else 100)
    again = c.wait("/dd/edited", 20)[0]
    c.drain(0.2)
    c.send("/dd/rate", again, 1)
    assert c.wait("/dd/rated")[:2] == [again, "like"]
    assert d.session.ratings() == [(edit, False), (root, True), (again, True)]


def test_a_sound_edit_and_bad_edits(daemon):
    d, c = daemon()
    root, _ = _current(c)
    p = d.current.pattern
    other = next(s for s in d.library.samples if s.key not in p.samples)
    name = other.key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    c.send("/dd/edit/sound", root, 3, name)
    new = c.wait("/dd/edited", 20)[0]
    assert Pattern.from_json(d.session.candidate(new).pattern).samples[2] == other.key
    n = len(d.edits.root)
    for args, code in [((root, 9, 0, 100), "args"), ((root, 1, p.steps, 100), "args"), ((999999, 1, 0, 100), "unknown-id"),
                       ((root, 1, 0, 128), "args"), ((root, 1, 0), "args")]:
        c.send("/dd/edit", *args)
        assert c.wait("/dd/error", 10)[0] == code, args
    c.send("/dd/edit/sound", root, 1, "no such sound")
    assert c.wait("/dd/error", 10)[0] == "args"
    c.send("/dd/edit/sound", root, 1, p.samples[0])      # what it plays already
    assert c.wait("/dd/error", 10)[0] == "state"
    assert len(d.edits.root) == n                        # no refused edit made a loop


def test_a_tracks_sound_choices_are_its_roles(daemon):
    """/dd/sounds id track: the track's own sound first, then the other sounds of its role (what a Max patch's
    menu or any OSC front end offers for /dd/edit/sound); bad ids and tracks are refused in one line."""
    d, c = daemon()
    root, _ = _current(c)
    p, lib = d.current.pattern, d.library
    roles = lib.roles
    for track in range(1, p.tracks + 1):
        c.send("/dd/sounds", root, track)
        got = c.wait("/dd/sounds", 10)
        assert got[:3] == [root, track, p.samples[track - 1]]
        role = roles[lib.index(p.samples[track - 1])]
        want = [s.key for i, s in enumerate(lib.samples) if roles[i] == role and s.key != p.samples[track - 1]]
        assert got[3:] == want and want
    for args, code in [((root, 9), "args"), ((999999, 1), "unknown-id"), ((root,), "args")]:
        c.send("/dd/sounds", *args)
        assert c.wait("/dd/error", 10)[0] == code, args


def test_which_proposal_an_edit_came_from_outlives_a_restart(daemon, tmp_path):
    """An edit made before a restart and liked after it still dislikes the loop the daemon proposed."""
    from dd_live.testing.harness import stop_daemon

    d, c = daemon(tmp_path / "s")
    root, cells = _current(c)
    step = next(s for s in range(d.current.pattern.steps) if cells[s] == 0)
    c.send("/dd/edit", root, 1, step, 100)
    edit = c.wait("/dd/candidate", 20, lambda a: a[0] != root)[0]
    c.send("/dd/edit", edit, 1, step, 127)
    second = c.wait("/dd/candidate", 20, lambda a: a[0] not in (root, edit))[0]
    assert d.session.edit_roots() == {edit: root, second: root}
    stop_daemon(d, c)
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    c.send("/dd/rate", second, 1)                        # the edit from before the restart, kept now
    assert c.wait("/dd/rated")[:2] == [root, "dislike"]
    assert c.wait("/dd/rated")[:2] == [second, "like"]
    assert d.session.ratings() == [(root, False), (second, True)]
    c.drain(0.2)
    c.send("/dd/undo")                                   # one undo takes back both, as before a restart
    assert c.wait("/dd/status", 10)[0] == 0 and d.session.ratings() == []


def test_a_kept_edit_leans_the_search_to_the_cell_it_changed(daemon):
    """What the next loops are searched with: the kept edit's cell (a kick added) as a term of its own
    (learn.policy.cell_terms), gone again with an undo."""
    d, c = daemon()
    root, cells = _current(c)
    step = next(s for s in range(d.current.pattern.steps) if cells[s] == 0)
    c.send("/dd/edit", root, 1, step, 100)
    edit = c.wait("/dd/candidate", 20, lambda a: a[0] != root)[0]
    c.wait("/dd/edited", 10)
    c.drain(0.2)
    c.send("/dd/like")
    c.wait("/dd/rated", where=lambda a: a[0] == edit)
    terms = d.generator._evidence()["cells"]
    assert terms[0, step] == np.log(2.0) and np.count_nonzero(terms) == 1
    c.send("/dd/undo")
    c.wait("/dd/status")
    assert d.generator._evidence()["cells"] is None
