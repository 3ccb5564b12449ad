"""All colours live in the theme (models/palette.py), and the theme follows
the system's light or dark palette (issue 12)."""

import pathlib
import re

from PySide6.QtGui import QColor, QFont, QPalette

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


def test_one_monospace_font_for_models_and_widgets(qapp):
    """The monospace font has one home (models/fonts.py): the widgets' font
    (theme.mono_font) and every table model's FontRole are the same family,
    fixed pitch as the font database really matched it, built once and
    shared; a model's has no size of its own (the view's applies)."""
    from PySide6.QtGui import QFontInfo
    from lainview.models import fonts
    from lainview.models.vma_model import START, VmaModel
    assert theme.mono_font is fonts.mono_font
    widget_font = theme.mono_font(9.5)
    assert QFontInfo(widget_font).fixedPitch() and widget_font.pointSizeF() == 9.5
    assert theme.mono_font(9.5) is widget_font                       # cached
    model_font = fonts.mono_font()
    assert model_font.families() == widget_font.families()
    base = QFont(widget_font)
    base.setPointSizeF(14)
    assert model_font.resolve(base).pointSizeF() == 14               # the view's size
    assert fonts.mono_font(strike_out=True).strikeOut() and not model_font.strikeOut()
    # Where the list is installed, it is what is used (QFontInfo: the real match).
    installed = set(__import__("PySide6.QtGui").QtGui.QFontDatabase.families())
    first = next((f for f in fonts.MONO_FAMILIES if f in installed), None)
    if first is not None:
        assert QFontInfo(model_font).family() == first
    # The memory map's cells: the cached font, not a new QFont per call.
    from lainview.backend.memory import MemoryArea, Perm
    model = VmaModel()
    model.set_areas([MemoryArea(0x1000, 0x2000, Perm.READ)])
    from PySide6.QtCore import Qt
    cell = model.index(0, START)
    assert model.data(cell, Qt.ItemDataRole.FontRole) == model_font
    assert fonts._fonts[(None, False)] is model_font
