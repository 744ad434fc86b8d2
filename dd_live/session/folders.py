"""Where sessions live: the sessions folder, session names and folders, the sessions there are
(``dd-live sessions``), and which sample folders a session is served with. A session's contents are
:mod:`dd_live.session.session`'s."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..errors import InputError
from .lock import SessionLock
from .recovery import damaged

DB_NAME = "session.sqlite"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def sessions_root() -> Path:
    """Where named sessions live: $DD_LIVE_SESSIONS, else the user data dir's sessions/."""
    env = os.environ.get("DD_LIVE_SESSIONS")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("dd_live")) / "sessions"


def check_name(name: str) -> str:
    """A session name: letters, digits, '.', '_' and '-', at most 64, not starting with a dot."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"bad session name {name!r}: use letters, digits, '.', '_' and '-' (at most 64)")
    return name


LAST = "last"   # the session name that means the newest session (one named so is reached by its path)


def newest(root: Path | None = None, *, besides: Path | None = None) -> Path:
    """The session under ``root`` changed last (its database or write-ahead log), ``besides`` aside; InputError if
    there is none."""
    root = root or sessions_root()
    found = []
    if root.is_dir():
        for folder in root.iterdir():
            db = folder / DB_NAME
            if db.is_file() and (besides is None or folder.resolve() != Path(besides).resolve()):
                times = [p.stat().st_mtime for p in (db, folder / (DB_NAME + "-wal")) if p.is_file()]
                found.append((max(times), folder.name, folder))
    if not found:
        raise InputError(f"--session {LAST}: there are no sessions in {root} yet; start one with dd-live serve")
    return max(found)[2]


def resume_command(folder: Path, *, root: Path | None = None) -> str:
    """The command that serves the session in ``folder`` again: by name when it lives under ``root``."""
    import shlex

    folder, root = Path(folder), root or sessions_root()
    inside = folder.parent.resolve() == root.resolve() and folder.name != LAST and _NAME.match(folder.name)
    return f"dd-live serve --session {shlex.quote(folder.name if inside else str(folder.resolve()))}"


def resolve(spec: str | os.PathLike[str] | None, *, root: Path | None = None) -> Path:
    """A session folder from a name (under :func:`sessions_root`) or a path (anything with a / in it); ``last``
    is the newest session there (:func:`newest`).

    None makes a new name from the date and time.
    """
    root = root or sessions_root()
    if spec == LAST:
        return newest(root)
    if spec is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name, k = stamp, 1
        while (root / name).exists():
            k += 1
            name = f"{stamp}-{k}"
        return root / name
    text = os.fspath(spec)
    if "\0" in text:
        raise InputError(f"bad session {text!r}: a name or path cannot hold a NUL character")
    if os.sep in text or "/" in text or text in (".", ".."):
        return Path(text).expanduser().resolve()
    return root / check_name(text)


def is_session(folder: Path) -> bool:
    return (Path(folder) / DB_NAME).is_file()


def check_folder(folder: Path) -> None:
    """Refuse to make a session of anything but a new or empty folder (or an existing session)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a folder")
    if folder.is_dir() and not is_session(folder) and any(folder.iterdir()):
        raise InputError(f"{folder} is not a dd_live session and is not empty; name a new or empty folder")


def list_sessions(root: Path | None = None) -> list[dict[str, Any]]:
    """Every session under ``root``: name, folder, ratings, likes, dislikes, candidates, last change, sample folders
    (none: the built-in kit)."""
    root = root or sessions_root()
    out = []
    if not root.is_dir():
        return out
    try:
        folders = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    except OSError as err:
        raise InputError(f"cannot list the sessions in {root}: {err.strerror or err}") from None
    for folder in folders:
        entry: dict[str, Any] = {"name": folder.name, "folder": str(folder)}
        try:
            if not (folder / DB_NAME).is_file():
                continue
        except OSError as err:                 # a folder this user may not look into: said, not a failure
            if folder.is_dir():
                out.append({**entry, "error": f"unreadable ({err.strerror or err})"})
            continue
        holder = SessionLock.holder(folder)
        if holder:
            entry["in_use_by"] = holder
        try:  # read only: a damaged file is reported here and recovered by serve or export
            db = sqlite3.connect(str(folder / DB_NAME), timeout=5)
            try:
                likes, total = db.execute("SELECT COALESCE(SUM(label), 0), COUNT(*) FROM ratings").fetchone()
                candidates = db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
                kit = db.execute("SELECT value FROM settings WHERE key = 'samples'").fetchone()
            finally:
                db.close()
            entry.update({"ratings": int(total), "likes": int(likes), "dislikes": int(total - likes),
                          "candidates": int(candidates), "modified": (folder / DB_NAME).stat().st_mtime,
                          "samples": _folders(kit[0]) if kit else []})
        except (sqlite3.Error, OSError) as err:
            entry["error"] = (f"damaged database ({err}); dd-live serve or export recovers what is readable"
                              if isinstance(err, sqlite3.DatabaseError) and damaged(err) else f"unreadable ({err})")
        out.append(entry)
    return out


def _folders(value: str) -> list[str]:
    """A session's stored sample folders (a JSON list of strings; anything else: none, the built-in kit's)."""
    try:
        got = json.loads(value)
    except (TypeError, ValueError):
        return []
    return [f for f in got if isinstance(f, str)] if isinstance(got, list) else []


def sessions_table(rows: list[dict[str, Any]], root: Path | None = None) -> str:
    """``dd-live sessions``' table of :func:`list_sessions` rows (or a line saying there are none in ``root``)."""
    if not rows:
        return f"no sessions in {root or sessions_root()}"
    lines = [f"{'session':<24} {'ratings':>7} {'likes':>5} {'dislikes':>8} {'loops':>6}  folder"]
    for r in rows:
        holder = r.get("in_use_by")
        in_use = "" if not holder else f"  (in use by {'a daemon' if holder < 0 else f'process {holder}'})"
        if "error" in r:
            lines.append(f"{r['name']:<24} {r['error']}{in_use}")
        else:
            lines.append(f"{r['name']:<24} {r['ratings']:>7} {r['likes']:>5} {r['dislikes']:>8} "
                         f"{r['candidates']:>6}  {r['folder']}{in_use}")
    return "\n".join(lines)


def session_samples(given: list[str], stored: dict, folder: Path) -> list[str]:
    """The sample folders a session is served with (resolved): the ones it was made with. Another kit on an
    existing session is refused: its rated loops, critic and exports belong to the kit they were made with."""
    from ..sound.samples import kit_folders

    for f in given:
        if "\0" in f:
            raise InputError(f"bad sample folder {f!r}: a path cannot hold a NUL character")
    wanted = kit_folders(given)
    if "samples" not in stored:          # a new session
        return wanted
    have = list(stored["samples"])
    if given and wanted != have:
        kit = ", ".join(have) if have else "the built-in kit"
        raise InputError(f"session {folder.name} was made with {kit}; start a new session for other samples "
                         f"(dd-live serve --session NEW_NAME --samples ...)")
    return have


NEW = "new"           # /dd/session/open's name for a new session (named from the date and time)
DEFAULT_KIT = "default"   # /dd/session/open's name for the built-in kit


def switch_target(spec: str, samples: str | None, current: Path, kit: list[str], *,
                  root: Path | None = None) -> tuple[Path, list[str] | None]:
    """Where ``/dd/session/open spec [samples]`` leads, checked before the served session is left: the session's
    folder, and the sample folders a new one is made with (None: an existing session, which keeps its own; no
    ``samples``: ``kit``, the served session's). ``spec``: :data:`NEW`, ``last``, or a name under ``root``;
    ``samples``: :data:`DEFAULT_KIT`, ``research`` or an absolute folder. InputError for a bad name or kit,
    the session being served already, one another process serves, and a kit named for an existing session."""
    from ..sound.categories import RESEARCH_KIT

    root = root or sessions_root()
    if spec in (NEW, ""):
        folder = resolve(None, root=root)
    elif spec == LAST:
        folder = newest(root, besides=current)
    else:
        folder = root / check_name(spec)
    if folder.resolve() == Path(current).resolve():
        raise InputError(f"session {folder.name} is the one being served")
    check_folder(folder)
    if is_session(folder):
        holder = SessionLock.holder(folder)
        if holder:
            who = "another daemon" if holder < 0 else f"process {holder}"
            raise InputError(f"session {folder.name} is served by {who}")
        if samples:
            raise InputError(f"session {folder.name} plays the kit it was made with; a kit is chosen for a new session")
        return folder, None
    if not samples:
        return folder, list(kit)
    if samples == DEFAULT_KIT:
        return folder, []
    if samples == RESEARCH_KIT:
        return folder, [RESEARCH_KIT]
    if "\0" in samples or not os.path.isabs(samples):
        raise InputError(f"bad kit {samples!r}: {DEFAULT_KIT}, {RESEARCH_KIT} or an absolute path to a sample folder")
    path = Path(samples)
    if not path.is_dir():
        raise InputError(f"no sample folder at {samples}")
    return folder, [str(path.resolve())]
