"""Locations: an address said as "where it is" rather than only "what
number it has", so it can be found again in a later run (ASLR moves
everything). One grammar, one parser (:func:`parse_location`), one printer
(:attr:`Location.text`), one resolver (:func:`resolve`), used by the hex
editor's go-to, the watch list, bookmarks, patches, session files and every
CLI command that takes an address.

The grammar (surrounding whitespace, and whitespace around a sign or an
arrow, is ignored; every number is hex, ``0x`` optional, so ``+10`` is 16
bytes)::

    location := (kernel | stack | area | absolute) step*
    absolute := HEX [SIGN HEX]          0x7f12a000, 7f12a000, 0x7f12a000+0x20
    stack    := "[stack#" DECIMAL "]" ["-" HEX]
                                        [stack#1]-0x1f8, [stack#0]-0x40
    area     := NAME ["!" SYMBOL] [SIGN HEX]
                                        libc.so.6+0x1f00, /usr/lib/libc.so.6+1f00,
                                        memfd:lainview-demo+0x10, [heap]+0x40,
                                        [stack], [anon:name]-0x8, libc.so.6!getpid+0x4
    kernel   := "kernel:" [MODULE ":"] SYMBOL [SIGN HEX]
                                        kernel:jiffies, kernel:ext4:ext4_fs_type+0x8
    step     := "->" SIGN HEX           libgame.so+0x1f40->+0x18->+0x8
    NAME     := name | QUOTED           "/tmp/odd name ->"+0x10
    SYMBOL   := symbol | QUOTED
    SIGN     := "+" | "-"
    HEX      := ["0x"] hexdigit+        below 2**64

- An ``area`` NAME is ``[pseudo]`` (a kernel-named area: ``[heap]``,
  ``[stack]``, ``[vdso]``, ``[anon:name]``) or a mapped file (``module``):
  its file name, its full path, or ``memfd:NAME``; spaces are allowed. A
  deleted file's full path is written without the kernel's `` (deleted)``
  (a real file may be named so); its file name with or without. The offset
  counts from the lowest address the area (or file) is mapped at; a
  negative offset, or one past the end, does not resolve.
- ``[stack#N]`` is thread N's stack, the offset counting down from its
  top (its highest address, where a thread's stack starts), so it stays
  right in every run however large the stack is mapped: ``[stack#0]`` is
  the main thread's (``[stack]``), then the other threads in creation
  order (ascending thread id, which the kernel hands out in creation order
  until its ids wrap around). A thread's stack is found from its stack
  pointer, which the kernel reports while the thread is blocked in a
  system call; it resolves by a lookup the caller gives.
- ``module!SYMBOL`` names a symbol of that module's ELF symbol tables; the
  offset counts from the symbol's address. A module name may hold ``!``:
  the last ``!`` separates the symbol.
- A *pointer path* is a base followed by steps: ``base->+0x18->+0x8``
  reads the 8-byte little-endian pointer stored at the base, adds 0x18,
  reads the pointer stored there, and adds 0x8: the address of the value
  (Cheat Engine writes it ``[[base]+18]+8``). ``→`` is read as ``->``.
- The offset is the last SIGN HEX of the text (before any steps): a file
  whose name itself ends so (``libfoo-1``) is written with an explicit
  offset (``libfoo-1+0``). A text that is all hex is an address: a file
  named so (``cafe``), or one whose name starts with ``[``, ``0x``,
  ``kernel:``, ``+``, ``-`` or ``"``, is written by its full path.
- QUOTED is a JSON string (``"…"`` with JSON's backslash
  escapes): any name or symbol can be written so, and the printer quotes
  those that no plain form reads back as (a name ending in a space, or
  holding ``->`` or ``!`` where they would be read as grammar).
  :attr:`Location.text` follows these rules, so ``parse_location(loc.text)``
  gives ``loc`` back (for a module: the same file name).
- ``kernel:`` names a kernel symbol (optionally of one module), resolved by
  a symbol lookup the caller gives; the offset may be negative.

Kinds of :class:`Location`:

- ``module``: inside an area backed by a file (or a memfd, whose name is
  stable), as an offset from the lowest address that file is mapped at. A
  zero-filled area that directly follows the module's writable data (its
  ``.bss``) counts as part of it.
- ``pseudo``: inside a named kernel area, from its lowest address.
- ``absolute``: anything else (anonymous mmaps): only right while the same
  process runs, and said so.
- ``kernel``: a kernel symbol (``jiffies``) plus an offset.
- ``thread_stack``: thread N's stack (``name`` is ``[stack#N]``), as an
  offset (at most 0) from its top.

Any kind may carry pointer-path ``steps``; resolving them reads memory, so
:func:`resolve` takes a ``read_pointer`` callback (the backend's
``Target.resolve`` gives it one on the backend thread).

:func:`locate` makes the most durable location of an address in a map;
:func:`resolve` finds a location again in a map (raising :class:`Unresolved`
naming what did not resolve and why); :func:`settle` turns a typed location
into the durable form that watch entries and bookmarks keep.
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .errors import AddressOutOfRange, InvalidInput, LainviewError, Unresolved
from .memory import MemoryArea, Perm, area_at
from .wording import article, printable, quoted

class LocationKind(enum.StrEnum):
    """What a :class:`Location` is relative to."""

    MODULE = "module"           # a mapped file (its first mapping)
    PSEUDO = "pseudo"           # a pseudo-area: [heap], [stack], ...
    ABSOLUTE = "absolute"       # an address
    KERNEL = "kernel"           # a kernel symbol
    THREAD_STACK = "thread_stack"   # a thread's stack, from its top: [stack#1]-0x1f8


KINDS = tuple(k.value for k in LocationKind)
_LIMIT = 1 << 64

# A symbol lookup for ``kernel:`` locations: (symbol, module or None) -> the
# addresses of every symbol of that name (in that module), in search order.
SymbolLookup = Callable[[str, "str | None"], Sequence[int]]
# A pointer read for pointer paths: address -> the 8-byte little-endian
# value stored there; raises the backend's FaultError (or another
# LainviewError) when it cannot be read.
PointerRead = Callable[[int], int]
# A module-symbol lookup for ``module!SYMBOL``: (the module's full path, the
# symbol) -> the symbol's offset from the module's base (the lowest address
# that file is mapped at), or None when the module has no such symbol.
ModuleSymbolLookup = Callable[[str, str], "int | None"]
# A thread-stack lookup for ``[stack#N]``: the thread's index (0: the main
# thread, then the others in creation order) -> [start, end) of its stack
# area, or None when it is not known (no such thread, or the thread is not
# blocked in a system call, so its stack pointer is not reported).
ThreadStackLookup = Callable[[int], "tuple[int, int] | None"]
MAX_THREAD_INDEX = (1 << 22) - 1      # the kernel's limit on thread ids


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value lives: the parsed form of the grammar above, and what
    watch entries, bookmarks, patches and session files keep.

    ``name`` is the backing file (module: a full path when made by
    :func:`settle` or :func:`locate`, a file name or ``memfd:NAME`` as typed), the
    pseudo-name with its brackets (pseudo), ``[stack#N]`` (thread_stack,
    whose ``offset`` is at most 0: from the stack's top), the symbol
    (kernel), or "" (absolute, where ``offset`` is the address, 0 ..
    2**64-1). ``offset``
    is in bytes and may be negative for the other kinds. ``module`` is the
    kernel module of a kernel symbol, if any. ``symbol`` (module kind only)
    is an ELF symbol of the module, which ``offset`` counts from. ``steps``
    make a pointer path: each dereferences the address reached so far (an
    8-byte pointer) and adds its offset (bytes, signed)."""

    kind: LocationKind
    name: str
    offset: int
    module: str | None = None
    symbol: str | None = None
    steps: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"unknown location kind {quoted(self.kind)}")
        object.__setattr__(self, "kind", LocationKind(self.kind))   # given as text too
        if self.symbol is not None and (self.kind != "module" or not self.symbol):
            raise InvalidInput("only a module location names a symbol (libc.so.6!getpid)")
        object.__setattr__(self, "steps", tuple(self.steps))
        if self.kind == "thread_stack":
            _thread_index(self.name)
            if self.offset > 0:
                raise InvalidInput(f"{self.name}{_signed(self.offset)}: a thread's stack is "
                                   "counted down from its top (the offset is at most 0)")

    @classmethod
    def thread_stack(cls, index: int, offset: int) -> "Location":
        """Thread ``index``'s stack, ``offset`` bytes from its top (at most 0).
        Raises InvalidInput for an index out of range or a positive offset."""
        if isinstance(index, bool) or not isinstance(index, int) \
                or not 0 <= index <= MAX_THREAD_INDEX:
            raise InvalidInput(f"bad thread index {quoted(index)}: 0 (the main thread) to "
                               f"{MAX_THREAD_INDEX}")
        return cls(LocationKind.THREAD_STACK, f"[stack#{index}]", offset)

    @property
    def thread_index(self) -> int | None:
        """The thread of a thread_stack location (0: the main thread)."""
        return _thread_index(self.name) if self.kind == "thread_stack" else None

    @property
    def base(self) -> "Location":
        """This location without its pointer-path steps."""
        return replace(self, steps=()) if self.steps else self

    @classmethod
    def absolute(cls, address: int) -> "Location":
        return cls(LocationKind.ABSOLUTE, "", address)

    @classmethod
    def kernel_symbol(cls, symbol: str, offset: int = 0,
                      module: str | None = None) -> "Location":
        return cls(LocationKind.KERNEL, symbol, offset, module)

    @property
    def short_name(self) -> str:
        """The name as shown: a module's file name (``memfd:NAME`` for a
        memfd), else :attr:`name`."""
        if self.kind == "module":
            return _file_name(self.name)
        return self.name

    @property
    def text(self) -> str:
        """``libc.so.6+0x1f00``, ``[heap]+0x40``, ``0x7f…``, ``kernel:jiffies``,
        ``kernel:jiffies-0x8``, ``libc.so.6!getpid+0x4``,
        ``game+0x1f40->+0x18``: the grammar's form, which
        :func:`parse_location` reads back."""
        steps = "".join("->" + _signed(step) for step in self.steps)
        if self.kind == "absolute":
            return f"{self.offset:#x}{steps}"
        if self.kind == "kernel":
            head = f"kernel:{self.module + ':' if self.module else ''}{self.name}"
            return head + (_signed(self.offset) if self.offset else "") + steps
        if self.kind == "thread_stack":
            return self.name + (_signed(self.offset) if self.offset else "") + steps
        names = [self.name, _quote(self.name)]
        if self.kind == "module":
            names[:1] = [self.short_name, self.name, _quote(self.short_name)]
        symbols = [None] if self.symbol is None else [self.symbol, _quote(self.symbol)]
        tail = (_signed(self.offset) if self.offset or self.symbol is None else "") + steps
        for name in names:
            for symbol in symbols:
                if not (_plain(name) or name.startswith('"')) or not (
                        symbol is None or _plain(symbol) or symbol.startswith('"')):
                    continue
                text = name + ("" if symbol is None else "!" + symbol) + tail
                if _reads_back(text, self):
                    return text
        last = "" if self.symbol is None else "!" + _quote(self.symbol)
        return names[-1] + last + tail          # both quoted: always reads back

    @property
    def needs_target(self) -> bool:
        """Whether resolving it asks the process itself, not only its map: a
        pointer path reads pointers, a thread's stack is found from the
        thread's stack pointer. Such a location is resolved on the backend
        thread at every refresh (``Target.resolve``, ``read_locations``)."""
        return bool(self.steps) or self.kind == "thread_stack"

    @property
    def survives_restart(self) -> bool:
        return self.kind != "absolute"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "offset": self.offset}
        if self.module:
            out["module"] = self.module
        if self.symbol is not None:
            out["symbol"] = self.symbol
        if self.steps:
            out["steps"] = list(self.steps)
        return out

    @classmethod
    def from_json(cls, raw: object) -> "Location":
        """Raises InvalidInput naming what is wrong."""
        if not isinstance(raw, dict):
            raise InvalidInput(f"a location must be an object, not {type(raw).__name__}")
        kind, name, offset = raw.get("kind"), raw.get("name", ""), raw.get("offset")
        if kind not in KINDS:
            raise InvalidInput(f"unknown location kind {quoted(kind)}: expected one of "
                               f"{', '.join(KINDS)}")
        kind = LocationKind(kind)
        if not isinstance(name, str) or (kind != "absolute" and not name):
            raise InvalidInput(f"{article(kind)} location needs a name")
        low = 0 if kind == "absolute" else -_LIMIT + 1
        high = 1 if kind == "thread_stack" else _LIMIT
        if not isinstance(offset, int) or isinstance(offset, bool) \
                or not low <= offset < high:
            raise InvalidInput(f"bad offset {quoted(offset)} in {article(kind)} location")
        module = raw.get("module")
        if module is not None and not isinstance(module, str):
            raise InvalidInput(f"bad kernel module {quoted(module)}")
        symbol = raw.get("symbol")
        if symbol is not None and (not isinstance(symbol, str) or not symbol
                                   or kind != "module"):
            raise InvalidInput(f"bad symbol {quoted(symbol)}: only a module location names "
                               "a symbol")
        steps = raw.get("steps", [])
        if not isinstance(steps, list) or len(steps) > MAX_STEPS or not all(
                isinstance(s, int) and not isinstance(s, bool) and abs(s) < _LIMIT
                for s in steps):
            raise InvalidInput(f"bad pointer-path steps {quoted(steps)}: expected a list of at "
                               f"most {MAX_STEPS} signed offsets")
        return cls(kind, name, offset, module, symbol, tuple(steps))


def _thread_index(name: str) -> int:
    """N of ``[stack#N]``. Raises InvalidInput for any other name."""
    match = _THREAD_STACK_RE.fullmatch(name)
    if match is None or int(match[1]) > MAX_THREAD_INDEX:
        raise InvalidInput(f"bad thread stack {quoted(name, _SHOWN)}: [stack#N], N the "
                           f"thread's index (0: the main thread, to {MAX_THREAD_INDEX})")
    return int(match[1])


def _signed(offset: int) -> str:
    return f"-{-offset:#x}" if offset < 0 else f"+{offset:#x}"


def _quote(name: str) -> str:
    """``name`` as a JSON string whose every character is printable: control
    and other unprintable characters (a newline, ESC, a lone surrogate from
    an undecodable byte) as ``\\uXXXX`` escapes, so the text can be shown,
    copied and typed back."""
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1]
                   for c in json.dumps(name, ensure_ascii=False))


def _plain(name: str) -> bool:
    """Whether ``name`` may be written unquoted: every character printable."""
    return name.isprintable()


def _reads_back(text: str, location: Location) -> bool:
    """Whether ``text`` reads back as ``location`` (a module by the same
    file: its name as written here may be the file name): the printer asks
    the parser, so the two cannot drift apart."""
    try:
        back = parse_location(text)
    except InvalidInput:
        return False
    if back.kind != location.kind or back.symbol != location.symbol \
            or back.offset != location.offset or back.steps != location.steps:
        return False
    return back.name in (location.name, location.short_name)


def _file_name(path: str) -> str:
    """``libc.so.6`` for ``/usr/lib/libc.so.6``; ``memfd:NAME`` for a memfd
    (whose NAME may hold a slash)."""
    if path.startswith("/memfd:"):
        return path[1:]
    if path.startswith("memfd:"):
        return path
    return os.path.basename(path) or path


# -- parsing -----------------------------------------------------------------------------------

_HEX = r"(?:0[xX])?[0-9a-fA-F]+"
_HEX_RE = re.compile(_HEX)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_KERNEL_NAME_RE = re.compile(r"[^\s:+\-\[\]\x00-\x1f\x7f]+")       # no control characters
_KERNEL = "kernel:"
_THREAD_STACK_RE = re.compile(r"\[stack#(0|[1-9][0-9]{0,6})\]")
_SHOWN = 80          # characters of typed text a message quotes
_EXAMPLES = ("an address (0x7f12a000), a module or area plus an offset "
             "(libc.so.6+0x1f00, [heap]+0x10, libc.so.6!getpid), kernel:SYMBOL[+offset], "
             "or a pointer path (game+0x1f40->+0x18)")
_ARROWS = ("->", "\u2192")
_JSON = json.JSONDecoder()
_SYMBOL_RE = re.compile(r'[^\s!"+\-\x00-\x1f\x7f]+')
_SIGNED_RE = re.compile(r"([+-])\s*(" + _HEX + r")")
MAX_STEPS = 16       # pointer-path steps in one location
POINTER_SIZE = 8     # bytes of a pointer a step reads (x86-64, little-endian)


def _split_offset(text: str) -> tuple[str, int]:
    """(the text before the last ``SIGN HEX``, that signed offset), or the
    text and 0 when it does not end so."""
    taken = _take_offset(text)
    return (text, 0) if taken is None else taken


def _take_offset(text: str) -> tuple[str, int] | None:
    """(the non-empty text before the last ``SIGN HEX``, that signed
    offset), or None when the text does not end so."""
    # Read from the end, one pass: a regular expression for this
    # (``.*?\s*[+-]\s*HEX$``) backtracks in quadratic time over a text with
    # a long run of spaces, and a 1 MB location hung the caller.
    end = len(text.rstrip())
    start = end
    while start > 0 and text[start - 1] in _HEX_DIGITS:
        start -= 1
    if start == end:
        return None
    if text[start - 2:start] in ("0x", "0X") and start < end:
        start -= 2
    sign = len(text[:start].rstrip()) - 1
    if sign < 0 or text[sign] not in "+-":
        return None
    head = text[:sign].rstrip()
    if not head:
        return None
    value = int(text[start:end], 16)
    return head, -value if text[sign] == "-" else value


def _split_steps(text: str) -> tuple[str, tuple[int, ...]]:
    """(the base's text, the pointer-path steps) of a stripped location."""
    steps: list[int] = []
    while (taken := _take_offset(text)) is not None:
        head, value = taken
        arrow = next((a for a in _ARROWS if head.endswith(a)), None)
        if arrow is None:
            break
        if abs(value) >= _LIMIT:
            raise AddressOutOfRange(f"offset out of range: {printable(_signed(value), _SHOWN)} "
                                    "does not fit in 64 bits")
        steps.append(value)
        if len(steps) > MAX_STEPS:
            raise InvalidInput(f"a pointer path has at most {MAX_STEPS} steps")
        text = head[:-len(arrow)].rstrip()
    if steps and not text:
        raise InvalidInput("a pointer path starts from a location: put one before the first "
                           "-> (game+0x1f40->+0x18)")
    return text, tuple(reversed(steps))


def _read_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    """The JSON string starting at ``text[start]`` (a ``"``) and the index
    after it. Raises InvalidInput."""
    try:
        value, end = _JSON.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"bad quoted {what} in {quoted(text, _SHOWN)}: {exc.msg} "
                           f"(column {exc.pos + 1})") from None
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"bad quoted {what} in {quoted(text, _SHOWN)}: expected a "
                           'non-empty "…" string')
    return value, end


def _parse_symbol(text: str, whole: str) -> str:
    """A SYMBOL: plain, or quoted (all of ``text``)."""
    if text.startswith('"'):
        symbol, end = _read_quoted(text, 0, "symbol")
        if text[end:].strip():
            raise InvalidInput(f"unexpected {quoted(text[end:].strip(), _SHOWN)} after the "
                               f"symbol in {quoted(whole, _SHOWN)}")
        return symbol
    if not _SYMBOL_RE.fullmatch(text):
        raise InvalidInput(f"bad symbol name {quoted(text, _SHOWN)} in {quoted(whole, _SHOWN)}: "
                           'expected MODULE!SYMBOL[+offset] (a symbol with spaces, "!", "+" '
                           'or "-" is written in quotes: libfoo.so!"odd name")')
    return text


def parse_location(text: str) -> Location:
    """The location ``text`` says, by the grammar in this module's
    docstring; no map is needed (a module is kept by the name typed, see
    :func:`settle`). Raises InvalidInput naming what is wrong, or
    AddressOutOfRange (an InvalidInput) for a number beyond 64 bits."""
    if not isinstance(text, str):
        raise InvalidInput(f"a location is text, not {type(text).__name__}")
    text = text.strip()
    if not text:
        raise InvalidInput(f"type {_EXAMPLES}")
    body, steps = _split_steps(text)
    location = _parse_base(body, text)
    return replace(location, steps=steps) if steps else location


def _parse_base(text: str, whole: str) -> Location:
    if text.startswith(_KERNEL):
        return _parse_kernel(text)
    if text.startswith('"'):
        return _parse_quoted(text, whole)
    head, offset = _split_offset(text)
    head = head.strip()
    if not head or head[0] in "+-":
        raise InvalidInput(f"{quoted(text, _SHOWN)} is an offset with nothing to count from: put "
                           "an address or a name before it (libc.so.6+0x10, [heap]+0x10)")
    if _HEX_RE.fullmatch(head):
        address = int(head, 16)
        if address >= _LIMIT:
            raise AddressOutOfRange(f"address out of range: {printable(head, _SHOWN)} does "
                                    "not fit in 64 bits")
        if not 0 <= address + offset < _LIMIT:
            raise AddressOutOfRange(f"address out of range: {printable(text, _SHOWN)} is not a "
                                    "64-bit address")
        return Location.absolute(address + offset)
    _check_offset(offset)
    if any(arrow in head for arrow in _ARROWS):
        raise InvalidInput(f"bad pointer path {quoted(whole, _SHOWN)}: each step is -> and an "
                           "offset (game+0x1f40->+0x18->+0x8); a name holding -> is written "
                           'in quotes ("odd->name"+0x10)')
    if head.startswith("[stack#"):
        index = _thread_index(head)
        if offset > 0:
            raise InvalidInput(f"{quoted(whole, _SHOWN)}: a thread's stack is counted down from "
                               f"its top: {head}-0x{offset:x}, not +")
        return Location.thread_stack(index, offset)
    if head.startswith("["):
        if not head.endswith("]") or len(head) < 3:
            raise InvalidInput(f"bad area name {quoted(head, _SHOWN)}: a pseudo-area is "
                               "written in brackets, like [heap] or [stack]")
        return Location(LocationKind.PSEUDO, head, offset)
    if head.startswith(_KERNEL):
        raise InvalidInput(f"bad location {quoted(whole, _SHOWN)}: expected {_EXAMPLES}")
    if head[:2] in ("0x", "0X"):
        raise InvalidInput(f"not a hex address: {quoted(head, _SHOWN)} (expected e.g. "
                           "0x7f12a000; a file whose name starts with 0x is named by its "
                           "full path)")
    symbol = None
    cut = _symbol_cut(head)
    if cut is not None:
        head, symbol = head[:cut].rstrip(), _parse_symbol(head[cut + 1:].lstrip(), whole)
        if not head:
            raise InvalidInput(f"{quoted(whole, _SHOWN)} names a symbol without its module: "
                               "write MODULE!SYMBOL, e.g. libc.so.6!getpid")
    if head.startswith("memfd:") and len(head) == len("memfd:"):
        raise InvalidInput("memfd: needs the memfd's name, e.g. memfd:lainview-demo+0x10")
    return Location(LocationKind.MODULE, head, offset, symbol=symbol)


def _symbol_cut(head: str) -> int | None:
    """The index of the ``!`` that starts a symbol in an unquoted NAME, if
    any: the one before a quoted symbol that ends the text, else the last."""
    if head.endswith('"'):
        at = head.find('!"')
        while at != -1:
            try:
                _, end = _JSON.raw_decode(head, at + 1)
            except json.JSONDecodeError:
                end = -1
            if end == len(head):
                return at
            at = head.find('!"', at + 1)
    at = head.rfind("!")
    return None if at == -1 else at


def _parse_quoted(text: str, whole: str) -> Location:
    """``"NAME"["!" SYMBOL][SIGN HEX]``: a name written as a JSON string."""
    name, end = _read_quoted(text, 0, "name")
    rest = text[end:].strip()
    symbol = None
    offset = 0
    taken = _take_offset(rest) if rest else None
    if rest and taken is None and (match := _SIGNED_RE.fullmatch(rest)):
        rest, offset = "", int(match[2], 16) * (-1 if match[1] == "-" else 1)
    elif taken is not None and taken[0].startswith("!"):
        rest, offset = taken
    if rest.startswith("!"):
        symbol = _parse_symbol(rest[1:].strip(), whole)
    elif rest:
        raise InvalidInput(f"unexpected {quoted(rest, _SHOWN)} after the quoted name in "
                           f"{quoted(whole, _SHOWN)}: expected !SYMBOL or an offset")
    _check_offset(offset)
    if name.startswith("[") and name.endswith("]") and len(name) >= 3:
        if symbol is not None:
            raise InvalidInput(f"{printable(name, _SHOWN)} is a pseudo-area: only a module "
                               "names a symbol")
        return Location(LocationKind.PSEUDO, name, offset)
    return Location(LocationKind.MODULE, name, offset, symbol=symbol)


def _check_offset(offset: int) -> None:
    if abs(offset) >= _LIMIT:
        raise AddressOutOfRange(f"offset out of range: {printable(_signed(offset), _SHOWN)} "
                                "does not fit in 64 bits")


def _parse_kernel(text: str) -> Location:
    body, offset = _split_offset(text[len(_KERNEL):])
    body = body.strip()
    module, _, symbol = body.rpartition(":")
    if not symbol:
        raise InvalidInput("kernel: needs a symbol name, e.g. kernel:jiffies")
    for what, name in (("symbol", symbol), ("module", module)):
        if name and not _KERNEL_NAME_RE.fullmatch(name):
            raise InvalidInput(f"bad kernel {what} name {quoted(name, _SHOWN)} in "
                               f"{quoted(text, _SHOWN)}: expected "
                               "kernel:[MODULE:]SYMBOL[+offset]")
    if abs(offset) >= _LIMIT:
        raise AddressOutOfRange(f"offset out of range: {printable(_signed(offset), _SHOWN)} "
                                "does not fit in "
                                "64 bits")
    return Location.kernel_symbol(symbol, offset, module or None)


# -- making locations --------------------------------------------------------------------------

def _is_module_area(area: MemoryArea) -> bool:
    return bool(area.path) and not area.is_pseudo


def _module_areas(areas: list[MemoryArea], path: str) -> list[MemoryArea]:
    return [a for a in areas if _is_module_area(a) and a.file_path == path]


def _bss_owner(areas: list[MemoryArea], area: MemoryArea) -> str | None:
    """The module whose .bss ``area`` is: anonymous, and right after that
    module's writable data with the same permissions."""
    if area.path:
        return None
    index = areas.index(area)
    if index == 0:
        return None
    before = areas[index - 1]
    if before.end == area.start and _is_module_area(before) and before.perms == area.perms \
            and area.perms & Perm.WRITE:
        return before.file_path
    return None


def _module_extent(areas: list[MemoryArea], path: str) -> tuple[int, int] | None:
    """[base, end) of a module: its mappings and the .bss right after them."""
    mine = _module_areas(areas, path)
    if not mine:
        return None
    base, end = min(a.start for a in mine), max(a.end for a in mine)
    for area in areas:
        if area.start == end and _bss_owner(areas, area) == path:
            end = area.end
    return base, end


StaticEnd = Callable[[str], "int | None"]
"""A module's path (``MemoryArea.file_path``) -> the address where its
static data (``.data``, ``.bss``) ends, from its ELF program headers
(``ModuleSymbols.static_end``, ``Symbolizer.static_end``), or None when not
known."""


def locate(address: int, areas: list[MemoryArea],
           static_end: StaticEnd | None = None) -> Location:
    """The most durable location of ``address`` in this map (areas sorted
    by start, as every ProcessMemory returns them). An anonymous area right
    after a module's writable data is taken as its ``.bss`` only up to
    where the module's writable segments end, when ``static_end`` knows it:
    memory mapped beyond (a buffer the kernel placed or merged there) is an
    absolute address, not ``module+offset``."""
    area = area_at(areas, address)
    if area is None:
        return Location.absolute(address)
    if _is_module_area(area):
        path = area.file_path
        base = min(a.start for a in _module_areas(areas, path))
        return Location(LocationKind.MODULE, _as_typed(path), address - base)
    if area.is_pseudo:
        base = min(a.start for a in areas if a.path == area.path)
        return Location(LocationKind.PSEUDO, area.path, address - base)
    owner = _bss_owner(areas, area)
    if owner is not None:
        end = static_end(owner) if static_end is not None else None
        if end is None or address < end:
            base = min(a.start for a in _module_areas(areas, owner))
            return Location(LocationKind.MODULE, _as_typed(owner), address - base)
    return Location.absolute(address)


def _as_typed(path: str) -> str:
    """A module's path as the grammar names it: a memfd as ``memfd:NAME``
    (its map line's ``/memfd:NAME`` is no file), other files by full path."""
    return path[1:] if path.startswith("/memfd:") else path


# -- finding them again -----------------------------------------------------------------------

def _where(pid: int | None) -> str:
    return f"the map of pid {pid}" if pid is not None else "this map"


def _named(name: str) -> str:
    """A name in a message as it can be typed back: quoted when it holds
    an unprintable character or starts or ends with white space (which the
    parser strips), cut to a readable length."""
    plain = _plain(name) and name == name.strip()
    return printable(name, _SHOWN) if plain else printable(_quote(name), _SHOWN)


def _listed(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(_named(n) for n in names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "") if names \
        else "none"


def _files_named(areas: list[MemoryArea], name: str, *, as_printed: bool = True) -> list[str]:
    """The mapped files (their ``file_path``) that ``name`` names: a full
    path names only that file; a file name (or ``memfd:NAME``) every file
    so named, else (``as_printed``) every file the kernel prints so, with
    its `` (deleted)``. A real file named ``lib (deleted)`` is never taken
    for a deleted ``lib`` (issue 11)."""
    files = [a for a in areas if _is_module_area(a)]
    if name.startswith("/"):
        return sorted({a.file_path for a in files if a.file_path == name})
    named = {a.file_path for a in files if _file_name(a.file_path) == name}
    if not named and as_printed:
        named = {a.file_path for a in files if _file_name(a.path) == name}
    return sorted(named)


def resolve(location: Location, areas: list[MemoryArea], size: int = 1, *,
            pid: int | None = None, symbols: SymbolLookup | None = None,
            read_pointer: PointerRead | None = None,
            module_symbol: ModuleSymbolLookup | None = None,
            thread_stack: ThreadStackLookup | None = None) -> int:
    """The address of ``location`` in this map (``areas``, sorted by start,
    as every ProcessMemory returns them), where ``size`` bytes must fit (0: an
    end address, which may be the area's end).

    A module is matched by its full path, else by its file name (or
    ``memfd:NAME``) when exactly one mapped file has that name (the program
    was moved or reinstalled); ``module!SYMBOL`` by ``module_symbol``. A
    kernel symbol is looked up by ``symbols`` (the first address it gives),
    a thread's stack (``[stack#N]``) by ``thread_stack``.
    A pointer path's steps read pointers through ``read_pointer`` (in a
    process, each pointer must lie in a mapped area of ``areas``; a kernel
    path is checked by the reads alone). ``pid`` only names the process in
    messages. Raises :class:`Unresolved` (an InvalidInput) naming what did
    not resolve and why: for a path, the level where it broke, counted from
    1 (the first pointer read)."""
    if location.steps:
        return _follow(location, areas, size, pid, symbols, read_pointer, module_symbol,
                       thread_stack)
    kind = location.kind
    where = _where(pid)
    if kind == "kernel":
        return _resolve_kernel(location, symbols)
    if kind == "thread_stack":
        return _resolve_thread_stack(location, size, pid, thread_stack)
    if kind == "absolute":
        address = location.offset
        if area_at(areas, address) is None:
            raise Unresolved(f"{address:#x} is not mapped in {where}", address=address, pid=pid)
        return address
    if kind == "pseudo":
        mine = [a for a in areas if a.path == location.name]
        if not mine:
            pseudo = sorted({a.path for a in areas if a.is_pseudo})
            raise Unresolved(f"no {_named(location.name)} area in {where}; "
                             f"pseudo-areas: {_listed(pseudo)}", pid=pid)
        base, end = min(a.start for a in mine), max(a.end for a in mine)
        return _within(location.offset, base, end, size, location.name, pid)
    name = location.name
    paths = _files_named(areas, name)
    if not paths and name.startswith("/"):                  # the program moved
        paths = _files_named(areas, _file_name(name), as_printed=False)
    if not paths:
        modules = sorted({_file_name(a.file_path) for a in areas if _is_module_area(a)})
        raise Unresolved(f"no module named {_named(name)} in {where}; "
                         f"modules: {_listed(modules)}", pid=pid)
    if len(paths) > 1:
        raise Unresolved(f"{_named(_file_name(name))} is mapped from several files "
                         f"({_listed(paths, 3)}): name one by its full path", pid=pid)
    extent = _module_extent(areas, paths[0])
    assert extent is not None
    offset = location.offset
    what = _file_name(paths[0])
    if location.symbol is not None:
        offset += _module_symbol(location, paths[0], module_symbol)
        what = f"{what}!{location.symbol}"
    return _within(offset, extent[0], extent[1], size, what, pid)


def _module_symbol(location: Location, path: str, lookup: ModuleSymbolLookup | None) -> int:
    assert location.symbol is not None
    if lookup is None:
        raise Unresolved(f"{printable(location.text, _SHOWN)} names a symbol: resolving it needs "
                         "the module's symbol table")
    found = lookup(path, location.symbol)
    if found is None:
        raise Unresolved(f"no symbol named {_named(location.symbol)} in "
                         f"{_named(_file_name(path))}")
    return found


def _follow(location: Location, areas: list[MemoryArea], size: int, pid: int | None,
            symbols: SymbolLookup | None, read_pointer: PointerRead | None,
            module_symbol: ModuleSymbolLookup | None,
            thread_stack: ThreadStackLookup | None) -> int:
    """Resolve a pointer path: its base, then each step's dereference."""
    if read_pointer is None:
        raise Unresolved(f"{printable(location.text, _SHOWN)} is a pointer path: resolving it "
                         "reads memory")
    base = location.base
    address = base.offset if base.kind == "absolute" else resolve(
        base, areas, POINTER_SIZE, pid=pid, symbols=symbols, module_symbol=module_symbol,
        thread_stack=thread_stack)
    in_process = location.kind != "kernel"
    where = _where(pid)
    for level, step in enumerate(location.steps, 1):
        if in_process and not _mapped(areas, address, POINTER_SIZE):
            raise Unresolved(f"at level {level}, {address:#x} is not mapped in {where}",
                             address=address, pid=pid, level=level)
        try:
            pointer = read_pointer(address)
        except LainviewError as exc:
            raise Unresolved(f"at level {level}, the pointer at {address:#x} could not be "
                             f"read: {exc}", address=address, pid=pid,
                             level=level) from exc
        address = pointer + step
        if not 0 <= address < _LIMIT:
            raise Unresolved(f"at level {level}, {pointer:#x}{_signed(step)} is outside the "
                             "64-bit address space", address=pointer, pid=pid,
                             level=level)
    if in_process and not _mapped(areas, address, max(size, 1)):
        raise Unresolved(f"at level {len(location.steps) + 1} (the value), {address:#x} is not "
                         f"mapped in {where}", address=address, pid=pid,
                         level=len(location.steps) + 1)
    return address


def _mapped(areas: list[MemoryArea], address: int, size: int) -> bool:
    """Whether [address, address + size) lies in mapped areas (adjacent
    areas may share it)."""
    end = address + size
    while address < end:
        area = area_at(areas, address)
        if area is None:
            return False
        address = area.end
    return True


def _within(offset: int, base: int, end: int, size: int, what: str,
            pid: int | None) -> int:
    if offset < 0:
        raise Unresolved(f"offset {_signed(offset)} puts the address before the start of "
                         f"{printable(what)}", pid=pid)
    address = base + offset
    if address + max(size, 0) > end:
        if address < end:                    # it starts inside: what is asked runs out
            raise Unresolved(f"{size:#x} bytes at offset {offset:#x} run past the end of "
                             f"{printable(what)} ({end - base:#x} bytes mapped)", pid=pid)
        raise Unresolved(f"offset {offset:#x} is past the end of {printable(what)} "
                         f"({end - base:#x} bytes mapped)", pid=pid)
    return address


def _resolve_thread_stack(location: Location, size: int, pid: int | None,
                          lookup: ThreadStackLookup | None) -> int:
    index = location.thread_index
    assert index is not None
    if lookup is None:
        raise Unresolved(f"{location.text} is a thread's stack: resolving it needs the "
                         "process's threads", pid=pid)
    found = lookup(index)
    if found is None:
        raise Unresolved(f"thread {index}'s stack is not known in {_where(pid)}: there is no "
                         f"thread {index}, or it is running (its stack is found while it "
                         "waits in a system call)", pid=pid)
    start, end = found
    address = end + location.offset
    if address < start:
        raise Unresolved(f"offset {_signed(location.offset)} is below the bottom of "
                         f"{location.name} ({end - start:#x} bytes mapped)", pid=pid)
    if address + max(size, 0) > end:
        raise Unresolved(f"{location.name}{_signed(location.offset)} leaves no room for "
                         f"{size} bytes below the stack's top", pid=pid)
    return address


def _resolve_kernel(location: Location, symbols: SymbolLookup | None) -> int:
    name = printable(location.name)
    if symbols is None:
        raise Unresolved(f"{printable(location.text)} is a kernel symbol: it is found by a "
                         "kernel source, not in a process's map")
    found = symbols(location.name, location.module)
    if not found:
        inside = f" in module {printable(location.module)}" if location.module else ""
        raise Unresolved(f"no kernel symbol named {name}{inside}")
    address = found[0] + location.offset
    if not 0 <= address < _LIMIT:
        raise Unresolved(f"offset {_signed(location.offset)} puts {name} ({found[0]:#x}) "
                         "outside the 64-bit address space")
    return address


def settle(location: Location, areas: list[MemoryArea], *, pid: int | None = None,
           static_end: StaticEnd | None = None) -> Location:
    """The durable form of a location typed by the user, as watch entries
    and bookmarks keep it: a module named by its file name gets its full
    path, an absolute address inside a module or pseudo-area becomes
    module/pseudo plus offset (:func:`locate`, with ``static_end``). A
    kernel symbol, and an absolute address that is not mapped, are kept as
    they are. Raises :class:`Unresolved` for a module or area not in this
    map."""
    if location.steps:
        return replace(settle(location.base, areas, pid=pid, static_end=static_end),
                       steps=location.steps)
    if location.kind in ("kernel", "thread_stack"):
        return location
    if location.kind == "absolute":
        return locate(location.offset, areas, static_end)
    if location.symbol is not None:             # keep the symbol; name the file fully
        paths = _files_named(areas, location.name)
        if not paths and location.name.startswith("/"):
            paths = _files_named(areas, _file_name(location.name), as_printed=False)
        if len(paths) != 1:
            resolve(replace(location, symbol=None, offset=0), areas, pid=pid)  # says why
        return replace(location, name=paths[0])
    return locate(resolve(location, areas, pid=pid), areas, static_end)


__all__ = ["KINDS", "MAX_STEPS", "MAX_THREAD_INDEX", "POINTER_SIZE", "Location", "LocationKind",
           "ModuleSymbolLookup", "PointerRead", "StaticEnd", "SymbolLookup", "ThreadStackLookup",
           "Unresolved", "locate", "parse_location", "resolve", "settle"]
