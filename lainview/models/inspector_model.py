"""The data inspector: the bytes at the cursor as every numeric type of the
registry (``lainview.backend.value_types``) and a pointer, little- and
big-endian. Editing a value writes it through the document, the same path
as typing in the hex column."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from lainview.backend import value_types
from lainview.backend.errors import InvalidInput
from lainview.backend.value_types import NumberKind

from .cursor import HexCursor
from .hex_document import HexDocument
from .table import TableModel

TYPE, LITTLE, BIG = range(3)
HEADERS = ("Type", "Little-endian", "Big-endian")
POINTER = "pointer"            # a u64 shown in hex; the row after it says where it points
POINTS_INTO = "points into"


@dataclass(frozen=True, slots=True)
class InspectorRow:
    """One editable row: ``name`` shown, the number type ``kind`` read and
    written, in hex when ``pointer``."""

    name: str
    kind: NumberKind
    pointer: bool = False

    def decode(self, data: bytes, big_endian: bool) -> str:
        value = self.kind.decode(data, big_endian)
        return f"0x{value:x}" if self.pointer else self.kind.format(value)

    def encode(self, text: str, big_endian: bool) -> bytes:
        """InvalidInput if ``text`` does not parse or does not fit."""
        return self.kind.encode(self.kind.parse(text), big_endian)


def inspector_rows() -> tuple[InspectorRow, ...]:
    """The editable rows: every numeric type registered now, then the pointer."""
    numbers = tuple(InspectorRow(k.name, k) for k in value_types.kinds()
                    if isinstance(k, NumberKind))
    return numbers + (InspectorRow(POINTER, value_types.number("u64"), pointer=True),)


class InspectorModel(TableModel):
    HEADERS = HEADERS

    def __init__(self, document: HexDocument, cursor: HexCursor,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.cursor = cursor
        self.rows = inspector_rows()
        self.names = [row.name for row in self.rows] + [POINTS_INTO]
        self._values: list[tuple[str, str]] = [("", "")] * len(self.names)
        self.last_error = ""
        document.changed.connect(self.recompute)
        document.region_changed.connect(self.recompute)
        cursor.moved.connect(self.recompute)
        self.recompute()

    def recompute(self) -> None:
        address = self.cursor.address
        values: list[tuple[str, str]] = []
        for row in self.rows:
            size = row.kind.size
            data = self.document.bytes_at(address, size) if self.document.region else None
            if data is None:
                values.append(("??", "??") if self._unreadable(address, size) else ("…", "…"))
            else:
                values.append((row.decode(data, False), row.decode(data, True)))
        values.append((self._points_into(values[-1][0]), self._points_into(values[-1][1])))
        if values != self._values:
            self._values = values
            self.dataChanged.emit(self.index(0, LITTLE), self.index(len(self.names) - 1, BIG))

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
        if index.column() != TYPE and index.row() < len(self.rows) \
                and not self.document.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def row_count(self) -> int:
        return len(self.names)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.names):
            return None
        row, column = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == TYPE:
                return self.names[row]
            return self._values[row][column - 1]
        if role == Qt.ItemDataRole.ToolTipRole and column != TYPE and row < len(self.rows):
            return "double-click or F2 to edit; Enter writes to the target"
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() == TYPE \
                or index.row() >= len(self.rows):
            return False
        row = self.rows[index.row()]
        try:
            data = row.encode(str(value), big_endian=index.column() == BIG)
        except InvalidInput as exc:
            self.last_error = str(exc)
            self.document.inline_message.emit(f"{row.name}: {exc}")
            return False
        self.last_error = ""
        self.document.write(self.cursor.address, data)
        return True
