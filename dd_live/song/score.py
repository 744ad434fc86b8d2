"""The drums song mode writes, as a score to play along with (:class:`dd_live.groove.score.Score`), and written
with what takes over the song taught (:func:`with_feel`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..groove.score import ROUND_BEATS, Score
from .arrange import Arrangement, grid_for


def bar_row(start_s: float, numerator: int, denominator: int, full_ticks: float, bpm: float, ticks_per_beat: int
            ) -> tuple[tuple[float, int, int, float], float]:
    """A bar as a score counts it, on its pattern grid (:func:`dd_live.song.arrange.grid_for`): (start in s,
    beats, steps a beat, tempo in those beats a minute), and the ticks in one of its beats. ``bpm`` is the
    song's tempo in quarter notes a minute, ``full_ticks`` the bar's length as its time signature says."""
    steps, beats = grid_for(numerator, denominator)
    unit = full_ticks / beats
    return (start_s, beats, steps // beats, bpm * ticks_per_beat / unit), unit


def score_of(arr: Arrangement, roles: Sequence[str]) -> Score:
    """Every hit of ``arr``'s drums, each track in role ``roles[track]`` (a track past them, the crash's, in
    "colour"); bars on their pattern grid (:func:`dd_live.song.arrange.grid_for`: sixteenths, compound x/8 in
    dotted quarters), sections as the arrangement found them."""
    song = arr.song
    bars, unit = [], []
    for b in song.bars:
        row, ticks = bar_row(b.start_s, b.numerator, b.denominator, b.full_ticks, b.bpm, song.ticks_per_beat)
        bars.append(row)
        unit.append(ticks)                                    # ticks in the bar's beat
    hits = []
    index = 0
    for tick, track, vel in arr.events().tolist():
        while index + 1 < len(song.bars) and tick >= song.bars[index].end - 1e-9:
            index += 1
        beat = (tick - song.bars[index].start) / unit[index]
        role = roles[track] if track < len(roles) else "colour"
        hits.append((index, min(beat, bars[index][1] - ROUND_BEATS), role, vel))
    return Score.of(hits, bars, [(s.start, s.end, s.label) for s in arr.sections])


def timing_file(folder: Path) -> Path:
    """Where what takes over the song written in ``folder`` taught is kept: beside the folder (song mode replaces
    the folder whole when it writes the song again; the timing outlives it)."""
    folder = Path(folder)
    return folder.with_name(folder.name + ".timing.pt")


def with_feel(arr: Arrangement, events: np.ndarray, library, state: dict, *, seed: int = 0
              ) -> tuple[np.ndarray, dict]:
    """``events`` (:meth:`Arrangement.events`) moved and made louder or softer as takes over the song taught
    (``state``: :func:`dd_live.groove.timing.load_state`), and what was applied: takes, each section's mean
    offset (ms). The net reads each hit's context, so it applies to a song arranged anew as well."""
    from ..groove.timing import SongFeel, restore

    roles = list(library.roles[library.indices(arr.kit)]) if len(arr.kit) else []
    score = score_of(arr, roles)
    feel = SongFeel(score, seed=seed)
    restore(feel, state)
    song = arr.song
    out = events.copy()
    at = np.asarray(song.seconds(events["tick"]), dtype=np.float64)   # each hit's row: the one at its time
    k = np.clip(np.searchsorted(score.at_s, at), 1, max(len(score) - 1, 1))
    row_of = np.where(np.abs(score.at_s[k - 1] - at) <= np.abs(score.at_s[np.minimum(k, len(score) - 1)] - at),
                      k - 1, np.minimum(k, len(score) - 1))
    step_ticks = np.array([b.full_ticks / (grid_for(b.numerator, b.denominator)[0]) for b in song.bars])
    out["tick"] = np.maximum(events["tick"] + feel.offsets[row_of] * step_ticks[score.bar[row_of]], 0.0)
    out["velocity"] = np.clip(np.round(events["velocity"] * feel.velocity[row_of]), 1, 127)
    out = np.sort(out, order=("tick", "track"))
    return out, {"takes": feel.takes, "sections_ms": feel.section_offsets_ms()}
