"""/dd/session/open's target, checked before the served session is left (dd_live.session.folders.switch_target)."""

from __future__ import annotations

import os

import pytest

from dd_live.errors import InputError
from dd_live.session.folders import switch_target
from dd_live.session.lock import SessionLock
from dd_live.session.session import Session


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "sessions"
    for name in ("served", "older"):
        Session(root / name).close()
    os.utime(root / "older" / "session.sqlite", (1, 1))
    return root


def test_a_new_session_gets_the_kit_named(root, tmp_path):
    kit = tmp_path / "my kit"
    kit.mkdir()
    folder, samples = switch_target("new", str(kit), root / "served", ["/kit/served"], root=root)
    assert folder.parent == root and not folder.exists() and samples == [str(kit.resolve())]
    assert switch_target("new", "research", root / "served", ["/kit/served"], root=root)[1] == ["research"]
    assert switch_target("new", "default", root / "served", ["/kit/served"], root=root)[1] == []
    assert switch_target("fresh", None, root / "served", ["/kit/served"], root=root) == (root / "fresh",
                                                                                       ["/kit/served"])  # this one's


def test_an_existing_session_keeps_its_kit_and_last_is_the_newest_other_one(root):
    assert switch_target("older", None, root / "served", ["/kit/served"], root=root) == (root / "older", None)
    assert switch_target("last", None, root / "served", ["/kit/served"], root=root)[0] == root / "older"
    assert switch_target("last", None, root / "older", ["/kit/older"], root=root)[0] == root / "served"
    with pytest.raises(InputError, match="kit it was made with"):
        switch_target("older", "research", root / "served", ["/kit/served"], root=root)


@pytest.mark.parametrize("spec, samples, message", [
    ("served", None, "is the one being served"),
    ("../x", None, "bad session name"),
    ("a/b", None, "bad session name"),
    ("new", "relative/kit", "absolute path"),
    ("new", "/no/such/kit", "no sample folder"),
    ("new", "/tmp\0x", "absolute path"),
])
def test_bad_names_and_kits_are_one_line_errors(root, spec, samples, message):
    with pytest.raises(InputError, match=message) as err:
        switch_target(spec, samples, root / "served", ["/kit/served"], root=root)
    assert "\n" not in str(err.value)


def test_a_session_another_process_serves_is_refused(root):
    lock = SessionLock(root / "older")
    lock.acquire()
    try:
        with pytest.raises(InputError, match="served by"):
            switch_target("older", None, root / "served", ["/kit/served"], root=root)
    finally:
        lock.release()


def test_a_folder_that_is_not_a_session_is_refused(root):
    (root / "junk").mkdir()
    (root / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a dd_live session"):
        switch_target("junk", None, root / "served", ["/kit/served"], root=root)


def test_each_session_lists_its_kit_and_a_malformed_one_is_the_built_in(root):
    from dd_live.session.folders import list_sessions

    s = Session(root / "served", create=False)
    s.save_settings({"samples": ["/my/kit", "research"]})
    s.close()
    s = Session(root / "older", create=False)
    s.save_settings({"samples": {"not": "a list"}})
    s.close()
    rows = {r["name"]: r for r in list_sessions(root)}
    assert rows["served"]["samples"] == ["/my/kit", "research"] and rows["older"]["samples"] == []


def test_kept_edits_are_the_liked_edits_with_their_roots_and_a_damaged_row_is_skipped(root):
    import numpy as np

    from dd_live.loops.pattern import Pattern

    s = Session(root / "served", create=False)
    hits = np.zeros((4, 16), dtype=bool)
    hits[1, 4] = True
    rows = {}
    for cid in (1, 2, 3, 4, 5):
        h = hits.copy()
        h[0, cid] = cid > 1                                   # 1 is the proposal; 2-5 its edits
        rows[cid] = h
        s.add_candidate(cid, Pattern(h, ("a", "b", "c", "d")).to_json(), 0.5, 0, 0, 120.0,
                        "edit" if cid > 1 else "lean")
        if cid > 1:
            s.add_edit(cid, 1)
    s.rate(2, True)
    s.rate(3, False)                                          # a disliked edit is no kept one
    s.rate(5, True)
    with s._tx() as c:
        c.execute("UPDATE candidates SET pattern = 'not json' WHERE id = 5")
    got = s.kept_edits()
    s.close()
    assert len(got) == 1 and np.array_equal(got[0][0], rows[2]) and np.array_equal(got[0][1], rows[1])
