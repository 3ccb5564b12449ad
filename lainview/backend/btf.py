"""Kernel BTF: the kernel's own type information, read from
``/sys/kernel/btf/vmlinux`` and ``/sys/kernel/btf/<module>``.

The format is the kernel's documented, stable one
(Documentation/bpf/btf.rst): a header (magic 0xeB9F, version 1, the offset
and length of the type and string sections), the type section (one
``struct btf_type`` of three 32-bit words per type, followed by data whose
length depends on its kind: INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD,
TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT,
DECL_TAG, TYPE_TAG, ENUM64) and the string section (NUL-terminated names).
Type id 0 is ``void``; ids count from 1 in file order. A module's BTF is
*split* BTF: its ids continue after vmlinux's and its name offsets past
vmlinux's string section.

Lazy: opening a file walks the type section once to note where each type
starts (no names, no objects). A type becomes a :mod:`.ctypes_model` object
when asked for (:meth:`BTF.type`), and the name index
(:meth:`BTF.names`, :meth:`BTF.search`) is built on its first use.

Errors: anything malformed (bad magic, sections out of bounds, a record
cut short, an unknown kind, a type id or name offset out of range, a type
that contains itself) raises InvalidInput naming what and where.
"""

from __future__ import annotations

import os
import struct
from array import array
from typing import Iterable, NoReturn
from bisect import bisect_left

from .ctypes_model import (Array, Base, CType, Enum, Field, Function, Pointer, Qualified,
                           Record, Typedef, Void, gcc_base_name, split_type_name)
from .errors import InvalidInput, LainviewError
from .wording import printable, quoted

BTF_DIR = "/sys/kernel/btf"
MAGIC = 0xEB9F

INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, \
    FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(1, 20)

KIND_NAMES = {INT: "int", PTR: "ptr", ARRAY: "array", STRUCT: "struct", UNION: "union",
              ENUM: "enum", FWD: "fwd", TYPEDEF: "typedef", VOLATILE: "volatile",
              CONST: "const", RESTRICT: "restrict", FUNC: "func", FUNC_PROTO: "func_proto",
              VAR: "var", DATASEC: "datasec", FLOAT: "float", DECL_TAG: "decl_tag",
              TYPE_TAG: "type_tag", ENUM64: "enum64"}

# 32-bit words after the 3-word btf_type: (fixed, per vlen item)
_EXTRA = {INT: (1, 0), ARRAY: (3, 0), STRUCT: (0, 3), UNION: (0, 3), ENUM: (0, 2),
          FUNC_PROTO: (0, 2), VAR: (1, 0), DATASEC: (0, 3), DECL_TAG: (1, 0), ENUM64: (0, 3)}

_TAGGED = {STRUCT: "struct", UNION: "union", ENUM: "enum", ENUM64: "enum"}
"""Kinds whose names live in C's tag namespace (``struct foo``)."""


class BTF:
    """One BTF blob: vmlinux's, or a module's on top of ``base``.

    ``first_id``/``last_id``: the ids this blob defines; :meth:`type` also
    answers the base's ids. ``name`` says where it came from (in errors)."""

    def __init__(self, data: bytes, base: BTF | None = None, name: str = "BTF"):
        self.name = name
        self.base = base
        self._data = data
        if len(data) < 24:
            self._bad(f"{len(data)} bytes is too short for a BTF header")
        magic, version, _flags, hdr_len = struct.unpack_from("<HBBI", data, 0)
        if magic != MAGIC:
            self._bad(f"not BTF (magic {magic:#06x}, expected {MAGIC:#06x}; a big-endian "
                      "BTF is not read)" if magic == 0x9FEB else
                      f"not BTF (magic {magic:#06x}, expected {MAGIC:#06x})")
        if version != 1:
            self._bad(f"BTF version {version} (lainview reads version 1)")
        if hdr_len < 24 or hdr_len > len(data):
            self._bad(f"header length {hdr_len} out of range")
        type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", data, 8)
        t0, s0 = hdr_len + type_off, hdr_len + str_off
        if t0 + type_len > len(data) or s0 + str_len > len(data):
            self._bad("a section runs past the end of the data")
        if type_len % 4 or t0 % 4:
            self._bad("the type section is not 4-byte aligned")
        self._str0, self._str_len = s0, str_len
        self._str_base: int = base._str_base + base._str_len if base is not None else 0
        if base is None and str_len and data[s0] != 0:
            self._bad("the string section does not start with an empty string")
        self.first_id = base.last_id + 1 if base is not None else 1
        self._words = memoryview(data)[t0:t0 + type_len].cast("I")
        self._starts = self._index()
        self.last_id: int = self.first_id + len(self._starts) - 1
        self._types: dict[int, CType] = {}
        self._building: set[int] = set()
        self._names: dict[str, list[int]] | None = None
        self._name_index = NameIndex(())

    @classmethod
    def load(cls, path: str = f"{BTF_DIR}/vmlinux", base: BTF | None = None) -> BTF:
        """The BTF in the file at ``path`` (a module's: give vmlinux's as
        ``base``). Raises the backend's error for an unreadable file,
        InvalidInput for a malformed one."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise LainviewError(f"cannot read {printable(path)}: {exc.strerror}",
                                op="read BTF", errno=exc.errno) from None
        return cls(data, base, os.path.basename(path))

    # ---------------------------------------------------------------- raw

    def _bad(self, message: str) -> NoReturn:
        raise InvalidInput(f"{printable(self.name)}: malformed BTF: {message}")

    def _index(self) -> array[int]:
        words = self._words.tolist()
        n = len(words)
        words.append(0)                    # a record cut after its first word: kind 0
        starts = array("I")
        add = starts.append
        # words per record: 3 + fixed + per_item * vlen; an unknown kind jumps past the end
        fixed = [n + 1] * 32
        per = [0] * 32
        for k in range(1, 20):
            fixed[k] = 3 + _EXTRA.get(k, (0, 0))[0]
            per[k] = _EXTRA.get(k, (0, 0))[1]
        i = 0
        while i < n:
            add(i)
            info = words[i + 1]
            k = (info >> 24) & 0x1F
            i += fixed[k] + per[k] * (info & 0xFFFF)
        if i != n:
            last = starts[-1]
            k = (words[last + 1] >> 24) & 0x1F if last + 1 < n else 0
            tid = self.first_id + len(starts) - 1
            if not 1 <= k <= 19 and last + 1 < n:
                self._bad(f"type {tid} has unknown kind {k}")
            self._bad(f"type {tid} is cut short")
        return starts

    def _owner(self, type_id: int) -> BTF:
        if type_id >= self.first_id:
            if type_id > self.last_id:
                self._bad(f"type id {type_id} out of range (last is {self.last_id})")
            return self
        if self.base is None:
            self._bad(f"type id {type_id} out of range")
        assert self.base is not None
        return self.base._owner(type_id)

    def _record(self, type_id: int) -> tuple[int, int, int, int, int, int]:
        """(name offset, kind, vlen, kind_flag, size-or-type, word index)"""
        i = self._starts[type_id - self.first_id]
        w = self._words
        info = w[i + 1]
        return w[i], (info >> 24) & 0x1F, info & 0xFFFF, info >> 31, w[i + 2], i + 3

    def string(self, offset: int) -> str:
        """The name at ``offset`` in the (split) string section."""
        if offset < self._str_base:
            assert self.base is not None
            return self.base.string(offset)
        rel = offset - self._str_base
        if rel >= self._str_len:
            self._bad(f"name offset {offset} past the string section")
        start = self._str0 + rel
        end = self._data.find(b"\0", start, self._str0 + self._str_len)
        if end < 0:
            self._bad(f"name at offset {offset} is not NUL-terminated")
        text = self._data[start:end].decode("utf-8", "replace")
        # names are C identifiers (and section names); anything else is shown escaped
        return text if text.isprintable() else printable(text)

    def kind(self, type_id: int) -> str:
        """The BTF kind name of ``type_id`` (``struct``, ``typedef``…)."""
        if type_id == 0:
            return "void"
        owner = self._owner(type_id)
        return KIND_NAMES[owner._record(type_id)[1]]

    def type_name(self, type_id: int) -> str:
        """The name as typed: ``struct task_struct``, ``u32``, "" if anonymous."""
        if type_id == 0:
            return "void"
        owner = self._owner(type_id)
        name_off, kind, _v, flag, _s, _i = owner._record(type_id)
        name = owner.string(name_off)
        if not name:
            return ""
        if kind == FWD:
            return f"{'union' if flag else 'struct'} {name}"
        tag = _TAGGED.get(kind)
        return f"{tag} {name}" if tag else name

    # ---------------------------------------------------------------- types

    def type(self, type_id: int) -> CType:
        """The type of id ``type_id`` as a :mod:`.ctypes_model` object
        (built on first use, then cached). Raises InvalidInput."""
        if type_id == 0:
            return Void()
        owner = self._owner(type_id)
        if owner is not self:
            return owner.type(type_id)
        t = self._types.get(type_id)
        if t is not None:
            return t
        if type_id in self._building:
            self._bad(f"type {type_id} contains itself")
        self._building.add(type_id)
        try:
            return self._build(type_id)
        finally:
            self._building.discard(type_id)

    def _build(self, tid: int) -> CType:
        name_off, kind, vlen, flag, size, i = self._record(tid)
        name = self.string(name_off)
        w = self._words
        t: CType
        if kind == INT:
            enc = w[i]
            bits = enc & 0xFF
            signed = bool((enc >> 24) & 1)
            # the kernel's char is unsigned (-funsigned-char) and may carry no CHAR flag
            base_kind = "bool" if (enc >> 24) & 4 else "char" if (enc >> 24) & 2 or (
                size == 1 and name.endswith("char")) else "int"
            if size not in (1, 2, 4, 8, 16) or bits > size * 8:
                self._bad(f"int type {tid} has size {size}, {bits} bits")
            t = Base(name, size, signed, base_kind)
        elif kind == FLOAT:
            if size not in (2, 4, 8, 12, 16):
                self._bad(f"float type {tid} has size {size}")
            t = Base(name, size, True, "float")
        elif kind == PTR:
            if size:
                self._check_chain(tid)     # the pointee is built when used
            t = Pointer(lambda: self.type(size))
        elif kind == ARRAY:
            elem = self.type(w[i])
            t = Array(elem, w[i + 2])
        elif kind in (STRUCT, UNION, DATASEC):
            rec = Record("union" if kind == UNION else "struct", name, size=size,
                         complete=True)
            self._types[tid] = rec         # members may point back to it
            try:
                rec.fields, rec.align = self._members(tid, kind, vlen, flag, i)
            except InvalidInput:
                del self._types[tid]
                raise
            return rec
        elif kind in (ENUM, ENUM64):
            values: dict[str, int] = {}
            step = 2 if kind == ENUM else 3
            for k in range(vlen):
                j = i + k * step
                if kind == ENUM:
                    v = w[j + 1] - (1 << 32) if flag and w[j + 1] >> 31 else w[j + 1]
                else:
                    v = w[j + 1] | (w[j + 2] << 32)
                    if flag and v >> 63:
                        v -= 1 << 64
                values[self.string(w[j])] = v
            if size not in (1, 2, 4, 8):
                self._bad(f"enum type {tid} has size {size}")
            t = Enum(name, values, size, bool(flag))
        elif kind == FWD:
            t = Record("union" if flag else "struct", name)
        elif kind == TYPEDEF:
            t = Typedef(name, Void())
            self._types[tid] = t
            try:
                target = self.type(size)
            except InvalidInput:
                del self._types[tid]
                raise
            t.target = target
            return t
        elif kind in (VOLATILE, CONST, RESTRICT):
            t = Qualified(KIND_NAMES[kind], self.type(size))
        elif kind in (TYPE_TAG, DECL_TAG, FUNC, VAR):
            t = self.type(size)            # attributes and names of a type: that type
        elif kind == FUNC_PROTO:
            params = []
            variadic = False
            for k in range(vlen):
                pname, ptype = w[i + 2 * k], w[i + 2 * k + 1]
                if ptype == 0 and k == vlen - 1:
                    variadic = True
                    continue
                params.append((self.string(pname), self.type(ptype)))
            t = Function(self.type(size), params, variadic)
        else:                              # pragma: no cover (checked in _index)
            self._bad(f"type {tid} has unknown kind {kind}")
            raise AssertionError
        self._types[tid] = t
        return t

    def _members(self, tid: int, kind: int, vlen: int, flag: int,
                 i: int) -> tuple[list[Field], int]:
        w = self._words
        fields: list[Field] = []
        align = 1
        for k in range(vlen):
            j = i + 3 * k
            if kind == DATASEC:
                ft = self.type(w[j])
                fields.append(Field(self.type_name(w[j]) or f"var{k}", ft, w[j + 1]))
                continue
            mname, mtype, moff = w[j], w[j + 1], w[j + 2]
            ft = self.type(mtype)
            if flag:
                bit_size, bit_off = moff >> 24, moff & 0xFFFFFF
            else:
                bit_size, bit_off = 0, moff
                s = ft.strip()
                if isinstance(s, Base) and s.kind == "int":
                    _n, _k, _v, _f, _s, ii = self._owner(mtype)._record(self._int_id(mtype))
                    bits = self._owner(mtype)._words[ii] & 0xFF
                    if bits and bits < s.size * 8:
                        bit_size = bits
            if bit_size:
                fields.append(Field(self.string(mname), ft, bit_off // 8, bit_off, bit_size))
            else:
                if bit_off % 8:
                    self._bad(f"member {k} of type {tid} is at bit {bit_off}, "
                              "not a byte, and not a bitfield")
                fields.append(Field(self.string(mname), ft, bit_off // 8))
            align = max(align, ft.align)
        return fields, align

    def _check_chain(self, tid: int) -> None:
        """A pointer's chain of pointers, qualifiers and typedefs must end
        (``void *``, a struct, a number), never lead back to itself."""
        seen = {tid}
        type_id = tid
        for _ in range(256):
            _n, kind, _v, _f, size, _i = self._owner(type_id)._record(type_id)
            if kind not in (PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG) or size == 0:
                return
            if size in seen:
                self._bad(f"pointer type {tid} points to itself")
            seen.add(size)
            type_id = size
        self._bad(f"pointer type {tid}: chain of pointers too long")

    def _int_id(self, type_id: int) -> int:
        """The INT under typedefs and qualifiers of ``type_id``."""
        for _ in range(64):
            owner = self._owner(type_id)
            _n, kind, _v, _f, size, _i = owner._record(type_id)
            if kind == INT:
                return type_id
            type_id = size
        self._bad("typedef chain too long")
        raise AssertionError

    # ---------------------------------------------------------------- names

    def _index_names(self) -> dict[str, list[int]]:
        if self._names is not None:
            return self._names
        names: dict[str, list[int]] = {}
        words = self._words
        skip = (FUNC, VAR, DECL_TAG, TYPE_TAG, DATASEC)
        string = self.string
        for tid, i in enumerate(self._starts, self.first_id):
            name_off = words[i]
            if not name_off:
                continue
            info = words[i + 1]
            kind = (info >> 24) & 0x1F
            if kind in skip:
                continue
            name = string(name_off)
            if kind == FWD:
                name = f"{'union' if info >> 31 else 'struct'} {name}"
            elif kind in _TAGGED:
                name = f"{_TAGGED[kind]} {name}"
            names.setdefault(name, []).append(tid)
        self._names = names
        self._name_index = NameIndex(names)
        return names

    def names(self) -> list[str]:
        """Every named type of this blob (``struct task_struct``, ``u32``,
        ``enum pid_type``), sorted (the base's not included)."""
        self._index_names()
        return self._name_index.sorted

    def search(self, text: str, limit: int = 50) -> list[str]:
        """Type-ahead over :meth:`names` (see :meth:`NameIndex.search`)."""
        self._index_names()
        return self._name_index.search(text, limit)

    def ids(self, name: str) -> list[int]:
        """The ids of types called ``name`` (as :meth:`names` spells them),
        in this blob and its base."""
        own = self._index_names().get(name, [])
        return (self.base.ids(name) if self.base is not None else []) + own

    def find(self, text: str) -> CType:
        """The type ``text`` names: ``struct uts_namespace``, ``uts_namespace``
        (a struct, union, enum or typedef of that name), ``u32``, with
        trailing ``*`` for a pointer to it. A definition wins over a
        forward declaration. Raises InvalidInput naming close names."""
        text, stars = split_type_name(text)
        base = gcc_base_name(text)           # unsigned long: long unsigned int
        candidates = [base] if base is not None else \
            [text] if text.split(" ")[0] in ("struct", "union", "enum") else \
            [text, f"struct {text}", f"union {text}", f"enum {text}"]
        for c in candidates:
            ids = self.ids(c)
            if ids:
                complete = [i for i in ids if self.kind(i) != "fwd"]
                t = self.type((complete or ids)[0])
                for _ in range(stars):
                    t = Pointer(t)
                return t
        close = self.search(text.split(" ")[-1], 5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InvalidInput(f"no type {quoted(text)} in the kernel's BTF{hint}")

    def variables(self) -> dict[str, int]:
        """VAR names → type ids (the kernel's BTF lists only per-CPU variables)."""
        out: dict[str, int] = {}
        for tid in range(self.first_id, self.last_id + 1):
            name_off, kind, _v, _f, size, _i = self._record(tid)
            if kind == VAR:
                out[self.string(name_off)] = size
        return out


class NameIndex:
    """Type-ahead over a set of type names (BTF's, DWARF's): ``sorted``
    holds them in order; :meth:`search` finds those containing a text."""

    def __init__(self, names: Iterable[str]):
        self.sorted = sorted(set(names))
        self._folded = "\n".join(n.lower() for n in self.sorted) + "\n"
        self._line_starts = array("I", [0])
        pos = 0
        for n in self.sorted:
            pos += len(n) + 1
            self._line_starts.append(pos)

    def __len__(self) -> int:
        return len(self.sorted)

    def search(self, text: str, limit: int = 50) -> list[str]:
        """Up to ``limit`` names containing ``text`` (any case), those
        starting with it (after any ``struct``/``union``/``enum``) first,
        then by name without that keyword."""
        needle = text.lower()
        found: list[str] = []
        folded = self._folded
        pos = folded.find(needle)
        while pos >= 0 and len(found) < limit * 4:
            line = bisect_left(self._line_starts, pos + 1) - 1
            if line >= len(self.sorted):     # an empty text matches past the last name
                break
            found.append(self.sorted[line])
            pos = folded.find(needle, self._line_starts[line + 1])
        found.sort(key=lambda n: (not n.split(" ")[-1].lower().startswith(needle),
                                  n.split(" ")[-1], n))
        return found[:limit]


def load_kernel_btf(module: str | None = None, directory: str = BTF_DIR) -> BTF:
    """vmlinux's BTF, or ``module``'s (split BTF over vmlinux's). Raises
    InvalidInput when the kernel has no BTF there (CONFIG_DEBUG_INFO_BTF)."""
    vmlinux = os.path.join(directory, "vmlinux")
    if not os.path.exists(vmlinux):
        raise InvalidInput(f"{vmlinux} does not exist: this kernel was built without "
                           "BTF (CONFIG_DEBUG_INFO_BTF)")
    base = BTF.load(vmlinux)
    if module is None or module == "vmlinux":
        return base
    path = os.path.join(directory, module)
    if "/" in module or module in (".", "..", "") or not os.path.isfile(path):
        raise InvalidInput(f"no BTF for module {quoted(module)} in {directory}")
    return BTF.load(path, base)
