from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import dd_live.loops.render as render_mod
from dd_live.errors import BackendError, InputError
from dd_live.loops.pattern import Pattern, random_arrays
from dd_live.loops.render import (
    CEILING,
    MIX_GAIN,
    bar_length,
    mix_kernel,
    render_arrays,
    render_loops,
    render_preview,
    render_reference,
)


SR = 44100


@pytest.fixture(params=["numba", "numpy"], autouse=True)
def kernel(request, monkeypatch) -> str:
    """Every test here runs with both mixing kernels."""
    monkeypatch.setenv("DD_LIVE_MIX", request.param)
    assert mix_kernel() == request.param
    return request.param


def hand_mix(pattern: Pattern, lib, bpm: float, *, wrap: bool = True, bars: int = 1, tail: int = 0) -> np.ndarray:
    """The mix computed the slow, obvious way: one sample at a time."""
    n_bar = round(4 * 60 / bpm * SR)
    total = n_bar * bars + tail
    out = np.zeros(total, dtype=np.float64)
    step = 4 * 60 / bpm * SR / pattern.steps
    for rep in range(bars):
        for t in range(pattern.tracks):
            audio = lib.audio(lib.index(pattern.samples[t])).astype(np.float64)
            for s in range(pattern.steps):
                if not pattern.hits[t, s]:
                    continue
                when = s + (pattern.swing if s % 2 else 0.0) + float(pattern.offsets[t, s])
                onset = math.floor(when * step + 0.5) + rep * n_bar
                gain = MIX_GAIN * (pattern.velocities[t, s] / 127) ** 2
                for i, x in enumerate(audio):
                    k = onset + i
                    if wrap:
                        out[k % total] += gain * x
                    elif 0 <= k < total:
                        out[k] += gain * x
    return out


def _simple(lib, **kw) -> Pattern:
    hits = np.zeros((3, 16), bool)
    hits[0, [0, 8]] = True
    hits[1, [4, 12]] = True
    hits[2, [1, 3, 6, 15]] = True
    vel = np.full((3, 16), 100)
    vel[2, 3] = 40
    vel[1, 12] = 127
    return Pattern(hits=hits, samples=tuple(s.key for s in lib.samples[:3]), velocities=vel, **kw)


def test_bar_length_and_onsets_are_sample_exact():
    assert bar_length(120) == 88200
    assert bar_length(90) == 117600
    assert bar_length(137) == round(4 * 60 / 137 * SR)


def test_loop_equals_hand_mix_at_120(small_lib):
    p = _simple(small_lib)
    got = render_reference([p], small_lib)[0]
    want = hand_mix(p, small_lib, 120)
    assert got.shape == (88200,)
    np.testing.assert_allclose(got, want, atol=2e-6)
    # the odd step lands on sample floor(5512.5 + 0.5) = 5513, and nothing before it
    lone = Pattern(hits=np.eye(1, 16, 1, dtype=bool), samples=(small_lib.samples[2].key,))
    y = render_reference([lone], small_lib)[0]
    assert np.nonzero(y)[0][0] == 5513


def test_loop_equals_hand_mix_with_swing_offsets_and_tempo(small_lib):
    off = np.zeros((3, 16))
    off[2, 6] = -0.3
    off[0, 8] = 0.45
    p = _simple(small_lib, swing=1 / 3, offsets=off)
    for bpm in (120.0, 97.3):
        got = render_loops([p], small_lib, bpm=bpm)[0]
        np.testing.assert_allclose(got, hand_mix(p, small_lib, bpm), atol=2e-6)


def test_loop_is_seamless_tail_wrapped(small_lib):
    # the 120,000-sample sample (longer than a bar) on the last step rings into the start
    hits = np.zeros((2, 16), bool)
    hits[0, 15] = True
    hits[1, 0] = True
    p = Pattern(hits=hits, samples=(small_lib.samples[5].key, small_lib.samples[0].key))
    loop = render_reference([p], small_lib)[0]
    np.testing.assert_allclose(loop, hand_mix(p, small_lib, 120), atol=2e-6)
    assert np.abs(loop[:3000]).max() > 0.01  # the tail is there at the start
    # steady state: bar 3 of a long linear render equals the loop, sample for sample
    linear = render_preview(p, small_lib, repeats=4, tail=0.0)
    np.testing.assert_allclose(linear[2 * 88200: 3 * 88200], loop, atol=2e-6)
    # and the loop joins itself without a jump larger than the signal's own steps
    tiled = np.concatenate([loop, loop])
    assert np.abs(np.diff(tiled[88190:88210])).max() <= np.abs(np.diff(loop)).max() + 1e-6


def test_preview_is_repeats_plus_tail(small_lib):
    p = _simple(small_lib)
    y = render_preview(p, small_lib, bpm=120, repeats=4, tail=1.0)
    assert y.shape == (4 * 88200 + 44100,)
    want = hand_mix(p, small_lib, 120, wrap=False, bars=4, tail=44100)
    fade = 441
    np.testing.assert_allclose(y[:-fade], want[:-fade], atol=2e-6)
    assert y[-1] == 0.0
    with pytest.raises(InputError):
        render_preview(p, small_lib, repeats=0)


def test_batch_threads_and_out_buffer_agree(small_lib, rng):
    hits, idx = random_arrays(small_lib, rng, 37)
    vel = rng.integers(1, 128, hits.shape)
    one = render_arrays(hits, idx, small_lib, velocities=vel)
    two = render_arrays(hits, idx, small_lib, velocities=vel, threads=2)
    out = np.full((37, 88200), 5.0, dtype=np.float32)
    buf = render_arrays(hits, idx, small_lib, velocities=vel, out=out)
    assert buf is out
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, out)
    for b in (0, 17, 36):
        alone = render_arrays(hits[b:b + 1], idx[b:b + 1], small_lib, velocities=vel[b:b + 1])[0]
        np.testing.assert_allclose(one[b], alone, atol=1e-6)


def test_no_clipping_static_gain(small_lib):
    hits = np.ones((4, 16), bool)
    p = Pattern(hits=hits, samples=(small_lib.samples[5].key,) * 4, velocities=np.full((4, 16), 127))
    y = render_reference([p], small_lib)[0]
    raw = hand_mix(p, small_lib, 120)
    assert np.abs(raw).max() > 1.0  # this pattern would clip
    assert np.abs(y).max() == pytest.approx(CEILING, rel=1e-6)
    # turned down as a whole, not distorted: proportional to the raw mix
    np.testing.assert_allclose(y, raw * (CEILING / np.abs(raw).max()), atol=1e-5)


def test_empty_pattern_is_silence(small_lib):
    p = Pattern(hits=np.zeros((4, 16), bool), samples=tuple(s.key for s in small_lib.samples[:4]))
    assert not render_reference([p], small_lib).any()
    assert not render_preview(p, small_lib).any()


def test_bad_tempo_and_mixed_shapes(small_lib):
    p = _simple(small_lib)
    with pytest.raises(InputError, match="tempo"):
        render_loops([p], small_lib, bpm=0)
    q = Pattern(hits=np.zeros((3, 12), bool), samples=p.samples)
    with pytest.raises(InputError, match="share"):
        render_loops([p, q], small_lib)
    with pytest.raises(InputError, match="nothing"):
        render_loops([], small_lib)


def test_kernels_agree_on_long_tails_fast_tempi_and_velocities(rng, monkeypatch, make_library):
    # samples up to 6 bars long at the fastest tempo (300 bpm: 35,280 samples a bar) wrap several times;
    # velocities vary per hit
    lib = make_library([35280 * 6 + 17, 35280, 100, 40000, 7, 5000], seed=3)
    hits, idx = random_arrays(lib, rng, 23)
    vel = rng.integers(1, 128, hits.shape)
    times = np.arange(16.0) + rng.uniform(-0.4, 0.4, hits.shape)
    got = {}
    for k in ("numba", "numpy"):
        monkeypatch.setenv("DD_LIVE_MIX", k)
        got[k] = render_arrays(hits, idx, lib, bpm=300, velocities=vel, step_times=times, threads=2)
    assert np.abs(got["numpy"]).max() > 0.1
    np.testing.assert_allclose(got["numba"], got["numpy"], atol=2e-6)
    one = Pattern(hits=hits[0], samples=tuple(lib.samples[i].key for i in idx[0]), velocities=vel[0],
                  offsets=times[0] - np.arange(16.0))
    np.testing.assert_allclose(got["numba"][0], hand_mix(one, lib, 300), atol=2e-6)


def test_bad_kernel_name_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("DD_LIVE_MIX", "fortran")
    with pytest.raises(BackendError, match="DD_LIVE_MIX='fortran': use one of numba, numpy"):
        mix_kernel()


def test_without_numba_the_renderer_says_so_once_and_uses_numpy(small_lib, monkeypatch, caplog):
    monkeypatch.setenv("DD_LIVE_MIX", "numba")
    monkeypatch.setitem(sys.modules, "dd_live.loops.mixjit", None)  # import fails as if numba were missing
    monkeypatch.setattr(render_mod, "_KERNEL", {})
    p = _simple(small_lib)
    with caplog.at_level("WARNING", logger="dd_live.render"):
        y = render_reference([p], small_lib)[0]
        render_reference([p], small_lib)
    assert mix_kernel() == "numpy"
    assert [r.getMessage() for r in caplog.records if "numba unavailable" in r.getMessage()] != []
    assert len(caplog.records) == 1
    np.testing.assert_allclose(y, hand_mix(p, small_lib, 120), atol=2e-6)


def test_a_process_preference_applies_unless_the_environment_names_a_kernel(monkeypatch):
    monkeypatch.setattr(render_mod, "_PREFERRED", ["numba"])
    monkeypatch.delenv("DD_LIVE_MIX", raising=False)
    assert mix_kernel() == "numba"
    render_mod.prefer_kernel("numpy")
    assert mix_kernel() == "numpy"
    monkeypatch.setenv("DD_LIVE_MIX", "numba")
    assert mix_kernel() == "numba"
    with pytest.raises(BackendError, match="'cuda'"):
        render_mod.prefer_kernel("cuda")


def test_the_render_threads_have_an_owner_that_shuts_them_down(small_lib, rng):
    """Batches over several blocks mix on a pool of 'dd-work' threads; close_pools ends them (a daemon's join
    calls it), and a later render makes a pool again with the same result."""
    import threading

    from dd_live.loops.render import close_pools, render_arrays

    def render_threads() -> int:
        return sum(t.name.startswith("dd-work") and t.is_alive() for t in threading.enumerate())

    close_pools()
    hits, idx = random_arrays(small_lib, rng, 37)
    first = render_arrays(hits, idx, small_lib, threads=2)
    assert render_threads() >= 1
    assert close_pools() == 1 and render_threads() == 0 and close_pools() == 0
    again = render_arrays(hits, idx, small_lib, threads=2)
    np.testing.assert_array_equal(first, again)
    assert render_threads() >= 1
    close_pools()


def test_mixing_keeps_one_overflow_buffer_per_mix_at_once_not_per_thread(small_lib, rng, monkeypatch):
    """Threads that render one after another reuse one overflow buffer (a buffer a thread kept one each);
    numpy's kernel (numba's wraps in place, with no overflow buffer)."""
    import threading

    monkeypatch.setenv("DD_LIVE_MIX", "numpy")
    hits, idx = random_arrays(small_lib, rng, 6)
    want = render_arrays(hits, idx, small_lib)
    render_mod._SCRATCH.clear()
    got = []
    for _ in range(4):
        t = threading.Thread(target=lambda: got.append(render_arrays(hits, idx, small_lib)))
        t.start()
        t.join()
    assert len(render_mod._SCRATCH) == 1
    for g in got:
        np.testing.assert_array_equal(g, want)
