"""MIDI out against a real MIDI system: a JACK server with the dummy driver, dd_live's virtual port
connected to a JACK MIDI reader (a python-rtmidi JACK client)."""

from __future__ import annotations

import time

import pytest

from dd_live.lab.harness import jack_connect, stop_daemon
from dd_live.loops.export import Note, notes_of
from dd_live.live.midi_out import bar_timeline


def _reader():
    import rtmidi

    mi = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name="reader")
    mi.ignore_types(sysex=True, timing=True, active_sense=True)
    mi.open_virtual_port("in")
    return mi


def _connect() -> None:
    assert jack_connect("dd_live:dd_live", "reader:in"), "could not connect dd_live:dd_live to reader:in"


def _collect(mi, seconds: float, until=None) -> list[tuple[float, list[int]]]:
    """Messages with their times (s, from the first) for ``seconds``, or until ``until(messages)`` holds."""
    out, t, end = [], 0.0, time.monotonic() + seconds
    while time.monotonic() < end and not (until and until(out)):
        m = mi.get_message()
        if m is None:
            time.sleep(0.002)
            continue
        t += m[1]
        out.append((t, m[0]))
    return out


def test_bar_timeline_orders_note_offs_before_note_ons():
    tl = bar_timeline([Note(0.0, 36, 100), Note(0.125, 36, 90)], 120.0, 4)
    assert [m[0] >> 4 for _, m in tl] == [0x9, 0x8, 0x9, 0x8]
    assert tl[1][0] == pytest.approx(tl[2][0])


@pytest.mark.jack
def test_a_candidates_notes_arrive_in_order_with_pitches_velocities_and_timing(jack, daemon):
    d, c = daemon(threads=1, seed=2, midi_out="virtual", hello=False)
    mi = _reader()
    try:
        assert [o.name for o in d.outputs] == ["dd-midi"], "MIDI out did not open on the JACK server"
        _connect()
        c.send("/dd/hello")
        cid = c.wait("/dd/candidate", 30)[0]
        notes = c.wait("/dd/notes", where=lambda a: a[0] == cid)[1:]
        expected = [(notes[i], notes[i + 2], notes[i + 1]) for i in range(0, len(notes), 3)]  # pitch, vel, beat
        pattern = d.current.pattern
        assert [(n.pitch, n.velocity, n.beat) for n in notes_of(pattern, d.current.pitches)] == [
            (p, v, pytest.approx(b)) for p, v, b in expected]
        c.send("/dd/play")
        # one bar at 120 bpm is 2 s; on a loaded machine the first note may come late, so wait for the whole bar
        got = _collect(mi, 15.0, until=lambda m: sum(x[1][0] == 0x99 and x[1][2] > 0 for x in m) > len(expected))
        c.send("/dd/stop")
        tail = _collect(mi, 0.5)
    finally:
        stop_daemon(d, c)
        mi.close_port()
    ons = [(t, m) for t, m in got if m[0] == 0x99 and m[2] > 0]
    assert len(ons) >= len(expected)
    first_bar = ons[: len(expected)]
    assert [(m[1], m[2]) for _, m in first_bar] == [(p, v) for p, v, _ in expected], (got[:60], expected)
    t0 = first_bar[0][0] - expected[0][2] * 0.5
    errors = [abs((t - t0) - b * 0.5) for (t, _), (_, _, b) in zip(first_bar, expected)]
    assert max(errors) < 0.010, f"MIDI timing off the grid by up to {max(errors) * 1000:.1f} ms"
    assert any(m[:2] == [0xB9, 123] for _, m in got + tail), "no All Notes Off after /dd/stop"
