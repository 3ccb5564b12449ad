"""The value scanner as the GUI sees it, without widgets.

- :class:`ScanController` starts first and next scans, undo and cancel on
  the backend (bulk jobs, so hex-view reads still go first), polls their
  progress (bytes, bytes per second, matches so far), and turns every
  outcome, the target exiting included, into one line of status text.
- :class:`MatchModel` is a *virtual* table over the current ``ScanState``:
  ``rowCount`` is the match count, and a row is made only when the view asks
  for it, a block of rows at a time from the state's index
  (``ScanState.matches``), with a small LRU of blocks. Millions of matches
  cost a few blocks. The current values of the rows on screen are re-read
  on a timer with one batched ``read_many`` per refresh; a reply older than
  one already applied, or meant for an earlier scan step, is dropped.
"""

from __future__ import annotations

import asyncio
import enum
import collections
import time
from dataclasses import dataclass
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex,
                            Qt, QTimer, Signal)
from PySide6.QtGui import QColor, QFont

from lainview.backend import scan
from lainview.backend.errors import Cancelled, InvalidInput, LainviewError, TargetExited
from lainview.backend.locations import locate
from lainview.backend.memory import MemoryArea, ReadResult, area_at
from lainview.backend.thread import BackendClosed, BackendFuture

from .formats import describe_skipped, human_size
from .attached_target import AttachedTarget, TargetState
from .table import VisibleRowsModel
from .tasks import TaskSet
from .fonts import mono_font
from .palette import color

PROGRESS_MS = 100           # progress poll while a scan runs
VALUE_REFRESH_MS = 250      # current values of the visible rows, 4 times a second
BLOCK_ROWS = 256            # rows made at a time
MAX_BLOCKS = 64             # blocks kept (LRU): at most 16,384 rows in memory
ROW_LIMIT = 50_000_000      # rows a view can scroll (QHeaderView works in int pixels)
RATE_WINDOW = 1.0           # seconds of progress the rate is measured over

# Labels for the modes, in the order the panel offers them.
MODE_LABELS = {
    scan.Mode.EXACT: "exact value",
    scan.Mode.RANGE: "value between",
    scan.Mode.UNKNOWN: "unknown initial value",
    scan.Mode.CHANGED: "changed",
    scan.Mode.UNCHANGED: "unchanged",
    scan.Mode.INCREASED: "increased",
    scan.Mode.DECREASED: "decreased",
    scan.Mode.INCREASED_BY: "increased by",
    scan.Mode.DECREASED_BY: "decreased by",
}
NEXT_MODE_ORDER = (scan.Mode.CHANGED, scan.Mode.UNCHANGED, scan.Mode.INCREASED,
                   scan.Mode.DECREASED, scan.Mode.INCREASED_BY, scan.Mode.DECREASED_BY,
                   scan.Mode.EXACT, scan.Mode.RANGE)
VALUE_MODES = (scan.Mode.EXACT, scan.Mode.RANGE, scan.Mode.INCREASED_BY, scan.Mode.DECREASED_BY)


def gib_per_s(rate: float) -> str:
    return f"{rate / 2**30:.2f} GiB/s" if rate >= 2**30 / 10 else f"{rate / 2**20:.0f} MiB/s"


def seconds(elapsed: float) -> str:
    return f"{elapsed:.2f} s" if elapsed >= 1 else f"{elapsed * 1000:.0f} ms"


MIN_RATE_SECONDS = 0.1      # a rate over a shorter scan says more about overheads


class ScanStep(enum.Enum):
    """The kinds of scan job: a first scan, a next scan, an undo."""

    FIRST = "first"
    NEXT = "next"
    UNDO = "undo"

    @property
    def what(self) -> str:
        """How messages name it ("next scan")."""
        return {"first": "scan", "next": "next scan", "undo": "undo"}[self.value]


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """What the progress bar shows."""

    kind: ScanStep
    done: int               # bytes
    total: int
    rate: float             # bytes per second over the last second
    found: int              # matches so far
    elapsed: float

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def describe(self) -> str:
        return (f"{human_size(self.done)} of {human_size(self.total)} · "
                f"{gib_per_s(self.rate)} · {self.found:,} found")


class ScanController(QObject):
    """First/next scans, undo and cancel for the attached target."""

    state_changed = Signal()            # ``state`` is another step (or None)
    running_changed = Signal(bool)
    progress_changed = Signal(object)   # ScanProgress
    message = Signal(str)               # one line: a summary or what went wrong

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.state: scan.ScanState | None = None
        self.matches = MatchModel(target, self)
        self.job = None                  # the running BackendFuture
        self.job_kind: ScanStep | None = None
        self.progress: ScanProgress | None = None
        self.last_message = ""
        self.last_message_is_error = False
        self.last_rate = 0.0             # bytes/s of the last finished scan
        self.last_outcome = ""           # of the last job: "done", "cancelled", "failed"
        self._live: scan.LiveCount | None = None
        self._first_areas = scan.AreaFilter()      # of the running or last first scan
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._started = 0.0
        self._tasks = TaskSet("the scanner")
        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_MS)
        self._timer.timeout.connect(self._poll)
        target.attached.connect(self.reset)
        target.state_changed.connect(self._on_target_state)

    # -- what the panel asks -------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    @property
    def can_scan(self) -> bool:
        return self.target.live and not self.running

    @property
    def can_next(self) -> bool:
        return self.can_scan and self.state is not None and self.state.pid == self.target.pid

    @property
    def can_undo(self) -> bool:
        return self.can_next and self.state is not None and bool(self.state.history)

    def describe_state(self) -> str:
        """'1,234 matches · step 2: changed · 12 KiB in memory, 0 B on disk'."""
        state = self.state
        if state is None:
            return "no scan yet"
        n = state.count
        text = (f"{n:,} match{'es' if n != 1 else ''} · step {state.step}: {state.condition}"
                f" · {human_size(state.memory_bytes)} in memory, "
                f"{human_size(state.disk_bytes)} on disk")
        if n > ROW_LIMIT:
            text += f" · the list shows the first {ROW_LIMIT:,}"
        return text

    # -- starting ----------------------------------------------------------------------------------
    def first_scan(self, type_name: str, mode: scan.Mode | str, value_text: str = "", *,
                   big_endian: bool = False, any_alignment: bool = False,
                   areas: scan.AreaFilter | None = None, tolerance: str = "",
                   limits: scan.ScanLimits | None = None) -> asyncio.Task | None:
        """Start a first scan. Bad input is reported (``message``) and
        nothing starts: None."""
        target = self._live_target(ScanStep.FIRST.what)
        if target is None:
            return None
        try:
            scan_type = scan.ScanType(type_name, big_endian)
            # Only the fields this scan uses are read: a tolerance typed for
            # a float and hidden by choosing an integer type is ignored.
            cond = scan.make_condition(scan_type, mode, value_text or None,
                                       tolerance=_tolerance(tolerance)
                                       if scan_type.is_float else None)
            if cond.mode not in scan.FIRST_MODES:
                raise InvalidInput(f"a first scan is exact, range or unknown, not "
                                   f"{cond.mode.value}")
            areas = areas or scan.AreaFilter()
            future = target.scan_first(scan_type, cond, align=1 if any_alignment else None,
                                       areas=areas, limits=limits,
                                       live=self._new_live())
            self._first_areas = areas
        except LainviewError as exc:
            self._say(f"scan: {exc}")
            return None
        return self._start(ScanStep.FIRST, future)

    def next_scan(self, mode: scan.Mode | str, value_text: str = "", *, tolerance: str = "",
                  limits: scan.ScanLimits | None = None) -> asyncio.Task | None:
        target = self._live_target(ScanStep.NEXT.what)
        if target is None:
            return None
        if self.state is None:
            self._say("next scan: run a first scan first")
            return None
        try:
            cond = scan.make_condition(self.state.scan_type, mode, value_text or None,
                                       tolerance=_tolerance(tolerance)
                                       if self.state.scan_type.is_float else None)
            future = target.scan_next(self.state, cond, limits=limits, live=self._new_live())
        except TargetExited as exc:
            self._say(f"next scan: {exc}")
            return None
        except LainviewError as exc:
            self._say(f"next scan: {exc}")
            return None
        return self._start(ScanStep.NEXT, future)

    def undo(self) -> asyncio.Task | None:
        target = self._live_target(ScanStep.UNDO.what)
        if target is None or self.state is None:
            return None
        if not self.state.history:
            self._say("undo: there is no earlier scan step to go back to")
            return None
        return self._start(ScanStep.UNDO, target.scan_undo(self.state))

    def cancel(self) -> None:
        """Stop the running scan at its next chunk; the results so far stay."""
        if self.job is not None:
            self.job.cancel()

    def reset(self) -> None:
        """Forget the scan (its files are deleted on the backend thread); a
        running one is cancelled and whatever it returns is dropped."""
        if self.job is not None:
            self.job.cancel()
            self._end_job("cancelled")
        self._set_state(None)

    def stop(self) -> None:
        """Before the backend shuts down: stop timers, the job and the tasks."""
        self._timer.stop()
        self.matches.stop()
        if self.job is not None:
            self.job.cancel()
        self._tasks.cancel_all()
        self._set_state(None)

    # -- running ------------------------------------------------------------------------------------
    def _live_target(self, what: str):
        if self.running:
            self._say(f"{what}: a scan is running (cancel it first)")
            return None
        return self.target.live_target(what, self._say)

    def _new_live(self) -> scan.LiveCount:
        self._live = scan.LiveCount()
        return self._live

    def _start(self, kind: ScanStep, future) -> asyncio.Task:
        self.job, self.job_kind = future, kind
        self._started = time.monotonic()
        self._samples.clear()
        self.progress = None
        if kind != ScanStep.UNDO:
            self._timer.start()
            self._poll()
        self.running_changed.emit(True)
        task = self._tasks.spawn(self._finish(kind, future))
        return task

    def _poll(self) -> None:
        future = self.job
        if future is None:
            self._timer.stop()
            return
        now = time.monotonic()
        done, total = future.progress
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        rate = (done - d0) / (now - t0) if now > t0 else 0.0
        self.progress = ScanProgress(self.job_kind, done, total, rate,
                                     self._live.found if self._live else 0, now - self._started)
        self.progress_changed.emit(self.progress)

    async def _finish(self, kind: ScanStep, future) -> None:
        try:
            new = await asyncio.wrap_future(future)
        except (asyncio.CancelledError, LainviewError) as exc:
            if future is self.job:
                self._failed(kind, exc)
            return
        if future is not self.job:            # reset meanwhile (another target)
            self._close_later(new)
            return
        elapsed = time.monotonic() - self._started
        if kind != ScanStep.UNDO:
            self.last_rate = new.scanned_bytes / elapsed if elapsed >= MIN_RATE_SECONDS else 0.0
        if kind == ScanStep.FIRST and self.state is not None:
            self._close_later(self.state)
        self._set_state(new)
        self._end_job("done")
        self._say(self._summary(kind, new, elapsed), error=False)

    def _failed(self, kind: ScanStep, exc: BaseException) -> None:
        what = kind.what
        if isinstance(exc, (asyncio.CancelledError, Cancelled, BackendClosed)):
            self._end_job("cancelled")
            if self.target.state == TargetState.EXITED:
                # Another request saw the exit first and the scan was stopped.
                self._say_exited(what, self.target.exit_reason)
            elif not isinstance(exc, asyncio.CancelledError):
                self._say(f"{what} cancelled · the results of the step before are kept"
                          if self.state is not None else f"{what} cancelled", error=False)
        elif isinstance(exc, TargetExited):
            self._end_job("failed")
            self.target.mark_exited(exc)
            self._say_exited(what, exc.message)
        else:
            self._end_job("failed")
            self._say(f"{what} failed: {exc}")

    def _say_exited(self, what: str, reason: str) -> None:
        self._say(f"{what} stopped: the target exited ({reason})"
                  + (" · the last results are kept" if self.state is not None else ""))

    def _end_job(self, outcome: str) -> None:
        self._timer.stop()
        self.job = None
        self.last_outcome = outcome
        self.running_changed.emit(False)

    def _summary(self, kind: ScanStep, state: scan.ScanState, elapsed: float) -> str:
        n = state.count
        if kind == ScanStep.UNDO:
            return f"back to step {state.step} ({state.condition}): {n:,} match" \
                   f"{'es' if n != 1 else ''}"
        text = (f"{n:,} match{'es' if n != 1 else ''} · {human_size(state.scanned_bytes)} "
                f"scanned in {seconds(elapsed)}")
        if self.last_rate:
            text += f" ({gib_per_s(self.last_rate)})"
        if state.unreadable_bytes:
            text += f" · {human_size(state.unreadable_bytes)} unreadable, skipped"
        if state.vanished:
            text += f" · {len(state.vanished)} area{'s' if len(state.vanished) != 1 else ''} " \
                    "vanished"
        if state.lost:
            text += f" · {state.lost:,} candidate{'s' if state.lost != 1 else ''} no longer " \
                    "mapped"
        if kind == ScanStep.FIRST:
            skipped = self._first_areas.skipped(self.target.areas)
            if skipped:
                boxes = ", ".join(f"“{k}”" for k in skipped)
                text += " · " + describe_skipped(skipped, f"tick {boxes} under Areas")
        return text

    def _set_state(self, state: scan.ScanState | None) -> None:
        old = self.state
        self.state = state
        if old is not None and state is None:
            self._close_later(old)
        self.matches.set_state(state)
        self.state_changed.emit()

    def _close_later(self, state: scan.ScanState) -> None:
        """Delete a scan's files on the backend thread (a 1 GiB snapshot
        takes a while to unlink)."""
        try:
            self.target.backend.close_scan(state)
        except BackendClosed:
            state.close()

    def _on_target_state(self, _state: str) -> None:
        if self.target.state == TargetState.EXITED:
            if self.running:
                self.cancel()          # the job's end says the target exited
            else:
                self._say(f"the target exited ({self.target.exit_reason})"
                          + (" · the last results are kept" if self.state is not None else ""))
        self.state_changed.emit()      # what can be done has changed

    def _say(self, text: str, *, error: bool = True) -> None:
        self.last_message = text
        self.last_message_is_error = error
        self.message.emit(text)


def _tolerance(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"the tolerance {text!r} is not a number") from None


# -- the match table ---------------------------------------------------------------------------------

ADDRESS, VALUE, PREVIOUS, AREA = range(4)
HEADERS = ("Address", "Value", "Previous", "Area")
ADDRESS_ROLE = Qt.ItemDataRole.UserRole + 1     # the match's address (int)


@dataclass(slots=True)
class _Block:
    addresses: list[int]
    previous: list[bytes]        # as of this step (what "changed" compares with)
    before: list[bytes | None]   # as of the step before (None: step 1)


class MatchModel(VisibleRowsModel):
    """The matches of the current scan step: address, area, current and
    previous value. Rows are made on demand; see the module docstring."""

    HEADERS = HEADERS
    HEADER_TIPS = ("where the match is", "its value now (refreshed while visible)",
                   "its value at the scan step before this one (at step 1: the "
                   "value the first scan found)",
                   "the area it is in, as go-to reads it")

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(target, VALUE_REFRESH_MS, "the scan matches", parent)
        self.state: scan.ScanState | None = None
        self._rows = 0
        self._blocks: collections.OrderedDict[int, _Block] = collections.OrderedDict()
        self.blocks_made = 0                      # blocks materialised, ever
        self._current: dict[int, bytes | None] = {}   # address -> value (None: unreadable)
        self._generation = 0                      # bumps with every new state
        self._next_request = 1
        self._applied_request = 0
        self._inflight: BackendFuture[list[ReadResult | LainviewError]] | None = None
        self.dropped_replies = 0
        self._areas: list[MemoryArea] | None = None
        self._mono = mono_font()
        target.areas_changed.connect(self._on_areas)
        self._on_areas(target.areas)

    # -- the state ------------------------------------------------------------------------------------
    def set_state(self, state: scan.ScanState | None) -> None:
        self.beginResetModel()
        self.state = state
        self._rows = min(state.count, ROW_LIMIT) if state is not None else 0
        self._blocks.clear()
        self._current.clear()
        self._generation += 1
        self.endResetModel()
        self._update_timer()
        if self._visible_rows():
            self.refresh_values()

    @property
    def materialised_rows(self) -> int:
        """Rows held in memory now (a few blocks, however many matches)."""
        return sum(len(b.addresses) for b in self._blocks.values())

    def _block(self, number: int) -> _Block:
        block = self._blocks.get(number)
        if block is not None:
            self._blocks.move_to_end(number)
            return block
        lo = number * BLOCK_ROWS
        hi = min(lo + BLOCK_ROWS, self._rows)
        state = self.state
        assert state is not None        # rows exist only with a scan
        addresses, values = state.matches(lo, hi)
        item = state.item_size
        raw = np.ascontiguousarray(values).view(np.uint8).reshape(len(addresses), item) \
            if len(addresses) else np.empty((0, item), np.uint8)
        starts: list[int] = addresses.tolist()
        earlier = state.history[-1] if state.history else None
        before: list[bytes | None] = earlier.values_at(starts) if earlier is not None \
            else [None] * len(starts)
        block = _Block(starts, [r.tobytes() for r in raw], before)
        self._blocks[number] = block
        self.blocks_made += 1
        while len(self._blocks) > MAX_BLOCKS:
            self._blocks.popitem(last=False)
        return block

    def address(self, row: int) -> int:
        return self._block(row // BLOCK_ROWS).addresses[row % BLOCK_ROWS]

    def previous(self, row: int) -> bytes:
        """The row's value as of this scan step (the Value column turns
        orange when the value now differs)."""
        return self._block(row // BLOCK_ROWS).previous[row % BLOCK_ROWS]

    def before(self, row: int) -> bytes:
        """What the Previous column shows: the value at the step before
        this one; at step 1, the value the first scan found."""
        block = self._block(row // BLOCK_ROWS)
        value = block.before[row % BLOCK_ROWS]
        return value if value is not None else block.previous[row % BLOCK_ROWS]

    def current(self, row: int) -> bytes | None:
        """The last value read for this row; None if unreadable or not read yet."""
        return self._current.get(self.address(row))

    def type_name(self) -> str:
        return self.state.scan_type.name if self.state is not None else ""

    # -- areas ------------------------------------------------------------------------------------
    def _on_areas(self, areas: list[MemoryArea]) -> None:
        if areas == self._areas:
            return                     # the usual refresh: the same map
        self._areas = areas
        if self._rows:
            self.dataChanged.emit(self.index(0, AREA), self.index(self._rows - 1, AREA))

    def area_label(self, address: int) -> str:
        """``libgame.so+0x1f00``/``[heap]+0x10`` (the location's text, which
        go-to reads), or ``anon 0x7f…+0x10`` for anonymous memory; '' when
        unmapped now."""
        areas = self.target.areas
        area = area_at(areas, address)
        if area is None:
            return ""
        if not area.path:
            return f"anon {area.start:#x}+{address - area.start:#x}"
        return locate(address, areas).text

    # -- refreshing the visible values ------------------------------------------------------------------
    def _lacks_values(self, rows: range) -> bool:
        return any(self.address(r) not in self._current for r in rows)

    def refresh_values(self) -> int | None:
        """Read the visible rows' values in one request; returns its id
        (None when nothing was asked: no rows, no live target, or the
        previous refresh is still on its way)."""
        target = self.target.target
        rows = self._visible_rows()
        if not rows or target is None or not self.target.live or self.state is None:
            return None
        if self._inflight is not None and not self._inflight.done():
            return None
        addresses = [self.address(r) for r in rows]
        item = self.state.item_size
        request_id = self._next_request
        self._next_request += 1
        try:
            future = target.read_many([(a, item) for a in addresses])
        except LainviewError:            # the backend is shutting down
            return None
        self._inflight = future
        self._tasks.spawn(self._await_values(request_id, self._generation, addresses, future))
        return request_id

    async def _await_values(self, request_id: int, generation: int, addresses: list[int],
                            future) -> None:
        try:
            results = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            return
        except TargetExited as exc:
            self.target.mark_exited(exc)
            return
        except LainviewError:
            return
        self.apply_values(request_id, generation, addresses, results)

    def apply_values(self, request_id: int, generation: int, addresses: list[int],
                     results: list) -> bool:
        """Store a refresh's values; False (and counted) when stale: meant
        for an earlier scan step, or older than one already applied."""
        if generation != self._generation or request_id <= self._applied_request:
            self.dropped_replies += 1
            return False
        self._applied_request = request_id
        changed: set[int] = set()
        current = self._current
        for address, result in zip(addresses, results):
            value = result.data if isinstance(result, ReadResult) and result.complete else None
            if address not in current or current[address] != value:
                changed.add(address)
            current[address] = value
        if len(self._current) > 4 * MAX_BLOCKS * BLOCK_ROWS:
            keep = set(addresses)
            self._current = {a: v for a, v in self._current.items() if a in keep}
        self.refresh_count += 1
        rows = self._visible_rows()
        if rows and changed:           # only the values that changed are repainted
            self.rows_changed((r for r in rows if self.address(r) in changed), VALUE, VALUE)
        self.values_refreshed.emit()
        return True

    def stop(self) -> None:
        if self._inflight is not None:
            self._inflight.cancel()
        super().stop()

    # -- Qt model API ---------------------------------------------------------------------------------
    def row_count(self) -> int:
        return self._rows

    def cells(self, row: int, columns: Iterable[int] = range(len(HEADERS))) -> list:
        """Row ``row``'s cells in one call, as the roles give them (for
        :class:`FastTextTable`: the matches table repaints its visible rows
        as a scan ends and on every refresh of the values): a list indexed
        by column holding, for each of ``columns``, ``(text, font,
        foreground, None, alignment)`` (None for the others)."""
        out: list = [None] * len(HEADERS)
        for column in columns:
            out[column] = (self._display(row, column), self._font(column),
                           self._foreground(row, column), None, self._alignment(column))
        return out

    def _display(self, row: int, column: int) -> str:
        assert self.state is not None           # there are rows
        if column == ADDRESS:
            return f"{self.address(row):012x}"
        if column == AREA:
            return self.area_label(self.address(row))
        if column == PREVIOUS:
            return self.state.scan_type.format(self.before(row))
        address = self.address(row)
        if address not in self._current:
            return "…"
        value = self._current[address]
        return "??" if value is None else self.state.scan_type.format(value)

    def _foreground(self, row: int, column: int) -> QColor | None:
        if column != VALUE:
            return None
        address = self.address(row)
        if address not in self._current:
            return color("disabled")
        value = self._current[address]
        if value is None:
            return color("hex_unreadable")
        if value != self.previous(row):
            return color("changed")
        return None

    def _font(self, column: int) -> QFont | None:
        return None if column == AREA else self._mono

    def _alignment(self, column: int) -> int | None:
        """Numbers are right-aligned, so their digits line up."""
        if column in (VALUE, PREVIOUS) and self.state is not None \
                and self.state.scan_type.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self._rows or self.state is None:
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == ADDRESS_ROLE:
            return self.address(row)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(row, column)
        if role == Qt.ItemDataRole.FontRole:
            return self._font(column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            address = self.address(row)
            area = area_at(self.target.areas, address)
            lines = [f"{address:#x}"]
            lines.append(area.maps_line().rstrip() if area else "not mapped now")
            if column == VALUE:
                value = self._current.get(address)
                if address in self._current and value is None:
                    lines.append("unreadable now")
                elif value is not None and value != self.previous(row):
                    lines.append("changed since the last scan step")
            return "\n".join(lines)
        return None
