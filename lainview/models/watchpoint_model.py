""""Find what writes to this": one hardware watchpoint at a time, its hits
per instruction as a table that updates live (backend/watchpoints.py).

The hits belong to the process the watchpoint was armed in (its pid and
start time): once another process is attached (or the same pid started
again, or none), ``stale_note`` says "from pid N (name), which is no longer
attached" and actions that would use the hits' addresses in the attached
process (opening their code) are refused.

The watch runs as bulk work on the backend thread; a timer reads its live
snapshot every ``REFRESH_MS``: counts change in place (``dataChanged``),
a new instruction is appended and named once (its accessing instruction,
symbol and text, by ``Target.name_hits``). The status line gives the hit
rate, so the user sees the target runs on.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal

from lainview.backend.errors import LainviewError
from lainview.backend.service import Target
from lainview.backend.thread import BackendFuture
from lainview.backend.watchpoints import (WATCH_LENGTHS, NamedHit, WatchLive, WatchSnapshot)
from lainview.backend.wording import counted

from .attached_target import AttachedTarget
from .table import TableModel
from .tasks import TaskSet

HITS, ADDRESS, INSTRUCTION, SYMBOL = range(4)
HEADERS = ("Hits", "Address", "Instruction", "Symbol")
HIT_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_MS = 250
RATE_WINDOW = 2.0       # seconds over which the shown hit rate is measured


def watch_length(address: int, wanted: int) -> int:
    """The watchpoint length for ``wanted`` bytes at ``address``: the
    largest of 1, 2, 4, 8 that is at most ``wanted`` (at least 1) and that
    ``address`` is aligned to."""
    for length in reversed(WATCH_LENGTHS):
        if length <= max(wanted, 1) and address % length == 0:
            return length
    return 1


class WatchpointModel(TableModel):
    """The hits of the running (or last) watchpoint, one row per instruction."""

    HEADERS = HEADERS
    status_changed = Signal(str)        # the one-line status: hits, rate, lost, state
    running_changed = Signal(bool)
    stale_changed = Signal(str)         # stale_note: "" while the hits are of the target

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.attached = target
        self.rows: list[NamedHit] = []          # in the order first seen
        self._row_of: dict[int, int] = {}       # reported ip -> row
        self._counts: dict[int, int] = {}       # reported ip -> hits (live)
        self._naming: set[int] = set()
        self.address: int | None = None
        self.length = 0
        self.access = False
        self.status = ""
        # The process the hits are of: (pid, start ticks, name); None before the first watch.
        self.origin: tuple[int, int | None, str] | None = None
        self.stale_note = ""
        self.snapshot: WatchSnapshot | None = None
        self._samples: list[tuple[float, int]] = []    # (seconds armed, total hits)
        self._live: WatchLive | None = None
        self._armed_on: Target | None = None     # the backend target of the last watch
        self._future: BackendFuture[WatchSnapshot] | None = None
        self._tasks = TaskSet("the watchpoint")
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        # A watch belongs to the process it was armed on: stop it, and say
        # its hits are of another process.
        target.attached.connect(self.stop)
        target.attached.connect(self._check_origin)
        target.state_changed.connect(self._check_origin)

    # -- the table --------------------------------------------------------------------------
    def row_count(self) -> int:
        return len(self.rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        hit = self.rows[index.row()]
        if role == HIT_ROLE:
            return hit
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == HITS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"reported IP {hit.ip:#x} (the instruction after the access); "
                    f"{counted(len(hit.threads), 'thread')}: "
                    f"{', '.join(map(str, hit.threads[:8]))}")
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = index.column()
        if column == HITS:
            return str(self._counts.get(hit.ip, hit.hits))
        if column == ADDRESS:
            return f"{self.code_address(hit):#x}"
        if column == SYMBOL:
            return hit.symbol or hit.location
        return hit.instruction or f"(before {hit.ip:#x})"

    @staticmethod
    def code_address(hit: NamedHit) -> int:
        """Where to show ``hit``'s code: the accessing instruction, else the reported IP."""
        return hit.address if hit.address is not None else hit.ip

    def hits_of(self, row: int) -> int:
        return self._counts.get(self.rows[row].ip, 0)

    # -- running -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._future is not None and not self._future.done()

    def start(self, address: int, wanted: int, access: bool) -> bool:
        """Arm a watchpoint at ``address`` (``wanted`` bytes, made a valid
        aligned length by :func:`watch_length`), stopping the one before.
        False (with the reason in ``status``) when there is no target or the
        request is refused at once."""
        self.stop()
        target = self.attached.target
        if target is None:
            self._set_status("attach to a process first")
            return False
        length = watch_length(address, wanted)
        self.beginResetModel()
        self.rows, self._row_of, self._counts, self._naming = [], {}, {}, set()
        self.endResetModel()
        self.address, self.length, self.access, self.snapshot = address, length, access, None
        self.origin = (target.pid, target.identity.start_ticks, self.attached.name)
        self._armed_on = target
        self._check_origin()
        self._samples = []
        live = self._live = WatchLive()
        try:
            future = self._future = target.watchpoint(address, length, access=access, live=live)
        except LainviewError as exc:
            self._future = None
            self._set_status(f"not armed: {exc}")
            return False
        self._set_status(f"arming {self.what()}…")
        self._timer.start()
        self.running_changed.emit(True)
        self._tasks.spawn(self._await_end(future))
        return True

    def what(self) -> str:
        if self.address is None:
            return ""
        kind = "accesses" if self.access else "writes"
        return f"{kind} of {counted(self.length, 'byte')} at {self.address:#x}"

    def stop(self) -> None:
        """End the watch (its events are freed on the backend thread)."""
        if self._live is not None:
            self._live.stop()

    def shutdown(self) -> None:
        self.stop()
        self._timer.stop()
        self._tasks.cancel_all()

    async def _await_end(self, future) -> None:
        try:
            final = await asyncio.wrap_future(future)
        except LainviewError as exc:
            self._timer.stop()
            self._set_status(f"{self.what()}: {exc}")
            self.running_changed.emit(False)
            return
        self._apply(final)
        self._timer.stop()
        self.running_changed.emit(False)

    def refresh(self) -> None:
        """Read the live snapshot: counts in place, new instructions appended."""
        if self._live is None:
            return
        snapshot = self._live.snapshot()
        if snapshot is not None:
            self._apply(snapshot)

    def _apply(self, snapshot: WatchSnapshot) -> None:
        self.snapshot = snapshot
        new = [h for h in snapshot.hits if h.ip not in self._row_of and h.ip not in self._naming]
        changed = []
        for hit in snapshot.hits:
            if self._counts.get(hit.ip) != hit.hits:
                self._counts[hit.ip] = hit.hits
                if hit.ip in self._row_of:
                    changed.append(self._row_of[hit.ip])
        if changed:
            self.dataChanged.emit(self.index(min(changed), HITS),
                                  self.index(max(changed), HITS))
        if new and self._armed_on is not None:
            # Named in the process the watch was armed on, never in one attached since.
            self._naming.update(h.ip for h in new)
            self._tasks.spawn(self._name(self._armed_on, new))
        state = "running" if snapshot.ended is None else f"ended: {snapshot.ended}"
        lost = f", {snapshot.lost} lost" if snapshot.lost else ""
        if snapshot.throttled:
            lost += f", throttled {counted(snapshot.throttled, 'time')}"
        self._set_status(
            f"{state}: {counted(snapshot.total, 'hit')}, {self.rate(snapshot):.0f}/s{lost}, "
            f"{counted(len(snapshot.hits), 'instruction')}; {self.what()}, "
            f"{counted(snapshot.threads, 'thread')}")

    def rate(self, snapshot: WatchSnapshot) -> float:
        """Hits per second over the last RATE_WINDOW seconds (the whole
        watch once it ended): live, so the user sees the target runs on."""
        if snapshot.ended is not None:
            return snapshot.rate
        self._samples.append((snapshot.seconds, snapshot.total))
        while len(self._samples) > 2 and snapshot.seconds - self._samples[1][0] >= RATE_WINDOW:
            self._samples.pop(0)
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else snapshot.rate

    async def _name(self, target, hits) -> None:
        try:
            named = await asyncio.wrap_future(target.name_hits(hits))
        except LainviewError:
            from lainview.backend.watchpoints import name_hits
            named = name_hits(hits, [] if self.stale else self.attached.areas)
        fresh = [h for h in named if h.ip not in self._row_of]
        if not fresh:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        for hit in fresh:
            self._row_of[hit.ip] = len(self.rows)
            self.rows.append(hit)
            self._naming.discard(hit.ip)
        self.endInsertRows()

    @property
    def stale(self) -> bool:
        """True when the hits are of a process that is no longer attached."""
        return bool(self.stale_note)

    def _check_origin(self, *_args) -> None:
        origin = self.origin
        note = ""
        if origin is not None and not self.attached.is_process(origin[0], origin[1]):
            pid, _ticks, name = origin
            note = f"from pid {pid}{f' ({name})' if name else ''}, which is no longer attached"
        if note != self.stale_note:
            self.stale_note = note
            self.stale_changed.emit(note)

    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.status_changed.emit(text)
