"""The performer's edits a session keeps: which loop the daemon proposed each edited candidate came from
(``/dd/edit``, :mod:`dd_live.live.edits`), so that after a restart a like of an edit still dislikes that loop. A
mixin of :class:`dd_live.session.session.Session` (it uses the session's database). Also each candidate's grid,
parsed once, which the kept edits and the trainer's cell terms read."""

from __future__ import annotations

import numpy as np

#: the table, part of the session's schema (made in an older session's database when it is opened)
SCHEMA = """
CREATE TABLE IF NOT EXISTS edits(   -- each edited candidate and the loop the daemon proposed that it came from
    candidate_id INTEGER PRIMARY KEY,
    root INTEGER NOT NULL
);
"""


class SessionEdits:
    """Edited candidates and their roots; see the module docstring."""

    def add_edit(self, cid: int, root: int) -> None:
        """Candidate ``cid`` is an edit of ``root`` (the proposed loop its edits began from); committed on return."""
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO edits VALUES (?, ?)", (int(cid), int(root)))

    def edit_roots(self) -> dict[int, int]:
        """Each edited candidate's root."""
        return {int(a): int(b) for a, b in self._query("SELECT candidate_id, root FROM edits")}

    def kept_edits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(edited hits, root hits), bool (tracks, steps), of each edited candidate liked (kept), by id; a damaged
        row teaches nothing (the loop itself cannot be played either)."""
        rows = self._query("SELECT e.candidate_id, e.root, c.pattern, p.pattern FROM edits e "
                           "JOIN ratings r ON r.candidate_id = e.candidate_id AND r.label = 1 "
                           "JOIN candidates c ON c.id = e.candidate_id JOIN candidates p ON p.id = e.root "
                           "ORDER BY e.candidate_id")
        pairs = [(self.grid(cid, a), self.grid(root, b)) for cid, root, a, b in rows]
        return [(e, r) for e, r in pairs if e is not None and r is not None]

    def grid(self, cid: int, pattern: str | None = None) -> np.ndarray | None:
        """Candidate ``cid``'s hits, bool (tracks, steps), parsed once (a candidate never changes; ``pattern``:
        its stored text, if the caller read it already); None for an unknown candidate or a damaged row."""
        from ..errors import PatternError
        from ..loops.pattern import Pattern

        grids = self.__dict__.setdefault("_grids", {})
        if cid not in grids:
            if pattern is None:
                row = self.candidate(cid)
                pattern = None if row is None else row.pattern
            try:
                grids[cid] = None if pattern is None else Pattern.from_json(pattern).hits
            except PatternError:
                grids[cid] = None
        return grids[cid]
