"""A song's drum part as a *score* for playing along: every moment a drum sounds, in time order, with the
context a drummer times it by.

One row per distinct notated onset (a kick and a hat on the same sixteenth are one row, as rolypoly~ treats a
drum hit with its classes): where it is notated (seconds, bar, beats into the bar), its bar's grid (steps of
a beat), which roles play (low, backbeat, time, colour), the loudest notated velocity, its section's label
and where the bar sits in the section, and the tempo. Offsets and gaps elsewhere are in **steps** of the
row's bar grid (a sixteenth in 4/4; :func:`dd_live.song.score.score_of` builds one from song mode's drums).
Pure numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..sound.roles import ROLES

PHRASE_BARS = 4          # bars in a phrase: bars this far apart in a section look alike to the timing model
SECTION_SLOTS = 8        # distinct section labels the features tell apart (more wrap around)
ROUND_BEATS = 1e-6       # onsets closer than this (beats) are one row


@dataclass(frozen=True)
class Score:
    """Arrays of one length, one row per onset, in time order (see the module docstring)."""

    at_s: np.ndarray            # notated time from the song's start (s)
    bar: np.ndarray             # bar index
    beat: np.ndarray            # beats into the bar (the bar's beat unit)
    beats_in_bar: np.ndarray    # the bar's beats
    steps_per_beat: np.ndarray  # the bar's grid
    step_s: np.ndarray          # seconds a step lasts at the bar's tempo
    bpm: np.ndarray             # beats per minute at the bar
    roles: np.ndarray           # (rows, len(ROLES)) bool
    velocity: np.ndarray        # the loudest notated velocity (1-127)
    section: np.ndarray         # index into ``labels``
    bar_in_section: np.ndarray  # bars since its section began
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.at_s.size)

    @property
    def on_beat(self) -> np.ndarray:
        """Rows that start a beat."""
        return np.abs(self.beat - np.round(self.beat)) < ROUND_BEATS

    def step_in_bar(self) -> np.ndarray:
        """Each row's position in its bar (steps, fractional where notated off the grid)."""
        return self.beat * self.steps_per_beat

    def take_rows(self, rows: np.ndarray) -> Score:
        """The score of the rows ``rows`` (a mask or indices), labels kept."""
        return Score(*(getattr(self, f)[rows] for f in _ARRAYS), labels=self.labels)

    @classmethod
    def of(cls, hits: Sequence[tuple[int, float, str, int]], bars: Sequence[tuple[float, int, int, float]],
           sections: Sequence[tuple[int, int, str]]) -> Score:
        """From ``hits`` (bar, beats into it, role, velocity), ``bars`` (start s, beats, steps per beat, bpm) and
        ``sections`` (first bar, end bar, label), which must cover every bar with a hit. InputError in one
        line for a hit outside its bar, an unknown role or a bar no section covers."""
        if not hits:
            raise InputError("a score needs at least one drum hit")
        label_of = np.full(len(bars), -1, dtype=np.int64)
        first_of = np.zeros(len(bars), dtype=np.int64)
        labels: list[str] = []
        for start, end, label in sections:
            if label not in labels:
                labels.append(label)
            label_of[start:end] = labels.index(label)
            first_of[start:end] = start
        rows: dict[tuple[int, float], list] = {}
        for bar, beat, role, vel in hits:
            if not 0 <= bar < len(bars):
                raise InputError(f"a drum hit in bar {bar}: the song has {len(bars)} bars")
            if role not in ROLES:
                raise InputError(f"unknown drum role {role!r}: use one of {', '.join(ROLES)}")
            if not -ROUND_BEATS <= beat < bars[bar][1]:
                raise InputError(f"a drum hit at beat {beat:g} of bar {bar}, which has {bars[bar][1]} beats")
            if label_of[bar] < 0:
                raise InputError(f"bar {bar} is in no section")
            key = (int(bar), round(float(beat) / ROUND_BEATS) * ROUND_BEATS)
            row = rows.setdefault(key, [np.zeros(len(ROLES), dtype=bool), 0])
            row[0][ROLES.index(role)] = True
            row[1] = max(row[1], int(vel))
        keys = sorted(rows)
        b = np.array([k[0] for k in keys], dtype=np.int64)
        beat = np.array([k[1] for k in keys], dtype=np.float64)
        start_s, beats, spb, bpm = (np.array([bars[i][j] for i in b]) for j in range(4))
        bpm = bpm.astype(np.float64)
        return cls(at_s=start_s.astype(np.float64) + beat * 60.0 / bpm, bar=b, beat=beat,
                   beats_in_bar=beats.astype(np.int64), steps_per_beat=spb.astype(np.int64),
                   step_s=60.0 / bpm / spb, bpm=bpm, roles=np.array([rows[k][0] for k in keys]),
                   velocity=np.array([rows[k][1] for k in keys], dtype=np.int64),
                   section=label_of[b], bar_in_section=b - first_of[b], labels=tuple(labels))


_ARRAYS = ("at_s", "bar", "beat", "beats_in_bar", "steps_per_beat", "step_s", "bpm", "roles", "velocity", "section",
           "bar_in_section")


def features(score: Score, last_gap: np.ndarray | None = None) -> np.ndarray:
    """The timing model's input per row (float32, rows x :data:`FEATURES`): position in the beat (three
    harmonics: eighths, sixteenths and triplets tell apart), in the bar, and the bar in its phrase
    (:data:`PHRASE_BARS`); the roles; the section's label (one of :data:`SECTION_SLOTS`); tempo and meter; and
    ``last_gap``, the gap (steps, human minus drum) realised at the row before (0 where none was heard)."""
    n = len(score)
    phase = score.beat % 1.0
    cols = [np.sin(2 * np.pi * k * phase) for k in (1, 2, 3)] + [np.cos(2 * np.pi * k * phase) for k in (1, 2, 3)]
    in_bar = score.beat / score.beats_in_bar
    cols += [np.sin(2 * np.pi * in_bar), np.cos(2 * np.pi * in_bar), (np.floor(score.beat) == 0).astype(float)]
    phrase = (score.bar_in_section % PHRASE_BARS) / PHRASE_BARS
    cols += [np.sin(2 * np.pi * phrase), np.cos(2 * np.pi * phrase)]
    cols += [score.roles[:, k].astype(float) for k in range(len(ROLES))]
    sec = np.zeros((n, SECTION_SLOTS))
    sec[np.arange(n), score.section % SECTION_SLOTS] = 1.0
    cols += list(sec.T)
    cols += [score.bpm / 120.0 - 1.0, score.beats_in_bar / 4.0 - 1.0]
    prev = np.zeros(n) if last_gap is None else np.concatenate([[0.0], np.nan_to_num(np.asarray(last_gap)[:-1])])
    cols.append(np.clip(prev, -1.0, 1.0))
    return np.stack(cols, axis=1).astype(np.float32)


FEATURES = 6 + 3 + 2 + len(ROLES) + SECTION_SLOTS + 2 + 1
