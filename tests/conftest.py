"""Shared fixtures: a seeded rng, an isolated sample cache, a small synthetic library, the default kit,
and a daemon factory; and the markers of tests that need programs or material from outside (``jack``,
``liblo``, ``node``, ``sonic_pi``, ``simutrans``, ``mma``): without them such a test is skipped, and under CI (``CI`` set) it
fails instead."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from dd_live.sound.samples import SampleLibrary, assemble_library

SONIC_PI_SAMPLES = Path("/usr/share/sonic-pi/samples")   # a real third-party kit (never copied into the repo)
SIMUTRANS_SONGS = Path("/usr/share/games/simutrans/music")  # 53 real MIDI songs (never copied into the repo)

# marker -> (the programs its tests run or the folders they read, the Debian package that has them; .ci/run
# installs it)
EXTERNAL = {
    "jack": (("jackd", "jack_lsp", "jack_connect"), "jackd2"),
    "liblo": (("oscsend", "oscdump"), "liblo-tools"),
    "node": (("node",), "nodejs"),
    "sonic_pi": ((str(SONIC_PI_SAMPLES),), "sonic-pi-samples"),
    "simutrans": ((str(SIMUTRANS_SONGS),), "simutrans-data"),
    "mma": (("mma", "/usr/share/mma/lib/stdlib"), "mma"),
    "browser": (("chromium",), "chromium"),
}


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, (programs, package) in EXTERNAL.items():
        if item.get_closest_marker(marker) is None:
            continue
        missing = [p for p in programs if shutil.which(p) is None and not Path(p).is_dir()]
        if missing:
            why = f"{', '.join(missing)} not installed (Debian: apt install {package})"
            if os.environ.get("CI"):
                pytest.fail(f"{why}; .ci/run installs it", pytrace=False)
            pytest.skip(why)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch) -> None:
    """The sample cache and the sessions folder (named sessions, the web page's token) of each test's own."""
    monkeypatch.setenv("DD_LIVE_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("DD_LIVE_SESSIONS", str(tmp_path_factory.mktemp("sessions")))


def _make_library(lengths: list[int], categories: list[str] | None = None, seed: int = 7) -> SampleLibrary:
    """A library of decaying noise bursts of the given lengths (samples)."""
    g = np.random.default_rng(seed)
    categories = categories or ["kick", "snare", "hat_closed", "perc", "tom", "crash", "zap", "bell"][: len(lengths)]
    items = []
    for i, (n, cat) in enumerate(zip(lengths, categories)):
        y = (g.uniform(-0.5, 0.5, n) * np.exp(-np.arange(n) / max(n / 4, 1))).astype(np.float32)
        items.append((f"test/s{i}.wav", Path(f"/nonexistent/s{i}.wav"), y, cat))
    return assemble_library(items, [])


@pytest.fixture
def make_library():
    """``make_library(lengths, categories=None, seed=7)``: a library of decaying noise bursts."""
    return _make_library


@pytest.fixture
def small_lib() -> SampleLibrary:
    return _make_library([3000, 9000, 800, 20000, 5000, 120000])


@pytest.fixture(scope="session")
def kit() -> SampleLibrary:
    """The default kit (read-only: tests must not change it)."""
    from dd_live.sound.samples import load_library

    return load_library(None)


@pytest.fixture
def unnamed_kit(kit, tmp_path):
    """``unnamed_kit({category: count})`` -> (library, {file stem: category}): that many of the default kit's
    sounds of each category copied as x00.wav, x01.wav ... into a folder of their own, so no name says what
    they are."""
    from dd_live.sound.samples import load_library

    def make(counts: dict[str, int]) -> tuple[SampleLibrary, dict[str, str]]:
        folder, picks = tmp_path / "unnamed", {}
        folder.mkdir(exist_ok=True)
        for cat, n in counts.items():
            for i in kit.in_category(cat)[:n]:
                name = folder / f"x{len(picks):02d}.wav"
                shutil.copy(kit.samples[int(i)].path, name)
                picks[name.stem] = cat
        lib = load_library([folder])
        assert set(lib.categories) == {"other"}
        return lib, picks

    return make


@pytest.fixture(scope="session")
def research_kit() -> SampleLibrary:
    """The research kit: the default kit and its deliberately unpleasant sounds (read-only)."""
    from dd_live.sound.samples import load_library

    return load_library(["research"])


@pytest.fixture(scope="session")
def sonic_pi_kit() -> SampleLibrary:
    """Debian's sonic-pi-samples, read in place (tests using it are marked ``sonic_pi``)."""
    from dd_live.sound.samples import load_library

    return load_library([SONIC_PI_SAMPLES])


@pytest.fixture
def daemon(tmp_path, kit):
    """``daemon(folder=None, **kw) -> (Daemon, Client)``: a started daemon (see
    :func:`dd_live.testing.harness.start_daemon`) on a session of its own; every one still running is
    stopped when the test ends (a test may stop one itself with ``harness.stop_daemon``)."""
    from dd_live.testing.harness import start_daemon, stop_daemon

    started = []

    def start(folder: Path | None = None, library=None, **kw):
        d, c = start_daemon(folder or tmp_path / f"session{len(started)}", library or kit, **kw)
        started.append((d, c))
        return d, c

    yield start
    for d, c in started:
        if not d.stopped.is_set():
            stop_daemon(d, c)


@pytest.fixture
def jack(monkeypatch):
    """A JACK dummy server of this test's own, selected for rtmidi (DD_LIVE_MIDI_API=jack) in this process."""
    from dd_live.testing.harness import jack_server

    with jack_server("ddtest") as env:
        assert env is not None, "the jack marker's check lets no test in without jackd"
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield env
