"""Module symbols (backend/module_symbols.py) against nm, in a PIE and a
fixed-address build of tests/c/code_target.c run for real, and against
hostile ELF files."""

from __future__ import annotations

import os
import subprocess

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.module_symbols import ModuleSymbols, read_elf_symbols
from lainview.backend.procfs import ProcfsMemory
from tests import hostile_elf as E
from tests.code_target import FUNCTIONS, code_run, nm, objdump_plt  # noqa: F401  (fixture)


def _symbolizer(run):
    memory = ProcfsMemory(run.pid, writable=False)
    try:
        areas = memory.areas(refresh=True)
    finally:
        memory.close()
    return ModuleSymbols().symbolizer(run.pid, areas)


def _vaddr0(exe) -> int:
    out = subprocess.run(["readelf", "-lW", str(exe)], check=True, capture_output=True,
                         text=True).stdout
    loads = [int(line.split()[2], 16) for line in out.splitlines()
             if line.split()[:1] == ["LOAD"]]
    return min(loads) & ~0xFFF


def test_symbols_match_nm(code_run):
    names = _symbolizer(code_run)
    module = names.module(str(code_run.exe))
    assert module is not None and module.problem is None
    table = module.symbols.table
    vaddr0 = _vaddr0(code_run.exe)
    ours = {table.names[i]: (int(table.addresses[i]) + vaddr0, chr(table.types[i]),
                             int(table.sizes[i])) for i in range(len(table))}
    theirs = {n: v for n, v in nm(code_run.exe).items() if v[1] not in "aA"}
    plt = {n: v for n, v in ours.items() if n.endswith("@plt")}
    assert {n: v for n, v in ours.items() if n not in plt} == theirs
    # PLT stubs, named as objdump names them (printf@plt), 't' as code
    assert {n: v[0] for n, v in plt.items()} == objdump_plt(code_run.exe)
    assert len(plt) >= 2 and {v[1] for v in plt.values()} == {"t"}


def test_symbol_addresses_are_base_plus_nm(code_run):
    names = _symbolizer(code_run)
    module = names.module(str(code_run.exe))
    listed = nm(code_run.exe)
    vaddr0 = _vaddr0(code_run.exe)
    for name in (*FUNCTIONS[:3], "counter"):
        offset = names.module_symbol(module.path, name)
        assert offset == listed[name][0] - vaddr0
        assert module.base + offset == code_run.info[name]          # what the child printed
        assert names.name(code_run.info[name]) == f"{module.name}!{name}"
        assert names.name(code_run.info[name] + 3) == f"{module.name}!{name}+0x3"
    assert names.module_symbol(module.path, "no_such_symbol") is None
    assert names.module_symbol("/not/mapped", "lv_add") is None


def test_an_address_outside_every_symbol_is_module_plus_offset(code_run):
    names = _symbolizer(code_run)
    module = names.module(str(code_run.exe))
    assert names.name(module.base) == f"{module.name}+0x0"        # the ELF header: no symbol


def test_libc_exports_getpid(code_run):
    names = _symbolizer(code_run)
    libc = [m for m in names.modules if m.name.startswith("libc.so")]
    assert libc and libc[0].symbols is not None and libc[0].symbols.exported_count > 100
    hits = names.search("getpid", module=libc[0].name)
    assert "getpid" in {h.name for h in hits}
    assert all(h.module is libc[0] for h in hits)


def test_a_deleted_and_replaced_file_is_never_read_for_the_mapped_one(tmp_path):
    from tests.code_target import build, start
    exe = build(tmp_path, "pie")
    run = start(exe)
    try:
        os.unlink(exe)
        exe.write_bytes(b"not an elf at all" * 100)         # a new file at the same path
        names = _symbolizer(run)
        module = names.module(str(exe))
        # Either map_files (root) reads the mapped, deleted file itself, or
        # nothing is read: never the new file's (lack of) symbols.
        if os.geteuid() == 0:
            assert names.module_symbol(module.path, "lv_add") == \
                run.info["lv_add"] - module.base
        else:
            assert module.symbols is None and "cannot open" in module.problem
    finally:
        run.stop()


HOSTILE = {
    "not an elf": b"\x7fELF" + b"\xff" * 60,
    "no PT_LOAD": E.image().pack(),
    "symtab past the end": E.Elf(E.ET_EXEC, [E.Phdr()], [E.Shdr(), E.Shdr(
        0, E.SHT_SYMTAB, 0, 0, 1 << 40, 24 * 10, 0)]).pack(),
    "symtab links nowhere": E.Elf(E.ET_EXEC, [E.Phdr()], [E.Shdr(), E.Shdr(
        0, E.SHT_SYMTAB, 0, 0, 64, 24, 99)]).pack(),
    "section headers past the end": E.Elf(E.ET_EXEC, [E.Phdr()], [E.Shdr()],
                                          overrides={"e_shoff": 1 << 50}).pack(),
    "truncated": E.image().pack()[:100],
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_elf_gives_invalid_input(tmp_path, name):
    path = tmp_path / "hostile"
    path.write_bytes(HOSTILE[name])
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(InvalidInput):
            read_elf_symbols(fd, str(path))
    finally:
        os.close(fd)


def test_hostile_elf_mutations_never_raise_anything_else(tmp_path):
    """Every single-byte change of a small real ELF either reads or gives
    InvalidInput."""
    good = E.image().pack()
    elf = E.image()
    elf.phdrs = [E.Phdr(p_vaddr=0xFFFFFFFF81000000)]
    good = elf.pack()
    path = tmp_path / "m"
    for at in range(0, 64 + 56 + 64 * 5, 3):
        for value in (0x00, 0xFF, 0x7F):
            data = bytearray(good)
            data[at] = value
            path.write_bytes(bytes(data))
            fd = os.open(path, os.O_RDONLY)
            try:
                read_elf_symbols(fd, str(path))
            except InvalidInput:
                pass
            finally:
                os.close(fd)


def test_a_damaged_plt_header_costs_the_plt_names_only(tmp_path):
    """A .plt section header whose size runs past the end of the file lost
    every symbol of the module (the second attack pass): the PLT names are
    left out, the rest is read."""
    import shutil
    import struct
    from elftools.elf.elffile import ELFFile
    from tests.code_target import build
    exe = build(tmp_path, "pie")
    bad = tmp_path / "bad_plt"
    shutil.copy(exe, bad)
    with open(exe, "rb") as f:
        elf = ELFFile(f)
        index = next(i for i, sec in enumerate(elf.iter_sections()) if sec.name == ".plt")
        shoff, shentsize = elf.header["e_shoff"], elf.header["e_shentsize"]
    with open(bad, "r+b") as f:
        f.seek(shoff + index * shentsize + 32)               # sh_size
        f.write(struct.pack("<Q", 0x100000))
    for path, plt in ((exe, True), (bad, False)):
        fd = os.open(path, os.O_RDONLY)
        try:
            names = read_elf_symbols(fd, str(path)).table.names
        finally:
            os.close(fd)
        assert "main" in names and "lv_add" in names
        assert any(n.endswith("@plt") for n in names) == plt
