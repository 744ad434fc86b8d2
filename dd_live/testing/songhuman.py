"""A simulated human playing along with a whole song, and the songs the play-along tests and
``dd-live bench playalong`` use.

The human means to play each drum hit at its notated time plus their own offset for its section (ms) and
swing (off-beat sixteenths later by a share of a step), or any per-hit intention; is pulled part of the way
towards where the drums actually sounded; adds Gaussian jitter (ms) and a constant latency (ms); and may
play along with only some of the hits. Deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..groove.score import Score
from ..groove.timing import SongFeel, TakeReport

#: verse, chorus, verse, bridge, chorus: (first bar, end bar, label)
DEMO_SECTIONS = ((0, 8, "verse"), (8, 16, "chorus"), (16, 24, "verse"), (24, 28, "bridge"), (28, 32, "chorus"))


def demo_song(*, bpm: float = 120.0, sections=DEMO_SECTIONS, sixteenths: bool = True) -> Score:
    """A 4/4 song: kick on 1 and 3 (and the "and" of 3), snare on 2 and 4, hats on every sixteenth (or eighth)."""
    bars = sections[-1][1]
    bar_s = 4 * 60.0 / bpm
    hits = []
    for b in range(bars):
        hits += [(b, 0.0, "low", 110), (b, 2.0, "low", 100), (b, 2.5, "low", 90), (b, 1.0, "backbeat", 110),
                 (b, 3.0, "backbeat", 110)]
        hits += [(b, k / 4, "time", 90 if k % 2 == 0 else 70) for k in range(16) if sixteenths or k % 2 == 0]
    return Score.of(hits, [(b * bar_s, 4, 4, bpm) for b in range(bars)], sections)


def morph_song(*, bars: int = 16, bpm: float = 120.0) -> Score:
    """x..x..x. twice a bar (sixteenths 0, 3, 6 of each half bar), one section: rolypoly~'s morph example."""
    bar_s = 4 * 60.0 / bpm
    hits = [(b, half * 2 + s / 4, "time", 100) for b in range(bars) for half in (0, 1) for s in (0, 3, 6)]
    return Score.of(hits, [(b * bar_s, 4, 4, bpm) for b in range(bars)], [(0, bars, "A")])


def triplets(score: Score) -> np.ndarray:
    """Where three equal triplets per half bar put :func:`morph_song`'s hits: offsets in steps (0, -1/3, -2/3)."""
    s = np.round(score.step_in_bar() % 8).astype(int)
    return np.select([s == 3, s == 6], [-1 / 3, -2 / 3], 0.0)


@dataclass
class SongHuman:
    """``offsets_ms``, ``swing`` (steps, on off-beat sixteenths) and ``loud`` (their velocity times the notated) by
    section label; ``intend``: any other
    intended offsets per hit (steps); ``plays``: which hits they play along with (default all)."""

    offsets_ms: dict[str, float] = field(default_factory=dict)
    swing: dict[str, float] = field(default_factory=dict)
    loud: dict[str, float] = field(default_factory=dict)      # velocity factor by section label
    intend: Callable[[Score], np.ndarray] | None = None
    plays: Callable[[Score], np.ndarray] | None = None
    pull: float = 0.3
    jitter_ms: float = 5.0
    latency_ms: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def intended(self, score: Score) -> np.ndarray:
        """Where the human means each hit to be, from its notated time (steps)."""
        label = np.array(score.labels)[score.section]
        ms = np.array([self.offsets_ms.get(str(x), 0.0) for x in label])
        off_16th = np.isclose(score.step_in_bar() % 2, 1.0)
        swing = np.array([self.swing.get(str(x), 0.0) for x in label]) * off_16th
        extra = self.intend(score) if self.intend is not None else 0.0
        return ms / 1e3 / score.step_s + swing + extra

    def play(self, score: Score, drums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Onsets (s from the song's start) and velocities for one pass over ``score`` whose drums play with
        ``drums`` (offsets, steps)."""
        rows = np.ones(len(score), bool) if self.plays is None else np.asarray(self.plays(score), bool)
        aim = (1 - self.pull) * self.intended(score) + self.pull * np.asarray(drums)
        noise = self.rng.normal(0.0, self.jitter_ms / 1e3, size=len(score))
        at = score.at_s + aim * score.step_s + noise + self.latency_ms / 1e3
        label = np.array(score.labels)[score.section]
        factor = np.array([self.loud.get(str(x), 1.0) for x in label])
        vel = np.clip(score.velocity * factor + self.rng.normal(0, 4, size=len(score)), 1, 127)
        return at[rows], vel[rows]


def first_half_of(label: str, *, others: bool = True) -> Callable[[Score], np.ndarray]:
    """Hits the human plays: every one outside sections ``label`` (unless ``others`` is False) and only the first
    half of each ``label`` section."""

    def plays(score: Score) -> np.ndarray:
        is_label = np.array(score.labels)[score.section] == label
        length = np.zeros(len(score))
        for k in np.unique(score.bar - score.bar_in_section):       # each section's first bar
            rows = score.bar - score.bar_in_section == k
            length[rows] = score.bar_in_section[rows].max() + 1
        first = score.bar_in_section < length / 2
        return np.where(is_label, first, others)

    return plays


def run_song_takes(human: SongHuman, score: Score, *, takes: int = 3, **feel) -> tuple[SongFeel, list[TakeReport]]:
    """``takes`` passes of the human over ``score``, the drums learning after each (``feel``: SongFeel's)."""
    learner = SongFeel(score, **feel)
    reports = []
    for _ in range(takes):
        onsets, vel = human.play(score, learner.offsets)
        reports.append(learner.take(onsets, vel))
    return learner, reports
