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


# The human's note-ons leave from a process of their own, so that neither side's Python threads delay the
# other's (time.perf_counter is CLOCK_MONOTONIC: one clock for both processes on Linux).
_HUMAN = """
import json, sys, time
import rtmidi
port = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name="human")
port.open_virtual_port("out")
print("ready", flush=True)
for line in sys.stdin:
    times = json.loads(line)
    for t in times:
        while time.perf_counter() < t - 0.002:
            time.sleep(0.0005)
        while time.perf_counter() < t:
            pass
        port.send_message([0x90, 60, 100])
        port.send_message([0x80, 60, 0])
    print("done", flush=True)
port.close_port()
"""


@pytest.mark.jack
def test_a_human_on_midi_in_pulls_the_drums_off_beats_late(jack, daemon):
    # The human of issue 15 plays note-ons into "dd_live in" (a JACK MIDI client), timed against the daemon's
    # MIDI player clock; the daemon stamps them on arrival and learns the feel from them alone.
    import json
    import subprocess
    import sys

    import numpy as np

    from dd_live.lab.human import Human

    d, c = daemon(threads=1, seed=2, midi_out="virtual", midi_in="virtual", hello=False)
    human = subprocess.Popen([sys.executable, "-c", _HUMAN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert human.stdout.readline().strip() == "ready"
        assert [i.name for i in d.inputs] == ["dd-midi-in"], "MIDI in did not open on the JACK server"
        assert jack_connect("human:out", "dd_live in:dd_live in"), "could not connect the human to dd_live in"
        c.send("/dd/hello")
        c.wait("/dd/candidate", 30)
        c.send("/dd/play")
        player = d.outputs[0]
        deadline = time.monotonic() + 10
        while player.phase() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        bar = 4 * 60.0 / 120.0
        simulated = Human(swing=1 / 3, pull=0.3, jitter_ms=4.0, latency_ms=12.0, seed=0)
        layers, gaps = [], []
        for _ in range(3):
            frame = d.current.frame(d.settings.feel)
            start = time.perf_counter() - player.phase() * bar + 2 * bar   # a bar line at least a bar away
            c.send("/dd/take/start")
            times = sorted(start + k * bar + p * bar / frame.steps
                           for k in range(4) for p in simulated.play(frame, bars=1, bpm=120.0))
            human.stdin.write(json.dumps(times) + "\n")
            human.stdin.flush()
            assert human.stdout.readline().strip() == "done"
            time.sleep(0.05)
            c.send("/dd/take/end")
            take = c.wait("/dd/take", 10)
            layers.append(np.asarray(c.wait("/dd/feel", 10)))
            gaps.append(take[2])
            # JACK MIDI may deliver a note twice; MIDI in counts note-ons within 30 ms as one onset
            assert 0.95 * len(times) <= take[0] <= len(times), f"{take[0]} of {len(times)} onsets reached the take"
        c.send("/dd/stop")
    finally:
        human.stdin.close()
        human.wait(10)
        stop_daemon(d, c)
    off = [s for s in frame.drum_steps if s % 2 == 1]
    on = [s for s in frame.drum_steps if s % 4 == 0]
    means = [float(np.mean(layer[off])) for layer in layers]
    assert 0 < means[0] < means[1] < means[2] and means[2] >= 0.6 / 3, means
    assert max(float(np.max(np.abs(layer[on]))) for layer in layers) <= 0.03
    assert gaps[0] > gaps[1] > gaps[2], gaps
