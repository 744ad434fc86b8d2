"""``dd-live bench ratings``: the daemon's memory as a session's ratings grow.

For each count N of ``counts`` (by default 100 and 10,000): a session holding N rated loops (drawn as the daemon
draws them, from the drum prior on the default kit, a third of them liked; stored through the session's own calls,
as the daemon stores them, with the sounds each plays kept in the session), then ``dd-live serve`` on it, without
JACK, so every byte of its RSS is its own. Measured: the process started -> its first loop (``first_candidate_s``);
then ``clicks`` ratings, each waited for until a critic trained on it is out (the first fit after a start embeds all
N rated loops: ``first_fit_s``; ``commands_s``: started -> a command answered, once
torch and the critic are in); then the RSS at rest and its peak (MB). ``rss_mb_per_1000_ratings``: how the
resting RSS grows from the smallest count to the largest, per 1,000 ratings (a rated loop's MFCCs alone would be 106
MB).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..testing.harness import bench_daemon, wait_answering
from .live import status_mb

COUNTS = (100, 10_000)
LIKED = 1 / 3            # the share of the stored ratings that are likes


def fill_session(folder: Path, n: int, *, seed: int = 0) -> None:
    """A session in ``folder`` with ``n`` rated loops: candidates 1..n, one 4/4 bar at 120 bpm each."""
    from ..loops.pattern import from_arrays
    from ..loops.prior import load_prior
    from ..session.session import Session
    from ..sound.samples import load_library

    library, rng = load_library(None), np.random.default_rng(seed)
    hits, idx = load_prior().draw(library, rng, n)[:2]
    session, hashes = Session(folder), {}
    try:
        for k in range(n):
            cid = k + 1
            session.add_candidate(cid, from_arrays(hits[k], idx[k], library).to_json(), 0.5, 0, 0, 120.0, "explore")
            session.rate(cid, bool(rng.random() < LIKED), session.keep_samples(cid, library, hashes))
    finally:
        session.close()


def _run(n: int, *, clicks: int, threads: int | None, seed: int) -> dict:
    t0 = time.perf_counter()
    prepare = (lambda folder: fill_session(folder, n, seed=seed)) if n else None
    with bench_daemon("ratings", threads=threads, prepare=prepare) as (proc, client):
        fill_s = proc.started - t0
        t_answer = wait_answering(client, proc)
        t_first, cand = client.wait_timed("/dd/candidate", 120)
        first = t_first - proc.started                    # its arrival: it comes before the hello is answered
        if n:                                             # a resumed session opens with its last liked loop
            client.send("/dd/next")
            cand = client.wait("/dd/candidate", 120, where=lambda a, c=cand[0]: a[0] != c)
        cid, fits = cand[0], []
        for k in range(clicks):
            client.drop("/dd/candidate")
            t_click = client.send("/dd/rate", cid, k % 2)
            client.wait("/dd/trained", 600, where=lambda a, n=n + k + 1: a[1] >= n)
            fits.append(time.perf_counter() - t_click)
            cand = client.wait("/dd/candidate", 60, where=lambda a, c=cid: a[0] != c)
            cid = cand[0]
        time.sleep(3.0)                                   # at rest: the generator's queue full, the trainer idle
        rest, peak = status_mb(proc.pid, "VmRSS"), status_mb(proc.pid, "VmHWM")
    return {"ratings": n, "fill_s": round(fill_s, 1), "first_candidate_s": round(first, 2),
            "commands_s": round(t_answer - proc.started, 2),
            "first_fit_s": round(fits[0], 2) if fits else None,
            "fit_s_p50": round(float(np.median(fits[1:])), 3) if len(fits) > 1 else None,
            "rss_rest_mb": round(rest, 1), "rss_peak_mb": round(peak, 1)}


def bench_ratings(*, counts: tuple[int, ...] = COUNTS, clicks: int = 10, threads: int | None = None,
                  seed: int = 0) -> dict:
    """One daemon per count of stored ratings (see the module docstring); figures per count."""
    runs = [_run(n, clicks=clicks, threads=threads, seed=seed) for n in counts]
    lo, hi = runs[0], runs[-1]
    growth = (hi["rss_rest_mb"] - lo["rss_rest_mb"]) / max(hi["ratings"] - lo["ratings"], 1) * 1000
    return {"counts": list(counts), "clicks": clicks, "runs": runs, "rss_mb_per_1000_ratings": round(growth, 2)}
