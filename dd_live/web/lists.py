"""The lists the page reads as JSON (``/api/...``): sessions, this session's ratings and exports, and the kit
a track's sound may be picked from. Each is built fresh from the session or library at every request."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def sessions(session) -> dict[str, Any]:
    """Every session of the sessions folder, this one's counts as they are now (listed first if it is served
    from a path outside the folder), each with its kit; and the kits a new session may be made with
    (``/dd/session/open new KIT``): the built-in one, the research kit, and every sample folder a session
    has used."""
    from ..session.folders import DEFAULT_KIT, list_sessions, sessions_root
    from ..sound.categories import RESEARCH_KIT

    rows = list_sessions(sessions_root())
    likes, dislikes = session.counts()
    now = {"ratings": likes + dislikes, "likes": likes, "dislikes": dislikes}
    for row in rows:
        if Path(row["folder"]) == session.folder:
            row.update(now)
            break
    else:
        rows.insert(0, {"name": session.name, **now, "samples": session.settings().get("samples", [])})
    kits = {DEFAULT_KIT: "the built-in kit", RESEARCH_KIT: "the research kit (with sounds made to be disliked)"}
    for row in rows:
        row["kit"] = kit_label(row.get("samples") or [])
        for folder in row.get("samples") or []:
            kits.setdefault(folder, folder)
    return {"current": session.name, "kits": [{"value": k, "label": v} for k, v in kits.items()],
            "sessions": [{k: v for k, v in row.items() if k not in ("folder", "samples")} for row in rows]}


def kit_label(samples: list[str]) -> str:
    """A session's kit in words: its sample folders, or the built-in kit."""
    from ..sound.categories import RESEARCH_KIT

    return ", ".join("the research kit" if f == RESEARCH_KIT else f for f in samples) or "the built-in kit"


def ratings(session) -> dict[str, Any]:
    """The session's ratings in the order given, ``[id, 1 like | 0 dislike]``, for the like-rate plot."""
    return {"ratings": [[cid, int(like)] for cid, like in session.ratings()]}


def exports(session) -> dict[str, Any]:
    """The session's exports: each candidate id with its files (a link leading out of the session: none)."""
    rows = []
    try:
        folder = session.confined(session.folder / "exports")
    except OSError:
        folder = None
    if folder is not None and folder.is_dir():
        subs = (p for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and p.name.isdigit())
        for sub in sorted(subs, key=lambda p: int(p.name)):
            names = sorted(p.name for p in sub.iterdir() if p.is_file() and not p.is_symlink())
            rows.append({"id": int(sub.name), "files": names})
    return {"exports": rows}


def kit(library) -> dict[str, Any]:
    """The daemon's sounds a track may play (``/dd/edit/sound``): key, name (as ``/dd/samples`` says it),
    category and role, in the library's order."""
    roles = library.roles
    return {"sounds": [{"key": s.key, "name": Path(s.key).stem, "category": str(s.category), "role": str(roles[i])}
                       for i, s in enumerate(library.samples)]}
