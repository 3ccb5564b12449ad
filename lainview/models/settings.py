"""One wrapper around QSettings: typed values with defaults, and the list of
recent targets.

The file is ``$XDG_CONFIG_HOME/lainview/lainview.conf`` (``~/.config`` when
the variable is unset), where Qt would put it too — but found from the
environment at each use, so a test (or a user) that points
``XDG_CONFIG_HOME`` elsewhere is never served the first directory Qt
happened to read.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QSettings

ORGANIZATION = "lainview"
APPLICATION = "lainview"
MAX_RECENT = 8


def path() -> str:
    """The settings file: ``$XDG_CONFIG_HOME/lainview/lainview.conf``."""
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(home, ORGANIZATION, f"{APPLICATION}.conf")


def settings() -> QSettings:
    return QSettings(path(), QSettings.Format.IniFormat)


def value(key: str, default, kind=None):
    s = settings()
    v = s.value(key, default)
    if kind is not None and v is not None:
        try:
            if kind is bool and isinstance(v, str):
                return v.lower() in ("true", "1")
            return kind(v)
        except (TypeError, ValueError):
            return default
    return v


def set_value(key: str, v) -> None:
    settings().setValue(key, v)


def remove(key: str) -> None:
    settings().remove(key)


def recent_targets() -> list[tuple[int, str]]:
    """[(pid, name)], newest first."""
    raw: Any = settings().value("recent/targets", []) or []
    if isinstance(raw, str):
        raw = [raw]
    out = []
    for item in raw:
        pid_text, _, name = str(item).partition(" ")
        if pid_text.isdigit():
            out.append((int(pid_text), name))
    return out


def add_recent_target(pid: int, name: str) -> list[tuple[int, str]]:
    items = [(p, n) for p, n in recent_targets() if (p, n) != (pid, name)]
    items.insert(0, (pid, name))
    items = items[:MAX_RECENT]
    settings().setValue("recent/targets", [f"{p} {n}" for p, n in items])
    return items
