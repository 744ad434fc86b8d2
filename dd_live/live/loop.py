"""Loops as the daemon handles them: the performer's live settings, where a candidate's files go, the
critic's 120 bpm bar, and the clean-up of old candidates (the loop record is :mod:`dd_live.loops.record`)."""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..errors import InputError
from ..groove.adapt import DEFAULT_RATE
from ..groove.feel import apply
from ..loops.export import write_loop_files
from ..loops.pattern import Constraints, Pattern
from ..loops.render import render_reference

log = logging.getLogger("dd_live.workers")

KEEP_FILES = 32         # unrated candidates' folders kept behind the newest id
#: bytes the candidates' audio may take on disk (a candidate's is about 1.3 MB): beyond, the oldest goes first
CANDIDATE_BUDGET = 256 * 2 ** 20
#: bytes kept free on the session's disk for what matters more than loops ahead: ratings, the critic's checkpoint
DISK_RESERVE = 16 * 2 ** 20


@dataclass(frozen=True)
class LiveSettings:
    """What the performer can change while playing (all from OSC)."""

    bpm: float = 120.0
    mode: str = "lean"             # lean | best | explore (the /dd/set/mode choices)
    fotf: bool = False
    temperature: float = 1.0
    density: float = 0.5
    locks: tuple[bool, ...] = (False, False, False, False)
    adapt: float = DEFAULT_RATE    # share of the gap to the human closed per take (0: the feel stays)
    autotake: int = 0              # a take ends and the next starts every this many bars (0: by hand)
    groove: bool = False           # loops with their own feel (accents, ghosts, push, swing) searched for
    swing: float | None = None     # every loop's swing (fractions of a step); None: each loop's own
    feel: tuple[float, ...] = ()   # the feel layer (offset per step); kept in the session's feel table
    latency: float = 0.0           # ms MIDI out plays later (earlier if negative): /dd/set/latency, --latency
    steps: int = 16                # the grid: steps per bar and beats per bar (serve --steps/--beats; kept
    beats: int = 4                 # with the session, not changed while serving)

    @property
    def steps_per_beat(self) -> int:
        return self.steps // self.beats

    def constraints(self) -> Constraints:
        return Constraints(fotf=self.fotf, lock_sample=self.locks, lock_row=self.locks)

    def to_dict(self) -> dict:
        return {"bpm": self.bpm, "mode": self.mode, "fotf": self.fotf, "temperature": self.temperature,
                "density": self.density, "locks": list(self.locks), "adapt": self.adapt, "groove": self.groove,
                "swing": self.swing, "steps": self.steps, "beats": self.beats, "autotake": self.autotake,
                "latency": self.latency}

    @classmethod
    def from_dict(cls, d: dict) -> LiveSettings:
        base = cls()
        return cls(bpm=float(d.get("bpm", base.bpm)), mode=str(d.get("mode", base.mode)),
                   fotf=bool(d.get("fotf", base.fotf)), temperature=float(d.get("temperature", base.temperature)),
                   density=float(d.get("density", base.density)),
                   locks=tuple(bool(x) for x in d.get("locks", base.locks)),
                   adapt=float(d.get("adapt", base.adapt)), groove=bool(d.get("groove", base.groove)),
                   swing=None if d.get("swing") is None else float(d["swing"]),
                   steps=int(d.get("steps", base.steps)), beats=int(d.get("beats", base.beats)),
                   autotake=int(d.get("autotake", base.autotake)), latency=float(d.get("latency", base.latency)))


def grid_settings(live: LiveSettings, config: dict) -> LiveSettings:
    """``live`` (a session's stored settings) with ``dd-live serve``'s tempo, grid and latency (``bpm``,
    ``steps``, ``beats``, ``latency`` in ``config``; None keeps the session's). A grid whose steps do not divide into its beats is an
    InputError; a fixed swing the new grid cannot play (odd steps per beat) goes back to each loop's own."""
    changes = {k: config.get(k) for k in ("bpm", "steps", "beats", "latency") if config.get(k) is not None}
    live = replace(live, **changes)
    if live.steps % live.beats:
        raise InputError(f"a grid of {live.steps} steps does not divide into {live.beats} beats "
                         "(--steps 12 goes with 3, 4 or 6 beats, 16 with 4, 24 with 3, 4 or 6)")
    if live.swing is not None and live.steps_per_beat % 2:
        log.warning("the session's swing %.3g is dropped: %d steps per beat have no odd steps to swing",
                    live.swing, live.steps_per_beat)
        live = replace(live, swing=None)
    return live


def bpm_tag(bpm: float) -> str:
    return f"{bpm:.3f}".rstrip("0").rstrip(".")


def write_candidate_files(folder: Path, pattern: Pattern, library, bpm: float, pitches: list[int],
                          feel: tuple[float, ...] = ()) -> tuple[dict[str, Path], np.ndarray]:
    """A candidate's loop_<bpm>.wav, preview_<bpm>.wav and loop_<bpm>.mid (one bar) in ``folder``, played
    with the feel layer ``feel`` (offset per step); returns the paths and the bar at ``bpm``. Files of tempos
    before the last KEEP_TEMPOS are removed (a front end may still be loading the one before)."""
    out = write_loop_files(folder, apply(pattern, feel), library, bpm=bpm, pitches=pitches, suffix=f"_{bpm_tag(bpm)}")
    prune_tempos(folder, keep=KEEP_TEMPOS)
    return out


KEEP_TEMPOS = 2   # tempos whose files a candidate's folder keeps (the newest written)
_TEMPO_FILE = re.compile(r"^(?:loop|preview)_([0-9.]+)\.(?:wav|mid)$")


def prune_tempos(folder: Path, *, keep: int = KEEP_TEMPOS) -> int:
    """Remove the loop files of all but the ``keep`` tempos written last in ``folder``; returns files removed."""
    by_tag: dict[str, list[Path]] = {}
    for f in folder.iterdir():
        m = _TEMPO_FILE.match(f.name)
        if m is not None:
            by_tag.setdefault(m.group(1), []).append(f)

    def newest(files: list[Path]) -> float:
        try:
            return max(f.stat().st_mtime_ns for f in files)
        except OSError:
            return 0.0

    removed = 0
    for tag in sorted(by_tag, key=lambda t: newest(by_tag[t]), reverse=True)[keep:]:
        for f in by_tag[tag]:
            f.unlink(missing_ok=True)
            removed += 1
    return removed


def reference_audio(session, library, cid: int) -> np.ndarray:
    """The 120 bpm bar the critic hears for candidate ``cid``: critic.wav, else rendered from its pattern."""
    import soundfile as sf

    path = session.candidate_dir(cid) / "critic.wav"
    if path.is_file():
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=False)
            if rate == SAMPLE_RATE and data.ndim == 1:
                return data
        except (RuntimeError, sf.LibsndfileError) as err:
            log.warning("candidate %d: critic.wav unreadable (%s); rendering it again", cid, err)
    row = session.candidate(cid)
    if row is None:
        raise KeyError(cid)
    return render_reference([Pattern.from_json(row.pattern)], session.loop_library(cid) or library)[0]


def collect_loop_files(session, *, keep: set[int], newest: int, now: float | None = None) -> list[int]:
    """Delete the folders of unrated candidates that are more than KEEP_FILES ids behind ``newest`` and
    were neither made nor announced (the daemon touches a folder when it announces it) in the last
    protocol.KEEP_FILES_S seconds, so a front end still loading one finds it. Rated candidates, those
    in ``keep`` and their database rows stay. Returns the ids deleted."""
    from ..osc.protocol import KEEP_FILES_S

    now = time.time() if now is None else now
    rated = {cid for cid, _ in session.ratings()}
    limit = newest + 1 - KEEP_FILES
    gone = []
    for d in (session.folder / "candidates").iterdir():
        if not d.name.isdigit():
            continue
        cid = int(d.name)
        if cid >= limit or cid in rated or cid in keep:
            continue
        try:
            if now - d.stat().st_mtime < KEEP_FILES_S:
                continue
        except OSError:
            continue
        shutil.rmtree(d, ignore_errors=True)
        gone.append(cid)
    return sorted(gone)


def keep_within_budget(session, *, keep: set[int], budget: int | None = None) -> list[int]:
    """Keep the candidates' folders within ``budget`` bytes (CANDIDATE_BUDGET), and within what leaves
    DISK_RESERVE free on the session's disk (down to nine tenths of it once over), oldest first (by when they
    were last made or announced): an unrated candidate's folder goes whole, a rated one's audio only (its row,
    candidate.json and MIDI stay; the audio is rendered again from its pattern and kept sounds when asked for).
    Candidates in ``keep`` (playing, ready) stay. Returns the ids thinned."""
    budget = CANDIDATE_BUDGET if budget is None else budget
    try:
        free = shutil.disk_usage(session.folder).free
    except OSError:
        free = DISK_RESERVE
    entries, total = [], 0
    for d in (session.folder / "candidates").iterdir():
        if not d.name.isdigit():
            continue
        try:
            files = [(f, f.stat().st_size) for f in d.iterdir()]
            entries.append((d.stat().st_mtime, int(d.name), d, files))
        except OSError:
            continue
        total += sum(size for _, size in files)
    budget = max(0, min(budget, total + free - DISK_RESERVE))   # a disk filling up makes the budget smaller
    if total <= budget:
        return []
    rated = {cid for cid, _ in session.ratings()}
    thinned = []
    for _, cid, d, files in sorted(entries):
        if total <= budget * 0.9:
            break
        if cid in keep:
            continue
        if cid in rated:
            gone = [(f, size) for f, size in files if f.suffix == ".wav"]
            for f, _ in gone:
                f.unlink(missing_ok=True)
        else:
            gone = files
            shutil.rmtree(d, ignore_errors=True)
        if gone:
            total -= sum(size for _, size in gone)
            thinned.append(cid)
    if thinned:
        log.info("candidates' files over %d MB (%d MB free on the disk): %d oldest thinned", budget >> 20,
                 free >> 20, len(thinned))
    return thinned
