"""Which clock the drums follow (:class:`ClockService`, a service the daemon holds): their own tempo (``--sync
internal``), a host's MIDI clock (``--sync midi``: :mod:`dd_live.ports.clock`, :mod:`dd_live.ports.clock_in`,
:mod:`dd_live.ports.clock_sync`) or Ableton Link (``--sync link``: :mod:`dd_live.ports.link`); the latency shift
of MIDI out (``--latency``, ``/dd/set/latency``); and ``/dd/sync``, where the clock is, sent on ``/dd/status``
and whenever a followed host starts, stops, continues or moves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .. import TEMPO_RANGE
from ..errors import BackendError

log = logging.getLogger("dd_live.daemon")


class ClockService:
    """The clock the drums follow and its commands. ``sync``, ``clock_in``, ``clock_out``: as ``dd-live serve``'s
    options; ``settings``: the daemon's settings, now; ``outputs``: its outputs, now; ``update``: changes the
    daemon's settings; ``send``: a reply to every client. Made before anything starts: the follower a host's
    clock will feed (a missing Link extra fails here). A process keeps it from one session to the next
    (:mod:`.rig`): :meth:`bind` gives it the next daemon's."""

    def __init__(self, sync: str, clock_in: str, clock_out: bool = False, *, settings: Callable[[], Any],
                 outputs: Callable[[], list], update: Callable[..., None], send: Callable[..., None]) -> None:
        self.bind(settings=settings, outputs=outputs, update=update, send=send)
        self.sync_source, self.clock_in_spec = sync, clock_in
        self.clock_out = clock_out and sync == "internal"
        if clock_out and sync != "internal":
            log.warning("--clock-out is ignored with --sync %s: dd_live follows, it is not the master", sync)
        self.follower = None
        if sync == "midi":
            from ..ports.clock import ClockFollower

            self.follower = ClockFollower(on_change=self._on_transport)
        elif sync == "link":
            from ..ports.link import LinkFollower

            self.follower = LinkFollower(on_change=self._on_transport, bpm=settings().bpm,
                                         quantum=settings().beats)

    def bind(self, *, settings: Callable[[], Any], outputs: Callable[[], list], update: Callable[..., None],
             send: Callable[..., None]) -> None:
        """The daemon this clock serves: its settings and outputs now, how to change its settings, its replies."""
        self._settings, self._outputs, self._update, self.send = settings, outputs, update, send

    def regrid(self, beats: int) -> None:
        """The loops now have ``beats`` beats a bar: a Link session's bar (its quantum) follows."""
        if self.sync_source == "link" and self.follower is not None:
            self.follower.quantum = int(beats)

    def handlers(self) -> dict[str, Callable[..., None]]:
        """The inbound commands of the OSC table this service runs, and their methods."""
        return {"set_latency": self._cmd_set_latency}

    def start(self) -> list:
        """After the outputs opened: the clock's input, on the MIDI player's clock; returns the inputs it
        started (the daemon closes them)."""
        if self.follower is None:
            return []
        player = next((o for o in self._outputs() if getattr(o, "follower", None) is self.follower), None)
        if self.sync_source == "link":
            self.follower.clock = player.clock if player is not None else self.follower.clock
            self.follower.start()
            log.info("following Ableton Link (quantum %d beats)", self.follower.quantum)
            return [self.follower]
        from ..ports.clock_in import ClockInput

        frames = getattr(player, "frames_now", None)
        port = ClockInput(self.clock_in_spec, self.follower, frames_now=frames,
                          rate=getattr(player, "rate", 0.0), port=getattr(player, "jack_port", None))
        try:
            port.start()
        except BackendError as err:
            log.warning("MIDI clock in is off (the drums wait for a clock that cannot come): %s", err)
            return []
        log.info("MIDI clock in: %s", port.where)
        return [port]

    def _on_transport(self, kind: str) -> None:
        """The followed clock started, stopped, continued, moved (its input's thread), or its tempo moved: the
        session tempo becomes the host's, so loops are rendered at it for audio out, previews and exports."""
        if kind == "tempo":
            bpm = self.follower.bpm()
            if bpm is not None:
                lo, hi = TEMPO_RANGE
                self._update(bpm=round(min(max(bpm, lo), hi), 2))
        for out in self._outputs():
            changed = getattr(out, "transport_changed", None)
            if changed is not None:
                changed(kind)
        self.send_sync()

    def send_sync(self) -> None:
        """/dd/sync: which clock, its tempo, where the bar is and whether it runs."""
        f, outputs = self.follower, self._outputs()
        phase = next((p for p in (o.phase() for o in outputs) if p is not None), None)
        if f is None:
            bpm, running = self._settings().bpm, any(getattr(o, "playing", False) for o in outputs)
        else:
            bpm, running = f.bpm() or 0.0, f.running
        self.send("/dd/sync", self.sync_source, float(bpm), -1.0 if phase is None else float(phase), int(running))

    def _cmd_set_latency(self, sender, ms: float) -> None:
        self._update(latency=float(ms))
        for out in self._outputs():
            set_latency = getattr(out, "set_latency", None)
            if set_latency is not None:
                set_latency(float(ms) / 1000.0)
