"""The value scanner as a feature of the main window: its dock (bottom), the
Go ▸ Scan for a value… action, and where its matches go (the hex editor,
the watch list)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from .scanner_panel import ScannerPanel


class ScannerFeature:
    def __init__(self, window):
        self.window = window
        ws = window.workspace
        self.panel = ScannerPanel(ws.scanner, window.vma_panel.selected_ranges)
        self.dock = window.add_dock("scanner", "Scanner", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea)
        window.add_action("Go", "&Scan for a value…", self.show, "Ctrl+Shift+F",
                          separator=True)
        window.add_key_note("scanner", "Enter", "first scan, then next scan")
        self.panel.open_address.connect(window.show_address)
        self.panel.add_to_watch.connect(self._watch_match)
        ws.scanner.message.connect(window.show_status)

    def show(self) -> None:
        self.window.show_dock("scanner")
        self.panel.focus_value()

    def _watch_match(self, address: int, type_name: str) -> None:
        ws = self.window.workspace
        state = ws.scanner.state
        ws.watch.add_address(address, type_name, length=state.item_size if state else None,
                             big_endian=bool(state and state.scan_type.big_endian))
        self.window.show_dock("watch")
