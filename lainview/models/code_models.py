"""The disassembly view's and the Modules view's models (no widgets).

:class:`DisassemblyModel` holds decoded lines of the attached process's
code, fetched on demand: :meth:`DisassemblyModel.open` decodes a window
around an address from the nearest known boundary (the symbol or area
holding it: ``Target.disassemble(align=True)``), and scrolling asks for
more below (``canFetchMore``/``fetchMore``) or above
(:meth:`DisassemblyModel.fetch_above`), a chunk at a time on the backend
thread; a whole area is never decoded at once. Each line's branch, call or
RIP-relative target is a link (:meth:`DisassemblyModel.link_at`).

:class:`ModulesModel` lists the mapped files (name, base, size, path, symbol
counts) from ``AttachedTarget.symbols``; :class:`ModuleSymbolsModel` the
symbols of one module or all, filtered as ``lainview syms`` filters."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from lainview.backend.disasm import Instruction
from lainview.backend.errors import InvalidInput, LainviewError, TargetExited
from lainview.backend.locations import parse_location, resolve
from lainview.backend.module_symbols import Module, ModuleSymbol
from lainview.backend.wording import printable

from .attached_target import AttachedTarget
from .table import TableModel
from .tasks import TaskSet

CHUNK = 64                  # instructions decoded per request
ABOVE = 256                 # bytes looked back for the lines above the first
MAX_LINES = 20000           # lines kept; the farthest are dropped beyond this

ADDRESS, LOCATION, BYTES, INSTRUCTION, TARGET = range(5)
INSTRUCTION_ROLE = Qt.ItemDataRole.UserRole + 1


class DisassemblyModel(TableModel):
    """Decoded lines, in address order, of the code around one address."""

    HEADERS = ("Address", "Location", "Bytes", "Instruction", "Target")
    opened = Signal(int)            # the row of the address asked for
    status = Signal(str)

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.lines: list[Instruction] = []
        self.address: int | None = None        # what was asked for
        self.error = ""
        self._busy = False
        self._at_end = False
        self._at_start = False
        self._generation = 0
        self._tasks = TaskSet("the disassembly view")
        target.attached.connect(self.clear)

    def row_count(self) -> int:
        return len(self.lines)

    def clear(self) -> None:
        self._generation += 1
        self.beginResetModel()
        self.lines = []
        self.address = None
        self.error = ""
        self._at_end = self._at_start = False
        self.endResetModel()

    def resolve_text(self, text: str) -> int:
        """The address a typed location names (the grammar of
        backend/locations.py, ``module!symbol`` included) in the current
        map. Raises InvalidInput (Unresolved) saying why not."""
        target = self.target
        return resolve(parse_location(text), target.areas, pid=target.pid,
                       module_symbol=target.module_symbol)

    # -- fetching -----------------------------------------------------------------------------
    def open(self, address: int) -> asyncio.Task:
        """Show the code at ``address`` (decoded from the boundary before
        it); emits :attr:`opened` with its row."""
        self._generation += 1
        return self._tasks.spawn(self._open(int(address), self._generation))

    async def _open(self, address: int, generation: int) -> None:
        lines = await self._request(address, CHUNK, True)
        if generation != self._generation:
            return
        self.beginResetModel()
        self.lines = lines
        self.address = address
        self._at_end = len(lines) < CHUNK
        self._at_start = False
        self.endResetModel()
        if lines:
            self.opened.emit(0)
            self.status.emit(f"{printable(lines[0].location)}: {len(lines)} instructions")

    async def _request(self, address: int, count: int, align: bool) -> list[Instruction]:
        target = self.target.target
        if target is None:
            self.error = "no target attached"
            self.status.emit(self.error)
            return []
        try:
            return await asyncio.wrap_future(target.disassemble(address, count, align=align))
        except TargetExited as exc:
            self.target.mark_exited(exc)
            return []
        except LainviewError as exc:
            self.error = str(exc)
            self.status.emit(f"disassembly: {exc}")
            return []

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: N802
        return not parent.isValid() and bool(self.lines) and not self._at_end \
            and not self._busy

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: N802
        if self.canFetchMore(parent):
            self._busy = True
            self._tasks.spawn(self._below(self._generation))

    async def _below(self, generation: int) -> None:
        try:
            more = await self._request(self.lines[-1].end, CHUNK, False)
        finally:
            self._busy = False
        if generation != self._generation:
            return
        if len(more) < CHUNK:
            self._at_end = True
        if more:
            first = len(self.lines)
            self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
            self.lines.extend(more)
            self.endInsertRows()
            self._trim(from_top=True)

    def fetch_above(self) -> asyncio.Task | None:
        """Decode the lines just above the first one (from the boundary
        before them); None when at the area's start or busy."""
        if not self.lines or self._at_start or self._busy:
            return None
        self._busy = True
        return self._tasks.spawn(self._above(self._generation))

    async def _above(self, generation: int) -> None:
        first = self.lines[0].address
        area = self.target.area_at(first)
        lead = max(area.start if area is not None else first, first - ABOVE)
        try:
            if lead >= first:
                more: list[Instruction] = []
            else:
                more = await self._request(lead, CHUNK * 2, True)
        finally:
            self._busy = False
        if generation != self._generation:
            return
        more = [i for i in more if i.end <= first]
        if not more:
            self._at_start = True
            return
        self.beginInsertRows(QModelIndex(), 0, len(more) - 1)
        self.lines[:0] = more
        self.endInsertRows()
        self._trim(from_top=False)

    def _trim(self, *, from_top: bool) -> None:
        extra = len(self.lines) - MAX_LINES
        if extra <= 0:
            return
        if from_top:
            self.beginRemoveRows(QModelIndex(), 0, extra - 1)
            del self.lines[:extra]
            self._at_start = False
        else:
            self.beginRemoveRows(QModelIndex(), len(self.lines) - extra, len(self.lines) - 1)
            del self.lines[-extra:]
            self._at_end = False
        self.endRemoveRows()

    # -- reading it ----------------------------------------------------------------------------
    def row_of(self, address: int) -> int | None:
        """The row of the line that covers ``address``, if shown."""
        for row, line in enumerate(self.lines):
            if line.address <= address < line.end:
                return row
        return None

    def link_at(self, row: int) -> tuple[int, str] | None:
        """(target address, "code" or "data") of the line's link, if any."""
        if not 0 <= row < len(self.lines):
            return None
        line = self.lines[row]
        if line.target is None or line.target_kind is None:
            return None
        return line.target, line.target_kind

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.lines):
            return None
        line = self.lines[index.row()]
        col = index.column()
        if role == INSTRUCTION_ROLE:
            return line
        if role == Qt.ItemDataRole.DisplayRole:
            if col == ADDRESS:
                return f"{line.address:016x}"
            if col == LOCATION:
                return printable(line.location)
            if col == BYTES:
                return line.data.hex(" ")
            if col == INSTRUCTION:
                return printable(line.text)
            if col == TARGET:
                return printable(line.target_location) if line.target_location else ""
        if role == Qt.ItemDataRole.ToolTipRole and col == TARGET and line.target is not None:
            what = "go to this code" if line.target_kind == "code" else \
                "show this data in the hex view"
            return f"{line.target:#x}: double-click to {what}"
        if role == Qt.ItemDataRole.FontRole and col == TARGET and line.target is not None:
            font = QFont()
            font.setUnderline(True)
            return font
        return None


# -- modules ------------------------------------------------------------------------------------

NAME, BASE, SIZE, SYMBOLS, EXPORTED, PATH = range(6)
MODULE_ROLE = Qt.ItemDataRole.UserRole + 2


class ModulesModel(TableModel):
    """The files mapped in the target, with their symbol counts."""

    HEADERS = ("Module", "Base", "Size", "Symbols", "Exported", "Path")

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.modules: list[Module] = []
        target.symbols_changed.connect(self.refresh)
        target.attached.connect(self.refresh)

    def row_count(self) -> int:
        return len(self.modules)

    def refresh(self) -> None:
        symbols = self.target.symbols
        modules = list(symbols.modules) if symbols is not None else []
        if [(m.path, m.base, m.end) for m in modules] == \
                [(m.path, m.base, m.end) for m in self.modules]:
            self.modules = modules
            return
        self.beginResetModel()
        self.modules = modules
        self.endResetModel()

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.modules):
            return None
        module = self.modules[index.row()]
        col = index.column()
        if role == MODULE_ROLE:
            return module
        if role == Qt.ItemDataRole.DisplayRole:
            if col == NAME:
                return printable(module.name)
            if col == BASE:
                return f"{module.base:#x}"
            if col == SIZE:
                return f"{module.size:#x}"
            if col == SYMBOLS:
                return str(module.symbol_count) if module.symbols else "—"
            if col == EXPORTED:
                return str(module.symbols.exported_count) if module.symbols else "—"
            if col == PATH:
                return printable(module.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return printable(module.problem) if module.problem else printable(module.path)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (BASE, SIZE, SYMBOLS, EXPORTED):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


SYM_NAME, SYM_ADDRESS, SYM_SIZE, SYM_TYPE, SYM_MODULE = range(5)
SYMBOL_ROLE = Qt.ItemDataRole.UserRole + 3
SHOWN_SYMBOLS = 5000        # matches listed at most (the count says how many more)


class ModuleSymbolsModel(TableModel):
    """The symbols matching a pattern (``lainview syms``' matching), in
    one module or all."""

    HEADERS = ("Symbol", "Address", "Size", "Type", "Module")

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.symbols: list[ModuleSymbol] = []
        self.pattern = ""
        self.module: str | None = None
        self.error = ""
        self.more = False
        target.symbols_changed.connect(self.refresh)

    def row_count(self) -> int:
        return len(self.symbols)

    def set_filter(self, pattern: str, module: str | None = None) -> None:
        self.pattern, self.module = pattern, module
        self.refresh()

    def refresh(self) -> None:
        names = self.target.symbols
        self.error = ""
        found: list[ModuleSymbol] = []
        if names is not None:
            try:
                found = names.search(self.pattern or None, module=self.module,
                                     limit=SHOWN_SYMBOLS + 1)
            except InvalidInput as exc:
                self.error = str(exc)
        self.more = len(found) > SHOWN_SYMBOLS
        self.beginResetModel()
        self.symbols = found[:SHOWN_SYMBOLS]
        self.endResetModel()

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.symbols):
            return None
        symbol = self.symbols[index.row()]
        col = index.column()
        if role == SYMBOL_ROLE:
            return symbol
        if role == Qt.ItemDataRole.DisplayRole:
            if col == SYM_NAME:
                return printable(symbol.name)
            if col == SYM_ADDRESS:
                return f"{symbol.address:#x}"
            if col == SYM_SIZE:
                return str(symbol.size)
            if col == SYM_TYPE:
                return symbol.type + (" exported" if symbol.exported else "")
            if col == SYM_MODULE:
                return printable(symbol.module.name)
        if role == Qt.ItemDataRole.ToolTipRole:
            return printable(symbol.text)
        return None
