"""Shared fixtures: a seeded rng, a small synthetic library, and an isolated cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dd_live.sound.samples import SampleLibrary, _assemble


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("DD_LIVE_CACHE", str(tmp_path_factory.mktemp("cache")))


def make_library(lengths: list[int], categories: list[str] | None = None, seed: int = 7) -> SampleLibrary:
    """A library of decaying noise bursts of the given lengths (samples)."""
    g = np.random.default_rng(seed)
    categories = categories or ["kick", "snare", "hat_closed", "perc", "tom", "crash", "zap", "bell"][: len(lengths)]
    items = []
    for i, (n, cat) in enumerate(zip(lengths, categories)):
        y = (g.uniform(-0.5, 0.5, n) * np.exp(-np.arange(n) / max(n / 4, 1))).astype(np.float32)
        items.append((f"test/s{i}.wav", Path(f"/nonexistent/s{i}.wav"), y, cat))
    return _assemble(items, [])


@pytest.fixture
def small_lib() -> SampleLibrary:
    return make_library([3000, 9000, 800, 20000, 5000, 120000])
