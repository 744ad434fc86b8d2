"""``dd-live bench ratings``: daemons serving sessions that already hold many ratings."""

from __future__ import annotations

import pytest

from dd_live.bench import run
from dd_live.bench.ratings import LIKED, bench_ratings, fill_session
from dd_live.errors import InputError
from dd_live.loops.pattern import Pattern
from dd_live.session.session import Session


def test_a_filled_session_holds_that_many_rated_loops_a_third_liked(tmp_path):
    fill_session(tmp_path / "s", 60, seed=3)
    session = Session(tmp_path / "s", create=False)
    try:
        ratings = session.ratings()
        assert [cid for cid, _ in ratings] == list(range(1, 61))
        assert abs(sum(like for _, like in ratings) / 60 - LIKED) < 0.15
        patterns = [Pattern.from_json(session.candidate(cid).pattern) for cid, _ in ratings]
        assert all(p.hits.any() for p in patterns) and len({p.to_json() for p in patterns}) == 60
    finally:
        session.close()


def test_a_daemon_on_a_session_of_stored_ratings_trains_on_all_of_them():
    """Each click is waited for until a critic trained on every stored rating and the clicks so far is out."""
    result = bench_ratings(counts=(0, 40), clicks=2, threads=1)
    assert [r["ratings"] for r in result["runs"]] == [0, 40]
    for r in result["runs"]:
        assert r["first_candidate_s"] > 0 and r["first_fit_s"] > 0 and r["rss_peak_mb"] >= r["rss_rest_mb"] > 50
        # the first loop is timed at its arrival, before torch is in (not when the bench got round to reading it)
        assert r["first_candidate_s"] < r["commands_s"]
    assert "rss_mb_per_1000_ratings" in result


def test_bench_ratings_refuses_counts_out_of_range():
    with pytest.raises(InputError, match="--ratings"):
        run("ratings", ratings=[-1])
