"""What every written song must satisfy, checked from the files alone (song.mid, drums.mid, drums.wav,
arrangement.json) against the input song (shared by the synthetic, simutrans and OSC tests), and synthetic
songs to check it on."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from dd_live.song.arrange import CRASH_VELOCITY
from dd_live.song.read import DRUM_CHANNEL, read_song
from dd_live.song.write import track_from


def notes_of(path: Path, *, drums: bool) -> list[tuple]:
    """(tick, end, channel, pitch, velocity) of the file's notes on (or off) channel 10, sorted."""
    song = read_song(path)
    n = song.notes[(song.notes["channel"] == DRUM_CHANNEL) == drums]
    return sorted((int(a["tick"]), int(a["end"]), int(a["channel"]), int(a["pitch"]), int(a["velocity"])) for a in n)


def check_song(src: Path, out: Path) -> dict:
    """Assert the song's files are right; returns arrangement.json."""
    doc = json.loads((out / "arrangement.json").read_text())
    original, written = read_song(src).midi, read_song(out / "song.mid").midi   # lenient: mode-255 key signatures
    assert (written.type, written.ticks_per_beat) == (original.type, original.ticks_per_beat)
    # every non-drum note at its tick, with its length, channel, pitch and velocity
    assert notes_of(out / "song.mid", drums=False) == notes_of(src, drums=False)
    # every non-note event of the input is still there at its tick (tempo, meter, programs, controllers, ...)
    assert _others(written) >= _others(original)
    song = read_song(src)
    drums = notes_of(out / "song.mid", drums=True)
    assert drums == notes_of(out / "drums.mid", drums=True)
    assert all(c == DRUM_CHANNEL for _, _, c, _, _ in drums)
    # drums.mid carries the song's tempo map and meters
    alone = read_song(out / "drums.mid")
    assert alone.tempos == song.tempos and alone.meters == song.meters
    _check_grid(song, doc, drums)
    # drums.wav: as long as the song (its tail may ring on), within one bar
    info = sf.info(str(out / "drums.wav"))
    seconds = float(song.seconds(song.length_ticks))
    longest_bar = max(b.end_s - b.start_s for b in song.bars)
    assert seconds - 1 / info.samplerate <= info.duration <= seconds + longest_bar + 2 / info.samplerate, \
        (info.duration, seconds)
    return doc


def _others(mid) -> set:
    out = set()
    for k, track in enumerate(mid.tracks):
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type in ("note_on", "note_off", "end_of_track", "track_name"):
                continue
            out.add((tick, str(msg.copy(time=0))))
    return out


def _check_grid(song, doc: dict, drums: list[tuple]) -> None:
    """Each drum note sits where its bar's pattern puts it: the bar's origin + (step + swing + offset) x step
    ticks, rounded; so the drums' bar lines are the song's under its tempo and meter map."""
    want = []
    for b in doc["bars"]:
        if b["loop"] is None:
            continue
        p = doc["loops"][b["loop"]]
        bar = song.bars[b["bar"]]
        first, last = b["steps"]
        steps = p["steps"]
        # a pickup or lead-in plays in the grid of the bar it leads into, anything else in its own bar's
        grid_bar = song.bars[b["bar"] + 1] if b["kind"] in ("pickup", "lead-in") else bar
        step_ticks = grid_bar.full_ticks / steps
        # the pattern's steps [first, last) end at the bar's end when it plays the end of a pattern
        origin = bar.start if first == 0 else bar.end - steps * step_ticks
        if first:
            assert last == steps and b["anchor"] == "end", b
        for t, row in enumerate(p["tracks"]):
            offsets = row.get("offsets", [0.0] * steps)
            for s, v in enumerate(row["velocities"]):
                if v and first <= s < last:
                    at = origin + (s + p["swing"] * (s % 2) + offsets[s]) * step_ticks
                    want.append((max(0, int(np.floor(at + 0.5))), doc["notes"][t], v))
    got = [(tick, pitch, vel) for tick, _, _, pitch, vel in drums]
    crash = [(b["start_tick"]) for b in doc["bars"] if b["crash"]]
    crash_note = doc["notes"][-1]
    # the crash on the downbeat after each boundary (its track is the kit's last)
    for tick in crash:
        assert (tick, crash_note, CRASH_VELOCITY) in got, ("no crash at", tick)
        got.remove((tick, crash_note, CRASH_VELOCITY))
    assert sorted(got) == sorted(want)


TPB = 120


def make_midi(path: Path, parts: list[tuple[str, int, int, int, float]], *, type_: int = 1, tpb: int = TPB) -> Path:
    """A song of parts (kind, bars, numerator, denominator, bpm): kind quiet (a whole-bar pad), busy (eighths and
    a bass line), silent; a final chord after the last part."""
    meta, notes, tick = [], [], 0
    for kind, bars, num, den, bpm in parts:
        meta.append((tick, mido.MetaMessage("time_signature", numerator=num, denominator=den)))
        meta.append((tick, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))))
        bar = num * tpb * 4 // den
        for _ in range(bars):
            if kind == "quiet":
                notes += [(tick, 60, 60, bar - 10)]
            elif kind == "busy":
                notes += [(tick + k * tpb // 2, 64 + (k % 3), 100, tpb // 2 - 5) for k in range(bar // (tpb // 2))]
                notes += [(tick + k * tpb, 36, 110, tpb - 5) for k in range(bar // tpb)]
            tick += bar
    notes.append((tick, 48, 90, 4 * tpb))
    events = [(t, mido.Message("note_on", note=p, velocity=v, channel=0 if p >= 48 else 1)) for t, p, v, _ in notes]
    events += [(t + n, mido.Message("note_off", note=p, velocity=0, channel=0 if p >= 48 else 1)) for t, p, _, n in notes]
    # an old drum part, to be replaced, and a program change on channel 10 that stays
    events += [(0, mido.Message("program_change", program=0, channel=9))]
    events += [(t, mido.Message("note_on", note=38, velocity=90, channel=9)) for t in range(0, tick, tpb)]
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    for part in (meta, events):   # note-offs before note-ons at a tick
        mid.tracks.append(track_from(sorted(part, key=lambda e: (e[0], e[1].type == "note_on"))))
    if type_ == 0:
        mid = mido.MidiFile(type=0, ticks_per_beat=tpb, tracks=[mido.merge_tracks(mid.tracks)])
    mid.save(str(path))
    return path


PARTS = [("quiet", 8, 4, 4, 100.0), ("busy", 8, 4, 4, 100.0), ("silent", 2, 4, 4, 100.0),
         ("busy", 4, 3, 4, 90.0), ("quiet", 4, 6, 8, 120.0), ("busy", 2, 5, 4, 140.0), ("busy", 4, 4, 4, 70.0)]
