"""A performer's first minutes with dd_live, simulated: what the first loops of a new session are, and whether
dislikes alone steer. ``dd-live bench prior`` reports these with the time to build the drum prior.

- :func:`first_loops`: each built-in rater rates the first :data:`dd_live.lab.evaluate.FIRST` loops of a new
  session (the daemon's lean mode, the shipped drum prior): their like rate by the rater's noise-free P(like)
  and the share that hold a drum kit (a kick, a snare or clap, and a hat or cymbal that play).
- :func:`dislikes_only`: a performer who dislikes every loop with a hat in it and skips the rest (never a
  like): how often a hat plays in loops 1-30 and in loops 31-60.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

HATS = ("hat_closed", "hat_open")


def _session(library, *, seed: int, prior, threads: int = 2):
    """A new session's critic (the shipped features, a flat head), its trainer and lean-mode search. The
    trainer reads each rating's grid (rate through ``trainer.grids.add``, :class:`LabGrids`)."""
    from ..learn.critic import configure_threads
    from ..learn.policy import PoolSearch
    from ..learn.pool import LoopPool
    from ..learn.pretrain import starting_critic
    from ..learn.sampler import Scorer
    from ..learn.trainer import TrainConfig, Trainer
    from ..learn.trainset import reference_features

    configure_threads(threads)
    rng = np.random.default_rng(seed)
    critic = starting_critic("pretrained", library=library, seed=seed, rng=rng, flat=True)
    scorer = Scorer(library, critic, threads=threads)
    trainer = Trainer(critic, TrainConfig(seed=seed, learn="head"))
    trainer.set_reference(reference_features(library, scorer.features, prior=prior, seed=seed))
    LabGrids(trainer)
    return critic, scorer, trainer, PoolSearch(LoopPool(library, scorer, rng=rng, prior=prior), seed=seed)


class LabGrids:
    """A lab trainer's ``grids``: each rating's hits by its key, as the daemon's trainer reads them from the
    session (for the cells' terms, :func:`dd_live.learn.policy.fit_cells`). Rate through :meth:`add`."""

    def __init__(self, trainer) -> None:
        self.trainer, self.rated = trainer, {}
        trainer.grids = self

    def __call__(self, keys: list[int | None]) -> list[np.ndarray | None]:
        return [self.rated.get(k) for k in keys]

    def add(self, feats, like: bool, hits: np.ndarray) -> None:
        """``trainer.add`` of a loop whose grid is ``hits``."""
        key = len(self.rated)
        self.rated[key] = hits
        self.trainer.add(feats, like, key=key)


def playing(found) -> list[int]:
    """The sample indices of a found loop's tracks that play."""
    return [int(i) for i, row in zip(found.idx, found.hits) if row.any()]


def dislikes_only(library, *, seed: int = 0, prior="shipped", loops: int = 60,
                  disliked: Callable | None = None) -> dict:
    """Serve ``loops`` loops of a new session; dislike each one ``disliked(found, library)`` says (default: a hat
    plays), skip the rest. Returns the share of loops that held a hat in the first and second halves, and how
    many dislikes were given."""
    from ..loops.prior import load_prior

    prior = load_prior() if prior == "shipped" else prior
    disliked = disliked or (lambda found, lib: any(lib.samples[i].category in HATS for i in playing(found)))
    from ..learn.pool import sound_kinds
    from .evaluate import tally

    critic, scorer, trainer, search = _session(library, seed=seed, prior=prior)
    lineages: dict[bool, tuple[int, int]] = {}
    sounds: dict[str, tuple[int, int]] = {}
    kinds = sound_kinds(library)
    hats, dislikes = [], 0
    for _ in range(loops):
        found = search.next(critic, draw=True, lineages=lineages, sounds=sounds)
        bad = bool(disliked(found, library))
        hats.append(bad)
        tally(lineages, sounds, found, False if bad else None, kinds)   # a skip is heard, not rated
        if bad:
            audio = scorer.audio(found.hits[None], found.idx[None], found.genes)[0]
            trainer.grids.add(scorer.features(audio[None])[0], False, found.hits)
            trainer.train()
            dislikes += 1
    half = loops // 2
    return {"seed": seed, "first_half": float(np.mean(hats[:half])), "second_half": float(np.mean(hats[half:])),
            "dislikes": dislikes}


def first_loops(library, *, seeds: Sequence[int] = (0,), prior="shipped", raters: Sequence[str] | None = None
                ) -> dict:
    """Each built-in rater (or those named) through the first loops of new sessions: mean noise-free P(like)
    and drum-kit share per rater and over all (the daemon's lean mode and the drum prior, or ``prior=None``
    for DeepDrummer's uniform draws)."""
    from .evaluate import FIRST, run_protocol
    from .raters import RATERS

    rows = {}
    for name in raters or sorted(RATERS):
        runs = [run_protocol(RATERS[name](seed=seed), ratings=FIRST, per_model=1, seed=seed, library=library,
                             threads=2, prior=prior) for seed in seeds]
        rows[name] = {"p_like": float(np.mean([r["phase1_first_p_like"] for r in runs])),
                      "kit_share": float(np.mean([r["phase1_first_kit_share"] for r in runs]))}
    return {"loops": FIRST, "seeds": list(seeds), "raters": rows,
            "p_like": float(np.mean([r["p_like"] for r in rows.values()])),
            "kit_share": float(np.mean([r["kit_share"] for r in rows.values()]))}
