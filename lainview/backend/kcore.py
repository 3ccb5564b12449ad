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
import contextlib
import errno as _errno
import os
import stat
import struct
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from elftools.common.exceptions import ELFError
from elftools.construct.core import ConstructError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from .errors import InvalidInput, LainviewError
from .files import MISSING_FILE_ERRNOS
from .kallsyms import KERNEL, SymbolTable, read_symbol_file
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
    """A read-only descriptor on the regular file ``path``. Raises
    InvalidInput when a file the user named is missing or not a regular file
    (a directory, a FIFO, a device: reading those could block or never end),
    LainviewError when it cannot be opened (EACCES)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        hint = ""
        if path == KCORE_PATH:
            hint = (" (/proc/kcore does not exist: the kernel was built without "
                    "CONFIG_PROC_KCORE)" if exc.errno == _errno.ENOENT else
                    " (/proc/kcore needs root: CAP_SYS_RAWIO)")
        cls = InvalidInput if path != KCORE_PATH and exc.errno in MISSING_FILE_ERRNOS \
            else LainviewError
        raise cls(f"cannot open {what} {path}: {exc.strerror or exc}{hint}",
                  op="open", errno=exc.errno) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInput(f"{what} {path} is not a regular file", op="open")
    return fd


# What pyelftools (and its vendored construct) raise on a malformed file.
_ELF_PARSE_ERRORS = (ELFError, ConstructError, struct.error, ValueError, KeyError, IndexError,
                     TypeError, AttributeError, AssertionError, OverflowError, RecursionError,
                     UnicodeError, EOFError)
MAX_NOTES = 16 << 20          # PT_NOTE bytes read; kdump's notes are a few KiB per CPU
_PREAD_CHUNK = 16 << 20


@contextlib.contextmanager
def _malformed(path: str, what: str = "ELF file") -> Iterator[None]:
    """Turn any parse failure inside into InvalidInput naming ``path``."""
    try:
        yield
    except InvalidInput:
        raise
    except _ELF_PARSE_ERRORS as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise InvalidInput(f"{path}: malformed {what}: {detail}", op="open") from None
    except OSError as exc:
        if exc.errno in (_errno.EINVAL, _errno.EOVERFLOW):     # a seek past what off_t holds
            raise InvalidInput(f"{path}: malformed {what}: an offset past the end of any "
                               "file", op="open") from None
        raise LainviewError(f"cannot read {path}: {os.strerror(exc.errno or _errno.EIO)}",
                            op="open", errno=exc.errno) from None


def _elf(fd: int, path: str) -> ELFFile:
    stream = open(fd, "rb", buffering=0, closefd=False)
    try:
        return ELFFile(stream)
    except _ELF_PARSE_ERRORS as exc:
        stream.close()
        raise InvalidInput(f"{path} is not an ELF file: {exc}", op="open") from None


def _pread_exact(fd: int, size: int, offset: int) -> bytes:
    """Up to ``size`` bytes at ``offset``: short only at the end of the file.
    Reads in bounded requests, so a size taken from a header costs no more
    memory than the file holds."""
    out = bytearray()
    while len(out) < size:
        chunk = os.pread(fd, min(size - len(out), _PREAD_CHUNK), offset + len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _check_span(path: str, what: str, start: int, size: int, limit: int = 1 << 64) -> None:
    if start < 0 or size < 0 or start + size > limit:
        raise InvalidInput(f"{path}: {what} [{start:#x}, +{size:#x}) runs past "
                           + ("the 64-bit address space" if limit == 1 << 64
                              else f"the end of the file ({limit} bytes)"), op="open")


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
            file_size = os.fstat(self._fd).st_size
            is_kcore = os.path.realpath(path) == KCORE_PATH
            segments, note_data = [], bytearray()
            with _malformed(path, "core file"):
                elf = _elf(self._fd, path)
                if elf.header.e_type != "ET_CORE":
                    raise InvalidInput(f"{path} is an ELF {elf.header.e_type}, not a core "
                                       "file", op="open")
                for seg in elf.iter_segments():
                    if seg["p_type"] == "PT_LOAD" and seg["p_memsz"]:
                        _check_span(path, "a PT_LOAD segment", seg["p_vaddr"], seg["p_memsz"])
                        if seg["p_filesz"] > seg["p_memsz"]:
                            raise InvalidInput(f"{path}: a PT_LOAD segment at "
                                               f"{seg['p_vaddr']:#x} stores more bytes than "
                                               "it maps (p_filesz > p_memsz)", op="open")
                        segments.append(Segment(seg["p_vaddr"], seg["p_memsz"],
                                                seg["p_offset"], seg["p_filesz"],
                                                seg["p_flags"]))
                    elif seg["p_type"] == "PT_NOTE" and not is_kcore:
                        # /proc/kcore's size is nominal; elsewhere the notes must be in the file.
                        _check_span(path, "a PT_NOTE segment", seg["p_offset"],
                                    seg["p_filesz"], file_size)
                        if len(note_data) + seg["p_filesz"] > MAX_NOTES:
                            raise InvalidInput(f"{path}: more than {MAX_NOTES >> 20} MiB of "
                                               "ELF notes", op="open")
                        note_data += _pread_exact(self._fd, seg["p_filesz"], seg["p_offset"])
                    elif seg["p_type"] == "PT_NOTE" and seg["p_filesz"] <= MAX_NOTES:
                        note_data += _pread_exact(self._fd, seg["p_filesz"], seg["p_offset"])
                elf.stream.close()
            self.segments = sorted(segments, key=lambda s: s.vaddr)
            if not is_kcore:
                # Overlapping segments would give two answers for one address.
                for a, b in zip(self.segments, self.segments[1:]):
                    if b.vaddr < a.end:
                        raise InvalidInput(
                            f"{path}: PT_LOAD segments overlap ([{a.vaddr:#x}, {a.end:#x}) "
                            f"and [{b.vaddr:#x}, {b.end:#x})): refusing an ambiguous core",
                            op="open")
            self.notes = parse_notes(bytes(note_data))
            self.vmcoreinfo: dict[str, str] = {}
            for name, _type, desc in self.notes:
                if name == "VMCOREINFO":
                    self.vmcoreinfo = parse_vmcoreinfo(desc.decode("latin-1"))
            self._kernel_offset = self._vmcoreinfo_hex("KERNELOFFSET") or 0
            # a malformed address (not hex, past 64 bits) leaves the symbol out
            self._note_symbols = [(k[7:-1], address)
                                  for k in self.vmcoreinfo
                                  if k.startswith("SYMBOL(") and k.endswith(")")
                                  and (address := self._vmcoreinfo_hex(k)) is not None]
        except BaseException:
            self.close()
            raise
        self._starts = [s.vaddr for s in self.segments]
        if is_kcore:
            self.kind = "kcore"
        elif self.vmcoreinfo:
            self.kind = "vmcore"
        else:
            self.kind = "core"

    def _vmcoreinfo_hex(self, key: str) -> int | None:
        value = self.vmcoreinfo.get(key)
        if value is None:
            return None
        try:
            number = int(value, 16)
        except ValueError:
            number = -1
        if not 0 <= number < 1 << 64:
            raise InvalidInput(f"{self.path}: VMCOREINFO {key}={value[:40]!r} is not a "
                               "64-bit hex number", op="open")
        return number

    @property
    def kernel_offset(self) -> int:
        """KASLR's offset from VMCOREINFO (0 if it does not say)."""
        return self._kernel_offset

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
                    file_offset = seg.offset + pos - seg.vaddr
                    data = _pread_exact(self._fd, in_file, file_offset) \
                        if file_offset + in_file < 1 << 63 else b""
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
                                          f"past the end of {self.path} (truncated)"))
                        got = in_file
            tail = stop - pos - got
            if tail and not zero_tail:
                holes.append(Hole(pos + got, tail, _errno.EFAULT,
                                  "not saved in the core file"))
            pos = stop
        return ReadResult(address, bytes(out), tuple(sorted(holes, key=lambda h: h.address)))

    def symbols(self) -> SymbolTable:
        """The few symbols a VMCOREINFO note names (SYMBOL(x)=addr), type '?'."""
        items = self._note_symbols
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
            file_size = os.fstat(self._fd).st_size
            with _malformed(path, "kernel image"):
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
                        _check_span(path, "the symbol table", symtab[0], symtab[1], file_size)
                    section = Section(sec.name, sec["sh_addr"], sec["sh_size"],
                                      sec["sh_offset"], sec["sh_flags"],
                                      sec["sh_type"] == "SHT_NOBITS")
                    if section.flags & SH_FLAGS.SHF_ALLOC:
                        _check_span(path, f"section {section.name!r}", section.address,
                                    section.size)
                    self.sections.append(section)
                strtab = None
                if symtab is not None:
                    if not 0 < symtab[2] < elf.num_sections():
                        raise InvalidInput(f"{path}: the symbol table links to no string "
                                           f"table (sh_link {symtab[2]})", op="open")
                    link = elf.get_section(symtab[2])
                    strtab = (link["sh_offset"], link["sh_size"])
                    _check_span(path, "the symbol string table", strtab[0], strtab[1],
                                file_size)
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
        for NOBITS sections, holes where no allocated section lies or the
        file ends before the section does. Raises InvalidInput for a bad
        size or a range past the 64-bit address space."""
        if size < 0 or size > MAX_READ:
            raise InvalidInput(f"read size {size} out of range (at most {MAX_READ})",
                               op="read", address=address)
        if address < 0 or address + size > 1 << 64:
            raise InvalidInput("range beyond the 64-bit address space", op="read",
                               address=address)
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
                file_offset = sec.offset + link - sec.address
                data = _pread_exact(self.fd, stop - pos, file_offset) \
                    if file_offset + stop - pos < 1 << 63 else b""
                out[pos - address:pos - address + len(data)] = data
                if len(data) < stop - pos:
                    holes.append(Hole(pos + len(data), stop - pos - len(data), _errno.EIO,
                                      f"past the end of {os.path.basename(self.path)} "
                                      f"(section {sec.name} is truncated)"))
            pos = stop
        return ReadResult(address, bytes(out), tuple(holes))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def is_elf(path: str) -> bool:
    """True if ``path`` is a regular file starting with the ELF magic."""
    try:
        fd = _open_ro(path, "file")
    except LainviewError:
        return False
    try:
        return os.pread(fd, 4, 0) == b"\x7fELF"
    except OSError:
        return False
    finally:
        os.close(fd)


def elf_type(path: str) -> str | None:
    """"ET_CORE", "ET_EXEC", ... or None if ``path`` is not ELF (or not a
    regular file). Raises InvalidInput for a file with the ELF magic whose
    header cannot be parsed."""
    if not is_elf(path):
        return None
    with open(path, "rb") as f, _malformed(path):
        e_type: str = ELFFile(f).header.e_type
        return e_type


class SystemMap:
    """A System.map (or a saved kallsyms): symbols only, no memory."""

    kind = "system.map"

    def __init__(self, path: str):
        self.path = path
        self._symbols = read_symbol_file(path, what="System.map")

    def symbols(self) -> SymbolTable:
        return self._symbols

    def close(self) -> None:
        pass


__all__ = ["ElfCoreReader", "KcoreReader", "VmlinuxImage", "SystemMap", "Segment",
           "parse_notes", "parse_vmcoreinfo", "elf_type", "KCORE_PATH"]
