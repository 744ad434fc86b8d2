"""What a performer (or a hostile tester) does must not lose data, hang, or print a traceback:
sessions locked, damaged files recovered, failed starts without side effects, CLI input errors."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dd_live.cli import main
from dd_live.errors import InputError
from dd_live.testing.oscclient import free_udp_port
from dd_live.loops.pattern import random_pattern
from dd_live.sound.samples import load_library
from dd_live.session.lock import SessionBusy, SessionLock
from dd_live.session.folders import list_sessions
from dd_live.testing.harness import stop_daemon
from dd_live.session.session import Session

ROOT = Path(__file__).resolve().parents[2]


def _fill(folder: Path, kit, candidates: int = 300, rated: int = 40) -> dict[int, bool]:
    import numpy as np

    rng = np.random.default_rng(0)
    s = Session(folder)
    labels = {}
    for cid in range(1, candidates + 1):
        p = random_pattern(kit, rng)
        s.add_candidate(cid, p.to_json() + " " * 2000, 0.5, 0, 0, 120.0, "explore")  # big rows: many pages
    for cid in range(1, rated + 1):
        labels[cid] = bool(cid % 3)
        s.rate(cid, labels[cid])
    s.close()
    return labels


# ---------------------------------------------------------------- the session lock

def test_a_session_is_served_by_one_process_and_a_dead_holders_lock_is_taken_over(tmp_path, kit):
    folder = tmp_path / "s"
    Session(folder).close()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from dd_live.session.session import Session; "
        f"s = Session({str(folder)!r}, create=False, lock=True); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SessionBusy, match=f"PID {holder.pid}"):
            Session(folder, create=False, lock=True)
        assert SessionLock.holder(folder) == holder.pid
        assert list_sessions(tmp_path)[0]["in_use_by"] == holder.pid
        # the CLI says so in one line, exit code 2
        r = subprocess.run([sys.executable, "-m", "dd_live.cli", "serve", "--session", str(folder), "--osc-port", str(free_udp_port()),
                            "--no-audio", "--midi-out", "none"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and f"PID {holder.pid}" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    s = Session(folder, create=False, lock=True)  # the killed holder's lock is taken over
    assert SessionLock.holder(folder) == os.getpid()
    s.close()
    s.close()                                     # idempotent
    assert SessionLock.holder(folder) is None


def test_deleting_the_lock_file_lets_no_second_daemon_serve_the_session(tmp_path):
    folder = tmp_path / "s"
    first = Session(folder, lock=True)
    (folder / "lock").unlink()                    # the folder itself is locked too
    with pytest.raises(SessionBusy, match="is in use by"):
        Session(folder, create=False, lock=True)
    assert SessionLock.holder(folder) is not None
    first.close()
    assert SessionLock.holder(folder) is None
    Session(folder, create=False, lock=True).close()


# ---------------------------------------------------------------- damaged database

def _corrupt_pages(db: Path, first: float, last: float) -> None:
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    pages = len(data) // page
    for k in range(int(pages * first), int(pages * last)):
        data[k * page:(k + 1) * page] = os.urandom(page)
    db.write_bytes(bytes(data))


def test_a_damaged_database_is_recovered_into_a_fresh_file_and_the_old_kept(tmp_path, kit):
    folder = tmp_path / "s"
    labels = _fill(folder, kit)
    db = folder / "session.sqlite"
    _corrupt_pages(db, 0.55, 0.75)                 # candidates' pages in the middle
    with pytest.raises(sqlite3.DatabaseError):
        c = sqlite3.connect(str(db))
        c.execute("SELECT COUNT(*) FROM candidates WHERE length(pattern) > 0").fetchall()
    rows = list_sessions(tmp_path)
    assert len(rows) == 1 and "damaged" in rows[0]["error"]
    out = tmp_path / "out"
    assert main(["export", str(folder), "--liked", "--out", str(out)]) == 0      # recovers, then exports
    assert len(list(out.iterdir())) == sum(labels.values())
    s = Session(folder, create=False)
    try:
        assert dict(s.ratings()) == labels             # every rating back, candidates from candidate.json
        assert s.candidate_count() == 300
        assert s.candidate(150).pattern.startswith("{")
    finally:
        s.close()
    assert list((folder).glob("session.sqlite.damaged-*"))
    assert list_sessions(tmp_path)[0]["ratings"] == 40


def test_a_database_with_nothing_readable_is_named_in_one_line(tmp_path, kit):
    folder = tmp_path / "s"
    Session(folder).close()
    (folder / "session.sqlite").write_bytes(os.urandom(8192))
    with pytest.raises(InputError, match="session.sqlite is damaged and nothing in it could be read"):
        Session(folder, create=False)
    other = tmp_path / "t"
    Session(other).close()
    rows = {r["name"]: r for r in list_sessions(tmp_path)}
    assert "error" in rows["s"] and rows["t"]["ratings"] == 0      # the others are still listed
    assert main(["sessions", "--root", str(tmp_path)]) == 0


# ---------------------------------------------------------------- session folders

def test_a_non_empty_folder_that_is_not_a_session_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("my own files")
    with pytest.raises(InputError, match="not a dd_live session and is not empty"):
        Session(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
    with pytest.raises(InputError, match="NUL"):
        from dd_live.session.folders import resolve

        resolve("a/b\0c")


# ---------------------------------------------------------------- the CLI: one line, exit 2, nothing left behind

@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    root = tmp_path / "sessions"
    monkeypatch.setenv("DD_LIVE_SESSIONS", str(root))
    (tmp_path / "no-config.toml").write_text("")      # an empty config file: the defaults
    monkeypatch.setenv("DD_LIVE_CONFIG", str(tmp_path / "no-config.toml"))
    return root


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("argv,fragment", [
    (["render", "--seed", "-1"], "--seed must be 0 or more"),
    (["render", "--repeats", "-3"], "repeats must be 1-64"),
    (["render", "--repeats", "0"], "repeats must be 1-64"),
    (["render", "--samples", "a\0b"], "NUL"),
])
def test_render_input_errors_are_one_line_and_write_nothing(tmp_path, capsys, argv, fragment):
    out = tmp_path / "out"
    assert fragment in _one_line_error(capsys, argv + ["--out", str(out)])
    assert not out.exists()
    assert main(["render", "--out", str(out), "--seed", "1"]) == 0   # and a rerun is not refused


def test_failed_serves_leave_no_session_folder(tmp_path, capsys, cli_env):
    import socket

    base = ["serve", "--no-audio", "--midi-out", "none", "--session", "new"]
    assert "does not exist" in _one_line_error(capsys, base + ["--samples", str(tmp_path / "missing")])
    assert "not a readable pretrained critic" in _one_line_error(capsys, base + ["--init", "/etc/passwd"])
    assert "NUL" in _one_line_error(capsys, base[:-1] + ["a\0b"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        assert "cannot listen" in _one_line_error(capsys, base + ["--osc-port", str(port)])
    assert "16 steps does not divide into 3 beats" in _one_line_error(capsys, base + ["--steps", "16", "--beats", "3"])
    assert "--steps must be 12 or 16 or 24" in _one_line_error(capsys, base + ["--steps", "10"])
    assert not cli_env.exists() or not any(cli_env.iterdir())
    (tmp_path / "cfg.toml").write_text('beats = 5\n')
    assert "beats must be 3 or 4 or 6" in _one_line_error(capsys, ["serve", "--config", str(tmp_path / "cfg.toml")])
    (tmp_path / "cfg.toml").write_text('session = "a\\u0000b"\n')
    assert "session must be" in _one_line_error(capsys, ["serve", "--config", str(tmp_path / "cfg.toml")])
    (tmp_path / "cfg.toml").write_text('samples = ["a\\u0000b"]\n')
    assert "samples must be" in _one_line_error(capsys, ["serve", "--config", str(tmp_path / "cfg.toml")])
    # an ordinary folder holding the user's files never becomes a session
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "song.als").write_text("x")
    assert "not a dd_live session" in _one_line_error(capsys, ["serve", "--session", str(mine)])
    assert [p.name for p in mine.iterdir()] == ["song.als"]
    assert main(["sessions"]) == 0 and "no sessions" in capsys.readouterr().out


def test_another_kit_on_an_existing_session_is_refused(tmp_path, capsys, cli_env):
    folder = cli_env / "made"
    s = Session(folder)
    s.save_settings({"samples": []})              # made with the built-in kit
    s.close()
    kit2 = tmp_path / "kit2"
    kit2.mkdir()
    err = _one_line_error(capsys, ["serve", "--session", "made", "--samples", str(kit2), "--no-audio"])
    assert "made with the built-in kit" in err and "start a new session" in err
    assert Session(folder, create=False).settings()["samples"] == []


# ---------------------------------------------------------------- damaged critic checkpoints

@pytest.mark.parametrize("damage", [b"not a checkpoint\n" * 10, b"\x80\x02garbage", b""])
def test_a_damaged_checkpoint_is_moved_aside_and_the_critic_rebuilt_from_the_ratings(tmp_path, kit, daemon, damage, caplog):
    folder = tmp_path / "s"
    d, c = daemon(folder, kit, lock=True)
    try:
        cid = c.wait("/dd/candidate", 30)[0]
        seen = {cid}  # each click announces a loop not announced before (not always a higher id)
        for like in (1, 0, 1):
            c.send("/dd/rate", cid, like)
            c.wait("/dd/rated")
            cid = c.wait("/dd/candidate", 30, where=lambda a: a[0] not in seen)[0]
            seen.add(cid)
        c.wait("/dd/trained", 60, where=lambda a: a[1] == 3)
        ratings = d.session.ratings()
    finally:
        stop_daemon(d, c)
    (folder / "critic" / "latest.pt").write_bytes(damage)
    if damage == b"":
        (folder / "critic" / "initial.pt").write_bytes(b"also damaged")
    with caplog.at_level("WARNING"):
        d, c = daemon(folder, kit, lock=True)
    try:
        assert any("rebuilt from the session's ratings" in r.getMessage() for r in caplog.records)
        assert list((folder / "critic").glob("latest.pt.damaged-*"))
        got = c.wait("/dd/trained", 60, where=lambda a: a[1] == 3)
        assert d.trainer_worker.dataset == ratings and got[1] == len(ratings)
    finally:
        stop_daemon(d, c)
    from dd_live.learn.trainer import Trainer
    from dd_live.learn.critic import Critic

    extra = Trainer(Critic()).load(folder / "critic" / "latest.pt")     # a good checkpoint again
    assert [tuple(r) for r in extra["ratings"]] == [(c_, bool(v)) for c_, v in ratings]


def test_pretrain_writes_into_the_user_data_dir_never_the_installed_package(tmp_path):
    from dd_live.learn.pretrain import shipped_path

    before = shipped_path().read_bytes()
    env = {**os.environ, "DD_LIVE_DATA": str(tmp_path / "data")}
    r = subprocess.run([sys.executable, "-m", "dd_live.cli", "pretrain", "--loops", "256", "--epochs", "1"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "data" / "critic_pretrained.pt").is_file()
    assert f"--init {tmp_path / 'data' / 'critic_pretrained.pt'}" in r.stdout
    assert shipped_path().read_bytes() == before


def test_unrated_loop_files_stay_while_a_front_end_may_still_load_them(tmp_path):
    from dd_live.osc.protocol import KEEP_FILES_S
    from dd_live.live.loop import KEEP_FILES, collect_loop_files

    s = Session(tmp_path / "s")
    now = time.time()
    for cid in range(1, 61):
        s.add_candidate(cid, "{}", 0.5, 0, 0, 120.0, "explore")
        age = KEEP_FILES_S + 60 if cid % 2 else KEEP_FILES_S - 60      # odd ids announced long ago
        os.utime(s.candidate_dir(cid), (now - age, now - age))
    s.rate(3, True)
    gone = collect_loop_files(s, keep={5}, newest=60, now=now)
    # old, unrated, not kept, and more than KEEP_FILES ids behind the newest
    assert gone == [c for c in range(1, 61 - KEEP_FILES) if c % 2 and c not in (3, 5)]
    assert all(s.candidate_dir(c).is_dir() for c in range(2, 61, 2))    # announced recently: kept
    assert s.candidate(1) is not None                                   # the row stays
    s.close()


# ---------------------------------------------------------------- interrupted writes

def test_an_export_killed_midway_leaves_nothing_that_counts_and_a_rerun_works(tmp_path, kit):
    out = tmp_path / "exp" / "00001_liked"
    code = f"""
import sys, time, numpy as np
import dd_live.loops.export as ex
from dd_live.loops.pattern import random_pattern
from dd_live.sound.samples import load_library
lib = load_library(None)
def stuck(*a, **k):
    print("ready", flush=True)
    time.sleep(60)
ex.midi_file = stuck
ex.export_pattern({str(out)!r}, random_pattern(lib, np.random.default_rng(0)), lib)
"""
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"       # loop.wav, preview.wav, pattern.json written
    finally:
        p.kill()
        p.wait()
    assert not out.exists()
    assert [x.name for x in out.parent.iterdir() if x.name.endswith(".partial")]
    from dd_live.loops.export import export_pattern

    import numpy as np

    export_pattern(out, random_pattern(kit, np.random.default_rng(0)), kit)     # no --force needed
    assert sorted(x.name for x in out.parent.iterdir()) == ["00001_liked"]       # the killed one's stage is gone
    assert (out / "pattern.json").is_file() and (out / "kit.sfz").is_file()


def test_the_daemon_clears_files_left_by_interrupted_writes_in_its_session(tmp_path, kit, daemon):
    folder = tmp_path / "s"
    Session(folder).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = [folder / "critic" / f".latest.pt.{dead}.0123abcd.tmp",
             folder / "exports" / f".7.{dead}.0123abcd.partial" / "loop.wav",
             folder / "candidates" / "4" / f".loop_120.wav.{dead}.0123abcd.tmp"]
    for f in stale:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"half")
    mine = folder / "exports" / "notes.tmp"
    mine.write_text("not ours")
    d, c = daemon(folder, kit, lock=True)
    stop_daemon(d, c)
    assert not any(f.exists() for f in stale) and not (folder / "exports" / f".7.{dead}.0123abcd.partial").exists()
    assert mine.exists()


def test_liked_loops_export_with_their_own_sounds_after_the_sample_folder_moved(tmp_path, kit, daemon, capsys, cli_env):
    import shutil

    import numpy as np
    import soundfile as sf

    from dd_live.sound.samples import default_kit_dir

    folder = tmp_path / "mykit"
    for sub in ("kick", "snare", "hat_closed", "clap", "tom"):
        shutil.copytree(default_kit_dir() / sub, folder / sub)
    lib = load_library([folder])
    s = cli_env / "moved"
    d, c = daemon(s, lib, lock=True)
    d.session.save_settings({"samples": [str(folder)]})
    try:
        liked = []
        cid = c.wait("/dd/candidate", 30)[0]
        seen = {cid}  # each click announces a loop not announced before (not always a higher id)
        for like in (1, 0, 1, 1):
            c.send("/dd/rate", cid, like)
            c.wait("/dd/rated")
            if like:
                liked.append(cid)
            cid = c.wait("/dd/candidate", 30, where=lambda a: a[0] not in seen)[0]
            seen.add(cid)
        from dd_live.loops.pattern import Pattern

        played = {k: lib.audio(lib.index(k)).copy() for cid in liked
                  for k in Pattern.from_json(d.session.candidate(cid).pattern).samples}
    finally:
        stop_daemon(d, c)
    kept = list((s / "samples").glob("*.wav"))
    assert 0 < len(kept) <= len(lib)
    shutil.move(str(folder), str(tmp_path / "elsewhere"))           # the user tidied up
    out = tmp_path / "out"
    assert main(["export", "moved", "--liked", "--out", str(out)]) == 0, capsys.readouterr().err
    assert f"exported {len(liked)} loops" in capsys.readouterr().out
    for cid in liked:
        exp = out / f"{cid:05d}_liked"
        assert (exp / "loop.wav").is_file() and (exp / "loop.mid").is_file()
        for f in (exp / "samples").glob("*.wav"):
            y, _ = sf.read(str(f), dtype="float32")
            assert any(len(a) == len(y) and np.allclose(a, y, atol=2 ** -22) for a in played.values()), f
    # a rerun adds nothing and refuses nothing
    assert main(["export", "moved", "--liked", "--out", str(out)]) == 0
    assert f"{len(liked)} were there already" in capsys.readouterr().out


def test_sounds_of_a_rating_whose_files_a_kill_cut_off_are_written_at_the_next_start(tmp_path, kit, daemon):
    import numpy as np

    folder = tmp_path / "s"
    s = Session(folder)
    s.add_candidate(1, random_pattern(kit, np.random.default_rng(5)).to_json(), 0.5, 0, 0, 120.0, "explore")
    rows = s.sample_rows(1, kit)
    s.rate(1, True, rows)                  # committed, and then the daemon was killed before writing the files
    s.close()
    assert not list((folder / "samples").glob("*.wav"))
    d, c = daemon(folder, kit, lock=True)
    stop_daemon(d, c)
    assert {p.stem for p in (folder / "samples").glob("*.wav")} == {r[3] for r in rows}
    lib = Session(folder, create=False).loop_library(1)
    for _, _, key, _, _ in rows:
        np.testing.assert_array_equal(lib.audio(lib.index(key)), kit.audio(kit.index(key)))


def test_a_failed_serve_on_an_empty_folder_the_user_made_leaves_it_empty(tmp_path, capsys, cli_env, monkeypatch):
    from dd_live.live import daemon as daemon_mod

    mine = tmp_path / "empty"
    mine.mkdir()

    def broken(*a, **k):
        raise InputError("the daemon could not be built")

    monkeypatch.setattr(daemon_mod.Daemon, "__init__", broken)     # fails after the session was made
    assert "could not be built" in _one_line_error(capsys, ["serve", "--session", str(mine), "--no-audio",
                                                           "--midi-out", "none", "--osc-port", str(free_udp_port())])
    assert mine.is_dir() and not any(mine.iterdir())
    assert "could not be built" in _one_line_error(capsys, ["serve", "--session", "fresh", "--no-audio",
                                                           "--midi-out", "none", "--osc-port", str(free_udp_port())])
    assert not (cli_env / "fresh").exists()


def test_a_missing_or_damaged_kept_sound_falls_back_to_the_sample_folders(tmp_path, kit, caplog):
    import numpy as np

    s = Session(tmp_path / "s")
    s.add_candidate(1, random_pattern(kit, np.random.default_rng(6)).to_json(), 0.5, 0, 0, 120.0, "explore")
    rows = s.keep_samples(1, kit)
    s.rate(1, True, rows)
    assert s.loop_library(1) is not None
    victim = s.samples_dir / f"{rows[0][3]}.wav"
    victim.write_bytes(victim.read_bytes()[:-400] + b"\0" * 400)      # damaged: the hash no longer matches
    with caplog.at_level("WARNING"):
        assert s.loop_library(1) is None
    assert "damaged" in caplog.text
    victim.unlink()                                                      # missing
    assert s.loop_library(1) is None
    s.close()


def test_a_session_on_a_read_only_disk_exports_its_liked_loops(tmp_path, kit, daemon):
    """``dd-live export`` of a session on a read-only mount (a backup, another user's disk): run in a mount
    namespace of its own (unshare -m, root) where the session folder is bound read-only."""
    import shutil

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a read-only mount needs root and unshare")
    folder = tmp_path / "s"
    d, c = daemon(folder, kit, lock=True)
    try:
        liked = []
        cid = c.wait("/dd/candidate", 30)[0]
        for _ in range(2):
            c.send("/dd/rate", cid, 1)
            c.wait("/dd/rated")
            liked.append(cid)
            cid = c.wait("/dd/candidate", 30, where=lambda a: a[0] not in liked)[0]
    finally:
        stop_daemon(d, c)
    out = tmp_path / "out"
    script = (f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && touch {folder}/x 2>/dev/null "
              f"&& exit 9; {sys.executable} -c 'import sys; from dd_live.cli import main; sys.exit(main(sys.argv[1:]))' "
              f"export {folder} --liked --out {out}")
    run = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    if run.returncode == 9 or "mount:" in run.stderr:
        pytest.skip(f"no read-only bind mount here: {run.stderr.strip()[:100]}")
    assert run.returncode == 0, run.stderr
    assert f"exported {len(liked)} loops" in run.stdout and "Traceback" not in run.stderr
    assert all((out / f"{cid:05d}_liked" / "loop.wav").is_file() for cid in liked)
