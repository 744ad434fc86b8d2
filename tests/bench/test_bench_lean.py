"""``dd-live bench lean``: a built-in rater clicking through a real ``dd-live serve``."""

from __future__ import annotations

import pytest

from dd_live.errors import InputError
from dd_live.lab import raters
from dd_live.bench.lean import bench_lean


def test_bench_lean_judges_the_loops_the_daemon_served(monkeypatch):
    seen = []

    class Recording(raters.DarkRater):
        def __call__(self, candidate) -> bool:
            seen.append((candidate.pattern.hits.copy(), tuple(candidate.sample_paths)))
            return bool(len(seen) % 2)                    # like, dislike, like, ...

    monkeypatch.setitem(raters.RATERS, "recording", Recording)
    result = bench_lean(rater="recording", clicks=6, listen_s=0.05, threads=1)
    assert len(seen) == 6 and result["clicks"] == 6
    assert result["first_half_likes"] == pytest.approx(2 / 3, abs=1e-3)
    assert result["last_half_likes"] == pytest.approx(1 / 3, abs=1e-3)
    assert all(h.shape == (4, 16) and h.any() for h, _ in seen)   # grids read back from /dd/grid
    assert all(len(paths) == 4 and all(str(p).endswith(".wav") for p in paths) for _, paths in seen)
    assert 0 <= result["last_half_p_like"] <= 1 and result["last_half_distinct"] == 3
    assert result["click_to_candidate_ms_p95"] > 0


def test_bench_lean_refuses_an_unknown_rater():
    with pytest.raises(InputError, match="groove"):
        bench_lean(rater="nobody", clicks=4)
