"""The process list, with whether lainview can attach to each process and why not."""

from __future__ import annotations

import bisect
import errno as _errno
import os
import pwd
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Sequence


from .errors import InvalidInput, attach_denied_hint
from .memory import DELETED_SUFFIX, PAGE_SIZE, MemoryArea
from .wording import quoted

if TYPE_CHECKING:
    # only named in annotations: ps and maps take no location (start-up)
    from .locations import ThreadStackLookup

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

    def to_json(self) -> dict[str, object]:
        return {"pid": self.pid, "name": self.name, "user": self.user,
                "cmdline": self.cmdline, "rss": self.rss, "attachable": self.attachable,
                "reason": self.reason, "exe": self.exe}


def stat_fields(pid: int, proc: str = "/proc") -> list[bytes] | None:
    """The fields of ``/proc/PID/stat`` after the name (which may hold
    spaces and parentheses): ``[state, ppid, pgrp, session, tty_nr, tpgid,
    flags, …]``, so field N of proc(5) is at index N - 3. None when the
    process is gone (or unreadable)."""
    try:
        with open(f"{proc}/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2:].split()


def is_kernel_thread(pid: int, proc: str = "/proc") -> bool:
    """True for kernel threads (PF_KTHREAD in /proc/<pid>/stat's flags)."""
    fields = stat_fields(pid, proc)
    return fields is not None and len(fields) > 6 and int(fields[6]) & PF_KTHREAD != 0


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
        return False, exc.strerror or str(exc)
    os.close(fd)
    return True, ""


def list_processes(proc: str = "/proc") -> list[ProcessInfo]:
    """Every process, sorted by pid, with whether lainview can attach
    (:func:`attach_check`). Read from /proc directly, as psutil reads it
    (name, real user, command line, resident memory, executable; a test
    compares the two on every process): importing psutil cost ``lainview
    ps`` more than listing. A process that exits meanwhile is left out.
    Blocking: run it on the backend thread (the CLI's ps calls it directly)."""
    users: dict[int, str] = {}
    out = []
    for pid in sorted(int(name) for name in os.listdir(proc) if name.isdigit()):
        try:
            with open(f"{proc}/{pid}/stat", "rb") as f:
                stat = f.read()
            uid = _real_uid(pid, proc)
        except (OSError, ValueError, IndexError):
            continue                    # exited meanwhile
        if uid not in users:
            users[uid] = _user_name(uid)
        cmdline = command_line(pid, proc)
        try:
            exe = os.readlink(f"{proc}/{pid}/exe")
        except OSError:                 # a kernel thread, a zombie, another user's
            exe = ""
        attachable, reason = attach_check(pid, proc)
        out.append(ProcessInfo(
            pid=pid, name=process_name(stat, cmdline), user=users[uid],
            cmdline=" ".join(cmdline), rss=resident_bytes(pid, proc), attachable=attachable,
            reason=reason, exe=program_path(pid, exe, proc)))
    return out


def process_name(stat: bytes, cmdline: tuple[str, ...]) -> str:
    """The name psutil gives a process: the ``comm`` of its
    ``/proc/PID/stat``, which the kernel cuts to 15 characters, or the
    file name of its first argument when that starts with the cut name
    (``gnome-keyring-d`` is ``gnome-keyring-daemon``)."""
    name = os.fsdecode(stat[stat.find(b"(") + 1:stat.rfind(b")")])
    if len(name) >= 15 and cmdline:
        extended = os.path.basename(cmdline[0])
        if extended.startswith(name):
            return extended
    return name


def _real_uid(pid: int, proc: str) -> int:
    """The real user id of ``pid`` (``Uid:`` of ``/proc/PID/status``)."""
    with open(f"{proc}/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"Uid:"):
                return int(line.split()[1])
    raise ValueError(f"no Uid in {proc}/{pid}/status")


def _user_name(uid: int) -> str:
    """The user name of ``uid``, or the number when no user has it (as psutil)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def resident_bytes(pid: int, proc: str = "/proc") -> int:
    """Resident memory of ``pid`` in bytes (``/proc/PID/statm``'s second
    field, in pages); 0 when it cannot be read (it exited)."""
    try:
        with open(f"{proc}/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def start_ticks(pid: int, proc: str = "/proc") -> int | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat
    field 22): with the pid, it names one process even after pid reuse."""
    fields = stat_fields(pid, proc)
    return int(fields[19]) if fields is not None and len(fields) > 19 else None


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """What identifies a process beyond its pid (which the kernel reuses).

    ``exe``: the executable's path ("" when it cannot be read), ``cmdline``:
    its arguments, ``start_ticks``: when it started, in clock ticks since
    boot (field 22 of ``/proc/PID/stat``; None once it has exited). Read
    from /proc by :func:`process_identity`."""

    pid: int
    exe: str
    cmdline: tuple[str, ...]
    start_ticks: int | None

    def to_json(self) -> dict[str, object]:
        """The journal's ``target`` of a process write."""
        return {"kind": "process", "pid": self.pid, "exe": self.exe,
                "cmdline": list(self.cmdline), "start_ticks": self.start_ticks}


def effective_capabilities(proc: str = "/proc") -> int:
    """This process's effective capability set (``CapEff`` of
    ``/proc/self/status``, a bit per ``CAP_*`` number); 0 when unreadable."""
    try:
        with open(f"{proc}/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def has_address_space(pid: int, proc: str = "/proc") -> bool:
    """True while process ``pid`` runs with its address space: False once it
    is gone or a zombie (state Z or X in ``/proc/PID/stat``; its memory and
    threads are gone then)."""
    fields = stat_fields(pid, proc)
    return fields is not None and fields[:1] not in ([b"Z"], [b"X"])


def check_process_id(pid: object, proc: str = "/proc") -> int:
    """``pid`` as a process id to attach to: a positive integer naming a
    process, not one of its threads (``/proc/TID`` answers for a thread too,
    but its writes would be journaled under the thread's id). Raises
    InvalidInput; a pid that does not exist is left for the opener to
    report (TargetExited)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 1 << 32:
        raise InvalidInput(f"a process id is a positive integer, not {quoted(pid)}")
    try:
        with open(f"{proc}/{pid}/status", encoding="ascii", errors="replace") as f:
            tgid = next((int(line.split()[1]) for line in f if line.startswith("Tgid:")), pid)
    except (OSError, ValueError, IndexError):
        return pid
    if tgid != pid:
        raise InvalidInput(f"{pid} is a thread of process {tgid}, not a process: "
                           f"give the process's id, {tgid}")
    return pid


def process_identity(pid: int, proc: str = "/proc") -> ProcessIdentity:
    """What identifies process ``pid`` now: its executable
    (``/proc/PID/exe``), command line (``/proc/PID/cmdline``) and start time
    (empty ones when it has exited or hides them). Read from /proc directly,
    as psutil does, without importing it (a third of a CLI command's start-up)."""
    ticks = start_ticks(pid, proc)
    try:
        exe = os.readlink(f"{proc}/{pid}/exe")
    except OSError:
        exe = ""
    return ProcessIdentity(pid, program_path(pid, exe, proc), command_line(pid, proc), ticks)


def command_line(pid: int, proc: str = "/proc") -> tuple[str, ...]:
    """The arguments of ``pid`` from ``/proc/PID/cmdline``, split as psutil
    splits them (NUL-separated; a title a program rewrote with spaces, and
    no NUL inside, is split at spaces), so identities and process lists
    agree. Empty when it exited or is a kernel thread."""
    try:
        with open(f"{proc}/{pid}/cmdline", "rb") as f:
            text = os.fsdecode(f.read())
    except OSError:
        return ()
    if not text:
        return ()
    sep = "\0" if text.endswith("\0") else " "
    if text.endswith(sep):
        text = text[:-1]
    args = text.split(sep)
    if sep == "\0" and len(args) == 1 and " " in text:
        args = text.split(" ")
    return tuple(args)


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
                      processes: list[ProcessInfo], exclude: Collection[int] = frozenset()
                      ) -> tuple[list[ProcessInfo], list[ProcessInfo]]:
    """(exact, loose): processes running ``exe`` with the same command line,
    and those running it with the same first argument (the same script, for
    an interpreter) but other options. Processes we cannot attach to, and
    ``exclude`` (ourselves), are left out."""
    wanted = " ".join(cmdline)
    first = _first_argument(list(cmdline))
    exact: list[ProcessInfo] = []
    loose: list[ProcessInfo] = []
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


StacksSeen = dict[int, tuple[int, int]]
"""Thread id -> [start, end) of the stack area last found for it."""


def thread_stacks(pid: int, areas: Sequence[MemoryArea],
                  seen: StacksSeen | None = None) -> list[MemoryArea | None]:
    """Each thread's stack area, by the thread index of the location
    grammar's ``[stack#N]`` (0: the main thread, then the others in
    ascending thread id, which is creation order until thread ids wrap):
    the area holding the stack pointer the kernel reports in
    ``/proc/PID/task/TID/syscall`` (while the thread is not on a CPU: blocked
    in a system call or preempted). A thread on a CPU reports none: then
    the area found for it before (``seen``, updated here: give the same
    dict each time for one process), if the map still has an area ending
    there, else ``[stack]`` for the main thread. None where it is not
    known."""
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return []
    if pid in tids:
        tids.remove(pid)
        tids.insert(0, pid)
    out: list[MemoryArea | None] = []
    starts = [a.start for a in areas]
    if seen is not None:
        for gone in set(seen) - set(tids):
            del seen[gone]
    for tid in tids:
        found: MemoryArea | None = None
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                fields = f.read().split()
        except OSError:
            fields = []
        if len(fields) >= 3 and fields[0] != "running":
            try:
                sp = int(fields[-2], 16)
            except ValueError:
                sp = -1
            i = bisect.bisect_right(starts, sp) - 1
            if i >= 0 and areas[i].start <= sp < areas[i].end:
                found = areas[i]
        if found is None and seen is not None and tid in seen:
            i = bisect.bisect_right(starts, seen[tid][1] - 1) - 1
            if i >= 0 and areas[i].end == seen[tid][1]:
                found = areas[i]
        if found is None and tid == pid:
            found = next((a for a in areas if a.path == "[stack]"), None)
        if found is not None and seen is not None:
            seen[tid] = (found.start, found.end)
        out.append(found)
    return out


def thread_stack_lookup(pid: int, areas: Sequence[MemoryArea],
                        seen: StacksSeen | None = None) -> ThreadStackLookup:
    """The location grammar's lookup of ``[stack#N]`` in process ``pid``
    (see :func:`thread_stacks`, with ``seen``; /proc is read once, at the
    first lookup)."""
    found: list[list[MemoryArea | None]] = []

    def lookup(index: int) -> tuple[int, int] | None:
        if not found:
            found.append(thread_stacks(pid, areas, seen))
        stacks = found[0]
        area = stacks[index] if index < len(stacks) else None
        return None if area is None else (area.start, area.end)
    return lookup
