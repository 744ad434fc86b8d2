"""Audio out on a real audio system: ``dd-live serve --audio`` with PortAudio on a JACK dummy server, and its
account of the blocks it played and the ones that came late (dropouts)."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import numpy as np
import pytest

from dd_live.bench.live import audio_report
from dd_live.testing.harness import Client, end_process, serve, wait_answering, wait_serving
from dd_live.testing.oscclient import free_udp_port
from dd_live.ports.audio_out import AudioPlayer


def test_the_callback_counts_blocks_and_late_ones_and_the_bench_reads_the_report():
    player = AudioPlayer(blocksize=64)
    player.set_loop(np.ones(256, np.float32))                          # mono, as loops are
    player.play()
    out = np.zeros((64, 2), np.float32)
    for late in (False, True, False, True, True):
        player._callback(out, 64, None, SimpleNamespace(output_underflow=late))
        if late:
            time.sleep(0.05)                                  # a callback held up (by the GIL, say) after this one
    assert (player.blocks, player.late_blocks) == (5, 3) and out.any()     # the loop was played into the block
    report = audio_report(player.report())
    assert report.pop("audio_longest_gap_ms") >= 50.0
    assert report == {"audio_blocks": 5, "audio_late_blocks": 3, "audio_block_frames": 64}
    assert "audio_note" in audio_report("dd-live: stopped")


@pytest.mark.jack
def test_serve_plays_audio_on_jack_and_reports_its_blocks_when_it_stops(jack, tmp_path):
    client = Client(free_udp_port())                              # sends to the daemon's OSC port
    proc = serve(tmp_path / "s", client.target[1], client.port, extra=["--audio"], env={**os.environ, **jack})
    try:
        start = wait_serving(proc)
        assert "audio out: system (JACK Audio Connection Kit)" in start, start[-2000:]
        wait_answering(client, proc)
        client.wait("/dd/candidate", 60)
        client.send("/dd/play")
        time.sleep(2.0)
    finally:
        end_process(proc, 15)
        client.close()
    report = audio_report(proc.stderr.read())
    # 2 s of 512-frame blocks at 44.1 kHz is 172; a busy machine may make some late, never more than it played
    assert report.get("audio_blocks", 0) >= 100 and 0 <= report["audio_late_blocks"] <= report["audio_blocks"], report
    assert report["audio_longest_gap_ms"] > 0
