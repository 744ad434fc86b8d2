from __future__ import annotations

import numpy as np
import pytest
import torch

from dd_live.learn.features import frames_for, mel_filterbank, mfcc

SR = 44100


def numpy_mfcc(y: np.ndarray) -> np.ndarray:
    """An independent float64 numpy MFCC with torchaudio's MFCC(44100, n_mfcc=60) defaults."""
    n_fft, hop, n_mels, n_mfcc = 400, 200, 128, 60
    padded = np.pad(y.astype(np.float64), n_fft // 2, mode="reflect")
    n_frames = 1 + (padded.size - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    power = np.abs(np.fft.rfft(padded[idx] * window, axis=1)) ** 2          # (frames, 201)
    mel = lambda f: 2595 * np.log10(1 + f / 700)                             # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595) - 1)                              # noqa: E731
    edges = hz(np.linspace(mel(0.0), mel(SR / 2), n_mels + 2))
    bins = np.linspace(0, SR // 2, n_fft // 2 + 1)
    fb = np.zeros((bins.size, n_mels))
    for m in range(n_mels):
        lo, c, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (bins - lo) / (c - lo)
        falling = (hi - bins) / (hi - c)
        fb[:, m] = np.maximum(0, np.minimum(rising, falling))
    db = 10 * np.log10(np.maximum(power @ fb, 1e-10))
    db = np.maximum(db, db.max() - 80)
    k, n = np.arange(n_mfcc)[:, None], np.arange(n_mels)[None, :]
    dct = np.cos(np.pi / n_mels * (n + 0.5) * k) * np.sqrt(2 / n_mels)
    dct[0] /= np.sqrt(2)
    return dct @ db.T                                                          # (60, frames)


def test_matches_independent_numpy(rng):
    t = np.arange(88200) / SR
    drums = np.sin(2 * np.pi * 55 * t) * np.exp(-(t % 0.5) * 8) + 0.1 * rng.standard_normal(t.size)
    quiet = 0.001 * rng.standard_normal(30000)
    for y in (drums, quiet):
        got = mfcc(torch.tensor(y, dtype=torch.float32)[None])[0].numpy()
        want = numpy_mfcc(y.astype(np.float32))
        assert got.shape == want.shape == (60, frames_for(y.size))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=0.05)


@pytest.mark.parametrize("length", [201, 333, 399, 400, 401, 599, 600, 1001, 88199, 88201])
def test_any_length_matches_independent_numpy(rng, length):
    """The frames at both ends read the reflect padding through an index, the rest straight from the audio: every
    length (a whole number of hops or not, shorter than one frame) matches the numpy reference."""
    y = (rng.standard_normal(length) * np.linspace(0.2, 1.0, length)).astype(np.float32)
    got = mfcc(torch.from_numpy(y)[None])[0].numpy()
    assert got.shape == (60, frames_for(length))
    np.testing.assert_allclose(got, numpy_mfcc(y), rtol=1e-4, atol=0.05)


def test_batched_and_per_item_floor(rng):
    loud = rng.standard_normal(20000)
    soft = 1e-3 * rng.standard_normal(20000)
    batch = torch.tensor(np.stack([loud, soft]), dtype=torch.float32)
    both = mfcc(batch)
    assert both.shape == (2, 60, 101)
    np.testing.assert_allclose(both[1].numpy(), mfcc(batch[1:])[0].numpy(), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(both[1].numpy(), numpy_mfcc(soft.astype(np.float32)), rtol=1e-4, atol=0.05)


def test_one_bar_is_442_frames():
    assert mfcc(torch.zeros(3, 88200) + 0.1).shape == (3, 60, 442)


def test_filterbank_matches_torchaudio_shape_and_peaks():
    fb = mel_filterbank()
    assert fb.shape == (201, 128)
    assert float(fb.max()) <= 1.0 + 1e-12
    assert (fb.sum(0) == 0).sum() > 0  # 201 bins cannot feed all 128 narrow low bands, as in torchaudio


def test_against_torchaudio_where_it_imports(rng):
    try:
        import torchaudio
    except Exception as err:  # CUDA-built wheels fail to import on CPU-only machines
        pytest.skip(f"torchaudio does not import here: {err.__class__.__name__}")
    y = torch.tensor(rng.standard_normal((1, 44100)), dtype=torch.float32)
    ref = torchaudio.transforms.MFCC(sample_rate=44100, n_mfcc=60)(y)
    np.testing.assert_allclose(mfcc(y).numpy(), ref.numpy(), rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("bad, err", [(np.zeros(100), TypeError), (torch.zeros(2, 2, 100), ValueError), (torch.zeros(1, 50), ValueError)])
def test_bad_input(bad, err):
    with pytest.raises(err):
        mfcc(bad)


def test_one_extractor_shared_by_threads_and_shapes(rng):
    # a work set is one chunk's at a time, made for one length: concurrent calls and alternating shapes must not mix
    import threading

    from dd_live.learn.features import MFCC

    m = MFCC()
    inputs = [torch.tensor(rng.standard_normal((n, length)) * 0.1, dtype=torch.float32)
              for n, length in ((13, 88200), (3, 20000), (1, 88200), (9, 30001))]
    want = [mfcc(x) for x in inputs]
    got: dict[int, list[torch.Tensor]] = {}

    def work(k: int) -> None:
        got[k] = [m(inputs[(k + r) % 4]) for r in range(8)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        for r, y in enumerate(got[k]):
            torch.testing.assert_close(y, want[(k + r) % 4], rtol=0, atol=0)


def test_extractor_copies_and_pickles_without_its_buffers(rng):
    import copy
    import pickle

    from dd_live.learn.features import MFCC

    m = MFCC()
    x = torch.tensor(rng.standard_normal((2, 20000)), dtype=torch.float32)
    want = m(x)
    for twin in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        torch.testing.assert_close(twin(x), want, rtol=0, atol=0)


def test_work_buffers_are_kept_for_chunks_at_once_not_for_every_thread_or_extractor(rng):
    """Threads that compute one after another, through different extractors, reuse one set of work buffers:
    the process keeps as many sets as chunks ran at once (each thread with a set of its own kept one a thread)."""
    import threading

    from dd_live.learn import features
    from dd_live.learn.features import MFCC

    x = torch.tensor(rng.standard_normal((5, 88200)) * 0.1, dtype=torch.float32)
    want = mfcc(x)
    features.SPARES.clear()
    for _ in range(4):                                   # four threads, four extractors, one after another
        t = threading.Thread(target=lambda: torch.testing.assert_close(MFCC()(x), want, rtol=0, atol=0))
        t.start()
        t.join()
    assert len(features.SPARES) == 1
    barrier, errors = threading.Barrier(3), []

    def together() -> None:
        m = MFCC()
        barrier.wait()
        try:
            for _ in range(6):
                torch.testing.assert_close(m(x), want, rtol=0, atol=0)
        except AssertionError as err:
            errors.append(err)

    threads = [threading.Thread(target=together) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and 1 <= len(features.SPARES) <= 3
