"""Drum parts read from MIDI for the drum prior, and a performer's own folder of drum MIDI shaping it."""

from __future__ import annotations

import subprocess
import sys

import mido
import numpy as np
import pytest

from dd_live.errors import InputError
from dd_live.testing.oscclient import free_udp_port
from dd_live.loops.prior import RESOLUTION
from dd_live.song.drum_parts import folder_bars, performer_prior
from dd_live.sound.roles import ROLES


def _drums(path, bars: int, *, kick=(0, 8), snare=(4, 12), hats=tuple(range(0, 16, 2)), tpb: int = 96,
           numerator: int = 4, channel: int = 9) -> None:
    """A type-1 file: ``bars`` bars of one drum pattern (16ths) on ``channel``."""
    step = tpb // 4
    events = []
    for b in range(bars):
        base = b * numerator * tpb
        for note, steps in ((36, kick), (38, snare), (42, hats)):
            events += [(base + s * step, note) for s in steps]
    timeline = sorted([(t, 1, n) for t, n in events] + [(t + 10, 0, n) for t, n in events])
    track, now = mido.MidiTrack(), 0
    track.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=4, time=0))
    for tick, on, note in timeline:
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, channel=channel, note=note, velocity=100 * on, time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=bars * numerator * tpb - now))
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    mid.tracks.append(track)
    mid.save(str(path))


def test_bars_of_drums_by_role_and_position(tmp_path):
    _drums(tmp_path / "a.mid", 4)
    _drums(tmp_path / "waltz.mid", 3, kick=(0,), snare=(4, 8), hats=(), numerator=3)
    _drums(tmp_path / "keys.mid", 2, channel=0)            # no drums: skipped, with why
    (tmp_path / "notes.mid").write_bytes(b"not a midi file")
    bars = folder_bars([tmp_path])
    assert bars.files == 2 and len(bars.skipped) == 2
    assert any("keys.mid" in s and "no complete bar of drums" in s for s in bars.skipped)
    assert any("notes.mid" in s and "not a readable MIDI file" in s for s in bars.skipped)
    arrays = bars.arrays()
    h, v = arrays[(16, 4)]
    assert h.shape == (4, len(ROLES), 4 * RESOLUTION)
    per16 = RESOLUTION // 4
    low, back, time = (np.flatnonzero(h[0, ROLES.index(r)]) // per16 for r in ("low", "backbeat", "time"))
    assert low.tolist() == [0, 8] and back.tolist() == [4, 12] and time.tolist() == list(range(0, 16, 2))
    assert (v[h] == 100).all()
    h3, _ = arrays[(12, 3)]
    assert h3.shape == (3, len(ROLES), 3 * RESOLUTION)
    assert bars.arrays(min_origins=2) == {}                 # each meter from one file only


def test_a_performers_patterns_shape_the_prior(tmp_path, kit):
    """Four on the floor in every file of the folder: a new session's loops have far more kicks on 2 and 4."""
    for k in range(3):
        _drums(tmp_path / f"floor{k}.mid", 8, kick=(0, 4, 8, 12), snare=(4, 12), hats=(2, 6, 10, 14))
    shipped = performer_prior([])
    shaped = performer_prior([tmp_path])
    assert any(s["name"] == "patterns" for s in shaped.sources) and "patterns" not in {s["name"]
                                                                                      for s in shipped.sources}
    rng = np.random.default_rng(0)
    plain = shipped.draw(kit, rng, 600, free=0.0)[0][:, 0, [4, 12]].mean()
    theirs = shaped.draw(kit, rng, 600, free=0.0)[0][:, 0, [4, 12]].mean()
    assert theirs > plain + 0.3


def test_a_folder_without_drums_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no usable drum part") as err:
        performer_prior([tmp_path / "empty"])
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="no such file or folder"):
        performer_prior([tmp_path / "missing"])


def test_serve_refuses_a_patterns_folder_without_drums_and_makes_no_session(tmp_path):
    (tmp_path / "empty").mkdir()
    session = tmp_path / "s"
    done = subprocess.run([sys.executable, "-m", "dd_live.cli", "serve", "--session", str(session), "--patterns",
                           str(tmp_path / "empty"), "--no-web", "--no-audio", "--midi-out", "none", "--midi-in",
                           "none", "--osc-port", str(free_udp_port())], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and "no usable drum part" in lines[0]
    assert not session.exists()
