"""The daemon's trainer thread: :class:`TrainerWorker` makes the critic's training set equal to the
session's ratings and trains one per-rating budget for each new or changed rating, then rests. After
each round it saves ``critic/latest.pt`` and publishes a frozen copy of the critic (a new *version*)
to the generator. Nothing here touches OSC; the daemon wires it up through callbacks."""

from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from ..errors import one_line
from .loop import reference_audio
from ..worker import Gate, RateLog, Worker

log = logging.getLogger("dd_live.workers")

HISTORY = 4             # training states kept for a fast undo
EAGER = 16              # new ratings up to this many have their MFCCs made at once, outside the gate


class _Interrupted(Exception):
    """A debt-paying training round gives way to a new rating."""


class TrainerWorker(Worker):
    """Keeps the critic trained on the session's ratings; see the module docstring.

    ``publish(critic, version, trained_on, loss)`` is called (on this thread) with a
    frozen copy after every round. ``sync()`` asks it to look at the database again.
    ``busy`` is set from ``sync()`` until a critic trained on every stored rating has
    been published, then ``on_idle()`` is called (the generator holds off while a
    critic is coming; paying the rest of the ratings' budgets afterwards is not news).
    """

    name = "dd-trainer"
    #: a round with news is cut short by a newer rating only if the last critic published is younger
    #: than this (s): clicks faster than a round then still see a critic at least this often
    max_stale_s = 3.0

    def __init__(self, trainer, session, library, *, gate: Gate, publish: Callable, mfcc=None,
                 version: int = 0, trained: list[tuple[int, bool]] | None = None,
                 on_idle: Callable[[], None] = lambda: None, prior=None,
                 on_error: Callable[[str, str], None] = lambda code, msg: None) -> None:
        """``on_error(code, message)``: tell the front ends (a checkpoint that cannot be saved: "io"). ``prior``: the drum prior the generator draws from, whose loops the head's inputs are standardised
        over (:func:`dd_live.learn.trainset.reference_features`)."""
        super().__init__()
        from ..learn.features import MFCC

        self.trainer, self.session, self.library, self.prior = trainer, session, library, prior
        self.gate, self.publish, self.on_error = gate, publish, on_error
        self._save_failed = RateLog(log, every=60.0)
        self.mfcc = mfcc or MFCC()
        trainer.remake = self._features   # a head's rated loops keep embeddings; their MFCCs are made again if needed
        trainer.grids = self._grids       # what the ratings say of each cell, beside the head (policy.fit_cells)
        self.version = version
        self.dataset: list[tuple[int, bool]] = list(trained or [])  # what trainer.feats holds, in order
        self._history: deque[tuple[tuple, dict]] = deque(maxlen=HISTORY)
        self._jobs: queue.Queue[None] = queue.Queue()
        self.last_published = None
        self.busy = threading.Event()
        self.on_idle = on_idle
        self._busy_lock = threading.Lock()
        self._unheard = False                  # the dataset holds news that no published critic has heard
        self._published_at = time.monotonic()

    def sync(self) -> None:
        with self._busy_lock:
            self.busy.set()
            self._jobs.put(None)

    def _settled(self) -> None:
        """Every stored rating is in a published critic: the generator may fill its queue again."""
        with self._busy_lock:
            if not self._jobs.empty():
                return
            self.busy.clear()
        self.on_idle()

    def _wake(self) -> None:
        self._jobs.put(None)

    def load_features(self) -> None:
        """Give the trainer the rows of ``dataset`` (after a restart; their MFCCs are made, and a head's embedded,
        on the trainer's thread) and, for a critic that learns its head, what makes the reference loops; call
        before start()."""
        import torch

        from ..learn.trainset import reference_features

        if self.trainer.config.learn == "head":   # made at the first fit, on the trainer's thread
            self.trainer.set_reference(lambda: reference_features(
                self.library, lambda a: self.mfcc(torch.from_numpy(a)), prior=self.prior))
        self.trainer.clear()
        for cid, like in self.dataset:   # made and embedded on the trainer's thread, while nobody clicks
            self.trainer.add(None, like, key=cid)

    def _run(self) -> None:
        from ..learn.trainer import EMBED_CHUNK

        while not self._stop.is_set():
            pending = self.trainer.config.learn == "head" and self.trainer.pending > 0
            if pending:          # rated loops not embedded yet (a restart): a few at a time while nobody clicks
                with self.gate.hold(high=False):
                    self.trainer.embed_pending(most=EMBED_CHUNK // 4)
            try:
                self._jobs.get(timeout=0.0 if pending else 0.5)
            except queue.Empty:
                continue
            while True:  # coalesce queued wake-ups: the database says what to do
                try:
                    self._jobs.get_nowait()
                except queue.Empty:
                    break
            if self._stop.is_set():
                break
            self._catch_up()
            self._settled()
        self.busy.clear()

    def _made_now(self, cids: list[int]) -> list:
        """The MFCCs of a few new ratings' loops, made now (outside the gate: a click's own); of many (a session
        new to this critic), None each: the trainer makes them in chunks when it needs them."""
        return list(self._features(cids)) if 0 < len(cids) <= EAGER else [None] * len(cids)

    def _features(self, cids: list[int]):
        """The MFCCs (len(cids), 60, frames) of these candidates, as the critic hears them."""
        import torch

        sounds: dict = {}                  # the session's copies of the sounds, read once for all these loops
        audio = np.stack([reference_audio(self.session, self.library, cid, sounds) for cid in cids])
        return self.mfcc(torch.from_numpy(audio))

    def _grids(self, cids: list[int | None]) -> list[np.ndarray | None]:
        """Each rated candidate's hits (tracks, steps), None where it is unknown or damaged."""
        return [None if cid is None else self.session.grid(cid) for cid in cids]

    def _catch_up(self) -> None:
        """Make the dataset equal to the database's ratings and pay one budget per rating.

        New ratings join the dataset at once, all together, so the next critic
        published has heard every click so far; the budgets they are owed are
        then trained one after another. A round that only pays a debt is cut
        short when another rating arrives, and so is a round with news unless
        the last critic published is older than ``max_stale_s``: a click waits
        for a few minibatches plus one round, and fast clicking still sees a
        new critic every few seconds. A cut round's minibatches are kept; its
        budget is still owed.
        """
        owed = 0
        while not self._stop.is_set():
            while True:  # wake-ups so far are answered by reading the database now
                try:
                    self._jobs.get_nowait()
                except queue.Empty:
                    break
            target = self.session.ratings()
            n = len(self.dataset)
            if target != self.dataset:
                if target[:n] == self.dataset:                 # new ratings
                    new = target[n:]       # a click's MFCCs are made here, outside the gate; many (a session new
                    #                        to this critic) in chunks by the trainer, when it needs them
                    feats = self._made_now([c for c, _ in new])
                    owed += len(new) if self.trainer.budgeted else 1
                    change = (lambda fs=feats, rows=new: [self.trainer.add(f, y, key=c)
                                                          for f, (c, y) in zip(fs, rows)])
                elif [c for c, _ in target] == [c for c, _ in self.dataset]:  # labels replaced
                    changed = [i for i, (a, b) in enumerate(zip(target, self.dataset)) if a != b]
                    owed += len(changed) if self.trainer.budgeted else 1
                    change = (lambda t=target, ch=changed: [self.trainer.relabel(i, t[i][1]) for i in ch])
                else:                                          # undo (or anything else): go back or replay
                    self._rewind(target)
                    owed = 0
                    continue
                self._history.append((tuple(self.dataset), self.trainer.snapshot()))
                if self._round(change, list(target), interruptible=self._may_cut_news()):
                    owed -= 1
            elif self._unheard:                                # news whose round was cut short
                if self._round(lambda: None, self.dataset, interruptible=self._may_cut_news()):
                    owed -= 1
            elif owed > 0:
                self._settled()
                if self._round(lambda: None, self.dataset, interruptible=True, news=False):
                    owed -= 1
            else:
                return

    def _may_cut_news(self) -> bool:
        return time.monotonic() - self._published_at < self.max_stale_s

    def _round(self, change: Callable[[], object], after: list[tuple[int, bool]], *,
               interruptible: bool = False, news: bool = True) -> bool:
        """Apply ``change``, train one budget and publish; False if cut short by a new rating.
        ``news``: the round's critic has heard something no published one has (else it pays a debt)."""

        def between() -> None:
            self.gate.yield_to_high()
            if interruptible and (not self._jobs.empty() or self._stop.is_set()):
                raise _Interrupted

        with self.gate.hold(high=False):
            change()
            self._unheard = self._unheard or news
            self.dataset = after
            try:
                loss = self.trainer.train(between=between, every=2)
            except _Interrupted:
                return False
        self._publish(loss)
        return True

    def _rewind(self, target: list[tuple[int, bool]]) -> None:
        for signature, state in reversed(self._history):
            if list(signature) == target and self._can_drop_to(target):
                keep = {c for c, _ in target}
                for i in reversed(range(len(self.dataset))):
                    if self.dataset[i][0] not in keep:
                        self.trainer.remove(i)
                self.trainer.restore(state)
                self.dataset = list(target)
                self._publish(self.trainer.last_loss)
                return
        if target and not self.trainer.budgeted:   # a head's fit is the ratings' alone: one, on the rows kept and new
            index = {cid: i for i, (cid, _) in enumerate(self.dataset)}
            self._history.clear()
            self._round(lambda: self.trainer.rearrange([index.get(c) for c, _ in target], [c for c, _ in target],
                                                       [like for _, like in target]), list(target))
            return
        log.info("retraining from the initial critic on %d ratings", len(target))
        feats = self._made_now([c for c, _ in target])
        with self.gate.hold(high=False):
            self.trainer.reset()
            self.trainer.clear()
            self.dataset = []
        self._history.clear()
        if not target:                    # every rating undone: the critic as it started
            self._publish(float("nan"))
            return
        for (cid, like), f in zip(target, feats):
            if self._stop.is_set():
                return
            self._history.append((tuple(self.dataset), self.trainer.snapshot()))
            self._round(lambda f=f, like=like, cid=cid: self.trainer.add(f, like, key=cid),
                        self.dataset + [(cid, like)])

    def _can_drop_to(self, target: list[tuple[int, bool]]) -> bool:
        """True if removing rows from the dataset (no relabels) gives ``target``."""
        keep = [row for row in self.dataset if row[0] in {c for c, _ in target}]
        return keep == target

    def _publish(self, loss: float) -> None:
        self._unheard = False
        self._published_at = time.monotonic()
        self.version += 1
        try:  # a cache of what the ratings teach: learning goes on without it (a restart replays the ratings)
            self.trainer.save(self.session.latest_checkpoint,
                              extra={"version": self.version, "ratings": [[c, bool(v)] for c, v in self.dataset]})
        except OSError as err:
            msg = f"the critic's checkpoint cannot be saved ({one_line(err)}); learning goes on, the ratings are kept"
            if self._save_failed.warning("%s", msg):
                self.on_error("io", msg)
        frozen = copy.deepcopy(self.trainer.critic).eval()
        self.last_published = frozen  # what latest.pt holds
        self.publish(frozen, self.version, len(self.dataset), float(loss))
