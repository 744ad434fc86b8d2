"""Which clock the drums follow (a mixin of the daemon, issue 17): their own tempo (``--sync internal``), a host's
MIDI clock (``--sync midi``: :mod:`.clock`, :mod:`.clock_in`, :mod:`.clock_sync`) or Ableton Link (``--sync
link``: :mod:`.link`); the latency shift of MIDI out (``--latency``, ``/dd/set/latency``); and ``/dd/sync``,
where the clock is, sent on ``/dd/status`` and whenever a followed host starts, stops, continues or moves.
"""

from __future__ import annotations

import logging

from .. import TEMPO_RANGE
from ..errors import BackendError

log = logging.getLogger("dd_live.daemon")


class Sync:
    """The daemon's clock commands and state (uses its settings, outputs, inputs, send and _update)."""

    def _sync_init(self, sync: str, clock_in: str, clock_out: bool = False) -> None:
        """Before anything starts: the follower a host's clock will feed (a missing Link extra fails here)."""
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

            self.follower = LinkFollower(on_change=self._on_transport, bpm=self.settings.bpm,
                                         quantum=self.settings.beats)

    def _sync_start(self) -> None:
        """After the outputs opened: the clock's input, on the MIDI player's clock."""
        if self.follower is None:
            return
        player = next((o for o in self.outputs if getattr(o, "follower", None) is self.follower), None)
        if self.sync_source == "link":
            self.follower.clock = player.clock if player is not None else self.follower.clock
            self.follower.start()
            self.inputs.append(self.follower)
            log.info("following Ableton Link (quantum %d beats)", self.follower.quantum)
            return
        from ..ports.clock_in import ClockInput

        frames = getattr(player, "frames_now", None)
        port = ClockInput(self.clock_in_spec, self.follower, frames_now=frames,
                          rate=getattr(player, "rate", 0.0))
        try:
            port.start()
        except BackendError as err:
            log.warning("MIDI clock in is off (the drums wait for a clock that cannot come): %s", err)
            return
        log.info("MIDI clock in: %s", port.where)
        self.inputs.append(port)

    def _on_transport(self, kind: str) -> None:
        """The followed clock started, stopped, continued, moved (its input's thread), or its tempo moved: the
        session tempo becomes the host's, so loops are rendered at it for audio out, previews and exports."""
        if kind == "tempo":
            bpm = self.follower.bpm()
            if bpm is not None:
                lo, hi = TEMPO_RANGE
                self._update(bpm=round(min(max(bpm, lo), hi), 2))
        for out in self.outputs:
            changed = getattr(out, "transport_changed", None)
            if changed is not None:
                changed(kind)
        self._send_sync()

    def _send_sync(self) -> None:
        f = self.follower
        phase = next((p for p in (o.phase() for o in self.outputs) if p is not None), None)
        if f is None:
            bpm, running = self.settings.bpm, any(getattr(o, "playing", False) for o in self.outputs)
        else:
            bpm, running = f.bpm() or 0.0, f.running
        self.send("/dd/sync", self.sync_source, float(bpm), -1.0 if phase is None else float(phase), int(running))

    def _cmd_set_latency(self, sender, ms: float) -> None:
        self._update(latency=float(ms))
        for out in self.outputs:
            set_latency = getattr(out, "set_latency", None)
            if set_latency is not None:
                set_latency(float(ms) / 1000.0)
