"""The config file: settings, aliases and one-line errors."""

from __future__ import annotations

import pytest

from dd_live.errors import InputError
from dd_live.live import config


def test_config_file_settings_aliases_and_errors(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('bpm = 124\naudio = false\n[aliases]\n"/1/push1" = "like"\n')
    settings, aliases = config.load(f)
    assert settings["bpm"] == 124 and settings["audio"] is False and settings["osc_port"] == 7710
    assert aliases == {"/1/push1": "like"}
    assert config.merge(settings, {"bpm": 90.0, "host": None})["bpm"] == 90.0
    assert settings["learn"] == "auto"
    for text, fragment in [("bpm = 1000", "bpm must be"), ("colour = 1", "unknown setting"), ("learn = 'sgd'", "learn must be"),
                           ("[aliases]\n'/a' = 'explode'", "unknown command"), ("bpm = [", "c.toml")]:
        f.write_text(text)
        with pytest.raises(InputError, match=fragment):
            config.load(f)
    with pytest.raises(InputError, match="not found"):
        config.load(tmp_path / "missing.toml")


def test_a_wrong_dd_live_config_path_and_an_alias_for_dd_lives_own_address_are_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("DD_LIVE_CONFIG", str(tmp_path / "nowhere.toml"))
    with pytest.raises(InputError, match="nowhere.toml .DD_LIVE_CONFIG. not found"):
        config.load()
    monkeypatch.delenv("DD_LIVE_CONFIG")
    f = tmp_path / "c.toml"
    f.write_text('[aliases]\n"/dd/like" = "dislike"\n')
    with pytest.raises(InputError, match="'/dd/like': that address is dd_live's own"):
        config.load(f)


def test_every_setting_has_one_default_that_passes_its_own_check_and_one_serve_option():
    """One table of settings (config.SETTINGS): its defaults are values the file may hold, and dd-live serve has
    one option per setting, no more."""
    from dd_live.live.serve_cli import OPTIONS

    for key, (default, ok, what) in config.SETTINGS.items():
        assert ok(default), (key, default, what)
    assert config.DEFAULTS == {k: d for k, (d, _, _) in config.SETTINGS.items()}
    assert sorted(key for key, _, _ in OPTIONS) == sorted(config.SETTINGS)
    with pytest.raises(InputError, match="gm must be true or false"):
        config.merge(dict(config.DEFAULTS), {"gm": "yes"})
