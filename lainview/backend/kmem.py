"""The kmem device: kernel memory by symbol name (``docs/kmem.md``).

The binary interface is here in one place: the request numbers, ``struct
mioc_rksym``, the name limits and the errno contract. :class:`KmemDevice`
issues the six ``MIOC_*`` ioctls with ``fcntl.ioctl``; every errno becomes a
typed :class:`~lainview.backend.errors.LainviewError` whose message says what
happened and what to do. Names over the limits are refused before any ioctl.

Blocking: use it on the backend thread.
"""

from __future__ import annotations

import ctypes
import enum
import errno as _errno
import fcntl
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from .errors import (DeviceUnavailable, ErrorContext, FaultError, InvalidInput, KernelReadOnly,
                     LainviewError, NoSuchModule, NoSuchSymbol, PermissionDenied)
from .wording import printable, quoted

MAXSYMNMLEN = 512     # bytes including the NUL (Linux's KSYM_NAME_LEN)
MODMAXNAMELEN = 56    # bytes including the NUL (Linux's MODULE_NAME_LEN)
POINTER_SIZE = 8


class Request(enum.IntEnum):
    """The request numbers: SVR4's ``'M' << 8 | n`` series."""

    READKSYM = 0x4D04
    IREADKSYM = 0x4D05
    WRITEKSYM = 0x4D06
    IWRITEKSYM = 0x4D07
    LOCKSYM = 0x4D08
    UNLOCKSYM = 0x4D09


WRITE_REQUESTS = frozenset({Request.WRITEKSYM, Request.IWRITEKSYM})


class MiocRksym(ctypes.Structure):
    """struct mioc_rksym, 32 bytes."""

    _fields_ = [
        ("mirk_modname", ctypes.c_char_p),   # NULL: the standard search order
        ("mirk_symname", ctypes.c_char_p),
        ("mirk_buf", ctypes.c_void_p),
        ("mirk_buflen", ctypes.c_size_t),
    ]


assert ctypes.sizeof(MiocRksym) == 32


def encode_symbol_name(name: str) -> bytes:
    """The NUL-terminated symbol name, or InvalidInput (ENAMETOOLONG) if it
    does not fit MAXSYMNMLEN; InvalidInput for an empty name or one holding NUL."""
    return _encode_name(name, MAXSYMNMLEN, "symbol")


def encode_module_name(name: str) -> bytes:
    """The NUL-terminated module name, or InvalidInput (ENAMETOOLONG) if it
    does not fit MODMAXNAMELEN."""
    return _encode_name(name, MODMAXNAMELEN, "module")


def _encode_name(name: str, limit: int, what: str) -> bytes:
    raw = os.fsencode(name)
    if not raw:
        raise InvalidInput(f"empty {what} name", op="kmem")
    if b"\0" in raw:
        raise InvalidInput(f"the {what} name {quoted(name)} contains a NUL byte", op="kmem")
    if len(raw) + 1 > limit:
        raise InvalidInput(
            f"{what} name of {len(raw)} bytes is too long: the kernel allows at most "
            f"{limit - 1} ({limit} with the NUL): {name[:40]}…", op="kmem",
            errno=_errno.ENAMETOOLONG)
    return raw + b"\0"


def error_for(err: int, request: Request, *, symbol: str | None = None,
              module: str | None = None, size: int | None = None,
              device: str = "the kmem device") -> LainviewError:
    """The typed error, with its user message, for ``err`` from ``request``
    (the spec's errno table)."""
    op = request.name.lower()
    kw: ErrorContext = {"op": op, "errno": err, "size": size}
    where = f" in module {module}" if module else ""
    indirect = request in (Request.IREADKSYM, Request.IWRITEKSYM)
    if err == _errno.ENOENT:
        return NoSuchSymbol(f"no symbol named {symbol}{where}", **kw)
    if err == _errno.EINVAL:
        if request is Request.UNLOCKSYM:
            return NoSuchModule(
                f"cannot release module {module}: it is not loaded, or no hold on it is "
                "left to release", **kw)
        if request is Request.LOCKSYM:
            return NoSuchModule(f"cannot hold module {module}: no loaded module has that "
                                "name (see lainview kmod list)", **kw)
        if module:
            return NoSuchModule(f"no loaded module named {module} (see lainview kmod list)",
                                **kw)
        return InvalidInput(f"{device} rejected {request.name} as invalid", **kw)
    if err == _errno.ENAMETOOLONG:
        what = "module" if request in (Request.LOCKSYM, Request.UNLOCKSYM) else "symbol or module"
        return InvalidInput(f"the {what} name is longer than the kernel allows "
                            f"({MAXSYMNMLEN - 1} bytes for symbols, {MODMAXNAMELEN - 1} "
                            "for modules)", **kw)
    if err == _errno.EBADF:
        if request in WRITE_REQUESTS or request in (Request.LOCKSYM, Request.UNLOCKSYM):
            return PermissionDenied(f"{device} was opened read-only; writing needs it opened "
                                    "read-write (as root)", **kw)
        return PermissionDenied(f"{device} was opened write-only; reading needs read access",
                                **kw)
    if err == _errno.ENXIO:
        return DeviceUnavailable(f"{device} is not the kmem device's minor (wrong node?)",
                                 **kw)
    if err == _errno.EFAULT:
        target = f"{symbol}{where}" + (" (through its pointer)" if indirect else "")
        if request in WRITE_REQUESTS:
            return KernelReadOnly(
                f"the kernel refused to write {target}: the range is read-only kernel "
                "memory (code or read-only data) or not mapped; nothing was written", **kw)
        return FaultError(f"the range of {target} is outside kernel memory or not mapped"
                          + ("; the pointer may be NULL or stale" if indirect else ""), **kw)
    if err == _errno.ENOTTY:
        return DeviceUnavailable(f"{device} does not answer the kmem ioctls (ENOTTY): it is "
                                 "not a kmem device", **kw)
    if err in (_errno.EPERM, _errno.EACCES):
        return PermissionDenied(f"{device} refused {request.name}: run lainview as root", **kw)
    return LainviewError(f"{request.name} on {device} failed: {os.strerror(err)}", **kw)


# -- discovery --------------------------------------------------------------------------------

SYSFS_MAJOR = "sys/class/lainko/kmem_major"
NODE = "dev/lainkmem"
LEGACY_NODE = "dev/kmem"
PROBE_SYMBOL = "lainview_probe_no_such_symbol"


@dataclass(frozen=True, slots=True)
class KmemLocation:
    node: str
    reason: str
    major: int | None = None


def probe(fd: int) -> bool:
    """Whether the open descriptor answers the kmem ioctls: a READKSYM of a
    name no kernel has must fail with ENOENT (or succeed), not ENOTTY."""
    arg = MiocRksym()
    name = ctypes.create_string_buffer(encode_symbol_name(PROBE_SYMBOL))
    buf = ctypes.create_string_buffer(1)
    arg.mirk_modname = None
    arg.mirk_symname = ctypes.cast(name, ctypes.c_char_p)
    arg.mirk_buf = ctypes.addressof(buf)
    arg.mirk_buflen = 1
    try:
        fcntl.ioctl(fd, Request.READKSYM, arg)
    except OSError as exc:
        return exc.errno == _errno.ENOENT
    return True


def discover(user_path: str | None = None, root: str | os.PathLike[str] = "/") -> KmemLocation:
    """Find the kmem device: ``user_path`` if given (only it); else
    /dev/lainkmem, whose major /sys/class/lainko/kmem_major gives; else
    /dev/kmem if it answers these ioctls. Raises DeviceUnavailable saying
    what was tried and how to get the device; InvalidInput for a
    ``user_path`` that is missing or cannot be a device (a directory, a
    FIFO, whose read-only open would wait for a writer forever, a socket):
    the user's mistake, which under ``--ksource auto`` ends the choice as a
    missing ``--image`` does."""
    if user_path:
        shown = printable(user_path)
        try:
            st = os.stat(user_path)
        except OSError as exc:
            why = "no such file" if exc.errno == _errno.ENOENT else exc.strerror or str(exc)
            raise InvalidInput(f"--kmem {shown}: {why}", op="discover") from None
        for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                           (stat.S_ISSOCK, "a socket")):
            if test(st.st_mode):
                raise InvalidInput(f"--kmem {shown} is {what}, not a kmem device",
                                   op="discover")
        return KmemLocation(user_path, f"given with --kmem {user_path}")
    root = Path(root)
    tried = []
    attr = root / SYSFS_MAJOR
    major = None
    try:
        major = int(attr.read_text().strip(), 10)
    except FileNotFoundError:
        tried.append("the lainko kernel module is not loaded (no /sys/class/lainko/kmem_major)")
    except (OSError, ValueError) as exc:
        tried.append(f"cannot read a major number from /{SYSFS_MAJOR}: {exc}")
    if major is not None:
        node = root / NODE
        try:
            st = os.stat(node)
        except FileNotFoundError:
            tried.append(f"lainko is loaded (kmem major {major}) but /{NODE} does not exist "
                         f"(create it: mknod /{NODE} c {major} <minor>)")
        else:
            if stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == major:
                return KmemLocation(str(node), f"/{NODE} (major {major}, from /{SYSFS_MAJOR})",
                                    major)
            tried.append(f"/{NODE} is not a character device of major {major}")
    legacy = root / LEGACY_NODE
    if legacy.exists():
        try:
            fd = os.open(legacy, os.O_RDONLY)
        except OSError as exc:
            tried.append(f"/{LEGACY_NODE} cannot be opened: {exc.strerror or exc}")
        else:
            try:
                if probe(fd):
                    return KmemLocation(str(legacy), f"/{LEGACY_NODE} answers the kmem ioctls")
                tried.append(f"/{LEGACY_NODE} exists but does not answer the kmem ioctls")
            finally:
                os.close(fd)
    else:
        tried.append(f"no /{LEGACY_NODE} (Linux removed it in 5.13)")
    raise DeviceUnavailable(
        "no kmem device: " + "; ".join(tried) + ". Load the lainko module (it provides "
        "/dev/lainkmem), or give a node with --kmem PATH", op="discover")


# -- the device ---------------------------------------------------------------------------------

class KmemDevice:
    """An open kmem device. ``writable`` opens it O_RDWR (needed for writes
    and holds), else O_RDONLY. Every method may raise the errors of
    :func:`error_for`; names over the limits raise InvalidInput before any
    ioctl."""

    def __init__(self, path: str, *, writable: bool = False):
        self.path = path
        self.writable = writable
        try:
            self._fd: int | None = os.open(path, (os.O_RDWR if writable else os.O_RDONLY)
                                           | os.O_CLOEXEC)
        except OSError as exc:
            raise DeviceUnavailable(
                f"cannot open {path} {'read-write' if writable else 'read-only'}: "
                f"{exc.strerror or exc} (the kmem device is root-only)", op="open",
                errno=exc.errno) from None

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise LainviewError(f"{self.path} is closed", op="kmem")
        return self._fd

    def _transfer(self, request: Request, symbol: str, buf: ctypes.Array[ctypes.c_char], size: int,
                  module: str | None) -> None:
        sym_raw = encode_symbol_name(symbol)
        mod_raw = encode_module_name(module) if module else None
        fd = self.fd
        sym_buf = ctypes.create_string_buffer(sym_raw, len(sym_raw))
        mod_buf = ctypes.create_string_buffer(mod_raw, len(mod_raw)) if mod_raw else None
        arg = MiocRksym()
        arg.mirk_modname = ctypes.cast(mod_buf, ctypes.c_char_p) if mod_buf else None
        arg.mirk_symname = ctypes.cast(sym_buf, ctypes.c_char_p)
        arg.mirk_buf = ctypes.addressof(buf)
        arg.mirk_buflen = size
        try:
            fcntl.ioctl(fd, request, arg)
        except OSError as exc:
            raise error_for(exc.errno or _errno.EIO, request, symbol=symbol, module=module, size=size,
                            device=self.path) from None

    def read(self, symbol: str, size: int, *, module: str | None = None,
             indirect: bool = False) -> bytes:
        """``size`` bytes at ``symbol`` (READKSYM), or where the pointer at
        ``symbol`` points (IREADKSYM). Raises NoSuchSymbol, NoSuchModule,
        FaultError, PermissionDenied, InvalidInput."""
        if size <= 0:
            raise InvalidInput(f"nothing to read: length {size}", op="read")
        buf = ctypes.create_string_buffer(size)
        self._transfer(Request.IREADKSYM if indirect else Request.READKSYM, symbol, buf,
                       size, module)
        return buf.raw

    def read_pointer(self, symbol: str, *, module: str | None = None) -> int:
        """The 8-byte pointer stored at ``symbol``."""
        return int.from_bytes(self.read(symbol, POINTER_SIZE, module=module), "little")

    def write(self, symbol: str, data: bytes, *, module: str | None = None,
              indirect: bool = False) -> None:
        """Write ``data`` at ``symbol`` (WRITEKSYM) or through its pointer
        (IWRITEKSYM). Raises KernelReadOnly (nothing written), NoSuchSymbol,
        NoSuchModule, PermissionDenied (opened read-only), InvalidInput."""
        if not data:
            raise InvalidInput("nothing to write", op="write")
        buf = ctypes.create_string_buffer(bytes(data), len(data))
        self._transfer(Request.IWRITEKSYM if indirect else Request.WRITEKSYM, symbol, buf,
                       len(data), module)

    def _module_call(self, request: Request, module: str) -> None:
        raw = encode_module_name(module)
        fd = self.fd
        try:
            fcntl.ioctl(fd, request, raw)
        except OSError as exc:
            raise error_for(exc.errno or _errno.EIO, request, module=module,
                            device=self.path) from None

    def lock(self, module: str) -> None:
        """LOCKSYM: one more hold on ``module``, so it cannot be unloaded.
        Raises NoSuchModule, PermissionDenied, InvalidInput."""
        self._module_call(Request.LOCKSYM, module)

    def unlock(self, module: str) -> None:
        """UNLOCKSYM: one hold fewer. Raises NoSuchModule (not loaded, or no
        hold left), PermissionDenied, InvalidInput."""
        self._module_call(Request.UNLOCKSYM, module)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
