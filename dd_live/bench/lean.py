"""``dd-live bench lean``: does the live daemon lean towards a taste? A built-in rater plays the performer.

Starts ``dd-live serve`` (default mode, default kit) on a fresh session and rates ``clicks`` loops over OSC
the way a performer would: each announced candidate is read back from /dd/grid and /dd/samples, judged by
the rater (its coin, and its noise-free P(like)), listened to for ``listen_s`` seconds, then liked or
disliked with /dd/rate. Reports the like rate of the first and last halves of the loops it served, by the
coin and by P(like), how many of the last half were distinct, and how many ratings behind the critic that
chose each served loop was.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..lab.evaluate import late_phase1
from ..testing.harness import bench_daemon, wait_answering


def bench_lean(*, rater: str = "groove", clicks: int = 80, listen_s: float = 1.0, seed: int = 0,
               threads: int | None = 2) -> dict:
    from ..groove.record import Loop
    from ..sound.samples import load_library
    from ..lab.raters import RATERS

    if rater not in RATERS:
        raise InputError(f"--rater for bench lean must be one of {', '.join(RATERS)}, got {rater!r}")
    if clicks < 2:
        raise InputError("bench lean needs at least two clicks")
    judge = RATERS[rater](seed=seed)
    lib = load_library(None)
    by_name: dict[str, int] = {}
    for i, s in enumerate(lib.samples):
        by_name[Path(s.key).stem] = -1 if Path(s.key).stem in by_name else i   # -1: two samples share the name
    likes, p_likes, lags, grids, latencies = [], [], [], [], []
    t_start = time.monotonic()
    with bench_daemon("lean", threads=threads) as (proc, client):
        wait_answering(client, proc)
        cand = client.wait("/dd/candidate", 60)
        for k in range(clicks):
            cid = cand[0]
            cells = client.wait("/dd/grid", 30, where=lambda a, c=cid: a[0] == c)[1:]
            names = client.wait("/dd/samples", 30, where=lambda a, c=cid: a[0] == c)[1:]
            idx = [by_name.get(n, -1) for n in names]
            if min(idx) < 0:
                raise RuntimeError(f"cannot tell which samples {names} are")
            hits = np.array(cells).reshape(len(names), -1) > 0
            loop = Loop.from_arrays(hits, np.array(idx), lib, np.zeros(1, np.float32), float(cand[1]))
            like = judge(loop)
            likes.append(like)
            p_likes.append(judge.p_like(loop))
            lags.append(k - int(cand[6]))
            grids.append(hits)
            time.sleep(listen_s)
            client.drop("/dd/candidate")
            t_click = client.send("/dd/rate", cid, int(like))
            t_got, cand = client.wait_timed("/dd/candidate", 30, where=lambda a, c=cid: a[0] != c)
            latencies.append((t_got - t_click) * 1000)
    half = clicks // 2
    late = late_phase1(likes, p_likes, grids)  # the protocol's measure of Phase I's second half
    return {"benchmark": "lean", "rater": rater, "clicks": clicks, "listen_s": listen_s, "seed": seed,
            "first_half_likes": round(float(np.mean(likes[:half])), 3),
            "first_half_p_like": round(float(np.mean(p_likes[:half])), 3),
            "last_half_likes": round(late["phase1_late_likes"], 3),
            "last_half_p_like": round(late["phase1_late_p_like"], 3),
            "last_half_distinct": late["phase1_late_distinct"],
            "last_half_grid_distance": round(late["phase1_late_grid_distance"], 1),
            "critic_ratings_behind_mean": round(float(np.mean(lags[half:])), 2),
            "click_to_candidate_ms_p95": round(float(np.percentile(latencies, 95)), 2),
            "wall_s": round(time.monotonic() - t_start, 1)}
