"""Issue 7's part of the main window: the watch list, plot, bookmarks and
journal docks, the session actions under File, and the shortcuts. Wiring
only; the window creates one :class:`WatchDocks` and keeps it."""

from __future__ import annotations

import asyncio
import os

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QMenu, QMessageBox

from lainview.backend.errors import LainviewError
from lainview.models.formats import INSPECTOR_TYPES
from lainview.models.session_file import SUFFIX
from lainview.models.sessions import recent_sessions

from .bookmark_panel import BookmarkPanel
from .journal_panel import JournalPanel
from .plot_panel import PlotPanel
from .session_pick import SessionPickDialog
from .watch_panel import WatchPanel

WATCH_TYPE_FOR_SIZE = {1: "u8", 2: "i16", 4: "i32", 8: "i64"}


class WatchDocks(QObject):
    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        ws = self.workspace = window.workspace
        self.watch_panel = WatchPanel(ws.watch)
        self.plot_panel = PlotPanel(ws.watch)
        self.bookmark_panel = BookmarkPanel(ws.bookmarks)
        self.journal_panel = JournalPanel(ws.journal)
        bottom, left = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        self.watch_dock = window._dock("Watch list", self.watch_panel, bottom)
        self.plot_dock = window._dock("Plot", self.plot_panel, bottom)
        self.journal_dock = window._dock("Write journal", self.journal_panel, bottom)
        self.bookmark_dock = window._dock("Bookmarks", self.bookmark_panel, left)
        window.splitDockWidget(self.watch_dock, self.plot_dock, Qt.Orientation.Horizontal)
        window.tabifyDockWidget(self.watch_dock, self.journal_dock)
        window.tabifyDockWidget(window.vma_dock, self.bookmark_dock)
        self.watch_dock.raise_()
        window.vma_dock.raise_()
        self._pick: SessionPickDialog | None = None
        self.replace_question: QMessageBox | None = None    # open while asking
        self.opening: asyncio.Task | None = None            # a session opened after asking
        self._build_actions()
        self._connect()
        window.editor.view.set_marker_source(ws.bookmarks)
        # The journal file is followed while its dock is on screen.
        self.journal_dock.visibilityChanged.connect(self._journal_visible)

    # -- actions -----------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut: str | None = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        w = self.window
        file_menu = w.file_menu
        quit_action = file_menu.actions()[-1]
        self.open_session_action = self._action("Open &session…", self.ask_open_session,
                                                "Ctrl+Shift+O")
        self.save_session_action = self._action("Sa&ve session", self.save_session,
                                                "Ctrl+Shift+S")
        self.save_session_as_action = self._action("Save session &as…",
                                                   lambda: self.save_session(ask=True))
        for action in (self.open_session_action, self.save_session_action,
                       self.save_session_as_action):
            file_menu.insertAction(quit_action, action)
        self.recent_sessions_menu = QMenu("Recent sess&ions", file_menu)
        file_menu.insertMenu(quit_action, self.recent_sessions_menu)
        self.recent_sessions_menu.aboutToShow.connect(self._fill_recent_sessions)
        file_menu.insertSeparator(quit_action)

        self.watch_cursor_action = self._action("&Watch the cursor", self.watch_cursor, "Ctrl+W")
        self.bookmark_cursor_action = self._action("&Bookmark the cursor", self.bookmark_cursor,
                                                   "Ctrl+B")
        w.edit_menu.addSeparator()
        w.edit_menu.addAction(self.watch_cursor_action)
        w.edit_menu.addAction(self.bookmark_cursor_action)

        for text, dock, widget, key in (
                ("Focus the &watch list", self.watch_dock, self.watch_panel.table, "Alt+4"),
                ("Focus the &bookmarks", self.bookmark_dock, self.bookmark_panel.table, "Alt+5"),
                ("Focus the write &journal", self.journal_dock, self.journal_panel.table,
                 "Alt+6")):
            w.go_menu.addAction(self._action(text, lambda d=dock, t=widget: self._focus(d, t),
                                             key))
        for dock in (self.watch_dock, self.plot_dock, self.bookmark_dock, self.journal_dock):
            w.view_menu.addAction(dock.toggleViewAction())
        # The data inspector's rows are types: watch the cursor as one of them.
        table = w.inspector_panel.table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        inspect_watch = QAction("Add to the watch list as this type", table)
        inspect_watch.triggered.connect(self._watch_from_inspector)
        table.addAction(inspect_watch)

    def _connect(self) -> None:
        ws = self.workspace
        self.watch_panel.go_to.connect(self.go_to)
        self.watch_panel.bookmark.connect(
            lambda entry: self._bookmark(entry.address, entry.label, entry.vtype.size))
        self.bookmark_panel.jump.connect(self.go_to)
        self.bookmark_panel.watch.connect(
            lambda b: ws.watch.add(b.location, self._type_for_size(b.size), b.name))
        ws.sessions.pick_needed.connect(self._ask_pick)
        ws.sessions.view_restored.connect(self._restore_view)
        ws.sessions.opened.connect(lambda path: self.window.setWindowFilePath(path))

    def _journal_visible(self, visible: bool) -> None:
        if visible:
            self.workspace.journal.start()
        else:
            self.workspace.journal.stop()

    # -- hex cursor -> watch / bookmark --------------------------------------------------------------
    @staticmethod
    def _type_for_size(size: int):
        from lainview.models.watch_values import ValueType
        name = WATCH_TYPE_FOR_SIZE.get(size)
        return ValueType.of(name) if name else ValueType.of("bytes", min(size, 4096))

    def watch_cursor(self):
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("watch: open an area first")
            return None
        lo, hi = ws.cursor.selection
        vtype = self._type_for_size(hi - lo if ws.cursor.has_selection else 4)
        entry = ws.watch.add_address(lo, vtype.name, vtype.length or None)
        self.watch_dock.show()
        self.watch_dock.raise_()
        self.window.show_status(f"watching {entry.location.text} as {entry.vtype.label}")
        return entry

    def bookmark_cursor(self):
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("bookmark: open an area first")
            return None
        lo, hi = ws.cursor.selection
        return self._bookmark(lo, "", hi - lo)

    def _bookmark(self, address: int | None, name: str, size: int):
        if address is None:
            return None
        marks = self.workspace.bookmarks
        bookmark = marks.add_address(address, name or f"bookmark {len(marks.bookmarks) + 1}",
                                     size=max(1, size))
        self.bookmark_dock.show()
        self.bookmark_dock.raise_()
        row = len(marks.bookmarks) - 1
        self.bookmark_panel.table.selectRow(row)
        self.window.show_status(f"bookmarked {bookmark.location.text} (F2 in the bookmarks "
                                "to rename)")
        return bookmark

    def _watch_from_inspector(self) -> None:
        index = self.window.inspector_panel.table.currentIndex()
        row = index.row() if index.isValid() else -1
        if not 0 <= row < len(INSPECTOR_TYPES):
            self.window.show_status("pick a type row in the data inspector first")
            return
        name = INSPECTOR_TYPES[row][0]
        name = "u64" if name == "pointer" else name
        ws = self.workspace
        ws.watch.add_address(ws.cursor.address, name, big_endian=index.column() == 2)
        self.watch_dock.show()
        self.watch_dock.raise_()

    def go_to(self, address: int) -> None:
        try:
            self.workspace.open_address(address)
        except LainviewError as exc:
            self.window.show_status(str(exc))
            return
        self.window.vma_panel.select_address(address)
        self.window.editor.view.setFocus()

    def _focus(self, dock, widget) -> None:
        dock.show()
        dock.raise_()
        widget.setFocus()

    # -- sessions ----------------------------------------------------------------------------------
    def view_settings(self) -> dict:
        return {"bytes_per_row": self.window.editor.view.bytes_per_row,
                "plot_window_s": self.plot_panel.window_s.value()}

    def _restore_view(self, view: dict) -> None:
        bpr = view.get("bytes_per_row")
        combo = self.window.editor.bytes_per_row
        if isinstance(bpr, int) and combo.findData(bpr) >= 0:
            combo.setCurrentIndex(combo.findData(bpr))
        window_s = view.get("plot_window_s")
        if isinstance(window_s, int):
            self.plot_panel.window_s.setValue(window_s)
        self.plot_panel.rebuild()

    def save_session(self, ask: bool = False) -> asyncio.Task | None:
        sessions = self.workspace.sessions
        path = sessions.path
        if ask or not path:
            name = (self.workspace.session.name or "session") + SUFFIX
            path, _ = QFileDialog.getSaveFileName(self.window, "Save the session", name,
                                                  f"lainview sessions (*{SUFFIX});;JSON (*.json)")
            if not path:
                return None
        return self.workspace.spawn(sessions.save(path, self.view_settings()))

    def ask_open_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a session", "",
                                              f"lainview sessions (*{SUFFIX} *.json)")
        if path:
            self.open_session(path)

    def open_session(self, path: str, pid: int | None = None) -> asyncio.Task | None:
        """Open the session at ``path``. When the watch list or the bookmarks
        hold something, ask first (``replace_question``, non-blocking): the
        session replaces them. The task opening it, or None while asking."""
        ws = self.workspace
        watched, marked = len(ws.watch.entries), len(ws.bookmarks.bookmarks)
        if not watched and not marked:
            return ws.spawn(self._open_session(path, pid))
        parts = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in
                 ((watched, "watched value"), (marked, "bookmark")) if n]
        box = self.replace_question = QMessageBox(
            QMessageBox.Icon.Question, "Open session",
            f"Opening {os.path.basename(path)} replaces the current watch list and bookmarks "
            f"({' and '.join(parts)}). Replace them?", parent=self.window)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(_result: int) -> None:
            self.replace_question = None
            box.deleteLater()
            if box.clickedButton() is replace:
                self.opening = ws.spawn(self._open_session(path, pid))
            else:
                self.window.show_status("session not opened: the watch list was kept")
        box.finished.connect(answered)
        box.open()
        return None

    async def _open_session(self, path: str, pid: int | None) -> str:
        self.window.show_status(f"opening session {os.path.basename(path)}…")
        outcome = await self.workspace.sessions.open(path, pid)
        if outcome == "opened":
            self.watch_dock.show()
            self.window.editor.view.setFocus()
        return outcome

    def _ask_pick(self, candidates: list) -> None:
        pending = self.workspace.sessions.pending
        program = pending[0].program if pending else "the program"
        dialog = self._pick = SessionPickDialog(program, candidates, self.window)

        def done(result: int) -> None:
            pid = dialog.pid if result == QDialog.DialogCode.Accepted else None
            self.workspace.spawn(self.workspace.sessions.choose(pid))
            self._pick = None
            dialog.deleteLater()
        dialog.finished.connect(done)
        dialog.open()

    def _fill_recent_sessions(self) -> None:
        menu = self.recent_sessions_menu
        menu.clear()
        paths = recent_sessions()
        if not paths:
            menu.addAction("(none yet)").setEnabled(False)
        for path in paths:
            menu.addAction(os.path.basename(path), lambda p=path: self.open_session(p)) \
                .setToolTip(path)
