"""Where a loop is heard: the daemon's outputs behind one small interface.

An output shows a loop (plays it from its next bar line, at the loop's tempo), plays, halts
(the transport's stop: all notes off, silence) and closes (ends its thread or stream and
releases its port; idempotent); ``phase()`` says how far into the playing bar it is (for a
human's onsets sent without a beat). ``name``, ``error`` and ``is_alive()`` let the daemon's
supervision watch it as it watches its workers. MIDI out (:class:`MidiPlayer`) and audio out
(:class:`AudioPlayer`) are the two today; each opens lazily, so a missing backend turns its
output off with one warning.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Protocol

from ..errors import BackendError

log = logging.getLogger("dd_live.daemon")

MIDI_SWITCH_INTERVAL_S = 0.001  # the interpreter's thread switch interval while MIDI out plays (s)
AUDIO_APIS = ("", "jack", "portaudio")   # $DD_LIVE_AUDIO_API: "" or jack: on MIDI out's JACK client where it is one


class Output(Protocol):
    name: str

    @property
    def error(self) -> BaseException | None: ...
    def is_alive(self) -> bool: ...
    def start(self) -> None: ...
    def show(self, loop) -> None: ...
    def play(self) -> None: ...
    def halt(self) -> None: ...
    def close(self) -> None: ...
    def phase(self, at: float | None = None) -> float | None: ...


def open_outputs(*, midi: str, audio: bool, bpm: float, follower=None, latency: float = 0.0,
                 clock_out: bool = False, audio_in: bool = False) -> list[Output]:
    """The outputs asked for, started: MIDI out on port ``midi`` ("none" for none, "virtual", or part of a
    port name) following ``follower`` (a host's clock; None: the loop's tempo), ``latency`` s late, sending
    MIDI clock if ``clock_out`` (on its own tempo only), and audio out if ``audio`` (see :func:`_audio_out`;
    ``audio_in``: audio in will take out of what it hears what audio out plays). One that cannot open is left
    out, with a warning."""
    outputs: list[Output] = []
    if midi != "none":
        from .midi_out import open_player

        try:
            player = open_player(midi, bpm=bpm, follower=follower, latency=latency, clock_out=clock_out)
        except BackendError as err:
            log.warning("MIDI out is off: %s", err)
        else:
            player.start()
            # The player wakes just before each note and needs the GIL then: another thread running
            # Python may keep it for up to the switch interval (5 ms by default), so ask for 1 ms.
            sys.setswitchinterval(MIDI_SWITCH_INTERVAL_S)
            log.info("MIDI out: %s", player.where)
            outputs.append(player)
    if audio:
        stream = _audio_out(outputs, follower, audio_in)
        if stream is not None:
            log.info("audio out: %s", stream.where)
            outputs.append(stream)
    return outputs


def _audio_out(outputs: list[Output], follower, audio_in: bool) -> Output | None:
    """Audio out, started: ports on MIDI out's JACK client where MIDI out is frame-stamped JACK (one JACK client,
    no Python in the audio path) unless $DD_LIVE_AUDIO_API=portaudio or audio in is on; else (or if that fails)
    a PortAudio stream on MIDI out's clock. None, with a warning, if neither opens. With audio in, PortAudio: the
    drums it plays are taken out of what audio in hears through its tap, stamped the way audio in's blocks are
    (counted samples, smoothed), so both drift alike (on a JACK dummy server the drums' measured way back held at
    746-755 samples and no drum was heard as an onset); the JACK client's tap is on JACK's own time, against which
    audio in's stamps drifted (its sample clock 300 ppm off: the way back wandered 475-810 samples in 8 s) and
    3-17 drum hits were heard (``python -m dd_live.testing.audioloop 8 jack``)."""
    from .audio_out import AudioPlayer

    api = os.environ.get("DD_LIVE_AUDIO_API", "").strip().lower()
    if api not in AUDIO_APIS:
        log.warning("DD_LIVE_AUDIO_API=%r is not one of %s: the default is used", api, ", ".join(AUDIO_APIS[1:]))
        api = ""
    port = next((o.jack_port for o in outputs if getattr(o, "jack_port", None) is not None), None)
    if port is not None and (api == "jack" or (api == "" and not audio_in)):
        from .audio_jack import JackAudioPlayer

        player = JackAudioPlayer(port, follower=follower)
        try:
            player.start()
            return player
        except BackendError as err:
            log.warning("audio out on MIDI out's JACK client failed (%s): PortAudio instead", err)
    midi_clock = next((o.clock for o in outputs if hasattr(o, "clock")), None)
    stream = AudioPlayer(follower=follower, **({"clock": midi_clock} if midi_clock else {}))
    try:
        stream.start()
    except BackendError as err:
        log.warning("audio out is off: %s", err)
        return None
    return stream


def open_inputs(*, midi: str, audio: str, on_onset: Callable[[float], bool], outputs: list) -> list:
    """The human's inputs asked for, started: MIDI in on port ``midi`` ("none", "virtual" or part of a name) and
    audio in on PortAudio device ``audio`` ("none", "default", a name or an index), each onset handed to
    ``on_onset`` (time.perf_counter). Audio in takes out of what it hears what audio out (among ``outputs``)
    plays. One that cannot open is left out, with a warning."""
    inputs: list = []
    if midi != "none":
        from .midi_in import MidiInput

        player = next((o for o in outputs if getattr(o, "frames_now", None) is not None), None)
        inputs.append(MidiInput(midi, on_onset, player=player))   # on JACK's frame clock where MIDI out is
    if audio != "none":
        from .audio_in import AudioInput

        device = None if audio == "default" else int(audio) if audio.isdigit() else audio
        tap = next((o.tap for o in outputs if hasattr(o, "tap")), None)
        inputs.append(AudioInput(device, on_onset, tap=tap))
    started = []
    for port in inputs:
        what = "MIDI in" if port.name == "dd-midi-in" else "audio in"
        try:
            port.start()
        except BackendError as err:
            log.warning("%s is off: %s", what, err)
        else:
            log.info("%s: %s", what, port.where)
            started.append(port)
    return started
