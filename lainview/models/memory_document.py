"""The hex editor's document: one memory area of the target, seen through a
cache of 4 KiB pages that are read asynchronously on the backend thread.

- The view tells the document which addresses are on screen
  (:meth:`MemoryDocument.set_visible`); missing pages are requested at once,
  and every visible page is re-read on a timer (10 Hz by default).
- Each read carries a request id. A reply older than the newest one already
  applied to a page is dropped, and requests for pages that scrolled away
  are cancelled while still queued (napari's slicer does the same).
- Each page keeps its previous snapshot: bytes that differ after a refresh
  get a timestamp, and the view fades their highlight out.
- Unreadable bytes are kept as a mask and are never shown as values.
- Edits are written through the backend at once (journaled there); only a
  write that succeeded goes on the undo stack, so a failed one leaves it
  clean and marks the cell with the reason.
"""

from __future__ import annotations

import asyncio
import errno as _errno
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from lainview.backend.errors import InvalidInput, LainviewError, TargetExited
from lainview.backend.memory import PAGE_SIZE, MemoryArea, ReadResult, page_floor

from .hex_document import FADE_SECONDS, Cell, CellState
from .session import TargetSession, TargetState

__all__ = ["MemoryDocument", "Page", "WriteCommand", "Cell", "CellState", "FADE_SECONDS"]

DEFAULT_REFRESH_HZ = 10.0
PREFETCH_PAGES = 1          # extra pages read above and below the visible ones


@dataclass(slots=True)
class Page:
    address: int
    data: bytes | None = None            # None until the first reply
    unreadable: bytes | None = None      # mask (1 = hole) or None when all readable
    no_access: bytes | None = None       # mask (1 = PROT_NONE byte, read by force) or None
    hole_reasons: tuple = ()
    previous: bytes | None = None
    changed_at: dict[int, float] = field(default_factory=dict)
    applied_request: int = -1


class WriteCommand(QUndoCommand):
    """A write that reached the target. ``redo``/``undo`` only update the
    cache: the document writes to the target first and moves the stack only
    once the write succeeded."""

    MERGE_ID = 0x1a1

    def __init__(self, document: "MemoryDocument", address: int, old: bytes, new: bytes,
                 merge_key: int | None = None):
        super().__init__(f"write {len(new)} byte{'s' if len(new) != 1 else ''} at {address:#x}")
        self.document = document
        self.address = address
        self.old = old
        self.new = new
        self.merge_key = merge_key

    def id(self) -> int:   # noqa: A003 - Qt's name
        return self.MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        # The second nibble of a byte typed in the hex column joins the first.
        if isinstance(other, WriteCommand) and other.merge_key is not None \
                and other.merge_key == self.address and other.address == self.address \
                and len(other.new) == len(self.new):
            self.new = other.new
            return True
        return False

    def redo(self) -> None:
        self.document._store_local(self.address, self.new)

    def undo(self) -> None:
        self.document._store_local(self.address, self.old)


class MemoryDocument(QObject):
    """Bytes of one area of the target, with live refresh and undoable edits."""

    changed = Signal()                       # something on screen may look different
    region_changed = Signal()                # a different area is open
    inline_message = Signal(str)             # "EFAULT at 0x…: …" for the editor's message bar
    write_done = Signal(object, object)      # address, size (64-bit: not a C int)
    live_changed = Signal(bool)              # refreshing (True) or paused/stopped (False)

    def __init__(self, session: TargetSession, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.region: MemoryArea | None = None
        self.pages: dict[int, Page] = {}
        self.undo_stack = QUndoStack(self)
        self.pending_writes: dict[int, int] = {}       # address -> byte on its way
        self.failed_writes: dict[int, str] = {}        # address -> why
        self._visible = (0, 0)
        self._next_request = 1
        self._inflight: dict[int, tuple[object, frozenset[int], bool]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._edit_lock: asyncio.Lock | None = None
        self._paused = False
        self.refresh_count = 0
        self.dropped_replies = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.set_refresh_rate(DEFAULT_REFRESH_HZ)
        session.state_changed.connect(self._on_state)

    # -- the area on display ---------------------------------------------------------------
    def open_area(self, area: MemoryArea) -> None:
        """Show ``area``; the cache of the previous one is dropped."""
        self._cancel_inflight(lambda pages: True)
        self.region = area
        self.pages.clear()
        self.pending_writes.clear()
        self.failed_writes.clear()
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
        return not self.session.writable

    @property
    def read_only_reason(self) -> str:
        return self.session.exit_reason or "the target is not writable"

    def describe_pointer(self, value: int) -> str:
        """Where ``value`` points in the target: "area+offset (perms)"."""
        area = self.session.area_at(value)
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
        return self._timer.isActive() and not self._paused and self.session.live

    def _update_timer(self) -> None:
        # The timer also drives the fade-out while paused, so it runs
        # whenever an area is open; _tick decides whether to read.
        if self.region is not None and self.session.state in (TargetState.LIVE,
                                                              TargetState.EXITED):
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
        self.live_changed.emit(self.live)

    def _on_state(self, _state: str) -> None:
        if self.session.state == TargetState.EXITED:
            self._cancel_inflight(lambda pages: True)
            self.pending_writes.clear()
            self.changed.emit()
        self._update_timer()

    def stop(self) -> None:
        """Stop the timer and every request (before the window closes)."""
        self._timer.stop()
        self._cancel_inflight(lambda pages: True)
        for task in list(self._tasks):
            task.cancel()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.session.live and not self._paused:
            if not any(refresh for _, _, refresh in self._inflight.values()):
                self._request(self.visible_pages(), refresh=True)
        elif self.has_fading(now):
            self.changed.emit()
        if self.session.state == TargetState.EXITED and not self.has_fading(now):
            self._timer.stop()

    def refresh_now(self) -> None:
        if self.session.live:
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
        if missing and self.session.live:
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
        target = self.session.target
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
        try:
            results = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            return
        except TargetExited as exc:
            self.session.mark_exited(exc)
            return
        except LainviewError as exc:
            self.inline_message.emit(str(exc))
            return
        finally:
            self._inflight.pop(request_id, None)
        self._apply(request_id, pages, results)

    def _apply(self, request_id: int, pages: list[int], results: list) -> None:
        now = time.monotonic()
        region = self.region
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
                self._store_read(page, result, now)
            elif isinstance(result, LainviewError):
                page.previous = page.data
                page.data = bytes(PAGE_SIZE)
                page.unreadable = b"\x01" * PAGE_SIZE
                page.hole_reasons = (str(result),)
        self.refresh_count += 1
        self.changed.emit()

    def _store_read(self, page: Page, result: ReadResult, now: float) -> None:
        mask = None
        if result.holes:
            m = bytearray(PAGE_SIZE)
            for hole in result.holes:
                lo = max(0, hole.address - page.address)
                hi = min(PAGE_SIZE, hole.end - page.address)
                m[lo:hi] = b"\x01" * (hi - lo)
            mask = bytes(m)
        old, old_mask = page.data, page.unreadable
        if old is not None and old != result.data:
            diff = np.frombuffer(old, np.uint8) != np.frombuffer(result.data, np.uint8)
            if mask is not None:
                diff &= np.frombuffer(mask, np.uint8) == 0
            if old_mask is not None:
                diff &= np.frombuffer(old_mask, np.uint8) == 0
            for offset in np.flatnonzero(diff).tolist():
                page.changed_at[offset] = now
        if page.changed_at:
            page.changed_at = {o: t for o, t in page.changed_at.items()
                               if now - t < FADE_SECONDS}
        page.previous = old
        page.data = result.data
        page.unreadable = mask
        page.no_access = None
        if result.no_access:
            forced = bytearray(PAGE_SIZE)
            for span in result.no_access:
                lo = max(0, span.address - page.address)
                hi = min(PAGE_SIZE, span.end - page.address)
                forced[lo:hi] = b"\x01" * max(0, hi - lo)
            page.no_access = bytes(forced)
        page.hole_reasons = tuple(
            f"{_errno.errorcode.get(h.errno, h.errno)} at {h.address:#x}: {h.reason}"
            for h in result.holes)

    def has_fading(self, now: float) -> bool:
        return any(now - t < FADE_SECONDS for p in self.pages.values()
                   for t in p.changed_at.values())

    # -- what the view paints ---------------------------------------------------------------------
    def cell(self, address: int, now: float | None = None) -> Cell:
        return self.cells(address, 1, now)[0]

    def cells(self, address: int, count: int, now: float | None = None) -> list[Cell]:
        """``count`` cells from ``address`` (which must not cross a page boundary
        for speed, though it may)."""
        now = time.monotonic() if now is None else now
        out: list[Cell] = []
        region = self.region
        for a in range(address, address + count):
            if region is None or not region.start <= a < region.end:
                out.append(Cell(None, CellState.UNREADABLE))
                continue
            if a in self.failed_writes:
                value = self.byte_at(a)
                out.append(Cell(value, CellState.FAILED))
                continue
            if a in self.pending_writes:
                out.append(Cell(self.pending_writes[a], CellState.WRITING))
                continue
            page = self.pages.get(a - a % PAGE_SIZE)
            if page is None or page.data is None:
                out.append(Cell(None, CellState.PENDING))
                continue
            offset = a - page.address
            if page.unreadable is not None and page.unreadable[offset]:
                out.append(Cell(None, CellState.UNREADABLE))
                continue
            t = page.changed_at.get(offset)
            if page.no_access is not None and page.no_access[offset]:
                out.append(Cell(page.data[offset], CellState.NO_ACCESS))
            elif t is not None and now - t < FADE_SECONDS:
                out.append(Cell(page.data[offset], CellState.CHANGED, now - t))
            else:
                out.append(Cell(page.data[offset], CellState.READABLE))
        return out

    def plain_row(self, address: int, count: int, now: float) -> bytes | None:
        """The row's bytes when every one of them is simply READABLE (the
        common case, painted without per-cell work); None otherwise."""
        page_address = address - address % PAGE_SIZE
        offset = address - page_address
        region = self.region
        if region is None or address < region.start or address + count > region.end \
                or offset + count > PAGE_SIZE:
            return None
        page = self.pages.get(page_address)
        if page is None or page.data is None:
            return None
        if page.unreadable is not None and any(page.unreadable[offset:offset + count]):
            return None
        if page.no_access is not None and any(page.no_access[offset:offset + count]):
            return None
        if page.changed_at and any(offset <= o < offset + count and now - t < FADE_SECONDS
                                   for o, t in page.changed_at.items()):
            return None
        if (self.pending_writes or self.failed_writes) and any(
                a in self.pending_writes or a in self.failed_writes
                for a in range(address, address + count)):
            return None
        return page.data[offset:offset + count]

    def byte_at(self, address: int) -> int | None:
        """The cached byte, or None when unknown or unreadable."""
        page = self.pages.get(address - address % PAGE_SIZE)
        if page is None or page.data is None:
            return None
        offset = address - page.address
        if page.unreadable is not None and page.unreadable[offset]:
            return None
        return page.data[offset]

    def bytes_at(self, address: int, size: int) -> bytes | None:
        """Cached bytes, or None if any of them is unknown or unreadable."""
        out = bytearray()
        for a in range(address, address + size):
            b = self.byte_at(a)
            if b is None:
                return None
            out.append(b)
        return bytes(out)

    def hole_reason(self, address: int) -> str:
        page = self.pages.get(address - address % PAGE_SIZE)
        if page is None or not page.hole_reasons:
            return ""
        return "; ".join(dict.fromkeys(page.hole_reasons))

    # -- editing ------------------------------------------------------------------------------------
    def write(self, address: int, data: bytes, merge_key: int | None = None) -> asyncio.Task:
        """Write ``data`` at ``address`` now; on success it goes on the undo stack.
        The bytes show as WRITING at once, so an edit typed before this one
        reaches the backend already builds on it."""
        data = bytes(data)
        try:
            self._check_writable(address, len(data))
        except LainviewError as exc:
            self._fail(address, len(data), exc)
            return self._spawn(_false())
        for i, b in enumerate(data):
            self.pending_writes[address + i] = b
            self.failed_writes.pop(address + i, None)
        self.changed.emit()
        return self._spawn(self._write(address, data, merge_key))

    def undo(self) -> asyncio.Task:
        return self._spawn(self._undo_redo(undo=True))

    def redo(self) -> asyncio.Task:
        return self._spawn(self._undo_redo(undo=False))

    def _lock(self) -> asyncio.Lock:
        if self._edit_lock is None:
            self._edit_lock = asyncio.Lock()
        return self._edit_lock

    def _check_writable(self, address: int, size: int) -> None:
        if self.session.state == TargetState.EXITED:
            raise TargetExited("the target has exited; the view is read-only", op="write",
                               address=address)
        if not self.session.writable:
            raise InvalidInput("the target was opened read-only", op="write", address=address)
        region = self.region
        if region is None or address < region.start or address + size > region.end:
            raise InvalidInput("outside the open area (edits overwrite; a live region "
                               "cannot grow)", op="write", address=address, size=size)

    async def _write(self, address: int, data: bytes, merge_key: int | None) -> bool:
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
            self.undo_stack.push(WriteCommand(self, address, result.old, result.new, merge_key))
        self.inline_message.emit("")
        self.write_done.emit(address, len(data))
        self.changed.emit()
        return True

    async def _backend_write(self, address: int, data: bytes):
        target = self.session.target
        if target is None:
            raise TargetExited("no target", op="write", address=address)
        try:
            return await asyncio.wrap_future(target.write(address, data))
        except TargetExited as exc:
            self.session.mark_exited(exc)
            raise

    async def _undo_redo(self, *, undo: bool) -> bool:
        async with self._lock():
            stack = self.undo_stack
            if not (stack.canUndo() if undo else stack.canRedo()):
                return False
            command = stack.command(stack.index() - 1 if undo else stack.index())
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

    def clear_failure(self, address: int) -> None:
        if self.failed_writes.pop(address, None) is not None:
            self.changed.emit()

    def _store_local(self, address: int, data: bytes) -> None:
        """Put bytes we know are in the target into the cache (after a
        verified write), without flagging them as changed by the target."""
        for i, b in enumerate(data):
            a = address + i
            page = self.pages.get(a - a % PAGE_SIZE)
            if page is None or page.data is None:
                continue
            offset = a - page.address
            buf = bytearray(page.data)
            buf[offset] = b
            page.data = bytes(buf)
            page.changed_at.pop(offset, None)
            # A read issued before this write may still answer with the old
            # bytes: make every earlier request stale for this page.
            page.applied_request = max(page.applied_request, self._next_request)
        self.changed.emit()

    # -- plumbing -------------------------------------------------------------------------------------
    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
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
