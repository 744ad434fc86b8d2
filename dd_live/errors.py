"""One root exception for dd_live, and the few kinds callers need to tell apart."""

from __future__ import annotations

import threading

#: The line a serving daemon writes to stderr once every thread's stack is written (on SIGUSR1).
STACKS_END = "-- every thread's stack written --"


class DDLiveError(Exception):
    """Root of every error dd_live raises on purpose."""


class InputError(DDLiveError, ValueError):
    """Bad input from the user: a file, a name, an option. The CLI exits with 2."""


class SampleError(InputError):
    """A sample file that cannot be used (empty, corrupt, silent, ...)."""


class PatternError(InputError):
    """A pattern that does not validate (bad shape, velocity out of range, ...)."""


class ExportError(InputError):
    """An export would overwrite existing files without --force, or has nowhere to go."""


class BackendError(DDLiveError):
    """An optional backend (torch, rtmidi, PortAudio) is missing or failed."""


def one_line(err: BaseException) -> str:
    """An error as one line: an OSError's own words (no errno, no repr of its path), else its message's first
    line, or its type's name."""
    text = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    return (text.strip().splitlines() or [type(err).__name__])[0]


#: what C libraries print on stderr when a MIDI or audio system is not running here, by line start: said in one
#: log line per system instead (libasound's "ALSA lib ...", libjack's client messages)
C_NOISE = (("ALSA lib ", "ALSA"), ("Cannot connect to server", "JACK"), ("jack server is not running", "JACK"),
           ("JackShm", "JACK"), ("Cannot open ", "JACK"), ("Jack: ", "JACK"))
_C_STDERR = threading.Lock()


class c_stderr:
    """``with c_stderr("MIDI out"):`` around calls into C libraries (libasound and libjack through rtmidi or
    PortAudio): what they print on stderr about a system that is not running becomes one DEBUG line per system;
    anything else written meanwhile (another thread's log line) goes on to stderr. One block at a time."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.systems: set[str] = set()

    def __enter__(self) -> c_stderr:
        import os
        import sys
        import tempfile

        _C_STDERR.acquire()
        try:
            sys.stderr.flush()
            self._tmp = tempfile.TemporaryFile()
            self._saved = os.dup(2)
            os.dup2(self._tmp.fileno(), 2)
        except (OSError, ValueError, AttributeError):   # no fd 2 (a GUI), no temp dir: nothing to hide
            self._saved = None
        return self

    def __exit__(self, *exc) -> None:
        import logging
        import os
        import sys

        try:
            if self._saved is None:
                return
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(self._saved, 2)
            os.close(self._saved)
            self._tmp.seek(0)
            text = self._tmp.read().decode("utf-8", "replace")
            self._tmp.close()
            kept = []
            for line in text.splitlines(keepends=True):
                system = next((name for start, name in C_NOISE if line.startswith(start)), None)
                if system is None:
                    kept.append(line)
                else:
                    self.systems.add(system)
            if kept:
                os.write(2, "".join(kept).encode("utf-8", "replace"))
            for system in sorted(self.systems):
                logging.getLogger("dd_live").debug("%s: %s said it is not running here", self.what, system)
        finally:
            _C_STDERR.release()
