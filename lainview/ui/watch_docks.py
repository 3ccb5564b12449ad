"""The watch list and plot docks and the session actions, as a feature of
the main window: they register through its API (``add_dock``,
``add_action``). Wiring only."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QScrollArea

from lainview.models.session_file import SUFFIX
from lainview.models.sessions import recent_sessions
from lainview.models.watch_values import ValueType

from .plot_panel import PlotPanel
from .session_pick import SessionPickDialog
from .watch_panel import WatchPanel

if TYPE_CHECKING:
    from .main_window import MainWindow


class WatchDocks(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        ws = self.workspace = window.workspace
        self.watch_panel = WatchPanel(ws.watch)
        self.plot_panel = PlotPanel(ws.watch)
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.watch_dock = window.add_dock("watch", "Watch list", self.watch_panel, bottom,
                                          split_from="scanner")
        self.plot_dock = window.add_dock("plot", "Plot", self.plot_panel, bottom,
                                         split_from="watch")
        window.on_default_layout(self._default_sizes)
        self._pick: SessionPickDialog | None = None
        self.replace_question: QMessageBox | None = None    # open while asking
        self.opening: asyncio.Task | None = None            # the session being opened (read, asked, applied)
        self._build_actions()
        self._connect()

    # -- actions -----------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window
        self.open_session_action = w.add_action("File", "Open &session…", self.ask_open_session,
                                                "Ctrl+Shift+O", separator=True)
        self.save_session_action = w.add_action("File", "Sa&ve session", self.save_session,
                                                "Ctrl+Shift+S")
        self.save_session_as_action = w.add_action("File", "Save session &as…",
                                                   lambda: self.save_session(ask=True))
        self.recent_sessions_menu = w.add_submenu("File", "Recent sess&ions")
        self.recent_sessions_menu.aboutToShow.connect(self._fill_recent_sessions)

        self.watch_cursor_action = w.add_action("Edit", "&Watch the cursor", self.watch_cursor,
                                                "Ctrl+W", separator=True)
        w.editor.view.addAction(self.watch_cursor_action)    # the hex view's context menu
        w.add_action("Go", "Focus the &watch list",
                     lambda: w.show_dock("watch", self.watch_panel.table), "Alt+4")
        # The data inspector's rows are types: watch the cursor as one of them.
        table = w.inspector_panel.table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        inspect_watch = QAction("Add to the watch list as this type", table)
        inspect_watch.triggered.connect(self._watch_from_inspector)
        table.addAction(inspect_watch)

    def _connect(self) -> None:
        ws = self.workspace
        self.watch_panel.go_to.connect(self.go_to)
        self.watch_panel.bookmark.connect(self._bookmark_entry)
        ws.sessions.pick_needed.connect(self._ask_pick)
        ws.sessions.view_restored.connect(self._restore_view)
        ws.sessions.opened.connect(lambda path: self.window.setWindowFilePath(path))

    def _bookmark_entry(self, entry) -> None:
        """Bookmark a watch entry: a pointer path as its path (it moves),
        anything else at its address."""
        bookmarks = self.window.features["bookmarks"]
        if entry.follows_pointers:
            marks = self.workspace.bookmarks
            marks.add(entry.label or f"bookmark {len(marks.bookmarks) + 1}", entry.location,
                      size=entry.vtype.size)
            self.window.show_dock("bookmarks")
            return
        bookmarks.add(entry.address, entry.label, entry.vtype.size)

    # -- hex cursor -> watch / bookmark --------------------------------------------------------------
    def type_for_cursor(self, address: int):
        """The type Ctrl+W watches with nothing selected: u64 (pointer-sized,
        as a counter or pointer usually is) at an 8-aligned address, else
        the watch list's type box (i32 unless the user chose another; a
        byte string type there falls back to i32)."""
        if address % 8 == 0:
            return ValueType.of("u64")
        chosen = ValueType.of(self.watch_panel.type.currentText())
        return ValueType.of("i32") if chosen.kind.sized else chosen

    def watch_cursor(self):
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("watch: open an area first")
            return None
        lo, hi = ws.cursor.selection
        if ws.cursor.has_selection:
            vtype = ValueType.for_selection(hi - lo)
        else:
            vtype = self.type_for_cursor(lo)
        entry = ws.watch.add_address(lo, vtype.name, vtype.length or None)
        self.watch_dock.show()
        self.watch_dock.raise_()
        self.window.show_status(f"watching {entry.location.text} as {entry.vtype.label}")
        return entry

    def _watch_from_inspector(self) -> None:
        index = self.window.inspector_panel.table.currentIndex()
        row = index.row() if index.isValid() else -1
        rows = self.workspace.inspector.rows
        if not 0 <= row < len(rows):
            self.window.show_status("pick a type row in the data inspector first")
            return
        name = rows[row].kind.name
        ws = self.workspace
        ws.watch.add_address(ws.cursor.address, name, big_endian=index.column() == 2)
        self.watch_dock.show()
        self.watch_dock.raise_()

    def go_to(self, address: int) -> None:
        self.window.show_address(address)

    #: Below this window width (logical px) the plot is a tab beside the
    #: watch list and journal instead of a third column.
    NARROW = 1500

    def _default_sizes(self) -> None:
        """Bottom row: scanner | watch list (tabbed with the journal) | plot;
        in a narrow window, scanner | watch list, journal and plot as tabs."""
        w = self.window
        width, height = w.width(), w.height()
        scanner = w.docks["scanner"]
        scroll = scanner.widget()
        assert isinstance(scroll, QScrollArea)      # add_dock wraps every panel in one
        inner = scroll.widget()
        wanted = (inner.sizeHint().height() if inner is not None else 0) + 30
        w.resizeDocks([scanner], [max(int(height * 0.3), min(wanted, int(height * 0.5)))],
                      Qt.Orientation.Vertical)
        if width < self.NARROW:
            w.tabifyDockWidget(self.watch_dock, self.plot_dock)
            self.watch_dock.raise_()
            w.resizeDocks([scanner, self.watch_dock], [int(width * 0.5), int(width * 0.5)],
                          Qt.Orientation.Horizontal)
        else:
            w.resizeDocks([scanner, self.watch_dock, self.plot_dock],
                          [int(width * 0.40), int(width * 0.36), int(width * 0.24)],
                          Qt.Orientation.Horizontal)

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
            name = (self.workspace.target.name or "session") + SUFFIX
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

    def open_session(self, path: str, pid: int | None = None) -> asyncio.Task:
        """Open the session at ``path``: the whole file is read and checked
        first (a bad file is refused without asking); when the watch list,
        the bookmarks or the Structure dock hold something, the user is
        asked (``replace_question``, non-blocking) before the session
        replaces them. The task (also ``opening``) ends with the outcome of
        :meth:`SessionManager.open`, or "kept" when the user said no."""
        task = self.opening = self.workspace.spawn(self._check_and_open(path, pid))
        return task

    async def _check_and_open(self, path: str, pid: int | None) -> str:
        sessions = self.workspace.sessions
        self.window.show_status(f"reading session {os.path.basename(path)}…")
        data = await sessions.check(path)
        if isinstance(data, str):
            return data
        held = sessions.current_state()
        if held and not await self._ask_replace(path, held):
            self.window.show_status("session not opened: the watch list, bookmarks and "
                                    "structure were kept")
            return "kept"
        self.window.show_status(f"opening session {os.path.basename(path)}…")
        outcome = await sessions.open(path, pid, data)
        if outcome == "opened":
            self.watch_dock.show()
            self.window.editor.view.setFocus()
        return outcome

    async def _ask_replace(self, path: str, held: list[str]) -> bool:
        """Ask whether the session may replace what ``held`` counts."""
        answer: asyncio.Future[bool] = asyncio.get_event_loop().create_future()
        box = self.replace_question = QMessageBox(
            QMessageBox.Icon.Question, "Open session",
            f"Opening {os.path.basename(path)} replaces the current watch list, bookmarks and "
            f"structure ({', '.join(held)}). Replace them?", parent=self.window)
        replace = box.addButton("Replace", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(_result: int) -> None:
            self.replace_question = None
            box.deleteLater()
            if not answer.done():
                answer.set_result(box.clickedButton() is replace)
        box.finished.connect(answered)
        box.open()
        return await answer

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
            def open_it(p: str = path) -> None:
                self.open_session(p)
            menu.addAction(os.path.basename(path), open_it).setToolTip(path)
