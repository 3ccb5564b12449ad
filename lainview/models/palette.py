"""Every colour lainview draws with, by meaning, for a light and a dark
scheme. Models (cell and row colours) and widgets (``lainview.ui.theme``)
both read them here; nothing else writes a colour literal.

:func:`use_dark` picks the scheme (``lainview.ui.theme.apply_app_style``
calls it from the system's light or dark palette); :func:`color` and
:func:`hex_color` read the current one.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

LIGHT: dict[str, str] = {
    # text by meaning
    "text": "#1d2330", "muted": "#5b6b84", "faint": "#8a93a3", "disabled": "#a0a7b4",
    "error": "#b42318", "ok": "#15803d", "warn": "#8a6d00", "accent": "#2563eb",
    "added": "#1a7f37", "changed": "#c2410c", "rule": "#e3e6eb", "divider": "#d5dae1",
    "unresolved": "#c4c9d2", "bookmark": "#7c3aed", "invalid_border": "#d0443a",
    "frozen": "#1d4ed8", "sym_weak": "#5b6b84",
    "old_mark_bg": "#fdd5d5", "old_mark_fg": "#8a1c13", "new_mark_bg": "#d3f4dc",
    "new_mark_fg": "#0f5b2a",
    # window
    "window": "#eef0f3", "base": "#ffffff", "alternate": "#f5f7fa", "highlight": "#2f6fde",
    "highlight_text": "#ffffff", "tooltip": "#fffbe8",
    # boxes: message (error), note (warning), ok, staged, results
    "error_bg": "#fdecea", "error_fg": "#8a1c13", "error_border": "#f3b8b1",
    "note_bg": "#fff4d6", "note_fg": "#6b4e00", "note_border": "#f0d88a",
    "ok_bg": "#e7f6ec", "ok_fg": "#0f5b2a", "ok_border": "#a8dcb8",
    "staged_bg": "#dbe7ff", "staged_fg": "#1d3a8a", "staged_border": "#a9c1f5",
    "panel_bg": "#f5f7fa",
    # hex view
    "hex_background": "#fcfcfd", "hex_header_background": "#f1f3f6", "hex_header_text": "#8a93a3",
    "hex_address": "#5b6b84", "hex_zero": "#a5adbb", "hex_unreadable": "#c2452f",
    "hex_unreadable_background": "#f8e9e6", "hex_pending": "#b9c0cc",
    "hex_no_access": "#5b3f8c", "hex_no_access_background": "#ece6f6",
    "hex_changed_background": "#ffc400", "hex_changed_text": "#7a3e00", "hex_writing": "#1d4ed8",
    "hex_writing_background": "#dbe7ff", "hex_failed": "#b91c1c",
    "hex_failed_background": "#fdd5d5", "hex_selection": "#cfe0fb", "hex_cursor": "#2563eb",
    # a placed structure's fields, alternating (translucent: over the bytes)
    "hex_field_even": "#16a34a2e", "hex_field_odd": "#c026d32a",
    "row_added": "#2ea04346", "row_removed": "#da36333c", "row_editing": "#e3eefc",
    # symbol kinds
    "sym_text": "#1f4fa8", "sym_data": "#0f7a3d", "sym_bss": "#8a5a00", "sym_rodata": "#6b3fa0",
    # plot
    "plot_background": "#fcfcfd", "plot_axis": "#c4c9d2", "plot_legend": "#ffffffd2",
    "trace0": "#2563eb", "trace1": "#dc2626", "trace2": "#16a34a", "trace3": "#9333ea",
    "trace4": "#ea580c", "trace5": "#0891b2", "trace6": "#ca8a04", "trace7": "#db2777",
    "trace8": "#4b5563", "trace9": "#65a30d",
}

DARK: dict[str, str] = dict(LIGHT, **{
    "text": "#e6e9ef", "muted": "#9aa7bd", "faint": "#7d8797", "disabled": "#6b7280",
    "error": "#f87171", "ok": "#4ade80", "warn": "#facc15", "accent": "#60a5fa",
    "added": "#4ade80", "changed": "#fb923c", "rule": "#3a404b", "divider": "#444b57",
    "unresolved": "#5b6270", "bookmark": "#a78bfa", "invalid_border": "#f87171",
    "frozen": "#93b4ff", "sym_weak": "#9aa7bd",
    "old_mark_bg": "#4a1d1d", "old_mark_fg": "#fca5a5", "new_mark_bg": "#173326",
    "new_mark_fg": "#86efac",
    "window": "#23262c", "base": "#2b2f37", "alternate": "#31353e", "highlight": "#3b6fd6",
    "highlight_text": "#ffffff", "tooltip": "#2d3139",
    "error_bg": "#3d1f1d", "error_fg": "#fca5a5", "error_border": "#7f2d26",
    "note_bg": "#3a3118", "note_fg": "#fde68a", "note_border": "#6b5a1e",
    "ok_bg": "#173326", "ok_fg": "#86efac", "ok_border": "#2f6b48",
    "staged_bg": "#1e2b4a", "staged_fg": "#bfdbfe", "staged_border": "#38518a",
    "panel_bg": "#262a31",
    "hex_background": "#1b1d22", "hex_header_background": "#23262c", "hex_header_text": "#7d8797",
    "hex_address": "#9aa7bd", "hex_zero": "#5d6675", "hex_unreadable": "#f0836e",
    "hex_unreadable_background": "#3d2320", "hex_pending": "#4b5260",
    "hex_no_access": "#c4a8f0", "hex_no_access_background": "#2e2540",
    "hex_changed_background": "#b58900", "hex_changed_text": "#fff3c4", "hex_writing": "#93b4ff",
    "hex_writing_background": "#1e2b4a", "hex_failed": "#fca5a5",
    "hex_failed_background": "#4a1d1d", "hex_selection": "#2c4270", "hex_cursor": "#60a5fa",
    "hex_field_even": "#22c55e38", "hex_field_odd": "#d946ef38",
    "row_added": "#2ea04350", "row_removed": "#da363350", "row_editing": "#1e2b4a",
    "sym_text": "#8ab4f8", "sym_data": "#6fd39a", "sym_bss": "#e0b45c", "sym_rodata": "#c4a5f0",
    "plot_background": "#1b1d22", "plot_axis": "#4b5260", "plot_legend": "#23262cd2",
})

_scheme: dict[str, str] = LIGHT
_colors: dict[str, QColor] = {}


def use_dark(dark: bool) -> None:
    """Switch every later :func:`color` to the dark (or light) scheme."""
    global _scheme
    _scheme = DARK if dark else LIGHT
    _colors.clear()


def is_dark() -> bool:
    return _scheme is DARK


def hex_color(name: str) -> str:
    """``#rrggbb`` (or ``#rrggbbaa``) of a colour by meaning; KeyError for an
    unknown name."""
    return _scheme[name]


def color(name: str) -> QColor:
    """The QColor of a colour by meaning (``#rrggbbaa`` keeps its alpha).
    Shared and cached (models call it for every painted cell): copy it
    before changing it."""
    c = _colors.get(name)
    if c is None:
        text = _scheme[name]
        c = QColor(text[:7])
        if len(text) == 9:
            c.setAlpha(int(text[7:], 16))
        _colors[name] = c
    return c


def trace_colors() -> list[str]:
    return [_scheme[f"trace{n}"] for n in range(10)]


__all__ = ["LIGHT", "DARK", "use_dark", "is_dark", "color", "hex_color", "trace_colors"]
