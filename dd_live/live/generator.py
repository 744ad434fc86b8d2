"""The daemon's generator thread: :class:`GeneratorWorker` keeps persistent MH chains warm with the
latest critic and a small queue of ready candidates whose files (loop, preview, MIDI, the critic's
120 bpm bar) are on disk before anyone sees them. Nothing here touches OSC; the daemon wires it up
through callbacks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..errors import one_line
from ..groove.genes import of_pattern, pattern_fields
from ..loops.export import track_pitches
from ..loops.pattern import Constraints
from ..groove.record import Loop
from ..session.settings import LiveSettings
from .loop import collect_loop_files, keep_within_budget, store_candidate, write_candidate_files
from ..session.sounds import sound_hash
from ..worker import Gate, Worker

IO_RETRY_S = (1.0, 16.0)   # the first and the longest wait before writing loops again after a write error (s)

log = logging.getLogger("dd_live.workers")

QUEUE_SIZE = 3          # ready candidates kept ahead of clicks


def _shape(s: LiveSettings) -> tuple:
    """The settings that change which patterns are made (all but the tempo, the feel and the adapt rate)."""
    return (s.fotf, s.locks, s.density, s.temperature, s.mode, s.own_feel, s.swing, s.steps, s.beats)


class GeneratorWorker(Worker):
    """Persistent chains and a queue of ready candidates; see the module docstring.

    ``on_ready(loop)`` is called (on this thread) when a candidate was requested
    with an empty queue; ``on_retempo(loop)`` with the current candidate re-rendered
    after a tempo change. ``current()`` returns the candidate announced last.
    """

    name = "dd-generator"

    def __init__(self, library, session, critic, *, gate: Gate, settings: LiveSettings, rng: np.random.Generator,
                 threads: int = 1, version: int = 0, trained_on: int = 0, chains: int = 16,
                 steps_between: int = 2, queue_size: int = QUEUE_SIZE,
                 on_ready: Callable[[Loop], None] = lambda loop: None,
                 on_retempo: Callable[[Loop], None] = lambda loop: None,
                 current: Callable[[], Loop | None] = lambda: None,
                 hold_off: Callable[[], bool] = lambda: False, hashes: dict[int, str] | None = None,
                 pooled: bool = True, prior=None, on_error: Callable[[str, str], None] = lambda code, msg: None) -> None:
        """``on_error(code, message)``: tell the front ends (a loop that cannot be written: "io").
        ``hashes``: sha256 of library samples by index, shared with whoever keeps rated loops' sounds.
        ``prior``: the :class:`dd_live.loops.prior.DrumPrior` new loops are drawn from (None: DeepDrummer's).
        ``pooled``: the critics' features never change (``learn="head"``), so lean and best mode choose
        from a pool of embedded loops (:class:`dd_live.learn.policy.PoolSearch`); otherwise both run best
        mode's search over the chains."""
        super().__init__()
        from ..learn.pool import sound_kinds
        from ..learn.sampler import Scorer

        self.library, self.session, self.gate, self.rng, self.prior = library, session, gate, rng, prior
        self.on_error, self._kinds, self.settings = on_error, sound_kinds(library), settings
        self.hashes = hashes if hashes is not None else {}
        self.critic = critic                   # the scoring critic (a frozen copy of the trainer's)
        self.scorer = Scorer(library, critic, threads=threads, beats=settings.beats, swing=settings.swing)
        self.version, self.trained_on = version, trained_on
        self.steps_between, self.queue_size = steps_between, queue_size
        self.on_ready, self.on_retempo, self.current = on_ready, on_retempo, current
        self.hold_off = hold_off
        self._cond = threading.Condition()
        self._ready: list[Loop] = []
        self._pending_critic: tuple | None = None
        self._pending_settings: LiveSettings | None = None
        self._wanted = False
        self._epoch = 0
        self._bpm, self._feel = settings.bpm, settings.feel_layer
        self._made = 0
        self._made_version = -1                # the critic version of the latest candidate made
        self._next_id, self._ids = session.next_id(), threading.Lock()
        self._free: dict[int, bool] = {}      # candidate id -> drawn outside the drum prior (this run's loops)
        self._played: dict[int, set[str]] = {}   # candidate id -> the kinds of sound it plays (this run's loops)
        self._heard: set[int] = set()            # this run's candidates that were the current loop at some time
        self._n_chains = chains
        with gate.hold(high=True):
            self._make_chains(settings)
        self.pooled = pooled
        self._pool = None                      # made on first use (learn/policy.PoolSearch)
        self._stale = False                    # the chains' scores are not self.critic's (a newer critic)

    def _make_chains(self, s: LiveSettings) -> None:
        """The chains and best mode's search on the grid of ``s``, four on the floor if it says so (no locks: no
        loop of this grid is current yet; call holding the gate)."""
        from ..learn.sampler import BestSearch, Chains

        self.scorer.beats = s.beats
        self.chains = Chains(self.library, self.scorer, n=self._n_chains, rng=self.rng, tracks=len(s.locks),
                             steps=s.steps, beats=s.beats, density=s.density, temperature=s.temperature,
                             feel=s.own_feel, prior=self.prior, constraints=Constraints(fotf=s.fotf))
        self._best = BestSearch(self.chains)

    def pitches(self, idx, settings: LiveSettings) -> list[int]:
        """Each track's MIDI note for a loop of library samples ``idx`` (one per track): Drum Rack pads 36 +
        track, or with ``settings.gm`` a General MIDI note of each sound's family
        (:func:`dd_live.loops.export.track_pitches`)."""
        return track_pitches(self.library, idx, gm=settings.gm)

    # ------------------------------------------------------------ called from other threads

    def new_id(self) -> int:
        """A new candidate id: the generator's loops and the performer's edits share them."""
        with self._ids:
            cid, self._next_id = self._next_id, self._next_id + 1
        return cid

    def set_critic(self, critic, version: int, trained_on: int) -> None:
        with self._cond:
            self._pending_critic = (critic, version, trained_on)
            self._cond.notify_all()

    def set_settings(self, settings: LiveSettings) -> None:
        """New settings. Candidates made under different constraints are withdrawn at once, so the next
        take() never returns one; a tempo change only re-renders them."""
        with self._cond:
            latest = self._pending_settings or self.settings
            if _shape(settings) != _shape(latest):
                self._epoch += 1
                self._ready.clear()
            # take() skips loops at another tempo or feel until they are re-rendered
            self._bpm, self._feel = settings.bpm, settings.feel_layer
            self._pending_settings = settings
            self._cond.notify_all()

    def take(self) -> Loop | None:
        """The freshest ready candidate (highest critic version, then oldest), or None; never blocks."""
        with self._cond:
            fresh = [x for x in self._ready if self._takeable(x)]
            if not fresh:
                return None
            best = max(fresh, key=lambda x: (x.version, -x.id))
            self._ready.remove(best)
            self._cond.notify_all()
            return best

    def request(self) -> None:
        """Announce (through on_ready) the next candidate made, the queue being empty."""
        with self._cond:
            self._wanted = True
            self._cond.notify_all()

    def wait_for_version(self, version: int, timeout: float) -> bool:
        """Block until a candidate from critic ``version`` or newer has been made (True), the thread
        stopped or ``timeout`` seconds passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._made_version >= version or self._stop.is_set(), timeout) \
                and self._made_version >= version

    def ready_count(self) -> int:
        with self._cond:
            return sum(1 for x in self._ready if self._takeable(x))

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def wake(self) -> None:
        """Look again at whether there is work (call when ``hold_off()`` turns False)."""
        self._wake()

    # ------------------------------------------------------------ the thread

    def _takeable(self, loop: Loop) -> bool:
        """Made under the current constraints, rendered at the current tempo and feel (call holding _cond)."""
        return loop.epoch == self._epoch and loop.bpm == self._bpm and loop.feel == self._feel

    def _needs_work(self) -> bool:
        """Call holding _cond. While ``hold_off()`` (a critic trained on a new rating is on its way) one
        ready loop is enough: candidates from the critic about to be replaced would only take the
        cores from the training that makes the next one."""
        if self._pending_critic is not None or self._pending_settings is not None or self._wanted:
            return True
        takeable = [x for x in self._ready if self._takeable(x)]
        if takeable and self.hold_off():
            return False
        return sum(1 for x in takeable if x.version == self.version) < self.queue_size

    def _run(self) -> None:
        """The loop below, kept going through write errors (a full disk, a folder gone): each is told once
        (/dd/error io) and the work tried again after IO_RETRY_S, doubling while it keeps failing."""
        wait, made = IO_RETRY_S[0], -1
        while not self._stop.is_set():
            try:
                self._work()
                return
            except OSError as err:
                wait = IO_RETRY_S[0] if self._made != made else min(wait * 2, IO_RETRY_S[1])
                made = self._made
                self.make_room()
                msg = f"new loops cannot be written: {one_line(err)}; trying again in {wait:g} s"
                log.error("%s", msg)
                self.on_error("io", msg)
                self._stop.wait(wait)

    def _work(self) -> None:
        from ..learn.critic import release_memory

        while True:
            with self._cond:
                resting = not self._stop.is_set() and not self._needs_work()
            if resting:               # loops ready, nothing asked: what the work freed goes back to the system
                release_memory()
            with self._cond:
                while not self._stop.is_set() and not self._needs_work():
                    self._cond.wait()
                if self._stop.is_set():
                    return
                critic, self._pending_critic = self._pending_critic, None
                settings, self._pending_settings = self._pending_settings, None
            if critic is not None:
                self._apply_critic(*critic)
            if settings is not None:
                self._apply_settings(settings)
            with self._cond:
                if self._pending_critic is not None or self._pending_settings is not None:
                    continue  # newer news: apply it before spending time on a candidate
                waiting = self._wanted
            if waiting:  # someone clicked with an empty queue: a ready loop (re-rendered at a new tempo) will do
                loop = self.take()
                if loop is not None:
                    with self._cond:
                        self._wanted = False
                    self.on_ready(loop)
                    continue
            loop = self._make()
            with self._cond:
                self._made_version = max(self._made_version, loop.version)
                self._cond.notify_all()
                if loop.epoch != self._epoch:
                    continue
                deliver = self._wanted and loop.bpm == self._bpm and loop.feel == self._feel
                if deliver:
                    self._wanted = False
                else:
                    self._ready.append(loop)
                    self._trim()
            if deliver:
                self.on_ready(loop)
            self._made += 1
            if self._made % 16 == 0:
                self._collect()

    def _trim(self) -> None:
        """Keep at most queue_size ready candidates, dropping the stalest (lowest version, oldest) first."""
        while len(self._ready) > self.queue_size:
            self._ready.remove(min(self._ready, key=lambda x: (x.epoch == self._epoch, x.version, x.id)))

    def _apply_critic(self, critic, version: int, trained_on: int) -> None:
        """Score with ``critic`` from now on; the chains are rescored when a mode next reads their scores
        (the pool needs nothing: its loops are scored on demand)."""
        self.critic = critic
        self.scorer.set_critics([critic])
        self._stale = True
        self.version, self.trained_on = version, trained_on

    def _apply_settings(self, new: LiveSettings) -> None:
        old, self.settings = self.settings, new
        if (new.steps, new.beats) != (old.steps, old.beats):    # another grid: new chains, a new pool
            with self.gate.hold(high=True):
                self.scorer.swing = new.swing
                self._make_chains(new)
                self._pool = None
            self._stale = False   # the new chains were scored by self.critic
        elif _shape(new) != _shape(old):
            cur = self._on_grid(new)
            template = (cur.hits, cur.idx) if cur is not None else None
            locks = new.locks if template is not None else tuple(False for _ in new.locks)
            self.chains.density, self.chains.temperature = new.density, new.temperature
            constraints = Constraints(fotf=new.fotf, lock_sample=locks, lock_row=locks)
            with self.gate.hold(high=True):
                self.scorer.swing = new.swing
                if new.own_feel != old.own_feel:
                    self.chains.set_feel(new.own_feel)
                self.chains.constrain(constraints, template, self._template_genes(cur))
                if self._pool is not None:
                    pool = self._pool.pool
                    if (new.fotf, new.locks, new.own_feel, new.swing) != (old.fotf, old.locks, old.own_feel, old.swing):
                        pool.feel, pool.template_genes = new.own_feel, self._template_genes(cur)
                        pool.reset(constraints, density=new.density, template=template)
                    pool.density = new.density
            self._stale = False  # constrain rescores the chains with self.critic
        if (new.bpm, new.feel_layer) != (old.bpm, old.feel_layer):
            with self._cond:
                ready = list(self._ready)
            for loop in ready:
                self._retempo(loop, new.bpm, new.feel_layer)
                with self._cond:
                    self._cond.notify_all()
            cur = self.current()
            if cur is not None:
                self.on_retempo(self._retempo(replace(cur, cache={}), new.bpm, new.feel_layer))

    def _retempo(self, loop: Loop, bpm: float, feel: tuple[float, ...]) -> Loop:
        """Render ``loop``'s files again at ``bpm`` with the feel layer ``feel``."""
        folder = self.session.candidate_dir(loop.id)
        loop.files, loop.playback = write_candidate_files(folder, loop.pattern, self.library, bpm, loop.pitches, feel)
        loop.bpm, loop.feel = bpm, feel
        self.session.update_bpm(loop.id, bpm)
        return loop

    def _make(self) -> Loop:
        """One new candidate: move the chains, pick one, write its files, store it."""
        from ..learn.sampler import BEST_TEMPERATURE

        settings, epoch = self.settings, self._epoch
        with self.gate.hold(high=True):
            if self.pooled and settings.mode in ("lean", "best"):
                found = self._pool_search().next(self.critic, draw=settings.mode == "lean", **self._evidence())
            else:
                if self._stale:
                    self.chains.rescore()
                    self._stale = False
                if settings.mode in ("lean", "best"):  # a critic learning its features: no posterior to draw
                    found = self._best.next(temperature=min(settings.temperature, BEST_TEMPERATURE))
                else:
                    self.chains.run(self.steps_between, "explore")
                    found = self.chains.pick()
        cid = self.new_id()
        self._free[cid] = found.free
        self._played[cid] = {str(self._kinds[int(i)]) for i, row in zip(found.idx, found.hits) if row.any()}
        reference = self.scorer.audio(found.hits[None], found.idx[None], found.genes)[0]
        groove = {"swing": 0.0} if found.genes is None else pattern_fields(found.genes, 0)
        if settings.swing is not None:
            groove["swing"] = settings.swing
        groove["beats"] = settings.beats
        loop = Loop.from_arrays(found.hits, found.idx, self.library, reference, found.score, groove=groove,
                                origin=settings.mode,
                                id=cid, version=self.version, trained_on=self.trained_on, bpm=settings.bpm,
                                pitches=self.pitches(found.idx, settings), epoch=epoch, feel=settings.feel_layer)
        store_candidate(self.session, self.library, loop, mode=settings.mode)
        for i in found.idx:  # hashed here, so that rating it costs the click no hashing
            sound_hash(self.library, int(i), self.hashes)
        return loop

    def _evidence(self) -> dict:
        """The pool search's evidence, from the session as it is now (undos too): :func:`count_evidence` of this
        run's loops over the ratings, and the kept edits' :func:`cell_terms` on the grid played."""
        from ..learn.policy import cell_terms, count_evidence
        cur = self.current()
        if cur is not None and cur.id in self._played:
            self._heard.add(cur.id)
        lineages, sounds = count_evidence(self.session.ratings(), self._free, self._played, self._heard)
        cells = cell_terms(self.session.kept_edits(), (len(self.settings.locks), self.settings.steps))
        return {"lineages": lineages, "sounds": sounds, "cells": cells}

    def _pool_search(self):
        """The pool search, made on first use under the current constraints (call holding the gate)."""
        if self._pool is None:
            from ..learn.policy import PoolSearch
            from ..learn.pool import LoopPool

            s = self.settings
            cur = self._on_grid(s)
            template = (cur.hits, cur.idx) if cur is not None else None
            locks = s.locks if template is not None else tuple(False for _ in s.locks)
            pool = LoopPool(self.library, self.scorer, rng=self.rng, tracks=len(s.locks), steps=s.steps, beats=s.beats,
                            density=s.density,
                            constraints=Constraints(fotf=s.fotf, lock_sample=locks, lock_row=locks), template=template,
                            feel=s.own_feel, template_genes=self._template_genes(cur), prior=self.prior)
            self._pool = PoolSearch(pool, seed=int(self.rng.integers(2**31)))
        return self._pool

    def _on_grid(self, s: LiveSettings) -> Loop | None:
        """The current loop, if it is on the grid of ``s`` (what locked tracks keep); None after a grid change."""
        cur = self.current()
        return cur if cur is not None and (cur.pattern.steps, cur.pattern.beats) == (s.steps, s.beats) else None

    @staticmethod
    def _template_genes(cur: Loop | None):
        """The feel locked tracks keep: the current loop's, on the genes' lattices."""
        return None if cur is None else of_pattern(cur.pattern)

    def make_room(self) -> None:
        """After a write failed (a full disk): thin the oldest candidates' files, so that ratings and the critic's
        checkpoint have room first (see :func:`keep_within_budget`). Any thread."""
        try:
            self._collect()
        except OSError as err:
            log.debug("making room failed: %s", err)

    def _collect(self) -> None:
        with self._cond:
            keep = {x.id for x in self._ready}
        cur = self.current()
        if cur is not None:
            keep.add(cur.id)
        collect_loop_files(self.session, keep=keep, newest=self._next_id - 1)
        keep_within_budget(self.session, keep=keep)
