"""Audio in on a JACK dummy server (dd_live.testing.audioloop, a process of its own): a rendered guitar and claps
with the drums mixed in, played out of PortAudio into audio in's PortAudio input; the drums taken out with the
way back audio in measured itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.jack


def test_onsets_through_jack_are_where_they_were_played_and_no_drum_is_one(jack):
    done = subprocess.run([sys.executable, "-m", "dd_live.testing.audioloop", "8"], env={**os.environ, **jack},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    heard, played = np.array(doc["heard"]), np.array(doc["played"])
    assert doc["connected"] and doc["dropped"] == 0 and doc["bleed"][1] > 0.5
    settled = played[played > played[0] + 1.0]                   # after audio in first measured the drums
    err = np.array([heard[np.argmin(np.abs(heard - p))] - p for p in settled])
    lag = float(np.median(err))                                    # PortAudio's two streams' stamps disagree
    print(json.dumps({"onsets": int(settled.size), "stamp_lag_ms": round(lag * 1e3, 3),
                      "p95_ms": round(float(np.percentile(np.abs(err - lag), 95)) * 1e3, 3)}))
    assert abs(lag) < 0.01 and np.percentile(np.abs(err - lag), 95) <= 0.005
    late = heard[heard > played[0] + 1.0]
    assert all(np.min(np.abs(played - h)) < 0.025 for h in late)     # nothing heard that the human did not play
