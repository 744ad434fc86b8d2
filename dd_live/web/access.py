"""What a browser request may reach, decided before anything is read (pure logic, no sockets).

* The token: a random string kept in the sessions folder (``.web-token``, readable by its owner only), printed
  in the page's address at start (as Jupyter does) and the same across restarts, so an open page reconnects to
  a restarted daemon. It is asked for on the WebSocket and on every file or list of the session; the page
  itself (HTML, CSS, JavaScript, the address table) holds nothing private and is served without it.
* The Origin: a browser's WebSocket must come from this server's own page (Origin ``http://`` + Host), and, on
  a loopback address, under a loopback name (so a page of another site, even one whose name was made to point
  at 127.0.0.1, cannot drive the daemon).
* The files: the page's own (a fixed list read from the package at import), a candidate's loop, preview and
  MIDI file, an export's files, and a written song's (``web.songs.SONG_FILES``). Paths are matched whole against those shapes; any other
  path, a percent sign (encoded dots and slashes), or a file whose real path leaves its folder (a symlink) is
  refused.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..errors import InputError, one_line
from ..osc import protocol
from .songs import SONG_FILES, SONG_NAME

log = logging.getLogger("dd_live.web")

STATIC_DIR = Path(__file__).with_name("static")
#: the page's files by URL path (read once: nothing added later is served)
STATIC = {f"/{p.name}": p for p in STATIC_DIR.iterdir() if p.is_file() and not p.name.startswith(".")}
STATIC["/"] = STATIC_DIR / "index.html"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json", ".wav": "audio/wav",
         ".mid": "audio/midi", ".sfz": "text/plain; charset=utf-8", ".zip": "application/zip",
         ".png": "image/png", ".svg": "image/svg+xml"}
#: what a candidate's folder offers the page: loop_<bpm>.wav, preview_<bpm>.wav, loop_<bpm>.mid (see
#: dd_live.live.loop.write_candidate_files), nothing else (not critic.wav, not candidate.json)
LOOP_FILE = re.compile(r"^(loop|preview)(_[0-9]{1,3}(\.[0-9]{1,3})?)?\.(wav|mid)$")
TOKEN_FILE = ".web-token"
LOOPBACK_NAMES = (*protocol.LOOPBACK, "[::1]")   # the Host header's names of this machine (IPv6 in brackets)

_LOOP = re.compile(r"^/loops/([1-9][0-9]{0,9})/([a-z0-9_.]+)$")
_EXPORT = re.compile(r"^/exports/([1-9][0-9]{0,9})/([A-Za-z0-9_][A-Za-z0-9_.-]{0,99})$")
_ZIP = re.compile(r"^/exports/([1-9][0-9]{0,9})\.zip$")
_SONG = re.compile(rf"^/songs/({SONG_NAME})/({'|'.join(re.escape(f) for f in SONG_FILES)})$")
_SONG_ZIP = re.compile(rf"^/songs/({SONG_NAME})\.zip$")


class Refused(InputError):
    """A request that may not be served: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Route:
    """A request's meaning: ``kind`` (static, protocol, ws, loop, export, zip, song, song_zip, sessions, exports,
    ratings, kit, songs), the candidate id, song and file name where it names them, and the token it carries ('' for
    none)."""

    kind: str
    cid: int = 0
    name: str = ""
    token: str = ""
    song: str = ""


def user_token(root: Path) -> str:
    """The token kept in ``root`` (made, owner-only, on first use). A token file that is a link, belongs to
    another user, or that others may read is not used: a new token replaces it (said in one log line)."""
    path = Path(root) / TOKEN_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            st = os.fstat(fd)
            text = os.read(fd, 128).decode("ascii").strip()
        finally:
            os.close(fd)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            log.warning("%s belongs to another user or others may read it: a new token replaces it (open the "
                        "address printed below)", path)
        elif re.fullmatch(r"[A-Za-z0-9_-]{22,64}", text):
            return text
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as err:   # a link (ELOOP), unreadable, not text
        log.warning("%s cannot be used (%s): a new token replaces it", path, one_line(err))
    token = secrets.token_urlsafe(24)
    tmp = path.with_name(f"{TOKEN_FILE}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(token + "\n")
        os.replace(tmp, path)                      # replaces a link or a foreign file, never writes through it
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot keep the web page's token in {path}: {err.strerror or err}") from err
    return token


def route(target: str) -> Route:
    """The meaning of a request target (path and query). Refused (404) for anything the page does not use."""
    parts = urlsplit(target)
    path = parts.path
    if "%" in path or "\\" in path or "\0" in target:
        raise Refused(404, "no such page (encoded or odd characters in the path)")
    token = (parse_qs(parts.query).get("token") or [""])[0]
    if path in STATIC:
        return Route("static", name=path, token=token)
    if path == "/protocol.json":
        return Route("protocol", token=token)
    if path == "/ws":
        return Route("ws", token=token)
    if path in ("/api/sessions", "/api/exports", "/api/ratings", "/api/kit", "/api/songs"):
        return Route(path.rsplit("/", 1)[1], token=token)
    m = _SONG.match(path) or _SONG_ZIP.match(path)
    if m:
        name = m.group(2) if m.lastindex == 2 else ""
        return Route("song" if name else "song_zip", name=name, song=m.group(1), token=token)
    for kind, pattern in (("loop", _LOOP), ("export", _EXPORT), ("zip", _ZIP)):
        m = pattern.match(path)
        if m:
            name = m.group(2) if m.lastindex == 2 else ""
            if kind == "loop" and not LOOP_FILE.match(name):
                break
            return Route(kind, cid=int(m.group(1)), name=name, token=token)
    raise Refused(404, f"no such page {path[:80]!r}")


def check_token(given: str, token: str) -> None:
    """Refused (403) unless ``given`` is the token (compared in constant time)."""
    if not given or not hmac.compare_digest(given.encode(), token.encode()):
        raise Refused(403, "wrong or missing token: open the address dd-live serve printed")


def one_header(headers, name: str) -> str | None:
    """The value of header ``name`` (None if absent); Refused (400) if a request repeats it."""
    values = headers.get_all(name)
    if len(values) > 1:
        raise Refused(400, f"a request with {len(values)} {name} headers is refused")
    return values[0] if values else None


def check_origin(origin: str | None, host: str | None, *, loopback: bool) -> None:
    """Refused (403) unless a WebSocket's Origin is this server's own page. No Origin (not a browser) passes:
    the token still guards it."""
    if host is None or not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]{1,270}", host):
        raise Refused(400, "a request needs a Host header")
    if loopback and host.rsplit(":", 1)[0] not in LOOPBACK_NAMES and host not in LOOPBACK_NAMES:
        raise Refused(403, f"this server answers to 127.0.0.1 or localhost, not {host[:60]!r}")
    if origin is not None and origin != f"http://{host}":
        raise Refused(403, f"a WebSocket from another page ({origin[:60]!r}) is refused")


def inside(folder: Path, name: str) -> Path:
    """``folder/name`` if it is a regular file whose real path stays in ``folder``'s real path; Refused (404)
    otherwise (missing, a folder, or a symlink leading out). The folder itself is confined to its session by
    :meth:`dd_live.session.session.Session.confined`."""
    base = folder.resolve()
    path = (folder / name)
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise Refused(404, f"no file {name!r}") from None
    if not real.is_relative_to(base) or not real.is_file():
        raise Refused(404, f"no file {name!r}")
    return real


def export_files(folder: Path) -> list[tuple[Path, str]]:
    """Every regular file under an export ``folder`` that stays inside it, with its name in a zip."""
    base = folder.resolve()
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        real = path.resolve()
        if real.is_relative_to(base):
            out.append((real, path.relative_to(folder).as_posix()))
    return out
