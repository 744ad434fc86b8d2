"""Reading a MIDI song for song mode (issue 16): its tempo map, its bars and the other instruments' notes.

Any resolution and either file type (0 or 1). Every tempo and time-signature change counts; a song with no
time signature is 4/4; a time-signature change that falls inside a bar ends that bar there (a pickup bar,
an odd bar before a change), so bars never cross a change. A meta event mido cannot decode (a key
signature with an impossible mode, as in two of Debian's simutrans songs) is kept as raw bytes and the
song is read with one warning, never refused. A tempo of 0 and a time signature that makes a bar of no ticks
(a numerator of 0, a denominator of 2^255) are dropped with a warning (the one before goes on).

Songs are bounded before anything large is made: at most MAX_NOTES notes, MAX_BARS bars and MAX_SECONDS
seconds (drums.wav is 16-bit mono: 159 MB for the longest); anything longer is one line (InputError).

Units: ticks of the file's resolution, seconds through the tempo map, beats of the time signature's
denominator (a 6/8 bar has 6 beats of an eighth each).
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..loops.export import DRUM_CHANNEL

log = logging.getLogger("dd_live.song")

DEFAULT_TEMPO = 500_000          # microseconds per quarter note: 120 bpm, MIDI's default
BASS_BELOW = 48                  # notes under C3 count as the bass register
SONG_SUFFIXES = (".mid", ".midi", ".smf", ".kar")   # what a MIDI song's file name ends with
MAX_SONG_BYTES = 16 * 1024 * 1024   # a song file larger than this is not read by the daemon (bytes)
MAX_NOTES = 60_000               # notes of all parts (Debian's 53 simutrans songs: at most 11,634)
MAX_BARS = 3_000                 # bars (those songs: at most 300)
MAX_SECONDS = 1_800.0            # the song's length through its tempo map (s; those songs: at most 5 minutes)
_PATCH_LOCK = threading.Lock()   # reading patches one of mido's module globals for the duration


@dataclass(frozen=True)
class Bar:
    """One bar: ticks [start, end), its time signature and the tempo at its start."""

    index: int
    start: int
    end: int
    numerator: int
    denominator: int
    bpm: float                   # quarter notes per minute at the bar line
    start_s: float
    end_s: float
    full_ticks: int              # how long the time signature says the bar is

    @property
    def beats(self) -> float:
        """Beats of the denominator's note value in this bar (fewer in a cut-short bar)."""
        return self.numerator * (self.end - self.start) / self.full_ticks

    @property
    def complete(self) -> bool:
        """Whether the bar is as long as its own time signature says (not cut short by a change)."""
        return self.end - self.start == self.full_ticks


@dataclass
class Song:
    """A song as song mode reads it: the file (kept to write song.mid from), its tempo map, its bars, and
    every note as arrays (tick, channel, pitch, velocity, track)."""

    path: Path
    midi: object                  # the mido.MidiFile
    ticks_per_beat: int
    tempos: list[tuple[int, int]]             # (tick, microseconds per quarter), sorted, from tick 0
    meters: list[tuple[int, int, int]]        # (tick, numerator, denominator), sorted, from tick 0
    bars: list[Bar]
    notes: np.ndarray             # structured: tick, end, channel, pitch, velocity, track
    warnings: list[str]

    @property
    def length_ticks(self) -> int:
        return self.bars[-1].end if self.bars else 0

    @property
    def pickup(self) -> bool:
        """Whether the song starts with a pickup: a first bar shorter than the next (written as a short time
        signature, 1/8 before 4/4, or cut short by a change)."""
        return len(self.bars) > 1 and self.bars[0].end - self.bars[0].start < self.bars[1].end - self.bars[1].start

    def seconds(self, ticks) -> np.ndarray:
        """Seconds from the start at ``ticks`` (scalar or array), through the tempo map."""
        return _seconds(np.asarray(ticks, dtype=np.float64), self.tempos, self.ticks_per_beat)

    def bar_at(self, tick: int) -> int:
        """Index of the bar holding ``tick``."""
        starts = [b.start for b in self.bars]
        return max(0, bisect.bisect_right(starts, tick) - 1)

    def others(self) -> np.ndarray:
        """The notes of every part but the drums (channel 10)."""
        return self.notes[self.notes["channel"] != DRUM_CHANNEL]


NOTE_DTYPE = np.dtype([("tick", np.int64), ("end", np.int64), ("channel", np.int8), ("pitch", np.int8),
                       ("velocity", np.int8), ("track", np.int16)])


def read_song(path: Path | str) -> Song:
    """Read a standard MIDI file; InputError (one line) if it is not one."""
    import mido

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    warnings: list[str] = []
    try:
        with _lenient_meta(warnings):
            midi = mido.MidiFile(str(path))
    except Exception as err:  # mido raises OSError, EOFError, ValueError, ... for damaged files: one line
        raise InputError(f"{path}: not a readable MIDI file ({type(err).__name__}: {err})") from None
    if midi.type == 2:
        raise InputError(f"{path}: a type 2 MIDI file (independent sequences) is not a song")
    if midi.type not in (0, 1):
        raise InputError(f"{path}: not a readable MIDI file (its header says format {midi.type}; 0 and 1 are songs)")
    if midi.type == 0 and len(midi.tracks) > 1:
        warnings.append(f"a type 0 header with {len(midi.tracks)} tracks: read as type 1")
        midi.type = 1
    tpb = int(midi.ticks_per_beat)
    if tpb <= 0:
        raise InputError(f"{path}: SMPTE time division is not supported (ticks per beat {tpb})")
    for w in warnings:
        log.warning("%s: %s", path.name, w)
    tempos, meters, notes = _events(midi, warnings, name=str(path))
    end = int(notes["end"].max()) if notes.size else 0
    end = max(end, _last_tick(midi))
    _check_size(path, meters, tempos, tpb, end)
    bars = _bars(meters, tempos, tpb, end)
    return Song(path, midi, tpb, tempos, meters, bars, notes, warnings)


@contextlib.contextmanager
def _lenient_meta(warnings: list[str]) -> Iterator[None]:
    """While reading: a meta event mido cannot decode becomes an unknown meta event holding its raw bytes
    (written back unchanged), with one warning per kind."""
    from mido.midifiles import meta, midifiles

    original = midifiles.build_meta_message

    def build(meta_type, data, delta=0):
        try:
            return original(meta_type, data, delta)
        except (meta.KeySignatureError, ValueError, KeyError, IndexError) as err:
            note = f"meta event 0x{meta_type:02x} could not be decoded ({err}): kept as raw bytes, not read"
            if note not in warnings:
                warnings.append(note)
            return meta.UnknownMetaMessage(meta_type, data=data, time=delta)

    with _PATCH_LOCK:
        midifiles.build_meta_message = build
        try:
            yield
        finally:
            midifiles.build_meta_message = original


def _check_size(path: Path, meters, tempos, tpb: int, end: int) -> None:
    """InputError (one line) for a song longer than MAX_SECONDS or MAX_BARS, counted without making its bars."""
    seconds = float(_seconds(np.array([end], dtype=np.float64), tempos, tpb)[0])
    if seconds > MAX_SECONDS:
        raise InputError(f"{path}: the song lasts {seconds / 60:.0f} minutes; song mode writes drums for songs of "
                         f"at most {MAX_SECONDS / 60:.0f} minutes")
    bars = 0
    for k, (start, num, den) in enumerate(meters):
        stop = meters[k + 1][0] if k + 1 < len(meters) else max(end, start)
        bars += -(-(stop - start) // _bar_ticks(num, den, tpb))
    if bars > MAX_BARS:
        raise InputError(f"{path}: the song has {bars} bars; song mode writes drums for songs of at most {MAX_BARS}")


def _bar_ticks(num: int, den: int, tpb: int) -> int:
    """Ticks in a bar of ``num``/``den`` (0 for a meter that makes no bar)."""
    return int(round(num * tpb * 4 / den)) if num > 0 and den > 0 else 0


def _events(midi, warnings: list[str], *, name: str = "") -> tuple[list[tuple[int, int]], list[tuple[int, int, int]], np.ndarray]:
    """Tempo map, meters and notes; InputError past MAX_NOTES; a tempo of 0 or a meter with bars of no ticks is
    dropped with one warning."""
    tpb = int(midi.ticks_per_beat)
    dropped: set[str] = set()
    tempos: dict[int, int] = {}
    meters: dict[int, tuple[int, int]] = {}
    rows = []
    notes = 0
    for ti, track in enumerate(midi.tracks):
        tick = 0
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                if msg.tempo > 0:
                    tempos[tick] = int(msg.tempo)        # a later one at the same tick wins
                else:
                    dropped.add("a tempo of 0")
            elif msg.type == "time_signature":
                if _bar_ticks(int(msg.numerator), int(msg.denominator), tpb) > 0:
                    meters[tick] = (int(msg.numerator), int(msg.denominator))
                else:
                    den = msg.denominator if msg.denominator < 1 << 16 else f"2^{msg.denominator.bit_length() - 1}"
                    dropped.add(f"a time signature of {msg.numerator}/{den} (a bar of no ticks)")
            elif msg.type == "note_on" and msg.velocity > 0:
                sounding.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
                notes += 1
                if notes > MAX_NOTES:
                    raise InputError(f"{name}: more than {MAX_NOTES} notes; song mode writes drums for songs of at "
                                     "most that many")
            elif msg.type in ("note_off", "note_on"):
                started = sounding.get((msg.channel, msg.note))
                if started:
                    t0, vel = started.pop(0)
                    rows.append((t0, tick, msg.channel, msg.note, vel, ti))
        for (channel, pitch), left in sounding.items():  # never ended: they last to the track's end
            rows += [(t0, tick, channel, pitch, vel, ti) for t0, vel in left]
    for what in sorted(dropped):
        warnings.append(f"{what} is not playable: dropped, the one before goes on")
        log.warning("%s: %s", name, warnings[-1])
    table = np.array(sorted(rows), dtype=NOTE_DTYPE) if rows else np.zeros(0, dtype=NOTE_DTYPE)
    tempo_list = sorted(tempos.items())
    if not tempo_list or tempo_list[0][0] > 0:
        tempo_list.insert(0, (0, DEFAULT_TEMPO))
    meter_list = sorted((t, n, d) for t, (n, d) in meters.items())
    if not meter_list or meter_list[0][0] > 0:
        meter_list.insert(0, (0, 4, 4))
    return tempo_list, meter_list, table


def _last_tick(midi) -> int:
    return max((sum(msg.time for msg in track) for track in midi.tracks), default=0)


def _seconds(ticks: np.ndarray, tempos: list[tuple[int, int]], tpb: int) -> np.ndarray:
    at = np.array([t for t, _ in tempos], dtype=np.float64)
    us = np.array([u for _, u in tempos], dtype=np.float64)
    base = np.concatenate([[0.0], np.cumsum(np.diff(at) * us[:-1] / tpb / 1e6)])
    k = np.clip(np.searchsorted(at, ticks, side="right") - 1, 0, None)
    return base[k] + (ticks - at[k]) * us[k] / tpb / 1e6


def _bars(meters: list[tuple[int, int, int]], tempos: list[tuple[int, int]], tpb: int, end: int) -> list[Bar]:
    """Bars from tick 0 to at least ``end``, restarting at every time-signature change."""
    bars: list[Bar] = []
    tempo_ticks = [t for t, _ in tempos]
    for k, (start, num, den) in enumerate(meters):
        full = _bar_ticks(num, den, tpb)
        stop = meters[k + 1][0] if k + 1 < len(meters) else None
        tick = start
        while (stop is None and tick < end) or (stop is not None and tick < stop):
            bar_end = tick + full if stop is None else min(tick + full, stop)
            us = tempos[bisect.bisect_right(tempo_ticks, tick) - 1][1]
            s0, s1 = _seconds(np.array([tick, bar_end], dtype=np.float64), tempos, tpb)
            bars.append(Bar(len(bars), tick, bar_end, num, den, 60e6 / us, float(s0), float(s1), full))
            tick = bar_end
    return bars


def intensity(song: Song, *, steps_per_beat: int = 4) -> dict[str, np.ndarray]:
    """The other instruments' activity: per bar, note onsets per beat ("onsets"), their mean velocity
    ("velocity", 0 where silent), onsets of the bass register per beat ("bass"), and the share of the bar's
    steps that have an onset ("steps"; steps of ``steps_per_beat`` per quarter note)."""
    notes = song.others()
    n = len(song.bars)
    out = {k: np.zeros(n) for k in ("onsets", "velocity", "bass", "steps")}
    if not n:
        return out
    starts = np.array([b.start for b in song.bars])
    which = np.clip(np.searchsorted(starts, notes["tick"], side="right") - 1, 0, n - 1)
    step_ticks = song.ticks_per_beat / steps_per_beat
    for i, bar in enumerate(song.bars):
        here = notes[which == i]
        quarters = max((bar.end - bar.start) / song.ticks_per_beat, 1e-9)
        out["onsets"][i] = len(np.unique(here["tick"])) / quarters
        out["velocity"][i] = float(here["velocity"].mean()) if here.size else 0.0
        bass = here[here["pitch"] < BASS_BELOW]
        out["bass"][i] = len(np.unique(bass["tick"])) / quarters
        cells = max(int(round((bar.end - bar.start) / step_ticks)), 1)
        hit = np.unique(np.floor((here["tick"] - bar.start) / step_ticks).astype(np.int64))
        out["steps"][i] = len(hit[(hit >= 0) & (hit < cells)]) / cells
    return out


def step_intensity(song: Song, index: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The other parts' onsets in each step of bar ``index`` cut into ``steps`` steps (of its full length; a bar
    cut short has fewer): (distinct onset ticks per step, those of the bass register), int arrays."""
    bar = song.bars[index]
    notes = song.others()
    here = notes[(notes["tick"] >= bar.start) & (notes["tick"] < bar.end)]
    step_ticks = bar.full_ticks / steps
    cells = max(1, int(round((bar.end - bar.start) / step_ticks)))
    out = []
    for sel in (here, here[here["pitch"] < BASS_BELOW]):
        ticks = np.unique(sel["tick"])
        k = np.clip(np.floor((ticks - bar.start) / step_ticks + 1e-9).astype(np.int64), 0, cells - 1)
        out.append(np.bincount(k, minlength=cells).astype(np.int64))
    return out[0], out[1]

