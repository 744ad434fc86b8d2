"""The figures behind ``dd-live bench``: render, load, critic, protocol, live, lean, feel, playalong, pretrain,
song, web, prior and hostile (:data:`BENCHES`), each measured on this machine and printed or written as JSON, never judged
by a timed test. Importing this package imports none of them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any


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
    "live": lambda o: _later("live", "bench_live")(threads=o.threads, learn=o.learn, feel=o.feel),
    "lean": lambda o: _later("lean", "bench_lean")(rater=o.rater, threads=o.threads, seed=o.seed),
    "feel": lambda o: _later("feel", "bench_feel")(threads=o.threads),
    "playalong": lambda o: _later("playalong", "bench_playalong")(seed=o.seed),
    "pretrain": lambda o: _later("core", "bench_pretrain")(samples=o.samples, threads=o.threads),
    "song": lambda o: _later("song", "bench_song")(threads=o.threads, seed=o.seed),
    "web": lambda o: _later("web", "bench_web")(threads=o.threads, screenshot=o.screenshot),
    "prior": lambda o: _later("core", "bench_prior")(samples=o.samples, seed=o.seed),
    "hostile": lambda o: _later("hostile", "bench_hostile")(files=o.files or 100, seed=o.seed, threads=o.threads),
}


def run(what: str, *, seconds: float = 3.0, batch: int | None = None, files: int | None = None, threads: int = 2,
        learn: str = "auto", rater: str = "groove", seed: int = 0, samples: list[str] | None = None,
        feel: bool = False, screenshot: str | None = None) -> dict:
    """Benchmark ``what`` (a key of :data:`BENCHES`) with these options; its figures as a dict."""
    from ..errors import InputError

    if (batch is not None and batch < 1) or (files is not None and files < 1) or threads < 1 or not seconds > 0:
        raise InputError("--batch, --files and --threads must be at least 1 and --seconds positive")
    if what not in BENCHES:
        raise ValueError(what)
    return BENCHES[what](SimpleNamespace(seconds=seconds, batch=batch, files=files, threads=threads, learn=learn,
                                         rater=rater, seed=seed, samples=samples, feel=feel, screenshot=screenshot))
