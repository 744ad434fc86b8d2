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

from .. import GRID_BEATS as BEATS, GRID_STEPS as STEPS, PRECISIONS, THREAD_RANGE
from ..errors import InputError
from ..osc import protocol


_PORT = protocol.arg("hello", "reply_port")
_TEMPO = protocol.arg("set_tempo", "bpm")
_LATENCY = protocol.arg("set_latency", "ms")
SYNCS = ("internal", "midi", "link")


def _text(v: Any) -> bool:
    """A non-empty string an OS call can take (no NUL)."""
    return isinstance(v, str) and v != "" and "\0" not in v


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _port(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and _PORT.accepts(v)


def _folders(v: Any) -> bool:
    return isinstance(v, list) and all(_text(x) for x in v)


#: every setting: (its default, the check a file's or the command line's value must pass, what it must be)
SETTINGS: dict[str, tuple[Any, Callable[[Any], bool], str]] = {
    "session": (None, lambda v: v is None or _text(v), "a session name or folder"),
    "osc_port": (protocol.OSC_PORT, _port, _PORT.expect()),
    "reply_port": (protocol.REPLY_PORT, _port, _PORT.expect()),
    "host": ("127.0.0.1", _text, "a host name or address"),
    "samples": ([], _folders, "a list of folders"),
    "patterns": ([], _folders, "a list of folders"),   # drum MIDI files that shape the drum prior (loops.prior)
    # None: the session's tempo, grid, latency and note map (a new session: 120 bpm, 16 steps in 4 beats, 0 ms,
    # Drum Rack pads)
    "bpm": (None, lambda v: v is None or _number(v) and _TEMPO.accepts(v), f"a tempo {_TEMPO.expect()}"),
    "steps": (None, lambda v: v is None or v in STEPS and isinstance(v, int), " or ".join(map(str, STEPS)) + " steps"),
    "beats": (None, lambda v: v is None or v in BEATS and isinstance(v, int), " or ".join(map(str, BEATS)) + " beats"),
    "latency": (None, lambda v: v is None or _number(v) and _LATENCY.accepts(v), f"milliseconds {_LATENCY.expect()}"),
    "gm": (None, lambda v: v is None or isinstance(v, bool), "true or false"),   # notes by GM family, not pads
    "midi_out": ("virtual", _text, "'virtual', 'none' or a port name"),
    "midi_in": ("virtual", _text, "'virtual', 'none' or a port name"),   # a human's onsets, for takes
    "audio_in": ("none", _text, "'none', 'default' or a PortAudio input device"),   # onsets heard in its sound
    "audio": (True, lambda v: isinstance(v, bool), "true or false"),
    "threads": (None, lambda v: v is None or isinstance(v, int) and not isinstance(v, bool)   # None: half the cores
                and THREAD_RANGE[0] <= v <= THREAD_RANGE[1], f"a thread count {THREAD_RANGE[0]}-{THREAD_RANGE[1]}"),
    # None: $DD_LIVE_PRECISION, else auto (bf16 where the CPU has it natively)
    "precision": (None, lambda v: v is None or v in PRECISIONS, " or ".join(repr(p) for p in PRECISIONS)),
    "init": ("pretrained", _text, "'pretrained', 'random' or a file from dd-live pretrain"),   # a new session's
    "learn": ("auto", lambda v: v in ("auto", "head", "budget"), "'auto', 'head' or 'budget'"),
    "sync": ("internal", lambda v: v in SYNCS, "'internal', 'midi' or 'link'"),   # the clock MIDI out follows
    "clock_in": ("virtual", _text, "'virtual' or a MIDI port name"),      # with sync midi: the clock's port
    "clock_out": (False, lambda v: isinstance(v, bool), "true or false"),  # with sync internal: MIDI clock out
    "web": (True, lambda v: isinstance(v, bool) or isinstance(v, int) and 0 <= v <= 65535,
            "true, false or a TCP port 0-65535"),   # the browser page: on (protocol.WEB_PORT), off, or a port (0: any)
}
DEFAULTS: dict[str, Any] = {key: default for key, (default, _, _) in SETTINGS.items()}


def _check(key: str, value: Any) -> str | None:
    """What ``value`` of setting ``key`` must be, if it is not (None if it is)."""
    _, ok, what = SETTINGS[key]
    return None if ok(value) else what


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
        if key not in SETTINGS:
            raise InputError(f"config file {path}: unknown setting {key!r} (known: {', '.join(SETTINGS)})")
        what = _check(key, value)
        if what is not None:
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
        what = _check(key, value)
        if what is not None:
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
