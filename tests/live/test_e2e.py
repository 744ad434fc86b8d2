"""End to end: `dd-live serve` as a subprocess, driven by liblo's oscsend and read by oscdump
(an OSC implementation nobody here wrote); kill -9 and restart; a fuzz of 10,000 datagrams."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dd_live.osc import osc
from dd_live.testing.harness import end_process, serve, wait_serving
from dd_live.testing.oscclient import free_udp_port


class Dump:
    """oscdump on a port; lines parsed into (address, args)."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE, text=True, bufsize=1)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = ""
        self.seen: list[tuple[str, list]] = []

    def _read(self) -> None:
        try:
            chunk = self.proc.stdout.read()
        except (BlockingIOError, TypeError):
            chunk = None
        if chunk:
            self.buf += chunk
            *lines, self.buf = self.buf.split("\n")
            for line in lines:
                parts = shlex.split(line)
                if len(parts) >= 2:
                    types = parts[2] if len(parts) > 2 else ""
                    vals = [int(v) if t == "i" else float(v) if t == "f" else v for t, v in zip(types, parts[3:])]
                    self.seen.append((parts[1], vals))

    def wait(self, address: str, timeout: float = 30.0, where=lambda a: True) -> list:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._read()
            for i, (a, args) in enumerate(self.seen):  # unread messages, oldest first
                if a == address and where(args):
                    del self.seen[i]
                    return args
            time.sleep(0.01)
        raise AssertionError(f"oscdump saw no {address} within {timeout} s; saw {[a for a, _ in self.seen][-12:]} {self.buf[:300]!r}")

    def drop(self, address: str) -> None:
        self._read()
        self.seen = [m for m in self.seen if m[0] != address]

    def close(self) -> None:
        """End oscdump: SIGTERM, then SIGKILL (its handler only sets a flag, which a write blocked on the full pipe
        it was left with never reads)."""
        end_process(self.proc, 5)


def oscsend(port: int, address: str, types: str = "", *args) -> None:
    subprocess.run(["oscsend", "127.0.0.1", str(port), address, types, *map(str, args)], check=True,
                   timeout=10)


@pytest.mark.liblo
def test_oscsend_ratings_survive_kill_9_and_the_critic_is_restored(tmp_path):
    session = tmp_path / "e2e"
    osc_port, reply_port = free_udp_port(), free_udp_port()
    dump = Dump(reply_port)
    proc = serve(session, osc_port, reply_port)
    try:
        wait_serving(proc)
        oscsend(osc_port, "/dd/hello")
        dump.wait("/dd/status")
        cand = dump.wait("/dd/candidate", 60)
        acknowledged: dict[int, str] = {}
        for i in range(20):
            cid = int(cand[0])
            for f in cand[3:6]:
                assert Path(f).is_file(), f"{f} announced before it was written"
            label = "like" if i % 3 else "dislike"
            dump.drop("/dd/candidate")
            oscsend(osc_port, f"/dd/{label}", "i", cid)
            rated = dump.wait("/dd/rated", where=lambda a, cid=cid: a[0] == cid)
            assert rated[1] == label
            acknowledged[cid] = label
            cand = dump.wait("/dd/candidate", 30, where=lambda a, cid=cid: a[0] != cid)
        trained = dump.wait("/dd/trained", 120, where=lambda a: a[1] >= 5)
        assert trained[0] >= 1
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

        from dd_live.session.session import Session

        s = Session(session, create=False)
        stored = dict(s.ratings())
        assert {c: ("like" if v else "dislike") for c, v in stored.items()} == acknowledged
        # One more rating that no critic has trained on, as if acknowledged just before the kill (the kill
        # itself may land after training caught up): the restarted daemon must train on it.
        extra = int(cand[0])
        s.rate(extra, True)
        s.close()
        acknowledged[extra] = "like"

        import torch

        ckpt = torch.load(session / "critic" / "latest.pt", weights_only=True)
        version = ckpt["extra"]["version"]
        trained_before = len(ckpt["extra"]["ratings"])
        assert version >= 1 and 1 <= trained_before <= 20

        dump.drop("/dd/candidate")
        proc = serve(session, osc_port, reply_port)
        wait_serving(proc)
        assert dump.wait("/dd/candidate", 60)[0] == extra     # it opens with the loop liked last
        oscsend(osc_port, "/dd/status")
        status = dump.wait("/dd/status", where=lambda a: a[0] == 21)
        assert status[1:3] == [sum(v == "like" for v in acknowledged.values()),
                               sum(v == "dislike" for v in acknowledged.values())]
        assert status[3] >= version  # the critic came back
        final = dump.wait("/dd/trained", 180, where=lambda a: a[1] == 21)  # and caught up on the rest
        assert final[0] > version
        oscsend(osc_port, "/dd/next")
        new = dump.wait("/dd/candidate", 60, where=lambda a: a[0] > max(acknowledged))
        assert new[0] > max(acknowledged)  # ids go on after the restart, never reused
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        dump.close()


def test_fuzz_10000_datagrams_each_bad_one_answered_no_acknowledged_rating_lost(daemon, caplog):
    """10,000 datagrams, 4 in 5 malformed (random bytes, truncated or bit-flipped messages, wrong argument
    types and values, broken bundles), 1 in 5 good (status, next, presses, settings). Every reply is a
    well-formed one of the table's; errors come with the table's codes (each kind of damage named: parse,
    address, args) and say 'flood' while they are suppressed; no handler raises; every rating the daemon
    acknowledged is in the session with its label, and the daemon still answers and rates."""
    import logging

    from dd_live.osc import protocol

    caplog.set_level(logging.ERROR)
    d, c = daemon(threads=1, seed=5, reply_port=free_udp_port())
    g = np.random.default_rng(99)
    good = [osc.encode(a) for a in ("/dd/status", "/dd/next")] + [
        osc.encode("/dd/like", 1), osc.encode("/dd/set/tempo", 130.0), osc.encode("/dd/set/density", 0.4)]
    addresses = ["/dd/like", "/dd/set/tempo", "/dd/set/lock", "/dd/hello", "/dd/export", "/x", "/dd/set/mode"]
    replies: list[tuple[str, list]] = []
    for i in range(10_000):
        kind = i % 5
        if kind == 0:
            data = g.bytes(int(g.integers(0, 200)))
        elif kind == 1:  # a valid message, truncated or with bytes flipped
            data = bytearray(osc.encode(str(g.choice(addresses)), int(g.integers(-5, 9)), float(g.normal())))
            if len(data) and g.random() < 0.5:
                data = data[: int(g.integers(0, len(data)))]
            else:
                for _ in range(3):
                    data[int(g.integers(0, len(data)))] = int(g.integers(0, 256))
            data = bytes(data)
        elif kind == 2:  # right address, random argument types and values
            args = [g.choice([float("nan"), float("inf"), -1e30, 1e30, 0.3, 7, -7, 2**31 - 1, "x" * int(g.integers(0, 300))])
                    for _ in range(int(g.integers(0, 5)))]
            data = osc.encode(str(g.choice(addresses)), *[a.item() if hasattr(a, "item") else a for a in args])
        elif kind == 3:
            data = b"#bundle\0" + g.bytes(int(g.integers(0, 64)))
        else:
            data = good[int(g.integers(0, len(good)))]
        c.send_raw(data)
        if i % 200 == 0:
            replies += c.drain(0.01)  # a flood, but one the kernel's receive buffers can hold
    while True:  # until the daemon has worked through its backlog: no reply for 1.5 s
        more = c.drain(1.5)
        if not more:
            break
        replies += more
    assert d.failure() is None, d.failure()
    outbound = {a.address: a for a in protocol.ADDRESSES if a.direction == "out"}
    assert {a for a, _ in replies} <= set(outbound), "a reply the table does not name"
    codes = [args[0] for a, args in replies if a == "/dd/error"]
    assert set(codes) <= set(protocol.ERROR_CODES) and {"parse", "address", "args", "flood"} <= set(codes), codes
    assert all(len(args) == 2 and isinstance(args[1], str) for a, args in replies if a == "/dd/error")
    handler_failures = [r for r in caplog.records if r.exc_info]
    assert not handler_failures, handler_failures[0].getMessage()
    acknowledged = {}
    for a, args in replies:
        if a == "/dd/rated":
            acknowledged[args[0]] = args[1] == "like"
    assert acknowledged, "no good press was acknowledged"
    stored = dict(d.session.ratings())
    assert {cid: stored.get(cid) for cid in acknowledged} == acknowledged
    # still serving: a status that agrees with the database, and a rating by id
    c.send("/dd/status")
    status = c.wait("/dd/status", 10)
    assert status[0] == len(stored) and status[1] == sum(stored.values())
    cur = d.current.id
    c.send("/dd/rate", cur, 0)
    assert c.wait("/dd/rated", 10, where=lambda a: a[0] == cur)[1] == "dislike"
    assert d.session.label(cur) is False


def test_settle_heap_collects_start_ups_garbage_and_freezes_the_rest_out_of_full_collections():
    # in a process of its own: freezing is for a process that serves, not for the test runner
    code = """
import gc, weakref
from dd_live.live.serve_cli import settle_heap
class Node: pass
kept = [[i] for i in range(50_000)]                       # start-up's objects, alive for good
freed = []
for _ in range(1000):                                       # start-up's cyclic garbage
    a, b = Node(), Node()
    a.other, b.other = b, a
    weakref.finalize(a, freed.append, 1)
del a, b
frozen = settle_heap()
later = [[i] for i in range(1000)]                          # what the serving daemon makes
print(len(freed), frozen, len(gc.get_objects()))
"""
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    freed, frozen, tracked = map(int, out)
    assert freed == 1000                                    # collected before freezing, not frozen for good
    assert frozen >= 50_000 and tracked < 10_000, out       # a full collection now walks only what came later


@pytest.mark.parametrize("burst", [1, None], ids=["one SIGINT", "signals until it exits"])
def test_signals_stop_the_daemon_cleanly_even_in_a_burst(tmp_path, burst):
    # Ctrl-C pressed repeatedly, or a signal forwarded by a wrapper as well as sent, must end in a clean
    # exit. Two failures this guards against: a handler taking Event.set's lock while an earlier
    # handler held it (a deadlock; the handler now only appends to a list), and a signal landing after
    # serve_forever put the default handlers back, which killed the exiting process (-15). Sending
    # until the process is gone covers its whole shutdown, so the second is hit every run, not by luck.
    from dd_live.testing.oscclient import free_udp_port

    proc = serve(tmp_path / "s", free_udp_port(), free_udp_port(), extra=["--verbose"])   # the frozen count is DEBUG
    try:
        start = wait_serving(proc)
        k, until = 0, time.monotonic() + 15
        while proc.poll() is None and (burst is None or k < burst) and time.monotonic() < until:
            try:
                os.kill(proc.pid, signal.SIGINT if k % 2 == 0 else signal.SIGTERM)
            except ProcessLookupError:
                break
            k += 1
            time.sleep(0.0003)
        assert proc.wait(15) == 0
        assert "dd-live: stopped" in proc.stderr.read()
        frozen = re.search(r"start-up's ([0-9]+) objects frozen", start)   # settle_heap ran before serving
        assert frozen and int(frozen.group(1)) > 10_000, start[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()


def _serve_and_stop(proc: subprocess.Popen) -> str:
    """What a ``dd-live serve`` subprocess printed on stderr from its start to its exit (Ctrl-C once serving)."""
    try:
        start = wait_serving(proc)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        return start + proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_stopped_session_says_how_to_resume_and_last_resumes_it(tmp_path):
    """The start and stop lines print the command that serves this session again; --session last serves the
    newest one (sessions live in the tests' own $DD_LIVE_SESSIONS)."""
    said = _serve_and_stop(serve("gig-7", free_udp_port(), free_udp_port()))
    assert "come back to this session with: dd-live serve --session gig-7" in said, said[-2000:]
    assert "stopped; resume with: dd-live serve --session gig-7 (or --session last)" in said, said[-2000:]
    proc = serve("last", free_udp_port(), free_udp_port())
    try:
        start = wait_serving(proc)
        assert re.search(r"serving session \S*/gig-7 ", start), start[-2000:]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0


def test_a_plain_start_without_jack_or_alsa_prints_only_dd_lives_own_lines(tmp_path):
    """No JACK server and no ALSA sequencer (this machine's state, and a laptop's with both off): libasound and
    libjack, called by rtmidi and PortAudio, print a dozen lines of their own; dd-live says it in one line per
    part that is off."""
    env = {**os.environ, "JACK_DEFAULT_SERVER": "dd-no-such-server", "JACK_NO_START_SERVER": "1"}
    env.pop("DD_LIVE_MIDI_API", None)
    cmd = [sys.executable, "-m", "dd_live.cli", "serve", "--session", str(tmp_path / "s"), "--osc-port",
           str(free_udp_port()), "--reply-port", str(free_udp_port()), "--no-web", "--threads", "1"]
    said = _serve_and_stop(subprocess.Popen(cmd, env={**env, "PYTHONUNBUFFERED": "1"}, stderr=subprocess.PIPE,
                                            text=True))
    lines = [line for line in said.splitlines() if line.strip()]
    assert lines and all(line.startswith("dd-live") for line in lines), "\n".join(lines)


@pytest.mark.liblo
def test_session_open_serves_another_session_in_the_same_process_and_comes_back(tmp_path):
    """/dd/session/open from oscsend: a bad name or kit is an error and the session plays on; a new session on
    the research kit, then the first one again with its rating, in one process on the same port; a client that
    said /dd/hello (another port than the reply port) hears the new session's loops without saying it again."""
    from dd_live.session.folders import sessions_root
    from dd_live.session.session import Session

    name = f"open-{os.getpid()}"
    osc_port, reply_port, client_port = free_udp_port(), free_udp_port(), free_udp_port()
    log = tmp_path / "serve.log"
    dump, client = Dump(reply_port), Dump(client_port)
    with open(log, "w") as err:
        proc = serve(name, osc_port, reply_port, stderr=err)
    served = lambda n: [line for line in log.read_text().splitlines() if "serving session" in line][n:]  # noqa: E731

    def wait_served(n: int) -> list[str]:       # the start line follows the session's first loop
        end = time.monotonic() + 30
        while not served(n) and time.monotonic() < end:
            time.sleep(0.05)
        return served(n)
    try:
        deadline = time.monotonic() + 120
        while not served(0) and time.monotonic() < deadline:
            time.sleep(0.1)
        oscsend(osc_port, "/dd/hello", "i", client_port)
        client.wait("/dd/status")
        cid = int(dump.wait("/dd/candidate", 60)[0])
        oscsend(osc_port, "/dd/like", "i", cid)
        dump.wait("/dd/rated", where=lambda a: a[0] == cid)
        for bad in (["ss", "no/such", "research"], ["ss", "new", "/no/such/kit"], ["s", name]):
            oscsend(osc_port, "/dd/session/open", *bad)
            code, message = dump.wait("/dd/error")
            assert code == "args" and message.startswith("/dd/session/open: "), message
        dump.drop("/dd/status")
        oscsend(osc_port, "/dd/status")
        assert dump.wait("/dd/status")[0] == 1 and len(served(0)) == 1        # still the first session

        empty = tmp_path / "no sounds here"                    # a folder, but no kit: found only when opened
        empty.mkdir()
        client.drop("/dd/candidate")
        oscsend(osc_port, "/dd/session/open", "ss", "new", str(empty))
        client.wait("/dd/candidate", 120)
        (line,) = wait_served(1)
        assert f"/{name} (1 ratings" in line and f"serving {name} again" in log.read_text(), log.read_text()[-2000:]
        assert sorted(p.name for p in sessions_root().iterdir() if not p.name.startswith(".")) == [name]

        client.drop("/dd/candidate")
        t0 = time.monotonic()
        oscsend(osc_port, "/dd/session/open", "ss", "new", "research")
        client.wait("/dd/candidate", 120)                       # the new session's first loop, unasked
        switch_s = time.monotonic() - t0
        (line,) = wait_served(2)
        new = line.split("serving session ")[1].split(" (")[0]
        assert new != str(sessions_root() / name) and "(0 ratings" in line, line
        dump.drop("/dd/status")
        oscsend(osc_port, "/dd/status")
        assert dump.wait("/dd/status")[0] == 0
        s = Session(Path(new), create=False, readonly=True)
        assert s.settings()["samples"] == ["research"]
        s.close()

        oscsend(osc_port, "/dd/session/open", "s", name)
        client.wait("/dd/candidate", 120)
        assert f"/{name} (1 ratings" in wait_served(3)[0]
        assert proc.poll() is None
        print(f"switch to a new session: first loop after {switch_s:.2f} s")
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
        dump.close()
        client.close()
    said = log.read_text()
    assert code == 0, said[-3000:]
    assert said.count("left session; resume with") == 3 and "Traceback" not in said, said[-3000:]
