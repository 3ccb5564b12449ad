"""C declarations to types: a header's structs, unions, enums and typedefs
parsed with pycparser and laid out as gcc does on x86-64
(:func:`.ctypes_model.lay_out`).

The header is not run through a preprocessor: ``#include``, ``#pragma``,
include guards and other directive lines are ignored (so ``<stdint.h>``
names come from the predeclared typedefs: :data:`PRELUDE`), and a macro
used in a declaration is an unknown name. C11 ``_Alignas`` on members, and
GNU ``packed`` and ``aligned(N)`` on a tagged struct or union, are laid out
as gcc does; a layout attribute anywhere else is refused (lainview would lay
it out unlike gcc), other attributes are ignored.

Errors: a malformed header raises InvalidInput ``player.h:3:7: …`` (FILE:LINE:COL,
as compilers print it; ``declarations:3:7`` for pasted text), naming the
offending token (an undeclared type name is named) and never a pycparser
traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pycparser import c_ast, c_parser  # type: ignore[import-untyped,unused-ignore]

from .ctypes_model import (Array, Base, CType, Enum, Function, Pointer, Qualified, Record,
                           Typedef, Void, c_base_name, check_type_name, lay_out)
from .errors import InvalidInput
from .wording import article, printable, quoted

# (C spelling, size, signed, kind)
_BASES: dict[str, tuple[int, bool, str]] = {
    "char": (1, True, "char"), "signed char": (1, True, "char"),
    "unsigned char": (1, False, "char"),
    "short": (2, True, "int"), "unsigned short": (2, False, "int"),
    "int": (4, True, "int"), "unsigned int": (4, False, "int"),
    "long": (8, True, "int"), "unsigned long": (8, False, "int"),
    "long long": (8, True, "int"), "unsigned long long": (8, False, "int"),
    "__int128": (16, True, "int"), "unsigned __int128": (16, False, "int"),
    "float": (4, True, "float"), "double": (8, True, "float"),
    "long double": (16, True, "float"), "_Bool": (1, False, "bool"),
    "_Float16": (2, True, "float"),
}

PRELUDE_TYPEDEFS: dict[str, str] = {
    "int8_t": "signed char", "uint8_t": "unsigned char",
    "int16_t": "short", "uint16_t": "unsigned short",
    "int32_t": "int", "uint32_t": "unsigned int",
    "int64_t": "long", "uint64_t": "unsigned long",
    "intptr_t": "long", "uintptr_t": "unsigned long", "intmax_t": "long",
    "uintmax_t": "unsigned long", "size_t": "unsigned long", "ssize_t": "long",
    "ptrdiff_t": "long", "off_t": "long", "pid_t": "int", "uid_t": "unsigned int",
    "gid_t": "unsigned int", "time_t": "long", "wchar_t": "int", "bool": "_Bool",
    "u8": "unsigned char", "u16": "unsigned short", "u32": "unsigned int",
    "u64": "unsigned long long", "s8": "signed char", "s16": "short", "s32": "int",
    "s64": "long long", "__u8": "unsigned char", "__u16": "unsigned short",
    "__u32": "unsigned int", "__u64": "unsigned long long", "__s8": "signed char",
    "__s16": "short", "__s32": "int", "__s64": "long long",
}
"""Typedefs every header may use without declaring them: <stdint.h>,
<stddef.h>, <sys/types.h> and the kernel's u8…s64/__u8…__s64 (LP64)."""

PRELUDE = "".join(f"typedef {t} {n};\n" for n, t in PRELUDE_TYPEDEFS.items())

def base_type(names: Iterable[str]) -> Base | None:
    """The arithmetic type of C specifiers (``["unsigned", "long", "long"]``),
    or None if they name none (spellings: :func:`.ctypes_model.c_base_name`)."""
    spelled = c_base_name(" ".join(w for w in names if w not in ("const", "volatile")))
    if spelled is None or spelled not in _BASES:
        return None
    size, sgn, kind = _BASES[spelled]
    return Base(spelled, size, sgn, kind)


class Declarations:
    """The types a header declares: ``records`` (``"struct player"`` →
    Record), ``enums``, ``typedefs``, and enum constants. Build with
    :func:`parse_header`; look types up with :meth:`lookup`."""

    def __init__(self) -> None:
        self.tags: dict[str, CType] = {}           # "struct x", "union y", "enum z"
        self.typedefs: dict[str, CType] = {}
        self.constants: dict[str, int] = {}
        self._filename = "<header>"
        for name, spelling in PRELUDE_TYPEDEFS.items():
            b = base_type(spelling.split())
            assert b is not None
            self.typedefs[name] = Typedef(name, b)
        self._prelude_names = set(self.typedefs)
        self._packed: set[str] = set()
        self._aligned: dict[str, int] = {}         # "struct s" -> its aligned(N)

    # -- public

    def names(self) -> list[str]:
        """Every type declared by the header (not the prelude), as typed:
        ``struct player``, ``enum kind``, ``player_t``."""
        return [*self.tags, *(n for n in self.typedefs if n not in self._prelude_names)]

    def lookup(self, text: str) -> CType:
        """The type ``text`` names (``struct player``, ``player_t``,
        ``unsigned int``, ``struct item *``, ``char[16]``). Raises
        InvalidInput if it names none."""
        text = text.strip()
        check_type_name(text)
        if text in self.tags:
            return self.tags[text]
        if text in self.typedefs:
            return self.typedefs[text]
        known = "".join(f"typedef int {n};\n" for n in self.typedefs)
        m = re.fullmatch(r"(.*?)((?:\[\s*(?:0[xX][0-9a-fA-F]+|\d+)\s*\])*)", text, re.S)
        assert m is not None
        source = f"{known}# 1 \"--type\"\ntypedef {m.group(1)} __lainview_query{m.group(2)};\n"
        try:
            ast = c_parser.CParser().parse(source, "--type")
        except c_parser.ParseError:
            raise InvalidInput(f"not a C type: {quoted(text)}") from None
        except Exception as exc:        # pycparser's lexer raises bare errors
            raise InvalidInput(f"not a C type: {quoted(text)} ({printable(exc)})") from None
        decl = ast.ext[-1]
        for tag in ("struct", "union", "enum"):
            if re.match(rf"\s*{tag}\s+(\w+)\s*$", m.group(1)):
                name = m.group(1).split()[-1]
                if f"{tag} {name}" not in self.tags:
                    raise InvalidInput(f"no {tag} {quoted(name)} is declared"
                                       + self._known_hint())
        return self._type(decl.type, lookup=True)

    def _known_hint(self) -> str:
        names = self.names()
        if names:
            return f" (declared: {', '.join(names[:12])}{'…' if len(names) > 12 else ''})"
        if self._filename == "<header>":        # nothing was parsed: no declarations given
            return " (no declarations were given)"
        where = "the declarations" if self._filename == "declarations" else \
            printable(self._filename)
        return f" (no types are declared in {where})"

    # -- building

    def add(self, ast: c_ast.FileAST) -> None:
        for ext in ast.ext:
            self._coord = ext.coord
            if isinstance(ext, c_ast.Typedef):
                self.typedefs[ext.name] = Typedef(ext.name, self._type(ext.type))
            elif isinstance(ext, c_ast.Decl):
                self._type(ext.type)         # struct/enum definitions; variables ignored
            elif isinstance(ext, c_ast.Pragma):
                pass
            else:
                self._fail(ext, "only declarations are read (no function bodies)")

    def _fail(self, node: object, message: str) -> InvalidInput:
        coord = getattr(node, "coord", None) or getattr(self, "_coord", None)
        where = (f"{_where(str(coord.file), coord.line, coord.column or 1)}: "
                 if coord is not None and coord.line else "")
        raise InvalidInput(f"{where}{message}")

    def _type(self, node: object, lookup: bool = False) -> CType:
        if isinstance(node, c_ast.TypeDecl):
            t = self._type(node.type, lookup)
            for q in node.quals:
                if q in ("const", "volatile", "restrict"):
                    t = Qualified(q, t)
            return t
        if isinstance(node, c_ast.PtrDecl):
            p: CType = Pointer(self._type(node.type, lookup))
            for q in node.quals:
                if q in ("const", "volatile", "restrict"):
                    p = Qualified(q, p)
            return p
        if isinstance(node, c_ast.ArrayDecl):
            elem = self._type(node.type, lookup)
            count = 0 if node.dim is None else self._const(node.dim)
            if count < 0:
                self._fail(node, f"negative array size {count}")
            if elem.size == 0 and not isinstance(elem.strip(), Array):
                self._fail(node, f"array of incomplete type {quoted(elem.c_name())}")
            return Array(elem, count)
        if isinstance(node, c_ast.FuncDecl):
            result = self._type(node.type, lookup)
            params: list[tuple[str, CType]] = []
            variadic = False
            for a in (node.args.params if node.args else []):
                if isinstance(a, c_ast.EllipsisParam):
                    variadic = True
                    continue
                pt = self._type(a.type, lookup)
                if isinstance(pt, Void):
                    continue
                params.append((getattr(a, "name", None) or "", pt))
            return Function(result, params, variadic)
        if isinstance(node, c_ast.IdentifierType):
            names = list(node.names)
            if names == ["void"]:
                return Void()
            if len(names) == 1 and names[0] in self.typedefs:
                return self.typedefs[names[0]]
            b = base_type(names)
            if b is None:
                self._fail(node, f"unknown type {quoted(' '.join(names))}")
            assert b is not None
            return b
        if isinstance(node, (c_ast.Struct, c_ast.Union)):
            return self._record(node)
        if isinstance(node, c_ast.Enum):
            return self._enum(node)
        if isinstance(node, c_ast.Typename):
            return self._type(node.type, lookup)
        self._fail(node, f"unsupported declaration ({type(node).__name__})")
        raise AssertionError

    def _record(self, node: c_ast.Struct | c_ast.Union) -> Record:
        kind = "struct" if isinstance(node, c_ast.Struct) else "union"
        key = f"{kind} {node.name}" if node.name else ""
        rec = self.tags.get(key) if key else None
        if rec is not None and not isinstance(rec, Record):
            self._fail(node, f"{quoted(key)} was declared as another kind")
        if rec is None and node.name:
            self._tag_kind_is_free(node, kind, node.name)
        if rec is None:
            rec = Record(kind, node.name or "")
            if key:
                self.tags[key] = rec
        assert isinstance(rec, Record)
        if node.decls is None:
            return rec
        if rec.complete:
            self._fail(node, f"{quoted(key)} is defined twice")
        members: list[tuple[str, CType, int | None]] = []
        aligns: list[int] = []
        seen: set[str] = set()
        for d in node.decls:
            t = self._type(d.type)
            aligns.append(self._alignas(d, t))
            width = None if d.bitsize is None else self._const(d.bitsize)
            if width is not None:
                s = t.strip()
                if not (isinstance(s, Enum) or (isinstance(s, Base) and s.kind != "float")):
                    self._fail(d, f"bitfield {quoted(d.name)} needs an integer type")
                if width < 0 or width > t.size * 8:
                    self._fail(d, f"bitfield {quoted(d.name)} is {width} bits wide; "
                                  f"its type holds {t.size * 8}")
                if width == 0 and d.name:
                    self._fail(d, f"zero-width bitfield {quoted(d.name)} must be unnamed")
            elif t.size == 0 and not (isinstance(t.strip(), Array) and d is node.decls[-1]):
                self._fail(d, f"field {quoted(d.name)} has incomplete type "
                              f"{quoted(t.c_name())}")
            if d.name:
                if d.name in seen:
                    self._fail(d, f"duplicate field {quoted(d.name)}")
                seen.add(d.name)
            members.append((d.name or "", t, width))
        packed = key in self._packed if key else False
        return lay_out(rec, members, packed=packed, member_align=aligns,
                       min_align=self._aligned.get(key, 1) if key else 1)

    def _alignas(self, d: object, t: CType) -> int:
        """A member's ``_Alignas(N)`` or ``_Alignas(type)`` (0: none). N
        must be a power of two, and no less than the member's own
        alignment (C11 6.7.5)."""
        out = 0
        if getattr(d, "align", None) and getattr(d, "bitsize", None) is not None:
            self._fail(d, f"_Alignas on bitfield {quoted(getattr(d, 'name', ''))}: a bitfield "
                          "has no alignment of its own")
        for spec in getattr(d, "align", None) or []:
            what = spec.alignment
            n = self._type(what.type).align if isinstance(what, c_ast.Typename) \
                else self._const(what)
            if n <= 0 or n & (n - 1) or n > MAX_ALIGN:
                self._fail(d, f"_Alignas({n}) of {quoted(getattr(d, 'name', ''))}: an alignment "
                              f"is a power of two up to {MAX_ALIGN}")
            if n < t.align:
                self._fail(d, f"_Alignas({n}) of {quoted(getattr(d, 'name', ''))} is less than "
                              f"its type's alignment, {t.align}")
            out = max(out, n)
        return out

    def _tag_kind_is_free(self, node: object, kind: str, name: str) -> None:
        for other in ("struct", "union", "enum"):
            if other != kind and f"{other} {name}" in self.tags:
                self._fail(node, f"{quoted(name)} is already {article(other)} tag, "
                                 f"not {article(kind)}")

    def _enum(self, node: c_ast.Enum) -> Enum:
        key = f"enum {node.name}" if node.name else ""
        existing = self.tags.get(key) if key else None
        if existing is not None and node.values is None:
            assert isinstance(existing, Enum)
            return existing
        if node.name and existing is None:
            self._tag_kind_is_free(node, "enum", node.name)
        e = existing if isinstance(existing, Enum) else Enum(node.name or "")
        if e.values and node.values is not None:
            self._fail(node, f"{quoted(key)} is defined twice")
        if node.values is not None:
            value = -1
            for item in node.values.enumerators:
                value = self._const(item.value) if item.value is not None else value + 1
                e.values[item.name] = value
                self.constants[item.name] = value
            if e.values and min(e.values.values()) < 0:
                e.signed = True
            lo, hi = min(e.values.values(), default=0), max(e.values.values(), default=0)
            if lo < -2**31 or hi >= 2**32 or (lo < 0 and hi >= 2**31):
                e.size = e.align = 8
            elif hi >= 2**31:
                e.signed = False
        if key:
            self.tags[key] = e
        return e

    def _const(self, node: object) -> int:
        """The value of a constant expression (array sizes, bit widths, enum
        values): integer literals, enum constants, sizeof, unary and binary
        arithmetic, ?: ."""
        if isinstance(node, c_ast.Constant):
            text = node.value.rstrip("uUlL")
            if node.type == "char":
                body = node.value[1:-1].encode().decode("unicode_escape")
                return ord(body) if len(body) == 1 else self._bad(node)
            try:
                return int(text, 8) if re.fullmatch(r"0[0-7]+", text) else int(text, 0)
            except ValueError:
                return self._bad(node)
        if isinstance(node, c_ast.ID):
            if node.name in self.constants:
                return self.constants[node.name]
            self._fail(node, f"unknown constant {quoted(node.name)} (macros are not expanded)")
        if isinstance(node, c_ast.UnaryOp):
            if node.op == "sizeof":
                return self._type(node.expr).size if isinstance(node.expr, c_ast.Typename) \
                    else self._bad(node)
            v = self._const(node.expr)
            ops = {"-": -v, "+": v, "~": ~v, "!": int(not v)}
            return ops[node.op] if node.op in ops else self._bad(node)
        if isinstance(node, c_ast.BinaryOp):
            a, b = self._const(node.left), self._const(node.right)
            try:
                result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                          "/": lambda: int(a / b), "%": lambda: a - int(a / b) * b,
                          "<<": lambda: a << b, ">>": lambda: a >> b, "&": lambda: a & b,
                          "|": lambda: a | b, "^": lambda: a ^ b, "<": lambda: int(a < b),
                          ">": lambda: int(a > b), "<=": lambda: int(a <= b),
                          ">=": lambda: int(a >= b), "==": lambda: int(a == b),
                          "!=": lambda: int(a != b), "&&": lambda: int(bool(a and b)),
                          "||": lambda: int(bool(a or b))}[node.op]()
            except (KeyError, ZeroDivisionError, ValueError):
                return self._bad(node)
            return result
        if isinstance(node, c_ast.TernaryOp):
            return self._const(node.iftrue if self._const(node.cond) else node.iffalse)
        if isinstance(node, c_ast.Cast):
            return self._const(node.expr)
        return self._bad(node)

    def _bad(self, node: object) -> int:
        self._fail(node, "not an integer constant expression lainview can evaluate")
        raise AssertionError


_ATTRIBUTE = re.compile(r"__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)")
_COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
_DIRECTIVE = re.compile(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*$", re.M)   # with its \ continuations
_CONDITIONAL = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b([^\n]*)$", re.M)


def _skip_if_0(body: str) -> str:
    """``body`` with the lines of ``#if 0`` blocks (up to their ``#else``,
    ``#elif`` or ``#endif``, nesting counted) blanked, line breaks kept:
    the one conditional a header's meaning never depends on. Other
    conditionals are not evaluated: their directive lines are skipped and
    every branch is read."""
    out, depth, start = [], 0, 0
    for m in _CONDITIONAL.finditer(body):
        word, rest = m.group(1), m.group(2).split("//")[0].split("/*")[0].strip()
        if depth:
            if word.startswith("if"):
                depth += 1
            elif word == "endif" or (depth == 1 and word in ("else", "elif")):
                depth -= 1
                if not depth:
                    out.append("\n" * body.count("\n", start, m.start()))
                    start = m.start()
        elif word == "if" and rest in ("0", "(0)", "false"):
            out.append(body[start:m.start()])
            depth, start = 1, m.start()
    if depth:
        out.append("\n" * body.count("\n", start))
        return "".join(out)
    out.append(body[start:])
    return "".join(out)


MAX_ALIGN = 1 << 28
"""The largest alignment gcc accepts (2^28 bytes)."""


_UNMODELLED_ATTRIBUTE = re.compile(r"\b((?:__)?(?:vector_size|mode|ms_struct|gcc_struct|"
                                   r"designated_init|scalar_storage_order)(?:__)?)\b")
_MARKER = re.compile(r"__lainview_attr_(\d)_(\d+)__")
_RECORD_HEAD = re.compile(r"\b(struct|union)\s+([A-Za-z_]\w*)\s*$")


def _place_record_attributes(body: str, filename: str, decls: Declarations) -> str:
    """Each layout marker (see parse_header) given to the tagged struct or
    union it belongs to, then blanked: one after the record's closing brace
    (``struct s {…} __attribute__((packed))``; braces nest to any depth) or
    between ``struct`` and its tag. Any other place (a member, a variable,
    an untagged record) is refused: lainview would lay it out unlike gcc."""
    blank = _MARKER.sub(lambda x: " " * len(x.group(0)), body)     # same length, no markers
    opening: dict[int, int] = {}             # each "}" -> its "{" (one pass; any depth)
    stack: list[int] = []
    for i, ch in enumerate(blank):
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            opening[i] = stack.pop()
    for m in _MARKER.finditer(body):
        tag = None
        low = max(0, m.start() - 4096)           # what stands before it, nearby
        before = blank[low:m.start()].rstrip()
        after = re.match(r"\s*([A-Za-z_]\w*)", blank[m.end():m.end() + 4096])
        keyword = re.search(r"\b(struct|union)$", before[-16:])
        if keyword and after:
            tag = f"{keyword.group(1)} {after.group(1)}"
        elif before.endswith("}") and low + len(before) - 1 in opening:
            start = opening[low + len(before) - 1]
            head = _RECORD_HEAD.search(blank[max(0, start - 256):start])
            if head:
                tag = f"{head.group(1)} {head.group(2)}"
        if tag is None:
            what = "packed" if m.group(1) == "1" else f"aligned({m.group(2)})"
            _refuse(filename, body, m.start() - 1, f"__attribute__(({what})) is laid out by "
                    "lainview only on a tagged struct or union (struct s {…} "
                    "__attribute__((…))); on a member write _Alignas(N) before its type")
            continue
        if m.group(1) == "1":
            decls._packed.add(tag)
        if int(m.group(2)):
            decls._aligned[tag] = max(int(m.group(2)), decls._aligned.get(tag, 1))
    return _MARKER.sub(lambda x: " " * len(x.group(0)), body)


def _refuse(filename: str, body: str, pos: int, message: str) -> None:
    """InvalidInput naming ``filename``, the line and column of ``pos`` in
    ``body`` (which keeps the header's line numbers) and ``message``."""
    line = body.count("\n", 0, pos) + 1
    column = pos - body.rfind("\n", 0, pos)
    raise InvalidInput(f"{_where(filename, line, column)}: {message}")


def parse_header(text: str, filename: str = "<header>") -> Declarations:
    """The declarations of a C header's ``text`` (``filename`` names it in
    errors). Raises InvalidInput with line and column for a malformed
    header, an unknown type or a bad constant."""
    decls = Declarations()
    text = text.replace("\r\n", "\n")                   # a header written on Windows
    # keep line numbers: blank comments, directives and attributes in place
    body = _COMMENT.sub(lambda m: m.group(0) if m.group(0)[0] in "'\"" else
                        " " + "\n" * m.group(0).count("\n"), text)
    body = _skip_if_0(body.removeprefix("\ufeff"))         # a UTF-8 byte-order mark too
    body = _DIRECTIVE.sub(lambda m: "\n" * m.group(0).count("\n"), body)

    def strip_attr(m: re.Match[str]) -> str:
        """An attribute that changes layout (packed, aligned) becomes one
        marker, the rest a space (line numbers kept). One that changes
        layout in a way lainview does not model is refused."""
        text = m.group(0)
        odd = _UNMODELLED_ATTRIBUTE.search(text)
        if odd:
            _refuse(filename, body, m.start(), f"__attribute__(({odd.group(1)})) changes the "
                    "layout in a way lainview does not model")
        packed = re.search(r"\b(__)?packed(__)?\b", text) is not None
        aligned = re.search(r"\b(?:__)?aligned(?:__)?\b", text)
        n = 0
        if aligned:
            rest = text[aligned.end():].lstrip()
            arg = ""
            if rest.startswith("("):
                depth, end = 0, 0
                for i, ch in enumerate(rest):
                    depth += {"(": 1, ")": -1}.get(ch, 0)
                    if depth == 0:
                        end = i
                        break
                arg = rest[1:end].strip()
                while arg.startswith("(") and arg.endswith(")"):
                    arg = arg[1:-1].strip()        # aligned((8))
            n = 16 if not arg else int(arg, 0) if re.fullmatch(r"0[xX][0-9a-fA-F]+|[1-9]\d*", arg) \
                else -1
            if n <= 0 or n & (n - 1) or n > MAX_ALIGN:
                _refuse(filename, body, m.start(), f"aligned({printable(arg)}): lainview takes "
                        f"a number here, a power of two up to {MAX_ALIGN}")
        marker = f" __lainview_attr_{int(packed)}_{n}__ " if packed or aligned else " "
        return marker + "\n" * text.count("\n")
    body = _ATTRIBUTE.sub(strip_attr, body)
    body = re.sub(r"\b(__extension__|__restrict|__inline|inline|__volatile__)\b", "", body)
    body = _place_record_attributes(body, filename, decls)
    name = filename.replace('"', "")
    source = f"{PRELUDE}# 1 \"{name}\"\n{body}\n"
    parser = c_parser.CParser()
    try:
        ast = parser.parse(source, name)
    except c_parser.ParseError as exc:
        raise InvalidInput(_parse_error_text(parser, str(exc), name, filename, body,
                                             decls)) from None
    except RecursionError:
        raise InvalidInput(f"{printable(filename)}: declarations nested too deeply to parse "
                           "(hundreds of levels)") from None
    except Exception as exc:            # pycparser's lexer: bare errors on bad characters
        line, column = _token_place(parser, body)
        raise InvalidInput(f"{_where(filename, line, column)}: {printable(exc)}") from None
    decls._filename = filename
    try:
        decls.add(ast)
    except RecursionError:
        raise InvalidInput(f"{printable(filename)}: declarations nested too deeply") from None
    return decls


def _where(filename: str, line: int, column: int) -> str:
    """``FILE:LINE:COL`` as compilers print a position (1-based)."""
    return f"{printable(filename)}:{line}:{column}"


_Token = tuple[str, str, int, int]       # type, value, line, column


def _token_place(parser: object, body: str) -> tuple[int, int]:
    """The line and column of the token pycparser stopped at (the next
    unconsumed one), or of the end of ``body`` when the input ran out."""
    tok = _token(parser, 0)
    if tok is not None and tok[2]:
        return tok[2], tok[3] or 1
    lines = body.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


def _token(parser: object, offset: int) -> _Token | None:
    """The token pycparser's recursive-descent parser would read next
    (``offset`` 0) or read last (-1); None at either end of the input or if
    its token stream is not the expected shape."""
    stream = getattr(parser, "_tokens", None)
    buffer, index = getattr(stream, "_buffer", None), getattr(stream, "_index", None)
    if not isinstance(buffer, list) or not isinstance(index, int) \
            or not 0 <= index + offset < len(buffer):
        return None
    tok = buffer[index + offset]
    if tok is None:
        return None
    line, column = getattr(tok, "lineno", 0), getattr(tok, "column", 0)
    return (str(getattr(tok, "type", "")), str(getattr(tok, "value", "")),
            line if isinstance(line, int) else 0, column if isinstance(column, int) else 0)


_CODED = re.compile(r"(.*?):(\d+):(\d+): (.*)", re.S)


def _parse_error_text(parser: object, text: str, name: str, filename: str, body: str,
                      decls: Declarations) -> str:
    """One line ``FILE:LINE:COL: message`` for a pycparser ParseError: the
    position pycparser gives, else that of the token it stopped at, else the
    end of the input; an identifier where a type belongs is named as an
    undeclared type."""
    coded = _CODED.fullmatch(text)
    if coded:
        line, column, message = int(coded.group(2)), int(coded.group(3)), coded.group(4)
    else:
        line, column = _token_place(parser, body)
        message = text.removeprefix(f"{name}: ")
    unknown = None
    for tok in (_token(parser, -1), _token(parser, 0)):  # `foo_t b;` stops at b, `{ foo_t` at it
        if tok is not None and tok[0] == "ID" and tok[1] not in decls.typedefs:
            unknown = tok
            break
    if message == "At end of input":
        return (f"{_where(filename, line, column)}: unexpected end of input "
                "(an unclosed '{' or a missing ';'?)")
    if unknown is not None and message in ("Invalid specifier list", "Invalid declaration",
                                           "Invalid function definition",
                                           "Missing type in declaration"):
        line, column = unknown[2] or line, unknown[3] or column
        return (f"{_where(filename, line, column)}: unknown type name "
                f"{quoted(unknown[1])} (not declared above; "
                "macros are not expanded)")
    if message.startswith("before: "):
        message = f"syntax error before {quoted(message.removeprefix('before: '))}"
    return f"{_where(filename, line, column)}: {printable(message)}"
