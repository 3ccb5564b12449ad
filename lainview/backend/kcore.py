"""Read-only kernel memory from ELF files: ``/proc/kcore``, an ELF vmcore
(kdump), any ELF core, and an offline ``vmlinux``.

A core file maps virtual addresses to file offsets through its ``PT_LOAD``
program headers: pyelftools reads the headers once, then every read is a
``pread`` of the segment that covers the address. A vmlinux has no memory,
but its sections hold the kernel's initial values (``.bss`` is zeros) and its
``.symtab`` names them.

Blocking: use these on the backend thread.
"""

from __future__ import annotations

import bisect
import errno as _errno
import os
import struct
from dataclasses import dataclass

import numpy as np
from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from .errors import InvalidInput, LainviewError
from .kallsyms import KERNEL, SymbolTable, parse_kallsyms
from .memory import Hole, ReadResult

KCORE_PATH = "/proc/kcore"
MAX_READ = 64 << 20


@dataclass(frozen=True, slots=True)
class Segment:
    """One PT_LOAD: [vaddr, vaddr + memsz) in memory, ``filesz`` bytes of
    it stored at ``offset`` in the file."""

    vaddr: int
    memsz: int
    offset: int
    filesz: int
    flags: int

    @property
    def end(self) -> int:
        return self.vaddr + self.memsz


def _open_ro(path: str, what: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        hint = ""
        if path == KCORE_PATH:
            hint = (" (/proc/kcore does not exist: the kernel was built without "
                    "CONFIG_PROC_KCORE)" if exc.errno == _errno.ENOENT else
                    " (/proc/kcore needs root: CAP_SYS_RAWIO)")
        raise LainviewError(f"cannot open {what} {path}: {os.strerror(exc.errno)}{hint}",
                            op="open", errno=exc.errno) from None


def _elf(fd: int, path: str) -> ELFFile:
    stream = open(fd, "rb", buffering=0, closefd=False)
    try:
        return ELFFile(stream)
    except ELFError as exc:
        stream.close()
        raise InvalidInput(f"{path} is not an ELF file: {exc}", op="open") from None


def _pread_exact(fd: int, size: int, offset: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        chunk = os.pread(fd, size - len(out), offset + len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def parse_notes(data: bytes) -> list[tuple[str, int, bytes]]:
    """(name, type, desc) of each ELF note in ``data`` (4-byte aligned)."""
    notes, pos = [], 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
        pos += 12
        name = data[pos:pos + namesz].rstrip(b"\0").decode("latin-1")
        pos += (namesz + 3) & ~3
        desc = data[pos:pos + descsz]
        pos += (descsz + 3) & ~3
        notes.append((name, ntype, desc))
    return notes


def parse_vmcoreinfo(text: str) -> dict[str, str]:
    """The KEY=VALUE lines of a VMCOREINFO note."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


class ElfCoreReader:
    """Reads an ELF core (``/proc/kcore``, a kdump vmcore, a process core)
    by virtual address. Read-only.

    ``kind`` is "kcore", "vmcore" (it has a VMCOREINFO note) or "core".
    Bytes a segment covers beyond its ``filesz`` read as zeros in kernel
    cores (kdump leaves zero pages out) and as holes in process cores (the
    dumper did not save them).
    """

    def __init__(self, path: str = KCORE_PATH):
        self.path = path
        self._fd: int | None = _open_ro(path, "the core file")
        try:
            elf = _elf(self._fd, path)
            if elf.header.e_type != "ET_CORE":
                raise InvalidInput(f"{path} is an ELF {elf.header.e_type}, not a core file",
                                   op="open")
            segments, note_data = [], b""
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg["p_memsz"]:
                    segments.append(Segment(seg["p_vaddr"], seg["p_memsz"], seg["p_offset"],
                                            seg["p_filesz"], seg["p_flags"]))
                elif seg["p_type"] == "PT_NOTE":
                    note_data += _pread_exact(self._fd, seg["p_filesz"], seg["p_offset"])
            elf.stream.close()
        except BaseException:
            self.close()
            raise
        self.segments = sorted(segments, key=lambda s: s.vaddr)
        self._starts = [s.vaddr for s in self.segments]
        self.notes = parse_notes(note_data)
        self.vmcoreinfo: dict[str, str] = {}
        for name, _type, desc in self.notes:
            if name == "VMCOREINFO":
                self.vmcoreinfo = parse_vmcoreinfo(desc.decode("latin-1"))
        if os.path.realpath(path) == KCORE_PATH:
            self.kind = "kcore"
        elif self.vmcoreinfo:
            self.kind = "vmcore"
        else:
            self.kind = "core"

    @property
    def kernel_offset(self) -> int:
        """KASLR's offset from VMCOREINFO (0 if it does not say)."""
        value = self.vmcoreinfo.get("KERNELOFFSET")
        return int(value, 16) if value else 0

    @property
    def release(self) -> str | None:
        return self.vmcoreinfo.get("OSRELEASE")

    def segment_at(self, address: int) -> Segment | None:
        """The PT_LOAD covering ``address`` (the last one listed wins when
        kcore's overlap), or None."""
        i = bisect.bisect_right(self._starts, address) - 1
        while i >= 0:
            seg = self.segments[i]
            if seg.vaddr <= address < seg.end:
                return seg
            i -= 1
        return None

    def read(self, address: int, size: int) -> ReadResult:
        """``size`` bytes at ``address``; what no segment covers (or the file
        cannot give) comes back as holes, never as made-up bytes. Raises
        InvalidInput for a bad size, LainviewError if the file is closed."""
        if size < 0 or size > MAX_READ:
            raise InvalidInput(f"read size {size} out of range (at most {MAX_READ})",
                               op="read", address=address)
        if address < 0 or address + size > 1 << 64:
            raise InvalidInput("range beyond the 64-bit address space", op="read",
                               address=address)
        if self._fd is None:
            raise LainviewError(f"{self.path} is closed", op="read")
        out = bytearray(size)
        holes: list[Hole] = []
        pos, end = address, address + size
        zero_tail = self.kind != "core"
        while pos < end:
            seg = self.segment_at(pos)
            if seg is None:
                nxt = next((s.vaddr for s in self.segments if s.vaddr > pos), end)
                stop = min(nxt, end)
                holes.append(Hole(pos, stop - pos, _errno.EFAULT,
                                  f"not in any PT_LOAD segment of {self.path}"))
                pos = stop
                continue
            stop = min(seg.end, end)
            in_file = max(0, min(stop, seg.vaddr + seg.filesz) - pos)
            got = 0
            if in_file:
                try:
                    data = _pread_exact(self._fd, in_file, seg.offset + pos - seg.vaddr)
                except OSError as exc:
                    data = b""
                    holes.append(Hole(pos, in_file, exc.errno or _errno.EIO,
                                      f"{self.path}: {os.strerror(exc.errno or _errno.EIO)}"))
                    got = in_file
                else:
                    out[pos - address:pos - address + len(data)] = data
                    got = len(data)
                    if got < in_file:
                        holes.append(Hole(pos + got, in_file - got, _errno.EIO,
                                          f"{self.path} is truncated"))
                        got = in_file
            tail = stop - pos - got
            if tail and not zero_tail:
                holes.append(Hole(pos + got, tail, _errno.EFAULT,
                                  "not saved in the core file"))
            pos = stop
        return ReadResult(address, bytes(out), tuple(sorted(holes, key=lambda h: h.address)))

    def symbols(self) -> SymbolTable:
        """The few symbols a VMCOREINFO note names (SYMBOL(x)=addr), type '?'."""
        items = [(k[7:-1], int(v, 16)) for k, v in self.vmcoreinfo.items()
                 if k.startswith("SYMBOL(") and k.endswith(")")]
        return _table([n for n, _ in items], [a for _, a in items], "?" * len(items),
                      source=f"{self.path} (VMCOREINFO)")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


KcoreReader = ElfCoreReader


def _table(names: list[str], addresses: list[int], letters: str, *, source: str,
           sizes: list[int] | None = None) -> SymbolTable:
    return SymbolTable(np.array(addresses, dtype=np.uint64),
                       np.frombuffer(letters.encode("ascii"), dtype=np.uint8).copy(), names,
                       np.zeros(len(names), dtype=np.int32), [KERNEL], source=source,
                       sizes=None if sizes is None else np.array(sizes, dtype=np.uint64))


_SYM_DTYPE = np.dtype([("name", "<u4"), ("info", "u1"), ("other", "u1"), ("shndx", "<u2"),
                       ("value", "<u8"), ("size", "<u8")])
STT_SECTION, STT_FILE = 3, 4
STB_LOCAL, STB_GLOBAL, STB_WEAK = 0, 1, 2
SHN_UNDEF, SHN_ABS, SHN_COMMON = 0, 0xFFF1, 0xFFF2


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    address: int
    size: int
    offset: int
    flags: int
    nobits: bool

    @property
    def end(self) -> int:
        return self.address + self.size


def _section_letter(sec: Section | None) -> str:
    """nm's letter for a defined symbol in ``sec`` (lower case)."""
    if sec is None:
        return "?"
    if sec.flags & SH_FLAGS.SHF_EXECINSTR:
        return "t"
    if sec.nobits:
        return "b"
    if sec.flags & SH_FLAGS.SHF_WRITE:
        return "d"
    if sec.flags & SH_FLAGS.SHF_ALLOC:
        return "r"
    return "n"


class VmlinuxImage:
    """An offline kernel image (``vmlinux``, or any ELF executable with a
    symbol table): symbols from ``.symtab``, initial values from the
    allocated sections (``.bss`` and other NOBITS sections read as zeros).
    Read-only. ``offset`` shifts every address (KASLR, from a vmcore)."""

    kind = "vmlinux"

    def __init__(self, path: str, *, offset: int = 0):
        self.path = path
        self.offset = offset
        self._fd: int | None = _open_ro(path, "the kernel image")
        try:
            elf = _elf(self._fd, path)
            if elf.header.e_type == "ET_CORE":
                raise InvalidInput(f"{path} is a core file, not a kernel image", op="open")
            if elf.elfclass != 64 or not elf.little_endian:
                raise InvalidInput(f"{path} is not a 64-bit little-endian ELF", op="open")
            self.sections: list[Section] = []
            symtab = None
            for sec in elf.iter_sections():
                if sec["sh_type"] == "SHT_SYMTAB":
                    symtab = (sec["sh_offset"], sec["sh_size"], sec["sh_link"])
                self.sections.append(Section(sec.name, sec["sh_addr"], sec["sh_size"],
                                             sec["sh_offset"], sec["sh_flags"],
                                             sec["sh_type"] == "SHT_NOBITS"))
            strtab = None
            if symtab is not None:
                link = elf.get_section(symtab[2])
                strtab = (link["sh_offset"], link["sh_size"])
            elf.stream.close()
        except BaseException:
            self.close()
            raise
        self._symtab, self._strtab = symtab, strtab
        self._alloc = sorted((s for s in self.sections
                              if s.flags & SH_FLAGS.SHF_ALLOC and s.size),
                             key=lambda s: s.address)
        self._symbols: SymbolTable | None = None

    def symbols(self) -> SymbolTable:
        """Every named function and object of ``.symtab`` with an nm-style
        type letter and its ELF size. Raises InvalidInput if there is no
        symbol table (a stripped image)."""
        if self._symbols is not None:
            return self._symbols
        if self._symtab is None or self._strtab is None:
            raise InvalidInput(f"{self.path} has no symbol table (stripped?); give an "
                               "unstripped vmlinux", op="symbols")
        raw = _pread_exact(self.fd, self._symtab[1], self._symtab[0])
        syms = np.frombuffer(raw[:len(raw) - len(raw) % _SYM_DTYPE.itemsize], dtype=_SYM_DTYPE)
        strtab = _pread_exact(self.fd, self._strtab[1], self._strtab[0])
        names, addresses, letters, sizes = [], [], [], []
        for sym in syms.tolist():
            name_off, info, _other, shndx, value, size = sym
            stype, bind = info & 0xF, info >> 4
            if not name_off or stype in (STT_SECTION, STT_FILE):
                continue
            end = strtab.find(b"\0", name_off)
            name = strtab[name_off:end if end >= 0 else len(strtab)].decode("utf-8",
                                                                            "surrogateescape")
            if shndx == SHN_UNDEF:
                letter = "w" if bind == STB_WEAK else "U"
            elif shndx == SHN_ABS:
                letter = "a"
            elif shndx == SHN_COMMON:
                letter = "c"
            else:
                sec = self.sections[shndx] if shndx < len(self.sections) else None
                letter = _section_letter(sec)
                if bind == STB_WEAK:
                    letter = "V" if letter in "dbr" else "W"
            if bind == STB_GLOBAL:
                letter = letter.upper()
            names.append(name)
            addresses.append((value + self.offset) & 0xFFFFFFFFFFFFFFFF if shndx != SHN_UNDEF
                             else 0)
            letters.append(letter)
            sizes.append(size)
        self._symbols = _table(names, addresses, "".join(letters), source=self.path,
                               sizes=sizes)
        return self._symbols

    @property
    def fd(self) -> int:
        if self._fd is None:
            raise LainviewError(f"{self.path} is closed", op="read")
        return self._fd

    def read(self, address: int, size: int) -> ReadResult:
        """Initial values of [address, address + size): section bytes, zeros
        for NOBITS sections, holes where no allocated section lies."""
        if size < 0 or size > MAX_READ:
            raise InvalidInput(f"read size {size} out of range (at most {MAX_READ})",
                               op="read", address=address)
        out = bytearray(size)
        holes: list[Hole] = []
        pos, end = address, address + size
        while pos < end:
            link = pos - self.offset
            sec = next((s for s in self._alloc if s.address <= link < s.end), None)
            if sec is None:
                nxt = min((s.address + self.offset for s in self._alloc
                           if s.address + self.offset > pos), default=end)
                stop = min(nxt, end)
                holes.append(Hole(pos, stop - pos, _errno.EFAULT,
                                  f"in no section of {os.path.basename(self.path)}"))
                pos = stop
                continue
            stop = min(sec.end + self.offset, end)
            if not sec.nobits:
                data = _pread_exact(self.fd, stop - pos, sec.offset + link - sec.address)
                out[pos - address:pos - address + len(data)] = data
            pos = stop
        return ReadResult(address, bytes(out), tuple(holes))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_type(path: str) -> str | None:
    """"ET_CORE", "ET_EXEC", ... or None if ``path`` is not ELF."""
    if not is_elf(path):
        return None
    with open(path, "rb") as f:
        try:
            return ELFFile(f).header.e_type
        except ELFError:
            return None


class SystemMap:
    """A System.map (or a saved kallsyms): symbols only, no memory."""

    kind = "system.map"

    def __init__(self, path: str):
        self.path = path
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise LainviewError(f"cannot read {path}: {os.strerror(exc.errno)}",
                                op="open", errno=exc.errno) from None
        self._symbols = parse_kallsyms(data, source=path)

    def symbols(self) -> SymbolTable:
        return self._symbols

    def close(self) -> None:
        pass


__all__ = ["ElfCoreReader", "KcoreReader", "VmlinuxImage", "SystemMap", "Segment",
           "parse_notes", "parse_vmcoreinfo", "elf_type", "KCORE_PATH"]
