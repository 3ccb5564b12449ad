"""ELF cores and offline images: a real core made by gdb's gcore of a live
child, /proc/kcore where the kernel has it, a vmlinux-like ELF built with gcc,
and a kdump-style vmcore written here."""

from __future__ import annotations

import os
import platform
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lainview.backend import kcore
from lainview.backend.errors import CapabilityMissing, InvalidInput, LainviewError
from lainview.backend.kcore import ElfCoreReader, VmlinuxImage
from lainview.backend.kernel import KernelMemory

CHILD = textwrap.dedent("""
    import ctypes, os, sys, json
    secret = b"lainview-gcore-" + os.urandom(16).hex().encode()
    buf = ctypes.create_string_buffer(secret + bytes(range(256)) * 40, 16384)
    print(json.dumps({"address": ctypes.addressof(buf), "bytes": buf.raw.hex()}), flush=True)
    sys.stdin.readline()
""")


@pytest.fixture
def gcore_child(tmp_path):
    if not shutil.which("gcore"):
        pytest.skip("gcore (gdb) is needed to make a real core file")
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        import json
        info = json.loads(proc.stdout.readline())
        prefix = tmp_path / "core"
        run = subprocess.run(["gcore", "-o", str(prefix), str(proc.pid)], capture_output=True,
                             text=True, timeout=120)
        core = Path(f"{prefix}.{proc.pid}")
        if run.returncode != 0 or not core.exists():
            pytest.skip(f"gcore could not dump the child: {run.stderr.strip()[-200:]}")
        yield core, info["address"], bytes.fromhex(info["bytes"])
    finally:
        proc.kill()
        proc.wait()


def test_gcore_reads_equal_the_childs_memory(gcore_child):
    core, address, expected = gcore_child
    reader = ElfCoreReader(str(core))
    try:
        assert reader.kind == "core"
        assert reader.segment_at(address) is not None
        result = reader.read(address, len(expected))
        assert result.complete
        assert result.require() == expected
        # An unaligned read across the middle of the buffer.
        assert reader.read(address + 4097, 300).require() == expected[4097:4397]
    finally:
        reader.close()


def test_gcore_unmapped_addresses_are_holes(gcore_child):
    core, _, _ = gcore_child
    reader = ElfCoreReader(str(core))
    try:
        result = reader.read(0x10, 32)
        assert not result.complete
        assert result.holes[0].address == 0x10 and result.holes[0].size == 32
        assert "PT_LOAD" in result.holes[0].reason
        with pytest.raises(LainviewError):
            result.require()
    finally:
        reader.close()


def test_non_core_files_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="not a core file"):
        ElfCoreReader("/bin/sh")
    text = tmp_path / "text"
    text.write_text("not elf")
    with pytest.raises(InvalidInput, match="not an ELF file"):
        ElfCoreReader(str(text))


def test_a_missing_core_file_says_so(tmp_path):
    with pytest.raises(LainviewError, match="cannot open the core file"):
        ElfCoreReader(str(tmp_path / "none"))


def test_kcore_source_explains_what_is_missing():
    if os.access(kcore.KCORE_PATH, os.R_OK):
        pytest.skip("/proc/kcore is readable here (tests/vm/test_kernel_sources_device.py "
                    "runs this as nobody)")
    with pytest.raises(LainviewError) as info:
        KernelMemory("kcore")
    missing = not os.path.exists(kcore.KCORE_PATH)
    assert ("CONFIG_PROC_KCORE" if missing else "needs root") in info.value.message


# -- the real /proc/kcore ----------------------------------------------------------------------------

# Marked "device" so the VM harness (Debian's kernel has /proc/kcore) runs it
# too; on the host it runs where the kernel has /proc/kcore, else skips.
@pytest.mark.device
def test_real_kcore_reads_kernel_data():
    if not os.path.exists(kcore.KCORE_PATH):
        pytest.skip("/proc/kcore does not exist: this kernel has no CONFIG_PROC_KCORE")
    if not os.access(kcore.KCORE_PATH, os.R_OK):
        pytest.skip("/proc/kcore needs root")
    memory = KernelMemory("kcore")
    try:
        table = memory.symbols()
        checked = 0
        if table.lookup("init_uts_ns"):
            data = memory.read("init_uts_ns", 512).result.require()
            assert platform.release().encode() in data
            checked += 1
        if table.lookup("linux_banner"):
            assert b"Linux version" in memory.read("linux_banner", 64).result.require()
            checked += 1
        if not checked:
            pytest.skip("kallsyms lists neither init_uts_ns nor linux_banner "
                        "(no CONFIG_KALLSYMS_ALL)")
    finally:
        memory.close()


# -- an offline vmlinux -------------------------------------------------------------------------------

IMAGE_C = r"""
const char linux_banner[] = "Linux version 9.9.9-lainview (test) #1\n";
int counter = 0x11223344;
long zeroed[4];
static int hidden_local = 7;
int *counter_ptr = &counter;
int get(void) { return hidden_local + counter; }
void _start(void) { for (;;) ; }
"""


@pytest.fixture(scope="module")
def vmlinux(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build a test image")
    d = tmp_path_factory.mktemp("vmlinux")
    (d / "img.c").write_text(IMAGE_C)
    subprocess.run(["gcc", "-O0", "-nostdlib", "-static", "-no-pie", "-o", str(d / "vmlinux"),
                    str(d / "img.c")], check=True)
    return d / "vmlinux"


def nm_symbols(path: Path) -> dict[str, tuple[int, str]]:
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    return {f[2]: (int(f[0], 16), f[1]) for f in (line.split() for line in out.splitlines())
            if len(f) == 3}


def test_vmlinux_symbols_agree_with_nm(vmlinux):
    image = VmlinuxImage(str(vmlinux))
    try:
        table = image.symbols()
        nm = nm_symbols(vmlinux)
        for name in ("linux_banner", "counter", "zeroed", "hidden_local", "get", "_start",
                     "counter_ptr"):
            sym = table.find(name)
            assert (sym.address, sym.type) == nm[name], name
        assert table.find("counter").size == 4
        assert table.find("zeroed").size == 32
        assert table.find("hidden_local").meaning == "data, local"
    finally:
        image.close()


def test_vmlinux_initial_values(vmlinux):
    image = VmlinuxImage(str(vmlinux))
    try:
        table = image.symbols()
        assert image.read(table.find("linux_banner").address, 40).require() == \
            b"Linux version 9.9.9-lainview (test) #1\n\0"
        assert image.read(table.find("counter").address, 4).require() == \
            (0x11223344).to_bytes(4, "little")
        assert image.read(table.find("zeroed").address, 32).require() == bytes(32)
        ptr = int.from_bytes(image.read(table.find("counter_ptr").address, 8).require(),
                             "little")
        assert ptr == table.find("counter").address
        assert not image.read(0x1000, 16).complete
    finally:
        image.close()


def test_image_memory_reads_and_follows_pointers_but_never_writes(vmlinux, tmp_path):
    from lainview.backend.journal import Journal
    memory = KernelMemory("image", images=[str(vmlinux)])
    try:
        assert memory.info.source == "image"
        assert memory.info.capabilities == {"list", "read"}
        value = memory.read("counter_ptr", 4, indirect=True)
        assert value.data == (0x11223344).to_bytes(4, "little")
        assert value.pointer == memory.symbols().find("counter").address
        with pytest.raises(CapabilityMissing, match="read-only snapshot"):
            memory.write("counter", b"\0", Journal(tmp_path / "j.jsonl"))
        assert not (tmp_path / "j.jsonl").exists()
    finally:
        memory.close()


# -- a kdump-style vmcore -----------------------------------------------------------------------------

def write_vmcore(path: Path, segments: list[tuple[int, bytes, int]], vmcoreinfo: str) -> None:
    """An ELF64 ET_CORE file: one PT_NOTE with VMCOREINFO, then one PT_LOAD
    per (vaddr, bytes stored, memsz)."""
    def note(name: bytes, ntype: int, desc: bytes) -> bytes:
        name += b"\0"
        pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
        return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)
    notes = note(b"VMCOREINFO", 0, vmcoreinfo.encode())
    phnum = 1 + len(segments)
    offset = 64 + 56 * phnum
    headers, blobs = [], [notes]
    headers.append(struct.pack("<IIQQQQQQ", 4, 0, offset, 0, 0, len(notes), 0, 4))
    offset += len(notes)
    for vaddr, data, memsz in segments:
        headers.append(struct.pack("<IIQQQQQQ", 1, 7, offset, vaddr, 0, len(data), memsz,
                                   4096))
        blobs.append(data)
        offset += len(data)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, phnum, 0, 0, 0)
    path.write_bytes(ehdr + b"".join(headers) + b"".join(blobs))


def test_vmcore_with_vmcoreinfo(tmp_path):
    base = 0xFFFFFFFF82000000
    data = b"uts-name-here\0\0\0" + bytes(range(48))
    info = (f"OSRELEASE=6.1.0-lainview\nPAGESIZE=4096\nSYMBOL(init_uts_ns)={base:x}\n"
            f"KERNELOFFSET=1000000\n")
    path = tmp_path / "vmcore"
    write_vmcore(path, [(base, data, 4096)], info)
    reader = ElfCoreReader(str(path))
    try:
        assert reader.kind == "vmcore"
        assert reader.release == "6.1.0-lainview"
        assert reader.kernel_offset == 0x1000000
        assert reader.read(base, len(data)).require() == data
        # kdump leaves zero pages out: the part past filesz reads as zeros.
        assert reader.read(base + len(data), 16).require() == bytes(16)
        assert not reader.read(base + 4096, 1).complete
        assert reader.symbols().find("init_uts_ns").address == base
    finally:
        reader.close()


def test_vmlinux_and_vmcore_together_apply_kaslr(vmlinux, tmp_path):
    image = VmlinuxImage(str(vmlinux))
    counter_link = image.symbols().find("counter").address
    image.close()
    slide = 0x200000
    stored = (0xCAFEF00D).to_bytes(4, "little")
    path = tmp_path / "vmcore"
    write_vmcore(path, [(counter_link + slide, stored, 4096)],
                 f"OSRELEASE=x\nKERNELOFFSET={slide:x}\n")
    memory = KernelMemory("image", images=[str(vmlinux), str(path)])
    try:
        value = memory.read("counter", 4)
        assert value.address == counter_link + slide
        assert value.data == stored
        assert value.via == "vmcore"
    finally:
        memory.close()
