"""Opening the daemon ``dd-live serve`` runs: everything that can fail is tried before a new session's folder is
made (the session's lock, its kit, the drum prior, the OSC and web ports)."""

from __future__ import annotations

import shutil
from typing import Any

from .. import GRID
from ..osc.osc_server import OSCServer
from ..session.settings import LiveSettings, grid_settings


def open_daemon(cls, config: dict[str, Any], aliases: dict[str, str] | None = None, *, rig=None):
    """The daemon (a ``cls``) ``dd-live serve`` runs, from merged settings (see :mod:`dd_live.live.config`): the
    session resumed or made, its kit checked, the OSC port bound; ``rig``: the ports the last session's daemon
    handed over (:mod:`.rig`). Everything that can fail is tried before a new
    session's folder is made, so a failed start leaves nothing (an empty folder the user named is emptied
    again, not removed)."""
    from ..song.drum_parts import performer_prior
    from ..sound.samples import open_library
    from .config import check_init, web_port
    from ..session.folders import check_folder, is_session, resolve, session_samples
    from ..session.session import Session

    folder = resolve(config["session"])
    check_folder(folder)
    session = Session(folder, create=False, lock=True) if is_session(folder) else None
    existed = folder.exists()
    server = web_socket = None
    created = False
    try:
        stored = session.settings() if session is not None else {}
        folders = session_samples(config["samples"], stored, folder)
        library = open_library(folders or None, tracks=GRID.tracks)
        prior = performer_prior(config.get("patterns") or [])
        if session is None:
            check_init(config["init"])
        server = OSCServer(config["host"], config["osc_port"], lambda data, sender: None)
        server.bind()
        web = web_port(config.get("web", False))
        if web is not None:
            from ..web.server import bind

            web_socket = bind(config["host"], web)
        if session is None:
            session = Session(folder, lock=True)
            created = True
        if "samples" not in stored:  # the kit the session is made with (what later serves must match)
            session.save_settings({"samples": folders})
        live = grid_settings(LiveSettings.from_dict(stored.get("live", {})), config)
        return cls(session, library, settings=live, host=config["host"], osc_port=config["osc_port"],
                   reply_port=config["reply_port"], aliases=aliases, threads=config["threads"],
                   midi_out=config["midi_out"], audio=config["audio"], midi_in=config["midi_in"],
                   audio_in=config["audio_in"],
                   init=config["init"], learn=config["learn"], server=server, stored=stored,
                   sync=config.get("sync", "internal"), clock_in=config.get("clock_in", "virtual"),
                   clock_out=bool(config.get("clock_out", False)), web_port=web, web_socket=web_socket,
                   prior=prior, precision=config.get("precision"), rig=rig)
    except BaseException:
        if server is not None:
            server.close()
        if web_socket is not None:
            web_socket.close()
        if session is not None:
            session.close()
        if created:
            for part in ([*folder.iterdir()] if existed else [folder]):
                if part.is_dir():
                    shutil.rmtree(part, ignore_errors=True)
                else:
                    part.unlink(missing_ok=True)
        raise
