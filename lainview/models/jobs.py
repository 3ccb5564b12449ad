"""Long jobs that run on the backend as bulk reads: dumping an area to a
file and searching an area. Each is one ``read_bulk`` whose consumer runs on
the backend thread; the GUI awaits the future, polls ``future.progress``
for its progress bar, and cancels it with ``future.cancel()``."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from lainview.backend.errors import Cancelled
from lainview.backend.memory import Hole, MemoryArea
from lainview.backend.service import BulkStats, Target

from .formats import Matcher, human_size


@dataclass(frozen=True, slots=True)
class DumpOutcome:
    path: str
    size: int
    unreadable: int
    holes: tuple[Hole, ...]

    def summary(self) -> str:
        text = f"dumped {human_size(self.size)} to {self.path}"
        if self.holes:
            first = self.holes[0]
            text += (f"; {human_size(self.unreadable)} unreadable in {len(self.holes)} "
                     f"range{'s' if len(self.holes) != 1 else ''} skipped (left as zeros), "
                     f"first at {first.address:#x}: {first.reason}")
        return text


class BulkJob:
    """A started bulk job: await :meth:`wait`; read :attr:`progress`; :meth:`cancel`."""

    def __init__(self, future, label: str):
        self.future = future
        self.label = label

    @property
    def progress(self) -> tuple[int, int]:
        return self.future.progress

    def cancel(self) -> None:
        self.future.cancel()

    async def wait(self) -> BulkStats:
        """The job's result. A job cancelled before it started raises
        Cancelled, like one cancelled while running."""
        try:
            return await asyncio.wrap_future(self.future)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.future.cancelled() and not (task and task.cancelling()):
                raise Cancelled("cancelled before it started", op="bulk") from None
            raise


def start_dump(target: Target, area: MemoryArea, path: str) -> tuple[BulkJob, "DumpWriter"]:
    """Dump ``area`` to ``path``. Unreadable pages are not read: they are
    seeked over (a sparse run of zeros) and reported in the outcome."""
    writer = DumpWriter(path, area.start)
    future = target.read_bulk(area.start, area.size, writer.consume)
    return BulkJob(future, f"dump {area.display_name}"), writer


class DumpWriter:
    """The consumer of a dump (on the backend thread)."""

    def __init__(self, path: str, base: int):
        self.path = path
        self.base = base
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def consume(self, address: int, view: memoryview, holes: list[Hole]) -> None:
        offset = address - self.base
        cursor = address
        for hole in sorted(holes, key=lambda h: h.address):
            if hole.address > cursor:
                os.pwrite(self._fd, view[cursor - address:hole.address - address],
                          offset + cursor - address)
            cursor = max(cursor, hole.end)
        end = address + len(view)
        if cursor < end:
            os.pwrite(self._fd, view[cursor - address:], offset + cursor - address)

    def finish(self, stats: BulkStats) -> DumpOutcome:
        os.ftruncate(self._fd, stats.size)
        os.close(self._fd)
        return DumpOutcome(self.path, stats.size, stats.unreadable, stats.holes)

    def abandon(self) -> None:
        os.close(self._fd)
        try:
            os.unlink(self.path)
        except OSError:
            pass


def start_search(target: Target, start: int, end: int, needle: bytes,
                 limit: int = 10_000) -> tuple[BulkJob, Matcher]:
    """Search [start, end) for ``needle``; matches collect in the Matcher."""
    matcher = Matcher(needle, limit)
    future = target.read_bulk(start, end - start, matcher.feed)
    return BulkJob(future, "search"), matcher
