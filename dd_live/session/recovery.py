"""Reading what is left of a damaged session database and rebuilding it (:func:`rebuild`),
and restoring a session's critic from its checkpoints, past a damaged one (:func:`restore_trainer`)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError

log = logging.getLogger("dd_live.daemon")


def damaged(err: sqlite3.DatabaseError) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB (not a locked or unopenable file)."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)
    return not isinstance(err, sqlite3.OperationalError)


def read_only(db: Path) -> sqlite3.Connection:
    """``db`` opened for reading only, on a disk or in a folder this process may not write: read-only where
    SQLite can share it (a WAL index beside it, or one it may make), else as an immutable file. InputError in
    one line if neither reads it."""
    from urllib.parse import quote

    last: Exception | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(f"file:{quote(str(db))}?{flags}", uri=True, check_same_thread=False,
                                   isolation_level=None, timeout=10)
            conn.execute("SELECT COUNT(*) FROM candidates").fetchone()
            return conn
        except sqlite3.Error as err:
            last = err
    raise InputError(f"cannot read session database {db}: {last}")


def rebuild(db: Path, folder: Path, why: BaseException, *, connect: Callable[[Path], sqlite3.Connection], schema: str,
            tables: Sequence[str], columns: Sequence[str]) -> sqlite3.Connection:
    """Move the damaged database ``db`` aside and copy everything readable into a fresh one made by ``connect``
    and ``schema`` (see :func:`salvage` for ``tables`` and ``columns``); InputError if nothing could be read.
    The caller holds the session's lock."""
    aside = db.with_name(f"{db.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            os.replace(f"{db}{suffix}", f"{aside}{suffix}")
    rows, readable = salvage(aside, folder, tables, columns)
    if not readable:  # left where it was, so that `dd-live sessions` still shows it
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{aside}{suffix}").exists():
                os.replace(f"{aside}{suffix}", f"{db}{suffix}")
        raise InputError(f"{db} is damaged and nothing in it could be read ({why}); start a new session")
    conn = connect(db)
    conn.executescript(schema)
    known = {r[0] for r in rows["candidates"]}
    lost = [r for r in rows["ratings"] if r[0] not in known]
    rows["ratings"] = [r for r in rows["ratings"] if r[0] in known]
    conn.execute("BEGIN IMMEDIATE")
    for table in tables:
        for r in rows[table]:
            conn.execute(f"INSERT OR IGNORE INTO {table} VALUES ({', '.join('?' * len(r))})", r)
    conn.execute("COMMIT")
    log.warning("%s was damaged (%s): recovered %d candidates and %d ratings into a fresh file%s; the damaged "
                "one is kept as %s", db, why, len(rows["candidates"]), len(rows["ratings"]),
                f" ({len(lost)} ratings of lost candidates dropped)" if lost else "", aside.name)
    return conn


def salvage(db: Path, folder: Path, tables: Sequence[str],
            columns: Sequence[str]) -> tuple[dict[str, list[tuple]], bool]:
    """Every row of every table that can still be read from ``db``, and whether anything could be read at all.

    ``tables``: the tables to read; ``columns``: the candidates table's columns, in order (the keys of
    each candidates/<id>/candidate.json). Tables are scanned in rowid order; where a scan hits a damaged
    page it starts again past the row it stopped at, one rowid further each time, up to a bound taken
    from whatever is known (the largest rowid, the candidate folders on disk).
    """
    rows: dict[str, list[tuple]] = {t: [] for t in tables}
    readable = False
    try:
        src = sqlite3.connect(str(db))
    except sqlite3.Error:
        src = None
    if src is not None:
        try:
            on_disk = [int(d.name) for d in (folder / "candidates").iterdir() if d.name.isdigit()] \
                if (folder / "candidates").is_dir() else []
            for table in tables:
                got, ok = scan(src, table, max(on_disk, default=0) + 4096)
                readable = readable or ok
                rows[table] = got
        finally:
            src.close()
    # candidate rows lost with their pages come back from the copy beside their files
    have = {r[0] for r in rows["candidates"]}
    for d in sorted((folder / "candidates").glob("*/candidate.json")):
        try:
            data = json.loads(d.read_text())
            row = tuple(data[c] for c in columns)
        except (OSError, ValueError, TypeError, KeyError):
            continue
        readable = True
        if row[0] not in have:
            rows["candidates"].append(row)
    return rows, readable


def scan(src: sqlite3.Connection, table: str, bound: int) -> tuple[list[tuple], bool]:
    """The readable rows of ``table`` (by rowid up to ``bound``) and whether any query of it succeeded."""
    out: dict[int, tuple] = {}
    ok = False
    start = -(2 ** 63)
    try:
        top = src.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0]
        bound = max(bound, int(top or 0))
        ok = True
    except sqlite3.DatabaseError:
        pass
    while start <= bound:
        try:
            for r in src.execute(f"SELECT rowid, * FROM {table} WHERE rowid >= ? ORDER BY rowid", (start,)):
                out[r[0]] = tuple(r[1:])
                start = r[0] + 1
            ok = True
            break
        except sqlite3.DatabaseError:
            start = max(start, 0) + 1
    if table in ("candidates", "ratings"):
        return [out[k] for k in sorted(out)], ok
    return list(out.values()), ok


def restore_trainer(session, library, *, seed: int, init: str, learn: str) -> tuple[Any, int, list[tuple[int, bool]]]:
    """The session's trainer, the critic version it had published and the ratings it had learned from.

    From the latest checkpoint; else from the initial one (a damaged latest checkpoint is moved aside
    as ``<name>.damaged-<time>`` with one warning, and the critic is then rebuilt from the ratings);
    else a new critic started as ``init`` says, learning as ``learn`` says, saved as both.
    """
    from ..learn.pretrain import starting_critic
    from ..learn.trainer import TrainConfig, Trainer
    from ..learn.trainset import resolve_learn

    trainer, extra = _load_checkpoint(session.latest_checkpoint, seed)
    if trainer is not None:
        return trainer, int(extra.get("version", 0)), [(int(c), bool(v)) for c, v in extra.get("ratings", [])]
    trainer, _ = _load_checkpoint(session.initial_checkpoint, seed)
    if trainer is None:
        learn = resolve_learn(learn, init)
        critic = starting_critic(init, library=library, seed=seed, flat=learn == "head")
        trainer = Trainer(critic, TrainConfig(seed=seed, learn=learn))
        trainer.save(session.initial_checkpoint, extra={"version": 0, "ratings": []})
    trainer.save(session.latest_checkpoint, extra={"version": 0, "ratings": []})
    return trainer, 0, []


def _load_checkpoint(path: Path, seed: int) -> tuple[Any, dict]:
    """(a Trainer restored from checkpoint ``path``, the checkpoint's extra), or (None, {}) if there is none
    or it does not load (then it is moved aside with one warning)."""
    from ..errors import InputError
    from ..learn.critic import Critic
    from ..learn.trainer import TrainConfig, Trainer

    if not path.is_file():
        return None, {}
    trainer = Trainer(Critic(), TrainConfig(seed=seed))
    try:
        return trainer, trainer.load(path)
    except InputError as err:
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        log.warning("%s; moved aside as %s: the critic is rebuilt from the session's ratings", err, aside.name)
        return None, {}
