"""bench live: the JACK server's shared memory in the daemon's RSS told apart, and the server's period as asked for."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from dd_live.bench.live import _jack_shared_mb, status_mb


@pytest.mark.jack
def test_the_jack_servers_shared_memory_in_a_clients_rss_is_counted(jack):
    """A process that opens a JACK client holds the server's shared memory (libjack maps and locks it); one that
    does not holds none. Both read from /proc/PID/smaps, as the bench reads the daemon's."""
    code = ("import sys, time\nfrom dd_live.ports.midi_jack import JackMidiReader\n"
            "r = JackMidiReader('memtest') if sys.argv[1] == 'jack' else None\nprint('ready', flush=True)\n"
            "time.sleep(30)")
    found = {}
    for kind in ("jack", "plain"):
        proc = subprocess.Popen([sys.executable, "-c", code, kind], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(0.2)
            found[kind] = (_jack_shared_mb(proc.pid), status_mb(proc.pid, "VmRSS"))
        finally:
            proc.kill()
            proc.wait()
    shared, rss = found["jack"]
    assert 0.5 < shared < rss and found["plain"][0] == 0.0, found


def test_bench_live_runs_its_jack_server_at_the_period_asked_for(monkeypatch):
    """--jack-period reaches the JACK server bench live starts (and the figures say it); other periods are
    refused in one line before anything starts."""
    from contextlib import contextmanager

    from dd_live import bench
    from dd_live.bench import live
    from dd_live.errors import InputError

    started = []

    @contextmanager
    def fake_server(prefix, *, period):
        started.append(period)
        yield {"JACK_DEFAULT_SERVER": "none"}

    monkeypatch.setattr(live, "jack_server", fake_server)
    monkeypatch.setattr(live, "_bench", lambda jack, **kw: {"feel": kw["feel"]})
    monkeypatch.setattr(live, "external_clock", lambda jack, **kw: {})
    assert bench.run("live", jack_period=256)["jack_period_frames"] == 256
    assert bench.run("live")["jack_period_frames"] == 64 and started == [256, 64]
    with pytest.raises(InputError, match="--jack-period"):
        bench.run("live", jack_period=100)
    assert started == [256, 64]
