"""The live daemon (``dd-live serve``): OSC commands in, candidates, ratings and files out.

Workers (each a :class:`dd_live.worker.Worker`, held in ``Daemon.workers``, started, stopped and joined by
:class:`Daemon`, watched by :mod:`dd_live.live.supervisor`, which revives any but the core three):

* OSC I/O (:class:`dd_live.osc.osc_server.OSCServer`): parses, validates and runs commands
  (:mod:`dd_live.live.commands`), and sends every reply, whichever thread made it.
* trainer and generator (:mod:`dd_live.live.trainer_worker`, :mod:`dd_live.live.generator`): torch work, one at a time.
* the outputs (:mod:`dd_live.ports.outputs`): the MIDI player thread and PortAudio's stream, both optional.
* automatic takes (:class:`dd_live.live.takes.AutoTakes`): a take every N bars (/dd/set/autotake), idle while off.
* songs (:class:`dd_live.live.song_worker.SongWorker`): /dd/song's whole-song drum tracks, one at a time, and
  :class:`dd_live.live.song_play.SongPlay`: /dd/song/play, a song's drums live and takes over them.

Every reply goes to each client that sent /dd/hello and to the reply port on 127.0.0.1
(:mod:`dd_live.osc.replies`). Errors also go to the sender, rate-limited.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..osc import osc, protocol
from ..errors import STACKS_END, DDLiveError, one_line
from ..groove.record import Loop
from .brain import Brain
from .commands import Commands, check_handlers
from .edits import Edits
from .song_play import SongPlay
from .song_worker import SongWorker
from .sync import ClockService
from ..session.settings import LiveSettings
from ..osc.osc import Command, OSCError
from ..osc.osc_server import OSCServer
from ..osc.replies import Replies
from .supervisor import Supervisor, front_ends
from .takes import TakeService
from ..worker import Gate, failure

log = logging.getLogger("dd_live.daemon")


def default_threads() -> int:
    """Half the cores, at least one: dd_live shares the machine with a DAW."""
    return max(1, (os.cpu_count() or 2) // 2)


class Daemon(Commands, Brain):
    """One live session served over OSC, with its services :attr:`takes` (:mod:`.takes`) and :attr:`clock` (:mod:`.sync`).
    ``start()`` binds and starts the workers; ``stop()``/``join()`` end them; :meth:`serve_forever` does all
    three around the signal loop; :meth:`open` makes one from settings."""

    def __init__(self, session, library, *, settings: LiveSettings | None = None, host: str = "127.0.0.1",
                 osc_port: int = protocol.OSC_PORT, reply_port: int = protocol.REPLY_PORT,
                 aliases: dict[str, str] | None = None, threads: int | None = None, midi_out: str = "none",
                 audio: bool = False, midi_in: str = "none", audio_in: str = "none", seed: int | None = None,
                 init: str = "pretrained",
                 learn: str = "auto", server: OSCServer | None = None, stored: dict | None = None,
                 sync: str = "internal", clock_in: str = "virtual", clock_out: bool = False,
                 web_port: int | None = None, web_token: str | None = None, web_socket=None,
                 prior="shipped", precision: str | None = None, rig=None, opening: bool = False) -> None:
        """``server``: an OSC server already bound; ``stored``: the session's settings if already read; ``sync``
        and ``clock_in``: the clock MIDI out follows (see :mod:`.sync`); ``web_port``: serve the browser front
        end there (0: any free port; None: none; ``web_socket``: already bound there) with ``web_token`` (None:
        the user's, see :func:`dd_live.web.access.user_token`); ``prior``: the
        :class:`dd_live.loops.prior.DrumPrior` new loops come from ("shipped": dd_live's; None: DeepDrummer's
        uniform draws); ``precision``: the critic's (None: the process's default); ``rig``: the ports the last
        session's daemon handed over (:mod:`.rig`; None: opened by start()); ``opening``: torch, the critic,
        trainer and generator are made on a thread of start()'s while an opening loop plays (:mod:`.opening`),
        the commands that need them held until then (else they are made here)."""
        from ..loops.render import prefer_kernel

        prefer_kernel("numpy")  # small batches: numba's speed is not worth its memory here ($DD_LIVE_MIX overrides)
        self.session, self.library, self.host = session, library, host
        if prior == "shipped":
            from ..loops.prior import load_prior

            prior = load_prior()
        self.prior = prior
        self.dispatcher = osc.Dispatcher(aliases)
        self.threads, self.precision = threads or default_threads(), precision
        stored = session.settings() if stored is None else stored
        self.seed = int(stored.get("seed", seed if seed is not None else np.random.SeedSequence().entropy % 2**31))
        self.settings = settings or LiveSettings.from_dict(stored.get("live", {}))
        feel = session.feel()  # the feel layer lives in its own table (with its history, for undo)
        self.settings = replace(self.settings, feel_layer=tuple(feel) if feel and any(feel) else ())
        self.takes = TakeService(session=session, settings=lambda: self.settings, current=lambda: self.current,
                                 outputs=lambda: self.outputs, update=self.update, send=self.send)
        bound = {"settings": lambda: self.settings, "outputs": lambda: self.outputs, "update": self.update,
                 "send": self.send}
        self.clock = ClockService(sync, clock_in, clock_out, **bound) if rig is None else rig.clock
        self.clock.bind(**bound)
        self._rig = rig
        # How a session's critic starts and learns is stored with it, so that a critic rebuilt after a
        # damaged checkpoint starts and learns as it did.
        init, learn = stored.get("init", init), stored.get("learn", learn)
        session.save_settings({"seed": self.seed, "live": self.settings.to_dict(), "init": str(init), "learn": learn})
        self.gate = Gate()
        self._hashes: dict[int, str] = {}      # sha256 of library samples by index (the generator fills it)
        self.brain = threading.Event()         # set once the critic, trainer and generator run (see _make_brain)
        self.trainer = self.trainer_worker = self.generator = self.published_critic = None
        self.version, self._brain_parts, self._brain_error, self._early = 0, [], None, []
        self._learning = (init, learn)
        self.server = server or OSCServer(host, osc_port, self._on_datagram)
        self.server.on_datagram = self._on_datagram
        self.replies = Replies(self.server, reply_port)
        self.midi_spec, self.audio_wanted, self.midi_in_spec, self.audio_in = midi_out, audio, midi_in, audio_in
        self.outputs: list = []                # started by start(): see dd_live.ports.outputs
        self.inputs: list = []                 # MIDI in, audio in, the host's clock: started by start()
        self.songs = SongWorker(self)          # /dd/song: whole songs' drums, one at a time
        self.song_play = SongPlay(session=session, songs=self.songs, outputs=lambda: self.outputs, send=self.send,
                                  error=self.error, gate=self.gate, settings=lambda: self.settings, update=self.update,
                                  seed=self.seed)
        self.takes.song = lambda: self.song_play if self.song_play.playing is not None else None
        self.edits = Edits(self)               # /dd/edit: loops the performer fixed, and what keeping them says
        self._handlers = self.handlers()
        check_handlers(self._handlers, protocol.inbound().values())  # a mismatch fails here, not at a click
        self.web, self.web_port, self.web_token, self._web_socket = None, web_port, web_token, web_socket  # start()
        self.current: Loop | None = None
        self._lock, self._publish = threading.RLock(), threading.Lock()   # _publish: one settings update at a time
        self.stopped = threading.Event()
        self.switch: dict[str, Any] | None = None   # /dd/session/open's target: serve_forever ends for it
        self.supervisor = Supervisor(lambda: self.workers, front_ends(self.replies))   # started last by start()
        self._opening, self._brain_thread = opening, None
        if not opening:
            self._make_brain()

    @classmethod
    def open(cls, config: dict[str, Any], aliases: dict[str, str] | None = None, *, rig=None) -> Daemon:
        """The daemon ``dd-live serve`` runs, from merged settings (see :func:`.opening.open_daemon`); ``rig``: the
        ports the last session's daemon handed over."""
        from .opening import open_daemon

        return open_daemon(cls, config, aliases, rig=rig)

    # ------------------------------------------------------------ lifecycle

    @property
    def workers(self) -> list:
        """Every part the supervisor watches, the supervisor first (stopped first: it revives nothing being stopped)."""
        return [self.supervisor, self.server, *self._brain_parts, self.takes.autotakes, self.songs,
                self.song_play, *self.outputs, *self.inputs, *([self.web] if self.web is not None else [])]

    def start(self) -> None:
        from ..sound.audio import clean_temp
        from .rig import adopt, open_ports

        removed = clean_temp(self.session.folder, any_pid=True)  # the session is ours (locked): all of it is stale
        if removed:
            log.info("removed %d files left by interrupted writes", removed)
        for cid in self.session.unkept():  # rated before sounds were kept (older sessions): keep them now
            rows = self.session.keep_samples(cid, self.library, self._hashes)
            if rows:
                self.session.add_loop_samples(rows)
        self.session.keep_sample_files(self.session.missing_sample_files(), self.library, self._hashes)  # a kill
        self.server.start()
        if self.web_port is not None:
            from ..web.server import WebServer

            self.web = WebServer(self, self.host, self.web_port, token=self.web_token, sock=self._web_socket)
            self.web.start()
        if self.host not in protocol.LOOPBACK:
            log.warning("listening on %s:%d: OSC has no authentication; anyone who can reach this address can "
                        "control dd_live", self.host, self.server.port)
        self.outputs, self.inputs = open_ports(self) if self._rig is None else adopt(self, self._rig)
        if self._opening:
            from .opening import play_opening

            play_opening(self)         # a loop to play (numpy only) while torch loads on dd-brain
            self._brain_thread = threading.Thread(target=self._brain_main, name="dd-brain", daemon=True)
            self._brain_thread.start()
        else:
            self._start_brain()
        self.takes.autotakes.start()
        self.songs.start()
        self.song_play.start()
        self.supervisor.start()

    def failure(self) -> str | None:
        """One line naming the core part that died (see :mod:`.supervisor`), or None while the show goes on."""
        if self.stopped.is_set():
            return None
        return self._brain_error or self.supervisor.fatal or failure([self.supervisor])

    def _worker_error(self, code: str, message: str) -> None:   # trouble a worker recovers from (it logged it)
        self.replies.error(code, message, logged=True)

    def stop(self, *, keep_ports: bool = False) -> None:
        """Stop every worker; ``keep_ports``: all but the ports, which play on for :meth:`hand_over`."""
        self.stopped.set()
        for worker in self._ending(keep_ports):
            worker.stop()

    def join(self, timeout: float = 5.0, *, keep_ports: bool = False) -> None:
        from ..loops.render import close_pools

        if self._brain_thread is not None:
            self._brain_thread.join(timeout)   # then its workers are in self.workers, or were never started
            for worker in self._brain_parts:
                worker.stop()                  # started just as stop() came
        for worker in self._ending(keep_ports):
            worker.join(timeout)
        for part in self._ending(keep_ports):
            part.close()   # sockets, ports and streams released (every Part's close is idempotent)
        close_pools()      # the render threads, once every worker that rendered has ended

    def _ending(self, keep_ports: bool) -> list:
        ports = [*self.outputs, *self.inputs] if keep_ports else []
        return [w for w in self.workers if not any(w is p for p in ports)]

    def hand_over(self):
        """The ports this daemon kept open when it stopped for :attr:`switch` (a :class:`.rig.Rig`)."""
        from .rig import Rig

        return Rig(self.clock, list(self.outputs), list(self.inputs))

    def serve_forever(self, *, on_start: Callable[[], None] | None = None, poll_s: float = 0.2,
                      restore_signals: bool = True) -> None:
        """start(); wait for SIGINT, SIGTERM, a worker's death or :attr:`switch`; stop(), join(), close the session.
        DDLiveError (one line) if a worker died. SIGUSR1 prints every thread's stack (for bug reports).
        ``restore_signals=False`` ignores SIGINT/SIGTERM from then on, for a process that is about to exit:
        a signal landing after the old handlers were put back (or after Python's own finalisation resets
        them) would otherwise kill it mid-exit, with a signal's status instead of 0."""
        import signal

        signals: list[int] = []

        def on_signal(signum, frame) -> None:
            # Only a list append: a handler that takes a lock (Event.set does) deadlocks when a
            # second signal arrives while the first one's handler holds it (Ctrl-C pressed twice).
            signals.append(signum)

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        if hasattr(signal, "SIGUSR1"):  # stacks from C (a stuck main thread too), then STACKS_END from Python
            import faulthandler

            end = f"{STACKS_END}\n".encode()
            previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, lambda *_: os.write(2, end))
            faulthandler.register(signal.SIGUSR1, all_threads=True, chain=True)
        reason = None
        try:
            self.start()
            if on_start is not None:
                on_start()
            while not signals and reason is None and self.switch is None:
                time.sleep(poll_s)
                reason = self.failure()
        finally:
            if signals:
                self.switch = None         # Ctrl-C while switching: the process stops
            keep = self.switch is not None and reason is None    # the ports play on for the next session
            if keep and self.song_play.playing is not None:
                self.song_play.stop_song()
            self.stop(keep_ports=keep)
            self.join(keep_ports=keep)
            self.session.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler if restore_signals else signal.SIG_IGN)
        if reason is not None:
            raise DDLiveError(reason)

    @property
    def port(self) -> int:
        return self.server.port

    # ------------------------------------------------------------ replies (any thread)

    def send(self, address: str, *args: Any, to: list[tuple[str, int]] | None = None) -> None:
        self.replies.send(address, *args, to=to)

    def error(self, code: str, message: str, sender: tuple[str, int] | None = None) -> None:
        self.replies.error(code, message, sender)

    # ------------------------------------------------------------ OSC thread

    def _on_datagram(self, data: bytes, sender: tuple[str, int]) -> None:
        self.run_commands(self.dispatcher.commands(data), sender)

    def run_commands(self, commands: list[Command | None | OSCError], sender: tuple[str, int]) -> None:
        """Run the dispatcher's verdicts on one message or datagram from ``sender`` (the OSC thread: datagrams,
        and a browser's messages handed over by :meth:`dd_live.osc.osc_server.OSCServer.call`); each refusal is an
        error reply."""
        if not self.brain.is_set() or self._early:   # the critic is loading: some are held (see .brain)
            commands = self.hold(commands, sender)
        for cmd in commands:
            if cmd is None:
                continue  # a button's release
            if isinstance(cmd, OSCError):
                self.error(cmd.code, str(cmd), sender)
                continue
            try:
                self.execute(cmd, sender)
            except OSCError as err:
                self.error(err.code, str(err), sender)
            except DDLiveError as err:
                self.error("state", str(err), sender)
            except OSError as err:
                self.error("io", f"{cmd.address}: {one_line(err)}", sender)

    def execute(self, cmd: Command, sender: tuple[str, int] | None = None) -> None:
        """Run one validated command (the OSC thread, or a test)."""
        self._handlers[cmd.name](sender=sender, **cmd.args)

    # ------------------------------------------------------------ announcements (OSC or generator thread)

    def _announce(self, loop: Loop) -> None:
        """Make ``loop`` the current one, say so and show it to the outputs, all under the daemon's lock: the
        OSC and generator threads both announce, and clients and outputs must hear loops in the order they
        became current (none of this blocks: replies from the generator are queued for the OSC thread)."""
        with self._lock:
            self.current = loop
            self._send_candidate(loop)
            for out in self.outputs:
                out.show(loop)

    def _on_retempo(self, loop: Loop) -> None:
        """The current loop re-rendered at a new tempo: announce it again, unless another took its place."""
        with self._lock:
            if self.current is not None and self.current.id == loop.id:
                self._announce(loop)

    def _send_candidate(self, loop: Loop) -> None:
        try:  # its files are kept for KEEP_FILES_S from now (loop.collect_loop_files)
            os.utime(self.session.candidate_dir(loop.id))
        except OSError:
            pass
        f = loop.files
        self.send("/dd/candidate", loop.id, float(loop.score), float(loop.bpm), str(Path(f["loop_wav"]).resolve()),
                  str(Path(f["preview_wav"]).resolve()), str(Path(f["midi_file"]).resolve()), loop.trained_on)
        p = loop.pattern
        cells = [int(v) if h else 0 for h, v in zip(p.hits.ravel(), p.velocities.ravel())]
        self.send("/dd/shape", p.tracks, p.steps, p.beats)
        self.send("/dd/grid", loop.id, *cells)
        self.send("/dd/samples", loop.id, *[Path(s).stem for s in p.samples])
        notes: list[Any] = []
        for n in loop.notes:
            notes += [n.pitch, float(n.beat), n.velocity]
        self.send("/dd/notes", loop.id, *notes)

    def _on_trained(self, critic, version: int, trained_on: int, loss: float) -> None:
        """The trainer thread publishes a critic: hand it to the generator, say so, and let the generator
        make the new critic's first loop before training goes on (else the generator waits for the
        trainer's next pause to rescore its chains)."""
        self.version = version
        self.published_critic = critic
        self.generator.set_critic(critic, version, trained_on)
        self.send("/dd/trained", version, trained_on, float(loss))
        if self.generator.is_alive():
            self.generator.wait_for_version(version, timeout=0.5)
