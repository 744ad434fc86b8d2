"""Exports into a DAW: standard MIDI file, WAV, and an SFZ kit that plays the MIDI with the same sounds.

Note maps: by default track i plays note 36 + i (the first pads of an Ableton
Drum Rack, C1 upwards). With ``gm=True`` each track gets a General MIDI drum
note of its sample's family (:mod:`dd_live.loops.gm`: kick 36, snare 38, toms
low to high, ...); two tracks never share a note, and a track whose family has
run out is named in kit.sfz.

The SFZ instrument maps each note to a copy of the exact audio the renderer used
(mono, 44.1 kHz, 24-bit), with the renderer's mix gain, the bar's level gain (a
busy bar is turned down so as not to clip) and velocity curve, so an SFZ sampler
playing loop.mid sounds like loop.wav, as loud.

An export's files are written into a staging folder beside it and moved into
place when all are written (pattern.json last), so an interrupted export leaves
nothing that counts as one; an existing export is never overwritten unless
``force`` is set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..sound.audio import atomic_path, staged_folder, write_bytes, write_wav
from ..errors import ExportError, InputError
from .pattern import Pattern
from .. import SAMPLE_RATE
from .gm import NoteMap, gm_category, gm_map, pitch_hz
from .render import MIX_GAIN, REFERENCE_BPM, check_repeats, level_gain, render_loops, render_preview

PPQ = 480
NOTE_BEATS = 0.125  # a 32nd note: drum one-shots ignore note length, DAWs show short notes (files and MIDI out)
NOTE_LENGTH_TICKS = int(PPQ * NOTE_BEATS)
DRUM_CHANNEL = 9  # MIDI channel 10 (files and MIDI out)
RACK_BASE_NOTE = 36
EXPORT_FILES = ("loop.wav", "preview.wav", "pattern.json", "loop.mid", "kit.sfz")


def note_map(categories: Sequence[str], *, gm: bool = False, pitches: Sequence[float] | None = None) -> list[int]:
    """MIDI note of each track: 36 + track index, or General MIDI drum notes by family without duplicates
    (:func:`dd_live.loops.gm.gm_map`; ``pitches`` in Hz order toms from low to high)."""
    if not gm:
        notes = [RACK_BASE_NOTE + i for i in range(len(categories))]
        if notes and notes[-1] > 127:
            raise InputError("too many tracks for the note map")
        return notes
    return list(gm_map(categories, pitches=pitches).notes)


def kit_notes(library, indices: Sequence[int], *, gm: bool) -> NoteMap:
    """The note map of a kit (library sample ``indices``, one per track): rack pads, or GM by family with the
    toms ordered by their measured pitch (a sample whose name says nothing by the role its sound plays:
    :func:`dd_live.loops.gm.gm_category`)."""
    categories = [library.samples[i].category for i in indices]
    if not gm:
        return NoteMap(tuple(note_map(categories)))
    if "other" in categories:
        roles = library.roles
        categories = [gm_category(c, str(roles[i])) for c, i in zip(categories, indices)]
    pitches = [pitch_hz(library.audio(i), SAMPLE_RATE) if c == "tom" else 0.0 for c, i in zip(categories, indices)]
    return gm_map(categories, pitches=pitches)


def track_pitches(library, indices: Sequence[int], *, gm: bool) -> list[int]:
    """Each track's MIDI note for a loop of library samples ``indices`` (one per track): :func:`kit_notes`'s."""
    return list(kit_notes(library, [int(i) for i in indices], gm=gm).notes)


def midi_events(pattern: Pattern, notes: Sequence[int], *, repeats: int = 4) -> list[tuple[int, int, int]]:
    """(tick, note, velocity) of every hit over ``repeats`` bars, in time order; ticks at PPQ 480.

    A hit whose micro-offset puts it before the first bar line is moved to tick 0.
    """
    ticks_per_step = PPQ * pattern.beats / pattern.steps
    bar_ticks = PPQ * pattern.beats
    t_idx, s_idx = np.nonzero(pattern.hits)
    times = pattern.step_times()[t_idx, s_idx]
    events = []
    for r in range(repeats):
        for t, s, st in zip(t_idx.tolist(), s_idx.tolist(), times.tolist()):
            tick = max(0, r * bar_ticks + int(np.floor(st * ticks_per_step + 0.5)))
            events.append((tick, int(notes[t]), int(pattern.velocities[t, s])))
    events.sort()
    return events


def midi_file(pattern: Pattern, notes: Sequence[int], *, bpm: float = REFERENCE_BPM, repeats: int = 4,
              name: str = "dd_live"):
    """A type-1 mido.MidiFile: a tempo/time-signature track and one drum track on channel 10."""
    import mido

    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("track_name", name=name, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=pattern.beats, denominator=4, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=repeats * PPQ * pattern.beats))
    drums = mido.MidiTrack()
    drums.append(mido.MetaMessage("track_name", name="drums", time=0))
    timeline = []
    for tick, note, vel in midi_events(pattern, notes, repeats=repeats):
        timeline.append((tick, 1, note, vel))
        timeline.append((tick + NOTE_LENGTH_TICKS, 0, note, 0))
    timeline.sort(key=lambda e: (e[0], e[1], e[2]))  # note-offs before note-ons at the same tick
    now = 0
    for tick, on, note, vel in timeline:
        kind = "note_on" if on else "note_off"
        drums.append(mido.Message(kind, channel=DRUM_CHANNEL, note=note, velocity=vel, time=tick - now))
        now = tick
    end = repeats * PPQ * pattern.beats
    drums.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    mid.tracks.extend([meta, drums])
    return mid


def safe_name(text: str, *, fallback: str = "sample") -> str:
    """A file-name-safe version of ``text`` (letters, digits, - and _ only, at most 60 characters)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:60]
    return name or fallback


#: how an export's notes were chosen (``gm``), as kit.sfz's first line says
NOTE_MAPS = {False: "Drum Rack pads 36 + track", True: "General MIDI notes by family"}


def sfz_text(sample_files: Sequence[str], notes: Sequence[int], *, level: float = 1.0, gm: bool = False,
             remarks: Sequence[str] = ()) -> str:
    """An SFZ instrument mapping each note to its one-shot sample file (paths relative to the .sfz), at the
    renderer's mix gain times ``level``, the static gain its audio was levelled by (:func:`.render.level_gain`),
    so the kit playing the MIDI peaks where the rendered audio does. ``gm``: which note map ``notes`` follow
    (:data:`NOTE_MAPS`, named in the first line). ``remarks``: comment lines (notes lent by another GM family)."""
    if not 0.0 < level <= 1.0:
        raise InputError(f"an SFZ kit's level must be a gain in (0, 1], got {level}")
    gain_db = 20 * np.log10(MIX_GAIN * level)
    lines = [f"// dd_live kit: plays the MIDI with the sounds and level of the rendered audio; notes: {NOTE_MAPS[gm]}"]
    lines += [f"// {r}" for r in remarks]
    lines += [
        "<control>",
        "default_path=samples/",
        "<global>",
        "loop_mode=one_shot",
        "amp_veltrack=100",
        f"volume={gain_db:.3f}",
    ]
    for f, n in zip(sample_files, notes):
        lines += ["<region>", f"sample={f}", f"key={n}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Note:
    beat: float      # start, in beats from the bar line
    pitch: int
    velocity: int


def notes_of(pattern, pitches: Sequence[int]) -> list[Note]:
    """The pattern's hits as notes in time order; starts in beats (swing and offsets included)."""
    t, s = np.nonzero(pattern.hits)
    beats = pattern.step_times()[t, s] * pattern.beats / pattern.steps
    out = [Note(max(0.0, float(b)), int(pitches[ti]), int(pattern.velocities[ti, si]))
           for ti, si, b in zip(t.tolist(), s.tolist(), beats.tolist())]
    return sorted(out, key=lambda n: (n.beat, n.pitch))


def write_loop_files(folder: Path, pattern: Pattern, library, *, bpm: float, pitches: Sequence[int], suffix: str = "",
                     repeats: int = 1, bits: int = 16, force: bool = True) -> tuple[dict[str, Path], np.ndarray]:
    """The one writer of a loop's audio and MIDI: ``loop<suffix>.wav`` (one bar), ``preview<suffix>.wav`` and
    ``loop<suffix>.mid`` (``repeats`` bars, track t on note ``pitches[t]``) in ``folder``, each atomically, at
    ``bpm``. Returns their paths by kind (loop_wav, preview_wav, midi_file) and the bar's audio."""
    loop = render_loops([pattern], library, bpm=bpm)[0]
    files = {
        "loop_wav": write_wav(folder / f"loop{suffix}.wav", loop, bits=bits, force=force),
        "preview_wav": write_wav(folder / f"preview{suffix}.wav", render_preview(pattern, library, bpm=bpm),
                                 bits=bits, force=force),
        "midi_file": folder / f"loop{suffix}.mid",
    }
    with atomic_path(files["midi_file"], force=force) as tmp:
        midi_file(pattern, pitches, bpm=bpm, repeats=repeats).save(str(tmp))
    return files, loop


def export_pattern(out_dir: Path, pattern: Pattern, library, *, bpm: float = REFERENCE_BPM, gm: bool = False,
                   repeats: int = 4, bits: int = 16, force: bool = False) -> dict[str, Path]:
    """Write loop.wav, preview.wav, pattern.json, loop.mid, kit.sfz and samples/ for one pattern.

    Nothing is written if any target exists and ``force`` is False.
    """
    out_dir = Path(out_dir)
    check_repeats(repeats)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a folder")
    indices = library.indices(pattern.samples).tolist()
    kit = kit_notes(library, indices, gm=gm)
    notes = list(kit.notes)
    sample_files = [f"{t + 1:02d}_{safe_name(Path(library.samples[i].key).stem)}.wav" for t, i in enumerate(indices)]
    targets = [out_dir / f for f in EXPORT_FILES] + [out_dir / "samples" / f for f in sample_files]
    if not force:
        existing = [p for p in targets if p.exists()]
        if existing:
            raise ExportError(f"{existing[0]} exists; refusing to overwrite an export (use --force)")
    with staged_folder(out_dir) as stage:
        write_loop_files(stage, pattern, library, bpm=bpm, pitches=notes, repeats=repeats, bits=bits)
        write_bytes(stage / "pattern.json", (pattern.to_json() + "\n").encode())
        for f, i in zip(sample_files, indices):
            write_wav(stage / "samples" / f, library.audio(i), bits=24)
        level = float(level_gain(render_loops([pattern], library, bpm=bpm, limit=False))[0])
        write_bytes(stage / "kit.sfz", sfz_text(sample_files, notes, level=level, gm=gm,
                                                     remarks=kit.remarks()).encode())
    return {name: out_dir / name for name in EXPORT_FILES}


def made_as(out_dir: Path) -> tuple[float, bool] | None:
    """The tempo (bpm) and note map (``gm``) the export in ``out_dir`` was written with, from its loop.mid and
    kit.sfz (the tempo to 0.01 bpm); None where either is missing or unreadable."""
    import mido

    try:
        first = (Path(out_dir) / "kit.sfz").read_text(encoding="utf-8", errors="replace").partition("\n")[0]
        tempos = [m.tempo for m in mido.MidiFile(str(Path(out_dir) / "loop.mid")).tracks[0] if m.type == "set_tempo"]
    except Exception:   # noqa: BLE001 - whatever mido or the disk says, such an export is not current
        return None
    if not tempos or not first.startswith("// dd_live kit"):
        return None
    return round(float(mido.tempo2bpm(tempos[0])), 2), first.endswith(NOTE_MAPS[True])   # a tempo in whole µs
