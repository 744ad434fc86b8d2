"""The sounds a session keeps: the exact audio of every rated loop's samples, content-addressed in
``samples/<sha256>.wav``, so rated loops replay and export whatever happens to the sample folders.
A mixin of :class:`dd_live.session.session.Session` (it uses the session's database and folder)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

log = logging.getLogger("dd_live.session")


def sound_hash(library, i: int, hashes: dict[int, str] | None = None) -> str:
    """sha256 of library sample ``i``'s float32 audio (the name of its kept file), cached in ``hashes``."""
    import hashlib

    digest = hashes.get(i) if hashes is not None else None
    if digest is None:
        digest = hashlib.sha256(np.ascontiguousarray(library.audio(i), dtype=np.float32).tobytes()).hexdigest()
        if hashes is not None:
            hashes[i] = digest
    return digest


@dataclass
class ExportReport:
    """What :meth:`SessionSounds.export_rated` did: loops asked for, written, found exported before, and
    one line for each that could not be."""

    asked: int = 0
    written: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)


class UnknownLoop(InputError):
    """No candidate has this id in the session."""


class SessionSounds:
    """The rated loops' own sounds; see the module docstring."""

    @property
    def samples_dir(self) -> Path:
        return self.folder / "samples"

    def sample_rows(self, cid: int, library, hashes: dict[int, str] | None = None) -> list[tuple]:
        """Candidate ``cid``'s loop_samples rows (track, key, sha256 of the audio, category), for :meth:`rate`;
        no file is written (:meth:`keep_sample_files` does that). ``hashes`` caches sha256 by library index.
        Empty if the library no longer has one of its samples."""
        from ..loops.pattern import Pattern

        row = self.candidate(cid)
        if row is None:
            return []
        keys = Pattern.from_json(row.pattern).samples
        if not all(k in library for k in keys):
            return []
        rows = []
        for track, key in enumerate(keys):
            i = library.index(key)
            digest = sound_hash(library, i, hashes)
            rows.append((int(cid), track, key, digest, library.samples[i].category))
        return rows

    def keep_sample_files(self, rows: list[tuple], library, hashes: dict[int, str] | None = None) -> int:
        """Write samples/<sha256>.wav for ``rows`` whose file is missing, from ``library`` (only where the
        library's sound under that key still has that hash; ``hashes`` caches them). Returns how many."""
        import soundfile as sf

        from .. import SAMPLE_RATE
        from ..sound.audio import atomic_path, write_error

        written = 0
        for _, _, key, digest, _ in rows:
            path = self.samples_dir / f"{digest}.wav"
            if path.is_file() or key not in library:
                continue
            i = library.index(key)
            if sound_hash(library, i, hashes) != digest:
                continue  # the folder's file changed since: that sound is not to be had any more
            audio = np.ascontiguousarray(library.audio(i), dtype=np.float32)
            with atomic_path(path, force=True) as tmp:  # float WAV, unclipped: the exact audio
                try:
                    sf.write(str(tmp), audio, SAMPLE_RATE, subtype="FLOAT", format="WAV")
                except (sf.LibsndfileError, RuntimeError) as err:
                    raise write_error(path, err) from err
            written += 1
        return written

    def keep_samples(self, cid: int, library, hashes: dict[int, str] | None = None) -> list[tuple]:
        """:meth:`sample_rows` and :meth:`keep_sample_files` together (files first)."""
        rows = self.sample_rows(cid, library, hashes)
        self.keep_sample_files(rows, library, hashes)
        return rows

    def missing_sample_files(self) -> list[tuple]:
        """loop_samples rows whose file is not in samples/ (a kill between a rating and its files)."""
        rows = self._query("SELECT * FROM loop_samples")
        return [r for r in rows if not (self.samples_dir / f"{r[3]}.wav").is_file()]

    def loop_library(self, cid: int, cache: dict[str, np.ndarray] | None = None):
        """The sounds kept for candidate ``cid`` as a SampleLibrary keyed like its pattern, or None if the
        session kept none (a loop nobody rated, a session from before sounds were kept) or one of its copies
        is missing or damaged (said once in the log): callers then fall back to the sample folders. ``cache``:
        sounds already read and checked, by hash (filled here), for many loops in a row."""
        import hashlib

        import soundfile as sf

        from ..sound.samples import assemble_library

        rows = self._query("SELECT key, hash, category FROM loop_samples WHERE candidate_id=? ORDER BY track",
                           (int(cid),))
        if not rows:
            return None
        items, seen = [], set()
        for key, digest, category in rows:
            if key in seen:
                continue
            seen.add(key)
            path = self.samples_dir / f"{digest}.wav"
            audio = None if cache is None else cache.get(digest)
            if audio is None:
                try:
                    audio, _ = sf.read(str(path), dtype="float32", always_2d=False)
                except (OSError, RuntimeError) as err:
                    log.warning("loop %d: the session's copy of %r is unreadable (%s)", cid, key, err)
                    return None
                if hashlib.sha256(np.ascontiguousarray(audio).tobytes()).hexdigest() != digest:
                    log.warning("loop %d: the session's copy of %r (%s) is damaged", cid, key, path.name)
                    return None
                if cache is not None:
                    cache[digest] = audio
            items.append((key, path, audio, category))
        return assemble_library(items, [])

    def unkept(self) -> list[int]:
        """Rated candidates whose sounds are not kept in samples/ yet."""
        return [int(r[0]) for r in self._query(
            "SELECT candidate_id FROM ratings WHERE candidate_id NOT IN (SELECT candidate_id FROM loop_samples)")]

    def add_loop_samples(self, rows: list[tuple]) -> None:
        with self._tx() as c:
            c.executemany("INSERT OR REPLACE INTO loop_samples VALUES (?, ?, ?, ?, ?)", rows)

    def played_pattern(self, cid: int, row=None):
        """Loop ``cid``'s pattern (from its database ``row`` if already read) as it plays now: with the session's
        feel layer. None for an unknown loop."""
        from ..groove.feel import apply
        from ..loops.pattern import Pattern

        row = self.candidate(cid) if row is None else row
        return None if row is None else apply(Pattern.from_json(row.pattern), self.feel())

    def export_is_current(self, cid: int, out: Path, *, bpm: float | None = None, gm: bool = False) -> bool:
        """Whether ``out`` holds a complete export of loop ``cid`` as it plays now (its pattern.json, written
        last, equal to the played pattern: a feel changed since makes it stale), at ``bpm`` (default: the
        loop's) and with the note map ``gm`` asks for."""
        from ..loops.export import made_as

        done, row = Path(out) / "pattern.json", self.candidate(cid)
        played = self.played_pattern(cid, row)
        if played is None or not done.is_file() or done.read_text().strip() != played.to_json():
            return False
        made = made_as(out)
        return made is not None and abs(made[0] - (bpm or row.bpm)) < 0.01 and made[1] == gm

    def export_loop(self, cid: int, out: Path, library, *, bpm: float | None = None, gm: bool = False,
                    force: bool = False) -> Path:
        """Write loop ``cid``'s export (loop.wav, preview.wav, pattern.json, loop.mid, kit.sfz, samples/) into
        ``out`` as it plays now (the session's feel layer in its offsets), with the loop's kept sounds, else
        ``library`` (the session's sample folders, or a function loading them, called only then), at ``bpm``
        (default: the loop's), its notes Drum Rack pads or with ``gm`` General MIDI notes by family. UnknownLoop
        for an unknown loop; ExportError if a sound is in neither."""
        from ..errors import ExportError
        from ..loops.export import export_pattern

        row = self.candidate(cid)
        if row is None:
            raise UnknownLoop(f"no candidate {cid}")
        pattern = self.played_pattern(cid, row)
        source = self.loop_library(cid)
        if source is None:
            source = library() if callable(library) else library
        missing = [k for k in pattern.samples if source is None or k not in source]
        if missing:
            raise ExportError(f"loop {cid}: sample {missing[0]!r} is in neither the session nor its sample folders")
        export_pattern(out, pattern, source, bpm=bpm or row.bpm, gm=gm, force=force)
        return out

    def export_rated(self, out: Path, library, *, liked: bool = False, bpm: float | None = None, gm: bool = False,
                     force: bool = False) -> ExportReport:
        """Export every rated (or liked) loop into ``out/<id>_<liked|disliked>``; loops exported there before
        (same pattern.json) are skipped unless ``force``, so a rerun adds only new ones. ``library`` as in
        :meth:`export_loop`, loaded at most once. A loop whose sounds are gone is reported, not fatal."""
        from ..errors import ExportError

        rated = dict(self.ratings())
        ids = sorted(c for c, like in rated.items() if like or not liked)
        report = ExportReport(asked=len(ids))
        loaded: list = []

        def folders():
            if not loaded:
                loaded.append(library() if callable(library) else library)
            return loaded[0]

        for cid in ids:
            target = out / f"{cid:05d}_{'liked' if rated[cid] else 'disliked'}"
            if not force and self.export_is_current(cid, target, bpm=bpm, gm=gm):
                report.already += 1
                continue
            try:
                self.export_loop(cid, target, folders, bpm=bpm, gm=gm, force=force)
            except ExportError as err:
                report.failed.append(str(err))
                continue
            report.written += 1
        return report
