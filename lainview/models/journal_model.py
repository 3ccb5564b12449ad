"""The write journal as a table: every write lainview made (to processes and
to the kernel), what it changed, how it ended, and what reverted it.

The journal file is shared by every lainview process, so the model watches
it: a cheap stat on the backend thread every second, and a reload when it
grew. Writes made here (the watch list, the hex view) ask for a reload at
once. Reverts go through the backend (process writes) or the kernel source
(kernel writes), newest first, and every outcome is reported.
"""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex, Qt,
                            QTimer, Signal)


from lainview.backend.errors import LainviewError
from lainview.backend.patch import patch_from_entries
from lainview.backend.journal import JournalEntry
from lainview.backend.wording import counted
from lainview.backend.journal import RevertOutcome
from lainview.backend.service import Backend

from .table import TableModel
from .tasks import TaskSet
from .palette import color

ID, TIME, TARGET, WHERE, OLD, NEW, OUTCOME = range(7)
HEADERS = ("#", "Time", "Target", "Address / symbol", "Old", "New", "Outcome")
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
POLL_MS = 1000
SHOWN_BYTES = 16


def target_key(entry: JournalEntry) -> tuple:
    """Which target a write went to: one process run (pid and start time),
    or the kernel of one boot."""
    if entry.kind == "kernel":
        return ("kernel", entry.target.get("boot_id"))
    return ("process", entry.pid, entry.target.get("start_ticks"))


def _hex(data: bytes) -> str:
    text = data[:SHOWN_BYTES].hex(" ")
    return text + (f" … ({len(data)} bytes)" if len(data) > SHOWN_BYTES else "")


class JournalModel(TableModel):
    HEADERS = HEADERS

    status = Signal(str)
    reverted = Signal(list)          # list[RevertOutcome], after each revert
    reverting = Signal(list)         # journal ids about to be reverted (freezes stop first)
    loaded = Signal()

    def __init__(self, backend: Backend, parent: QObject | None = None):
        """Reverts go through ``backend.revert``, which hands kernel writes
        to the KernelBackend made on ``backend`` (``Workspace.kernel``);
        without one they cannot be reverted here."""
        super().__init__(parent)
        self.backend = backend
        self.entries: list[JournalEntry] = []
        self.reverted_by: dict[int, int] = {}
        self.error = ""
        self._stamp: tuple | None = None
        self._lock: asyncio.Lock | None = None
        self._tasks = TaskSet("the write journal")
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(150)
        self._soon.timeout.connect(self.reload)

    # -- loading --------------------------------------------------------------------------------
    def start(self) -> None:
        """Load now, then follow the file."""
        if not self._poll.isActive():
            self.reload()
            self._poll.start()

    def stop(self) -> None:
        self._poll.stop()
        self._soon.stop()
        self._tasks.cancel_all()

    def request_reload(self) -> None:
        """A write was made here: reload shortly (several writes, one reload),
        if the journal is being followed."""
        if self._poll.isActive() and not self._soon.isActive():
            self._soon.start()

    def _check(self) -> None:
        self._spawn(self._check_async())

    async def _check_async(self) -> None:
        try:
            stamp = await asyncio.wrap_future(self.backend.journal_stamp())
        except LainviewError:
            return
        if stamp != self._stamp:
            self.reload()

    def reload(self) -> asyncio.Task:
        """Read the journal again (after any reload already under way)."""
        return self._spawn(self._reload())

    async def _reload(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            try:
                stamp = await asyncio.wrap_future(self.backend.journal_stamp())
                entries = await asyncio.wrap_future(self.backend.journal_entries())
            except LainviewError as exc:
                self.error = str(exc)
                self.status.emit(f"journal: {exc}")
                return
            self._stamp = stamp
            problems = self.backend.journal.problems
            self.error = (problems.summary(self.backend.journal.path) if problems else "")
            if problems:
                self.status.emit(f"journal: {self.error}")
            self._set_entries(entries)

    def _set_entries(self, entries: list[JournalEntry]) -> None:
        old = len(self.entries)
        self.reverted_by = {e.reverts: e.id for e in entries if e.reverts is not None}
        if old and [e.id for e in entries[:old]] == [e.id for e in self.entries]:
            # Appends (the usual case): insert the new rows, refresh the old
            # ones in place (an outcome or a revert may have arrived for them).
            self.entries[:old] = entries[:old]
            if len(entries) > old:
                self.beginInsertRows(QModelIndex(), old, len(entries) - 1)
                self.entries = list(entries)
                self.endInsertRows()
            self.dataChanged.emit(self.index(0, 0), self.index(old - 1, len(HEADERS) - 1))
        else:
            self.beginResetModel()
            self.entries = list(entries)
            self.endResetModel()
        self.loaded.emit()

    # -- reverting -----------------------------------------------------------------------------------
    def entry(self, row: int) -> JournalEntry:
        return self.entries[row]

    def revertible_for_target(self, key: tuple) -> list[JournalEntry]:
        """Every write to that target that is not a revert, did not fail and
        was not reverted yet; newest first."""
        return sorted((e for e in self.entries if target_key(e) == key and e.reverts is None
                       and e.status != "failed" and e.id not in self.reverted_by),
                      key=lambda e: e.id, reverse=True)

    def revert_entries(self, entries: list[JournalEntry], *,
                       force: bool = False) -> asyncio.Task[list[RevertOutcome]]:
        """Revert these writes, newest first; ``reverted`` reports each outcome."""
        return self._spawn(self._revert(entries, force))

    def revert_target(self, key: tuple, *, force: bool = False) -> asyncio.Task:
        return self.revert_entries(self.revertible_for_target(key), force=force)

    async def _revert(self, entries: list[JournalEntry], force: bool) -> list[RevertOutcome]:
        # A freeze still holding its value would write it again at once.
        self.reverting.emit([e.id for e in entries])
        outcomes: list[RevertOutcome] = []
        if not entries:
            self.status.emit("nothing to revert")
        try:
            if entries:
                outcomes = await asyncio.wrap_future(
                    self.backend.revert([e.id for e in entries], force=force))
        except LainviewError as exc:
            self.status.emit(f"revert failed: {exc}")
        if outcomes:
            done = sum(o.status in ("reverted", "already") for o in outcomes)
            self.status.emit(f"revert: {done} of {len(outcomes)} restored"
                             + ("" if done == len(outcomes) else " — see the journal dock"))
        self.reverted.emit(outcomes)
        self.reload()
        return outcomes

    # -- exporting -----------------------------------------------------------------------------------
    def exportable_for_target(self, key: tuple) -> list[JournalEntry]:
        return [e for e in self.entries if target_key(e) == key and e.kind == "process"]

    def export_patch(self, entries: list[JournalEntry], path: str) -> asyncio.Task:
        """Write these process writes as a patch file for ``lainview apply``
        (the file is written on the backend thread)."""
        return self._spawn(self._export(entries, path))

    async def _export(self, entries: list[JournalEntry], path: str):
        try:
            patch = patch_from_entries(entries)
            await asyncio.wrap_future(self.backend.save_patch(patch, path))
        except LainviewError as exc:
            self.status.emit(f"export: {exc}")
            return None
        except OSError as exc:
            self.status.emit(f"export: cannot write {path}: {exc.strerror}")
            return None
        self.status.emit(f"exported {counted(len(patch.writes), 'write')} to {path}; apply them to a later "
                         f"run with: lainview apply {path}")
        return patch

    def _spawn(self, coro) -> asyncio.Task:
        task = self._tasks.spawn(coro)
        return task

    # -- Qt model API ---------------------------------------------------------------------------------
    def outcome_text(self, e: JournalEntry) -> str:
        status = e.status or "unknown"
        text = {"ok": "ok", "failed": "failed", "verify-mismatch": "written, reads back "
                "different", "unknown": "no outcome recorded"}.get(status, status)
        if e.error:
            text += f": {e.error}"
        if e.freeze:
            text = f"{e.freeze_text} · {text}"
        if e.reverts is not None:
            text = f"revert of #{e.reverts} · {text}"
        if e.id in self.reverted_by:
            text += f" · reverted by #{self.reverted_by[e.id]}"
        return text

    def row_count(self) -> int:
        return len(self.entries)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        e = self.entries[index.row()]
        column = index.column()
        if role == ENTRY_ROLE:
            return e
        if role == SORT_ROLE:
            return e.id if column in (ID, TIME) else self.data(index)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == ID:
                return str(e.id)
            if column == TIME:
                return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time))
            if column == TARGET:
                return e.label
            if column == WHERE:
                return e.where
            if column == OLD:
                return _hex(e.old)
            if column == NEW:
                return _hex(e.new)
            if column == OUTCOME:
                return self.outcome_text(e)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == OUTCOME:
                if e.status in ("failed", None):
                    return color("error")
                if e.status == "verify-mismatch":
                    return color("warn")
                if e.id in self.reverted_by or e.reverts is not None:
                    return color("muted")
                return color("ok")
            if column in (ID, TIME):
                return color("muted")
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == TARGET:
                cmd = e.target.get("cmdline")
                if e.kind == "kernel":
                    return f"kernel via {e.target.get('source', '?')} (boot {e.target.get('boot_id', '?')})"
                return f"{e.target.get('exe', '')}\n{' '.join(cmd) if isinstance(cmd, list) else cmd or ''}"
            if column in (OLD, NEW):
                return (e.old if column == OLD else e.new).hex(" ")
            if column == WHERE:
                return e.where                 # the location after the address, if cut
            if column == OUTCOME:
                return self.outcome_text(e)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == ID:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
