"""Sessions: ratings, relabels, undo and reopening; session names and folders."""

from __future__ import annotations

import os
import sqlite3

import pytest

from dd_live.errors import InputError
from dd_live.session.folders import DB_NAME, check_name, list_sessions, resolve
from dd_live.session.session import Session


def _cand(s: Session, cid: int) -> None:
    s.add_candidate(cid, "{}", 0.5, 0, 0, 120.0, "explore")


def test_a_storm_of_undos_takes_back_at_most_undo_depth_and_redo_brings_every_one_back(tmp_path):
    from dd_live.osc.protocol import UNDO_DEPTH

    s = Session(tmp_path / "a")
    n = UNDO_DEPTH + 10
    for cid in range(1, n + 1):
        _cand(s, cid)
        s.rate(cid, cid % 3 == 0)
    before = s.ratings()
    for k in range(UNDO_DEPTH):
        assert s.undo() == n - k                     # newest first
    with pytest.raises(InputError, match=f"{UNDO_DEPTH} ratings in a row at most"):
        s.undo()
    assert s.ratings() == before[:n - UNDO_DEPTH]    # the storm stopped there
    assert s.redo() == (n - UNDO_DEPTH + 1, (n - UNDO_DEPTH + 1) % 3 == 0)   # the last undone comes back first
    assert s.undo() == n - UNDO_DEPTH + 1            # a redo gives one undo back, no more
    with pytest.raises(InputError):
        s.undo()
    s.rate(n - 1, True)                              # rated again since its undo: redo leaves the new label
    s.close()
    s = Session(tmp_path / "a", create=False)        # undone ratings are kept across a restart
    while s.redo() is not None:
        pass
    after = dict(s.ratings())
    assert after == {**dict(before), n - 1: True}
    # each rating back in its first place; the one given anew after its undo is the newest
    assert [c for c, _ in s.ratings()] == [c for c, _ in before if c != n - 1] + [n - 1]
    assert s.undo() == n and s.redo() == (n, n % 3 == 0)          # the latest redone is the latest touched
    for _ in range(UNDO_DEPTH):                                    # a rating since the storm: a full depth again
        s.undo()
    s.close()


def test_session_ratings_relabel_undo_and_reopen(tmp_path):
    s = Session(tmp_path / "a")
    for cid in (1, 2, 3):
        _cand(s, cid)
    assert s.next_id() == 4
    assert s.rate(1, True) == (1, 0)
    assert s.rate(2, False) == (1, 1)
    assert s.rate(3, True) == (2, 1)
    assert s.rate(1, False) == (1, 2)              # replaced, keeps its place
    assert s.ratings() == [(1, False), (2, False), (3, True)]
    assert s.undo() == 1                           # the latest action is undone
    assert s.ratings() == [(2, False), (3, True)]
    with pytest.raises(InputError):
        s.rate(99, True)
    s.save_settings({"live": {"bpm": 97.5}})
    s.close()
    s2 = Session(tmp_path / "a", create=False)
    assert s2.ratings() == [(2, False), (3, True)] and s2.settings()["live"]["bpm"] == 97.5
    assert s2._query("PRAGMA journal_mode")[0][0] == "wal"
    assert s2._query("PRAGMA synchronous")[0][0] == 2  # FULL
    s2.close()
    rows = list_sessions(tmp_path)
    assert [(r["name"], r["ratings"], r["likes"]) for r in rows] == [("a", 2, 1)]


@pytest.mark.parametrize("bad", ["", "../x", ".hidden", "a b", "x" * 65, "é"])
def test_session_names_are_restricted(bad):
    with pytest.raises(InputError, match="bad session name"):
        check_name(bad)


def test_session_specs_with_a_slash_are_folders(tmp_path):
    assert resolve(str(tmp_path / "x"), root=tmp_path / "r") == (tmp_path / "x").resolve()
    assert resolve("gig-1", root=tmp_path / "r") == tmp_path / "r" / "gig-1"
    assert resolve(None, root=tmp_path / "r").parent == tmp_path / "r"


def test_last_is_the_newest_session_and_every_session_says_how_to_come_back(tmp_path):
    import os

    from dd_live.session.folders import newest, resume_command

    root = tmp_path / "r"
    with pytest.raises(InputError, match="no sessions in"):
        resolve("last", root=root)
    for k, name in enumerate(["b-old", "a-new", "c-mid"]):
        Session(root / name).close()
        os.utime(root / name / "session.sqlite", (1_000_000 + k, [3, 9, 5][k] * 1_000_000))
    assert resolve("last", root=root) == newest(root) == root / "a-new"
    (root / "b-old" / "session.sqlite-wal").write_bytes(b"")   # the log of a session served later counts too
    os.utime(root / "b-old" / "session.sqlite-wal", (0, 10_000_000))
    assert resolve("last", root=root) == root / "b-old"
    (root / "z-not-a-session").mkdir()
    assert resolve("last", root=root) == root / "b-old"
    assert resume_command(root / "a-new", root=root) == "dd-live serve --session a-new"
    odd = tmp_path / "my gigs" / "x"
    assert resume_command(odd, root=root) == f"dd-live serve --session '{odd.resolve()}'"


def test_a_folder_nobody_may_read_is_listed_as_such_and_a_session_in_use_is_marked(tmp_path, monkeypatch):
    from pathlib import Path

    from dd_live.session.folders import sessions_table

    for name in ("a", "b"):
        s = Session(tmp_path / name)
        _cand(s, 1)
        s.rate(1, True)
        s.close()
    (tmp_path / "locked").mkdir()
    real = Path.is_file

    def is_file(path):                 # what a folder of another user (mode 700) gives: root reads everything here
        if path.parent.name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(Path, "is_file", is_file)
    busy = Session(tmp_path / "b", create=False, lock=True)
    try:
        rows = {r["name"]: r for r in list_sessions(tmp_path)}
        table = sessions_table(list(rows.values()), tmp_path)
    finally:
        busy.close()
    assert rows["a"]["ratings"] == 1 and "in_use_by" not in rows["a"]
    assert rows["b"]["in_use_by"] == os.getpid() and rows["locked"]["error"] == "unreadable (Permission denied)"
    lines = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert f"(in use by process {os.getpid()})" in lines["b"] and "in use" not in lines["a"]
    assert "unreadable (Permission denied)" in lines["locked"]


def test_candidates_files_are_kept_within_a_budget_oldest_first_rated_ones_keeping_their_rows(tmp_path):
    from dd_live.live.loop import keep_within_budget

    s = Session(tmp_path / "a")
    mb = 2 ** 20
    for cid in range(1, 21):                                  # 20 candidates of 1 MB + a MIDI file, made in order
        _cand(s, cid)
        d = s.candidate_dir(cid)
        (d / "loop_120.wav").write_bytes(b"\0" * (mb // 2))
        (d / "critic.wav").write_bytes(b"\0" * (mb // 2))
        (d / "loop_120.mid").write_bytes(b"MThd")
        os.utime(d, (1000.0 + cid, 1000.0 + cid))
    for cid in (2, 4, 6):
        s.rate(cid, True)
    assert keep_within_budget(s, keep=set(), budget=30 * mb) == []          # under budget: nothing touched
    thinned = keep_within_budget(s, keep={1, 3}, budget=10 * mb)
    size = sum(f.stat().st_size for f in (s.folder / "candidates").rglob("*") if f.is_file())
    assert size <= 9 * mb + 20 * 4096
    assert thinned == sorted(thinned) and 1 not in thinned and 3 not in thinned   # oldest first; kept ones stay
    for cid in (2, 4, 6):                                      # rated: audio gone, row, json and MIDI kept
        d = s.candidate_dir(cid)
        assert (d / "candidate.json").is_file() and (d / "loop_120.mid").is_file() and not (d / "critic.wav").exists()
        assert s.candidate(cid) is not None
    assert not s.candidate_dir(5).exists() and s.candidate_dir(20).is_dir()   # unrated: the folder goes whole
    assert (s.candidate_dir(1) / "critic.wav").is_file()
    s.close()


def test_export_takes_the_sessions_note_map_unless_told_and_rewrites_an_export_of_another(tmp_path, kit, capsys):
    """dd-live export: Drum Rack pads for a session served without --gm, GM notes by family for one served
    with it; --gm/--no-gm override; an export there already with the other note map is not counted as done:
    it is refused in one line, and written again with --force."""
    import numpy as np

    from dd_live.cli import main
    from dd_live.loops.export import made_as
    from dd_live.loops.pattern import random_pattern

    rng = np.random.default_rng(1)
    s = Session(tmp_path / "s")
    for cid in (1, 2):
        s.add_candidate(cid, random_pattern(kit, rng).to_json(), 0.5, 0, 0, 110.0, "lean")
        s.rate(cid, True)
    s.save_settings({"live": {"gm": True}})
    s.close()
    out = tmp_path / "out"
    assert main(["export", str(tmp_path / "s"), "--out", str(out)]) == 0
    assert {made_as(f) for f in out.iterdir()} == {(110.0, True)}
    assert main(["export", str(tmp_path / "s"), "--out", str(out)]) == 0
    assert "2 were there already" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "s"), "--out", str(out), "--no-gm"]) == 1
    assert "refusing to overwrite an export (use --force)" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "s"), "--out", str(out), "--no-gm", "--force"]) == 0
    assert {made_as(f) for f in out.iterdir()} == {(110.0, False)}


def test_settings_keep_loops_own_feel_apart_from_the_feel_layer_and_read_older_sessions():
    """/dd/set/feel's switch is own_feel, the layer takes teach is feel_layer (kept in its own table); a session
    stored before the names parted says "groove" for the switch."""
    from dd_live.session.settings import LiveSettings

    assert LiveSettings.from_dict({"groove": True}).own_feel is True
    s = LiveSettings(own_feel=True, feel_layer=(0.1,) * 16)
    d = s.to_dict()
    assert d["own_feel"] is True and "groove" not in d and "feel_layer" not in d
    assert LiveSettings.from_dict(d).own_feel is True and LiveSettings.from_dict(d).feel_layer == ()


def test_edits_roots_are_kept_and_an_older_session_gets_their_table(tmp_path):
    s = Session(tmp_path / "a")
    for cid in range(1, 4):
        _cand(s, cid)
    s.add_edit(2, 1)
    s.add_edit(3, 1)
    assert s.edit_roots() == {2: 1, 3: 1}
    s.close()
    s = Session(tmp_path / "a", create=False)
    assert s.edit_roots() == {2: 1, 3: 1}
    s.close()
    conn = sqlite3.connect(str(tmp_path / "a" / DB_NAME))  # a session from before edits were kept: no table
    conn.execute("DROP TABLE edits")
    conn.commit()
    conn.close()
    s = Session(tmp_path / "a", create=False)
    assert s.edit_roots() == {}
    s.add_edit(3, 1)
    assert s.edit_roots() == {3: 1}
    s.close()
