"""The daemon's settings: defaults, a TOML config file, then the command line.

The config file (``--config PATH``, else $DD_LIVE_CONFIG, else ``config.toml`` in
the user config dir) holds the same settings as ``dd-live serve``'s options and
an ``[aliases]`` table mapping OSC addresses to commands::

    osc_port = 7710
    bpm = 124
    midi_out = "virtual"
    audio = false
    samples = ["~/Samples/drums"]

    [aliases]
    "/1/push1" = "like"
    "/1/push2" = "dislike"
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomllib

from .. import THREAD_RANGE
from ..errors import InputError
from ..osc import protocol

DEFAULTS: dict[str, Any] = {
    "session": None,
    "osc_port": protocol.OSC_PORT,
    "reply_port": protocol.REPLY_PORT,
    "host": "127.0.0.1",
    "samples": [],
    "patterns": [],       # folders of drum MIDI files that shape the drum prior (dd_live.loops.prior)
    "bpm": None,          # None: the session's tempo (120 for a new session)
    "steps": None,        # the grid's steps per bar; None: the session's (16 for a new session)
    "beats": None,        # ... and beats per bar; None: the session's (4)
    "midi_out": "virtual",
    "midi_in": "virtual",  # onsets of a human playing along (takes): "virtual", "none" or a port name
    "audio": True,
    "threads": None,      # None: half the cores (at least 1)
    "init": "pretrained",  # a new session's critic: pretrained | random | a file from dd-live pretrain
    "learn": "auto",       # how a new session's critic learns: auto | head | budget
    "sync": "internal",    # the clock MIDI out follows: internal | midi (a host's MIDI clock) | link
    "clock_in": "virtual",  # with sync midi: the MIDI clock's port ("virtual": one of ours, "dd_live clock")
    "clock_out": False,    # with sync internal: MIDI out also sends MIDI clock, Start and Stop
    "latency": None,       # ms MIDI out plays later (earlier if negative); None: the session's (0 for a new one)
    "gm": None,            # MIDI notes by General MIDI family (true) or Drum Rack pads 36 + track (false); None: the
                           # session's (pads for a new one)
    "web": True,           # the browser front end: true (port 7712), false, or a TCP port (0: any free one)
}

#: the grids ``serve`` offers: steps per bar, beats per bar (the steps must divide into the beats)
STEPS, BEATS = (12, 16, 24), (3, 4, 6)

_PORT = protocol.arg("hello", "reply_port")
_TEMPO = protocol.arg("set_tempo", "bpm")
_LATENCY = protocol.arg("set_latency", "ms")
SYNCS = ("internal", "midi", "link")
_port = (lambda v: isinstance(v, int) and not isinstance(v, bool) and _PORT.accepts(v), _PORT.expect())


def _text(v: Any) -> bool:
    """A non-empty string an OS call can take (no NUL)."""
    return isinstance(v, str) and v != "" and "\0" not in v

_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "session": (lambda v: v is None or _text(v), "a session name or folder"),
    "osc_port": _port,
    "reply_port": _port,
    "host": (lambda v: _text(v), "a host name or address"),
    "samples": (lambda v: isinstance(v, list) and all(_text(x) for x in v), "a list of folders"),
    "patterns": (lambda v: isinstance(v, list) and all(_text(x) for x in v), "a list of folders"),
    "bpm": (lambda v: v is None or isinstance(v, (int, float)) and not isinstance(v, bool) and _TEMPO.accepts(v),
            f"a tempo {_TEMPO.expect()}"),
    "steps": (lambda v: v is None or v in STEPS and isinstance(v, int), " or ".join(map(str, STEPS)) + " steps"),
    "beats": (lambda v: v is None or v in BEATS and isinstance(v, int), " or ".join(map(str, BEATS)) + " beats"),
    "midi_out": (lambda v: _text(v), "'virtual', 'none' or a port name"),
    "midi_in": (lambda v: _text(v), "'virtual', 'none' or a port name"),
    "audio": (lambda v: isinstance(v, bool), "true or false"),
    "threads": (lambda v: v is None or isinstance(v, int) and not isinstance(v, bool)
                and THREAD_RANGE[0] <= v <= THREAD_RANGE[1],
                f"a thread count {THREAD_RANGE[0]}-{THREAD_RANGE[1]}"),
    "init": (lambda v: _text(v), "'pretrained', 'random' or a file from dd-live pretrain"),
    "learn": (lambda v: v in ("auto", "head", "budget"), "'auto', 'head' or 'budget'"),
    "sync": (lambda v: v in SYNCS, "'internal', 'midi' or 'link'"),
    "clock_in": (lambda v: _text(v), "'virtual' or a MIDI port name"),
    "clock_out": (lambda v: isinstance(v, bool), "true or false"),
    "web": (lambda v: isinstance(v, bool) or isinstance(v, int) and 0 <= v <= 65535,
            "true, false or a TCP port 0-65535"),
    "latency": (lambda v: v is None or isinstance(v, (int, float)) and not isinstance(v, bool) and _LATENCY.accepts(v),
                f"milliseconds {_LATENCY.expect()}"),
    "gm": (lambda v: v is None or isinstance(v, bool), "true or false"),
}


def web_port(value: bool | int) -> int | None:
    """The port the ``web`` setting asks for (None: no web page)."""
    if value is True:
        return protocol.WEB_PORT
    return None if value is False else int(value)


def default_path() -> Path:
    env = os.environ.get("DD_LIVE_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("dd_live")) / "config.toml"


def load(path: Path | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """(settings, aliases) from the config file; a missing default file gives the defaults.

    An explicitly named file that is missing, or any bad key or value, is an InputError.
    """
    from_env = path is None and bool(os.environ.get("DD_LIVE_CONFIG"))
    explicit = path is not None or from_env
    path = Path(path) if path is not None else default_path()
    settings = dict(DEFAULTS)
    if not path.is_file():
        if explicit:
            raise InputError(f"config file {path}{' (DD_LIVE_CONFIG)' if from_env else ''} not found")
        return settings, {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"config file {path}: {err}") from None
    aliases = data.pop("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        raise InputError(f"config file {path}: [aliases] must map OSC addresses to command names")
    for key, value in data.items():
        if key not in _CHECKS:
            raise InputError(f"config file {path}: unknown setting {key!r} (known: {', '.join(_CHECKS)})")
        ok, what = _CHECKS[key]
        if not ok(value):
            raise InputError(f"config file {path}: {key} must be {what}, got {value!r}")
        settings[key] = value
    from ..osc.osc import resolve_aliases

    try:  # checked here, so that the message names the file, by the dispatcher's own check
        resolve_aliases(aliases)
    except InputError as err:
        raise InputError(f"config file {path}: {err}") from None
    return settings, dict(aliases)


def merge(settings: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Command-line values (not None) over the file's, each checked like the file's."""
    out = dict(settings)
    for key, value in overrides.items():
        if value is None:
            continue
        ok, what = _CHECKS[key]
        if not ok(value):
            raise InputError(f"--{key.replace('_', '-')} must be {what}, got {value!r}")
        out[key] = value
    return out


def check_init(init: str) -> None:
    """Fail early (before a session folder exists) on an ``init`` that cannot start a critic."""
    if init in ("pretrained", "random"):
        return
    if "\0" in init:
        raise InputError(f"--init {init!r}: a path cannot hold a NUL character")
    from ..learn.pretrain import load

    load(Path(init))
