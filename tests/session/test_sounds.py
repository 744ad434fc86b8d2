"""The sounds a session keeps (dd_live.session.sounds): content-addressed copies that outlive the sample folders,
and exports that add only what is new."""

from __future__ import annotations

import numpy as np
import pytest

from dd_live.loops.pattern import random_pattern
from dd_live.session.session import Session
from dd_live.session.sounds import UnknownLoop, sound_hash


def _rated(folder, kit, n):
    s = Session(folder)
    rng = np.random.default_rng(11)
    for cid in range(1, n + 1):
        s.add_candidate(cid, random_pattern(kit, rng).to_json(), 0.5, 0, 0, 120.0, "explore")
        s.rate(cid, cid % 2 == 1, s.keep_samples(cid, kit))
    return s


def test_each_sound_is_kept_once_under_the_hash_of_its_audio(tmp_path, kit):
    s = _rated(tmp_path / "s", kit, 6)
    try:
        kept = {p.stem for p in s.samples_dir.glob("*.wav")}
        used = {key for cid in range(1, 7) for key in s.played_pattern(cid).samples}
        assert kept == {sound_hash(kit, kit.index(k)) for k in used}     # one file per distinct sound, no more
        assert s.unkept() == [] and s.missing_sample_files() == []
        hashes: dict[int, str] = {}
        assert sound_hash(kit, 0, hashes) == sound_hash(kit, 0) and list(hashes) == [0]
        assert sound_hash(kit, 0) != sound_hash(kit, 1)
    finally:
        s.close()


def test_a_rated_loop_plays_its_own_sounds_after_the_folder_changed(tmp_path, kit, make_library):
    s = _rated(tmp_path / "s", kit, 2)
    try:
        keys = s.played_pattern(1).samples
        lib = s.loop_library(1)
        for key in keys:
            np.testing.assert_array_equal(lib.audio(lib.index(key)), kit.audio(kit.index(key)))
        other = make_library([4000] * 8)            # the folders now hold other sounds under other names
        out = s.export_loop(1, tmp_path / "x", other)
        assert (out / "loop.wav").is_file()
        with pytest.raises(UnknownLoop, match="no candidate 99"):
            s.export_loop(99, tmp_path / "y", kit)
    finally:
        s.close()


def test_many_loops_read_each_kept_sound_once_through_a_cache(tmp_path, kit, monkeypatch):
    """The trainer remakes many rated loops in a row (after a restart): each kept sound is read and checked once
    for all of them, and every loop's sounds are the ones read alone."""
    import soundfile

    s = _rated(tmp_path / "s", kit, 8)
    try:
        alone = [s.loop_library(cid) for cid in range(1, 9)]
        reads = []
        real = soundfile.read
        monkeypatch.setattr(soundfile, "read", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
        cache: dict = {}
        shared = [s.loop_library(cid, cache) for cid in range(1, 9)]
        assert len(reads) == len(set(reads)) == len(cache) == len(list(s.samples_dir.glob("*.wav")))
        for a, b, cid in zip(alone, shared, range(1, 9)):
            for key in s.played_pattern(cid).samples:
                np.testing.assert_array_equal(a.audio(a.index(key)), b.audio(b.index(key)))
    finally:
        s.close()


def test_a_rerun_of_an_export_adds_only_new_loops_and_reports_lost_ones(tmp_path, kit, make_library):
    s = _rated(tmp_path / "s", kit, 4)
    try:
        out = tmp_path / "out"
        calls = []

        def folders():
            calls.append(1)
            return kit

        first = s.export_rated(out, folders, liked=True)
        assert (first.asked, first.written, first.already, first.failed) == (2, 2, 0, [])
        assert calls == []                                              # kept sounds: the folders never loaded
        assert sorted(p.name for p in out.iterdir()) == ["00001_liked", "00003_liked"]
        again = s.export_rated(out, folders)
        assert (again.asked, again.written, again.already) == (4, 2, 2)
        rng = np.random.default_rng(3)
        s.add_candidate(5, random_pattern(kit, rng).to_json(), 0.5, 0, 0, 120.0, "explore")
        s.rate(5, True)                                                 # rated with no sounds kept
        elsewhere = make_library([4000] * 4)
        report = s.export_rated(out, lambda: elsewhere, liked=True)
        assert report.written == 0 and report.already == 2 and len(report.failed) == 1
        assert report.failed[0].startswith("loop 5: sample ") and "neither the session nor" in report.failed[0]
    finally:
        s.close()
