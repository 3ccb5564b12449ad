"""The lainko binary interfaces (docs/lainmemu.md, kmem.md), for the
in-guest device tests. Standard library only."""

import ctypes
import errno
import os
import struct

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SYSFS_CLASS = "/sys/class/lainko"
# The module with the tests' known symbols (kmod/lainko_selftest.c), loaded
# beside lainko by the VM harness.
SELFTEST_MODULE = "lainko_selftest"

# lainmemu: (nr, dir, size); dir 1 = write, 2 = read.
MEMU_CALLS = {
    "OPEN_TGT": (0, 1, 8),
    "RELEASE_TGT": (1, 0, 0),
    "GET_MAP": (2, 3, 8),
    "GET_MAP_SZ": (3, 1, 8),
}
VM_ENTRY = struct.Struct("=4Q4096s")
assert VM_ENTRY.size == 4128

MIOC_READKSYM = 0x4D04
MIOC_IREADKSYM = 0x4D05
MIOC_WRITEKSYM = 0x4D06
MIOC_IWRITEKSYM = 0x4D07
MIOC_LOCKSYM = 0x4D08
MIOC_UNLOCKSYM = 0x4D09

libc = ctypes.CDLL(None, use_errno=True)
libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
libc.ioctl.restype = ctypes.c_int


libc.lseek.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int]
libc.lseek.restype = ctypes.c_int64


def seek_address(fd, addr):
    """lseek(fd, addr, SEEK_SET) for any 64-bit address; os.lseek takes a
    position above 2**63 (negative as off_t) for an error."""
    pos = libc.lseek(fd, addr - (1 << 64) if addr >= 1 << 63 else addr, os.SEEK_SET)
    return pos & ((1 << 64) - 1)


def read_major(attr="lainmemu_major"):
    with open(f"{SYSFS_CLASS}/{attr}") as f:
        return int(f.read())


def memu_request(name, major):
    nr, direction, size = MEMU_CALLS[name]
    return (direction << 30) | (size << 16) | ((major & 0xFF) << 8) | nr


class IoctlArg(ctypes.Structure):
    _fields_ = [("u_buf", ctypes.c_void_p), ("target_pid", ctypes.c_int)]


assert ctypes.sizeof(IoctlArg) == 16


class MiocRksym(ctypes.Structure):
    _fields_ = [
        ("mirk_modname", ctypes.c_void_p),
        ("mirk_symname", ctypes.c_void_p),
        ("mirk_buf", ctypes.c_void_p),
        ("mirk_buflen", ctypes.c_size_t),
    ]


assert ctypes.sizeof(MiocRksym) == 32


def raw_ioctl(fd, request, arg):
    """ioctl(2) with a raw pointer/integer argument; returns the result or
    raises OSError with the errno."""
    ret = libc.ioctl(fd, request, arg)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


class Memu:
    """One open /dev/lainmemu descriptor."""

    def __init__(self, path, flags=os.O_RDWR):
        self.major = read_major()
        self.fd = os.open(path, flags)

    def close(self):
        os.close(self.fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, name, pid=0, buf=None):
        arg = IoctlArg(ctypes.cast(buf, ctypes.c_void_p) if buf is not None else None, pid)
        return raw_ioctl(self.fd, memu_request(name, self.major), ctypes.addressof(arg))

    def open_target(self, pid):
        return self.call("OPEN_TGT", pid)

    def release(self):
        return self.call("RELEASE_TGT")

    def map_size(self):
        return self.call("GET_MAP_SZ")

    def get_map(self):
        """[(start, end, pgoff, flags, path bytes)] via GET_MAP_SZ + GET_MAP."""
        cap = self.map_size()
        buf = ctypes.create_string_buffer(cap * VM_ENTRY.size)
        count = self.call("GET_MAP", buf=buf)
        assert 0 <= count <= cap
        entries = []
        for i in range(count):
            start, end, pgoff, flags, path = VM_ENTRY.unpack_from(buf, i * VM_ENTRY.size)
            entries.append((start, end, pgoff, flags, path.split(b"\0", 1)[0]))
        return entries

    def pread(self, addr, size):
        return os.pread(self.fd, size, addr)

    def pwrite(self, addr, data):
        return os.pwrite(self.fd, data, addr)


def cstr(value):
    """A NUL-terminated C string that stays alive with the returned object."""
    return ctypes.create_string_buffer(value if isinstance(value, bytes) else value.encode())


def ptr(obj):
    """The address a ctypes object stands for: a buffer's own address, or
    the value of a c_void_p (a deliberately bad pointer)."""
    if obj is None:
        return None
    if isinstance(obj, ctypes.c_void_p):
        return obj.value
    return ctypes.addressof(obj)


def ksym_request(fd, request, symname, buf, buflen=None, modname=None):
    """One MIOC_*KSYM request; buf is a ctypes buffer (kept alive here)."""
    sym = cstr(symname) if isinstance(symname, (bytes, str)) else symname
    mod = cstr(modname) if isinstance(modname, (bytes, str)) else modname
    rk = MiocRksym(ptr(mod), ptr(sym), ptr(buf), len(buf) if buflen is None else buflen)
    return raw_ioctl(fd, request, ctypes.addressof(rk))


def read_ksym(fd, symname, size, modname=None, indirect=False):
    buf = ctypes.create_string_buffer(size)
    request = MIOC_IREADKSYM if indirect else MIOC_READKSYM
    ksym_request(fd, request, symname, buf, size, modname)
    return buf.raw


def write_ksym(fd, symname, data, modname=None, indirect=False):
    buf = ctypes.create_string_buffer(data, len(data))
    request = MIOC_IWRITEKSYM if indirect else MIOC_WRITEKSYM
    return ksym_request(fd, request, symname, buf, len(data), modname)


def module_hold(fd, request, name):
    """LOCKSYM/UNLOCKSYM; name is a str, or None/c_void_p for bad pointers."""
    arg = cstr(name) if isinstance(name, (bytes, str)) else name
    return raw_ioctl(fd, request, ptr(arg))


def errno_of(func, *args, **kwargs):
    """The errno func raises (OSError), or None when it succeeds."""
    try:
        func(*args, **kwargs)
    except OSError as exc:
        return exc.errno
    return None


__all__ = [name for name in dir() if not name.startswith("_")] + ["errno"]
