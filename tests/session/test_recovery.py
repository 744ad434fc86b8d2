"""Reading what is left of a damaged SQLite file, one table and one rowid at a time (dd_live.session.recovery)."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from dd_live.errors import InputError
from dd_live.session.recovery import damaged, read_only, salvage, scan


def _table(path, n=3000):
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA page_size=1024")
    conn.execute("CREATE TABLE candidates (id INTEGER PRIMARY KEY, pattern TEXT)")
    conn.executemany("INSERT INTO candidates VALUES (?, ?)", [(i, f"loop {i} " + "x" * 60) for i in range(1, n + 1)])
    conn.commit()
    conn.close()


def _spoil(path, first, last):
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    pages = len(data) // page
    for k in range(int(pages * first), int(pages * last)):
        data[k * page:(k + 1) * page] = b"\xa5" * page
    path.write_bytes(bytes(data))


def test_a_scan_goes_on_past_a_damaged_page_and_keeps_the_rows_on_both_sides(tmp_path):
    db = tmp_path / "s.sqlite"
    _table(db)
    _spoil(db, 0.45, 0.5)
    src = sqlite3.connect(str(db))
    with pytest.raises(sqlite3.DatabaseError):
        src.execute("SELECT * FROM candidates ORDER BY rowid").fetchall()
    rows, ok = scan(src, "candidates", 3000)
    src.close()
    ids = [r[0] for r in rows]
    assert ok and ids == sorted(ids) and ids[0] == 1 and ids[-1] == 3000     # the last rows, past the damage
    assert 2400 < len(ids) < 3000                                            # only the spoilt pages' rows lost
    assert all(r[1] == f"loop {r[0]} " + "x" * 60 for r in rows)


def test_salvage_takes_lost_candidates_back_from_their_json_beside_the_files(tmp_path):
    db = tmp_path / "session.sqlite"
    db.write_bytes(os.urandom(4096))                                    # nothing readable in the file
    for cid in (3, 7):
        d = tmp_path / "candidates" / str(cid)
        d.mkdir(parents=True)
        (d / "candidate.json").write_text(json.dumps({"id": cid, "pattern": f"p{cid}", "more": 1}))
    (tmp_path / "candidates" / "9").mkdir()
    (tmp_path / "candidates" / "9" / "candidate.json").write_text("{not json")   # skipped, not fatal
    rows, readable = salvage(db, tmp_path, ("candidates", "ratings"), ("id", "pattern"))
    assert readable and rows["candidates"] == [(3, "p3"), (7, "p7")] and rows["ratings"] == []
    rows, readable = salvage(db, tmp_path / "nowhere", ("candidates", "ratings"), ("id", "pattern"))
    assert not readable and rows == {"candidates": [], "ratings": []}


def test_damage_is_told_apart_from_a_busy_or_missing_file():
    corrupt, notadb, busy = (sqlite3.DatabaseError("x"), sqlite3.DatabaseError("x"), sqlite3.OperationalError("x"))
    corrupt.sqlite_errorcode, notadb.sqlite_errorcode, busy.sqlite_errorcode = 11, 26, 5
    assert damaged(corrupt) and damaged(notadb) and not damaged(busy)
    assert not damaged(sqlite3.OperationalError("unable to open")) and damaged(sqlite3.DatabaseError("malformed"))


def test_a_database_in_a_folder_this_process_may_not_write_is_read(tmp_path):
    db = tmp_path / "session.sqlite"
    _table(db, 10)
    conn = read_only(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM candidates").fetchone()[0] == 10
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("DELETE FROM candidates")
    finally:
        conn.close()
    (tmp_path / "other.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match=r"^cannot read session database .*other\.sqlite: "):
        read_only(tmp_path / "other.sqlite")
