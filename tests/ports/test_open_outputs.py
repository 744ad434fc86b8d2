"""Opening the daemon's outputs (dd_live.ports.outputs.open_outputs): what was asked for, started; one that cannot
open left out with one warning; audio out on MIDI out's clock when both play."""

from __future__ import annotations

import logging
import sys

import pytest

from dd_live.errors import BackendError
from dd_live.ports import audio_jack, audio_out, midi_out   # audio_jack before the fakes: its player subclasses
#                                                           the real AudioPlayer, whichever test imports it first
from dd_live.ports.outputs import MIDI_SWITCH_INTERVAL_S, open_outputs


class FakeMidi:
    def __init__(self, port, **kw):
        self.port, self.kw, self.started, self.where = port, kw, False, f"fake {port}"

    def clock(self):
        return 42.0

    def start(self):
        self.started = True


class FakeAudio:
    fail = False

    def __init__(self, **kw):
        self.kw, self.started, self.where = kw, False, "fake audio"

    def start(self):
        if self.fail:
            raise BackendError("no PortAudio device")
        self.started = True


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(midi_out, "open_player", lambda port, **kw: FakeMidi(port, **kw))
    monkeypatch.setattr(audio_out, "AudioPlayer", FakeAudio)
    monkeypatch.setattr(FakeAudio, "fail", False)
    before = sys.getswitchinterval()
    yield monkeypatch
    sys.setswitchinterval(before)


def test_both_outputs_open_started_and_audio_keeps_midis_clock(fakes):
    follower = object()
    midi, audio = open_outputs(midi="virtual", audio=True, bpm=97.0, follower=follower, latency=0.01, clock_out=True)
    assert midi.started and audio.started and midi.port == "virtual"
    assert midi.kw == {"bpm": 97.0, "follower": follower, "latency": 0.01, "clock_out": True}
    assert audio.kw["follower"] is follower and audio.kw["clock"]() == 42.0        # one clock for both
    assert sys.getswitchinterval() == pytest.approx(MIDI_SWITCH_INTERVAL_S)


def test_nothing_asked_nothing_opened_and_audio_alone_on_its_own_clock(fakes):
    assert open_outputs(midi="none", audio=False, bpm=120.0) == []
    (audio,) = open_outputs(midi="none", audio=True, bpm=120.0)
    assert "clock" not in audio.kw


def test_an_output_that_cannot_open_is_left_out_with_one_warning(fakes, caplog):
    def broken(port, **kw):
        raise BackendError("no MIDI system")

    fakes.setattr(midi_out, "open_player", broken)
    fakes.setattr(FakeAudio, "fail", True)
    with caplog.at_level(logging.WARNING, logger="dd_live.daemon"):
        assert open_outputs(midi="virtual", audio=True, bpm=120.0) == []
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["MIDI out is off: no MIDI system", "audio out is off: no PortAudio device"]


def test_inputs_open_with_audio_in_hearing_what_audio_out_plays(monkeypatch, caplog):
    from dd_live.ports import audio_in, midi_in
    from dd_live.ports.outputs import open_inputs

    made = []

    class Fake:
        def __init__(self, name, device, tap=None, fail=False):
            self.name, self.device, self.tap, self.fail, self.where = name, device, tap, fail, f"fake {device}"
            made.append(self)

        def start(self):
            if self.fail:
                raise BackendError("no such device")

    monkeypatch.setattr(midi_in, "MidiInput", lambda spec, on, player=None: Fake("dd-midi-in", spec, player))
    monkeypatch.setattr(audio_in, "AudioInput", lambda dev, on, tap=None: Fake("dd-audio-in", dev, tap))
    out = type("Out", (), {"tap": "audio out's tap"})()
    got = open_inputs(midi="virtual", audio="3", on_onset=lambda t: True, outputs=[out])
    assert [(p.name, p.device, p.tap) for p in got] == [("dd-midi-in", "virtual", None),
                                                         ("dd-audio-in", 3, "audio out's tap")]
    # MIDI in reads on the frame clock of a frame-stamped MIDI player (JACK's), when there is one
    rtmidi_player = type("Player", (), {"frames_now": None})()
    jack_player = type("Player", (), {"frames_now": lambda self: 0})()
    got = open_inputs(midi="virtual", audio="none", on_onset=lambda t: True, outputs=[rtmidi_player, jack_player])
    assert got[0].tap is jack_player
    got = open_inputs(midi="virtual", audio="none", on_onset=lambda t: True, outputs=[rtmidi_player])
    assert got[0].tap is None
    assert open_inputs(midi="none", audio="default", on_onset=lambda t: True, outputs=[])[0].device is None
    assert open_inputs(midi="none", audio="none", on_onset=lambda t: True, outputs=[]) == []
    monkeypatch.setattr(audio_in, "AudioInput", lambda dev, on, tap=None: Fake("dd-audio-in", dev, fail=True))
    with caplog.at_level(logging.WARNING, logger="dd_live.daemon"):
        assert open_inputs(midi="none", audio="USB", on_onset=lambda t: True, outputs=[]) == []
    assert "audio in is off: no such device" in caplog.text


def test_audio_out_joins_midi_outs_jack_client_unless_audio_in_needs_portaudios_tap_or_it_is_asked_for(fakes):
    """Where MIDI out is a JACK port, audio out is a JackAudioPlayer on it; with audio in on, or
    $DD_LIVE_AUDIO_API=portaudio, a PortAudio stream; =jack asks for the JACK client with audio in too; an
    unknown value is warned about and the default used; a JACK player that fails to start falls back to
    PortAudio."""
    class FakeJackAudio(FakeAudio):
        def __init__(self, port, **kw):
            super().__init__(port=port, **kw)

    jack_port = object()
    fakes.setattr(FakeMidi, "jack_port", jack_port, raising=False)
    fakes.setattr(audio_jack, "JackAudioPlayer", FakeJackAudio)
    cases = [("", False, FakeJackAudio), ("", True, FakeAudio), ("portaudio", False, FakeAudio),
             ("jack", True, FakeJackAudio), ("alsa", False, FakeJackAudio)]
    for api, audio_in, kind in cases:
        fakes.setenv("DD_LIVE_AUDIO_API", api)
        _, audio = open_outputs(midi="virtual", audio=True, bpm=120.0, audio_in=audio_in)
        assert type(audio) is kind, (api, audio_in)
        assert audio.kw.get("port") is (jack_port if kind is FakeJackAudio else None)
    fakes.setattr(FakeJackAudio, "start", lambda self: (_ for _ in ()).throw(BackendError("no ports")))
    fakes.setenv("DD_LIVE_AUDIO_API", "")
    _, audio = open_outputs(midi="virtual", audio=True, bpm=120.0)
    assert type(audio) is FakeAudio and audio.started
