"""Areas a target has registered with userfaultfd.

A page of such an area that is not present is filled by whoever holds the
userfaultfd, when it chooses to: a read of it through ``process_vm_readv``,
``/proc/<pid>/mem`` or a device blocks in the kernel until then, possibly
for ever. ``/proc/<pid>/smaps`` shows the registration as the VmFlags ``um``
(missing pages), ``uw`` (write-protect) and ``ui`` (minor faults).

smaps walks every page table of the target (200 ms for 1 GiB resident), so
it is read only when the target holds a userfaultfd descriptor (a cheap look
at ``/proc/<pid>/fd``), or when that cannot be looked at. A descriptor handed
to another process and closed by the target escapes this check; the backend
thread's watchdog covers that case (see ``thread.py``).
"""

from __future__ import annotations

import os
import re

UFFD_FLAGS = frozenset({"um", "uw", "ui"})
UFFD_LINK = "anon_inode:[userfaultfd]"
_HEADER = re.compile(rb"^([0-9a-f]+)-([0-9a-f]+) ")


def holds_userfaultfd(pid: int, proc: str = "/proc") -> bool | None:
    """True if ``pid`` has a userfaultfd descriptor open, False if not,
    None if its descriptors cannot be listed."""
    fd_dir = f"{proc}/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return None
    for name in names:
        try:
            if os.readlink(f"{fd_dir}/{name}") == UFFD_LINK:
                return True
        except OSError:
            continue
    return False


def parse_smaps_uffd(raw: bytes) -> list[tuple[int, int, frozenset[str]]]:
    """(start, end, userfaultfd flags) of every area of smaps text whose
    VmFlags hold um, uw or ui."""
    out, current = [], None
    for line in raw.split(b"\n"):
        m = _HEADER.match(line)
        if m:
            current = (int(m.group(1), 16), int(m.group(2), 16))
        elif line.startswith(b"VmFlags:") and current is not None:
            flags = UFFD_FLAGS.intersection(line[8:].decode("ascii", "replace").split())
            if flags:
                out.append((*current, frozenset(flags)))
    return out


def registered_ranges(pid: int, proc: str = "/proc") -> list[tuple[int, int, frozenset[str]]]:
    """The target's userfaultfd-registered areas, [] when it holds no
    userfaultfd (or has exited)."""
    if holds_userfaultfd(pid, proc) is False:
        return []
    try:
        with open(f"{proc}/{pid}/smaps", "rb") as f:
            return parse_smaps_uffd(f.read())
    except OSError:
        return []


__all__ = ["registered_ranges", "holds_userfaultfd", "parse_smaps_uffd", "UFFD_FLAGS"]
