"""What the tests and ``dd-live bench live`` start: a daemon in-process with an OSC client, ``dd-live serve``
as a subprocess, and a JACK server with the dummy driver for MIDI out without hardware. One way to start
each, so a test and a benchmark measure the same daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .. import SAMPLE_RATE
from .oscclient import Client


def start_daemon(folder: Path, library, *, lock: bool = False, hello: bool = True, **kw: Any):
    """A :class:`dd_live.live.daemon.Daemon` on session ``folder`` (made if new) on a free OSC port, started,
    and a :class:`Client` that said /dd/hello (unless ``hello`` is False). ``kw`` go to the Daemon (defaults:
    reply port 1, i.e. replies only to clients, two torch threads, seed 3). Stop both with :func:`stop_daemon`."""
    from ..live.daemon import Daemon
    from ..session.session import Session

    kw = {"osc_port": 0, "reply_port": 1, "threads": 2, "seed": 3, **kw}
    daemon = Daemon(Session(folder, lock=lock), library, **kw)
    daemon.start()
    client = Client(daemon.port)
    if hello:
        client.send("/dd/hello")
    return daemon, client


def stop_daemon(daemon, client: Client | None = None) -> None:
    """Stop and join the daemon's workers, close its session and the client."""
    daemon.stop()
    daemon.join()
    daemon.session.close()
    if client is not None:
        client.close()


def serve(session: Path, osc_port: int, reply_port: int, *, midi_out: str = "none", threads: int | None = 2,
          extra: Sequence[str] = (), env: dict[str, str] | None = None, stderr: IO | int = subprocess.PIPE,
          stdout: IO | int | None = None) -> subprocess.Popen:
    """``dd-live serve`` on ``session`` as a subprocess (no audio, no web page unless ``extra`` asks for one with
    --web; unbuffered, text stderr by default)."""
    cmd = [sys.executable, "-m", "dd_live.cli", "serve", "--session", str(session), "--osc-port", str(osc_port),
           "--reply-port", str(reply_port), "--midi-out", midi_out, "--no-audio",
           *([] if "--web" in extra else ["--no-web"])]
    if threads:
        cmd += ["--threads", str(threads)]
    started = time.perf_counter()
    proc = subprocess.Popen([*cmd, *extra], env={**(env or os.environ), "PYTHONUNBUFFERED": "1"},
                            stderr=stderr, stdout=stdout, text=True)
    proc.started = started            # time.perf_counter() when it was started (for the first loop's time)
    return proc


def wait_answering(client: Client, proc: subprocess.Popen, timeout: float = 120.0) -> float:
    """Say /dd/hello every 0.5 s until the ``dd-live serve`` subprocess answers with /dd/status, and return the
    answer's arrival (``time.perf_counter()``); RuntimeError if it exits or stays silent for ``timeout`` seconds."""
    t0 = time.monotonic()
    while True:
        try:
            client.send("/dd/hello")
            return client.wait_timed("/dd/status", 0.5)[0]
        except TimeoutError:
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                raise RuntimeError("dd-live serve did not start; see its log") from None


def wait_serving(proc: subprocess.Popen) -> str:
    """Read the serve subprocess's stderr (a pipe) until it says it is serving, and return what it read;
    RuntimeError if it exits."""
    read = []
    for line in proc.stderr:
        read.append(line)
        if "serving session" in line:
            os.set_blocking(proc.stderr.fileno(), False)
            return "".join(read)
    raise RuntimeError(f"dd-live serve did not start (exit {proc.wait(10)})")


JACK_PERIOD = 64           # frames a cycle (1.45 ms at 44.1 kHz)
JACK_PRIORITY = 70         # the server's real-time priority (SCHED_FIFO), where allowed


def realtime_allowed() -> bool:
    """Whether this process may use SCHED_FIFO (root, or CAP_SYS_NICE / an rtprio limit): ``chrt -f 1 true``."""
    chrt = shutil.which("chrt")
    return chrt is not None and subprocess.run([chrt, "-f", "1", "true"], capture_output=True).returncode == 0


@contextmanager
def jack_server(prefix: str = "dd", *, period: int = JACK_PERIOD) -> Iterator[dict[str, str] | None]:
    """A JACK server with the dummy driver (the sample rate, ``period``-frame periods) under a name of its own,
    real-time where the machine allows it, as a musician runs JACK: its clients' process threads (ours, the
    test's host and reader) are then not held up by a busy machine, which makes a non-real-time server miss
    cycles and deliver even messages queued seconds ahead late. Yields the environment that selects it
    (JACK_DEFAULT_SERVER, DD_LIVE_MIDI_API=jack), or None if jackd is not installed. RuntimeError if it does
    not come up within 10 s."""
    jackd = shutil.which("jackd")
    if jackd is None:
        yield None
        return
    env = {"JACK_DEFAULT_SERVER": f"{prefix}{os.getpid()}", "JACK_NO_AUDIO_RESERVATION": "1",
           "DD_LIVE_MIDI_API": "jack"}
    full = {**os.environ, **env}
    rt = ["-R", "-P", str(JACK_PRIORITY)] if realtime_allowed() else ["--no-realtime"]
    proc = subprocess.Popen([jackd, "-n", env["JACK_DEFAULT_SERVER"], *rt, "-d", "dummy", "-r", str(SAMPLE_RATE),
                             "-p", str(period)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full)
    try:
        for _ in range(100):
            if subprocess.run(["jack_lsp"], capture_output=True, env=full).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the JACK dummy server did not start within 10 s")
        yield env
    finally:
        end_process(proc, 10)


def _wait_quiet(log_path: Path, proc: subprocess.Popen, before: int, *, quiet_s: float = 2.0,
                most_s: float = 10.0) -> None:
    """Wait until the daemon's log past ``before`` bytes holds :data:`STACKS_END` (its stacks all written), or has
    grown and then not grown for ``quiet_s`` seconds (a main thread too stuck to write the end line), the daemon
    has ended, or ``most_s`` seconds have passed: a busy machine may pause any writer longer than a fixed wait."""
    from ..errors import STACKS_END

    size, since, start = before, time.monotonic(), time.monotonic()
    while time.monotonic() - start < most_s and proc.poll() is None:
        now = log_path.stat().st_size
        if now != size and STACKS_END.encode() in log_path.read_bytes()[before:]:
            return
        if now != size:
            size, since = now, time.monotonic()
        elif size > before and time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.05)


@contextmanager
def bench_daemon(bench: str, *, midi_out: str = "none", threads: int | None = 2, extra: Sequence[str] = (),
                 env: dict[str, str] | None = None, prepare: Callable[[Path], None] | None = None,
                 ) -> Iterator[tuple[subprocess.Popen, Client]]:
    """``dd-live serve`` on a fresh session in a temporary folder (``prepare(folder)``: fills it first), for
    ``dd-live bench BENCH``, and a client on its reply port; both ended on exit, when the daemon's whole log
    becomes ``proc.log_text``. A TimeoutError or RuntimeError inside becomes one DDLiveError naming the bench, with
    the end of the daemon's log (and, on POSIX, every thread's stack it printed on SIGUSR1)."""
    import signal
    import tempfile

    from ..errors import DDLiveError
    from .oscclient import free_udp_port

    osc_port = free_udp_port()
    client = Client(osc_port)
    tmp = tempfile.TemporaryDirectory(prefix="dd_live_bench_")
    log_path = Path(tmp.name) / "serve.log"
    log = open(log_path, "w")
    if prepare is not None:
        prepare(Path(tmp.name) / "bench")
    proc = serve(Path(tmp.name) / "bench", osc_port, client.port, midi_out=midi_out, threads=threads, extra=extra,
                 env=env, stderr=log, stdout=subprocess.DEVNULL)
    try:
        yield proc, client
    except (TimeoutError, RuntimeError) as err:
        if proc.poll() is None and hasattr(signal, "SIGUSR1"):
            log.flush()
            before = log_path.stat().st_size
            proc.send_signal(signal.SIGUSR1)  # the daemon prints its threads' stacks
            _wait_quiet(log_path, proc, before)
        log.flush()
        raise DDLiveError(f"bench {bench}: {err}; the daemon's log ends:\n{log_path.read_text()[-8000:]}") from None
    finally:
        end_process(proc, 15)
        log.close()
        proc.log_text = log_path.read_text()   # what the daemon logged, to its last line (read after the block)
        client.close()
        tmp.cleanup()


def end_process(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL if ``proc`` has not ended within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def jack_connect(source: str, dest: str, env: dict[str, str] | None = None, *, tries: int = 50) -> bool:
    """Connect two JACK ports (retrying while they appear); whether it worked."""
    full = {**os.environ, **(env or {})}
    for _ in range(tries):
        if subprocess.run(["jack_connect", source, dest], capture_output=True, env=full).returncode == 0:
            return True
        time.sleep(0.1)
    return False


ATTEMPTS = 4               # measure_again: runs at most
PAUSE_S = 3.0              # measure_again: rest between runs, so a burst of load on a shared machine can pass


def measure_again(run: Callable[[int], tuple[int, Callable[[int], None]]], attempts: int = ATTEMPTS) -> None:
    """For timing tests on a JACK server: ``run(attempt)`` -> (late, check) measures, then ``check(allow)`` judges
    (AssertionError). ``late``: messages JACK wrote after their frame, a witness's queued ahead (its clients
    missed cycles: the machine did not run them in time; see :func:`jack_witness`) or the player's own
    (``written_late``: those too, or handed over after their time by a thread the machine held up).

    Every run is judged strictly first (``check(0)``). One that fails while the machine lost time is measured
    again, ``attempts`` times at most, each said on stdout; when every run lost time, the last is judged with
    ``check(late)``: it may set aside up to ``late`` messages that JACK wrote after their frame, which it tells
    by :func:`at_cycle_start`; every other message must still be on time."""
    for attempt in range(attempts):
        late, check = run(attempt)
        try:
            check(0)
            return
        except AssertionError:
            if late == 0:
                raise
            if attempt == attempts - 1:
                print(f"attempt {attempt + 1}: JACK wrote {late} messages after their frame: judged without those")
                check(late)
                return
            print(f"attempt {attempt + 1}: JACK wrote {late} messages after their frame (a busy machine): again")
            time.sleep(PAUSE_S)


def at_cycle_start(times, rate: float):
    """For each time (s, a JACK reader's frame / ``rate``), whether it is the first frame of a JACK cycle: where
    JACK writes a message whose frame had passed (its client missed the cycle, or got it late). A message on
    time lands there once in JACK_PERIOD; a late one always: so a message late *and* at a cycle start was
    written late, and one late elsewhere was scheduled late."""
    import numpy as np

    frames = np.round(np.asarray(times, dtype=float) * rate).astype(np.int64)
    return frames % JACK_PERIOD == 0


def jack_witness(seconds: float):
    """A JACK MIDI port (connected nowhere) with a message queued every 5 ms for ``seconds`` from 0.1 s on (so it
    watches a run that starts right after it; queueing 4,000 takes some 25 ms): its ``late`` counts the ones JACK
    wrote after their frame. Close it when done."""
    from ..ports.midi_jack import JackMidiPort

    port = JackMidiPort("witness", "out")
    t = port.clock() + 0.1
    for k in range(int(seconds / 0.005)):
        port.send_at([0xFE], t + k * 0.005)
    return port
