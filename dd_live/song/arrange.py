"""Arranging a drum track for a whole song (issue 16, part 3), as a drummer reading a chart would.

- Sections come from :mod:`.sections`. Each grid the song needs (a 4/4 bar is 16 steps of 4 beats, 3/4 is 12 of
  3, 6/8 and 12/8 are 12 and 24 steps in dotted-quarter beats, 5/4 is 20 of 5, ...) gets one best-mode loop
  from the performer's critic; the first grid chooses the kit and every other grid keeps it (one kit per song).
- Each section label plays that loop thinned to a density that follows the label's intensity: the busiest part
  of the song plays the critic's loop whole, a part half as busy about 70% of its hits (the critic chooses which
  hits go among candidates, off-beats first).
- The fourth bar of every phrase plays a variation (a couple of hits moved; the critic chooses), and a label's
  repeats use a second variation; the bar before every section boundary is a fill (its last beat, or its last
  two when the next section is busier: fill instruments, rising velocity; the critic chooses among candidates);
  the first bar after a boundary has a crash on its downbeat; the song's last sounding bar is an ending (kick
  and crash on the downbeat), after a fill.
- Bars where nothing else sounds stay silent, but for a one-beat lead-in fill at the end of a silence the band
  comes back from; a pickup plays the end of the first fill, a bar cut short by a meter change plays the start
  of its loop (the end of its fill before a boundary).

Units: steps of each bar's own grid; ticks of the song's resolution (floats until written).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError
from ..loops.pattern import MAX_STEPS, Pattern
from .read import Song, intensity
from .sections import Section, find_sections, silent_bars

FILL_CATEGORIES = ("snare", "tom", "clap", "rim")
KICK_CATEGORIES = ("kick",)
CRASH_CATEGORIES = ("crash", "ride", "hat_open")
THINNEST = 0.4          # share of the critic's loop the quietest bar keeps (the busiest keeps it all)
TIERS = 6               # density steps between THINNEST and the whole loop
CANDIDATES = 12         # candidate bars the critic chooses among (thinned loops, variations, fills)
MOVES = 2               # hits a variation moves
FILL_VELOCITY = (80, 122)
CRASH_VELOCITY = 112
ENDING_VELOCITY = 120
BUILD = 0.1             # a next section busier by this (level) gets a two-beat fill


def grid_for(numerator: int, denominator: int) -> tuple[int, int]:
    """(steps, beats) of a pattern for a bar of ``numerator``/``denominator``: sixteenths, beats of the
    denominator, but compound x/8 meters (6/8, 9/8, 12/8) in dotted-quarter beats of six sixteenths."""
    if denominator == 8 and numerator % 3 == 0 and numerator > 3:
        steps, beats = 2 * numerator, numerator // 3
    else:
        per = max(16 // max(denominator, 1), 1)
        steps, beats = numerator * per, numerator
        while steps > MAX_STEPS and per > 1:
            per //= 2
            steps = numerator * per
    if steps > MAX_STEPS:
        raise InputError(f"a bar of {numerator}/{denominator} is longer than a pattern can be ({MAX_STEPS} steps)")
    if beats > 16 or steps % beats:
        beats = 1
    return steps, beats


def bar_levels(song: Song) -> np.ndarray:
    """Per bar, how busy the other parts are, 0-1: the mean of the share of sixteenths with an onset, onsets per
    quarter (4 and more count as 1) and mean velocity / 127; 0 where nothing sounds."""
    i = intensity(song)
    level = (i["steps"] + np.minimum(i["onsets"] / 4.0, 1.0) + i["velocity"] / 127.0) / 3.0
    return np.where(silent_bars(song), 0.0, level)


@dataclass
class BarDrums:
    """What the drums play in one bar: ``loop`` (a key of :attr:`Arrangement.loops`, None in silence), its steps
    [first, last) from the tick ``origin`` at ``step_ticks`` per step, and a crash on the downbeat."""

    index: int
    kind: str               # loop | variation | fill | ending | pickup | cut | lead-in | silence
    section: int
    label: str
    loop: str | None
    crash: bool
    level: float
    origin: float = 0.0
    step_ticks: float = 0.0
    first: int = 0
    last: int = 0


@dataclass
class Arrangement:
    song: Song
    sections: list[Section]
    bars: list[BarDrums]
    loops: dict[str, Pattern]
    kit: tuple[str, ...]          # sample key per track; the crash's last when it has its own track
    crash_track: int | None
    source: str
    notes: list = field(default_factory=list)

    def levels(self) -> np.ndarray:
        """Each bar's intensity level (:func:`bar_levels`), as the arrangement was made with it."""
        return np.array([b.level for b in self.bars], dtype=np.float64)

    def density(self) -> np.ndarray:
        """Drum hits per quarter note in every bar (the crash and hits nudged before the bar line count in the
        bar whose grid they belong to)."""
        counts = np.zeros(len(self.song.bars))
        for bar in self.bars:
            if bar.loop is not None:
                hits = self.loops[bar.loop].hits[:, bar.first:bar.last].sum()
                counts[bar.index] = hits + (bar.crash and self.crash_track is not None)
        quarters = np.array([(b.end - b.start) / self.song.ticks_per_beat for b in self.song.bars])
        return counts / np.maximum(quarters, 1e-9)

    def events(self) -> np.ndarray:
        """Every drum hit: structured (tick float64, track, velocity), in time order; ticks never before 0."""
        rows = []
        for bar in self.bars:
            if bar.loop is None:
                continue
            p = self.loops[bar.loop]
            times = p.step_times()
            for t, s in zip(*np.nonzero(p.hits)):
                if bar.first <= s < bar.last:
                    rows.append((bar.origin + times[t, s] * bar.step_ticks, int(t), int(p.velocities[t, s])))
            if bar.crash and self.crash_track is not None:
                rows.append((float(self.song.bars[bar.index].start), self.crash_track, CRASH_VELOCITY))
        out = np.array(rows, dtype=[("tick", np.float64), ("track", np.int16), ("velocity", np.int16)])
        out["tick"] = np.maximum(out["tick"], 0.0)
        return np.sort(out, order=("tick", "track"))


class _Parts:
    """The song's loops, made on demand and kept by key; every question about taste goes to ``taste``."""

    def __init__(self, taste, library, categories: list[str]) -> None:
        self.taste, self.library, self.rng = taste, library, taste.rng
        self.loops: dict[str, Pattern] = {}
        self.kit: np.ndarray | None = None
        self.categories = categories

    def base(self, grid: tuple[int, int]) -> Pattern:
        p = self.taste.best_loop(grid[0], grid[1], self.kit)
        if self.kit is None:
            self.kit = self.library.indices(p.samples)
        return p

    def tracks_of(self, p: Pattern, wanted: tuple[str, ...]) -> np.ndarray:
        cats = [self.library.samples[i].category for i in self.library.indices(p.samples)]
        return np.array([c in wanted for c in cats], dtype=bool)

    def pick(self, cands: list[Pattern]) -> Pattern:
        hits = np.stack([c.hits for c in cands])
        idx = np.stack([self.library.indices(c.samples) for c in cands])
        return cands[self.taste.choose(hits, idx, cands[0].beats)]

    def main(self, label: str, grid: tuple[int, int], tier: int, top: int) -> str:
        """The label's loop at density tier ``tier`` (of TIERS; ``top``: the label's busiest tier, the loop the
        others are thinned from, so that every tier of a label plays one groove)."""
        key = f"{label}-{grid[0]}x{grid[1]}-t{tier}"
        if key not in self.loops:
            full = self.base(grid) if tier == top else self.loops[self.main(label, grid, top, top)]
            keep = max(1, int(round(self.base(grid).hits.sum() * _share(tier))))
            self.loops[key] = self.pick([_thin(full, keep, self.rng) for _ in range(CANDIDATES)]) \
                if keep < full.hits.sum() else full
        return key

    def variation(self, main: str, which: int) -> str:
        key = f"{main}-var{which}"
        if key not in self.loops:
            self.loops[key] = self.pick([_move(self.loops[main], MOVES, self.rng) for _ in range(CANDIDATES)])
        return key

    def fill(self, main: str, beats: int) -> str:
        key = f"{main}-fill{beats}"
        if key not in self.loops:
            p = self.loops[main]
            tracks = self.tracks_of(p, FILL_CATEGORIES)
            kick = self.tracks_of(p, KICK_CATEGORIES)
            if not tracks.any():
                tracks = ~kick if (~kick).any() else np.ones(p.tracks, dtype=bool)
            region = min(beats, p.beats) * p.steps_per_beat
            self.loops[key] = self.pick([_fill(p, tracks, kick, region, self.rng) for _ in range(CANDIDATES)])
        return key

    def ending(self, grid: tuple[int, int]) -> str:
        key = f"ending-{grid[0]}x{grid[1]}"
        if key not in self.loops:
            p = self.base(grid)
            kick = self.tracks_of(p, KICK_CATEGORIES)
            hits = np.zeros_like(p.hits)
            hits[int(np.argmax(kick)) if kick.any() else 0, 0] = True
            self.loops[key] = Pattern(hits=hits, samples=p.samples, velocities=np.full(hits.shape, ENDING_VELOCITY),
                                      beats=p.beats)
        return key


def _share(tier: int) -> float:
    """Share of the critic's loop a bar of density ``tier`` (0 to TIERS) keeps."""
    return THINNEST + (1.0 - THINNEST) * tier / TIERS


def tiers(level: np.ndarray, section_of: np.ndarray, sections: list[Section]) -> np.ndarray:
    """Each bar's density tier: its own level and its section's mean level, half each, against the song's
    busiest bar, in TIERS steps (the busiest bar plays the critic's loop whole)."""
    sec_mean = np.array([level[s.start:s.end].mean() for s in sections])[section_of]
    mixed = 0.5 * level + 0.5 * sec_mean
    top = mixed.max() if mixed.size else 0.0
    return np.rint(TIERS * (mixed / top if top > 0 else np.ones_like(mixed))).astype(np.int64)


def _thin(p: Pattern, keep: int, rng: np.random.Generator) -> Pattern:
    """``p`` with only ``keep`` of its hits, off-beat hits the likeliest to go, the downbeat the least."""
    cells = np.argwhere(p.hits)
    spb = p.steps_per_beat
    weight = np.where(cells[:, 1] == 0, 0.1, np.where(cells[:, 1] % spb == 0, 0.4, 1.0))
    gone = rng.choice(len(cells), size=len(cells) - keep, replace=False, p=weight / weight.sum())
    hits = p.hits.copy()
    hits[cells[gone, 0], cells[gone, 1]] = False
    return replace(p, hits=hits, extra={})


def _move(p: Pattern, moves: int, rng: np.random.Generator) -> Pattern:
    """``p`` with ``moves`` hits moved to an empty step of their own track (density kept)."""
    hits, vel = p.hits.copy(), p.velocities.copy()
    for _ in range(moves):
        cells = np.argwhere(hits)
        if not len(cells):
            break
        t, s = cells[rng.integers(len(cells))]
        empty = np.flatnonzero(~hits[t])
        if not empty.size:
            continue
        to = int(rng.choice(empty))
        hits[t, s], hits[t, to], vel[t, to] = False, True, vel[t, s]
    return replace(p, hits=hits, velocities=vel, offsets=np.where(hits & p.hits, p.offsets, 0.0), extra={})


def _fill(p: Pattern, tracks: np.ndarray, kick: np.ndarray, region: int, rng: np.random.Generator) -> Pattern:
    """``p`` whose last ``region`` steps are a fill: fill tracks at rising velocity, at least every other step;
    kick hits on beats kept, everything else there cleared."""
    hits, vel, off = p.hits.copy(), p.velocities.astype(np.int64), p.offsets.copy()
    a = p.steps - region
    keep_kick = kick[:, None] & hits[:, a:] & (np.arange(a, p.steps) % p.steps_per_beat == 0)[None, :]
    hits[:, a:] = keep_kick
    off[:, a:] = 0.0
    rate = rng.uniform(0.5, 1.0)
    fill_rows = np.flatnonzero(tracks)
    played = rng.random(region) < rate
    played[::2] |= played.sum() < (region + 1) // 2
    lo, hi = FILL_VELOCITY
    ramp = np.rint(lo + (hi - lo) * (np.arange(region) + 1) / region).astype(np.int64)
    for k in np.flatnonzero(played):
        t = int(rng.choice(fill_rows))
        hits[t, a + k], vel[t, a + k] = True, ramp[k]
    # a fill is never thinner than what it replaces: more fill hits (doubled voices) until it is as busy
    free = np.argwhere(~hits[:, a:] & tracks[:, None])
    more = max(0, int(p.hits[:, a:].sum() - hits[:, a:].sum()))
    for t, k in free[rng.permutation(len(free))[:more]]:
        hits[t, a + k], vel[t, a + k] = True, ramp[k]
    return replace(p, hits=hits, velocities=np.clip(vel, 1, 127), offsets=off, extra={})


def arrange(song: Song, taste, *, progress=None, check=None) -> Arrangement:
    """The drum track for ``song`` in ``taste`` (:class:`dd_live.song.taste.Taste`). ``check()`` is called before
    each bar (it raises to end the job: a time limit, a cancel). ``progress(done, total)``
    is called after each section."""
    if not song.bars:
        raise InputError(f"{song.path.name}: the song has no bars (no notes and no length)")
    library = taste.library
    sections = find_sections(song)
    level = bar_levels(song)
    section_of = np.zeros(len(song.bars), dtype=np.int64)
    for k, s in enumerate(sections):
        section_of[s.start:s.end] = k
    grids = [grid_for(b.numerator, b.denominator) for b in song.bars]
    parts = _Parts(taste, library, [])
    complete = [g for g, b in zip(grids, song.bars) if b.complete] or grids
    parts.base(max(set(complete), key=complete.count))          # the commonest grid chooses the kit
    tier = tiers(level, section_of, sections)
    top: dict[str, int] = {}
    for s in sections:
        top[s.label] = max(top.get(s.label, 0), int(tier[s.start:s.end].max()))
    sounding = np.flatnonzero(level > 0)
    last_sounding = int(sounding[-1]) if sounding.size else -1
    seen: dict[str, int] = {}
    bars: list[BarDrums] = []
    for k, sec in enumerate(sections):
        occurrence = seen.get(sec.label, 0)
        seen[sec.label] = occurrence + 1
        nxt = sections[k + 1] if k + 1 < len(sections) else None
        for i in range(sec.start, sec.end):
            if check is not None:
                check()
            bar = song.bars[i]
            steps, beats = grids[i]
            step_ticks = bar.full_ticks / steps
            d = BarDrums(i, "silence", k, sec.label, None, False, float(level[i]), float(bar.start), step_ticks,
                         0, steps)
            bars.append(d)
            if i > last_sounding:              # after the ending (a last chord ringing on): silence
                continue
            if sec.label == "silence":
                if i == sec.end - 1 and nxt is not None and nxt.start <= last_sounding:
                    # the last silent bar before the band comes back: a one-beat lead-in fill, in the grid of
                    # the bar it leads into, ending at this bar's end
                    grid = grids[nxt.start]
                    ticks = song.bars[nxt.start].full_ticks / grid[0]
                    n = min(grid[0] // grid[1], int((bar.end - bar.start) / ticks + 1e-9))   # a beat, if it fits
                    if n >= 1:
                        lead = parts.main(nxt.label, grid, int(tier[nxt.start]), top[nxt.label])
                        d.kind, d.loop, d.first, d.last = "lead-in", parts.fill(lead, 1), grid[0] - n, grid[0]
                        d.step_ticks, d.origin = ticks, bar.end - grid[0] * ticks
                continue
            d.crash = i == sec.start and k > 0
            if i == last_sounding:
                d.kind, d.loop = "ending", parts.ending((steps, beats))
                continue
            if i == 0 and song.pickup:     # a pickup: the end of the fill into the first full bar's loop
                steps, beats = grids[1]
                d.step_ticks = song.bars[1].full_ticks / steps
                n = max(1, min(steps, int(round((bar.end - bar.start) / d.step_ticks))))
                lab = sections[section_of[1]].label
                lab = sec.label if lab == "silence" else lab
                lead = parts.main(lab, (steps, beats), int(tier[1]), max(top[lab], int(tier[1])))
                d.kind, d.loop, d.first, d.last = "pickup", parts.fill(lead, beats), steps - n, steps
                d.origin = bar.end - steps * d.step_ticks
                continue
            main = parts.main(sec.label, (steps, beats), int(tier[i]), top[sec.label])
            if not bar.complete:               # cut short by a meter change: the start of its loop, or the end
                n = max(1, min(steps, int(round((bar.end - bar.start) / step_ticks))))   # of a fill before a boundary
                if i == sec.end - 1 and nxt is not None:
                    d.kind, d.loop, d.first = "fill", parts.fill(main, 1), steps - n
                    d.origin = bar.end - steps * step_ticks
                else:
                    d.kind, d.loop, d.last = "cut", main, n
            elif (i == sec.end - 1 and nxt is not None) or i == last_sounding - 1:
                busier = nxt is not None and nxt.label != "silence" and \
                    level[nxt.start:nxt.end].mean() > level[sec.start:sec.end].mean() + BUILD
                d.kind, d.loop = "fill", parts.fill(main, 2 if busier and beats >= 4 else 1)
            elif (i - sec.start) % 4 == 3:
                d.kind, d.loop = "variation", parts.variation(main, occurrence % 2)
            else:
                d.kind, d.loop = "loop", main if occurrence % 2 == 0 or (i - sec.start) % 2 == 0 \
                    else parts.variation(main, 1)
        if progress is not None:
            progress(k + 1, len(sections))
    return _finish(song, sections, bars, parts, taste)


def _finish(song: Song, sections, bars: list[BarDrums], parts: _Parts, taste) -> Arrangement:
    """Apply the session's feel layer to every loop and give the crash its own track when the library has one."""
    from ..groove.feel import apply

    library = taste.library
    crash = next((int(ix[0]) for c in CRASH_CATEGORIES if (ix := library.in_category(c)).size), None)
    loops = {}
    for key, p in parts.loops.items():
        p = apply(p, taste.feel) if taste.feel else p
        if crash is not None:
            t = p.tracks
            p = Pattern(hits=np.vstack([p.hits, np.zeros((1, p.steps), dtype=bool)]),
                        samples=p.samples + (library.keys([crash])[0],),
                        velocities=np.vstack([p.velocities, np.full((1, p.steps), CRASH_VELOCITY)]),
                        offsets=np.vstack([p.offsets, np.zeros((1, p.steps))]), swing=p.swing, beats=p.beats)
            assert p.tracks == t + 1
        loops[key] = p
    kit = next(iter(loops.values())).samples if loops else ()
    crash_track = len(kit) - 1 if crash is not None and kit else None
    return Arrangement(song, sections, bars, loops, kit, crash_track, taste.source)
