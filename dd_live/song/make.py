"""Song mode end to end (issue 16): read a MIDI song, arrange its drums in the performer's taste, write the files.

:func:`make_song` is what ``dd-live song`` and ``/dd/song`` run; :func:`summarize` gives the figures the
arrangement is judged by (drum density against the song's intensity, fills before boundaries, length).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .arrange import Arrangement, arrange
from .read import read_song


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation (ties share their mean rank); None if either side is constant."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ra, rb = _ranks(a), _ranks(b)
    if a.size < 2 or ra.std() == 0 or rb.std() == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(x.size, dtype=np.float64)
    for v in np.unique(x):          # ties: their mean rank
        same = x == v
        ranks[same] = ranks[same].mean()
    return ranks


def summarize(arr: Arrangement, events: np.ndarray) -> dict:
    song = arr.song
    level = arr.levels()
    density = arr.density()
    sounding = np.flatnonzero(level > 0)
    end = int(sounding[-1]) if sounding.size else -1
    boundaries = [s.start for s in arr.sections[1:] if s.start <= end]   # the silence after the ending is not one
    kinds = {b.index: b.kind for b in arr.bars}
    filled = sum(kinds.get(i - 1) in ("fill", "lead-in") for i in boundaries)
    sounding_before = [i for i in boundaries if level[i - 1] > 0]
    last_hit = float(song.seconds(events["tick"].max())) if events.size else 0.0
    return {
        "song": song.path.name, "bars": len(song.bars), "seconds": round(float(song.seconds(song.length_ticks)), 3),
        "sections": len(arr.sections), "labels": sorted({s.label for s in arr.sections}),
        "boundaries": len(boundaries), "fills_before_boundaries": filled,
        "boundaries_after_sound": len(sounding_before),
        "fills_after_sound": sum(kinds.get(i - 1) in ("fill", "lead-in") for i in sounding_before),
        "hits": int(events.size), "last_hit_s": round(last_hit, 3), "loops": len(arr.loops),
        "spearman_density_intensity": spearman(density, level),
        "grids": sorted({f"{arr.loops[b.loop].steps}x{arr.loops[b.loop].beats}" for b in arr.bars if b.loop}),
        "taste": arr.source,
    }


def make_song(path: Path | str, out: Path | str, *, session: str | None = None, samples: Sequence[str] | None = None,
              seed: int = 0, force: bool = False, threads: int = 2,
              progress: Callable[[int, int], None] | None = None, taste=None,
              on_start: Callable[[object], None] | None = None, check: Callable[[], None] | None = None,
              whole: bool = False, timing: Path | None = None) -> dict:
    """Read ``path``, arrange it (in ``taste``, else that of ``session`` or a new session's critic) and write
    the files into ``out``; ``on_start(taste)`` once the song is read and the taste open; ``check()`` before each
    bar is arranged and before the files are written (it raises to end the job); ``whole``: ``out`` is dd_live's
    own folder, replaced as one (see :func:`dd_live.sound.audio.staged_folder`); ``timing``: what takes over the
    song taught (:func:`dd_live.song.score.timing_file`), the drums written with it if it is there. Returns the
    summary, with the seconds each stage took."""
    from .taste import open_taste
    from .write import check_out, write_song

    t0 = time.perf_counter()
    check_out(Path(out), force=force)
    song = read_song(path)
    if taste is None:
        taste = open_taste(session=session, samples=samples, seed=seed, threads=threads)
    if on_start is not None:
        on_start(taste)
    t1 = time.perf_counter()
    arr = arrange(song, taste, progress=progress, check=check)
    events = arr.events()
    if check is not None:
        check()
    t2 = time.perf_counter()
    summary = summarize(arr, events)
    state = None
    if timing is not None:
        from ..groove.timing import load_state

        state = load_state(timing)
    if state is not None:
        from .score import with_feel

        events, summary["feel"] = with_feel(arr, events, taste.library, state, seed=seed)
    write_song(Path(out), arr, taste.library, summary, force=force, events=events, whole=whole)
    t3 = time.perf_counter()
    summary["timing_s"] = {"read_and_load": round(t1 - t0, 3), "arrange": round(t2 - t1, 3),
                           "write": round(t3 - t2, 3), "total": round(t3 - t0, 3)}
    summary["out"] = str(out)
    summary["warnings"] = list(song.warnings)
    return summary
