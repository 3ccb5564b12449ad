"""The pointer scanner as the GUI sees it, without widgets.

- :class:`PointerScanController` starts a pointer scan for an address (from
  a watch entry or the hex view) on the backend (``Target.pointer_scan``,
  bulk work: hex-view and watch reads still go first), polls its progress,
  cancels it, and rescans the results against the attached process (the
  same run later, or a restarted program) by address or by value. Every
  outcome, the target exiting included, is one line of status text.
- :class:`PointerResultModel` is a virtual table over the listed paths
  (path text, depth, the address it resolves to now, the value there):
  rows are plain paths, and only the rows on screen are resolved and read,
  on a timer, in one request each (``Target.resolve_pointer_paths``, then
  ``read_many``); a reply meant for older results is dropped.

Results remember the process they came from (pid and start time): when it
has exited, or another process is attached, :meth:`PointerScanController.origin_note`
says so and Rescan is the way to use them in the process attached now.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal

from lainview.backend import pointer_scan
from lainview.backend.errors import Cancelled, InvalidInput, LainviewError, TargetExited
from lainview.backend.locations import Location
from lainview.backend.memory import ReadResult
from lainview.backend.thread import BackendFuture

from .attached_target import AttachedTarget, TargetState
from .formats import human_size
from .fonts import mono_font
from .palette import color
from .table import VisibleRowsModel
from .tasks import TaskSet
from .watch_values import ValueType

PROGRESS_MS = 100           # progress poll while a scan runs
VALUE_REFRESH_MS = 500      # the visible rows' addresses and values, twice a second

PATH, DEPTH, ADDRESS, VALUE = range(4)
HEADERS = ("Pointer path", "Depth", "Address now", "Value")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
_UNSEEN = object()             # a row not read yet (differs from every value)


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """What a pointer scan looks for, and how."""

    address: int
    vtype: ValueType                 # how the value is shown (and a rescan by value parses)
    depth: int = pointer_scan.DEFAULT_DEPTH
    max_offset: int = pointer_scan.DEFAULT_MAX_OFFSET
    stacks: bool = False
    limit: int = pointer_scan.DEFAULT_LIMIT
    label: str = ""                  # what the scan was started from ("watch: gold")


@dataclass(frozen=True, slots=True)
class Origin:
    """The process results were found (or last rescanned) in."""

    pid: int
    start_ticks: int | None
    name: str


@dataclass(frozen=True, slots=True)
class PtrProgress:
    kind: str               # "scan", "rescan"
    done: int               # bytes read (scan) or paths resolved (rescan)
    total: int
    elapsed: float

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def describe(self) -> str:
        if self.kind == "scan":
            if self.total and self.done < self.total:
                return (f"pointer map: {human_size(self.done)} of {human_size(self.total)} · "
                        f"{self.elapsed:.1f} s")
            return f"searching the paths… {self.elapsed:.1f} s"
        return f"rescan: {self.done:,} of {self.total:,} paths · {self.elapsed:.1f} s"


def path_location(path: pointer_scan.PointerPath) -> Location:
    """The location (the grammar's pointer path: ``prog+0x4080->+0x18``,
    ``[stack#1]-0x1f8->+0x8``) the watch list, bookmarks and go-to take for
    ``path``."""
    return path.location


class PointerResultModel(VisibleRowsModel):
    """The listed paths of the last scan or rescan; see the module docstring."""

    HEADERS = HEADERS
    HEADER_TIPS = ("static base, then one offset per pointer followed",
                   "pointers followed", "where the path leads in the attached process now",
                   "the value there now (refreshed while visible)")

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(target, VALUE_REFRESH_MS, "the pointer-scan results", parent)
        self.paths: list[pointer_scan.PointerPath] = []
        self.vtype = ValueType.of("u64")
        self._now: dict[int, int | None] = {}          # row -> address now (None: breaks)
        self._values: dict[int, bytes | None] = {}     # row -> value there (None: unreadable)
        self._generation = 0
        self._inflight = False
        self._mono = mono_font()
        target.attached.connect(self._on_attached)

    def set_paths(self, paths: list[pointer_scan.PointerPath], vtype: ValueType,
                  found: dict[int, int] | None = None) -> None:
        """Show ``paths`` (values as ``vtype``); ``found``: row -> address
        already known (a rescan's)."""
        self.beginResetModel()
        self.paths = list(paths)
        self.vtype = vtype
        self._now = dict(found or {})
        self._values.clear()
        self._generation += 1
        self.endResetModel()
        self._update_timer()
        self.refresh_values()

    def path(self, row: int) -> pointer_scan.PointerPath:
        return self.paths[row]

    def address_now(self, row: int) -> int | None:
        return self._now.get(row)

    def value_now(self, row: int) -> bytes | None:
        return self._values.get(row)

    def _on_attached(self) -> None:
        self._now.clear()
        self._values.clear()
        self._generation += 1
        if self.paths:
            self.dataChanged.emit(self.index(0, ADDRESS), self.index(len(self.paths) - 1, VALUE))

    # -- the rows on screen, refreshed ----------------------------------------------------------
    def _lacks_values(self, rows: range) -> bool:
        return any(r not in self._values for r in rows)

    def refresh_values(self) -> asyncio.Task | None:
        """Resolve the visible rows' paths and read their values (one
        request each); None when there is nothing to do or the last
        refresh is still out."""
        target = self.target.target
        rows = list(self._visible_rows())
        if not rows or target is None or not self.target.live or self._inflight:
            return None
        self._inflight = True
        return self._tasks.spawn(self._refresh(target, rows, self._generation))

    async def _refresh(self, target, rows: list[int], generation: int) -> None:
        size = self.vtype.size
        try:
            found = await asyncio.wrap_future(target.resolve_pointer_paths(
                [self.paths[r] for r in rows]))
            wanted = [(r, a) for r, a in zip(rows, found) if a is not None]
            replies = await asyncio.wrap_future(target.read_many([(a, size) for _, a in wanted])) \
                if wanted else []
        except TargetExited as exc:
            self.target.mark_exited(exc)
            return
        except LainviewError:
            return
        finally:
            self._inflight = False
        if generation != self._generation or target is not self.target.target:
            return          # meant for other results, or another process
        before = {row: (self._now.get(row, _UNSEEN), self._values.get(row, _UNSEEN))
                  for row in rows}
        for row, address in zip(rows, found):
            self._now[row] = address
            if address is None:
                self._values[row] = None
        for (row, _address), reply in zip(wanted, replies):
            self._values[row] = reply.data if isinstance(reply, ReadResult) and reply.complete \
                else None
        self.refresh_count += 1
        # Only the rows whose resolved address or value changed are repainted.
        self.rows_changed((row for row in rows if before[row] != (
            self._now.get(row, _UNSEEN), self._values.get(row, _UNSEEN))), ADDRESS, VALUE)
        self.values_refreshed.emit()

    # -- Qt model API ---------------------------------------------------------------------------
    def row_count(self) -> int:
        return len(self.paths)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.paths):
            return None
        row, column = index.row(), index.column()
        path = self.paths[row]
        if role == PATH_ROLE:
            return path
        if role == Qt.ItemDataRole.DisplayRole:
            if column == PATH:
                return path.text
            if column == DEPTH:
                return str(path.depth)
            if row not in self._now:
                return "…"
            address = self._now[row]
            if column == ADDRESS:
                return "breaks" if address is None else f"{address:012x}"
            value = self._values.get(row)
            if address is None:
                return ""
            return "??" if value is None else self.vtype.format(value)
        if role == Qt.ItemDataRole.ForegroundRole and column in (ADDRESS, VALUE):
            if row not in self._now:
                return color("disabled")
            if self._now[row] is None or (column == VALUE and self._values.get(row) is None):
                return color("error")
            return None
        if role == Qt.ItemDataRole.FontRole and column != DEPTH:
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and column == DEPTH:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == PATH:
                return path.text
            if column == ADDRESS and row in self._now and self._now[row] is None:
                return "a pointer on the way is not mapped (or unreadable) now"
        return None


class PointerScanController(QObject):
    """Pointer scans and rescans for the attached target; see the module docstring."""

    running_changed = Signal(bool)
    progress_changed = Signal(object)       # PtrProgress
    message = Signal(str)                   # one line: a summary or what went wrong
    results_changed = Signal()              # other paths, or another origin
    requested = Signal()                    # a scan was asked for (the dock shows itself)

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.results = PointerResultModel(target, self)
        self.request: ScanRequest | None = None      # what the form is set to scan for
        self.result: pointer_scan.SearchResult | None = None
        self.origin: Origin | None = None
        self.job: BackendFuture | None = None
        self.job_kind = ""
        self.progress: PtrProgress | None = None
        self.last_message = ""
        self.last_outcome = ""          # of the last job: "done", "cancelled", "failed"
        self._started = 0.0
        self._tasks = TaskSet("the pointer scanner")
        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_MS)
        self._timer.timeout.connect(self._poll)
        self._origin_exited = False
        target.state_changed.connect(self._on_state)
        target.attached.connect(self.results_changed)

    def _on_state(self, _state: str) -> None:
        origin = self.origin
        if self.target.state == TargetState.EXITED and origin is not None \
                and self.target.is_process(origin.pid, origin.start_ticks):
            self._origin_exited = True
        self.results_changed.emit()

    # -- what the dock asks ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    def prepare(self, address: int, vtype: ValueType, label: str = "") -> None:
        """Set the form to scan for ``address`` (from a watch entry or the
        hex view): the dock shows itself; nothing starts yet."""
        base = self.request or ScanRequest(address, vtype)
        self.request = dataclasses.replace(base, address=address, vtype=vtype, label=label)
        self.requested.emit()

    def origin_note(self) -> str:
        """'' when the results are of the attached, live process; else why
        they are not (it exited, another process is attached)."""
        origin = self.origin
        if origin is None or not self.results.paths:
            return ""
        same = self.target.is_process(origin.pid, origin.start_ticks)
        if same and self.target.state == TargetState.EXITED:
            return (f"found in pid {origin.pid} ({origin.name}), which has exited: start the "
                    "program again, attach, and Rescan")
        if not same:
            return (f"found in pid {origin.pid} ({origin.name})"
                    + (", which has exited" if self._origin_exited else "")
                    + "; the addresses and values shown are of the process attached now: "
                    "Rescan keeps the paths that still lead to the value")
        return ""

    def describe(self) -> str:
        """'12 paths listed of 3,456 found': the results' line."""
        if self.result is None:
            return "no pointer scan yet"
        n = len(self.results.paths)
        text = f"{n:,} path{'s' if n != 1 else ''} listed"
        if self.result.total != n:
            text += f" of {self.result.total:,} found"
        return text

    def describe_scan(self) -> str:
        """'depth ≤ 5 · offsets ≤ 0x1000 · map 1.2 MiB': how the last scan looked."""
        result = self.result
        if result is None:
            return ""
        text = f"depth ≤ {result.depth} · offsets ≤ {result.max_offset:#x}"
        if result.cut:
            text += " · search cut (too many addresses at a level): there are more"
        text += f" · map {human_size(result.map_memory_bytes)}"
        if result.map_disk_bytes:
            text += f" + {human_size(result.map_disk_bytes)} on disk"
        return text

    # -- starting -------------------------------------------------------------------------------
    def start(self, request: ScanRequest | None = None) -> asyncio.Task | None:
        """Scan for ``request`` (default: the prepared one). Bad input is
        reported (``message``) and nothing starts: None."""
        request = request or self.request
        target = self._live_target("pointer scan")
        if target is None:
            return None
        if request is None:
            self._say("pointer scan: pick a value first (a watch entry's or the hex view's "
                      "context menu: Find pointers to this…)")
            return None
        self.request = request
        try:
            future = target.pointer_scan(request.address, depth=request.depth,
                                         max_offset=request.max_offset, stacks=request.stacks,
                                         limit=request.limit)
        except LainviewError as exc:
            self._say(f"pointer scan: {exc}")
            return None
        origin = Origin(target.pid, target.identity.start_ticks, self.target.name)
        return self._start("scan", future, origin)

    def rescan(self, *, address: int | None = None, value_text: str | None = None
               ) -> asyncio.Task | None:
        """Keep the listed paths that, resolved in the attached process now,
        lead to ``address``, or to an address holding ``value_text`` (as the
        scan's type). The results then count as this process's."""
        target = self._live_target("rescan")
        if target is None:
            return None
        if not self.results.paths or self.result is None:
            self._say("rescan: run a pointer scan first")
            return None
        vtype = self.results.vtype
        try:
            if (address is None) == (value_text is None):
                raise InvalidInput("rescan: give an address or a value")
            if address is not None:
                goal = pointer_scan.RescanTarget(address=address)
            else:
                assert value_text is not None
                data = vtype.encode(value_text)
                goal = pointer_scan.RescanTarget(None, vtype.name, data)
            future = target.pointer_rescan(list(self.results.paths), goal)
        except LainviewError as exc:
            self._say(f"rescan: {exc.message}")
            return None
        origin = Origin(target.pid, target.identity.start_ticks, self.target.name)
        return self._start("rescan", future, origin)

    def cancel(self) -> None:
        """Stop the running scan or rescan at its next chunk; the results
        shown stay."""
        if self.job is not None:
            self.job.cancel()

    def stop(self) -> None:
        self._timer.stop()
        self.results.stop()
        if self.job is not None:
            self.job.cancel()
        self._tasks.cancel_all()

    # -- running --------------------------------------------------------------------------------
    def _live_target(self, what: str):
        if self.running:
            self._say(f"{what}: a pointer scan is running (cancel it first)")
            return None
        return self.target.live_target(what, self._say)

    def _start(self, kind: str, future: BackendFuture, origin: Origin) -> asyncio.Task:
        self.job, self.job_kind = future, kind
        self._started = time.monotonic()
        self.progress = PtrProgress(kind, 0, 0, 0.0)
        self.running_changed.emit(True)
        self._timer.start()
        return self._tasks.spawn(self._wait(kind, future, origin))

    def _poll(self) -> None:
        if self.job is None:
            return
        done, total = self.job.progress
        self.progress = PtrProgress(self.job_kind, done, total, time.monotonic() - self._started)
        self.progress_changed.emit(self.progress)

    async def _wait(self, kind: str, future: BackendFuture, origin: Origin) -> str:
        try:
            outcome = await asyncio.wrap_future(future)
        except (asyncio.CancelledError, Cancelled):
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise                   # this task is stopped (the window closes)
            self._end("cancelled")
            self._say(f"{'pointer scan' if kind == 'scan' else 'rescan'} cancelled; "
                      "the results shown are kept")
            return "cancelled"
        except TargetExited as exc:
            self.target.mark_exited(exc)
            self._end("failed")
            self._say(f"{'pointer scan' if kind == 'scan' else 'rescan'}: the target exited "
                      f"({exc})")
            return "failed"
        except LainviewError as exc:
            self._end("failed")
            self._say(f"{'pointer scan' if kind == 'scan' else 'rescan'}: {exc}")
            return "failed"
        elapsed = time.monotonic() - self._started
        self._end("done")
        vtype = self.request.vtype if self.request else self.results.vtype
        if kind == "scan":
            self.result = outcome
            self.origin = origin
            self._origin_exited = False
            self.results.set_paths(outcome.paths, vtype)
            self._say(f"pointer scan: {self.describe()} · {self.describe_scan()} · "
                      f"{elapsed:.1f} s")
        else:
            before = len(self.results.paths)
            kept: list[pointer_scan.Resolved] = outcome
            self.origin = origin
            self._origin_exited = False
            self.results.set_paths([k.path for k in kept], self.results.vtype,
                                   {n: k.address for n, k in enumerate(kept)})
            if self.result is not None:
                self.result.paths = [k.path for k in kept]
                self.result.total = len(kept)
            self._say(f"rescan: kept {len(kept):,} of {before:,} paths in pid {origin.pid} "
                      f"({elapsed:.1f} s)")
        self.results_changed.emit()
        return "done"

    def _end(self, outcome: str) -> None:
        self.job = None
        self.last_outcome = outcome
        self._timer.stop()
        self._poll_done()
        self.running_changed.emit(False)

    def _poll_done(self) -> None:
        self.progress = None

    def _say(self, text: str) -> None:
        self.last_message = text
        self.message.emit(text)

