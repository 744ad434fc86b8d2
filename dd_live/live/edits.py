"""Editing a loop is rating it: a performer who would keep a loop "if only the kick were on 1" fixes it.

``/dd/edit id track step velocity`` sets one cell of candidate ``id`` (0: a rest) and ``/dd/edit/sound id track
sample`` gives a track another sound; either makes the edited loop a candidate of its own: a new id, rendered
(the critic's 120 bpm bar and the files at the session tempo), stored, scored by the critic that chooses
loops, and announced as the current loop (``/dd/candidate``, then ``/dd/edited id parent root``), so MIDI and
audio out play it from the next bar line and the next edit builds on it.

Keeping an edit is the performer's verdict on two loops: a like of the edited loop is also a dislike of its
root (the loop the daemon proposed, which the performer would not keep as it was), unless the root has a
rating of its own already. Both are stored as ratings, so the critic trains on both; which root each edit came
from is kept with the session (a like after a restart still dislikes it); an undo of the like
takes back the dislike it brought, and a redo brings both back. A dislike of an edit is a dislike of that
loop only. Edits in between (the loops of the clicks before the last) are never rated.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ..errors import InputError
from ..groove.record import Loop
from ..loops.pattern import Pattern
from ..osc.osc import OSCError

log = logging.getLogger("dd_live.edits")


class Edits:
    """The daemon's edited loops: which loop each was made from, and the dislikes their likes implied.
    Called on the OSC thread only (the daemon's commands), so its state needs no lock."""

    def __init__(self, daemon) -> None:
        self.daemon = daemon
        self.root: dict[int, int] = daemon.session.edit_roots()   # edited candidate id -> the proposed loop it
        #                                                                 was made from (kept with the session)
        self.implied: dict[int, int] = {}       # edited candidate id -> the root whose dislike its like stored

    def base(self, cid: int) -> Loop:
        """Candidate ``cid`` as a loop to edit (the current one, or rebuilt from the session)."""
        d = self.daemon
        cur = d.current
        if cur is not None and cur.id == cid:
            return cur
        loop = d._loop_from_session(cid)
        if loop is None:
            raise OSCError("unknown-id", f"no candidate {cid} to edit (unknown, another grid, or its sounds are gone)")
        return loop

    def cell(self, cid: int, track: int, step: int, velocity: int) -> Loop:
        """Candidate ``cid`` with the cell at ``track`` (1-based) and ``step`` (0-based) played at ``velocity``
        (0: a rest), made a candidate of its own and announced."""
        loop = self.base(cid)
        p = loop.pattern
        if not 1 <= track <= p.tracks:
            raise OSCError("args", f"/dd/edit: track must be 1-{p.tracks}, got {track}")
        if not 0 <= step < p.steps:
            raise OSCError("args", f"/dd/edit: step must be 0-{p.steps - 1}, got {step}")
        if (int(p.velocities[track - 1, step]) if p.hits[track - 1, step] else 0) == velocity:
            raise OSCError("state", f"loop {cid}'s track {track} step {step} is that already: nothing to edit")
        hits, velocities = p.hits.copy(), p.velocities.copy()
        hits[track - 1, step] = velocity > 0
        if velocity > 0:
            velocities[track - 1, step] = velocity
        return self._made(loop, replace(p, hits=hits, velocities=velocities, extra=dict(p.extra)))

    def sound(self, cid: int, track: int, sample: str) -> Loop:
        """Candidate ``cid`` with track ``track`` (1-based) playing ``sample`` (a key of the daemon's library,
        or a name /dd/samples gives if only one sound has it), made a candidate of its own and announced."""
        loop = self.base(cid)
        p = loop.pattern
        if not 1 <= track <= p.tracks:
            raise OSCError("args", f"/dd/edit/sound: track must be 1-{p.tracks}, got {track}")
        key = self.sample_key(sample)
        if p.samples[track - 1] == key:
            raise OSCError("state", f"loop {cid}'s track {track} plays {sample!r} already: nothing to edit")
        samples = list(p.samples)
        samples[track - 1] = key
        return self._made(loop, replace(p, samples=tuple(samples), extra=dict(p.extra)))

    def choices(self, cid: int, track: int) -> list[str]:
        """The sample keys track ``track`` (1-based) of candidate ``cid`` may take: the track's own sound first,
        then the other sounds of its role in the daemon's library (any sound where its own is not in it), at most
        MAX_SOUND_CHOICES."""
        from ..osc.protocol import MAX_SOUND_CHOICES

        p = self.base(cid).pattern
        if not 1 <= track <= p.tracks:
            raise OSCError("args", f"/dd/sounds: track must be 1-{p.tracks}, got {track}")
        lib, own = self.daemon.library, p.samples[track - 1]
        roles = lib.roles
        role = roles[lib.index(own)] if own in lib else None
        keys = [s.key for i, s in enumerate(lib.samples) if s.key != own and (role is None or roles[i] == role)]
        return [own, *keys][:MAX_SOUND_CHOICES]

    def sample_key(self, name: str) -> str:
        """The library key ``name`` stands for: a key, or a sound's name (file name without its extension) that
        only one sound of the library has."""
        lib = self.daemon.library
        if name in lib:
            return name
        found = [s.key for s in lib.samples if Path(s.key).stem == name]
        if len(found) == 1:
            return found[0]
        raise OSCError("args", f"no sound {name[:80]!r} in the daemon's samples" if not found else
                       f"{len(found)} sounds are called {name[:80]!r}: name one by its key (see /api/kit)")

    def _made(self, base: Loop, pattern: Pattern) -> Loop:
        """``pattern`` (an edit of ``base``) rendered, scored, stored as a new candidate and announced."""
        from ..loops.render import render_reference
        from .loop import store_candidate

        d = self.daemon
        gen, settings = d.generator, d.settings
        try:
            idx = d.library.indices(pattern.samples)
        except InputError as err:
            raise OSCError("args", str(err)) from None
        audio = render_reference([pattern], d.library)[0]
        with gen.gate.hold(high=True):
            score = float(gen.scorer.score_features(gen.scorer.features(audio[None]))[0])
        loop = Loop.from_pattern(pattern, d.library, audio, score, origin="edit", id=gen.new_id(), version=gen.version,
                                 trained_on=gen.trained_on, bpm=settings.bpm, pitches=gen.pitches(idx, settings),
                                 feel=settings.feel_layer)
        store_candidate(d.session, d.library, loop, mode="edit")
        self.root[loop.id] = self.root.get(base.id, base.id)
        d.session.add_edit(loop.id, self.root[loop.id])
        d._announce(loop)
        d.send("/dd/edited", loop.id, base.id, self.root[loop.id])
        return loop

    # ------------------------------------------------------------ ratings

    def dislike_implied(self, cid: int) -> int | None:
        """The root whose dislike a like of ``cid`` stores now: an edit's root with no rating of its own (None:
        ``cid`` is no edit, or its root is rated)."""
        root = self.root.get(cid)
        if root is None or self.daemon.session.label(root) is not None:
            return None
        return root

    def kept(self, cid: int, root: int) -> None:
        """A like of edit ``cid`` stored ``root``'s dislike too."""
        self.implied[cid] = root

    def undone(self, cid: int) -> int | None:
        """``cid``'s rating was undone: the root whose implied dislike goes with it (the undo takes it back too
        when it is the latest rating, stored just before the like)."""
        root = self.implied.get(cid)
        return None if root is None or self.daemon.session.label(root) is not False else root

    def redone(self, cid: int) -> int | None:
        """``cid``'s rating came back: the edit whose like it was implied by, if that like is still undone."""
        for edit, root in self.implied.items():
            if root == cid and self.daemon.session.label(edit) is None:
                return edit
        return None

