"""dd_live: a DeepDrummer-style drum loop generator that learns a performer's taste.

Importing this package opens no ports, writes no files and needs neither torch,
rtmidi nor PortAudio: the hardware and learning modules are imported lazily.
"""

from __future__ import annotations

from .errors import (
    BackendError,
    DDLiveError,
    ExportError,
    InputError,
    PatternError,
    SampleError,
)

__version__ = "0.1.0"

SAMPLE_RATE = 44100
"""Every buffer inside dd_live is mono float32 at this rate (Hz)."""

TEMPO_RANGE = (20.0, 300.0)
"""Tempos dd_live renders, plays and accepts from a performer (bpm, inclusive)."""

MAX_TRACKS = 16
"""The most tracks (sounds) a loop has."""

THREAD_RANGE = (1, 256)
"""The torch threads a command may be given (``--threads``, config key ``threads``; inclusive)."""

__all__ = [
    "MAX_TRACKS",
    "SAMPLE_RATE",
    "TEMPO_RANGE",
    "THREAD_RANGE",
    "BackendError",
    "DDLiveError",
    "ExportError",
    "InputError",
    "PatternError",
    "SampleError",
    "__version__",
]
