"""/dd/session/open keeps the ports: the MIDI and audio outputs a DAW is connected to, and the human's inputs, play
on through a session switch and are bound to the next session (dd_live.live.rig)."""

from __future__ import annotations

import signal
import threading

import pytest

from dd_live.testing.fakes import FakePort


def test_a_session_switch_keeps_the_ports_playing_and_binds_them_to_the_next_session(kit, monkeypatch):
    from dd_live.live import config
    from dd_live.live.daemon import Daemon
    from dd_live.live.serve_cli import serve, switch
    from dd_live.testing.oscclient import Client

    out, midi_in = FakePort("dd-fake-out"), FakePort("dd-fake-in")
    opened = []
    monkeypatch.setattr("dd_live.ports.outputs.open_outputs", lambda **kw: opened.append(kw) or [out])
    monkeypatch.setattr("dd_live.ports.outputs.open_inputs",
                        lambda **kw: [midi_in] if setattr(midi_in, "on_onset", kw["on_onset"]) is None else [])
    s = {**config.merge(dict(config.DEFAULTS), {"session": "first", "reply_port": 1, "threads": 1, "web": False,
                                                "latency": 12.0}), "osc_port": 0}     # any free port
    first = Daemon.open(s)
    seen: dict = {}

    def perform() -> None:              # a performer's OSC controller, while the main thread serves
        c = Client(first.port)
        try:
            c.send("/dd/hello")
            seen["first"] = c.wait("/dd/candidate", 60)[0]
            c.drain()
            c.send("/dd/session/open", "new")
            seen["second"] = c.wait("/dd/candidate", 60)[0]       # the next session's first loop, unasked
            seen["at_switch"] = (out.stops, out.closed)
        finally:
            c.close()
            signal.raise_signal(signal.SIGINT)

    handler = signal.getsignal(signal.SIGINT)
    driver = threading.Thread(target=perform)
    try:
        driver.start()
        serve(first, s)
        assert first.switch is not None and not out.closed and out.stops == 0   # handed over, not stopped
        shown_before = len(out.shown)
        s2, second = switch(first, s, {})
        serve(second, s2)
        driver.join(10)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert "second" in seen, seen
    assert len(opened) == 1 and opened[0]["latency"] == pytest.approx(0.012)   # opened once, by the first session
    assert seen["at_switch"] == (0, False)                        # playing on through the switch
    assert len(out.shown) > shown_before and out.shown[-1] is not out.shown[shown_before - 1]
    assert out.shown[-1].id == seen["second"] and second.current is out.shown[-1]   # the next session's loop
    assert midi_in.on_onset == second.takes.onset_at and midi_in.on_onset != first.takes.onset_at
    assert out.latency == pytest.approx(second.settings.latency / 1000.0)
    assert out.closed and midi_in.closed and out.stops == 1       # the last session closes them
