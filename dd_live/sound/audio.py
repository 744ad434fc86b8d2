"""Audio buffers: the one validator, conversion to dd_live's format, one-shot measurements, atomic file writes.

dd_live's internal format is mono float32 at 44,100 Hz. Everything that comes in
(sample files of any rate, width or channel count) is converted here, and every
file dd_live writes goes through :func:`atomic_path` so that a crash never leaves
half a file behind.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import SAMPLE_RATE
from ..errors import ExportError, InputError, one_line

WAV_SUBTYPES = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}


def validate_audio(y: np.ndarray, *, mono: bool = True, name: str = "audio") -> np.ndarray:
    """Check a buffer and return it as float32.

    A buffer must be a real floating-point numpy array, 1-D (mono) or 2-D
    (batch, samples) when ``mono`` is False, non-empty and finite.
    """
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, not {type(y).__name__}")
    if not np.issubdtype(y.dtype, np.floating):
        raise TypeError(f"{name} must be floating point, not {y.dtype}")
    if mono and y.ndim != 1:
        raise ValueError(f"{name} must be mono (1-D), got shape {y.shape}")
    if not mono and y.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or (batch, samples), got shape {y.shape}")
    if y.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity")
    return y.astype(np.float32, copy=False)


@dataclass(frozen=True)
class OneShot:
    """What :func:`measure_one_shot` measures of a one-shot."""

    duration: float      # s until the level falls 40 dB below the peak for good (0 for silence)
    freqs: np.ndarray    # Hz, of each bin of ``power``
    power: np.ndarray    # power spectrum, zero-padded to a power of two of at least 2048 points
    total: float         # sum of ``power`` (1e-12 for silence)
    flatness: float      # spectral flatness over 200 Hz-16 kHz: 0 (pure tones) .. 1 (white noise)
    early_rms: float     # RMS over 5-25% of ``duration``
    late_rms: float      # RMS over 60-80% of ``duration``: close to early_rms for a sound that does not decay


def measure_one_shot(y: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> OneShot:
    """Duration, spectrum, flatness and envelope of a mono one-shot (checked by the caller)."""
    y = np.asarray(y, dtype=np.float64)
    peak = float(np.max(np.abs(y))) or 1e-12
    above = np.nonzero(np.abs(y) > peak * 0.01)[0]
    duration = (above[-1] + 1) / sample_rate if above.size else 0.0
    n = 1 << int(math.ceil(math.log2(max(y.size, 2048))))
    power = np.abs(np.fft.rfft(y, n)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    total = float(power.sum()) or 1e-12
    band = power[(freqs > 200) & (freqs < 16000)] + 1e-20
    flatness = float(np.exp(np.mean(np.log(band))) / np.mean(band))
    d = max(int(duration * sample_rate), 20)

    def rms(a: float, b: float) -> float:
        seg = y[int(a * d): max(int(b * d), int(a * d) + 1)]
        return float(np.sqrt(np.mean(seg * seg))) if seg.size else 0.0

    return OneShot(duration, freqs, power, total, flatness, rms(0.05, 0.25), rms(0.6, 0.8))


def to_mono_44k(data: np.ndarray, rate: int) -> np.ndarray:
    """Mix (frames, channels) or (frames,) audio at ``rate`` Hz down to mono float32 at 44.1 kHz."""
    if rate <= 0:
        raise InputError(f"sample rate must be positive, got {rate}")
    x = np.asarray(data, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if rate != SAMPLE_RATE:
        import soxr  # small and always installed with dd_live, but only needed here

        x = soxr.resample(x, rate, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(x, dtype=np.float32)


#: names of the temporary files and folders that atomic_path and staged_folder write (see _temp_name)
_TEMP = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.(tmp|partial)$")


def _temp_name(path: Path, kind: str) -> Path:
    """A fresh name beside ``path`` for a file (``kind`` "tmp") or folder ("partial") being written:
    hidden, with this process's id, so :func:`clean_temp` knows whether its writer is gone."""
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}"


@contextlib.contextmanager
def atomic_path(path: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` when the block succeeds.

    Raises ExportError if ``path`` exists and ``force`` is False. On failure the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.exists() and not force:
        raise ExportError(f"{path} exists; refusing to overwrite it (use --force)")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its files are always mode 0600; a plain exclusive create honours the umask,
    # so an export is as readable as any other file the user makes.
    while True:
        tmp_path = _temp_name(path, "tmp")
        try:
            os.close(os.open(tmp_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - no cheap liveness check: keep what may be another's
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_temp(folder: Path, *, recursive: bool = True, any_pid: bool = False) -> int:
    """Remove what interrupted writes left in ``folder`` (temporary files and staged export folders of
    processes no longer running; of every other process too with ``any_pid``). Returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    walk = os.walk(folder)
    for top, dirs, files in (walk if recursive else [next(walk)]):
        for name in list(dirs) + list(files):
            m = _TEMP.match(name)
            if not m:
                continue
            pid = int(m.group(1))
            if pid == os.getpid() or (not any_pid and _alive(pid)):
                continue
            path = Path(top) / name
            if name in dirs:
                dirs.remove(name)
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
            removed += 1
    return removed


@contextlib.contextmanager
def staged_folder(path: Path, *, last: str = "pattern.json", whole: bool = False) -> Iterator[Path]:
    """Yield an empty folder beside ``path`` to write a set of files into; when the block succeeds they go into
    ``path``. ``whole`` (a folder only dd_live writes): the staged folder takes ``path``'s place in one rename
    (exchanged where the system can, so a kill leaves the old folder or the new one, never a mix). Otherwise
    each file is moved in, the old ``last`` file removed first and the new one moved in last, so a folder
    holding one holds one run's files. A failure or a kill in the block leaves ``path`` as it was (a killed
    writer's staging folder is removed by the next staged_folder or :func:`clean_temp` beside it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_temp(path.parent, recursive=False)
    stage = _temp_name(path, "partial")
    stage.mkdir()
    try:
        yield stage
        if whole and _swap(stage, path):
            return
        (path / last).unlink(missing_ok=True)            # the old run's mark goes before any new file comes in
        files = sorted((p for p in stage.rglob("*") if p.is_file()), key=lambda p: (p.name == last, str(p)))
        for f in files:
            target = path / f.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)      # after an exchange: the old folder


def _swap(stage: Path, path: Path) -> bool:
    """Put folder ``stage`` in ``path``'s place in one step: a rename where ``path`` is absent, else Linux's
    renameat2(RENAME_EXCHANGE) (``stage`` then holds the old folder). False where neither can be done."""
    if not path.exists():
        try:
            os.rename(stage, path)
            return True
        except OSError:
            return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None or not path.is_dir() or path.is_symlink():
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(stage), at_fdcwd, os.fsencode(path), rename_exchange) == 0


def write_wav(path: Path, audio: np.ndarray, *, bits: int = 16, force: bool = False) -> Path:
    """Write mono 44.1 kHz audio as a 16- or 24-bit integer or 32-bit float WAV file, atomically."""
    if bits not in WAV_SUBTYPES:
        raise InputError(f"WAV bit depth must be 16, 24 or 32 (float), got {bits}")
    y = validate_audio(audio)
    import soundfile as sf

    with atomic_path(path, force=force) as tmp:
        try:
            sf.write(str(tmp), np.clip(y, -1.0, 1.0), SAMPLE_RATE, subtype=WAV_SUBTYPES[bits], format="WAV")
        except (sf.LibsndfileError, RuntimeError) as err:  # libsndfile's "System error." on a full disk
            raise write_error(Path(path), err) from err
    return Path(path)


def write_error(path: Path, err: BaseException) -> OSError:
    """A foreign library's failure to write ``path`` (libsndfile, torch.save) as the OSError it is, with the free
    space named when the disk is (nearly) full."""
    try:
        free = shutil.disk_usage(path.parent if path.parent.exists() else ".").free
    except OSError:
        free = None
    full = free is not None and free < FULL_BELOW
    why = "no space left on the device" if full else one_line(err)
    out = OSError(28 if full else 5, f"cannot write {path.name}: {why}")
    out.filename = str(path)
    return out


FULL_BELOW = 1 << 20   # free bytes under which a failed write is put down to a full disk


def write_bytes(path: Path, data: bytes, *, force: bool = False) -> Path:
    """Write bytes to ``path`` atomically."""
    with atomic_path(path, force=force) as tmp:
        tmp.write_bytes(data)
    return Path(path)
