"""Everything the window shows, without the window: the attached target, the models,
the hex document and cursor, and the actions that need more than one of
them (attach, go to, open an area, search, dump, copy).

The main window builds widgets over these objects and forwards its actions
here; tests drive this object and the widgets directly.
"""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import QObject, QTimer, Signal

from lainview.backend.errors import Cancelled, InvalidInput, LainviewError, TargetExited
from lainview.backend.kernel import KernelBackend
from lainview.backend.locations import parse_location, resolve
from lainview.backend.memory import MemoryArea, Perm, area_at
from lainview.backend.service import Backend

from . import settings
from .cursor import HexCursor
from .formats import format_bytes, human_size
from .search import parse_needle
from .inspector_model import InspectorModel
from .jobs import BulkJob, DumpOutcome, JobKind, start_dump, start_search
from .memory_document import MemoryDocument
from .process_model import ProcessModel
from .pointer_scan_model import PointerScanController
from .scan_model import ScanController
from .attached_target import AttachedTarget, TargetState
from .vma_model import VmaModel
from .bookmarks import BookmarkModel
from .journal_model import JournalModel
from .sessions import SessionController
from .watch_model import WatchModel
from .tasks import TaskSet

AREAS_REFRESH_MS = 2000


class Workspace(QObject):
    status = Signal(str)                 # one-line messages for the status bar
    job_started = Signal(object, object)    # JobKind, BulkJob
    job_finished = Signal(object, str)      # JobKind, summary
    search_results = Signal(list)        # addresses
    went_to = Signal(object)             # go-to of a pointer path: the address it led to
    go_to_failed = Signal(str)           # go-to of a pointer path: why it did not resolve

    def __init__(self, backend: Backend, parent: QObject | None = None, *,
                 kernel_options: dict | None = None):
        """``kernel_options``: how to reach the kernel (KernelBackend's
        ``source``, ``kmem_path``, ``images`` and kernel memory options, from
        ``--ksource/--kmem/--image``); the one kernel service made from them
        (``self.kernel``, opened on first use) serves the watch list, the
        write journal and the kernel-symbol browser."""
        super().__init__(parent)
        self.backend = backend
        self.kernel = KernelBackend(backend, **(kernel_options or {}))
        self.target = AttachedTarget(backend, self)
        self.processes = ProcessModel(backend, self)
        self.vma = VmaModel(self)
        self.document = MemoryDocument(self.target, self)
        self.cursor = HexCursor(self)
        self.inspector = InspectorModel(self.document, self.cursor, self)
        self.scanner = ScanController(self.target, self)
        self.pointers = PointerScanController(self.target, self)
        # Watch list, bookmarks, write journal and session files (issue 7).
        self.watch = WatchModel(self.target, self, kernel=self.kernel)
        self.bookmarks = BookmarkModel(self.target, self)
        self.journal = JournalModel(backend, self)
        self.sessions = SessionController(self, self.bookmarks, self)
        for source in (self.watch, self.bookmarks, self.journal, self.sessions):
            source.status.connect(self.status)
        self.watch.wrote.connect(self.journal.request_reload)
        self.journal.reverting.connect(self.watch.stop_reverted_freezes)
        self.document.write_done.connect(self.journal.request_reload)
        self.matches: list[int] = []
        self.match_size = 1                  # bytes of the last search's needle
        self.jobs: dict[JobKind, BulkJob] = {}
        self._tasks = TaskSet("the workspace")
        self._areas_timer = QTimer(self)
        self._areas_timer.setInterval(AREAS_REFRESH_MS)
        self._areas_timer.timeout.connect(self.refresh_areas)
        self.target.areas_changed.connect(self.vma.set_areas)
        self.target.state_changed.connect(self._on_state)
        self.target.message.connect(self.status)
        self.document.region_changed.connect(self._on_region)

    def _on_region(self) -> None:
        region = self.document.region
        if region is not None:
            self.cursor.set_bounds(region.start, region.end)

    # -- target -------------------------------------------------------------------------------------
    async def attach(self, pid: int, backend: str = "auto") -> bool:
        """Attach and open the most interesting area (the heap, else the
        first writable one). False (with a status message) on failure."""
        self.status.emit(f"attaching to {pid}…")
        self.document.close_area()
        self.vma.clear()
        try:
            await self.target.attach(pid, backend)
        except asyncio.CancelledError:
            return False
        except LainviewError as exc:
            self.status.emit(f"could not attach to {pid}: {exc}")
            return False
        settings.add_recent_target(pid, self.target.name)
        self._areas_timer.start()
        self.status.emit(f"attached to {pid} ({self.target.name}) via "
                         f"{self.target.describe_backend()}")
        return True

    def refresh_areas(self) -> asyncio.Task:
        return self.spawn(self.target.refresh_areas())

    def _on_state(self, _state: str) -> None:
        if self.target.state == TargetState.EXITED:
            self._areas_timer.stop()
            for job in self.jobs.values():
                job.cancel()
            self.status.emit(f"target {self.target.pid} exited — views are read-only, "
                             f"last data kept ({self.target.exit_reason})")

    def default_area(self) -> MemoryArea | None:
        areas = self.target.areas
        for area in areas:
            if area.path == "[heap]" and area.readable:
                return area
        for area in areas:
            if area.readable and area.perms.letters.startswith("rw"):
                return area
        return next((a for a in areas if a.readable), None)

    # -- navigation -----------------------------------------------------------------------------------
    def open_area(self, area: MemoryArea, address: int | None = None) -> None:
        if self.document.region != area:
            self.document.open_area(area)
        if address is not None:
            self.cursor.move_to(address)

    def open_span(self, start: int, end: int, label: str | None = None,
                  address: int | None = None) -> None:
        """Open [start, end), which may cover several adjacent areas (the
        demo's mapping: rw, guard and read-only pages on one screen), named
        ``label`` or, by default, as its areas are (their display names)."""
        perms = Perm.NONE
        names: list[str] = []
        for area in self.target.areas:
            if area.start < end and start < area.end:
                perms |= area.perms
                if area.display_name not in names:
                    names.append(area.display_name)
        self.open_area(MemoryArea(start, end, perms, path=label or " + ".join(names)), address)

    def go_to(self, text: str) -> int | None:
        """Resolve ``text`` (a location: backend/locations.py's grammar) in
        the attached process's map, open its area and put the cursor there;
        the address. Raises InvalidInput (Unresolved, AddressOutOfRange)
        with a reason. A pointer path's pointers are read on the backend
        thread: None is returned, and the outcome arrives as ``went_to``
        (the address) or ``go_to_failed`` (why not); see :meth:`go_to_task`."""
        location = parse_location(text)
        if location.needs_target:
            self.go_to_task(text)
            return None
        address = resolve(location, self.target.areas, pid=self.target.pid,
                          module_symbol=self.target.module_symbol)
        self.open_address(address)
        return address

    def go_to_task(self, text: str) -> asyncio.Task:
        """Go to ``text`` resolved on the backend thread (a pointer path's
        pointers read now); the task's result is the address, or None (said
        by ``go_to_failed``)."""
        return self.spawn(self._go_to(text))

    async def _go_to(self, text: str) -> int | None:
        target = self.target.target
        try:
            if target is None:
                raise InvalidInput("go to: no target attached")
            address = await asyncio.wrap_future(target.resolve(parse_location(text)))
            self.open_address(address)
        except TargetExited as exc:
            self.target.mark_exited(exc)
            self.go_to_failed.emit(str(exc))
            return None
        except LainviewError as exc:
            self.go_to_failed.emit(str(exc))
            return None
        self.went_to.emit(address)
        return address

    def open_address(self, address: int) -> None:
        region = self.document.region
        if region is not None and region.contains(address):
            self.cursor.move_to(address)
            return
        area = area_at(self.target.areas, address)
        if area is None:
            raise InvalidInput(f"{address:#x} is not in any mapped area", address=address)
        self.open_area(area, address)

    # -- copy ---------------------------------------------------------------------------------------------
    def selection_text(self, fmt: str) -> str:
        lo, hi = self.cursor.selection
        if hi - lo > 1 << 20:
            raise InvalidInput("selection larger than 1 MiB: use Dump instead")
        data = self.document.bytes_at(lo, hi - lo)
        if data is None:
            raise InvalidInput(f"the selection {lo:#x}..{hi:#x} has unreadable or unread bytes",
                               address=lo)
        return format_bytes(data, fmt, name=f"mem_{lo:x}")

    # -- bulk jobs ------------------------------------------------------------------------------------
    async def dump(self, area: MemoryArea, path: str) -> DumpOutcome | None:
        target = self.target.target
        if target is None or not self.target.live:
            self.status.emit("dump: no live target")
            return None
        try:
            job, writer = start_dump(target, area, path)
        except LainviewError as exc:
            self.job_finished.emit(JobKind.DUMP, f"dump failed: {exc}")
            return None
        self.jobs[JobKind.DUMP] = job
        self.job_started.emit(JobKind.DUMP, job)
        started = time.monotonic()
        try:
            stats = await job.wait()
        except Cancelled:
            writer.abandon()
            self.job_finished.emit(JobKind.DUMP, "dump cancelled")
            return None
        except LainviewError as exc:
            writer.abandon()
            if isinstance(exc, TargetExited):
                self.target.mark_exited(exc)
            self.job_finished.emit(JobKind.DUMP, f"dump failed: {exc}")
            return None
        finally:
            self.jobs.pop(JobKind.DUMP, None)
        try:
            outcome = writer.finish(stats)
        except LainviewError as exc:
            self.job_finished.emit(JobKind.DUMP, f"dump failed: {exc}")
            return None
        self.job_finished.emit(JobKind.DUMP, outcome.summary() +
                               f" in {time.monotonic() - started:.1f} s")
        return outcome

    async def search(self, text: str, kind: str) -> list[int] | None:
        """Search the open area; put the cursor on the first match at or
        after it (wrapping). None if cancelled or failed."""
        region = self.document.region
        target = self.target.target
        if region is None or target is None or not self.target.live:
            self.job_finished.emit(JobKind.SEARCH, "search: open an area of a live target first")
            return None
        try:
            needle = parse_needle(text, kind)
        except InvalidInput as exc:
            self.job_finished.emit(JobKind.SEARCH, f"search: {exc}")
            return None
        old = self.jobs.pop(JobKind.SEARCH, None)
        if old is not None:
            old.cancel()
        job, matcher = start_search(target, region.start, region.end, needle)
        self.jobs[JobKind.SEARCH] = job
        self.job_started.emit(JobKind.SEARCH, job)
        try:
            await job.wait()
        except Cancelled:
            if self.jobs.get(JobKind.SEARCH) is job:
                self.job_finished.emit(JobKind.SEARCH, "search cancelled")
            return None
        except LainviewError as exc:
            self.job_finished.emit(JobKind.SEARCH, f"search failed: {exc}")
            return None
        finally:
            if self.jobs.get(JobKind.SEARCH) is job:
                self.jobs.pop(JobKind.SEARCH, None)
        self.matches = sorted(matcher.matches)
        self.match_size = len(needle)
        self.search_results.emit(self.matches)
        if not self.matches:
            self.job_finished.emit(JobKind.SEARCH, f"no match for {needle.hex(' ')} in "
                                   f"{region.display_name} ({human_size(region.size)})")
            return []
        self.next_match(+1, include_current=True)
        more = "+" if matcher.full else ""
        self.job_finished.emit(JobKind.SEARCH, f"{len(self.matches)}{more} match"
                               f"{'es' if len(self.matches) != 1 else ''}")
        return self.matches

    def next_match(self, direction: int = 1, *, include_current: bool = False) -> int | None:
        """Select the next (or previous) match, wrapping: the whole match
        (``match_size`` bytes, the last search's needle) is selected and
        the cursor is on its first byte. The match's address, or None."""
        if not self.matches:
            return None
        here = self.cursor.address
        if direction > 0:
            after = [m for m in self.matches if m > here or (include_current and m == here)]
            address = after[0] if after else self.matches[0]
        else:
            before = [m for m in self.matches if m < here]
            address = before[-1] if before else self.matches[-1]
        size = max(1, self.match_size)
        self.cursor.select(address + size - 1, address)
        return address

    # -- lifetime --------------------------------------------------------------------------------------
    def spawn(self, coro) -> asyncio.Task:
        task = self._tasks.spawn(coro)
        return task

    def stop(self) -> None:
        """Stop timers, jobs and tasks (before the backend shuts down)."""
        self._areas_timer.stop()
        for job in self.jobs.values():
            job.cancel()
        self.scanner.stop()
        self.pointers.stop()
        self.document.stop()
        self.watch.stop()
        self.bookmarks.stop()
        self.journal.stop()
        self._tasks.cancel_all()
