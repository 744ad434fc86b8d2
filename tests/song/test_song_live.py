"""Song mode from a live session (issue 16): /dd/song over OSC, off the OSC thread, in the session's taste, into
the session's own folder; bad paths refused in one line; and ``dd-live song --session`` reading the same taste."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dd_live.cli import main
from dd_live.testing.harness import stop_daemon
from dd_live.learn.critic import Critic
from dd_live.learn.sampler import Scorer
from dd_live.learn.trainer import TrainConfig, Trainer
from dd_live.loops.pattern import random_arrays
from dd_live.song.taste import open_taste

from .checks import PARTS, check_song, make_midi


def _liked_session(daemon, folder):
    """A daemon on ``folder`` whose critic has learned from some ratings, swinging every loop by 0.2."""
    d, c = daemon(folder)
    c.wait("/dd/candidate", 30)
    c.send("/dd/set/swing", 0.2)
    for k in range(4):
        c.drain(0.05)
        c.send("/dd/like" if k % 2 == 0 else "/dd/dislike")
        c.wait("/dd/candidate", 30)
    c.wait("/dd/trained", 60, where=lambda a: a[1] >= 4)
    return d, c


def test_osc_song_in_the_sessions_taste_while_the_daemon_keeps_serving(daemon, tmp_path):
    d, c = _liked_session(daemon, tmp_path / "s")
    src = make_midi(tmp_path / "my song!.mid", PARTS[:3])
    c.drain(0.05)
    c.send("/dd/song", str(src))
    c.send("/dd/next")                                   # the OSC thread is not busy with the song
    c.wait("/dd/candidate", 30)
    name, out = c.wait("/dd/song/done", 120)
    assert name == "my song!.mid"
    out = os.path.realpath(out)
    assert out == os.path.realpath(tmp_path / "s" / "songs" / "my_song")      # confined, with a safe name
    doc = check_song(src, tmp_path / "s" / "songs" / "my_song")
    assert doc["taste"] == "session s"
    assert all(p["swing"] == pytest.approx(0.2) for k, p in doc["loops"].items() if not k.startswith("ending"))
    # asked again: the folder is replaced, not refused
    c.send("/dd/song", str(src))
    c.wait("/dd/song/done", 120)
    stop_daemon(d, c)


def test_osc_song_refuses_bad_paths_in_one_line_and_keeps_serving(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    (tmp_path / "dir.mid").mkdir()
    (tmp_path / "text.mid").write_text("not midi\n")
    os.symlink("/etc/passwd", tmp_path / "evil.mid")
    cases = {"relative.mid": "absolute", str(tmp_path / "../../etc/passwd"): "not a MIDI song file",
             str(tmp_path / "missing.mid"): "cannot read", str(tmp_path / "dir.mid"): "not a file",
             "": "non-empty", str(tmp_path / "text.mid"): "not a readable MIDI file",
             str(tmp_path / "evil.mid"): "not a readable MIDI file"}
    for path, why in cases.items():
        c.drain(0.05)
        c.send("/dd/song", path)
        code, message = c.wait("/dd/error", 30)
        assert code == "args" and why in message and "\n" not in message, (path, message)
    c.send("/dd/song", 3)
    assert c.wait("/dd/error", 10)[0] == "args"
    assert not (tmp_path / "s" / "songs").exists() or not any((tmp_path / "s" / "songs").rglob("*.wav"))
    c.send("/dd/next")
    c.wait("/dd/candidate", 30)


def test_an_osc_song_past_its_time_limit_ends_in_one_line_and_the_next_is_arranged(daemon, tmp_path, monkeypatch):
    from dd_live.live import song_worker

    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    src = make_midi(tmp_path / "long.mid", PARTS[:2])
    monkeypatch.setattr(song_worker, "MAX_SONG_JOB_S", 0.0)
    c.drain(0.05)
    c.send("/dd/song", str(src))
    code, message = c.wait("/dd/error", 60)
    assert code == "args" and message == "song long.mid: still arranging after 0 s: ended"
    assert not (tmp_path / "s" / "songs" / "long" / "arrangement.json").exists()
    monkeypatch.setattr(song_worker, "MAX_SONG_JOB_S", 300.0)
    c.send("/dd/song", str(src))
    assert c.wait("/dd/song/done", 120)[0] == "long.mid"


def test_cli_song_with_a_session_uses_its_critic_kit_and_swing(daemon, tmp_path, kit, capsys):
    d, c = _liked_session(daemon, tmp_path / "s")
    stop_daemon(d, c)
    taste = open_taste(session=str(tmp_path / "s"), samples=None, seed=0)
    # the taste scores with the session's latest critic, not a new one
    trainer = Trainer(Critic(), TrainConfig(seed=0))
    trainer.load(tmp_path / "s" / "critic" / "latest.pt")
    hits, idx = random_arrays(kit, np.random.default_rng(5), 8)
    want = Scorer(kit, trainer.critic.eval(), swing=0.2)(hits, idx)
    assert np.allclose(taste.score(hits, idx, 4), want, atol=1e-5)
    assert np.ptp(want) > 1e-3                                   # a trained critic, not a flat one
    src = make_midi(tmp_path / "x.mid", PARTS[:2])
    assert main(["song", str(src), "--out", str(tmp_path / "out"), "--session", str(tmp_path / "s"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["taste"].startswith("session s (its critic chose among the drum prior's") and summary["bars"] == 17
    assert main(["song", str(src), "--out", str(tmp_path / "out"), "--session", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "exists" in err and "--force" in err and err.count("\n") == 1


def test_cli_song_errors_are_one_line(tmp_path, capsys):
    src = make_midi(tmp_path / "x.mid", PARTS[:1])
    (tmp_path / "bad.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    for args in (["song", str(tmp_path / "nope.mid"), "--out", str(tmp_path / "o")],
                 ["song", str(tmp_path / "bad.mid"), "--out", str(tmp_path / "o")],
                 ["song", str(src), "--out", str(tmp_path / "o"), "--session", "no-such-session"],
                 ["song", str(src), "--out", str(tmp_path / "o"), "--session", "x", "--samples", "/tmp"],
                 ["song", str(src), "--out", str(tmp_path / "o"), "--seed", "-1"],
                 ["song", str(src), "--out", str(src)]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("dd-live: error:") and err.count("\n") == 1, (args, err)
    assert not (tmp_path / "o").exists()
    assert main(["song", str(src), "--out", str(tmp_path / "o"), "--plot", str(tmp_path / "o.png")]) == 0
    out, err = capsys.readouterr()
    assert "wrote song.mid" in out and "sections arranged" in err
    assert (tmp_path / "o.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_osc_song_cancel_stops_the_song_in_progress_and_the_waiting_one_leaving_the_folder_as_it_was(
        daemon, tmp_path, monkeypatch):
    import time

    from dd_live.song import make

    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    c.drain(0.05)
    c.send("/dd/song/cancel")
    assert c.wait("/dd/error", 10) == ["state", "no song is being arranged"]
    src = make_midi(tmp_path / "tune.mid", PARTS[:2])
    c.send("/dd/song", str(src))
    c.wait("/dd/song/done", 120)
    done = (tmp_path / "s" / "songs" / "tune" / "arrangement.json").read_bytes()
    arrange, started = make.arrange, []

    def slow_arrange(song, taste, *, progress=None, check=None):   # a long song: many bars, a check before each
        started.append(time.monotonic())
        for _ in range(2000):
            check()
            time.sleep(0.01)
        return arrange(song, taste, progress=progress, check=check)

    monkeypatch.setattr(make, "arrange", slow_arrange)
    c.send("/dd/song", str(src))
    while not started:
        time.sleep(0.01)
    c.send("/dd/song", str(src))                                    # one more waits its turn
    c.send("/dd/status")
    c.wait("/dd/status", 10)                                        # (taken in by then)
    c.send("/dd/song/cancel")
    told = [c.wait("/dd/error", 10, where=lambda a: "cancelled" in a[1]) for _ in range(2)]
    assert all(t == ["state", "song tune.mid: cancelled; its folder is as it was"] for t in told)
    assert time.monotonic() - started[0] < 5 and len(started) == 1   # the waiting one never began
    assert (tmp_path / "s" / "songs" / "tune" / "arrangement.json").read_bytes() == done
    monkeypatch.setattr(make, "arrange", arrange)
    c.send("/dd/song", str(src))                                    # a song asked for after a cancel is arranged
    assert c.wait("/dd/song/done", 120)[0] == "tune.mid"
    assert d.failure() is None
