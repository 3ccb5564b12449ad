"""Colours and fonts, in one place."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication

MONO_FAMILIES = ["DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono", "monospace"]


def mono_font(point_size: float = 10.0) -> QFont:
    font = QFont()
    font.setFamilies(MONO_FAMILIES)
    font.setStyleHint(QFont.StyleHint.TypeWriter)
    font.setFixedPitch(True)
    font.setPointSizeF(point_size)
    if not font.exactMatch():
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(point_size)
    return font


class HexColors:
    background = QColor("#fcfcfd")
    header_background = QColor("#f1f3f6")
    header_text = QColor("#8a93a3")
    rule = QColor("#e3e6eb")
    address = QColor("#5b6b84")
    text = QColor("#1d2330")
    zero = QColor("#a5adbb")
    unreadable = QColor("#c2452f")
    unreadable_background = QColor("#f8e9e6")
    no_access = QColor("#5b3f8c")                  # PROT_NONE bytes, read by force
    no_access_background = QColor("#ece6f6")
    pending = QColor("#b9c0cc")
    changed_background = QColor(255, 196, 0)       # alpha fades with age
    changed_text = QColor("#7a3e00")
    writing = QColor("#1d4ed8")
    writing_background = QColor("#dbe7ff")
    failed = QColor("#b91c1c")
    failed_background = QColor("#fdd5d5")
    selection = QColor("#cfe0fb")
    cursor = QColor("#2563eb")
    cursor_shadow = QColor(37, 99, 235, 60)
    readonly_banner = QColor("#fff4d6")


def apply_app_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#eef0f3"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f5f7fa"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#2f6fde"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#fffbe8"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor("#1d2330"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#a0a7b4"))
    app.setPalette(palette)
