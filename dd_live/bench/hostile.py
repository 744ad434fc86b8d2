"""Hostile MIDI files for song mode, and ``dd-live bench hostile``: each must end within LIMIT_S with exit 0 or 2,
print one line of error at most (no traceback) and write under MAX_WRITTEN bytes.

The files are made from a seed: odd meters and tempos written as raw meta events (mido would refuse to write
them), huge delta times, mangled headers, garbage in a track, more notes than a song has, and truncations and byte
flips of real songs (Debian's simutrans-data, read in place; their bytes never leave this machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

LIMIT_S = 60.0
MAX_WRITTEN = 200 * 1024 * 1024
KINDS = ("meter", "tempo", "delta", "header", "garbage", "notes", "truncated", "flipped")


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _track(events: bytes) -> bytes:
    return b"MTrk" + len(events).to_bytes(4, "big") + events


def smf(tracks: list[bytes], *, fmt: int = 1, division: int = 96, count: int | None = None) -> bytes:
    """A standard MIDI file from raw track bodies (each without its end-of-track event, which is added)."""
    head = b"MThd" + (6).to_bytes(4, "big") + (fmt & 0xFFFF).to_bytes(2, "big")
    head += ((len(tracks) if count is None else count) & 0xFFFF).to_bytes(2, "big") + (division & 0xFFFF).to_bytes(2, "big")
    return head + b"".join(_track(t + b"\x00\xff\x2f\x00") for t in tracks)


def _notes(rng, n: int, *, step: int = 48) -> bytes:
    body = b""
    for _ in range(n):
        pitch = int(rng.integers(30, 90))
        body += _vlq(int(rng.integers(0, step))) + bytes([0x90, pitch, 100]) + _vlq(step) + bytes([0x80, pitch, 0])
    return body


def hostile(kind: str, rng, real: list[Path]) -> bytes:
    """One hostile file of ``kind`` (see KINDS)."""
    if kind == "meter":
        meta = b"".join(b"\x00\xff\x58\x04" + bytes([int(rng.integers(0, 256)), int(rng.integers(0, 256)), 24, 8])
                        for _ in range(int(rng.integers(1, 4))))
        return smf([meta + _notes(rng, 32)])
    if kind == "tempo":
        us = int(rng.choice([0, 1, 2, 0xFFFFFF, int(rng.integers(0, 1 << 24))]))
        return smf([b"\x00\xff\x51\x03" + us.to_bytes(3, "big") + _notes(rng, 32)])
    if kind == "delta":
        body = _notes(rng, 4) + _vlq(int(rng.integers(1 << 20, 1 << 28))) + b"\x90\x3c\x64" + b"\x60\x80\x3c\x00"
        return smf([body], division=int(rng.choice([1, 96, 0x7FFF])))
    if kind == "header":
        return smf([_notes(rng, 16)] * int(rng.integers(1, 4)), fmt=int(rng.choice([0, 2, 3, 7, 0xFFFF])),
                   division=int(rng.choice([0, 96, 0x8000 | 25 << 8 | 40, 0xE728])),
                   count=int(rng.choice([0, 1, 3, 0xFFFF])))
    if kind == "garbage":
        return smf([_notes(rng, 8) + rng.integers(0, 256, int(rng.integers(1, 400))).astype(np.uint8).tobytes()])
    if kind == "notes":
        return smf([_notes(rng, int(rng.integers(20_000, 70_000)), step=2)])
    data = bytearray(real[int(rng.integers(len(real)))].read_bytes())
    if kind == "truncated":
        return bytes(data[: int(rng.integers(14, len(data)))])
    for at in rng.integers(0, len(data), int(rng.integers(1, 40))):
        data[int(at)] ^= 1 << int(rng.integers(0, 8))
    return bytes(data)


def make_files(folder: Path, n: int, *, seed: int = 0, real: list[Path] | None = None) -> list[Path]:
    """``n`` hostile files in ``folder``, the kinds in turn."""
    from ..lab.drum_sources import SIMUTRANS

    real = sorted(SIMUTRANS.glob("*.mid")) if real is None else real
    kinds = KINDS if real else KINDS[:-2]
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        kind = kinds[k % len(kinds)]
        path = folder / f"{k:03d}_{kind}.mid"
        path.write_bytes(hostile(kind, rng, real))
        out.append(path)
    return out


def written(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def bench_hostile(*, files: int = 100, seed: int = 0, threads: int = 2) -> dict:
    """Run ``dd-live song`` on ``files`` hostile files, one process each: exit codes, error lines, tracebacks,
    bytes written and the slowest run."""
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory(prefix="dd-hostile-") as tmp:
        for path in make_files(Path(tmp) / "in", files, seed=seed):
            out = Path(tmp) / "out" / path.stem
            t0 = time.monotonic()
            try:
                p = subprocess.run([sys.executable, "-m", "dd_live.cli", "song", str(path), "--out", str(out),
                                    "--threads", str(threads)], capture_output=True, text=True, timeout=LIMIT_S,
                                   env={**os.environ, "PYTHONWARNINGS": "ignore"})
                rc, err = p.returncode, p.stderr
            except subprocess.TimeoutExpired:
                rc, err = None, ""
            rows.append({"file": path.name, "rc": rc, "s": round(time.monotonic() - t0, 2),
                         "error_lines": sum(1 for line in err.splitlines() if "error:" in line),
                         "traceback": "Traceback" in err, "written": written(out)})
    return {"benchmark": "hostile", "files": files, "seed": seed,
            "exit_codes": {str(k): sum(r["rc"] == k for r in rows) for k in sorted({r["rc"] for r in rows}, key=str)},
            "tracebacks": sum(r["traceback"] for r in rows), "over_one_error_line": sum(r["error_lines"] > 1 for r in rows),
            "slowest_s": max(r["s"] for r in rows), "most_written_mb": round(max(r["written"] for r in rows) / 2**20, 1),
            "ok": all(r["rc"] in (0, 2) and not r["traceback"] and r["error_lines"] <= 1 and r["written"] < MAX_WRITTEN
                      for r in rows), "runs": rows}
