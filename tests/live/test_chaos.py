"""Chaos: `dd-live serve` driven by a few hundred random commands while it is killed with SIGKILL at random
moments and restarted. After every restart each acknowledged rating is in the session with its label and
/dd/status agrees with the database; at the end `dd-live export --liked` writes every liked loop.

DD_LIVE_CHAOS_COMMANDS (default 300) and DD_LIVE_CHAOS_SEED (default 0) scale and vary it; the figures
printed at the end (run with -s) are the ones in README.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from dd_live.cli import main
from dd_live.testing.harness import serve
from dd_live.testing.oscclient import Client, free_udp_port


class Died(Exception):
    """The daemon is gone (killed) while a command waited for its reply."""


class Chaos:
    def __init__(self, folder: Path, tmp: Path, seed: int) -> None:
        self.folder, self.tmp = folder, tmp
        (tmp / "none.toml").write_text("")             # an empty config file: the defaults, whatever the user has
        self.rng = np.random.default_rng(seed)
        self.port = free_udp_port()
        self.client = Client(self.port)
        self.proc: subprocess.Popen | None = None
        self.killer: threading.Timer | None = None
        self.model: dict[int, bool] = {}     # ratings acknowledged (or seen in the database at a restart)
        self.order: list[int] = []           # the model's ids, least recently touched first (what undo removes)
        self.uncertain: set[int] = set()     # ids a command in flight at a kill may have changed
        self.seen_ids: set[int] = set()
        self.current: int | None = None
        self.last_rated: int | None = None
        self.stats = {"commands": 0, "kills": 0, "restarts": 0, "ratings_acknowledged": 0, "undos_acknowledged": 0,
                      "checks": 0}

    # ------------------------------------------------------------ the daemon

    def start(self) -> None:
        env = {**os.environ, "DD_LIVE_CONFIG": str(self.tmp / "none.toml"), "DD_LIVE_CACHE": str(self.tmp / "cache")}
        self.proc = serve(self.folder, self.port, self.client.port, threads=1, env=env, stdout=subprocess.DEVNULL,
                          stderr=open(self.tmp / "serve.log", "a"))
        self.stats["restarts"] += 1
        self._arm()

    def _arm(self) -> None:
        delay = float(self.rng.uniform(0.5, 10.0))   # some kills land during start-up
        self.killer = threading.Timer(delay, self._kill, args=(self.proc,))
        self.killer.daemon = True
        self.killer.start()

    def _kill(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.killed = True             # before the signal: a process SIGKILLed is not reaped at once
            proc.send_signal(signal.SIGKILL)
            self.stats["kills"] += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def note(self, address: str, args: list) -> None:
        if address == "/dd/rated":
            cid, label = int(args[0]), args[1] == "like"
            self.last_rated = cid
            self.model[cid] = label
            if cid in self.order:
                self.order.remove(cid)
            self.order.append(cid)
            self.uncertain.discard(cid)
            self.stats["ratings_acknowledged"] += 1
        elif address == "/dd/candidate":
            self.current = int(args[0])
            self.seen_ids.add(self.current)

    def pump(self, timeout: float) -> list[tuple[str, list]]:
        """Every message that arrives within ``timeout`` s, noted in order."""
        got = []
        end = time.monotonic() + timeout
        while True:
            self.client._pump(max(0.0, min(0.05, end - time.monotonic())))
            while self.client.inbox:
                _, a, args = self.client.inbox.pop(0)
                self.note(a, args)
                got.append((a, args))
            if time.monotonic() >= end:
                return got

    def until(self, address: str, timeout: float = 20.0, where=lambda a: True, ask=None) -> list:
        """Note everything up to and including the first ``address`` message matching ``where``; ``ask()``
        (if given) is called now and again every 5 s without an answer (UDP may drop a datagram)."""
        end = time.monotonic() + timeout
        asked = time.monotonic()
        if ask is not None:
            ask()
        while True:
            for a, args in self.pump(0.05):
                if a == address and where(args):
                    return args
            if ask is not None and time.monotonic() - asked > 5.0:
                ask()
                asked = time.monotonic()
            if not self.alive():
                for a, args in self.pump(0.3):  # what it sent before dying
                    if a == address and where(args):
                        return args
                raise Died
            if time.monotonic() > end:  # every thread's stack into the log (faulthandler on SIGUSR1)
                self.proc.send_signal(signal.SIGUSR1)
                time.sleep(1.0)
                log = (self.tmp / "serve.log").read_text()
                raise AssertionError(f"the daemon is alive but sent no {address} in {timeout} s; its threads:\n"
                                     + log[-6000:])

    def barrier(self) -> list:
        """/dd/status after everything sent so far (the OSC thread answers in order); asked again every 5 s
        without an answer (one chaos run once waited 20 s for an answer with every daemon thread idle), and
        a daemon that answers nothing for 20 s fails the test."""
        return self.until("/dd/status", ask=lambda: self.client.send("/dd/status"))

    # ------------------------------------------------------------ commands

    def command(self) -> None:
        r = float(self.rng.random())
        self.stats["commands"] += 1
        c = self.client
        if r < 0.36:  # a press, int or float alike, rates the loop announced last (or one announced since,
            # whose /dd/candidate is still on its way: the generator announces from its own thread), never loop 1
            cur, self.last_rated = self.current, None
            self._may_rate(cur)
            c.send("/dd/like" if r < 0.22 else "/dd/dislike", 1 if self.rng.random() < 0.5 else 1.0)
            self.barrier()
            self.uncertain.discard(cur)
            if cur is not None and self.last_rated is not None:
                assert self.last_rated >= cur, f"a button press rated loop {self.last_rated}, not the current {cur}"
        elif r < 0.50 and self.seen_ids:
            cid = int(self.rng.choice(sorted(self.seen_ids)))
            self.uncertain.add(cid)          # until acknowledged
            c.send("/dd/rate", cid, int(self.rng.integers(0, 2)))
            self.barrier()
            self.uncertain.discard(cid)      # refused (its files were collected? no: rows stay) or acknowledged
        elif r < 0.58:
            victim = self.order[-1] if self.order else None
            if victim is not None:
                self.uncertain.add(victim)
            c.send("/dd/undo")
            got = self.until("/dd/error", where=lambda a: a[0] == "state") if not self.order else \
                self.until("/dd/status")
            if self.order and len(got) == 5:
                self.model.pop(victim, None)
                self.order.remove(victim)
                self.stats["undos_acknowledged"] += 1
                assert got[0] == len(self.model), (got, len(self.model))
            if victim is not None:
                self.uncertain.discard(victim)
            self.barrier()
        elif r < 0.72:
            c.send("/dd/next", 1)
            self.barrier()
        elif r < 0.77:
            c.send("/dd/export")
            self.barrier()
        elif r < 0.80 and self.seen_ids:
            c.send("/dd/export/loop", int(self.rng.choice(sorted(self.seen_ids))))
            self.barrier()
        elif r < 0.85:
            c.send("/dd/set/tempo", float(self.rng.choice([96.0, 120.0, 133.5])))
            self.barrier()
        elif r < 0.88:
            c.send("/dd/set/mode", str(self.rng.choice(["explore", "best"])))
            self.barrier()
        else:  # a burst: a performer hammering like and next
            cur = self.current
            self._may_rate(cur)
            for k in range(int(self.rng.integers(5, 15))):
                c.send("/dd/like" if k % 2 else "/dd/next", 1)
            self.barrier()
            self.uncertain.discard(cur)

    def _may_rate(self, cur: int | None) -> None:
        """A press is about to go out: it rates the loop announced last, which is still ``cur`` (already rated,
        when the generator has no loop ready under load) or one announced since, so a kill before its
        /dd/rated comes back may leave ``cur``'s label changed but unacknowledged."""
        if cur is not None:
            self.uncertain.add(cur)

    # ------------------------------------------------------------ checks

    def database(self) -> list[tuple[int, bool, int]]:
        db = sqlite3.connect(str(self.folder / "session.sqlite"), timeout=10)
        try:
            return [(int(c), bool(v), int(t)) for c, v, t in
                    db.execute("SELECT candidate_id, label, touched FROM ratings ORDER BY touched")]
        finally:
            db.close()

    def check_and_resync(self) -> None:
        """After a restart: every acknowledged rating is stored with its label; /dd/status agrees."""
        rows = self.database()
        stored = {c: v for c, v, _ in rows}
        for cid, label in self.model.items():
            if cid in self.uncertain:
                continue
            assert cid in stored, f"acknowledged rating of loop {cid} is gone after a kill"
            assert stored[cid] == label, f"loop {cid}: acknowledged {label}, stored {stored[cid]}"
        status = self.barrier()
        likes = sum(stored.values())
        assert status[:3] == [len(stored), likes, len(stored) - likes], (status, len(stored), likes)
        # what the database holds now (ratings committed but not acknowledged before the kill too) is the model
        self.model = dict(stored)
        self.order = [c for c, _, _ in rows]
        self.uncertain.clear()
        self.stats["checks"] += 1
        if self.stats["checks"] % 4 == 1:  # a second daemon on the same session is refused, naming this one
            self.killer.cancel()           # (not while this one is being killed: then it may take over)
            if not self.alive():
                raise Died
            env = {**os.environ, "DD_LIVE_CONFIG": str(self.tmp / "none.toml")}
            r = subprocess.run([sys.executable, "-m", "dd_live.cli", "serve", "--session", str(self.folder),
                                "--osc-port", str(free_udp_port()), "--no-audio", "--midi-out", "none"],
                               capture_output=True, text=True, env=env, timeout=60)
            assert r.returncode == 2 and f"in use by PID {self.proc.pid}" in r.stderr, r.stderr[-500:]
            self.stats["second_daemons_refused"] = self.stats.get("second_daemons_refused", 0) + 1
            self._arm()

    def run(self, commands: int) -> dict:
        self.start()
        ready = False
        while self.stats["commands"] < commands:
            try:
                if not ready:
                    self.client.send("/dd/hello")
                    self.until("/dd/candidate", timeout=120)
                    if self.stats["restarts"] > 1:
                        self.check_and_resync()
                    ready = True
                self.command()
                time.sleep(float(self.rng.uniform(0.0, 0.05)))  # a performer's pace, roughly
            except Died:
                code = self.proc.wait()
                self.killer.cancel()
                if code != -signal.SIGKILL:                # it ended by itself: a failure, not one of our kills
                    raise AssertionError(f"the daemon exited with {code}: "
                                         + (self.tmp / "serve.log").read_text()[-3000:]) from None
                self.start()
                ready = False
        self.killer.cancel()
        self.killer.join()  # a kill already under way when cancel() came finishes first (cancel cannot stop it)
        killed = getattr(self.proc, "killed", False)   # poll() may say it runs for a moment after SIGKILL
        if not killed and not self.alive():
            raise AssertionError(f"the daemon exited with {self.proc.wait()}: "
                                 + (self.tmp / "serve.log").read_text()[-3000:])
        if killed:
            self.proc.wait()
            self.start()
            self.killer.cancel()
            self.killer.join()
            self.client.send("/dd/hello")
            self.until("/dd/candidate", timeout=120)
        self.check_and_resync()
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(60) == 0
        return self.stats


def test_acknowledged_ratings_survive_random_kills_and_every_liked_loop_exports(tmp_path, capsys):
    commands = int(os.environ.get("DD_LIVE_CHAOS_COMMANDS", "300"))
    seed = int(os.environ.get("DD_LIVE_CHAOS_SEED", "0"))
    chaos = Chaos(tmp_path / "session", tmp_path, seed)
    try:
        stats = chaos.run(commands)
    finally:
        if chaos.proc is not None and chaos.proc.poll() is None:
            chaos.proc.kill()
        chaos.client.close()
    assert stats["kills"] >= 3, stats
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log, log[log.index("Traceback") - 200:][:3000]
    rows = chaos.database()
    liked = [c for c, v, _ in rows if v]
    assert liked
    out = tmp_path / "exports"
    assert main(["export", str(tmp_path / "session"), "--liked", "--out", str(out)]) == 0
    written = [d for d in out.iterdir() if (d / "pattern.json").is_file() and (d / "loop.mid").is_file()
               and (d / "loop.wav").is_file() and (d / "kit.sfz").is_file()]
    assert sorted(int(d.name.split("_")[0]) for d in written) == sorted(liked)
    stats.update(ratings_found=len(rows), liked=len(liked), exports_written=len(written))
    with capsys.disabled():
        print(f"\nchaos (seed {seed}): " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in stats.items()))
