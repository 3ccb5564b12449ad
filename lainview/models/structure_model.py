"""The structure view's model: a C type placed at an address of the open
area, shown as a tree of fields (name, offset, type, live value).

Types come from C declarations the user pastes (backend/c_decls.py); the
tree is :func:`lainview.backend.ctypes_model.typed_value` over the hex
document's bytes, recomputed whenever the document changes (the same live
refresh as the hex view). A refresh that keeps the tree's shape updates the
value column in place (``dataChanged``), so expanded rows and an open
editor are left alone. Editing a whole-byte number field writes it through
the document: the same journaled path as every write. Given the attached
target, a pointer to a struct is followed one level: its pointee, read in
one batched request per refresh (never two in flight), is the pointer's
child ``*``, updated in place.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import (QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex,
                            Qt, Signal)

from lainview.backend import value_types
from lainview.backend.c_decls import Declarations, parse_header
from lainview.backend.ctypes_model import (Array, Base, CType, Enum, Node, Pointer, Record,
                                           typed_value)
from lainview.backend.errors import InvalidInput, LainviewError

from .attached_target import AttachedTarget
from .hex_document import HexDocument
from .tasks import TaskSet

FIELD, OFFSET, TYPE, VALUE = range(4)
_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole,
                    Qt.ItemDataRole.ToolTipRole})
HEADERS = ("Field", "Offset", "Type", "Value")


class StructureModel(QAbstractItemModel):
    """Rows are :class:`Node` s; ``placed`` is (type name, address) or None."""

    placed_changed = Signal()
    note_changed = Signal(str)

    def __init__(self, document: HexDocument, target: AttachedTarget | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.target = target                     # None: pointers are not followed
        self._tasks = TaskSet()
        self._reading = False                    # one pointee read in flight at most
        self._pointees: dict[int, Node] = {}      # id(pointer node) -> its "*" child
        self.declarations = Declarations()
        self.ctype: CType | None = None
        self.type_name = ""
        self.address: int | None = None
        self.root: Node | None = None
        self.note = "paste C declarations, name a type, place it at the cursor"
        self.last_error = ""
        self._parents: dict[int, Node] = {}
        self._rows: dict[int, int] = {}
        self._flat: list[Node] = []                # the tree, in walk order
        self._last: bytes | None = None
        self._texts: dict[int, str] = {}           # value column text, per node
        self._kinds: dict[int, value_types.NumberKind | None] = {}
        document.changed.connect(self.refresh)
        document.region_changed.connect(self.refresh)

    # -- what the user does ----------------------------------------------------------------
    def set_declarations(self, text: str) -> list[str]:
        """Parse a header (InvalidInput with line and column); returns the
        type names it declares."""
        self.declarations = parse_header(text, "declarations")
        return self.declarations.names()

    def place(self, type_name: str, address: int) -> None:
        """Show ``type_name`` (of the declarations) at ``address``. Raises
        InvalidInput for an unknown type or one without a size."""
        self.place_type(self.declarations.lookup(type_name), type_name, address)

    def place_type(self, ctype: CType, type_name: str, address: int) -> None:
        """Show ``ctype`` (from anywhere: C declarations, BTF, DWARF) named
        ``type_name`` at ``address``. InvalidInput for a type without a size."""
        if ctype.size <= 0:
            raise InvalidInput(f"{type_name} has no size (declared, never defined)")
        self.ctype, self.type_name, self.address = ctype, type_name.strip(), address
        self.root, self._flat, self._last = None, [], None
        self.refresh()
        self.placed_changed.emit()

    def type_from_debug_info(self, address: int) -> asyncio.Task:
        """Place the global variable holding ``address``, typed from the
        DWARF of the module it lies in (``Target.debug_global_at``), at its
        first byte. The task's result: True, or False with the reason in
        the note (no target, no module, no DWARF, no global there)."""
        return self._tasks.spawn(self._type_from_debug_info(address))

    async def _type_from_debug_info(self, address: int) -> bool:
        target = self.target.target if self.target is not None else None
        try:
            if target is None:
                raise InvalidInput("attach to a process first: the type comes from the DWARF "
                                   "of the module at the cursor")
            found = await asyncio.wrap_future(target.debug_global_at(address))
            self.place_type(found.type, found.name, found.address)
        except LainviewError as exc:
            self.note = str(exc)
            self.note_changed.emit(self.note)
            return False
        return True

    def stop(self) -> None:
        """Cancel a pointee read in flight (the window is closing)."""
        self._tasks.cancel_all()

    def clear(self) -> None:
        self.beginResetModel()
        self.ctype = self.address = self.root = None
        self._parents, self._rows, self._flat, self._last = {}, {}, [], None
        self.endResetModel()
        self.placed_changed.emit()

    # -- the live refresh ------------------------------------------------------------------
    def refresh(self) -> None:
        if self.ctype is None or self.address is None:
            return
        data = self.document.bytes_at(self.address, self.ctype.size) \
            if self.document.region is not None else None
        if self.root is not None and data is not None and data == self._last:
            self._follow()                       # the pointees may have changed
            return                               # the struct did not: no repaint
        self._last = data
        if data is None:
            note = (f"{self.type_name} at {self.address:#x}: not in the open area, or not "
                    "read yet")
            tree = typed_value(self.ctype, bytes(self.ctype.size), self.address)
            for n in tree.walk():                # the shape, every value unknown
                if n.value is not None:
                    n.value = "??"
        else:
            note = f"{self.type_name} at {self.address:#x} ({self.ctype.size} bytes)"
            tree = typed_value(self.ctype, data, self.address)
        if self.note != note:
            self.note = note
            self.note_changed.emit(note)
        old = self.root
        new = list(tree.walk())
        if old is not None and len(new) == len(self._flat):
            # the same type, so the same shape (pointers are not followed here):
            # update values in place, one dataChanged per parent's run of rows
            spans: dict[int, tuple[Node, int, int]] = {}
            for a, b in zip(self._flat, new):
                if a.value != b.value:
                    a.value = b.value
                    self._texts.pop(id(a), None)
                    up = self._parents.get(id(a))
                    if up is None:
                        continue
                    row = self._rows[id(a)]
                    _, lo, hi = spans.get(id(up), (up, row, row))
                    spans[id(up)] = (up, min(lo, row), max(hi, row))
            for up, lo, hi in spans.values():
                self.dataChanged.emit(self.createIndex(lo, VALUE, up.children[lo]),
                                      self.createIndex(hi, VALUE, up.children[hi]),
                                      [Qt.ItemDataRole.DisplayRole])
            self._follow()
            return
        self.beginResetModel()
        self.root = tree
        self._pointees = {}
        self._texts, self._kinds = {}, {}
        self._flat = new
        self._parents = {id(c): n for n in tree.walk() for c in n.children}
        self._rows = {id(c): i for n in tree.walk() for i, c in enumerate(n.children)}
        self.endResetModel()
        self._follow()

    # -- following pointers (one level, read through the target) ------------------------------
    def _follow(self) -> None:
        """Read what the struct's pointers to structs point at (one batched
        read, never more than one in flight) and show each pointee as the
        pointer's child ``*``, updated in place on later refreshes."""
        if self.target is None or self.target.target is None or self._reading:
            return
        wanted: list[tuple[Node, Pointer, int]] = []
        for n in self._flat:
            t = self._type_at(n) if n.type.endswith("*") else None
            s = t.strip() if t is not None else None
            if isinstance(s, Pointer) and isinstance(n.value, int):
                pointee = s.target.strip()
                if isinstance(pointee, Record) and pointee.complete and pointee.size:
                    wanted.append((n, s, n.value))
        if not wanted:
            return
        try:
            future = self.target.target.read_many(
                [(address, ptr.target.size) for _n, ptr, address in wanted])
        except LainviewError:
            return
        self._reading = True
        self._tasks.spawn(self._apply_pointees(wanted, future))

    async def _apply_pointees(self, wanted: list[tuple[Node, Pointer, int]], future) -> None:
        try:
            replies = await asyncio.wrap_future(future)
        except (asyncio.CancelledError, LainviewError):
            return
        finally:
            self._reading = False
        for (node, ptr, address), reply in zip(wanted, replies):
            if self._parents.get(id(node)) is None or node.value != address:
                continue                         # the tree or the pointer moved on
            if isinstance(reply, LainviewError):
                self._set_pointee(node, None, str(reply))
                continue
            try:
                data = reply.require("read")
            except LainviewError as exc:
                self._set_pointee(node, None, str(exc))
                continue
            def prefetched(_address: int, size: int, data: bytes = bytes(data)) -> bytes:
                return data[:size]
            holder = typed_value(ptr, address.to_bytes(8, "little"), node.address,
                                 prefetched, follow=1, name=node.path)
            self._set_pointee(node, holder.children[0] if holder.children else None, None)

    def _set_pointee(self, node: Node, child: Node | None, error: str | None) -> None:
        old = self._pointees.get(id(node))
        if node.error != error:
            node.error = error
            self._texts.pop(id(node), None)
            index = self._index_of(node, VALUE)
            self.dataChanged.emit(index, index)
        if old is not None and child is not None and old.address == child.address \
                and [n.path for n in old.walk()] == [n.path for n in child.walk()]:
            for a, b in zip(old.walk(), child.walk()):
                if a.value != b.value:
                    a.value = b.value
                    self._texts.pop(id(a), None)
                    index = self._index_of(a, VALUE)
                    self.dataChanged.emit(index, index)
            return
        parent = self._index_of(node, 0)
        if old is not None:
            self.beginRemoveRows(parent, 0, 0)
            node.children = []
            del self._pointees[id(node)]
            self.endRemoveRows()
        if child is not None:
            self.beginInsertRows(parent, 0, 0)
            node.children = [child]
            self._pointees[id(node)] = child
            self._parents[id(child)] = node
            self._rows[id(child)] = 0
            for n in child.walk():
                for i, c in enumerate(n.children):
                    self._parents[id(c)], self._rows[id(c)] = n, i
            self.endInsertRows()

    def node(self, index: QModelIndex | QPersistentModelIndex) -> Node | None:
        if not index.isValid():
            return None
        node = index.internalPointer()
        return node if isinstance(node, Node) else None

    def find(self, path: str) -> QModelIndex:
        """The index (value column) of the field at ``path``, or invalid."""
        if self.root is None:
            return QModelIndex()
        for n in self.root.walk():
            if n.path == path and n is not self.root:
                return self._index_of(n, VALUE)
        return QModelIndex()

    def _index_of(self, node: Node, column: int) -> QModelIndex:
        parent = self._parents.get(id(node))
        if parent is None:
            return QModelIndex()
        return self.createIndex(self._rows[id(node)], column, node)

    # -- Qt model API ------------------------------------------------------------------------
    def index(self, row: int, column: int,
              parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        owner = self.node(parent) if parent.isValid() else self.root
        if owner is None or not 0 <= row < len(owner.children):
            return QModelIndex()
        return self.createIndex(row, column, owner.children[row])

    def parent(self, index=QModelIndex()):
        node = self.node(index)
        if node is None:
            return QModelIndex()
        up = self._parents.get(id(node))
        if up is None or up is self.root:
            return QModelIndex()
        return self._index_of(up, 0)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        if parent.isValid() and parent.column() != 0:
            return 0
        owner = self.node(parent) if parent.isValid() else self.root
        return len(owner.children) if owner is not None else 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if role not in _ROLES:
            return None
        node = self.node(index)
        if node is None:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == FIELD:
                return node.name
            if column == OFFSET:
                text = f"+{node.offset:#x}" if node.offset is not None else ""
                if node.bits:
                    text += f" bits {node.bits[0]}..{node.bits[0] + node.bits[1] - 1}"
                return text
            if column == TYPE:
                return node.type
            shown = self._texts.get(id(node))
            if shown is None:
                shown = str(node.value) if node.value == "??" else node.value_text()
                if node.error:
                    shown += " (points to unreadable memory)"
                self._texts[id(node)] = shown
            return shown
        if role == Qt.ItemDataRole.ToolTipRole and column == VALUE and node.error:
            return node.error
        if role == Qt.ItemDataRole.ToolTipRole and column == VALUE and self._kind(node):
            return "double-click or F2 to edit; Enter writes to the target (journaled)"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        node = self.node(index)
        if node is None:
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == VALUE and self._editable(node):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def _editable(self, node: Node) -> bool:
        """Number and enum fields of the placed struct itself (a followed
        pointee's fields lie outside the open area: shown, not edited)."""
        return node.offset is not None and self._kind(node) is not None \
            and not self.document.read_only

    def watch_type(self, index: QModelIndex | QPersistentModelIndex
                   ) -> tuple[int, str, int | None] | None:
        """(address, value-type name, length) to watch the field at
        ``index`` in the watch list: numbers and enums by their number
        type, ``char`` arrays as utf8 text; None for other fields."""
        node = self.node(index)
        if node is None or node.address is None:
            return None
        kind = self._kind(node)
        if kind is not None:
            return node.address, kind.name, None
        t = self._type_at(node)
        s = t.strip() if t is not None else None
        if isinstance(s, Array) and isinstance(s.element.strip(), Base) \
                and s.element.strip().size == 1 and s.count:
            return node.address, "utf8", s.count
        return None

    def _kind(self, node: Node) -> value_types.NumberKind | None:
        """The registry's number type a field is written as (whole-byte
        integers and floats, enums by their integer; not bitfields)."""
        key = id(node)
        if key not in self._kinds:
            self._kinds[key] = self._find_kind(node)
        return self._kinds[key]

    def _find_kind(self, node: Node) -> value_types.NumberKind | None:
        if node.bits or node.address is None or self.ctype is None or node.value is None:
            return None
        t = self._type_at(node)
        s = t.strip() if t is not None else None
        if isinstance(s, Enum):
            return value_types.number(f"{'i' if s.signed else 'u'}{s.size * 8}")
        if isinstance(s, Base) and s.value_kind is not None:
            return value_types.number(s.value_kind)
        return None

    def _type_at(self, node: Node) -> CType | None:
        from lainview.backend.ctypes_model import field_place
        if self.ctype is None:
            return None
        try:
            return field_place(self.ctype, node.path).type
        except InvalidInput:
            return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        node = self.node(index)
        if role != Qt.ItemDataRole.EditRole or node is None or index.column() != VALUE:
            return False
        kind = self._kind(node)
        if kind is None or node.address is None or not self._editable(node):
            return False
        text = str(value).strip()
        t = self._type_at(node)
        s = t.strip() if t is not None else None
        if isinstance(s, Enum) and text in s.values:
            text = str(s.values[text])
        try:
            data = kind.encode(kind.parse(text))
        except InvalidInput as exc:
            self.last_error = f"{node.path}: {exc}"
            self.document.inline_message.emit(self.last_error)
            return False
        self.last_error = ""
        self.document.write(node.address, data)
        return True
