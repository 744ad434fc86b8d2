"""Takes of a human playing along, and the feel layer they teach the drums: :class:`TakeService`, a service the
daemon holds (its take and feel commands, and onsets), built with what it needs of the daemon, and
:class:`AutoTakes`, its worker for takes every N bars.

Onsets arrive on the OSC thread (/dd/onset) and on the MIDI input's callback thread (:mod:`dd_live.ports.midi_in`,
through :meth:`TakeService.onset_at`); both go through :meth:`TakeService.onset`, which only appends to the take
under a lock. Ending a take matches and fits it (numpy, a few hundred onsets at most), stores the new layer in
the session and hands it to the generator, which renders the playing and ready loops again with it, as after a
tempo change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError
from ..groove.adapt import adapt
from ..groove.feel import Take, flat, layer_for
from ..osc.osc import OSCError
from ..worker import Worker

log = logging.getLogger("dd_live.daemon")

MAX_ONSETS = 4096       # onsets one take keeps (about 64 bars of sixteenths); later ones are refused


class TakeService:
    """The take and feel commands and the onsets of a human playing along. ``session``: where the feel layer
    and its history are kept; ``settings`` and ``current``: the daemon's settings and playing loop, now;
    ``outputs``: its outputs, now (their phase places an onset); ``update``: changes the daemon's settings
    (:meth:`dd_live.live.daemon.Daemon.update`); ``send``: a reply to every client."""

    def __init__(self, *, session, settings: Callable[[], Any], current: Callable[[], Any],
                 outputs: Callable[[], list], update: Callable[..., None], send: Callable[..., None]) -> None:
        self.session, self._settings, self._current, self._outputs = session, settings, current, outputs
        self._update, self.send = update, send
        self._take: Take | None = None
        self._take_lock = threading.Lock()
        self.song: Callable[[], Any] = lambda: None   # the song player while a song plays: takes are over the song
        self.autotakes = AutoTakes(self)       # takes every N bars (/dd/set/autotake), idle while off

    @property
    def settings(self):
        return self._settings()

    @property
    def current(self):
        return self._current()

    def handlers(self) -> dict[str, Callable[..., None]]:
        """The inbound commands of the OSC table this service runs, and their methods."""
        return {"take_start": self._cmd_take_start, "onset": self._cmd_onset, "take_end": self._cmd_take_end,
                "feel": self._cmd_feel, "feel_reset": self._cmd_feel_reset, "feel_undo": self._cmd_feel_undo,
                "set_adapt": self._cmd_set_adapt, "set_autotake": self._cmd_set_autotake}

    # ------------------------------------------------------------ onsets (OSC thread, MIDI-in thread)

    def onset(self, beat: float | None = None) -> None:
        """Record one onset of the human at ``beat`` (beats from the bar line of the playing loop; None: now,
        by the outputs' clock). OSCError if no take runs, nothing plays or the beat is outside the bar."""
        song = self.song()
        if song is not None:
            if not song.onset(beat):
                raise OSCError("state", "no take over the song is running (send /dd/take/start), or its first "
                                        "bar has not begun yet")
            return
        cur = self.current
        if cur is None:
            raise OSCError("state", "no loop to play along with yet")
        beats = cur.pattern.beats
        if beat is None:
            phase = self.phase()
            if phase is None:
                raise OSCError("state", "nothing is playing: /dd/play first, or send /dd/onset with the beat")
            beat = phase * beats
        if not 0.0 <= beat < beats:
            raise OSCError("args", f"/dd/onset: beat must be 0 to under {beats} (the bar's beats), got {beat:g}")
        with self._take_lock:
            if self._take is None:
                raise OSCError("state", "no take is running: send /dd/take/start first")
            if len(self._take) >= MAX_ONSETS:
                raise OSCError("state", f"the take already holds {MAX_ONSETS} onsets: end it with /dd/take/end")
            # the feel the daemon plays from now on: a loop announced before a take's change is still being
            # rendered again with it for a few ms, and onsets belong to the drums as they now play
            self._take.add(cur.frame(self.settings.feel_layer), float(beat) * cur.pattern.steps / beats)

    def onset_at(self, t: float) -> bool:
        """An onset at time ``t`` (s, time.perf_counter) from MIDI in's thread; whether the running take kept it
        (no take, or nothing playing: dropped, without an error)."""
        song = self.song()
        if song is not None:
            player = song.midi()                  # without MIDI out: placed by audio out's position now
            return song.onset(at=None if player is None else player.clock_of(t))
        with self._take_lock:
            if self._take is None:
                return False
        phase = self.phase(t)
        if phase is None:
            return False
        try:
            self.onset(phase * self.current.pattern.beats)
        except OSCError:
            return False
        return True

    def phase(self, at: float | None = None) -> float | None:
        """Share of the bar the playing outputs have played (0-1) now, or at clock time ``at``, from the first
        output that knows."""
        for out in self._outputs():
            phase = getattr(out, "phase", lambda at=None: None)(at)
            if phase is not None:
                return phase
        return None

    # ------------------------------------------------------------ handlers (OSC thread)

    def _cmd_take_start(self, sender) -> None:
        self.begin_take()

    def _cmd_onset(self, sender, beat: float | None = None) -> None:
        self.onset(None if beat is None else float(beat))

    def _cmd_take_end(self, sender) -> None:
        if not self.end_take():
            raise OSCError("state", "no take is running: send /dd/take/start first")

    def begin_take(self) -> None:
        """Start a take (a running one is dropped)."""
        song = self.song()
        if song is not None:
            return song.begin_take()
        with self._take_lock:
            self._take = Take()

    def end_take(self, *, auto: bool = False) -> bool:
        """End the running take: fit it, move the feel layer, store it, say so (/dd/take, /dd/feel); with auto
        takes on (or ``auto``) the next take starts at once. False if no take ran. A take that cannot be used
        (too few onsets matched) is an OSCError, or with ``auto`` only a debug line: the human did not play.
        While a song plays the take is over the song, learned on the song player's thread."""
        song = self.song()
        if song is not None:
            return song.end_take(again=auto or bool(self.settings.autotake))
        with self._take_lock:
            take, self._take = self._take, None
            if auto or self.settings.autotake:
                self._take = Take()
        if take is None:
            return False
        steps, spb = self._grid()
        try:
            fit = take.fit(steps)
        except InputError as err:
            if auto:
                log.debug("automatic take not used: %s", err)
                return True
            raise OSCError("state", f"take not used: {err}") from None
        old = self._layer()
        new = adapt(old, fit, rate=self.settings.adapt, steps_per_beat=spb)
        step_ms = 60_000.0 / self.settings.bpm / spb
        stats = {"onsets": fit.onsets, "matched": fit.matched, "gap_steps": round(fit.mean_abs_gap, 6),
                 "centred_gap_steps": round(fit.mean_abs_gap_centred, 6), "latency_steps": round(fit.centre, 6),
                 "bpm": self.settings.bpm, "rate": self.settings.adapt, "auto": auto}
        takes = self.session.push_feel(new, "take", stats)
        log.info("take %d: %d onsets, %d matched, gap %.1f ms (%.1f ms without latency)", takes, fit.onsets,
                 fit.matched, fit.mean_abs_gap * step_ms, fit.mean_abs_gap_centred * step_ms)
        self.send("/dd/take", fit.onsets, fit.matched, float(np.nan_to_num(fit.mean_abs_gap) * step_ms),
                  float(np.nan_to_num(fit.mean_abs_gap_centred) * step_ms), takes)
        self._play_feel(new)
        return True

    def _cmd_set_autotake(self, sender, bars: float) -> None:
        was = self.settings.autotake
        self._update(autotake=int(round(bars)))
        if was and not self.settings.autotake:
            with self._take_lock:   # the automatic take running is dropped, unused
                self._take = None
        self.autotakes.wake()

    def _cmd_feel(self, sender) -> None:
        self.send("/dd/feel", *[float(x) for x in self._layer()])

    def _cmd_feel_reset(self, sender) -> None:
        straight = flat(self._grid()[0])
        self.session.push_feel(straight, "reset")
        self._play_feel(straight)

    def _cmd_feel_undo(self, sender) -> None:
        if not self.session.pop_feel():
            raise OSCError("state", "nothing to undo: no take or reset stored")
        self._play_feel(np.asarray(self.session.feel() or flat(self._grid()[0])))

    def _cmd_set_adapt(self, sender, rate: float) -> None:
        self._update(adapt=float(rate))

    # ------------------------------------------------------------ helpers

    def _grid(self) -> tuple[int, int]:
        """(steps, steps per beat) of the loops the daemon plays."""
        cur = self.current
        if cur is not None:
            return cur.pattern.steps, cur.pattern.steps_per_beat
        return self.settings.steps, self.settings.steps_per_beat

    def _layer(self) -> np.ndarray:
        feel, steps = self.settings.feel_layer, self._grid()[0]
        return layer_for(np.asarray(feel), steps) if feel else flat(steps)   # a layer from another grid read on this one

    def _play_feel(self, layer: np.ndarray) -> None:
        """Make ``layer`` the one the drums play with and say so."""
        layer = np.asarray(layer, dtype=np.float64)
        self._update(feel_layer=tuple(float(x) for x in layer) if np.any(layer) else ())
        self.send("/dd/feel", *[float(x) for x in layer])


class AutoTakes(Worker):
    """Takes by themselves (/dd/set/autotake bars): every ``bars`` bars the running take ends (the feel moves)
    and the next starts. Bars are counted at the session tempo and grid from the bar line the outputs were
    playing when auto takes came on (from that moment if nothing plays). While a song plays, a take is a pass
    over it (from the bar it started at to its end). A take the human did not play in changes nothing."""

    name = "dd-takes"
    IDLE_S = 0.25       # how often it looks at the setting while off, and the longest it sleeps

    def __init__(self, takes, *, clock: Callable[[], float] = time.perf_counter) -> None:
        """``takes``: what it ends and begins (a :class:`TakeService`: its settings, phase, begin_take, end_take)."""
        super().__init__()
        self.takes, self.clock = takes, clock
        self._bell = threading.Event()
        self.due: float | None = None          # clock time (s) the running automatic take ends; None: off
        self._pass: int | None = None          # a song playing: the passes over it when its take began

    def wake(self) -> None:
        """The setting changed (or the worker stops): look again now."""
        self._bell.set()

    _wake = wake        # Worker.stop's hook

    def _run(self) -> None:
        while not self._stop.is_set():
            self._bell.wait(self.tick())
            self._bell.clear()

    def tick(self) -> float:
        """Do what is due now; returns the seconds until something may next be due."""
        s = self.takes.settings
        if not s.autotake:
            self.due = self._pass = None
            return self.IDLE_S
        song = getattr(self.takes, "song", lambda: None)()
        if song is not None and song.playing is not None:   # a song: a take a pass, from the bar it started at
            passes = song.playing.cue.passes
            if self._pass is None:
                self.takes.begin_take()
            elif passes > self._pass:
                self.takes.end_take(auto=True)
            self._pass, self.due = passes, None
            return self.IDLE_S
        self._pass = None
        now = self.clock()
        bar = s.beats * 60.0 / s.bpm
        length = s.autotake * bar
        if self.due is None:           # just switched on: the first take runs to the bar line ``bars`` ahead
            phase = self.takes.phase() or 0.0      # the outputs' phase now, by their own clock
            self.due = now - phase * bar + length
            self.takes.begin_take()
        elif now >= self.due:
            self.takes.end_take(auto=True)
            while self.due <= now:     # after a stall, the next whole take (never several at once)
                self.due += length
        return min(max(self.due - self.clock(), 0.0), self.IDLE_S)
