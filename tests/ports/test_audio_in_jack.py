"""Audio in on a JACK dummy server (dd_live.testing.audioloop, a process of its own, through ``dd-live bench
playalong``'s audio_in_figures): a rendered guitar and claps with the drums mixed in, played out of PortAudio
into audio in's PortAudio input; the drums taken out with the way back audio in measured itself."""

from __future__ import annotations

import json

import pytest

from dd_live.bench.playalong import audio_in_figures

pytestmark = pytest.mark.jack


def test_onsets_through_jack_are_where_they_were_played_and_no_drum_is_one():
    for attempt in range(3):        # a run in which the machine held JACK up (xruns: audio lost) is measured again
        got = audio_in_figures(8.0)["audio_in"]
        print(json.dumps(got))
        assert isinstance(got, dict), got
        if not got["xruns"]:
            break
    lost = got["xruns"]             # after three such runs: an onset in audio that was lost may be missed or made
    assert got["onsets"] >= 15 and got["dropped_blocks"] == 0 and got["drums_delay_gain"][1] > 0.5
    assert abs(got["stamp_lag_ms"]) < 10 and got["p95_ms"] <= 5.0       # PortAudio's streams' stamps: a constant
    assert got["heard_not_played"] <= lost                                # no drum taken for the human
