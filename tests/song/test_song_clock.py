"""A song's drums live on a host's MIDI clock (JACK dummy server): each bar the host is in plays the song's bar of
that number, every note where the host's clock puts it (p99 within 1 ms), as the looping bar's notes are."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dd_live.testing.clockhost import ClockHost, song_on_host
from dd_live.testing.harness import measure_again, stop_daemon

from .checks import make_midi

pytestmark = pytest.mark.jack


def test_a_song_plays_the_hosts_bar_on_the_hosts_sixteenths(jack, daemon, tmp_path):
    src = make_midi(tmp_path / "tune.mid", [("busy", 8, 4, 4, 120.0)])
    measure_again(lambda attempt: _run(daemon, tmp_path / f"s{attempt}", src))


def _run(daemon, folder, src):
    host = ClockHost()
    d, c = daemon(folder, threads=1, seed=2, midi_out="virtual", sync="midi", clock_in=host.port.name)
    try:
        late, errors, heard, want, dropped = song_on_host(d, c, host, src)
    finally:
        stop_daemon(d, c)
        host.close()
    return late + dropped, lambda allow: _judge(errors, heard, want, dropped, allow)


def _judge(errors, heard, want, dropped, allow):
    print(json.dumps({"notes": heard, "p99_ms": round(float(np.percentile(errors, 99)) * 1e3, 3),
                      "max_ms": round(float(errors.max()) * 1e3, 3), "host_late": allow, "dropped": dropped}))
    # each host bar plays the song's bar of that number: every note, but those MIDI out dropped as too late
    # (a machine that held its thread up; judged strictly first, see measure_again)
    assert want > 20 and want - min(dropped, allow) <= heard <= want, (heard, want, dropped)
    # p99 within 1 ms; where the host's own clock was written late (allow: its count), up to 5% more
    assert (errors > 0.001).sum() <= max(len(errors) // 100, min(allow, len(errors) // 20)), errors
