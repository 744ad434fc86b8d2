"""Durable sessions: one folder per session with an SQLite database and the loops' files.

Layout of a session folder::

    session.sqlite          candidates, ratings, settings (WAL, synchronous FULL)
    candidates/<id>/        loop.wav (session tempo), preview.wav, loop.mid, critic.wav (120 bpm, float)
    critic/initial.pt       the untrained critic, written once
    critic/latest.pt        the critic after the last training round (atomic replace)
    exports/<id>/           what /dd/export wrote

A rating is committed (fsync'd) before :meth:`Session.rate` returns, so a rating
acknowledged with /dd/rated survives a kill -9. Safe to call from several
threads (one connection behind a lock).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

SCHEMA_VERSION = 1
DB_NAME = "session.sqlite"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS candidates(
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    pattern TEXT NOT NULL,
    score REAL NOT NULL,
    version INTEGER NOT NULL,
    trained_on INTEGER NOT NULL,
    bpm REAL NOT NULL,
    mode TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ratings(
    candidate_id INTEGER PRIMARY KEY REFERENCES candidates(id),
    label INTEGER NOT NULL CHECK (label IN (0, 1)),
    seq INTEGER NOT NULL,       -- order of first rating (kept when a label is replaced)
    touched INTEGER NOT NULL,   -- order of the latest rating action (what undo removes)
    time REAL NOT NULL
);
"""


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


def resolve(spec: str | os.PathLike[str] | None, *, root: Path | None = None) -> Path:
    """A session folder from a name (under :func:`sessions_root`) or a path (anything with a / in it).

    None makes a new name from the date and time.
    """
    root = root or sessions_root()
    if spec is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name, k = stamp, 1
        while (root / name).exists():
            k += 1
            name = f"{stamp}-{k}"
        return root / name
    text = os.fspath(spec)
    if os.sep in text or "/" in text or text in (".", ".."):
        return Path(text).expanduser().resolve()
    return root / check_name(text)


@dataclass(frozen=True)
class CandidateRow:
    id: int
    created: float
    pattern: str
    score: float
    version: int
    trained_on: int
    bpm: float
    mode: str


class Session:
    """One session folder and its database."""

    def __init__(self, folder: Path, *, create: bool = True) -> None:
        self.folder = Path(folder)
        db = self.folder / DB_NAME
        if not db.exists() and not create:
            raise InputError(f"no session at {self.folder}")
        try:
            for sub in ("candidates", "critic", "exports"):
                (self.folder / sub).mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(db), check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise InputError(f"cannot open session {self.folder}: {err}") from err
        self._lock = threading.Lock()
        with self._tx() as c:
            row = c.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                c.execute("INSERT INTO meta VALUES ('schema', ?), ('created', ?)", (str(SCHEMA_VERSION), str(time.time())))
            elif int(row[0]) != SCHEMA_VERSION:
                raise InputError(f"session {self.folder} has schema {row[0]}; this dd_live reads {SCHEMA_VERSION}")

    # ------------------------------------------------------------ plumbing

    class _Tx:
        def __init__(self, session: Session) -> None:
            self.s = session

        def __enter__(self) -> sqlite3.Connection:
            self.s._lock.acquire()
            self.s._db.execute("BEGIN IMMEDIATE")
            return self.s._db

        def __exit__(self, kind, value, tb) -> None:
            try:
                self.s._db.execute("ROLLBACK" if kind else "COMMIT")
            finally:
                self.s._lock.release()

    def _tx(self) -> Session._Tx:
        return Session._Tx(self)

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def name(self) -> str:
        return self.folder.name

    def candidate_dir(self, cid: int) -> Path:
        return self.folder / "candidates" / str(int(cid))

    def export_dir(self, cid: int) -> Path:
        return self.folder / "exports" / str(int(cid))

    @property
    def initial_checkpoint(self) -> Path:
        return self.folder / "critic" / "initial.pt"

    @property
    def latest_checkpoint(self) -> Path:
        return self.folder / "critic" / "latest.pt"

    # ------------------------------------------------------------ settings

    def settings(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._query("SELECT key, value FROM settings")}

    def save_settings(self, values: dict[str, Any]) -> None:
        with self._tx() as c:
            c.executemany("INSERT OR REPLACE INTO settings VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()])

    # ------------------------------------------------------------ candidates

    def next_id(self) -> int:
        return int(self._query("SELECT COALESCE(MAX(id), 0) + 1 FROM candidates")[0][0])

    def add_candidate(self, cid: int, pattern_json: str, score: float, version: int, trained_on: int,
                      bpm: float, mode: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO candidates VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (int(cid), time.time(), pattern_json, float(score), int(version), int(trained_on), float(bpm), mode))

    def update_bpm(self, cid: int, bpm: float) -> None:
        with self._tx() as c:
            c.execute("UPDATE candidates SET bpm=? WHERE id=?", (float(bpm), int(cid)))

    def candidate(self, cid: int) -> CandidateRow | None:
        rows = self._query("SELECT * FROM candidates WHERE id=?", (int(cid),))
        return CandidateRow(*rows[0]) if rows else None

    def candidate_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM candidates")[0][0])

    # ------------------------------------------------------------ ratings

    def rate(self, cid: int, like: bool) -> tuple[int, int]:
        """Store (or replace) the rating of candidate ``cid``; committed on return. Returns (likes, dislikes)."""
        with self._tx() as c:
            if c.execute("SELECT 1 FROM candidates WHERE id=?", (int(cid),)).fetchone() is None:
                raise InputError(f"no candidate {cid}")
            touched = c.execute("SELECT COALESCE(MAX(touched), 0) + 1 FROM ratings").fetchone()[0]
            old = c.execute("SELECT seq FROM ratings WHERE candidate_id=?", (int(cid),)).fetchone()
            seq = old[0] if old else c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM ratings").fetchone()[0]
            c.execute("INSERT OR REPLACE INTO ratings VALUES (?, ?, ?, ?, ?)",
                      (int(cid), int(bool(like)), seq, touched, time.time()))
            return self._counts(c)

    def undo(self) -> int | None:
        """Remove the most recently given (or replaced) rating; returns its candidate id (None if there are none)."""
        with self._tx() as c:
            row = c.execute("SELECT candidate_id FROM ratings ORDER BY touched DESC LIMIT 1").fetchone()
            if row is None:
                return None
            c.execute("DELETE FROM ratings WHERE candidate_id=?", (row[0],))
            return int(row[0])

    def ratings(self) -> list[tuple[int, bool]]:
        """(candidate id, like) in the order they were first given (a replaced label keeps its place)."""
        return [(int(i), bool(v)) for i, v in self._query("SELECT candidate_id, label FROM ratings ORDER BY seq")]

    def label(self, cid: int) -> bool | None:
        rows = self._query("SELECT label FROM ratings WHERE candidate_id=?", (int(cid),))
        return bool(rows[0][0]) if rows else None

    @staticmethod
    def _counts(c: sqlite3.Connection) -> tuple[int, int]:
        likes, total = c.execute("SELECT COALESCE(SUM(label), 0), COUNT(*) FROM ratings").fetchone()
        return int(likes), int(total - likes)

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self._counts(self._db)


def list_sessions(root: Path | None = None) -> list[dict[str, Any]]:
    """Every session under ``root``: name, folder, ratings, likes, dislikes, candidates, last change."""
    root = root or sessions_root()
    out = []
    if not root.is_dir():
        return out
    for folder in sorted(p for p in root.iterdir() if (p / DB_NAME).is_file()):
        try:
            s = Session(folder, create=False)
        except InputError as err:
            out.append({"name": folder.name, "folder": str(folder), "error": str(err)})
            continue
        try:
            likes, dislikes = s.counts()
            out.append({"name": folder.name, "folder": str(folder), "ratings": likes + dislikes, "likes": likes,
                        "dislikes": dislikes, "candidates": s.candidate_count(),
                        "modified": (folder / DB_NAME).stat().st_mtime})
        finally:
            s.close()
    return out
