"""Ableton Link (issue 17), against a fake session with LinkPython-extern's API: never a real Link session here
(Link multicasts on every network interface). The follower's line, tempo, start/stop and jumps; the MIDI player
following it; and the one-line error without the extra."""

from __future__ import annotations

import builtins
import threading
import time

import pytest

from dd_live.errors import InputError
from dd_live.ports.clock import TICKS_PER_BEAT
from dd_live.ports.link import LinkFollower
from dd_live.loops.export import Note


class FakeClock:
    def __init__(self, now) -> None:
        self.now = now

    def micros(self) -> int:
        return int(round(self.now() * 1e6))


class FakeState:
    def __init__(self, session) -> None:
        self.s = session

    def tempo(self) -> float:
        return self.s.bpm

    def beatAtTime(self, micros: int, quantum: float) -> float:
        return self.s.beat0 + (micros / 1e6 - self.s.t0) * self.s.bpm / 60.0

    def isPlaying(self) -> bool:
        return self.s.playing


class FakeLink:
    """What dd_live calls of ``link.Link``: a timeline at ``bpm`` from beat ``beat0`` at time ``t0`` (s on the
    fake's clock, ``now``), start/stop."""

    def __init__(self, bpm: float, now) -> None:
        self.bpm, self.beat0, self.t0, self.playing, self._now = bpm, 0.0, now(), False, now
        self.enabled = False
        self.startStopSyncEnabled = False

    def clock(self) -> FakeClock:
        return FakeClock(self._now)

    def captureSessionState(self) -> FakeState:
        return FakeState(self)

    def set_tempo(self, bpm: float) -> None:     # the timeline stays continuous, as Link keeps it
        now = self._now()
        self.beat0 += (now - self.t0) * self.bpm / 60.0
        self.t0, self.bpm = now, bpm


def test_the_follower_reads_tempo_bar_phase_start_stop_and_jumps():
    now = [100.0]
    link = FakeLink(110.0, lambda: now[0])
    seen = []
    f = LinkFollower(session=link, on_change=seen.append, quantum=4, clock=lambda: now[0] + 5.0)   # player = link + 5
    f.poll()
    assert f.bpm() == pytest.approx(110.0) and not f.running
    link.playing = True
    now[0] += 1.0
    f.poll()
    assert f.running and seen == ["start"]
    # at player time 106.0 (link 101.0) the link beat is 110/60 * 1.0: the line says the same, in ticks
    assert f.position_at(106.0) == pytest.approx(110 / 60 * TICKS_PER_BEAT, abs=1e-3)
    assert f.time_of(0) == pytest.approx(105.0)               # beat 0 at link time 100
    link.set_tempo(90.0)
    now[0] += 0.5
    f.poll()
    assert f.bpm() == pytest.approx(90.0) and seen == ["start", "tempo"]   # a tempo change, not a jump
    link.beat0 += 2.0                                          # a peer moved the timeline
    f.poll()
    assert seen == ["start", "tempo", "position"]
    link.playing = False
    f.poll()
    assert seen == ["start", "tempo", "position", "stop"] and not f.running


def _play_on_link(notes: list, *, seconds: float, latency: float = 0.0, beat0: float = 0.0, stamped: bool = True):
    """A MIDI player following a fake Link session at 150 bpm (whose clock is the player's) for ``seconds``:
    (the session, [(time, message)]). ``stamped``: a port that takes each message with its time (as JACK's),
    the times those it was given; otherwise a port that sends at once, the times it was called (when the
    player's thread woke: on a busy machine, later)."""
    from dd_live.ports.midi_out import MidiPlayer

    link = FakeLink(150.0, time.perf_counter)
    link.beat0 = beat0
    f = LinkFollower(session=link, quantum=4)
    sent: list[tuple[float, list[int]]] = []
    stamp = {"send_at": lambda m, at: sent.append((at, m)), "lookahead": 0.25} if stamped else {}
    p = MidiPlayer(lambda m: sent.append((time.perf_counter(), m)), beats=4, bpm=150.0, follower=f, latency=latency,
                   **stamp)
    p.show(type("L", (), {"notes": notes, "bpm": 150.0, "pattern": type("P", (), {"beats": 4})()})())
    link.playing = True
    f.start()
    p.start()
    try:
        time.sleep(seconds)
    finally:
        p.close()
        f.close()
    return link, sent


def _check_beats(link, sent, want: dict[int, float], latency: float = 0.0, tolerance: float = 1e-4) -> None:
    ons = [(t, m) for t, m in sent if m[0] == 0x99]
    assert len(ons) >= 3
    for t, m in ons:
        beat = (link.beat0 + (t - latency - link.t0) * 150.0 / 60.0) % 4
        w = want[m[1]]
        assert min(abs(beat - w), abs(beat - 4 - w)) * 60 / 150 < tolerance, (beat, m)


@pytest.mark.parametrize("stamped", [True, False], ids=["stamped", "sent-on-waking"])
def test_the_midi_player_follows_link_bar_lines(stamped):
    """Each note at the time of its beat on Link's timeline (whose phase is the session's: beat 1.37 at its
    start), bar lines on multiples of the quantum: to 0.1 ms given to a stamping port; sent on waking, within
    25 ms (a beat is 400 ms: a note on the wrong beat or phase is far outside; a busy machine's late wake-up is
    not, and timing itself is measured by the JACK tests and bench live)."""
    link, sent = _play_on_link([Note(0.0, 36, 100), Note(2.0, 38, 100)], seconds=3.5, beat0=1.37, stamped=stamped)
    _check_beats(link, sent, {36: 0.0, 38: 2.0}, tolerance=1e-4 if stamped else 0.025)


def test_latency_shifts_every_note_of_a_followed_player():
    """The same player 40 ms late (--latency 40): every note 40 ms after its beat on the timeline."""
    link, sent = _play_on_link([Note(0.0, 36, 100), Note(1.0, 38, 100)], seconds=3.5, latency=0.04)
    _check_beats(link, sent, {36: 0.0, 38: 1.0}, latency=0.04)


def test_sync_link_without_the_extra_is_one_line(monkeypatch):
    real = builtins.__import__

    def no_link(name, *args, **kw):
        if name == "link":
            raise ImportError("No module named 'link'")
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_link)
    with pytest.raises(InputError) as err:
        LinkFollower()
    assert "pip install 'dd_live[link]'" in str(err.value) and "\n" not in str(err.value)
    assert threading.active_count() >= 1


def test_an_empty_loop_waits_for_the_bar_line_instead_of_spinning():
    """A loop without notes still takes a bar per bar: the player sleeps until the host's bar line."""
    cpu = time.process_time()
    link, sent = _play_on_link([], seconds=1.0)
    assert time.process_time() - cpu < 0.5, "the player spun through empty bars"
    assert sent == [] or all(m[:2] == [0xB9, 123] for _, m in sent)


def test_a_grid_change_gives_the_followed_link_session_the_new_bar_as_its_quantum():
    from dd_live.live.sync import ClockService

    none = lambda *a, **k: None   # noqa: E731
    clock = ClockService("internal", "virtual", settings=none, outputs=list, update=none, send=none)
    clock.regrid(3)                                              # no Link: nothing to tell
    clock.sync_source = "link"
    clock.follower = LinkFollower(session=FakeLink(120.0, time.perf_counter), quantum=4)
    clock.regrid(3)
    assert clock.follower.quantum == 3
