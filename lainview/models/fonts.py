"""The monospace font: one home for the table models (their FontRole) and
the widgets (``lainview.ui.theme`` re-exports :func:`mono_font`).

Addresses, offsets, bytes and values are shown in it so that their digits
line up. The first of ``MONO_FAMILIES`` installed is used; where none of
them resolves to a fixed-pitch font, the system's fixed font is.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase, QFontInfo

MONO_FAMILIES = ("DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono", "monospace")

_fonts: dict[tuple[float | None, bool], QFont] = {}


def mono_font(point_size: float | None = None, *, strike_out: bool = False) -> QFont:
    """The monospace font at ``point_size`` points, or with no size of its
    own (None: a model's FontRole, which the view resolves against its own
    font, so the cell keeps the view's size). ``strike_out``: crossed out
    (a removed row). Built once per (size, strike-out) and cached: a model
    returns it for every painted cell. Shared: copy it (``QFont(font)``)
    before changing it. Needs a QGuiApplication.

    Fallback: when the families resolve to a font that is not fixed pitch
    (QFontInfo, what the font database really matched; ``exactMatch()``
    compares only ``family()``, which a family list leaves empty, so it is
    False even when the first family is installed), the system's fixed
    font family (QFontDatabase.SystemFont.FixedFont) is used instead."""
    key = (point_size, strike_out)
    font = _fonts.get(key)
    if font is None:
        font = QFont()
        font.setFamilies(list(MONO_FAMILIES))
        font.setStyleHint(QFont.StyleHint.TypeWriter)
        font.setFixedPitch(True)
        if not QFontInfo(font).fixedPitch():
            fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
            font.setFamilies([fixed.family()])
        if point_size is not None:
            font.setPointSizeF(point_size)
        if strike_out:
            font.setStrikeOut(True)
        _fonts[key] = font
    return font


__all__ = ["MONO_FAMILIES", "mono_font"]
