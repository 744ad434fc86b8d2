"""Following a MIDI clock offline (issue 17): tempo from the ticks' line, a tempo change followed within a beat,
Start, Stop, Continue and Song Position Pointer."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.live.clock import CONTINUE, SPP, START, STOP, TICK, TICKS_PER_BEAT, ClockFollower


def _ticks(f: ClockFollower, t0: float, bpm: float, n: int, rng, jitter: float = 0.0002) -> float:
    period = 60.0 / bpm / TICKS_PER_BEAT
    for k in range(n):
        f.feed(TICK, t0 + k * period + rng.normal(0, jitter))
    return t0 + n * period


def test_tempo_and_positions_from_the_ticks(rng):
    seen = []
    f = ClockFollower(on_change=seen.append)
    assert f.bpm() is None and f.time_of(0) is None
    f.feed(START, 0.0)
    end = _ticks(f, 0.01, 123.0, 4 * TICKS_PER_BEAT, rng)
    assert f.bpm() == pytest.approx(123.0, abs=0.1)
    assert f.position == 96
    # the line puts the next bar line (position 96) where the clock will tick it
    assert f.time_of(96) == pytest.approx(end, abs=0.0005)
    assert f.position_at(end) == pytest.approx(96, abs=0.05)
    assert seen == ["start"]


def test_a_tempo_change_is_followed_within_a_beat(rng):
    f = ClockFollower()
    f.feed(START, 0.0)
    t = _ticks(f, 0.0, 123.0, 96, rng)
    t = _ticks(f, t, 97.0, TICKS_PER_BEAT, rng)
    assert f.bpm() == pytest.approx(97.0, abs=0.1)
    # without the break the two-beat line would still say about 110
    g = ClockFollower(fit_ticks=48)
    g.feed(START, 0.0)
    import dd_live.live.clock as clock
    old, clock.BREAK = clock.BREAK, 1e9
    try:
        t = _ticks(g, 0.0, 123.0, 96, np.random.default_rng(1))
        _ticks(g, t, 97.0, TICKS_PER_BEAT, np.random.default_rng(1))
    finally:
        clock.BREAK = old
    assert abs(g.bpm() - 97.0) > 3


def test_stop_continue_and_song_position(rng):
    seen = []
    f = ClockFollower(on_change=seen.append)
    f.feed(START, 0.0)
    t = _ticks(f, 0.0, 120.0, 30, rng)
    f.feed(STOP, t)
    assert not f.running and f.position == 30
    _ticks(f, t, 120.0, 10, rng)                    # ticks while stopped do not move the song
    assert f.position == 30
    f.feed(SPP, t, bytes([16, 0]))                  # sixteenth 16: bar 2 of 4/4
    assert f.position == 16 * 6
    f.feed(CONTINUE, t + 1.0)
    _ticks(f, t + 1.0, 120.0, 6, rng)
    assert f.running and f.position == 96 + 6
    f.feed(SPP, t, bytes([0x7F, 0x7F]))             # the largest pointer
    assert f.position == 16383 * 6
    assert seen == ["start", "stop", "position", "continue", "position"]


def test_serve_settings_for_sync_and_latency_are_checked_in_one_line():
    from dd_live.errors import InputError
    from dd_live.live import config

    base = dict(config.DEFAULTS)
    assert config.merge(base, {"sync": "midi", "clock_in": "host:out", "latency": -12.5})["latency"] == -12.5
    for key, bad in (("sync", "smpte"), ("latency", 400), ("latency", True), ("clock_in", "")):
        with pytest.raises(InputError) as err:
            config.merge(base, {key: bad})
        assert "\n" not in str(err.value) and key.replace("_", "-") in str(err.value)


def test_set_latency_over_osc_is_kept_in_the_session_and_range_checked(daemon, tmp_path):
    d, c = daemon(tmp_path / "s")
    c.wait("/dd/candidate", 30)
    c.drain(0.05)
    c.send("/dd/set/latency", 25)
    c.send("/dd/status")
    c.wait("/dd/sync", 10)
    assert d.settings.latency == 25 and d.session.settings()["live"]["latency"] == 25
    c.drain(0.05)
    c.send("/dd/set/latency", 900)
    assert c.wait("/dd/error", 10)[0] == "args" and d.settings.latency == 25
    c.send("/dd/status")
    source, bpm, phase, running = c.wait("/dd/sync", 10)
    assert (source, running) == ("internal", 0) and bpm == pytest.approx(120.0) and phase == -1.0
