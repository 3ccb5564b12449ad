"""The hex editor's document: one memory area of the target, seen through a
cache of 4 KiB pages that are read asynchronously on the backend thread.

- The view tells the document which addresses are on screen
  (:meth:`MemoryDocument.set_visible`); missing pages are requested at once,
  and every visible page is re-read on a timer (10 Hz by default).
- Each read carries a request id. A reply older than the newest one already
  applied to a page is dropped, and requests for pages that scrolled away
  are cancelled while still queued (napari's slicer does the same).
- Each page is a :class:`~.byte_buffer.ByteSnapshot` (the buffer shared
  with the kernel value's document): bytes that differ after a refresh get
  a timestamp, and the view fades their highlight out. Unreadable bytes are
  kept as a mask and are never shown as values.
- Edits are written through the backend at once (journaled there); only a
  write that succeeded goes on the undo stack, so a failed one leaves it
  clean and marks the cell with the reason. An edit that changes nothing
  (the bytes already hold it) is not written and not journaled.
- A hex digit typed into a byte's high nibble is staged (shown as edited);
  the low nibble, or moving away, writes the byte once
  (:meth:`MemoryDocument.type_nibble`, :meth:`MemoryDocument.settle_nibble`).
"""

from __future__ import annotations

import asyncio
import errno as _errno
import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from lainview.backend.errors import InvalidInput, LainviewError, TargetExited
from lainview.backend.memory import PAGE_SIZE, MemoryArea, ReadResult, page_floor
from lainview.backend.thread import BackendFuture

from .byte_buffer import ByteSnapshot, SnapshotCells
from .hex_document import FADE_SECONDS, Cell, CellState
from .attached_target import AttachedTarget, TargetState
from .tasks import TaskSet

__all__ = ["MemoryDocument", "Page", "WriteCommand", "Cell", "CellState", "FADE_SECONDS"]

DEFAULT_REFRESH_HZ = 10.0
PREFETCH_PAGES = 1          # extra pages read above and below the visible ones


Page = ByteSnapshot          # one 4 KiB page of the area


class WriteCommand(QUndoCommand):
    """A write that reached the target. ``redo``/``undo`` only update the
    cache: the document writes to the target first and moves the stack only
    once the write succeeded."""

    def __init__(self, document: "MemoryDocument", address: int, old: bytes, new: bytes):
        super().__init__(f"write {len(new)} byte{'s' if len(new) != 1 else ''} at {address:#x}")
        self.document = document
        self.address = address
        self.old = old
        self.new = new

    def redo(self) -> None:
        self.document._store_local(self.address, self.new)

    def undo(self) -> None:
        self.document._store_local(self.address, self.old)


class MemoryDocument(QObject, SnapshotCells):
    """Bytes of one area of the target, with live refresh and undoable edits."""

    changed = Signal()                       # something on screen may look different
    refreshed = Signal()                     # a live refresh arrived, changed or not
    region_changed = Signal()                # a different area is open
    inline_message = Signal(str)             # "EFAULT at 0x…: …" for the editor's message bar
    write_done = Signal(object, object)      # address, size (64-bit: not a C int)
    live_changed = Signal(bool)              # refreshing (True) or paused/stopped (False)

    def __init__(self, target: AttachedTarget, parent: QObject | None = None):
        super().__init__(parent)
        self.target = target
        self.region: MemoryArea | None = None
        self.pages: dict[int, Page] = {}
        self.undo_stack = QUndoStack(self)
        self.pending_writes: dict[int, int] = {}       # address -> byte on its way
        self.failed_writes: dict[int, str] = {}        # address -> why
        self.staged_nibble: int | None = None          # address whose high nibble is typed
        self._visible = (0, 0)
        self._next_request = 1
        self._inflight: dict[int, tuple[BackendFuture[list[ReadResult | LainviewError]],
                                        frozenset[int], bool]] = {}
        self._tasks = TaskSet("the hex document")
        self._edit_lock: asyncio.Lock | None = None
        self._paused = False
        self._faded_out = True          # the last repaint showed no fading byte
        self.refresh_count = 0
        self.dropped_replies = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.set_refresh_rate(DEFAULT_REFRESH_HZ)
        target.state_changed.connect(self._on_state)

    # -- the area on display ---------------------------------------------------------------
    def open_area(self, area: MemoryArea) -> None:
        """Show ``area``; the cache of the previous one is dropped."""
        self._cancel_inflight(lambda pages: True)
        self.region = area
        self.pages.clear()
        self.pending_writes.clear()
        self.failed_writes.clear()
        self.staged_nibble = None
        self.undo_stack.clear()
        self._visible = (area.start, area.start)
        self.region_changed.emit()
        self._update_timer()

    def close_area(self) -> None:
        self._cancel_inflight(lambda pages: True)
        self.region = None
        self.pages.clear()
        self.undo_stack.clear()
        self.region_changed.emit()
        self._update_timer()

    @property
    def read_only(self) -> bool:
        return not self.target.writable

    @property
    def read_only_reason(self) -> str:
        return self.target.exit_reason or "the target is not writable"

    @property
    def perms_text(self) -> str:
        """The permissions of what is open: the area's letters, or, for a
        span over several areas, each distinct one ("rw-p + ---p + r--p")."""
        region = self.region
        if region is None:
            return ""
        seen = [a.perms.letters for a in self.target.areas
                if a.start < region.end and region.start < a.end]
        return " + ".join(dict.fromkeys(seen)) or region.perms.letters

    def describe_pointer(self, value: int) -> str:
        """Where ``value`` points in the target: "area+offset (perms)"."""
        area = self.target.area_at(value)
        if area is None:
            return "(not mapped)"
        return f"{area.display_name}+{value - area.start:#x} ({area.perms.letters})"

    # -- live refresh ------------------------------------------------------------------------
    def set_refresh_rate(self, hz: float) -> None:
        hz = max(0.5, min(float(hz), 60.0))
        self.refresh_hz = hz
        self._timer.setInterval(int(round(1000 / hz)))

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self._update_timer()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def live(self) -> bool:
        return self._timer.isActive() and not self._paused and self.target.live

    def _update_timer(self) -> None:
        # The timer also drives the fade-out while paused, so it runs
        # whenever an area is open; _tick decides whether to read.
        if self.region is not None and self.target.state in (TargetState.LIVE,
                                                              TargetState.EXITED):
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
        self.live_changed.emit(self.live)

    def _on_state(self, _state: str) -> None:
        if self.target.state == TargetState.EXITED:
            self._cancel_inflight(lambda pages: True)
            self.pending_writes.clear()
            self.staged_nibble = None
            self.changed.emit()
        self._update_timer()

    def stop(self) -> None:
        """Stop the timer and every request (before the window closes)."""
        self._timer.stop()
        self._cancel_inflight(lambda pages: True)
        self._tasks.cancel_all()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.target.live and not self._paused:
            if not any(refresh for _, _, refresh in self._inflight.values()):
                self._request(self.visible_pages(), refresh=True)
        else:
            self._repaint_if(False, now)
        if self.target.state == TargetState.EXITED and not self.has_fading(now):
            self._timer.stop()

    def refresh_now(self) -> None:
        if self.target.live:
            self._request(self.visible_pages(), refresh=True)

    # -- what is on screen --------------------------------------------------------------------
    def set_visible(self, start: int, end: int) -> None:
        """The view shows [start, end). Missing pages are requested now;
        queued requests for pages that left the screen are cancelled."""
        self._visible = (start, end)
        wanted = set(self.visible_pages())
        self._cancel_inflight(lambda pages: not (pages & wanted))
        missing = [p for p in sorted(wanted) if p not in self.pages
                   and not any(p in pages for _, pages, _ in self._inflight.values())]
        if missing and self.target.live:
            self._request(missing, refresh=False)

    def visible_pages(self) -> list[int]:
        if self.region is None:
            return []
        start, end = self._visible
        lo = max(self.region.start, page_floor(start) - PREFETCH_PAGES * PAGE_SIZE)
        hi = min(self.region.end, page_floor(max(end - 1, start)) + (1 + PREFETCH_PAGES) * PAGE_SIZE)
        return list(range(page_floor(lo), hi, PAGE_SIZE))

    # -- reading ------------------------------------------------------------------------------------
    def _request(self, pages: list[int], *, refresh: bool) -> int | None:
        target = self.target.target
        if not pages or target is None:
            return None
        request_id = self._next_request
        self._next_request += 1
        try:
            future = target.read_many([(p, PAGE_SIZE) for p in pages])
        except LainviewError as exc:       # the backend is shutting down
            self.inline_message.emit(str(exc))
            return None
        self._inflight[request_id] = (future, frozenset(pages), refresh)
        self._spawn(self._await_read(request_id, pages, future))
        return request_id

    async def _await_read(self, request_id: int, pages: list[int], future) -> None:
        # (None when the request was cancelled before this task first ran)
        refresh = self._inflight.get(request_id, (None, None, False))[2]
        try:
            results = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            return
        except TargetExited as exc:
            self.target.mark_exited(exc)
            return
        except LainviewError as exc:
            self.inline_message.emit(str(exc))
            return
        finally:
            self._inflight.pop(request_id, None)
        if refresh and self._paused:
            self.dropped_replies += 1          # paused after it was sent: the view holds still
            return
        self._apply(request_id, pages, results, refresh=bool(refresh))

    def _apply(self, request_id: int, pages: list[int], results: list, *,
               refresh: bool = True) -> None:
        now = time.monotonic()
        region = self.region
        differs = False
        for address, result in zip(pages, results):
            if region is None or not region.start <= address < region.end:
                self.dropped_replies += 1
                continue
            page = self.pages.get(address)
            if page is None:
                page = self.pages[address] = Page(address)
            if request_id < page.applied_request:
                self.dropped_replies += 1       # a newer reply is already here
                continue
            page.applied_request = request_id
            if isinstance(result, ReadResult):
                differs |= self._store_read(page, result, now)
            elif isinstance(result, LainviewError):
                page.set_unreadable(PAGE_SIZE, str(result))
                differs = True
        self.refresh_count += 1
        if refresh:
            self.refreshed.emit()          # a live refresh (not pages first shown)
        self._repaint_if(differs, now)

    def _repaint_if(self, differs: bool, now: float) -> None:
        """Emit ``changed`` (repaint) when the bytes differ, while a change
        fades, and once more when the last fade has ended (the view painted
        it nearly faded). A refresh that found the same bytes with nothing
        fading repaints nothing: at 10 Hz an idle view would cost a whole
        repaint a tick."""
        fading = self.has_fading(now)
        if differs or fading or not self._faded_out:
            self.changed.emit()
        self._faded_out = not fading

    def _store_read(self, page: Page, result: ReadResult, now: float) -> bool:
        return page.store(result.data, _page_mask(page.address, result.holes), tuple(
            f"{_errno.errorcode.get(h.errno, h.errno)} at {h.address:#x}: {h.reason}"
            for h in result.holes), now, _page_mask(page.address, result.no_access))

    def has_fading(self, now: float) -> bool:
        return any(p.fading(now) for p in self.pages.values())

    # -- what the view paints (cells, plain_row, byte_at, bytes_at: SnapshotCells) ---------------
    def _locate(self, address: int) -> tuple[Page, int] | None:
        page = self.pages.get(address - address % PAGE_SIZE)
        return None if page is None else (page, address - page.address)

    # -- editing ------------------------------------------------------------------------------------
    def write(self, address: int, data: bytes) -> asyncio.Task:
        """Write ``data`` at ``address`` now; on success it goes on the undo stack.
        The bytes show as WRITING at once, so an edit typed before this one
        reaches the backend already builds on it. Bytes that already hold
        ``data`` are not written (nor journaled). The task's result is True
        when the target holds ``data`` afterwards."""
        data = bytes(data)
        if self.staged_nibble is not None and address <= self.staged_nibble < address + len(data):
            self.staged_nibble = None       # this write covers the half-typed byte
        try:
            self._check_writable(address, len(data))
        except LainviewError as exc:
            self._fail(address, len(data), exc)
            return self._spawn(_false())
        for i, b in enumerate(data):
            self.pending_writes[address + i] = b
            self.failed_writes.pop(address + i, None)
        self.changed.emit()
        return self._spawn(self._write(address, data))

    def undo(self) -> asyncio.Task:
        """Undo the last write (in the target), or first drop a half-typed
        byte (nothing was written for it)."""
        if self.staged_nibble is not None:
            self.pending_writes.pop(self.staged_nibble, None)
            self.staged_nibble = None
            self.changed.emit()
            return self._spawn(_false())
        return self._spawn(self._undo_redo(undo=True))

    def redo(self) -> asyncio.Task:
        return self._spawn(self._undo_redo(undo=False))

    def _lock(self) -> asyncio.Lock:
        if self._edit_lock is None:
            self._edit_lock = asyncio.Lock()
        return self._edit_lock

    def _check_writable(self, address: int, size: int) -> None:
        if self.target.state == TargetState.EXITED:
            raise TargetExited("the target has exited; the view is read-only", op="write",
                               address=address)
        if not self.target.writable:
            raise InvalidInput("the target was opened read-only", op="write", address=address)
        region = self.region
        if region is None or address < region.start or address + size > region.end:
            raise InvalidInput("outside the open area (edits overwrite; a live region "
                               "cannot grow)", op="write", address=address, size=size)

    async def _write(self, address: int, data: bytes) -> bool:
        async with self._lock():
            try:
                result = await self._backend_write(address, data)
            except LainviewError as exc:
                self._fail(address, len(data), exc)
                return False
            finally:
                for i, b in enumerate(data):
                    if self.pending_writes.get(address + i) == b:
                        self.pending_writes.pop(address + i, None)
            if result.journal_id is None and result.old == result.new:
                self._store_local(address, result.new)
                self.inline_message.emit(f"nothing written: {address:#x} already holds "
                                         f"{result.new.hex(' ')}")
                return True
            self.undo_stack.push(WriteCommand(self, address, result.old, result.new))
        self.inline_message.emit("")
        self.write_done.emit(address, len(data))
        self.changed.emit()
        return True

    async def _backend_write(self, address: int, data: bytes):
        target = self.target.target
        if target is None:
            raise TargetExited("no target", op="write", address=address)
        try:
            return await asyncio.wrap_future(target.write(address, data, if_changed=True))
        except TargetExited as exc:
            self.target.mark_exited(exc)
            raise

    async def _undo_redo(self, *, undo: bool) -> bool:
        async with self._lock():
            stack = self.undo_stack
            if not (stack.canUndo() if undo else stack.canRedo()):
                return False
            command = stack.command(stack.index() - 1 if undo else stack.index())
            assert isinstance(command, WriteCommand)        # the only kind pushed
            address, data = command.address, command.old if undo else command.new
            try:
                self._check_writable(address, len(data))
                await self._backend_write(address, data)
            except LainviewError as exc:
                self._fail(address, len(data), exc, mark=False)
                return False
            if undo:
                stack.undo()
            else:
                stack.redo()
        self.inline_message.emit("")
        self.write_done.emit(address, len(data))
        self.changed.emit()
        return True

    def _fail(self, address: int, size: int, exc: LainviewError, mark: bool = True) -> None:
        text = str(exc)
        if mark:
            for i in range(size):
                self.failed_writes[address + i] = text
        self.inline_message.emit(f"write failed: {text}")
        self.changed.emit()

    # -- typing hex digits --------------------------------------------------------------------------
    def type_nibble(self, address: int, digit: int, *, high: bool) -> None:
        """Type hex ``digit`` (0-15) into the byte at ``address``. The high
        nibble is staged: the byte shows as edited and nothing is written.
        The low nibble writes the byte once (over the staged high nibble,
        if any). Raises InvalidInput, saying why, when the byte is not known."""
        if not 0 <= digit <= 15:
            raise InvalidInput(f"not a hex digit: {digit}")
        staged = self.pending_writes.get(address) if self.staged_nibble == address else None
        current = staged if staged is not None else self.byte_at(address)
        if current is None:
            reason = self.hole_reason(address)
            raise InvalidInput(f"cannot edit {address:#x}: the byte is not readable"
                               + (f" ({reason})" if reason else " or not read yet"),
                               address=address)
        if high:
            self.settle_nibble()
            self._check_writable(address, 1)
            self.staged_nibble = address
            self.pending_writes[address] = (digit << 4) | (current & 0x0F)
            self.failed_writes.pop(address, None)
            self.changed.emit()
            return
        self.staged_nibble = None
        self.write(address, bytes([(current & 0xF0) | digit]))

    def settle_nibble(self, keep: int | None = None) -> asyncio.Task | None:
        """Write the byte whose high nibble was typed, unless it is at
        ``keep`` (the cursor still waits for its low nibble there)."""
        address = self.staged_nibble
        if address is None or address == keep:
            return None
        self.staged_nibble = None
        value = self.pending_writes.get(address)
        if value is None:
            return None
        return self.write(address, bytes([value]))

    def _store_local(self, address: int, data: bytes) -> None:
        """Put bytes we know are in the target into the cache (after a
        verified write), without flagging them as changed by the target."""
        for i, b in enumerate(data):
            a = address + i
            found = self._locate(a)
            if found is None:
                continue
            page, offset = found
            page.put(offset, bytes([b]))
            # A read issued before this write may still answer with the old
            # bytes: make every earlier request stale for this page.
            page.applied_request = max(page.applied_request, self._next_request)
        self.changed.emit()

    # -- plumbing -------------------------------------------------------------------------------------
    def _spawn(self, coro) -> asyncio.Task:
        task = self._tasks.spawn(coro)
        return task

    def _cancel_inflight(self, predicate) -> None:
        for request_id, (future, pages, _refresh) in list(self._inflight.items()):
            if predicate(pages) and future.cancel():
                self._inflight.pop(request_id, None)
                self.dropped_replies += 1

    @property
    def inflight(self) -> int:
        return len(self._inflight)


async def _false() -> bool:
    return False


def _page_mask(page_address: int, spans) -> bytes | None:
    """A byte per byte of the page at ``page_address``: 1 inside any of
    ``spans`` (holes, or no-access spans: anything with ``address`` and
    ``end``), else 0; None when there are no spans."""
    if not spans:
        return None
    mask = bytearray(PAGE_SIZE)
    for span in spans:
        lo = max(0, span.address - page_address)
        hi = min(PAGE_SIZE, span.end - page_address)
        mask[lo:hi] = b"\x01" * max(0, hi - lo)
    return bytes(mask)
