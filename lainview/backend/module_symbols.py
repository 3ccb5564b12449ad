"""Module symbols: the ELF symbol tables (``.symtab`` and ``.dynsym``) of the
files a process maps, and the symbolic names of its addresses
(``libc.so.6!getpid+0x4``).

Where the data comes from: each mapped file is read from what the process
maps, not from what the path names now: ``/proc/PID/map_files/START-END``
(the very file, even replaced or deleted; the kernel allows it to root or
CAP_CHECKPOINT_RESTORE), else ``/proc/PID/root/PATH`` (the file by name, in
the process's root), which is used only when its device and inode are the
ones the map shows. Headers are read with pyelftools, the symbol arrays in
one read each. Tables are cached by (device, inode, mtime, size) of the
file opened, so a second process mapping the same libc costs nothing.

Offsets: a symbol's offset in a module is counted from the module's base,
the lowest address the file is mapped at (the base that
:mod:`locations` counts module offsets from): ``st_value - vaddr0``, where
``vaddr0`` is the lowest ``PT_LOAD`` ``p_vaddr`` rounded down to the page
(the kernel maps that page at the base, for a PIE and a fixed-address
executable alike).

Nothing here touches Qt or threads: :class:`ModuleSymbols` is owned by the
backend thread (service.py)."""

from __future__ import annotations

import bisect
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InvalidInput, LainviewError, Unresolved
from .kallsyms import SymbolTable
from .kcore import (_SYM_DTYPE, SHN_ABS, SHN_COMMON, SHN_UNDEF, STB_GLOBAL, STB_WEAK,
                    STT_FILE, STT_SECTION, Section, _check_span, _elf, _malformed,
                    _pread_exact, _section_letter, _table)
from .locations import Location, LocationKind, StaticEnd, locate
from .memory import MemoryArea, area_at
from .wording import printable

PAGE = 4096
STT_OBJECT, STT_FUNC, STT_TLS, STT_GNU_IFUNC = 1, 2, 6, 10
MAX_SYMBOLS_BYTES = 256 << 20      # a symbol table larger than this is not read
_NEIGHBOURS = 16                   # symbols looked at below an address for one that holds it


@dataclass(frozen=True, slots=True)
class ElfSymbols:
    """The symbols of one ELF file. ``table`` is a kallsyms SymbolTable
    whose addresses are offsets from the module base (see the module
    docstring), with nm's type letters and ELF sizes; ``exported[i]``: the
    i-th symbol is in ``.dynsym`` (what other modules may link to).
    ``vaddr0``: the page-aligned lowest PT_LOAD p_vaddr. ``has_symtab``:
    False for a stripped file (only ``.dynsym``). ``static_end``: where
    the writable PT_LOAD segments end (``p_vaddr + p_memsz``: the end of
    ``.data`` and ``.bss``), as an offset from the module base; None when
    no PT_LOAD is writable."""

    table: SymbolTable
    exported: np.ndarray
    vaddr0: int
    has_symtab: bool
    static_end: int | None = None

    @property
    def exported_count(self) -> int:
        return int(self.exported.sum())


PT_LOAD, SHT_SYMTAB, SHT_NOBITS, SHT_DYNSYM = 1, 2, 8, 11
PF_W = 2
_PHDR = np.dtype([("type", "<u4"), ("flags", "<u4"), ("offset", "<u8"), ("vaddr", "<u8"),
                  ("paddr", "<u8"), ("filesz", "<u8"), ("memsz", "<u8"), ("align", "<u8")])
_SHDR = np.dtype([("name", "<u4"), ("type", "<u4"), ("flags", "<u8"), ("addr", "<u8"),
                  ("offset", "<u8"), ("size", "<u8"), ("link", "<u4"), ("info", "<u4"),
                  ("addralign", "<u8"), ("entsize", "<u8")])
MAX_HEADERS = 1 << 16       # program or section headers read at most


def _headers(fd: int, path: str, what: str, offset: int, count: int, entsize: int,
             dtype: np.dtype[np.void], file_size: int) -> np.ndarray:
    """``count`` program or section headers at ``offset``, as an array.
    Raises InvalidInput for a table that does not fit the file."""
    if not count:
        return np.zeros(0, dtype=dtype)
    if entsize != dtype.itemsize or count > MAX_HEADERS:
        raise InvalidInput(f"{path}: malformed ELF file: {count} {what} headers of "
                           f"{entsize} bytes", op="symbols")
    _check_span(path, f"the {what} headers", offset, count * entsize, file_size)
    raw = _pread_exact(fd, count * entsize, offset)
    return np.frombuffer(raw, dtype=dtype)


def read_elf_symbols(fd: int, path: str) -> ElfSymbols:
    """The defined, named function/object/untyped symbols of the ELF file
    open at ``fd`` (``path`` only names it in messages), from ``.symtab``
    and ``.dynsym`` (one entry per name and value). Raises InvalidInput for
    a file that is not a well-formed 64-bit little-endian ELF with a
    PT_LOAD segment, LainviewError when it cannot be read."""
    file_size = os.fstat(fd).st_size
    with _malformed(path):
        # pyelftools reads the ELF header; the program and section headers
        # are read as arrays (its per-header parsing cost a second for a
        # process's libraries).
        elf = _elf(fd, path)
        try:
            if elf.elfclass != 64 or not elf.little_endian:
                raise InvalidInput(f"{path} is not a 64-bit little-endian ELF", op="symbols")
            header = elf.header
            phnum, shnum = header["e_phnum"], elf.num_sections()
        finally:
            elf.stream.close()
    phdrs = _headers(fd, path, "program", header["e_phoff"], phnum, header["e_phentsize"],
                     _PHDR, file_size)
    loads = phdrs["vaddr"][phdrs["type"] == PT_LOAD]
    if not len(loads):
        raise InvalidInput(f"{path}: no PT_LOAD segment (not a loadable ELF)", op="symbols")
    vaddr0 = int(loads.min()) & ~(PAGE - 1)
    shdrs = _headers(fd, path, "section", header["e_shoff"], shnum, header["e_shentsize"],
                     _SHDR, file_size)
    sections = [Section("", addr, size, offset, flags, kind == SHT_NOBITS)
                for kind, flags, addr, offset, size in zip(
                    shdrs["type"].tolist(), shdrs["flags"].tolist(), shdrs["addr"].tolist(),
                    shdrs["offset"].tolist(), shdrs["size"].tolist())]
    tables: list[tuple[int, int, int, int, int]] = []   # type, offset, size, strings offset, size
    for kind, offset, size, link in zip(shdrs["type"].tolist(), shdrs["offset"].tolist(),
                                        shdrs["size"].tolist(), shdrs["link"].tolist()):
        if kind not in (SHT_SYMTAB, SHT_DYNSYM):
            continue
        _check_span(path, "a symbol table", offset, size, file_size)
        if size > MAX_SYMBOLS_BYTES:
            raise InvalidInput(f"{path}: a symbol table of {size} bytes (more than "
                               f"{MAX_SYMBOLS_BYTES >> 20} MiB)", op="symbols")
        if not 0 < link < len(sections):
            raise InvalidInput(f"{path}: a symbol table links to no string table "
                               f"(sh_link {link})", op="symbols")
        strings = sections[link]
        _check_span(path, "a symbol string table", strings.offset, strings.size, file_size)
        if strings.size > MAX_SYMBOLS_BYTES:
            raise InvalidInput(f"{path}: a string table of {strings.size} bytes",
                               op="symbols")
        tables.append((kind, offset, size, strings.offset, strings.size))
    names: list[str] = []
    offsets: list[int] = []
    letters: list[str] = []
    sizes: list[int] = []
    exported: list[bool] = []
    seen: dict[tuple[str, int], int] = {}
    # .symtab first (it has the local symbols too), then what .dynsym adds.
    for kind, offset, size, str_offset, str_size in sorted(tables,
                                                           key=lambda t: t[0] != SHT_SYMTAB):
        raw = _pread_exact(fd, size, offset)
        syms = np.frombuffer(raw[:len(raw) - len(raw) % _SYM_DTYPE.itemsize], dtype=_SYM_DTYPE)
        strings = _pread_exact(fd, str_size, str_offset)
        dynamic = kind == SHT_DYNSYM
        for name_off, info, _other, shndx, value, sym_size in syms.tolist():
            stype, bind = info & 0xF, info >> 4
            if not name_off or name_off >= len(strings) or shndx in (SHN_UNDEF, SHN_ABS) \
                    or stype in (STT_SECTION, STT_FILE, STT_TLS):
                continue
            end = strings.find(b"\0", name_off)
            name = strings[name_off:end if end >= 0 else len(strings)].decode(
                "utf-8", "surrogateescape")
            where = value - vaddr0
            if not 0 <= where < 1 << 63:
                continue                # not inside what the PT_LOADs map
            key = (name.partition("@")[0], where)     # .symtab may say stdout@GLIBC_2.2.5
            if key in seen:
                if dynamic:
                    exported[seen[key]] = True
                continue
            if shndx == SHN_COMMON:
                letter = "c"
            else:
                letter = _section_letter(sections[shndx] if shndx < len(sections) else None)
                if bind == STB_WEAK:
                    letter = "V" if stype == STT_OBJECT else "W"     # nm: defined weak
            if bind == STB_GLOBAL:
                letter = letter.upper()
            seen[key] = len(names)
            names.append(name)
            offsets.append(where)
            letters.append(letter)
            sizes.append(sym_size)
            exported.append(dynamic)
    try:                                     # PLT names are a bonus: a bad PLT header
        with _malformed(path):               # costs them, not the file's symbols
            plt = _plt_symbols(fd, path, header["e_shstrndx"], shdrs, file_size)
    except InvalidInput:
        plt = []
    for name, value in plt:
        where = value - vaddr0
        if 0 <= where < 1 << 63 and (name, where) not in seen:
            seen[(name, where)] = len(names)
            names.append(name)
            offsets.append(where)
            letters.append("t")
            sizes.append(PLT_ENTRY)
            exported.append(False)
    table = _table(names, offsets, "".join(letters), source=path, sizes=sizes)
    writable = phdrs[(phdrs["type"] == PT_LOAD) & (phdrs["flags"] & PF_W != 0)]
    static_end = int((writable["vaddr"] + writable["memsz"]).max()) - vaddr0 \
        if len(writable) else None
    return ElfSymbols(table, np.array(exported, dtype=np.bool_), vaddr0,
                      any(t[0] == SHT_SYMTAB for t in tables), static_end)


SHT_RELA = 4
R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT = 6, 7
PLT_ENTRY = 16
_RELA = np.dtype([("offset", "<u8"), ("info", "<u8"), ("addend", "<i8")])
MAX_PLT_BYTES = 16 << 20            # PLT sections larger than this are not decoded


def _plt_symbols(fd: int, path: str, shstrndx: int, shdrs: np.ndarray,
                 file_size: int) -> list[tuple[str, int]]:
    """``(name@plt, address)`` of each PLT stub (``.plt``, ``.plt.sec``,
    ``.plt.got``), as objdump names them: each entry (16 bytes, or the
    section's entry size: 8 in a ``.plt.got`` without IBT) is decoded
    (``jmp *disp(%rip)``, after an ``endbr64`` and with a ``bnd`` prefix
    or not) to the GOT slot it jumps through, and the dynamic relocation
    of that slot (JUMP_SLOT or GLOB_DAT) names the function. Entries that
    do not decode so (the PLT's first, resolver entry) are left out; a
    file without section names or relocations gives none."""
    if not 0 < shstrndx < len(shdrs):
        return []
    names_sh = shdrs[shstrndx]
    _check_span(path, "the section names", int(names_sh["offset"]), int(names_sh["size"]),
                file_size)
    names = _pread_exact(fd, int(names_sh["size"]), int(names_sh["offset"]))

    def name_of(i: int) -> str:
        at = int(shdrs[i]["name"])
        end = names.find(b"\0", at)
        return names[at:end if end >= 0 else len(names)].decode("ascii", "replace")

    by_name = {name_of(i): i for i in range(len(shdrs))}
    slots: dict[int, str] = {}               # GOT slot address -> function name
    for i in range(len(shdrs)):
        sh = shdrs[i]
        if int(sh["type"]) != SHT_RELA or name_of(i) not in (".rela.plt", ".rela.dyn") \
                or not 0 < int(sh["link"]) < len(shdrs):
            continue
        size, link = int(sh["size"]), shdrs[int(sh["link"])]
        if size > MAX_PLT_BYTES or int(link["size"]) > MAX_SYMBOLS_BYTES:
            continue
        _check_span(path, "a relocation table", int(sh["offset"]), size, file_size)
        relas = np.frombuffer(_pread_exact(fd, size, int(sh["offset"]))[:size - size % 24],
                              dtype=_RELA)
        _check_span(path, "a symbol table", int(link["offset"]), int(link["size"]), file_size)
        raw = _pread_exact(fd, int(link["size"]), int(link["offset"]))
        syms = np.frombuffer(raw[:len(raw) - len(raw) % _SYM_DTYPE.itemsize], dtype=_SYM_DTYPE)
        strings_sh = shdrs[int(link["link"])] if 0 < int(link["link"]) < len(shdrs) else None
        if strings_sh is None:
            continue
        _check_span(path, "a string table", int(strings_sh["offset"]), int(strings_sh["size"]),
                    file_size)
        strings = _pread_exact(fd, int(strings_sh["size"]), int(strings_sh["offset"]))
        for r_offset, info, _addend in relas.tolist():
            kind, index = info & 0xFFFFFFFF, info >> 32
            if kind not in (R_X86_64_JUMP_SLOT, R_X86_64_GLOB_DAT) or not 0 < index < len(syms):
                continue
            at = int(syms[index]["name"])
            end = strings.find(b"\0", at)
            if at and at < len(strings):
                slots[r_offset] = strings[at:end if end >= 0 else len(strings)].decode(
                    "utf-8", "surrogateescape")
    out: list[tuple[str, int]] = []
    for section in (".plt", ".plt.sec", ".plt.got"):
        found = by_name.get(section)
        if found is None or int(shdrs[found]["type"]) == SHT_NOBITS:
            continue
        sh = shdrs[found]
        addr, offset, size = int(sh["addr"]), int(sh["offset"]), int(sh["size"])
        if size > MAX_PLT_BYTES:
            continue
        _check_span(path, f"the {section} section", offset, size, file_size)
        code = _pread_exact(fd, size, offset)
        step = int(sh["entsize"]) if int(sh["entsize"]) in (8, 16) else PLT_ENTRY  # .plt.got: 8
        for entry in range(0, size - step + 1, step):
            slot = _jump_slot(code, entry, addr + entry)
            if slot is not None and slot in slots:
                out.append((f"{slots[slot]}@plt", addr + entry))
    return out


def _jump_slot(code: bytes, at: int, address: int) -> int | None:
    """The GOT slot the PLT entry at ``code[at:]`` (at ``address``) jumps
    through: ``[endbr64] [bnd] jmp *disp32(%rip)``; None for another entry."""
    i = at + 4 if code[at:at + 4] == b"\xf3\x0f\x1e\xfa" else at   # endbr64
    if code[i:i + 1] == b"\xf2":                                   # bnd
        i += 1
    if code[i:i + 2] != b"\xff\x25":
        return None
    disp = int.from_bytes(code[i + 2:i + 6], "little", signed=True)
    return address + (i + 6 - at) + disp


@dataclass(frozen=True, slots=True)
class Module:
    """One file mapped in a process. ``path`` is the file's path (without
    the kernel's `` (deleted)``), ``name`` its file name; [``base``,
    ``end``) spans its mappings; ``symbols`` is None when they could not be
    read, ``problem`` then says why (one line). ``static_end``: the address
    where its static data ends (:func:`static_end_of`); None when the file
    could not be read."""

    path: str
    name: str
    base: int
    end: int
    symbols: ElfSymbols | None
    problem: str | None = None
    static_end: int | None = None

    @property
    def size(self) -> int:
        return self.end - self.base

    @property
    def symbol_count(self) -> int:
        return len(self.symbols.table) if self.symbols is not None else 0

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "path": self.path, "base": self.base, "size": self.size,
                "symbols": self.symbol_count,
                "exported": self.symbols.exported_count if self.symbols else 0,
                "problem": self.problem}


@dataclass(frozen=True, slots=True)
class ModuleSymbol:
    """One symbol of one module, placed in the process: ``address`` =
    module base + offset."""

    module: Module
    name: str
    offset: int
    size: int
    type: str
    exported: bool

    @property
    def address(self) -> int:
        return self.module.base + self.offset

    def location(self, offset: int = 0) -> Location:
        """``module!symbol+offset`` as a location (kept by full path)."""
        return Location(LocationKind.MODULE, self.module.path, offset, symbol=self.name)

    @property
    def text(self) -> str:
        """``libc.so.6!getpid``, as the location grammar writes it."""
        return self.location().text

    def to_json(self) -> dict[str, object]:
        return {"module": self.module.name, "path": self.module.path, "name": self.name,
                "address": self.address, "offset": self.offset, "size": self.size,
                "type": self.type, "exported": self.exported}


def offset_of(symbols: ElfSymbols, name: str) -> int | None:
    """The offset of ``name`` in one file's symbols: the exported
    definition, else the global one, else the first; None if there is none."""
    found = symbols.table.lookup(name)
    if not found:
        return None
    best = min(found, key=lambda i: (not symbols.exported[i],
                                     not chr(symbols.table.types[i]).isupper(), i))
    return int(symbols.table.addresses[best])


def _dev_text(st_dev: int) -> str:
    return f"{os.major(st_dev):02x}:{os.minor(st_dev):02x}"


def _same_file(st: os.stat_result, area: MemoryArea) -> bool:
    if area.inode is not None and area.inode and st.st_ino != area.inode:
        return False
    if area.dev is not None and area.dev != "00:00":
        major, _, minor = area.dev.partition(":")
        try:
            if (int(major, 16), int(minor, 16)) != (os.major(st.st_dev), os.minor(st.st_dev)):
                return False
        except ValueError:
            return False
    return True


def _open_mapped(pid: int, area: MemoryArea, proc: str = "/proc") -> int:
    """A read-only descriptor of the file ``area`` maps. Raises
    LainviewError naming why none could be opened."""
    tried: list[str] = []
    candidates = [f"{proc}/{pid}/map_files/{area.start:x}-{area.end:x}"]
    if not area.deleted:
        candidates.append(f"{proc}/{pid}/root{area.file_path}")
    for candidate in candidates:
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as exc:
            tried.append(f"{candidate}: {exc.strerror or exc}")
            continue
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            tried.append(f"{candidate}: not a regular file")
            continue
        if not _same_file(st, area):
            os.close(fd)
            tried.append(f"{candidate}: not the file mapped (replaced since)")
            continue
        return fd
    why = "; ".join(tried) or "nothing to open"
    raise LainviewError(f"cannot open {printable(area.file_path)} as mapped: {why}",
                        op="symbols", pid=pid)


def static_end_of(base: int, symbols: ElfSymbols) -> int:
    """Where the static data of an ELF file mapped at ``base`` ends: its
    writable PT_LOAD segments' end, or ``base`` when it has none."""
    return base + (symbols.static_end or 0)


def _first_area(areas: Sequence[MemoryArea], path: str) -> MemoryArea | None:
    """The lowest area mapped from the file ``path`` (the module's base), or None."""
    return next((a for a in areas if a.path.startswith("/") and not a.is_pseudo
                 and a.file_path == path), None)


class ModuleSymbols:
    """A cache of ELF symbol tables by file identity (device, inode,
    mtime, size), and the builder of :class:`Symbolizer` snapshots.
    Owned by the backend thread."""

    def __init__(self, *, proc: str = "/proc", limit: int = 256):
        self.proc = proc
        self.limit = limit
        self._cache: dict[tuple[int, int, int, int], ElfSymbols | str] = {}

    def _symbols(self, pid: int, area: MemoryArea) -> ElfSymbols:
        fd = _open_mapped(pid, area, self.proc)
        try:
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
            hit = self._cache.get(key)
            if hit is None:
                try:
                    hit = read_elf_symbols(fd, printable(area.file_path))
                except InvalidInput as exc:
                    hit = str(exc)
                if len(self._cache) >= self.limit:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = hit
        finally:
            os.close(fd)
        if isinstance(hit, str):
            raise InvalidInput(hit, op="symbols")
        return hit

    def iter_modules(self, pid: int, areas: Sequence[MemoryArea]) -> Iterator[Module]:
        """One :class:`Module` per file mapped in ``areas`` (sorted by start,
        as ProcessMemory returns them), by base; a file whose symbols cannot
        be read is listed with its ``problem``. A generator, so bulk work can
        yield between files."""
        firsts: dict[str, MemoryArea] = {}
        ends: dict[str, int] = {}
        for area in areas:
            if not area.path.startswith("/") or area.is_pseudo:
                continue
            path = area.file_path
            firsts.setdefault(path, area)
            ends[path] = max(ends.get(path, 0), area.end)
        for path, first in sorted(firsts.items(), key=lambda kv: kv[1].start):
            name = locate(first.start, list(areas)).short_name
            symbols: ElfSymbols | None = None
            problem: str | None = None
            end: int | None = None
            try:
                symbols = self._symbols(pid, first)
                end = static_end_of(first.start, symbols)
            except InvalidInput as exc:
                problem = str(exc)
                end = first.start                       # not an ELF file: no .bss
            except LainviewError as exc:
                problem = exc.message
            yield Module(path, name, first.start, ends[path], symbols, problem, end)

    def module_symbol(self, pid: int, areas: Sequence[MemoryArea], path: str,
                      name: str) -> int | None:
        """The ``module_symbol`` lookup of :func:`locations.resolve` reading
        only the one file ``path`` names (cached), not every module. Raises
        Unresolved when that file's symbols cannot be read, saying why."""
        first = _first_area(areas, path)
        if first is None:
            return None
        try:
            symbols = self._symbols(pid, first)
        except LainviewError as exc:
            raise Unresolved(f"the symbols of {printable(os.path.basename(path))} cannot be "
                             f"read: {exc.message}", pid=pid) from None
        return offset_of(symbols, name)

    def static_end(self, pid: int, areas: Sequence[MemoryArea], path: str) -> int | None:
        """The address where the static data of the module mapped from
        ``path`` ends: the end of its writable PT_LOAD segments (their
        ``p_memsz``: ``.data`` and the zero-filled ``.bss`` after it), from
        its ELF program headers (the file as mapped, cached). Memory mapped
        after it, even right after and with the same permissions, is not
        the module's. A file that is not ELF, or has no writable segment,
        has no static data beyond its mapping: its base. None when the file
        cannot be read."""
        first = _first_area(areas, path)
        if first is None:
            return None
        try:
            return static_end_of(first.start, self._symbols(pid, first))
        except InvalidInput:
            return first.start                          # not an ELF file: no .bss
        except LainviewError:
            return None

    def symbolizer(self, pid: int, areas: Sequence[MemoryArea]) -> "Symbolizer":
        """Every module's symbols now (cached tables cost nothing)."""
        return Symbolizer(list(self.iter_modules(pid, areas)), list(areas))


class Symbolizer:
    """The modules of one map with their symbols: names addresses and
    finds symbols. Immutable once made; safe to use from any thread."""

    def __init__(self, modules: list[Module], areas: list[MemoryArea]):
        self.modules = modules
        self.areas = areas
        self._by_path = {m.path: m for m in modules}
        self._texts: dict[tuple[str, str], str] = {}       # module!symbol as printed
        self._sorted: dict[str, tuple[list[int], list[int], list[int]]] = {}

    def module(self, path: str) -> Module | None:
        """The module of that full path (as :func:`locations.locate` gives it)."""
        return self._by_path.get(path)

    def static_end(self, path: str) -> int | None:
        """Where the static data of the module mapped from ``path`` ends
        (its writable PT_LOAD segments' end; its base for a file that is not
        ELF), or None: the :data:`locations.StaticEnd` of this map, from
        symbols already read."""
        module = self._by_path.get(path)
        return module.static_end if module is not None else None

    def static_end_in(self, areas: Sequence[MemoryArea]) -> StaticEnd:
        """:meth:`static_end` for ``areas``, a later map of the same process
        (the map changes every few milliseconds in some programs, faster
        than symbols are read for it): a module still mapped at the base
        its symbols were read for keeps its static end; others are not known."""
        def static_end(path: str) -> int | None:
            module = self._by_path.get(path)
            if module is None or module.static_end is None:
                return None
            first = _first_area(areas, path)
            return module.static_end if first is not None and first.start == module.base \
                else None
        return static_end

    def locate(self, address: int) -> Location:
        """:func:`locations.locate` in this map, a module's ``.bss`` bounded
        by its ELF segments (:meth:`static_end`)."""
        return locate(address, self.areas, self.static_end)

    def module_symbol(self, path: str, name: str) -> int | None:
        """The offset of symbol ``name`` from the base of the module mapped
        from ``path``, or None (no such module or symbol). A name defined
        more than once (local symbols of different files) gives the
        exported one, else the global one, else the first. This is the
        ``module_symbol`` callback of :func:`locations.resolve`."""
        module = self._by_path.get(path)
        if module is None or module.symbols is None:
            return None
        return offset_of(module.symbols, name)

    def symbol_at(self, address: int) -> tuple[ModuleSymbol, int] | None:
        """The symbol holding ``address`` (a sized one whose [start,
        start+size) covers it, or an unsized one starting exactly there)
        and the offset into it, or None."""
        placed = self._module_of(address)
        if placed is None:
            return None
        module, offset = placed
        if module.symbols is None or not len(module.symbols.table):
            return None
        starts, order, sizes = self._by_offset(module)
        j = bisect.bisect_right(starts, offset) - 1
        best: int | None = None
        for k in range(j, max(-1, j - _NEIGHBOURS), -1):
            start, size = starts[k], sizes[k]
            if start <= offset < start + size or (size == 0 and start == offset):
                if best is None or sizes[best] == 0:
                    best = k
                if size:
                    break
        if best is None:
            return None
        return self._placed(module, order[best]), offset - starts[best]

    def _by_offset(self, module: Module) -> tuple[list[int], list[int], list[int]]:
        """The module's symbol offsets ascending, their table indices and
        sizes, as lists (made once: bisecting lists beats numpy scalars)."""
        hit = self._sorted.get(module.path)
        if hit is None:
            assert module.symbols is not None
            table = module.symbols.table
            order, offsets = table._sorted_addresses()
            sizes = table.sizes[order] if table.sizes is not None \
                else np.zeros(len(order), np.uint64)
            hit = self._sorted[module.path] = (offsets.tolist(), order.tolist(), sizes.tolist())
        return hit

    def _module_of(self, address: int) -> tuple[Module, int] | None:
        """The module holding ``address`` and the offset from its base, as
        :func:`locations.locate` counts it (a bisection, not a scan of the map)."""
        area = area_at(self.areas, address)
        if area is None or area.is_pseudo:
            return None
        if area.path:
            module = self._by_path.get(area.file_path)
            return (module, address - module.base) if module is not None else None
        where = self.locate(address)                 # anonymous: a module's .bss?
        module = self._by_path.get(where.name) if where.kind == LocationKind.MODULE else None
        return (module, where.offset) if module is not None else None

    def _placed(self, module: Module, index: int) -> ModuleSymbol:
        assert module.symbols is not None
        table = module.symbols.table
        return ModuleSymbol(module, table.names[index], int(table.addresses[index]),
                            int(table.sizes[index]) if table.sizes is not None else 0,
                            chr(table.types[index]), bool(module.symbols.exported[index]))

    def name(self, address: int) -> str:
        """``libc.so.6!getpid+0x4`` where a symbol holds ``address``, else
        its location as :func:`locations.locate` writes it
        (``libc.so.6+0x9a3f4``, ``[heap]+0x10``, ``0x7f…``)."""
        hit = self.symbol_at(address)
        if hit is not None:
            symbol, offset = hit
            key = (symbol.module.path, symbol.name)
            head = self._texts.get(key)
            if head is None:
                head = self._texts[key] = symbol.text      # the printer's form, quoted if need be
            return head + (f"+{offset:#x}" if offset else "")
        placed = self._module_of(address)
        if placed is None:
            return self.locate(address).text
        module, offset = placed
        key = (module.path, "")
        head = self._texts.get(key)
        if head is None:
            # The printer's module+offset form, e.g. "libc.so.6+0x0", without its offset.
            head = Location(LocationKind.MODULE, module.path, 0).text.removesuffix("+0x0")
            self._texts[key] = head
        return f"{head}+{offset:#x}"

    def location(self, address: int) -> Location:
        """The location of ``address``: ``module!symbol+off`` where a symbol
        holds it, else :meth:`locate`'s."""
        hit = self.symbol_at(address)
        if hit is None:
            return self.locate(address)
        symbol, offset = hit
        return symbol.location(offset)

    def search(self, pattern: str | None = None, *, module: str | None = None,
               regex: bool = False, limit: int | None = None) -> list[ModuleSymbol]:
        """Symbols whose name matches ``pattern`` (kallsyms' matching:
        substring ignoring case, a glob if it has * ? [, a regular
        expression with ``regex``), in module order, then by offset;
        ``module`` keeps one module (file name or path). At most ``limit``.
        Raises InvalidInput for a bad pattern."""
        out: list[ModuleSymbol] = []
        for mod in self.modules:
            if mod.symbols is None or module is not None and module not in (mod.name, mod.path):
                continue
            table = mod.symbols.table
            picked = table.select(pattern or None, mode="regex" if regex else "auto")
            picked = picked[np.argsort(table.addresses[picked], kind="stable")]
            for i in picked.tolist():
                out.append(self._placed(mod, int(i)))
                if limit is not None and len(out) >= limit:
                    return out
        return out


__all__ = ["ElfSymbols", "Module", "ModuleSymbol", "ModuleSymbols", "Symbolizer", "offset_of",
           "read_elf_symbols"]
