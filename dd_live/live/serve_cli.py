"""``dd-live serve``: one option per setting of :mod:`dd_live.live.config` (the table below), and the command.

Settings come from the defaults, then the config file, then these options; each option's value is checked by
the config file's own check (:func:`dd_live.live.config.merge`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import PRECISIONS
from ..osc.protocol import OSC_PORT, REPLY_PORT, WEB_PORT
from .config import BEATS, STEPS

#: (setting, flags, argparse keywords): every setting of config.DEFAULTS has one
OPTIONS: tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...] = (
    ("session", ("--session",), {"metavar": "NAME|DIR|last", "help": "resume or create this session; last: the "
                                                                     "newest one (default: a new session)"}),
    ("osc_port", ("--osc-port",), {"type": int, "help": f"UDP port to listen on (default {OSC_PORT})"}),
    ("reply_port", ("--reply-port",), {"type": int, "help": "UDP port on 127.0.0.1 that always gets replies "
                                                           f"(default {REPLY_PORT})"}),
    ("host", ("--host",), {"help": "address to listen on (default 127.0.0.1; OSC has no authentication)"}),
    ("samples", ("--samples",), {"action": "append", "metavar": "DIR", "help": "sample folder (repeatable; default: "
                                                                               "the session's, else the built-in kit)"}),
    ("patterns", ("--patterns",), {"action": "append", "metavar": "DIR", "help": "a folder of drum MIDI files "
                                   "(repeatable): the first loops sound like them (default: dd_live's drum prior "
                                   "alone)"}),
    ("bpm", ("--bpm",), {"type": float, "help": "session tempo (default: the session's, 120 for a new one)"}),
    ("steps", ("--steps",), {"type": int, "metavar": "|".join(map(str, STEPS)),
                             "help": "steps per bar (default: the session's, 16 for a new one; 12 or 24 for "
                                     "triplets, with --beats)"}),
    ("beats", ("--beats",), {"type": int, "metavar": "|".join(map(str, BEATS)),
                             "help": "beats per bar (default: the session's, 4 for a new one; 3 for 3/4, 6 for "
                                     "6/8 or 6/4)"}),
    ("midi_out", ("--midi-out",), {"metavar": "NAME|virtual|none", "help": "MIDI output (default: virtual port "
                                                                           "'dd_live')"}),
    ("midi_in", ("--midi-in",), {"metavar": "NAME|virtual|none", "help": "MIDI input: a human's notes for takes "
                                                                         "(default: virtual port 'dd_live in')"}),
    ("audio_in", ("--audio-in",), {"metavar": "DEVICE|default|none", "help": "an instrument's sound for takes: "
                                   "its onsets are heard (default none; python -m sounddevice lists devices)"}),
    ("audio", ("--audio",), {"dest": "audio", "action": "store_true", "default": None,
                             "help": "play loops (default): ports of MIDI out's JACK client where MIDI out is on "
                                     "JACK, else PortAudio"}),
    ("sync", ("--sync",), {"choices": ("internal", "midi", "link"), "help": "the clock MIDI out follows: its own "
                           "tempo (default), a host's MIDI clock (--clock-in), or Ableton Link (pip install "
                           "'dd_live[link]')"}),
    ("clock_in", ("--clock-in",), {"metavar": "NAME|virtual", "help": "with --sync midi, the MIDI clock's port "
                                   "(default: virtual port 'dd_live clock'; on JACK an output's full name)"}),
    ("clock_out", ("--clock-out",), {"action": "store_true", "default": None, "help": "dd_live is the master: "
                                     "MIDI out also sends MIDI clock, Start and Stop (with --sync internal)"}),
    ("latency", ("--latency",), {"type": float, "metavar": "MS", "help": "MIDI out this many ms later (earlier if "
                                 "negative), for your interface (default: the session's, 0 for a new one)"}),
    ("gm", ("--gm",), {"action": argparse.BooleanOptionalAction, "default": None,
                       "help": "MIDI out, /dd/notes and exports on General MIDI drum notes by each sound's family "
                               "(kick 36, snare 38, hats 42/44/46 ...), for a GM kit; --no-gm: Drum Rack pads "
                               "36 + track (default: the session's, pads for a new one)"}),
    ("web", ("--web",), {"type": int, "nargs": "?", "const": True, "metavar": "PORT",
                         "help": f"serve the browser page and its WebSocket on this port (default: on, {WEB_PORT}; the "
                                 "address with its token is printed at start)"}),
    ("threads", ("--threads",), {"type": int, "help": "torch threads (default: half the cores)"}),
    ("precision", ("--precision",), {"choices": PRECISIONS, "help": "the critic's arithmetic: bf16 where the CPU "
                                     "has it natively, else int8 convolutions (auto, the default), or one forced"}),
    ("init", ("--init",), {"metavar": "pretrained|random|FILE", "help": "a new session's critic: the shipped "
                           "pretrained features (default), the paper's random weights, or a file from dd-live pretrain"}),
    ("learn", ("--learn",), {"choices": ("auto", "head", "budget"), "help": "how a new session's critic learns "
                                                                            "(see dd-live evaluate --help; default auto)"}),
)


def add_parser(sub) -> None:
    """Add ``serve`` to the ``dd-live`` subcommands ``sub``."""
    sv = sub.add_parser("serve", help="the live daemon: OSC in, loops out, learns from likes",
                        description="Serve a live session over OSC (see docs/osc.md). Settings: defaults, then the "
                                    "config file, then these options.")
    sv.add_argument("--config", metavar="TOML", help="config file (default: config.toml in the user config dir)")
    for _, flags, kwargs in OPTIONS:
        sv.add_argument(*flags, **kwargs)
        if flags == ("--audio",):
            sv.add_argument("--no-audio", dest="audio", action="store_false", help="no audio playback")
        if flags == ("--web",):
            sv.add_argument("--no-web", dest="web", action="store_false", help="no browser page")
    sv.add_argument("--verbose", action="store_true", help="debug logging")
    sv.set_defaults(func=cmd_serve)


def cmd_serve(a: argparse.Namespace) -> int:
    import logging

    from . import config
    from .daemon import Daemon

    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format="dd-live %(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    file_settings, aliases = config.load(Path(a.config) if a.config else None)
    s = config.merge(file_settings, {key: getattr(a, key) for key, _, _ in OPTIONS})
    daemon = Daemon.open(s, aliases)
    while True:
        serve(daemon, s)
        if daemon.switch is None:
            return 0
        s, daemon = switch(daemon, s, aliases)


def serve(daemon, s: dict[str, Any]) -> None:
    """Serve ``daemon`` (opened with settings ``s``) until Ctrl-C, a signal or /dd/session/open; print its start
    and stop lines."""
    import logging

    from ..session.folders import resume_command

    def settle() -> None:
        frozen = settle_heap()
        logging.getLogger("dd_live.daemon").debug("start-up's %d objects frozen out of the collector's full passes",
                                                  frozen)

    settle()
    daemon.after_brain = settle    # again once torch and the critic are in (see .brain)

    def started() -> None:
        likes, dislikes = daemon.session.counts()
        grid = daemon.settings
        print(f"dd-live: serving session {daemon.session.folder} ({likes + dislikes} ratings, {grid.steps} steps "
              f"in {grid.beats} beats) on OSC {s['host']}:{daemon.port}, replies to {s['reply_port']}; Ctrl-C stops",
              file=sys.stderr, flush=True)
        print(f"dd-live: come back to this session with: {resume}", file=sys.stderr, flush=True)
        if daemon.web is not None:
            print(f"dd-live: the page: {daemon.web.url}", file=sys.stderr, flush=True)

    resume = resume_command(daemon.session.folder)
    daemon.serve_forever(on_start=started, restore_signals=False)   # the next serve sets its own
    print(f"dd-live: {'left session' if daemon.switch else 'stopped'}; resume with: {resume} (or --session last)",
          file=sys.stderr, flush=True)


#: the settings a session keeps (config.grid_settings): a resumed session plays its own, a new one the last one's
SESSION_SETTINGS = ("bpm", "steps", "beats", "latency", "gm")


def switch(old, s: dict[str, Any], aliases: dict[str, str]) -> tuple[dict[str, Any], Any]:
    """(settings, daemon) for the session ``old`` stopped for (its :attr:`switch`), on the OSC and web ports it
    had, with the MIDI and audio ports and clock it handed over (:mod:`.rig`), its clients told; if that session
    cannot be opened (its kit unreadable, taken meanwhile), said in one line and ``old``'s session served again."""
    import gc

    from ..errors import DDLiveError, one_line
    from ..osc.replies import WEB
    from .daemon import Daemon

    target, live = old.switch, old.settings
    ports = {"osc_port": old.port}
    if old.web is not None:
        ports["web"] = old.web.port
    new = {**s, **ports, "session": target["session"]}
    new.update({k: (None if target["samples"] is None else getattr(live, k)) for k in SESSION_SETTINGS})
    new["samples"] = target["samples"] or []
    clients = [c for c in old.replies.clients if c[0] != WEB]
    rig = old.hand_over()
    gc.unfreeze()      # the stopped daemon's objects may be freed now
    try:
        try:
            daemon = Daemon.open(new, aliases, rig=rig)
        except DDLiveError as err:
            print(f"dd-live: cannot open session {Path(target['session']).name}: {one_line(err)}; serving "
                  f"{old.session.name} again", file=sys.stderr, flush=True)
            new = {**s, **ports, "session": str(old.session.folder), "samples": []}
            new.update({k: None for k in SESSION_SETTINGS})
            daemon = Daemon.open(new, aliases, rig=rig)
    except BaseException:
        rig.close()      # no session takes them: the process ends
        raise
    for client in clients:
        daemon.replies.hello(client)
    return new, daemon


def settle_heap() -> int:
    """Collect start-up's garbage, then freeze what is left (gc.freeze: the modules, torch, the kit, the session)
    out of the cyclic collector's view; returns how many objects were frozen. A full collection otherwise walks
    every one of them: 110-122 ms holding the GIL in a serving daemon (about 310,000 objects), three times
    while six songs were written, enough to stall the audio callback and delay a click (now 3-5 ms). For a
    process that serves, not for one that makes daemons again and again (the tests): a frozen object that
    becomes cyclic garbage later is never freed."""
    import gc

    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
