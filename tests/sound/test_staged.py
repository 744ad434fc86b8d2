"""Folders written all or nothing (sound.audio.staged_folder): songs and exports are never a mix of two runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dd_live.sound import audio


def _write(folder: Path, run: str, names=("song.mid", "drums.wav", "samples/01_kick.wav", "arrangement.json")):
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(run)


def _runs(folder: Path) -> set[str]:
    return {p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_a_whole_folder_is_replaced_in_one_step_and_a_failed_run_leaves_the_old_one(tmp_path):
    out = tmp_path / "songs" / "tune"
    with audio.staged_folder(out, last="arrangement.json", whole=True) as stage:
        _write(stage, "one", names=("song.mid", "samples/02_old.wav", "arrangement.json"))
    assert _runs(out) == {"one"} and (out / "samples" / "02_old.wav").is_file()
    with pytest.raises(RuntimeError), audio.staged_folder(out, last="arrangement.json", whole=True) as stage:
        _write(stage, "two")
        raise RuntimeError("the job was stopped")
    assert _runs(out) == {"one"}                                  # nothing of the stopped run
    with audio.staged_folder(out, last="arrangement.json", whole=True) as stage:
        _write(stage, "three")
    assert _runs(out) == {"three"} and not (out / "samples" / "02_old.wav").exists()   # no file of the old run
    assert [p.name for p in out.parent.iterdir()] == ["tune"]     # no staging folder left beside it


def test_without_an_exchange_the_old_mark_goes_first_so_a_kill_never_leaves_a_complete_looking_mix(tmp_path,
                                                                                                   monkeypatch):
    out = tmp_path / "tune"
    with audio.staged_folder(out, last="arrangement.json", whole=True) as stage:
        _write(stage, "one")
    monkeypatch.setattr(audio, "_swap", lambda stage, path: False)   # a system without renameat2's exchange
    moved, real = [], os.replace

    def replace(src, dst):
        if len(moved) == 2:
            raise KeyboardInterrupt                               # killed between two renames
        moved.append(dst)
        real(src, dst)

    monkeypatch.setattr(audio.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt), audio.staged_folder(out, last="arrangement.json", whole=True) as stage:
        _write(stage, "two")
    assert not (out / "arrangement.json").exists()                # incomplete, and it says so: no mark
    monkeypatch.setattr(audio.os, "replace", real)
    with audio.staged_folder(out, last="arrangement.json", whole=True) as stage:
        _write(stage, "three")
    assert _runs(out) == {"three"}
