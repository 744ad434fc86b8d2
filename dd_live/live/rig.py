"""The ports a process keeps from one session to the next: the clock the drums follow (its follower and input),
the outputs a DAW is connected to (MIDI out, audio out) and the human's inputs (MIDI in, audio in).

A daemon opens them when it starts (:func:`open_ports`). When ``/dd/session/open`` ends it for another session
(:mod:`dd_live.live.serve_cli`), they are handed over as a :class:`Rig` instead of closed: the next daemon takes
them (:func:`adopt`), so the MIDI and audio ports keep their names and a DAW's connections to them, the loop
playing goes on to the next bar lines and the new session's first loop takes over at one, and a host's clock is
followed without a gap. What the ports call back (an onset's take, the clock's settings and replies) is bound to
the daemon that has them now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger("dd_live.daemon")


@dataclass
class Rig:
    """A stopped daemon's clock service (:class:`dd_live.live.sync.ClockService`), outputs and inputs, all still
    open and running, for the next daemon."""

    clock: object
    outputs: list = field(default_factory=list)
    inputs: list = field(default_factory=list)

    @property
    def parts(self) -> list:
        return [*self.outputs, *self.inputs]

    def close(self) -> None:
        """Stop and close every port (no daemon will take them: the process ends)."""
        for part in self.parts:
            part.stop()
        for part in self.parts:
            part.join(5.0)
            part.close()


def open_ports(daemon) -> tuple[list, list]:
    """(outputs, inputs) for ``daemon``, opened and started as its settings ask (see
    :func:`dd_live.ports.outputs.open_outputs`); one that cannot open is left out with a warning."""
    from ..ports.outputs import open_inputs, open_outputs

    s = daemon.settings
    outputs = open_outputs(midi=daemon.midi_spec, audio=daemon.audio_wanted, bpm=s.bpm,
                           follower=daemon.clock.follower, latency=s.latency / 1000.0,
                           clock_out=daemon.clock.clock_out, audio_in=daemon.audio_in != "none")
    daemon.outputs = outputs      # the clock's input is opened on MIDI out's clock (it reads the daemon's outputs)
    inputs = list(daemon.clock.start())
    inputs += open_inputs(midi=daemon.midi_in_spec, audio=daemon.audio_in, on_onset=daemon.takes.onset_at,
                          outputs=outputs)
    return outputs, inputs


def adopt(daemon, rig: Rig) -> tuple[list, list]:
    """(outputs, inputs) of ``rig`` for ``daemon``: each input's onsets go to its takes, each output plays at its
    session's latency; a song the last session played was stopped when it handed them over."""
    for port in rig.inputs:
        if hasattr(port, "on_onset"):
            port.on_onset = daemon.takes.onset_at
    for out in rig.outputs:
        set_latency = getattr(out, "set_latency", None)
        if set_latency is not None:
            set_latency(daemon.settings.latency / 1000.0)
    daemon.clock.regrid(daemon.settings.beats)     # a Link session's bar: this session's
    log.info("kept %d ports from the last session: %s", len(rig.parts), ", ".join(p.name for p in rig.parts) or "none")
    return list(rig.outputs), list(rig.inputs)
