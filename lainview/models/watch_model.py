"""The watch list: typed values at locations that survive a restart, read
live, edited in place, frozen, and sampled for the plot.

The list model is this file; the work is done by three parts it owns:

- the value sources (:mod:`.watch_sources`), one per kind of location
  (process addresses, kernel symbols): resolving, batched reads, writes;
- the poller (:mod:`.watch_poller`): the live refresh, one request per
  source per tick, the change highlight and the plot history;
- the freezer (:mod:`.watch_freezer`): holding values, one journal entry per
  freeze.

Locations are resolved against the target's map whenever it changes, so
reattaching to a restarted program finds ``game+0x1f40`` at its new base.
An entry that cannot be resolved or read says why, in its row. Edits write
through the backend, which journals every write; an edit that changes
nothing is not written.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from lainview.backend.errors import InvalidInput, LainviewError
from lainview.backend.locations import Location, parse_location, settle
from lainview.backend.placements import FieldTarget, display_of, watch_type

from .attached_target import AttachedTarget, TargetState
from .session_file import parse_items
from .table import TableModel
from .palette import color
from .tasks import TaskSet
from .watch_entry import WatchEntry
from .watch_freezer import DEFAULT_FREEZE_MS, WatchFreezer
from .watch_poller import (CHANGE_FADE_SECONDS, DEFAULT_PLOT_HZ, DEFAULT_REFRESH_HZ,
                           WatchPoller)
from .watch_sources import KernelValues, ProcessValues
from .watch_values import ValueType

__all__ = ["WatchModel", "WatchEntry", "FREEZE", "LABEL", "ADDRESS", "TYPE", "VALUE", "PLOT",
           "HEADERS", "ENTRY_ROLE", "DEFAULT_REFRESH_HZ", "DEFAULT_PLOT_HZ",
           "DEFAULT_FREEZE_MS", "CHANGE_FADE_SECONDS"]

FREEZE, LABEL, ADDRESS, TYPE, VALUE, PLOT = range(6)
HEADERS = ("Freeze", "Label", "Address", "Type", "Value", "Plot")
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1


class WatchModel(TableModel):
    HEADERS = HEADERS
    HEADER_TIPS = ("re-write the value every freeze interval", None,
                   "where the value lives; module+offset survives a restart", None, None,
                   "plot this value over time")

    status = Signal(str)            # one-line messages for the status bar
    wrote = Signal()                # a write went through the backend (and its journal)
    sampled = Signal()              # new samples are in ``history``
    plot_changed = Signal()         # the set of plotted entries, or their names, changed

    def __init__(self, target: AttachedTarget, parent: QObject | None = None, *, kernel=None):
        super().__init__(parent)
        self.target = target
        self.entries: list[WatchEntry] = []
        self.process_values = ProcessValues(target)
        self.kernel_values = KernelValues(kernel)
        self.sources = (self.process_values, self.kernel_values)
        self.poller = WatchPoller(lambda: self.entries, list(self.sources), self)
        self.freezer = WatchFreezer(lambda: self.entries, self.source_of, self)
        self._tasks = TaskSet("the watch list")
        # What each row showed when last announced: a refresh repaints only
        # the cells that changed (a pointer path's address follows its reads).
        self._announced: dict[object, tuple] = {}
        self.poller.refreshed.connect(self._refreshed)
        # A fading highlight repaints the Value cell's background only; the
        # rows stay announced (forgetting them repainted whole rows).
        self.poller.faded.connect(lambda entries: self._rows_changed(
            entries, VALUE, [Qt.ItemDataRole.BackgroundRole], forget=False))
        self.poller.sampled.connect(self.sampled)
        self.freezer.changed.connect(lambda entry: self._rows_changed([entry], FREEZE, last=VALUE))
        self.freezer.status.connect(self.status)
        self.freezer.wrote.connect(self.wrote)
        target.areas_changed.connect(self._on_areas)
        target.symbols_changed.connect(lambda: self._on_areas(None))
        target.state_changed.connect(self._on_state)
        target.attached.connect(self._on_attached)

    def source_of(self, entry: WatchEntry) -> ProcessValues | KernelValues:
        """The value source for ``entry``'s kind of location."""
        return self.kernel_values if entry.is_kernel else self.process_values

    # -- the parts' state, as the panels and tests see it ------------------------------------------
    @property
    def kernel(self):
        return self.kernel_values.kernel

    @property
    def history(self):
        return self.poller.history

    @property
    def t0(self) -> float:
        return self.poller.t0

    @property
    def refresh_hz(self) -> float:
        return self.poller.refresh_hz

    @property
    def plot_hz(self) -> float:
        return self.poller.plot_hz

    @property
    def paused(self) -> bool:
        return self.poller.paused

    @property
    def ticks(self) -> int:
        return self.poller.ticks

    @property
    def skipped_ticks(self) -> int:
        return self.poller.skipped_ticks

    @property
    def live(self) -> bool:
        return self.poller.live

    @property
    def freeze_interval_ms(self) -> int:
        return self.freezer.interval_ms

    @property
    def _timer(self):
        return self.poller._timer

    @property
    def _freeze_timer(self):
        return self.freezer._timer

    def set_refresh_rate(self, hz: float) -> None:
        self.poller.set_refresh_rate(hz)

    def set_plot_rate(self, hz: float) -> None:
        self.poller.set_plot_rate(hz)

    def set_paused(self, paused: bool) -> None:
        self.poller.set_paused(paused)

    def set_freeze_interval(self, ms: int) -> None:
        self.freezer.set_interval(ms)

    def refresh_now(self) -> asyncio.Task | None:
        return self.poller.refresh_now()

    def set_frozen(self, entry: WatchEntry, on: bool, value: bytes | None = None) -> bool:
        """Freeze ``entry`` at ``value`` (default: the value shown now), or
        thaw it; see :class:`~.watch_freezer.WatchFreezer`."""
        return self.freezer.set_frozen(entry, on, value)

    def _update_timers(self) -> None:
        self.poller.update()
        self.freezer.update()

    # -- entries ----------------------------------------------------------------------------------
    def add(self, location: Location, vtype: ValueType, label: str = "",
            display: str = "auto", **kw) -> WatchEntry:
        """Watch ``location`` as ``vtype``. The same location with the same
        type is watched once: its entry is returned (and the status says so)."""
        existing = self.find(location, vtype)
        if existing is not None:
            self.status.emit(f"already watched: {location.text} as {vtype.label} "
                             f"(row {self.row_of(existing) + 1})")
            return existing
        entry = WatchEntry(location, vtype, label=label, display=display, **kw)
        self.add_entries([entry])
        return entry

    def find(self, location: Location, vtype: ValueType) -> WatchEntry | None:
        """The entry watching ``location`` as ``vtype``, if any."""
        return next((e for e in self.entries if e.location == location and e.vtype == vtype),
                    None)

    def add_entries(self, entries: list[WatchEntry]) -> None:
        """Append ``entries``, leaving out those already watched (same
        location and type)."""
        entries = self._unique(entries, self.entries)
        if not entries:
            return
        first = len(self.entries)
        self.beginInsertRows(QModelIndex(), first, first + len(entries) - 1)
        for entry in entries:
            self._resolve(entry)
            self.entries.append(entry)
        self.endInsertRows()
        self._update_timers()
        if any(e.plotted for e in entries):
            self.plot_changed.emit()

    @staticmethod
    def _unique(entries: list[WatchEntry], present: list[WatchEntry]) -> list[WatchEntry]:
        """``entries`` without those whose location and type are already in
        ``present`` or earlier in ``entries``."""
        seen = {(e.location, e.vtype) for e in present}
        fresh = []
        for entry in entries:
            if (entry.location, entry.vtype) not in seen:
                seen.add((entry.location, entry.vtype))
                fresh.append(entry)
        return fresh

    def add_address(self, address: int, type_name: str, length: int | None = None,
                    label: str = "", *, big_endian: bool = False) -> WatchEntry:
        """Watch ``address`` (from the hex view, the inspector or a scan
        result: the scanner's ``add_to_watch(address, type_name)`` connects
        here), stored as the most durable location the map allows."""
        location = self.target.locate(int(address))
        return self.add(location, ValueType.of(type_name, length, big_endian), label)

    def add_field(self, target: FieldTarget, type_name: str,
                  length: int | None = None) -> WatchEntry:
        """Watch a field by its field path (``demo.health``,
        ``player.held->count``: ``backend/placements.py``), its location
        resolved again on every refresh (a pointer in the path that moves
        is followed), shown by its path (a pointer in hex:
        ``placements.display_of``). Raises InvalidInput for a bitfield."""
        watch_type(target)                       # a bitfield or a struct: InvalidInput
        existing = self.find(target.location, ValueType.of(type_name, length))
        if existing is not None:
            self.status.emit(f"already watched: {existing.where} "
                             f"(row {self.row_of(existing) + 1})")
            return existing
        entry = WatchEntry(target.location, ValueType.of(type_name, length), field=target,
                           display=display_of(target.type))
        self.add_entries([entry])
        return entry

    def add_text(self, text: str, type_text: str, label: str = "") -> WatchEntry:
        """An entry typed in: ``0x…``, ``area+offset``, ``kernel:symbol``."""
        return self.add(self._typed_location(text), ValueType.parse(type_text), label)

    def _typed_location(self, text: str) -> Location:
        """``text`` by the location grammar, settled in the current map when
        there is one (a file name gets its full path, an address its most
        durable form). Raises InvalidInput naming what is wrong."""
        location = parse_location(text)
        if self.target.areas:
            location = settle(location, self.target.areas, pid=self.target.pid,
                              static_end=self.target.static_end())
        return location

    def add_kernel_symbol(self, symbol: str, type_name: str, *, module: str | None = None,
                          offset: int = 0, length: int | None = None,
                          label: str = "") -> WatchEntry:
        return self.add(Location.kernel_symbol(symbol, offset, module),
                        ValueType.of(type_name, length), label)

    def remove_rows(self, rows: list[int]) -> None:
        plotted = False
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self.entries):
                self.beginRemoveRows(QModelIndex(), row, row)
                entry = self.entries.pop(row)
                self.endRemoveRows()
                self.freezer.end(entry, "removed from the watch list")
                plotted |= entry.plotted
                self.history.drop(entry.key)
        self._update_timers()
        if plotted:
            self.plot_changed.emit()

    def clear(self) -> None:
        self.remove_rows(list(range(len(self.entries))))

    def entry(self, row: int) -> WatchEntry:
        return self.entries[row]

    def row_of(self, entry: WatchEntry) -> int:
        return self.entries.index(entry)

    def plotted(self) -> list[WatchEntry]:
        return [e for e in self.entries if e.plotted]

    def set_plotted(self, entry: WatchEntry, on: bool) -> bool:
        if on and not entry.vtype.numeric:
            self.status.emit(f"{entry.name}: only numbers can be plotted")
            return False
        if entry.plotted != on:
            entry.plotted = on
            if not on:
                self.history.drop(entry.key)
            self._changed(entry, PLOT)
            self._update_timers()
            self.plot_changed.emit()
        return True

    def set_display(self, entry: WatchEntry, display: str) -> None:
        if display not in entry.vtype.formats():
            raise InvalidInput(f"{entry.vtype.label} cannot be shown as {display}")
        entry.display = display
        self._changed(entry, VALUE)

    # -- sessions ---------------------------------------------------------------------------------
    def to_json(self) -> list[dict]:
        return [e.to_json() for e in self.entries]

    @staticmethod
    def parse_json(raw) -> list[WatchEntry]:
        """Entries from a session file; InvalidInput on any bad one (none are used then)."""
        return parse_items(raw, "the watch list", "watch entry", WatchEntry.from_json)

    def replace_entries(self, entries: list[WatchEntry]) -> None:
        """Swap in a loaded watch list. Saved freezes come back unfrozen
        (with their value kept): freezing writes, and a restarted target
        should not be written to before the user says so. A location listed
        twice with the same type is watched once."""
        for entry in self.entries:
            self.freezer.end(entry, "the watch list was replaced")
        self.beginResetModel()
        self.entries = self._unique(entries, [])
        self.history.clear()
        for entry in self.entries:
            entry.frozen = False
            self._resolve(entry)
        self.endResetModel()
        self._update_timers()
        self.plot_changed.emit()

    # -- plot history ---------------------------------------------------------------------------
    def csv_text(self) -> str:
        """The history of the plotted entries as CSV (time in seconds)."""
        return self.history.to_csv([(e.key, f"{e.name} ({e.axis_unit})")
                                    for e in self.plotted()])

    async def export_csv(self, path: str) -> bool:
        """Write :meth:`csv_text` to ``path`` on the backend thread."""
        text = self.csv_text()

        try:
            await asyncio.wrap_future(self.target.backend.write_text_file(path, text))
            rows = text.count("\n") - 1
        except (OSError, LainviewError) as exc:
            self.status.emit(f"plot history not exported: {exc}")
            return False
        self.status.emit(f"exported {rows} samples of {len(self.plotted())} traces to {path}")
        return True

    # -- resolution -------------------------------------------------------------------------------
    def _resolve(self, entry: WatchEntry) -> None:
        self.source_of(entry).resolve(entry)

    def set_kernel(self, kernel) -> None:
        """Give the model the KernelBackend its kernel-symbol entries read through."""
        self.kernel_values.kernel = kernel
        for entry in self.entries:
            if entry.is_kernel:
                self._resolve(entry)
        self._all_changed()
        self._update_timers()

    def _on_areas(self, _areas) -> None:
        """A new map (read every few seconds, or symbols for it): locate the
        process entries again and repaint the rows whose location changed."""
        for entry in self.entries:
            if not entry.is_kernel:
                self._resolve(entry)
        self._refreshed(self.entries)

    def _on_attached(self) -> None:
        for entry in self.entries:
            if not entry.is_kernel:
                entry.data = None
                entry.error = ""
                entry.address = None
                entry.chain_unresolved = ""
                entry.unresolved = "the memory map is not read yet"
        self._all_changed()
        self._update_timers()

    def _on_state(self, _state: str) -> None:
        state = self.target.state
        if state in (TargetState.EXITED, TargetState.DETACHED, TargetState.NONE):
            why = "target exited" if state == TargetState.EXITED else "target detached"
            stopped = self.freezer.stop_freezes(lambda e: not e.is_kernel, f"stopped: {why}")
            for entry in self.entries:
                if not entry.is_kernel and entry.data is not None:
                    entry.error = ""
            if stopped:
                self.status.emit(f"{why}: {stopped} freeze{'s' if stopped != 1 else ''} "
                                 "stopped")
            self._all_changed()
        self._update_timers()

    def stop_reverted_freezes(self, journal_ids: list[int]) -> int:
        """Thaw the freezes whose journal entries are being reverted."""
        ids = set(journal_ids)
        stopped = self.freezer.stop_freezes(lambda e: e.freeze_journal_id in ids,
                                            "stopped: its write was reverted")
        if stopped:
            self.status.emit(f"{stopped} freeze{'s' if stopped != 1 else ''} stopped to "
                             f"revert {'them' if stopped != 1 else 'it'}")
        return stopped

    # -- writes ---------------------------------------------------------------------------------
    def write_text(self, entry: WatchEntry, text: str) -> asyncio.Task | None:
        """Parse ``text`` as the entry's type and write it (journaled).
        None, with the reason in the row, if it does not parse or cannot be written."""
        try:
            data = entry.vtype.encode(text, entry.display)
            self.source_of(entry).check_writable(entry)
        except InvalidInput as exc:
            entry.error = f"not written: {exc.message}"
            self.status.emit(f"{entry.name}: {exc.message}")
            self._changed(entry, VALUE)
            return None
        return self._spawn(self._write(entry, data))

    async def _write(self, entry: WatchEntry, data: bytes) -> bool:
        """A user's edit; a failure is reported in the row. An edit that
        changes nothing is not written (nor journaled)."""
        try:
            result = await self.source_of(entry).write(entry, data, if_changed=True)
        except LainviewError as exc:
            self.wrote.emit()           # the journal may hold the failed attempt
            entry.error = f"write failed: {exc}"
            self.status.emit(f"{entry.name}: write failed: {exc}")
            self._changed(entry, VALUE)
            return False
        unchanged = result.journal_id is None and result.old == result.new
        if not unchanged:
            self.wrote.emit()
        if len(result.new) >= entry.vtype.size:
            entry.data = result.new[:entry.vtype.size]
        entry.error = ""
        self.freezer.hold(entry, data, result.old[:len(data)])
        shown = entry.vtype.format(data.ljust(entry.vtype.size, b"\0"), entry.display)
        self.status.emit(f"{entry.name} already holds {shown}: nothing written"
                         if unchanged else f"wrote {shown} to {entry.name}")
        self._changed(entry, VALUE)
        return True

    # -- plumbing -------------------------------------------------------------------------------
    def _changed(self, entry: WatchEntry, column: int) -> None:
        self._rows_changed([entry], column)

    def _rows_changed(self, entries: list[WatchEntry], column: int, roles=None, *,
                      last: int | None = None, forget: bool = True) -> None:
        """dataChanged over ``column`` (to ``last``) of the rows of ``entries``
        (with ``forget``, they are announced afresh by the next refresh too)."""
        if forget:
            for e in entries:
                self._announced.pop(e.key, None)
        row_of = {e.key: n for n, e in enumerate(self.entries)}
        self.rows_changed((row_of[e.key] for e in entries if e.key in row_of), column,
                          column if last is None else last, roles)

    def _refreshed(self, entries: list[WatchEntry]) -> None:
        """A refresh read ``entries``: dataChanged for the Value cells whose
        text changed, and the Address to Value cells of rows whose address
        (a pointer path's) changed, one a run of consecutive rows (Qt
        repaints each as one rectangle). Cells that show what they showed
        are not repainted: at 10 Hz with a hundred rows, repainting every
        cell of every row was most of the GUI thread's time."""
        row_of = {e.key: n for n, e in enumerate(self.entries)}
        announced = self._announced
        value_rows: list[int] = []
        address_rows: list[int] = []
        for entry in entries:
            row = row_of.get(entry.key)
            if row is None:
                continue
            shown = (entry.where, entry.unresolved, entry.address, entry.value_text,
                     entry.error)
            before = announced.get(entry.key)
            if shown == before:
                continue
            announced[entry.key] = shown
            if before is None or before[:3] != shown[:3]:
                address_rows.append(row)
            else:
                value_rows.append(row)
        self.rows_changed(value_rows, VALUE, VALUE)
        self.rows_changed(address_rows, ADDRESS, VALUE)
        if len(announced) > 2 * len(self.entries) + 16:       # rows removed since
            self._announced = {k: v for k, v in announced.items() if k in row_of}

    def _all_changed(self) -> None:
        self._announced.clear()        # every row is announced afresh by the next refresh
        if self.entries:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.entries) - 1, len(HEADERS) - 1))

    def _spawn(self, coro) -> asyncio.Task:
        return self._tasks.spawn(coro)

    def stop(self) -> None:
        """Stop refreshing and freezing (before the backend shuts down)."""
        self.poller.stop()
        self.freezer.stop()
        self._tasks.cancel_all()

    # -- Qt model API --------------------------------------------------------------------------------
    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable \
            | Qt.ItemFlag.ItemNeverHasChildren
        column = index.column()
        entry = self.entries[index.row()]
        if column == FREEZE:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        elif column == PLOT and entry.vtype.numeric:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        elif column in (LABEL, ADDRESS, TYPE, VALUE):
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def row_count(self) -> int:
        return len(self.entries)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        column = index.column()
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, column)
        if role == Qt.ItemDataRole.EditRole:
            if column == VALUE:
                return "" if entry.data is None else entry.vtype.format(entry.data, entry.display)
            if column == ADDRESS:
                return entry.location.text
            if column == TYPE:
                return entry.vtype.label
            return self._display(entry, column)
        if role == Qt.ItemDataRole.CheckStateRole:
            if column == FREEZE:
                return Qt.CheckState.Checked if entry.frozen else Qt.CheckState.Unchecked
            if column == PLOT and entry.vtype.numeric:
                return Qt.CheckState.Checked if entry.plotted else Qt.CheckState.Unchecked
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(entry, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry, column)
        return None

    def cells(self, row: int, columns: Iterable[int] = range(len(HEADERS))) -> list:
        """Row ``row``'s cells in one call, as the roles give them (for
        :class:`FastTextTable`, which repaints the live Value column at the
        list's rate): a list indexed by column holding, for each of
        ``columns``, ``(text, font, foreground, background, alignment)``,
        and None for the check-box columns and the others."""
        entry = self.entries[row]
        out: list = [None] * len(HEADERS)
        for column in columns:
            if column not in (FREEZE, PLOT):
                out[column] = (self._display(entry, column), None,
                               self._foreground(entry, column),
                               self._background(entry, column), None)
        return out

    def _background(self, entry: WatchEntry, column: int) -> QColor | None:
        """The Value cell's: frozen, or a recent change fading out."""
        if column != VALUE:
            return None
        if entry.frozen:
            return color("row_editing")
        faded = self.poller.fading(entry, time.monotonic())
        if faded is not None:
            fade = QColor(color("hex_changed_background"))
            fade.setAlphaF(max(0.0, 0.6 * (1 - faded)))
            return fade
        return None

    def _display(self, entry: WatchEntry, column: int):
        if column == FREEZE:
            if entry.frozen:
                return "frozen"
            return "stopped" if entry.freeze_note.startswith("stopped") else ""
        if column == LABEL:
            return entry.label
        if column == ADDRESS:
            return entry.where
        if column == TYPE:
            return entry.vtype.label + ("" if entry.display == "auto" else f" · {entry.display}")
        if column == VALUE:
            return entry.value_text
        return ""

    def _foreground(self, entry: WatchEntry, column: int):
        if column == VALUE:
            if entry.unresolved or entry.error:
                return color("error")
            if entry.data is None:
                return color("faint")
            if self.target.state == TargetState.EXITED and not entry.is_kernel:
                return color("faint")
        if column == ADDRESS:
            if entry.unresolved:
                return color("error")
            if not entry.location.survives_restart:
                return color("warn")
        if column == FREEZE:
            return color("frozen") if entry.frozen else color("error")
        if column == TYPE:
            return color("muted")
        return None

    def _tooltip(self, entry: WatchEntry, column: int) -> str | None:
        if column == ADDRESS:
            if entry.is_kernel:
                return f"kernel symbol {entry.location.name}" + (
                    f" in {entry.location.module}" if entry.location.module else "")
            said = entry.location.text if entry.field is None else \
                f"{entry.field.text} ({entry.location.text})"
            if entry.unresolved:
                return f"{said}: unresolved — {entry.unresolved}"
            where = f"{entry.address:#x}" if entry.address is not None else "?"
            note = "" if entry.location.survives_restart else \
                " (anonymous memory: an absolute address, only good for this run)"
            return f"{said} → {where}{note}"
        if column == VALUE:
            if entry.unresolved or entry.error:
                return entry.value_text
            return "double-click or F2 to edit; the write is journaled"
        if column == FREEZE:
            if entry.frozen and entry.frozen_data is not None:
                return (f"frozen at {entry.vtype.format(entry.frozen_data, entry.display)} every "
                        f"{self.freeze_interval_ms} ms; re-written {entry.freeze_writes} times")
            return entry.freeze_note or "check to freeze the value shown"
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return False
        entry = self.entries[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.CheckStateRole:
            on = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) \
                else value
            if column == FREEZE:
                return self.set_frozen(entry, on)
            if column == PLOT:
                return self.set_plotted(entry, on)
            return False
        if role != Qt.ItemDataRole.EditRole:
            return False
        text = str(value)
        if column == LABEL:
            entry.label = text.strip()
            self._changed(entry, LABEL)
            if entry.plotted:
                self.plot_changed.emit()
            return True
        if column == VALUE:
            return self.write_text(entry, text) is not None
        try:
            if column == ADDRESS:
                entry.location = self._typed_location(text)
                entry.field = None              # a location typed in: no longer a field path
                entry.chain_unresolved = ""
            elif column == TYPE:
                vtype = ValueType.parse(text)
                if vtype != entry.vtype:
                    entry.vtype = vtype
                    entry.data = None
                    entry.frozen = False
                    self.freezer.end(entry, "its type changed")
                    if entry.display not in vtype.formats():
                        entry.display = "auto"
                    if not vtype.numeric and entry.plotted:
                        entry.plotted = False
                        self.plot_changed.emit()
                    self.history.drop(entry.key)
            else:
                return False
        except InvalidInput as exc:
            self.status.emit(f"{entry.name}: {exc.message}")
            return False
        entry.address = None
        self._resolve(entry)
        row = index.row()
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        return True
