"""Loops as the daemon handles them: where a candidate's files go, the critic's 120 bpm bar, and the clean-up of
old candidates (the loop record is :mod:`dd_live.groove.record`; the performer's settings
:mod:`dd_live.session.settings`)."""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..groove.feel import apply
from ..loops.export import write_loop_files
from ..loops.pattern import Pattern
from ..loops.render import render_reference
from ..sound.audio import write_wav

log = logging.getLogger("dd_live.workers")

KEEP_FILES = 32         # unrated candidates' folders kept behind the newest id
#: bytes the candidates' audio may take on disk (a candidate's is about 1.3 MB): beyond, the oldest goes first
CANDIDATE_BUDGET = 256 * 2 ** 20
#: bytes kept free on the session's disk for what matters more than loops ahead: ratings, the critic's checkpoint
DISK_RESERVE = 16 * 2 ** 20


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


def store_candidate(session, library, loop, *, mode: str) -> None:
    """``loop`` (a :class:`dd_live.groove.record.Loop` with its id, critic's bar, score, critic version, tempo,
    pitches and feel layer) kept as candidate ``loop.id``: its folder, critic.wav, its files at its tempo
    (``loop.files`` and ``loop.playback`` set) and its database row, ``mode`` the way it was made."""
    folder = session.candidate_dir(loop.id)
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "critic.wav", loop.audio, bits=32, force=True)
    loop.files, loop.playback = write_candidate_files(folder, loop.pattern, library, loop.bpm, loop.pitches, loop.feel)
    session.add_candidate(loop.id, loop.pattern.to_json(), loop.score, loop.version, loop.trained_on, loop.bpm, mode)


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


def reference_audio(session, library, cid: int, cache: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The 120 bpm bar the critic hears for candidate ``cid``: critic.wav, else rendered from its pattern (with
    the sounds the session kept for it; ``cache``: those read already, by hash, for many loops in a row)."""
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
    return render_reference([Pattern.from_json(row.pattern)], session.loop_library(cid, cache) or library)[0]


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
