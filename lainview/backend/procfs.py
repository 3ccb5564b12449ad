"""The /proc backend: /proc/<pid>/maps and /proc/<pid>/mem.

Bulk reads take ``process_vm_readv`` first: one syscall, no file position,
and the fastest path the kernel has. When it comes back short (an
unreadable page, a gap), the range is re-read area by area through
/proc/<pid>/mem to find exactly which pages are holes. Writes always go
through /proc/<pid>/mem, whose forced access reaches read-only pages.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os

from .errors import LainviewError, PermissionDenied, TargetExited, from_oserror
from .memory import Hole, MemoryArea, Span, parse_maps
from .processes import has_address_space, is_kernel_thread
from .process_memory import POSITION_LIMIT, ProcessMemory, split_by_areas

_libc = ctypes.CDLL(None, use_errno=True)


class _IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


_process_vm_readv = getattr(_libc, "process_vm_readv", None)
if _process_vm_readv is not None:
    _process_vm_readv.restype = ctypes.c_ssize_t
    _process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(_IoVec), ctypes.c_ulong,
                                  ctypes.POINTER(_IoVec), ctypes.c_ulong, ctypes.c_ulong]


class VmReader:
    """process_vm_readv into caller buffers, with the iovecs built once."""

    def __init__(self, pid: int):
        self.pid = pid
        self._local = _IoVec()
        self._remote = _IoVec()
        self.available = _process_vm_readv is not None

    def readinto(self, address: int, view: memoryview) -> int:
        """Bytes read (short or 0 at the first inaccessible page); -errno on failure."""
        size = len(view)
        if size == 0:
            return 0
        if _process_vm_readv is None:
            return -_errno.ENOSYS
        buf = (ctypes.c_char * size).from_buffer(view)
        self._local.iov_base = ctypes.addressof(buf)
        self._local.iov_len = size
        self._remote.iov_base = address
        self._remote.iov_len = size
        n: int = _process_vm_readv(self.pid, ctypes.byref(self._local), 1,
                              ctypes.byref(self._remote), 1, 0)
        del buf
        if n < 0:
            return -ctypes.get_errno()
        return n


class ProcfsMemory(ProcessMemory):
    """A target reached through /proc/<pid>/{maps,mem} (and process_vm_readv)."""

    backend_name = "procfs"

    def __init__(self, pid: int, *, proc: str = "/proc", writable: bool = True):
        super().__init__(pid)
        self._proc = proc
        self._mem_fd: int | None = None
        self.writable = False
        if is_kernel_thread(pid, proc):
            raise PermissionDenied(f"process {pid} is a kernel thread: it has no user "
                                   "address space to attach to", op="attach",
                                   errno=_errno.EFAULT, pid=pid)
        path = f"{proc}/{pid}/mem"
        try:
            self._mem_fd = os.open(path, os.O_RDWR if writable else os.O_RDONLY)
            self.writable = writable
        except OSError as exc:
            if not os.path.exists(f"{proc}/{pid}"):
                raise TargetExited(f"process {pid} does not exist", op="attach",
                                   errno=_errno.ESRCH, pid=pid) from None
            raise from_oserror(exc, op="attach", pid=pid) from None
        self._vm = VmReader(pid)
        # Where process_vm_readv is refused (e.g. by a seccomp policy) but
        # /proc/<pid>/mem works, stop trying it.
        self._vm_ok = self._vm.available and proc == "/proc"

    # -- maps ------------------------------------------------------------------------
    def _fetch_areas(self) -> list[MemoryArea]:
        try:
            with open(f"{self._proc}/{self.pid}/maps", "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise TargetExited(f"process {self.pid} has exited", op="maps",
                               errno=_errno.ESRCH, pid=self.pid) from None
        except OSError as exc:
            raise from_oserror(exc, op="maps", pid=self.pid) from None
        if not raw and not has_address_space(self.pid, self._proc):
            raise TargetExited(f"process {self.pid} has exited", op="maps",
                               errno=_errno.ESRCH, pid=self.pid)
        return parse_maps(os.fsdecode(raw))


    # -- reads -------------------------------------------------------------------------
    def read_into(self, address: int, view: memoryview, *,
                  areas: list[MemoryArea] | None = None,
                  no_access: list[Span] | None = None) -> list[Hole]:
        if areas is None:
            areas = self.areas(refresh=True)
        # The one-syscall path only where the map says every byte is
        # readable: never into an area that could block (userfaultfd).
        if self._vm_ok and all(p.area is not None and p.area.readable
                               for p in split_by_areas(areas, address, len(view))):
            n = self._vm.readinto(address, view)
            if n == len(view):
                return []
            if n == -_errno.ESRCH:
                raise TargetExited(f"process {self.pid} has exited", op="read",
                                   errno=_errno.ESRCH, address=address, pid=self.pid)
            if n in (-_errno.EPERM, -_errno.ENOSYS):
                self._vm_ok = False
        return super().read_into(address, view, areas=areas, no_access=no_access)

    def _transfer_in(self, address: int, view: memoryview) -> int:
        done = 0
        while done < len(view):
            if address + done >= POSITION_LIMIT:     # pread's position is signed
                return done
            try:
                n = os.preadv(self._fd(), [view[done:]], address + done)
            except OSError as exc:
                if exc.errno in (_errno.EIO, _errno.EFAULT):
                    return done
                raise from_oserror(exc, op="read", address=address + done,
                                   size=len(view) - done, pid=self.pid) from None
            if n == 0:
                self._raise_if_exited("read", address + done)
                return done
            done += n
        return done

    # -- writes -------------------------------------------------------------------------
    def _transfer_out(self, address: int, data: memoryview) -> int:
        if not self.writable:
            raise PermissionDenied("this process memory was opened read-only", op="write",
                                   address=address, pid=self.pid)
        done = 0
        while done < len(data):
            if address + done >= POSITION_LIMIT:
                return done
            try:
                n = os.pwrite(self._fd(), data[done:], address + done)
            except OSError as exc:
                if exc.errno in (_errno.EIO, _errno.EFAULT) and done:
                    return done
                raise from_oserror(exc, op="write", address=address + done,
                                   size=len(data) - done, pid=self.pid) from None
            if n == 0:
                self._raise_if_exited("write", address + done)
                return done
            done += n
        return done

    def _raise_if_exited(self, op: str, address: int) -> None:
        if not has_address_space(self.pid, self._proc):
            raise TargetExited(f"process {self.pid} has exited", op=op,
                               errno=_errno.ESRCH, address=address, pid=self.pid)

    def _fd(self) -> int:
        if self._mem_fd is None:
            raise LainviewError("the process memory is closed", op="io", pid=self.pid)
        return self._mem_fd

    def close(self) -> None:
        if self._mem_fd is not None:
            os.close(self._mem_fd)
            self._mem_fd = None
