"""A session switch on a real audio system: ``dd-live serve --midi-out virtual --audio`` on a JACK dummy server,
its MIDI out connected to a recorder nobody here wrote (jack_midi_dump); /dd/session/open keeps the connection
and the notes coming, on one JACK client, one audio stream."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from dd_live.bench.live import audio_report
from dd_live.testing.harness import Client, end_process, serve, wait_answering, wait_serving
from dd_live.testing.oscclient import free_udp_port


def connections(env: dict) -> dict[str, list[str]]:
    """Every JACK port and the ports it is connected to (jack_lsp -c)."""
    out: dict[str, list[str]] = {}
    port = None
    for line in subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True, env=env).stdout.splitlines():
        if line.startswith(" "):
            out[port].append(line.strip())
        else:
            port = line.strip()
            out[port] = []
    return out


@pytest.mark.jack
def test_a_session_switch_keeps_midi_outs_connections_and_the_notes_play_on(jack, tmp_path):
    env = {**os.environ, **jack, "DD_LIVE_SESSIONS": str(tmp_path / "sessions")}
    client = Client(free_udp_port())
    proc = serve(tmp_path / "first", client.target[1], client.port, midi_out="virtual", extra=["--audio"], env=env)
    dump = subprocess.Popen(["stdbuf", "-oL", "jack_midi_dump", "recorder"], stdout=subprocess.PIPE, text=True,
                            env=env)
    heard: list[float] = []                  # when each note-on reached the recorder (time.monotonic)

    def read() -> None:
        for line in dump.stdout:
            if "note on" in line:
                heard.append(time.monotonic())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        start = wait_serving(proc)
        wait_answering(client, proc)
        client.wait("/dd/candidate", 60)
        subprocess.run(["jack_connect", "dd_live:dd_live", "recorder:input"], check=True, env=env)
        client.send("/dd/play")
        end = time.monotonic() + 10
        while not heard and time.monotonic() < end:
            time.sleep(0.05)
        assert heard, "no note reached the recorder before the switch"
        client.drain()
        client.send("/dd/session/open", "new")
        client.wait("/dd/candidate", 120)                     # the next session's first loop
        switched = time.monotonic()
        assert connections(env)["dd_live:dd_live"] == ["recorder:input"]     # the DAW's connection is still there
        end = time.monotonic() + 10
        while not any(t > switched + 0.5 for t in heard) and time.monotonic() < end:
            time.sleep(0.05)
        assert any(t > switched + 0.5 for t in heard), "no note after the switch"
    finally:
        end_process(proc, 30)
        dump.kill()
        client.close()
    said = start + proc.stderr.read()
    assert said.count("MIDI out: JACK port") == 1 and "kept 3 ports from the last session" in said, said[-3000:]
    assert said.count("left session") == 1 and "Traceback" not in said, said[-3000:]
    report = audio_report(said)                                # one audio stream through both sessions
    assert said.count("blocks of 64 frames came late") == 1 and report.get("audio_blocks", 0) > 0, said[-3000:]
