"""Drum parts of MIDI files as the drum prior learns them (:mod:`dd_live.loops.prior`): each complete bar that
has drums becomes, per role, which of its positions (RESOLUTION a beat, in the beats song mode counts for its
meter) hold a hit, and how hard. Channel 10 only, General MIDI notes (:func:`dd_live.loops.gm.role_of_note`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..loops.gm import role_of_note
from ..loops.prior import RESOLUTION
from ..sound.roles import ROLES
from .arrange import grid_for
from .read import DRUM_CHANNEL, read_song

log = logging.getLogger("dd_live.song")
MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
_ROLE_INDEX = {n: ROLES.index(role_of_note(n)) for n in range(128)}


@dataclass
class DrumBars:
    """Bars of drums by meter grid: (steps, beats) -> list of (hits, velocities), each (roles, beats x
    RESOLUTION); and how many files gave bars, and the files that gave none and why."""

    grids: dict[tuple[int, int], list[tuple[np.ndarray, np.ndarray, str]]] = field(default_factory=dict)
    files: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def bars(self) -> int:
        return sum(len(v) for v in self.grids.values())

    def add(self, grid: tuple[int, int], hits: np.ndarray, vel: np.ndarray, origin: str) -> None:
        """A bar of ``grid`` from ``origin`` (the file or groove it came from)."""
        self.grids.setdefault(grid, []).append((hits, vel, origin))

    def arrays(self, *, min_origins: int = 1) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
        """Per grid whose bars come from at least ``min_origins`` files or grooves, the bars stacked: (hits
        (bars, roles, positions) bool, velocities)."""
        return {g: (np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]))
                for g, rows in self.grids.items() if len({r[2] for r in rows}) >= min_origins}


def bar_rows(notes: np.ndarray, start: float, end: float, numerator: int, denominator: int
             ) -> tuple[tuple[int, int], np.ndarray, np.ndarray] | None:
    """One bar [start, end) ticks of ``numerator``/``denominator`` from drum ``notes`` (fields tick, pitch,
    velocity): its grid and (hits, velocities) per role and position, each note at its nearest position (a note
    just before the bar line belongs to the next bar's downbeat). None if the bar has no drums."""
    try:
        steps, beats = grid_for(numerator, denominator)
    except InputError:
        return None
    positions = beats * RESOLUTION
    span = (end - start) / positions
    sel = (notes["tick"] >= start - span / 2) & (notes["tick"] < end - span / 2) & (notes["velocity"] > 0)
    if not sel.any():
        return None
    pos = np.floor((notes["tick"][sel] - start) / span + 0.5).astype(int).clip(0, positions - 1)
    role = np.array([_ROLE_INDEX[int(n) & 127] for n in notes["pitch"][sel]], dtype=int)
    hits = np.zeros((len(ROLES), positions), dtype=bool)
    vel = np.zeros((len(ROLES), positions), dtype=np.uint8)
    hits[role, pos] = True
    np.maximum.at(vel, (role, pos), notes["velocity"][sel].astype(np.uint8))
    return (steps, beats), hits, vel


def song_bars(path: Path, into: DrumBars) -> int:
    """Add the complete drum bars of the MIDI file at ``path`` to ``into``; returns how many."""
    song = read_song(path)
    drums = song.notes[song.notes["channel"] == DRUM_CHANNEL]
    n = 0
    for bar in song.bars:
        if not bar.complete:
            continue
        row = bar_rows(drums, bar.start, bar.end, bar.numerator, bar.denominator)
        if row is not None:
            into.add(*row, str(path))
            n += 1
    return n


def folder_bars(paths: Iterable[Path], into: DrumBars | None = None) -> DrumBars:
    """The drum bars of MIDI files: each path a file or a folder searched for MIDI files (recursively); a file
    that cannot be read, or has no drums on channel 10, is skipped with its reason."""
    into = into or DrumBars()
    files: list[Path] = []
    for p in paths:
        p = Path(p).expanduser()
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in MIDI_SUFFIXES and f.is_file())
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    for f in files:
        try:
            n = song_bars(f, into)
        except InputError as err:
            into.skipped.append(str(err))
            continue
        if n:
            into.files += 1
        else:
            into.skipped.append(f"{f}: no complete bar of drums on channel 10")
    return into


def performer_prior(patterns: Sequence[str | Path] = (), *, seed: int = 0):
    """The drum prior new loops come from: the shipped one, shaped by the drum MIDI files in ``patterns``
    (:meth:`dd_live.loops.prior.DrumPrior.blend`). InputError in one line when those hold no usable drum part."""
    from ..loops.prior import DrumPrior, fit_prior, load_prior

    prior = load_prior()
    if not patterns:
        return prior
    bars = folder_bars([Path(f) for f in patterns])
    where = ", ".join(map(str, patterns))
    if bars.bars == 0:
        why = f" ({bars.skipped[0]}{' ...' if len(bars.skipped) > 1 else ''})" if bars.skipped else ""
        raise InputError(f"--patterns {where}: no usable drum part (complete bars of channel-10 MIDI){why}")
    for line in bars.skipped:
        log.info("patterns: skipped %s", line)
    doc = fit_prior(bars.arrays(), [{"name": "patterns", "what": where, "files": bars.files, "bars": bars.bars}],
                    seed=seed, min_bars=1, whole=False)
    return prior.blend(DrumPrior(doc, name=where, whole=False))
