"""Sections (song/sections.py) of songs whose structure is known by construction."""

from __future__ import annotations

from .checks import make_midi

from dd_live.song.read import read_song
from dd_live.song.sections import find_sections


def _spans(sections) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.label) for s in sections]


def test_a_quiet_verse_a_busy_chorus_and_the_verse_again_are_three_sections_labelled_a_b_a(tmp_path):
    song = read_song(make_midi(tmp_path / "s.mid", [("quiet", 8, 4, 4, 100.0), ("busy", 8, 4, 4, 100.0),
                                                   ("quiet", 8, 4, 4, 100.0)]))
    spans = _spans(find_sections(song))
    assert [(s, e) for s, e, _ in spans] == [(0, 8), (8, 16), (16, len(song.bars))]   # (and the last chord's bar)
    labels = [label for *_, label in spans]
    assert labels[0] == labels[2] != labels[1]


def test_silence_meter_and_tempo_changes_start_sections_of_their_own(tmp_path):
    song = read_song(make_midi(tmp_path / "s.mid", [("busy", 4, 4, 4, 100.0), ("silent", 2, 4, 4, 100.0),
                                                   ("busy", 4, 3, 4, 100.0), ("busy", 4, 3, 4, 140.0)]))
    spans = _spans(find_sections(song))
    starts = {s for s, _, _ in spans}
    assert {0, 4, 6, 10} <= starts                              # silence in and out, a new meter, a new tempo
    assert [label for s, e, label in spans if s == 4] == ["silence"]
    assert find_sections(song, price=1e6)[0].end >= 4           # a huge price merges all it may, not what is forced
    assert {s.start for s in find_sections(song, price=1e6)} >= {4, 6, 10}
