"""Editing as rating, simulated: a performer who fixes loops towards their taste instead of only rating them.

Two performers hear the loops of a new session (the daemon's lean mode, the shipped drum prior), with the same
hidden taste (a built-in rater) and the same seed:

- the **rater** rates each loop (one click: the rater's coin);
- the **fixer** likes a loop when the coin says so (one click); otherwise edits it as the page lets them, one cell
  at a time (one click each), each time the cell whose toggle raises their noise-free P(like) most, while one
  raises it by at least :data:`MIN_GAIN` and at most :data:`MAX_EDITS` times; then rates the edited loop by the
  coin (one click). What the daemon stores follows (:mod:`dd_live.live.edits`): a kept edit is a like of the
  edited loop and a dislike of the proposal; a disliked edit a dislike of the edited loop only; a loop no edit
  helps is disliked as it is.

Both performers' critics learn from what they stored, after each loop, and the fixer's search also reads the
kept edits on the grid (:func:`dd_live.learn.policy.cell_terms`), as the daemon's does; a third performer, the
fixer with the critic alone (``fix_critic_only``), shows what that adds. Reported per performer: the noise-free
P(like) of the loops the session proposed (before any edit) over loops 41-80 of 80, the clicks spent, the
clicks until the running P(like) of the proposals (over the last :data:`WINDOW`) first reached the rater's
41-80 figure, and, for the same effort, the P(like) of the proposals heard over clicks 41-80 (each click a
rating or an edit: the fixer's first 80 clicks are a part of its 80 loops, so no other run is needed). :data:`MAX_EDITS` and :data:`MIN_GAIN` were set before any run (what a performer would bother
with), not tuned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

MAX_EDITS = 3      # cells a performer edits in one loop at most
MIN_GAIN = 0.05    # an edit is only worth a click if it raises P(like) by this much
WINDOW = 20        # proposals the running P(like) is taken over
LOOPS = 80
LATE = slice(40, 80)


def best_edit(rater, cand, library) -> tuple[object, float]:
    """The loop one cell toggle away from ``cand`` that ``rater`` likes most, and its noise-free P(like)."""
    from ..groove.record import Loop

    p = cand.pattern
    best, best_p = cand, rater.p_like(cand)
    for t in range(p.tracks):
        for s in range(p.steps):
            hits = p.hits.copy()
            hits[t, s] = not hits[t, s]
            if not hits.any():
                continue
            loop = Loop.from_pattern(replace(p, hits=hits, extra=dict(p.extra)), library, cand.audio, cand.score)
            q = rater.p_like(loop)
            if q > best_p:
                best, best_p = loop, q
    return best, best_p


def session(rater, library, *, seed: int, fixes: bool, prior="shipped", loops: int = LOOPS,
            cells_learn: bool = True) -> dict:
    """One performer through ``loops`` proposals of a new session (see the module docstring)."""
    from ..loops.prior import load_prior
    from ..learn.policy import cell_terms as terms
    from ..learn.pool import sound_kinds
    from .evaluate import make_candidate, tally
    from .first_minutes import _session

    prior = load_prior() if prior == "shipped" else prior
    critic, scorer, trainer, search = _session(library, seed=seed, prior=prior)
    kinds = sound_kinds(library)
    lineages: dict[bool, tuple[int, int]] = {}
    sounds: dict[str, tuple[int, int]] = {}
    p_likes, rated, clicks, at, edits, kept = [], [], 0, [], 0, 0
    kept_pairs: list[tuple[np.ndarray, np.ndarray]] = []   # (edited, proposed) hits of each kept edit

    def learn(loop, like: bool) -> None:
        audio = scorer.audio(loop.pattern.hits[None], library.indices(loop.pattern.samples)[None])[0]
        trainer.grids.add(scorer.features(audio[None])[0], like, loop.pattern.hits)

    for _ in range(loops):
        cells = terms(kept_pairs, search.pool.hits.shape[1:]) if cells_learn else None
        found = search.next(critic, draw=True, lineages=lineages, sounds=sounds, cells=cells)
        audio = scorer.audio(found.hits[None], found.idx[None], found.genes)[0]
        cand = make_candidate(found, library, audio, "phase1")
        feats = scorer.features(audio[None])[0]       # what the critic hears of the proposal
        p_likes.append(float(rater.p_like(cand)))
        like = rater(cand)
        clicks += 1                                   # Like, Dislike, or (after edits) the edited loop's rating
        stored_like: bool | None = like
        if like or not fixes:
            rated.append(p_likes[-1])
            trainer.grids.add(feats, like, found.hits)
        else:
            loop, p = cand, p_likes[-1]
            for _ in range(MAX_EDITS):
                nxt, q = best_edit(rater, loop, library)
                if q < p + MIN_GAIN:
                    break
                loop, p = nxt, q
                clicks += 1
                edits += 1
            rated.append(p)
            if loop is cand:                          # nothing worth editing: the click was a dislike
                trainer.grids.add(feats, False, found.hits)
            else:
                if rater(loop):                       # kept: a like of the edit, a dislike of the proposal
                    learn(loop, True)
                    kept_pairs.append((loop.pattern.hits, cand.pattern.hits))
                    trainer.grids.add(feats, False, found.hits)
                    kept += 1
                    stored_like = False
                else:
                    learn(loop, False)
                    stored_like = None                # the proposal itself unrated
        tally(lineages, sounds, found, stored_like, kinds)
        trainer.train()
        at.append(clicks)
    return {"p_like": p_likes, "rated_p_like": rated, "clicks": at, "edits": edits, "kept": kept}


PERFORMERS = {"rate": {"fixes": False}, "fix": {"fixes": True}, "fix_critic_only": {"fixes": True, "cells_learn": False}}


def compare(rater_cls, library, *, seeds: Sequence[int], prior="shipped") -> dict:
    """Each performer of :data:`PERFORMERS` (the rater; the fixer as the daemon learns from edits; the fixer with
    the critic alone learning from them) with one taste over ``seeds``: P(like) of the proposals 41-80 and of the
    loops rated 41-80 (edited or not), clicks, and clicks until the running P(like) of the proposals reached the rater's
    41-80 figure (None: never within the session). Means over the seeds, and each run."""
    runs = []
    for seed in seeds:
        got = {name: session(rater_cls(seed=seed), library, seed=seed, prior=prior, **kw)
               for name, kw in PERFORMERS.items()}
        goal = float(np.mean(got["rate"]["p_like"][LATE]))
        row = {"seed": seed}
        for name, run in got.items():
            row.update({f"{name}_p_like": float(np.mean(run["p_like"][LATE])),
                        f"{name}_rated_p_like": float(np.mean(run["rated_p_like"][LATE])),
                        f"{name}_clicks": run["clicks"][-1], f"{name}_clicks_to_goal": clicks_to(run, goal),
                        f"{name}_p_like_clicks_41_80": by_clicks(run),
                        f"{name}_edits": run["edits"], f"{name}_kept": run["kept"]})
        runs.append(row)
    means = {k: round(float(np.mean([r[k] for r in runs])), 3) for k in runs[0]
             if k != "seed" and all(r[k] is not None for r in runs)}
    return {"seeds": list(seeds), **means, "runs": runs}


def by_clicks(run: dict, late: slice = LATE) -> float | None:
    """Mean P(like) of the proposals heard while clicks ``late`` (0-based: 40-79 are the 41st to 80th) were
    spent, a proposal counted where its first click falls; None if the run spent fewer."""
    p = np.asarray(run["p_like"])
    before = np.concatenate([[0], np.asarray(run["clicks"][:-1])])   # clicks spent before each proposal
    take = (before >= late.start) & (before < late.stop)
    return float(p[take].mean()) if run["clicks"][-1] >= late.stop and take.any() else None


def clicks_to(run: dict, goal: float) -> int | None:
    """Clicks until the running P(like) of the proposals (last WINDOW) first reached ``goal``."""
    p = np.asarray(run["p_like"])
    for i in range(WINDOW - 1, len(p)):
        if p[i - WINDOW + 1: i + 1].mean() >= goal:
            return int(run["clicks"][i])
    return None
