"""The benchmarks behind ``dd-live bench`` (dd_live.bench.core), run tiny: each report holds what README's tables
take from it, and what it measured is real work (no figure is asserted: speed is measured, not tested)."""

from __future__ import annotations

from dd_live import PRECISIONS
from dd_live.bench.core import bench_critic, bench_load, bench_render, make_library


def test_render_reports_bars_rendered_with_the_kernel_it_used():
    r = bench_render(seconds=0.05, batch=8, threads=1)
    assert r["benchmark"] == "render" and r["bars"] >= 8 and r["bars"] % 8 == 0
    assert r["bars_per_s"] > 0 and r["bars_per_s_fresh_buffer"] > 0 and r["kernel"] and r["cpus"] >= 1


def test_a_generated_library_loads_cold_and_warm_alike(tmp_path):
    make_library(tmp_path / "lib", 10)
    files = sorted(p.suffix for p in (tmp_path / "lib").rglob("*.*"))
    assert len(files) == 10 and set(files) == {".wav", ".flac", ".aiff"}     # mixed formats, as a real library
    r = bench_load(files=10)
    assert r["loaded"] == 10 and r["cold_s"] > 0 and r["warm_s"] > 0 and r["audio_s"] > 0


def test_critic_reports_evaluations_by_stage_and_its_precision():
    r = bench_critic(seconds=0.05, batch=4, threads=1, feel=True)      # each loop with a feel drawn: the full path
    assert r["feel"] is True and r["evals_per_s"] > 0 and r["precision"] in set(PRECISIONS) - {"auto"} and len(r["train_s_runs"]) == 3
    assert set(r["ms_per_eval"]) == {"render", "features", "critic"} and all(v > 0 for v in r["ms_per_eval"].values())
