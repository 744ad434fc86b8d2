"""Following a MIDI clock offline (issue 17): tempo from the ticks' line, a tempo change followed within a beat,
Start, Stop, Continue and Song Position Pointer."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.ports.clock import CONTINUE, SPP, START, STOP, TICK, TICKS_PER_BEAT, ClockFollower


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
    assert seen == ["start", "tempo"]              # the tempo once known; steady after


def test_a_tempo_change_is_followed_within_a_beat(rng):
    f = ClockFollower()
    f.feed(START, 0.0)
    t = _ticks(f, 0.0, 123.0, 96, rng)
    t = _ticks(f, t, 97.0, TICKS_PER_BEAT, rng)
    assert f.bpm() == pytest.approx(97.0, abs=0.1)
    # without the break the two-beat line would still say about 110
    g = ClockFollower(fit_ticks=48)
    g.feed(START, 0.0)
    import dd_live.ports.clock as clock
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
    assert [k for k in seen if k != "tempo"] == ["start", "stop", "position", "continue", "position"]


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


def test_audio_out_follows_the_hosts_transport_and_place_in_the_bar(rng):
    """Without a sound card: the audio player's loop starts, stops and resumes where the host is in its bar."""
    from dd_live.ports.audio_out import AudioPlayer

    now = [0.0]
    f = ClockFollower()
    player = AudioPlayer(follower=f, clock=lambda: now[0], stream_time=lambda: now[0] + 100.0)
    f.on_change = player.transport_changed
    bar = np.arange(96 * 100, dtype=np.float32)                  # one 4/4 bar: 100 samples a tick
    player.show(type("L", (), {"playback": bar, "pattern": type("P", (), {"beats": 4})()})())
    assert not player.state.playing                               # armed, waiting for the host
    f.feed(START, 0.0)
    assert player.state.playing and player.state.seek_to == 0
    now[0] = _ticks(f, 0.0, 120.0, 30, rng, jitter=0.0)
    a, b = f.line()                                               # the host's clock, on the stream's (+100 s)
    assert player.state.grid == (pytest.approx(a + 100.0), pytest.approx(b), 96)
    f.feed(STOP, now[0])
    assert not player.state.playing and player.state.grid is None
    f.feed(SPP, now[0], bytes([20, 0]))                          # sixteenth 20: a quarter into bar 2
    assert not player.state.playing
    f.feed(CONTINUE, now[0] + 1.0)
    assert player.state.playing and player.state.seek_to == pytest.approx(0.25)
    out = np.zeros((4, 2), dtype=np.float32)
    player.state.fill(out)
    assert out[:, 0].tolist() == [2400, 2401, 2402, 2403]
    player.halt()                                                 # /dd/stop disarms: the host alone cannot start it
    f.feed(START, now[0] + 2.0)
    assert not player.state.playing


def test_a_hosts_tempo_becomes_the_session_tempo(daemon, tmp_path, rng):
    """With --sync midi the host's tempo is the session's (loops, previews and audio out are rendered at it),
    reported once a beat at most, not on every tick."""
    d, c = daemon(tmp_path / "s", sync="midi")
    c.wait("/dd/candidate", 30)
    c.drain(0.05)
    d.clock.follower.feed(START, 0.0)
    _ticks(d.clock.follower, 0.01, 97.0, 4 * TICKS_PER_BEAT, rng)
    assert d.settings.bpm == pytest.approx(97.0, abs=0.1) and d.session.settings()["live"]["bpm"] == d.settings.bpm
    syncs = [a for addr, a in c.drain(0.3) if addr == "/dd/sync"]
    assert 1 <= len(syncs) <= 4 and syncs[0][0] == "midi" and syncs[-1][1] == pytest.approx(97.0, abs=0.05)



@pytest.mark.parametrize("follow", [True, False])
def test_audio_out_stays_on_the_hosts_clock_while_the_sound_card_drifts(follow, loop_state):
    """A sound card 500 ppm fast for 60 s of 512-frame blocks: kept on the host's clock the loop is never more
    than DRIFT_S (and a sample) off the host's bar position; left alone it drifts 30 ms."""
    from dd_live.ports.audio_out import DRIFT_S

    sr, bpm = 44100, 120.0
    b = 60.0 / bpm / TICKS_PER_BEAT                              # s per tick
    n = 2 * sr                                                   # one 4/4 bar at 120 bpm
    state = loop_state
    state.offer(np.arange(n, dtype=np.float32))
    state.playing = True
    state.grid = (0.0, b, 96) if follow else None
    out = np.zeros((512, 1), dtype=np.float32)
    dac, worst = 0.0, 0.0
    for _ in range(int(60 * sr / 512)):
        state.fill(out, dac)
        want = ((dac / b) % 96) / 96 * n
        off = (out[0, 0] - want + n / 2) % n - n / 2
        worst = max(worst, abs(off) / sr)
        dac += 512 / (sr * 1.0005)                               # its samples play out faster than the host's time
    if follow:
        assert worst <= DRIFT_S + 1.0 / sr and state.corrections >= 10
    else:
        assert worst > 0.025
