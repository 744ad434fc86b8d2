"""MIDI clock in (dd_live.ports.clock_in) without a MIDI system: JACK's 32-bit frame stamps unwrapped onto the
player's clock, what is not clock ignored, and a message that cannot be handled never ending the clock."""

from __future__ import annotations

import logging

from dd_live.ports.clock import SPP, START, TICK
from dd_live.ports.clock_in import ClockInput

RATE = 48000


class Reader:
    """JACK's reader, as clock_in sees it: each read() hands over the next batch, then the input is stopped."""

    def __init__(self, batches, clock_in) -> None:
        self.batches, self.rate, self.clock_in, self.closed = list(batches), RATE, clock_in, False

    def read(self):
        if not self.batches:
            self.clock_in._stop.set()
            return []
        return self.batches.pop(0)

    def wait(self, timeout):
        return bool(self.batches)

    def wake(self):
        pass

    def close(self):
        self.closed = True


class Follower:
    def __init__(self, fail_on=None) -> None:
        self.fed, self.fail_on = [], fail_on

    def feed(self, status, at, data=b""):
        if status == self.fail_on:
            raise ValueError("a follower that chokes")
        self.fed.append((status, at, bytes(data)))


def _run(batches, now, follower):
    c = ClockInput("virtual", follower, frames_now=lambda: now)
    c._reader = Reader(batches, c)
    c._run_jack()
    c.close()
    return c


def test_frames_that_wrapped_past_32_bits_land_next_to_the_players_clock():
    now = (1 << 32) + 1000                     # the player's unwrapped frames: JACK's counter wrapped 1000 ago
    wrapped = [((1 << 32) - 500) & 0xFFFFFFFF, 200, 900]     # two before the wrap's 0 ... one after
    f = Follower()
    c = _run([[(wrapped[0], bytes([START])), (wrapped[1], bytes([TICK]))], [(wrapped[2], bytes([TICK]))]], now, f)
    assert [s for s, _, _ in f.fed] == [START, TICK, TICK] and c.heard == 3
    frames = [round(at * RATE) for _, at, _ in f.fed]
    assert frames == [(1 << 32) - 500, (1 << 32) + 200, (1 << 32) + 900]     # in order, on the unwrapped clock
    f = Follower()                             # a frame JACK counted a cycle ahead of the player's clock
    _run([[((now + 64) & 0xFFFFFFFF, bytes([TICK]))]], now, f)
    assert round(f.fed[0][1] * RATE) == now + 64


def test_only_clock_and_song_position_are_heard_and_one_bad_message_is_logged_not_fatal(caplog):
    f = Follower(fail_on=START)
    with caplog.at_level(logging.WARNING, logger="dd_live.midi"):
        c = _run([[(10, bytes([0x90, 36, 100])), (20, bytes([START])), (30, bytes([SPP, 8, 0])),
                   (40, b""), (50, bytes([TICK]))]], 100, f)
    assert [(s, d) for s, _, d in f.fed] == [(SPP, bytes([8, 0])), (TICK, b"")]     # a note, an empty one: not clock
    assert c.heard == 3 and "MIDI clock: a message could not be handled: " in caplog.text
    assert c._reader is None                                                        # closed, and closing again is fine
    c.close()


def test_rtmidi_messages_are_filtered_the_same_way():
    f = Follower()
    c = ClockInput("virtual", f)
    for msg, t in (([0x90, 36, 100], 1.0), ([TICK], 1.01), ([SPP, 4, 1], 1.02), ([], 1.03)):
        c._on_message(msg, t)
    assert f.fed == [(TICK, 1.01, b""), (SPP, 1.02, bytes([4, 1]))] and c.heard == 2
