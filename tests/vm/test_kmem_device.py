"""/dev/lainkmem: kernel memory by symbol name (docs/kmem.md)."""

import ctypes
import errno
import os
import struct
import subprocess

import pytest

from lainko_abi import (
    SELFTEST_MODULE,
    MIOC_LOCKSYM,
    MIOC_READKSYM,
    MIOC_UNLOCKSYM,
    MIOC_WRITEKSYM,
    errno_of,
    ksym_request,
    module_hold,
    raw_ioctl,
    read_ksym,
    write_ksym,
)

pytestmark = pytest.mark.device

UTS_FIELD = 65  # __NEW_UTS_LEN + 1
# A small library module with no users and no side effects when loaded.
SPARE_MODULE = "crc8"


@pytest.fixture
def kmem(kmem_node):
    fd = os.open(kmem_node, os.O_RDWR)
    yield fd
    os.close(fd)


@pytest.fixture
def kmem_ro(kmem_node):
    fd = os.open(kmem_node, os.O_RDONLY)
    yield fd
    os.close(fd)


def test_readksym_init_uts_ns_release_is_uname(kmem_ro):
    data = read_ksym(kmem_ro, "init_uts_ns", 6 * UTS_FIELD)
    uname = os.uname()
    # struct new_utsname: sysname, nodename, release, ... of 65 bytes each.
    base = data.index(uname.sysname.encode() + b"\0")
    field = data[base + 2 * UTS_FIELD : base + 3 * UTS_FIELD]
    assert field.split(b"\0", 1)[0] == uname.release.encode()


def test_ireadksym_saved_command_line_is_proc_cmdline(kmem_ro):
    cmdline = open("/proc/cmdline", "rb").read().rstrip(b"\n")
    data = read_ksym(kmem_ro, "saved_command_line", len(cmdline) + 1, indirect=True)
    assert data == cmdline + b"\0"


def _swappiness():
    with open("/proc/sys/vm/swappiness") as f:
        return int(f.read())


def test_writeksym_sysctl_variable_then_restore(kmem):
    old = _swappiness()
    raw = read_ksym(kmem, "vm_swappiness", 4)
    assert struct.unpack("=i", raw)[0] == old
    new = 37 if old != 37 else 38
    try:
        assert write_ksym(kmem, "vm_swappiness", struct.pack("=i", new)) == 0
        assert _swappiness() == new
    finally:
        write_ksym(kmem, "vm_swappiness", raw)
    assert _swappiness() == old


@pytest.mark.parametrize(
    "symbol, modname",
    [
        ("linux_banner", None),  # kernel read-only data
        ("_stext", None),  # kernel text
        ("lainko_kmem_banner", SELFTEST_MODULE),  # module read-only data
        ("kmem_ioctl", "lainko"),  # module text
    ],
)
def test_write_to_read_only_memory_is_efault(kmem, symbol, modname):
    # Writing the bytes already there: were the module to write anyway,
    # nothing would change, and the errno check still fails the test.
    before = read_ksym(kmem, symbol, 64, modname)
    assert errno_of(write_ksym, kmem, symbol, before, modname) == errno.EFAULT
    assert errno_of(write_ksym, kmem, symbol, before[:1], modname) == errno.EFAULT
    assert read_ksym(kmem, symbol, 64, modname) == before


def test_write_running_into_unmapped_memory_writes_nothing(kmem):
    # From lainko's writable scratch buffer 1 MiB onwards crosses the end of
    # the module's memory (a vmalloc guard page at the latest). The range
    # is refused whole: the writable start must stay untouched. A module
    # that wrote up to the fault would also overwrite its own data with
    # zeros, which would fail this run too.
    before = read_ksym(kmem, "lainko_kmem_scratch", 64, modname=SELFTEST_MODULE)
    data = b"\xa5" * 64 + bytes((1 << 20) - 64)
    assert errno_of(write_ksym, kmem, "lainko_kmem_scratch", data, modname=SELFTEST_MODULE) == errno.EFAULT
    assert read_ksym(kmem, "lainko_kmem_scratch", 64, modname=SELFTEST_MODULE) == before


def test_module_scoping_finds_a_module_s_symbols(kmem):
    own = read_ksym(kmem, "lainko_kmem_banner", 19, modname=SELFTEST_MODULE)
    assert own == b"lainko kmem device\0"
    assert read_ksym(kmem, "lainko_kmem_banner", 19) == own
    assert errno_of(read_ksym, kmem, "init_uts_ns", 8, modname=SELFTEST_MODULE) == errno.ENOENT
    assert errno_of(read_ksym, kmem, "lainko_kmem_banner", 8, modname="lainko") == errno.ENOENT
    assert errno_of(read_ksym, kmem, "init_uts_ns", 8, modname="no_such_module") == errno.EINVAL

    scratch = read_ksym(kmem, "lainko_kmem_scratch", 64, modname=SELFTEST_MODULE)
    try:
        assert write_ksym(kmem, "lainko_kmem_scratch", b"patched!", modname=SELFTEST_MODULE) == 0
        assert read_ksym(kmem, "lainko_kmem_scratch", 8, modname=SELFTEST_MODULE) == b"patched!"
    finally:
        write_ksym(kmem, "lainko_kmem_scratch", scratch, modname=SELFTEST_MODULE)


def test_enoent_for_unknown_symbol(kmem_ro):
    assert errno_of(read_ksym, kmem_ro, "no_such_symbol_lainko", 8) == errno.ENOENT


def test_enametoolong_at_the_limits(kmem_ro):
    # 511 characters fit with the NUL (not found); 512 do not.
    assert errno_of(read_ksym, kmem_ro, "s" * 511, 8) == errno.ENOENT
    assert errno_of(read_ksym, kmem_ro, "s" * 512, 8) == errno.ENAMETOOLONG
    assert errno_of(read_ksym, kmem_ro, "init_uts_ns", 8, modname="m" * 55) == errno.EINVAL
    assert errno_of(read_ksym, kmem_ro, "init_uts_ns", 8, modname="m" * 56) == errno.ENAMETOOLONG
    assert errno_of(module_hold, kmem_ro, MIOC_LOCKSYM, "m" * 56) == errno.ENAMETOOLONG


def test_einval_for_unknown_module_request_and_unlock_at_zero(kmem):
    assert errno_of(module_hold, kmem, MIOC_LOCKSYM, "no_such_module") == errno.EINVAL
    assert errno_of(module_hold, kmem, MIOC_UNLOCKSYM, "no_such_module") == errno.EINVAL
    assert errno_of(module_hold, kmem, MIOC_UNLOCKSYM, "lainko") == errno.EINVAL
    for request in (0x4D03, 0x4D0A, 0, 0xC0084D04):
        assert errno_of(raw_ioctl, kmem, request, 0) == errno.EINVAL


def test_ebadf_for_the_wrong_open_mode(kmem_node):
    ro = os.open(kmem_node, os.O_RDONLY)
    wo = os.open(kmem_node, os.O_WRONLY)
    try:
        assert errno_of(write_ksym, ro, "lainko_kmem_scratch", b"x", modname=SELFTEST_MODULE) == errno.EBADF
        assert errno_of(write_ksym, ro, "lainko_kmem_scratch", b"x", modname=SELFTEST_MODULE, indirect=True) == errno.EBADF
        assert errno_of(read_ksym, wo, "init_uts_ns", 8) == errno.EBADF
        assert errno_of(read_ksym, wo, "saved_command_line", 8, indirect=True) == errno.EBADF
    finally:
        os.close(ro)
        os.close(wo)


def test_enxio_for_a_kmem_request_on_the_lainmemu_minor(memu_node):
    fd = os.open(memu_node, os.O_RDWR)
    try:
        for request in range(0x4D04, 0x4D0A):
            assert errno_of(read_ksym, fd, "init_uts_ns", 8) == errno.ENXIO
            assert errno_of(raw_ioctl, fd, request, 0) == errno.ENXIO
    finally:
        os.close(fd)


def test_efault_for_bad_pointers_and_ranges(kmem):
    buf = ctypes.create_string_buffer(16)
    assert errno_of(raw_ioctl, kmem, MIOC_READKSYM, 8) == errno.EFAULT
    assert errno_of(raw_ioctl, kmem, MIOC_READKSYM, 0) == errno.EFAULT
    rk_bad_name = ctypes.c_void_p(8)
    assert errno_of(ksym_request, kmem, MIOC_READKSYM, rk_bad_name, buf) == errno.EFAULT
    assert errno_of(ksym_request, kmem, MIOC_READKSYM, "init_uts_ns", None, 16) == errno.EFAULT
    assert errno_of(ksym_request, kmem, MIOC_READKSYM, "init_uts_ns", buf, 16, ctypes.c_void_p(8)) == errno.EFAULT
    assert errno_of(module_hold, kmem, MIOC_LOCKSYM, None) == errno.EFAULT
    # Through a pointer that is not a kernel address ("Linux\0..." as bytes).
    assert errno_of(read_ksym, kmem, "init_uts_ns", 8, indirect=True) == errno.EFAULT
    assert errno_of(write_ksym, kmem, "init_uts_ns", b"x", indirect=True) == errno.EFAULT
    # A range that wraps around the end of the address space.
    assert errno_of(ksym_request, kmem, MIOC_READKSYM, "init_uts_ns", buf, 1 << 63) == errno.EFAULT
    assert errno_of(ksym_request, kmem, MIOC_WRITEKSYM, "init_uts_ns", buf, (1 << 64) - 1) == errno.EFAULT


def test_zero_length_transfers_succeed(kmem):
    buf = ctypes.create_string_buffer(1)
    assert ksym_request(kmem, MIOC_READKSYM, "init_uts_ns", buf, 0) == 0
    assert ksym_request(kmem, MIOC_WRITEKSYM, "init_uts_ns", buf, 0) == 0


def test_kernel_writes_need_cap_sys_rawio(kmem_node):
    fd = os.open(kmem_node, os.O_RDWR)
    child = os.fork()
    if child == 0:
        code = 99
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            read_ksym(fd, "lainko_kmem_scratch", 8, modname=SELFTEST_MODULE)
            write_ksym(fd, "lainko_kmem_scratch", b"x", modname=SELFTEST_MODULE)
            code = 0
        except OSError as exc:
            code = exc.errno
        finally:
            os._exit(code)
    os.close(fd)
    _, status = os.waitpid(child, 0)
    assert os.WEXITSTATUS(status) == errno.EPERM


def _refcnt(module):
    with open(f"/sys/module/{module}/refcnt") as f:
        return int(f.read())


def _modprobe(module):
    subprocess.run(["modprobe", module], check=True)
    assert _refcnt(module) == 0, f"{module} is in use; pick another spare module"


def _rmmod(module):
    return subprocess.run(["rmmod", module], capture_output=True).returncode


def test_locksym_blocks_rmmod_until_unlocksym(kmem):
    _modprobe(SPARE_MODULE)
    assert module_hold(kmem, MIOC_LOCKSYM, SPARE_MODULE) == 0
    assert module_hold(kmem, MIOC_LOCKSYM, SPARE_MODULE) == 0
    assert _refcnt(SPARE_MODULE) == 2
    assert _rmmod(SPARE_MODULE) != 0
    assert module_hold(kmem, MIOC_UNLOCKSYM, SPARE_MODULE) == 0
    assert _rmmod(SPARE_MODULE) != 0
    assert module_hold(kmem, MIOC_UNLOCKSYM, SPARE_MODULE) == 0
    assert errno_of(module_hold, kmem, MIOC_UNLOCKSYM, SPARE_MODULE) == errno.EINVAL
    assert _refcnt(SPARE_MODULE) == 0
    assert _rmmod(SPARE_MODULE) == 0
    assert errno_of(module_hold, kmem, MIOC_LOCKSYM, SPARE_MODULE) == errno.EINVAL


def test_holds_are_dropped_when_lainko_unloads(kmem_node):
    ko = os.environ.get("LAINKO_KO")
    if not ko or not os.path.exists(ko):
        pytest.skip("LAINKO_KO (the module file to reload) not given")
    _modprobe(SPARE_MODULE)
    fd = os.open(kmem_node, os.O_RDONLY)
    try:
        assert module_hold(fd, MIOC_LOCKSYM, SPARE_MODULE) == 0
    finally:
        os.close(fd)
    assert _refcnt(SPARE_MODULE) == 1  # the hold outlives the descriptor
    assert _rmmod("lainko") == 0
    try:
        assert _refcnt(SPARE_MODULE) == 0
        assert _rmmod(SPARE_MODULE) == 0
    finally:
        subprocess.run(["insmod", ko], check=True)
    assert os.path.exists(kmem_node)
