"""The drums song mode wrote, as a score to play along with (:class:`dd_live.groove.score.Score`)."""

from __future__ import annotations

from collections.abc import Sequence

from ..groove.score import ROUND_BEATS, Score
from .arrange import Arrangement, grid_for


def score_of(arr: Arrangement, roles: Sequence[str]) -> Score:
    """Every hit of ``arr``'s drums, each track in role ``roles[track]`` (a track past them, the crash's, in
    "colour"); bars on their pattern grid (:func:`dd_live.song.arrange.grid_for`: sixteenths, compound x/8 in
    dotted quarters), sections as the arrangement found them."""
    song = arr.song
    bars, unit = [], []
    for b in song.bars:
        steps, beats = grid_for(b.numerator, b.denominator)
        unit.append(b.full_ticks / beats)                     # ticks in the bar's beat
        bars.append((b.start_s, beats, steps // beats, b.bpm * song.ticks_per_beat / unit[-1]))
    hits = []
    index = 0
    for tick, track, vel in arr.events().tolist():
        while index + 1 < len(song.bars) and tick >= song.bars[index].end - 1e-9:
            index += 1
        beat = (tick - song.bars[index].start) / unit[index]
        role = roles[track] if track < len(roles) else "colour"
        hits.append((index, min(beat, bars[index][1] - ROUND_BEATS), role, vel))
    return Score.of(hits, bars, [(s.start, s.end, s.label) for s in arr.sections])
