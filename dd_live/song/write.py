"""Writing a song's drum track (issue 16, part 1): song.mid, drums.mid, drums.wav, kit.sfz + samples/ and
arrangement.json, into one folder, all or nothing (staged beside it; arrangement.json moved in last).

song.mid is the input file with its channel-10 notes taken out and dd_live's put in (a track of their own in
a type 1 file, merged into the one track of a type 0 file); every other event stays at its tick, and the file
keeps its type and resolution. Drum notes are General MIDI notes by sample category, on channel 10, one 32nd
long; kit.sfz maps the same notes to the same sounds, so a sampler playing drums.mid sounds like drums.wav.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..errors import ExportError
from ..loops.export import DRUM_CHANNEL, NOTE_BEATS, kit_notes, safe_name, sfz_text
from ..loops.gm import NoteMap
from ..loops.render import level_in_place, level_gain, velocity_gain
from ..sound.audio import staged_folder, write_bytes, write_wav
from .arrange import Arrangement, grid_for
from .read import intensity, step_intensity

SONG_FILES = ("song.mid", "drums.mid", "drums.wav", "kit.sfz", "arrangement.json")
SCHEMA = "dd_live.song"
SCHEMA_VERSION = 1
TAIL_FADE = 0.25         # s: a tail cut one bar after the song's end fades out over this


def drum_notes(arr: Arrangement, library) -> NoteMap:
    """MIDI note of each kit track (General MIDI by family), and the tracks whose family ran out."""
    return kit_notes(library, library.indices(arr.kit).tolist(), gm=True)


def _drum_messages(arr: Arrangement, events: np.ndarray, notes: list[int]) -> list[tuple[int, int, object]]:
    """(tick, order, message): note-offs sort before note-ons at the same tick."""
    import mido

    length = max(1, int(round(arr.song.ticks_per_beat * NOTE_BEATS)))
    out = []
    for tick, track, vel in zip(np.floor(events["tick"] + 0.5).astype(np.int64), events["track"], events["velocity"]):
        n = notes[int(track)]
        out.append((int(tick), 1, mido.Message("note_on", channel=DRUM_CHANNEL, note=n, velocity=int(vel))))
        out.append((int(tick) + length, 0, mido.Message("note_off", channel=DRUM_CHANNEL, note=n, velocity=0)))
    out.sort(key=lambda e: (e[0], e[1]))
    return out


def track_from(timed: list[tuple[int, object]], end: int = 0):
    """A mido track from (absolute tick, message) in time order, ending with end_of_track at ``end`` or at the
    last message if that is later."""
    import mido

    track, now = mido.MidiTrack(), 0
    for tick, msg in timed:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    return track


def song_midi(arr: Arrangement, events: np.ndarray, notes: list[int]):
    """The input song with its drum notes replaced (see the module's docstring)."""
    import mido

    src = arr.song.midi
    drums = [(t, m) for t, _, m in _drum_messages(arr, events, notes)]
    out = mido.MidiFile(type=src.type, ticks_per_beat=src.ticks_per_beat)
    for k, track in enumerate(src.tracks):
        kept, tick, end = [], 0, 0
        for msg in track:
            tick += msg.time
            if msg.type == "end_of_track":
                end = tick
                continue
            if msg.type in ("note_on", "note_off", "polytouch") and msg.channel == DRUM_CHANNEL:
                continue
            kept.append((tick, msg))
        end = max(end, tick)
        if src.type == 0 and k == 0:
            kept = sorted(kept + drums, key=lambda e: e[0])     # stable: the song's events first at a tick
            end = max(end, drums[-1][0] if drums else 0)
        out.tracks.append(track_from(kept, end))
    if src.type == 1:
        name = [(0, mido.MetaMessage("track_name", name="dd_live drums"))]
        out.tracks.append(track_from(name + drums, max(arr.song.length_ticks, drums[-1][0] if drums else 0)))
    return out


def drums_midi(arr: Arrangement, events: np.ndarray, notes: list[int]):
    """The drum track alone (type 1): the song's tempo map and time signatures, then the drums."""
    import mido

    song = arr.song
    meta = [(t, mido.MetaMessage("time_signature", numerator=n, denominator=d)) for t, n, d in song.meters]
    meta += [(t, mido.MetaMessage("set_tempo", tempo=us)) for t, us in song.tempos]
    meta.sort(key=lambda e: e[0])
    drums = [(t, m) for t, _, m in _drum_messages(arr, events, notes)]
    end = max(song.length_ticks, drums[-1][0] if drums else 0)
    out = mido.MidiFile(type=1, ticks_per_beat=song.ticks_per_beat)
    out.tracks.append(track_from([(0, mido.MetaMessage("track_name", name=song.path.stem))] + meta, end))
    out.tracks.append(track_from([(0, mido.MetaMessage("track_name", name="dd_live drums"))] + drums, end))
    return out


def render_song(arr: Arrangement, events: np.ndarray, library, *, limit: bool = True) -> np.ndarray:
    """The drum track as mono float32 audio at the sample rate, every hit placed through the song's tempo map;
    as long as the song, or its last hit's tail if that rings on, for at most one bar more (faded out over its
    last TAIL_FADE seconds), so that the file lines up with the song in a DAW. ``limit=False``: before the
    static level gain that keeps it from clipping."""
    idx = library.indices(arr.kit)
    pos = np.floor(arr.song.seconds(events["tick"]) * SAMPLE_RATE + 0.5).astype(np.int64)
    gain = velocity_gain(events["velocity"]).astype(np.float32)
    lens = np.array([library.audio(int(i)).size for i in idx], dtype=np.int64)
    song_end = int(np.ceil(float(arr.song.seconds(arr.song.length_ticks)) * SAMPLE_RATE))
    last = arr.song.bars[-1]
    cap = song_end + int(np.ceil((last.end_s - last.start_s) * SAMPLE_RATE))
    n = min(max(song_end, int((pos + lens[events["track"]]).max()) if events.size else 0), cap)
    out = np.zeros((1, n), dtype=np.float32)
    for p, t, g in zip(pos.tolist(), events["track"].tolist(), gain.tolist()):
        y = library.audio(int(idx[t]))[: max(0, n - p)]
        out[0, p:p + y.size] += g * y
    if n > song_end:
        fade = min(n - song_end, int(TAIL_FADE * SAMPLE_RATE))
        out[0, n - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return (level_in_place(out) if limit else out)[0]


def arrangement_json(arr: Arrangement, kit: NoteMap, summary: dict) -> dict:
    """Per bar: start tick, time signature, tempo, intensity, section, what plays and how densely (drum hits per
    quarter note); every loop once; the kit's GM notes and any lent by another family (``note_loans``)."""
    song = arr.song
    inten = intensity(song)
    level, density = arr.levels(), arr.density()
    bars = []
    for b, d in zip(song.bars, arr.bars):
        onsets, bass = step_intensity(song, b.index, grid_for(b.numerator, b.denominator)[0])
        bars.append({"bar": b.index, "start_tick": b.start, "end_tick": b.end, "start_s": round(b.start_s, 6),
                     "time_signature": f"{b.numerator}/{b.denominator}", "bpm": round(b.bpm, 4),
                     "intensity": {k: round(float(v[b.index]), 4) for k, v in inten.items()} |
                     {"level": round(float(level[b.index]), 4), "onsets_per_step": onsets.tolist(),
                      "bass_per_step": bass.tolist()},
                     "drums_per_quarter": round(float(density[b.index]), 4),
                     "section": d.section, "label": d.label, "kind": d.kind, "loop": d.loop, "crash": d.crash,
                     "steps": [d.first, d.last], "anchor": "end" if d.first else "start"})
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "song": song.path.name,
            "ticks_per_beat": song.ticks_per_beat, "taste": arr.source, "kit": list(arr.kit),
            "notes": list(kit.notes),
            "note_loans": [{"track": t, "category": c, "note": n, "family": f} for t, c, n, f in kit.loans],
            "sections": [{"start": s.start, "end": s.end, "label": s.label} for s in arr.sections],
            "summary": summary, "loops": {k: p.to_dict() for k, p in arr.loops.items()}, "bars": bars}


def check_out(out_dir: Path, *, force: bool) -> None:
    """ExportError if ``out_dir`` is not a folder, or holds a song already and ``force`` is not set."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a folder")
    if not force:
        existing = [p for p in [out_dir / f for f in SONG_FILES] if p.exists()]
        if existing:
            raise ExportError(f"{existing[0]} exists; refusing to overwrite a song (use --force)")


def write_song(out_dir: Path, arr: Arrangement, library, summary: dict, *, force: bool = False,
               events: np.ndarray | None = None, whole: bool = False) -> dict[str, Path]:
    """Write the song's files into ``out_dir`` (all or nothing); ExportError if any exists and not ``force``.
    ``whole``: ``out_dir`` is dd_live's own (a session's songs/<name>), replaced as one folder."""
    out_dir = Path(out_dir)
    check_out(out_dir, force=force)
    events = arr.events() if events is None else events
    kit = drum_notes(arr, library)
    notes = list(kit.notes)
    idx = library.indices(arr.kit).tolist()
    sample_files = [f"{t + 1:02d}_{safe_name(Path(library.samples[i].key).stem)}.wav" for t, i in enumerate(idx)]
    with staged_folder(out_dir, last="arrangement.json", whole=whole) as stage:
        song_midi(arr, events, notes).save(str(stage / "song.mid"))
        drums_midi(arr, events, notes).save(str(stage / "drums.mid"))
        audio = render_song(arr, events, library, limit=False)
        level = float(level_gain(audio)[0])
        write_wav(stage / "drums.wav", audio * np.float32(level), bits=16)
        for f, i in zip(sample_files, idx):
            write_wav(stage / "samples" / f, library.audio(i), bits=24)
        write_bytes(stage / "kit.sfz",
                    sfz_text(sample_files, notes, level=level, gm=True, remarks=kit.remarks()).encode())
        doc = arrangement_json(arr, kit, summary)
        write_bytes(stage / "arrangement.json", (json.dumps(doc, indent=1) + "\n").encode())
    return {name: out_dir / name for name in SONG_FILES}
