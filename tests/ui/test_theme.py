"""All colours live in the theme (models/palette.py), and the theme follows
the system's light or dark palette (issue 12)."""

import pathlib
import re

from PySide6.QtGui import QColor, QPalette

from lainview.models import palette
from lainview.ui import theme

ROOT = pathlib.Path(__file__).resolve().parents[2] / "lainview"
LITERAL = re.compile(r"#[0-9a-fA-F]{6}\b|QColor\(\s*\d|QColor\(\s*[\"']")


def test_no_colour_literal_outside_the_palette():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in ROOT.rglob("*.py") if p.name != "palette.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if LITERAL.search(line)]
    assert found == []


def test_light_and_dark_schemes_name_the_same_colours():
    assert palette.LIGHT.keys() == palette.DARK.keys()
    for name in palette.LIGHT:
        assert QColor(palette.DARK[name][:7]).isValid(), name


def test_the_theme_follows_the_system_palette(qapp):
    light = qapp.palette()
    try:
        dark = QPalette(light)
        dark.setColor(QPalette.ColorRole.Window, QColor(30, 30, 34))
        qapp.setPalette(dark)
        theme.apply_app_style(qapp)
        assert palette.is_dark()
        assert qapp.palette().color(QPalette.ColorRole.Base).lightness() < 80
        assert theme.HexColors().background.lightness() < 80
        assert theme.HexColors().text.lightness() > 180
        bright = QPalette(light)
        bright.setColor(QPalette.ColorRole.Window, QColor(240, 240, 240))
        qapp.setPalette(bright)
        theme.apply_app_style(qapp)
        assert not palette.is_dark()
        assert theme.HexColors().background.lightness() > 200
    finally:
        theme.apply_app_style(qapp, dark=False)
        qapp.setPalette(light)
