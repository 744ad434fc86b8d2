"""Simulated raters: stand-ins for people, for running DeepDrummer's protocol offline.

A rater is any callable taking a candidate and returning True (like) or False.
The raters here judge only what a listener could: the grid (which steps play, how
loud) and the sound of each track's sample, measured from its audio (never from
its file name). Each computes a taste score, turns it into a probability of
liking, and flips a coin, so like people they are inconsistent: the same loop can
get different answers, and even a perfect loop is disliked now and then.

``GrooveRater``: house and techno — a low, short-decaying sound on the beats, a
bright short sound playing off-beats, nothing harsh, not too busy.
``MinimalRater``: sparse loops of short, dry, mid-range percussive sounds;
dislikes long tails, cymbal wash and harshness.
``BreakRater``: busy breakbeats — a low sound on the first step, a noisy
mid-range sound (snare/clap-like) on the backbeats, a dense bright layer.
``DarkRater``: timbre — dark, warm sounds and a bass, nothing bright.
``SyncopatedRater``: placement — hits between the eighths rather than on the beats.
``FamilyRater``: sample families — sounds close to each other in brightness and noisiness.

Feel raters (``FEEL_RATERS``; they judge velocities, timing and swing, which DeepDrummer's loops lack):
``AccentRater``: accents on the beats and ghost notes between, never one flat velocity.
``ShuffleRater``: a triplet shuffle with off-beat sixteenths to hear it on, tracks in the pocket.
``LaidBackRater``: snare and bright sounds laid back behind a kick on the grid.

Their midpoints were calibrated so that random DeepDrummer loops (density 0.5,
samples uniform over the default kit) are liked about 35% of the time (2,000 random
loops drawn with seed 101; the tests check 25-45% on other draws); the feel raters'
on random loops with a random feel (:func:`dd_live.groove.genes.prior`), on which
flat DeepDrummer loops are liked 10-16% of the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..sound.audio import measure_one_shot



@dataclass(frozen=True)
class Sound:
    """What a listener hears in one sample: measured from its audio."""

    duration: float      # s until the level falls 40 dB below the peak
    centroid: float      # Hz
    low: float           # share of energy below 200 Hz
    high: float          # share of energy above 6 kHz
    flatness: float      # 0 (pure tones) .. 1 (white noise), over 200 Hz-16 kHz
    harsh: bool          # a loud, sustained, high, tonal or flat-noise sound

    @property
    def kick_like(self) -> bool:
        return self.low > 0.45 and self.centroid < 700 and self.duration < 1.2

    @property
    def bright_short(self) -> bool:
        return self.centroid > 5000 and self.duration < 0.35 and not self.harsh

    @property
    def snare_like(self) -> bool:
        return 1200 < self.centroid < 8000 and self.flatness > 0.15 and 0.05 < self.duration < 0.8 and not self.harsh


def describe_audio(y: np.ndarray) -> Sound:
    """Measure a one-shot (mono float at 44.1 kHz)."""
    m = measure_one_shot(y, sample_rate=SAMPLE_RATE)
    centroid = float((m.freqs * m.power).sum() / m.total)
    low = float(m.power[m.freqs < 200].sum() / m.total)
    high = float(m.power[m.freqs > 6000].sum() / m.total)
    # Harsh: no decay (the level late in the sound is close to its level early on: a tone or a
    # burst switched on and off, unlike a cymbal's slow decay) and high-pitched or noise-like.
    flat_envelope = m.late_rms > 0.5 * max(m.early_rms, 1e-12)
    harsh = flat_envelope and (centroid > 2500 or m.flatness > 0.4)
    return Sound(m.duration, centroid, low, high, m.flatness, bool(harsh))


@lru_cache(maxsize=4096)
def _sound_of_file(path: str, size: int, mtime: int) -> Sound:
    from ..sound.samples import load_file

    return describe_audio(load_file(Path(path)))


def sound_of(path: str | Path) -> Sound:
    """The :class:`Sound` of a sample file (cached on path, size and mtime)."""
    st = Path(path).stat()
    return _sound_of_file(str(path), st.st_size, st.st_mtime_ns)


class Rater:
    """Base class: ``taste(candidate)`` gives a score; calling the rater flips a noisy coin on it."""

    #: score at which P(like) is one half, and how sharply it rises around it
    midpoint = 0.0
    slope = 4.0
    #: probability of answering the opposite of the taste (inconsistency)
    noise = 0.1

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def taste(self, candidate) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def p_like(self, candidate) -> float:
        p = 1.0 / (1.0 + math.exp(-self.slope * (self.taste(candidate) - self.midpoint)))
        return self.noise + (1 - 2 * self.noise) * p

    def __call__(self, candidate) -> bool:
        return bool(self.rng.random() < self.p_like(candidate))

    # helpers ------------------------------------------------------------
    @staticmethod
    def tracks(candidate) -> list[tuple[np.ndarray, Sound]]:
        """(row of hits, sound) for each track that plays at least once."""
        hits = np.asarray(candidate.pattern.hits, dtype=bool)
        return [(hits[t], sound_of(p)) for t, p in enumerate(candidate.sample_paths) if hits[t].any()]


def _beats(row: np.ndarray) -> np.ndarray:
    return row[:: max(1, row.size // 4)]


def _offbeats(row: np.ndarray) -> np.ndarray:
    step = max(1, row.size // 4)
    return row[step // 2:: step] if step > 1 else row[:0]


class GrooveRater(Rater):
    """House/techno: kick-like sound on the beats, bright short off-beats, nothing harsh, not too busy."""

    midpoint = -0.38

    def taste(self, candidate) -> float:
        tracks = self.tracks(candidate)
        score = 0.0
        kicks = [row for row, s in tracks if s.kick_like]
        if kicks:
            score += max(_beats(r).mean() for r in kicks) * 1.5
            score -= 0.1 * max(0, min(int(r.sum()) for r in kicks) - 6)
        brights = [row for row, s in tracks if s.bright_short]
        if brights:
            score += max(_offbeats(r).mean() for r in brights) * 1.0
        score -= 3.0 * sum(s.harsh for _, s in tracks)
        score -= 0.8 * sum(s.duration > 1.0 for _, s in tracks)
        density = float(np.mean(candidate.pattern.hits))
        score -= 2.0 * max(0.0, density - 0.45)
        return score


class MinimalRater(Rater):
    """Sparse loops of short, dry, mid-range percussive sounds."""

    midpoint = -0.56

    def taste(self, candidate) -> float:
        tracks = self.tracks(candidate)
        density = float(np.mean(candidate.pattern.hits))
        score = 1.0 - 6.0 * abs(density - 0.25)
        for _, s in tracks:
            if s.harsh:
                score -= 0.8
            elif s.duration > 0.6:
                score -= 0.3
            elif 150 < s.centroid < 4000 and s.duration < 0.35:
                score += 0.4
        return score


class BreakRater(Rater):
    """Busy breakbeats: low sound on step 1, snare-like backbeats, a dense bright layer."""

    midpoint = 1.01

    def taste(self, candidate) -> float:
        tracks = self.tracks(candidate)
        steps = candidate.pattern.hits.shape[1]
        quarter = max(1, steps // 4)
        score = 0.0
        if any(s.kick_like and row[0] for row, s in tracks):
            score += 0.8
        backbeats = [quarter, 3 * quarter]
        if any(s.snare_like and row[backbeats].all() for row, s in tracks):
            score += 1.0
        bright = [row.mean() for row, s in tracks if s.centroid > 4000 and not s.harsh]
        if bright:
            score += min(1.0, max(bright) * 1.4)
        score -= 1.2 * sum(s.harsh for _, s in tracks)
        return score


class DarkRater(Rater):
    """Timbre: dark, warm loops: low and low-mid sounds, a bass-heavy one among them; dislikes bright
    and harsh sounds whatever the grid."""

    midpoint = 0.76

    def taste(self, candidate) -> float:
        tracks = self.tracks(candidate)
        score = 0.0
        for _, s in tracks:
            if s.harsh:
                score -= 1.5
            elif s.centroid < 1200:
                score += 0.6
            elif s.centroid > 5000:
                score -= 0.6
        if any(s.low > 0.45 for _, s in tracks):
            score += 0.5
        return score


class SyncopatedRater(Rater):
    """Placement: syncopation: hits on the off sixteenths (between the eighths) rather than on the
    beats, with something low anchoring the first step; dislikes harsh sounds and near-empty loops."""

    midpoint = 0.83

    def taste(self, candidate) -> float:
        tracks = self.tracks(candidate)
        hits = np.asarray(candidate.pattern.hits, dtype=bool)
        steps = hits.shape[1]
        quarter = max(1, steps // 4)
        phase = np.arange(steps) % quarter
        on_beat = hits[:, phase == 0].sum()
        off = hits[:, phase % 2 == 1].sum() if quarter > 1 else 0
        total = max(1, int(hits.sum()))
        score = 2.0 * (off - on_beat) / total
        if any(s.low > 0.45 and row[0] for row, s in tracks):
            score += 0.5
        score -= 1.5 * sum(s.harsh for _, s in tracks)
        score -= 3.0 * max(0.0, 0.2 - float(hits.mean()))
        return score


class FamilyRater(Rater):
    """Sample families: sounds that belong together (close in brightness and noisiness, like one
    drum kit's pieces) over a mix of unrelated timbres; dislikes harsh sounds."""

    midpoint = -0.59

    def taste(self, candidate) -> float:
        tracks = self.tracks(candidate)
        if len(tracks) < 2:
            return -1.0
        cents = np.log2(np.array([max(s.centroid, 20.0) for _, s in tracks]))
        flat = np.array([s.flatness for _, s in tracks])
        score = 1.0 - 0.8 * float(cents.std()) - 2.0 * float(flat.std())
        score -= 1.5 * sum(s.harsh for _, s in tracks)
        return score


def _velocity_contrast(pattern) -> tuple[float, float]:
    """(mean velocity of hits on the beats - off them, over 127; share of hits that are ghosts, velocity <= 50)."""
    hits = np.asarray(pattern.hits, dtype=bool)
    vel = np.asarray(pattern.velocities, dtype=np.float64)
    steps = hits.shape[1]
    on = np.zeros(steps, dtype=bool)
    on[:: max(1, steps // pattern.beats)] = True
    on_v, off_v = vel[:, on][hits[:, on]], vel[:, ~on][hits[:, ~on]]
    contrast = (on_v.mean() - off_v.mean()) / 127 if on_v.size and off_v.size else 0.0
    ghosts = float((vel[hits] <= 50).mean()) if hits.any() else 0.0
    return float(contrast), ghosts


class AccentRater(Rater):
    """Dynamics: accents on the beats, ghost notes between them; dislikes loops whose hits all have one
    velocity (a drum machine's flat feel) and harsh sounds."""

    midpoint = 0.52

    def taste(self, candidate) -> float:
        p = candidate.pattern
        contrast, ghosts = _velocity_contrast(p)
        vel = np.asarray(p.velocities)[np.asarray(p.hits, dtype=bool)]
        score = 3.0 * contrast + 1.5 * min(ghosts, 0.4)
        if vel.size and np.ptp(vel) == 0:
            score -= 1.0
        score -= 1.5 * sum(s.harsh for _, s in self.tracks(candidate))
        return score


class ShuffleRater(Rater):
    """Swing: a triplet shuffle (off-beat sixteenths a third of a step late) that can be heard (hits on
    them), every track in the pocket (no track pushed far off the grid)."""

    midpoint = 0.21

    def taste(self, candidate) -> float:
        p = candidate.pattern
        hits = np.asarray(p.hits, dtype=bool)
        odd = float(hits[:, 1::2].sum()) / max(1, int(hits.sum()))
        score = 1.0 - 6.0 * abs(float(p.swing) - 1 / 3) + 1.0 * odd
        off = np.abs(np.asarray(p.offsets, dtype=np.float64)[hits])
        score -= 4.0 * float(off.mean()) if off.size else 0.0
        score -= 1.5 * sum(s.harsh for _, s in self.tracks(candidate))
        return score


class LaidBackRater(Rater):
    """Pocket: the snare-like and bright sounds laid back behind a kick-like sound on the grid, with some
    dynamics; dislikes flat velocity and anything rushing ahead."""

    midpoint = -0.15

    def taste(self, candidate) -> float:
        p = candidate.pattern
        hits = np.asarray(p.hits, dtype=bool)
        offsets = np.asarray(p.offsets, dtype=np.float64)
        score = 0.0
        for t, s in enumerate(sound_of(x) for x in candidate.sample_paths):
            if not hits[t].any():
                continue
            push = float(offsets[t][hits[t]].mean())
            if s.kick_like:
                score -= 4.0 * abs(push)
            elif s.snare_like or s.centroid > 4000:
                score += 4.0 * min(push, 0.15) if push > 0 else 6.0 * push
            if s.harsh:
                score -= 1.5
        vel = np.asarray(p.velocities)[hits]
        if vel.size and np.ptp(vel) == 0:
            score -= 0.7
        return score


RATERS = {"groove": GrooveRater, "minimal": MinimalRater, "break": BreakRater, "dark": DarkRater,
          "syncopated": SyncopatedRater, "family": FamilyRater}
#: raters that judge feel (velocities, timing, swing): measured with ``dd-live evaluate --feel``
FEEL_RATERS = {"accent": AccentRater, "shuffle": ShuffleRater, "laidback": LaidBackRater}
