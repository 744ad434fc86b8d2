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


@pytest.mark.jack
def test_audio_out_on_midi_outs_jack_client_plays_the_loop_sample_for_sample_from_its_ports(jack, tmp_path):
    """Ports "dd_live:out_1/2" on MIDI out's client: JACK's own recorder (jack_rec) records them, and what it
    hears is the loop, round again, on both channels, no sample lost; the tap says the same; closing the player
    and then MIDI out takes the ports and the client away."""
    import subprocess

    import soundfile as sf

    from dd_live.ports.audio_jack import JackAudioPlayer
    from dd_live.ports.midi_jack import JackMidiPort

    port = JackMidiPort("dd_live", "dd_live")
    player = JackAudioPlayer(port, connect=False)
    player.start()
    assert "dd_live:out_1, dd_live:out_2" in player.where and "64-frame periods" in player.where
    n = 1000
    ramp = (np.arange(n, dtype=np.float32) + 1) / 2048            # each sample says where in the loop it is
    player.show(SimpleNamespace(playback=ramp, pattern=SimpleNamespace(beats=4)))
    player.play()
    wav = tmp_path / "heard.wav"
    done = subprocess.run(["jack_rec", "-f", str(wav), "-d", "1", "-b", "32", "dd_live:out_1", "dd_live:out_2"],
                          capture_output=True, text=True, env=os.environ, timeout=30)
    assert done.returncode == 0, done.stderr
    got, rate = sf.read(wav, dtype="float32")
    got = got[np.flatnonzero(got[:, 0] * got[:, 1])[0]:]          # from the first sample both channels heard
    assert rate == 44100 and got.shape[0] > 20000 and (got[:, 0] == got[:, 1]).all()
    steps = np.rint(got[:, 0] * 2048).astype(int)                 # 1..1000, then 1 again: never a sample lost
    assert set(np.diff(steps)) <= {1, 1 - n}, sorted(set(np.diff(steps)))[:8]
    tap = np.zeros(2000, np.float32)
    player.tap.read_into(tap, time.perf_counter() - 0.5)
    assert set(np.diff(np.rint(tap * 2048).astype(int))) <= {1, 1 - n}
    stats = player.state.stats()
    assert stats["cycles"] > 300 and stats["switches"] == 1 and 0 <= player.phase() < 1
    player.close()
    player.close()                                                # idempotent
    names = subprocess.run(["jack_lsp"], capture_output=True, text=True, env=os.environ).stdout.split()
    assert "dd_live:out_1" not in names and "dd_live:dd_live" in names
    port.close()
    names = subprocess.run(["jack_lsp"], capture_output=True, text=True, env=os.environ).stdout.split()
    assert not [p for p in names if p.startswith("dd_live:")], names


@pytest.mark.jack
def test_serve_puts_audio_out_on_midi_outs_jack_client_and_portaudio_where_asked(jack, tmp_path):
    """With MIDI out on JACK, `dd-live serve --audio` plays audio from ports of MIDI out's own client (one JACK
    client: dd_live's ports only), reports its cycles when it stops; $DD_LIVE_AUDIO_API=portaudio keeps a
    PortAudio stream."""
    import subprocess

    for api, where in (("", "audio out: JACK ports dd_live:out_1, dd_live:out_2 -> 2 playback ports"),
                       ("portaudio", "audio out: system (JACK Audio Connection Kit)")):
        client = Client(free_udp_port())
        proc = serve(tmp_path / f"s{api}", client.target[1], client.port, midi_out="virtual", extra=["--audio"],
                     env={**os.environ, **jack, "DD_LIVE_AUDIO_API": api})
        try:
            start = wait_serving(proc)
            assert where in start, start[-2000:]
            wait_answering(client, proc)
            client.wait("/dd/candidate", 60)
            client.send("/dd/play")
            time.sleep(2.0)
            clients = {p.split(":")[0] for p in subprocess.run(["jack_lsp"], capture_output=True, text=True,
                                                               env=os.environ).stdout.splitlines()}
        finally:
            end_process(proc, 15)
            client.close()
        assert clients == ({"system", "dd_live"} if not api else {"system", "dd_live", "PortAudio"}), clients
        report = audio_report(proc.stderr.read())
        assert report.get("audio_blocks", 0) >= 100 and 0 <= report["audio_late_blocks"] <= report["audio_blocks"]


@pytest.mark.jack
def test_audio_out_plays_on_after_midi_out_closes_and_the_client_goes_with_the_last(jack):
    """A revived audio out plays the loop shown; MIDI out closing first (the daemon's shutdown) leaves audio out's
    ports playing on the client;
    the client goes once both have closed; a second audio out on the same client is refused in one line."""
    import subprocess

    from dd_live.errors import BackendError
    from dd_live.ports.audio_jack import JackAudioPlayer, JackLoop
    from dd_live.ports.midi_jack import JackMidiPort

    port = JackMidiPort("dd_live", "dd_live")
    player = JackAudioPlayer(port, connect=False)
    player.start()
    with pytest.raises(BackendError, match="audio out's ports could not be made on 'dd_live:dd_live'"):
        JackLoop(port)
    player.show(SimpleNamespace(playback=np.ones(500, np.float32), pattern=SimpleNamespace(beats=4)))
    player.play()
    player.revive()                                                     # the supervisor's: a new player ...
    time.sleep(0.2)
    assert player.state.stats()["switches"] == 1 and player.phase() is not None   # ... playing what was shown
    port.close()
    before = player.state.stats()["cycles"]
    time.sleep(0.3)
    assert player.state.stats()["cycles"] > before + 50 and player.error is None
    names = subprocess.run(["jack_lsp"], capture_output=True, text=True, env=os.environ).stdout.splitlines()
    assert "dd_live:out_1" in names and "dd_live:dd_live" in names    # the client's MIDI port goes with it
    stuck = dict(player.state.stats())
    player.state.stats = lambda: stuck                                  # the server stops running cycles ...
    assert player.error is None and player.is_alive()
    player._seen = (stuck["cycles"], time.monotonic() - 2.5)            # ... for longer than STALL_S
    assert "JACK has run no cycle of audio out for 2 s" in str(player.error) and not player.is_alive()
    del player.state.stats
    player.close()
    names = subprocess.run(["jack_lsp"], capture_output=True, text=True, env=os.environ).stdout.splitlines()
    assert not [p for p in names if p.startswith("dd_live:")], names
