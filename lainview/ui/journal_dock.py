"""The write journal as a feature of the main window: its dock (a tab beside
the watch list), Go ▸ Focus the write journal (Alt+6); the journal file is
followed while the dock is on screen."""

from __future__ import annotations

from PySide6.QtCore import Qt

from .journal_panel import JournalPanel


class JournalFeature:
    def __init__(self, window):
        self.window = window
        self.workspace = window.workspace
        self.panel = JournalPanel(self.workspace.journal)
        self.dock = window.add_dock("journal", "Write journal", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea, tabify_with="watch")
        window.add_action("Go", "Focus the write &journal",
                          lambda: window.show_dock("journal", self.panel.table), "Alt+6")
        self.dock.visibilityChanged.connect(self._visible)

    def _visible(self, visible: bool) -> None:
        if visible:
            self.workspace.journal.start()
        else:
            self.workspace.journal.stop()
