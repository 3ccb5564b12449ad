"""One wrapper around QSettings: typed values with defaults, and the list of
recent targets."""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "lainview"
APPLICATION = "lainview"
MAX_RECENT = 8


def settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


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


def recent_targets() -> list[tuple[int, str]]:
    """[(pid, name)], newest first."""
    raw = settings().value("recent/targets", []) or []
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
