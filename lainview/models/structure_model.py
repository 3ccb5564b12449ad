"""The structure view's model: a C type placed at a location, shown as a
tree of fields (name, offset, type, live value).

A placement (``backend/placements.py``: name, declarations, type, location)
is resolved again and read on every refresh of the hex view, in one
backend request (``Target.read_locations``: the location's pointer path
followed afresh), so it survives the pointer moving and the target
restarting; a placement whose location does not resolve shows why (the
Unresolved message) and every value as ``??``. Types come from C
declarations the user pastes (backend/c_decls.py); the tree is
:func:`lainview.backend.ctypes_model.typed_value` over the bytes read. A
refresh that keeps the tree's shape updates only the value texts that
changed (``dataChanged``), so expanded rows and an open editor are left
alone. A pointer to a struct is followed one level: its pointee, read in
the same refresh (never two refreshes in flight), is the pointer's child
``*``, updated in place. Editing a number or enum field, behind a followed
pointer too, writes it at the field's location (the placement's plus the
field path: ``Target.write_location``), journaled and revertible like every
write. :meth:`StructureModel.field_spans` gives the hex view the placed
fields' byte ranges; ``placed_changed`` says when they change.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import (QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex,
                            Qt, Signal)

from lainview.backend import value_types
from lainview.backend.c_decls import Declarations
from lainview.backend.ctypes_model import (CType, Enum, Node, Pointer, Record, bitfield_value,
                                           field_place, leaf_value, typed_value)
from lainview.backend.errors import InvalidInput, LainviewError, Unresolved
from lainview.backend.locations import Location, LocationKind, parse_location
from lainview.backend.placements import (FieldTarget, Placement, check_placeable,
                                         declarations_of,
                                         default_name, field_target, joined,
                                         placement_of_type, value_type)
from lainview.backend.wording import printable

from .attached_target import AttachedTarget
from .field_spans import FieldSpan, spans_of
from .hex_document import HexDocument
from .table import row_runs
from .tasks import TaskSet

FIELD, OFFSET, TYPE, VALUE = range(4)
_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole,
                    Qt.ItemDataRole.ToolTipRole})
HEADERS = ("Field", "Offset", "Type", "Value")
_SHOWN = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_EDITABLE = _SHOWN | Qt.ItemFlag.ItemIsEditable
"""(first byte's address, size in bytes, field path text, depth: 0 for the
placed type's own fields, one more per level of nesting)."""


class StructureModel(QAbstractItemModel):
    """Rows are :class:`Node` s; ``placement`` is the placed type or None."""

    placed_changed = Signal()        # the placement, its address or its pointees changed
    note_changed = Signal(str)

    def __init__(self, document: HexDocument, target: AttachedTarget | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self.target = target                     # None: the document's bytes, no pointers
        self._tasks = TaskSet()
        self._reading = False                    # one refresh's read in flight at most
        self._generation = 0                     # bumped when the placement changes
        self._pointees: dict[int, Node] = {}      # id(pointer node) -> its "*" child
        self.declarations_text = ""
        self.declarations = Declarations()
        self.placement: Placement | None = None
        self.ctype: CType | None = None
        self.address: int | None = None          # where the placement resolved last
        self.unresolved = ""                     # why it did not ("" when it did)
        self.root: Node | None = None
        self.note = "paste C declarations, name a type, place it at the cursor"
        self.last_error = ""
        self._parents: dict[int, Node] = {}
        self._rows: dict[int, int] = {}
        self._flat: list[Node] = []                # the tree, in walk order
        self._last: tuple[int | None, bytes | None] | None = None
        self._texts: dict[int, str] = {}           # value column text, per node
        self._kinds: dict[int, value_types.NumberKind | None] = {}
        self._spans: list[FieldSpan] | None = None
        self._plan: list[tuple[Node, int, int, CType, int, int]] | None = None
        self._shown: set[int] | None = None        # ids of the nodes a view shows
        document.changed.connect(lambda: None if document.paused else self.refresh())
        document.refreshed.connect(self.refresh)     # it reads on its own: on every refresh
        document.region_changed.connect(self.refresh)

    @property
    def type_name(self) -> str:
        return self.placement.type_name if self.placement is not None else ""

    # -- what the user does ----------------------------------------------------------------
    def set_declarations(self, text: str) -> list[str]:
        """Parse a header (InvalidInput with line and column); returns the
        type names it declares."""
        self.declarations = declarations_of(text)
        self.declarations_text = text
        return self.declarations.names()

    def location_of(self, address: int) -> Location:
        """The most durable location of ``address`` in the target's map (as
        the hex view names it: ``memfd:lainview-demo+0xf80``)."""
        return self.target.locate(address) if self.target is not None \
            else Location.absolute(address)

    def place(self, type_name: str, where: int | Location | str,
              name: str | None = None) -> Placement:
        """Show ``type_name`` (of the declarations) at ``where``: an address
        (kept as its most durable location), a location or its text. Raises
        InvalidInput for an unknown type, one without a size, a bad
        location or name."""
        if isinstance(where, int):
            location = self.location_of(where)
        elif isinstance(where, str):
            location = parse_location(where)
        else:
            location = where
        placement = Placement(name or default_name(type_name), self.declarations_text,
                              type_name.strip(), location)
        self.set_placement(placement)
        return placement

    def place_type(self, ctype: CType, type_name: str, address: int) -> None:
        """Show ``ctype``, a type already built (BTF, DWARF), named
        ``type_name``, at the absolute ``address``: the kernel browser's
        typed symbol. Such a placement has no C text of its own. Raises
        InvalidInput for a type without a size."""
        check_placeable(ctype, type_name)
        placement = Placement(default_name(type_name), "", type_name.strip(),
                              Location(LocationKind.ABSOLUTE, "", address))
        self.set_placement(placement, ctype)

    def set_placement(self, placement: Placement, ctype: CType | None = None) -> None:
        """Show ``placement`` (from :meth:`place` or a session); ``ctype``
        when the type is already built (else it is parsed from the
        placement's declarations). Raises InvalidInput when its
        declarations or type do not parse."""
        if ctype is None:
            ctype = placement.ctype()
            self.declarations = declarations_of(placement.declarations)
            self.declarations_text = placement.declarations
        self.beginResetModel()
        self.placement, self.ctype = placement, ctype
        self._generation += 1
        self.address, self.unresolved = None, ""
        self.root, self._flat, self._last, self._spans = None, [], None, None
        self._parents, self._rows, self._pointees = {}, {}, {}
        self.endResetModel()
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
            location = self.location_of(found.address)
            try:
                self.set_placement(placement_of_type(found.type, found.name, location))
            except InvalidInput:                 # C cannot spell it: shown, not kept in sessions
                self.set_placement(Placement(found.name, "", found.type.c_name(), location),
                                   found.type)
        except LainviewError as exc:
            self.note = str(exc)
            self.note_changed.emit(self.note)
            return False
        return True

    def stop(self) -> None:
        """Cancel a read in flight (the window is closing)."""
        self._tasks.cancel_all()

    def clear(self) -> None:
        self.beginResetModel()
        self.placement = self.ctype = self.address = self.root = None
        self._generation += 1
        self._parents, self._rows, self._flat, self._last = {}, {}, [], None
        self._pointees, self._spans = {}, None
        self.endResetModel()
        self.placed_changed.emit()

    def field(self, path: str) -> FieldTarget:
        """The field at ``path`` (relative to the placed type: ``held->hp``;
        "" for the whole) as a :class:`FieldTarget` (its location and type).
        Raises InvalidInput when nothing is placed or the path does not fit."""
        if self.placement is None:
            raise InvalidInput("nothing is placed")
        return field_target(joined(self.placement.name, path), self.placement)

    def field_for(self, text: str) -> FieldTarget:
        """The field the path ``text`` names (with the placement's name in
        front: ``player.held->hp``). Raises InvalidInput."""
        if self.placement is None:
            raise InvalidInput("nothing is placed")
        return field_target(text, self.placement)

    # -- the live refresh ------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the placement again (one request in flight at most) and show
        what it holds; called on every change of the hex document."""
        if self.placement is None or self.ctype is None:
            return
        if self.target is None or self.target.target is None:
            self._show_document()
            return
        if self._reading:
            return
        self._reading = True
        self._tasks.spawn(self._read())

    def _show_document(self) -> None:
        """Without an attached target: an absolute placement read from the
        open document (no pointers followed)."""
        assert self.placement is not None and self.ctype is not None
        where = self.placement.location
        if where.kind == "absolute" and not where.steps and self.document.region is not None:
            self._show(where.offset, self.document.bytes_at(where.offset, self.ctype.size),
                       "not in the open area, or not read yet")
        else:
            self._show(None, None, "no target attached")

    async def _read(self) -> None:
        try:
            while self.placement is not None and self.ctype is not None \
                    and self.target is not None and self.target.target is not None:
                generation = self._generation
                size = self.ctype.size
                try:
                    replies = await asyncio.wrap_future(
                        self.target.target.read_locations([(self.placement.location, size)]))
                except LainviewError as exc:
                    if generation == self._generation:
                        self._show(None, None, str(exc))
                    return
                if generation != self._generation:
                    continue                     # placed elsewhere meanwhile: read that
                reply = replies[0]
                if isinstance(reply, Unresolved):
                    self._show(None, None, str(reply))
                    return
                address, result = reply
                if isinstance(result, LainviewError):
                    self._show(address, None, str(result))
                    return
                try:
                    data = result.require("read")
                except LainviewError as exc:
                    self._show(address, None, str(exc))
                    return
                self._show(address, data, "")
                await self._follow(generation)
                return
        except asyncio.CancelledError:
            return
        finally:
            self._reading = False

    def _show(self, address: int | None, data: bytes | None, why: str) -> None:
        """Show the tree of ``data`` at ``address`` (None: every value ``??``
        and ``why`` in the note)."""
        assert self.placement is not None and self.ctype is not None
        if self.root is not None and data is not None and (address, data) == self._last:
            return                               # nothing changed: no repaint
        last = self._last
        self._last = (address, data)
        if self.root is not None and data is not None and last is not None \
                and last[0] == address and last[1] is not None and not self.unresolved:
            self._update_values(last[1], data)  # same place, same shape: the values only
            return
        p = self.placement
        where = p.location.text
        was_unresolved = bool(self.unresolved)
        if data is None:
            self.unresolved = why
            note = f"{p.name} ({p.type_name}) at {where}: {why}"
            tree = typed_value(self.ctype, bytes(self.ctype.size), address)
            for n in tree.walk():                # the shape, every value unknown
                if n.value is not None:
                    n.value = "??"
        else:
            self.unresolved = ""
            at = f" = {address:#x}" if address is not None and \
                (p.location.kind != "absolute" or p.location.steps) else ""
            note = f"{p.name} ({p.type_name}) at {where}{at}, {self.ctype.size} bytes"
            tree = typed_value(self.ctype, data, address)
        if self.note != note:
            self.note = note
            self.note_changed.emit(note)
        moved = address != self.address or was_unresolved != bool(self.unresolved)
        self.address = address
        new = list(tree.walk())
        if self.root is not None and len(new) == len(self._flat):
            # the same type, so the same shape (pointees are kept apart, in
            # _pointees): update what changed in place
            changed = []
            for a, b in zip(self._flat, new):
                if moved:
                    a.address = b.address
                if a.value != b.value:
                    a.value = b.value
                    self._texts.pop(id(a), None)
                    changed.append(a)
            self._emit_changed(changed)
            if moved:
                self._spans = None
                self.placed_changed.emit()
            return
        self.beginResetModel()
        self.root = tree
        self._pointees = {}
        self._texts, self._kinds = {}, {}
        self._flat = new
        self._plan = None
        self._parents = {id(c): n for n in tree.walk() for c in n.children}
        self._rows = {id(c): i for n in tree.walk() for i, c in enumerate(n.children)}
        self._spans = None
        self.endResetModel()
        self.placed_changed.emit()

    def _make_plan(self) -> None:
        """For each leaf of the placed tree (pointees apart): its byte range
        in the placed bytes, C type and bits, so a refresh decodes only the
        fields whose bytes changed."""
        plan: list[tuple[Node, int, int, CType, int, int]] = []
        assert self.ctype is not None and self.root is not None
        for n in self._flat:
            if n.children or n.offset is None or n is self.root:
                continue
            try:
                place = field_place(self.ctype, n.path)
            except InvalidInput:
                continue
            if place.bit_size:
                end = place.offset + (place.bit_offset + place.bit_size + 7) // 8
            else:
                end = place.offset + max(place.type.strip().size, 1)
            plan.append((n, place.offset, end, place.type, place.bit_offset, place.bit_size))
        self._plan = plan

    def _update_values(self, old: bytes, data: bytes) -> None:
        """The same placement at the same address: decode the fields whose
        bytes changed, and repaint only their value cells."""
        if self._plan is None:
            self._make_plan()
        assert self._plan is not None
        changed: list[Node] = []
        texts = self._texts
        for node, start, end, ctype, bit_offset, bit_size in self._plan:
            if data[start:end] == old[start:end]:
                continue
            value = bitfield_value(ctype, data[start:], bit_offset, bit_size) if bit_size \
                else leaf_value(ctype, data[start:end])
            if value != node.value:
                node.value = value
                texts.pop(id(node), None)
                changed.append(node)
        self._emit_changed(changed)

    def _emit_changed(self, changed: list[Node]) -> None:
        """One dataChanged (value column) per run of consecutive changed
        rows under one parent, of the rows the view shows (:meth:`set_shown`;
        all when it never said): the tree repaints just those cells
        (StructureTree paints one rectangle at a time), and works through
        only those rows (bench/structure_refresh.py)."""
        roles = [Qt.ItemDataRole.DisplayRole]
        shown = self._shown
        rows_under: dict[int, tuple[Node, list[int]]] = {}
        for node in changed:
            if shown is not None and id(node) not in shown:
                continue                         # off screen: painted fresh when scrolled to
            up = self._parents.get(id(node))
            if up is None:
                continue
            rows_under.setdefault(id(up), (up, []))[1].append(self._rows[id(node)])
        for up, rows in rows_under.values():
            for lo, hi in row_runs(rows):
                self._emit_run(up, lo, hi, roles)

    def set_shown(self, indexes: list[QModelIndex] | None) -> None:
        """The rows a view shows now (as the hex document's ``set_visible``):
        a live refresh announces changed values of these rows only; the
        others are read afresh when painted. None: announce every row."""
        self._shown = None if indexes is None else {
            id(i.internalPointer()) for i in indexes if i.isValid()}

    def _emit_run(self, up: Node, lo: int, hi: int, roles: list) -> None:
        self.dataChanged.emit(self.createIndex(lo, VALUE, up.children[lo]),
                              self.createIndex(hi, VALUE, up.children[hi]), roles)

    # -- following pointers (one level, read through the target) ------------------------------
    async def _follow(self, generation: int) -> None:
        """Read what the struct's pointers to structs point at (one batched
        read) and show each pointee as the pointer's child ``*``, updated
        in place on later refreshes."""
        if self.target is None or self.target.target is None:
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
            replies = await asyncio.wrap_future(self.target.target.read_many(
                [(address, ptr.target.size) for _n, ptr, address in wanted]))
        except LainviewError:
            return
        if generation != self._generation:
            return
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
        self._spans = None
        self.placed_changed.emit()

    # -- for the hex view ------------------------------------------------------------------------
    def field_spans(self) -> list[FieldSpan]:
        """The placed structure's leaf fields as sorted, non-overlapping
        :class:`FieldSpan` s (see :func:`.field_spans.spans_of`; followed
        pointees lie elsewhere and are left out), cached until
        ``placed_changed``; [] when nothing is placed or it did not resolve."""
        if self._spans is None:
            placed = self.root is not None and self.placement is not None \
                and not self.unresolved
            self._spans = spans_of(self.root) if placed else []
        return self._spans

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
    # index() and parent() run for every cell Qt paints or updates: kept short.
    def index(self, row: int, column: int,
              parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        owner = parent.internalPointer() if parent.isValid() else self.root
        children = owner.children if owner is not None else ()
        if not 0 <= row < len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index=QModelIndex()):
        if not index.isValid():
            return QModelIndex()
        up = self._parents.get(id(index.internalPointer()))
        if up is None or up is self.root:
            return QModelIndex()
        return self.createIndex(self._rows[id(up)], 0, up)

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
        if index.column() == VALUE and self._editable(node):
            return _EDITABLE
        return _SHOWN

    def _editable(self, node: Node) -> bool:
        """Number and enum fields, of the placed struct and of a followed
        pointee, while a live target is attached (they are written at their
        location)."""
        return node.address is not None and self._kind(node) is not None \
            and not self.document.read_only and self.target is not None \
            and self.target.target is not None and not self.unresolved

    def why_not_editable(self, index: QModelIndex | QPersistentModelIndex) -> str:
        """One line saying why the Value cell of ``index`` 's row cannot be
        edited ("" when it can): no field, a struct or array (edited field
        by field), a bitfield, a type with no number form, no address, a
        read-only area, no live target, or a placement that does not resolve."""
        node = self.node(index)
        if node is None:
            return "select a field to edit"
        name = printable(node.path or node.name)
        if node.value is None:
            return f"{name} ({printable(node.type)}) is edited field by field: expand it"
        if self.unresolved:
            return f"{name}: the placement does not resolve ({self.unresolved})"
        if node.address is None:
            return f"{name} has no address to write at"
        if self._kind(node) is None:
            return f"{name} ({printable(node.type)}) has no number form to edit"
        if self.target is None or self.target.target is None:
            return f"{name}: attach to a process to edit its fields"
        if self.document.read_only:
            return f"{name}: the open area is read-only"
        return ""

    def watch_type(self, index: QModelIndex | QPersistentModelIndex
                   ) -> tuple[str, str, int | None] | None:
        """(field path text, value-type name, length) to watch the field at
        ``index`` in the watch list: numbers and enums by their number
        type, ``char`` arrays as utf8 text; None for other fields."""
        node = self.node(index)
        if node is None or node.address is None or self.placement is None:
            return None
        t = self._type_at(node)
        found = value_type(t) if t is not None and not node.bits else None
        if found is None:
            return None
        return joined(self.placement.name, node.path), found[0], found[1]

    def _kind(self, node: Node) -> value_types.NumberKind | None:
        """The registry's number type a field is written as (integers and
        floats, enums by their integer; a bitfield by its declared integer
        type, its value range checked against its bits)."""
        key = id(node)
        if key not in self._kinds:
            self._kinds[key] = self._find_kind(node)
        return self._kinds[key]

    def _find_kind(self, node: Node) -> value_types.NumberKind | None:
        if node.address is None or self.ctype is None or node.value is None:
            return None
        kind = kind_of(self._type_at(node))
        if node.bits and (kind is None or kind.is_float):
            return None                          # a bitfield holds whole numbers only
        return kind

    def _type_at(self, node: Node) -> CType | None:
        if self.ctype is None:
            return None
        try:
            return field_place(self.ctype, node.path).type
        except InvalidInput:
            return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Write the typed value into the field at its location (the
        placement's, pointers followed now: ``Target.write_location``,
        journaled). False, with ``last_error`` said in the message line,
        for a value the field cannot hold or a field that cannot be written."""
        node = self.node(index)
        if role != Qt.ItemDataRole.EditRole or node is None or index.column() != VALUE:
            return False
        kind = self._kind(node)
        if kind is None or not self._editable(node):
            return False
        assert self.target is not None and self.target.target is not None
        text = str(value).strip()
        t = self._type_at(node)
        s = t.strip() if t is not None else None
        if isinstance(s, Enum) and text in s.values:
            text = str(s.values[text])
        try:
            value = kind.parse(text)
            field = self.field(node.path)
            if node.bits:
                bits = _bits_of(field.place.bit_size, field.place.type, value)
        except InvalidInput as exc:
            self._say(f"{node.path}: {exc}")
            return False
        self.last_error = ""
        if node.bits:
            place = field.place
            self._tasks.spawn(self._write_bits(node.path, field.location, place.bit_offset,
                                               place.bit_size, bits))
            return True
        future = self.target.target.write_location(field.location, kind.encode(value),
                                                   if_changed=True)
        self._tasks.spawn(self._written(node.path, future))
        return True

    async def _write_bits(self, path: str, where: Location, bit_offset: int, bit_size: int,
                          bits: int) -> None:
        """Read-modify-write of a bitfield: the bytes its bits touch are read
        at ``where`` now, the bits replaced, the bytes written back through
        the journal (``Target.write_location``); a failure is said."""
        assert self.target is not None
        target = self.target.target
        span = (bit_offset + bit_size + 7) // 8
        try:
            if target is None:
                raise InvalidInput("no target attached")
            [reply] = await asyncio.wrap_future(target.read_locations([(where, span)]))
            if isinstance(reply, Unresolved):
                raise reply
            _address, result = reply
            if isinstance(result, LainviewError):
                raise result
            old = int.from_bytes(result.require("read")[:span], "little")
            mask = ((1 << bit_size) - 1) << bit_offset
            new = (old & ~mask) | (bits << bit_offset)
            future = target.write_location(where, new.to_bytes(span, "little"), if_changed=True)
        except asyncio.CancelledError:
            return
        except LainviewError as exc:
            self._say(f"{path}: {exc}")
            return
        await self._written(path, future)

    async def _written(self, path: str, future) -> None:
        try:
            await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            return
        except LainviewError as exc:
            self._say(f"{path}: {exc}")
            return
        self.refresh()

    def _say(self, text: str) -> None:
        self.last_error = text
        self.document.inline_message.emit(text)


def _bits_of(bit_size: int, ctype: CType, value: int | float) -> int:
    """``value`` as the ``bit_size`` bits a bitfield of type ``ctype``
    holds (two's complement for a signed type). Raises InvalidInput when it
    does not fit in those bits."""
    s = ctype.strip()
    signed = bool(getattr(s, "signed", False))
    low, high = (-(1 << (bit_size - 1)), (1 << (bit_size - 1)) - 1) if signed \
        else (0, (1 << bit_size) - 1)
    if not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{value} does not fit in {bit_size} bits ({low}..{high})")
    return value & ((1 << bit_size) - 1)


def kind_of(ctype: CType | None) -> value_types.NumberKind | None:
    """The registry's number type a field of C type ``ctype`` is edited as
    (``placements.value_type``: integers, floats, enums, pointers); None
    for other types."""
    found = value_type(ctype) if ctype is not None else None
    if found is None or found[1] is not None:
        return None
    return value_types.number(found[0])
