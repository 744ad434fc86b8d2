"""Where the drum prior learns from (dd_live.lab.drum_sources) and ``dd-live prior`` (dd_live.lab.prior_cli):
mma's grooves cut into bars of their own meter, a performer's own files, one line for what is skipped."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pytest

from dd_live.cli import main
from dd_live.errors import InputError
from dd_live.lab.drum_sources import GROOVE_BARS, _groove_file, _meter_fits, build
from dd_live.loops.prior import load_prior


def _floor(path: Path, bars: int = 8, numerator: int = 4) -> None:
    """``bars`` bars of four on the floor, backbeat snare and eighth hats on channel 10, 96 ticks a beat."""
    track, now, events = mido.MidiTrack(), 0, []
    track.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=4, time=0))
    for b in range(bars):
        for beat in range(numerator):
            t = (b * numerator + beat) * 96
            events += [(t, 36), (t + 48, 42)] + ([(t, 38)] if beat % 2 else [])
    timeline = sorted([(t, 1, n) for t, n in events] + [(t + 10, 0, n) for t, n in events])
    for tick, on, note in timeline:
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, channel=9, note=note, velocity=100 * on, time=tick - now))
        now = tick
    f = mido.MidiFile(ticks_per_beat=96)
    f.tracks.append(track)
    f.save(str(path))


def test_a_bar_of_mma_fits_its_meter_as_mma_counts_it():
    assert _meter_fits(4.0, 4, 4) and _meter_fits(3.0, 3, 4) and not _meter_fits(4.0, 3, 4)
    assert _meter_fits(3.0, 6, 8) and _meter_fits(6.0, 6, 8) and _meter_fits(2.0, 6, 8)   # eighths, dotted quarters
    assert not _meter_fits(5.0, 6, 8) and _meter_fits(6.0, 12, 8) and not _meter_fits(4.0, 6, 8)


@pytest.mark.mma
def test_every_groove_of_an_mma_file_is_played_and_cut_into_bars_of_its_meter(tmp_path):
    lib = Path("/usr/share/mma/lib/stdlib/waltz.mma")
    bars, used, why = _groove_file(lib, tmp_path)
    assert why is None and used >= 10
    assert set(bars.grids) == {(12, 3)}                              # a waltz: bars of three beats, nothing else
    rows = bars.grids[(12, 3)]
    origins = {origin for _, _, origin in rows}
    assert all(o.startswith("mma:") for o in origins) and len(origins) >= 10
    assert len(rows) <= used * GROOVE_BARS                           # at most GROOVE_BARS bars a groove
    hits = sum(h for h, _, _ in rows)
    assert hits.sum() > 0 and hits.shape[-1] % 3 == 0


def test_a_performers_folder_alone_builds_a_prior_and_names_what_it_skipped(tmp_path):
    for k in range(2):
        _floor(tmp_path / f"floor{k}.mid", 12)
    (tmp_path / "broken.mid").write_bytes(b"MThd not really")
    doc, seconds, skipped = build(mma=False, simutrans=False, patterns=[tmp_path])
    assert [s["name"] for s in doc["sources"]] == ["patterns"] and doc["sources"][0]["bars"] == 24
    assert seconds >= 0 and len(skipped) == 1 and "broken.mid" in skipped[0] and "\n" not in skipped[0]
    with pytest.raises(InputError, match="no such file or folder"):
        build(mma=False, simutrans=False, patterns=[tmp_path / "missing"])


def test_prior_build_and_show_from_the_command_line(tmp_path, capsys):
    songs = tmp_path / "songs"
    songs.mkdir()
    _floor(songs / "a.mid", 24)
    _floor(songs / "b.mid", 21, numerator=3)
    _floor(songs / "c.mid", 5, numerator=5)                  # too few bars of 5/4 to learn that meter
    out = tmp_path / "mine.json"
    assert main(["prior", "build", "--patterns", str(songs), "--out", str(out)]) == 0
    said = capsys.readouterr().err
    assert "a drum prior from 50 bars (patterns)" in said and str(out) in said
    assert main(["prior", "show", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert len(shown["grids"]) == 2                                  # a grid for each meter learned
    assert sum(g["bars"] for g in shown["grids"].values()) == 45 and shown["sources"][0]["name"] == "patterns"
    assert len(load_prior(out).grids) == 2
    assert main(["prior", "build", "--patterns", str(songs), "--out", str(out)]) != 0   # not replaced unasked
    assert "exists" in capsys.readouterr().err
    assert main(["prior", "show"]) == 0 and "simutrans" in capsys.readouterr().out      # the shipped one
