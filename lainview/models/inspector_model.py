"""The data inspector: the bytes at the cursor as every integer width,
floats and a pointer, little- and big-endian. Editing a value writes it
through the document, the same path as typing in the hex column."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from lainview.backend.errors import InvalidInput

from .cursor import HexCursor
from .formats import INSPECTOR_TYPES, decode_value, encode_value
from .hex_document import HexDocument
from .table import TableModel

TYPE, LITTLE, BIG = range(3)
HEADERS = ("Type", "Little-endian", "Big-endian")
ROWS = [name for name, _, _ in INSPECTOR_TYPES] + ["points into"]


class InspectorModel(TableModel):
    HEADERS = HEADERS

    def __init__(self, document: HexDocument, cursor: HexCursor,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.cursor = cursor
        self._values: list[tuple[str, str]] = [("", "")] * len(ROWS)
        self.last_error = ""
        document.changed.connect(self.recompute)
        document.region_changed.connect(self.recompute)
        cursor.moved.connect(self.recompute)
        self.recompute()

    def recompute(self) -> None:
        address = self.cursor.address
        values: list[tuple[str, str]] = []
        for name, _fmt, size in INSPECTOR_TYPES:
            data = self.document.bytes_at(address, size) if self.document.region else None
            if data is None:
                values.append(("??", "??") if self._unreadable(address, size) else ("…", "…"))
            else:
                values.append((decode_value(name, data, False), decode_value(name, data, True)))
        values.append((self._points_into(values[-1][0]), self._points_into(values[-1][1])))
        if values != self._values:
            self._values = values
            self.dataChanged.emit(self.index(0, LITTLE), self.index(len(ROWS) - 1, BIG))

    def _unreadable(self, address: int, size: int) -> bool:
        region = self.document.region
        if region is None or address + size > region.end:
            return True
        return any(self.document.cell(a).value is None
                   and self.document.cell(a).state.name == "UNREADABLE"
                   for a in range(address, address + size))

    def _points_into(self, text: str) -> str:
        if not text.startswith("0x"):
            return text
        return self.document.describe_pointer(int(text, 16))

    # -- Qt model API ----------------------------------------------------------------------------
    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable \
            | Qt.ItemFlag.ItemNeverHasChildren
        if index.column() != TYPE and index.row() < len(INSPECTOR_TYPES) \
                and not self.document.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def row_count(self) -> int:
        return len(ROWS)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(ROWS):
            return None
        row, column = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == TYPE:
                return ROWS[row]
            return self._values[row][column - 1]
        if role == Qt.ItemDataRole.ToolTipRole and column != TYPE and row < len(INSPECTOR_TYPES):
            return "double-click or F2 to edit; Enter writes to the target"
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() == TYPE \
                or index.row() >= len(INSPECTOR_TYPES):
            return False
        kind = INSPECTOR_TYPES[index.row()][0]
        try:
            data = encode_value(kind, str(value), big_endian=index.column() == BIG)
        except InvalidInput as exc:
            self.last_error = str(exc)
            self.document.inline_message.emit(f"{kind}: {exc}")
            return False
        self.last_error = ""
        self.document.write(self.cursor.address, data)
        return True
