"""A song's drums played live (/dd/song/play, /dd/song/stop; dd_live.live.song_play) and takes over the song:
written first if need be, played on MIDI out from the bar asked for, the loop back after /dd/song/stop, and a
human playing behind the beat teaching the song's drums to lay back."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import numpy as np
import pytest

from dd_live.live.song_play import read_written, timing_file
from dd_live.ports import midi_out

from .checks import make_midi


@pytest.fixture
def midi(monkeypatch):
    """MIDI out as a real player on the real clock whose messages land in a list, (time, bytes)."""
    sent = []

    def open_player(port, **kw):
        player = midi_out.MidiPlayer(lambda m: sent.append((time.perf_counter(), list(m))), where="test", **kw)
        return player

    monkeypatch.setattr(midi_out, "open_player", open_player)
    return sent


def _ons(sent, after=0.0):
    return [(t, m[1]) for t, m in sent if m[0] & 0xF0 == 0x90 and m[2] > 0 and t >= after]


def test_a_song_plays_from_the_bar_asked_for_and_the_loop_comes_back(daemon, tmp_path, midi):
    d, c = daemon(midi_out="virtual")
    c.wait("/dd/candidate", 30)
    src = make_midi(tmp_path / "tune.mid", [("busy", 8, 4, 4, 120.0)])
    c.send("/dd/song/play", str(src), 5)
    assert c.wait("/dd/song/done", 120)[0] == "tune.mid"                   # written first ...
    name, bar, bars = c.wait("/dd/song/playing", 60)                          # ... then played
    assert (name, bar) == ("tune.mid", 5) and bars >= 8
    score, notes, bar_s = read_written(d.song_play.playing.folder)
    want = {int(n["pitch"]) for n in notes if score.bar[n["row"]] == 5}      # what bar 5 plays
    started = time.perf_counter()
    player = d.outputs[0]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not d.song_play.playing.cue.passes:
        time.sleep(0.05)
    assert d.song_play.playing.cue.passes >= 1                                # round again from bar 5
    assert want <= {p for _, p in _ons(midi, started)}
    c.send("/dd/song/stop")
    assert c.wait("/dd/song/stopped", 10) == ["tune.mid"]
    assert d.song_play.playing is None and player._cue is None
    c.send("/dd/song/stop")
    assert "no song is playing" in c.wait("/dd/error", 10)[1]


def test_takes_over_a_song_teach_its_drums_to_lay_back_by_the_performers_a(daemon, tmp_path, midi):
    d, c = daemon(midi_out="virtual")
    c.wait("/dd/candidate", 30)
    src = make_midi(tmp_path / "tune.mid", [("busy", 4, 4, 4, 120.0)])
    c.send("/dd/song", str(src))
    c.wait("/dd/song/done", 120)
    c.send("/dd/song/play", str(src))
    c.wait("/dd/song/playing", 60)
    playing = d.song_play.playing
    player = d.outputs[0]
    score = playing.score
    c.drop("/dd/settings")
    c.send("/dd/set/song/adapt", 0.5)                    # half of the human's gap a take
    c.wait("/dd/settings", 10)
    assert d.settings.song_a == 0.5 and d.settings.song_b == 1.0
    c.send("/dd/take/start")
    done = set()
    deadline = time.monotonic() + 40
    while len(done) < 6 and time.monotonic() < deadline:     # six bars: each hit played 30 ms late
        place = playing.cue.place(player.clock())
        if place is None or place[0] in done or place[1] > 0.6:
            time.sleep(0.01)
            continue
        k = place[0]
        rows = score.bar == k
        for beat in score.beat[rows]:
            c.send("/dd/onset", float(beat) + 0.03 * score.bpm[rows][0] / 60.0)
        done.add(k)
    c.send("/dd/take/end")
    onsets, matched, *_ = c.wait("/dd/take", 60)
    assert onsets == matched > 20
    feel = c.wait("/dd/song/feel", 10)
    sections = dict(zip(feel[1::2], feel[2::2]))
    assert feel[0] == "tune.mid" and all(8.0 < ms < 22.0 for ms in sections.values()), sections
    assert timing_file(playing.folder).is_file()
    later = [n.beat for bar in playing.cue._bars for n in bar[0]]
    assert np.mean([b % 0.25 for b in later]) > 0.02                         # the notes the player gets moved
    # the song written again carries what the take taught, in drums.mid and arrangement.json
    before = read_written(playing.folder)[0].at_s
    c.send("/dd/song", str(src))
    c.wait("/dd/song/done", 120)
    after = read_written(playing.folder)[0].at_s
    assert before.size == after.size and 0.008 < float(np.mean(after - before)) < 0.022
    doc = json.loads((playing.folder / "arrangement.json").read_text())
    assert doc["summary"]["feel"]["takes"] == 1 and all(8 < v < 22 for v in doc["summary"]["feel"]["sections_ms"].values())


def _fake_audio(monkeypatch):
    """Audio out without a sound card (its callback driven by the test) beside whatever MIDI out opens."""
    from dd_live.ports import outputs
    from dd_live.ports.audio_out import AudioPlayer

    class Audio(AudioPlayer):
        def start(self):
            pass

        def is_alive(self):
            return True

    audio = Audio()
    real = outputs.open_outputs
    monkeypatch.setattr(outputs, "open_outputs", lambda **kw: real(**{**kw, "audio": False}) + [audio])
    out = np.zeros((4096, 2), np.float32)

    def block():
        audio._callback(out, out.shape[0], None, SimpleNamespace(output_underflow=False))
        return out[:, 0].copy()

    return audio, block


def test_with_audio_out_alone_takes_over_the_song_are_placed_by_where_it_is(daemon, tmp_path, monkeypatch):
    audio, block = _fake_audio(monkeypatch)
    d, c = daemon(midi_out="none")
    c.wait("/dd/candidate", 30)
    src = make_midi(tmp_path / "tune.mid", [("busy", 4, 4, 4, 120.0)])
    c.send("/dd/song/play", str(src))
    c.wait("/dd/song/playing", 120)
    deadline = time.monotonic() + 10
    while audio.state.lines is None and time.monotonic() < deadline:
        block()
    c.send("/dd/take/start")
    c.send("/dd/onset", 1.0)
    c.send("/dd/onset", 2.0)
    c.send("/dd/take/end")
    onsets, matched, *_ = c.wait("/dd/take", 60)
    assert onsets == matched == 2


def test_audio_out_plays_the_songs_drums_and_then_the_loop_from_a_bar_line(daemon, tmp_path, midi, monkeypatch):
    from dd_live import SAMPLE_RATE

    audio, block = _fake_audio(monkeypatch)
    d, c = daemon(midi_out="virtual")
    c.wait("/dd/candidate", 30)
    src = make_midi(tmp_path / "tune.mid", [("busy", 4, 4, 4, 120.0)])
    c.send("/dd/song/play", str(src), 1)
    c.wait("/dd/song/playing", 120)
    state = audio.state
    deadline = time.monotonic() + 10
    while state.lines is None and time.monotonic() < deadline:      # the loop's bar plays out, then the song
        block()
    bars = len(d.song_play.playing.cue) - 1                              # from bar 1 to the end
    assert state.lines is not None and audio.beats == 4 * bars
    song = state.loop
    assert song.shape[0] == round(bars * 2.0 * SAMPLE_RATE) and np.abs(song).max() > 0.05
    assert state.lines.tolist() == [k * 2 * SAMPLE_RATE for k in range(bars)]
    for _ in range(10):
        block()
    c.send("/dd/song/stop")
    c.wait("/dd/song/stopped", 10)
    before, deadline = state.pos, time.monotonic() + 10
    while state.loop is song and time.monotonic() < deadline:
        before = state.pos
        block()
    assert state.loop is not song and before < 2 * SAMPLE_RATE + 4096      # back to the loop at the next bar line
