"""Where the shipped drum prior learns from: real drum parts that Debian packages, read where Debian puts them and
never copied (``dd-live prior build``; what ships is :mod:`dd_live.loops.prior`'s learned numbers).

- simutrans-data's 53 MIDI songs (/usr/share/games/simutrans/music): their channel-10 parts, bar by bar.
- mma's groove library (/usr/share/mma/lib): every groove (``DefGroove``) of every library file, played for
  :data:`GROOVE_BARS` bars by Debian's ``mma`` from a script written here, one script per library file, two at
  a time. Each groove's bar length and meter are asked of mma itself (``$_Time``, ``$_TimeSig``), and the
  rendered file is cut into bars from them (mma writes one time signature for a whole file).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import InputError
from ..song.drum_parts import DrumBars, bar_rows, folder_bars
from ..song.read import DRUM_CHANNEL, read_song

SIMUTRANS = Path("/usr/share/games/simutrans/music")
MMA_LIB = Path("/usr/share/mma/lib")
GROOVE_BARS = 2
MIN_ORIGINS = 5      # a meter is learned only from the bars of at least this many songs or grooves
_GROOVE = re.compile(r"^\s*DefGroove\s+(\S+)", re.I | re.M)
_PRINTED = re.compile(r"^G (\S+) ([0-9.]+) (\d+)/(\d+)$", re.M)


def mma_available() -> bool:
    return shutil.which("mma") is not None and MMA_LIB.is_dir()


def _meter_fits(beats: float, numerator: int, denominator: int) -> bool:
    """Whether mma's bar of ``beats`` quarter notes is one bar of ``numerator``/``denominator`` (compound x/8
    meters also count in eighths or dotted quarters, as mma's 6/8 grooves do)."""
    if abs(beats - numerator * 4 / denominator) < 1e-6:
        return True
    return denominator == 8 and numerator % 3 == 0 and beats in (numerator, numerator // 3)


def _groove_file(lib_file: Path, folder: Path) -> tuple[DrumBars, int, str | None]:
    """Render every groove of one mma library file; (its bars, grooves used, why it failed or None)."""
    out = DrumBars()
    names = _GROOVE.findall(lib_file.read_text(errors="replace"))
    if not names:
        return out, 0, None
    stem = f"{lib_file.parent.name}-{lib_file.stem}"
    script = folder / f"{stem}.mma"
    lines = ["Tempo 120"]
    for g in names:
        lines += [f"Groove {g}", f"Print G {g} $_Time $_TimeSig"] + ["C"] * GROOVE_BARS
    script.write_text("\n".join(lines) + "\n")
    try:
        done = subprocess.run(["mma", "-m", "100000", script.name], cwd=folder, capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return out, 0, f"{lib_file}: mma could not run ({type(err).__name__})"
    mid = script.with_suffix(".mid")
    printed = _PRINTED.findall(done.stdout)
    if done.returncode != 0 or not mid.is_file() or len(printed) != len(names):
        last = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        return out, 0, f"{lib_file}: mma failed ({last[0][:120]})"
    song = read_song(mid)
    drums = song.notes[song.notes["channel"] == DRUM_CHANNEL]
    tick, used = 0.0, 0
    for name, quarters, num, den in printed:
        q, num, den = float(quarters), int(num), int(den)
        length = q * song.ticks_per_beat
        fits = _meter_fits(q, num, den)
        for _ in range(GROOVE_BARS):
            if fits:
                row = bar_rows(drums, tick, tick + length, num, den)
                if row is not None:
                    out.add(*row, f"mma:{name}")
            tick += length
        used += fits
    return out, used, None


def mma_bars(into: DrumBars, *, workers: int = 2) -> dict:
    """Add every mma library groove's drum bars to ``into``; returns what was read (files, grooves, bars,
    failures)."""
    if not mma_available():
        raise InputError("mma and its library are not installed (Debian: apt install mma)")
    files = sorted(MMA_LIB.glob("*/*.mma"))
    failures, grooves, before = [], 0, into.bars
    with tempfile.TemporaryDirectory(prefix="dd-mma-") as tmp, ThreadPoolExecutor(workers) as pool:
        for bars, used, why in pool.map(lambda f: _groove_file(f, Path(tmp)), files):
            grooves += used
            if why:
                failures.append(why)
            for grid, rows in bars.grids.items():
                into.grids.setdefault(grid, []).extend(rows)
    return {"name": "mma", "what": f"the grooves of mma's library ({MMA_LIB}), {GROOVE_BARS} bars each, "
            "played by Debian's mma", "files": len(files) - len(failures), "grooves": grooves,
            "bars": into.bars - before, "failed": failures}


def simutrans_bars(into: DrumBars) -> dict:
    """Add the drum bars of simutrans-data's songs to ``into``; returns what was read."""
    if not SIMUTRANS.is_dir():
        raise InputError(f"{SIMUTRANS} is missing (Debian: apt install simutrans-data)")
    before, files = into.bars, into.files
    folder_bars([SIMUTRANS], into)
    return {"name": "simutrans-data", "what": f"the channel-10 parts of the songs in {SIMUTRANS}",
            "files": into.files - files, "bars": into.bars - before}


def build(*, mma: bool = True, simutrans: bool = True, patterns: list[Path] = (), seed: int = 0
          ) -> tuple[dict, float, list[str]]:
    """A drum prior's JSON form learned from Debian's material (each part unless left out) and folders of drum
    MIDI files (``patterns``), the seconds it took, and the files skipped with why."""
    from ..loops.prior import fit_prior

    t0 = time.perf_counter()
    bars, sources = DrumBars(), []
    if simutrans:
        sources.append(simutrans_bars(bars))
    if mma:
        sources.append(mma_bars(bars))
    if patterns:
        before = bars.bars
        folder_bars(patterns, bars)
        sources.append({"name": "patterns", "what": ", ".join(map(str, patterns)), "bars": bars.bars - before})
    doc = fit_prior(bars.arrays(min_origins=MIN_ORIGINS if (mma or simutrans) else 1), sources, seed=seed)
    return doc, time.perf_counter() - t0, bars.skipped
