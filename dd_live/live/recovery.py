"""Reading what is left of a damaged session database (see :meth:`dd_live.live.session.Session._recover`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path


def damaged(err: sqlite3.DatabaseError) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB (not a locked or unopenable file)."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)
    return not isinstance(err, sqlite3.OperationalError)


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
