"""One root exception for dd_live, and the few kinds callers need to tell apart."""

from __future__ import annotations


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
