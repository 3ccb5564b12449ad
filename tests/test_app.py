"""The GUI entry point as a user meets it without a display."""

import os
import subprocess
import sys

from PySide6.QtGui import QImage


def run(args, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    return subprocess.run([sys.executable, "-m", "lainview", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_no_display_gives_a_clear_message_not_a_qt_abort(tmp_path):
    out = run(["--demo"], tmp_path)
    assert out.returncode == 1
    assert "no display" in out.stderr and "lainview --help" in out.stderr


def test_screenshot_needs_no_display(tmp_path):
    shot = tmp_path / "shot.png"
    out = run(["--screenshot", str(shot)], tmp_path)
    assert out.returncode == 0, out.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1920, 1080)
