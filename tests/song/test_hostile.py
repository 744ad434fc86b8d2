"""Hostile MIDI files through ``dd-live song``: exit 0 or 2, one line, no traceback, bounded before anything large is
made (``dd-live bench hostile`` runs a hundred, one process each)."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.cli import main
from dd_live.bench.hostile import MAX_WRITTEN, _notes, _vlq, make_files, smf, written
from dd_live.song import read

ISSUE_FILE = bytes.fromhex("4d546864000000060001000100604d54726b0000001400ff580401ff180800903c6460803c0000ff2f00")


def _song(tmp_path, capsys, data: bytes, name: str = "x.mid") -> tuple[int, str, int]:
    f = tmp_path / name
    f.write_bytes(data)
    out = tmp_path / f"out_{name}"
    rc = main(["song", str(f), "--out", str(out), "--threads", "1"])
    err = capsys.readouterr().err
    return rc, err, written(out)


def _one_line(err: str) -> None:
    assert "Traceback" not in err and sum("error:" in line for line in err.splitlines()) <= 1, err


def test_a_meter_with_bars_of_no_ticks_is_dropped_and_the_song_written(tmp_path, capsys, caplog):
    rc, err, size = _song(tmp_path, capsys, ISSUE_FILE)   # 1/2^255: it hung, growing 6 MB/s
    assert rc == 0 and "a time signature of 1/2^255 (a bar of no ticks) is not playable" in caplog.text and size > 0
    _one_line(err)


@pytest.mark.parametrize("data, fragment", [
    (smf([b"\x00\xff\x51\x03\x00\x00\x00" + _notes(np.random.default_rng(0), 8)]), None),     # a tempo of 0
    (smf([_notes(np.random.default_rng(0), 4) + _vlq(1 << 27) + b"\x90\x3c\x64\x60\x80\x3c\x00"]), "the song lasts"),
    (smf([_notes(np.random.default_rng(0), 4)], fmt=7), "header says format 7"),
    (smf([_notes(np.random.default_rng(0), 4)], division=0x8000 | 25 << 8 | 40), "SMPTE"),
])
def test_odd_tempos_deltas_and_headers_are_one_line(tmp_path, capsys, caplog, data, fragment):
    rc, err, size = _song(tmp_path, capsys, data)
    _one_line(err)
    if fragment is None:
        assert rc == 0 and "a tempo of 0 is not playable" in caplog.text
    else:
        assert rc == 2 and fragment in err and size == 0


def test_more_notes_or_bars_than_a_song_has_are_refused_before_they_are_arranged(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(read, "MAX_NOTES", 500)
    rc, err, size = _song(tmp_path, capsys, smf([_notes(np.random.default_rng(1), 600, step=4)]), "notes.mid")
    assert rc == 2 and "more than 500 notes" in err and size == 0
    data = smf([b"\x00\xff\x58\x04\x07\x03\x18\x08" + _notes(np.random.default_rng(1), 100)])   # 7/8
    (tmp_path / "probe.mid").write_bytes(data)
    bars = len(read.read_song(tmp_path / "probe.mid").bars)                  # counted as they are made
    monkeypatch.setattr(read, "MAX_BARS", bars - 1)
    rc, err, size = _song(tmp_path, capsys, data, "bars.mid")
    assert rc == 2 and f"the song has {bars} bars; song mode writes drums for songs of at most {bars - 1}" in err
    assert size == 0


@pytest.mark.simutrans
def test_hostile_files_made_from_a_seed_each_end_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(read, "MAX_NOTES", 5_000)   # the notes kind is then refused at once (the bench runs it whole)
    codes = []
    for path in make_files(tmp_path / "in", 16, seed=7):
        out = tmp_path / "out" / path.stem
        rc = main(["song", str(path), "--out", str(out), "--threads", "1"])
        err = capsys.readouterr().err
        _one_line(err)
        assert rc in (0, 2) and written(out) < MAX_WRITTEN, (path.name, rc, err)
        codes.append(rc)
    assert 0 in codes and 2 in codes


@pytest.mark.parametrize("command", ["song", "evaluate"])
def test_a_plot_without_matplotlib_is_refused_before_any_work(tmp_path, capsys, monkeypatch, command):
    import sys

    f = tmp_path / "x.mid"
    f.write_bytes(smf([_notes(np.random.default_rng(0), 8)]))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    args = (["song", str(f), "--out", str(tmp_path / "out"), "--threads", "1"] if command == "song" else
            ["evaluate", "--rater", "dd_live.raters:GrooveRater", "--seeds", "0", "--ratings", "2"])
    rc = main([*args, "--plot", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert rc != 0 and "pip install 'dd_live[plot]'" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()                   # nothing written: the rerun needs no --force
