"""The batched renderer: patterns + samples -> mono float32 audio at 44.1 kHz.

Two forms:

* the steady-state **loop**: exactly one bar long, with the tails of hits that ring
  past the bar line wrapped into its start, as if the bar had already been playing.
  It loops seamlessly in Max's groove~ or a DAW. :func:`render_reference` is the
  loop as the critic always hears it, whatever the session tempo: one bar in 2 s
  (120 bpm for 4 beats, :func:`reference_bpm`).
* the **preview** (DeepDrummer's): ``repeats`` bars one after another plus a tail
  (default 4 bars + 1 s), starting from silence.

Timing: a cell's time in steps (grid step + swing on odd steps + micro-offset) is
converted to an onset in samples as ``floor(steps * step_samples + 0.5)``; the bar
is ``floor(beats * 60 / bpm * 44100 + 0.5)`` samples long. Onsets are sample-exact.

Level: each hit is its sample scaled by ``MIX_GAIN * (velocity / 127) ** 2`` (the
same square-law velocity curve an SFZ sampler applies by default). Headroom is
fixed (MIX_GAIN, -6 dB); a bar whose mix would still peak above CEILING is turned
down as a whole by a static gain, so nothing is ever clipped or distorted.

Mixing works on blocks of bars, one block per job on ``threads`` threads, and does
no work for cells that are rests. Two kernels do the same sums: a compiled one
(:mod:`dd_live.loops.mixjit`, numba, the default) that releases the GIL so blocks really
mix in parallel, and numpy's, one slice-add per hit, whose Python between the adds
holds the GIL. $DD_LIVE_MIX picks one (``numba`` or ``numpy``); otherwise the
process's preference (:func:`prefer_kernel`, numba unless set) applies. Where numba
cannot be imported the renderer says so once and uses numpy.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .. import GRID, SAMPLE_RATE, TEMPO_RANGE
from ..errors import BackendError, InputError
from ..spares import Spares
from .pattern import DEFAULT_VELOCITY, Pattern

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

REFERENCE_BPM = 120.0
MIX_GAIN = 0.5
CEILING = 10 ** (-0.1 / 20)
PREVIEW_REPEATS = 4
PREVIEW_TAIL = 1.0
FADE_OUT = 0.010
_BLOCK = 8
MIX_KERNELS = ("numba", "numpy")

log = logging.getLogger("dd_live.render")
_KERNEL: dict[str, object] = {}
_PREFERRED = ["numba"]


def prefer_kernel(name: str) -> None:
    """This process's mixing kernel when $DD_LIVE_MIX is not set: ``numba`` or ``numpy``.

    The daemon prefers numpy: it mixes 16 bars at a time, where both kernels take
    a few ms, and numba's compiler would add about 60 MB to its memory beside a DAW.
    """
    if name not in MIX_KERNELS:
        raise BackendError(f"mixing kernel {name!r}: use one of {', '.join(MIX_KERNELS)}")
    _PREFERRED[0] = name


def mix_kernel() -> str:
    """The mixing kernel in use: ``numba`` or ``numpy`` ($DD_LIVE_MIX, else :func:`prefer_kernel`'s).

    The first numba call imports the compiled kernel (about a second); where numba
    is missing or broken it logs one warning and settles on numpy.
    """
    want = os.environ.get("DD_LIVE_MIX", "").strip().lower() or _PREFERRED[0]
    if want not in MIX_KERNELS:
        raise BackendError(f"DD_LIVE_MIX={want!r}: use one of {', '.join(MIX_KERNELS)}")
    if want == "numba" and "numba" not in _KERNEL:
        try:
            from .mixjit import mix_block
        except Exception as err:  # ImportError, or llvmlite failing to load on this platform
            log.warning("numba unavailable (%s: %s); mixing with numpy, slower with several threads",
                        type(err).__name__, err)
            mix_block = None
        _KERNEL["numba"] = mix_block
    if want == "numba" and _KERNEL["numba"] is None:
        return "numpy"
    return want


def _check_bpm(bpm: float) -> float:
    bpm = float(bpm)
    lo, hi = TEMPO_RANGE
    if not lo <= bpm <= hi:
        raise InputError(f"tempo must be {lo:g}-{hi:g} bpm, got {bpm:g}")
    return bpm


def bar_length(bpm: float, beats: int = GRID.beats) -> int:
    """Length of one bar in samples at ``bpm``."""
    return int(np.floor(beats * 60.0 / _check_bpm(bpm) * SAMPLE_RATE + 0.5))


def step_samples(bpm: float, steps: int, beats: int = GRID.beats) -> float:
    """Length of one step in samples (not rounded)."""
    return beats * 60.0 / _check_bpm(bpm) * SAMPLE_RATE / steps


def onsets(step_times: np.ndarray, steps: int, bpm: float, beats: int = GRID.beats) -> np.ndarray:
    """Onsets in samples (int64) of cells at ``step_times`` (in steps from the bar line)."""
    return np.floor(np.asarray(step_times, dtype=np.float64) * step_samples(bpm, steps, beats) + 0.5).astype(np.int64)


def velocity_gain(velocities: np.ndarray) -> np.ndarray:
    """Linear gain of hits with these MIDI velocities (1-127)."""
    v = np.asarray(velocities, dtype=np.float64) / 127.0
    return MIX_GAIN * v * v


def _mix_block(kernel: str, out: np.ndarray, bar: np.ndarray, pos: np.ndarray, offs: np.ndarray,
               lens: np.ndarray, gain: np.ndarray, flat: np.ndarray, wrap: bool, limit: bool) -> None:
    """Mix hits (sorted by bar, bars relative to ``out``) into the bars of ``out``, overwriting them.

    The block is zeroed, mixed and (``limit``) levelled in one go, so that it stays
    in the core's cache throughout. ``kernel``: ``numba`` or ``numpy``.
    """
    if kernel == "numba":
        _KERNEL["numba"](out, bar, pos, offs, lens, gain, flat, wrap)
    else:
        _mix_numpy(out, bar, pos, offs, lens, gain, flat, wrap)
    if limit:
        level_in_place(out)


def _mix_numpy(out: np.ndarray, bar: np.ndarray, pos: np.ndarray, offs: np.ndarray, lens: np.ndarray,
               gain: np.ndarray, flat: np.ndarray, wrap: bool) -> None:
    """numpy's :func:`dd_live.loops.mixjit.mix_block`: one slice-add per hit.

    The part of a hit inside the bar is added straight into ``out``; what rings past
    the bar line goes to an overflow buffer (a spare, :data:`_SCRATCH`), wrapped into
    the bar's start (``wrap``) or dropped.
    """
    out.fill(0.0)
    if not bar.size:
        return
    length = out.shape[1]
    heads = np.minimum(lens, length - pos)
    over = max(int(np.max(pos + lens)) - length, 0) if wrap else 0
    size = out.shape[0] * over
    scratch = _SCRATCH.take(lambda buf: buf.size >= size, lambda: np.empty(size, dtype=np.float32))
    try:
        _mix_blocks(out, scratch[:size].reshape(out.shape[0], over), bar, pos, offs, lens, heads, gain, flat)
    finally:
        _SCRATCH.give(scratch)


def _mix_blocks(out: np.ndarray, ovf: np.ndarray, bar: np.ndarray, pos: np.ndarray, offs: np.ndarray,
                lens: np.ndarray, heads: np.ndarray, gain: np.ndarray, flat: np.ndarray) -> None:
    """:func:`_mix_numpy`'s adding; ``ovf`` (bars, samples) holds what rings past the bar line (no columns:
    it is cut there)."""
    length, over = out.shape[1], ovf.shape[1]
    ovf.fill(0.0)
    # Most hits of a block share one gain (one velocity): add those unscaled, scale the block once.
    values, counts = np.unique(gain, return_counts=True)
    g0 = float(values[np.argmax(counts)])
    rel = (gain / g0).tolist() if g0 > 0 else gain.tolist()
    tmp = None
    for b, p, o, n, head, g in zip(bar.tolist(), pos.tolist(), offs.tolist(), lens.tolist(), heads.tolist(), rel):
        src = flat[o: o + n]
        if g != 1.0:
            if tmp is None:
                tmp = np.empty(int(lens.max()), dtype=np.float32)
            src = np.multiply(src, g, out=tmp[:n])
        dst = out[b, p: p + head]
        np.add(dst, src[:head], out=dst)
        if head < n and over:
            dst = ovf[b, : n - head]
            np.add(dst, src[head:], out=dst)
    if over:
        for k in range(0, over, length):
            seg = ovf[:, k: k + length]
            out[:, : seg.shape[1]] += seg
    if g0 > 0 and g0 != 1.0:
        out *= np.float32(g0)


def _mix(bar: np.ndarray, pos: np.ndarray, smp: np.ndarray, gain: np.ndarray, library, n_bars: int,
         length: int, wrap: bool, limit: bool, threads: int = 1, out: np.ndarray | None = None) -> np.ndarray:
    """Sum hits into ``n_bars`` buffers of ``length`` samples.

    Hit h puts sample ``smp[h]`` times ``gain[h]`` at ``pos[h]`` of bar ``bar[h]``.
    With ``wrap`` the buffer is circular (positions and tails taken modulo ``length``);
    without it, hits before 0 are dropped and tails past the end are cut. ``limit``
    applies the static per-bar gain of :func:`level_in_place`. Blocks of bars are mixed on
    ``threads`` threads (numpy releases the GIL while it adds). ``out``, if given,
    is a float32 (n_bars, length) buffer to overwrite.
    """
    if out is None:
        out = np.empty((n_bars, length), dtype=np.float32)
    elif out.shape != (n_bars, length) or out.dtype != np.float32:
        raise InputError(f"out must be float32 {(n_bars, length)}, got {out.dtype} {out.shape}")
    if wrap:
        pos = np.mod(pos, length)
    else:
        keep = (pos >= 0) & (pos < length)
        bar, pos, smp, gain = bar[keep], pos[keep], smp[keep], gain[keep]
    order = np.argsort(bar, kind="stable")
    bar, pos, smp, gain = bar[order], pos[order], smp[order], gain[order].astype(np.float32)
    lens, offs = library.lengths[smp], library.offsets[smp]
    kernel = mix_kernel()
    starts = np.searchsorted(bar, np.arange(0, n_bars + _BLOCK, _BLOCK))
    jobs = []
    for b0 in range(0, n_bars, _BLOCK):
        h0, h1 = int(starts[b0 // _BLOCK]), int(starts[b0 // _BLOCK + 1])
        jobs.append((kernel, out[b0: b0 + _BLOCK], bar[h0:h1] - b0, pos[h0:h1], offs[h0:h1], lens[h0:h1],
                     gain[h0:h1], library.flat, wrap, limit))
    if threads > 1 and len(jobs) > 1 and not on_work_thread():
        for _ in work_pool(threads).map(lambda job: _mix_block(*job), jobs):
            pass
    else:
        for job in jobs:
            _mix_block(*job)
    return out


_POOLS: dict[int, ThreadPoolExecutor] = {}    # the render threads, by count (made on first use; close_pools)
_POOLS_LOCK = threading.Lock()
_LOCAL = threading.local()
_SCRATCH: Spares[np.ndarray] = Spares()   # mixing's overflow buffers (float32, at least as large as asked):
                                          # reused, as fresh large arrays cost more in page faults than the mixing


def work_pool(threads: int) -> ThreadPoolExecutor:
    """The process's ``threads`` work threads (made on first use): the render's mixing jobs, and the scorer's parts
    (:class:`dd_live.learn.sampler.Scorer`), which render each part with one thread of their own."""
    from concurrent.futures import ThreadPoolExecutor

    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="dd-work", initializer=_mark_work_thread)
        return _POOLS[threads]


def _mark_work_thread() -> None:
    _LOCAL.work = True


def on_work_thread() -> bool:
    """Whether this thread is one of the work pool's: work done here never goes to the pool again (a job that
    waited on jobs queued behind it could wait for ever)."""
    return getattr(_LOCAL, "work", False)


def close_pools() -> int:
    """Shut the render threads down, waiting for what they are mixing; returns how many pools there were. Their
    owner calls it when its renders are over (the daemon's join, after its workers); a later render makes a
    pool again. Idempotent."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(wait=True)
    return len(pools)


def level_gain(audio: np.ndarray) -> np.ndarray:
    """The static gain of each row (float64, shape (rows,)) that :func:`level_in_place` applies: 1, or what brings a row
    peaking above CEILING down to it. An SFZ kit that plays a loop's MIDI carries it (:mod:`.export`)."""
    audio = np.atleast_2d(audio)
    peak = np.maximum(audio.max(axis=-1), -audio.min(axis=-1)).astype(np.float64)
    return np.where(peak > CEILING, CEILING / np.maximum(peak, 1e-12), 1.0)


def level_in_place(audio: np.ndarray) -> np.ndarray:
    """Static per-row gain so that no row peaks above CEILING."""
    gain = level_gain(audio)
    if np.any(gain < 1.0):
        audio *= gain.astype(np.float32)[:, None]
    return audio


def render_arrays(hits: np.ndarray, sample_idx: np.ndarray, library, *, bpm: float = REFERENCE_BPM,
                  beats: int = GRID.beats, velocities: np.ndarray | None = None, step_times: np.ndarray | None = None,
                  swing: np.ndarray | float = 0.0, threads: int = 1, out: np.ndarray | None = None,
                  limit: bool = True) -> np.ndarray:
    """Render a batch of one-bar loops from arrays.

    hits: bool (B, tracks, steps); sample_idx: int (B, tracks) into ``library``;
    velocities: (B, tracks, steps) 1-127 (default :data:`.pattern.DEFAULT_VELOCITY`); step_times: cell times in
    steps (B, tracks, steps), default the grid with ``swing`` (scalar or (B,)) on
    odd steps. ``threads``: mixing threads. ``out``: a float32 (B, bar samples)
    buffer to render into (reusing one saves the OS's page faults on fresh memory).
    ``limit=False``: without the per-bar level gain. Returns float32 (B, bar samples).
    """
    hits = np.asarray(hits, dtype=bool)
    if hits.ndim != 3:
        raise InputError(f"hits must be (batch, tracks, steps), got shape {hits.shape}")
    n, tracks, steps = hits.shape
    if step_times is None:
        grid = np.arange(steps, dtype=np.float64)
        sw = np.broadcast_to(np.asarray(swing, dtype=np.float64), (n,))
        step_times = grid[None, None, :] + sw[:, None, None] * (grid % 2 == 1)[None, None, :]
        step_times = np.broadcast_to(step_times, hits.shape)
    b, t, s = np.nonzero(hits)
    vel = np.full(b.shape, float(DEFAULT_VELOCITY)) if velocities is None else np.asarray(velocities)[b, t, s]
    pos = onsets(np.asarray(step_times)[b, t, s], steps, bpm, beats)
    smp = np.asarray(sample_idx)[b, t]
    return _mix(b, pos, smp, velocity_gain(vel), library, n, bar_length(bpm, beats), wrap=True, limit=limit,
                threads=threads, out=out)


def _pattern_arrays(patterns: Sequence[Pattern], library) -> dict:
    if not patterns:
        raise InputError("nothing to render: no patterns")
    shape = patterns[0].hits.shape
    beats = patterns[0].beats
    if any(p.hits.shape != shape or p.beats != beats for p in patterns):
        raise InputError("patterns rendered together must share tracks, steps and beats")
    return {
        "hits": np.stack([p.hits for p in patterns]),
        "sample_idx": np.stack([library.indices(p.samples) for p in patterns]),
        "velocities": np.stack([p.velocities for p in patterns]),
        "step_times": np.stack([p.step_times() for p in patterns]),
        "beats": beats,
    }


def render_loops(patterns: Sequence[Pattern], library, *, bpm: float = REFERENCE_BPM,
                 limit: bool = True) -> np.ndarray:
    """Seamless one-bar loops of ``patterns`` at ``bpm``: float32 (B, bar samples); ``limit=False``: before the
    per-bar level gain (:func:`level_gain`)."""
    a = _pattern_arrays(patterns, library)
    return render_arrays(a["hits"], a["sample_idx"], library, bpm=bpm, beats=a["beats"],
                         velocities=a["velocities"], step_times=a["step_times"], limit=limit)


def reference_bpm(beats: int = GRID.beats) -> float:
    """The tempo the critic hears a bar of ``beats`` beats at: one bar in the time of a 4/4 bar at
    :data:`REFERENCE_BPM` (2 s), so every grid fits the critic's fixed input (3 beats at 90 bpm, 6 at 180)."""
    return REFERENCE_BPM * beats / 4


def render_reference(patterns: Sequence[Pattern], library) -> np.ndarray:
    """The bars the critic hears: each loop at :func:`reference_bpm` for its beats (float32, (B, 88200))."""
    return render_loops(patterns, library, bpm=reference_bpm(patterns[0].beats if patterns else 4))


MAX_REPEATS = 64


def check_repeats(repeats: int) -> int:
    """Bars in a preview or an exported MIDI file: 1-64."""
    if not isinstance(repeats, (int, np.integer)) or not 1 <= repeats <= MAX_REPEATS:
        raise InputError(f"repeats must be 1-{MAX_REPEATS} bars, got {repeats}")
    return int(repeats)


def render_preview(pattern: Pattern, library, *, bpm: float = REFERENCE_BPM, repeats: int = PREVIEW_REPEATS,
                   tail: float = PREVIEW_TAIL) -> np.ndarray:
    """DeepDrummer's preview: ``repeats`` bars from silence plus ``tail`` seconds, float32 1-D."""
    check_repeats(repeats)
    if not 0.0 <= tail <= 10.0:
        raise InputError(f"tail must be 0-10 s, got {tail}")
    a = _pattern_arrays([pattern], library)
    n_bar = bar_length(bpm, a["beats"])
    _, t, s = np.nonzero(a["hits"])
    base = onsets(a["step_times"][0, t, s], pattern.steps, bpm, a["beats"])
    reps = np.arange(repeats)
    pos = (base[None, :] + reps[:, None] * n_bar).ravel()
    smp = np.tile(a["sample_idx"][0, t], repeats)
    gain = np.tile(velocity_gain(a["velocities"][0, t, s]), repeats)
    total = repeats * n_bar + int(round(tail * SAMPLE_RATE))
    audio = _mix(np.zeros(pos.size, dtype=np.int64), pos, smp, gain, library, 1, total, wrap=False, limit=False)
    fade = min(int(FADE_OUT * SAMPLE_RATE), total)
    audio[0, total - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return level_in_place(audio)[0]
