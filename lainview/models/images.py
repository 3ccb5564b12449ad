"""Saving pictures of lainview's views (screenshots): they show target or
kernel memory, so they are written like every other file lainview writes,
through ``backend/files.py`` (0600, exclusive temporary, rename)."""

from __future__ import annotations

import os

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QPixmap

from lainview.backend.files import atomic_private_file


def save_png(pixmap: QPixmap, path: str | os.PathLike) -> None:
    """Encode ``pixmap`` as PNG and write it privately to ``path``. Raises
    InvalidInput naming the path and the reason (encoding failed, the
    directory cannot take the file)."""
    from lainview.backend.errors import InvalidInput
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, "PNG"):
        raise InvalidInput(f"cannot write {os.fspath(path)}: the image could not be encoded")
    buffer.close()
    with atomic_private_file(path, "wb") as f:
        f.write(data.data())
