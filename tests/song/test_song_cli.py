"""``dd-live song``'s command line (dd_live.song.cli): its checks before any work, and its progress line."""

from __future__ import annotations

import io

import pytest

from dd_live.cli import main
from dd_live.song.cli import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_on_a_terminal_and_says_one_line_elsewhere():
    tty, plain = Tty(), io.StringIO()
    for stream in (tty, plain):
        p = Progress(stream)
        for done in range(4):
            p(done, 3)
        p.close()
    assert tty.getvalue().count("\r") == 4 and tty.getvalue().endswith("] 3/3 sections\n")
    assert "[" + "#" * Progress.WIDTH + "]" in tty.getvalue()
    assert plain.getvalue() == "dd-live song: 3/3 sections arranged\n"
    quiet = io.StringIO()
    Progress(quiet).close()                                  # no work, no line
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("extra,said", [
    (["--seed", "-1"], "--seed must be 0 or more, got -1"),
    (["--threads", "0"], "--threads must be 1-"),
    (["--session", "s", "--samples", "x"], "--samples and --session do not go together"),
])
def test_bad_options_are_one_line_before_any_work(tmp_path, capsys, extra, said):
    out = tmp_path / "out"
    assert main(["song", str(tmp_path / "missing.mid"), "--out", str(out), *extra]) != 0
    err = capsys.readouterr().err.strip()
    assert said in err and len(err.splitlines()) == 1 and not out.exists()
