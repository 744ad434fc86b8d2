from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dd_live.sound import samples as samples_mod
from dd_live.errors import InputError
from dd_live.sound.categories import guess_category
from dd_live.sound.samples import load_library

SR = 44100


def _tone(hz: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.8 * np.sin(2 * np.pi * hz * t) * np.exp(-t / seconds * 2)).astype(np.float32)


@pytest.fixture
def odd_folder(tmp_path: Path) -> Path:
    d = tmp_path / "odd"
    (d / "sub").mkdir(parents=True)
    (d / "empty.wav").write_bytes(b"")
    (d / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(64))
    (d / "notes.txt").write_text("not audio at all\n")
    (d / ".DS_Store").write_bytes(b"\x00\x01")
    sf.write(d / "hires_kick.wav", np.stack([_tone(60, 0.4, 96000), _tone(60, 0.4, 96000)], 1), 96000, subtype="PCM_24")
    sf.write(d / "sub" / "lofi_snare.wav", _tone(200, 0.2, 22050), 22050, subtype="PCM_U8")
    sf.write(d / "sub" / "hat.flac", _tone(8000, 0.1, 44100), 44100, subtype="PCM_16")
    sf.write(d / "tom.aiff", _tone(120, 0.3, 48000), 48000, subtype="PCM_16")
    sf.write(d / "silent.wav", np.zeros(4410, np.float32), 44100, subtype="PCM_16")
    sf.write(d / "song.wav", _tone(100, 11.0, 8000), 8000, subtype="PCM_16")
    return d


def test_odd_folder_loads_good_files_and_names_bad_ones(odd_folder):
    lib = load_library([odd_folder])
    keys = sorted(s.key for s in lib.samples)
    assert keys == ["odd/hires_kick.wav", "odd/sub/hat.flac", "odd/sub/lofi_snare.wav", "odd/tom.aiff"]
    reasons = {s.path.name: s.reason for s in lib.skipped}
    assert set(reasons) == {"empty.wav", "corrupt.wav", "notes.txt", "silent.wav", "song.wav"}
    assert reasons["empty.wav"] == "empty file"
    assert "libsndfile" in reasons["corrupt.wav"] and "libsndfile" in reasons["notes.txt"]
    assert reasons["silent.wav"] == "silent"
    assert "one-shots must be under" in reasons["song.wav"]
    assert all("\n" not in str(s) for s in lib.skipped)
    cats = {s.key: s.category for s in lib.samples}
    assert cats["odd/hires_kick.wav"] == "kick" and cats["odd/sub/hat.flac"] == "hat_closed"
    assert cats["odd/sub/lofi_snare.wav"] == "snare" and cats["odd/tom.aiff"] == "tom"


def test_conversion_to_mono_44k(odd_folder):
    lib = load_library([odd_folder])
    kick = lib.audio(lib.index("odd/hires_kick.wav"))
    assert kick.dtype == np.float32 and kick.ndim == 1
    assert abs(kick.size - 0.4 * SR) < 0.01 * SR
    spectrum = np.abs(np.fft.rfft(kick, 1 << 16))
    peak_hz = np.argmax(spectrum) * SR / (1 << 16)
    assert abs(peak_hz - 60) < 3
    snare = lib.audio(lib.index("odd/sub/lofi_snare.wav"))
    assert abs(snare.size - 0.2 * SR) < 0.01 * SR


def test_render_from_odd_folder(odd_folder, rng):
    from dd_live.loops.pattern import random_pattern
    from dd_live.loops.render import render_reference

    lib = load_library([odd_folder])
    p = random_pattern(lib, rng, tracks=4)
    y = render_reference([p], lib)
    assert y.shape == (1, 88200) and np.isfinite(y).all() and np.abs(y).max() > 0


def test_cache_is_used_and_invalidated(odd_folder, monkeypatch):
    first = load_library([odd_folder])
    calls = []
    real = samples_mod.load_file
    monkeypatch.setattr(samples_mod, "load_file", lambda p: calls.append(p.name) or real(p))
    second = load_library([odd_folder])
    assert calls == []
    np.testing.assert_array_equal(first.flat, second.flat)
    assert [str(s) for s in first.skipped] == [str(s) for s in second.skipped]
    tom = odd_folder / "tom.aiff"
    sf.write(tom, _tone(150, 0.25, 48000), 48000, subtype="PCM_16")
    os.utime(tom, ns=(1, 1_000_000_000))
    third = load_library([odd_folder])
    assert calls == ["tom.aiff"]
    assert third.audio(third.index("odd/tom.aiff")).size == pytest.approx(0.25 * SR, abs=0.01 * SR)


def test_corrupt_cache_is_rebuilt(odd_folder):
    load_library([odd_folder])
    for f in samples_mod.cache_dir().iterdir():
        f.write_bytes(b"garbage")
    again = load_library([odd_folder])
    assert len(again) == 4


def test_missing_folder_and_too_few_samples(tmp_path, odd_folder):
    with pytest.raises(InputError, match="does not exist"):
        load_library([tmp_path / "nope"])
    lib = load_library([odd_folder])
    with pytest.raises(InputError, match="only 4 usable"):
        lib.require(5)


def test_same_folder_twice_counts_once(odd_folder):
    assert len(load_library([odd_folder, odd_folder / "." ])) == 4


@pytest.mark.parametrize("name, category", [
    ("BD_808.wav", "kick"), ("Kick 03.wav", "kick"), ("snare-tight.wav", "snare"), ("CH_01.wav", "hat_closed"),
    ("OpenHat.wav", "hat_open"), ("oh_2.wav", "hat_open"), ("Ride Bell.wav", "ride"), ("clap.aif", "clap"),
    ("cowbell.wav", "bell"), ("shaker_loop.wav", "perc"), ("mystery.wav", "other"),
])
def test_guess_category(name, category):
    assert guess_category(Path("/lib") / name) == category


def test_default_kit_loads_with_categories():
    """The default kit is a performer's; the research kit (--samples research) adds the unpleasant sounds."""
    lib = samples_mod.load_kit()
    assert len(lib) >= 100 and not lib.skipped
    assert {"kick", "snare", "hat_closed", "tom", "perc"} <= set(lib.categories.tolist())
    assert not {"harsh", "zap"} & set(lib.categories.tolist())
    research = samples_mod.load_library(["research"])
    assert set(research.categories.tolist()) == set(lib.categories.tolist()) | {"harsh", "zap"}
    assert set(lib.keys(range(len(lib)))) < set(research.keys(range(len(research))))
