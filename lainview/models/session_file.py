"""Session files: what the user set up around one program, saved as
versioned JSON, to be reopened on a later run of that program.

    {
      "format": "lainview-session", "version": 1, "saved": 1718000000.0,
      "target": {"exe": "/usr/bin/game", "cmdline": ["game", "--level", "2"], "name": "game"},
      "watch": [...], "bookmarks": [...],
      "scan": null,            # a reference to the scanner's saved state, if any
      "view": {...}            # open area, cursor, rates, widths
    }

The target is identified by its executable and command line, never by its
pid. Pure functions, no Qt: reading validates everything before anything is
used, and every problem is an InvalidInput that says what is wrong.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

from lainview.backend.errors import InvalidInput
from lainview.backend.files import atomic_private_file
from lainview.backend.processes import ProcessInfo, matching_programs

FORMAT = "lainview-session"
VERSION = 1
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

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "saved": self.saved or time.time(),
                "target": {"exe": self.exe, "cmdline": list(self.cmdline), "name": self.name},
                "watch": self.watch, "bookmarks": self.bookmarks, "scan": self.scan,
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
        saved = raw.get("saved", 0.0)
        return cls(exe, list(cmdline), str(target.get("name", "")), watch, bookmarks, scan,
                   view, float(saved) if isinstance(saved, (int, float)) else 0.0)

    @property
    def program(self) -> str:
        return self.name or os.path.basename(self.exe)


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


def write_session(path: str | os.PathLike, data: SessionData) -> None:
    """Write atomically (a temporary file renamed over the old one).
    Raises InvalidInput with the reason when the file cannot be written."""
    text = json.dumps(data.to_json(), indent=2) + "\n"
    with atomic_private_file(path, "w") as f:
        f.write(text)


def read_session(path: str | os.PathLike) -> SessionData:
    """Read and check a session file; InvalidInput says what is wrong."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot open {path}: {exc.strerror or exc}",
                           errno=exc.errno) from None
    if len(raw) > MAX_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_BYTES >> 20} MiB: not a session file")
    try:
        parsed = json.loads(raw)
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not text: not a session file") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON (line {exc.lineno}, column "
                           f"{exc.colno}: {exc.msg})") from None
    try:
        return SessionData.from_json(parsed)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None


def matching_processes(data: SessionData, processes: list[ProcessInfo],
                       exclude: set[int] = frozenset()) -> tuple[list[ProcessInfo],
                                                                list[ProcessInfo]]:
    """(exact, loose) processes running the session's program; see
    :func:`lainview.backend.processes.matching_programs`."""
    return matching_programs(data.exe, data.cmdline, processes, exclude)


__all__ = ["SessionData", "parse_items", "read_session", "write_session", "matching_processes", "FORMAT",
           "VERSION", "SUFFIX"]
