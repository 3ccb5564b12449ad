"""The kmem device's interface: layout, request values, name limits and the
errno contract without the device; a preloaded stand-in (fake_kmem.c) for
the round trips; and, marked ``device``, the real /dev/lainkmem."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lainview.backend import kmem
from lainview.backend.errors import (DeviceUnavailable, FaultError, InvalidInput,
                                     KernelReadOnly, LainviewError, NoSuchModule, NoSuchSymbol,
                                     PermissionDenied)
from lainview.backend.kmem import (MAXSYMNMLEN, MODMAXNAMELEN, KmemDevice, MiocRksym, Request,
                                   error_for)
from tests.kmem_support import build as build_fake_kmem, fake_memory

REAL_DEVICE = "/dev/lainkmem"


# -- the binary interface ---------------------------------------------------------------------

def test_struct_layout_is_the_spec():
    assert ctypes.sizeof(MiocRksym) == 32
    assert [(name, getattr(MiocRksym, name).offset, getattr(MiocRksym, name).size)
            for name, _ in MiocRksym._fields_] == [
        ("mirk_modname", 0, 8), ("mirk_symname", 8, 8), ("mirk_buf", 16, 8),
        ("mirk_buflen", 24, 8)]


def test_request_values_are_the_spec():
    assert {r.name: r.value for r in Request} == {
        "READKSYM": 0x4D04, "IREADKSYM": 0x4D05, "WRITEKSYM": 0x4D06,
        "IWRITEKSYM": 0x4D07, "LOCKSYM": 0x4D08, "UNLOCKSYM": 0x4D09}
    assert Request.READKSYM == ord("M") << 8 | 4


def test_struct_bytes_carry_the_pointers():
    arg = MiocRksym()
    name = ctypes.create_string_buffer(b"jiffies")
    buf = ctypes.create_string_buffer(8)
    arg.mirk_modname = None
    arg.mirk_symname = ctypes.cast(name, ctypes.c_char_p)
    arg.mirk_buf = ctypes.addressof(buf)
    arg.mirk_buflen = 8
    raw = bytes(arg)
    assert raw[0:8] == bytes(8)
    assert int.from_bytes(raw[8:16], "little") == ctypes.addressof(name)
    assert int.from_bytes(raw[16:24], "little") == ctypes.addressof(buf)
    assert int.from_bytes(raw[24:32], "little") == 8


@pytest.mark.parametrize("limit, encode", [(MAXSYMNMLEN, kmem.encode_symbol_name),
                                           (MODMAXNAMELEN, kmem.encode_module_name)])
def test_name_limits_count_the_nul(limit, encode):
    assert encode("a" * (limit - 1)) == b"a" * (limit - 1) + b"\0"
    with pytest.raises(InvalidInput) as info:
        encode("a" * limit)
    assert info.value.errno == errno.ENAMETOOLONG
    assert str(limit - 1) in info.value.message
    with pytest.raises(InvalidInput):
        encode("")
    with pytest.raises(InvalidInput):
        encode("a\0b")


# -- requests on a real descriptor that is not the device --------------------------------------

@pytest.fixture
def devnull_kmem():
    dev = KmemDevice("/dev/null", writable=True)
    yield dev
    dev.close()


def test_long_names_are_refused_before_any_ioctl(devnull_kmem, monkeypatch):
    calls = []
    real = kmem.fcntl.ioctl
    monkeypatch.setattr(kmem.fcntl, "ioctl", lambda *a: calls.append(a) or real(*a))
    with pytest.raises(InvalidInput) as info:
        devnull_kmem.read("s" * MAXSYMNMLEN, 8)
    assert info.value.errno == errno.ENAMETOOLONG
    with pytest.raises(InvalidInput):
        devnull_kmem.write("jiffies", b"\0", module="m" * MODMAXNAMELEN)
    with pytest.raises(InvalidInput):
        devnull_kmem.lock("m" * MODMAXNAMELEN)
    with pytest.raises(InvalidInput):
        devnull_kmem.unlock("m" * 100)
    assert calls == []
    # A name within the limits does reach the kernel: /dev/null answers ENOTTY.
    with pytest.raises(DeviceUnavailable) as info:
        devnull_kmem.read("s" * (MAXSYMNMLEN - 1), 8)
    assert info.value.errno == errno.ENOTTY
    assert len(calls) == 1 and calls[0][1] == 0x4D04


@pytest.mark.parametrize("call", [
    lambda d: d.read("jiffies", 8), lambda d: d.read("jiffies", 8, indirect=True),
    lambda d: d.write("jiffies", b"\1"), lambda d: d.write("x", b"\1", indirect=True),
    lambda d: d.lock("ext4"), lambda d: d.unlock("ext4")])
def test_a_non_kmem_node_says_so(devnull_kmem, call):
    with pytest.raises(DeviceUnavailable) as info:
        call(devnull_kmem)
    assert info.value.errno == errno.ENOTTY
    assert "not a kmem device" in str(info.value)


def test_probe_rejects_a_node_that_does_not_answer():
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        assert kmem.probe(fd) is False
    finally:
        os.close(fd)


def test_opening_a_missing_node_is_device_unavailable(tmp_path):
    with pytest.raises(DeviceUnavailable) as info:
        KmemDevice(str(tmp_path / "nope"))
    assert info.value.errno == errno.ENOENT


# -- the errno contract ---------------------------------------------------------------------------

def test_enoent_names_the_symbol_and_the_module():
    exc = error_for(errno.ENOENT, Request.READKSYM, symbol="jiffies")
    assert isinstance(exc, NoSuchSymbol) and exc.message == "no symbol named jiffies"
    exc = error_for(errno.ENOENT, Request.WRITEKSYM, symbol="jiffies", module="ext4")
    assert exc.message == "no symbol named jiffies in module ext4"
    assert str(exc).startswith("ENOENT: ")


@pytest.mark.parametrize("err, request_, cls, words", [
    (errno.EINVAL, Request.READKSYM, NoSuchModule, "no loaded module named ext9"),
    (errno.EINVAL, Request.LOCKSYM, NoSuchModule, "cannot hold module ext9"),
    (errno.EINVAL, Request.UNLOCKSYM, NoSuchModule, "no hold on it is left"),
    (errno.ENXIO, Request.READKSYM, DeviceUnavailable, "not the kmem device's minor"),
    (errno.EBADF, Request.WRITEKSYM, PermissionDenied, "opened read-only"),
    (errno.EBADF, Request.IWRITEKSYM, PermissionDenied, "opened read-only"),
    (errno.EBADF, Request.READKSYM, PermissionDenied, "opened write-only"),
    (errno.ENAMETOOLONG, Request.READKSYM, InvalidInput, "longer than the kernel allows"),
    (errno.EFAULT, Request.WRITEKSYM, KernelReadOnly, "nothing was written"),
    (errno.EFAULT, Request.IWRITEKSYM, KernelReadOnly, "through its pointer"),
    (errno.EFAULT, Request.READKSYM, FaultError, "not mapped"),
    (errno.EFAULT, Request.IREADKSYM, FaultError, "pointer may be NULL"),
    (errno.ENOTTY, Request.READKSYM, DeviceUnavailable, "not a kmem device"),
    (errno.EIO, Request.READKSYM, LainviewError, "Input/output error"),
])
def test_every_errno_of_the_spec_maps_to_a_typed_error(err, request_, cls, words):
    exc = error_for(err, request_, symbol="jiffies", module="ext9")
    assert type(exc) is cls
    assert exc.errno == err
    assert words in exc.message
    assert exc.op == request_.name.lower()


def test_einval_without_a_module_is_not_blamed_on_one():
    exc = error_for(errno.EINVAL, Request.READKSYM, symbol="jiffies")
    assert type(exc) is InvalidInput and "module" not in exc.message


def test_efault_write_is_a_fault_error_too():
    assert isinstance(error_for(errno.EFAULT, Request.WRITEKSYM, symbol="x"), FaultError)


# -- discovery -------------------------------------------------------------------------------------

def test_discovery_without_lainko_explains(tmp_path):
    with pytest.raises(DeviceUnavailable) as info:
        kmem.discover(root=tmp_path)
    message = info.value.message
    assert "lainko kernel module is not loaded" in message
    assert "/dev/kmem" in message and "--kmem PATH" in message


def test_discovery_checks_the_node_against_the_major(tmp_path):
    (tmp_path / "sys/class/lainko").mkdir(parents=True)
    (tmp_path / "sys/class/lainko/kmem_major").write_text("240\n")
    with pytest.raises(DeviceUnavailable, match="/dev/lainkmem does not exist"):
        kmem.discover(root=tmp_path)
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev/lainkmem").write_text("")
    with pytest.raises(DeviceUnavailable, match="not a character device of major 240"):
        kmem.discover(root=tmp_path)


def test_discovery_skips_a_dev_kmem_that_does_not_answer(tmp_path):
    (tmp_path / "dev").mkdir()
    os.symlink("/dev/null", tmp_path / "dev/kmem")
    with pytest.raises(DeviceUnavailable, match="does not answer the kmem ioctls"):
        kmem.discover(root=tmp_path)


def test_discovery_takes_the_user_path_only(tmp_path):
    assert kmem.discover("/dev/null", root=tmp_path).node == "/dev/null"
    with pytest.raises(InvalidInput, match="no such file"):
        kmem.discover(str(tmp_path / "missing"), root=tmp_path)


def test_a_user_path_that_cannot_be_a_device_is_bad_input(tmp_path):
    """A FIFO given with --kmem was opened (read-only when read-write is
    refused: a wait for a writer that never comes); a directory or a
    symlink loop was "no such file" or ENOTTY, exit 1. All are the user's
    mistake: InvalidInput naming what the path is."""
    os.mkfifo(tmp_path / "fifo")
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    for name, says in (("fifo", "is a FIFO"), (".", "is a directory"),
                       ("loop1", "Too many levels of symbolic links")):
        with pytest.raises(InvalidInput, match=says):
            kmem.discover(str(tmp_path / name), root=tmp_path)


# -- round trips through the preloaded stand-in ------------------------------------------------------

@pytest.fixture(scope="module")
def fake_kmem_lib(tmp_path_factory):
    return build_fake_kmem(tmp_path_factory.mktemp("fakekmem"))


def run_with_fake(lib: Path, node: Path, code: str) -> dict:
    env = dict(os.environ, LD_PRELOAD=str(lib), FAKE_KMEM_PATH=str(node))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_round_trips_through_the_stand_in(fake_kmem_lib, tmp_path):
    node = fake_memory(tmp_path / "kmem")
    result = run_with_fake(fake_kmem_lib, node, f"""
        import json
        from lainview.backend.kmem import KmemDevice, probe
        from lainview.backend.errors import LainviewError
        out = {{}}
        def attempt(key, fn):
            try:
                value = fn()
                out[key] = value.hex() if isinstance(value, bytes) else value
            except LainviewError as exc:
                out[key] = [type(exc).__name__, exc.errno, exc.message]
        dev = KmemDevice({str(node)!r}, writable=True)
        out["probe"] = probe(dev.fd)
        attempt("read", lambda: dev.read("fake_var", 8))
        attempt("read_mod", lambda: dev.read("fake_var", 8, module="fakemod"))
        attempt("iread", lambda: dev.read("fake_ptr", 8, indirect=True))
        attempt("pointer", lambda: dev.read_pointer("fake_ptr"))
        attempt("write", lambda: dev.write("fake_var", b"NEWVALUE"))
        attempt("read_back", lambda: dev.read("fake_var", 8))
        attempt("iwrite", lambda: dev.write("fake_ptr", b"THROUGH!", indirect=True))
        attempt("iread_back", lambda: dev.read("fake_target", 8))
        attempt("write_ro", lambda: dev.write("fake_ro", b"x"))
        attempt("ro_after", lambda: dev.read("fake_ro", 8))
        attempt("nosym", lambda: dev.read("nope", 8))
        attempt("nosym_mod", lambda: dev.read("fake_ro", 8, module="fakemod"))
        attempt("nomod", lambda: dev.read("fake_var", 8, module="ext9"))
        attempt("too_far", lambda: dev.read("fake_var", 8192))
        attempt("lock", lambda: dev.lock("fakemod"))
        attempt("unlock", lambda: dev.unlock("fakemod"))
        attempt("unlock_zero", lambda: dev.unlock("fakemod"))
        attempt("lock_nomod", lambda: dev.lock("ext9"))
        dev.close()
        ro = KmemDevice({str(node)!r}, writable=False)
        attempt("write_on_ro_fd", lambda: ro.write("fake_var", b"x"))
        attempt("read_on_ro_fd", lambda: ro.read("fake_var", 3))
        ro.close()
        print(json.dumps(out))
    """)
    assert result["probe"] is True
    assert bytes.fromhex(result["read"]) == b"VARVALUE"
    assert bytes.fromhex(result["read_mod"]) == b"MODVALUE"
    assert bytes.fromhex(result["iread"]) == b"POINTED!"
    assert result["pointer"] == 256
    assert bytes.fromhex(result["read_back"]) == b"NEWVALUE"
    assert bytes.fromhex(result["iread_back"]) == b"THROUGH!"
    assert result["write_ro"][:2] == ["KernelReadOnly", errno.EFAULT]
    assert bytes.fromhex(result["ro_after"]) == b"READONLY"
    assert result["nosym"] == ["NoSuchSymbol", errno.ENOENT, "no symbol named nope"]
    assert result["nosym_mod"] == ["NoSuchSymbol", errno.ENOENT,
                                   "no symbol named fake_ro in module fakemod"]
    assert result["nomod"][:2] == ["NoSuchModule", errno.EINVAL]
    assert result["too_far"][:2] == ["FaultError", errno.EFAULT]
    assert result["lock"] is None and result["unlock"] is None
    assert result["unlock_zero"][:2] == ["NoSuchModule", errno.EINVAL]
    assert result["lock_nomod"][:2] == ["NoSuchModule", errno.EINVAL]
    assert result["write_on_ro_fd"][:2] == ["PermissionDenied", errno.EBADF]
    assert bytes.fromhex(result["read_on_ro_fd"]) == b"NEW"
    assert (node.read_bytes()[0:8], node.read_bytes()[256:264]) == (b"NEWVALUE", b"THROUGH!")


# -- the real device (the VM harness runs these) ---------------------------------------------------

needs_device = pytest.mark.skipif(
    not os.path.exists(REAL_DEVICE),
    reason=f"{REAL_DEVICE} is absent: the lainko kernel module is not loaded here; "
           "the kernel-module VM harness runs these against the real device")


@pytest.fixture
def device():
    if os.geteuid() != 0:
        pytest.skip("the kmem device is root-only")
    dev = KmemDevice(REAL_DEVICE, writable=True)
    yield dev
    dev.close()


@pytest.mark.device
@needs_device
def test_device_answers_the_probe(device):
    assert kmem.probe(device.fd)
    assert kmem.discover().node == REAL_DEVICE


@pytest.mark.device
@needs_device
def test_device_reads_init_uts_ns(device):
    data = device.read("init_uts_ns", 512)
    assert platform.release().encode() in data
    assert b"Linux" in data


@pytest.mark.device
@needs_device
def test_device_follows_saved_command_line(device):
    cmdline = Path("/proc/cmdline").read_bytes().rstrip(b"\n")
    data = device.read("saved_command_line", len(cmdline) + 1, indirect=True)
    assert data == cmdline + b"\0"


@pytest.mark.device
@needs_device
def test_device_errnos(device):
    with pytest.raises(NoSuchSymbol) as info:
        device.read("lainview_no_such_symbol", 8)
    assert info.value.errno == errno.ENOENT
    with pytest.raises(NoSuchModule) as info:
        device.read("init_uts_ns", 8, module="lainview_no_such_module")
    assert info.value.errno == errno.EINVAL
    with pytest.raises(NoSuchModule):
        device.lock("lainview_no_such_module")
    # Code is read-only: writing its own first byte back is refused, nothing written.
    first = device.read("_stext", 1)
    with pytest.raises(KernelReadOnly):
        device.write("_stext", first)
    assert device.read("_stext", 1) == first


@pytest.mark.device
@needs_device
def test_device_refuses_writes_on_a_read_only_descriptor():
    if os.geteuid() != 0:
        pytest.skip("the kmem device is root-only")
    with KmemDevice(REAL_DEVICE, writable=False) as ro:
        old = ro.read("init_uts_ns", 5)
        with pytest.raises(PermissionDenied) as info:
            ro.write("init_uts_ns", old)
        assert info.value.errno == errno.EBADF


@pytest.mark.device
@needs_device
def test_device_write_is_visible_and_reverts(device):
    # init_uts_ns starts with sysname ("Linux"), which /proc/sys/kernel/ostype shows.
    ostype = Path("/proc/sys/kernel/ostype")
    old = device.read("init_uts_ns", 5)
    assert old == b"Linux"
    try:
        device.write("init_uts_ns", b"Lainv")
        assert ostype.read_text().strip() == "Lainv"
    finally:
        device.write("init_uts_ns", old)
    assert ostype.read_text().strip() == "Linux"


@pytest.mark.device
@needs_device
def test_device_holds_a_loaded_module(device):
    modules = [line.split()[0] for line in Path("/proc/modules").read_text().splitlines()]
    if not modules:
        pytest.skip("no loadable module is loaded")
    name = "lainko" if "lainko" in modules else modules[0]
    device.lock(name)
    device.unlock(name)
    # The spec: UNLOCKSYM when the hold count is already 0 is EINVAL.
    with pytest.raises(NoSuchModule):
        device.unlock(name)


def test_kernel_memory_refuses_overlong_names_before_anything_else():
    import errno as errno_
    from lainview.backend.kernel import KernelMemory
    memory = KernelMemory("auto")
    try:
        with pytest.raises(InvalidInput) as info:
            memory.read("s" * MAXSYMNMLEN, 8)
        assert info.value.errno == errno_.ENAMETOOLONG
        with pytest.raises(InvalidInput, match="module name"):
            memory.read("jiffies", 8, module="m" * MODMAXNAMELEN)
        with pytest.raises(InvalidInput, match="at most 55"):
            memory.hold("m" * MODMAXNAMELEN)
    finally:
        memory.close()
