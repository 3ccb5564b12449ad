"""The lainmemu device backend.

Works with the published lain.ko as measured (see the spec) and with this
project's own module:

- transfers are learned from the file position, since lain.ko's read and
  write return 0 although the data moved;
- every transfer is clipped to the areas of a map fetched from the device,
  and VM_IO/VM_PFNMAP areas are never touched, since lain.ko spins forever
  on a gap or on ``[vvar]``;
- nothing is transferred before OPEN_TGT has succeeded.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import fcntl
import os
from typing import Callable

from .errors import (DeviceUnavailable, FaultError, LainviewError, PermissionDenied,
                     TargetExited, from_oserror)
from .lainmemu_abi import Call, IoctlArg, VmEntry, discover, request, vm_entry_to_area
from .memory import MemoryArea
from .process_memory import ProcessMemory, file_offset


class LainmemuMemory(ProcessMemory):
    """A target reached through /dev/lainmemu."""

    backend_name = "lainmemu"

    def __init__(self, pid: int, *, root: str = "/", writable: bool = True):
        super().__init__(pid)
        self.location = discover(root)
        self._fd: int | None = None
        self.writable = writable
        try:
            self._fd = os.open(self.location.node, os.O_RDWR if writable else os.O_RDONLY)
        except OSError as exc:
            raise DeviceUnavailable(
                f"cannot open {self.location.node}: {exc.strerror or exc} "
                "(the node is root-only, mode 0600)", op="attach",
                errno=exc.errno, pid=pid) from None
        self._arg = IoctlArg()
        try:
            self._ioctl(Call.OPEN_TGT, pid=pid)
        except LainviewError:
            self.close()
            raise

    def _ioctl(self, call: Call, *, pid: int = 0, buf: int | None = None) -> int:
        """Issue one call; every call gets a valid struct ioctl_arg."""
        if self._fd is None:
            raise LainviewError("the process memory is closed", op=call.name, pid=self.pid)
        self._arg.u_buf = buf
        self._arg.target_pid = pid
        try:
            result: int = fcntl.ioctl(self._fd, request(call, self.location.major), self._arg)
            return result
        except OSError as exc:
            err = exc.errno
            if call is Call.OPEN_TGT:
                if err == _errno.ESRCH:
                    raise TargetExited(f"no process {pid}", op="attach", errno=err,
                                       pid=pid) from None
                if err == _errno.EFAULT:
                    raise PermissionDenied(
                        f"process {pid} is a kernel thread: it has no user address space",
                        op="attach", errno=err, pid=pid) from None
            if err == _errno.ESRCH:
                raise TargetExited(f"process {self.pid} has exited", op=call.name.lower(),
                                   errno=err, pid=self.pid) from None
            raise from_oserror(exc, op=call.name.lower(), pid=self.pid) from None

    def _fetch_areas(self) -> list[MemoryArea]:
        # GET_MAP_SZ sizes the module's transfer buffer: call it before every GET_MAP.
        count = self._ioctl(Call.GET_MAP_SZ)
        entries = (VmEntry * max(count, 1))()
        written = self._ioctl(Call.GET_MAP, buf=ctypes.addressof(entries))
        areas = [vm_entry_to_area(entries[i]) for i in range(min(written, count))]
        areas.sort(key=lambda a: a.start)
        return areas

    def _transfer_in(self, address: int, view: memoryview) -> int:
        return self._transfer(address, view, os.readv, "read")

    def _transfer_out(self, address: int, data: memoryview) -> int:
        return self._transfer(address, data, os.writev, "write")

    def _transfer(self, address: int, view: memoryview,
                  io: Callable[[int, list[memoryview]], int], op: str) -> int:
        """seek + readv/writev; the moved count is the larger of the return
        value and the position's advance (lain.ko returns 0)."""
        if self._fd is None:
            raise LainviewError("the process memory is closed", op=op, pid=self.pid)
        try:
            os.lseek(self._fd, file_offset(address), os.SEEK_SET)
            returned = io(self._fd, [view])
            advanced = (os.lseek(self._fd, 0, os.SEEK_CUR) - address) % (1 << 64)
        except OSError as exc:
            if exc.errno == _errno.ESRCH:
                raise TargetExited(f"process {self.pid} has exited", op=op, errno=exc.errno,
                                   address=address, pid=self.pid) from None
            if exc.errno in (_errno.EIO, _errno.EFAULT):
                return 0
            raise from_oserror(exc, op=op, address=address, size=len(view),
                               pid=self.pid) from None
        moved = max(returned, advanced)
        if moved > len(view):
            raise FaultError(f"the device reported {moved} bytes moved for a "
                             f"{len(view)}-byte {op}", op=op, address=address)
        return moved

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            self._ioctl(Call.RELEASE_TGT)
        except LainviewError:
            pass   # closing the descriptor releases the target too
        os.close(self._fd)
        self._fd = None
