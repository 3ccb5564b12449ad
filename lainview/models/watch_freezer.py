"""Freezes: watched values held at a value.

Every ``interval_ms`` the frozen entries of each kind of location are read
in one request per value source, and only the values that changed are
written back, so an undisputed freeze costs one read per interval. A freeze
is one journal entry, made before its first write (the bytes before the
freeze and the held bytes); its re-writes are covered by it and counted,
and its end is recorded (``end``), so reverting it restores the bytes from
before the freeze. A freeze stops, and says why, when a write is refused,
the target exits (:meth:`WatchFreezer.stop_freezes`) or the entry goes.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from lainview.backend.errors import InvalidInput, LainviewError, TargetExited, VerifyMismatch

from .watch_entry import WatchEntry
from .watch_sources import KernelValues, ProcessValues
from .tasks import TaskSet

DEFAULT_FREEZE_MS = 100


class WatchFreezer(QObject):
    changed = Signal(object)        # an entry whose freeze or value changed
    status = Signal(str)            # one-line messages
    wrote = Signal()                # the journal has something new

    def __init__(self, entries: Callable[[], list[WatchEntry]],
                 source_of: Callable[[WatchEntry], ProcessValues | KernelValues],
                 parent: QObject | None = None):
        super().__init__(parent)
        self.entries = entries
        self.source_of = source_of
        self.interval_ms = DEFAULT_FREEZE_MS
        self._inflight = False
        self._tasks = TaskSet("the watch list freezer")
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.setInterval(self.interval_ms)

    def set_interval(self, ms: int) -> None:
        self.interval_ms = max(10, min(int(ms), 60_000))
        self._timer.setInterval(self.interval_ms)

    def update(self) -> None:
        """Run the timer while something is frozen (call after changes)."""
        if any(e.frozen for e in self.entries()):
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    # -- freezing and thawing ------------------------------------------------------------------
    def set_frozen(self, entry: WatchEntry, on: bool, value: bytes | None = None) -> bool:
        """Freeze ``entry`` at ``value`` (default: the value shown now), or
        thaw it. False, with the reason in the status, if it cannot be frozen."""
        if on:
            data = value if value is not None else entry.data
            try:
                self.source_of(entry).check_writable(entry)
                if data is None:
                    raise InvalidInput("nothing to freeze yet: the value has not been read")
            except InvalidInput as exc:
                self.status.emit(f"{entry.name}: cannot freeze: {exc.message}")
                entry.freeze_note = f"cannot freeze: {exc.message}"
                self.changed.emit(entry)
                return False
            self.end(entry, None)
            entry.frozen_data = data
            entry.freeze_before = entry.data
            entry.freeze_writes = 0
        else:
            self.end(entry, None)       # (freeze_writes stays: how often it wrote)
        entry.frozen = on
        entry.freeze_note = ""
        self.changed.emit(entry)
        self.update()
        return True

    def hold(self, entry: WatchEntry, data: bytes, before: bytes) -> None:
        """The user wrote ``data`` over ``before`` into a frozen entry: hold
        the new value, as a new freeze (and journal entry) from here."""
        if entry.frozen and data != entry.frozen_data:
            self.end(entry, None)
            entry.freeze_before = before
            entry.frozen_data = data

    def stop_freezes(self, which: Callable[[WatchEntry], bool], note: str) -> int:
        """Thaw the frozen entries ``which`` picks, saying ``note``; how many."""
        n = 0
        for entry in self.entries():
            if entry.frozen and which(entry):
                self._stop(entry, note)
                n += 1
        self.update()
        return n

    def _stop(self, entry: WatchEntry, note: str) -> None:
        entry.frozen = False
        entry.freeze_note = note
        self.end(entry, note)
        self.changed.emit(entry)

    def end(self, entry: WatchEntry, why: str | None) -> None:
        """Record the end of ``entry``'s freeze in its journal entry (with
        ``why``, when the user did not choose it)."""
        journal_id, entry.freeze_journal_id = entry.freeze_journal_id, None
        if journal_id is None:
            return
        try:
            self.source_of(entry).freeze_end(journal_id, why)
        except LainviewError:
            return          # the backend is shutting down: it records the end itself
        self.wrote.emit()

    # -- the cycle --------------------------------------------------------------------------------
    def _tick(self) -> None:
        if self._inflight:
            return
        frozen = [e for e in self.entries() if e.frozen and e.frozen_data is not None]
        if not frozen:
            self._timer.stop()
            return
        self._inflight = True
        self._spawn(self._cycle(frozen))

    async def _cycle(self, frozen: list[WatchEntry]) -> None:
        try:
            checked: list[tuple[WatchEntry, bytes | str | None]] = []
            for source in {id(self.source_of(e)): self.source_of(e) for e in frozen}.values():
                batch = source.readable([e for e in frozen if self.source_of(e) is source])
                if not batch:
                    continue
                try:
                    values = await source.read(batch, [len(e.frozen_data or b"") for e in batch])
                except TargetExited:
                    return
                except LainviewError as exc:
                    values = [str(exc)] * len(batch)
                checked += zip(batch, values)
            for entry, current in checked:
                if not entry.frozen or entry not in self.entries():
                    continue
                if current == entry.frozen_data:
                    continue
                try:
                    await self._write(entry)
                    entry.freeze_writes += 1
                except VerifyMismatch:
                    entry.freeze_writes += 1     # the target wrote again at once; next round
                except TargetExited:
                    return
                except LainviewError as exc:
                    self._stop(entry, f"stopped: {exc}")
                    self.status.emit(f"{entry.name}: freeze stopped: {exc}")
                    self.update()
        finally:
            self._inflight = False

    async def _write(self, entry: WatchEntry) -> None:
        """One write of a freeze: the first journals the freeze."""
        source = self.source_of(entry)
        data = entry.frozen_data
        if data is None:                        # thawed meanwhile
            return
        if entry.follows_pointers and entry.address is None:
            return                              # a broken chain: held again once it mends
        before = entry.freeze_before
        if entry.freeze_journal_id is not None and entry.freeze_address != entry.address:
            # A pointer path that leads elsewhere now: the freeze there is
            # one more journal entry (each reverts to what its address held).
            self.end(entry, f"its pointer path now leads to {entry.address:#x}")
            before = None
        if entry.freeze_journal_id is None:
            entry.freeze_address = entry.address
            entry.freeze_journal_id = await source.freeze_begin(entry, data, before)
            self.wrote.emit()
            if not entry.frozen or entry not in self.entries():
                self.end(entry, None)           # thawed meanwhile: nothing written
                return
        result = await source.freeze_write(entry, entry.freeze_journal_id, data)
        if len(result.new) >= entry.vtype.size:
            entry.data = result.new[:entry.vtype.size]
        entry.error = ""
        self.changed.emit(entry)

    # -- plumbing -------------------------------------------------------------------------------
    def _spawn(self, coro) -> asyncio.Task:
        return self._tasks.spawn(coro)

    def stop(self) -> None:
        """Stop the timer and the cycle; record the end of every freeze."""
        self._timer.stop()
        self._tasks.cancel_all()
        for entry in self.entries():
            self.end(entry, "lainview closed")
