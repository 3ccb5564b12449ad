"""Bookmarks: a name, a comment and a location that survives a restart.

They are resolved against the target's map whenever it changes, listed in
a dock, and drawn as markers in the hex view (:meth:`BookmarkModel.markers_in`).
A pointer path (``game+0x1f40->+0x18``) is resolved again every
:data:`CHAIN_REFRESH_MS` on the backend thread (its pointers change), all of
them in one request.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncio

from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex, Qt,
                            QTimer, Signal)


from lainview.backend.errors import InvalidInput, LainviewError, TargetExited, Unresolved
from lainview.backend.locations import Location, parse_location, resolve, settle

from .attached_target import AttachedTarget
from .session_file import parse_items
from .table import TableModel
from .palette import color, hex_color
from .tasks import TaskSet

NAME, LOCATION, ADDRESS, COMMENT = range(4)
HEADERS = ("Name", "Location", "Address", "Comment")
BOOKMARK_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_SIZE = 1 << 20
CHAIN_REFRESH_MS = 500      # pointer paths are resolved again this often
_NO_TARGET, _NO_MAP = "no target attached", "the memory map is not read yet"
_FOLLOWING = "following the pointers…"
_WAITING = ("", _NO_TARGET, _NO_MAP)


@dataclass(eq=False)
class Bookmark:
    name: str
    location: Location
    comment: str = ""
    size: int = 1
    address: int | None = None
    unresolved: str = ""

    @property
    def follows_pointers(self) -> bool:
        return self.location.needs_target

    def to_json(self) -> dict:
        return {"name": self.name, "comment": self.comment, "size": self.size,
                "location": self.location.to_json()}

    @classmethod
    def from_json(cls, raw) -> "Bookmark":
        if not isinstance(raw, dict):
            raise InvalidInput("a bookmark must be an object")
        name, comment, size = raw.get("name"), raw.get("comment", ""), raw.get("size", 1)
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("a bookmark needs a name")
        if not isinstance(comment, str):
            raise InvalidInput(f"bad comment {comment!r}")
        if not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
            raise InvalidInput(f"bad size {size!r}")
        return cls(name, Location.from_json(raw.get("location")), comment, size)


@dataclass(frozen=True, slots=True)
class Marker:
    """What the hex view draws: a span, its colour and its label."""

    address: int
    size: int
    label: str
    color: str


class BookmarkModel(TableModel):
    HEADERS = HEADERS

    markers_changed = Signal()
    status = Signal(str)


    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.bookmarks: list[Bookmark] = []
        self._tasks = TaskSet("the bookmarks")
        self._chains_inflight = False
        self._chain_timer = QTimer(self)
        self._chain_timer.setInterval(CHAIN_REFRESH_MS)
        self._chain_timer.timeout.connect(self.refresh_chains)
        target.areas_changed.connect(self._resolve_all)
        target.symbols_changed.connect(self._resolve_all)
        target.attached.connect(self._on_attached)
        target.state_changed.connect(lambda _state: self._update_timer())

    # -- editing the list ---------------------------------------------------------------------------
    def add(self, name: str, location: Location, comment: str = "", size: int = 1) -> Bookmark:
        if location.kind == "kernel":
            raise InvalidInput("bookmarks mark process memory; watch a kernel symbol instead")
        bookmark = Bookmark(name.strip() or location.text, location, comment, max(1, size))
        self._resolve(bookmark)
        row = len(self.bookmarks)
        self.beginInsertRows(QModelIndex(), row, row)
        self.bookmarks.append(bookmark)
        self.endInsertRows()
        self.markers_changed.emit()
        if bookmark.follows_pointers:
            self.refresh_chains()
        return bookmark

    def add_address(self, address: int, name: str = "", comment: str = "",
                    size: int = 1) -> Bookmark:
        return self.add(name, self.target.locate(address), comment, size)

    def remove_rows(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self.bookmarks):
                self.beginRemoveRows(QModelIndex(), row, row)
                self.bookmarks.pop(row)
                self.endRemoveRows()
        self.markers_changed.emit()

    def bookmark(self, row: int) -> Bookmark:
        return self.bookmarks[row]

    # -- sessions ---------------------------------------------------------------------------------
    def to_json(self) -> list[dict]:
        return [b.to_json() for b in self.bookmarks]

    @staticmethod
    def parse_json(raw) -> list[Bookmark]:
        return parse_items(raw, "the bookmarks", "bookmark", Bookmark.from_json)

    def replace(self, bookmarks: list[Bookmark]) -> None:
        self.beginResetModel()
        self.bookmarks = list(bookmarks)
        for bookmark in self.bookmarks:
            self._resolve(bookmark)
        self.endResetModel()
        self.markers_changed.emit()
        self._update_timer()
        self.refresh_chains()

    # -- resolution ------------------------------------------------------------------------------
    def _resolve(self, bookmark: Bookmark) -> None:
        if self.target.target is None or not self.target.areas:
            bookmark.address = None
            bookmark.unresolved = _NO_TARGET if self.target.target is None else _NO_MAP
            return
        if bookmark.follows_pointers:
            if bookmark.address is None and bookmark.unresolved in _WAITING:
                bookmark.unresolved = _FOLLOWING
            self._update_timer()
            return          # resolved by refresh_chains, on the backend thread
        try:
            bookmark.address = resolve(bookmark.location, self.target.areas, bookmark.size,
                                       pid=self.target.pid,
                                       module_symbol=self.target.module_symbol)
            bookmark.unresolved = ""
        except Unresolved as exc:
            bookmark.address, bookmark.unresolved = None, exc.message

    def _resolve_all(self, _areas=None) -> None:
        before = [(b.address, b.unresolved) for b in self.bookmarks]
        for bookmark in self.bookmarks:
            self._resolve(bookmark)
        self._changed_since(before)
        if any(b.follows_pointers for b in self.bookmarks):
            self.refresh_chains()

    def _changed_since(self, before: list[tuple[int | None, str]]) -> None:
        if before != [(b.address, b.unresolved) for b in self.bookmarks]:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.bookmarks) - 1, len(HEADERS) - 1))
            self.markers_changed.emit()

    # -- pointer paths: resolved again and again, on the backend thread --------------------------
    def _update_timer(self) -> None:
        if self.target.live and any(b.follows_pointers for b in self.bookmarks):
            if not self._chain_timer.isActive():
                self._chain_timer.start()
        else:
            self._chain_timer.stop()

    def refresh_chains(self) -> asyncio.Task | None:
        """Resolve every pointer-path bookmark again (one request); the
        task, or None when there is nothing to do or the last is still out."""
        target = self.target.target
        chains = [b for b in self.bookmarks if b.follows_pointers]
        if target is None or not self.target.live or not chains or self._chains_inflight:
            return None
        self._chains_inflight = True
        return self._tasks.spawn(self._refresh_chains(target, chains))

    async def _refresh_chains(self, target, chains: list[Bookmark]) -> None:
        sent = [(b, b.location) for b in chains]
        try:
            found = await asyncio.wrap_future(target.resolve_many(
                [(location, b.size) for b, location in sent]))
        except TargetExited as exc:
            self.target.mark_exited(exc)
            return
        except LainviewError as exc:
            self.status.emit(f"bookmarks: {exc}")
            return
        finally:
            self._chains_inflight = False
        if target is not self.target.target:
            return
        before = [(b.address, b.unresolved) for b in self.bookmarks]
        for (bookmark, location), where in zip(sent, found):
            if bookmark.location != location or bookmark not in self.bookmarks:
                continue            # edited or removed meanwhile
            if isinstance(where, Unresolved):
                bookmark.address, bookmark.unresolved = None, where.message
            else:
                bookmark.address, bookmark.unresolved = where, ""
        self._changed_since(before)

    def stop(self) -> None:
        self._chain_timer.stop()
        self._tasks.cancel_all()

    def _on_attached(self) -> None:
        for bookmark in self.bookmarks:
            bookmark.address = None
            bookmark.unresolved = _NO_MAP
        self._resolve_all()

    def markers_in(self, lo: int, hi: int) -> list[Marker]:
        """The resolved bookmarks that overlap [lo, hi)."""
        return [Marker(b.address, b.size, b.name, hex_color("bookmark")) for b in self.bookmarks
                if b.address is not None and b.address < hi and lo < b.address + b.size]

    # -- Qt model API ----------------------------------------------------------------------------
    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable \
            | Qt.ItemFlag.ItemNeverHasChildren
        if index.column() in (NAME, LOCATION, COMMENT):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def row_count(self) -> int:
        return len(self.bookmarks)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.bookmarks):
            return None
        b = self.bookmarks[index.row()]
        column = index.column()
        if role == BOOKMARK_ROLE:
            return b
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == NAME:
                return b.name
            if column == LOCATION:
                return b.location.text
            if column == ADDRESS:
                if role == Qt.ItemDataRole.EditRole:
                    return None
                return f"{b.address:#x}" if b.address is not None else \
                    f"unresolved: {b.unresolved}"
            if column == COMMENT:
                return b.comment
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == ADDRESS and b.address is None:
                return color("error")
            if column == LOCATION and not b.location.survives_restart:
                return color("warn")
            if column == COMMENT:
                return color("muted")
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == ADDRESS:
                return f"unresolved: {b.unresolved}" if b.unresolved else \
                    "double-click to show it in the hex view"
            if column == LOCATION and not b.location.survives_restart:
                return "anonymous memory: an absolute address, only good for this run"
            if column == COMMENT and b.comment:
                return b.comment
        if role == Qt.ItemDataRole.DecorationRole and column == NAME:
            return color("bookmark") if b.address is not None else color("unresolved")
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() \
                or not 0 <= index.row() < len(self.bookmarks):
            return False
        b = self.bookmarks[index.row()]
        text = str(value)
        column = index.column()
        if column == NAME:
            if not text.strip():
                return False
            b.name = text.strip()
        elif column == COMMENT:
            b.comment = text
        elif column == LOCATION:
            try:
                location = parse_location(text)
                if location.kind == "kernel":
                    raise InvalidInput("bookmarks mark process memory")
                if self.target.areas:
                    location = settle(location, self.target.areas, pid=self.target.pid,
                                      static_end=self.target.static_end())
            except InvalidInput as exc:
                self.status.emit(f"bookmark {b.name}: {exc.message}")
                return False
            b.location = location
            b.address, b.unresolved = None, ""
            self._resolve(b)
            self.refresh_chains()
        else:
            return False
        row = index.row()
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        self.markers_changed.emit()
        return True
