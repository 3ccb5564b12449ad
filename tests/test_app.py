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


def _shown(out) -> dict:
    import json
    line = next(l for l in out.stdout.splitlines() if l.startswith("lainview-shown "))
    return json.loads(line.split(" ", 1)[1])


def test_address_is_honoured_with_the_demo_and_refused_without_a_target(tmp_path):
    """`lainview --demo --address LOC` went to the demo's counter whatever
    LOC was, and --screenshot said it showed it (exit 0), even for a LOC that
    resolves nowhere; --address with no target was silently ignored."""
    shot = str(tmp_path / "shot.png")
    out = run(["--demo", "--address", "nosuch.so+0x10", "--screenshot", shot], tmp_path)
    assert out.returncode == 1, out.stdout
    assert "--address nosuch.so+0x10" in out.stderr and "Traceback" not in out.stderr
    out = run(["--demo", "--address", "libc.so.6+0x10", "--screenshot", shot], tmp_path)
    assert out.returncode == 0, out.stderr
    start, end = _shown(out)["area"]
    assert end - start != 3 * 4096          # libc's area, not the demo's three pages
    out = run(["--address", "0x1000"], tmp_path)
    assert out.returncode == 2
    assert "--address needs --pid PID or --demo" in out.stderr
