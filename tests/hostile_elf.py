"""ELF64 files built field by field with struct, for the hostile-file tests
and fuzzers: every header field can be set to anything, including values
no linker would write."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

ET_EXEC, ET_CORE = 2, 4
PT_LOAD, PT_NOTE = 1, 4
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_WRITE, SHF_ALLOC = 1, 2
EHDR, PHDR, SHDR = 64, 56, 64


@dataclass
class Phdr:
    p_type: int = PT_LOAD
    p_flags: int = 6
    p_offset: int = 0
    p_vaddr: int = 0
    p_paddr: int = 0
    p_filesz: int = 0
    p_memsz: int = 0
    p_align: int = 4096

    def pack(self) -> bytes:
        return struct.pack("<IIQQQQQQ", self.p_type, self.p_flags, self.p_offset, self.p_vaddr,
                           self.p_paddr, self.p_filesz, self.p_memsz, self.p_align)


@dataclass
class Shdr:
    sh_name: int = 0
    sh_type: int = 0
    sh_flags: int = 0
    sh_addr: int = 0
    sh_offset: int = 0
    sh_size: int = 0
    sh_link: int = 0
    sh_info: int = 0
    sh_addralign: int = 1
    sh_entsize: int = 0

    def pack(self) -> bytes:
        return struct.pack("<IIQQQQIIQQ", self.sh_name, self.sh_type, self.sh_flags,
                           self.sh_addr, self.sh_offset, self.sh_size, self.sh_link,
                           self.sh_info, self.sh_addralign, self.sh_entsize)


@dataclass
class Elf:
    """An ELF64 little-endian x86-64 file: header, program headers, section
    headers, then ``body`` (offsets in headers are absolute: use
    :meth:`body_offset`). ``overrides`` replaces header fields by name."""

    e_type: int = ET_CORE
    phdrs: list[Phdr] = field(default_factory=list)
    shdrs: list[Shdr] = field(default_factory=list)
    body: bytes = b""
    shstrndx: int = 0
    overrides: dict = field(default_factory=dict)

    def body_offset(self) -> int:
        return EHDR + PHDR * len(self.phdrs) + SHDR * len(self.shdrs)

    def pack(self) -> bytes:
        phoff = EHDR if self.phdrs else 0
        shoff = EHDR + PHDR * len(self.phdrs) if self.shdrs else 0
        fields = dict(e_type=self.e_type, e_machine=62, e_version=1, e_entry=0, e_phoff=phoff,
                      e_shoff=shoff, e_flags=0, e_ehsize=EHDR, e_phentsize=PHDR,
                      e_phnum=len(self.phdrs), e_shentsize=SHDR, e_shnum=len(self.shdrs),
                      e_shstrndx=self.shstrndx)
        fields.update(self.overrides)
        ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
        ehdr = ident + struct.pack("<HHIQQQIHHHHHH", *fields.values())
        return (ehdr + b"".join(p.pack() for p in self.phdrs)
                + b"".join(s.pack() for s in self.shdrs) + self.body)


def note(name: bytes, ntype: int, desc: bytes) -> bytes:
    name += b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def vmcore(segments: list[tuple[int, bytes, int]], vmcoreinfo: str = "OSRELEASE=6.1\n",
           *, notes_size: int | None = None) -> Elf:
    """A kdump-style core: a PT_NOTE (its p_filesz may be overridden by
    ``notes_size``) then one PT_LOAD per (vaddr, bytes stored, memsz)."""
    notes = note(b"VMCOREINFO", 0, vmcoreinfo.encode())
    elf = Elf(ET_CORE, [Phdr(PT_NOTE, 0)] + [Phdr() for _ in segments])
    offset = elf.body_offset()
    elf.phdrs[0].p_offset, elf.phdrs[0].p_filesz = offset, (
        len(notes) if notes_size is None else notes_size)
    body = notes
    for phdr, (vaddr, data, memsz) in zip(elf.phdrs[1:], segments):
        phdr.p_offset, phdr.p_vaddr = offset + len(body), vaddr
        phdr.p_filesz, phdr.p_memsz = len(data), memsz
        body += data
    elf.body = body
    return elf


def image(data: bytes = b"INITIAL-VALUES!!", *, address: int = 0xFFFFFFFF81000000,
          symbols: tuple[tuple[str, int], ...] = (("counter", 0),)) -> Elf:
    """A vmlinux-like ET_EXEC: .data at ``address`` holding ``data``, a
    .symtab of global objects at offsets into it, .strtab and .shstrtab."""
    shstr = b"\0.data\0.symtab\0.strtab\0.shstrtab\0"
    strtab = b"\0" + b"".join(n.encode() + b"\0" for n, _ in symbols)
    syms = bytes(24)
    pos = 1
    for name, off in symbols:
        syms += struct.pack("<IBBHQQ", pos, 0x11, 0, 1, address + off, 8)
        pos += len(name) + 1
    elf = Elf(ET_EXEC, [], [Shdr() for _ in range(5)], shstrndx=4)
    base = elf.body_offset()
    body = data
    elf.shdrs[1] = Shdr(1, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, address, base, len(data))
    elf.shdrs[2] = Shdr(7, SHT_SYMTAB, 0, 0, base + len(body), len(syms), 3, 1, 8, 24)
    body += syms
    elf.shdrs[3] = Shdr(15, SHT_STRTAB, 0, 0, base + len(body), len(strtab))
    body += strtab
    elf.shdrs[4] = Shdr(23, SHT_STRTAB, 0, 0, base + len(body), len(shstr))
    body += shstr
    elf.body = body
    return elf
