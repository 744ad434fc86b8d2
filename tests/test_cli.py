from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mido
import pytest
import soundfile as sf

from dd_live.cli import main
from dd_live.loops.pattern import Pattern

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dd_live.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_render_writes_a_playable_export(tmp_path, capsys):
    out = tmp_path / "loop1"
    assert main(["render", "--seed", "3", "--bpm", "124", "--fotf", "--gm", "--out", str(out)]) == 0
    for name in ("loop.wav", "preview.wav", "pattern.json", "loop.mid", "kit.sfz"):
        assert (out / name).is_file()
    p = Pattern.from_json((out / "pattern.json").read_text())
    assert p.hits[0, ::4].all()
    assert sf.info(str(out / "loop.wav")).frames == round(4 * 60 / 124 * 44100)
    notes = {m.note for m in mido.MidiFile(str(out / "loop.mid")).tracks[1] if m.type == "note_on"}
    assert 36 in notes
    assert len(list((out / "samples").iterdir())) == 4
    assert "track 1:" in capsys.readouterr().out


def test_same_seed_same_loop(tmp_path):
    assert main(["render", "--seed", "9", "--out", str(tmp_path / "a")]) == 0
    assert main(["render", "--seed", "9", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "loop.wav").read_bytes() == (tmp_path / "b" / "loop.wav").read_bytes()


def test_user_errors_are_one_line_exit_2(tmp_path):
    out = tmp_path / "x"
    assert run("render", "--seed", "1", "--out", str(out)).returncode == 0
    cases = [
        ("render", "--out", str(out)),                                   # exists, no --force
        ("render", "--bpm", "0", "--out", str(tmp_path / "y")),          # bad tempo
        ("render", "--samples", str(tmp_path / "missing"), "--out", str(tmp_path / "z")),
        ("render", "--bpm", "fast", "--out", str(tmp_path / "w")),       # argparse
        ("render",),                                                     # missing --out
        ("kit", "check", str(tmp_path / "missing")),
        ("nonsense",),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert "Traceback" not in r.stderr


def test_too_few_samples_is_exit_2(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    import numpy as np

    for i in range(2):
        sf.write(folder / f"kick{i}.wav", np.sin(np.arange(4410) / 10).astype(np.float32) * 0.5, 44100)
    (folder / "broken.wav").write_bytes(b"junk")
    r = run("render", "--samples", str(folder), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("dd-live: skipped") and "broken.wav" in lines[0]
    assert "only 2 usable sample(s)" in lines[-1] and len(lines) == 2


def test_force_overwrites(tmp_path):
    out = tmp_path / "f"
    assert main(["render", "--seed", "1", "--out", str(out)]) == 0
    first = (out / "pattern.json").read_text()
    assert main(["render", "--seed", "2", "--out", str(out), "--force"]) == 0
    assert (out / "pattern.json").read_text() != first


@pytest.mark.parametrize("args", [[], ["render"], ["kit"], ["kit", "build"], ["kit", "list"], ["kit", "check"], ["bench"],
                                  ["pretrain"], ["evaluate"]])
def test_help_everywhere(args):
    r = run(*args, "--help")
    assert r.returncode == 0 and "usage: dd-live" in r.stdout


def test_kit_list_and_check(tmp_path, capsys):
    assert main(["kit", "list"]) == 0
    out = capsys.readouterr().out
    assert "kick/kick_01_808_long.wav" in out and "108 usable sample(s), 0 skipped" in out
    assert main(["kit", "list", "research"]) == 0
    assert "harsh/harsh_01_tone.wav" in capsys.readouterr().out
    (tmp_path / "bad.wav").write_bytes(b"")
    sf.write(tmp_path / "ok_snare.wav", [0.5, -0.5] * 2000, 44100)
    assert main(["kit", "check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bad.wav: empty file" in out and "1 usable sample(s) (snare 1), 1 would be skipped" in out


def test_kit_build_cli(tmp_path):
    assert main(["kit", "build", "--out", str(tmp_path)]) == 0
    assert len(json.loads((tmp_path / "kit.json").read_text())["samples"]) >= 120


def test_bench_render_prints_one_json_line():
    r = run("bench", "render", "--json", "--seconds", "0.2", "--batch", "16")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["benchmark"] == "render" and result["bars_per_s"] > 0 and result["batch"] == 16


def test_bench_load_small():
    r = run("bench", "load", "--json", "--files", "30")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["loaded"] == 30 and result["cold_s"] > 0 and result["warm_s"] > 0


def test_import_has_no_side_effects_and_no_heavy_imports(tmp_path):
    code = ("import sys, dd_live, dd_live.loops.pattern, dd_live.loops.render, dd_live.loops.export, dd_live.sound.samples, dd_live.cli;"
            "heavy = [m for m in ('torch', 'rtmidi', 'sounddevice', 'mido', 'soundfile', 'numba') if m in sys.modules];"
            "print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    assert list(tmp_path.iterdir()) == []


def test_evaluate_cli_writes_table_json_and_plot(tmp_path):
    out, png = tmp_path / "eval.json", tmp_path / "eval.png"
    r = run("evaluate", "--rater", "dd_live.raters:BreakRater", "--ratings", "2", "--per-model", "1",
            "--seeds", "0,1", "--json", str(out), "--plot", str(png))
    assert r.returncode == 0, r.stderr
    assert "theta_init" in r.stdout and "mean delta" in r.stdout
    data = json.loads(out.read_text())
    assert data["summary"]["runs"] == 2 and len(data["runs"][1]["phase1_likes"]) == 2
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "seed 1 phase2" in r.stderr


def test_pretrain_cli_writes_features_that_evaluate_and_serve_can_start_from(tmp_path):
    out = tmp_path / "pre.pt"
    r = run("pretrain", "--loops", "256", "--epochs", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.is_file() and "holdout loss" in r.stdout and "epoch 1/1" in r.stderr
    r = run("evaluate", "--rater", "dd_live.raters:GrooveRater", "--ratings", "1", "--per-model", "1",
            "--init", str(out))
    assert r.returncode == 0, r.stderr
    assert run("pretrain", "--loops", "10").returncode == 2


@pytest.mark.parametrize("init", ["junk.pt", "pretrain"])
def test_evaluate_bad_init_is_one_line(init):
    r = run("evaluate", "--rater", "dd_live.raters:GrooveRater", "--ratings", "1", "--init", init)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "not a readable pretrained critic" in r.stderr


@pytest.mark.parametrize("args", [["--best-temperature", "0"], ["--learn", "sgd"]])
def test_evaluate_bad_search_or_learning_setting_is_one_line(args):
    r = run("evaluate", "--rater", "dd_live.raters:GrooveRater", "--ratings", "1", *args)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("spec", ["nonsense", "dd_live.raters:Nope", "no_such_module:X", "dd_live.raters:SR"])
def test_evaluate_bad_rater_is_one_line(spec):
    r = run("evaluate", "--rater", spec, "--ratings", "1")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_bench_critic_prints_one_json_line():
    r = run("bench", "critic", "--json", "--seconds", "0.3", "--batch", "8")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["evals_per_s"] > 0 and result["train_s"] > 0 and set(result["ms_per_eval"]) == {"render", "features", "critic"}


def test_c_stderr_sums_up_c_library_noise_and_lets_everything_else_through(capfd, caplog):
    import logging
    import os

    from dd_live.errors import c_stderr

    with caplog.at_level(logging.DEBUG), c_stderr("MIDI out") as quiet:
        os.write(2, b"ALSA lib seq_hw.c:466:(snd_seq_hw_open) open /dev/snd/seq failed\n")
        os.write(2, b"Cannot connect to server socket err = No such file or directory\n")
        os.write(2, b"dd-live 10:00:00 WARNING dd_live.web: another thread's line\n")
    err = capfd.readouterr().err
    assert err == "dd-live 10:00:00 WARNING dd_live.web: another thread's line\n"
    assert quiet.systems == {"ALSA", "JACK"} and "MIDI out: JACK said it is not running here" in caplog.text
    os.write(2, b"after\n")                                   # stderr is stderr again
    assert capfd.readouterr().err == "after\n"
