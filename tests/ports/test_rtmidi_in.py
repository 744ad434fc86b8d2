"""The rtmidi reader thread: messages stamped with rtmidi's own times, anchored by the least-delayed collection,
so a held-up poll or interpreter does not move them."""

from __future__ import annotations

import threading

import numpy as np

from dd_live.ports.rtmidi_in import RtmidiReader


def test_stamps_are_rtmidis_times_whatever_the_delay_in_collecting_them(rng):
    true = np.cumsum(rng.uniform(0.005, 0.03, 200)) + 100.0          # when each message came (s)
    delay = rng.exponential(0.02, 200)                                # held up before being collected
    k = int(rng.integers(20, 180))
    delay[k] = 0.0                                                    # one collected the moment it came
    deltas = np.diff(true, prepend=true[0])
    r = RtmidiReader(None, lambda m, t: None, name="t")
    collected = true + delay
    stamps = np.array([r.stamp(d, c) for d, c in zip(deltas, collected)])
    assert np.abs(stamps[k:] - true[k:]).max() < 1e-9                # exact from the prompt one on
    assert np.all(stamps <= collected + 1e-12)                        # never later than collected
    assert np.abs(stamps[:k] - true[:k]).max() < 0.5 * delay[:k].max()   # before it: off by the best delay yet


class _FakePort:
    def __init__(self, messages):
        self.messages = list(messages)

    def get_message(self):
        return self.messages.pop(0) if self.messages else None


def test_the_thread_hands_every_message_in_order_and_survives_a_bad_one():
    port = _FakePort([([0xF8], 0.0), ([0xF8], 0.02), ([0x90, 60, 1], 0.01), ([0xFC], 0.02)])
    got, done = [], threading.Event()

    def handle(msg, t):
        got.append((msg, t))
        if msg == [0x90, 60, 1]:
            raise ValueError("bad")          # logged; the reader goes on
        if msg == [0xFC]:
            done.set()

    clock = iter(np.arange(0.0, 100.0, 0.1)).__next__
    r = RtmidiReader(port, handle, name="t", clock=lambda: float(clock()))
    r.start()
    assert done.wait(5)
    r.stop()
    r.join(2)
    assert [m for m, _ in got] == [[0xF8], [0xF8], [0x90, 60, 1], [0xFC]]
    gaps = np.diff([t for _, t in got])
    assert np.allclose(gaps, [0.02, 0.01, 0.02]) and r.error is None and not r.is_alive()


def test_a_quiet_input_is_polled_less_often():
    from dd_live.ports.rtmidi_in import IDLE_AFTER_S, IDLE_POLL_S, POLL_S

    assert RtmidiReader.poll_interval(0.0) == POLL_S and RtmidiReader.poll_interval(IDLE_AFTER_S / 2) == POLL_S
    assert RtmidiReader.poll_interval(IDLE_AFTER_S) == IDLE_POLL_S > 5 * POLL_S


def test_the_thread_polls_a_quiet_port_at_the_idle_interval(monkeypatch):
    import time

    from dd_live.ports import rtmidi_in

    monkeypatch.setattr(rtmidi_in, "IDLE_AFTER_S", 0.0)             # quiet from the start
    polls = []
    port = _FakePort([])
    port.get_message = lambda: polls.append(1)                        # None: nothing queued
    r = RtmidiReader(port, lambda m, t: None, name="t")
    r.start()
    time.sleep(0.3)
    r.stop()
    r.join(2)
    # 0.3 s at IDLE_POLL_S is 15 polls; at POLL_S it would be 600 (a busy machine only makes fewer)
    assert 0 < len(polls) <= 1.5 * 0.3 / rtmidi_in.IDLE_POLL_S
