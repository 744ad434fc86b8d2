"""A song on the MIDI player (dd_live.ports.song_cue and MidiPlayer.cue), on virtual time: its bars in order from
the bar asked for, passes, the loop back afterwards, the host's bar when following a clock, and onsets placed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dd_live.ports.clock import START, TICK, TICKS_PER_BEAT, ClockFollower
from dd_live.ports.clock_sync import run_synced
from dd_live.ports.midi_out import MidiPlayer, Note
from dd_live.ports.song_cue import SongCue
from dd_live.testing.offline import Offline


def _bars(n=4, beats=4, bpm=120.0):
    """Song bar k plays pitch 40 + k on its downbeat."""
    return [([Note(0.0, 40 + k, 100)], bpm, beats) for k in range(n)]


def _player(off, **kw):
    out = []
    p = MidiPlayer(lambda m: out.append((off.t, list(m))), clock=off.now, **kw)
    p._bell = off.bell()
    p.show(SimpleNamespace(notes=[Note(0.0, 36, 100)], bpm=120.0, pattern=SimpleNamespace(beats=4)))
    return p, out


def _ons(out):
    return [(round(t, 4), m[1]) for t, m in out if m[0] & 0xF0 == 0x90 and m[2] > 0]


def test_a_song_plays_its_bars_from_the_one_asked_for_round_again_and_then_the_loop_comes_back():
    off = Offline()
    p, out = _player(off)
    p.play()
    song = SongCue("s", _bars(4), start=2)
    off.at(1.0, lambda: p.cue(song))                          # during the loop's first bar
    off.at(4.5, lambda: p.show(SimpleNamespace(notes=[Note(0.0, 37, 90)], bpm=120.0,
                                               pattern=SimpleNamespace(beats=4))))   # a new loop meanwhile
    off.at(6.5, lambda: p.cue(None))
    off.at(11.0, p._stop.set)
    p._run()
    pitches = [pitch for _, pitch in _ons(out)]
    assert pitches == [36, 42, 43, 42, 37, 37]               # loop, bars 2 3, round again from 2, the newest loop
    assert song.passes == 1
    line0 = _ons(out)[1][0]                                   # bar 2 began at its first note
    assert song.place(line0 + 1.0) == (2, pytest.approx(0.5, abs=1e-3))
    assert song.place(line0 - 0.5) is None


def test_following_a_host_the_song_plays_the_bar_the_host_is_in():
    off = Offline()
    f = ClockFollower()
    p, out = _player(off, follower=f)
    f.on_change = p.transport_changed
    song = SongCue("s", _bars(4))
    p.cue(song)
    period = 60.0 / 120.0 / TICKS_PER_BEAT
    off.at(0.0, lambda: f.feed(START, 0.0))
    for k in range(int(7.0 / period)):
        off.at(k * period + 1e-6, lambda t=k * period: f.feed(TICK, t))
    off.at(7.0, p._stop.set)
    run_synced(p)
    by_bar = {round(t / 2.0): pitch for t, pitch in _ons(out) if t > 0.5}
    assert by_bar == {1: 41, 2: 42, 3: 43}                    # the host's bar k: the song's bar k


def test_a_song_cue_checks_what_it_is_given():
    with pytest.raises(ValueError, match="at least one bar"):
        SongCue("s", [])
    cue = SongCue("s", _bars(3), start=9)
    assert cue.start == 2 and cue.take()[0] == 2 and cue.take()[0] == 2 and cue.passes == 1
    assert cue.take(5) is None and cue.take(1)[0] == 1
    with pytest.raises(ValueError, match="as many bars"):
        cue.replace(_bars(2))


def test_audio_outs_loop_state_switches_a_song_at_its_next_bar_line_and_keeps_its_place(loop_state):
    import numpy as np

    state = loop_state
    state.playing = True
    song = np.arange(1000, dtype=np.float32)                   # each sample says where it is
    state.offer(song, np.array([0, 250, 500, 750]))
    out = np.zeros((100, 1), np.float32)
    state.fill(out)
    state.fill(out)                                            # at 200
    state.offer(song + 10000, np.array([0, 250, 500, 750]), keep_place=True)   # the song anew: at the same place
    state.fill(out)
    assert out[49, 0] == 249 and out[50, 0] == 10250           # ... from its next bar line
    assert state.pos == 300 and state.loop[0] == 10000 and state.lines.tolist() == [0, 250, 500, 750]
    state.offer(np.full(100, -1.0, np.float32))                # the loop again
    heard = np.concatenate([state.fill(out) or out[:, 0].copy() for _ in range(3)])
    assert heard[:200].tolist() == list(range(10300, 10500)) and (heard[200:] == -1.0).all()
    assert state.lines is None and state.pos == 0 and state.loop.tolist() == [-1.0] * 100
