"""A simulated human playing along with the drums, for the feel tests and ``dd-live bench feel``.

The human means to play each of the drums' steps at a *score* position (the grid, plus their own swing on
off-beat sixteenths, or any per-step offsets), is pulled part of the way towards where the drums actually
sounded, and adds jitter (Gaussian, ms) and a constant latency (ms). Deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..groove.adapt import DEFAULT_RATE, adapt, circular
from ..groove.feel import Frame, Take, apply, flat
from ..loops.pattern import Pattern
from .. import GRID


@dataclass
class Human:
    """``swing``: how late (steps) the human plays odd steps (off-beat 16ths in a 16-step bar); ``offsets``:
    other intended offsets by step (steps), added to the swing; ``pull``: share of the way towards the drum."""

    swing: float = 0.0
    offsets: dict[int, float] = field(default_factory=dict)
    pull: float = 0.3
    jitter_ms: float = 4.0
    latency_ms: float = 12.0
    seed: int = 0

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def intended(self, step: int) -> float:
        """Where the human means to play ``step``, relative to the grid (steps)."""
        return (self.swing if step % 2 == 1 else 0.0) + self.offsets.get(int(step), 0.0)

    def play(self, frame: Frame, *, bars: int, bpm: float) -> np.ndarray:
        """Onset positions (steps from the bar line, wrapped into the bar) for ``bars`` bars of ``frame``."""
        step_s = 60.0 / bpm * frame.steps_per_beat ** -1
        drum = frame.drum_times - frame.drum_steps          # the drums' realised offsets (steps)
        aim = np.array([self.intended(s) for s in frame.drum_steps])
        out = []
        for _ in range(bars):
            noise = self.rng.normal(0.0, self.jitter_ms / 1000.0 / step_s, size=aim.size)
            at = frame.drum_steps + (1 - self.pull) * aim + self.pull * drum + noise + self.latency_ms / 1000.0 / step_s
            out.append(at % frame.steps)
        return np.concatenate(out) if out else np.zeros(0)


def run_takes(human: Human, pattern: Pattern, *, takes: int = 3, bars: int = 4, bpm: float = 120.0,
              rate: float = DEFAULT_RATE, layer: np.ndarray | None = None) -> list[dict]:
    """Play ``takes`` takes of ``bars`` bars against ``pattern``, adapting the layer after each. Returns per take
    the layer after it and the take's fit (mean gaps are those heard during the take)."""
    layer = flat(pattern.steps) if layer is None else np.array(layer, dtype=np.float64)
    out = []
    for _ in range(takes):
        frame = Frame.of(apply(pattern, layer))
        take = Take()
        for pos in human.play(frame, bars=bars, bpm=bpm):
            take.add(frame, float(pos))
        fit = take.fit(pattern.steps)
        layer = adapt(layer, fit, rate=rate, steps_per_beat=pattern.steps_per_beat)
        out.append({"layer": layer.copy(), "fit": fit})
    return out


def frame_from_notes(cells: list[int], notes: list, *, tracks: int, beats: int = GRID.beats) -> Frame:
    """The drums as a front end hears them: /dd/grid's cells (which steps play) and /dd/notes' (pitch, beat,
    velocity) triples (where they sound). Each note belongs to the nearest grid step that plays."""
    hits = np.asarray(cells, dtype=np.int64).reshape(tracks, -1) > 0
    steps = hits.shape[1]
    cols = np.flatnonzero(hits.any(axis=0))
    at = np.asarray(notes[1::3], dtype=np.float64) * steps / beats           # note positions, steps
    d = circular(at[:, None] - cols[None, :], steps)
    owner = np.argmin(np.abs(d), axis=1)
    times = np.array([np.mean(cols[k] + d[owner == k, k]) for k in range(cols.size)])
    return Frame(steps, steps // beats, cols.astype(np.int64), times)


def play_takes_osc(client, human: Human, *, takes: int = 3, bars: int = 4, bpm: float = 120.0, beats: int = GRID.beats,
                   timeout: float = 30.0) -> list[dict]:
    """Play ``takes`` takes of ``bars`` bars along with a running daemon's current loop, over OSC only: the
    loop read back from /dd/grid and /dd/notes, each onset sent as /dd/onset with its beat, the take ended with
    /dd/take/end. Returns per take the layer after it (/dd/feel), /dd/take's figures and the drums heard."""
    client.drain(0.1)
    client.send("/dd/feel")
    prev = np.asarray(client.wait("/dd/feel", timeout), dtype=np.float64)
    client.send("/dd/hello")
    cid = client.wait("/dd/candidate", timeout)[0]
    cells = client.wait("/dd/grid", timeout, where=lambda a: a[0] == cid)[1:]
    notes = client.wait("/dd/notes", timeout, where=lambda a: a[0] == cid)[1:]
    names = client.wait("/dd/samples", timeout, where=lambda a: a[0] == cid)[1:]
    out = []
    for _ in range(takes):
        frame = frame_from_notes(cells, notes, tracks=len(names), beats=beats)
        client.send("/dd/take/start")
        for pos in human.play(frame, bars=bars, bpm=bpm):
            beat = float(pos) * beats / frame.steps
            client.send("/dd/onset", beat if beat < beats else 0.0)
        client.drop("/dd/notes")
        client.send("/dd/take/end")
        take = client.wait("/dd/take", timeout)
        layer = np.asarray(client.wait("/dd/feel", timeout), dtype=np.float64)
        out.append({"layer": layer, "take": take, "frame": frame})
        if not np.allclose(layer, prev):  # the loop is announced again, rendered with the new feel
            notes = client.wait("/dd/notes", timeout, where=lambda a: a[0] == cid)[1:]
        prev = layer
    return out
