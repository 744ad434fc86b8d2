"""Audio in on a real audio system: ``python -m dd_live.testing.audioloop SECONDS [portaudio|jack]`` (on a JACK
server, in a process of its own, so PortAudio starts after the server and is ended before it goes).

It plays a rendered guitar-and-clap track with the drums mixed in (what a microphone in the room hears) out of
a PortAudio stream, connects that stream's JACK port to the input of a :class:`dd_live.ports.audio_in.AudioInput`
in the same process, hands audio in what the drums played (through an :class:`dd_live.ports.audio_out.OutputTap`,
as audio out would), and prints one JSON line: every onset it heard and every onset played, both on
time.perf_counter (the played ones at their DAC time), and the drums' path it measured. With ``jack`` the drums
come instead from audio out on a JACK MIDI writer's client (:class:`dd_live.ports.audio_jack.JackLoop`, whose
tap audio in reads), into the same input: the daemon's way where MIDI out is on JACK."""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from .. import SAMPLE_RATE

BLOCK = 256
BLEED = 0.7


def main(seconds: float, drums_from: str = "portaudio") -> dict:
    import sounddevice as sd

    from ..ports.audio_in import AudioInput
    from ..ports.audio_out import OutputTap, SampleClock
    from .harness import jack_connect
    from .signals import drum_loop, human_track

    human, truth = human_track(seconds, seed=6)
    drums, _ = drum_loop(seconds)
    jack_drums = drums_from == "jack"
    mix = (human + (0.0 if jack_drums else BLEED) * drums).astype(np.float32)
    tap = OutputTap(blocksize=BLOCK)
    if jack_drums:
        from ..ports.audio_jack import JackLoop
        from ..ports.midi_jack import JackMidiPort

        writer = JackMidiPort("ddloop", "midi")
        tap = loop = JackLoop(writer)
        loop.offer((BLEED * drums).astype(np.float32))
    played: list[tuple[int, float]] = []          # (first sample of a block, its DAC time on perf_counter)
    pos = [0]
    underflows = [0]

    clock = SampleClock()

    def out(outdata, frames, time_info, status):
        dac = clock.stamp(time.perf_counter(), time_info.currentTime, time_info.outputBufferDacTime, frames)
        i = pos[0]
        underflows[0] += bool(status.output_underflow) and i > SAMPLE_RATE      # the stream's start aside
        block = mix[i:i + frames]
        outdata[:block.size, 0] = block
        outdata[block.size:, 0] = 0.0
        if not jack_drums:
            tap.write((BLEED * drums[i:i + frames]).astype(np.float32), dac)
        played.append((i, dac))
        pos[0] = i + frames

    heard: list[float] = []
    port = AudioInput(None, lambda t: heard.append(t) or True, tap=tap)
    port.start()
    stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", blocksize=BLOCK, callback=out)
    try:
        ok = jack_connect("PortAudio:out_0", "PortAudio:in_0")
        if jack_drums:
            ok = ok and jack_connect("ddloop:out_1", "PortAudio:in_0")
            loop.playing = True
        stream.start()
        time.sleep(seconds + 1.0)
    finally:
        stream.stop()
        stream.close()
        port.close()
        if jack_drums:
            loop.close()
            writer.close()
        sd._terminate()          # before the server goes: PortAudio's JACK client ends cleanly
    starts = np.array([p[0] for p in played], dtype=np.float64)
    dacs = np.array([p[1] for p in played])
    k = np.clip(np.searchsorted(starts, truth, side="right") - 1, 0, len(starts) - 1)
    truth_t = dacs[k] + (truth - starts[k]) / SAMPLE_RATE
    return {"connected": ok, "heard": heard, "played": truth_t.tolist(), "bleed": list(port.bleed),
            "blocks": port.blocks, "dropped": port.dropped, "xruns": underflows[0] + port.overflows,
            "detected": port.onsets, "unsure": port.unsure}


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]) if len(sys.argv) > 1 else 8.0, *sys.argv[2:3])))
