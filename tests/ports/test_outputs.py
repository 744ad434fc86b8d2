"""The daemon's outputs without hardware: the audio loop state, and what every output is shown."""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np
import pytest

from dd_live.ports import midi_out
from dd_live.testing.fakes import FakePort


def test_loop_state_switches_only_at_the_bar_line(loop_state):
    st = loop_state
    a = np.arange(10, dtype=np.float32)
    b = -np.arange(1, 7, dtype=np.float32)
    out = np.empty((4, 2), dtype=np.float32)
    st.offer(a)
    st.fill(out)
    assert not out.any()                         # not playing: silence
    st.playing = True
    st.fill(out)
    assert out[:, 0].tolist() == [0, 1, 2, 3] and out[:, 1].tolist() == [0, 1, 2, 3]
    st.offer(b)                                  # arrives mid-bar
    got = []
    for _ in range(3):
        st.fill(out)
        got += out[:, 0].tolist()
    assert got == [4, 5, 6, 7, 8, 9, -1, -2, -3, -4, -5, -6]
    for k in range(5):                           # a full queue drops the oldest, never blocks: the newest plays
        st.offer(a + 100 * k)
    got = []
    for _ in range(3):
        st.fill(out)
        got += out[:, 0].tolist()
    assert got == [-1, -2, -3, -4, -5, -6, 400, 401, 402, 403, 404, 405]


def test_the_daemon_shows_each_loop_to_every_output_and_computes_its_notes_once(daemon, monkeypatch):
    from dd_live.groove import record

    calls = []
    real = record.notes_of
    monkeypatch.setattr(record, "notes_of", lambda *a: calls.append(1) or real(*a))
    outs = [FakePort(), FakePort()]
    monkeypatch.setattr("dd_live.ports.outputs.open_outputs", lambda **kw: outs)
    d, c = daemon()
    cid = c.wait("/dd/candidate", 30)[0]
    notes = c.wait("/dd/notes", 10, where=lambda a: a[0] == cid)[1:]
    end = time.monotonic() + 10                      # the announcing thread shows it to the outputs right after
    while not all(o.shown for o in outs) and time.monotonic() < end:
        time.sleep(0.01)
    assert [o.shown[-1].id for o in outs] == [cid, cid] and outs[0].shown[-1] is outs[1].shown[-1]
    loop = outs[0].shown[-1]
    assert notes == [x for n in loop.notes for x in (n.pitch, pytest.approx(n.beat), n.velocity)]
    assert len(calls) == len({id(o.shown[-1]) for o in outs}) == 1    # /dd/notes and both outputs: one notes_of
    c.drain()
    c.send("/dd/play")
    c.send("/dd/status")
    c.wait("/dd/status", 10)
    assert all(o.playing for o in outs)
    c.send("/dd/stop")
    c.send("/dd/status")
    c.wait("/dd/status", 10)
    assert not any(o.playing for o in outs)


def test_a_dead_output_is_told_to_the_front_ends_and_revived_while_the_daemon_serves_on(daemon, monkeypatch):
    out = FakePort()
    revived = []

    def revive() -> None:
        revived.append(1)
        out.error = None

    out.revive = revive
    monkeypatch.setattr("dd_live.ports.outputs.open_outputs", lambda **kw: [out])
    d, c = daemon()
    c.wait("/dd/candidate", 30)
    out.error = RuntimeError("the port went away\nsecond line")
    code, message = c.wait("/dd/error", 10)
    assert code == "part" and message == "dd-fake failed: the port went away; restarting it"
    assert c.wait("/dd/part", 10, where=lambda a: a[1] == "restarted") == ["dd-fake", "restarted", "dd-fake is running again"]
    assert revived == [1] and d.failure() is None and not d.stopped.is_set()
    c.send("/dd/status")
    c.wait("/dd/status", 10)


def test_a_dead_core_part_stops_the_daemon_with_a_one_line_reason(tmp_path, kit, monkeypatch):
    import os
    import signal
    import threading

    from dd_live.errors import DDLiveError
    from dd_live.live.daemon import Daemon
    from dd_live.session.session import Session

    out = FakePort()
    monkeypatch.setattr("dd_live.ports.outputs.open_outputs", lambda **kw: [out])
    d = Daemon(Session(tmp_path / "s"), kit, osc_port=0, reply_port=1, threads=1, seed=3)
    handler = signal.getsignal(signal.SIGINT)

    def fail() -> None:
        d.generator.error = RuntimeError("the disk went away\nsecond line")

    threading.Timer(1.0, fail).start()
    guard = threading.Timer(30.0, os.kill, args=(os.getpid(), signal.SIGTERM))  # a supervision that misses it
    guard.start()
    try:
        with pytest.raises(DDLiveError, match=r"^dd-generator failed: the disk went away$"):
            d.serve_forever(poll_s=0.05)
    finally:
        guard.cancel()
    assert not any(w.is_alive() for w in d.workers) and out.closed
    assert signal.getsignal(signal.SIGINT) is handler            # the caller's handlers are back


def test_a_midi_player_whose_port_fails_is_named_by_supervision():
    import time

    from types import SimpleNamespace

    from dd_live.ports.midi_out import MidiPlayer
    from dd_live.worker import failure
    from dd_live.loops.export import Note

    def send(msg):
        raise OSError("MIDI device unplugged")

    player = MidiPlayer(send, bpm=240.0)
    assert failure([player]) == "dd-midi stopped by itself"           # not started yet: not alive
    player.start()
    assert failure([player]) is None
    player.show(SimpleNamespace(notes=[Note(0.0, 36, 100)], bpm=240.0, pattern=SimpleNamespace(beats=4)))
    player.play()
    end = time.monotonic() + 5
    while player.is_alive() and time.monotonic() < end:
        time.sleep(0.01)
    assert failure([player]) == "dd-midi failed: MIDI device unplugged"


def test_replies_from_any_thread_leave_through_the_osc_thread():
    import socket
    import threading

    from dd_live.osc.osc import encode
    from dd_live.osc.osc_server import OSCServer

    server = OSCServer("127.0.0.1", 0, lambda data, sender: None)
    senders = []
    real = server._sendto
    server._sendto = lambda data, address: senders.append(threading.current_thread().name) or real(data, address)
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    server.start()
    try:
        others = [threading.Thread(target=server.send, args=(encode("/dd/status", i), listener.getsockname()),
                                   name=f"producer{i}") for i in range(20)]
        for t in others:
            t.start()
        for t in others:
            t.join()
        got = [listener.recvfrom(1024)[0] for _ in range(20)]
    finally:
        server.stop()
        server.join(2)
        listener.close()
    assert sorted(got) == sorted(encode("/dd/status", i) for i in range(20))
    assert senders == ["dd-osc"] * 20
    assert server._sock is None                                      # join closed the socket


@contextmanager
def _playing(player, notes: list, bpm: float):
    """``player`` started and playing a one-bar (4 beats) loop of ``notes`` (beats, pitch, velocity); closed after."""
    from types import SimpleNamespace

    from dd_live.loops.export import Note

    player.start()
    try:
        player.show(SimpleNamespace(notes=[Note(*n) for n in notes], bpm=bpm, pattern=SimpleNamespace(beats=4)))
        player.play()
        yield player
    finally:
        player.close()


def _offline_player(notes: list, bpm: float, **kw):
    """A MidiPlayer on virtual time (:class:`dd_live.testing.offline.Offline`) showing and playing a one-bar loop of
    ``notes`` (beats, pitch, velocity); run its loop with ``player._run()`` in the test's thread."""
    from types import SimpleNamespace

    from dd_live.loops.export import Note
    from dd_live.ports.midi_out import MidiPlayer
    from dd_live.testing.offline import Offline

    off = Offline()
    player = MidiPlayer(kw.pop("send", lambda m: None), bpm=bpm, clock=off.now, **kw)
    player._bell = off.bell()
    player.show(SimpleNamespace(notes=[Note(*n) for n in notes], bpm=bpm, pattern=SimpleNamespace(beats=4)))
    player.play()
    return player, off


def test_a_frame_stamping_port_gets_each_message_ahead_with_its_exact_time_and_a_halt_cancels_the_rest():
    got, cancels, sent_now = [], [], []
    player, off = _offline_player([(0.0, 36, 100), (1.5, 37, 90), (3.75, 38, 80)], 240.0, send=sent_now.append,
                                  send_at=lambda msg, at: got.append((off.t, at, list(msg))),
                                  cancel=lambda: cancels.append(off.t), lookahead=0.2)
    off.at(2.3, player.halt)
    off.at(2.5, player._stop.set)
    player._run()
    ons = [(t, at, m) for t, at, m in got if m[0] == 0x99]
    assert len(ons) == 7                                   # two bars and a beat, then the halt
    ahead = [at - t for t, at, _ in got]
    assert min(ahead) > 0.199 and max(ahead) < 0.2 + midi_out.EARLY_S + 0.0005   # 0.2-0.22 s before they sound
    t0 = ons[0][1]
    rel = [round((at - t0) / 0.25, 9) for _, at, _ in ons]
    assert rel == [0.0, 1.5, 3.75, 4.0, 5.5, 7.75, 8.0]   # bar after bar, exactly (no drift from wake-ups)
    assert max(at for _, at, _ in got) <= 2.3 + 0.2 + 1e-3        # nothing queued beyond the halt's lookahead
    assert cancels and abs(cancels[0] - 2.3) < 1e-3                # halt: queued notes forgotten at once ...
    assert any(m[:2] == [0xB9, 123] for m in sent_now)              # ... and all notes off now


def test_a_note_on_whose_time_passed_while_the_player_was_held_up_is_dropped_not_played_late():
    """A player thread that wakes after a note's time (a stalled machine) drops the note-on (counted) instead
    of handing it over late; note-offs and clock ticks always go; a port that sends at once has LATE_S of slack."""
    from dd_live.ports.midi_out import LATE_S, MidiPlayer

    stamped = MidiPlayer(lambda m: None, send_at=lambda m, at: None, lookahead=0.2)
    now = stamped.clock()
    assert stamped.too_late([0x99, 36, 100], now - 0.001) and stamped.dropped_late == 1
    assert not stamped.too_late([0x99, 36, 100], now + 0.05)
    assert not stamped.too_late([0x89, 36, 0], now - 1.0) and not stamped.too_late([0xF8], now - 1.0)
    assert not stamped.too_late([0x99, 36, 0], now - 1.0)        # velocity 0 is a note-off
    at_once = MidiPlayer(lambda m: None)
    assert not at_once.too_late([0x99, 36, 100], at_once.clock() - LATE_S / 2)
    assert at_once.too_late([0x99, 36, 100], at_once.clock() - 2 * LATE_S)

    # the whole thread: its clock jumps 0.5 s while it waits for the second note (a stall), which is dropped
    got = []

    def send_at(msg, at):
        got.append((at, list(msg)))
        if msg[:2] == [0x99, 36] and len(got) == 1:
            off.t += 0.5                                               # after the first note: the stall

    player, off = _offline_player([(0.0, 36, 100), (0.5, 37, 90), (3.0, 38, 80)], 120.0, send_at=send_at,
                                  lookahead=0.2)
    off.at(2.0, player._stop.set)
    player._run()
    ons = [(at, m) for at, m in got if m[0] == 0x99 and m[2] > 0]
    assert [m[1] for _, m in ons[:2]] == [36, 38] and player.dropped_late == 1, (ons, player.dropped_late)
