"""The performer's taste, as song mode asks it (issue 16): a session's critic (or a new session's), its kit, its
swing and feel layer; best-mode loops of any grid, and the critic's choice among candidate bars.

Every question goes to the critic in one batch; ties (a new session's critic scores every loop 0.5) are broken
by the song's seeded generator, never by position.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..loops.pattern import Constraints, Pattern, from_arrays
from .. import GRID

log = logging.getLogger("dd_live.song")

CHAINS = 16            # chains of each grid's best-mode search
SEARCH_STEPS = 24      # its bound (steps) and patience: a song needs a handful of loops, not a live stream
SEARCH_PATIENCE = 6
TRACKS = GRID.tracks   # a new session's tracks (a session's own loops decide its number)
NO_SESSION = ("dd_live's drum prior, no performer's taste yet (--session NAME: a session's critic, kit, swing and "
              "feel choose the drums)")


@dataclass
class Taste:
    """What shapes the song's drums. ``score(hits, idx, beats)`` scores a batch of bars (tracks x steps, sample
    indices) of ``beats`` beats in [0, 1]."""

    library: object
    score: Callable[[np.ndarray, np.ndarray, int], np.ndarray]
    rng: np.random.Generator
    tracks: int = TRACKS
    swing: float | None = None            # the session's swing for every loop (None: each loop's own)
    feel: tuple[float, ...] = ()          # the session's feel layer (offset per step)
    groove: bool = False                  # the session searches each loop's own feel
    fotf: bool = False                    # the session's four-on-the-floor
    source: str = "dd_live's drum prior (no session)"
    make_chains: Callable | None = None   # (steps, beats, constraints) -> Chains, for best_loop's search
    _best: dict = field(default_factory=dict)

    def forget(self) -> None:
        """Drop the best-mode loops found so far: the next song searches its own (as a fresh run would)."""
        self._best.clear()

    def choose(self, hits: np.ndarray, idx: np.ndarray, beats: int) -> int:
        """Index of the candidate the critic likes best (batch of hits (K, tracks, steps), idx (K, tracks))."""
        s = np.asarray(self.score(hits, idx, beats), dtype=np.float64)
        top = np.flatnonzero(s >= s.max() - 1e-9)
        return int(top[self.rng.integers(top.size)]) if top.size > 1 else int(top[0])

    def best_loop(self, steps: int, beats: int, kit: np.ndarray | None = None) -> Pattern:
        """A best-mode loop of ``steps`` x ``beats`` (one per grid per song); with ``kit`` (sample indices) its
        tracks keep those sounds, so that every grid of the song plays the same kit."""
        key = (steps, beats)
        if key not in self._best:
            self._best[key] = self._search(steps, beats, kit)
        return self._best[key]

    def _search(self, steps: int, beats: int, kit: np.ndarray | None) -> Pattern:
        from ..groove.genes import pattern_fields
        from ..learn.sampler import BEST_TEMPERATURE, BestSearch

        from ..loops.prior import layout

        # every kit a drummer's: each track's sounds from its role (kick, snare or clap, hat or ride, colour)
        locks = Constraints(fotf=self.fotf, lock_sample=() if kit is None else (True,) * self.tracks,
                            roles=layout(self.tracks))
        chains = self.make_chains(steps, beats, locks)
        if kit is not None:
            chains.constrain(locks, (np.zeros((self.tracks, steps), dtype=bool), np.asarray(kit)))
        found = BestSearch(chains, max_steps=SEARCH_STEPS, patience=SEARCH_PATIENCE,
                           temperature=BEST_TEMPERATURE).next()
        fields = {"swing": 0.0} if found.genes is None else pattern_fields(found.genes, 0)
        if self.swing is not None and (steps // beats) % 2 == 0:
            fields["swing"] = self.swing
        elif (steps // beats) % 2:
            fields["swing"] = 0.0
        return from_arrays(found.hits, found.idx, self.library, beats=beats, **fields)


def open_taste(*, session: str | None, samples: Sequence[str] | None, seed: int, threads: int = 2) -> Taste:
    """The taste of ``session`` (a name or folder; read only, its critic's latest checkpoint), or of a new
    session's critic (the shipped pretrained features) when None. ``samples``: sample folders, which a session's
    own must match (a session keeps its kit)."""
    from ..learn.critic import configure_threads
    from ..learn.pretrain import starting_critic
    from ..session.settings import LiveSettings
    from ..sound.samples import open_library

    configure_threads(threads)
    settings, layer, critic, source = LiveSettings(), (), None, NO_SESSION
    folders = list(samples) if samples else None
    if session is not None:
        from ..session.folders import resolve
        from ..session.session import Session

        folder = resolve(session)
        s = Session(folder, create=False)
        try:
            stored = s.settings()
            settings = LiveSettings.from_dict(stored.get("live", {}))
            layer = tuple(s.feel() or ())
            kept = stored.get("samples") or []
            from ..sound.samples import kit_folders

            if folders and kit_folders(folders) != list(kept):
                raise InputError(f"session {folder.name} was made with "
                                 f"{', '.join(kept) if kept else 'the built-in kit'}; song mode uses its kit "
                                 "(leave out --samples)")
            folders = list(kept) or None
            critic = _session_critic(s, seed)
            source = f"session {folder.name} (its critic chose among the drum prior's kits and loops)"
        finally:
            s.close()
    library = open_library(folders, tracks=TRACKS)
    if critic is None:
        critic = starting_critic("pretrained", library=library, seed=seed, flat=True)
    return taste_from(library, critic, settings, layer, seed=seed, threads=threads, source=source)


def taste_from(library, critic, settings, feel: Sequence[float] = (), *, seed: int, threads: int = 2,
               source: str = "the live session's critic", gate=None, prior="shipped") -> Taste:
    """A Taste over ``library`` scored by ``critic`` with a session's :class:`~dd_live.session.settings.LiveSettings`
    and feel layer; with ``gate`` (the daemon's :class:`~dd_live.worker.Gate`) every batch of critic work
    waits its turn behind the daemon's own, low priority. The search starts from ``prior`` (a
    :class:`~dd_live.loops.prior.DrumPrior`; "shipped": dd_live's)."""
    import contextlib

    if prior == "shipped":
        from ..loops.prior import load_prior

        prior = load_prior()

    from ..learn.sampler import Chains, Scorer

    rng = np.random.default_rng(seed)
    # one Scorer for every grid: a bar of any grid is heard in the same 2 s (see render.reference_bpm), so
    # its audio does not depend on the beats
    scorer = Scorer(library, critic, threads=threads, swing=settings.swing)

    def held():
        return gate.hold(high=False) if gate is not None else contextlib.nullcontext()

    class _Held:  # the chains' scorer, through the gate
        swing = settings.swing

        def __call__(self, *args):
            with held():
                return scorer(*args)

    def score(hits: np.ndarray, idx: np.ndarray, beats: int) -> np.ndarray:
        with held():
            return scorer(np.asarray(hits, dtype=bool), np.asarray(idx))

    def make_chains(steps: int, beats: int, constraints: Constraints):
        return Chains(library, _Held(), n=CHAINS, rng=rng, tracks=TRACKS, steps=steps, beats=beats,
                      density=settings.density, constraints=constraints, feel=settings.own_feel, prior=prior)

    return Taste(library, score, rng, TRACKS, settings.swing, tuple(feel), settings.own_feel, settings.fotf, source,
                 make_chains)


def _session_critic(session, seed: int):
    """The session's critic from its latest checkpoint (else its initial one), read only."""
    from ..learn.critic import Critic
    from ..learn.trainer import TrainConfig, Trainer

    for path in (session.latest_checkpoint, session.initial_checkpoint):
        if path.is_file():
            trainer = Trainer(Critic(), TrainConfig(seed=seed))
            try:
                trainer.load(path)
            except InputError as err:
                log.warning("%s; trying the session's other checkpoint", err)
                continue
            trainer.critic.eval()
            return trainer.critic
    raise InputError(f"session {session.folder.name} has no readable critic checkpoint")
