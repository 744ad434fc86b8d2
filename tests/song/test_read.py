"""Reading songs for song mode (issue 16, part 2): tempo map, bars at every meter change, the other parts'
intensity; odd files read with a warning or refused with one line; Debian's simutrans songs."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from dd_live.errors import InputError
from dd_live.song.read import read_song, intensity

TPB = 96


def _write(path: Path, events: list[tuple[int, object]], *, drums: list[tuple[int, int]] = ()) -> Path:
    """A type 1 file: a conductor track of meta events and a track of notes, each (absolute tick, message)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    for part in (sorted(events, key=lambda e: e[0]), sorted(drums)):
        track, last = mido.MidiTrack(), 0
        for tick, msg in part:
            track.append(msg.copy(time=tick - last))
            last = tick
        mid.tracks.append(track)
    mid.save(str(path))
    return path


def _note(tick: int, pitch: int, length: int = 24, velocity: int = 90, channel: int = 0):
    return [(tick, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)),
            (tick + length, mido.Message("note_off", note=pitch, velocity=0, channel=channel))]


def test_bars_follow_every_meter_and_tempo_change_pickup_included(tmp_path):
    meta = [(0, mido.MetaMessage("time_signature", numerator=1, denominator=8)),     # a pickup eighth
            (0, mido.MetaMessage("set_tempo", tempo=500_000)),
            (48, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
            (48 + 2 * 288, mido.MetaMessage("set_tempo", tempo=750_000)),           # 80 bpm from bar 3
            (48 + 3 * 288, mido.MetaMessage("time_signature", numerator=6, denominator=8))]
    notes = []
    for bar in range(5):
        if bar == 2:
            continue                                                                 # a silent bar
        start = 48 + bar * 288
        notes += _note(start, 60) + _note(start + 96, 64) + _note(start + 96, 67)   # a chord: one onset
        notes += _note(start, 36)                                                    # bass
    drums = [e for k in range(0, 1200, 24) for e in _note(k, 38, 12, channel=9)]
    song = read_song(_write(tmp_path / "s.mid", meta + notes, drums=drums))
    b = song.bars
    assert [(x.numerator, x.denominator, x.end - x.start) for x in b[:6]] == [
        (1, 8, 48), (3, 4, 288), (3, 4, 288), (3, 4, 288), (6, 8, 288), (6, 8, 288)]
    assert song.pickup and b[0].complete and b[1].complete and b[4].beats == 6
    assert all(x.end == y.start for x, y in zip(b, b[1:])) and b[-1].end >= 1200
    # seconds through the tempo map: 48 + 2 bars at 120 bpm, then 80 bpm
    assert b[3].start_s == pytest.approx((48 + 576) / TPB * 0.5)
    assert b[4].start_s == pytest.approx((48 + 576) / TPB * 0.5 + 288 / TPB * 0.75)
    assert b[3].bpm == pytest.approx(80.0) and b[1].bpm == pytest.approx(120.0)
    inten = intensity(song)
    assert inten["onsets"][1] == pytest.approx(2 / 3) and inten["onsets"][3] == 0.0   # chord once, drums not
    assert inten["bass"][1] == pytest.approx(1 / 3) and inten["velocity"][1] == 90
    assert inten["steps"][1] == pytest.approx(2 / 12) and inten["steps"][3] == 0


def test_a_song_without_time_signature_is_4_4_at_120_and_ends_with_its_last_note(tmp_path):
    song = read_song(_write(tmp_path / "s.mid", _note(0, 60) + _note(5 * 384 + 10, 62, 100)))
    assert {(x.numerator, x.denominator) for x in song.bars} == {(4, 4)}
    assert len(song.bars) == 6 and song.bars[0].bpm == 120.0
    assert song.length_ticks >= 5 * 384 + 110 and not song.pickup


def test_an_undecodable_key_signature_is_kept_raw_with_one_warning_and_written_back_unchanged(tmp_path):
    path = _write(tmp_path / "k.mid", [(0, mido.MetaMessage("key_signature", key="F"))] + _note(0, 60))
    raw = path.read_bytes()
    at = raw.index(bytes([0xFF, 0x59, 0x02]))
    broken = raw[: at + 4] + bytes([0xFF]) + raw[at + 5:]                     # mode 255, as in two simutrans songs
    path.write_bytes(broken)
    with pytest.raises(Exception):
        mido.MidiFile(str(path))                                               # mido alone refuses it
    song = read_song(path)
    assert len(song.warnings) == 1 and "0x59" in song.warnings[0] and len(song.others()) == 1
    song.midi.save(str(tmp_path / "again.mid"))
    assert (tmp_path / "again.mid").read_bytes() == broken


@pytest.mark.parametrize("content", [b"", b"RIFF....WAVEfmt ", b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00"])
def test_what_is_not_a_midi_song_is_one_line(tmp_path, content):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_song(path)
    assert "\n" not in str(err.value) and "bad.mid" in str(err.value)
    with pytest.raises(InputError, match="no such file"):
        read_song(tmp_path / "missing.mid")


@pytest.mark.simutrans
def test_every_simutrans_song_reads_its_bars_cover_it_and_pickups_are_bars_of_their_own():
    from tests.conftest import SIMUTRANS_SONGS

    songs = sorted(SIMUTRANS_SONGS.glob("*.mid"))
    assert len(songs) >= 50
    warned, pickups = [], 0
    for path in songs:
        song = read_song(path)
        b = song.bars
        assert b[0].start == 0 and all(x.end == y.start for x, y in zip(b, b[1:])), path.name
        assert song.length_ticks >= int(song.notes["end"].max()), path.name
        assert all(y.start_s > x.start_s for x, y in zip(b, b[1:])), path.name
        assert np.all(np.isfinite(intensity(song)["onsets"]))
        pickups += song.pickup
        if song.warnings:
            warned.append(path.name)
    assert sorted(warned) == ["05-Boring-afternoon.mid", "30-On-the-waterfront.mid"]
    assert pickups >= 5


def test_a_meter_change_inside_a_bar_ends_that_bar_there(tmp_path):
    meta = [(200, mido.MetaMessage("time_signature", numerator=3, denominator=4))]
    song = read_song(_write(tmp_path / "s.mid", meta + _note(0, 60) + _note(200 + 3 * 288, 60)))
    b = song.bars
    assert [(x.numerator, x.end - x.start, x.complete) for x in b[:3]] == [(4, 200, False), (3, 288, True),
                                                                            (3, 288, True)]
    assert b[0].beats == pytest.approx(4 * 200 / 384) and song.pickup
    assert song.bar_at(199) == 0 and song.bar_at(200) == 1


def test_step_intensity_counts_onsets_per_step_of_the_bars_grid(tmp_path):
    from dd_live.song.read import step_intensity

    meta = [(0, mido.MetaMessage("time_signature", numerator=3, denominator=4))]
    notes = _note(0, 60) + _note(0, 64) + _note(48, 36) + _note(96 + 24, 67) + _note(288 + 96, 40)
    song = read_song(_write(tmp_path / "s.mid", meta + notes))
    onsets, bass = step_intensity(song, 0, 12)             # 3/4 in sixteenths: 24 ticks a step
    assert onsets.tolist() == [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]   # the chord once, the bass, the 16th after beat 2
    assert bass.tolist() == [0, 0, 1] + [0] * 9
    onsets, bass = step_intensity(song, 1, 6)              # eighths of the second bar
    assert onsets.tolist() == bass.tolist() == [0, 0, 1, 0, 0, 0]
