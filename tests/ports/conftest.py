"""Fixtures of the port tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["python", "c"])
def loop_state(request):
    """A fresh audio-out loop, as each audio out plays it: PortAudio's (:class:`LoopState`, Python in the
    callback) and JACK's (:class:`JackLoop`, ``jack_audio.c``'s fill, run here on a buffer)."""
    if request.param == "python":
        from dd_live.ports.audio_out import LoopState

        yield LoopState()
        return
    from dd_live.ports import midi_jack

    if not midi_jack.available():
        pytest.skip("the JACK writer does not build here (no C compiler or libjack)")
    from dd_live.ports.audio_jack import JackLoop

    loop = JackLoop()
    yield loop
    loop.close()
