from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from dd_live.sound.kit import CATEGORIES, build_kit

REPO_KIT = Path(__file__).resolve().parents[2] / "samples"


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_is_deterministic(tmp_path):
    build_kit(tmp_path / "a")
    build_kit(tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and len(a) >= 122


def test_kit_contents(tmp_path):
    meta = json.loads(build_kit(tmp_path).read_text())
    entries = meta["samples"]
    assert len(entries) >= 120 and meta["license"] == "CC0-1.0"
    cats = {e["category"] for e in entries}
    assert cats == set(CATEGORIES)
    for e in entries:
        info = sf.info(str(tmp_path / e["file"]))
        assert (info.samplerate, info.channels, info.subtype) == (44100, 1, "PCM_16")
        assert abs(info.frames / 44100 - e["duration"]) < 1e-3
        assert -4.5 < e["peak_db"] <= -0.9 and e["rms_db"] < e["peak_db"]
        assert 20 < e["centroid_hz"] < 22050
    by_cat = {c: [e["centroid_hz"] for e in entries if e["category"] == c] for c in cats}
    assert np.median(by_cat["kick"]) < np.median(by_cat["snare"]) < np.median(by_cat["hat_closed"])


def test_committed_kit_matches_the_code(tmp_path):
    """samples/ is what `dd-live kit build` writes (to within one LSB, for other CPUs' libm)."""
    build_kit(tmp_path)
    committed = json.loads((REPO_KIT / "kit.json").read_text())
    built = json.loads((tmp_path / "kit.json").read_text())
    assert [e["file"] for e in committed["samples"]] == [e["file"] for e in built["samples"]]
    for e in built["samples"]:
        a, _ = sf.read(str(tmp_path / e["file"]), dtype="int16")
        b, _ = sf.read(str(REPO_KIT / e["file"]), dtype="int16")
        assert a.shape == b.shape, e["file"]
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1, e["file"]
