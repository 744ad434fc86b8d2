"""The MIDI player on a host's clock (``serve --sync midi``, issue 17): the player thread's loop when it follows a
:class:`dd_live.ports.clock.ClockFollower` instead of its own tempo.

Bars are the host's: a loop of B beats takes B x 24 ticks of the song position and starts on a multiple of that,
so it changes on the host's bar lines and resumes mid-bar after Continue or a Song Position Pointer at the step
where the host is. Each note is placed where the clock's current line (the last two beats of ticks) puts its
position, re-read just before it is handed over (LOOKAHEAD_S ahead on a frame-stamped port); a note-on whose
time has already passed is dropped rather than played late (the first notes after Start, before the line is
known, or a note the player thread woke for too late on a busy machine), and note-offs are always sent. When
the host stops, moves, or the daemon halts, everything handed over ahead is cancelled and all notes are
switched off at once. A song (:meth:`dd_live.ports.midi_out.MidiPlayer.cue`) plays the bar the host is in: its song
position counted in bars of the player's meter, nothing past the song's end.
"""

from __future__ import annotations

import math

from .clock import TICKS_PER_BEAT

POLL_S = 0.002          # how often a player waiting for a started host's first ticks (its line) looks again (s)
IDLE_S = 0.25           # ... and one waiting for the host to start, or for a play (both ring its bell) (s)


def run_synced(p) -> None:
    """The player thread (``p``: a :class:`dd_live.ports.midi_out.MidiPlayer` with a follower) until it stops."""
    f = p.follower
    while not p._stop.is_set():
        count = p._transport
        if not (p._playing and f.running and f.line() is not None):
            p._bar = None
            # only the line a Start's first ticks make comes without ringing the bell: looked for often; a
            # stopped host or a halted player waits for its bell (IDLE_S: a safety net), not a poll
            p._bell.wait(POLL_S if p._playing and f.running else IDLE_S)
            p._bell.clear()
            continue
        _play(p, f, count)
        p._bar = None
        p.all_notes_off()


def _play(p, f, count: int) -> None:
    """Play bars from where the host is until its transport changes (``count`` no longer current), a halt or
    a stop."""
    ahead = p.lookahead
    pos = f.position_at(p.clock() + ahead)
    if pos is None:
        return
    ticks = p._beats * TICKS_PER_BEAT
    bar_pos = math.floor(pos / ticks) * ticks
    p._swap(int(bar_pos // ticks) if p._cue is not None else None)   # a song: the bar the host is in
    while p._playing and f.running and count == p._transport and not p._stop.is_set():
        line = f.line()
        if line is None:
            return
        p._line(line[0] + line[1] * bar_pos + p.latency, ticks * line[1])
        for beat, msg in _timeline(p):
            target = bar_pos + beat * TICKS_PER_BEAT
            at = f.time_of(target)
            if at is None:
                return
            at += p.latency
            if msg[0] & 0xF0 == 0x90 and at < p.clock() + (ahead if p._send_at is not None else 0.0) - 0.0005:
                p.dropped_late += msg[2] > 0      # its time has passed: dropped (counted), never played late
                continue
            if not p._wait_until(at - ahead, count):
                return
            fresh = f.time_of(target)
            at = at if fresh is None else fresh + p.latency
            if p.too_late(msg, at):           # the thread woke after the note's time (a busy machine)
                continue
            p._emit(msg, at)
        else:
            end = f.time_of(bar_pos + ticks)  # wait for the bar's end (a loop with few notes, or none, too)
            if end is None or not p._wait_until(end + p.latency - ahead, count):
                return
            bar_pos += ticks
            p._swap(int(bar_pos // ticks) if p._cue is not None else None)   # a new loop on the host's bar line
            ticks = p._beats * TICKS_PER_BEAT
            continue
        return


def _timeline(p):
    from .midi_out import bar_timeline

    return bar_timeline(p._notes, 60.0, p._beats)   # at 60 bpm its seconds are beats
