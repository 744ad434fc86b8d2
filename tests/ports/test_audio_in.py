"""Audio in (dd_live.ports.audio_in) without a sound card: PortAudio's callback driven with rendered blocks and
their ADC times, the onsets reaching the take service on time.perf_counter, the drums' own sound (what audio
out played, through its tap) never taken for the human's, and opening a device that is not there."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from dd_live import SAMPLE_RATE
from dd_live.errors import BackendError
from dd_live.ports.audio_in import BLOCK, TAP_AHEAD_S, AudioInput
from dd_live.ports.audio_out import OutputTap
from dd_live.testing.signals import drum_loop, human_track
from dd_live.worker import Worker


def _feed(port, x, t0, *, tap=None, drums=None):
    """Blocks of ``x`` through the callback as if the stream began at ``t0`` (perf_counter time), waiting for the
    detector's thread now and then; with ``tap``, audio out's blocks of ``drums`` at the same times."""
    fed = 0
    for i in range(0, x.size - BLOCK, BLOCK):
        at = t0 + i / SAMPLE_RATE
        if tap is not None:
            tap.write(drums[i:i + BLOCK].astype(np.float32), at)
        now = time.perf_counter() - 5000.0                  # the stream's own clock: perf_counter less 5000 s
        info = SimpleNamespace(currentTime=now, inputBufferAdcTime=at - 5000.0)
        port._callback(x[i:i + BLOCK, None].astype(np.float32), BLOCK, info, None)
        fed += 1
        while port._slots.qsize() > 64:
            time.sleep(0.001)
    deadline = time.monotonic() + 60
    while port.blocks < fed and time.monotonic() < deadline:     # every block through the detector
        time.sleep(0.01)
    time.sleep(0.05)                                               # ... and its onsets handed over


def _errors_ms(heard, truth, t0):
    at = (np.array(heard) - t0) * SAMPLE_RATE
    err = np.array([(at[np.argmin(np.abs(at - o))] - o) / SAMPLE_RATE * 1e3 for o in truth])
    extra = int(sum(np.min(np.abs(truth - a)) > 0.025 * SAMPLE_RATE for a in at))
    return err, extra


@pytest.mark.parametrize("bleed", [False, True])
def test_onsets_reach_the_takes_on_the_perf_counter_and_the_drums_are_not_the_human(bleed):
    h, truth = human_track(8, seed=4)
    d, _ = drum_loop(8)
    delay = int(0.009 * SAMPLE_RATE)
    x = h.copy()
    if bleed:
        x[delay:] += 0.8 * d[:-delay]
    heard = []
    tap = OutputTap(blocksize=BLOCK) if bleed else None
    port = AudioInput(None, lambda t: heard.append(t) or True, tap=tap)
    Worker.start(port)                      # the detector's thread, without opening a stream
    t0 = time.perf_counter() - 30.0
    try:
        _feed(port, x, t0, tap=tap, drums=d)
    finally:
        port.stop()
        port.join(5)
    err, extra = _errors_ms(heard, truth, t0)
    late = truth < 2.2 * SAMPLE_RATE        # before the first measure of the drums' path (WINDOW_S)
    assert port.dropped == 0 and port.kept == len(heard)
    assert np.percentile(np.abs(err[~late]), 95) <= 5.0 and np.all(np.abs(err[~late]) < 25)
    if bleed:
        assert port.bleed[0] == delay + round(TAP_AHEAD_S * SAMPLE_RATE) and port.bleed[1] == pytest.approx(0.8, rel=0.05)
        at = (np.array(heard) - t0) * SAMPLE_RATE
        assert sum(np.min(np.abs(truth - a)) > 0.025 * SAMPLE_RATE for a in at[at > 2.2 * SAMPLE_RATE]) == 0
    else:
        assert extra == 0 and port.bleed == (0, 0.0)


def test_a_device_that_is_not_there_is_one_line():
    port = AudioInput("no such device 1234", lambda t: True)
    with pytest.raises(BackendError, match=r"^(cannot open audio input 'no such device 1234'|audio in needs "
                                           r"PortAudio)") as err:
        port.start()
    assert "\n" not in str(err.value)
    port.close()
