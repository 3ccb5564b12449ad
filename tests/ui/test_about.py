"""Help ▸ About: the version from lainview.__version__, the licences, the icon."""

from PySide6.QtWidgets import QMessageBox

import lainview


def test_help_about_shows_version_and_licences(qtbot, window):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    about = next(a for a in help_menu.actions() if a.text() == "&About lainview")
    about.trigger()
    box = window.findChild(QMessageBox, "about_box")
    qtbot.waitUntil(lambda: box is not None and box.isVisible())
    assert f"lainview {lainview.__version__}" in box.text()
    assert "MIT" in box.text() and "GPL" in box.text()
    assert not box.iconPixmap().isNull()
    box.close()
    box.deleteLater()
