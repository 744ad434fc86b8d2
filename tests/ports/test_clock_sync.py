"""The MIDI player on a host's clock (dd_live.ports.clock_sync), run offline: virtual time that moves only when
the player looks at its clock or waits, with the host's clock messages fed at their virtual times, so what is
judged is where each note lands, not how busy the machine is."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dd_live.ports.clock import CONTINUE, SPP, START, STOP, TICK, TICKS_PER_BEAT, ClockFollower
from dd_live.ports.clock_sync import run_synced
from dd_live.ports.midi_out import CHANNEL, MidiPlayer, Note
from dd_live.testing.offline import Offline


def _host(off: Offline, f: ClockFollower, start: float, bpm: float, until: float, *, first: int = START) -> None:
    """A host that sends ``first`` (Start or Continue) at ``start`` and ticks at ``bpm`` until ``until``."""
    period = 60.0 / bpm / TICKS_PER_BEAT
    off.at(start, lambda: f.feed(first, start))
    k = 0
    while start + k * period < until:
        t = start + k * period
        off.at(t + 1e-6, lambda t=t: f.feed(TICK, t))
        k += 1


def _player(off: Offline, notes, beats=4):
    out: list[tuple[float, list[int]]] = []
    f = ClockFollower()
    p = MidiPlayer(lambda msg: out.append((off.t, list(msg))), clock=off.now, follower=f, beats=beats)
    p._bell = off.bell()                                  # its waits move virtual time
    f.on_change = p.transport_changed
    p.show(SimpleNamespace(notes=[Note(*n) for n in notes], bpm=120.0, pattern=SimpleNamespace(beats=beats)))
    return p, f, out


def _ons(out, after=0.0):
    return [(t, m[1]) for t, m in out if m[0] & 0xF0 == 0x90 and m[2] > 0 and t >= after]


def test_notes_land_on_the_hosts_beats_and_bars():
    off = Offline()
    p, f, out = _player(off, [(0.0, 36, 100), (1.0, 38, 100), (2.0, 36, 100), (3.0, 38, 100), (3.5, 42, 90)])
    _host(off, f, 1.0, 100.0, 6.0)
    off.at(6.0, p._stop.set)
    run_synced(p)
    spb = 0.6
    ons = _ons(out, after=1.0 + 2 * spb)                 # once the line is known (two beats of ticks)
    assert len(ons) >= 7
    for t, pitch in ons:
        beat = (t - 1.0) / spb
        assert beat % 4 in {0.0, 1.0, 2.0, 3.0, 3.5} or min(abs(beat - round(beat * 2) / 2), 1) < 2e-3
        nearest = round(beat * 2) / 2
        assert abs(t - (1.0 + nearest * spb)) < 1e-3                      # on the host's grid within 1 ms
        assert pitch == {0.0: 36, 1.0: 38, 2.0: 36, 3.0: 38, 3.5: 42}[nearest % 4]   # bars start on the host's
    assert all(t >= 1.0 for t, _ in _ons(out))                              # nothing before the host started


def test_a_stop_silences_at_once_and_a_continue_resumes_where_the_song_position_says():
    off = Offline()
    p, f, out = _player(off, [(0.0, 36, 100), (1.0, 38, 100), (2.0, 37, 100), (3.0, 39, 100)])
    bpm, spb = 120.0, 0.5
    _host(off, f, 0.0, bpm, 2.6)
    off.at(2.6, lambda: f.feed(STOP, 2.6))
    off.at(3.0, lambda: f.feed(SPP, 3.0, bytes([8, 0])))                 # 8 sixteenths: beat 2 of a bar
    _host(off, f, 4.0, bpm, 6.0, first=CONTINUE)
    off.at(6.0, p._stop.set)
    run_synced(p)
    stopped = [m for t, m in out if 2.6 <= t < 2.61]
    assert [0xB0 | CHANNEL, 123, 0] in stopped                                      # all notes off at the Stop
    assert _ons(out, after=2.6) == _ons(out, after=4.0)                   # nothing while stopped
    resumed = [(round((t - 4.0) / spb, 3), pitch) for t, pitch in _ons(out, after=4.0)]
    # from beat 2 of the bar at the Continue: 37 then 39, then the next bar from its start
    assert resumed[:4] == [(0.0, 37), (1.0, 39), (2.0, 36), (3.0, 38)]


def test_a_note_whose_time_passed_is_dropped_not_played_late():
    off = Offline()
    p, f, out = _player(off, [(0.0, 36, 100), (2.0, 38, 100)])
    _host(off, f, 0.0, 120.0, 4.0)
    original = p._wait_until

    def sleepy(deadline, transport=None):      # the thread wakes 30 ms late once, just before beat 6
        if abs(deadline - 3.0) < 0.01:
            off.t = deadline + 0.03
        return original(deadline, transport)

    p._wait_until = sleepy
    off.at(4.0, p._stop.set)
    run_synced(p)
    ons = _ons(out, after=1.5)
    assert [pitch for _, pitch in ons] == [36]                # beat 4's kick; beat 6's snare dropped ...
    assert p.dropped_late >= 1 and all(abs(t - 2.0) < 1e-3 for t, _ in ons)   # ... not played 30 ms late
    assert [0xB0 | CHANNEL, 123, 0] in [m for _, m in out]


@pytest.mark.parametrize("bpm", [90.0, 174.0])
def test_the_loops_own_tempo_does_not_matter_on_the_hosts_clock(bpm):
    off = Offline()
    p, f, out = _player(off, [(0.0, 36, 100), (2.0, 38, 100)])
    _host(off, f, 0.0, bpm, 8 * 60 / bpm)
    off.at(8 * 60 / bpm, p._stop.set)
    run_synced(p)
    beats = [(t * bpm / 60, pitch) for t, pitch in _ons(out, after=1.5 * 60 / bpm)]
    assert [(round(b, 2), pitch) for b, pitch in beats] == [(2.0, 38), (4.0, 36), (6.0, 38)]


def test_a_player_waiting_for_a_stopped_host_does_not_poll_and_starts_with_it():
    """Between a Stop and the next Start (10 s) the player waits for its bell, looking again only every IDLE_S
    (at POLL_S it looked 5,000 times: 2% of a core for nothing); the Start rings it, and the next bar's notes
    land on the host's beats as before."""
    from dd_live.ports.clock_sync import IDLE_S

    off = Offline()
    p, f, out = _player(off, [(0.0, 36, 100), (2.0, 38, 100)])
    _host(off, f, 1.0, 120.0, 3.0)
    off.at(3.0, lambda: f.feed(STOP, 3.0))
    _host(off, f, 13.0, 120.0, 17.0)
    off.at(17.0, p._stop.set)
    looks = []
    wait = off.wait
    off.wait = lambda s=None: (looks.append(off.t) if 3.5 < off.t < 12.9 else None) or wait(s)
    p._bell = off.bell()
    run_synced(p)
    assert 0 < len(looks) <= 9.4 / IDLE_S + 2, len(looks)
    late = _ons(out, after=13.0 + 1.0)                 # once the new line is known
    assert late and all(abs((t - 13.0) / 0.5 - round((t - 13.0) / 0.5)) < 2e-3 for t, _ in late)
