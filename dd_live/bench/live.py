"""``dd-live bench live``: the daemon as a performer meets it, measured from outside.

Starts ``dd-live serve`` as a subprocess on a fresh session (and, where jackd is
installed, a JACK dummy server with a 64-frame period, or ``jack_period``'s, for MIDI out), then (after
``first_candidate_s``: the process started -> its first loop announced; ``commands_s``: -> its first command
answered, once torch and the critic are in):

1. ``clicks`` ratings spaced 0.4-1.2 s apart while the critic trains:
   click -> next /dd/candidate latency (ms);
2. ``trained_clicks`` ratings 0.5-1.5 s apart, each followed, once /dd/trained
   says a critic trained on it is out, by /dd/next until a candidate from such
   a critic arrives: click -> that candidate (s), and click -> /dd/trained (s);
3. MIDI timing: note-ons received by a JACK MIDI input during 1-2, at the frames
   they sounded (:class:`dd_live.ports.midi_jack.JackMidiReader`), compared
   with the 16th-note grid at 120 bpm (constant latency removed);
4. once training has come to rest (no /dd/trained for 5 s; how long that took
   after the last click is ``training_settles_s``), 30 s with nobody clicking
   and MIDI still playing: CPU in % of one core; and the daemon's peak RSS (MB), with how much of it is the
   JACK server's shared memory that libjack maps and locks into every client (``rss_jack_shared_mb``);
5. with JACK, a second daemon following a host's MIDI clock (:func:`external_clock`): its notes against the
   host's sixteenths, beside the internal clock's figure of 3;
6. with JACK, audio out plays on the same server throughout 1-4 (PortAudio): the blocks it played, how many
   PortAudio flagged late (dropouts) and the longest wait between two callbacks, from the daemon's log.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..testing.harness import JACK_PERIOD, bench_daemon, jack_connect, jack_server, wait_answering


STOPPED_S = 10.0   # external_clock: how long the daemon's CPU is measured with the host stopped (s)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of each of the process's threads, added up by thread name (dd_live's workers name
    theirs; JACK's, PortAudio's and the main thread carry the process's)."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a thread that just ended
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def thread_share(before: dict[str, float], pid: int, wall: float) -> dict[str, float]:
    """% of one core each thread name of ``pid`` took over the ``wall`` s since ``before`` (:func:`thread_cpu`),
    busiest first, those that took none left out."""
    shares = {k: round((v - before.get(k, 0.0)) / wall * 100, 2) for k, v in thread_cpu(pid).items()}
    return {k: v for k, v in sorted(shares.items(), key=lambda kv: -kv[1]) if v > 0}


def status_mb(pid: int, field: str) -> float:
    """A memory field of /proc/PID/status ("VmHWM": peak RSS, "VmRSS": RSS now) in MB; nan if it has none."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _jack_shared_mb(pid: int) -> float:
    """Resident MB of the JACK server's shared memory mapped into ``pid`` (/dev/shm/jack-*): the server's port
    buffers, which libjack maps and locks into every client process (about 100 MB with jackd2's defaults, the
    same pages in each), counted in its RSS but set by the server, not held by the client."""
    total, jack = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and ":" not in head[0]:         # a mapping's first line: range perms ... path
            jack = len(head) > 5 and head[5].startswith("/dev/shm/jack")
        elif jack and line.startswith("Rss:"):
            total += int(head[1])
    return total / 1024


def _midi_reader(env: dict):
    """A frame-stamping JACK MIDI reader on dd_live's port, drained by a thread: (reader, events, stop), or None."""
    import threading

    from ..ports.midi_jack import JackMidiReader, available

    os.environ.update({k: env[k] for k in ("JACK_DEFAULT_SERVER", "JACK_NO_AUDIO_RESERVATION")})
    if not available():
        return None
    reader = JackMidiReader("benchreader")
    if not jack_connect("dd_live:dd_live", "benchreader:in", env):
        reader.close()
        return None
    events: list = []   # (frame, bytes)
    stop = threading.Event()

    def drain() -> None:
        while not stop.wait(0.25):
            events.extend(reader.read())

    threading.Thread(target=drain, name="bench-midi-reader", daemon=True).start()
    return reader, events, stop


def _grid_errors_ms(times: list[float], step: float) -> np.ndarray:
    t = np.asarray(times) - times[0]
    err = t - np.round(t / step) * step
    return np.abs(err - np.median(err)) * 1000


def bench_live(*, clicks: int = 30, trained_clicks: int = 10, idle_s: float = 30.0, threads: int | None = None,
               seed: int = 0, learn: str = "auto", feel: bool = False, jack_period: int = JACK_PERIOD) -> dict:
    """``feel``: loops with a feel of their own (/dd/set/feel 1) and a swing of 0.2 (/dd/set/swing). Their notes
    are off the 16th grid on purpose, so MIDI timing is then not measured here (tests/ports/test_midi_jack.py
    times felt loops against grid + swing + offsets + feel). ``jack_period``: the JACK server's frames a cycle."""
    with jack_server("ddbench", period=jack_period) as jack:
        result = _bench(jack, clicks=clicks, trained_clicks=trained_clicks, idle_s=idle_s, threads=threads,
                        seed=seed, learn=learn, feel=feel)
        if jack:
            result["jack_period_frames"] = jack_period
        if jack and not feel:
            result.update(external_clock(jack, threads=threads, learn=learn))
        return result


def external_clock(jack: dict, *, threads: int | None, learn: str) -> dict:
    """MIDI out following a host's MIDI clock (``serve --sync midi``): a JACK clock host (:mod:`.clockhost`) plays
    Start, 16 beats at 120 bpm and 8 at 100, then Stop, every message at its frame; dd_live's note-ons against the
    host's sixteenths (the first beat after Start and after the tempo change aside), the tempo it reports, and its
    CPU over STOPPED_S once the host has stopped (% of one core; no audio out here)."""
    from ..ports.midi_jack import JackMidiReader, available
    from ..testing.clockhost import ClockHost, grid_errors

    env = {**os.environ, **jack}
    os.environ.update({k: jack[k] for k in ("JACK_DEFAULT_SERVER", "JACK_NO_AUDIO_RESERVATION")})
    if not available():
        return {"ext_clock_note": "the frame-stamped JACK MIDI writer is not available here"}
    host = ClockHost("benchhost")
    reader = None
    try:
        with bench_daemon("live", midi_out="virtual", threads=threads, env=env,
                          extra=["--learn", learn, "--sync", "midi", "--clock-in", host.port.name]) as (proc, client):
            wait_answering(client, proc)
            client.wait("/dd/candidate", 60)
            reader = JackMidiReader("benchclockreader")
            if not jack_connect("dd_live:dd_live", "benchclockreader:in", env):
                return {"ext_clock_note": "could not connect a reader to dd_live's MIDI out"}
            start = host.port.clock() + 0.5
            host.start(start)
            change = host.play(start + 0.01, 120.0, 16)
            end = host.play(change, 100.0, 8)
            host.stop(end)
            while host.port.clock() < change - 0.3:
                time.sleep(0.01)
            client.drain(0.05)
            client.send("/dd/status")
            bpm = client.wait("/dd/sync", 5)[1]
            notes = []
            while host.port.clock() < end + 0.3:
                notes += [frame / reader.rate for frame, m in reader.read() if m[0] & 0xF0 == 0x90 and m[2] > 0]
                time.sleep(0.01)
            c0, t0, w0 = _cpu_seconds(proc.pid), thread_cpu(proc.pid), time.monotonic()   # the host stopped
            time.sleep(STOPPED_S)
            wall = time.monotonic() - w0
            stopped_cpu = (_cpu_seconds(proc.pid) - c0) / wall * 100
            by_thread = thread_share(t0, proc.pid, wall)
    finally:
        if reader is not None:
            reader.close()
        host.close()
    errs = grid_errors(host, notes, skip=[(start, start + 0.5), (change, change + 0.6), (end - 0.0005, 1e18)]) * 1000
    return {"ext_clock_notes": len(errs), "ext_clock_error_ms_p99": round(float(np.percentile(errs, 99)), 3),
            "ext_clock_error_ms_max": round(float(errs.max()), 3), "ext_clock_bpm_reported": round(float(bpm), 4),
            "ext_clock_host_bpm": 120.0, "ext_clock_stopped_cpu_percent_of_one_core": round(stopped_cpu, 2),
            "ext_clock_stopped_cpu_percent_by_thread": by_thread}


def _bench(jack: dict | None, *, clicks: int, trained_clicks: int, idle_s: float, threads: int | None, seed: int,
           learn: str, feel: bool) -> dict:
    rng = np.random.default_rng(seed)
    env = {**os.environ, **(jack or {})}
    result: dict = {"threads": threads or "default", "learn": learn, "clicks": clicks, "trained_clicks": trained_clicks,
                    "feel": feel}
    # with JACK, audio out too (as dd-live serve plays by default), PortAudio on the same server
    with bench_daemon("live", midi_out="virtual" if jack else "none", threads=threads,
                      extra=["--learn", learn, *(["--audio"] if jack else [])], env=env) as (proc, client):
        result = _measure(client, proc, jack, env, clicks, trained_clicks, idle_s, rng, result)
    result.update(audio_report(proc.log_text))
    return result


def audio_report(log_text: str) -> dict:
    """The audio output's blocks, late blocks (dropouts) and longest wait between callbacks (ms), as the daemon
    logged them when it stopped (:func:`dd_live.ports.audio_out.read_report`), or a note saying it did not play."""
    from ..ports.audio_out import read_report

    return read_report(log_text) or {"audio_note": "audio out did not play (no JACK, or PortAudio could not open it)"}


def _measure(client, proc, jack, env, clicks, trained_clicks, idle_s, rng, result) -> dict:
    midi = None
    try:
        t_answer = wait_answering(client, proc)
        t_first, cand = client.wait_timed("/dd/candidate", 60)
        # start -> the first loop's arrival (announced before torch is in, so before the hello is answered)
        result["first_candidate_s"] = round(t_first - proc.started, 2)
        result["commands_s"] = round(t_answer - proc.started, 2)     # start -> a command answered: the brain in
        cid = cand[0]
        if result["feel"]:
            client.send("/dd/set/feel", 1)
            client.send("/dd/set/swing", 0.2)
        if jack:
            midi = _midi_reader(env)
            if midi is not None:
                midi, received, reading = midi
            client.send("/dd/play")
        time.sleep(3.0)  # let the queue fill as it would between a performer's clicks

        # 1. click -> next candidate, training running
        latencies = []
        ratings = 0
        for k in range(clicks):
            like = bool(rng.random() < 0.4)
            client.drop("/dd/candidate")
            t_click = client.send("/dd/rate", cid, int(like))
            ratings += 1
            t_got, cand = client.wait_timed("/dd/candidate", 30, where=lambda a, c=cid: a[0] != c)
            latencies.append((t_got - t_click) * 1000)
            cid = cand[0]
            time.sleep(float(rng.uniform(0.4, 1.2)))
        # 2. click -> first candidate from a critic trained on that click
        trained_lat, trained_msg = [], []
        for k in range(trained_clicks):
            client.drop("/dd/candidate")
            t_click = client.send("/dd/rate", cid, k % 2)
            ratings += 1
            n = ratings
            cand = client.wait("/dd/candidate", 30, where=lambda a, c=cid: a[0] != c)
            cid = cand[0]
            # Once /dd/trained says a critic trained on this click is out, ask for the next loop (every
            # 50 ms) until one of that critic's comes. /dd/trained is waited for once: waiting for a
            # second one, as this bench did before, added a whole training round to the figure.
            trained = False
            while cand[6] < n:
                if not trained:
                    t_trained, _ = client.wait_timed("/dd/trained", 120, where=lambda a, n=n: a[1] >= n)
                    trained_msg.append(t_trained - t_click)
                    trained = True
                client.drop("/dd/candidate")
                client.send("/dd/next")
                t_got, cand = client.wait_timed("/dd/candidate", 30, where=lambda a, c=cid: a[0] != c)
                cid = cand[0]
                if cand[6] < n:
                    time.sleep(0.05)
            trained_lat.append(t_got - t_click)
            time.sleep(float(rng.uniform(0.5, 1.5)))  # listening before the next click
        # 4. idle: once the trainer has paid every rating's budget and rests
        t_last = time.monotonic()
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 5.0:
            try:
                client.wait("/dd/trained", 5.0 - (time.monotonic() - quiet_since))
                quiet_since = time.monotonic()
            except TimeoutError:
                break
            if time.monotonic() - t_last > 300:
                raise TimeoutError("the trainer did not come to rest within 300 s")
        result["training_settles_s"] = round(quiet_since - t_last, 1)
        c0, t0, w0 = _cpu_seconds(proc.pid), thread_cpu(proc.pid), time.monotonic()
        time.sleep(idle_s)
        wall = time.monotonic() - w0
        cpu = (_cpu_seconds(proc.pid) - c0) / wall * 100
        by_thread = thread_share(t0, proc.pid, wall)
        result.update({
            "click_to_candidate_ms_p50": round(float(np.percentile(latencies, 50)), 2),
            "click_to_candidate_ms_p95": round(float(np.percentile(latencies, 95)), 2),
            "click_to_candidate_ms_max": round(float(np.max(latencies)), 2),
            "click_to_trained_candidate_s_p50": round(float(np.percentile(trained_lat, 50)), 3),
            "click_to_trained_candidate_s_p95": round(float(np.percentile(trained_lat, 95)), 3),
            "click_to_trained_critic_s_p50": round(float(np.percentile(trained_msg, 50)), 3) if trained_msg else None,
            "click_to_trained_critic_s_p95": round(float(np.percentile(trained_msg, 95)), 3) if trained_msg else None,
            "click_to_trained_candidate_s_max": round(float(np.max(trained_lat)), 3),
            "idle_cpu_percent_of_one_core": round(cpu, 2),
            "idle_cpu_percent_by_thread": by_thread,
            "idle_with_midi_playing": bool(midi),
            "rss_peak_mb": round(status_mb(proc.pid, "VmHWM"), 1),
            "rss_jack_shared_mb": round(_jack_shared_mb(proc.pid), 1),
        })
        # 3. MIDI timing
        if midi is not None and result["feel"]:
            result.update({"midi_error_ms_p99": None, "midi_note": "loops with a feel are off the 16th grid on "
                           "purpose: tests/ports/test_midi_jack.py times their notes against grid + swing + "
                           "offsets + feel"})
        elif midi is not None:
            reading.set()
            received.extend(midi.read())
            times = [frame / midi.rate for frame, msg in received if msg[0] & 0xF0 == 0x90 and msg[2] > 0]
            errs = _grid_errors_ms(times, 60.0 / 120 / 4) if len(times) > 10 else np.array([np.nan])
            result.update({"midi_notes": len(times), "midi_error_ms_p99": round(float(np.percentile(errs, 99)), 3),
                           "midi_error_ms_max": round(float(np.max(errs)), 3),
                           "midi_reader_lost": midi.lost})
        else:
            result.update({"midi_error_ms_p99": None,
                           "midi_note": "jackd not installed (apt install jackd2): MIDI timing not measured"})
    finally:
        if midi is not None:
            midi.close()
    result["cpus"] = os.cpu_count()
    return result
