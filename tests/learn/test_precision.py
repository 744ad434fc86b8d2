"""The critic's precision, forced for measuring: ``serve --precision``, the config key, ``bench --precision`` and
``$DD_LIVE_PRECISION``, each reaching every critic the process makes and every bench's JSON."""

from __future__ import annotations

import pytest

from dd_live.errors import InputError
from dd_live.learn import critic as critic_mod
from dd_live.learn.critic import Critic, resolve_precision, set_precision


@pytest.fixture
def default(monkeypatch):
    """The process's default precision and $DD_LIVE_PRECISION, restored after the test."""
    monkeypatch.setattr(critic_mod, "_PRECISION", ["auto"])
    monkeypatch.delenv("DD_LIVE_PRECISION", raising=False)
    return monkeypatch


def test_a_forced_precision_reaches_every_critic_made_after_it(default):
    auto = resolve_precision("auto")
    assert auto in ("fp32", "bf16") and Critic().precision == auto
    for p in ("fp32", "bf16"):
        assert set_precision(p) == p and Critic().precision == p and resolve_precision() == p
    assert Critic(precision="fp32").precision == "fp32"          # a critic's own choice still wins
    with pytest.raises(InputError, match="precision must be auto, fp32, bf16, int8, not 'fp16'"):
        set_precision("fp16")
    assert resolve_precision() == "bf16"                           # a refused one changes nothing


def test_the_environment_sets_the_default_and_a_bad_value_is_said_in_one_line(default):
    default.setenv("DD_LIVE_PRECISION", "int4")
    default.setattr(critic_mod, "_PRECISION", ["int4"])           # as read at import
    with pytest.raises(InputError, match=r"\$DD_LIVE_PRECISION must be auto, fp32, bf16, int8, not 'int4'"):
        Critic()


def test_the_config_key_and_serves_option_are_checked_and_reach_the_daemon(default, daemon, tmp_path):
    from dd_live.live import config
    from dd_live.live.serve_cli import OPTIONS

    assert config.DEFAULTS["precision"] is None
    assert config.merge(config.DEFAULTS, {"precision": "fp32"})["precision"] == "fp32"
    with pytest.raises(InputError, match="--precision must be 'auto' or 'fp32' or 'bf16'"):
        config.merge(config.DEFAULTS, {"precision": "fast"})
    toml = tmp_path / "c.toml"
    toml.write_text('precision = "double"\n')
    with pytest.raises(InputError, match="precision must be"):
        config.load(toml)
    assert any(flags == ("--precision",) for _, flags, _ in OPTIONS)
    forced = "bf16" if resolve_precision("auto") == "fp32" else "fp32"  # the one this machine would not choose
    d, _ = daemon(precision=forced)
    assert d.trainer.critic.precision == forced and d.generator.critic.precision == forced


def test_every_bench_reports_the_precision_it_ran_with(default):
    from dd_live.bench import run

    assert run("render", seconds=0.05, batch=4, precision="fp32")["precision"] == "fp32"
    import os

    assert os.environ["DD_LIVE_PRECISION"] == "fp32"               # and the daemons a bench starts inherit it
    assert run("render", seconds=0.05, batch=4)["precision"] == "fp32"
