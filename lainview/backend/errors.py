"""The one exception hierarchy of the backend.

Every error carries the operation that failed, the errno the kernel gave
(when there was one), the address and the size involved, so the UI can show
it inline ("EFAULT at 0x7f…: page not mapped") and the CLI can print it and
exit non-zero.
"""

from __future__ import annotations

import errno as _errno
import os
from typing import TypedDict, Unpack


class ErrorContext(TypedDict, total=False):
    """The keyword arguments every LainviewError takes besides its message."""

    op: str
    errno: int | None
    address: int | None
    size: int | None
    pid: int | None


def _yama_ptrace_scope(proc: str = "/proc") -> int | None:
    try:
        with open(f"{proc}/sys/kernel/yama/ptrace_scope") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


_YAMA_EXPLANATION = {
    1: "Yama ptrace_scope is 1: only a parent may attach to its descendants "
       "unless you hold CAP_SYS_PTRACE (run as root, or set "
       "kernel.yama.ptrace_scope=0)",
    2: "Yama ptrace_scope is 2: only processes with CAP_SYS_PTRACE may attach "
       "(run lainview as root)",
    3: "Yama ptrace_scope is 3: attaching is disabled on this system until "
       "reboot",
}


def attach_denied_hint() -> str:
    """Explain, for this machine, why attaching can be refused and what to do."""
    parts = []
    if os.geteuid() != 0:
        parts.append(
            "you are not root: without CAP_SYS_PTRACE you may only attach to "
            "processes of your own user that are not setuid or otherwise "
            "protected (run lainview as root, or grant it CAP_SYS_PTRACE)")
    scope = _yama_ptrace_scope()
    if scope in _YAMA_EXPLANATION:
        parts.append(_YAMA_EXPLANATION[scope])
    if not parts:
        parts.append("the kernel's ptrace access check refused it "
                     "(the target may be protected, e.g. non-dumpable)")
    return "; ".join(parts)


class LainviewError(Exception):
    """Base of every backend error.

    ``op`` names the operation ("read", "write", "attach", "maps", ...),
    ``errno`` is the kernel's errno or None, ``address``/``size`` locate the
    failure in the target when it has one.
    """

    default_errno: int | None = None

    def __init__(self, message: str, *, op: str = "", errno: int | None = None,
                 address: int | None = None, size: int | None = None,
                 pid: int | None = None):
        self.op = op
        self.errno_from_kernel = errno is not None
        self.errno = errno if errno is not None else self.default_errno
        self.address = address
        self.size = size
        self.pid = pid
        self.message = message
        super().__init__(message)

    @property
    def errno_name(self) -> str:
        return _errno.errorcode.get(self.errno, str(self.errno)) if self.errno else ""

    def __str__(self) -> str:
        head = self.errno_name
        if self.address is not None:
            head = f"{head} at {self.address:#x}" if head else f"at {self.address:#x}"
        return f"{head}: {self.message}" if head else self.message


class InvalidInput(LainviewError, ValueError):
    """Input that cannot be used: malformed hex, a bad address, a name too long.

    Its text is the message alone ("no module named libfoo.so in …"): the
    EINVAL it carries for programs is named only when a kernel or device
    returned it."""

    default_errno = _errno.EINVAL

    def __str__(self) -> str:
        if self.errno_from_kernel:
            return super().__str__()
        if self.address is not None:
            return f"at {self.address:#x}: {self.message}"
        return self.message


class AddressOutOfRange(InvalidInput):
    """A number typed as an address, or an address plus an offset, that no
    64-bit address can be."""


class Unresolved(InvalidInput):
    """A location (backend/locations.py) that does not resolve in this map
    or by this symbol lookup; the message names what and why, and any
    address it names (kept in ``address`` too). For a pointer path,
    ``level`` is where it broke, counted from 1 (the first pointer read;
    one more than the number of steps: the value's own address), else None."""

    def __init__(self, message: str, *, level: int | None = None,
                 **context: Unpack[ErrorContext]):
        super().__init__(message, **context)
        self.level = level

    def __str__(self) -> str:
        return self.message


class PermissionDenied(LainviewError):
    """The kernel refused access (EPERM/EACCES)."""

    default_errno = _errno.EPERM


class TargetExited(LainviewError):
    """The target process is gone (ESRCH, or its address space is gone)."""

    default_errno = _errno.ESRCH


class FaultError(LainviewError):
    """Some bytes of a range could not be transferred: unmapped, not readable,
    or refused by the kernel (EFAULT/EIO)."""

    default_errno = _errno.EFAULT


class PartialWrite(FaultError):
    """A write stopped part-way: ``written`` bytes from ``address`` reached
    the target, the rest (from ``address + written``) did not."""

    def __init__(self, message: str, *, written: int, **kw: Unpack[ErrorContext]):
        super().__init__(message, **kw)
        self.written = written


class VerifyMismatch(LainviewError):
    """The bytes read back after a write are not the bytes written: the target
    (or another writer) changed them, or the write did not take."""

    default_errno = _errno.EIO


class DeviceUnavailable(LainviewError):
    """A kernel device (lainmemu, kmem) is not loaded or cannot be opened."""

    default_errno = _errno.ENODEV


class Cancelled(LainviewError):
    """The request was cancelled before it finished."""

    default_errno = _errno.ECANCELED


class JournalError(LainviewError):
    """The write journal could not be written or read; no write was made."""


def from_oserror(exc: OSError, *, op: str, address: int | None = None,
                 size: int | None = None, pid: int | None = None,
                 what: str = "") -> LainviewError:
    """Turn an OSError from a syscall on a target into the matching typed error."""
    err = exc.errno
    subject = what or (f"process {pid}" if pid is not None else "the target")
    kw: ErrorContext = {"op": op, "errno": err, "address": address, "size": size, "pid": pid}
    if err in (_errno.EPERM, _errno.EACCES):
        return PermissionDenied(
            f"{op} of {subject} was denied: {attach_denied_hint()}", **kw)
    if err == _errno.ESRCH or (err == _errno.ENOENT and pid is not None):
        return TargetExited(f"{subject} has exited", **kw)
    if err in (_errno.EFAULT, _errno.EIO):
        return FaultError(f"{op} failed: the page is not mapped or not accessible", **kw)
    if err == _errno.ENAMETOOLONG:
        return InvalidInput(f"{op}: name too long", **kw)
    if err == _errno.EINVAL:
        return InvalidInput(f"{op}: the kernel rejected the request as invalid", **kw)
    return LainviewError(f"{op} of {subject} failed: {os.strerror(err) if err else exc}", **kw)


# -- kernel targets --------------------------------------------------------------------------

class NoSuchSymbol(LainviewError):
    """No kernel symbol of that name (ENOENT from the kmem device), in the
    given module when one was named."""

    default_errno = _errno.ENOENT


class NoSuchModule(LainviewError):
    """The named module is not loaded (EINVAL from the kmem device), or an
    UNLOCK found no hold to release. Like a process that does not exist, an
    operation that failed (CLI exit 1), not malformed input."""

    default_errno = _errno.EINVAL


class KernelReadOnly(FaultError):
    """A kernel write was refused because the range is read-only kernel
    memory (code, read-only data) or not mapped; nothing was written."""


class CapabilityMissing(LainviewError):
    """The chosen kernel source cannot do this (e.g. write without the kmem
    device); the message says what is missing and how to get it."""

    default_errno = _errno.EOPNOTSUPP


# -- hardware watchpoints (backend/watchpoints.py) ---------------------------------------------

class WatchpointLimit(LainviewError):
    """No free debug register on a thread (ENOSPC): x86 has four per thread."""

    default_errno = _errno.ENOSPC


class WatchpointUnsupported(LainviewError):
    """No hardware breakpoints here (a kernel without them, a VM that hides them)."""

    default_errno = _errno.EOPNOTSUPP
