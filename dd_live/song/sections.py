"""Finding a song's sections from its bars (issue 16, part 3).

Every bar becomes a vector of what the other parts do in it (per channel: note onsets per quarter and the
share of the bar a note sounds; overall: velocity, bass onsets, steps played), each feature scaled by its
spread over the song. Sections are then the optimal piecewise-constant split of that sequence (dynamic
programming over every possible set of boundaries): each section costs its squared distance to its own
mean plus a fixed price, so a boundary is placed only where it explains more change than it costs.
Sections whose length is not a whole number of 4-bar phrases cost a little more (songs are built of 4- and
8-bar phrases), and a section never crosses a tempo or meter change (those bars always start one).

Labels: sections whose means lie close together share a letter (A, B, A, C, ...), and bars where nothing
sounds are their own sections, labelled ``silence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .read import DRUM_CHANNEL, Song, intensity

PRICE = 1.0            # a section's fixed cost, per feature dimension (chosen on half of mma's families, see README)
PHRASE = 4             # bars in a phrase
OFF_PHRASE = 1.0       # extra cost of a section that is not whole 4-bar phrases, as a share of PRICE
SAME = 1.0             # sections whose means differ by less than this (per dimension, squared) share a label
TEMPO_JUMP = 0.05      # a bar whose tempo differs from the previous bar's by more than this share starts a section
MIN_BARS = 2           # shortest section, unless forced by tempo, meter or silence


@dataclass(frozen=True)
class Section:
    """Bars [start, end) of the song, and its label ('A', 'B', ... or 'silence')."""

    start: int
    end: int
    label: str

    @property
    def bars(self) -> int:
        return self.end - self.start


def bar_features(song: Song) -> np.ndarray:
    """Per bar (rows) what the other parts do: per non-drum channel onsets per quarter and the share of the bar
    sounding, then the song-wide velocity/127, bass onsets and share of steps (see :func:`intensity`)."""
    n = len(song.bars)
    notes = song.others()
    channels = sorted({int(c) for c in notes["channel"]} - {DRUM_CHANNEL})
    starts = np.array([b.start for b in song.bars], dtype=np.int64)
    ends = np.array([b.end for b in song.bars], dtype=np.int64)
    quarters = np.maximum((ends - starts) / song.ticks_per_beat, 1e-9)
    cols = []
    for c in channels:
        mine = notes[notes["channel"] == c]
        which = np.clip(np.searchsorted(starts, mine["tick"], side="right") - 1, 0, max(n - 1, 0))
        onsets = np.zeros(n)
        for i in range(n):
            onsets[i] = len(np.unique(mine["tick"][which == i]))
        cols.append(onsets / quarters)
        cols.append(_sounding(mine, starts, ends))
    inten = intensity(song)
    cols += [inten["velocity"] / 127.0, inten["bass"], inten["steps"]]
    return np.stack(cols, axis=1) if n else np.zeros((0, len(cols)))


def _sounding(notes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Share of each bar during which at least one of ``notes`` sounds."""
    out = np.zeros(len(starts))
    if not notes.size:
        return out
    # merge the notes into sounding intervals, then clip them to each bar
    order = np.argsort(notes["tick"])
    merged: list[list[int]] = []
    for t0, t1 in zip(notes["tick"][order], notes["end"][order]):
        if merged and t0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], int(t1))
        else:
            merged.append([int(t0), int(t1)])
    iv = np.array(merged, dtype=np.int64)
    for i, (s, e) in enumerate(zip(starts, ends)):
        over = np.clip(np.minimum(iv[:, 1], e) - np.maximum(iv[:, 0], s), 0, None)
        out[i] = over.sum() / max(e - s, 1)
    return out


def forced_starts(song: Song) -> set[int]:
    """Bars that must start a section: the first, every meter change, every tempo jump, and the first full bar
    after a pickup."""
    out = {0}
    for i in range(1, len(song.bars)):
        a, b = song.bars[i - 1], song.bars[i]
        if (a.numerator, a.denominator, a.full_ticks) != (b.numerator, b.denominator, b.full_ticks) or not b.complete:
            out.add(i)
        if not a.complete:
            out.add(i)
        if abs(b.bpm - a.bpm) > TEMPO_JUMP * a.bpm:
            out.add(i)
    return out


def silent_bars(song: Song) -> np.ndarray:
    """Bars where no other part sounds at all (no note starts or holds)."""
    x = np.zeros(len(song.bars), dtype=bool)
    notes = song.others()
    starts = np.array([b.start for b in song.bars], dtype=np.int64)
    ends = np.array([b.end for b in song.bars], dtype=np.int64)
    return _sounding(notes, starts, ends) == 0 if len(song.bars) else x


def find_sections(song: Song, *, price: float = PRICE, off_phrase: float = OFF_PHRASE,
                  same: float = SAME) -> list[Section]:
    """The song's sections, covering every bar in order (see the module's docstring)."""
    n = len(song.bars)
    if n == 0:
        return []
    feats = bar_features(song)
    scale = feats.std(axis=0)
    keep = scale > 1e-9
    x = feats[:, keep] / scale[keep] if keep.any() else np.zeros((n, 1))
    d = x.shape[1]
    silent = silent_bars(song)
    forced = forced_starts(song)
    for i in range(1, n):   # the edges of silent stretches are boundaries too
        if silent[i] != silent[i - 1]:
            forced.add(i)
    bounds = _segment(x, forced, price * d, off_phrase * price * d, first_full=1 if song.pickup else 0)
    return _label(x, bounds, silent, same * d)


def _segment(x: np.ndarray, forced: set[int], price: float, off_phrase: float, *, first_full: int) -> list[int]:
    """Boundaries 0 = b0 < b1 < ... < bk = n minimising the sum over sections of squared deviation from the
    section mean + ``price`` (+ ``off_phrase`` unless a whole number of phrases), never crossing a forced start."""
    n = len(x)
    c1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    c2 = np.concatenate([[0.0], np.cumsum((x * x).sum(axis=1))])
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=np.int64)
    forced_sorted = sorted(forced)
    for j in range(1, n + 1):
        # a section ending at j may start no earlier than the last forced start before j
        lo = max((f for f in forced_sorted if f < j), default=0)
        i = np.arange(lo, j)
        length = (j - i).astype(np.float64)
        s = c1[j] - c1[i]
        sse = (c2[j] - c2[i]) - (s * s).sum(axis=1) / length
        cost = best[i] + np.maximum(sse, 0.0) + price
        cost = cost + off_phrase * ((j - i) % PHRASE != 0)
        # sections shorter than MIN_BARS only where forced starts or the song's end leave no choice
        short = (j - i) < MIN_BARS
        allowed = ~short | (np.isin(i, forced_sorted) & (j == n or j in forced))
        cost = np.where(allowed, cost, np.inf)
        k = int(np.argmin(cost))
        best[j], back[j] = cost[k], i[k]
    out = [n]
    while out[-1] > 0:
        out.append(int(back[out[-1]]))
    return out[::-1]


def _label(x: np.ndarray, bounds: list[int], silent: np.ndarray, same: float) -> list[Section]:
    means: list[np.ndarray] = []
    names: list[str] = []
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if silent[a:b].all():
            out.append(Section(a, b, "silence"))
            continue
        m = x[a:b].mean(axis=0)
        dist = [float(((m - o) ** 2).sum()) for o in means]
        if dist and min(dist) < same:
            label = names[int(np.argmin(dist))]
        else:
            label = _letters(len(set(names)))
            means.append(m)
            names.append(label)
        out.append(Section(a, b, label))
    return out


def _letters(k: int) -> str:
    """A, B, ..., Z, AA, AB, ..."""
    s = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        s = chr(65 + r) + s
    return s
