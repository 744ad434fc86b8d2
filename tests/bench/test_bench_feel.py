"""``dd-live bench feel`` against a real ``dd-live serve``, and the benches' shared daemon harness."""

from __future__ import annotations

import pytest

from dd_live.errors import STACKS_END, DDLiveError
from dd_live.bench.feel import bench_feel
from dd_live.testing.harness import bench_daemon, wait_answering


def test_bench_feel_reports_what_the_simulated_humans_taught_the_daemon():
    r = bench_feel(seeds=1, threads=1)
    assert r["benchmark"] == "feel" and len(r["swing"]) == len(r["straight"]) == 1
    swing = r["swing"][0]["off_beat"]
    assert 0 < swing[0] < swing[1] < swing[2] and r["swing_take3_share_min"] == pytest.approx(swing[2] * 3, abs=2e-3)
    assert r["swing_rises_every_take"] and r["straight_largest"] < 0.05 and r["on_beat_max"] < 0.05
    assert len(r["swing"][0]["gap_ms"]) == 3 and r["morph"][0]["step7_offset"] == -0.5


def test_a_bench_that_fails_says_which_with_the_daemons_log():
    with pytest.raises(DDLiveError, match=r"^bench probe: no answer; the daemon's log ends:\n") as err:
        with bench_daemon("probe", threads=1) as (proc, client):
            wait_answering(client, proc)
            raise TimeoutError("no answer")
    assert proc.poll() is not None
    stacks = str(err.value).partition(STACKS_END)   # all of them: the harness waited for the line after them
    assert stacks[1] and "most recent call first" in stacks[0] and "dd_live/" in stacks[0]
