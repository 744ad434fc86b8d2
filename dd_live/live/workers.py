"""The daemon's two torch threads: the trainer and the generator, and the gate between them.

* :class:`TrainerWorker` makes the critic's training set equal to the session's
  ratings and trains one per-rating budget for each new or changed rating, then
  rests. After each round it saves ``critic/latest.pt`` and publishes a frozen
  copy of the critic (a new *version*) to the generator.
* :class:`GeneratorWorker` keeps persistent MH chains warm with the latest
  critic and a small queue of ready candidates whose files (loop, preview,
  MIDI, the critic's 120 bpm bar) are on disk before anyone sees them.
* :class:`Gate` lets one of them run torch code at a time, the generator first,
  so neither oversubscribes the cores the user granted (``--threads``).

Nothing here touches OSC; the daemon wires them up through callbacks.
"""

from __future__ import annotations

import copy
import logging
import queue
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..sound.audio import atomic_path, write_wav
from ..loops.export import midi_file, note_map
from ..loops.pattern import Constraints, Pattern, from_arrays
from ..loops.render import render_loops, render_preview, render_reference

log = logging.getLogger("dd_live.workers")

QUEUE_SIZE = 3          # ready candidates kept ahead of clicks
KEEP_FILES = 32         # unrated candidates' folders kept behind the newest id
HISTORY = 4             # training states kept for a fast undo


@dataclass(frozen=True)
class LiveSettings:
    """What the performer can change while playing (all from OSC)."""

    bpm: float = 120.0
    mode: str = "explore"          # explore | best
    fotf: bool = False
    temperature: float = 1.0
    density: float = 0.5
    locks: tuple[bool, ...] = (False, False, False, False)

    def constraints(self) -> Constraints:
        return Constraints(fotf=self.fotf, lock_sample=self.locks, lock_row=self.locks)

    def to_dict(self) -> dict:
        return {"bpm": self.bpm, "mode": self.mode, "fotf": self.fotf, "temperature": self.temperature,
                "density": self.density, "locks": list(self.locks)}

    @classmethod
    def from_dict(cls, d: dict) -> LiveSettings:
        base = cls()
        return cls(bpm=float(d.get("bpm", base.bpm)), mode=str(d.get("mode", base.mode)),
                   fotf=bool(d.get("fotf", base.fotf)), temperature=float(d.get("temperature", base.temperature)),
                   density=float(d.get("density", base.density)),
                   locks=tuple(bool(x) for x in d.get("locks", base.locks)))


@dataclass
class Loop:
    """A candidate ready to announce: its pattern, score, critic version and files at ``bpm``."""

    id: int
    pattern: Pattern
    hits: np.ndarray
    idx: np.ndarray
    score: float
    version: int
    trained_on: int
    bpm: float
    files: dict[str, Path]
    audio: np.ndarray                      # the loop at ``bpm`` (for the audio player)
    epoch: int = 0                         # settings epoch it was made under
    notes: list[int] = field(default_factory=list)


def bpm_tag(bpm: float) -> str:
    return f"{bpm:.3f}".rstrip("0").rstrip(".")


def write_loop_files(folder: Path, pattern: Pattern, library, bpm: float, notes: list[int]) -> tuple[dict[str, Path], np.ndarray]:
    """loop_<bpm>.wav, preview_<bpm>.wav and loop_<bpm>.mid (one bar) in ``folder``; returns the paths and the loop."""
    tag = bpm_tag(bpm)
    loop = render_loops([pattern], library, bpm=bpm)[0]
    files = {
        "loop_wav": write_wav(folder / f"loop_{tag}.wav", loop, force=True),
        "preview_wav": write_wav(folder / f"preview_{tag}.wav", render_preview(pattern, library, bpm=bpm), force=True),
    }
    mid = midi_file(pattern, notes, bpm=bpm, repeats=1, name="dd_live")
    with atomic_path(folder / f"loop_{tag}.mid", force=True) as tmp:
        mid.save(str(tmp))
    files["midi_file"] = folder / f"loop_{tag}.mid"
    return files, loop


def reference_audio(session, library, cid: int) -> np.ndarray:
    """The 120 bpm bar the critic hears for candidate ``cid``: critic.wav, else rendered from its pattern."""
    import soundfile as sf

    path = session.candidate_dir(cid) / "critic.wav"
    if path.is_file():
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=False)
            if rate == SAMPLE_RATE and data.ndim == 1:
                return data
        except (RuntimeError, sf.LibsndfileError) as err:
            log.warning("candidate %d: critic.wav unreadable (%s); rendering it again", cid, err)
    row = session.candidate(cid)
    if row is None:
        raise KeyError(cid)
    return render_reference([Pattern.from_json(row.pattern)], session.loop_library(cid) or library)[0]


class Gate:
    """One holder of torch work at a time; a waiting high-priority holder (the generator) goes first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting_high = 0

    @contextmanager
    def hold(self, *, high: bool) -> Iterator[None]:
        self.acquire(high=high)
        try:
            yield
        finally:
            self.release()

    def acquire(self, *, high: bool) -> None:
        with self._cond:
            if high:
                self._waiting_high += 1
            try:
                while self._busy or (not high and self._waiting_high):
                    self._cond.wait()
            finally:
                if high:
                    self._waiting_high -= 1
            self._busy = True

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def yield_to_high(self) -> None:
        """Called by the low-priority holder between chunks of work."""
        with self._cond:
            if not self._waiting_high:
                return
        self.release()
        self.acquire(high=False)


class _Thread:
    """start/stop/join around a ``_run`` method."""

    name = "dd-worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as err:  # recorded for the daemon; the thread ends
            self.error = err
            log.exception("%s stopped", self.name)

    def _run(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        self._wake()

    def _wake(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class _Interrupted(Exception):
    """A debt-paying training round gives way to a new rating."""


class TrainerWorker(_Thread):
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
                 on_idle: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        from ..learn.features import MFCC

        self.trainer, self.session, self.library = trainer, session, library
        self.gate, self.publish = gate, publish
        self.mfcc = mfcc or MFCC()
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
        """Compute the features of ``dataset`` (after a restart); call before start()."""
        import torch

        self.trainer.clear()
        for cid, like in self.dataset:
            audio = reference_audio(self.session, self.library, cid)
            self.trainer.add(self.mfcc(torch.from_numpy(audio[None]))[0], like)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._jobs.get(timeout=0.5)
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

    def _features(self, cid: int):
        import torch

        audio = reference_audio(self.session, self.library, cid)
        return self.mfcc(torch.from_numpy(np.ascontiguousarray(audio[None])))[0]

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
                    new = target[n:]
                    feats = [self._features(cid) for cid, _ in new]
                    owed += len(new) if self.trainer.budgeted else 1
                    change = (lambda fs=feats, rows=new: [self.trainer.add(f, y) for f, (_, y) in zip(fs, rows)])
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
        log.info("retraining from the initial critic on %d ratings", len(target))
        feats = [self._features(cid) for cid, _ in target]
        with self.gate.hold(high=False):
            self.trainer.reset()
            self.trainer.clear()
            self.dataset = []
        self._history.clear()
        for (cid, like), f in zip(target, feats):
            if self._stop.is_set():
                return
            self._history.append((tuple(self.dataset), self.trainer.snapshot()))
            self._round(lambda f=f, like=like: self.trainer.add(f, like), self.dataset + [(cid, like)])

    def _can_drop_to(self, target: list[tuple[int, bool]]) -> bool:
        """True if removing rows from the dataset (no relabels) gives ``target``."""
        keep = [row for row in self.dataset if row[0] in {c for c, _ in target}]
        return keep == target

    def _publish(self, loss: float) -> None:
        self._unheard = False
        self._published_at = time.monotonic()
        self.version += 1
        self.trainer.save(self.session.latest_checkpoint,
                          extra={"version": self.version, "ratings": [[c, bool(v)] for c, v in self.dataset]})
        frozen = copy.deepcopy(self.trainer.critic).eval()
        self.last_published = frozen  # what latest.pt holds
        self.publish(frozen, self.version, len(self.dataset), float(loss))


def _shape(s: LiveSettings) -> tuple:
    """The settings that change which patterns are made (all but the tempo)."""
    return (s.fotf, s.locks, s.density, s.temperature, s.mode)


class GeneratorWorker(_Thread):
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
                 hold_off: Callable[[], bool] = lambda: False) -> None:
        super().__init__()
        from ..learn.sampler import BestSearch, Chains, Scorer

        self.library, self.session, self.gate, self.rng = library, session, gate, rng
        self.settings = settings
        self.scorer = Scorer(library, critic, threads=threads)
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
        self._bpm = settings.bpm
        self._made = 0
        self._made_version = -1                # the critic version of the latest candidate made
        self._next_id = session.next_id()
        tracks = len(settings.locks)
        with gate.hold(high=True):
            self.chains = Chains(library, self.scorer, n=chains, rng=rng, tracks=tracks,
                                 density=settings.density, temperature=settings.temperature)
        self._best = BestSearch(self.chains)
        self.notes = note_map(["other"] * tracks)

    # ------------------------------------------------------------ called from other threads

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
            self._bpm = settings.bpm  # take() skips loops at another tempo until they are re-rendered
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
        """Made under the current constraints and rendered at the current tempo (call holding _cond)."""
        return loop.epoch == self._epoch and loop.bpm == self._bpm

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
        while True:
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
                deliver = self._wanted and loop.bpm == self._bpm
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
        self.scorer.set_critics([critic])
        with self.gate.hold(high=True):
            self.chains.rescore()
        self.version, self.trained_on = version, trained_on

    def _apply_settings(self, new: LiveSettings) -> None:
        old, self.settings = self.settings, new
        if _shape(new) != _shape(old):
            cur = self.current()
            template = (cur.hits, cur.idx) if cur is not None else None
            locks = new.locks if template is not None else tuple(False for _ in new.locks)
            self.chains.density, self.chains.temperature = new.density, new.temperature
            with self.gate.hold(high=True):
                self.chains.constrain(Constraints(fotf=new.fotf, lock_sample=locks, lock_row=locks), template)
        if new.bpm != old.bpm:
            with self._cond:
                ready = list(self._ready)
            for loop in ready:
                self._retempo(loop, new.bpm)
                with self._cond:
                    self._cond.notify_all()
            cur = self.current()
            if cur is not None:
                self.on_retempo(self._retempo(replace(cur), new.bpm))

    def _retempo(self, loop: Loop, bpm: float) -> Loop:
        folder = self.session.candidate_dir(loop.id)
        files, audio = write_loop_files(folder, loop.pattern, self.library, bpm, self.notes)
        loop.files, loop.audio, loop.bpm = files, audio, bpm
        self.session.update_bpm(loop.id, bpm)
        return loop

    def _make(self) -> Loop:
        """One new candidate: move the chains, pick one, write its files, store it."""
        from ..learn.sampler import BEST_TEMPERATURE

        settings, epoch = self.settings, self._epoch
        with self.gate.hold(high=True):
            if settings.mode == "best":
                found = self._best.next(temperature=min(settings.temperature, BEST_TEMPERATURE))
            else:
                self.chains.run(self.steps_between, "explore")
                found = self.chains.pick()
        pattern = from_arrays(found.hits, found.idx, self.library)
        cid = self._next_id
        self._next_id += 1
        folder = self.session.candidate_dir(cid)
        folder.mkdir(parents=True, exist_ok=True)
        write_wav(folder / "critic.wav", self.scorer.audio(found.hits[None], found.idx[None])[0], bits=32, force=True)
        files, audio = write_loop_files(folder, pattern, self.library, settings.bpm, self.notes)
        self.session.add_candidate(cid, pattern.to_json(), found.score, self.version, self.trained_on,
                                   settings.bpm, settings.mode)
        return Loop(cid, pattern, found.hits, found.idx, float(found.score), self.version, self.trained_on,
                    settings.bpm, files, audio, epoch, self.notes)

    def _collect(self) -> None:
        with self._cond:
            keep = {x.id for x in self._ready}
        cur = self.current()
        if cur is not None:
            keep.add(cur.id)
        collect_loop_files(self.session, keep=keep, newest=self._next_id - 1)


def collect_loop_files(session, *, keep: set[int], newest: int, now: float | None = None) -> list[int]:
    """Delete the folders of unrated candidates that are more than KEEP_FILES ids behind ``newest`` and
    were neither made nor announced (the daemon touches a folder when it announces it) in the last
    protocol.KEEP_FILES_S seconds, so a front end still loading one finds it. Rated candidates, those
    in ``keep`` and their database rows stay. Returns the ids deleted."""
    from .protocol import KEEP_FILES_S

    now = time.time() if now is None else now
    rated = {cid for cid, _ in session.ratings()}
    limit = newest + 1 - KEEP_FILES
    gone = []
    for d in (session.folder / "candidates").iterdir():
        if not d.name.isdigit():
            continue
        cid = int(d.name)
        if cid >= limit or cid in rated or cid in keep:
            continue
        try:
            if now - d.stat().st_mtime < KEEP_FILES_S:
                continue
        except OSError:
            continue
        shutil.rmtree(d, ignore_errors=True)
        gone.append(cid)
    return sorted(gone)
