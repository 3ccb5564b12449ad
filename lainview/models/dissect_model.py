"""The Dissect dock's model: memory without a type, one row per 8-byte slot
(offset, guessed type, value, why, address), from
:func:`lainview.backend.dissect.dissect`.

The bytes are read through the attached target (one request in flight at
most), again whenever the hex document refreshes, so the rows are live like
the hex view; a refresh that keeps the rows updates the cells that changed
in place (``dataChanged``: the view's editors stay as they are, see
``ui/editing.py``). The user may choose a slot's type (the Type column is
editable): the choice holds over refreshes, and the value is read as that
type. :meth:`DissectModel.declaration` turns the rows into C declarations
for the Structure dock.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex,
                            Qt, Signal)

from lainview.backend.dissect import (CHOICES, MAX_DISSECT, SLOT, Slot, SlotKind, declarations,
                                      dissect, merge_strings, value_text)
from lainview.backend.errors import InvalidInput, LainviewError
from lainview.backend.memory import ReadResult
from lainview.backend.placements import declarations_of

from .attached_target import AttachedTarget
from .hex_document import HexDocument
from .palette import color
from .tasks import TaskSet

OFFSET, TYPE, VALUE, REASON, ADDRESS = range(5)
HEADERS = ("Offset", "Type", "Value", "Why", "Address")
DEFAULT_SIZE = 0x80
KIND_ROLE = Qt.ItemDataRole.UserRole + 1        # the row's SlotKind (TYPE column)


class DissectModel(QAbstractTableModel):
    """Rows are :class:`~lainview.backend.dissect.Slot` s of [address,
    address + size); ``note_changed(str)``: what is dissected, or why not."""

    note_changed = Signal(str)

    def __init__(self, target: AttachedTarget, document: HexDocument,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.document = document
        self.address: int | None = None
        self.size = DEFAULT_SIZE
        self.slots: list[Slot] = []
        self.chosen: dict[int, SlotKind] = {}        # offset -> the user's type
        self.note = "right-click a byte in the hex view ▸ Dissect here"
        self.reads = 0                                # reads applied (tests, benches)
        self._tasks = TaskSet()
        self._reading = False
        self._generation = 0
        self._areas: object = None                   # the map and symbols of ``slots``
        self._symbols: object = None
        self._last: tuple[bytes, tuple] | None = None   # the bytes and holes of ``slots``
        document.changed.connect(lambda: None if document.paused else self.refresh())
        document.refreshed.connect(self.refresh)     # it reads on its own: on every refresh

    # -- what the user does ----------------------------------------------------------------
    def open(self, address: int, size: int | None = None) -> None:
        """Dissect ``size`` bytes (default: as before) from ``address``.
        InvalidInput for a size out of 1..MAX_DISSECT."""
        size = self.size if size is None else size
        if not 0 < size <= MAX_DISSECT:
            raise InvalidInput(f"dissect 1 to {MAX_DISSECT} bytes, not {size}")
        self.beginResetModel()
        self.address, self.size = address, size
        self.slots, self.chosen = [], {}
        self._generation += 1
        self._reading = False
        self._tasks.cancel_all()
        self.endResetModel()
        self._set_note(f"reading {size} bytes at {address:#x}…")
        self.refresh()

    def stop(self) -> None:
        self._tasks.cancel_all()

    def kind(self, row: int) -> SlotKind:
        """The row's type: the user's choice, else the guess."""
        slot = self.slots[row]
        return self.chosen.get(slot.offset, slot.kind)

    def set_kind(self, row: int, kind: SlotKind | str) -> bool:
        """Choose the type of the slot at ``row`` (one of :data:`CHOICES`);
        False for a partial or unreadable slot, or an unknown kind."""
        try:
            kind = SlotKind(kind)
        except ValueError:
            return False
        if not 0 <= row < len(self.slots) or kind not in CHOICES:
            return False
        slot = self.slots[row]
        if slot.data is None or len(slot.data) < SLOT:
            return False
        self.chosen[slot.offset] = kind
        self.dataChanged.emit(self.index(row, TYPE), self.index(row, ADDRESS))
        return True

    def declaration(self, name: str) -> str:
        """C declarations of ``struct NAME``, one field per row of its type
        (a string running on into the next string row: one array), as
        :func:`~lainview.backend.dissect.declarations` writes them
        (InvalidInput: a bad name, nothing dissected yet)."""
        if not self.slots:
            raise InvalidInput("nothing dissected yet: right-click a byte ▸ Dissect here")
        return declarations(name, merge_strings(
            [(s.offset, min(SLOT, self.size - s.offset), self.kind(i), s.data)
             for i, s in enumerate(self.slots)]))

    def declaration_after(self, existing: str, name: str) -> tuple[str, str]:
        """``existing`` C declarations (the Structure dock's) with the
        dissected ``struct NAME`` appended, renamed ``NAME_2``, ``NAME_3``,
        … where ``existing`` already declares that name: (the whole text,
        the new type's name, ``struct NAME``). InvalidInput: ``existing``
        does not parse (said with its line and column), a bad name, nothing
        dissected yet."""
        taken: set[str] = set()
        if existing.strip():
            try:
                taken = set(declarations_of(existing).names())
            except InvalidInput as exc:
                raise InvalidInput(f"the Structure dock's declarations: {exc}") from None
        base, n = name.strip(), 2
        chosen = base
        while f"struct {chosen}" in taken:
            chosen, n = f"{base}_{n}", n + 1
        text = self.declaration(chosen)
        if existing.strip():
            text = existing.rstrip() + "\n\n" + text
        return text, f"struct {chosen}"

    # -- the live refresh ------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the bytes again (skipped while a read is in flight)."""
        if self.address is None or self._reading:
            return
        target = self.target.target
        if target is None:
            self._set_note("not attached: attach to a process to dissect its memory")
            return
        try:
            future = target.read(self.address, self.size)
        except LainviewError as exc:
            self._set_note(f"cannot read {self.address:#x}: {exc}")
            return
        self._reading = True
        self._tasks.spawn(self._apply(self._generation, future))

    async def _apply(self, generation: int, future) -> None:
        try:
            read: ReadResult = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            return
        except LainviewError as exc:
            if generation == self._generation:
                self._set_note(f"cannot read {self.address:#x}: {exc}")
            return
        finally:
            if generation == self._generation:
                self._reading = False
        if generation != self._generation or self.address is None:
            return
        self.reads += 1
        areas, symbols = self.target.areas, self.target.symbols
        same_map = areas is self._areas and symbols is self._symbols
        if same_map and self.slots and (read.data, read.holes) == self._last:
            return                                    # nothing changed: nothing to do
        self._areas, self._symbols = areas, symbols
        self._last = (read.data, read.holes)
        slots = dissect(read, areas, symbols, self.slots if same_map else ())
        readable = sum(1 for s in slots if s.data is not None)
        if not readable:
            reason = slots[0].reason if slots else "nothing read"
            self._set_note(f"{self.size} bytes at {self.address:#x}: nothing readable "
                           f"({reason.removeprefix('not readable: ')})")
        else:
            hidden = len(slots) - readable
            self._set_note(f"{self.size} bytes at {self.address:#x}: {len(slots)} slots"
                           + (f", {hidden} unreadable" if hidden else ""))
        if len(slots) != len(self.slots):
            self.beginResetModel()
            self.slots = slots
            self.endResetModel()
            return
        old, self.slots = self.slots, slots
        for row, (a, b) in enumerate(zip(old, slots)):
            if a.data == b.data and a.kind == b.kind and a.value == b.value:
                continue
            first = TYPE if a.kind != b.kind else VALUE
            self.dataChanged.emit(self.index(row, first), self.index(row, ADDRESS),
                                  [Qt.ItemDataRole.DisplayRole])

    def _set_note(self, text: str) -> None:
        if text != self.note:
            self.note = text
            self.note_changed.emit(text)

    # -- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.slots)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.slots):
            return None
        row, column = index.row(), index.column()
        slot = self.slots[row]
        kind = self.kind(row)
        if role == KIND_ROLE:
            return kind
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == OFFSET:
                return f"+{slot.offset:#x}"
            if column == ADDRESS:
                return f"{slot.address:x}"
            if column == TYPE:
                return kind.value
            if column == VALUE:
                if kind == slot.kind:
                    return slot.value
                return value_text(kind, slot.data, self.target.areas, self.target.symbols)
            if slot.offset in self.chosen and kind != slot.kind:
                return f"chosen (guess: {slot.kind.value}, {slot.reason})"
            return slot.reason
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == TYPE and self._choosable(slot):
                return "double-click or F2 to choose this slot's type"
            if column == OFFSET:
                return f"{slot.address:#x}"
            if column in (VALUE, REASON):
                return str(self.data(index))
        if role == Qt.ItemDataRole.ForegroundRole:
            if slot.data is None:
                return color("error")
            if column in (OFFSET, ADDRESS, REASON):
                return color("muted")
        return None

    @staticmethod
    def _choosable(slot: Slot) -> bool:
        return slot.data is not None and len(slot.data) == SLOT

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == TYPE and self._choosable(self.slots[index.row()]):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: QModelIndex | QPersistentModelIndex, value,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != TYPE:
            return False
        return self.set_kind(index.row(), str(value))
