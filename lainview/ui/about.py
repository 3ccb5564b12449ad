"""Help ▸ About: the version (``lainview.__version__``), what lainview is,
and its licences."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMessageBox, QWidget

from lainview import __version__
from lainview.desktop import ICON_PATH

ABOUT_TEXT = """\
<h3>lainview {version}</h3>
<p>A Linux desktop memory editor: processes, their memory maps, a live hex
editor, a value scanner, watches and kernel symbols.</p>
<p>lainview is free software under the MIT licence; its kernel module
(lainko) is under the GNU GPL, version 2.</p>"""


def show_about(parent: QWidget) -> QMessageBox:
    """Open the About box, window-modal and without blocking; returns it."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About lainview",
                      ABOUT_TEXT.format(version=__version__),
                      QMessageBox.StandardButton.Close, parent)
    box.setIconPixmap(QIcon(str(ICON_PATH)).pixmap(64, 64))
    box.setObjectName("about_box")
    box.open()
    return box
