"""Process commands: maps, read, write (ps: ps.py; journal, apply, revert: journal.py).

    lainview maps PID [--json]
    lainview read PID ADDR LEN [--raw]
    lainview read PID ADDR --type CTYPE [--c-header FILE | --dwarf ELF] [--follow N] [--json]
    lainview read PID prog+OFF --type auto [--dwarf ELF]   (the global there, from DWARF)
    lainview write PID ADDR HEXBYTES

They run without the backend facade (parser.py: ``facade=False``): each
attaches with backend/attach.py in this one thread and imports the facade
only where it needs its thread (``read --userfaultfd``, ``read --type``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..backend.attach import (BulkStats, StreamConsumer, attach_process,
                              journaled_location_write, journaled_process_write, run_to_end,
                              stream)
from ..backend.errors import FaultError, InvalidInput
from ..backend.files import read_input_file
from ..backend.memory import areas_json
from ..backend.wording import counted, printable
from .output import (EXIT_ERROR, EXIT_OK, address_in, backend_facade, holes_json,
                     print_journal_notices, print_json, report_holes)

if TYPE_CHECKING:
    from ..backend.service import Backend

# A C header given with --c-header holds declarations, not data: pycparser
# takes about 20 s a MiB (50,000 fields in 0.6 MB took 11 s).
HEADER_LIMIT = 1 << 20


def cmd_maps(args) -> int:
    with attach_process(args.pid, args.backend, writable=False) as target:
        areas = target.memory.areas(refresh=False)      # attaching has just read it
    if args.json:
        print(areas_json(areas))
    else:
        print(f"# pid {args.pid}, backend {target.info.reason}", file=sys.stderr)
        for a in areas:
            print(f"{a.start:016x}-{a.end:016x} {a.perms.letters} {a.offset:08x} "
                  f"{a.size:>12}  {printable(a.path)}")
    return EXIT_OK


class _RawStopped(FaultError):
    """--raw stops at the first unreadable byte."""


class _JsonChunks:
    """``read --json``'s ``chunks``, streamed: each run of readable bytes as
    ``{"address": int, "data": "hex"}``; pieces that follow on without a gap
    extend the run."""

    def __init__(self, write: Callable[[bytes], object]):
        self._write = write
        self._end: int | None = None       # end of the open run

    def add(self, address: int, data: memoryview) -> None:
        if not data:
            return
        if address != self._end:
            opening = b"" if self._end is None else b'"},\n'
            self._write(opening + b'{"address": %d, "data": "' % address)
        self._write(data.hex().encode())
        self._end = address + len(data)

    def close(self) -> None:
        if self._end is not None:
            self._write(b'"}')


def cmd_read(args) -> int:
    """Stream the range: a hex dump (holes as ``??``, long unreadable
    stretches as one line and ``*``), or with --raw the bytes themselves up
    to the first unreadable one, or with --json ``{"pid", "address",
    "length", "chunks": [{"address", "data": hex}], "holes": [[address,
    size, reason]], "no_access": [[address, size]]}`` (the readable runs;
    holes also on stderr, exit 1). Memory stays bounded whatever the length.
    PROT_NONE pages are read as the kernel allows and named on stderr."""
    if args.ctype is not None or args.c_header is not None or args.dwarf is not None:
        with backend_facade("read") as backend:
            return _read_typed(backend, args)
    if args.length is None:
        raise InvalidInput("give a LENGTH to read, or --type CTYPE to read one value of a "
                           "C type")
    if args.userfaultfd:
        # A page the target never fills blocks the read: on the backend
        # thread, whose watchdog gives up on it (BackendStuck), not here.
        with backend_facade("read") as backend:
            target = backend.attach(args.pid, args.backend, writable=False).result()
            target.set_read_userfaultfd(True).result()
            return _read_range(args, address_in(target, args.address),
                               lambda start, consume: target.read_stream(
                                   start, args.length, consume).result())
    with attach_process(args.pid, args.backend, writable=False) as process:
        return _read_range(args, address_in(process, args.address),
                           lambda start, consume: run_to_end(stream(
                               process.memory, start, args.length, consume)))


def _read_range(args, start: int,
                read_stream: Callable[[int, StreamConsumer], BulkStats]) -> int:
    """:func:`cmd_read`'s output of ``args.length`` bytes from ``start``,
    streamed by ``read_stream(start, consumer)``."""
    out = sys.stdout.buffer
    sys.stdout.flush()
    no_access: list[list[int]] = []           # [start, end) runs of PROT_NONE bytes read

    def note_no_access(address, size):
        if no_access and no_access[-1][1] == address:
            no_access[-1][1] += size
        else:
            no_access.append([address, address + size])

    if args.raw:
        def consume(address, view, holes, forced):
            if view is None or holes:
                first = holes[0]
                raise _RawStopped(f"stopped after {first.address - start} bytes: "
                                  f"{counted(first.size, 'byte')} unreadable: {first.reason}",
                                  op="read", errno=first.errno, address=first.address)
            if forced:
                note_no_access(address, len(view))
            out.write(view)
    elif args.json:
        chunks = _JsonChunks(out.write)
        out.write(b'{"pid": %d, "address": %d, "length": %d, "chunks": [\n'
                  % (args.pid, start, args.length))

        def consume(address, view, holes, forced):
            if view is None:
                return
            if forced:
                note_no_access(address, len(view))
            pos, end = address, address + len(view)
            for hole in sorted(holes, key=lambda h: h.address):
                chunks.add(pos, view[pos - address:max(pos, hole.address) - address])
                pos = max(pos, min(hole.end, end))
            chunks.add(pos, view[pos - address:])
    else:
        from ..hexdump import HexDumper
        dumper = HexDumper(start, start + args.length, out.write)

        def consume(address, view, holes, forced):
            if view is None:
                dumper.hole(holes[0])
                return
            if forced:
                note_no_access(address, len(view))
            dumper.data(address, view, holes)
    stats = read_stream(start, consume)
    if args.json:
        chunks.close()
        out.write(b'\n], "holes": %s, "no_access": %s}\n' % (
            json.dumps(holes_json(stats.holes)).encode(),
            json.dumps([[lo, hi - lo] for lo, hi in no_access]).encode()))
    elif not args.raw:
        dumper.finish()
    out.flush()
    for start, end in no_access:
        print(f"lainview read: note: {counted(end - start, 'byte')} at {start:#x} "
              f"{'is' if end - start == 1 else 'are'} in a no-access page "
              "(no read permission), read through the kernel's forced access", file=sys.stderr)
    report_holes("read", stats.holes)
    return EXIT_ERROR if stats.holes else EXIT_OK


_C_WORDS = frozenset({"char", "short", "int", "long", "float", "double", "void", "signed",
                      "unsigned", "_Bool", "const", "volatile", "struct", "union", "enum"})


def _lookup_without_header(decls, text: str):
    """``text`` looked up among C's base types and the predeclared typedefs
    (no --c-header, no --dwarf): a struct, union, enum or other named type
    needs declarations, said as the flags that give them (InvalidInput)."""
    import re

    from ..backend.wording import quoted
    try:
        return decls.lookup(text)
    except InvalidInput:
        named = re.fullmatch(r"\s*(?:(struct|union|enum)\s+)?([A-Za-z_]\w*)[\s*\[\]\d]*",
                             text)
        if named is None or (named.group(1) is None and named.group(2) in _C_WORDS):
            raise
        what = f"{named.group(1)} type" if named.group(1) else "type name"
        raise InvalidInput(f"{quoted(text.strip())} is a {what} no header declares: give "
                           "its declarations with --c-header FILE, or take it from DWARF "
                           "with --dwarf FILE (or --type auto for a global)") from None


def _read_typed(backend: Backend, args) -> int:
    """``read PID LOCATION --type CTYPE [--c-header FILE]``: the value as a
    tree of fields (text), or with --json ``{pid, location, address, type,
    size, value}`` (value: nested ``{offset, address, type, size, value,
    fields | elements}``). Pointers to structs are followed ``--follow``
    levels through the target; one that cannot be read carries an error."""
    from ..backend.c_decls import Declarations, parse_header
    from ..backend.ctypes_model import MAX_FOLLOW, typed_value
    if args.ctype is None and args.dwarf is None:
        raise InvalidInput("--c-header needs --type CTYPE (the type to show)")
    if args.c_header is not None and args.dwarf is not None:
        raise InvalidInput("give --c-header or --dwarf, not both")
    if args.raw or args.length is not None:
        raise InvalidInput("--type reads one value of that type: give no LENGTH and no --raw")
    if not 0 <= args.follow <= MAX_FOLLOW:
        raise InvalidInput(f"--follow {args.follow}: give 0 to {MAX_FOLLOW} levels")
    if args.ctype is None or args.ctype.strip() == "auto":
        if args.c_header is not None:
            raise InvalidInput("--type auto takes the type from DWARF, not from --c-header")
        return _read_global(backend, args)
    decls = Declarations()
    if args.c_header is not None:
        raw = read_input_file(args.c_header, HEADER_LIMIT, what="the header")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"cannot read the header {printable(args.c_header)}: "
                               f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        decls = parse_header(text, os.path.basename(args.c_header))
    if args.dwarf is not None:
        from ..backend.dwarf_types import DebugTypes
        debug = DebugTypes(args.dwarf)
        try:
            ctype = debug.find(args.ctype)
        finally:
            debug.close()
    elif args.c_header is None:
        ctype = _lookup_without_header(decls, args.ctype)
    else:
        ctype = decls.lookup(args.ctype)
    from ..backend.placements import check_placeable
    check_placeable(ctype, args.ctype, limit=None)
    target = backend.attach(args.pid, args.backend, writable=False).result()
    if args.userfaultfd:
        target.set_read_userfaultfd(True).result()
    start = address_in(target, args.address, ctype.size)

    def read(address: int, size: int) -> bytes:
        return bytes(target.read(address, size).result().require("read"))
    first = target.read(start, ctype.size).result()
    tree = typed_value(ctype, first.data, start, read, follow=args.follow,
                       unread=_unread(first))
    if args.json:
        print_json({"pid": args.pid, "location": args.address.text, "address": start,
                    "type": ctype.c_name(), "size": ctype.size, "value": tree.to_json(),
                    "holes": holes_json(first.holes)})
    else:
        print("\n".join(tree.lines(f"{ctype.c_name()} at {start:#x} ({ctype.size} bytes)")))
    report_holes("read", first.holes)
    return EXIT_ERROR if first.holes else EXIT_OK


def _unread(result) -> list[tuple[int, int]]:
    """A read's holes as (offset, length) into its data: typed_value's
    ``unread`` (the fields there are shown as unreadable)."""
    return [(h.address - result.address, h.size) for h in result.holes]


def _read_global(backend: Backend, args) -> int:
    """``read PID LOCATION --type auto [--dwarf ELF]`` (or ``--dwarf`` without
    ``--type``): the global variable holding the address, typed from the
    DWARF of the module it lies in (the file mapped, or ``--dwarf``), shown
    from its first byte. JSON as with --type, plus ``variable`` and
    ``dwarf``."""
    from ..backend.ctypes_model import typed_value
    target = backend.attach(args.pid, args.backend, writable=False).result()
    if args.userfaultfd:
        target.set_read_userfaultfd(True).result()
    address = address_in(target, args.address)
    found = target.debug_global_at(address, dwarf=args.dwarf, follow=args.follow).result()
    ctype, start = found.type, found.address
    if ctype.size <= 0:
        raise InvalidInput(f"{printable(found.name)} has no size in the DWARF "
                           f"({ctype.c_name()})")

    def read(at: int, size: int) -> bytes:
        return bytes(target.read(at, size).result().require("read"))
    first = target.read(start, ctype.size).result()
    tree = typed_value(ctype, first.data, start, read, follow=args.follow,
                       name=found.name, unread=_unread(first))
    if args.json:
        print_json({"pid": args.pid, "location": args.address.text, "address": start,
                    "variable": found.name, "dwarf": found.file, "type": ctype.c_name(),
                    "size": ctype.size, "value": tree.to_json(),
                    "holes": holes_json(first.holes)})
    else:
        into = f", {address - start:#x} bytes into it" if address != start else ""
        print("\n".join(tree.lines(f"{printable(found.name)}: {ctype.c_name()} at {start:#x} "
                                   f"({ctype.size} bytes{into})")))
    report_holes("read", first.holes)
    return EXIT_ERROR if first.holes else EXIT_OK


def cmd_write(args) -> int:
    from ..backend.journal import Journal     # here: the other commands write nothing
    journal = Journal()
    try:
        with attach_process(args.pid, args.backend) as target:
            if args.address.steps or args.address.kind != "absolute":
                # resolved and written at once, journaled as typed (attach.journal_place)
                result = journaled_location_write(journal, target.memory, target.identity,
                                                  args.address, args.hexbytes, if_changed=True)
            else:
                address = address_in(target, args.address, len(args.hexbytes))
                result = journaled_process_write(journal, target.memory, target.identity,
                                                 address, args.hexbytes, if_changed=True)
    finally:
        print_journal_notices(journal)
        journal.close()
    if args.json:
        print_json({"pid": args.pid, "address": result.address, "old": result.old.hex(),
                    "new": result.new.hex(), "journal_id": result.journal_id})
        return EXIT_OK
    if result.journal_id is None:        # a write that changes nothing is not a write
        print(f"memory at {result.address:#x} already holds {result.new.hex(' ')}: "
              "nothing written or journaled")
        return EXIT_OK
    print(f"old {result.old.hex(' ')}")
    print(f"new {result.new.hex(' ')}")
    print(f"wrote {counted(len(result.new), 'byte')} at {result.address:#x} (journal entry "
          f"{result.journal_id}; undo with: lainview revert {result.journal_id})")
    return EXIT_OK
