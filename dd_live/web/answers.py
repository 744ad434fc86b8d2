"""What the web thread answers an HTTP request with (after :mod:`.access` let it through): a body from memory or
one file, a zip made in memory, the session's files and lists. Each is a websockets ``Response``; Refused(404)
for anything not there."""

from __future__ import annotations

import http
import io
import json
import zipfile
from pathlib import Path

from . import lists, songs
from .access import TYPES, Refused, Route, export_files, inside


def body(data: bytes, suffix: str, *, status: int = 200, download: str | None = None):
    """A response of ``data`` typed by the file ``suffix``; ``download``: the file name a browser saves it as."""
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers([("Content-Type", TYPES.get(suffix, "text/plain; charset=utf-8")),
                       ("Content-Length", str(len(data))), ("Cache-Control", "no-store"),
                       ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
                       ("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; "
                                                   "img-src 'self' data:; frame-ancestors 'none'")])
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return Response(status, http.HTTPStatus(status).phrase, headers, data)


def file(path: Path, *, download: bool = False):
    """The file at ``path`` (read whole: the page's files, a loop, a song's files)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise Refused(404, f"no file {path.name!r}") from err
    return body(data, path.suffix, download=path.name if download else None)


def zipped(files: list[tuple[Path, str]], name: str):
    """``files`` (real path, name inside) as ``name``.zip, each under a folder ``name``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for real, inner in files:
            z.write(real, f"{name}/{inner}")
    return body(buf.getvalue(), ".zip", download=f"{name}.zip")


def session_file(daemon, r: Route):
    """A file or list of the session ``daemon`` serves (the token already checked)."""
    session = daemon.session
    dirs = {"loop": session.candidate_dir, "export": session.export_dir, "zip": session.export_dir}
    if r.kind in dirs:
        try:                              # a link leading out of the session is not followed
            folder = dirs[r.kind](r.cid)
        except OSError:
            raise Refused(404, f"no file {r.name or r.cid!r}") from None
    if r.kind == "loop":
        return file(inside(folder, r.name))
    if r.kind == "export":
        return file(inside(folder, r.name), download=True)
    if r.kind == "zip":
        files = export_files(folder) if folder.is_dir() else []
        if not files:
            raise Refused(404, f"no export of candidate {r.cid} (export it first)")
        return zipped(files, f"dd_live-{r.cid}")
    if r.kind in ("song", "song_zip"):
        return song_file(session, r)
    made = {"sessions": lists.sessions, "ratings": lists.ratings, "exports": lists.exports, "songs": songs.songs,
            "kit": lambda _: lists.kit(daemon.library)}
    return body(json.dumps(made[r.kind](session), default=str).encode(), ".json")


def song_file(session, r: Route):
    """A written song's file, its kit (kit.sfz and samples: kit.zip) or its whole folder as a zip."""
    try:
        folder = songs.song_folder(session, r.song)
    except OSError:
        raise Refused(404, f"no song {r.song!r}") from None
    if not (folder / "arrangement.json").is_file():
        raise Refused(404, f"no song {r.song!r} written in this session")
    if r.kind == "song_zip":
        return zipped(export_files(folder), f"dd_live-{r.song}")
    if r.name == "kit.zip":
        return zipped(songs.kit_files(folder), f"dd_live-{r.song}-kit")
    return file(inside(folder, r.name), download=r.name != "arrangement.json")
