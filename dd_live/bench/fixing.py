"""``dd-live bench fixing``: editing as rating, simulated (:mod:`dd_live.lab.fixing`): a performer who only rates
against one who fixes loops by editing cells, with one hidden taste (``--rater``, or ``all`` for the six
built-in ones), three seeds from ``--seed``, the default kit and the shipped drum prior."""

from __future__ import annotations

import time


def bench_fixing(*, rater: str = "groove", seed: int = 0, threads: int = 2) -> dict:
    from ..errors import InputError
    from ..learn.critic import configure_threads
    from ..lab.fixing import compare
    from ..lab.raters import RATERS
    from ..sound.samples import load_library

    names = sorted(RATERS) if rater == "all" else [rater]
    if any(n not in RATERS for n in names):
        raise InputError(f"--rater must be one of {', '.join(sorted(RATERS))} or all, got {rater!r}")
    configure_threads(threads)
    library = load_library(None)
    t0 = time.perf_counter()
    seeds = [seed, seed + 1, seed + 2]
    rows = {n: compare(RATERS[n], library, seeds=seeds) for n in names}
    keys = [k for k in next(iter(rows.values())) if k not in ("seeds", "runs")]
    out = {"seeds": seeds, "raters": {n: {k: v for k, v in r.items() if k != "seeds"} for n, r in rows.items()}}
    out.update({k: round(sum(r[k] for r in rows.values() if k in r) / len(rows), 3) for k in keys
                if all(k in r for r in rows.values())})
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out
