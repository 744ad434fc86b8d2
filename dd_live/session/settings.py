"""What the performer can change while playing, as a session keeps it: :class:`LiveSettings` (stored in the
session's settings table under "live") and :func:`grid_settings` (the serve command's tempo, grid and latency over
a session's own)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ..errors import InputError
from ..groove.adapt import DEFAULT_RATE
from ..groove.timing import DEFAULT_A as SONG_A, DEFAULT_B as SONG_B
from ..loops.pattern import Constraints
from .. import GRID, GRID_BEATS, GRID_STEPS

log = logging.getLogger("dd_live.session")


@dataclass(frozen=True)
class LiveSettings:
    """What the performer can change while playing (all from OSC)."""

    bpm: float = 120.0
    mode: str = "lean"             # lean | best | explore (the /dd/set/mode choices)
    fotf: bool = False
    temperature: float = 1.0
    density: float = 0.5
    locks: tuple[bool, ...] = (False,) * GRID.tracks   # one per track: its sound and row kept
    adapt: float = DEFAULT_RATE    # share of the gap to the human closed per take (0: the feel stays)
    autotake: int = 0              # a take ends and the next starts every this many bars (0: by hand)
    own_feel: bool = False         # loops with a feel of their own (accents, ghosts, push, swing): /dd/set/feel
    swing: float | None = None     # every loop's swing (fractions of a step); None: each loop's own
    feel_layer: tuple[float, ...] = ()   # the feel layer takes teach (offset per step): the session's feel table
    latency: float = 0.0           # ms MIDI out plays later (earlier if negative): /dd/set/latency, --latency
    steps: int = GRID.steps        # the grid: steps per bar and beats per bar (serve --steps/--beats; kept
    beats: int = GRID.beats        # with the session, not changed while serving)
    gm: bool = False               # notes by General MIDI family, not Drum Rack pads 36 + track (serve --gm)
    song_a: float = SONG_A         # rolypoly~'s A and B for takes over a song (/dd/set/song/adapt)
    song_b: float = SONG_B

    @property
    def steps_per_beat(self) -> int:
        return self.steps // self.beats

    def constraints(self) -> Constraints:
        return Constraints(fotf=self.fotf, lock_sample=self.locks, lock_row=self.locks)

    def to_dict(self) -> dict:
        return {"bpm": self.bpm, "mode": self.mode, "fotf": self.fotf, "temperature": self.temperature,
                "density": self.density, "locks": list(self.locks), "adapt": self.adapt, "own_feel": self.own_feel,
                "swing": self.swing, "steps": self.steps, "beats": self.beats, "autotake": self.autotake,
                "latency": self.latency, "gm": self.gm, "song_a": self.song_a, "song_b": self.song_b}

    @classmethod
    def from_dict(cls, d: dict) -> LiveSettings:
        base = cls()
        return cls(bpm=float(d.get("bpm", base.bpm)), mode=str(d.get("mode", base.mode)),
                   fotf=bool(d.get("fotf", base.fotf)), temperature=float(d.get("temperature", base.temperature)),
                   density=float(d.get("density", base.density)),
                   locks=tuple(bool(x) for x in d.get("locks", base.locks)),
                   adapt=float(d.get("adapt", base.adapt)),
                   own_feel=bool(d.get("own_feel", d.get("groove", base.own_feel))),   # "groove": sessions before
                   swing=None if d.get("swing") is None else float(d["swing"]),
                   steps=int(d.get("steps", base.steps)), beats=int(d.get("beats", base.beats)),
                   autotake=int(d.get("autotake", base.autotake)), latency=float(d.get("latency", base.latency)),
                   gm=bool(d.get("gm", base.gm)), song_a=float(d.get("song_a", base.song_a)),
                   song_b=float(d.get("song_b", base.song_b)))


def grid_pairs() -> list[tuple[int, int]]:
    """Every grid the daemon plays, (steps, beats): steps from GRID_STEPS that divide into beats from GRID_BEATS."""
    return [(n, b) for n in GRID_STEPS for b in GRID_BEATS if n % b == 0]


def grid_settings(live: LiveSettings, config: dict) -> LiveSettings:
    """``live`` (a session's stored settings) with ``dd-live serve``'s tempo, grid, latency and note map (``bpm``,
    ``steps``, ``beats``, ``latency``, ``gm`` in ``config``; None keeps the session's). A grid whose steps do not divide into its beats is an
    InputError; a fixed swing the new grid cannot play (odd steps per beat) goes back to each loop's own."""
    changes = {k: config.get(k) for k in ("bpm", "steps", "beats", "latency", "gm") if config.get(k) is not None}
    live = replace(live, **changes)
    if live.steps % live.beats:
        pairs = ", ".join(f"{n} with {'/'.join(str(b) for m, b in grid_pairs() if m == n)}" for n in GRID_STEPS)
        raise InputError(f"a grid of {live.steps} steps does not divide into {live.beats} beats (steps go {pairs} "
                         "beats)")
    if live.swing is not None and live.steps_per_beat % 2:
        log.warning("the session's swing %.3g is dropped: %d steps per beat have no odd steps to swing",
                    live.swing, live.steps_per_beat)
        live = replace(live, swing=None)
    return live
