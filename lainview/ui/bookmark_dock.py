"""Bookmarks as a feature of the main window: their dock (a tab beside the
memory map), Edit ▸ Bookmark the cursor (Ctrl+B), Go ▸ Focus the bookmarks
(Alt+5), and the underlines they draw in the hex view."""

from __future__ import annotations

from PySide6.QtCore import Qt

from lainview.models.watch_values import ValueType

from .bookmark_panel import BookmarkPanel
from .tables import select_only


class BookmarkFeature:
    def __init__(self, window):
        self.window = window
        ws = self.workspace = window.workspace
        self.panel = BookmarkPanel(ws.bookmarks)
        self.dock = window.add_dock("bookmarks", "Bookmarks", self.panel,
                                    Qt.DockWidgetArea.LeftDockWidgetArea, tabify_with="memory map")
        self.bookmark_cursor_action = window.add_action("Edit", "&Bookmark the cursor",
                                                        self.bookmark_cursor, "Ctrl+B")
        window.editor.view.addAction(self.bookmark_cursor_action)  # the hex view's menu
        window.add_action("Go", "Focus the &bookmarks",
                          lambda: window.show_dock("bookmarks", self.panel.table), "Alt+5")
        window.editor.view.set_marker_source(ws.bookmarks)
        self.panel.jump.connect(window.show_address)
        self.panel.watch.connect(
            lambda b: ws.watch.add(b.location, ValueType.for_selection(b.size), b.name))

    def bookmark_cursor(self):
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("bookmark: open an area first")
            return None
        lo, hi = ws.cursor.selection
        return self.add(lo, "", hi - lo)

    def add(self, address: int | None, name: str, size: int):
        """Bookmark ``size`` bytes at ``address`` (named ``name``, or
        "bookmark N"), show it selected in the dock; None without an address."""
        if address is None:
            return None
        marks = self.workspace.bookmarks
        bookmark = marks.add_address(address, name or f"bookmark {len(marks.bookmarks) + 1}",
                                     size=max(1, size))
        self.window.show_dock("bookmarks")
        select_only(self.panel.table, len(marks.bookmarks) - 1)
        self.window.show_status(f"bookmarked {bookmark.location.text} (F2 in the bookmarks "
                                "to rename)")
        return bookmark
