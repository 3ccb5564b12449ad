"""The main window: the hex editor in the centre, and a small public API that
every feature plugs into — :meth:`MainWindow.add_dock`,
:meth:`MainWindow.add_action` (with its shortcut), :meth:`MainWindow.add_status_field`
and :meth:`MainWindow.add_key_note`. The features (memory map and data
inspector here; scanner, watch list/plot/bookmarks/journal/sessions and
kernel symbols in their own files, listed in :data:`FEATURES`) register
through it; the F1 key table is generated from what was registered. It builds
widgets over a :class:`~lainview.models.workspace.Workspace` and forwards
every action to it; it holds no logic of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDockWidget,
                               QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMainWindow, QMenu, QStyle, QTableWidget, QTableWidgetItem, QToolButton,
                               QVBoxLayout, QWidget)

from lainview.backend.errors import LainviewError
from lainview.backend.memory import MemoryArea
from lainview.backend.wording import counted
from lainview.models import settings, tasks
from lainview.models.attached_target import TargetState
from lainview.models.jobs import JobKind
from lainview.models.workspace import Workspace

from . import theme
from .about import show_about
from .fit import DockScroll, ElidedLabel, ElidingStatusBar, first_start_size
from .hex_editor import HexEditor
from .inspector_panel import InspectorPanel
from .process_picker import ProcessPicker
from .tables import list_rows
from .vma_panel import VmaPanel

Area = Qt.DockWidgetArea
#: The window's minimum size (logical pixels) with every dock open: it fits
#: a 1280x720 screen, and 2560x1440 at a scale of 2.
MINIMUM = QSize(1024, 640)
STATUS_MS = 10000


class GoToBar(QWidget):
    """Ctrl+G: an address or area+offset, with the error inline."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("go to: 0x7f12a000, [heap]+0x10, libc.so.6+0x1f00 …")
        self.edit.setClearButtonEnabled(True)
        self.error = ElidedLabel(min_chars=4, color=theme.color("error"))
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        row.addWidget(QLabel("Go to"))
        row.addWidget(self.edit, 2)
        row.addWidget(self.error, 1)
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


@dataclass
class KeyRow:
    """One row of the F1 table: where it applies, the keys, what they do."""
    where: str
    keys: str
    what: str


class KeysDialog(QDialog):
    """F1: every registered action with its shortcut, and the keys of the
    views, in one table (generated, never written twice)."""

    def __init__(self, rows: list[KeyRow], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("lainview keys")
        self.table = QTableWidget(len(rows), 3)
        list_rows(self.table, multi=True)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        for n, row in enumerate(rows):
            for section, text in enumerate((row.keys, row.what, row.where)):
                self.table.setItem(n, section, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addWidget(self.table, 1)
        column.addWidget(buttons)
        self.resize(640, 480)

    def rows(self) -> list[tuple[str, str, str]]:
        t = self.table
        def text(r: int, c: int) -> str:
            item = t.item(r, c)
            return item.text() if item is not None else ""
        return [(text(r, 0), text(r, 1), text(r, 2)) for r in range(t.rowCount())]


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


class MainWindow(QMainWindow):
    MENUS = ("File", "Edit", "Go", "View", "Help")

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = ws = workspace
        self.setWindowTitle("lainview")
        self.docks: dict[str, QDockWidget] = {}
        self.actions_by_menu: dict[str, list[QAction]] = {m: [] for m in self.MENUS}
        self.status_fields: dict[str, ElidedLabel] = {}
        self.key_notes: list[KeyRow] = []
        # name -> the feature object (each its own class: ScannerFeature, ...)
        self.features: dict[str, Any] = {}
        self._close_hooks: list[Callable[[], None]] = []
        self._default_sizes: list[Callable[[], None]] = []
        self.editor = HexEditor(ws.document, ws.cursor)
        self.editor.name_of = ws.target.name_of          # module!symbol in the position label
        ws.target.symbols_changed.connect(self.editor.refresh_position)
        self.go_bar = GoToBar()
        self.go_bar.hide()
        self.editor.column.insertWidget(1, self.go_bar)
        self.setCentralWidget(self.editor)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)
        self._menus = {name: self.menuBar().addMenu(f"&{name}") for name in self.MENUS}
        self._tails: dict[str, QAction | None] = {name: None for name in self.MENUS}
        self.file_menu, self.edit_menu, self.go_menu, self.view_menu, help_menu = \
            (self._menus[m] for m in self.MENUS)
        self.picker: ProcessPicker | None = None
        self._build_status_bar()
        self._build_core()
        for name, install in FEATURES:
            self.features[name] = install(self)
        self._finish_menus()
        self._connect()
        self._remove_reporter = tasks.add_reporter(self.show_error)
        self._default_state = self.saveState()
        self._restore_geometry()
        self._update_target()

    # -- the public API features plug into ---------------------------------------------------------
    def add_dock(self, name: str, title: str, widget: QWidget, area: Area, *,
                 tabify_with: str | None = None, split_from: str | None = None,
                 shortcut: str | None = None, raise_: bool = False) -> QDockWidget:
        """Dock ``widget`` (shown in a frame that scrolls rather than grow the
        window), add its show/hide toggle to View (with ``shortcut``), and
        place it: in ``area``, tabbed with the dock named ``tabify_with``, or
        beside (right of) the one named ``split_from``. Returns the dock;
        ``self.docks[name]`` keeps it."""
        if name in self.docks:
            raise ValueError(f"a dock named {name!r} is registered already")
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "_"))
        dock.setWidget(DockScroll(widget))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        if split_from is not None:
            self.splitDockWidget(self.docks[split_from], dock, Qt.Orientation.Horizontal)
        if tabify_with is not None:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
            (dock if raise_ else self.docks[tabify_with]).raise_()
        self.docks[name] = dock
        toggle = dock.toggleViewAction()
        if shortcut:
            toggle.setShortcut(QKeySequence(shortcut))
        self._register("View", toggle)
        return dock

    def add_action(self, menu: str, text: str, slot: Callable, shortcut=None, *,
                   checkable: bool = False, tip: str = "", separator: bool = False) -> QAction:
        """An action in ``menu`` (one of :attr:`MENUS`; in File, above Quit)
        calling ``slot()`` — or ``slot(checked)`` when ``checkable`` — with
        ``shortcut`` (a key string, a QKeySequence, a standard key or a list)
        active anywhere in the window. ``separator`` puts a line above it."""
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([k if isinstance(k, QKeySequence) else QKeySequence(k)
                                 for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if checkable:
            action.triggered.connect(lambda checked=False: slot(checked))
        else:
            # triggered(bool) never reaches the slot: a slot's own default
            # parameter must not receive `checked`.
            action.triggered.connect(lambda checked=False: slot())
        if separator:
            self._insert(menu, None)
        self._insert(menu, action)
        self._register(menu, action)
        return action

    def add_submenu(self, menu: str, title: str) -> QMenu:
        sub = QMenu(title, self._menus[menu])
        tail = self._tails[menu]
        if tail is None:
            self._menus[menu].addMenu(sub)
        else:
            self._menus[menu].insertMenu(tail, sub)
        return sub

    def add_status_field(self, name: str, *, min_chars: int = 10, tip: str = "",
                         field: ElidedLabel | None = None) -> ElidedLabel:
        """A permanent field at the right of the status bar (``field``, or a
        new one), elided to the room it gets (never widening the window)."""
        field = field if field is not None else ElidedLabel(min_chars=min_chars)
        field.setContentsMargins(6, 0, 6, 0)
        field.setToolTip(tip)
        self.statusBar().addPermanentWidget(field)
        self.status_fields[name] = field
        return field

    def add_key_note(self, where: str, keys: str, what: str) -> None:
        """A key a view handles itself (not an action), for the F1 table."""
        self.key_notes.append(KeyRow(where, keys, what))

    def on_default_layout(self, apply: Callable[[], None]) -> None:
        """Call ``apply`` when the default dock sizes are set (first start,
        View ▸ Reset layout), after the window has its size."""
        self._default_sizes.append(apply)

    def on_close(self, hook: Callable[[], None]) -> None:
        self._close_hooks.append(hook)

    def show_dock(self, name: str, focus: QWidget | None = None) -> QDockWidget:
        """Show and raise a dock (its tab, if tabbed), optionally focusing
        ``focus`` inside it."""
        dock = self.docks[name]
        dock.show()
        dock.raise_()
        if focus is not None:
            focus.setFocus()
        return dock

    def registered_actions(self) -> list[tuple[str, QAction]]:
        """(menu, action) for every action and dock toggle, in menu order."""
        return [(menu, a) for menu in self.MENUS for a in self.actions_by_menu[menu]]

    def key_rows(self) -> list[KeyRow]:
        rows = [KeyRow(menu, " / ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                                        for k in a.shortcuts()),
                       ("Show/hide " if a.isCheckable() and menu == "View"
                        and a.text() in (d.windowTitle() for d in self.docks.values()) else "")
                       + _plain(a.text()))
                for menu, a in self.registered_actions() if a.shortcuts()]
        return rows + self.key_notes

    def _insert(self, menu: str, action: QAction | None) -> None:
        m, tail = self._menus[menu], self._tails[menu]
        if action is None:
            m.insertSeparator(tail) if tail is not None else m.addSeparator()
        else:
            m.insertAction(tail, action) if tail is not None else m.addAction(action)

    def _register(self, menu: str, action: QAction) -> None:
        if action not in self.actions_by_menu[menu]:
            if action.parent() is not self:
                self._insert(menu, action)
            self.actions_by_menu[menu].append(action)

    # -- building -----------------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.setStatusBar(ElidingStatusBar())     # messages end in "…" when cut
        self.add_status_field("cursor", field=self.editor.position)
        self.target_label = self.add_status_field("target", min_chars=14)
        self.backend_label = self.add_status_field("backend", min_chars=10)
        self.state_label = self.add_status_field("state", min_chars=8)
        self.statusBar().setSizeGripEnabled(True)

    def _build_core(self) -> None:
        ws = self.workspace
        K = QKeySequence
        self.attach_action = self.add_action("File", "&Attach to process…", self.show_picker,
                                             "Ctrl+O")
        self.recent_menu = self.add_submenu("File", "&Recent targets")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.add_action("File", "&Dump area to file…", self.dump_current_area, "Ctrl+S")
        self.file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(K(K.StandardKey.Quit))
        quit_action.triggered.connect(lambda _checked=False: self.close())
        self.file_menu.addAction(quit_action)
        self._tails["File"] = self.file_menu.actions()[-2]          # the separator above Quit
        self.actions_by_menu["File"].append(quit_action)

        self.undo_action = self.add_action("Edit", "&Undo", lambda: ws.document.undo(),
                                           K(K.StandardKey.Undo))
        self.redo_action = self.add_action("Edit", "&Redo", lambda: ws.document.redo(),
                                           ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        ws.document.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        ws.document.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        ws.document.undo_stack.undoTextChanged.connect(self._undo_text)
        ws.document.undo_stack.redoTextChanged.connect(self._redo_text)
        self.add_action("Edit", "&Copy as hex", lambda: self.copy("hex"),
                        K(K.StandardKey.Copy), separator=True)
        self.add_action("Edit", "Copy as C &array", lambda: self.copy("c"), "Ctrl+Shift+C")
        self.add_action("Edit", "Copy as &Python bytes", lambda: self.copy("python"),
                        "Ctrl+Alt+C")

        self.add_action("Go", "&Go to address…", self.go_bar.open, "Ctrl+G")
        self.add_action("Go", "&Find…", self.editor.search_bar.open, K(K.StandardKey.Find))
        self.add_action("Go", "Find &next", lambda: ws.next_match(+1), "F3")
        self.add_action("Go", "Find &previous", lambda: ws.next_match(-1), "Shift+F3")
        self.add_action("Go", "Focus the &hex view", self.editor.view.setFocus, "Alt+1",
                        separator=True)

        self.add_action("View", "&Refresh now", self._refresh_now, "F5")
        self.pause_action = self.add_action("View", "&Pause live refresh",
                                            self.editor.pause.toggle, "Ctrl+P")
        self.view_menu.addSeparator()

        # The memory map (left) and the data inspector (right).
        self.vma_panel = VmaPanel(ws.vma)
        self.inspector_panel = InspectorPanel(ws.inspector)
        self.vma_dock = self.add_dock("memory map", "Memory map", self.vma_panel, Area.LeftDockWidgetArea)
        self.inspector_dock = self.add_dock("inspector", "Data inspector", self.inspector_panel,
                                            Area.RightDockWidgetArea)
        self.add_action("Go", "Focus the &memory map",
                        lambda: self.show_dock("memory map", self.vma_panel.table), "Alt+2")
        self.add_action("Go", "Focus the data &inspector",
                        lambda: self.show_dock("inspector", self.inspector_panel.table), "Alt+3")
        self.on_default_layout(self._core_dock_sizes)

        self.add_key_note("hex view", "Tab", "switch between the hex and ASCII columns")
        self.add_key_note("hex view", "Shift+arrows", "select")
        self.add_key_note("go-to and find bars", "Esc", "close the bar")

    def _finish_menus(self) -> None:
        self.add_action("View", "Reset &layout", self.reset_layout, separator=True)
        self.add_action("Help", "&Keys", self.show_keys, "F1")
        self.add_action("Help", "&About lainview", lambda: show_about(self))

    def _connect(self) -> None:
        ws = self.workspace
        ws.status.connect(self.show_status)
        ws.target.state_changed.connect(self._update_target)
        ws.target.attached.connect(self._update_target)
        ws.target.areas_changed.connect(self._on_areas)
        ws.job_started.connect(self._job_started)
        ws.job_finished.connect(self._job_finished)
        self.vma_panel.open_area.connect(self._open_area)
        self.vma_panel.dump_area.connect(self.dump_area)
        self.vma_panel.refresh_requested.connect(ws.refresh_areas)
        self.vma_panel.dump_cancel.clicked.connect(self._cancel_dump)
        self.go_bar.edit.returnPressed.connect(self._go)
        ws.went_to.connect(self._went_to)
        ws.go_to_failed.connect(self.go_bar.error.setText)
        bar = self.editor.search_bar
        bar.search_requested.connect(lambda text, kind: ws.spawn(ws.search(text, kind)))
        def cancel_search() -> None:
            job = ws.jobs.get(JobKind.SEARCH)
            if job is not None:
                job.cancel()
        bar.cancel_requested.connect(cancel_search)
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(100)
        self._progress_timer.timeout.connect(self._poll_progress)

    # -- actions -----------------------------------------------------------------------------------
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
            address = self.workspace.go_to(self.go_bar.edit.text())
        except LainviewError as exc:
            self.go_bar.error.setText(str(exc))
            return
        if address is not None:         # None: a pointer path, resolved on the backend
            self._went_to(address)

    def _went_to(self, address: int) -> None:
        self.go_bar.hide()
        self._centre(address)

    def show_address(self, address: int) -> bool:
        """Open the area holding ``address`` in the hex editor, cursor on it
        and its row in the middle of the view; False (said in the status
        bar) if no area holds it."""
        try:
            self.workspace.open_address(address)
        except LainviewError as exc:
            self.show_status(str(exc))
            return False
        self._centre(address)
        return True

    def _centre(self, address: int) -> None:
        self.vma_panel.select_address(address)
        self.editor.view.center_on(address)
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
        self.show_status(f"copied {counted(hi - lo, 'byte')} at {lo:#x} as {fmt}")

    def dump_current_area(self) -> None:
        if self.workspace.document.region is not None:
            self.dump_area(self.workspace.document.region)
        else:
            self.show_status("dump: open an area first")

    def dump_area(self, area: MemoryArea) -> None:
        suggested = f"pid{self.workspace.target.pid}-{area.start:x}-{area.end:x}.bin"
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
            def attach_it(p: int = pid) -> None:
                self.attach(p)
            self.recent_menu.addAction(f"{pid}  {name}", attach_it)

    def show_keys(self) -> KeysDialog:
        dialog = KeysDialog(self.key_rows(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- the features' handles (for scripts and tests) ---------------------------------------------
    @property
    def watch_docks(self):
        return self.features["watch"]

    @property
    def scanner_panel(self):
        return self.features["scanner"].panel

    @property
    def scanner_dock(self) -> QDockWidget:
        return self.docks["scanner"]

    def show_scanner(self) -> None:
        self.features["scanner"].show()

    @property
    def kernel_browser(self):
        return self.features["kernel"].browser

    def show_kernel_symbols(self):
        return self.features["kernel"].show()

    # -- feedback ----------------------------------------------------------------------------------
    def show_status(self, text: str) -> None:
        """A one-line message in the status bar for 10 s (elided with "…"
        where it does not fit, whole in the tooltip: it never widens the window)."""
        self.statusBar().showMessage(" ".join(text.split()), STATUS_MS)

    def show_error(self, text: str) -> None:
        """An exception that escaped a task or a slot (see models.tasks)."""
        self.show_status(text)

    def _on_areas(self, _areas) -> None:
        self.vma_panel.summary.setToolTip(f"refreshed every {2} s and on demand")

    def _undo_text(self, text: str) -> None:
        self.undo_action.setText(f"&Undo {text}" if text else "&Undo")

    def _redo_text(self, text: str) -> None:
        self.redo_action.setText(f"&Redo {text}" if text else "&Redo")

    def _cancel_dump(self) -> None:
        job = self.workspace.jobs.get(JobKind.DUMP)
        if job is not None:
            job.cancel()

    def _update_target(self, _state: str = "") -> None:
        target = self.workspace.target
        if target.target is None and target.state != TargetState.EXITED:
            self.target_label.setText("no target — Ctrl+O to attach")
            self.backend_label.setText("")
            self.state_label.setText("")
            self.setWindowTitle("lainview")
            return
        pid = target.pid
        self.target_label.setText(f"pid {pid} {target.name}")
        reason = target.target.info.reason if target.target else ""
        short = reason.split(":", 1)[-1].strip() if reason else ""
        self.backend_label.setText(f"backend: {target.describe_backend()}")
        self.backend_label.setToolTip(target.backend_reason() + (f" ({short})" if short else ""))
        state = target.state
        tones = {TargetState.LIVE: "ok", TargetState.EXITED: "error",
                 TargetState.ATTACHING: "warn", TargetState.DETACHED: "muted"}
        label = state.value
        if state == TargetState.LIVE and not target.writable:
            label = "live (read-only)"
        self.state_label.setText(f"● {label}")
        self.state_label.set_color(theme.color(tones.get(state, "muted")))
        self.state_label.setToolTip(target.exit_reason if state == TargetState.EXITED else "")
        if state == TargetState.EXITED:
            self.editor.set_exited(target.exit_reason)
        else:
            self.editor.clear_exited()
        self.setWindowTitle(f"{target.name} ({pid}) — lainview")

    def _job_started(self, kind: JobKind, _job) -> None:
        if kind == JobKind.DUMP:
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
            bar = self.vma_panel.dump_progress if kind == JobKind.DUMP else self.editor.search_bar.progress
            bar.setValue(percent)
        if not jobs:
            self._progress_timer.stop()

    def _job_finished(self, kind: JobKind, summary: str) -> None:
        if kind == JobKind.DUMP:
            self.vma_panel.dump_progress.hide()
            self.vma_panel.dump_cancel.hide()
        else:
            self.editor.search_bar.set_running(False)
            self.editor.search_bar.result.setText(summary)
        self.show_status(summary)

    # -- geometry ----------------------------------------------------------------------------------
    def default_size(self) -> QSize:
        """A first start: most of the screen, up to 1920x1080."""
        return first_start_size(self, QSize(1920, 1080), fallback=QSize(1600, 920))

    def _restore_geometry(self) -> None:
        geometry = settings.value("window/geometry", None)
        state = settings.value("window/state", None)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(self.default_size())
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._state_restored = self.restoreState(state)

    _state_restored = False

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._state_restored:
            # Dock sizes only take once the window has its size.
            self._state_restored = True
            QTimer.singleShot(0, self._apply_default_sizes)

    def _apply_default_sizes(self) -> None:
        for apply in self._default_sizes:
            apply()

    def _core_dock_sizes(self) -> None:
        """Top row: the hex view gets a whole row (its ASCII column too) and
        the inspector a 64-bit value; the memory map what is left, up to a
        quarter of the window (540 px at most), but never less than its
        whole Start and End columns (the hex view's ASCII column gives way
        first on a narrow screen)."""
        width = self.width()
        inspector = self.inspector_panel.default_width()
        room = width - self.editor.view.full_width() - inspector \
            - 4 * self.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent)
        self.resizeDocks([self.vma_dock, self.inspector_dock],
                         [max(self.vma_panel.least_width(), min(room, 540, int(width * 0.25))),
                          inspector], Qt.Orientation.Horizontal)

    def reset_layout(self) -> None:
        """View ▸ Reset layout: every dock back where a first start puts it,
        at its default size, and the window at its default size."""
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        for name in ("memory map", "watch"):
            if name in self.docks:
                self.docks[name].raise_()
        if not (self.isMaximized() or self.isFullScreen()):
            self.resize(self.default_size())
        QTimer.singleShot(0, self._apply_default_sizes)

    def save_geometry(self) -> None:
        settings.set_value("window/geometry", self.saveGeometry())
        settings.set_value("window/state", self.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_geometry()
        self._progress_timer.stop()
        for hook in self._close_hooks:
            hook()
        self._remove_reporter()
        self.workspace.stop()
        super().closeEvent(event)


def _features():
    from .bookmark_dock import BookmarkFeature
    from .code_feature import CodeFeature
    from .dissect_dock import DissectFeature
    from .field_feature import FieldFeature
    from .journal_dock import JournalFeature
    from .kernel_feature import KernelFeature
    from .pointer_scan_dock import PointerScanFeature
    from .scanner_dock import ScannerFeature
    from .structure_dock import StructureFeature
    from .watch_docks import WatchDocks
    from .watchpoint_dock import WatchpointFeature
    return [("scanner", ScannerFeature), ("watch", WatchDocks), ("bookmarks", BookmarkFeature),
            ("journal", JournalFeature), ("kernel", KernelFeature),
            ("structure", StructureFeature), ("fields", FieldFeature),
            ("dissect", DissectFeature), ("code", CodeFeature),
            ("watchpoint", WatchpointFeature), ("pointer scan", PointerScanFeature)]


class _Features:
    """The features, in the order they register (imported on first use)."""

    def __iter__(self):
        return iter(_features())


FEATURES = _Features()
