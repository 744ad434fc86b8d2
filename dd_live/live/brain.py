"""The daemon's torch parts (its "brain": the critic, its trainer and the loop generator) and how a serving
daemon starts without waiting for them.

Importing torch takes a second or more of a start that should play within two. So ``dd-live serve`` makes
them on a thread of their own (``dd-brain``) once the ports are open and an opening loop plays
(:func:`dd_live.live.opening.play_opening`): numpy only, a loop of the drum prior for a new session or the
last liked one for a resumed one. Meanwhile the transport's commands (:data:`NO_CRITIC`) run at once and the
rest are held, in the order they came, and run on the OSC thread as soon as the brain runs; the
supervisor watches its workers from then on. A brain that cannot be made ends the daemon with one line, as a
dead core part does. A daemon made directly (tests, benchmarks) makes it in its constructor.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable

import numpy as np

from ..errors import one_line
from ..osc.osc import Command
from .generator import GeneratorWorker
from .trainer_worker import TrainerWorker

log = logging.getLogger("dd_live.daemon")

#: commands that run while the critic loads (the rest are held until it runs): the transport. A hello or status
#: waits, as it tells the critic's version and the ready loops (the opening loop reaches the reply port at once)
NO_CRITIC = frozenset({"play", "stop"})
MAX_EARLY = 1000   # messages held while the critic loads, at most


class Brain:
    """Mixin of :class:`dd_live.live.daemon.Daemon`: its brain's making, starting and the commands held
    meanwhile. ``after_brain``: called on dd-brain once the brain runs (``serve`` settles the heap then)."""

    after_brain: Callable[[], None] | None = None

    def _make_brain(self) -> None:
        """The critic (importing torch), its trainer and the generator (the trainer's ratings and features
        read)."""
        from ..learn.critic import configure_threads, set_precision
        from ..session.recovery import restore_trainer

        configure_threads(self.threads)
        if self.precision is not None:
            set_precision(self.precision)
        session, library, (init, learn) = self.session, self.library, self._learning
        trainer, version, trained = restore_trainer(session, library, seed=self.seed, init=init, learn=learn)
        self.trainer, self.version = trainer, version
        self.trainer_worker = TrainerWorker(trainer, session, library, gate=self.gate, publish=self._on_trained,
                                            version=version, trained=trained,
                                            on_idle=lambda: self.generator.wake(), prior=self.prior,
                                            on_error=self._worker_error)
        self.trainer_worker.load_features()
        with self._publish:                    # a settings update meanwhile reaches it (see update)
            self.generator = GeneratorWorker(library, session, copy.deepcopy(trainer.critic).eval(), gate=self.gate,
                                             settings=self.settings, rng=np.random.default_rng([self.seed, version]),
                                             threads=self.threads, version=version, trained_on=len(trained),
                                             on_ready=self._announce, on_retempo=self._on_retempo,
                                             current=lambda: self.current, hold_off=self.trainer_worker.busy.is_set,
                                             hashes=self._hashes, pooled=trainer.config.learn == "head",
                                             prior=self.prior, on_error=self._worker_error)
        self.published_critic = self.generator.critic   # the latest critic the trainer published (frozen)

    def _start_brain(self) -> None:
        self.trainer_worker.start()
        self.trainer_worker.sync()     # ratings stored but not yet trained on (after a crash)
        self.generator.start()
        if self.current is None:
            self.generator.request()   # the first candidate is announced as soon as it exists
        self._brain_parts = [self.trainer_worker, self.generator]     # the supervisor watches them from now
        self.brain.set()

    def _brain_main(self) -> None:
        """dd-brain: the critic, trainer and generator made and started, then the commands held meanwhile run
        (on the OSC thread, in the order they came); then it waits for the daemon to stop."""
        try:
            self._make_brain()
            if not self.stopped.is_set():
                self._start_brain()
                if self.after_brain is not None:   # before any held command is answered: its pause (a full
                    self.after_brain()             # collection) is over when a client hears the daemon is up
                while not self.server.call(self._run_early) and self.server.is_alive() and not self.stopped.is_set():
                    time.sleep(0.01)       # the OSC thread's queue of calls is full: a moment
        except Exception as err:          # the daemon ends with this line (failure)
            log.exception("the critic could not start")
            self._brain_error = f"the critic could not start: {one_line(err)}"
        # Then idle until the daemon stops: a thread that ended just as SIGUSR1's faulthandler dump walked the
        # threads cut the dump short (3 of 6 bench failures lost their stacks; 0 of 12 with this wait).
        self.stopped.wait()

    def _run_early(self) -> None:
        early, self._early = self._early, []
        for commands, sender in early:
            self.run_commands(commands, sender)

    def hold(self, commands: list, sender) -> list:
        """Of one message's ``commands``, those to run now (the critic is loading): each of :data:`NO_CRITIC`
        and each bad one until one is held; from then on all are held, so that they run in the order they came
        (or refused with an error once MAX_EARLY messages wait)."""
        now: list = []
        held: list = []
        for c in commands:
            wait = held or self._early or isinstance(c, Command) and c.name not in NO_CRITIC
            (held if wait else now).append(c)
        if held and len(self._early) < MAX_EARLY:
            self._early.append((held, sender))
        elif held:
            self.error("state", "still starting: the critic is loading; try again in a moment", sender)
        return now
