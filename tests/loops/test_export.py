from __future__ import annotations


import mido
import numpy as np
import pytest
import soundfile as sf

from dd_live.errors import ExportError
from dd_live.loops.export import export_pattern, midi_file, note_map
from dd_live.loops.pattern import Pattern


def _pattern(lib, rng, *, force=(), **kw) -> Pattern:
    hits = rng.random((4, 16)) < 0.5
    hits[:, 0] = True
    for t, s in force:
        hits[t, s] = True
    vel = rng.integers(1, 128, (4, 16))
    return Pattern(hits=hits, samples=tuple(s.key for s in lib.samples[:4]), velocities=vel, **kw)


def _read_notes(mid: mido.MidiFile) -> list[tuple[int, int, int]]:
    """(absolute tick, note, velocity) of every note-on with velocity > 0, from the drum track."""
    out, now = [], 0
    for msg in mid.tracks[1]:
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            assert msg.channel == 9
            out.append((now, msg.note, msg.velocity))
    return out


def test_midi_file_has_exactly_the_patterns_hits(small_lib, rng, tmp_path):
    p = _pattern(small_lib, rng)
    path = tmp_path / "loop.mid"
    midi_file(p, [36, 37, 38, 39], bpm=128, repeats=3).save(str(path))
    mid = mido.MidiFile(str(path))
    assert mid.type == 1 and mid.ticks_per_beat == 480 and len(mid.tracks) == 2
    metas = {m.type: m for m in mid.tracks[0] if m.is_meta}
    assert mido.tempo2bpm(metas["set_tempo"].tempo) == pytest.approx(128)
    assert (metas["time_signature"].numerator, metas["time_signature"].denominator) == (4, 4)
    want = sorted((rep * 1920 + s * 120, 36 + t, int(p.velocities[t, s]))
                  for rep in range(3) for t in range(4) for s in range(16) if p.hits[t, s])
    assert _read_notes(mid) == want
    ons = sum(1 for m in mid.tracks[1] if m.type == "note_on")
    offs = sum(1 for m in mid.tracks[1] if m.type == "note_off")
    assert ons == offs == 3 * int(p.hits.sum())
    assert mid.length == pytest.approx(3 * 4 * 60 / 128)


def test_midi_times_follow_swing_and_offsets(small_lib, rng):
    off = np.zeros((4, 16))
    off[1, 5] = 0.25
    off[2, 0] = -0.5
    p = _pattern(small_lib, rng, swing=0.5, offsets=off, force=[(1, 5), (2, 0)])
    notes = _read_notes(midi_file(p, [36, 37, 38, 39], repeats=2))
    assert (5 * 120 + 60 + 30, 37, int(p.velocities[1, 5])) in notes  # odd step: swing 60 ticks + offset 30
    assert (0, 38, int(p.velocities[2, 0])) in notes            # before the bar line: clamped to 0
    assert (1920 - 60, 38, int(p.velocities[2, 0])) in notes    # in the second bar, half a step early


def test_note_maps():
    assert note_map(["snare", "kick", "zap", "perc"]) == [36, 37, 38, 39]
    assert note_map(["kick", "snare", "hat_closed", "hat_open"], gm=True) == [36, 38, 42, 46]
    assert note_map(["crash", "ride", "bell", "rim"], gm=True) == [49, 51, 56, 37]
    # toms from low to high by pitch, whatever the track order
    assert note_map(["clap", "tom", "tom", "tom"], gm=True, pitches=[0, 200, 90, 140]) == [39, 50, 43, 47]
    # the first closed hat keeps 42 though a second and third come first; they take 44 and 46 (hats), not 35
    assert note_map(["hat_closed", "hat_closed", "hat_closed", "kick"], gm=True) == [42, 44, 46, 36]
    # the open hat has the category's own note even after two closed hats took the family's others
    assert note_map(["hat_closed", "hat_closed", "hat_open"], gm=True) == [42, 44, 46]


def test_gm_notes_stay_in_their_family_or_say_so():
    """Any kit: one note per sound, each on a note of its own GM family unless the family ran out, and then
    the loan is reported with the family that lent it (a third kick on a low tom, never on a snare)."""
    from dd_live.loops.gm import FAMILIES, GM_FAMILY_OF_NOTE, family_of, gm_map

    kicks = gm_map(["kick"] * 4)
    assert kicks.notes[:2] == (36, 35) and all(GM_FAMILY_OF_NOTE[n] == "tom" for n in kicks.notes[2:])
    assert [(t, f) for t, _, _, f in kicks.loans] == [(2, "tom"), (3, "tom")]
    assert "track 3 (kick) plays on note 41, a tom note" in kicks.remarks()[0]
    snares = gm_map(["snare", "snare", "clap", "rim", "snare"])
    assert snares.notes[:4] == (38, 40, 39, 37) and GM_FAMILY_OF_NOTE[snares.notes[4]] == "perc"
    cats = ["kick", "snare", "clap", "rim", "hat_closed", "hat_open", "crash", "ride", "tom", "bell", "perc",
            "zap", "harsh", "other"]
    g = np.random.default_rng(5)
    for _ in range(300):
        kit = [cats[i] for i in g.integers(0, len(cats), g.integers(1, 17))]
        m = gm_map(kit, pitches=g.uniform(50, 400, len(kit)))
        assert len(set(m.notes)) == len(kit) and all(35 <= n <= 81 for n in m.notes)
        lent = {t for t, *_ in m.loans}
        for t, (c, n) in enumerate(zip(kit, m.notes)):
            if t in lent:
                assert sum(1 for x in kit if family_of(x) == family_of(c)) > len(FAMILIES[family_of(c)])
            else:
                assert GM_FAMILY_OF_NOTE[n] == family_of(c), (kit, m)


def test_export_writes_everything_and_sfz_matches(small_lib, rng, tmp_path):
    p = _pattern(small_lib, rng)
    out = tmp_path / "exp"
    paths = export_pattern(out, p, small_lib, bpm=100, gm=True)
    assert set(paths) == {"loop.wav", "preview.wav", "pattern.json", "loop.mid", "kit.sfz"}
    loop, rate = sf.read(out / "loop.wav")
    assert rate == 44100 and loop.shape == (105840,)
    assert Pattern.from_json((out / "pattern.json").read_text()) == p
    sfz = (out / "kit.sfz").read_text()
    regions = [block for block in sfz.split("<region>")[1:]]
    assert len(regions) == 4
    cats = [small_lib.samples[small_lib.index(k)].category for k in p.samples]
    for t, (block, note) in enumerate(zip(regions, note_map(cats, gm=True))):
        fields = dict(line.split("=", 1) for line in block.split() if "=" in line)
        assert int(fields["key"]) == note
        audio, rate = sf.read(out / "samples" / fields["sample"], dtype="float32")
        info = sf.info(str(out / "samples" / fields["sample"]))
        assert rate == 44100 and info.channels == 1 and info.subtype == "PCM_24"
        np.testing.assert_allclose(audio, small_lib.audio(small_lib.index(p.samples[t])), atol=2 ** -22)
    assert not [f for f in out.rglob("*") if f.name.endswith(".tmp")]


def test_export_never_overwrites_without_force(small_lib, rng, tmp_path):
    p = _pattern(small_lib, rng)
    export_pattern(tmp_path, p, small_lib)
    before = (tmp_path / "loop.wav").read_bytes()
    q = _pattern(small_lib, rng)
    with pytest.raises(ExportError, match="use --force"):
        export_pattern(tmp_path, q, small_lib)
    assert (tmp_path / "loop.wav").read_bytes() == before
    export_pattern(tmp_path, q, small_lib, force=True)
    assert Pattern.from_json((tmp_path / "pattern.json").read_text()) == q


def test_export_into_a_file_is_refused(small_lib, rng, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        export_pattern(f, _pattern(small_lib, rng), small_lib)


def test_exports_honour_the_umask(small_lib, rng, tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        export_pattern(tmp_path / "e", _pattern(small_lib, rng), small_lib)
    finally:
        os.umask(mask)
    modes = {f.name: f.stat().st_mode & 0o777 for f in (tmp_path / "e").rglob("*") if f.is_file()}
    assert set(modes.values()) == {0o644}, modes


def test_a_candidates_files_and_its_export_come_from_one_writer(kit, rng, tmp_path):
    """The daemon's candidate files and an export of the same loop at the same tempo are the same audio
    (one writer: a second one drifting apart, in bit depth, mix or preview length, fails here)."""
    from dd_live.live.loop import write_candidate_files
    from dd_live.loops.pattern import random_pattern

    pattern = random_pattern(kit, rng)
    files, bar = write_candidate_files(tmp_path / "cand", pattern, kit, 97.0, [36, 37, 38, 39])
    assert sorted(p.name for p in files.values()) == ["loop_97.mid", "loop_97.wav", "preview_97.wav"]
    export_pattern(tmp_path / "exp", pattern, kit, bpm=97.0)
    assert files["loop_wav"].read_bytes() == (tmp_path / "exp" / "loop.wav").read_bytes()
    assert files["preview_wav"].read_bytes() == (tmp_path / "exp" / "preview.wav").read_bytes()
    assert sf.info(str(files["loop_wav"])).frames == bar.shape[0] == round(4 * 60 / 97 * 44100)
    one, four = mido.MidiFile(str(files["midi_file"])), mido.MidiFile(str(tmp_path / "exp" / "loop.mid"))
    ons = [sum(m.type == "note_on" and m.velocity > 0 for m in f.tracks[1]) for f in (one, four)]
    assert ons == [int(pattern.hits.sum()), 4 * int(pattern.hits.sum())]   # one bar, and export's four


def test_the_one_loop_record_is_the_raters_candidate(kit, rng):
    from dd_live.lab.evaluate import Candidate
    from dd_live.loops.pattern import random_arrays
    from dd_live.groove.record import Loop

    hits, idx = random_arrays(kit, rng, 1)
    audio = rng.normal(0, 0.1, 88200).astype(np.float32)
    loop = Loop.from_arrays(hits[0], idx[0], kit, audio, 0.7, origin="phase1", pitches=[36, 37, 38, 39])
    audio[:] = 0                                          # the record keeps its own copy
    assert Candidate is Loop and loop.audio.any() and loop.sample_rate == 44100 and loop.score == 0.7
    assert loop.sample_paths == [kit.samples[int(i)].path for i in idx[0]]
    assert np.array_equal(loop.pattern.hits, hits[0]) and loop.pattern.samples == tuple(kit.keys(idx[0]))
    assert loop.notes is loop.notes and len(loop.notes) == int(hits[0].sum())


def test_kit_sfz_plays_loop_mid_at_loop_wav_level(tmp_path):
    """loop.mid played through kit.sfz by an SFZ player of its own (dd_live.testing.sfzplay) peaks within 0.5 dB
    of loop.wav once the loop is playing (bars 2-4, where tails ring over as in the looped bar): quiet loops and
    busy ones that the renderer turned down so as not to clip."""
    from dd_live.testing.sfzplay import play_midi, read_sfz
    from dd_live.loops.render import bar_length

    from pathlib import Path

    from dd_live.sound.samples import assemble_library

    # decaying tones (a noise burst's peak moves with a one-sample shift; a drum's body does not)
    t = np.arange(60000) / 44100
    tones = [(np.sin(2 * np.pi * f * t) * np.exp(-t / tau))[: n].astype(np.float32) * 0.9
             for f, tau, n in ((55, 0.3, 40000), (190, 0.15, 20000), (900, 0.02, 3000), (110, 0.4, 60000))]
    lib = assemble_library([(f"t/{c}.wav", Path(f"/nonexistent/{c}.wav"), y, c)
                     for y, c in zip(tones, ["kick", "snare", "hat_closed", "tom"])], [])
    g = np.random.default_rng(11)
    levelled = 0
    for k, (density, vel) in enumerate([(0.15, (40, 90)), (0.3, (60, 128)), (0.9, (120, 128)), (1.0, (127, 128))]):
        hits = g.random((4, 16)) < density
        hits[0, 0] = True
        p = Pattern(hits=hits, samples=tuple(s.key for s in lib.samples), velocities=g.integers(*vel, (4, 16)))
        out = tmp_path / f"e{k}"
        export_pattern(out, p, lib, bpm=110, gm=True, repeats=4, force=True)
        loop, _ = sf.read(out / "loop.wav", dtype="float64")
        played = play_midi(out / "loop.mid", read_sfz(out / "kit.sfz"))
        n = bar_length(110)
        steady = played[n: 4 * n]
        ratio_db = 20 * np.log10(np.abs(steady).max() / np.abs(loop).max())
        assert abs(ratio_db) < 0.5, (k, ratio_db)
        levelled += "volume=-6.021" not in (out / "kit.sfz").read_text()
    assert levelled >= 2        # the busy loops were turned down, and the kit with them


def test_an_unnamed_sound_gets_the_gm_note_of_the_role_its_sound_plays(unnamed_kit):
    """Files named x00.wav ...: with --gm a kick-like sound goes on a kick note, a clap on a snare-family
    note, a closed hat on a hat note, by their sound (the roles), not on GM percussion notes."""
    from dd_live.loops.export import kit_notes
    from dd_live.loops.gm import GM_FAMILY_OF_NOTE

    lib, picks = unnamed_kit({"kick": 1, "clap": 1, "hat_closed": 1, "bell": 1})
    family = {"kick": "kick", "clap": "snare", "hat_closed": "hat", "bell": "perc"}
    idx = list(range(len(lib)))
    notes = kit_notes(lib, idx, gm=True).notes
    assert {lib.samples[i].path.stem: GM_FAMILY_OF_NOTE[n] for i, n in zip(idx, notes)} == \
        {stem: family[cat] for stem, cat in picks.items()}
    assert kit_notes(lib, idx, gm=False).notes == (36, 37, 38, 39)


def test_an_export_is_current_only_at_its_tempo_and_note_map(small_lib, rng, tmp_path):
    """made_as reads back the tempo and the note map an export was written with (loop.mid, kit.sfz)."""
    from dd_live.loops.export import NOTE_MAPS, made_as

    p = _pattern(small_lib, rng)
    export_pattern(tmp_path / "a", p, small_lib, bpm=97.3)
    export_pattern(tmp_path / "b", p, small_lib, bpm=120, gm=True)
    assert made_as(tmp_path / "a")[1] is False and abs(made_as(tmp_path / "a")[0] - 97.3) < 0.01
    assert made_as(tmp_path / "b") == (120.0, True)
    assert (tmp_path / "b" / "kit.sfz").read_text().partition("\n")[0].endswith(NOTE_MAPS[True])
    (tmp_path / "b" / "loop.mid").write_bytes(b"MThd garbage")
    assert made_as(tmp_path / "b") is None and made_as(tmp_path / "missing") is None
