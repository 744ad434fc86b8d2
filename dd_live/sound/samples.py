"""Sample libraries: the default kit and user folders, as mono float32 at 44.1 kHz.

A :class:`SampleLibrary` holds every usable one-shot in one flat float32 array
(``flat``, with ``offsets`` and ``lengths`` in samples), which is what the
renderer reads. User folders are scanned recursively for anything libsndfile
reads; files that cannot be used are skipped with one line each (see
:class:`Skipped`). Decoded audio is cached per folder, keyed on each file's path,
size and mtime, so a second load of a large library is a stat per file and one read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..errors import InputError, SampleError
from .categories import RESEARCH_KIT, guess_category

MAX_SECONDS = 10.0
"""Longer files are not one-shots (loops, songs) and are skipped."""
MIN_SECONDS = 0.005
SILENCE_DB = -80.0
"""A file whose peak is below this (dBFS) is silent and skipped."""
TRIM_DB = -60.0
"""Leading and trailing audio below this, relative to the peak (dB), is trimmed."""
CACHE_VERSION = 1

@dataclass(frozen=True)
class Skipped:
    """A file that was not loaded, and why (one line for the user)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


@dataclass(frozen=True)
class SampleInfo:
    """One sample of a library: its key (stable name), file, category and place in ``flat``."""

    key: str
    path: Path
    category: str
    offset: int
    length: int


@dataclass
class SampleLibrary:
    """Usable one-shots, mono float32 at 44.1 kHz, concatenated in ``flat``."""

    samples: list[SampleInfo]
    flat: np.ndarray
    skipped: list[Skipped] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_key = {s.key: i for i, s in enumerate(self.samples)}
        self.offsets = np.array([s.offset for s in self.samples], dtype=np.int64)
        self.lengths = np.array([s.length for s in self.samples], dtype=np.int64)
        self.categories = np.array([s.category for s in self.samples])

    @cached_property
    def roles(self) -> np.ndarray:
        """Each sample's role in a drum loop (:mod:`dd_live.sound.roles`), found once."""
        from .roles import roles_of
        return roles_of(self)

    @cached_property
    def role_pools(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per role, the samples a track of that role draws from and their probabilities (found once)."""
        from .roles import role_pools
        return role_pools(self)

    def __len__(self) -> int:
        return len(self.samples)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def index(self, key: str) -> int:
        """Position of the sample called ``key``; InputError if the library has none."""
        try:
            return self._by_key[key]
        except KeyError:
            raise InputError(f"sample {key!r} is not in this library") from None

    def indices(self, keys: Sequence[str]) -> np.ndarray:
        """Positions (int64) of the samples called ``keys``; InputError for a key the library lacks."""
        return np.array([self.index(k) for k in keys], dtype=np.int64)

    def keys(self, indices: Sequence[int] | np.ndarray) -> tuple[str, ...]:
        """Keys of the samples at ``indices``."""
        return tuple(self.samples[int(i)].key for i in indices)

    def audio(self, i: int) -> np.ndarray:
        """The audio of sample ``i``: a view into ``flat``, not to be modified (memory-mapped caches are read-only)."""
        s = self.samples[i]
        return self.flat[s.offset: s.offset + s.length]

    def in_category(self, category: str) -> np.ndarray:
        """Indices of the samples of one category."""
        return np.nonzero(self.categories == category)[0]

    def require(self, tracks: int) -> None:
        """InputError unless there are at least ``tracks`` usable samples."""
        if len(self) < tracks:
            raise InputError(
                f"only {len(self)} usable sample(s) found, {tracks} needed (one per track); "
                "add samples or lower --tracks")


# ---------------------------------------------------------------- loading one file

def trim(y: np.ndarray) -> np.ndarray:
    """Cut leading and trailing audio quieter than TRIM_DB below the peak."""
    peak = float(np.max(np.abs(y)))
    loud = np.nonzero(np.abs(y) >= peak * 10 ** (TRIM_DB / 20))[0]
    return y[loud[0]: loud[-1] + 1]


def load_file(path: Path) -> np.ndarray:
    """Read one sample file as trimmed mono float32 at 44.1 kHz; SampleError if it is not usable."""
    import soundfile as sf

    from .audio import to_mono_44k

    try:
        size = path.stat().st_size
    except OSError as err:
        raise SampleError(f"cannot stat ({err.strerror})") from err
    if size == 0:
        raise SampleError("empty file")
    try:
        info = sf.info(str(path))
        if info.frames == 0:
            raise SampleError("no audio frames")
        if info.frames / info.samplerate > MAX_SECONDS:
            raise SampleError(f"{info.frames / info.samplerate:.1f} s long; one-shots must be under {MAX_SECONDS:g} s")
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except SampleError:
        raise
    except PermissionError as err:
        raise SampleError("permission denied") from err
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        msg = str(err).split(":")[-1].strip() or "unreadable"
        raise SampleError(f"not an audio file libsndfile can read ({msg})") from err
    if not np.all(np.isfinite(data)):
        raise SampleError("contains NaN or infinite values")
    y = to_mono_44k(data, rate)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak < 10 ** (SILENCE_DB / 20):
        raise SampleError("silent")
    y = trim(y)
    if y.size < MIN_SECONDS * SAMPLE_RATE:
        raise SampleError(f"shorter than {MIN_SECONDS * 1000:g} ms after trimming silence")
    return y


# ---------------------------------------------------------------- the cache

def cache_dir() -> Path:
    """Where decoded samples are cached: $DD_LIVE_CACHE, else the user cache dir."""
    env = os.environ.get("DD_LIVE_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("dd_live")) / "samples"


@dataclass
class _Cache:
    """Decoded audio of one scanned folder: an index (JSON) and one float32 blob (memory-mapped)."""

    root: Path
    entries: dict[str, dict]
    blob: np.ndarray

    @staticmethod
    def paths(root: Path) -> tuple[Path, Path]:
        h = hashlib.sha1(str(root).encode()).hexdigest()[:16]
        base = cache_dir() / h
        return base.with_suffix(".json"), base.with_suffix(".f32")

    @classmethod
    def empty(cls, root: Path) -> _Cache:
        return cls(root, {}, np.zeros(0, np.float32))

    @classmethod
    def load(cls, root: Path) -> _Cache:
        index_path, blob_path = cls.paths(root)
        try:
            index = json.loads(index_path.read_text())
            if index.get("version") != CACHE_VERSION or index.get("root") != str(root):
                raise ValueError("stale cache")
            size = int(index["blob_size"])
            if blob_path.stat().st_size != 4 * size:
                raise ValueError("truncated cache")
            blob = np.memmap(blob_path, dtype=np.float32, mode="r") if size else np.zeros(0, np.float32)
            return cls(root, index["entries"], blob)
        except (OSError, ValueError, KeyError, TypeError):
            return cls.empty(root)

    def save(self, entries: dict[str, dict], blob: np.ndarray) -> None:
        from .audio import atomic_path, write_bytes

        index_path, blob_path = self.paths(self.root)
        try:
            with atomic_path(blob_path, force=True) as tmp:
                blob.tofile(tmp)  # straight from the array: tobytes() would copy the whole library first
            index = {"version": CACHE_VERSION, "root": str(self.root), "blob_size": int(blob.size), "entries": entries}
            write_bytes(index_path, json.dumps(index).encode(), force=True)
        except OSError:
            pass  # a cache we cannot write only costs time next load


def _audio_files(root: Path) -> list[Path]:
    """Every non-hidden file below ``root``, sorted (so libraries load in a stable order)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return found


@dataclass
class Scan:
    """One scanned folder: usable samples as (key, path, offset, length) into ``blob``, and the skipped files."""

    items: list[tuple[str, Path, int, int]]
    blob: np.ndarray
    skipped: list[Skipped]


def scan_folder(root: Path, *, use_cache: bool = True) -> Scan:
    """Load every usable sample below ``root``; keys are paths relative to it, with forward slashes.

    When no file changed since the cached scan, the cached audio is memory-mapped, not read.
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise InputError(f"sample folder {root} does not exist or is not a folder")
    cache = _Cache.load(root) if use_cache else _Cache.empty(root)
    items: list[tuple[str, Path, int, int]] = []
    skipped: list[Skipped] = []
    entries: dict[str, dict] = {}
    chunks: list[np.ndarray] = []
    pos = 0
    unchanged = True  # every usable file is in the cache, in blob order
    for path in _audio_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            st = path.stat()
        except OSError as err:
            skipped.append(Skipped(path, f"cannot stat ({err.strerror})"))
            continue
        stamp = [st.st_size, st.st_mtime_ns]
        old = cache.entries.get(rel)
        if old is not None and old["stamp"] == stamp:
            if "skip" in old:
                skipped.append(Skipped(path, old["skip"]))
                entries[rel] = old
                continue
            y = cache.blob[old["offset"]: old["offset"] + old["length"]]
            unchanged = unchanged and old["offset"] == pos
        else:
            unchanged = False
            try:
                y = load_file(path)
            except SampleError as err:
                skipped.append(Skipped(path, str(err)))
                entries[rel] = {"stamp": stamp, "skip": str(err)}
                continue
        items.append((rel, path, pos, int(y.size)))
        entries[rel] = {"stamp": stamp, "offset": pos, "length": int(y.size)}
        chunks.append(y)
        pos += y.size
    if unchanged and set(entries) == set(cache.entries) and pos == cache.blob.size:
        return Scan(items, cache.blob, skipped)
    blob = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if use_cache:
        cache.save(entries, blob)
    return Scan(items, blob, skipped)


# ---------------------------------------------------------------- libraries

def default_kit_dir() -> Path:
    """The default kit: $DD_LIVE_KIT, the source checkout's samples/, or a build in the user data dir."""
    env = os.environ.get("DD_LIVE_KIT")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "samples").is_dir():
        return repo / "samples"
    import platformdirs

    from .. import __version__

    return Path(platformdirs.user_data_dir("dd_live")) / f"kit-{__version__}"


def load_kit(kit_dir: Path | None = None, *, research: bool = False) -> SampleLibrary:
    """Load a kit described by kit.json (the default kit when ``kit_dir`` is None): a performer's, or with
    ``research`` also the samples marked ``research_only`` (see :mod:`dd_live.sound.kit`).

    The default kit is synthesized on first use if it is not on disk.
    """
    if kit_dir is None:
        kit_dir = default_kit_dir()
        if not (kit_dir / "kit.json").is_file():
            from .kit import build_kit

            build_kit(kit_dir)
    kit_dir = Path(kit_dir)
    try:
        meta = json.loads((kit_dir / "kit.json").read_text())
        entries = meta["samples"]
    except (OSError, ValueError, KeyError) as err:
        raise InputError(f"{kit_dir}: no readable kit.json ({err})") from err
    items, skipped = [], []
    for e in entries:
        if e.get("research_only") and not research:
            continue
        path = kit_dir / e["file"]
        try:
            items.append((e["file"], path, load_file(path), e["category"]))
        except SampleError as err:
            skipped.append(Skipped(path, str(err)))
    return assemble_library(items, skipped)


def load_library(folders: Sequence[str | os.PathLike[str]] | None = None, *, use_cache: bool = True) -> SampleLibrary:
    """The default kit if ``folders`` is empty, the research kit for ``["research"]``
    (:data:`dd_live.sound.kit.RESEARCH_KIT`; a folder of that name is ``./research``), else every usable
    sample in the folders.

    Keys of user samples are ``<folder name>/<relative path>``; a folder given twice counts once.
    """
    if not folders:
        return load_kit()
    if [os.fspath(f) for f in folders] == [RESEARCH_KIT]:
        return load_kit(research=True)
    scans: list[tuple[Path, Scan]] = []
    for folder in folders:
        root = Path(folder).expanduser().resolve()
        if root not in [r for r, _ in scans]:
            scans.append((root, scan_folder(root, use_cache=use_cache)))
    infos, skipped, base = [], [], 0
    for root, scan in scans:
        infos += [SampleInfo(f"{root.name}/{rel}", path, guess_category(path), base + off, n)
                  for rel, path, off, n in scan.items]
        skipped += scan.skipped
        base += scan.blob.size
    flat = scans[0][1].blob if len(scans) == 1 else np.concatenate([scan.blob for _, scan in scans])
    return SampleLibrary(infos, flat, skipped)


def kit_folders(given: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Sample folders as a session stores them: each resolved to an absolute path, the research kit's name
    (:data:`dd_live.sound.categories.RESEARCH_KIT`) kept as it is."""
    return [f if f == RESEARCH_KIT else str(Path(f).expanduser().resolve()) for f in map(os.fspath, given)]


def open_library(folders: Sequence[str | os.PathLike[str]] | None = None, *, tracks: int = 1,
                 say: Callable[[str], None] | None = None) -> SampleLibrary:
    """:func:`load_library` for a command: each skipped file said in one line (``say``, default stderr), and
    InputError unless at least ``tracks`` samples are usable."""
    import sys

    say = say or (lambda line: print(f"dd-live: {line}", file=sys.stderr))
    lib = load_library(folders or None)
    for skipped in lib.skipped:
        say(str(skipped))
    lib.require(tracks)
    return lib


def assemble_library(items: Iterable[tuple[str, Path, np.ndarray, str]], skipped: list[Skipped]) -> SampleLibrary:
    """A library from (key, path, audio, category) items, copied into one buffer."""
    infos, chunks, pos = [], [], 0
    for key, path, y, category in items:
        infos.append(SampleInfo(key, path, category, pos, int(y.size)))
        chunks.append(np.asarray(y, dtype=np.float32))
        pos += y.size
    flat = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return SampleLibrary(infos, flat, skipped)
