"""The watch list's live refresh: every tick reads all due entries of each
kind of location in ONE request per value source (process, kernel).

- A tick is skipped while the previous one is still on its way, so a slow
  target never queues reads up (``skipped_ticks`` counts them).
- Plotted entries are due at ``plot_hz``, the others at ``refresh_hz``; each
  plotted value read goes into ``history`` (seconds since ``t0``).
- A value that changed is marked (``changed_at``) and its highlight fades
  over :data:`CHANGE_FADE_SECONDS`, at the list's rate.
- The list is told what changed (``refreshed``) at its own rate: a tick
  that reads only plotted entries samples them for the plot and leaves the
  table to the next full tick (repainting the Value column 20 times a
  second was most of the GUI thread's time, and nobody reads numbers that
  fast).

It owns no entries: it reads those its owner's ``entries()`` returns and
says which it touched (``refreshed``), faded (``faded``) or sampled.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from lainview.backend.errors import TargetExited

from .history import SampleHistory
from .watch_entry import WatchEntry
from .tasks import TaskSet

DEFAULT_REFRESH_HZ = 10.0
DEFAULT_PLOT_HZ = 20.0
CHANGE_FADE_SECONDS = 1.0


class WatchPoller(QObject):
    refreshed = Signal(list)        # entries whose value or error may have changed (full ticks)
    faded = Signal(list)            # entries whose change highlight moved on
    sampled = Signal()              # new samples are in ``history``

    def __init__(self, entries: Callable[[], list[WatchEntry]], sources: list,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.entries = entries
        self.sources = sources
        self.history = SampleHistory()
        self.t0 = time.monotonic()
        self.refresh_hz = DEFAULT_REFRESH_HZ
        self.plot_hz = DEFAULT_PLOT_HZ
        self.paused = False
        self.ticks = 0              # refreshes sent
        self.skipped_ticks = 0      # ticks skipped because the last refresh was still out
        self._inflight = False
        self._last_full = -1e9
        self._fading: set[int] = set()
        self._tasks = TaskSet("the watch list poller")
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._update_interval()

    # -- rates and the timer ---------------------------------------------------------------------
    def set_refresh_rate(self, hz: float) -> None:
        self.refresh_hz = max(0.5, min(float(hz), 60.0))
        self._update_interval()

    def set_plot_rate(self, hz: float) -> None:
        self.plot_hz = max(0.5, min(float(hz), 60.0))
        self._update_interval()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.update()

    def _update_interval(self) -> None:
        plotted = any(e.plotted for e in self.entries())
        hz = max(self.refresh_hz, self.plot_hz if plotted else 0)
        self._timer.setInterval(max(1, int(round(1000 / hz))))

    def update(self) -> None:
        """Run the timer while some entry can be read (call after changes)."""
        self._update_interval()
        entries = self.entries()
        readable = any(source.available and any(source.owns(e) for e in entries)
                       for source in self.sources)
        if readable and not self.paused:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
            self._end_fades()

    def _end_fades(self) -> None:
        """No tick will move the change highlights on (paused, nothing to
        read): they end now rather than stay half faded."""
        if self._fading:
            ended = [e for e in self.entries() if e.key in self._fading]
            self._fading.clear()
            if ended:
                self.faded.emit(ended)

    @property
    def live(self) -> bool:
        return self._timer.isActive()

    def fading(self, entry: WatchEntry, now: float) -> float | None:
        """How far ``entry``'s highlight has faded (0 new .. 1 gone), or None."""
        age = now - entry.changed_at
        if entry.key in self._fading and age < CHANGE_FADE_SECONDS:
            return age / CHANGE_FADE_SECONDS
        return None

    # -- reading ---------------------------------------------------------------------------------
    def refresh_now(self) -> asyncio.Task | None:
        self._last_full = -1e9
        return self._tick()

    def _tick(self) -> asyncio.Task | None:
        now = time.monotonic()
        full = now - self._last_full >= 1.0 / self.refresh_hz - 0.004
        if self._inflight:
            if full:
                self._fade(now)     # the highlight fades at the list's rate, not the plot's
            self.skipped_ticks += 1
            return None
        # A pointer path is resolved by its read: an unresolved one is read
        # again (the chain may be whole again).
        due = [e for e in self.entries() if (full or e.plotted)
               and (not e.unresolved or e.follows_pointers)]
        batches = [(source, batch) for source in self.sources
                   if (batch := source.readable([e for e in due if source.owns(e)]))]
        if not batches:
            if full:
                self._fade(now)
            return None
        if full:
            self._last_full = now
        self._inflight = True
        self.ticks += 1
        return self._spawn(self._refresh(batches, full))

    async def _refresh(self, batches: list, full: bool) -> None:
        try:
            results = await asyncio.gather(
                *(source.read(batch, [e.vtype.size for e in batch]) for source, batch in batches),
                return_exceptions=True)
        finally:
            self._inflight = False
        now = time.monotonic()
        present = {e.key for e in self.entries()}
        touched: list[WatchEntry] = []
        for (_source, batch), values in zip(batches, results):
            if isinstance(values, TargetExited):
                continue            # the attached target says so; the rows keep their last value
            if isinstance(values, BaseException):
                for entry in batch:
                    entry.error = f"unreadable: {values}"
                touched += batch
                continue
            for entry, value in zip(batch, values):
                if value is None or entry.key not in present:
                    continue        # re-resolved or removed since: a stale reply
                self._store(entry, value, now)
                touched.append(entry)
        t = now - self.t0
        sampled = False
        for entry in touched:
            if entry.plotted and (value := entry.number) is not None:
                self.history.append(entry.key, t, value)
                sampled = True
        if full:
            # With the refresh's own announcement: one repaint of the list.
            self._fade(now)
            if touched:
                self.refreshed.emit(touched)
        if sampled:
            self.sampled.emit()

    def _store(self, entry: WatchEntry, value: bytes | str, now: float) -> None:
        if isinstance(value, str):
            entry.error = value
            return
        if entry.data is not None and value != entry.data:
            entry.changed_at = now
            self._fading.add(entry.key)
        entry.data = value
        entry.error = ""

    def _fade(self, now: float) -> None:
        if not self._fading:
            return
        entries = self.entries()
        done = {e.key for e in entries if e.key in self._fading
                and now - e.changed_at > CHANGE_FADE_SECONDS}
        self._fading -= done
        moved = [e for e in entries if e.key in self._fading or e.key in done]
        if moved:
            self.faded.emit(moved)

    # -- plumbing -------------------------------------------------------------------------------
    def _spawn(self, coro) -> asyncio.Task:
        return self._tasks.spawn(coro)

    def stop(self) -> None:
        self._timer.stop()
        self._tasks.cancel_all()
