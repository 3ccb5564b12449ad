"""The watch list: typed values at locations that survive a restart, read
live, edited in place, frozen, and sampled for the plot.

- Every tick reads all due entries of the process in ONE ``read_many``
  request (and the kernel-symbol entries in one ``KernelBackend.read_many``).
  A tick is skipped while the previous one is still on its way, so a slow
  target never queues reads up. Plotted entries are due at ``plot_hz``, the
  others at ``refresh_hz``.
- Locations are resolved against the session's map whenever it changes, so
  reattaching to a restarted program finds ``game+0x1f40`` at its new base.
  An entry that cannot be resolved or read says why, in its row.
- Edits and freezes write through the backend, which journals every write.
  A freeze re-reads its entries at ``freeze_interval_ms`` (one request) and
  writes back only the values that changed, so an undisputed freeze costs
  one read per interval and no journal entries. Freezes stop, and say so,
  when the target exits or a write is refused.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex, Qt,
                            QTimer, Signal)
from PySide6.QtGui import QColor

from lainview.backend.errors import (InvalidInput, LainviewError, TargetExited,
                                     VerifyMismatch)
from lainview.backend.files import atomic_private_file
from lainview.backend.locations import Location, locate, parse_location, resolve
from lainview.backend.memory import ReadResult

from .history import SampleHistory
from .session import TargetSession, TargetState
from .session_file import parse_items
from .table import TableModel
from .watch_values import DISPLAY_FORMATS, ValueType
from .tasks import TaskSet
from .palette import color

FREEZE, LABEL, ADDRESS, TYPE, VALUE, PLOT = range(6)
HEADERS = ("Freeze", "Label", "Address", "Type", "Value", "Plot")
DEFAULT_REFRESH_HZ = 10.0
DEFAULT_PLOT_HZ = 20.0
DEFAULT_FREEZE_MS = 100
CHANGE_FADE_SECONDS = 1.0
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1

_keys = itertools.count(1)


@dataclass(eq=False)
class WatchEntry:
    """One watched value. The first fields are saved in sessions; the rest
    is what the last refresh found."""

    location: Location
    vtype: ValueType
    label: str = ""
    display: str = "auto"
    unit: str = ""
    plotted: bool = False
    frozen: bool = False
    frozen_data: bytes | None = None
    address: int | None = None
    unresolved: str = ""            # why the location was not found ("" when it was)
    data: bytes | None = None
    error: str = ""                 # why the value is not shown, or what a write said
    changed_at: float = 0.0
    freeze_note: str = ""           # why a freeze stopped
    freeze_writes: int = 0
    key: int = field(default_factory=lambda: next(_keys))

    @property
    def is_kernel(self) -> bool:
        return self.location.kind == "kernel"

    @property
    def name(self) -> str:
        return self.label or self.location.text

    @property
    def value_text(self) -> str:
        if self.unresolved:
            return f"unresolved: {self.unresolved}"
        if self.error:
            return self.error
        if self.data is None:
            return "…"
        return self.vtype.format(self.data, self.display)

    @property
    def number(self) -> float | None:
        if self.data is None or self.error or self.unresolved:
            return None
        return self.vtype.number(self.data)

    @property
    def axis_unit(self) -> str:
        return self.unit or self.vtype.label

    def to_json(self) -> dict:
        out = {"location": self.location.to_json(), "type": self.vtype.to_json(),
               "label": self.label, "display": self.display, "unit": self.unit,
               "plotted": self.plotted}
        if self.frozen and self.frozen_data is not None:
            out["frozen"] = self.frozen_data.hex()
        return out

    @classmethod
    def from_json(cls, raw) -> "WatchEntry":
        """Raises InvalidInput naming what is wrong."""
        if not isinstance(raw, dict):
            raise InvalidInput("a watch entry must be an object")
        display = raw.get("display", "auto")
        if display not in DISPLAY_FORMATS:
            raise InvalidInput(f"unknown display format {display!r}")
        entry = cls(Location.from_json(raw.get("location")), ValueType.from_json(raw.get("type")),
                    label=str(raw.get("label", "")), display=display,
                    unit=str(raw.get("unit", "")), plotted=bool(raw.get("plotted", False)))
        if entry.plotted and not entry.vtype.numeric:
            entry.plotted = False
        frozen = raw.get("frozen")
        if frozen is not None:
            try:
                entry.frozen_data = bytes.fromhex(frozen)
            except (TypeError, ValueError):
                raise InvalidInput(f"bad frozen value {frozen!r}") from None
        return entry


class WatchModel(TableModel):
    HEADERS = HEADERS

    status = Signal(str)            # one-line messages for the status bar
    wrote = Signal()                # a write went through the backend (and its journal)
    sampled = Signal()              # new samples are in ``history``
    plot_changed = Signal()         # the set of plotted entries, or their names, changed

    def __init__(self, session: TargetSession, parent: QObject | None = None, *, kernel=None):
        super().__init__(parent)
        self.session = session
        self.kernel = kernel        # a KernelBackend, for kernel-symbol entries
        self.entries: list[WatchEntry] = []
        self.history = SampleHistory()
        self.t0 = time.monotonic()
        self.refresh_hz = DEFAULT_REFRESH_HZ
        self.plot_hz = DEFAULT_PLOT_HZ
        self.freeze_interval_ms = DEFAULT_FREEZE_MS
        self.paused = False
        self.ticks = 0              # refreshes sent
        self.skipped_ticks = 0      # ticks skipped because the last refresh was still out
        self._inflight = False
        self._freeze_inflight = False
        self._last_full = -1e9
        self._fading: set[int] = set()
        self._tasks = TaskSet("the watch list")
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._freeze_timer = QTimer(self)
        self._freeze_timer.timeout.connect(self._freeze_tick)
        self._freeze_timer.setInterval(self.freeze_interval_ms)
        self._update_timer_interval()
        session.areas_changed.connect(self._on_areas)
        session.state_changed.connect(self._on_state)
        session.attached.connect(self._on_attached)

    # -- entries ----------------------------------------------------------------------------------
    def add(self, location: Location, vtype: ValueType, label: str = "",
            display: str = "auto", **kw) -> WatchEntry:
        entry = WatchEntry(location, vtype, label=label, display=display, **kw)
        self.add_entries([entry])
        return entry

    def add_entries(self, entries: list[WatchEntry]) -> None:
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

    def add_address(self, address: int, type_name: str, length: int | None = None,
                    label: str = "", *, big_endian: bool = False) -> WatchEntry:
        """Watch ``address`` (from the hex view, the inspector or a scan
        result: the scanner's ``add_to_watch(address, type_name)`` connects
        here), stored as the most durable location the map allows."""
        location = locate(int(address), self.session.areas)
        return self.add(location, ValueType.of(type_name, length, big_endian), label)

    def add_text(self, text: str, type_text: str, label: str = "") -> WatchEntry:
        """An entry typed in: ``0x…``, ``area+offset``, ``kernel:symbol``."""
        location = parse_location(text, self.session.areas or None)
        return self.add(location, ValueType.parse(type_text), label)

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
        should not be written to before the user says so."""
        self.beginResetModel()
        self.entries = list(entries)
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

        def write() -> int:
            with atomic_private_file(path, "w") as f:
                f.write(text)
            return text.count("\n") - 1
        try:
            rows = await asyncio.wrap_future(self.session.backend.thread.submit(write))
        except (OSError, LainviewError) as exc:
            self.status.emit(f"plot history not exported: {exc}")
            return False
        self.status.emit(f"exported {rows} samples of {len(self.plotted())} traces to {path}")
        return True

    # -- resolution -------------------------------------------------------------------------------
    def _resolve(self, entry: WatchEntry) -> None:
        if entry.is_kernel:
            entry.unresolved = "" if self.kernel is not None else \
                "no kernel source: open the kernel symbols first"
            return
        if self.session.target is None or not self.session.areas:
            entry.address = None
            entry.unresolved = "no target attached" if self.session.target is None \
                else "the memory map is not read yet"
            return
        found = resolve(entry.location, self.session.areas, entry.vtype.size)
        if found.address != entry.address:
            entry.data = None
            entry.error = ""
        entry.address = found.address
        entry.unresolved = found.reason

    def set_kernel(self, kernel) -> None:
        """Give the model the KernelBackend its kernel-symbol entries read through."""
        self.kernel = kernel
        for entry in self.entries:
            if entry.is_kernel:
                self._resolve(entry)
        self._all_changed()
        self._update_timers()

    def _on_areas(self, _areas) -> None:
        for entry in self.entries:
            if not entry.is_kernel:
                self._resolve(entry)
        self._all_changed()

    def _on_attached(self) -> None:
        for entry in self.entries:
            if not entry.is_kernel:
                entry.data = None
                entry.error = ""
                entry.address = None
                entry.unresolved = "the memory map is not read yet"
        self._all_changed()
        self._update_timers()

    def _on_state(self, _state: str) -> None:
        state = self.session.state
        if state in (TargetState.EXITED, TargetState.DETACHED, TargetState.NONE):
            why = "target exited" if state == TargetState.EXITED else "target detached"
            stopped = self._stop_freezes(lambda e: not e.is_kernel, f"stopped: {why}")
            for entry in self.entries:
                if not entry.is_kernel and entry.data is not None:
                    entry.error = ""
            if stopped:
                self.status.emit(f"{why}: {stopped} freeze{'s' if stopped != 1 else ''} "
                                 "stopped")
            self._all_changed()
        self._update_timers()

    # -- refresh ---------------------------------------------------------------------------------
    def set_refresh_rate(self, hz: float) -> None:
        self.refresh_hz = max(0.5, min(float(hz), 60.0))
        self._update_timer_interval()

    def set_plot_rate(self, hz: float) -> None:
        self.plot_hz = max(0.5, min(float(hz), 60.0))
        self._update_timer_interval()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._update_timers()

    def _update_timer_interval(self) -> None:
        hz = max(self.refresh_hz, self.plot_hz if any(e.plotted for e in self.entries) else 0)
        self._timer.setInterval(max(1, int(round(1000 / hz))))

    def _has_readable(self) -> bool:
        process = self.session.live and any(not e.is_kernel for e in self.entries)
        kernel = self.kernel is not None and any(e.is_kernel for e in self.entries)
        return process or kernel

    def _update_timers(self) -> None:
        self._update_timer_interval()
        if self._has_readable() and not self.paused:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
        if any(e.frozen for e in self.entries):
            if not self._freeze_timer.isActive():
                self._freeze_timer.start()
        else:
            self._freeze_timer.stop()

    @property
    def live(self) -> bool:
        return self._timer.isActive()

    def refresh_now(self) -> asyncio.Task | None:
        self._last_full = -1e9
        return self._tick()

    def _tick(self) -> asyncio.Task | None:
        now = time.monotonic()
        full = now - self._last_full >= 1.0 / self.refresh_hz - 0.004
        if full:
            self._fade(now)         # the highlight fades at the list's rate, not the plot's
        if self._inflight:
            self.skipped_ticks += 1
            return None
        due = [e for e in self.entries if (full or e.plotted) and not e.unresolved]
        process = [e for e in due if not e.is_kernel and e.address is not None]
        kernel = [e for e in due if e.is_kernel]
        target = self.session.target if self.session.live else None
        if target is None:
            process = []
        if self.kernel is None:
            kernel = []
        if not process and not kernel:
            return None
        if full:
            self._last_full = now
        self._inflight = True
        self.ticks += 1
        return self._spawn(self._refresh(target, process, kernel))

    async def _refresh(self, target, process: list[WatchEntry], kernel: list[WatchEntry]) -> None:
        try:
            snapshot = [(e, e.address) for e in process]
            waits = []
            if process:
                waits.append(asyncio.wrap_future(
                    target.read_many([(a, e.vtype.size) for e, a in snapshot])))
            if kernel:
                waits.append(asyncio.wrap_future(self.kernel.read_many(
                    [(e.location.name, e.location.offset + e.vtype.size, e.location.module)
                     for e in kernel])))
            results = await asyncio.gather(*waits, return_exceptions=True)
        finally:
            self._inflight = False
        now = time.monotonic()
        touched: list[WatchEntry] = []
        if process:
            replies = results.pop(0)
            if isinstance(replies, TargetExited):
                self.session.mark_exited(replies)
            elif isinstance(replies, BaseException):
                self._fail_all([e for e, _ in snapshot], replies)
                touched += [e for e, _ in snapshot]
            else:
                present = {e.key for e in self.entries}
                for (entry, address), reply in zip(snapshot, replies):
                    if entry.address != address or entry.key not in present:
                        continue            # re-resolved or removed since: a stale reply
                    self._store(entry, reply, 0, now)
                    touched.append(entry)
        if kernel:
            replies = results.pop(0)
            if isinstance(replies, BaseException):
                self._fail_all(kernel, replies)
            else:
                for entry, reply in zip(kernel, replies):
                    if entry in self.entries:
                        self._store(entry, getattr(reply, "result", reply),
                                    entry.location.offset, now)
            touched += kernel
        t = now - self.t0
        sampled = False
        for entry in touched:
            if entry.plotted and (value := entry.number) is not None:
                self.history.append(entry.key, t, value)
                sampled = True
        row_of = {e.key: n for n, e in enumerate(self.entries)}
        rows = [row_of[e.key] for e in touched if e.key in row_of]
        if rows:
            self.dataChanged.emit(self.index(min(rows), VALUE), self.index(max(rows), VALUE))
        if sampled:
            self.sampled.emit()

    def _store(self, entry: WatchEntry, reply, offset: int, now: float) -> None:
        if isinstance(reply, ReadResult):
            try:
                data = reply.require()[offset:offset + entry.vtype.size]
            except LainviewError as exc:
                entry.error = f"unreadable: {exc}"
                return
            if entry.data is not None and data != entry.data:
                entry.changed_at = now
                self._fading.add(entry.key)
            entry.data = data
            entry.error = ""
        elif isinstance(reply, LainviewError):
            entry.error = f"unreadable: {reply}"
        else:
            entry.error = f"unreadable: {reply!r}"

    def _fail_all(self, entries: list[WatchEntry], exc: BaseException) -> None:
        for entry in entries:
            entry.error = f"unreadable: {exc}"

    def _fade(self, now: float) -> None:
        if not self._fading:
            return
        done = {e.key for e in self.entries if e.key in self._fading
                and now - e.changed_at > CHANGE_FADE_SECONDS}
        self._fading -= done
        rows = [i for i, e in enumerate(self.entries) if e.key in self._fading or e.key in done]
        if rows:
            self.dataChanged.emit(self.index(min(rows), VALUE), self.index(max(rows), VALUE),
                                  [Qt.ItemDataRole.BackgroundRole])

    # -- writes ---------------------------------------------------------------------------------
    def write_text(self, entry: WatchEntry, text: str) -> asyncio.Task | None:
        """Parse ``text`` as the entry's type and write it (journaled).
        None, with the reason in the row, if it does not parse or cannot be written."""
        try:
            data = entry.vtype.encode(text, entry.display)
            self._check_writable(entry)
        except InvalidInput as exc:
            entry.error = f"not written: {exc.message}"
            self.status.emit(f"{entry.name}: {exc.message}")
            self._changed(entry, VALUE)
            return None
        return self._spawn(self._write(entry, data, user=True))

    def _check_writable(self, entry: WatchEntry) -> None:
        if entry.unresolved:
            raise InvalidInput(f"unresolved: {entry.unresolved}")
        if entry.is_kernel:
            if entry.location.offset:
                raise InvalidInput("kernel writes start at the symbol: an offset cannot be "
                                   "written")
            return
        if self.session.state == TargetState.EXITED:
            raise InvalidInput("the target has exited")
        if not self.session.writable:
            raise InvalidInput("the target is not attached for writing")

    async def _backend_write(self, entry: WatchEntry, data: bytes) -> bytes:
        """The bytes read back after the write."""
        if entry.is_kernel:
            result = await asyncio.wrap_future(self.kernel.write(
                entry.location.name, data, module=entry.location.module))
            return result.new
        target = self.session.target
        if target is None or entry.address is None:
            raise InvalidInput("no target to write to")
        try:
            result = await asyncio.wrap_future(target.write(entry.address, data))
        except TargetExited as exc:
            self.session.mark_exited(exc)
            raise
        return result.new

    async def _write(self, entry: WatchEntry, data: bytes, *, user: bool) -> bool:
        """A user's edit reports a failure in the row; a freeze's write raises it."""
        try:
            back = await self._backend_write(entry, data)
        except LainviewError as exc:
            self.wrote.emit()           # the journal may hold the failed attempt
            if not user:
                raise
            entry.error = f"write failed: {exc}"
            self.status.emit(f"{entry.name}: write failed: {exc}")
            self._changed(entry, VALUE)
            return False
        self.wrote.emit()
        if len(back) >= entry.vtype.size:
            entry.data = back[:entry.vtype.size]
        entry.error = ""
        if user:
            if entry.frozen:
                entry.frozen_data = data
            shown = entry.vtype.format(data.ljust(entry.vtype.size, b"\0"), entry.display)
            self.status.emit(f"wrote {shown} to {entry.name}")
        self._changed(entry, VALUE)
        return True

    # -- freezing -------------------------------------------------------------------------------
    def set_freeze_interval(self, ms: int) -> None:
        self.freeze_interval_ms = max(10, min(int(ms), 60_000))
        self._freeze_timer.setInterval(self.freeze_interval_ms)

    def set_frozen(self, entry: WatchEntry, on: bool, value: bytes | None = None) -> bool:
        """Freeze ``entry`` at ``value`` (default: the value shown now).
        False, with the reason in the status, if it cannot be frozen."""
        if on:
            data = value if value is not None else entry.data
            try:
                self._check_writable(entry)
                if data is None:
                    raise InvalidInput("nothing to freeze yet: the value has not been read")
            except InvalidInput as exc:
                self.status.emit(f"{entry.name}: cannot freeze: {exc.message}")
                entry.freeze_note = f"cannot freeze: {exc.message}"
                self._changed(entry, FREEZE)
                return False
            entry.frozen_data = data
        entry.frozen = on
        entry.freeze_note = ""
        entry.freeze_writes = 0
        self._changed(entry, FREEZE)
        self._update_timers()
        return True

    def _stop_freezes(self, which, note: str) -> int:
        n = 0
        for entry in self.entries:
            if entry.frozen and which(entry):
                entry.frozen = False
                entry.freeze_note = note
                n += 1
                self._changed(entry, FREEZE)
        self._update_timers()
        return n

    def _freeze_tick(self) -> None:
        if self._freeze_inflight:
            return
        frozen = [e for e in self.entries if e.frozen and e.frozen_data is not None]
        if not frozen:
            self._freeze_timer.stop()
            return
        self._freeze_inflight = True
        self._spawn(self._freeze_cycle(frozen))

    async def _freeze_cycle(self, frozen: list[WatchEntry]) -> None:
        try:
            process = [e for e in frozen if not e.is_kernel and e.address is not None]
            kernel = [e for e in frozen if e.is_kernel and self.kernel is not None]
            current: dict[int, bytes | None] = {}
            target = self.session.target if self.session.live else None
            if process and target is not None:
                try:
                    replies = await asyncio.wrap_future(
                        target.read_many([(e.address, len(e.frozen_data)) for e in process]))
                except TargetExited as exc:
                    self.session.mark_exited(exc)
                    return
                for entry, reply in zip(process, replies):
                    current[entry.key] = reply.data if isinstance(reply, ReadResult) \
                        and reply.complete else None
            if kernel:
                replies = await asyncio.wrap_future(self.kernel.read_many(
                    [(e.location.name, len(e.frozen_data), e.location.module) for e in kernel]))
                for entry, reply in zip(kernel, replies):
                    result = getattr(reply, "result", None)
                    current[entry.key] = result.data if result is not None \
                        and result.complete else None
            for entry in process + kernel:
                if not entry.frozen or entry not in self.entries:
                    continue
                if current.get(entry.key) == entry.frozen_data:
                    continue
                try:
                    await self._write(entry, entry.frozen_data, user=False)
                    entry.freeze_writes += 1
                except VerifyMismatch:
                    entry.freeze_writes += 1     # the target wrote again at once; next round
                except TargetExited:
                    return
                except LainviewError as exc:
                    entry.frozen = False
                    entry.freeze_note = f"stopped: {exc}"
                    self.status.emit(f"{entry.name}: freeze stopped: {exc}")
                    self._changed(entry, FREEZE)
                    self._update_timers()
        finally:
            self._freeze_inflight = False

    # -- plumbing -------------------------------------------------------------------------------
    def _changed(self, entry: WatchEntry, column: int) -> None:
        if entry in self.entries:
            row = self.entries.index(entry)
            self.dataChanged.emit(self.index(row, column), self.index(row, column))

    def _all_changed(self) -> None:
        if self.entries:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.entries) - 1, len(HEADERS) - 1))

    def _spawn(self, coro) -> asyncio.Task:
        task = self._tasks.spawn(coro)
        return task

    def stop(self) -> None:
        """Stop refreshing and freezing (before the backend shuts down)."""
        self._timer.stop()
        self._freeze_timer.stop()
        self._tasks.cancel_all()

    # -- Qt model API --------------------------------------------------------------------------------
    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {FREEZE: "re-write the value every freeze interval",
                    PLOT: "plot this value over time",
                    ADDRESS: "where the value lives; module+offset survives a restart"}.get(section)
        return None

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
        if role == Qt.ItemDataRole.BackgroundRole and column == VALUE:
            if entry.frozen:
                return color("row_editing")
            age = time.monotonic() - entry.changed_at
            if entry.key in self._fading and age < CHANGE_FADE_SECONDS:
                fade = QColor(color("hex_changed_background"))
                fade.setAlphaF(max(0.0, 0.6 * (1 - age / CHANGE_FADE_SECONDS)))
                return fade
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry, column)
        return None

    def _display(self, entry: WatchEntry, column: int):
        if column == FREEZE:
            if entry.frozen:
                return "frozen"
            return "stopped" if entry.freeze_note.startswith("stopped") else ""
        if column == LABEL:
            return entry.label
        if column == ADDRESS:
            return entry.location.text
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
            if self.session.state == TargetState.EXITED and not entry.is_kernel:
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
            if entry.unresolved:
                return f"{entry.location.text}: unresolved — {entry.unresolved}"
            where = f"{entry.address:#x}" if entry.address is not None else "?"
            note = "" if entry.location.survives_restart else \
                " (anonymous memory: an absolute address, only good for this run)"
            return f"{entry.location.text} → {where}{note}"
        if column == VALUE:
            if entry.unresolved or entry.error:
                return entry.value_text
            return "double-click or F2 to edit; the write is journaled"
        if column == FREEZE:
            if entry.frozen:
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
                entry.location = parse_location(text, self.session.areas or None)
            elif column == TYPE:
                vtype = ValueType.parse(text)
                if vtype != entry.vtype:
                    entry.vtype = vtype
                    entry.data = None
                    entry.frozen = False
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
