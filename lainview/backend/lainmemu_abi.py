"""The lainmemu device's binary interface, in exactly one place.

See ``docs/lainmemu.md``: the structures, the request numbers (which
use the device's major number as the ioctl type byte), and how to find the
device. x86-64 LP64.
"""

from __future__ import annotations

import ctypes
import enum
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import DeviceUnavailable
from .memory import DELETED_SUFFIX, PAGE_SIZE, MemoryArea, Perm

PATH_MAX = 4096

# Raw vm_flags bits the device reports in vm_entry.prot.
VM_READ = 0x1
VM_WRITE = 0x2
VM_EXEC = 0x4
VM_SHARED = 0x8
VM_MAYSHARE = 0x80
VM_PFNMAP = 0x400
VM_IO = 0x4000


class IoctlArg(ctypes.Structure):
    """struct ioctl_arg: the argument of every call, 16 bytes."""

    _fields_ = [("u_buf", ctypes.c_void_p), ("target_pid", ctypes.c_int)]


class VmEntry(ctypes.Structure):
    """struct vm_entry: one memory area as the device reports it, 4128 bytes."""

    _fields_ = [
        ("vm_start", ctypes.c_ulong),
        ("vm_end", ctypes.c_ulong),
        ("file_off", ctypes.c_ulong),   # in pages (vm_pgoff)
        ("prot", ctypes.c_ulong),       # raw vm_flags
        ("file_path", ctypes.c_char * PATH_MAX),
    ]


assert ctypes.sizeof(IoctlArg) == 16
assert ctypes.sizeof(VmEntry) == 4128

_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2


class Call(enum.IntEnum):
    """The device's calls, by the ``nr`` the module answers to."""

    OPEN_TGT = 0
    RELEASE_TGT = 1
    GET_MAP = 2
    GET_MAP_SZ = 3


# nr -> (dir, size): the spec's table.
_CALLS = {
    Call.OPEN_TGT: (_IOC_WRITE, 8),
    Call.RELEASE_TGT: (_IOC_NONE, 0),
    Call.GET_MAP: (_IOC_READ | _IOC_WRITE, 8),
    Call.GET_MAP_SZ: (_IOC_WRITE, 8),
}


def request(call: Call, major: int) -> int:
    """The ioctl request number of ``call`` for a device with this major."""
    direction, size = _CALLS[call]
    return direction << 30 | size << 16 | (major & 0xFF) << 8 | int(call)


def vm_entry_to_area(entry: VmEntry) -> MemoryArea:
    """Decode one record into the backend's MemoryArea.

    ``file_off`` is converted from pages to bytes, and normalised to 0 where
    there is no backing file (the device reports the raw vm_pgoff for
    anonymous areas too). Only bytes before the first NUL of the path count.
    """
    raw = bytes(entry.file_path)
    path = os.fsdecode(raw.split(b"\0", 1)[0])
    flags = entry.prot
    perms = Perm.NONE
    if flags & VM_READ:
        perms |= Perm.READ
    if flags & VM_WRITE:
        perms |= Perm.WRITE
    if flags & VM_EXEC:
        perms |= Perm.EXEC
    if flags & VM_MAYSHARE:
        perms |= Perm.SHARED
    file_backed = path.startswith("/")
    return MemoryArea(start=entry.vm_start, end=entry.vm_end, perms=perms,
                      offset=entry.file_off * PAGE_SIZE if file_backed else 0,
                      path=path, io=bool(flags & (VM_IO | VM_PFNMAP)),
                      deleted=path.endswith(DELETED_SUFFIX))


@dataclass(frozen=True, slots=True)
class DeviceLocation:
    major: int
    node: str
    major_attribute: str


SYSFS_CLASS = "sys/class/lainko"
MAJOR_ATTRIBUTES = ("lainmemu_major", "memu_major")


def discover(root: str | os.PathLike[str] = "/") -> DeviceLocation:
    """Find the lainmemu node under ``root``.

    Reads the major from /sys/class/lainko/lainmemu_major (or memu_major),
    then takes /dev/lainmemu or /dev/char/MAJOR:0. Raises DeviceUnavailable
    saying which step failed; /proc is then used instead.
    """
    root = Path(root)
    class_dir = root / SYSFS_CLASS
    if not class_dir.is_dir():
        raise DeviceUnavailable(
            "the lainko module is not loaded (no /sys/class/lainko); "
            "lainview uses /proc instead", op="discover")
    for name in MAJOR_ATTRIBUTES:
        attr = class_dir / name
        try:
            text = attr.read_text().strip()
        except OSError:
            continue
        try:
            major = int(text, 10)
        except ValueError:
            raise DeviceUnavailable(f"{attr} holds {text!r}, not a major number",
                                    op="discover") from None
        break
    else:
        raise DeviceUnavailable(
            f"the lainko class exists but has neither {' nor '.join(MAJOR_ATTRIBUTES)}; "
            "lainview uses /proc instead", op="discover")
    for node in (root / "dev/lainmemu", root / f"dev/char/{major}:0"):
        if node.exists():
            return DeviceLocation(major=major, node=str(node), major_attribute=name)
    raise DeviceUnavailable(
        f"lainko is loaded (major {major}) but neither /dev/lainmemu nor "
        f"/dev/char/{major}:0 exists; lainview uses /proc instead", op="discover")
