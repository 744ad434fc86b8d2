"""The supervisor's policy, offline (its own ``now``), then each non-core part broken in turn in a serving daemon on
a JACK server while the loop plays on MIDI out."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dd_live.live.supervisor import BACKOFF_S, SETTLED_S, Supervisor


class Part:
    def __init__(self, name: str, *, revive_fails: int = 0) -> None:
        self.name, self.error, self.alive, self.revive_fails, self.revivals = name, None, True, revive_fails, 0

    def is_alive(self) -> bool:
        return self.alive

    def die(self, why: str = "boom") -> None:
        self.error, self.alive = RuntimeError(why), False

    def revive(self) -> None:
        if self.revive_fails:
            self.revive_fails -= 1
            raise OSError("the port is still gone")
        self.revivals += 1
        self.error, self.alive = None, True


def _supervisor(parts):
    told = []
    return Supervisor(lambda: parts, lambda *a: told.append(a)), told


def test_a_non_core_part_is_told_and_revived_after_a_backoff_that_doubles_and_settles():
    midi = Part("dd-midi")
    sup, told = _supervisor([midi])
    midi.die("port went away")
    sup.check(0.0)
    assert told == [("dd-midi", "failed", "MIDI out failed: port went away; restarting it")] and midi.revivals == 0
    sup.check(BACKOFF_S[0] - 0.01)
    assert midi.revivals == 0
    sup.check(BACKOFF_S[0])
    assert midi.revivals == 1 and told[-1] == ("dd-midi", "restarted", "MIDI out is running again")
    midi.die()                                     # dies again at once: the next wait is longer
    sup.check(1.0)
    sup.check(1.0 + BACKOFF_S[0])
    assert midi.revivals == 1
    sup.check(1.0 + BACKOFF_S[1])
    assert midi.revivals == 2
    t = 1.0 + BACKOFF_S[1] + SETTLED_S + 1          # it ran long enough: the backoff starts afresh
    sup.check(t)
    midi.die()
    sup.check(t)
    sup.check(t + BACKOFF_S[0])
    assert midi.revivals == 3 and sup.fatal is None and sup.revivals == 3


def test_a_revival_that_fails_is_tried_again_later_and_never_ends_the_daemon():
    clock = Part("dd-clock", revive_fails=3)
    sup, told = _supervisor([clock])
    clock.die()
    now = 0.0
    sup.check(now)
    waits = []
    while clock.revivals == 0 and now < 200:
        before = sup._watch[id(clock)].next_try
        now = before
        sup.check(now)
        waits.append(before)
    assert clock.revivals == 1 and sup.fatal is None
    assert [b - a for a, b in zip(waits, waits[1:])] == list(BACKOFF_S[1:4])
    assert [s for _, s, _ in told] == ["failed", "restarted"]


@pytest.mark.parametrize("name", ["dd-osc", "dd-trainer", "dd-generator"])
def test_a_core_part_that_dies_is_the_daemons_end_in_one_line(name):
    core, web = Part(name), Part("dd-web")
    sup, told = _supervisor([core, web])
    sup.check(0.0)
    assert sup.fatal is None
    core.die("disk I/O error\nmore")
    sup.check(0.1)
    assert sup.fatal == f"{name} failed: disk I/O error" and core.revivals == 0 and told == []


# ---------------------------------------------------------------- a serving daemon


def _break(part) -> None:
    """Kill the part's thread as a bug would: it ends, with an error recorded. A thread that dies of an error has
    it recorded before it is seen dead, so the supervisor is shown the part alive until its error is set."""
    part.is_alive = lambda: True
    try:
        part.stop()
        part.join(5.0)
        part.error = RuntimeError("broken by the test")
    finally:
        del part.is_alive            # the class's again: dead, with its error


@pytest.mark.jack
def test_breaking_each_part_of_a_serving_daemon_the_loop_plays_on_and_each_part_is_back(jack, daemon):
    from dd_live.testing.harness import jack_connect
    from dd_live.ports.midi_jack import JackMidiReader

    d, c = daemon(threads=1, seed=2, midi_out="virtual", web_port=0)
    reader = JackMidiReader("reader")
    try:
        assert jack_connect("dd_live:dd_live", "reader:in")
        c.wait("/dd/candidate", 30)
        c.send("/dd/play")

        def note_ons(seconds: float) -> list[float]:
            got, end = [], time.monotonic() + seconds
            while time.monotonic() < end:
                got += [frame / reader.rate for frame, data in reader.read() if data[0] & 0xF0 == 0x90 and data[2]]
                time.sleep(0.01)
            return got

        assert note_ons(4.0), "no notes before anything was broken"
        player = d.outputs[0]
        parts = [d.songs, d.takes.autotakes, d.web, player]
        for part in parts:
            c.drain()
            _break(part)
            code, message = c.wait("/dd/error", 10, where=lambda a: a[0] == "part")
            assert message.endswith("failed: broken by the test; restarting it")
            name = c.wait("/dd/part", 10, where=lambda a: a[1] == "restarted")[0]
            assert name == part.name and part.is_alive() and part.error is None
            # a bar at 120 bpm is 2 s: notes within it (the player itself is back within its first backoff)
            assert note_ons(2.5), f"no notes for a bar after {part.name} was broken"
            assert d.failure() is None
        # MIDI out's port failing for real: one send raises, the thread dies of it and is revived
        hook = "_send_at" if player._send_at is not None else "send"     # JACK's stamped port, or rtmidi's
        real = getattr(player, hook)
        calls = []

        def flaky(*args):
            if not calls:
                calls.append(args)
                raise OSError("the MIDI port hiccuped")
            return real(*args)

        setattr(player, hook, flaky)
        c.wait("/dd/part", 15, where=lambda a: a[0] == "dd-midi" and a[1] == "restarted")
        assert note_ons(2.5) and d.failure() is None
        # the web page is served again on its port
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{d.web.port}/", timeout=5) as r:
            assert r.status in (200, 401, 403)
    finally:
        reader.close()


def test_a_full_disk_is_told_as_io_the_daemon_answers_throughout_and_goes_on_when_space_returns(daemon, monkeypatch):
    import errno

    import soundfile as sf

    from dd_live.live import generator

    d, c = daemon(threads=1)
    cid = c.wait("/dd/candidate", 30)[0]
    monkeypatch.setattr(generator, "IO_RETRY_S", (0.2, 0.4))
    full = {"on": True}
    real = sf.write

    def write(*args, **kw):
        if full["on"]:
            raise sf.LibsndfileError(errno.ENOSPC, "System error.")   # what libsndfile says on a full disk
        return real(*args, **kw)

    monkeypatch.setattr(sf, "write", write)
    c.drain()
    c.send("/dd/rate", cid, 1)                      # the rating goes into the database, which still has room
    code, message = c.wait("/dd/error", 30, where=lambda a: a[0] == "io" and "rating stands" in a[1])
    assert message.startswith(f"loop {cid}'s rating stands; the next start keeps its sounds") and "\n" not in message
    code, message = c.wait("/dd/error", 30, where=lambda a: a[0] == "io" and a[1].startswith("new loops"))
    assert message.startswith("new loops cannot be written: cannot write ") and "\n" not in message
    for _ in range(3):                               # every command answered meanwhile
        c.send("/dd/status")
        c.wait("/dd/status", 10)
    assert d.session.ratings() == [(cid, True)] and d.failure() is None
    full["on"] = False                               # space returns: loops come by themselves
    c.send("/dd/next", 1)
    assert c.wait("/dd/candidate", 30, where=lambda a: a[0] != cid)[0] != cid
    assert d.failure() is None


def test_tempo_changes_leave_files_of_two_tempos_in_a_candidates_folder(daemon):
    d, c = daemon(threads=1)
    cid = c.wait("/dd/candidate", 30)[0]
    folder = d.session.candidate_dir(cid)
    for bpm in (90, 95, 100, 105, 110, 115, 121):
        c.drain()
        c.send("/dd/set/tempo", float(bpm))
        c.wait("/dd/candidate", 30, where=lambda a, b=bpm: a[0] == cid and a[2] == b)
    tags = {p.stem.split("_", 1)[1] for p in folder.glob("loop_*.wav")} | {p.stem.split("_", 1)[1] for p in folder.glob("preview_*.wav")}
    assert tags == {"115", "121"}
    assert {p.name for p in folder.glob("loop_*.mid")} == {"loop_115.mid", "loop_121.mid"}


def test_a_real_25_mb_disk_filling_up_under_a_serving_daemon(tmp_path):
    """``dd-live serve`` with its session on a 25 MB tmpfs (a mount namespace of its own: unshare -m, root),
    nearly full at the start: ratings go on until the disk is full and past it; every command is answered
    (/dd/rated, or /dd/error io), the daemon never exits, every acknowledged rating is in the database, and once
    space is freed new loops come by themselves."""
    import json
    import shutil
    import subprocess
    import sys

    from dd_live.testing.harness import end_process, wait_serving
    from dd_live.testing.oscclient import Client, free_udp_port

    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"):
        pytest.skip("a disk of its own needs root, unshare and nsenter")
    disk = tmp_path / "disk"
    disk.mkdir()
    port, reply = free_udp_port(), free_udp_port()
    script = (f"mount -t tmpfs -o size=25m tmpfs {disk} || exit 9; head -c {13 * 2 ** 20} /dev/zero > {disk}/filler; "
              f"exec {sys.executable} -m dd_live.cli serve --session {disk}/s --osc-port {port} --reply-port {reply} "
              "--no-web --no-audio --midi-out none --midi-in none --threads 1")
    proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    c = Client(port)
    try:
        try:
            wait_serving(proc)
        except RuntimeError:
            if proc.poll() == 9:
                pytest.skip("no tmpfs mount here")
            raise
        inside = Path(f"/proc/{proc.pid}/root{disk}")          # the tmpfs as the daemon sees it
        c.send("/dd/hello")
        c.wait("/dd/status", 30)
        c.wait("/dd/candidate", 60)                              # a performer rates what they heard
        acknowledged: dict[int, bool] = {}
        errors: dict[str, int] = {}
        after_full: list[bool] = []                              # for each rating acknowledged: was the disk full

        def answer() -> None:                                    # /dd/rated or /dd/error io: one of them comes
            end = time.monotonic() + 15
            while time.monotonic() < end:
                for i, (_, address, args) in enumerate(c.inbox):
                    if address == "/dd/error" and not args[1].startswith(("/dd/like", "/dd/dislike", "nothing")):
                        del c.inbox[i]                           # a notice to all (new loops, the critic's file)
                        errors["notices"] = errors.get("notices", 0) + 1
                        break
                    if address in ("/dd/rated", "/dd/error"):
                        del c.inbox[i]
                        if address == "/dd/rated":
                            acknowledged[int(args[0])] = args[1] == "like"
                            after_full.append(bool(errors.get("notices")))
                        else:
                            errors[args[0]] = errors.get(args[0], 0) + 1
                        return
                else:
                    c._pump(0.1)
            os.set_blocking(proc.stderr.fileno(), False)
            raise AssertionError(f"a rating got no answer in 15 s: {[m[1:] for m in c.inbox][-8:]}; the daemon "
                                 f"said: {(proc.stderr.read() or '')[-3000:]}")

        for k in range(40):                                      # the disk fills on the way
            c.send("/dd/like" if k % 3 else "/dd/dislike")
            answer()
            c.send("/dd/status")
            c.wait("/dd/status", 15)                            # the daemon answers, disk full or not
            assert proc.poll() is None
            time.sleep(0.3)                                      # a performer's pace
        assert errors.get("notices"), errors                      # the disk filled, and it was said
        assert sum(after_full) >= 10 and not errors.get("io"), (after_full, errors)   # ratings went on past it
        read = ("import json, sqlite3, sys; db = sqlite3.connect(sys.argv[1], timeout=10); "
                "print(json.dumps(db.execute('SELECT candidate_id, label FROM ratings').fetchall()))")
        out = subprocess.run(["nsenter", "-t", str(proc.pid), "-m", sys.executable, "-c", read,
                              f"{disk}/s/session.sqlite"], capture_output=True, text=True, timeout=60)
        stored = dict(json.loads(out.stdout)) if out.returncode == 0 else pytest.fail(out.stderr)
        wrong = {cid: (like, stored.get(cid)) for cid, like in acknowledged.items() if stored.get(cid) != int(like)}
        assert not wrong, (wrong, errors)
        print(json.dumps({"loops_rated": len(acknowledged), "errors": errors, "stored": len(stored), "acknowledged_after_full": sum(after_full),
                          "free_bytes": shutil.disk_usage(inside).free}))
        (inside / "filler").unlink()                             # space returns: the daemon goes on by itself
        seen = set(acknowledged)
        c.drain(0.2)
        c.send("/dd/next", 1)
        fresh = c.wait("/dd/candidate", 60, where=lambda a: a[0] not in seen)[0]
        c.send("/dd/rate", fresh, 1)
        assert c.wait("/dd/rated", 15, where=lambda a: a[0] == fresh)
        assert proc.poll() is None
    finally:
        c.close()
        end_process(proc, 30)


def test_a_start_on_a_full_disk_says_so_in_one_line(tmp_path):
    """``dd-live serve`` whose sessions folder is on a full disk (a 4 MB tmpfs, filled; unshare -m, root)."""
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a disk of its own needs root and unshare")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size=4m tmpfs {disk} || exit 9; head -c {5 * 2 ** 20} /dev/zero > {disk}/filler "
              f"2>/dev/null; exec {sys.executable} -m dd_live.cli serve --session {disk}/gig --no-web --no-audio "
              "--midi-out none --midi-in none --threads 1")
    run = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    if run.returncode == 9:
        pytest.skip("no tmpfs mount here")
    lines = run.stderr.strip().splitlines()
    assert run.returncode != 0 and len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert "No space left on device" in lines[0] or "no space left" in lines[0], lines
