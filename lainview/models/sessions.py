"""Saving and reopening sessions on the workspace: the target's identity,
the watch list, the bookmarks, the scan reference and the view settings.

Reopening finds the processes that run the saved program (same executable
and command line), attaches when exactly one does, and otherwise asks the
window to offer a pick (:attr:`SessionController.pick_needed`). Everything
is resolved against the new process's map, so a restarted program finds
its bookmarks and watches at its new addresses. File I/O and the process
list run on the backend thread.
"""

from __future__ import annotations

import asyncio
import os
from typing import Callable

from PySide6.QtCore import QObject, Signal

from lainview.backend.errors import InvalidInput, LainviewError, Unresolved
from lainview.backend.locations import Location, resolve
from lainview.backend.placements import Placement
from lainview.backend.processes import ProcessInfo
from lainview.backend.wording import counted, printable

from . import settings
from .bookmarks import BookmarkModel
from .session_file import (MAX_BYTES, SessionData, matching_processes, parse_session,
                           session_text)
from .watch_model import WatchModel

MAX_RECENT_SESSIONS = 8


def recent_sessions() -> list[str]:
    raw = settings.value("recent/sessions", []) or []
    return [raw] if isinstance(raw, str) else [str(p) for p in raw]


def add_recent_session(path: str) -> None:
    path = os.path.abspath(path)
    items = [p for p in recent_sessions() if p != path]
    settings.set_value("recent/sessions", ([path] + items)[:MAX_RECENT_SESSIONS])


class SessionController(QObject):
    status = Signal(str)
    pick_needed = Signal(list)        # list[ProcessInfo]: several processes match
    opened = Signal(str)              # the session file, once applied
    view_restored = Signal(dict)      # the "view" section, for the window's own settings

    def __init__(self, workspace, bookmarks: BookmarkModel, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.bookmarks = bookmarks
        self.path: str | None = None
        self.pending: tuple[SessionData, str] | None = None
        self.candidates: list[ProcessInfo] = []
        # Other parts of the window keep their state here: name -> (save, load).
        # "scan" is the scanner's: save() returns a JSON-able reference to its
        # saved state (or None), load(reference) restores it.
        self.sections: dict[str, tuple[Callable[[], dict | None], Callable[[dict], None]]] = {}
        self._kept_scan: dict | None = None
        # The Structure dock's placements: (what to save, how to restore); set
        # by the window's structure feature.
        self.structures: tuple[Callable[[], list[Placement]],
                               Callable[[list[Placement]], None]] | None = None

    @property
    def watch(self) -> WatchModel:
        return self.workspace.watch

    # -- saving ---------------------------------------------------------------------------------
    def snapshot(self, view_extra: dict | None = None) -> SessionData:
        ws = self.workspace
        target = ws.target.target
        if target is None:
            raise InvalidInput("attach to a process first: a session belongs to a program")
        identity = target.identity
        view: dict = {"hex_refresh_hz": ws.document.refresh_hz,
                      "watch_refresh_hz": self.watch.refresh_hz,
                      "plot_hz": self.watch.plot_hz,
                      "freeze_interval_ms": self.watch.freeze_interval_ms}
        region = ws.document.region
        if region is not None:
            view["area"] = {"start": ws.target.locate(region.start).to_json(),
                            "size": region.size, "label": region.path}
            view["cursor"] = ws.target.locate(ws.cursor.address).to_json()
        view.update(view_extra or {})
        scan = self._kept_scan
        if "scan" in self.sections:
            scan = self.sections["scan"][0]()
        structures = self.structures[0]() if self.structures is not None else []
        return SessionData(exe=identity.exe, cmdline=list(identity.cmdline),
                           name=ws.target.name, watch=self.watch.to_json(),
                           bookmarks=self.bookmarks.to_json(), scan=scan, view=view,
                           structures=structures)

    async def save(self, path: str, view_extra: dict | None = None) -> bool:
        try:
            data = self.snapshot(view_extra)
            if not data.exe:
                raise InvalidInput("the target's executable is unknown (no permission to read "
                                   "/proc/<pid>/exe?): it could not be found again")
            await asyncio.wrap_future(self.workspace.backend.write_text_file(
                path, session_text(data)))
        except LainviewError as exc:
            self.status.emit(f"session not saved: {exc}")
            return False
        self.path = path
        add_recent_session(path)
        self.status.emit(f"session saved to {path} ({counted(len(data.watch), 'watch')}, "
                         f"{counted(len(data.bookmarks), 'bookmark')}, "
                         f"{counted(len(data.structures), 'placed structure')})")
        return True

    # -- opening --------------------------------------------------------------------------------
    def current_state(self) -> list[str]:
        """What opening a session replaces, counted ("2 watched values",
        "1 bookmark", "1 placed structure"); [] when there is nothing."""
        placed = len(self.structures[0]()) if self.structures is not None else 0
        counts = ((len(self.watch.entries), "watched value"),
                  (len(self.bookmarks.bookmarks), "bookmark"), (placed, "placed structure"))
        return [counted(n, what) for n, what in counts if n]

    async def read(self, path: str) -> SessionData:
        """Read and check the whole session file (every watch, bookmark and
        structure parses) without changing anything. Raises InvalidInput
        (missing or malformed file) or another LainviewError."""
        raw = await asyncio.wrap_future(
            self.workspace.backend.read_input_file(path, MAX_BYTES, what="session file"))
        data = parse_session(raw, os.fspath(path))
        self._parse(data)
        return data

    async def check(self, path: str) -> SessionData | str:
        """:meth:`read`, the failure said in ``status``: the session, or
        "invalid" (bad input) or "error"."""
        try:
            return await self.read(path)
        except LainviewError as exc:
            self.status.emit(f"session not opened: {exc}")
            return "invalid" if isinstance(exc, InvalidInput) else "error"

    async def open(self, path: str, pid: int | None = None,
                   data: SessionData | None = None) -> str:
        """Read, check and apply a session (``data``: already read and checked
        by :meth:`check`). The attached process is used when it runs the
        session's program; else the one process that does. Returns
        "opened", "pick" (several processes match and none is attached:
        ``pick_needed`` was emitted, call :meth:`choose`),
        "no-process" (applied without a target; it resolves once one is
        attached), "invalid" (the file is missing or malformed: bad input) or
        "error" (nothing changed; the reason is in ``status``)."""
        backend = self.workspace.backend
        if data is None:
            checked = await self.check(path)   # every entry checked before anything changes
            if isinstance(checked, str):
                return checked
            data = checked
        add_recent_session(path)
        if pid is None:
            try:
                processes = await asyncio.wrap_future(backend.list_processes())
            except LainviewError as exc:
                self.status.emit(f"session: cannot list processes: {exc}")
                return "error"
            exact, loose = matching_processes(data, processes, exclude={os.getpid()})
            attached = self.workspace.target
            if attached.live and any(p.pid == attached.pid for p in exact or loose):
                pid = attached.pid      # the process attached now runs it: no question
            elif len(exact) == 1:
                pid = exact[0].pid
            elif exact or loose:
                self.pending, self.candidates = (data, path), exact or loose
                self.status.emit(f"{len(self.candidates)} processes run {data.program}: "
                                 "pick one")
                self.pick_needed.emit(self.candidates)
                return "pick"
            else:
                self._apply(data, path)
                self.status.emit(f"session {os.path.basename(path)}: no running process of "
                                 f"{data.exe}; start it and attach — everything resolves then")
                return "no-process"
        return await self._attach_and_apply(data, path, pid)

    async def choose(self, pid: int | None) -> str:
        """The user's pick after ``pick_needed`` (None: cancelled)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return "error"
        data, path = pending
        if pid is None:
            self.status.emit("session not opened: no process picked")
            return "error"
        return await self._attach_and_apply(data, path, pid)

    async def _attach_and_apply(self, data: SessionData, path: str, pid: int) -> str:
        target = self.workspace.target
        if not (target.live and target.pid == pid) and not await self.workspace.attach(pid):
            return "error"
        self._apply(data, path)
        self.status.emit(f"session {os.path.basename(path)} opened on pid {pid}: "
                         + self._resolved_text(data))
        return "opened"

    def _resolved_text(self, data: SessionData) -> str:
        """What the opened session found: watches and bookmarks at fixed
        locations resolved now ("2 of 3 locations resolved"), those at
        pointer paths and field-path watches found again on each refresh,
        and the placed structures, by name."""
        entries = self.watch.entries
        fields = sum(1 for e in entries if e.field is not None)
        places: list[tuple[Location | None, bool]] = [
            (e.location, e.address is not None or e.is_kernel)
            for e in entries if e.field is None]
        places += [(b.location, b.address is not None) for b in self.bookmarks.bookmarks]
        # A pointer path is followed on the backend at each refresh, not here.
        paths = sum(1 for location, _ in places if location is not None and location.needs_target)
        fixed = [done for location, done in places
                 if location is None or not location.needs_target]
        said = [f"{sum(fixed)} of {len(fixed)} locations resolved"] if fixed else []
        said += [f"{counted(paths, 'pointer path')} followed on each refresh"] if paths else []
        said += [f"{counted(fields, 'field watch', 'field watches')} found again by field "
                 "path on each refresh"] if fields else []
        if data.structures:
            names = ", ".join(printable(p.name) for p in data.structures)
            said.append(f"{counted(len(data.structures), 'structure')} placed ({names})")
        return "; ".join(said) or "nothing to resolve (no watches, bookmarks or structures)"

    def _parse(self, data: SessionData) -> tuple[list, list]:
        for n, placement in enumerate(data.structures, 1):
            try:
                placement.ctype()                 # the header and type still parse
            except InvalidInput as exc:
                raise InvalidInput(f"structure {n} ({placement.name}): {exc.message}") from None
        return WatchModel.parse_json(data.watch), BookmarkModel.parse_json(data.bookmarks)

    def _apply(self, data: SessionData, path: str) -> None:
        watch_entries, bookmarks = self._parse(data)
        view = data.view
        watch = self.watch
        for key, setter in (("watch_refresh_hz", watch.set_refresh_rate),
                            ("plot_hz", watch.set_plot_rate),
                            ("freeze_interval_ms", watch.set_freeze_interval),
                            ("hex_refresh_hz", self.workspace.document.set_refresh_rate)):
            if isinstance(view.get(key), (int, float)):
                setter(view[key])
        watch.replace_entries(watch_entries)
        self.bookmarks.replace(bookmarks)
        if self.structures is not None:
            self.structures[1](data.structures)
        self._restore_area(view)
        self._kept_scan = data.scan
        if data.scan is not None and "scan" in self.sections:
            self.sections["scan"][1](data.scan)
        self.path = path
        self.view_restored.emit(view)
        self.opened.emit(path)

    def _restore_area(self, view: dict) -> None:
        ws = self.workspace
        area, cursor = view.get("area"), view.get("cursor")
        if not isinstance(area, dict) or not ws.target.areas:
            return
        try:
            size = area.get("size")
            if not isinstance(size, int) or size <= 0:
                return
            start = resolve(Location.from_json(area.get("start")), ws.target.areas,
                            pid=ws.target.pid)
            exact = [a for a in ws.target.areas if a.start == start and a.size == size]
            if exact:
                ws.open_area(exact[0])
            else:
                ws.open_span(start, start + size, str(area.get("label", "")))
            if isinstance(cursor, dict):
                try:
                    at = resolve(Location.from_json(cursor), ws.target.areas)
                except Unresolved:
                    return          # the area opens; its cursor stays where it was
                ws.open_address(at)
        except LainviewError as exc:
            self.status.emit(f"session: the saved view could not be restored: {exc}")
