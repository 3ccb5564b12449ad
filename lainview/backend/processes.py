"""The process list, with whether lainview can attach to each process and why not."""

from __future__ import annotations

import errno as _errno
import os
from dataclasses import dataclass


from .errors import attach_denied_hint
from .memory import DELETED_SUFFIX

PF_KTHREAD = 0x00200000


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    pid: int
    name: str
    user: str
    cmdline: str
    rss: int                  # resident memory in bytes
    attachable: bool
    reason: str = ""          # why not, when not attachable
    exe: str = ""

    def to_json(self) -> dict:
        return {"pid": self.pid, "name": self.name, "user": self.user,
                "cmdline": self.cmdline, "rss": self.rss, "attachable": self.attachable,
                "reason": self.reason, "exe": self.exe}


def is_kernel_thread(pid: int, proc: str = "/proc") -> bool:
    """True for kernel threads (PF_KTHREAD in /proc/<pid>/stat's flags)."""
    try:
        with open(f"{proc}/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat[stat.rfind(b")") + 2:].split()
    # After ") ": state ppid pgrp session tty_nr tpgid flags ...
    return len(fields) > 6 and int(fields[6]) & PF_KTHREAD != 0


def attach_check(pid: int, proc: str = "/proc") -> tuple[bool, str]:
    """Can this process's memory be opened? Asks the kernel itself, by
    opening /proc/<pid>/mem (the same ptrace check lainmemu makes)."""
    if is_kernel_thread(pid, proc):
        return False, "kernel thread: it has no user address space"
    try:
        fd = os.open(f"{proc}/{pid}/mem", os.O_RDONLY)
    except FileNotFoundError:
        return False, "gone: the process has exited"
    except OSError as exc:
        if exc.errno in (_errno.EPERM, _errno.EACCES):
            return False, f"no permission: {attach_denied_hint()}"
        return False, os.strerror(exc.errno)
    os.close(fd)
    return True, ""


def list_processes() -> list[ProcessInfo]:
    """Every process, sorted by pid. Blocking: run it on the backend thread."""
    import psutil   # here, not at the top: it costs every CLI command's start-up
    out = []
    for proc in psutil.process_iter(["pid", "name", "username", "cmdline", "memory_info", "exe"]):
        info = proc.info
        attachable, reason = attach_check(info["pid"])
        mem = info.get("memory_info")
        out.append(ProcessInfo(
            pid=info["pid"], name=info.get("name") or "",
            user=info.get("username") or "", cmdline=" ".join(info.get("cmdline") or []),
            rss=mem.rss if mem else 0, attachable=attachable, reason=reason,
            exe=program_path(info["pid"], info.get("exe") or "")))
    out.sort(key=lambda p: p.pid)
    return out


def start_ticks(pid: int, proc: str = "/proc") -> int | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat
    field 22): with the pid, it names one process even after pid reuse."""
    try:
        with open(f"{proc}/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return int(fields[19]) if len(fields) > 19 else None


def process_identity(pid: int) -> dict:
    """What identifies a process beyond its pid (which the kernel reuses):
    its executable, command line and start time."""
    import psutil
    ident = {"pid": pid, "exe": "", "cmdline": [], "start_ticks": start_ticks(pid)}
    try:
        p = psutil.Process(pid)
        with p.oneshot():
            ident["exe"] = program_path(pid, _safe(p.exe) or "")
            ident["cmdline"] = _safe(p.cmdline) or []
    except psutil.NoSuchProcess:
        pass
    return ident


def _safe(getter):
    import psutil
    try:
        return getter()
    except (psutil.AccessDenied, psutil.ZombieProcess, psutil.NoSuchProcess):
        return None


def program_path(pid: int, reported: str, proc: str = "/proc") -> str:
    """The executable's path as psutil ``reported`` it, with a deleted
    executable told from a real file whose name ends in " (deleted)":
    psutil strips the suffix only when no file has the literal name, so it
    keeps it for a deleted ``game`` when a file ``game (deleted)`` exists.
    The executable is the file with the literal name only if
    ``/proc/PID/exe`` and ``/proc/PID/root/NAME`` are the same file."""
    if not reported.endswith(DELETED_SUFFIX):
        return reported
    try:
        same = os.path.samestat(os.stat(f"{proc}/{pid}/exe"),
                                os.stat(f"{proc}/{pid}/root{reported}"))
    except OSError:
        same = False
    return reported if same else reported[:-len(DELETED_SUFFIX)]


def _first_argument(argv: list[str]) -> str | None:
    """The first argument that is not an option: the script of an
    interpreter (``python game.py``, ``python -m game``), or the first
    operand of a program."""
    return next((a for a in argv[1:] if not a.startswith("-")), None)


def matching_programs(exe: str, cmdline: list[str] | tuple[str, ...],
                      processes: list[ProcessInfo], exclude=frozenset()
                      ) -> tuple[list[ProcessInfo], list[ProcessInfo]]:
    """(exact, loose): processes running ``exe`` with the same command line,
    and those running it with the same first argument (the same script, for
    an interpreter) but other options. Processes we cannot attach to, and
    ``exclude`` (ourselves), are left out."""
    wanted = " ".join(cmdline)
    first = _first_argument(list(cmdline))
    exact, loose = [], []
    for info in processes:
        if info.pid in exclude or not info.attachable or not info.exe:
            continue
        if info.exe != exe:
            continue
        if info.cmdline == wanted:
            exact.append(info)
        elif _first_argument(info.cmdline.split(" ")) == first:
            loose.append(info)
    return exact, loose
