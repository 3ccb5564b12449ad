"""The lainmemu ABI module against the spec's table, without the device."""

import ctypes
import os
import struct

import pytest

from lainview.backend.errors import DeviceUnavailable
from lainview.backend.lainmemu_abi import (Call, IoctlArg, VmEntry, discover, request,
                                           vm_entry_to_area)
from lainview.backend.memory import Perm


def test_struct_sizes_and_offsets():
    assert ctypes.sizeof(IoctlArg) == 16
    assert IoctlArg.u_buf.offset == 0 and IoctlArg.target_pid.offset == 8
    assert ctypes.sizeof(VmEntry) == 4128
    assert [(name, getattr(VmEntry, name).offset) for name, _ in VmEntry._fields_] == [
        ("vm_start", 0), ("vm_end", 8), ("file_off", 16), ("prot", 24), ("file_path", 32)]
    assert VmEntry.file_path.size == 4096


# The spec's table: request with major M.
SPEC = {Call.OPEN_TGT: 0x40080000, Call.RELEASE_TGT: 0x00000001,
        Call.GET_MAP: 0xC0080002, Call.GET_MAP_SZ: 0x40080003}


@pytest.mark.parametrize("major", [0, 1, 10, 239, 240, 254, 255, 511])
def test_request_numbers_match_the_spec_table(major):
    for call, base in SPEC.items():
        assert request(call, major) == base | (major & 0xFF) << 8


def test_request_numbers_for_a_known_major():
    assert request(Call.OPEN_TGT, 240) == 0x4008F000
    assert request(Call.GET_MAP, 240) == 0xC008F002
    assert request(Call.RELEASE_TGT, 240) == 0x0000F001
    assert request(Call.GET_MAP_SZ, 240) == 0x4008F003


def _entry_bytes(start, end, file_off, prot, path: bytes, stale: bytes = b"") -> bytes:
    raw_path = (path + b"\0" + stale).ljust(4096, b"\0")
    return struct.pack("<4Q", start, end, file_off, prot) + raw_path


def test_vm_entry_decoding_from_packed_bytes():
    raw = _entry_bytes(0x7f0000000000, 0x7f0000003000, 5, 0x1 | 0x4 | 0x70,
                       b"/usr/lib/libc.so.6", stale=b"garbage after the NUL")
    entry = VmEntry.from_buffer_copy(raw)
    area = vm_entry_to_area(entry)
    assert (area.start, area.end) == (0x7f0000000000, 0x7f0000003000)
    assert area.offset == 5 * 4096, "file_off is in pages"
    assert area.perms == Perm.READ | Perm.EXEC
    assert area.path == "/usr/lib/libc.so.6"


def test_vm_entry_anonymous_offset_normalised_and_shared_from_mayshare():
    heap = vm_entry_to_area(VmEntry.from_buffer_copy(
        _entry_bytes(0x55000000, 0x55021000, 0x55000, 0x3, b"[heap]")))
    assert heap.offset == 0 and heap.perms == Perm.READ | Perm.WRITE
    # A shared mapping of a read-only file: VM_SHARED clear, VM_MAYSHARE set.
    shared = vm_entry_to_area(VmEntry.from_buffer_copy(
        _entry_bytes(0x1000, 0x2000, 0, 0x1 | 0x80, b"/etc/hosts")))
    assert shared.perms.letters == "r--s"
    vvar = vm_entry_to_area(VmEntry.from_buffer_copy(
        _entry_bytes(0x1000, 0x5000, 0, 0x1 | 0x4000 | 0x400, b"[vvar]")))
    assert vvar.io and not vvar.readable
    anon = vm_entry_to_area(VmEntry.from_buffer_copy(_entry_bytes(0x1000, 0x2000, 1, 0, b"")))
    assert anon.path == "" and anon.perms.letters == "---p"


def _tree(tmp_path, attrs: dict, nodes=()):
    cls = tmp_path / "sys/class/lainko"
    cls.mkdir(parents=True)
    for name, text in attrs.items():
        (cls / name).write_text(text)
    for node in nodes:
        p = tmp_path / node
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")
    return tmp_path


def test_discover_released_attribute_and_dev_node(tmp_path):
    root = _tree(tmp_path, {"lainmemu_major": "240\n"}, ["dev/lainmemu"])
    loc = discover(root)
    assert loc.major == 240 and loc.node == str(root / "dev/lainmemu")
    assert loc.major_attribute == "lainmemu_major"


def test_discover_design_attribute_and_dev_char_fallback(tmp_path):
    root = _tree(tmp_path, {"memu_major": "511"}, ["dev/char/511:0"])
    loc = discover(root)
    assert loc.major == 511 and loc.node == str(root / "dev/char/511:0")


def test_discover_prefers_lainmemu_major(tmp_path):
    root = _tree(tmp_path, {"lainmemu_major": "241", "memu_major": "242"}, ["dev/lainmemu"])
    assert discover(root).major == 241


@pytest.mark.parametrize("attrs,nodes,message", [
    (None, [], "not loaded"),
    ({}, [], "neither lainmemu_major nor memu_major"),
    ({"lainmemu_major": "x"}, [], "not a major number"),
    ({"lainmemu_major": "240"}, [], "neither /dev/lainmemu nor /dev/char/240:0"),
])
def test_discover_failures_say_why_and_mention_proc(tmp_path, attrs, nodes, message):
    root = tmp_path if attrs is None else _tree(tmp_path, attrs, nodes)
    with pytest.raises(DeviceUnavailable, match=message):
        discover(root)


def test_discover_on_this_machine_matches_sysfs():
    if os.path.isdir("/sys/class/lainko"):
        assert discover("/").major > 0
    else:
        with pytest.raises(DeviceUnavailable, match="uses /proc instead"):
            discover("/")
