"""The daemon's OSC commands: one method per inbound address of the table, in an explicit
``{command: handler}`` map checked against the table when the daemon is built
(:func:`check_handlers`), so a renamed argument fails at start, never at a client's click.

Handlers run on the OSC thread. A rating is an SQLite commit, a queue put and a pop from the
generator's ready queue; an edit (:mod:`.edits`) renders and scores one bar, a few milliseconds. They
raise :class:`OSCError` (or another dd_live error) for the daemon to answer with ``/dd/error``.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..errors import DDLiveError, ExportError, InputError, one_line
from ..groove.record import Loop
from ..loops.export import track_pitches
from ..osc.replies import WEB
from ..osc.osc import OSCError
from ..session.sounds import UnknownLoop

log = logging.getLogger("dd_live.daemon")


def check_handlers(handlers: dict[str, Callable[..., None]], table: Iterable) -> None:
    """DDLiveError unless every inbound address of ``table`` has a handler taking ``sender`` and exactly
    the address's argument names (button values are the dispatcher's), and no handler is left over."""
    wanted = {a.command: a for a in table}
    if set(handlers) != set(wanted):
        raise DDLiveError(f"OSC handlers and table differ: no handler for {sorted(set(wanted) - set(handlers))}, "
                          f"no address for {sorted(set(handlers) - set(wanted))}")
    for name, address in wanted.items():
        params = [p for p in inspect.signature(handlers[name]).parameters if p != "sender"]
        args = [] if address.button else [a.name for a in address.args]
        if params != args:
            raise DDLiveError(f"handler for {address.address} takes {params}, the table says {args}")


class Commands:
    """The command handlers of :class:`dd_live.live.daemon.Daemon` (a mixin: they use its session,
    library, generator, trainer worker, replies and outputs); the take and feel commands are its
    :class:`dd_live.live.takes.TakeService`'s, the clock's its :class:`dd_live.live.sync.ClockService`'s."""

    def handlers(self) -> dict[str, Callable[..., None]]:
        """Each inbound command of the OSC table and the method that runs it: the daemon's own, then its
        services' (:attr:`takes`, :attr:`clock`, :attr:`song_play`)."""
        own = {
            "hello": self._cmd_hello, "like": self._cmd_like, "dislike": self._cmd_dislike, "rate": self._cmd_rate,
            "next": self._cmd_next, "undo": self._cmd_undo, "redo": self._cmd_redo, "export": self._cmd_export,
            "export_loop": self._cmd_export_loop, "status": self._cmd_status, "set_tempo": self._cmd_set_tempo,
            "set_mode": self._cmd_set_mode, "set_fotf": self._cmd_set_fotf,
            "set_temperature": self._cmd_set_temperature, "set_density": self._cmd_set_density,
            "set_lock": self._cmd_set_lock, "play": self._cmd_play, "stop": self._cmd_stop,
            "set_feel": self._cmd_set_feel, "set_swing": self._cmd_set_swing, "set_grid": self._cmd_set_grid,
            "song": self._cmd_song, "song_cancel": self._cmd_song_cancel, "edit": self._cmd_edit,
            "edit_sound": self._cmd_edit_sound, "sounds": self._cmd_sounds, "session_open": self._cmd_session_open,
        }
        return {**own, **self.takes.handlers(), **self.clock.handlers(), **self.song_play.handlers()}

    def _cmd_hello(self, sender, reply_port: int | None = None, cookie: int | None = None) -> None:
        if sender is not None:   # a browser's connection is its own target: it has no reply port
            target = sender if sender[0] == WEB else (sender[0], reply_port or sender[1])
            expected = self.replies.cookie(sender[0])
            if not self.replies.trusted(target) and cookie != expected:
                self.replies.send("/dd/cookie", expected, to=[sender])   # about a hello's size
                return
            self.replies.hello(target)
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
        root = self.edits.dislike_implied(cid) if like else None
        if root is not None:                 # keeping an edit: the loop it was made from is disliked first
            self._store(root, False)
            self.edits.kept(cid, root)
        rows = self._store(cid, like)
        self.trainer_worker.sync()
        if cur is not None and cid == cur.id:
            self._advance()
        try:
            self.session.keep_sample_files(rows, self.library, self._hashes)
        except OSError as err:  # the rating stands; a start writes the sounds it misses
            self.error("io", f"loop {cid}'s rating stands; the next start keeps its sounds, which cannot be written "
                             f"now: {one_line(err)}")

    def _store(self, cid: int, like: bool) -> list[tuple]:
        """Store one rating and say so (/dd/rated); returns its loop_samples rows."""
        try:  # which sounds the loop plays is stored with the rating, so it can be replayed and exported
            # whatever happens to the sample folders later; their files are written once the next loop is out
            rows = self.session.sample_rows(cid, self.library, self._hashes)
            try:
                likes, dislikes = self.session.rate(cid, like, rows)
            except OSError:                  # a full disk: loops made ahead give way to the rating, once
                self.generator.make_room()
                likes, dislikes = self.session.rate(cid, like, rows)
        except InputError:
            raise OSCError("unknown-id", f"no candidate {cid}") from None
        self.send("/dd/rated", cid, "like" if like else "dislike", likes, dislikes)
        return rows

    def _cmd_edit(self, sender, id: int, track: int, step: int, velocity: int) -> None:
        self.edits.cell(id, track, step, velocity)

    def _cmd_edit_sound(self, sender, id: int, track: int, sample: str) -> None:
        self.edits.sound(id, track, sample)

    def _cmd_sounds(self, sender, id: int, track: int) -> None:
        self.send("/dd/sounds", id, track, *self.edits.choices(id, track))

    def _cmd_next(self, sender) -> None:
        self._advance()

    def _advance(self) -> None:
        loop = self.generator.take()
        if loop is not None:
            self._announce(loop)
        else:
            self.generator.request()

    def _cmd_undo(self, sender) -> None:
        try:
            cid = self.session.undo()
        except InputError as err:            # UNDO_DEPTH undos in a row
            raise OSCError("state", str(err)) from None
        if cid is None:
            raise OSCError("state", "nothing to undo: no ratings")
        root = self.edits.undone(cid)
        if root is not None:                 # the dislike a kept edit brought goes with its like
            with contextlib.suppress(InputError):
                self.session.undo(only=root)
        self.trainer_worker.sync()
        self._status()
        loop = self._loop_from_session(cid)
        if loop is not None:
            self._announce(loop)

    def _cmd_redo(self, sender) -> None:
        back = self.session.redo()
        if back is None:
            raise OSCError("state", "nothing to redo: no rating was undone")
        done = [back]
        if self.edits.redone(back[0]) is not None:   # a kept edit's dislike of its root came back: so does its like
            again = self.session.redo()
            done += [again] if again is not None else []
        likes, dislikes = self.session.counts()
        for cid, like in done:
            self.send("/dd/rated", cid, "like" if like else "dislike", likes, dislikes)
        self.trainer_worker.sync()
        cur = self.current
        if cur is not None and cur.id == cid:     # the loop undo brought back is rated again: on to the next
            self._advance()

    def _loop_from_session(self, cid: int) -> Loop | None:
        """Candidate ``cid`` rebuilt from the database and its files (rendered again where missing)."""
        from ..loops.pattern import Pattern
        from .loop import reference_audio, write_candidate_files

        row = self.session.candidate(cid)
        if row is None:
            return None
        pattern = Pattern.from_json(row.pattern)
        if not all(k in self.library for k in pattern.samples):
            log.info("candidate %d plays samples no longer in the sample folders: not announced again", cid)
            return None
        if (pattern.steps, pattern.beats) != (self.settings.steps, self.settings.beats):
            log.info("candidate %d has another grid (%d steps, %d beats) than the daemon serves: not announced again",
                     cid, pattern.steps, pattern.beats)
            return None
        bpm = self.settings.bpm
        pitches = track_pitches(self.library, self.library.indices(pattern.samples), gm=self.settings.gm)
        loop = Loop.from_pattern(pattern, self.library, reference_audio(self.session, self.library, cid), row.score,
                                 origin=row.mode, id=cid, version=row.version, trained_on=row.trained_on, bpm=bpm,
                                 pitches=pitches, feel=self.settings.feel_layer)
        loop.files, loop.playback = write_candidate_files(self.session.candidate_dir(cid), pattern, self.library,
                                                          bpm, pitches, self.settings.feel_layer)
        return loop

    def _cmd_export(self, sender) -> None:
        if self.current is None:
            raise OSCError("state", "nothing to export yet: no candidate has been announced")
        self._export(self.current.id)

    def _cmd_export_loop(self, sender, id: int) -> None:
        self._export(id)

    def _export(self, cid: int) -> None:
        out = self.session.export_dir(cid)
        if not self.session.export_is_current(cid, out, bpm=self.settings.bpm, gm=self.settings.gm):
            try:
                self.session.export_loop(cid, out, self.library, bpm=self.settings.bpm, gm=self.settings.gm,
                                         force=True)
            except UnknownLoop:
                raise OSCError("unknown-id", f"no candidate {cid}") from None
            except ExportError as err:
                raise OSCError("state", str(err)) from None
        self.send("/dd/exported", cid, str(out.resolve()))

    def _cmd_song(self, sender, path: str) -> None:
        from .song_worker import check_song_path

        self.songs.submit(check_song_path(path), sender)

    def _cmd_song_cancel(self, sender) -> None:
        if not self.songs.cancel():
            raise OSCError("state", "no song is being arranged")

    def _cmd_session_open(self, sender, session: str, samples: str | None = None) -> None:
        """Checked here, on the OSC thread: a bad name or kit leaves this session playing. The switch itself is
        ``dd-live serve``'s (:func:`dd_live.live.serve_cli.cmd_serve`), once this daemon has stopped."""
        from ..session.folders import switch_target

        try:
            folder, kit = switch_target(session, samples, self.session.folder,
                                        self.session.settings().get("samples", []))
        except InputError as err:
            raise OSCError("args", f"/dd/session/open: {err}") from None
        log.info("leaving session %s for %s", self.session.name, folder.name)
        self.switch = {"session": str(folder), "samples": kit}

    def _cmd_status(self, sender) -> None:
        self._status()

    def _status(self) -> None:
        likes, dislikes = self.session.counts()
        self.send("/dd/status", likes + dislikes, likes, dislikes, self.version,
                  0 if self.generator is None else self.generator.ready_count())
        self.clock.send_sync()
        self._send_settings()

    def _send_settings(self) -> None:
        s = self.settings
        self.send("/dd/settings", float(s.bpm), s.mode, int(s.fotf), float(s.temperature), float(s.density),
                  int(s.own_feel), -1.0 if s.swing is None else float(s.swing), float(s.latency), int(s.autotake),
                  float(s.adapt), int(s.steps), int(s.beats), *[int(x) for x in s.locks])

    def update(self, **changes: Any) -> None:
        """Change settings (from the OSC, clock, Link or take threads): each update stored, given to the
        generator and told whole before the next begins, so an older snapshot never overwrites a newer one."""
        with self._publish:
            with self._lock:
                self.settings = replace(self.settings, **changes)
                settings = self.settings
            self.session.save_settings({"live": settings.to_dict()})
            if self.generator is not None:     # None while the critic loads: made with these settings
                self.generator.set_settings(settings)
            self._send_settings()

    def _cmd_set_tempo(self, sender, bpm: float) -> None:
        self.update(bpm=float(bpm))  # the current loop, rendered at the new tempo, is shown to the outputs again

    def _cmd_set_mode(self, sender, mode: str) -> None:
        self.update(mode=mode)

    def _cmd_set_fotf(self, sender, on: float) -> None:
        self.update(fotf=bool(on))

    def _cmd_set_temperature(self, sender, s: float) -> None:
        self.update(temperature=float(s))

    def _cmd_set_density(self, sender, p: float) -> None:
        self.update(density=float(p))

    def _cmd_set_feel(self, sender, on: float) -> None:
        self.update(own_feel=bool(on))

    def _cmd_set_swing(self, sender, amount: float) -> None:
        if amount < 0:
            self.update(swing=None)
            return
        if self.settings.steps_per_beat % 2:
            raise OSCError("args", f"/dd/set/swing: a grid of {self.settings.steps_per_beat} steps per beat has no "
                                   "odd steps to swing (use an even number of steps per beat)")
        self.update(swing=float(amount))

    def _cmd_set_grid(self, sender, steps: int, beats: int) -> None:
        from ..session.settings import grid_settings

        s = self.settings
        try:                               # the grid checked, and a swing it cannot play dropped, as serve does
            new = grid_settings(s, {"steps": int(steps), "beats": int(beats)})
        except InputError as err:
            self._send_settings()          # front ends that changed one of the two show the grid as it is
            raise OSCError("args", f"/dd/set/grid: {err}") from None
        if (new.steps, new.beats) == (s.steps, s.beats):
            self._send_settings()
            return
        self.update(steps=new.steps, beats=new.beats, locks=tuple(False for _ in s.locks), swing=new.swing)
        self.clock.regrid(int(beats))
        self._advance()                    # the new grid's first loop now: the performer asked to hear it

    def _cmd_set_lock(self, sender, track: int, on: float) -> None:
        tracks = len(self.settings.locks)
        if not 1 <= track <= tracks:
            raise OSCError("args", f"/dd/set/lock: track must be 1-{tracks}, got {track}")
        if on and self.current is None:
            raise OSCError("state", "nothing to lock yet: no candidate has been announced")
        locks = list(self.settings.locks)
        locks[track - 1] = bool(on)
        self.update(locks=tuple(locks))

    def _cmd_play(self, sender) -> None:
        if not self.outputs:
            raise OSCError("backend", "neither MIDI out nor audio out is available (see the daemon's log)")
        for out in self.outputs:
            out.play()

    def _cmd_stop(self, sender) -> None:
        for out in self.outputs:
            out.halt()
