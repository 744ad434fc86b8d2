"""``/dd/song path``: a drum track for a whole MIDI song, written off the OSC thread (issue 16).

The OSC handler checks the path (an absolute path to a readable .mid file of at most MAX_SONG_BYTES) and hands
it to :class:`SongWorker` (thread ``dd-song``), which arranges one song at a time in the session's taste (the
critic the daemon serves with, its kit, swing and feel layer), waiting its turn for the cores behind the
generator and the trainer (the daemon's gate, low priority, one batch of critic work at a time). Files go only
into the session's own ``songs/<name>/`` folder, as exports go into ``exports/``; a song asked for again
replaces its folder in one step. Done: ``/dd/song/done song dir``; refused or failed: ``/dd/error``. A job has
MAX_SONG_JOB_S, and ends at the next bar when ``/dd/song/cancel`` asks or the daemon stops (songs are bounded in notes, bars and length by
:mod:`dd_live.song.read` before anything is arranged).
"""

from __future__ import annotations

import copy
import logging
import os
import queue
import threading
from pathlib import Path

from ..errors import DDLiveError
from ..loops.export import safe_name
from ..osc.osc import OSCError
from ..song.read import MAX_SONG_BYTES, SONG_SUFFIXES
from ..worker import QueueWorker

log = logging.getLogger("dd_live.daemon")

MAX_SONG_JOB_S = 300.0          # a song job still arranging after this long is ended (s)


def check_song_path(text: str) -> Path:
    """The song file ``text`` names, or OSCError("args") saying in one line why it cannot be read."""
    if not text or "\0" in text:
        raise OSCError("args", "song path must be a non-empty path without NUL characters")
    path = Path(text)
    if not path.is_absolute():
        raise OSCError("args", f"song path must be absolute (the daemon's folder is not yours): {text!r}")
    if path.suffix.lower() not in SONG_SUFFIXES:
        raise OSCError("args", f"not a MIDI song file name ({', '.join(SONG_SUFFIXES)}): {path.name!r}")
    try:
        real = path.resolve(strict=True)
        st = real.stat()
    except (OSError, RuntimeError) as err:
        raise OSCError("args", f"cannot read {text!r}: {getattr(err, 'strerror', None) or err}") from None
    if not real.is_file():
        raise OSCError("args", f"{text!r} is not a file")
    if st.st_size > MAX_SONG_BYTES:
        raise OSCError("args", f"{path.name} is {st.st_size} bytes; songs of at most {MAX_SONG_BYTES} are read")
    if not os.access(real, os.R_OK):
        raise OSCError("args", f"cannot read {text!r}: permission denied")
    return real


class Cancelled(DDLiveError):
    """A song job ended by /dd/song/cancel."""


class SongWorker(QueueWorker):
    """One song at a time; one more may wait, a third asked for meanwhile is refused."""

    name = "dd-song"

    def __init__(self, daemon) -> None:
        super().__init__(1)
        self.daemon = daemon
        self._lock = threading.Lock()
        self._submitted = 0             # jobs submitted so far: each job's number
        self._cancelled = 0             # jobs numbered below this are cancelled
        self._running: int | None = None   # the number of the job being arranged

    def submit(self, path: Path, sender, *, then=None) -> Path:
        """Queue ``path``; returns the folder it will be written to. OSCError("state") while one is busy.
        ``then(folder)`` runs on this thread once the song is written (a song asked to play)."""
        session = self.daemon.session
        try:
            out = session.confined(session.folder / "songs" / safe_name(path.stem, fallback="song"))
        except OSError as err:
            raise OSCError("args", err.strerror or str(err)) from None
        with self._lock:
            try:
                self._jobs.put_nowait((self._submitted, path, out, sender, then))
            except queue.Full:
                raise OSCError("state", "songs are being arranged; ask again when /dd/song/done arrives, or "
                                        "/dd/song/cancel") from None
            self._submitted += 1
        return out

    def cancel(self) -> bool:
        """Cancel the song being arranged and the one waiting (any thread); False if there was none. A job
        cancelled ends at its next check (a bar's work) with /dd/error state 'cancelled'; its folder stays."""
        with self._lock:
            busy = self._running is not None or not self._jobs.empty()
            self._cancelled = self._submitted
        return busy

    def _job(self, job) -> None:
        with self._lock:
            self._running = job[0]
        try:
            self._song(*job)
        finally:
            with self._lock:
                self._running = None

    def _song(self, number: int, path: Path, out: Path, sender, then=None) -> None:
        import time

        from ..song.make import make_song
        from ..song.score import timing_file
        from ..song.taste import taste_from

        d = self.daemon
        deadline = time.monotonic() + MAX_SONG_JOB_S

        def check() -> None:
            if self._stop.is_set():
                raise DDLiveError("the daemon is stopping")
            if number < self._cancelled:
                raise Cancelled("cancelled")
            if time.monotonic() > deadline:
                raise DDLiveError(f"still arranging after {MAX_SONG_JOB_S:.0f} s: ended")

        try:
            check()                                   # cancelled while it waited
            critic = copy.deepcopy(d.published_critic).eval()
            taste = taste_from(d.library, critic, d.settings, d.settings.feel_layer, seed=d.seed, threads=d.threads,
                               source=f"session {d.session.name}", gate=d.gate, prior=d.prior)
            summary = make_song(path, out, taste=taste, force=True, check=check, whole=True, timing=timing_file(out))
        except Cancelled:
            d.error("state", f"song {path.name}: cancelled; its folder is as it was", sender)
            return
        except DDLiveError as err:
            d.error("args", f"song {path.name}: {err}", sender)
            return
        except OSError as err:
            d.error("io", f"song {path.name}: {err.strerror or err}", sender)
            return
        except Exception as err:  # a bug must not end the thread: say so, keep serving
            log.exception("song %s failed", path.name)
            d.error("io", f"song {path.name} failed: {type(err).__name__}: {err}".splitlines()[0], sender)
            return
        log.info("song %s: %d bars, %d sections, written to %s", path.name, summary["bars"], summary["sections"], out)
        d.send("/dd/song/done", path.name, str(out.resolve()))
        if then is not None:
            try:
                then(out)
            except OSCError as err:
                d.error(err.code, str(err), sender)
