"""Songs with known sections, made by Debian's ``mma`` (Musical MIDI Accompaniment), to measure section finding.

Each song is written here as an mma script (our own text: chords, a tempo and a groove per section), using
grooves of one family from mma's library (``Fam``, ``FamSus``, ``FamPlus``/``Fam1``, ``FamIntro``,
``FamEnd``); ``mma`` renders it to MIDI. Every groove change is a true section boundary. mma and its library
are read where Debian installs them (/usr/share/mma), never copied.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

MMA_LIB = Path("/usr/share/mma/lib/stdlib")
CHORDS = ("C", "Am", "F", "G", "Dm", "Em", "G7", "C7", "Bb", "E7")
TOLERANCE = 1      # a found boundary within this many bars of a true one counts


@dataclass(frozen=True)
class MmaSong:
    path: Path
    family: str
    grooves: tuple[tuple[str, int], ...]   # (groove, bars) in order
    boundaries: tuple[int, ...]            # bars where the groove changes (0 excluded)


def available() -> bool:
    return shutil.which("mma") is not None and MMA_LIB.is_dir()


def families() -> list[tuple[str, dict[str, str]]]:
    """Families of mma's standard library that have a main groove, Sus, a third variant, Intro and End:
    (family, {role: groove name}), sorted by name."""
    out = []
    for f in sorted(MMA_LIB.glob("*.mma")):
        names = re.findall(r"^DefGroove\s+(\S+)", f.read_text(errors="replace"), flags=re.M)
        lower = {n.lower(): n for n in names}
        for base in names[:1]:
            b = base.lower()
            roles = {"main": lower.get(b), "sus": lower.get(b + "sus"),
                     "third": lower.get(b + "plus") or lower.get(b + "1"),
                     "intro": lower.get(b + "intro"), "end": lower.get(b + "end")}
            if all(roles.values()):
                out.append((base, roles))  # type: ignore[arg-type]
    return out


def plan(roles: dict[str, str], rng: np.random.Generator) -> list[tuple[str, int]]:
    """A song form: intro, verse, chorus, verse, bridge, chorus, ending; section lengths of 4 or 8 bars."""
    def n() -> int:
        return int(rng.choice((4, 8, 8)))
    return [(roles["intro"], 4), (roles["main"], n()), (roles["sus"], n()), (roles["main"], n()),
            (roles["third"], n()), (roles["sus"], n()), (roles["end"], 2)]


def write_song(folder: Path, family: str, roles: dict[str, str], seed: int) -> MmaSong:
    """Write ``<family>-<seed>.mma`` and render it with mma into ``<family>-<seed>.mid``."""
    rng = np.random.default_rng(seed)
    form = plan(roles, rng)
    lines = [f"// dd_live test song: family {family}, seed {seed}", f"Tempo {int(rng.integers(80, 150))}"]
    bar, bounds = 1, []
    for k, (groove, bars) in enumerate(form):
        if k:
            bounds.append(bar - 1)
        lines.append(f"Groove {groove}")
        for _ in range(bars):
            lines.append(f"{bar} {CHORDS[int(rng.integers(len(CHORDS)))]}")
            bar += 1
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / f"{family}-{seed}.mma"
    src.write_text("\n".join(lines) + "\n")
    try:
        done = subprocess.run(["mma", str(src)], cwd=folder, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise InputError(f"mma could not run ({err})") from err
    mid = src.with_suffix(".mid")
    if done.returncode != 0 or not mid.is_file():
        raise InputError(f"mma failed on {src.name}: {(done.stdout + done.stderr).strip().splitlines()[-1:]}")
    return MmaSong(mid, family, tuple(form), tuple(bounds))


def score(found: list[int], truth: list[int], *, tolerance: int = TOLERANCE) -> tuple[int, int, int]:
    """(true positives, found, true): each true boundary matches at most one found boundary within
    ``tolerance`` bars."""
    left = sorted(found)
    hits = 0
    for t in sorted(truth):
        near = [f for f in left if abs(f - t) <= tolerance]
        if near:
            left.remove(min(near, key=lambda f: abs(f - t)))
            hits += 1
    return hits, len(found), len(truth)


def evaluate(folder: Path, chosen: list[tuple[str, dict[str, str]]], *, seeds: tuple[int, ...] = (0,),
             **section_options) -> dict:
    """Precision and recall of :func:`dd_live.song.sections.find_sections` over songs of ``chosen`` families."""
    from ..song.read import read_song
    from ..song.sections import find_sections

    tp = nf = nt = 0
    per = []
    for family, roles in chosen:
        for seed in seeds:
            song = write_song(folder, family, roles, seed)
            secs = find_sections(read_song(song.path), **section_options)
            found = [s.start for s in secs[1:]]
            a, b, c = score(found, list(song.boundaries))
            tp, nf, nt = tp + a, nf + b, nt + c
            per.append({"family": family, "seed": seed, "found": found, "true": list(song.boundaries)})
    return {"precision": tp / nf if nf else 1.0, "recall": tp / nt if nt else 1.0, "songs": len(per),
            "boundaries": nt, "per_song": per}


def main() -> None:
    """``python -m dd_live.lab.mma_songs [SEEDS]``: precision and recall on the families the section prices were
    chosen on (even-numbered) and on the others (odd-numbered), as README reports them."""
    import json
    import sys
    import tempfile

    seeds = tuple(int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "0").split(","))
    fam = families()
    with tempfile.TemporaryDirectory() as tmp:
        for name, chosen in (("tuning (even)", fam[0::2]), ("held out (odd)", fam[1::2])):
            r = evaluate(Path(tmp), chosen, seeds=seeds)
            print(json.dumps({"set": name, **{k: r[k] for k in ("precision", "recall", "songs", "boundaries")}}))


if __name__ == "__main__":
    main()
