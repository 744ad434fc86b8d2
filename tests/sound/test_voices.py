"""The default kit's synthesized voices (dd_live.sound.voices): filters that do what their names say, and drums
that sound like their kind."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live import SAMPLE_RATE
from dd_live.sound import voices


def _gain_db(kind, tone_hz, cut_hz, **kw):
    t = np.arange(SAMPLE_RATE // 4) / SAMPLE_RATE
    y = voices._biquad(np.sin(2 * np.pi * tone_hz * t), kind, cut_hz, **kw)[SAMPLE_RATE // 10:]
    return 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(y ** 2)))


def _centroid(x):
    mag = np.abs(np.fft.rfft(x)) ** 2          # power-weighted
    f = np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)
    return float((mag * f).sum() / mag.sum())


def test_the_biquads_pass_and_stop_where_the_cookbook_says():
    assert _gain_db("lowpass", 200, 2000) == pytest.approx(0, abs=0.2)
    assert _gain_db("lowpass", 2000, 2000) == pytest.approx(-3.0, abs=0.3)          # q 0.707: -3 dB at the cut
    assert _gain_db("lowpass", 16000, 2000) < -35                                    # 12 dB an octave
    assert _gain_db("highpass", 100, 2000) < -45 and _gain_db("highpass", 12000, 2000) == pytest.approx(0, abs=0.3)
    assert _gain_db("bandpass", 3000, 3000, q=2.0) == pytest.approx(0, abs=0.2)
    assert _gain_db("bandpass", 600, 3000, q=2.0) < -15
    assert _gain_db("peak", 1000, 1000, q=1.0, gain_db=6) == pytest.approx(6, abs=0.2)
    with pytest.raises(ValueError, match="unknown filter kind 'notch'"):
        voices._biquad(np.zeros(4), "notch", 100)


def test_finish_trims_the_tail_fades_and_sets_the_peak():
    x = np.concatenate([np.sin(np.arange(4410) * 0.3) * 0.2 + 0.1, np.zeros(SAMPLE_RATE)])
    y = voices.finish(x, peak_db=-1.0)
    assert y.size < 4410 + 10 and np.max(np.abs(y)) == pytest.approx(10 ** (-1 / 20), rel=1e-9)
    assert y[-1] == 0.0 and abs(y[-20]) < abs(y).max() * 0.2                   # faded to nothing
    with pytest.raises(ValueError, match="synthesized silence"):
        voices.finish(np.zeros(100))


def test_each_voice_is_its_generators_and_sounds_like_its_kind():
    rng = lambda: np.random.default_rng(4)    # noqa: E731
    k = voices.kick(rng(), f_end=50, f_start=160, pitch_tau=0.04, amp_tau=0.3)
    np.testing.assert_array_equal(k, voices.kick(rng(), f_end=50, f_start=160, pitch_tau=0.04, amp_tau=0.3))
    assert not np.array_equal(k, voices.kick(np.random.default_rng(5), f_end=50, f_start=160, pitch_tau=0.04,
                                             amp_tau=0.3))
    early, late = k[200:2400], k[6000:8200]                                  # its pitch falls
    crossings = lambda x: np.count_nonzero(np.diff(np.signbit(x)))    # noqa: E731
    assert crossings(early) > 1.5 * crossings(late)
    h = voices.hat(rng(), tau=0.04, scale=1.0, noise_mix=0.3, tone_hz=9000, length=0.3)
    s = voices.snare(rng(), tone_hz=190, tone_tau=0.08, noise_tau=0.12, snappy=0.6)
    assert _centroid(k) < 600 < _centroid(s) < _centroid(h) and _centroid(h) > 5000
    c = voices.cymbal(rng(), tau=0.8, scale=1.0, noise_mix=0.3, bell=0.5, hp_hz=4000, length=2.0)
    tail = lambda x: np.sqrt(np.mean(x[-SAMPLE_RATE // 10:] ** 2)) / np.abs(x).max()    # noqa: E731
    assert tail(c) > 10 * tail(h)                                          # a cymbal rings on, a hat closes
    for kind in ("shaker", "tambourine", "conga", "clave", "woodblock"):
        x = voices.perc(rng(), kind=kind, hz=800, tau=0.05)
        assert x.size == int(0.6 * SAMPLE_RATE) and np.isfinite(x).all() and np.abs(x).max() > 0
    with pytest.raises(ValueError):
        voices.perc(rng(), kind="kazoo", hz=800, tau=0.05)
