"""The theme: fonts, the application's palette and style sheets, all from the
colours in :mod:`lainview.models.palette` (light or dark, following the
system's palette)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from lainview.models.fonts import mono_font
from lainview.models.palette import color, hex_color, is_dark, trace_colors, use_dark

def span(text: str, tone: str) -> str:
    """Rich text: ``text`` (already escaped) in a theme colour."""
    return f"<span style='color:{hex_color(tone)}'>{text}</span>"


def text_style(tone: str) -> str:
    """A style sheet colouring a label's text."""
    return f"color: {hex_color(tone)};"


def set_text_tone(widget: QWidget, tone: str) -> None:
    """Colour ``widget``'s text in theme colour ``tone`` (as
    :func:`text_style`), touching the widget only when the colour changes:
    Qt re-polishes a widget on every ``setStyleSheet``, even with the same
    sheet (a StyleChange: up to 26 ms the first time, measured during a
    first scan, where the message was set at each 10 Hz progress tick)."""
    style = text_style(tone)
    if widget.styleSheet() != style:
        widget.setStyleSheet(style)


def box_style(kind: str, *, radius: bool = False, border: str = "border") -> str:
    """A style sheet for a message box: ``kind`` is error, note, ok or
    staged; ``border`` is ``border`` (all sides) or e.g. ``border-top``."""
    style = (f"background: {hex_color(kind + '_bg')}; color: {hex_color(kind + '_fg')}; "
             f"padding: 4px 8px; {border}: 1px solid {hex_color(kind + '_border')};")
    return style + (" border-radius: 3px;" if radius else "")


class HexColors:
    """The hex view's colours (read when the view is built)."""

    def __init__(self) -> None:
        def hexc(name: str) -> QColor:
            return color("hex_" + name)
        self.background = hexc("background")
        self.header_background = hexc("header_background")
        self.header_text = hexc("header_text")
        self.address = hexc("address")
        self.zero = hexc("zero")
        self.unreadable = hexc("unreadable")
        self.unreadable_background = hexc("unreadable_background")
        self.no_access = hexc("no_access")
        self.no_access_background = hexc("no_access_background")
        self.pending = hexc("pending")
        self.changed_text = hexc("changed_text")
        self.writing = hexc("writing")
        self.writing_background = hexc("writing_background")
        self.failed = hexc("failed")
        self.failed_background = hexc("failed_background")
        self.selection = hexc("selection")
        self.cursor = hexc("cursor")
        self.rule = color("rule")
        self.text = color("text")
        self.changed_background = color("hex_changed_background")    # alpha fades with age
        self.cursor_shadow = QColor(self.cursor)
        self.cursor_shadow.setAlpha(60)
        # a placed structure's fields: [parity][depth - 1] (1..3), deeper a little stronger
        self.fields = [[self._deeper(hexc("field_" + parity), depth) for depth in range(3)]
                       for parity in ("even", "odd")]

    @staticmethod
    def _deeper(tint: QColor, depth: int) -> QColor:
        out = QColor(tint)
        out.setAlpha(min(255, tint.alpha() + 22 * depth))
        return out


def system_prefers_dark(app: QGuiApplication) -> bool:
    """The system's choice: the platform's colour scheme if it says, else
    whether the default palette's window colour is dark."""
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def apply_app_style(app: QApplication, dark: bool | None = None) -> None:
    """Fusion with lainview's palette, light or dark (``dark`` None: follow
    the system; ``LAINVIEW_THEME=dark|light`` overrides)."""
    import os
    forced = os.environ.get("LAINVIEW_THEME", "").lower()
    if dark is None:
        dark = forced == "dark" if forced in ("dark", "light") else system_prefers_dark(app)
    use_dark(dark)
    app.setStyle("Fusion")
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, name in ((roles.Window, "window"), (roles.Base, "base"),
                       (roles.AlternateBase, "alternate"), (roles.Highlight, "highlight"),
                       (roles.HighlightedText, "highlight_text"), (roles.ToolTipBase, "tooltip"),
                       (roles.ToolTipText, "text"), (roles.WindowText, "text"),
                       (roles.Text, "text"), (roles.ButtonText, "text"),
                       (roles.PlaceholderText, "faint"), (roles.Link, "accent")):
        palette.setColor(role, color(name))
    palette.setColor(roles.Button, color("window").lighter(104) if not dark
                     else color("window").lighter(130))
    palette.setColor(roles.Light, color("base"))
    palette.setColor(roles.Mid, color("divider"))
    palette.setColor(roles.Dark, color("faint"))
    palette.setColor(roles.BrightText, color("error"))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, color("disabled"))
    app.setPalette(palette)


__all__ = ["mono_font", "span", "text_style", "box_style", "HexColors", "apply_app_style",
           "system_prefers_dark", "color", "hex_color", "is_dark", "trace_colors"]
