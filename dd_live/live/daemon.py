"""The live daemon (``dd-live serve``): OSC commands in, candidates, ratings and files out.

Threads (each started, stopped and joined by :class:`Daemon`):

* OSC I/O (:class:`dd_live.live.osc.OSCServer`): parses, validates and runs commands.
  It does no torch work: a rating is an SQLite commit, a queue put and a pop
  from the generator's ready queue, so the next candidate goes out at once.
* trainer and generator (:mod:`dd_live.live.trainer_worker`, :mod:`dd_live.live.generator`): torch
  work, one at a time.
* MIDI player (:mod:`dd_live.live.midi_out`) and PortAudio's callback
  (:mod:`dd_live.live.audio_out`), both optional.

Every reply goes to each client that sent /dd/hello and to the reply port on
127.0.0.1. Errors also go to the sender, rate-limited.
"""

from __future__ import annotations

import copy
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import osc, protocol
from ..errors import BackendError, DDLiveError, InputError
from .osc import Command, OSCError
from .generator import GeneratorWorker
from .loop import LiveSettings, Loop
from .trainer_worker import TrainerWorker
from .worker import Gate

log = logging.getLogger("dd_live.daemon")

MAX_CLIENTS = protocol.MAX_CLIENTS
LOOPBACK = ("127.0.0.1", "::1", "localhost")
MIDI_SWITCH_INTERVAL_S = 0.001  # the interpreter's thread switch interval while MIDI out plays (s)


def check_handlers(handlers: dict[str, Callable[..., None]], table) -> None:
    """DDLiveError unless every inbound address of ``table`` has a handler taking ``sender`` and exactly
    the address's argument names (button values are the dispatcher's), and no handler is left over."""
    import inspect

    wanted = {a.command: a for a in table}
    if set(handlers) != set(wanted):
        raise DDLiveError(f"OSC handlers and table differ: no handler for {sorted(set(wanted) - set(handlers))}, "
                          f"no address for {sorted(set(handlers) - set(wanted))}")
    for name, address in wanted.items():
        params = [p for p in inspect.signature(handlers[name]).parameters if p != "sender"]
        args = [] if address.button else [a.name for a in address.args]
        if params != args:
            raise DDLiveError(f"handler for {address.address} takes {params}, the table says {args}")


def default_threads() -> int:
    """Half the cores, at least one: dd_live shares the machine with a DAW."""
    return max(1, (os.cpu_count() or 2) // 2)


class Daemon:
    """One live session served over OSC. ``start()`` binds and starts the threads; ``stop()``/``join()`` end them."""

    def __init__(self, session, library, *, settings: LiveSettings | None = None, host: str = "127.0.0.1",
                 osc_port: int = protocol.OSC_PORT, reply_port: int = protocol.REPLY_PORT,
                 aliases: dict[str, str] | None = None, threads: int | None = None, midi_out: str = "none",
                 audio: bool = False, seed: int | None = None, init: str = "pretrained",
                 learn: str = "auto", server: osc.OSCServer | None = None) -> None:
        """``server``: an OSC server already bound (``dd-live serve`` binds before it makes a session folder)."""
        from ..learn.critic import configure_threads
        from ..learn.pretrain import starting_critic
        from ..loops.render import prefer_kernel
        from ..learn.trainer import TrainConfig, Trainer, resolve_learn

        prefer_kernel("numpy")  # small batches: numba's speed is not worth its memory here ($DD_LIVE_MIX overrides)
        self.session, self.library = session, library
        self.host, self.reply_port = host, reply_port
        self.dispatcher = osc.Dispatcher(aliases)
        self.threads = threads or default_threads()
        configure_threads(self.threads)
        stored = session.settings()
        self.seed = int(stored.get("seed", seed if seed is not None else np.random.SeedSequence().entropy % 2**31))
        base = LiveSettings.from_dict(stored.get("live", {}))
        self.settings = settings if settings is not None else base
        session.save_settings({"seed": self.seed, "live": self.settings.to_dict()})

        # The critic: restored from the session (the checkpoint holds its input statistics and how it
        # learns), or new (saved as the initial one). How a session's critic starts and learns is stored
        # with it, so that a critic rebuilt after a damaged checkpoint starts and learns as it did.
        init, learn = stored.get("init", init), stored.get("learn", learn)
        session.save_settings({"init": str(init), "learn": learn})
        version, trained = 0, []
        self.trainer, extra = self._resume(session.latest_checkpoint)
        if self.trainer is not None:
            version, trained = int(extra.get("version", 0)), [(int(c), bool(v)) for c, v in extra.get("ratings", [])]
        else:
            self.trainer, _ = self._resume(session.initial_checkpoint)
            if self.trainer is None:
                critic = starting_critic(init, library=library, seed=self.seed)
                self.trainer = Trainer(critic, TrainConfig(seed=self.seed, learn=resolve_learn(learn, init)))
                self.trainer.save(session.initial_checkpoint, extra={"version": 0, "ratings": []})
            self.trainer.save(session.latest_checkpoint, extra={"version": 0, "ratings": []})
        critic = self.trainer.critic
        self.version = version
        self.gate = Gate()
        self.trainer_worker = TrainerWorker(self.trainer, session, library, gate=self.gate, publish=self._on_trained,
                                            version=version, trained=trained, on_idle=lambda: self.generator.wake())
        self.trainer_worker.load_features()
        self._hashes: dict[int, str] = {}      # sha256 of library samples by index (the generator fills it)
        self.generator = GeneratorWorker(library, session, copy.deepcopy(critic).eval(), gate=self.gate,
                                         settings=self.settings, rng=np.random.default_rng([self.seed, version]),
                                         threads=self.threads, version=version, trained_on=len(trained),
                                         on_ready=self._announce, on_retempo=self._on_retempo,
                                         current=lambda: self.current, hold_off=self.trainer_worker.busy.is_set,
                                         hashes=self._hashes)
        self._handlers = self.handlers()
        check_handlers(self._handlers, protocol.inbound().values())  # a mismatch fails here, not at a click
        self.server = server or osc.OSCServer(host, osc_port, self._on_datagram)
        self.server.on_datagram = self._on_datagram
        self.midi_spec, self.audio_wanted = midi_out, audio
        self.midi = None
        self._midi_close = None
        self.audio = None
        self.current: Loop | None = None
        self.clients: dict[tuple[str, int], None] = {}
        self._lock = threading.RLock()
        self._errors = osc.RateLimiter(rate=10, burst=20)
        self._flooded: set = set()             # clients told 'flood' whose errors are being suppressed
        self._log_errors = osc.RateLimiter(rate=2, burst=10)
        self.stopped = threading.Event()

    def _resume(self, path: Path) -> tuple[Any, dict]:
        """(a Trainer restored from checkpoint ``path``, the checkpoint's extra), or (None, {}) if there is
        none or it does not load (then it is moved aside as ``<name>.damaged-<time>`` with one warning: the
        critic is rebuilt from the ratings)."""
        from ..learn.critic import Critic
        from ..learn.trainer import TrainConfig, Trainer

        if not path.is_file():
            return None, {}
        trainer = Trainer(Critic(), TrainConfig(seed=self.seed))
        try:
            return trainer, trainer.load(path)
        except InputError as err:
            aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(path, aside)
            log.warning("%s; moved aside as %s: the critic is rebuilt from the session's ratings", err, aside.name)
            return None, {}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        from ..sound.audio import clean_temp

        removed = clean_temp(self.session.folder, any_pid=True)  # the session is ours (locked): all of it is stale
        if removed:
            log.info("removed %d files left by interrupted writes", removed)
        for cid in self.session.unkept():  # rated before sounds were kept (older sessions): keep them now
            rows = self.session.keep_samples(cid, self.library, self._hashes)
            if rows:
                self.session.add_loop_samples(rows)
        self.session.keep_sample_files(self.session.missing_sample_files(), self.library, self._hashes)  # a kill
        self.server.start()
        if self.host not in LOOPBACK:
            log.warning("listening on %s:%d: OSC has no authentication; anyone who can reach this address can "
                        "control dd_live", self.host, self.server.port)
        self._start_outputs()
        self.trainer_worker.start()
        self.trainer_worker.sync()     # ratings stored but not yet trained on (after a crash)
        self.generator.start()
        self.generator.request()       # the first candidate is announced as soon as it exists

    def _start_outputs(self) -> None:
        if self.midi_spec != "none":
            try:
                from .midi_out import MidiPlayer, open_port

                send, self._midi_close, where = open_port(self.midi_spec)
                self.midi = MidiPlayer(send, bpm=self.settings.bpm)
                self.midi.start()
                # The player wakes just before each note and needs the GIL then: another thread running
                # Python may keep it for up to the switch interval (5 ms by default), so ask for 1 ms.
                sys.setswitchinterval(MIDI_SWITCH_INTERVAL_S)
                log.info("MIDI out: %s", where)
            except BackendError as err:
                log.warning("MIDI out is off: %s", err)
        if self.audio_wanted:
            from .audio_out import AudioPlayer

            player = AudioPlayer()
            try:
                player.start()
                self.audio = player
            except BackendError as err:
                log.warning("audio out is off: %s", err)

    def stop(self) -> None:
        self.stopped.set()
        self.server.stop()
        self.generator.stop()
        self.trainer_worker.stop()
        if self.midi is not None:
            self.midi.stop()
        if self.audio is not None:
            self.audio.stop()

    def join(self, timeout: float = 5.0) -> None:
        for part in (self.server, self.generator, self.trainer_worker, self.midi):
            if part is not None:
                part.join(timeout)
        if self._midi_close is not None:
            self._midi_close()
            self._midi_close = None

    @property
    def port(self) -> int:
        return self.server.port

    # ------------------------------------------------------------ replies

    def targets(self) -> list[tuple[str, int]]:
        out = [("127.0.0.1", self.reply_port)]
        out += [c for c in self.clients if c not in out]
        return out

    def send(self, address: str, *args: Any, to: list[tuple[str, int]] | None = None) -> None:
        data = osc.encode(address, *args)
        for target in to or self.targets():
            self.server.send(data, target)

    def error(self, code: str, message: str, sender: tuple[str, int] | None = None) -> None:
        key = sender or "local"
        if self._log_errors.allow("log"):
            log.warning("%s from %s: %s", code, sender, message)
        targets = self.targets()
        if sender is not None and sender not in targets:
            targets.append(sender)
        with self._lock:
            if self._errors.allow(key):
                self._flooded.discard(key)
            elif key in self._flooded:
                return
            else:  # the first suppressed error: say once that further ones are being suppressed
                if len(self._flooded) > 1024:  # spoofed senders: forget them
                    self._flooded.clear()
                self._flooded.add(key)
                code, message = "flood", f"too many errors; further errors are suppressed for a moment (last: {code})"
        self.send("/dd/error", code, message[:200], to=targets)

    # ------------------------------------------------------------ OSC thread

    def _on_datagram(self, data: bytes, sender: tuple[str, int]) -> None:
        for cmd in self.dispatcher.commands(data):
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
                self.error("io", f"{cmd.address}: {err}", sender)

    def handlers(self) -> dict[str, Callable[..., None]]:
        """Each inbound command of the OSC table and the method that runs it (checked against the table
        when the daemon is built: see :func:`check_handlers`)."""
        return {
            "hello": self._cmd_hello, "like": self._cmd_like, "dislike": self._cmd_dislike, "rate": self._cmd_rate,
            "next": self._cmd_next, "undo": self._cmd_undo, "export": self._cmd_export,
            "export_loop": self._cmd_export_loop, "status": self._cmd_status, "set_tempo": self._cmd_set_tempo,
            "set_mode": self._cmd_set_mode, "set_fotf": self._cmd_set_fotf,
            "set_temperature": self._cmd_set_temperature, "set_density": self._cmd_set_density,
            "set_lock": self._cmd_set_lock, "play": self._cmd_play, "stop": self._cmd_stop,
        }

    def execute(self, cmd: Command, sender: tuple[str, int] | None = None) -> None:
        """Run one validated command (the OSC thread, or a test)."""
        self._handlers[cmd.name](sender=sender, **cmd.args)

    def _cmd_hello(self, sender, reply_port: int | None = None) -> None:
        if sender is not None:
            client = (sender[0], reply_port or sender[1])
            evicted = []
            with self._lock:
                self.clients.pop(client, None)
                self.clients[client] = None
                while len(self.clients) > MAX_CLIENTS:
                    old = next(iter(self.clients))
                    self.clients.pop(old)
                    evicted.append(old)
            for old in evicted:
                log.warning("client %s:%d evicted: more than %d clients said /dd/hello", old[0], old[1], MAX_CLIENTS)
                self.send("/dd/error", "evicted", f"more than {MAX_CLIENTS} clients said /dd/hello; this one gets no "
                          "more replies until it says /dd/hello again", to=[old])
        self._status()
        cur = self.current
        if cur is not None:
            self._send_candidate(cur)

    def _cmd_like(self, sender) -> None:
        self._rate(None, True)

    def _cmd_dislike(self, sender) -> None:
        self._rate(None, False)

    def _cmd_rate(self, sender, id: int, label: float) -> None:
        self._rate(id, bool(label))

    def _rate(self, cid: int | None, like: bool) -> None:
        cur = self.current
        if cid is None:
            if cur is None:
                raise OSCError("state", "nothing to rate yet: no candidate has been announced")
            cid = cur.id
        try:  # which sounds the loop plays is stored with the rating, so it can be replayed and exported
            # whatever happens to the sample folders later; their files are written once the next loop is out
            rows = self.session.sample_rows(cid, self.library, self._hashes)
            likes, dislikes = self.session.rate(cid, like, rows)
        except InputError:
            raise OSCError("unknown-id", f"no candidate {cid}") from None
        self.send("/dd/rated", cid, "like" if like else "dislike", likes, dislikes)
        self.trainer_worker.sync()
        if cur is not None and cid == cur.id:
            self._advance()
        self.session.keep_sample_files(rows, self.library, self._hashes)

    def _cmd_next(self, sender) -> None:
        self._advance()

    def _advance(self) -> None:
        loop = self.generator.take()
        if loop is not None:
            self._announce(loop)
        else:
            self.generator.request()

    def _cmd_undo(self, sender) -> None:
        cid = self.session.undo()
        if cid is None:
            raise OSCError("state", "nothing to undo: no ratings")
        self.trainer_worker.sync()
        self._status()
        loop = self._loop_from_session(cid)
        if loop is not None:
            self._announce(loop)

    def _loop_from_session(self, cid: int) -> Loop | None:
        """Candidate ``cid`` rebuilt from the database and its files (rendered again where missing)."""
        from ..loops.pattern import Pattern
        from .loop import write_loop_files

        row = self.session.candidate(cid)
        if row is None:
            return None
        pattern = Pattern.from_json(row.pattern)
        if not all(k in self.library for k in pattern.samples):
            log.info("candidate %d plays samples no longer in the sample folders: not announced again", cid)
            return None
        idx = self.library.indices(pattern.samples)
        files, audio = write_loop_files(self.session.candidate_dir(cid), pattern, self.library, self.settings.bpm,
                                        self.generator.notes)
        return Loop(cid, pattern, pattern.hits, idx, row.score, row.version, row.trained_on, self.settings.bpm,
                    files, audio, notes=self.generator.notes)

    def _cmd_export(self, sender) -> None:
        if self.current is None:
            raise OSCError("state", "nothing to export yet: no candidate has been announced")
        self._export(self.current.id)

    def _cmd_export_loop(self, sender, id: int) -> None:
        self._export(id)

    def _export(self, cid: int) -> None:
        from ..loops.export import export_pattern
        from ..loops.pattern import Pattern

        row = self.session.candidate(cid)
        if row is None:
            raise OSCError("unknown-id", f"no candidate {cid}")
        out = self.session.export_dir(cid)
        if not (out / "pattern.json").is_file():  # a folder holding pattern.json is a complete export
            pattern = Pattern.from_json(row.pattern)
            library = self.session.loop_library(cid) or self.library  # a rated loop's own sounds first
            if not all(k in library for k in pattern.samples):
                raise OSCError("state", f"loop {cid} plays samples no longer in the sample folders")
            export_pattern(out, pattern, library, bpm=self.settings.bpm, force=True)
        self.send("/dd/exported", cid, str(out.resolve()))

    def _cmd_status(self, sender) -> None:
        self._status()

    def _status(self) -> None:
        likes, dislikes = self.session.counts()
        self.send("/dd/status", likes + dislikes, likes, dislikes, self.version, self.generator.ready_count())

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self.settings = replace(self.settings, **changes)
            settings = self.settings
        self.session.save_settings({"live": settings.to_dict()})
        self.generator.set_settings(settings)

    def _cmd_set_tempo(self, sender, bpm: float) -> None:
        self._update(bpm=float(bpm))
        if self.midi is not None:
            self.midi.set_tempo(float(bpm))

    def _cmd_set_mode(self, sender, mode: str) -> None:
        self._update(mode=mode)

    def _cmd_set_fotf(self, sender, on: float) -> None:
        self._update(fotf=bool(on))

    def _cmd_set_temperature(self, sender, s: float) -> None:
        self._update(temperature=float(s))

    def _cmd_set_density(self, sender, p: float) -> None:
        self._update(density=float(p))

    def _cmd_set_lock(self, sender, track: int, on: float) -> None:
        tracks = len(self.settings.locks)
        if not 1 <= track <= tracks:
            raise OSCError("args", f"/dd/set/lock: track must be 1-{tracks}, got {track}")
        if on and self.current is None:
            raise OSCError("state", "nothing to lock yet: no candidate has been announced")
        locks = list(self.settings.locks)
        locks[track - 1] = bool(on)
        self._update(locks=tuple(locks))

    def _cmd_play(self, sender) -> None:
        if self.midi is None and self.audio is None:
            raise OSCError("backend", "neither MIDI out nor audio out is available (see the daemon's log)")
        for player in (self.midi, self.audio):
            if player is not None:
                player.play()

    def _cmd_stop(self, sender) -> None:
        for player in (self.midi, self.audio):
            if player is not None:
                player.halt()

    # ------------------------------------------------------------ announcements (OSC or generator thread)

    def _announce(self, loop: Loop) -> None:
        with self._lock:
            self.current = loop
        self._send_candidate(loop)
        if self.midi is not None:
            from .midi_out import notes_of

            self.midi.set_notes(notes_of(loop.pattern, loop.notes))
        if self.audio is not None:
            self.audio.set_loop(loop.audio)

    def _on_retempo(self, loop: Loop) -> None:
        """The current loop re-rendered at a new tempo: announce it again, unless another took its place."""
        with self._lock:
            if self.current is None or self.current.id != loop.id:
                return
        self._announce(loop)

    def _send_candidate(self, loop: Loop) -> None:
        from .midi_out import notes_of

        try:  # its files are kept for KEEP_FILES_S from now (loop.collect_loop_files)
            os.utime(self.session.candidate_dir(loop.id))
        except OSError:
            pass
        f = loop.files
        self.send("/dd/candidate", loop.id, float(loop.score), float(loop.bpm), str(Path(f["loop_wav"]).resolve()),
                  str(Path(f["preview_wav"]).resolve()), str(Path(f["midi_file"]).resolve()), loop.trained_on)
        p = loop.pattern
        cells = [int(v) if h else 0 for h, v in zip(p.hits.ravel(), p.velocities.ravel())]
        self.send("/dd/grid", loop.id, *cells)
        self.send("/dd/samples", loop.id, *[Path(s).stem for s in p.samples])
        notes: list[Any] = []
        for n in notes_of(p, loop.notes):
            notes += [n.pitch, float(n.beat), n.velocity]
        self.send("/dd/notes", loop.id, *notes)

    def _on_trained(self, critic, version: int, trained_on: int, loss: float) -> None:
        """The trainer thread publishes a critic: hand it to the generator, say so, and let the generator
        make the new critic's first loop before training goes on (else the generator waits for the
        trainer's next pause to rescore its chains)."""
        self.version = version
        self.generator.set_critic(critic, version, trained_on)
        self.send("/dd/trained", version, trained_on, float(loss))
        if self.generator.is_alive():
            self.generator.wait_for_version(version, timeout=0.5)
