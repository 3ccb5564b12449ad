"""The main window: docks, menus, actions and the status bar. It builds the
widgets over a :class:`~lainview.models.workspace.Workspace` and forwards
every action to it; it holds no logic of its own."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QMainWindow, QMessageBox, QToolButton, QWidget)

from lainview.backend.errors import LainviewError
from lainview.backend.memory import MemoryArea
from lainview.models import settings
from lainview.models.session import TargetState
from lainview.models.workspace import Workspace

from .about import show_about
from .hex_editor import HexEditor
from .inspector_panel import InspectorPanel
from .process_picker import ProcessPicker
from .scanner_panel import ScannerPanel
from .vma_panel import VmaPanel
from .watch_docks import WatchDocks


class GoToBar(QWidget):
    """Ctrl+G: an address or area+offset, with the error inline."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("go to: 0x7f12a000, [heap]+0x10, libc.so.6+0x1f00 …")
        self.edit.setClearButtonEnabled(True)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b42318;")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        row.addWidget(QLabel("Go to"))
        row.addWidget(self.edit, 1)
        row.addWidget(self.error)
        row.addWidget(close)

    def open(self) -> None:
        self.error.setText("")
        self.show()
        self.edit.setFocus()
        self.edit.selectAll()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = ws = workspace
        self.setWindowTitle("lainview")
        self.editor = HexEditor(ws.document, ws.cursor)
        self.go_bar = GoToBar()
        self.go_bar.hide()
        self.editor.layout().insertWidget(1, self.go_bar)
        self.setCentralWidget(self.editor)
        self.vma_panel = VmaPanel(ws.vma)
        self.inspector_panel = InspectorPanel(ws.inspector)
        self.vma_dock = self._dock("Memory map", self.vma_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Data inspector", self.inspector_panel,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.scanner_panel = ScannerPanel(ws.scanner, self.vma_panel.selected_ranges)
        self.scanner_dock = self._dock("Scanner", self.scanner_panel,
                                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self.picker: ProcessPicker | None = None
        self._build_status_bar()
        self._build_actions()
        self.watch_docks = WatchDocks(self)     # watch list, plot, bookmarks, journal, sessions
        self._connect()
        self._restore_geometry()
        self._update_target()

    # -- building -----------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "_"))
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.target_label = QLabel()
        self.backend_label = QLabel()
        self.state_label = QLabel()
        for label in (self.target_label, self.backend_label, self.state_label):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)

    def _action(self, menu, text: str, slot, shortcut=None, *, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        ws = self.workspace
        K = QKeySequence
        file_menu = self.file_menu = self.menuBar().addMenu("&File")
        self.attach_action = self._action(file_menu, "&Attach to process…", self.show_picker,
                                          K("Ctrl+O"))
        self.recent_menu = file_menu.addMenu("&Recent targets")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self._action(file_menu, "&Dump area to file…", self.dump_current_area, K("Ctrl+S"))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, K(K.StandardKey.Quit))

        edit_menu = self.edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(edit_menu, "&Undo", lambda: ws.document.undo(),
                                        K(K.StandardKey.Undo))
        self.redo_action = self._action(edit_menu, "&Redo", lambda: ws.document.redo(),
                                        [K("Ctrl+Shift+Z"), K("Ctrl+Y")])
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        ws.document.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        ws.document.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        ws.document.undo_stack.undoTextChanged.connect(self._undo_text)
        ws.document.undo_stack.redoTextChanged.connect(self._redo_text)
        edit_menu.addSeparator()
        self._action(edit_menu, "&Copy as hex", lambda: self.copy("hex"), K(K.StandardKey.Copy))
        self._action(edit_menu, "Copy as C &array", lambda: self.copy("c"), K("Ctrl+Shift+C"))
        self._action(edit_menu, "Copy as &Python bytes", lambda: self.copy("python"),
                     K("Ctrl+Alt+C"))

        go_menu = self.go_menu = self.menuBar().addMenu("&Go")
        self._action(go_menu, "&Go to address…", self.go_bar.open, K("Ctrl+G"))
        self._action(go_menu, "&Find…", self.editor.search_bar.open, K(K.StandardKey.Find))
        self._action(go_menu, "Find &next", lambda: ws.next_match(+1), K("F3"))
        self._action(go_menu, "Find &previous", lambda: ws.next_match(-1), K("Shift+F3"))
        go_menu.addSeparator()
        self._action(go_menu, "Focus the &hex view", self.editor.view.setFocus, K("Alt+1"))
        self._action(go_menu, "Focus the &memory map", self._focus_vma, K("Alt+2"))
        self._action(go_menu, "Focus the data &inspector", self._focus_inspector, K("Alt+3"))

        view_menu = self.view_menu = self.menuBar().addMenu("&View")
        self._action(view_menu, "&Refresh now", self._refresh_now, K("F5"))
        self.pause_action = self._action(view_menu, "&Pause live refresh",
                                         self.editor.pause.toggle, K("Ctrl+P"))
        view_menu.addSeparator()
        view_menu.addAction(self.vma_dock.toggleViewAction())
        view_menu.addAction(self.inspector_dock.toggleViewAction())
        view_menu.addSeparator()
        # Kernel symbols (issue 4): a window of its own over the same backend.
        self._action(view_menu, "&Kernel symbols…", self.show_kernel_symbols, K("Ctrl+K"))
        view_menu.addAction(self.scanner_dock.toggleViewAction())
        self._action(go_menu, "&Scan for a value…", self.show_scanner, K("Ctrl+Shift+F"))

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keys", self._show_keys, K("F1"))
        self._action(help_menu, "&About lainview", lambda: show_about(self))

    def _connect(self) -> None:
        ws = self.workspace
        ws.status.connect(self.show_status)
        ws.session.state_changed.connect(self._update_target)
        ws.session.attached.connect(self._update_target)
        ws.session.areas_changed.connect(self._on_areas)
        ws.job_started.connect(self._job_started)
        ws.job_finished.connect(self._job_finished)
        self.vma_panel.open_area.connect(self._open_area)
        self.vma_panel.dump_area.connect(self.dump_area)
        self.vma_panel.refresh_requested.connect(ws.refresh_areas)
        self.vma_panel.dump_cancel.clicked.connect(self._cancel_dump)
        self.scanner_panel.open_address.connect(self.show_address)
        self.scanner_panel.add_to_watch.connect(self._watch_scan_match)
        ws.scanner.message.connect(self.show_status)
        self.go_bar.edit.returnPressed.connect(self._go)
        bar = self.editor.search_bar
        bar.search_requested.connect(lambda text, kind: ws.spawn(ws.search(text, kind)))
        bar.cancel_requested.connect(lambda: ws.jobs.get("search") and ws.jobs["search"].cancel())
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(100)
        self._progress_timer.timeout.connect(self._poll_progress)

    # -- actions -----------------------------------------------------------------------------------
    kernel_browser = None
    kernel_options: dict = {}       # KernelWorkspace source options (app.py: --kmem etc.)

    def show_kernel_symbols(self):
        from .symbol_browser import open_kernel_browser
        if self.kernel_browser is None:
            self.kernel_browser = open_kernel_browser(self.workspace.backend, self,
                                                      **self.kernel_options)
        self.kernel_browser.show()
        self.kernel_browser.raise_()
        self.kernel_browser.activateWindow()
        return self.kernel_browser

    def show_picker(self) -> ProcessPicker:
        if self.picker is None:
            self.picker = ProcessPicker(self.workspace.processes, self)
            self.picker.chosen.connect(self.attach)
        self.picker.filter.clear()
        self.picker.open()
        return self.picker

    def attach(self, pid: int, backend: str = "auto"):
        return self.workspace.spawn(self._attach(pid, backend))

    async def _attach(self, pid: int, backend: str, open_address: int | None = None) -> bool:
        if not await self.workspace.attach(pid, backend):
            return False
        ws = self.workspace
        try:
            if open_address is not None:
                ws.open_address(open_address)
            elif (area := ws.default_area()) is not None:
                ws.open_area(area, area.start)
        except LainviewError as exc:
            self.show_status(str(exc))
        if ws.document.region is not None:
            self.vma_panel.select_address(ws.document.region.start)
        self.editor.view.setFocus()
        return True

    async def attach_and_open(self, pid: int, address: int | None, backend: str = "auto") -> bool:
        return await self._attach(pid, backend, address)

    def _open_area(self, area: MemoryArea) -> None:
        self.workspace.open_area(area, area.start)
        self.editor.view.setFocus()

    def _go(self) -> None:
        try:
            self.workspace.go_to(self.go_bar.edit.text())
        except LainviewError as exc:
            self.go_bar.error.setText(str(exc))
            return
        self.go_bar.hide()
        if self.workspace.document.region is not None:
            self.vma_panel.select_address(self.workspace.cursor.address)
        self.editor.view.setFocus()

    def copy(self, fmt: str) -> None:
        if self.focusWidget() is not self.editor.view:
            widget = self.focusWidget()
            if hasattr(widget, "copy"):
                widget.copy()
                return
        try:
            text = self.workspace.selection_text(fmt)
        except LainviewError as exc:
            self.editor.show_message(f"copy: {exc}")
            return
        QGuiApplication.clipboard().setText(text)
        lo, hi = self.workspace.cursor.selection
        self.show_status(f"copied {hi - lo} bytes at {lo:#x} as {fmt}")

    def dump_current_area(self) -> None:
        if self.workspace.document.region is not None:
            self.dump_area(self.workspace.document.region)

    def dump_area(self, area: MemoryArea) -> None:
        suggested = f"pid{self.workspace.session.pid}-{area.start:x}-{area.end:x}.bin"
        path, _ = QFileDialog.getSaveFileName(self, f"Dump {area.display_name}", suggested)
        if path:
            self.workspace.spawn(self.workspace.dump(area, path))

    def _refresh_now(self) -> None:
        self.workspace.document.refresh_now()
        self.workspace.refresh_areas()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = settings.recent_targets()
        if not items:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        for pid, name in items:
            self.recent_menu.addAction(f"{pid}  {name}", lambda p=pid: self.attach(p))

    def show_scanner(self) -> None:
        self.scanner_dock.show()
        self.scanner_dock.raise_()
        self.scanner_panel.focus_value()

    def show_address(self, address: int) -> None:
        """Open the area holding ``address`` in the hex editor, cursor on it."""
        try:
            self.workspace.open_address(address)
        except LainviewError as exc:
            self.show_status(str(exc))
            return
        self.vma_panel.select_address(address)
        self.editor.view.setFocus()

    def _focus_vma(self) -> None:
        self.vma_dock.show()
        self.vma_panel.table.setFocus()

    def _focus_inspector(self) -> None:
        self.inspector_dock.show()
        self.inspector_panel.table.setFocus()

    def _show_keys(self) -> None:
        QMessageBox.information(self, "lainview keys", KEYS_HELP)

    # -- feedback ----------------------------------------------------------------------------------
    def _watch_scan_match(self, address: int, type_name: str) -> None:
        state = self.workspace.scanner.state
        self.workspace.watch.add_address(
            address, type_name, length=state.item_size if state else None,
            big_endian=bool(state and state.scan_type.big_endian))
        self.watch_docks.watch_dock.show()
        self.watch_docks.watch_dock.raise_()

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def _on_areas(self, _areas) -> None:
        self.vma_panel.summary.setToolTip(f"refreshed every {2} s and on demand")

    def _undo_text(self, text: str) -> None:
        self.undo_action.setText(f"&Undo {text}" if text else "&Undo")

    def _redo_text(self, text: str) -> None:
        self.redo_action.setText(f"&Redo {text}" if text else "&Redo")

    def _cancel_dump(self) -> None:
        job = self.workspace.jobs.get("dump")
        if job is not None:
            job.cancel()

    def _update_target(self, _state: str = "") -> None:
        session = self.workspace.session
        if session.target is None and session.state != TargetState.EXITED:
            self.target_label.setText("no target — Ctrl+O to attach")
            self.backend_label.setText("")
            self.state_label.setText("")
            self.setWindowTitle("lainview")
            return
        pid = session.pid
        self.target_label.setText(f"<b>pid {pid}</b> {session.name}")
        self.backend_label.setText(f"backend: <b>{session.describe_backend()}</b>")
        self.backend_label.setToolTip(session.backend_reason())
        reason = session.target.info.reason if session.target else ""
        short = reason.split(":", 1)[-1].strip() if reason else ""
        if short:
            self.backend_label.setText(f"backend: <b>{session.describe_backend()}</b> "
                                       f"<span style='color:#5b6b84'>({short})</span>")
        state = session.state
        colors = {TargetState.LIVE: "#15803d", TargetState.EXITED: "#b42318",
                  TargetState.ATTACHING: "#8a6d00", TargetState.DETACHED: "#5b6b84"}
        label = state.value
        if state == TargetState.LIVE and not session.writable:
            label = "live (read-only)"
        self.state_label.setText(f"<b style='color:{colors.get(state, '#5b6b84')}'>● {label}</b>")
        self.state_label.setToolTip(session.exit_reason if state == TargetState.EXITED else "")
        if state == TargetState.EXITED:
            self.editor.set_exited(session.exit_reason)
        else:
            self.editor.clear_exited()
        self.setWindowTitle(f"{session.name} ({pid}) — lainview")

    def _job_started(self, kind: str, _job) -> None:
        if kind == "dump":
            self.vma_panel.dump_progress.show()
            self.vma_panel.dump_progress.setValue(0)
            self.vma_panel.dump_cancel.show()
        else:
            self.editor.search_bar.set_running(True)
        self._progress_timer.start()

    def _poll_progress(self) -> None:
        jobs = self.workspace.jobs
        for kind, job in jobs.items():
            done, total = job.progress
            percent = int(100 * done / total) if total else 0
            bar = self.vma_panel.dump_progress if kind == "dump" else self.editor.search_bar.progress
            bar.setValue(percent)
        if not jobs:
            self._progress_timer.stop()

    def _job_finished(self, kind: str, summary: str) -> None:
        if kind == "dump":
            self.vma_panel.dump_progress.hide()
            self.vma_panel.dump_cancel.hide()
        else:
            self.editor.search_bar.set_running(False)
            self.editor.search_bar.result.setText(summary)
        self.show_status(summary)

    # -- geometry ----------------------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = settings.value("window/geometry", None)
        state = settings.value("window/state", None)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            # A first start: most of the screen, up to 1920x1080.
            screen = self.screen().availableGeometry() if self.screen() else None
            width = min(1920, int(screen.width() * 0.92)) if screen else 1600
            height = min(1080, int(screen.height() * 0.92)) if screen else 920
            self.resize(width, height)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._state_restored = self.restoreState(state)

    _state_restored = False

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._state_restored:
            # Dock sizes only take once the window has its size.
            self._state_restored = True
            QTimer.singleShot(0, self._default_dock_sizes)

    def _default_dock_sizes(self) -> None:
        width = self.width()
        self.resizeDocks([self.vma_dock, self.inspector_dock], [560, 340],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.scanner_dock], [int(self.height() * 0.3)], Qt.Orientation.Vertical)
        # Bottom row: scanner | watch list (tabbed with the journal) | plot.
        self.resizeDocks([self.scanner_dock, self.watch_docks.watch_dock,
                          self.watch_docks.plot_dock],
                         [int(width * 0.40), int(width * 0.36), int(width * 0.24)],
                         Qt.Orientation.Horizontal)

    def save_geometry(self) -> None:
        settings.set_value("window/geometry", self.saveGeometry())
        settings.set_value("window/state", self.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_geometry()
        self._progress_timer.stop()
        if self.kernel_browser is not None:
            self.kernel_browser.shutdown()
        self.workspace.stop()
        super().closeEvent(event)


KEYS_HELP = """\
Ctrl+O   attach to a process          Ctrl+G   go to address / area+offset
Ctrl+F   search the area              F3 / Shift+F3  next / previous match
Ctrl+Z   undo a write                 Ctrl+Shift+Z / Ctrl+Y  redo
Ctrl+C   copy selection as hex        Ctrl+Shift+C  as C array · Ctrl+Alt+C  as Python
F5       refresh now                  Ctrl+P   pause / resume live refresh
Tab      switch hex / ASCII column    Shift+arrows  select
Alt+1/2/3  hex view / memory map / inspector
Ctrl+K   kernel symbols (Ctrl+F filter, F5 re-read, Ctrl+S write the edited bytes…)
Ctrl+W   watch the cursor / selection  Ctrl+B   bookmark the cursor / selection
Ctrl+Shift+O / Ctrl+Shift+S  open / save a session
Alt+4/5/6  watch list / bookmarks / write journal
Ctrl+Shift+F  scan for a value (Enter: first scan, then next scan)
"""
