"""Process commands: ps, maps, read, write, journal, revert, apply.

    lainview ps [--json]
    lainview maps PID [--json]
    lainview read PID ADDR LEN [--raw]
    lainview read PID ADDR --type CTYPE [--c-header FILE | --dwarf ELF] [--follow N] [--json]
    lainview read PID prog+OFF --type auto [--dwarf ELF]   (the global there, from DWARF)
    lainview write PID ADDR HEXBYTES
    lainview journal [--pid PID] [--json] [--export PATCH [--entries ID...]]
    lainview apply PATCH [--pid PID] [--dry-run] [--force]
    lainview revert ENTRY... | --pid PID | --kernel [--force]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable

from ..backend.errors import FaultError, InvalidInput
from ..backend.files import read_input_file
from ..backend.memory import areas_json
from ..backend.patch import load_patch, patch_from_entries, save_patch
from ..backend.processes import matching_programs
from ..backend.service import Backend
from ..backend.wording import counted, printable
from .output import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, address_in, holes_json, kernel_backend,
                     one_line, print_journal_notices, print_journal_problems, print_json,
                     report_holes)

# A C header given with --c-header holds declarations, not data: pycparser
# takes about 20 s a MiB (50,000 fields in 0.6 MB took 11 s).
HEADER_LIMIT = 1 << 20


def cmd_ps(backend: Backend, args) -> int:
    procs = backend.list_processes().result()
    if args.json:
        print_json([p.to_json() for p in procs])
        return EXIT_OK
    # Like ps(1): a command line (thousands of characters for some) is cut
    # to the terminal's width (COLUMNS, else the tty's, else 80) unless --wide.
    width = None if args.wide else shutil.get_terminal_size().columns
    print(f"{'PID':>7} {'USER':<10} {'RSS':>9}  {'ATTACH':<6} COMMAND")
    for p in procs:
        mark = "yes" if p.attachable else "no"
        head = f"{p.pid:>7} {printable(p.user)[:10]:<10} {p.rss // 1024:>7}K  {mark:<6} "
        tail = "" if p.attachable else f"   [{printable(p.reason.split(':')[0])}]"
        # A process chooses its own command line: a newline or an escape
        # sequence in it must not forge rows or drive the terminal.
        command = printable(p.cmdline or p.name)
        if width is not None:
            room = max(width - len(head) - len(tail), 8)
            if len(command) > room:
                command = command[:room - 1] + "…"
        print(head + command + tail)
    return EXIT_OK


def cmd_maps(backend: Backend, args) -> int:
    target = backend.attach(args.pid, args.backend, writable=False).result()
    areas = target.areas(refresh=False).result()       # attaching has just read it
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


def cmd_read(backend: Backend, args) -> int:
    """Stream the range: a hex dump (holes as ``??``, long unreadable
    stretches as one line and ``*``), or with --raw the bytes themselves up
    to the first unreadable one, or with --json ``{"pid", "address",
    "length", "chunks": [{"address", "data": hex}], "holes": [[address,
    size, reason]], "no_access": [[address, size]]}`` (the readable runs;
    holes also on stderr, exit 1). Memory stays bounded whatever the length.
    PROT_NONE pages are read as the kernel allows and named on stderr."""
    if args.ctype is not None or args.c_header is not None or args.dwarf is not None:
        return _read_typed(backend, args)
    if args.length is None:
        raise InvalidInput("give a LENGTH to read, or --type CTYPE to read one value of a "
                           "C type")
    target = backend.attach(args.pid, args.backend, writable=False).result()
    if args.userfaultfd:
        target.set_read_userfaultfd(True).result()
    start = address_in(target, args.address)
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
    stats = target.read_stream(start, args.length, consume).result()
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
    else:
        ctype = decls.lookup(args.ctype)
    if ctype.size <= 0:
        raise InvalidInput(f"{printable(args.ctype)} has no size (declared, never defined)")
    target = backend.attach(args.pid, args.backend, writable=False).result()
    if args.userfaultfd:
        target.set_read_userfaultfd(True).result()
    start = address_in(target, args.address, ctype.size)

    def read(address: int, size: int) -> bytes:
        return bytes(target.read(address, size).result().require("read"))
    tree = typed_value(ctype, read(start, ctype.size), start, read, follow=args.follow)
    if args.json:
        print_json({"pid": args.pid, "location": args.address.text, "address": start,
                    "type": ctype.c_name(), "size": ctype.size, "value": tree.to_json()})
    else:
        print("\n".join(tree.lines(f"{ctype.c_name()} at {start:#x} ({ctype.size} bytes)")))
    return EXIT_OK


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
    tree = typed_value(ctype, read(start, ctype.size), start, read, follow=args.follow,
                       name=found.name)
    if args.json:
        print_json({"pid": args.pid, "location": args.address.text, "address": start,
                    "variable": found.name, "dwarf": found.file, "type": ctype.c_name(),
                    "size": ctype.size, "value": tree.to_json()})
    else:
        into = f", {address - start:#x} bytes into it" if address != start else ""
        print("\n".join(tree.lines(f"{printable(found.name)}: {ctype.c_name()} at {start:#x} "
                                   f"({ctype.size} bytes{into})")))
    return EXIT_OK


def cmd_write(backend: Backend, args) -> int:
    target = backend.attach(args.pid, args.backend).result()
    try:
        if args.address.steps:      # resolved and written in one request, journaled as a path
            result = target.write_location(args.address, args.hexbytes).result()
        else:
            address = address_in(target, args.address, len(args.hexbytes))
            result = target.write(address, args.hexbytes).result()
    finally:
        print_journal_notices(backend)
    if args.json:
        print_json({"pid": args.pid, "address": result.address, "old": result.old.hex(),
                    "new": result.new.hex(), "journal_id": result.journal_id})
        return EXIT_OK
    print(f"old {result.old.hex(' ')}")
    print(f"new {result.new.hex(' ')}")
    print(f"wrote {counted(len(result.new), 'byte')} at {result.address:#x} (journal entry "
          f"{result.journal_id}; undo with: lainview revert {result.journal_id})")
    return EXIT_OK


def _format_entry(e) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time))
    status = e.status or "unknown (the writer stopped before recording an outcome)"
    extra = f" reverts {e.reverts}" if e.reverts else ""
    if e.freeze:
        extra += f" ({e.freeze_text})"
    addr = f"{e.address:#x}" if e.address is not None else "-"
    return (f"{e.id:>5} {when} {printable(e.label)} {addr} {e.old.hex()} -> {e.new.hex()} "
            f"[{status}]{extra}")


def cmd_journal(backend: Backend, args) -> int:
    wanted = set(args.entries or ())
    seen: set[int] = set()
    selected: list = []          # only for --export (a patch is held whole anyway)
    out = sys.stdout
    count = 0

    def consume(e) -> None:
        nonlocal count
        if wanted:
            if e.id not in wanted:
                return
            seen.add(e.id)
        if args.export:
            selected.append(e)
        elif args.json:
            # One entry per line: the C encoder, and a stream a line-based
            # tool can follow.
            out.write(("[\n" if count == 0 else ",\n") + json.dumps(e.to_json()))
        else:
            out.write(_format_entry(e) + "\n")
        count += 1

    problems = backend.journal_scan(consume, args.pid).result()
    print_journal_problems(backend, problems)
    if wanted - seen:
        raise InvalidInput(f"no journal entry {min(wanted - seen)}"
                           + (f" for process {args.pid}" if args.pid else ""))
    if args.export:
        patch = patch_from_entries(selected)
        save_patch(patch, args.export)
        n = len(patch.writes)
        if args.json:
            print_json({"patch": args.export, "exe": patch.exe, "writes": n})
            return EXIT_OK
        print(f"saved {n} write{'' if n == 1 else 's'} to "
              f"{printable(patch.exe) if patch.exe else 'the program'} "
              f"as a patch in {printable(args.export)}")
        return EXIT_OK
    if args.json:
        out.write("\n]\n" if count else "[]\n")
        out.flush()
        return EXIT_OK
    if not count:
        whose = f" to process {args.pid}" if args.pid else ""
        print(f"no writes{whose} journaled in {backend.journal.path}", file=sys.stderr)
    return EXIT_OK


def cmd_revert(backend: Backend, args) -> int:
    if sum((bool(args.entries), bool(args.pid), args.kernel)) != 1:
        print("lainview revert: give journal entry ids, --pid PID or --kernel (one of them)",
              file=sys.stderr)
        return EXIT_USAGE
    kernel_backend(backend, args)   # reverts kernel entries (its source opens only if needed)
    outcomes = backend.revert(args.entries or None, pid=args.pid,
                              kind="kernel" if args.kernel else None, force=args.force,
                              backend=args.backend).result()
    print_journal_notices(backend)
    print_journal_problems(backend, backend.journal.problems)
    if not outcomes:
        print("nothing to revert", file=sys.stderr)
    if args.json:
        print_json([{"entry_id": o.entry_id, "status": o.status, "message": o.message,
                     "new_entry_id": o.new_entry_id} for o in outcomes])
    else:
        for o in outcomes:
            print(f"entry {o.entry_id}: {o.status}: {o.message}")
    # A write to a process (or boot) that is gone cannot be undone: the revert failed.
    failed = any(o.status in ("conflict", "failed", "gone") for o in outcomes)
    return EXIT_ERROR if failed else EXIT_OK


def cmd_apply(backend: Backend, args) -> int:
    patch = load_patch(args.patch)
    pid = args.pid
    if pid is None:
        procs = backend.list_processes().result()
        exact, loose = matching_programs(patch.exe, patch.cmdline, procs, {os.getpid()})
        found = exact or loose
        if len(found) != 1:
            which = ", ".join(f"{p.pid} ({printable(p.cmdline)[:60]})" for p in found[:5])
            raise InvalidInput(f"{len(found)} processes run {patch.exe}"
                               + (f": {which}" if found else "")
                               + "; choose one with --pid")
        pid = found[0].pid
    report = backend.apply_patch(patch, pid, force=args.force, dry_run=args.dry_run,
                                 backend=args.backend).result()
    if args.json:
        print_json({"pid": pid, "patch": args.patch, "dry_run": args.dry_run,
                    "applied": report.applied,
                    "outcomes": [{"location": o.location, "address": o.address,
                                  "action": o.action, "message": o.message,
                                  "journal_id": o.journal_id} for o in report.outcomes]})
    else:
        for o in report.outcomes:
            where = f"{o.address:#x}" if o.address is not None else "-"
            extra = f" (journal entry {o.journal_id})" if o.journal_id else ""
            print(f"{printable(o.location)} @ {where}: {o.action}"
                  f"{': ' + one_line(o.message) if o.message else ''}{extra}")
    if args.dry_run:
        return EXIT_OK if all(o.action in ("would write", "already")
                              for o in report.outcomes) else EXIT_ERROR
    print_journal_notices(backend)
    if not report.applied:
        if any(o.action in ("written", "rollback failed") for o in report.outcomes):
            print(f"lainview apply: process {pid} was patched only in part", file=sys.stderr)
        elif any(o.action == "rolled back" for o in report.outcomes):
            print(f"lainview apply: nothing written to process {pid}: a write failed and "
                  "the ones before it were rolled back", file=sys.stderr)
        else:
            print(f"lainview apply: nothing written to process {pid}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK

