"""Durable sessions: one folder per session with an SQLite database and the loops' files.

Layout of a session folder::

    session.sqlite          candidates, ratings, settings, the feel layer's history (WAL, synchronous FULL)
    candidates/<id>/        loop.wav (session tempo), preview.wav, loop.mid, critic.wav (120 bpm, float)
    candidates/<id>/candidate.json   the candidate's row, a second copy for recovery
    critic/initial.pt       the untrained critic, written once
    critic/latest.pt        the critic after the last training round (atomic replace)
    exports/<id>/           what /dd/export wrote
    samples/<sha256>.wav    the exact audio of every sample a rated loop plays (content-addressed)
    lock                    held (an OS file lock) by the one daemon serving the session; holds its PID

A rating is committed (fsync'd) before :meth:`Session.rate` returns, so a rating
acknowledged with /dd/rated survives a kill -9. Safe to call from several
threads (one connection behind a lock). A database that fails SQLite's check is
moved aside and everything readable in it copied into a fresh one.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import InputError
from .folders import DB_NAME, check_folder
from .lock import SessionLock
from ..osc.protocol import UNDO_DEPTH
from .recovery import damaged, read_only, rebuild
from .edits import SCHEMA as EDITS_SCHEMA, SessionEdits
from .sounds import SessionSounds

log = logging.getLogger("dd_live.session")

SCHEMA_VERSION = 1
TABLES = ("meta", "settings", "candidates", "ratings", "loop_samples", "feel", "undone", "edits")

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
CREATE TABLE IF NOT EXISTS undone(  -- ratings taken back by undo, kept for redo (the last row comes back first)
    candidate_id INTEGER NOT NULL,
    label INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    touched INTEGER NOT NULL,
    time REAL NOT NULL,
    undone INTEGER PRIMARY KEY   -- order of the undos
);
CREATE TABLE IF NOT EXISTS loop_samples(  -- the exact sounds of each rated loop, kept in samples/
    candidate_id INTEGER NOT NULL,
    track INTEGER NOT NULL,
    key TEXT NOT NULL,
    hash TEXT NOT NULL,          -- sha256 of the float32 audio: samples/<hash>.wav
    category TEXT NOT NULL,
    PRIMARY KEY (candidate_id, track)
);
CREATE TABLE IF NOT EXISTS feel(   -- the feel layer after each take (or reset); the last row plays
    seq INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    kind TEXT NOT NULL,          -- take | reset
    layer TEXT NOT NULL,         -- JSON list: offset per step, fractions of a step
    stats TEXT NOT NULL          -- JSON object: what the take measured
);
""" + EDITS_SCHEMA


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


class Session(SessionSounds, SessionEdits):
    """One session folder and its database."""

    def __init__(self, folder: Path, *, create: bool = True, lock: bool = False, readonly: bool = False) -> None:
        """Open (``create``: or make) the session in ``folder``; ``lock``: hold its lock until close()
        (SessionBusy if another process holds it). A damaged database is recovered (see :meth:`_recover`).
        ``readonly``: only read it (a session on a read-only disk or of another user: export, list)."""
        self.folder = Path(folder)
        db = self.folder / DB_NAME
        if not db.exists() and not create:
            raise InputError(f"no session at {self.folder}")
        if create:
            check_folder(self.folder)
        self._file_lock = SessionLock(self.folder)
        self._lock = threading.Lock()
        if readonly:
            self._db = read_only(db)
            row = self._query("SELECT value FROM meta WHERE key='schema'")
            if not row or int(row[0][0]) != SCHEMA_VERSION:
                raise InputError(f"session {self.folder} has schema {row[0][0] if row else None}; this dd_live "
                                 f"reads {SCHEMA_VERSION}")
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if lock:
                self._file_lock.acquire()
            for sub in ("candidates", "critic", "exports", "samples"):
                (self.folder / sub).mkdir(exist_ok=True)
            self._db = self._open(db)
        except (OSError, sqlite3.Error) as err:
            self._file_lock.release()
            raise InputError(f"cannot open session {self.folder}: {err}") from err
        except BaseException:
            self._file_lock.release()
            raise
        with self._tx() as c:
            row = c.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                c.execute("INSERT INTO meta VALUES ('schema', ?), ('created', ?)", (str(SCHEMA_VERSION), str(time.time())))
            elif int(row[0]) != SCHEMA_VERSION:
                self.close()
                raise InputError(f"session {self.folder} has schema {row[0]}; this dd_live reads {SCHEMA_VERSION}")

    @staticmethod
    def _connect(db: Path) -> sqlite3.Connection:
        c = sqlite3.connect(str(db), check_same_thread=False, isolation_level=None, timeout=10)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
        return c

    def _open(self, db: Path) -> sqlite3.Connection:
        existed = db.exists()
        conn = None
        try:
            conn = self._connect(db)
            if existed:
                result = conn.execute("PRAGMA quick_check").fetchall()
                if result != [("ok",)]:
                    raise sqlite3.DatabaseError("; ".join(str(r[0]) for r in result[:3]))
            conn.executescript(_SCHEMA)
            return conn
        except sqlite3.DatabaseError as err:
            if not damaged(err):
                raise
            if conn is not None:
                conn.close()
            return self._recover(db, err)

    def _recover(self, db: Path, why: BaseException) -> sqlite3.Connection:
        """Move the damaged database aside and copy everything readable into a fresh one; candidates whose
        rows were lost come back from their candidate.json. InputError if nothing could be read."""
        took_lock = False
        if not self._file_lock.held:  # recovery rewrites the file: never under a serving daemon
            self._file_lock.acquire()
            took_lock = True
        try:
            return rebuild(db, self.folder, why, connect=self._connect, schema=_SCHEMA, tables=TABLES,
                           columns=[f.name for f in fields(CandidateRow)])
        finally:
            if took_lock:
                self._file_lock.release()

    # ------------------------------------------------------------ plumbing

    class _Tx:
        def __init__(self, session: Session) -> None:
            self.s = session

        def __enter__(self) -> sqlite3.Connection:
            self.s._lock.acquire()
            try:
                self.s._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as err:
                self.s._lock.release()
                raise OSError(5, f"the session database could not be written: {err}") from err
            except BaseException:
                self.s._lock.release()
                raise
            return self.s._db

        def __exit__(self, kind, value, tb) -> None:
            try:
                self.s._db.execute("ROLLBACK" if kind else "COMMIT")
            except sqlite3.OperationalError as err:   # the commit itself failed: a full disk, an I/O error
                if self.s._db.in_transaction:          # undone now, or the next commit would carry it
                    try:
                        self.s._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise OSError(5, f"the session database could not be written: {err}") from err
            finally:
                self.s._lock.release()
            if isinstance(value, sqlite3.OperationalError):   # rolled back: nothing of it was kept
                raise OSError(5, f"the session database could not be written: {value}") from value

    def _tx(self) -> Session._Tx:
        return Session._Tx(self)

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        """Close the database and release the session's lock (idempotent)."""
        with self._lock:
            self._db.close()
        self._file_lock.release()

    @property
    def name(self) -> str:
        return self.folder.name

    def candidate_dir(self, cid: int) -> Path:
        return self.confined(self.folder / "candidates" / str(int(cid)))

    def export_dir(self, cid: int) -> Path:
        return self.confined(self.folder / "exports" / str(int(cid)))

    def confined(self, path: Path) -> Path:
        """``path`` (a folder or file of this session) if, links followed, it stays inside the session's real
        folder; PermissionError (an OSError, which every thread carries on past) otherwise (a link at exports/<id>, candidates/<id> or songs/<name> must not let a
        page read, or an export or a song write, anywhere else)."""
        if not path.resolve().is_relative_to(self.real_folder):
            raise PermissionError(13, f"{path.relative_to(self.folder)} leads out of the session folder (a link?): "
                                      "refused")
        return path

    @cached_property
    def real_folder(self) -> Path:
        return self.folder.resolve()

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
                      bpm: float, mode: str) -> CandidateRow:
        """Store a candidate; its row is also written to candidates/<id>/candidate.json (for recovery)."""
        from ..sound.audio import write_bytes

        row = CandidateRow(int(cid), time.time(), pattern_json, float(score), int(version), int(trained_on),
                           float(bpm), str(mode))
        write_bytes(self.candidate_dir(cid) / "candidate.json", json.dumps(asdict(row)).encode(), force=True)
        with self._tx() as c:
            c.execute("INSERT INTO candidates VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(asdict(row).values()))
        return row

    def update_bpm(self, cid: int, bpm: float) -> None:
        with self._tx() as c:
            c.execute("UPDATE candidates SET bpm=? WHERE id=?", (float(bpm), int(cid)))

    def candidate(self, cid: int) -> CandidateRow | None:
        rows = self._query("SELECT * FROM candidates WHERE id=?", (int(cid),))
        return CandidateRow(*rows[0]) if rows else None

    def candidate_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM candidates")[0][0])

    # ------------------------------------------------------------ ratings

    def rate(self, cid: int, like: bool, samples: list[tuple] = ()) -> tuple[int, int]:
        """Store (or replace) the rating of candidate ``cid`` with its loop_samples rows (from
        :meth:`keep_samples`), in one transaction; committed on return. Returns (likes, dislikes)."""
        with self._tx() as c:
            if c.execute("SELECT 1 FROM candidates WHERE id=?", (int(cid),)).fetchone() is None:
                raise InputError(f"no candidate {cid}")
            c.executemany("INSERT OR REPLACE INTO loop_samples VALUES (?, ?, ?, ?, ?)", list(samples))
            touched = c.execute("SELECT COALESCE(MAX(touched), 0) + 1 FROM ratings").fetchone()[0]
            old = c.execute("SELECT seq FROM ratings WHERE candidate_id=?", (int(cid),)).fetchone()
            seq = old[0] if old else c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM (SELECT seq FROM ratings "
                                               "UNION ALL SELECT seq FROM undone)").fetchone()[0]
            c.execute("INSERT OR REPLACE INTO ratings VALUES (?, ?, ?, ?, ?)",
                      (int(cid), int(bool(like)), seq, touched, time.time()))
            self._set_undo_run(c, 0)
            return self._counts(c)

    def undo(self, *, only: int | None = None) -> int | None:
        """Take back the most recently given (or replaced) rating, kept for :meth:`redo`; returns its candidate id
        (None if there are none, or with ``only``, if it is not candidate ``only``'s). InputError after
        :data:`UNDO_DEPTH` undos in a row: a storm of undos cannot empty a session."""
        with self._tx() as c:
            row = c.execute("SELECT * FROM ratings ORDER BY touched DESC LIMIT 1").fetchone()
            if row is None or (only is not None and row[0] != only):
                return None
            run = self._undo_run(c) + 1
            if run > UNDO_DEPTH:
                raise InputError(f"undo goes back {UNDO_DEPTH} ratings in a row at most; /dd/redo brings them back")
            self._set_undo_run(c, run)
            c.execute("INSERT INTO undone(candidate_id, label, seq, touched, time) VALUES (?, ?, ?, ?, ?)", row)
            c.execute("DELETE FROM ratings WHERE candidate_id=?", (row[0],))
            return int(row[0])

    def redo(self) -> tuple[int, bool] | None:
        """Bring back the rating undone last (its place in the order kept), unless its loop was rated again
        since; returns (candidate id, like), None if nothing is left to redo."""
        with self._tx() as c:
            while True:
                row = c.execute("SELECT candidate_id, label, seq, time, undone FROM undone "
                                "ORDER BY undone DESC LIMIT 1").fetchone()
                if row is None:
                    return None
                cid, label, seq, when, key = row
                c.execute("DELETE FROM undone WHERE undone=?", (key,))
                if c.execute("SELECT 1 FROM ratings WHERE candidate_id=?", (cid,)).fetchone() is None:
                    break                                # a loop rated again since keeps its newer rating
            touched = c.execute("SELECT COALESCE(MAX(touched), 0) + 1 FROM ratings").fetchone()[0]
            c.execute("INSERT INTO ratings VALUES (?, ?, ?, ?, ?)", (cid, label, seq, touched, when))
            self._set_undo_run(c, max(0, self._undo_run(c) - 1))
            return int(cid), bool(label)

    @staticmethod
    def _undo_run(c: sqlite3.Connection) -> int:
        """Undos in a row so far (a rating starts again from 0, a redo gives one back)."""
        row = c.execute("SELECT value FROM meta WHERE key='undo_run'").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _set_undo_run(c: sqlite3.Connection, run: int) -> None:
        c.execute("INSERT OR REPLACE INTO meta VALUES ('undo_run', ?)", (str(int(run)),))

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

    # ------------------------------------------------------------ feel

    def feel(self) -> list[float] | None:
        """The feel layer playing now (offset per step, fractions of a step), None if never set."""
        rows = self._query("SELECT layer FROM feel ORDER BY seq DESC LIMIT 1")
        return [float(x) for x in json.loads(rows[0][0])] if rows else None

    def push_feel(self, layer, kind: str, stats: dict[str, Any] | None = None) -> int:
        """Store the layer after a take (``kind`` "take") or a reset; committed on return. Returns takes stored."""
        with self._tx() as c:
            c.execute("INSERT INTO feel(time, kind, layer, stats) VALUES (?, ?, ?, ?)",
                      (time.time(), kind, json.dumps([round(float(x), 6) for x in layer]), json.dumps(stats or {})))
            return int(c.execute("SELECT COUNT(*) FROM feel WHERE kind='take'").fetchone()[0])

    def pop_feel(self) -> bool:
        """Forget the last take or reset (False if there is none)."""
        with self._tx() as c:
            row = c.execute("SELECT seq FROM feel ORDER BY seq DESC LIMIT 1").fetchone()
            if row is None:
                return False
            c.execute("DELETE FROM feel WHERE seq=?", (row[0],))
            return True
