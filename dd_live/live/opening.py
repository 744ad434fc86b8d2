"""Opening the daemon ``dd-live serve`` runs: everything that can fail is tried before a new session's folder is
made (the session's lock, its kit, the drum prior, the OSC and web ports); and its opening loop, which plays
while torch loads (:mod:`.brain`)."""

from __future__ import annotations

import logging
import shutil
from typing import Any

import numpy as np

from .. import GRID
from ..osc.osc_server import OSCServer
from ..session.settings import LiveSettings, grid_settings

log = logging.getLogger("dd_live.daemon")
OPENING_SCORE = 0.5   # an opening loop's score: no critic has heard it (a flat critic's)


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
                   prior=prior, precision=config.get("precision"), rig=rig, opening=True)
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


def play_opening(daemon) -> None:
    """Announce a first loop made with numpy alone (torch is not loaded yet): where a resumed session left off
    (its last liked loop, on this grid and kit) or else a drummer's loop from the drum prior on the session's
    grid, density and four-on-the-floor setting (DeepDrummer's uniform draw without a prior); stored as a
    candidate like any other (mode "opening", score :data:`OPENING_SCORE`), so it can be rated, edited and
    exported. If none can be made, one warning: the generator's first loop comes with the critic."""
    from ..errors import DDLiveError, one_line

    try:
        liked = [cid for cid, like in daemon.session.ratings() if like]
        loop = daemon._loop_from_session(liked[-1]) if liked else None
        if loop is None:
            loop = _drawn(daemon)
    except (DDLiveError, OSError, ValueError) as err:
        log.warning("no opening loop (%s): the first loop comes with the critic", one_line(err))
        return
    daemon._announce(loop)


def _drawn(daemon):
    """A new candidate from the drum prior (one of its own, not its free share), stored and rendered."""
    from ..groove.record import Loop
    from ..loops.export import track_pitches
    from ..loops.pattern import Constraints, random_arrays
    from ..loops.render import reference_bpm, render_arrays
    from .loop import store_candidate

    s, lib, session = daemon.settings, daemon.library, daemon.session
    cid = session.next_id()
    rng = np.random.default_rng([daemon.seed, cid, 7])    # its own stream (the generator draws from [seed, version])
    grid = {"tracks": len(s.locks), "steps": s.steps, "beats": s.beats}
    if daemon.prior is not None:
        hits, idx, _ = daemon.prior.draw(lib, rng, 1, density=s.density, constraints=Constraints(fotf=s.fotf),
                                         free=0.0, **grid)
    else:
        hits, idx = random_arrays(lib, rng, 1, density=s.density, constraints=Constraints(fotf=s.fotf), **grid)
    swing = s.swing or 0.0
    audio = render_arrays(hits, idx, lib, bpm=reference_bpm(s.beats), beats=s.beats, swing=swing)[0]
    loop = Loop.from_arrays(hits[0], idx[0], lib, audio, OPENING_SCORE, groove={"swing": swing, "beats": s.beats},
                            origin="opening", id=cid, version=daemon.version, trained_on=0, bpm=s.bpm,
                            pitches=track_pitches(lib, idx[0], gm=s.gm), epoch=0,
                            feel=s.feel_layer)
    store_candidate(session, lib, loop, mode="opening")
    return loop
