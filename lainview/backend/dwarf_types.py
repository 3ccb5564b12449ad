"""Types from DWARF debug information (pyelftools): the structs, unions,
enums and typedefs of an ELF file built with ``-g``, and the types of its
global variables, as :mod:`.ctypes_model` objects.

Opening indexes the named types and the globals of every compilation unit
(DIE offsets only); a type becomes an object when looked up, its pointees
when followed. DWARF 2–5 as pyelftools reads it; member offsets from
``DW_AT_data_member_location`` (a constant, or ``DW_OP_plus_uconst``),
bitfields from ``DW_AT_data_bit_offset`` or the older
``DW_AT_bit_offset``/``DW_AT_byte_size`` pair.

Errors: a file that is not ELF, has no debug information, or whose DWARF is
malformed raises InvalidInput naming the file (never a pyelftools
traceback).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator

from .ctypes_model import (Array, Base, CType, Enum, Field, Function, Pointer, Qualified,
                           Record, Typedef, Void, gcc_base_name, settled,
                           split_type_name)
from .errors import InvalidInput, LainviewError
from .files import open_input_file
from .locations import LocationKind, locate
from .memory import MemoryArea
from .wording import printable, quoted

_ATE_FLOAT, _ATE_BOOL = 0x04, 0x02
_ATE_SIGNED, _ATE_SIGNED_CHAR, _ATE_UNSIGNED_CHAR = 0x05, 0x06, 0x08
_TAGS = {"DW_TAG_structure_type": "struct", "DW_TAG_union_type": "union",
         "DW_TAG_enumeration_type": "enum"}


class DebugTypes:
    """The DWARF types and globals of one ELF file. ``path`` names it."""

    def __init__(self, path: str, *, index: bool = True):
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
        self.path = path
        self._file = open_input_file(path, what="the DWARF file")   # a FIFO would hang
        self._names: dict[str, list[Any]] = {}
        self._globals: dict[str, Any] = {}
        self._types: dict[int, CType] = {}
        try:
            try:
                elf = ELFFile(self._file)
                has_debug = elf.get_section_by_name(".debug_info") is not None
            except ELFError as exc:
                raise InvalidInput(f"{printable(path)}: not a readable ELF file "
                                   f"({printable(exc)})") from None
            if not has_debug:                # .eh_frame alone is no debug information
                raise InvalidInput(f"{printable(path)} has no DWARF debug information "
                                   "(build it with -g)")
            self._dwarf = self._guard(elf.get_dwarf_info)
            loads = [seg["p_vaddr"] for seg in self._guard(lambda: list(elf.iter_segments()))
                     if seg["p_type"] == "PT_LOAD"]
            self.link_base: int = (min(loads) & ~0xFFF) if loads else 0
            if index:
                self._guard(self._index)
        except BaseException:
            self._file.close()
            raise

    def close(self) -> None:
        self._file.close()

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except InvalidInput:
            raise
        except RecursionError:
            raise InvalidInput(f"{printable(self.path)}: DWARF types nested too deeply") \
                from None
        except Exception as exc:        # pyelftools raises many kinds on malformed data
            raise InvalidInput(f"{printable(self.path)}: malformed DWARF "
                               f"({type(exc).__name__}: {printable(exc)})") from None

    def _index(self) -> None:
        for _ in self.index_steps():
            pass

    def index_steps(self) -> Iterator[int]:
        """Index the names one compilation unit per step (each yields the
        units indexed so far): for a large file, as bulk work between
        interactive requests. Open with ``index=False`` first. Raises
        InvalidInput for damaged DWARF."""
        units = self._guard(self._dwarf.iter_CUs)
        done = 0
        while True:
            cu = self._guard(next, units, None)
            if cu is None:
                return
            self._guard(self._index_unit, cu)
            done += 1
            yield done

    def _index_unit(self, cu: Any) -> None:
        top = cu.get_top_DIE()
        for die in top.iter_children():
            name = _name(die)
            if die.tag in _TAGS and name:
                self._names.setdefault(f"{_TAGS[die.tag]} {name}", []).append(die)
            elif die.tag in ("DW_TAG_typedef", "DW_TAG_base_type") and name:
                self._names.setdefault(name, []).append(die)
            elif die.tag == "DW_TAG_variable" and name and "DW_AT_type" in die.attributes:
                self._globals.setdefault(name, die)

    # -- public

    def names(self) -> list[str]:
        """Every named type, sorted (``struct player``, ``player_t``, ``int``)."""
        return sorted(self._names)

    def globals(self) -> list[str]:
        """The names of the global variables with a type."""
        return sorted(self._globals)

    def find(self, text: str) -> CType:
        """The type ``text`` names (``struct player``, ``player`` for a
        struct/union/enum/typedef of that name, trailing ``*`` s). A
        definition wins over a declaration. Raises InvalidInput."""
        name, stars = split_type_name(text)
        base = gcc_base_name(name)           # unsigned long: long unsigned int
        candidates = [base] if base is not None else \
            [name] if name.split(" ")[0] in ("struct", "union", "enum") else \
            [name, f"struct {name}", f"union {name}", f"enum {name}"]
        for c in candidates:
            dies = self._names.get(c)
            if dies:
                full = [d for d in dies if "DW_AT_declaration" not in d.attributes]
                t: CType = self._guard(self._type, (full or dies)[0])
                for _ in range(stars):
                    t = Pointer(t)
                return t
        if base is not None:                 # a C base type the program never used:
            from .c_decls import base_type   # its x86-64 layout is known anyway
            known: CType | None = base_type(base.split())
            if known is not None:
                for _ in range(stars):
                    known = Pointer(known)
                return known
        raise InvalidInput(f"no type {quoted(name)} in the debug information of "
                           f"{printable(os.path.basename(self.path))}")

    def variable(self, name: str) -> tuple[CType, int | None]:
        """A global's type and its address in the file (``DW_OP_addr``; None
        when its location is not a fixed address). Raises InvalidInput."""
        die = self._globals.get(name)
        if die is None:
            raise InvalidInput(f"no global {quoted(name)} in the debug information of "
                               f"{printable(os.path.basename(self.path))}")
        t: CType = self._guard(self._type_of, die)
        loc = die.attributes.get("DW_AT_location")
        address = None
        if loc is not None and isinstance(loc.value, list) and len(loc.value) == 9 \
                and loc.value[0] == 0x03:           # DW_OP_addr, 8-byte address
            address = int.from_bytes(bytes(loc.value[1:]), "little")
        return t, address

    def global_at(self, offset: int) -> tuple[str, CType, int] | None:
        """The global whose bytes cover ``offset`` from the module's base
        (as :mod:`.locations` counts ``module+offset``: from the lowest
        PT_LOAD page, :attr:`link_base`): (name, type, its offset from the
        base), or None. Raises InvalidInput for damaged DWARF."""
        vaddr = self.link_base + offset
        placed: list[tuple[int, str]] = []
        for name, die in self._globals.items():
            loc = die.attributes.get("DW_AT_location")
            if loc is not None and isinstance(loc.value, list) and len(loc.value) == 9 \
                    and loc.value[0] == 0x03:
                address = int.from_bytes(bytes(loc.value[1:]), "little")
                if address <= vaddr:
                    placed.append((address, name))
        for address, name in sorted(placed, reverse=True)[:64]:
            t: CType = self._guard(self._type_of, self._globals[name])
            if address <= vaddr < address + max(t.size, 1):
                return name, t, address - self.link_base
        return None

    # -- building

    def _type_of(self, die: Any) -> CType:
        if "DW_AT_type" not in die.attributes:
            return Void()
        return self._type(die.get_DIE_from_attribute("DW_AT_type"))

    def _type(self, die: Any) -> CType:
        cached = self._types.get(die.offset)
        if cached is not None:
            return cached
        tag = die.tag
        name = _name(die)
        size = _int(die, "DW_AT_byte_size")
        t: CType
        if tag == "DW_TAG_base_type":
            enc = _int(die, "DW_AT_encoding")
            kind = "float" if enc == _ATE_FLOAT else "bool" if enc == _ATE_BOOL else \
                "char" if enc in (_ATE_SIGNED_CHAR, _ATE_UNSIGNED_CHAR) else "int"
            t = Base(name, size or 0, enc in (_ATE_SIGNED, _ATE_SIGNED_CHAR, _ATE_FLOAT), kind)
        elif tag == "DW_TAG_pointer_type":
            t = Pointer(lambda: self._guard(self._type_of, die))
        elif tag in ("DW_TAG_structure_type", "DW_TAG_union_type"):
            rec = Record("struct" if tag == "DW_TAG_structure_type" else "union", name,
                         size=size or 0, complete="DW_AT_declaration" not in die.attributes)
            self._types[die.offset] = rec
            rec.fields, rec.align = self._members(die)
            return rec
        elif tag == "DW_TAG_enumeration_type":
            values = {_name(c): int(c.attributes["DW_AT_const_value"].value)
                      for c in die.iter_children() if c.tag == "DW_TAG_enumerator"}
            under = self._type_of(die).strip()
            signed = under.signed if isinstance(under, Base) else any(v < 0 for v in
                                                                        values.values())
            t = Enum(name, values, size or 4, signed)
        elif tag == "DW_TAG_typedef":
            td = Typedef(name, Void())
            self._types[die.offset] = td
            td.target = self._type_of(die)
            return td
        elif tag in ("DW_TAG_const_type", "DW_TAG_volatile_type", "DW_TAG_restrict_type"):
            t = Qualified(tag[7:-5], self._type_of(die))
        elif tag == "DW_TAG_array_type":
            t = self._type_of(die)
            counts = []
            for c in die.iter_children():
                if c.tag == "DW_TAG_subrange_type":
                    if "DW_AT_count" in c.attributes:
                        counts.append(_int(c, "DW_AT_count") or 0)
                    elif "DW_AT_upper_bound" in c.attributes:
                        counts.append((_int(c, "DW_AT_upper_bound") or 0) + 1)
                    else:
                        counts.append(0)
            for n in reversed(counts or [0]):
                t = Array(t, n)
        elif tag == "DW_TAG_subroutine_type":
            params = [("", self._type_of(c)) for c in die.iter_children()
                      if c.tag == "DW_TAG_formal_parameter"]
            variadic = any(c.tag == "DW_TAG_unspecified_parameters"
                           for c in die.iter_children())
            t = Function(self._type_of(die), params, variadic)
        elif tag in ("DW_TAG_unspecified_type",):
            t = Void()
        else:
            raise InvalidInput(f"{printable(self.path)}: unsupported DWARF type {tag}")
        self._types[die.offset] = t
        return t

    def _members(self, die: Any) -> tuple[list[Field], int]:
        fields: list[Field] = []
        align = 1
        for m in die.iter_children():
            if m.tag != "DW_TAG_member":
                continue
            ft = self._type_of(m)
            offset = _member_offset(m)
            bit_size = _int(m, "DW_AT_bit_size") or 0
            if bit_size:
                if "DW_AT_data_bit_offset" in m.attributes:
                    bit = _int(m, "DW_AT_data_bit_offset") or 0
                else:                        # DWARF 2/3: from the storage unit's top
                    unit = _int(m, "DW_AT_byte_size") or ft.size
                    bit = offset * 8 + unit * 8 - (_int(m, "DW_AT_bit_offset") or 0) - bit_size
                fields.append(Field(_name(m), ft, bit // 8, bit, bit_size))
            else:
                fields.append(Field(_name(m), ft, offset))
            align = max(align, ft.align)
        return fields, align


def _name(die: Any) -> str:
    attr = die.attributes.get("DW_AT_name")
    if attr is None:
        return ""
    value = attr.value
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if text.isprintable() else printable(text)


def _int(die: Any, attr: str) -> int | None:
    a = die.attributes.get(attr)
    if a is None:
        return None
    if isinstance(a.value, int):
        return a.value
    raise InvalidInput(f"DWARF attribute {attr} is not a constant")


def _member_offset(m: Any) -> int:
    a = m.attributes.get("DW_AT_data_member_location")
    if a is None:
        return 0
    if isinstance(a.value, int):
        return a.value
    ops = list(a.value)
    if ops and ops[0] == 0x23:               # DW_OP_plus_uconst ULEB128
        value, shift = 0, 0
        for byte in ops[1:]:
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return value
    raise InvalidInput("a member's location is not a constant offset")


@dataclass(frozen=True)
class DebugGlobal:
    """A global variable found by an address in a process: its ``name``,
    its ``type`` (settled: showing it reads no more DWARF), ``address``
    where it starts in the process, and the ``file`` whose DWARF says so."""

    name: str
    type: CType
    address: int
    file: str


def global_at(address: int, areas: list[MemoryArea], *, pid: int | None = None,
              dwarf: str | None = None, follow: int = 1,
              proc: str = "/proc") -> DebugGlobal:
    """The global variable whose bytes hold ``address`` in a process
    (``areas``: its map), typed from the DWARF of the module mapped there:
    the very file mapped (``/proc/PID/map_files``, as module symbols are
    read) or ``dwarf``, a separate ELF with its debug information. Raises
    ``follow``: the pointer levels the type is settled for (as
    :func:`typed_value` will follow them). Raises
    InvalidInput when the address is in no module, the file has no DWARF, or
    no global covers it. Blocking: the backend thread."""
    place = locate(address, areas)
    if place.kind != LocationKind.MODULE:
        raise InvalidInput(f"{address:#x} is in no mapped file: a global's type comes from "
                           "the DWARF of the module it lies in")
    module = os.path.basename(place.name)
    fd = None
    path = dwarf
    if path is None:
        area = next((a for a in areas if a.path and a.file_path == place.name), None)
        if pid is not None and area is not None:
            from .module_symbols import _open_mapped
            try:
                fd = _open_mapped(pid, area, proc)
                path = f"/proc/self/fd/{fd}"
            except LainviewError:
                fd = None
        if path is None:
            path = place.name
    try:
        debug = DebugTypes(path)
    except InvalidInput as exc:
        shown = printable(dwarf) if dwarf else module
        raise InvalidInput(str(exc).replace(printable(path), shown)) from None
    finally:
        if fd is not None:
            os.close(fd)
    try:
        found = debug.global_at(place.offset)
        if found is None:
            raise InvalidInput(f"no global variable of {printable(module)} holds {address:#x} "
                               f"({printable(module)}+{place.offset:#x}) in its DWARF")
        name, ctype, offset = found
        return DebugGlobal(name, settled(ctype, follow=follow), address - (place.offset - offset),
                           dwarf or place.name)
    finally:
        debug.close()
