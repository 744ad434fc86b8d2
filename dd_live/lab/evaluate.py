"""DeepDrummer's evaluation protocol, run by a simulated (or any callable) rater.

Phase I: ``ratings`` loops, each drawn in explore mode from the current critic
(persistent MH chains, moved ``steps_between`` steps between draws), rated, and
trained on right away. What the second half of Phase I sounded like (ratings 41-80
of 80) is reported too: the like rate by the rater's coin and by its noise-free
``p_like`` where it has one, and how varied those loops were. Phase II: ``per_model`` loops in best mode (f >= 0.95,
a bounded search at temperature ``best_temperature``) from the initial critic
and as many from the final critic, shuffled together and rated without
training. theta_init and theta_final are the like ratios of the two Phase II
halves.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import POLICIES
from ..errors import InputError
from ..groove.record import Loop
from ..learn.sampler import BEST_MAX_STEPS, BEST_PATIENCE


Candidate = Loop  # a loop as a rater sees it (the rater interface's name for the one loop record)
Rater = Callable[[Candidate], bool]


def make_candidate(found, library, audio: np.ndarray, origin: str) -> Candidate:
    from ..groove.genes import pattern_fields

    groove = None if found.genes is None else pattern_fields(found.genes, 0)
    return Loop.from_arrays(found.hits, found.idx, library, audio, found.score, groove=groove, origin=origin)


def _rate(rater: Rater, cand: Candidate) -> bool:
    answer = rater(cand)
    if not isinstance(answer, (bool, np.bool_)):
        raise TypeError(f"a rater must return True or False, got {answer!r}")
    return bool(answer)


def load_rater(spec: str, seed: int) -> Rater:
    """The rater named ``MODULE:NAME``: a class (made with ``seed`` if it takes one) or a callable."""
    import importlib

    module, _, name = spec.partition(":")
    if not module or not name:
        raise InputError(f"--rater must be MODULE:NAME, got {spec!r}")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise InputError(f"cannot load rater {spec!r} ({err})") from None
    if isinstance(obj, type):
        try:
            return obj(seed=seed)
        except TypeError:
            return obj()
    if not callable(obj):
        raise InputError(f"rater {spec!r} is not callable")
    return obj


def run_protocol(rater: Rater, *, ratings: int = 80, per_model: int = 30, seed: int = 0,
                 samples: Sequence[str] | None = None, chains: int = 16, steps_between: int = 2,
                 best_steps: int = BEST_MAX_STEPS, patience: int = BEST_PATIENCE, temperature: float = 1.0,
                 best_temperature: float | None = None, policy: str = "lean",
                 threads: int | None = None, init: str | Path = "pretrained", learn: str = "auto",
                 progress: Callable[[str, int, int], None] | None = None, library=None, feel: bool = False,
                 prior="shipped") -> dict:
    """Run the two-phase protocol once; returns a report (see the module docstring).

    ``rater``: any callable Candidate -> bool. ``samples``: sample folders (default
    kit if None). ``threads``: torch and render threads (default: all cores).
    ``temperature``: the MH temperature of Phase I's explore mode (1: draws in proportion to f).
    ``best_temperature``: for a critic that learns its features too (``learn="budget"``), the MH
    temperature of Phase II's bounded best-mode search over the chains (None:
    :data:`dd_live.learn.sampler.BEST_TEMPERATURE`, 0.2, where the chains climb). A critic that
    learns only its output layer (``learn="head"``) finds its best loops in a pool instead
    (:class:`dd_live.learn.policy.PoolSearch` without a draw), as the daemon's best mode does.
    ``init``: the critic's start (:func:`dd_live.learn.pretrain.starting_critic`):
    "pretrained" (default), "random" (the paper's) or a file from ``dd-live pretrain``.
    ``learn``: how the critic learns (:func:`dd_live.learn.trainset.resolve_learn`): "auto"
    (default: "head" for a pretrained start, the paper's "budget" for a random one).
    ``policy``: how Phase I picks each loop: "lean" (default: Thompson sampling over the head's
    posterior, :class:`dd_live.learn.policy.PoolSearch`, as the daemon's default lean mode does; for a
    critic that learns its features too, best mode's search over the chains) or "explore" (the paper's:
    a draw from the chains).
    ``feel``: loops with their own feel (accents and ghosts, push, swing: :mod:`dd_live.groove.genes`), searched
    for like the grid, as the daemon's /dd/set/feel 1 does; off, DeepDrummer's (velocity 100 on the grid).
    ``prior``: where new loops are drawn from: "shipped" (dd_live's drum prior, the daemon's default), None
    (DeepDrummer's uniform draws) or a :class:`dd_live.loops.prior.DrumPrior`.
    ``progress(phase, done, total)`` is called after each rating.
    """
    from ..learn.critic import configure_threads
    from ..learn.pretrain import starting_critic
    from ..learn.policy import PoolSearch
    from ..learn.pool import LoopPool, sound_kinds
    from ..learn.sampler import BEST_TEMPERATURE, BestSearch, Chains, Scorer
    from ..sound.samples import load_library
    from ..learn.trainer import TrainConfig, Trainer
    from ..learn.trainset import resolve_learn
    from ..learn.trainset import reference_features

    if prior == "shipped":
        from ..loops.prior import load_prior

        prior = load_prior()
    if ratings < 1 or per_model < 1:
        raise ValueError("ratings and per_model must be at least 1")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    learn = resolve_learn(learn, init)
    best_temperature = BEST_TEMPERATURE if best_temperature is None else float(best_temperature)
    threads = threads or os.cpu_count() or 1
    configure_threads(threads)
    t_start = time.perf_counter()
    lib = library if library is not None else load_library(samples)
    lib.require(4)
    rng = np.random.default_rng(seed)
    pooled = learn == "head"  # the features never change: loops are chosen from a pool of embedded ones
    critic = starting_critic(init, library=lib, seed=seed, rng=rng, flat=pooled)
    scorer = Scorer(lib, critic, threads=threads)
    trainer = Trainer(critic, TrainConfig(seed=seed, learn=learn))
    grids: list[np.ndarray] = []        # the hits of each Phase I loop (a rating's key is its index here)
    trainer.grids = lambda keys: [None if k is None else grids[k] for k in keys]   # as the daemon's reads them
    if pooled:   # the head's inputs standardised over loops as the policy draws them
        trainer.set_reference(reference_features(lib, scorer.features, prior=prior, seed=seed))
    initial = trainer.initial_critic()
    live = Chains(lib, scorer, n=chains, rng=rng, temperature=temperature, feel=feel, prior=prior) \
        if policy == "explore" or not pooled else None
    search = None
    if policy == "lean":
        search = PoolSearch(LoopPool(lib, scorer, rng=rng, feel=feel, prior=prior), seed=seed) if pooled else \
            BestSearch(live, max_steps=best_steps, patience=patience, temperature=best_temperature)

    likes: list[bool] = []
    p_likes: list[float] = []  # the rater's noise-free P(like) of each Phase I loop, if it says
    kits: list[tuple[int, ...]] = []      # the sounds each Phase I loop plays (tracks with hits)
    lineages: dict[bool, tuple[int, int]] = {}   # (likes, dislikes) of the prior's loops and the free ones ...
    sounds: dict[str, tuple[int, int]] = {}      # (served, disliked) of the loops each kind of sound played in
    kinds = sound_kinds(lib)
    scores: list[float] = []
    train_s: list[float] = []
    for r in range(ratings):
        if policy == "explore":
            live.run(steps_between, "explore")
            found = live.pick()
        elif pooled:
            found = search.next(critic, draw=True, lineages=lineages, sounds=sounds)
        else:
            found = search.next()
        audio = scorer.audio(found.hits[None], found.idx[None], found.genes)[0]
        cand = make_candidate(found, lib, audio, "phase1")
        like = _rate(rater, cand)
        likes.append(like)
        if hasattr(rater, "p_like"):
            p_likes.append(float(rater.p_like(cand)))
        grids.append(cand.pattern.hits.copy())
        kits.append(tuple(int(i) for i, row in zip(found.idx, found.hits) if row.any()))
        tally(lineages, sounds, found, like, kinds)
        scores.append(cand.score)
        trainer.add(scorer.features(audio[None])[0], like, key=r)
        t0 = time.perf_counter()
        trainer.train()
        train_s.append(time.perf_counter() - t0)
        if live is not None:  # explore draws and best searches read the chains' scores: the new critic's
            live.rescore()
        if progress:
            progress("phase1", r + 1, ratings)

    phase2: list[Candidate] = []
    reached = {"init": 0, "final": 0}
    # The final critic keeps Phase I's pool or warm chains (loops it served stay served); the initial
    # critic gets fresh ones.
    init_scorer = Scorer(lib, initial, threads=threads)
    if pooled:
        final = search if search is not None else PoolSearch(LoopPool(lib, scorer, rng=rng, feel=feel, prior=prior),
                                                             seed=seed)
        searches = {"init": (PoolSearch(LoopPool(lib, init_scorer, rng=rng, feel=feel, prior=prior), seed=seed + 1),
                             initial),
                    "final": (final, critic)}
    else:
        init_chains = Chains(lib, init_scorer, n=chains, rng=rng, feel=feel, prior=prior)
        searches = {"init": (BestSearch(init_chains, max_steps=best_steps, patience=patience,
                                        temperature=best_temperature), None),
                    "final": (BestSearch(live, max_steps=best_steps, patience=patience,
                                         temperature=best_temperature), None)}
    for origin, (best, judge) in searches.items():
        for _ in range(per_model):
            found = best.next(judge, draw=False) if pooled else best.next()
            reached[origin] += found.reached
            audio = scorer.audio(found.hits[None], found.idx[None], found.genes)[0]
            phase2.append(make_candidate(found, lib, audio, origin))
    order = rng.permutation(len(phase2))
    answers = {"init": [], "final": []}
    for k, i in enumerate(order):
        cand = phase2[i]
        answers[cand.origin].append(_rate(rater, cand))
        if progress:
            progress("phase2", k + 1, len(phase2))

    theta_init = float(np.mean(answers["init"]))
    theta_final = float(np.mean(answers["final"]))
    return {
        "seed": seed,
        "init": str(init),
        "learn": learn,
        "policy": policy,
        "feel": feel,
        "temperature": temperature,
        "best_temperature": best_temperature,
        "ratings": ratings,
        "per_model": per_model,
        "theta_init": theta_init,
        "theta_final": theta_final,
        "delta": theta_final - theta_init,
        "phase1_likes": [int(x) for x in likes],
        "phase1_curve": running_rate(likes),
        "phase1_scores": [round(s, 4) for s in scores],
        "phase1_p_like": [round(p, 4) for p in p_likes] or None,
        **late_phase1(likes, p_likes, grids),
        **kit_measures(likes, p_likes, kits, lib),
        "phase2_reached": reached,
        "train_s_mean": float(np.mean(train_s)),
        "final_loss": trainer.last_loss,
        "wall_s": time.perf_counter() - t_start,
    }


def tally(lineages: dict, sounds: dict, found, like: bool | None, kinds) -> None:
    """Count a served loop ``found`` as the daemon's generator counts them: a rating (``like`` True or False)
    into its lineage's (likes, dislikes); the loop, heard (``like`` None: skipped) and disliked or not, into
    the (served, disliked) of each kind of sound it played (``kinds``: :func:`dd_live.learn.pool.sound_kinds`)
    and of all (:data:`dd_live.learn.policy.ALL_SOUNDS`)."""
    from ..learn.policy import ALL_SOUNDS

    if like is not None:
        likes, dislikes = lineages.get(found.free, (0, 0))
        lineages[found.free] = (likes + like, dislikes + (not like))
    played = {str(kinds[int(i)]) for i, row in zip(found.idx, found.hits) if row.any()}
    for key in played | {ALL_SOUNDS}:
        served, disliked = sounds.get(key, (0, 0))
        sounds[key] = (served + 1, disliked + (like is False))


def late_phase1(likes: Sequence[bool], p_likes: Sequence[float], grids: Sequence[np.ndarray]) -> dict:
    """What a performer hears once the critic has heard half of Phase I (ratings 41-80 of 80): the like rate
    by the rater's coin and by its noise-free P(like) (None if the rater gives none), how many of those loops
    are distinct, and their mean pairwise grid distance (cells that differ)."""
    half = len(likes) // 2
    late = [g.ravel() for g in grids[half:]]
    pairs = [(a != b).sum() for i, a in enumerate(late) for b in late[i + 1:] if a.shape == b.shape]
    return {
        "phase1_late_likes": float(np.mean(likes[half:])),
        "phase1_late_p_like": float(np.mean(p_likes[half:])) if p_likes else None,
        "phase1_late_distinct": len({g.tobytes() for g in late}),
        "phase1_late_grid_distance": float(np.mean(pairs)) if pairs else 0.0,
    }


FIRST = 20         # a new session's first loops, as a performer meets dd_live
SET_WINDOW = 40    # the loops over which one set of sounds must not dominate


def drum_kit(sounds: Sequence[int], library) -> bool:
    """Whether loop sounds (library indices of tracks that play) hold a kick, a snare or clap, and a hat or
    cymbal, judged by role: the kit's categories, a user sample's name or its sound
    (:mod:`dd_live.sound.roles`); a crash counts as a cymbal."""
    roles = {str(library.roles[i]) for i in sounds}
    cymbal = any(library.samples[i].category in ("crash", "ride") for i in sounds)
    return {"low", "backbeat"} <= roles and ("time" in roles or cymbal)


def largest_set_share(kits: Sequence[Sequence[int]], window: int = SET_WINDOW) -> float:
    """The largest share one set of sounds takes of the last ``window`` loops."""
    last = [frozenset(k) for k in kits[-window:]]
    if not last:
        return 0.0
    return max(last.count(k) for k in set(last)) / len(last)


def kit_measures(likes: Sequence[bool], p_likes: Sequence[float], kits: Sequence[Sequence[int]], library) -> dict:
    """What a performer meets first and what keeps varying: over the first :data:`FIRST` loops the like rate (by
    the rater's coin and its noise-free P(like)) and the share holding a drum kit (:func:`drum_kit`); over the
    last :data:`SET_WINDOW`, the largest share of one set of sounds."""
    first = min(FIRST, len(likes))
    return {
        "phase1_first_likes": float(np.mean(likes[:first])),
        "phase1_first_p_like": float(np.mean(p_likes[:first])) if p_likes else None,
        "phase1_first_kit_share": float(np.mean([drum_kit(k, library) for k in kits[:first]])),
        "phase1_last_set_share": largest_set_share(kits),
    }


def running_rate(likes: Sequence[bool], window: int = 20) -> list[float]:
    """Like rate over the last ``window`` ratings, after each rating."""
    x = np.asarray(likes, dtype=float)
    out = []
    for i in range(len(x)):
        lo = max(0, i + 1 - window)
        out.append(round(float(x[lo: i + 1].mean()), 4))
    return out


def summarize(reports: Sequence[dict]) -> dict:
    """Mean thetas and the paper's success measures over several runs."""
    deltas = np.array([r["delta"] for r in reports])
    return {
        "runs": len(reports),
        "theta_init_mean": float(np.mean([r["theta_init"] for r in reports])),
        "theta_final_mean": float(np.mean([r["theta_final"] for r in reports])),
        "delta_mean": float(deltas.mean()),
        "improved": float(np.mean(deltas > 0)),
        "improved_by_0.2": float(np.mean(deltas >= 0.2 - 1e-9)),
        "wall_s_mean": float(np.mean([r["wall_s"] for r in reports])),
        "phase1_late_likes_mean": float(np.mean([r["phase1_late_likes"] for r in reports])),
        "phase1_late_p_like_mean": _mean_or_none([r.get("phase1_late_p_like") for r in reports]),
        "phase1_late_distinct_min": int(min(r["phase1_late_distinct"] for r in reports)),
        "phase1_late_grid_distance_min": float(min(r["phase1_late_grid_distance"] for r in reports)),
        "phase1_first_p_like_mean": _mean_or_none([r.get("phase1_first_p_like") for r in reports]),
        "phase1_first_kit_share_mean": _mean_or_none([r.get("phase1_first_kit_share") for r in reports]),
        "phase1_last_set_share_max": _max_or_none([r.get("phase1_last_set_share") for r in reports]),
    }


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else float(np.mean(values))


def _max_or_none(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else float(np.max(values))


def report_table(reports: list[dict]) -> str:
    """The runs as a table (one row per seed) and the summary line, as ``dd-live evaluate`` prints them."""
    def p(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    lines = [f"{'seed':>5} {'theta_init':>10} {'theta_final':>11} {'delta':>7} {'phase1 likes':>12} "
             f"{'late likes':>10} {'late P(like)':>12} {'late distinct':>13} {'first P(like)':>13} "
             f"{'first kits':>10} {'top set':>7} {'wall s':>7}"]
    for r in reports:
        lines.append(f"{r['seed']:>5} {r['theta_init']:>10.3f} {r['theta_final']:>11.3f} {r['delta']:>+7.3f} "
                     f"{sum(r['phase1_likes']):>12d} {r['phase1_late_likes']:>10.3f} "
                     f"{p(r['phase1_late_p_like']):>12} {r['phase1_late_distinct']:>13d} "
                     f"{p(r.get('phase1_first_p_like')):>13} {p(r.get('phase1_first_kit_share')):>10} "
                     f"{p(r.get('phase1_last_set_share')):>7} {r['wall_s']:>7.1f}")
    summary = summarize(reports)
    lines.append(f"mean delta {summary['delta_mean']:+.3f}; improved {summary['improved']:.0%}; "
                 f"improved by >= 0.2 {summary['improved_by_0.2']:.0%}; Phase I second half: like rate "
                 f"{summary['phase1_late_likes_mean']:.3f}, P(like) {p(summary['phase1_late_p_like_mean'])}; first "
                 f"{FIRST}: P(like) {p(summary['phase1_first_p_like_mean'])}, drum kits "
                 f"{p(summary['phase1_first_kit_share_mean'])}; largest share of one set of sounds in the last "
                 f"{SET_WINDOW}: {p(summary['phase1_last_set_share_max'])}")
    return "\n".join(lines)


def progress_bar(label: str) -> Callable[[str, int, int], None]:
    """A ``progress(stage, done, total)`` callback (:func:`run_protocol`, :func:`dd_live.learn.pretrain.pretrain`)
    drawing a bar on stderr, one line per stage."""
    import sys

    def show(stage: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r{label} {stage} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def write_reports(reports: list[dict], *, json_path: Path | None = None, plot_path: Path | None = None,
                  title: str = "") -> None:
    """The runs and their summary as JSON, and the like-rate plot (needs matplotlib), where asked for."""
    import json

    if json_path is not None:
        from ..sound.audio import write_bytes

        data = {"summary": summarize(reports), "runs": reports}
        write_bytes(Path(json_path), (json.dumps(data, indent=1) + "\n").encode(), force=True)
    if plot_path is not None:
        from .plot import plot_reports

        plot_reports(reports, Path(plot_path), title=title)
