"""Playing a song's drums live, and takes over the song (``/dd/song/play path [bar]``, ``/dd/song/stop``).

The drums are the ones song mode writes for the song in this session's taste (``songs/<name>/``: drums.mid
and arrangement.json); a song not written yet is arranged first (the ``dd-song`` worker), then played. They
play on MIDI out from the bar asked for, round again at the song's end, on the session's own clock at the
song's tempo map, or following the host's clock (the bar the host is in: :mod:`dd_live.ports.clock_sync`).
While a song plays, takes (/dd/take/start, /dd/onset, MIDI in, /dd/take/end, automatic takes) are takes over
the song: each onset is placed in its bar, and at the take's end the song's timing model
(:class:`dd_live.groove.timing.SongFeel`, started from the session's loop feel layer) learns from it; the
drums play with what it learned from the next bar line, it is kept in ``songs/<name>.timing.pt`` (a song
played or written again starts from there: :func:`dd_live.song.score.with_feel`), and /dd/song/feel says each
section's offset.

Thread ``dd-song-play`` loads songs and learns takes (torch, through the daemon's gate at low priority), so
the OSC thread never waits on either. Audio out plays the same drums, rendered with the kit song mode wrote
beside them (:func:`song_audio`), from the same bar line.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DDLiveError, InputError
from ..loops.export import safe_name
from ..osc.osc import OSCError
from ..song.score import timing_file
from ..worker import QueueWorker

log = logging.getLogger("dd_live.daemon")

MAX_SONG_ONSETS = 65536      # onsets one take over a song keeps


@dataclass
class Playing:
    """A song being played: its name and folder, score, timing model, each note's row, and the cue."""

    name: str
    folder: Path
    score: Any                # dd_live.groove.score.Score
    feel: Any                 # dd_live.groove.timing.SongFeel
    notes: np.ndarray         # structured: row, pitch, velocity (one per drum note of drums.mid)
    bar_s: np.ndarray         # each bar's start and length (s), song time
    cue: Any                  # dd_live.ports.song_cue.SongCue


class SongPlay(QueueWorker):
    """The service behind the song play commands (built by the daemon with what it needs: the session, its
    song worker, its outputs, replies and gate, its settings now and how to change them)."""

    name = "dd-song-play"

    def __init__(self, *, session, songs, outputs, send, error, gate, settings, update, seed: int = 0) -> None:
        super().__init__(4)
        self.session, self.songs, self._outputs, self.send, self.tell = session, songs, outputs, send, error
        self.gate, self._settings, self._update, self.seed = gate, settings, update, seed
        self.playing: Playing | None = None
        self._onsets: list[tuple[int, float]] | None = None      # (bar, share of it) of a take over the song
        self._take_lock = threading.Lock()

    def handlers(self) -> dict:
        return {"song_play": self._cmd_song_play, "song_stop": self._cmd_song_stop,
                "set_song_adapt": self._cmd_set_song_adapt}

    def _cmd_set_song_adapt(self, sender, a: float, b: float | None = None) -> None:
        self._update(song_a=float(a), **({} if b is None else {"song_b": float(b)}))

    # ------------------------------------------------------------ commands (OSC thread)

    def _cmd_song_play(self, sender, path: str, bar: int = 0) -> None:
        from .song_worker import check_song_path

        real = check_song_path(path)
        folder = self.session.folder / "songs" / safe_name(real.stem, fallback="song")
        if not self._outputs():
            raise OSCError("state", "no MIDI out or audio out to play the song on (see the daemon's log)")
        if _written(folder, real):
            self._queue(("load", real, folder, int(bar), sender))
        else:                  # arranged first, then played
            self.songs.submit(real, sender, then=lambda out: self._queue(("load", real, out, int(bar), sender)))

    def _cmd_song_stop(self, sender) -> None:
        if self.playing is None:
            raise OSCError("state", "no song is playing")
        self.stop_song()

    def stop_song(self) -> None:
        """Back to the loop at the next bar line (any thread)."""
        playing, self.playing = self.playing, None
        with self._take_lock:
            self._onsets = None
        for out in self._outputs():
            if hasattr(out, "cue"):
                out.cue(None)
            elif hasattr(out, "cue_song"):
                out.cue_song(None)
        if playing is not None:
            self.send("/dd/song/stopped", playing.name)

    # ------------------------------------------------------------ takes over the song (OSC, MIDI-in threads)

    def begin_take(self) -> None:
        with self._take_lock:
            self._onsets = []

    def onset(self, beat: float | None = None, *, at: float | None = None) -> bool:
        """An onset of the human: now, or at player clock time ``at``, or at ``beat`` of the bar playing now.
        False if no take over the song runs or nothing has played yet."""
        playing = self.playing
        place = None if playing is None else self._place(playing, at)
        if place is None:
            return False
        k, share = place
        if beat is not None:
            beats = playing.cue.beats(k)
            if not 0.0 <= beat < beats:
                raise OSCError("args", f"/dd/onset: beat must be 0 to under {beats} (the bar's beats), got {beat:g}")
            share = beat / beats
        with self._take_lock:
            if self._onsets is None:
                return False
            if len(self._onsets) >= MAX_SONG_ONSETS:
                raise OSCError("state", f"the take already holds {MAX_SONG_ONSETS} onsets: end it with /dd/take/end")
            self._onsets.append((k, share))
        return True

    def _place(self, playing: Playing, at: float | None) -> tuple[int, float] | None:
        """(bar, share of it) of the song now, or at MIDI out's clock time ``at``: by MIDI out's bar lines, or
        without MIDI out by where audio out is in the song's audio (now, to a block)."""
        player = self.midi()
        if player is not None:
            return playing.cue.place(player.clock() if at is None else at)
        for out in self._outputs():
            state = getattr(out, "state", None)
            lines, loop = (state.lines, state.loop) if state is not None else (None, None)
            if lines is not None and loop is not None and lines.size:
                pos = state.pos
                k = int(np.searchsorted(lines, pos, side="right")) - 1
                end = int(lines[k + 1]) if k + 1 < lines.size else loop.shape[0]
                return playing.cue.start + k, (pos - int(lines[k])) / max(end - int(lines[k]), 1)
        return None

    def end_take(self, *, again: bool) -> bool:
        """End the take over the song and learn from it on this service's thread; ``again``: the next take
        starts at once. False if none ran."""
        with self._take_lock:
            onsets, self._onsets = self._onsets, ([] if again else None)
        if onsets is None:
            return False
        self._queue(("learn", self.playing, onsets))
        return True

    # ------------------------------------------------------------ the dd-song-play thread

    def _queue(self, job) -> None:
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise OSCError("state", "the song player is busy; ask again in a moment") from None

    def _job(self, job) -> None:
        try:
            (self._load if job[0] == "load" else self._learn)(*job[1:])
        except (DDLiveError, OSError, ValueError) as err:
            self.tell("io" if isinstance(err, OSError) else "args", f"song: {err}".splitlines()[0], None)
        except Exception as err:  # a bug must not end the thread: say so, keep serving
            log.exception("song play failed")
            self.tell("io", f"song play failed: {type(err).__name__}: {err}".splitlines()[0], None)

    def _load(self, real: Path, folder: Path, bar: int, sender) -> None:
        from ..groove.timing import SongFeel, load_state, restore
        from ..ports.song_cue import SongCue

        score, notes, bar_s = read_written(folder)
        if not 0 <= bar < len(bar_s):
            raise InputError(f"{real.name} has {len(bar_s)} bars: bar {bar} is not one of them (from 0)")
        with self.gate.hold(high=False):
            s = self._settings()
            feel = SongFeel(score, layer=s.feel_layer, a=s.song_a, b=s.song_b, seed=self.seed)
            state = load_state(timing_file(folder))
            if state is not None:
                restore(feel, state)
        bars = cue_bars(score, notes, feel)
        cue = SongCue(real.name, bars, start=bar)
        self.playing = Playing(real.name, folder, score, feel, notes, bar_s, cue)
        for out in self._outputs():
            if hasattr(out, "cue"):
                out.cue(cue)
            elif hasattr(out, "cue_song"):
                out.cue_song(*song_audio(folder, bars, bar))
            out.play()              # the transport runs (following a host: armed, the host's transport decides)
        log.info("song %s: playing from bar %d of %d", real.name, bar, len(bar_s))
        self.send("/dd/song/playing", real.name, bar, len(bar_s))

    def _learn(self, playing: Playing | None, onsets: list[tuple[int, float]]) -> None:
        from ..groove.timing import save_feel

        if playing is None or playing is not self.playing:
            return
        if not onsets:
            self.tell("state", "take not used: no onsets during the song", None)
            return
        k = np.array([o[0] for o in onsets], dtype=np.int64)
        share = np.array([o[1] for o in onsets])
        song_s = playing.bar_s[k, 0] + share * playing.bar_s[k, 1]
        s = self._settings()
        playing.feel.a, playing.feel.b = s.song_a, s.song_b      # as the performer set them now
        with self.gate.hold(high=False):
            report = playing.feel.take(song_s)
        bars = cue_bars(playing.score, playing.notes, playing.feel)
        playing.cue.replace(bars)
        for out in self._outputs():
            if hasattr(out, "cue_song"):
                out.cue_song(*song_audio(playing.folder, bars, playing.cue.start))
        save_feel(playing.feel, timing_file(playing.folder))
        sections = report.section_offsets_ms
        log.info("song %s take %d: %d onsets, %d matched, gap %.1f ms; sections %s", playing.name, playing.feel.takes,
                 report.onsets, report.matched_onsets, report.mean_abs_gap_ms, sections)
        self.send("/dd/take", report.onsets, report.matched_onsets, float(np.nan_to_num(report.mean_abs_gap_ms)),
                  float(np.nan_to_num(report.mean_abs_gap_ms)), playing.feel.takes)
        self.send("/dd/song/feel", playing.name, *[x for label, ms in sections.items() for x in (label, float(ms))])

    def midi(self):
        """The MIDI player among the outputs (None without MIDI out)."""
        return next((o for o in self._outputs() if hasattr(o, "cue")), None)


def _written(folder: Path, song: Path) -> bool:
    """Whether song mode's drums for ``song`` are in ``folder`` and newer than the song file."""
    files = [folder / "arrangement.json", folder / "drums.mid"]
    try:
        return all(f.is_file() and f.stat().st_mtime >= song.stat().st_mtime for f in files)
    except OSError:
        return False


def read_written(folder: Path):
    """The score of the drums song mode wrote in ``folder``, each drum note's row, pitch and velocity, and each
    bar's start and length (s). InputError in one line if the files are not song mode's."""
    import mido

    from ..groove.score import Score
    from ..loops.gm import role_of_note
    from ..song.score import bar_row

    try:
        doc = json.loads((folder / "arrangement.json").read_text())
        mid = mido.MidiFile(str(folder / "drums.mid"))
        bars = doc["bars"]
        tpb = int(doc["ticks_per_beat"])
    except (OSError, ValueError, KeyError, EOFError) as err:
        raise InputError(f"{folder.name}: not a song this session wrote ({err})") from None
    rows, unit, bar_s = [], [], []
    for b in bars:
        num, den = (int(x) for x in b["time_signature"].split("/"))
        row, ticks = bar_row(float(b["start_s"]), num, den, num * tpb * 4 / den, float(b["bpm"]), tpb)
        rows.append(row)
        unit.append(ticks)
        bar_s.append((row[0], (b["end_tick"] - b["start_tick"]) / ticks * 60.0 / row[3]))
    starts = np.array([b["start_tick"] for b in bars], dtype=np.float64)
    hits, notes = [], []
    tick = 0
    for msg in mido.merge_tracks(mid.tracks):
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0 and msg.channel == 9:
            k = max(int(np.searchsorted(starts, tick, side="right")) - 1, 0)
            beat = min((tick - starts[k]) / unit[k], rows[k][1] - 1e-6)
            hits.append((k, beat, role_of_note(msg.note), msg.velocity))
            notes.append((k, beat, msg.note, msg.velocity))
    if not hits:
        raise InputError(f"{folder.name}: its drums.mid has no drum notes")
    sections = [(s["start"], s["end"], s["label"]) for s in doc["sections"]]
    score = Score.of(hits, rows, sections)
    key = {(int(b), round(float(t) / 1e-6)): i for i, (b, t) in enumerate(zip(score.bar, score.beat))}
    table = np.array([(key[(k, round(beat / 1e-6))], p, v) for k, beat, p, v in notes],
                     dtype=[("row", np.int64), ("pitch", np.int64), ("velocity", np.int64)])
    return score, table, np.array(bar_s)


def cue_bars(score, notes: np.ndarray, feel) -> list[tuple[list, float, int]]:
    """The song's bars for the player with the feel's offsets and velocities: per bar (notes, bpm, beats); a note
    pushed before its bar line plays at the end of the bar before."""
    from ..ports.midi_out import Note

    n_bars = int(score.bar.max()) + 1
    first = {int(b): i for i, b in reversed(list(enumerate(score.bar)))}
    shape = []
    for k in range(n_bars):   # each bar's bpm and beats: from its first hit, else the one before
        i = first.get(k)
        shape.append(shape[-1] if i is None and shape else
                     ((float(score.bpm[i]), int(score.beats_in_bar[i])) if i is not None else (120.0, 4)))
    out: list[list] = [[] for _ in range(n_bars)]
    for row, pitch, vel in notes.tolist():
        k = int(score.bar[row])
        beat = float(score.beat[row]) + float(feel.offsets[row]) / int(score.steps_per_beat[row])
        velocity = int(np.clip(round(vel * float(feel.velocity[row])), 1, 127))
        if beat < 0 and k > 0:
            k -= 1
            beat = shape[k][1] + beat * shape[k][0] / shape[k + 1][0]
        out[k].append(Note(max(beat, 0.0), int(pitch), velocity))
    return [(sorted(ns, key=lambda n: n.beat), bpm, beats) for ns, (bpm, beats) in zip(out, shape)]


def song_audio(folder: Path, bars: list[tuple[list, float, int]], start: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The song's drums as audio out plays them (``bars`` as the MIDI player gets them, from bar ``start`` to the
    end), with the kit song mode wrote beside them (``samples/``, one file per track, ``arrangement.json``'s
    notes): (mono float32 at the sample rate, levelled as drums.wav is; each bar line in samples; its beats)."""
    import soundfile as sf

    from .. import SAMPLE_RATE
    from ..loops.render import level_in_place, velocity_gain

    doc = json.loads((folder / "arrangement.json").read_text())
    files = sorted((folder / "samples").glob("*.wav"))
    sound = {}
    for note, path in zip(doc["notes"], files):
        y, rate = sf.read(str(path), dtype="float32", always_2d=True)
        sound.setdefault(int(note), y.mean(axis=1) if rate == SAMPLE_RATE else np.zeros(0, np.float32))
    lengths = [beats * 60.0 / bpm for _, bpm, beats in bars[start:]]
    lines = np.round(np.cumsum([0.0] + lengths) * SAMPLE_RATE).astype(np.int64)
    audio = np.zeros(int(lines[-1]), dtype=np.float32)
    for k, (notes, bpm, _) in enumerate(bars[start:]):
        for n in notes:
            y = sound.get(int(n.pitch))
            if y is None or not y.size:
                continue
            at = int(lines[k] + round(n.beat * 60.0 / bpm * SAMPLE_RATE))
            part = y[: max(audio.size - at, 0)]
            audio[at: at + part.size] += np.float32(velocity_gain(np.array([n.velocity]))[0]) * part
    level_in_place(audio[None, :])
    return audio, lines[:-1], int(sum(beats for _, _, beats in bars[start:]))
