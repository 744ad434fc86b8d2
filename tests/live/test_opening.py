"""A served daemon plays before torch has loaded (dd_live.live.brain, dd_live.live.opening): an opening loop from
the drum prior, or a resumed session's last liked loop; commands that need the critic are held, in order, and run
once it runs; a critic that cannot start ends the daemon with one line."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from dd_live.live.brain import Brain


@pytest.fixture
def slow_brain(monkeypatch):
    """The brain is made only once the test sets the returned event."""
    go = threading.Event()
    real = Brain._make_brain

    def make(self) -> None:
        assert go.wait(60)
        real(self)

    monkeypatch.setattr(Brain, "_make_brain", make)
    return go


def _open(name: str):
    """A daemon as ``serve`` opens it, and a client on its reply port."""
    from dd_live.live import config
    from dd_live.live.daemon import Daemon
    from dd_live.testing.oscclient import Client, free_udp_port

    c = Client(free_udp_port())
    s = config.merge(dict(config.DEFAULTS), {"session": name, "osc_port": c.target[1], "reply_port": c.port,
                                             "threads": 1, "web": False, "midi_out": "none", "midi_in": "none",
                                             "audio": False})
    return Daemon.open(s), c


def _stop(d, c) -> None:
    d.stop()
    d.join()
    d.session.close()
    c.close()


def test_a_new_session_plays_a_drummers_loop_before_the_critic_and_held_commands_run_in_order(slow_brain):
    from dd_live.loops.prior import KEEP_ROLES

    d, c = _open("opening-new")
    try:
        d.start()
        assert d.generator is None and not d.brain.is_set()
        cid = c.wait("/dd/candidate", 10)[0]              # the opening loop on the reply port, with no critic yet
        loop = d.current
        assert loop.id == cid and d.session.candidate(cid).mode == "opening"
        roles = {d.library.roles[i] for i, row in zip(d.library.indices(loop.pattern.samples), loop.pattern.hits)
                 if row.any()}
        assert set(KEEP_ROLES) <= roles, roles            # a drummer's kick, backbeat and time, not a random kit
        c.drain()
        c.send("/dd/hello")                               # tells the critic's version: held
        c.send("/dd/like")
        c.send("/dd/play")                                # the transport, after a held command: held too, in order
        c.send("/dd/status")
        assert not [m for m in c.drain(0.5) if m[0] in ("/dd/rated", "/dd/status")]
        assert d._early and [h[0][0].name for h in d._early] == ["hello", "like", "play", "status"]
        slow_brain.set()
        assert c.wait("/dd/status", 60)[:2] == [0, 0]      # the hello's, before the like
        assert c.wait("/dd/rated", 60)[:2] == [cid, "like"]
        assert c.wait("/dd/status", 10)[:2] == [1, 1]
        c.wait("/dd/candidate", 60)                        # the generator's loop, after the like
        assert d.brain.is_set() and d.generator in d.workers and d.failure() is None
    finally:
        slow_brain.set()
        _stop(d, c)


def test_a_resumed_session_opens_with_its_last_liked_loop(monkeypatch):
    d, c = _open("opening-resumed")
    try:
        d.start()
        first = c.wait("/dd/candidate", 60)[0]
        c.send("/dd/like")
        c.wait("/dd/rated", 60)
        second = c.wait("/dd/candidate", 60, where=lambda a: a[0] != first)[0]
        c.send("/dd/dislike")
        c.wait("/dd/rated", 60)
        liked = d.session.candidate(first).pattern
    finally:
        _stop(d, c)
    assert second != first
    go = threading.Event()
    monkeypatch.setattr(Brain, "_make_brain", lambda self: go.wait(60))   # never needed here
    d, c = _open("opening-resumed")
    try:
        d.start()
        assert c.wait("/dd/candidate", 10)[0] == first and d.current.pattern.to_json() == liked
        assert d.generator is None
    finally:
        go.set()
        _stop(d, c)


def test_a_critic_that_cannot_start_ends_the_daemon_with_one_line(monkeypatch):
    def broken(self) -> None:
        raise RuntimeError("no critic here\nsecond line")

    monkeypatch.setattr(Brain, "_make_brain", broken)
    d, c = _open("opening-broken")
    try:
        d.start()
        end = time.monotonic() + 10
        while d.failure() is None and time.monotonic() < end:
            time.sleep(0.05)
        assert d.failure() == "the critic could not start: no critic here"
    finally:
        _stop(d, c)


def test_too_many_held_messages_are_refused_with_an_error(slow_brain, monkeypatch):
    monkeypatch.setattr("dd_live.live.brain.MAX_EARLY", 3)
    d, c = _open("opening-full")
    try:
        d.start()
        c.wait("/dd/candidate", 10)
        for _ in range(4):
            c.send("/dd/next")
        code, message = c.wait("/dd/error", 10)
        assert code == "state" and "still starting" in message
        assert len(d._early) == 3 and np.all([h[0][0].name == "next" for h in d._early])
    finally:
        slow_brain.set()
        _stop(d, c)
