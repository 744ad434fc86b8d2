"""A JACK server with the dummy driver for the tests marked ``jack`` (see the root conftest)."""

from __future__ import annotations

import pytest


@pytest.fixture
def jack(monkeypatch):
    """A JACK dummy server of this test's own, selected for rtmidi (DD_LIVE_MIDI_API=jack) in this process."""
    from dd_live.lab.harness import jack_server

    with jack_server("ddtest") as env:
        assert env is not None, "the jack marker's check lets no test in without jackd"
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield env
