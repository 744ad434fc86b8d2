"""The figures behind ``dd-live bench``: render, load, critic, protocol, live, lean, feel, playalong, pretrain, fixing,
song, web, prior, hostile and ratings (:data:`BENCHES`), each measured on this machine and printed or written as
JSON, never judged by a timed test. Importing this package imports none of them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from .. import PRECISIONS

JACK_PERIODS = (64, 128, 256, 512, 1024)   # frames a cycle ``bench live``'s JACK server may run (--jack-period)
MAX_RATINGS = 100_000                      # the most stored ratings ``bench ratings`` fills a session with


def _later(module: str, name: str) -> Callable[..., dict]:
    """Function ``name`` of this package's ``module``, imported when called: each benchmark imports what it needs
    (a daemon, a browser, mma) only when it runs."""
    def call(**kw: Any) -> dict:
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)(**kw)
    return call


#: each benchmark, called with run()'s options (o)
BENCHES: dict[str, Callable[[SimpleNamespace], dict]] = {
    "render": lambda o: _later("core", "bench_render")(seconds=o.seconds, batch=o.batch or 256, threads=o.threads),
    "load": lambda o: _later("core", "bench_load")(files=o.files or 2000),
    "critic": lambda o: _later("core", "bench_critic")(seconds=o.seconds, batch=o.batch or 64, threads=o.threads,
                                                      feel=o.feel),
    "protocol": lambda o: _later("core", "bench_protocol")(threads=o.threads, learn=o.learn),
    "live": lambda o: _later("live", "bench_live")(threads=o.threads, learn=o.learn, feel=o.feel,
                                                  **({} if o.jack_period is None else {"jack_period": o.jack_period})),
    "lean": lambda o: _later("lean", "bench_lean")(rater=o.rater, threads=o.threads, seed=o.seed),
    "feel": lambda o: _later("feel", "bench_feel")(threads=o.threads),
    "playalong": lambda o: _later("playalong", "bench_playalong")(seed=o.seed),
    "pretrain": lambda o: _later("core", "bench_pretrain")(samples=o.samples, threads=o.threads),
    "song": lambda o: _later("song", "bench_song")(threads=o.threads, seed=o.seed),
    "fixing": lambda o: _later("fixing", "bench_fixing")(rater=o.rater, seed=o.seed, threads=o.threads),
    "web": lambda o: _later("web", "bench_web")(threads=o.threads, screenshot=o.screenshot, busy=o.busy),
    "prior": lambda o: _later("core", "bench_prior")(samples=o.samples, seed=o.seed),
    "hostile": lambda o: _later("hostile", "bench_hostile")(files=o.files or 100, seed=o.seed, threads=o.threads),
    "ratings": lambda o: _later("ratings", "bench_ratings")(seed=o.seed, threads=o.threads,
                                                          **({"counts": tuple(o.ratings)} if o.ratings else {})),
}


def run(what: str, *, seconds: float = 3.0, batch: int | None = None, files: int | None = None, threads: int = 2,
        learn: str = "auto", rater: str = "groove", seed: int = 0, samples: list[str] | None = None,
        feel: bool = False, screenshot: str | None = None, busy: int = 0, precision: str | None = None,
        jack_period: int | None = None, ratings: list[int] | None = None) -> dict:
    """Benchmark ``what`` (a key of :data:`BENCHES`) with these options; its figures as a dict, with the critic's
    ``precision`` as it ran (``precision``: forced, for this process and the daemons it starts; None: auto)."""
    import os

    from ..errors import InputError
    from ..learn.critic import resolve_precision, set_precision

    if (batch is not None and batch < 1) or (files is not None and files < 1) or threads < 1 or not seconds > 0:
        raise InputError("--batch, --files and --threads must be at least 1 and --seconds positive")
    if not 0 <= busy <= 64:
        raise InputError(f"--busy takes 0-64 processes, got {busy}")
    if ratings is not None and not (ratings and all(0 <= n <= MAX_RATINGS for n in ratings)):
        raise InputError(f"--ratings takes counts of 0-{MAX_RATINGS:,} stored ratings, got {ratings}")
    if jack_period is not None and jack_period not in JACK_PERIODS:
        raise InputError(f"--jack-period takes {', '.join(map(str, JACK_PERIODS))} frames, got {jack_period}")
    if what not in BENCHES:
        raise ValueError(what)
    if precision is not None:
        set_precision(precision)
        os.environ["DD_LIVE_PRECISION"] = precision      # the daemons a benchmark starts compute the same way
    result = BENCHES[what](SimpleNamespace(seconds=seconds, batch=batch, files=files, threads=threads, learn=learn,
                                         rater=rater, seed=seed, samples=samples, feel=feel, screenshot=screenshot,
                                         busy=busy, jack_period=jack_period, ratings=ratings))
    return {**result, "precision": resolve_precision()}


def add_arguments(b) -> None:
    """``dd-live bench``'s arguments on the argparse parser ``b`` (beside the table of benchmarks they name)."""
    b.add_argument("what", choices=BENCHES,
                   help="render: batched one-bar renders; load: a 2,000-file library; critic: evaluations per "
                        "second and training time; protocol: one simulated user through the whole protocol; live: the "
                        "daemon's click latencies, MIDI timing, audio dropouts, idle CPU and memory; lean: a built-in rater clicks "
                        "80 times through dd-live serve: the like rate of the loops it heard; feel: simulated humans play along over OSC; playalong: takes over a song teach each section "
                        "its feel; pretrain: dd-live pretrain; "
                        "song: song mode on a 4-minute song and the longest simutrans song; fixing: a simulated performer who edits loops against one who only rates; web: the page in headless chromium, click to next grid on screen; prior: building the drum prior, then a new "
                        "session's first 20 loops with each rater and a performer who only dislikes hats; hostile: dd-live song on "
                        "--files hostile MIDI files (default 100), one process each; ratings: the daemon's memory "
                        "and first fit on sessions of 100 and 10,000 stored ratings (--ratings)")
    b.add_argument("--json", action="store_true", help="print one JSON line")
    b.add_argument("--feel", action="store_true", help="critic, live: loops with a feel of their own (velocities, "
                                                      "push, swing)")
    b.add_argument("--seconds", type=float, default=3.0, help="measure for at least this long (render, critic)")
    b.add_argument("--batch", type=int, default=None, help="bars per call (render 256, critic 64)")
    b.add_argument("--files", type=int, default=None, help="files in the library (load; 2000) or hostile songs "
                                                           "(hostile; 100)")
    b.add_argument("--threads", type=int, default=2, help="torch threads where torch is used")
    b.add_argument("--learn", default="auto", choices=("auto", "head", "budget"),
                   help="how the critic learns (protocol, live); see dd-live evaluate --help")
    b.add_argument("--rater", default="groove", help="built-in rater (lean, fixing): groove, minimal, break, "
                                                     "dark, syncopated or family (fixing: or all)")
    b.add_argument("--seed", type=int, default=0, help="the rater's seed (lean; fixing: the first of three)")
    b.add_argument("--samples", action="append", metavar="DIR", help="sample folder (pretrain, prior; default: the "
                                                                     "built-in kit)")
    b.add_argument("--screenshot", metavar="PNG", help="web: also save a screenshot of the page")
    b.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="the critic's arithmetic, forced (default: auto, bf16 where the CPU has it natively, "
                        "else int8)")
    b.add_argument("--jack-period", type=int, default=None, choices=JACK_PERIODS, metavar="FRAMES",
                   help="live: the JACK dummy server's period, one of " + ", ".join(map(str, JACK_PERIODS)) +
                        " (default: the tests' 64 frames, 1.45 ms; JACK's process threads wake once a period, so idle "
                        "CPU falls with longer ones)")
    b.add_argument("--ratings", type=int, nargs="+", metavar="N",
                   help="ratings: the counts of stored ratings to serve, one daemon each (default 100 10000)")
    b.add_argument("--busy", type=int, default=0, metavar="N",
                   help="web: N processes spinning on the CPU beside it throughout (a busy machine)")
