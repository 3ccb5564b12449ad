"""The attached target as the GUI sees it: who it is, which backend serves
it and why, whether it is still alive, and its latest memory map.

Every call goes through the backend's futures and is awaited on the Qt loop
(``asyncio.wrap_future``); nothing here blocks. Any request that fails with
``TargetExited`` calls :meth:`AttachedTarget.mark_exited`, which turns every
view read-only while keeping its last data.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QObject, Signal

from lainview.backend.errors import LainviewError, TargetExited, Unresolved
from lainview.backend.locations import Location, StaticEnd, locate
from lainview.backend.memory import MemoryArea, area_at
from lainview.backend.module_symbols import Symbolizer
from lainview.backend.service import Backend, Target


class TargetState(str, Enum):
    NONE = "no target"
    ATTACHING = "attaching"
    LIVE = "live"
    EXITED = "exited"
    DETACHED = "detached"


def process_name(pid: int) -> str:
    """The target's short name from /proc (empty when unknown)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class AttachedTarget(QObject):
    """One target at a time. Signals carry plain values."""

    state_changed = Signal(str)             # TargetState value
    attached = Signal()
    areas_changed = Signal(list)            # list[MemoryArea]
    symbols_changed = Signal()              # ``symbols`` was read for a new map
    message = Signal(str)                   # a one-line status for the status bar

    def __init__(self, backend: Backend, parent: QObject | None = None):
        super().__init__(parent)
        self.backend = backend
        self.target: Target | None = None
        self.name = ""
        self.state = TargetState.NONE
        self.exit_reason = ""
        self.areas: list[MemoryArea] = []
        # The mapped files' ELF symbols, for the map in ``areas`` (None until
        # read): names addresses (libc.so.6!getpid+0x4) and resolves them.
        self.symbols: Symbolizer | None = None
        self._attach_id = 0

    # -- attaching -------------------------------------------------------------------------
    async def attach(self, pid: int, backend: str = "auto") -> Target:
        """Attach to ``pid`` (detaching from the previous target). Raises
        LainviewError; a newer attach makes an older one's result stale."""
        self._attach_id += 1
        my_id = self._attach_id
        old = self.target
        self.target = None
        if old is not None:
            try:
                await asyncio.wrap_future(old.detach())
            except LainviewError:
                pass
        self._set_state(TargetState.ATTACHING)
        try:
            target = await asyncio.wrap_future(self.backend.attach(pid, backend))
        except LainviewError:
            if my_id == self._attach_id:
                self._set_state(TargetState.NONE)
            raise
        if my_id != self._attach_id:          # a newer attach superseded this one
            target.detach()
            raise asyncio.CancelledError()
        self.target = target
        self.name = process_name(pid) or os.path.basename(target.identity.exe)
        self.exit_reason = ""
        self.areas = []
        self.symbols = None
        self._set_state(TargetState.LIVE)
        self.attached.emit()
        await self.refresh_areas()
        return target

    async def detach(self) -> None:
        target, self.target = self.target, None
        if target is not None:
            try:
                await asyncio.wrap_future(target.detach())
            except LainviewError:
                pass
            self._set_state(TargetState.DETACHED)

    # -- the map -----------------------------------------------------------------------------
    def locate(self, address: int) -> Location:
        """The most durable location of ``address`` in the map in ``areas``
        (:func:`locations.locate`): ``module+off``, ``[heap]+off``, or the
        address. Once symbols are read, a module's ``.bss`` ends where its
        ELF segments end (memory mapped right after it is not the
        module's); before the first symbols of a target, the map alone
        decides."""
        return locate(address, self.areas, self.static_end())

    def static_end(self) -> StaticEnd | None:
        """Where each module's static data ends in the map in ``areas``
        (:data:`locations.StaticEnd`), from the symbols last read (for this
        map or an earlier one: a module keeps its base while it stays
        mapped); None until symbols were read."""
        symbols = self.symbols
        return symbols.static_end_in(self.areas) if symbols is not None else None

    async def refresh_areas(self) -> list[MemoryArea] | None:
        """Fetch the map again; None if there is no live target."""
        target = self.target
        if target is None or self.state != TargetState.LIVE:
            return None
        try:
            areas = await asyncio.wrap_future(target.areas())
        except TargetExited as exc:
            self.mark_exited(exc)
            return None
        except LainviewError as exc:
            self.message.emit(f"memory map: {exc}")
            return None
        if target is not self.target:
            return None
        self.areas = areas
        self.areas_changed.emit(areas)
        await self._refresh_symbols(target, areas)
        return areas

    async def _refresh_symbols(self, target: Target, areas: list[MemoryArea]) -> None:
        """Read the modules' symbols for a map that changed (bulk work on
        the backend thread; tables are cached by file), then say so."""
        if self.symbols is not None and self.symbols.areas == areas:
            return
        try:
            symbols = await asyncio.wrap_future(target.symbolizer())
        except TargetExited as exc:
            self.mark_exited(exc)
            return
        except LainviewError as exc:
            self.message.emit(f"module symbols: {exc}")
            return
        if target is not self.target:
            return                              # another target: its own refresh reads them
        # Kept even when a newer map came meanwhile (its own refresh reads
        # them again): a program whose map changes every few milliseconds
        # would otherwise never have symbols, nor the .bss bounds they give.
        self.symbols = symbols
        self.symbols_changed.emit()

    def module_symbol(self, path: str, name: str) -> int | None:
        """The ``module_symbol`` lookup of locations.resolve over ``symbols``.
        Raises Unresolved while they are not read yet."""
        if self.symbols is None:
            raise Unresolved(f"the symbols of {os.path.basename(path)} are not read yet")
        return self.symbols.module_symbol(path, name)

    def name_of(self, address: int) -> str | None:
        """``libc.so.6!getpid+0x4`` (or the location) of ``address``, once
        the symbols are read; None before."""
        return self.symbols.name(address) if self.symbols is not None else None

    def area_at(self, address: int) -> MemoryArea | None:
        return area_at(self.areas, address)

    # -- state -------------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return self.target is not None and self.state == TargetState.LIVE

    def live_target(self, what: str, say: Callable[[str], object]) -> Target | None:
        """The live target for an operation named ``what`` ("next scan"), or
        None after ``say("next scan: no live target (it has exited)")``."""
        if not self.live:
            say(f"{what}: no live target"
                + (" (it has exited)" if self.state == TargetState.EXITED else ""))
            return None
        return self.target

    @property
    def writable(self) -> bool:
        return self.live and bool(self.target and self.target.info.writable)

    def mark_exited(self, exc: BaseException | None = None) -> None:
        if self.state == TargetState.EXITED:
            return
        self.exit_reason = str(exc) if exc else "the target has exited"
        self._set_state(TargetState.EXITED)

    def _set_state(self, state: TargetState) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state.value)

    @property
    def pid(self) -> int | None:
        return self.target.pid if self.target else None

    def is_process(self, pid: int, start_ticks: int | None) -> bool:
        """Whether the process attached now (live or exited) is the one with
        ``pid`` that started at ``start_ticks`` (clock ticks since boot,
        ``ProcessIdentity.start_ticks``): a pid the kernel reused, or the
        same program started again, is another process. Results found in
        one process (hits, pointer paths) are of that process only."""
        target = self.target
        return target is not None and target.pid == pid \
            and target.identity.start_ticks == start_ticks

    def describe_backend(self) -> str:
        if self.target is None:
            return ""
        info = self.target.info
        name = "lainmemu" if info.backend == "lainmemu" else "/proc"
        return name

    def backend_reason(self) -> str:
        if self.target is None:
            return ""
        info = self.target.info
        lines = [info.reason, *info.limits]
        if not info.writable:
            lines.append("opened read-only")
        return "\n".join(lines)
