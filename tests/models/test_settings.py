"""Settings go to the isolated XDG_CONFIG_HOME of each test, never to the
user's ~/.config (issue 12: tests never touch the user's settings)."""

import os

from lainview.models import settings


def test_the_settings_file_is_under_the_isolated_config_home(qapp):
    home = os.environ["XDG_CONFIG_HOME"]
    assert not home.startswith(os.path.expanduser("~/.config"))
    settings.set_value("probe/value", 7)
    store = settings.settings()
    store.sync()
    assert store.fileName() == settings.path()
    assert os.path.commonpath([store.fileName(), home]) == home
    assert os.path.exists(store.fileName())
    assert settings.value("probe/value", 0, int) == 7


def test_each_test_gets_its_own_settings(qapp, tmp_path, monkeypatch):
    """Qt reads XDG_CONFIG_HOME once per process; lainview reads it at each
    use, so a later test's directory is the one written."""
    settings.set_value("probe/value", 1)
    first = settings.path()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "elsewhere"))
    assert settings.value("probe/value", None) is None
    settings.set_value("probe/value", 2)
    settings.settings().sync()
    assert settings.path().startswith(str(tmp_path / "elsewhere"))
    assert os.path.exists(settings.path()) and settings.path() != first
