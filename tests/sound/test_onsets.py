"""Onsets of a human's instrument in an audio input (dd_live.sound.onsets), on rendered material
(dd_live.testing.signals): a guitar and claps at known times, with and without the drums' own sound in it."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live import SAMPLE_RATE
from dd_live.sound.onsets import OnsetDetector, loopback
from dd_live.testing.signals import drum_loop, human_track

BLOCK = 256


def _detect(x, det, ref=None):
    found = []
    for i in range(0, x.size, BLOCK):
        found += det.process(x[i:i + BLOCK], None if ref is None else ref[i:i + BLOCK])
    return np.array(found)


def _score(found, truth):
    """(errors in ms of each true onset's nearest detection within 25 ms, detections near no true onset)."""
    near = 0.025 * SAMPLE_RATE
    err = np.array([(found[np.argmin(np.abs(found - o))] - o) / SAMPLE_RATE * 1e3 for o in truth])
    extra = int(sum(np.min(np.abs(truth - f)) > near for f in found))
    return err[np.abs(err) < 25], extra


@pytest.mark.parametrize("seed", [0, 1])
def test_a_guitar_and_claps_are_found_within_a_few_ms(seed):
    h, truth = human_track(12, seed=seed)
    found = _detect(h, OnsetDetector())
    err, extra = _score(found, truth)
    assert err.size == truth.size and extra == 0
    assert np.percentile(np.abs(err), 95) <= 5.0


@pytest.mark.parametrize("gain,delay_ms", [(0.6, 7.0), (1.0, 12.0)])
def test_the_drums_own_sound_in_the_input_is_no_onset_of_the_human(gain, delay_ms):
    h, truth = human_track(12, seed=2)
    d, hits = drum_loop(12)
    delay = int(delay_ms / 1e3 * SAMPLE_RATE)
    x = h.copy()
    x[delay:] += gain * d[:-delay]
    found_d, gain_d = loopback(x, d)
    assert found_d == delay and gain_d == pytest.approx(gain, rel=0.02)
    err, extra = _score(_detect(x, OnsetDetector(delay=found_d, gain=gain_d), d), truth)
    assert err.size == truth.size and extra == 0 and np.percentile(np.abs(err), 95) <= 5.0
    _, unheard = _score(_detect(x, OnsetDetector()), truth)        # the same input, the drums not taken out
    assert unheard > 20


def test_silence_and_a_held_note_give_nothing_and_blocks_of_any_size_agree():
    det = OnsetDetector()
    assert _detect(np.zeros(SAMPLE_RATE), det).size == 0
    t = np.arange(SAMPLE_RATE * 2) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * 220 * t) * np.minimum(t / 0.002, 1.0) * 0.5
    tone[: SAMPLE_RATE // 2] = 0.0
    found = _detect(tone, OnsetDetector())
    assert found.size == 1 and abs(found[0] - SAMPLE_RATE // 2) < 0.003 * SAMPLE_RATE
    h, _ = human_track(4, seed=3)
    a = _detect(h, OnsetDetector())
    det = OnsetDetector()
    b = np.array(det.process(h[:1000]) + det.process(h[1000:1001]) + det.process(h[1001:]))
    np.testing.assert_array_equal(a, b)
