"""The pointer scanner as a feature of the main window: its dock (bottom,
a tab beside the scanner), "Find pointers to this…" in the watch list's and
the hex view's context menus, and where a result goes (the watch list, the
bookmarks, the hex view). Wiring only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from lainview.backend.errors import InvalidInput
from lainview.models.pointer_scan_model import path_location
from lainview.models.watch_entry import WatchEntry

from .pointer_scan_panel import PointerScanPanel


class PointerScanFeature:
    def __init__(self, window):
        self.window = window
        ws = self.workspace = window.workspace
        self.controller = ws.pointers
        self.panel = PointerScanPanel(ws.pointers)
        self.dock = window.add_dock("pointer scan", "Pointer scan", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea,
                                    tabify_with="scanner")
        window.add_action("Go", "Find &pointers to the cursor…", self.find_for_cursor,
                          "Ctrl+Shift+P")
        ws.pointers.requested.connect(lambda: window.show_dock("pointer scan"))
        ws.pointers.message.connect(window.show_status)
        self.panel.add_to_watch.connect(self.watch_result)
        self.panel.bookmark.connect(self.bookmark_result)
        self.panel.open_address.connect(window.show_address)
        window.watch_docks.watch_panel.find_pointers.connect(self.find_for_entry)
        self.find_action = QAction("Find pointers to this…", window)
        self.find_action.triggered.connect(self.find_for_cursor)
        window.editor.view.addAction(self.find_action)      # the hex view's context menu

    # -- starting points --------------------------------------------------------------------------
    def find_for_entry(self, entry: WatchEntry) -> None:
        """From a watch entry: its address now, shown as its type."""
        if entry.address is None:
            self.window.show_status(f"{entry.name}: not resolved, so there is no address to "
                                    "find pointers to")
            return
        self.controller.prepare(entry.address, entry.vtype, f"watch: {entry.name}")

    def find_for_cursor(self) -> None:
        """From the hex view: the cursor (or the selection's start), shown
        as Ctrl+W would watch it."""
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("find pointers: open an area first")
            return
        lo, hi = ws.cursor.selection
        from lainview.models.watch_values import ValueType
        vtype = ValueType.for_selection(hi - lo) if ws.cursor.has_selection \
            else self.window.watch_docks.type_for_cursor(lo)
        self.controller.prepare(lo, vtype, "hex view")

    # -- where a result goes ----------------------------------------------------------------------
    def watch_result(self, row: int):
        model = self.controller.results
        try:
            location = path_location(model.path(row))
        except InvalidInput as exc:
            self.panel.error(exc)
            return None
        request = self.controller.request
        label = request.label.removeprefix("watch: ") if request and request.label.startswith(
            "watch: ") else ""
        entry = self.workspace.watch.add(location, model.vtype, label)
        self.window.show_dock("watch")
        self.window.show_status(f"watching {location.text} as {model.vtype.label}")
        return entry

    def bookmark_result(self, row: int):
        model = self.controller.results
        try:
            location = path_location(model.path(row))
            marks = self.workspace.bookmarks
            bookmark = marks.add(f"bookmark {len(marks.bookmarks) + 1}", location,
                                 size=model.vtype.size)
        except InvalidInput as exc:
            self.panel.error(exc)
            return None
        self.window.show_dock("bookmarks")
        self.window.show_status(f"bookmarked {location.text}")
        return bookmark
