"""Songs from the page: a MIDI file dropped on it, stored in the session, and what song mode wrote there for the
page to list, show, play and download.

An upload is one binary WebSocket message: a line of JSON ``{"song": "name.mid", "play": false}``, a newline,
then the file's bytes (at most MAX_UPLOAD). It is stored as ``uploads/<name>.mid`` in the session (replacing
an upload of that name) and then run as ``/dd/song path`` (``play``: ``/dd/song/play path``), by the same
handler, checks and replies as an OSC front end's; ``/dd/song/done`` says where the files are. An upload that
cannot be used (no header, not a MIDI file, too large, the uploads full) is answered with ``/dd/error`` in one
line and stores nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..loops.export import safe_name
from ..osc.osc import OSCError
from ..song.read import SONG_SUFFIXES
from ..song.write import SONG_FILES as WRITTEN

MAX_UPLOAD = 2 * 1024 * 1024          # bytes of one song sent from the page (Debian's simutrans songs: <= 81 KB)
MAX_UPLOADS_BYTES = 64 * 1024 * 1024  # a session's uploads folder holds at most this much (bytes)
UPLOADS = "uploads"
SONGS = "songs"
#: what a song's folder offers the page (song mode's files; kit.zip is kit.sfz with its samples)
SONG_FILES = (*WRITTEN, "kit.zip")
SONG_NAME = r"[A-Za-z0-9_-]{1,60}"   # a song folder's name: loops.export.safe_name's letters


@dataclass(frozen=True)
class Upload:
    """A song sent from the page: its file name in the session (``<safe stem>.mid``), bytes, and whether it
    is to play along at once."""

    name: str
    data: bytes
    play: bool


def parse_upload(message: bytes) -> Upload:
    """A binary WebSocket message as an upload; OSCError ("parse" or "args") saying in one line why not."""
    head, sep, data = bytes(message).partition(b"\n")
    if not sep or len(head) > 1024:
        raise OSCError("parse", 'a binary message is a song upload: a line of JSON {"song": "name.mid"}, a newline, '
                                "the file's bytes")
    try:
        header = json.loads(head.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise OSCError("parse", "a song upload's first line is not JSON") from None
    if not isinstance(header, dict) or set(header) - {"song", "play"} or not isinstance(header.get("song"), str) \
            or not isinstance(header.get("play", False), bool):
        raise OSCError("parse", 'a song upload\'s first line is {"song": "name.mid", "play": false}')
    given = Path(header["song"].replace("\\", "/")).name
    if Path(given).suffix.lower() not in SONG_SUFFIXES:
        raise OSCError("args", f"not a MIDI song file name ({', '.join(SONG_SUFFIXES)}): {given[:60]!r}")
    if not data.startswith(b"MThd"):
        raise OSCError("args", f"{given[:60]} is not a standard MIDI file (it does not start with MThd)")
    if len(data) > MAX_UPLOAD:
        raise OSCError("args", f"{given[:60]} is {len(data)} bytes; songs of at most {MAX_UPLOAD} are taken")
    return Upload(safe_name(Path(given).stem, fallback="song") + ".mid", data, bool(header.get("play", False)))


def store(session, upload: Upload) -> Path:
    """Write ``upload`` into the session's uploads folder (atomically, replacing one of that name); its path.
    OSCError("io") if it cannot be written or the folder holds MAX_UPLOADS_BYTES already."""
    from ..sound.audio import write_bytes

    try:
        folder = session.confined(session.folder / UPLOADS)
        folder.mkdir(exist_ok=True)
        held = sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name != upload.name)
        if held + len(upload.data) > MAX_UPLOADS_BYTES:
            raise OSCError("io", f"{folder} holds {held} bytes of songs: remove some to send more")
        return write_bytes(folder / upload.name, upload.data, force=True).resolve()
    except OSError as err:
        raise OSCError("io", f"the song could not be stored: {err.strerror or err}") from None


def song_folder(session, name: str) -> Path:
    """The folder song mode wrote song ``name`` into (confined to the session: PermissionError if a link leads
    out of it)."""
    return session.confined(session.folder / SONGS / name)


def songs(session) -> dict[str, Any]:
    """The session's written songs, newest first: name, when written (s since the epoch), bars, sections,
    seconds, taste, the files there, and ``source``: the page's upload of it, which ``/dd/song/play`` takes
    (None for a song sent another way)."""
    rows = []
    try:
        root = session.confined(session.folder / SONGS)
    except OSError:
        root = None
    for sub in (p for p in root.iterdir() if p.is_dir() and not p.is_symlink()) if root and root.is_dir() else ():
        try:
            doc = json.loads((sub / "arrangement.json").read_text())
            when = (sub / "arrangement.json").stat().st_mtime
        except (OSError, ValueError):
            continue                                    # not written yet, or not song mode's
        if not isinstance(doc, dict):
            continue
        summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
        source = session.folder / UPLOADS / f"{sub.name}.mid"
        rows.append({"name": sub.name, "song": doc.get("song"), "written": round(when, 3),
                     "bars": summary.get("bars"), "sections": summary.get("sections"),
                     "seconds": summary.get("seconds"), "taste": doc.get("taste"),
                     "files": [f for f in WRITTEN if (sub / f).is_file()],
                     "source": str(source.resolve()) if source.is_file() else None})
    rows.sort(key=lambda r: -r["written"])
    return {"songs": rows}


def kit_files(folder: Path) -> list[tuple[Path, str]]:
    """kit.sfz and its samples in a song ``folder``, with their names in a zip (links leading out skipped)."""
    from .access import export_files

    return [(real, name) for real, name in export_files(folder) if name == "kit.sfz" or name.startswith("samples/")]
