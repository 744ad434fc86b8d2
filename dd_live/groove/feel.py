"""The feel layer on a pattern, and a take: the onsets a human played against the drums that were playing.

Times in steps of the pattern's grid from the bar line unless said otherwise (beats where the OSC table
speaks beats). Pure numpy; the daemon's take recorder holds a :class:`Take` behind its own lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError
from ..loops.pattern import Pattern
from .adapt import FEEL_LIMIT, TakeFit, fit_take, match


def flat(steps: int) -> np.ndarray:
    """A layer that changes nothing."""
    return np.zeros(int(steps), dtype=np.float64)


def layer_for(layer: np.ndarray, steps: int) -> np.ndarray:
    """``layer`` for a grid of ``steps`` steps: itself if the sizes agree, else read at the same bar positions
    (circular linear interpolation), in the new grid's steps."""
    layer = np.asarray(layer, dtype=np.float64)
    if layer.size == steps:
        return layer
    n = layer.size
    pos = np.arange(steps) * n / steps
    vals = np.interp(pos, np.arange(n + 1), np.append(layer, layer[0]))
    return np.clip(vals * steps / n, -FEEL_LIMIT, FEEL_LIMIT)  # old steps -> new steps


def apply(pattern: Pattern, layer: Sequence[float] | np.ndarray | None) -> Pattern:
    """``pattern`` played with the feel layer (offset per step: an array, a tuple as the daemon keeps it, a list
    as the session stores it): each hit's offset plus its step's feel, within +-0.5 step. A zero, empty or
    missing layer returns ``pattern`` itself."""
    if layer is None or not np.any(layer):
        return pattern
    add = layer_for(layer, pattern.steps)
    offsets = np.clip(pattern.offsets.astype(np.float64) + add[None, :], -FEEL_LIMIT, FEEL_LIMIT)
    return replace(pattern, offsets=np.where(pattern.hits, offsets, 0.0), extra=dict(pattern.extra))


@dataclass(frozen=True)
class Frame:
    """The drum steps that played and where they sounded (steps; the mean over tracks hitting that step)."""

    steps: int
    steps_per_beat: int
    drum_steps: np.ndarray
    drum_times: np.ndarray

    @classmethod
    def of(cls, played: Pattern) -> Frame:
        """From the pattern as played (feel applied)."""
        cols = np.flatnonzero(played.hits.any(axis=0))
        times = played.step_times()
        when = np.array([times[played.hits[:, s], s].mean() for s in cols], dtype=np.float64)
        return cls(played.steps, played.steps_per_beat, cols.astype(np.int64), when)


@dataclass
class Take:
    """Onsets in one take, each with the frame that was playing. Not thread-safe (the daemon locks it)."""

    frames: list[Frame] = field(default_factory=list)
    onsets: list[tuple[int, float]] = field(default_factory=list)   # (frame index, position in steps)

    def add(self, frame: Frame, position: float) -> None:
        if not self.frames or self.frames[-1] is not frame:
            self.frames.append(frame)
        self.onsets.append((len(self.frames) - 1, float(position)))

    def __len__(self) -> int:
        return len(self.onsets)

    def fit(self, steps: int) -> TakeFit:
        """Match every onset against its frame and summarise per step of a ``steps``-step layer (onsets
        against frames of another grid are left out)."""
        groups = [(frame, np.array([p for f, p in self.onsets if f == fi], dtype=np.float64))
                  for fi, frame in enumerate(self.frames)]
        groups = [(frame, pos) for frame, pos in groups if frame.steps == steps and pos.size]
        if not groups:
            raise InputError("the take has no onsets against a loop of the layer's grid")
        spb = groups[0][0].steps_per_beat
        latency = 0.0
        for _ in range(2):  # first pass: the latency from the on-beats; second: matched with it taken off
            which_all, gaps_all, near_all = [], [], []
            for frame, pos in groups:
                which, gaps, near = match(pos, frame.drum_steps, frame.drum_times, frame.steps, latency=latency)
                which_all.append(np.where(which >= 0, frame.drum_steps[np.maximum(which, 0)], -1))
                gaps_all.append(gaps)
                near_all.append(near)
            fit = fit_take(np.concatenate(which_all), np.concatenate(gaps_all), steps, spb, np.concatenate(near_all))
            latency = fit.centre
        return fit
