"""The kernel-symbol table and the module table.

:class:`SymbolTableModel` shows a columnar
:class:`~lainview.backend.kallsyms.SymbolTable` (about 122,000 symbols)
without making a Python object per row: its rows are one numpy array of
symbol indices, filtered and sorted with numpy.

- Typing in the filter starts a zero-length single-shot timer: the filter
  runs at the next turn of the event loop, once for every key queued by
  then (typed while the last filter or paint ran, or pasted), with no added
  delay. A pattern that extends the previous
  substring narrows the previous result instead of searching every name
  (``SymbolTable.select(candidates=...)``).
- Sorting never compares Python objects: each column has one permutation
  of the whole table, computed once (the name order on the backend thread
  while loading); a filtered, sorted view is that permutation masked by the
  filter.
- A bad regular expression keeps the last good result and says why
  (``filter_error``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex,
                            Qt, QTimer, Signal)
from PySide6.QtGui import QColor, QFont

from lainview.backend.errors import InvalidInput
from lainview.backend.kallsyms import (KERNEL, ModuleInfo, ModuleList, SymbolTable, narrows,
                                       type_kind, type_meaning)

from .formats import human_size
from .table import TableModel
from .fonts import mono_font
from .palette import color

NAME, ADDRESS, TYPE, MODULE = range(4)
HEADERS = ("Name", "Address", "Type", "Module")
MODES = ("substring", "glob", "regex")
SYMBOL_INDEX_ROLE = Qt.ItemDataRole.UserRole + 1
DEBOUNCE_MS = 0               # coalesce the keys queued in one event-loop turn; no delay
KERNEL_LABEL = "vmlinux"      # how the kernel proper is named in the module column and filter

KIND_TONES = {"text": "sym_text", "data": "sym_data", "bss": "sym_bss",
              "read-only data": "sym_rodata", "weak": "sym_weak"}


class SymbolTableModel(TableModel):
    """Rows: the symbols that pass the filter, in the chosen order."""

    HEADERS = HEADERS

    filtered = Signal()                 # the rows changed (new filter, sort or table)
    filter_error_changed = Signal(str)  # "" when the filter is valid

    def __init__(self, parent: QObject | None = None, *, debounce_ms: int = DEBOUNCE_MS):
        super().__init__(parent)
        self.table = SymbolTable.empty()
        self.rows = np.zeros(0, dtype=np.int64)
        self.pattern = ""
        self.mode = "substring"
        self.module: str | None = None      # None: every module; "": the kernel proper
        self.types: str | None = None
        self.sort_column = -1               # -1: the source's order
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.filter_error = ""
        self.last_filter_seconds = 0.0
        self.filter_runs = 0
        self._matches = np.zeros(0, dtype=np.int64)     # ascending, before sorting
        self._last_key: tuple | None = None
        self._orders: dict[int, np.ndarray] = {}
        self._mono = mono_font()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self.apply_filter)

    # -- the table ---------------------------------------------------------------------------
    def set_table(self, table: SymbolTable) -> None:
        """Show ``table`` (best :meth:`SymbolTable.prepare`-d on the backend
        thread first, e.g. by ``KernelBackend.symbols(prepared=True)``). The
        filter is kept and applied to the new table."""
        self.table = table
        self._orders = {}
        self._last_key = None
        if self.module is not None and self.module != KERNEL \
                and not table.has_module(self.module):
            self.module = None
        self.apply_filter()

    @property
    def total(self) -> int:
        return len(self.table)

    @property
    def shown(self) -> int:
        return len(self.rows)

    # -- filtering -------------------------------------------------------------------------------
    def set_pattern(self, text: str) -> None:
        """Filter by ``text`` after the debounce (typing calls this per key)."""
        if text != self.pattern:
            self.pattern = text
            self._debounce.start()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise InvalidInput(f"unknown match mode {mode!r}: {', '.join(MODES)}")
        if mode != self.mode:
            self.mode = mode
            self.apply_filter()

    def set_module(self, module: str | None) -> None:
        """``None``: every module; ``""``: the kernel proper; else a module name."""
        if module != self.module:
            self.module = module
            self.apply_filter()

    def set_types(self, types: str | None) -> None:
        """A type filter (letters or words, as ``type_letters`` reads them)."""
        types = types or None
        if types != self.types:
            self.types = types
            self.apply_filter()

    @property
    def filter_pending(self) -> bool:
        return self._debounce.isActive()

    def apply_filter(self) -> None:
        """Run the filter now (the debounce timer calls this)."""
        self._debounce.stop()
        started = time.perf_counter()
        key = (self.mode, self.module, self.types)
        candidates = None
        last = self._last_key
        if last is not None and last[1:] == key and narrows(last[0], self.pattern, self.mode):
            candidates = self._matches      # every match of the new text matches the old
        try:
            matches = self.table.select(self.pattern or None, mode=self.mode,
                                        module=self.module, types=self.types,
                                        candidates=candidates)
        except InvalidInput as exc:
            self.last_filter_seconds = time.perf_counter() - started
            self._set_error(exc.message)
            return
        self._set_error("")
        self._matches = matches
        self._last_key = (self.pattern, *key)
        self._publish(self._ordered(matches))
        self.filter_runs += 1
        self.last_filter_seconds = time.perf_counter() - started

    def _set_error(self, text: str) -> None:
        if text != self.filter_error:
            self.filter_error = text
            self.filter_error_changed.emit(text)

    # -- sorting ---------------------------------------------------------------------------------
    def _order(self, column: int) -> np.ndarray:
        order = self._orders.get(column)
        if order is None:
            table = self.table
            if column == NAME:
                order = table.name_order()
            elif column == ADDRESS:
                order = np.argsort(table.addresses, kind="stable")
            elif column == TYPE:
                order = np.argsort(table.types, kind="stable")
            else:
                rank = np.argsort(np.argsort(np.array(table.modules, dtype=object)))
                order = np.argsort(rank[table.module_ids], kind="stable") \
                    if len(table) else np.zeros(0, np.int64)
            order = order.astype(np.int64, copy=False)
            self._orders[column] = order
        return order

    def _ordered(self, matches: np.ndarray) -> np.ndarray:
        if self.sort_column < 0:
            rows = matches
        else:
            order = self._order(self.sort_column)
            if len(matches) == len(self.table):
                rows = order
            else:
                keep = np.zeros(len(self.table), dtype=bool)
                keep[matches] = True
                rows = order[keep[order]]
        if self.sort_column >= 0 and self.sort_order == Qt.SortOrder.DescendingOrder:
            rows = rows[::-1]
        return rows

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        column = column if 0 <= column < len(HEADERS) else -1
        if (column, order) == (self.sort_column, self.sort_order):
            return
        self.sort_column, self.sort_order = column, order
        self._publish(self._ordered(self._matches))

    def _publish(self, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()
        self.filtered.emit()

    # -- rows ------------------------------------------------------------------------------------
    def row_of(self, index: int) -> int | None:
        """The row showing table index ``index``, or None if it is filtered out."""
        hit = np.flatnonzero(self.rows == index)
        return int(hit[0]) if len(hit) else None

    # -- Qt model API ----------------------------------------------------------------------------
    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.ToolTipRole and section == ADDRESS \
                and orientation == Qt.Orientation.Horizontal and self.table.addresses_hidden:
            return f"addresses hidden: {self.table.hidden_reason}"
        return super().headerData(section, orientation, role)

    def row_count(self) -> int:
        return len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        # Called for every visible cell and role on each repaint: plain int
        # roles (enum comparisons cost more than the lookups) and the
        # common roles first.
        role = int(role)
        if role not in _ROLES:
            return None
        row = index.row()
        if not 0 <= row < len(self.rows) or not index.isValid():
            return None
        i = int(self.rows[row])
        column = index.column()
        if role == _DISPLAY:
            return self._display(i, column)
        if role == _FOREGROUND:
            return self._foreground(i, column)
        if role == _FONT:
            return self._font(column)
        if role == _SYMBOL_INDEX:
            return i
        if role == _TOOLTIP:
            table = self.table
            if column == ADDRESS and table.addresses_hidden:
                return f"addresses hidden: {table.hidden_reason}"
            if column == MODULE and not table.module_ids[i]:
                return "the kernel proper (vmlinux)"
            if column == NAME:
                return table.names[i]
            if column == TYPE:
                letter = chr(table.types[i])
                return f"{letter}: {type_meaning(letter)}"
        return None

    def cells(self, row: int, columns: Iterable[int] = range(len(HEADERS))) \
            -> list[tuple[str, QFont | None, QColor | None] | None]:
        """Row ``row``'s cells, one model call for the whole row (the
        symbol table's view paints ~30 rows per keystroke): a list indexed
        by column holding, for each of ``columns``, what the display, font
        and foreground roles give (None for the others)."""
        i = int(self.rows[row])
        out: list[tuple[str, QFont | None, QColor | None] | None] = [None] * len(_COLUMNS)
        for column in columns:
            out[column] = (self._display(i, column) or "", self._font(column),
                           self._foreground(i, column))
        return out

    def _font(self, column: int) -> QFont | None:
        return self._mono if column == ADDRESS else None

    def _display(self, i: int, column: int) -> str | None:
        table = self.table
        if column == NAME:
            return table.names[i]
        if column == ADDRESS:
            return "hidden" if table.addresses_hidden else f"{int(table.addresses[i]):016x}"
        if column == TYPE:
            letter = chr(table.types[i])
            return f"{letter}  {type_kind(letter)}"        # the scope: in the tooltip
        if column == MODULE:
            module = table.modules[table.module_ids[i]]
            return module or KERNEL_LABEL
        return None

    def _foreground(self, i: int, column: int) -> QColor | None:
        table = self.table
        if column == ADDRESS and table.addresses_hidden:
            return color("disabled")
        if column == TYPE:
            tone = KIND_TONES.get(type_kind(chr(table.types[i])))
            return color(tone) if tone else None
        if column == MODULE and not table.module_ids[i]:
            return color("muted")
        return None


_COLUMNS = range(len(HEADERS))
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_SYMBOL_INDEX = int(SYMBOL_INDEX_ROLE)
_ROLES = frozenset((_DISPLAY, _FOREGROUND, _FONT, _TOOLTIP, _SYMBOL_INDEX))


# -- modules ---------------------------------------------------------------------------------------

M_NAME, M_SIZE, M_USED, M_HOLDERS, M_STATE, M_HELD = range(6)
MODULE_HEADERS = ("Module", "Size", "Used", "Used by", "State", "Held by lainview")


class ModuleModel(TableModel):
    """Loaded modules (with their holders) and the holds lainview took."""

    HEADERS = MODULE_HEADERS

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.modules: list[ModuleInfo] = []
        self.source = ""
        self.note: str | None = None
        self.holds: dict[str, int] = {}

    def set_modules(self, modules: ModuleList) -> None:
        self.beginResetModel()
        self.modules = list(modules.modules)
        self.source = modules.source
        self.note = modules.note
        self.endResetModel()

    def set_holds(self, holds: dict[str, int]) -> None:
        self.holds = dict(holds)
        if self.modules:
            self.dataChanged.emit(self.index(0, M_HELD), self.index(len(self.modules) - 1, M_HELD))

    def module(self, row: int) -> ModuleInfo:
        return self.modules[row]

    def row_of(self, name: str) -> int | None:
        for row, module in enumerate(self.modules):
            if module.name == name:
                return row
        return None

    def row_count(self) -> int:
        return len(self.modules)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.modules):
            return None
        m = self.modules[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == M_NAME:
                return m.name
            if column == M_SIZE:
                return human_size(m.size) if m.size is not None else "–"
            if column == M_USED:
                return str(m.refcount) if m.refcount is not None else "–"
            if column == M_HOLDERS:
                return ", ".join(m.holders) or "–"
            if column == M_STATE:
                return m.state or ("pseudo-module" if m.pseudo else "not in /proc/modules")
            if column == M_HELD:
                held = self.holds.get(m.name, 0)
                return f"{held} hold{'s' if held != 1 else ''}" if held else ""
            return None
        if role == Qt.ItemDataRole.ForegroundRole and not m.loaded:
            return color("disabled")
        if role == Qt.ItemDataRole.ToolTipRole:
            if m.pseudo:
                return "a kallsyms pseudo-module (ftrace trampolines, BPF programs): " \
                       "not a loadable module, cannot be held"
            if column == M_HOLDERS and m.holders:
                return "modules using this one: " + ", ".join(m.holders)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (M_SIZE, M_USED):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
