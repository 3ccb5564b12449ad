"""Session files: what the user set up around one program, saved as
versioned JSON, to be reopened on a later run of that program.

    {
      "format": "lainview-session", "version": 2, "saved": 1718000000.0,
      "target": {"exe": "/usr/bin/game", "cmdline": ["game", "--level", "2"], "name": "game"},
      "watch": [...], "bookmarks": [...],
      "structures": [{"name": "player", "declarations": "struct player {…};",
                      "type": "struct player", "location": "game+0x1f40->+0x0"}],
      "scan": null,            # a reference to the scanner's saved state, if any
      "view": {...}            # open area, cursor, rates, widths
    }

Version 2 added "structures" (the Structure dock's placements,
``backend/placements.py``) and field-path watches (a watch entry's
``"field": {"path", "placement"}``); version 1 files open as before, with
no structures.

The target is identified by its executable and command line, never by its
pid. Pure functions, no Qt: reading validates everything before anything is
used, and every problem is an InvalidInput that says what is wrong.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Collection, TypeGuard

from lainview.backend.errors import InvalidInput
from lainview.backend.files import atomic_private_file, load_json, read_input_file
from lainview.backend.locations import Location
from lainview.backend.placements import Placement
from lainview.backend.processes import ProcessInfo, matching_programs

FORMAT = "lainview-session"
VERSION = 2
SUFFIX = ".lainview.json"
MAX_BYTES = 16 << 20


@dataclass
class SessionData:
    exe: str
    cmdline: list[str]
    name: str = ""
    watch: list = field(default_factory=list)          # raw entries (WatchModel.parse_json)
    bookmarks: list = field(default_factory=list)      # raw bookmarks (BookmarkModel.parse_json)
    scan: dict | None = None
    view: dict = field(default_factory=dict)
    saved: float = 0.0
    structures: list[Placement] = field(default_factory=list)   # the Structure dock's

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "saved": self.saved or time.time(),
                "target": {"exe": self.exe, "cmdline": list(self.cmdline), "name": self.name},
                "watch": self.watch, "bookmarks": self.bookmarks,
                "structures": [p.to_json() for p in self.structures], "scan": self.scan,
                "view": self.view}

    @classmethod
    def from_json(cls, raw) -> "SessionData":
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise InvalidInput("not a lainview session file (no \"format\": "
                               f"\"{FORMAT}\")")
        version = raw.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise InvalidInput(f"bad session version {version!r}")
        if version > VERSION:
            raise InvalidInput(f"this session is version {version}, newer than this lainview "
                               f"reads (up to {VERSION}): update lainview")
        if version < 1:
            raise InvalidInput(f"bad session version {version}")
        target = raw.get("target")
        if not isinstance(target, dict):
            raise InvalidInput("the session names no target")
        exe, cmdline = target.get("exe"), target.get("cmdline")
        if not isinstance(exe, str) or not exe:
            raise InvalidInput("the session's target has no executable path")
        if not isinstance(cmdline, list) or not all(isinstance(a, str) for a in cmdline):
            raise InvalidInput("the session's target command line must be a list of strings")
        watch, bookmarks = raw.get("watch", []), raw.get("bookmarks", [])
        scan, view = raw.get("scan"), raw.get("view", {})
        if not isinstance(watch, list):
            raise InvalidInput("the watch list must be a list")
        if not isinstance(bookmarks, list):
            raise InvalidInput("the bookmarks must be a list")
        if scan is not None and not isinstance(scan, dict):
            raise InvalidInput("the scan reference must be an object or null")
        if not isinstance(view, dict):
            raise InvalidInput("the view settings must be an object")
        check_view(view)
        structures = parse_items(raw.get("structures", []), "the structures", "structure",
                                 Placement.from_json)
        saved = raw.get("saved", 0.0)
        try:
            when = float(saved) if isinstance(saved, (int, float)) else 0.0
        except OverflowError:                    # an integer past a float's range
            when = math.inf
        if not math.isfinite(when):
            raise InvalidInput(f"the time saved must be a number of seconds, not {saved!r:.40}")
        return cls(exe, list(cmdline), str(target.get("name", "")), watch, bookmarks, scan,
                   view, when, structures)

    @property
    def program(self) -> str:
        return self.name or os.path.basename(self.exe)


# The "view" section: what each known key must be. Rates and intervals are
# finite numbers (their setters clamp them to what they support); counts
# handed to Qt widgets must fit a C int.
MAX_AREA = 1 << 56
"""The largest area a session may name: a process's whole address space
with 5-level paging (Qt's signals and the view take positions below 2^63)."""
VIEW_NUMBERS = ("hex_refresh_hz", "watch_refresh_hz", "plot_hz", "freeze_interval_ms")
VIEW_COUNTS = ("bytes_per_row", "plot_window_s")
QT_INT_MAX = (1 << 31) - 1


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_view(view: dict) -> None:
    """Check the known keys of a session's "view" section, so applying it
    cannot fail half-way (a NaN interval, an int past what Qt takes).
    Raises InvalidInput naming the key."""
    for key in VIEW_NUMBERS:
        value = view.get(key)
        if value is not None and not ((_is_int(value) or isinstance(value, float))
                                      and math.isfinite(value) and value > 0):
            raise InvalidInput(f"view setting {key} must be a positive number, not {value!r:.40}")
    for key in VIEW_COUNTS:
        value = view.get(key)
        if value is not None and not (_is_int(value) and 0 < value <= QT_INT_MAX):
            raise InvalidInput(f"view setting {key} must be a whole number from 1 to "
                               f"{QT_INT_MAX}, not {value!r:.40}")
    area = view.get("area")
    if area is not None:
        if not isinstance(area, dict):
            raise InvalidInput("view setting area must be an object")
        size = area.get("size")
        if not (_is_int(size) and 0 < size <= MAX_AREA):
            raise InvalidInput(f"view setting area.size must be 1 to 2^56 bytes (the most a "
                               f"process maps), not {size!r:.40}")
        if not isinstance(area.get("label", ""), str):
            raise InvalidInput("view setting area.label must be text")
        try:
            Location.from_json(area.get("start"))
        except InvalidInput as exc:
            raise InvalidInput(f"view setting area.start: {exc.message}") from None
    if view.get("cursor") is not None:
        try:
            Location.from_json(view["cursor"])
        except InvalidInput as exc:
            raise InvalidInput(f"view setting cursor: {exc.message}") from None


def parse_items(raw, what: str, item: str, from_json) -> list:
    """A list section of a session file (``what``: "the watch list"), each
    element through ``from_json``; InvalidInput naming the first bad one
    ("watch entry 3: …"), in which case none is used."""
    if not isinstance(raw, list):
        raise InvalidInput(f"{what} must be a list")
    out = []
    for n, element in enumerate(raw, 1):
        try:
            out.append(from_json(element))
        except InvalidInput as exc:
            raise InvalidInput(f"{item} {n}: {exc.message}") from None
    return out


def session_text(data: SessionData) -> str:
    """The session file's text (JSON, indented, a final newline)."""
    return json.dumps(data.to_json(), indent=2) + "\n"


def write_session(path: str | os.PathLike[str], data: SessionData) -> None:
    """Write atomically (a temporary file renamed over the old one).
    Raises InvalidInput with the reason when the file cannot be written."""
    with atomic_private_file(path, "w") as f:
        f.write(session_text(data))


def read_session(path: str | os.PathLike[str]) -> SessionData:
    """Read and check a session file; InvalidInput says what is wrong."""
    path = os.fspath(path)
    return parse_session(read_input_file(path, MAX_BYTES, what="session file"), path)


def parse_session(raw: bytes, path: str) -> SessionData:
    """Check the bytes of session file ``path``; InvalidInput says what is wrong."""
    parsed = load_json(raw, path, "session file")
    try:
        return SessionData.from_json(parsed)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None


def matching_processes(data: SessionData, processes: list[ProcessInfo],
                       exclude: Collection[int] = frozenset()) -> tuple[list[ProcessInfo],
                                                                list[ProcessInfo]]:
    """(exact, loose) processes running the session's program; see
    :func:`lainview.backend.processes.matching_programs`."""
    return matching_programs(data.exe, data.cmdline, processes, exclude)


__all__ = ["SessionData", "parse_items", "read_session", "write_session", "matching_processes", "FORMAT",
           "VERSION", "SUFFIX"]
