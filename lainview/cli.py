"""The command-line interface: the same backend as the GUI, without Qt.

    lainview ps [--json]
    lainview maps PID [--json]
    lainview read PID ADDR LEN [--raw]
    lainview write PID ADDR HEXBYTES
    lainview journal [--pid PID] [--json] [--export PATCH [--entries ID...]]
    lainview apply PATCH [--pid PID] [--dry-run] [--force]
    lainview revert ENTRY... | --pid PID | --kernel [--force]
    lainview scan PID --type T (--value V | --range LO..HI | --unknown) [--session FILE]
    lainview scan --session FILE --next MODE [--value V]
    lainview ksyms | kread | kwrite | kmod | kinfo   (kernel symbols: see kcli.py)

With no subcommand, lainview opens the GUI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

from .argtypes import argtype, count as count_arg, entry_id, pid as pid_arg
from .backend import scan
from .backend.errors import FaultError, InvalidInput, LainviewError
from .backend.memory import parse_address, parse_hex_bytes, parse_size
from .backend.patch import load_patch, patch_from_entries, save_patch
from .backend.processes import matching_programs
from .backend.service import BACKENDS, Backend
from .backend.wording import counted, printable
from .models.formats import describe_skipped, format_scan_value, human_size, scan_value_json
from . import __version__, desktop, kcli
from .hexdump import HexDumper, hexdump  # noqa: F401 - hexdump: kcli's

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

GUI_USAGE = """\
Without a COMMAND, lainview opens its window:
  lainview --demo                     attach to a bundled live demo process
  lainview --pick                     choose a process from a list
  lainview --pid PID [--address LOC]  attach to PID (LOC: 0x…, libc.so.6+0x1f00, [heap]+0x10)
  lainview --session FILE             reopen a saved session on its program
  lainview --kernel                   open the kernel-symbol browser
  lainview --screenshot PATH          render the window (on the demo) to a PNG and exit
"""


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr and exit 2:
    ``lainview read: argument length: not a length: '12x' (see lainview read --help)``.
    Sub-parsers inherit the class (argparse makes them with ``type(self)``)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: str) -> str:
    """``text`` with its line breaks folded and any other control character
    escaped (:func:`printable`), for a one-line error message."""
    return printable(" ".join(str(text).split()))


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="lainview", description="Inspect and edit the memory of Linux processes.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=GUI_USAGE)
    parser.add_argument("--version", action="version", version=f"lainview {__version__}")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="process-memory backend (default: lainmemu if loaded, else /proc)")
    kcli.add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ps", help="list processes and whether lainview can attach")
    p.add_argument("--json", action="store_true")
    p.add_argument("-w", "--wide", action="store_true",
                   help="whole command lines (by default each line is cut to the terminal's width)")

    p = sub.add_parser("maps", help="the memory areas of a process")
    p.add_argument("pid", type=pid_arg)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("read", help="hex dump (or raw bytes) of a range of a process's memory")
    p.add_argument("pid", type=pid_arg)
    p.add_argument("address", type=argtype(parse_address), help="hex, with or without 0x")
    p.add_argument("length", type=argtype(parse_size),
                   help="decimal, or hex with 0x; any length whose range ends within the "
                        "64-bit address space (streamed; unmapped stretches are skipped)")
    p.add_argument("--raw", action="store_true",
                   help="write the bytes to stdout (up to the first unreadable one)")
    p.add_argument("--userfaultfd", action="store_true",
                   help="also read areas the target registered with userfaultfd (a page "
                        "it has not filled blocks the read until it does)")

    p = sub.add_parser("write", help="write bytes into a process's memory (journaled)")
    p.add_argument("pid", type=pid_arg)
    p.add_argument("address", type=argtype(parse_address), help="hex, with or without 0x")
    p.add_argument("hexbytes", type=argtype(parse_hex_bytes), help='e.g. "de ad be ef"')

    p = sub.add_parser("journal", help="list journaled writes, or export them as a patch")
    p.add_argument("--pid", type=pid_arg)
    p.add_argument("--json", action="store_true")
    p.add_argument("--export", metavar="PATCH",
                   help="write the listed process writes (one program: use --pid or "
                        "--entries) to a patch file for `lainview apply`")
    p.add_argument("--entries", type=entry_id, nargs="+", metavar="ID",
                   help="with --export: only these entries")

    p = sub.add_parser("apply", help="apply a patch file to a running process of its program")
    p.add_argument("patch", metavar="PATCH")
    p.add_argument("--pid", type=pid_arg,
                   help="the process (default: the one running the patch's program)")
    p.add_argument("--dry-run", action="store_true", help="check every write, write nothing")
    p.add_argument("--force", action="store_true",
                   help="write even where the bytes are not the patch's old bytes")

    p = sub.add_parser("revert", help="undo journaled writes, newest first")
    p.add_argument("entries", nargs="*", type=entry_id, metavar="ENTRY")
    p.add_argument("--pid", type=pid_arg, help="revert every write to this process")
    p.add_argument("--force", action="store_true",
                   help="revert even where the memory changed since the write")
    kcli.add_revert_option(p)

    p = sub.add_parser("scan", help="find the addresses that hold a value, then narrow them",
                       description="First scan: PID with --value, --range or --unknown. "
                       "Next scans: --session FILE --next MODE. The session file keeps "
                       "the scan between invocations.")
    p.add_argument("pid", type=pid_arg, nargs="?", help="the target (first scan)")
    p.add_argument("--type", choices=scan.TYPE_NAMES, help="value type (first scan)")
    p.add_argument("--big-endian", action="store_true")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--value", help="the value: a number, hex bytes with ?? wildcards, "
                      "or text for utf8/utf16le")
    what.add_argument("--range", dest="value_range", metavar="LO..HI")
    what.add_argument("--unknown", action="store_true", help="unknown initial value")
    p.add_argument("--next", choices=[m.value for m in scan.NEXT_MODES],
                   help="narrow the session's scan")
    p.add_argument("--undo", action="store_true", help="go back one step in the session")
    p.add_argument("--align", default="natural",
                   help="'natural' (the type's size, default), 'any', or a number of bytes")
    p.add_argument("--tolerance", type=float, help="for f32/f64")
    p.add_argument("--include-readonly", action="store_true")
    p.add_argument("--include-file-backed", action="store_true")
    p.add_argument("--include-shared", action="store_true")
    p.add_argument("--area", action="append", default=[], metavar="START-END",
                   help="scan only this address range (repeatable)")
    p.add_argument("--session", metavar="FILE", help="load/save the scan state here")
    p.add_argument("--force", action="store_true",
                   help="let a first scan overwrite a --session FILE that is not a scan session")
    p.add_argument("--snapshot-memory", type=count_arg, metavar="MiB",
                   default=scan.ScanLimits().snapshot_memory >> 20,
                   help="compressed snapshots kept in memory before the rest spills to "
                   "0600 files under $TMPDIR (default %(default)s)")
    p.add_argument("--limit", type=count_arg, default=50, help="matches to print (default 50)")
    p.add_argument("--json", action="store_true")
    kcli.add_subcommands(sub)
    desktop.add_subcommands(sub)
    return parser


def _cmd_ps(backend: Backend, args) -> int:
    procs = backend.list_processes().result()
    if args.json:
        print(json.dumps([p.to_json() for p in procs], indent=1))
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


def _cmd_maps(backend: Backend, args) -> int:
    target = backend.attach(args.pid, args.backend, writable=False).result()
    areas = target.areas(refresh=False).result()       # attaching has just read it
    if args.json:
        # One dumps without ``indent`` runs json's C encoder (``indent``
        # takes the pure-Python one: seconds at 65,000 areas); then one area
        # a line. '}, {"start": ' occurs only between areas: inside a JSON
        # string every '"' is escaped.
        text = json.dumps([a.to_json() for a in areas])
        print(text.replace('}, {"start": ', '},\n {"start": '))
    else:
        print(f"# pid {args.pid}, backend {target.info.reason}", file=sys.stderr)
        for a in areas:
            print(f"{a.start:016x}-{a.end:016x} {a.perms.letters} {a.offset:08x} "
                  f"{a.size:>12}  {printable(a.path)}")
    return EXIT_OK


class _RawStopped(FaultError):
    """--raw stops at the first unreadable byte."""


def _cmd_read(backend: Backend, args) -> int:
    """Stream the range: a hex dump (holes as ``??``, long unreadable
    stretches as one line and ``*``), or with --raw the bytes themselves up
    to the first unreadable one. Memory stays bounded whatever the length.
    PROT_NONE pages are read as the kernel allows and named on stderr."""
    target = backend.attach(args.pid, args.backend, writable=False).result()
    if args.userfaultfd:
        target.set_read_userfaultfd(True).result()
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
                raise _RawStopped(f"stopped after {first.address - args.address} bytes: "
                                  f"{first.size} bytes unreadable: {first.reason}",
                                  op="read", errno=first.errno, address=first.address)
            if forced:
                note_no_access(address, len(view))
            out.write(view)
    else:
        dumper = HexDumper(args.address, args.address + args.length, out.write)

        def consume(address, view, holes, forced):
            if view is None:
                dumper.hole(holes[0])
                return
            if forced:
                note_no_access(address, len(view))
            dumper.data(address, view, holes)
    stats = target.read_stream(args.address, args.length, consume).result()
    if not args.raw:
        dumper.finish()
    out.flush()
    for start, end in no_access:
        print(f"lainview read: note: {end - start} bytes at {start:#x} are a no-access page "
              "(no read permission), read through the kernel's forced access", file=sys.stderr)
    for hole in stats.holes:
        err = LainviewError(f"{hole.size} bytes unreadable: {hole.reason}",
                            errno=hole.errno, address=hole.address)
        print(f"lainview read: {err}", file=sys.stderr)
    return EXIT_ERROR if stats.holes else EXIT_OK


def _cmd_write(backend: Backend, args) -> int:
    target = backend.attach(args.pid, args.backend).result()
    try:
        result = target.write(args.address, args.hexbytes).result()
    finally:
        _print_journal_notices(backend)
    print(f"old {result.old.hex(' ')}")
    print(f"new {result.new.hex(' ')}")
    print(f"wrote {counted(len(result.new), 'byte')} at {result.address:#x} (journal entry "
          f"{result.journal_id}; undo with: lainview revert {result.journal_id})")
    return EXIT_OK


def _print_journal_notices(backend: Backend) -> None:
    """Repairs the journal made while appending (a torn last line terminated)."""
    for notice in backend.journal.take_notices():
        print(f"lainview: note: {notice}", file=sys.stderr)


def _print_journal_problems(backend: Backend, problems) -> None:
    if problems:
        print(f"lainview: warning: {problems.summary(backend.journal.path)}", file=sys.stderr)


def _format_entry(e) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time))
    status = e.status or "unknown (the writer stopped before recording an outcome)"
    extra = f" reverts {e.reverts}" if e.reverts else ""
    if e.freeze:
        extra += f" ({e.freeze_text})"
    addr = f"{e.address:#x}" if e.address is not None else "-"
    return (f"{e.id:>5} {when} {printable(e.label)} {addr} {e.old.hex()} -> {e.new.hex()} "
            f"[{status}]{extra}")


def _cmd_journal(backend: Backend, args) -> int:
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
    _print_journal_problems(backend, problems)
    if wanted - seen:
        raise InvalidInput(f"no journal entry {min(wanted - seen)}"
                           + (f" for process {args.pid}" if args.pid else ""))
    if args.export:
        patch = patch_from_entries(selected)
        save_patch(patch, args.export)
        n = len(patch.writes)
        print(f"saved {n} write{'' if n == 1 else 's'} to {patch.exe or 'the program'} "
              f"as a patch in {args.export}")
        return EXIT_OK
    if args.json:
        out.write("\n]\n" if count else "[]\n")
        out.flush()
        return EXIT_OK
    if not count:
        whose = f" to process {args.pid}" if args.pid else ""
        print(f"no writes{whose} journaled in {backend.journal.path}", file=sys.stderr)
    return EXIT_OK


def _cmd_revert(backend: Backend, args) -> int:
    if sum((bool(args.entries), bool(args.pid), args.kernel)) != 1:
        print("lainview revert: give journal entry ids, --pid PID or --kernel (one of them)",
              file=sys.stderr)
        return EXIT_USAGE
    kernel_ids, process_ids = kcli.partition_entries(backend, args.entries)
    outcomes = []
    if args.kernel or kernel_ids:
        outcomes += kcli.revert_kernel(backend, args, kernel_ids or None)
    if args.pid or process_ids:
        outcomes += backend.revert(process_ids or None, pid=args.pid, force=args.force,
                                   backend=args.backend).result()
    _print_journal_notices(backend)
    _print_journal_problems(backend, backend.journal.problems)
    if not outcomes:
        print("nothing to revert", file=sys.stderr)
    failed = False
    for o in outcomes:
        print(f"entry {o.entry_id}: {o.status}: {o.message}")
        # A write to a process (or boot) that is gone cannot be undone: the revert failed.
        failed |= o.status in ("conflict", "failed", "gone")
    return EXIT_ERROR if failed else EXIT_OK


def _cmd_apply(backend: Backend, args) -> int:
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
    for o in report.outcomes:
        where = f"{o.address:#x}" if o.address is not None else "-"
        extra = f" (journal entry {o.journal_id})" if o.journal_id else ""
        print(f"{printable(o.location)} @ {where}: {o.action}"
              f"{': ' + one_line(o.message) if o.message else ''}{extra}")
    if args.dry_run:
        return EXIT_OK if all(o.action in ("would write", "already")
                              for o in report.outcomes) else EXIT_ERROR
    _print_journal_notices(backend)
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


def _scan_areas(args) -> "scan.AreaFilter":
    ranges = []
    for text in args.area:
        if "-" not in text:
            raise InvalidInput(f"--area takes START-END in hex, not {text!r}")
        lo, hi = (parse_address(t) for t in text.split("-", 1))
        if hi <= lo:
            raise InvalidInput(f"--area {text}: END must be above START")
        ranges.append((lo, hi))
    return scan.AreaFilter(include_readonly=args.include_readonly,
                           include_file_backed=args.include_file_backed,
                           include_shared=args.include_shared, ranges=tuple(ranges))


class _Stopped(BaseException):
    """SIGINT or SIGTERM arrived while a scan command ran."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _scan_scratch(backend: Backend):
    """The scan command's own private temporary directory, removed on every
    way out: success, an error, SIGINT or SIGTERM (raised as _Stopped in
    the main thread). Scan states made meanwhile (first scans, loaded
    sessions) put their working directories in it (``tempfile.tempdir``).
    The backend thread is shut down first, so no job writes into the
    directory while it is removed."""
    scratch = tempfile.mkdtemp(prefix="lainview-scan-")
    old_tempdir = tempfile.tempdir
    tempfile.tempdir = scratch
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        def stop(signum, _frame):
            raise _Stopped(signum)
        handlers = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield scratch
    finally:
        for sig in handlers:
            signal.signal(sig, signal.SIG_IGN)      # a second ^C must not cut the cleanup
        try:
            backend.shutdown()
        finally:
            tempfile.tempdir = old_tempdir
            shutil.rmtree(scratch, ignore_errors=True)
            for sig, handler in handlers.items():
                signal.signal(sig, handler)


def _cmd_scan(backend: Backend, args) -> int:
    if args.next or args.undo:
        if not args.session:
            raise InvalidInput("--next and --undo need --session FILE from an earlier scan")
        if not os.path.exists(args.session):
            raise InvalidInput(f"{args.session}: no such scan session (a first scan with "
                               f"--session {args.session} makes one)")
    elif args.session and os.path.lexists(args.session) and not args.force \
            and not scan.is_session_file(args.session):
        print(f"lainview scan: {args.session} exists and is not a lainview scan session: "
              "not overwritten (choose another file, or --force)", file=sys.stderr)
        return EXIT_USAGE
    progress = {"saved": False}
    try:
        with _scan_scratch(backend):
            return _scan(backend, args, progress)
    except _Stopped as stop:
        name = signal.Signals(stop.signum).name
        unsaved = args.session and not progress["saved"]
        print(f"lainview scan: stopped by {name}"
              + (f"; {args.session} was not changed" if unsaved else ""), file=sys.stderr)
        return 128 + stop.signum


def _scan(backend: Backend, args, progress: dict) -> int:
    """The scan command inside its scratch directory. Every state it loads
    or makes is closed on every way out (its snapshot store's spill files
    and descriptors released): on the backend thread as it shuts down, once
    no job uses the state any more (see _scan_scratch)."""
    limits = scan.ScanLimits(snapshot_memory=args.snapshot_memory << 20)
    skipped = None
    if args.next or args.undo:
        try:
            state = scan.load_state(args.session, limits=limits)
        except LainviewError:
            raise
        except (KeyError, IndexError, ValueError, TypeError, EOFError, OSError) as exc:
            # Whatever the file holds, the user gets one line, not a traceback.
            raise InvalidInput(f"{args.session} is not a valid lainview scan session "
                               f"({type(exc).__name__}: {exc})") from None
        if args.pid and args.pid != state.pid:
            raise InvalidInput(f"{args.session} holds a scan of process {state.pid}, "
                               f"not {args.pid}")
        backend.thread.call_on_shutdown(state.close)
        target = backend.attach(state.pid, args.backend, writable=False).result()
        if args.undo:
            state = target.scan_undo(state).result()
        else:
            cond = scan.make_condition(state.scan_type, args.next,
                                       args.value, tolerance=args.tolerance)
            state = target.scan_next(state, cond, limits=limits).result()
        backend.thread.call_on_shutdown(state.close)
    else:
        if args.pid is None or args.type is None:
            raise InvalidInput("a first scan needs PID and --type")
        scan_type = scan.ScanType(args.type, args.big_endian)
        if args.unknown:
            cond = scan.make_condition(scan_type, scan.Mode.UNKNOWN)
        elif args.value_range:
            cond = scan.make_condition(scan_type, scan.Mode.RANGE, args.value_range,
                                       tolerance=args.tolerance)
        elif args.value is not None:
            cond = scan.make_condition(scan_type, scan.Mode.EXACT, args.value,
                                       tolerance=args.tolerance)
        else:
            raise InvalidInput("a first scan needs --value, --range or --unknown")
        align = {"natural": None, "any": 1}.get(args.align)
        if align is None and args.align != "natural":
            align = int(parse_size(args.align))
            if align <= 0:
                raise InvalidInput("--align must be positive")
        areas = _scan_areas(args)
        target = backend.attach(args.pid, args.backend, writable=False).result()
        state = target.scan_first(scan_type, cond, align=align, areas=areas,
                                  limits=limits).result()
        backend.thread.call_on_shutdown(state.close)
        skipped = areas.skipped(target.areas().result())
    if args.session:
        scan.save_state(state, args.session)
        progress["saved"] = True
    shown = state.addresses(limit=args.limit).tolist()
    reads = target.read_many((a, state.item_size) for a in shown).result() if shown else []
    matches = []
    for address, r in zip(shown, reads):
        readable = not isinstance(r, LainviewError) and r.complete
        matches.append({"address": address,
                        "value": scan_value_json(state.scan_type, r.data) if readable else None,
                        "text": format_scan_value(state.scan_type, r.data) if readable
                        else "?? (unreadable)"})
    if args.json:
        report = {"pid": state.pid, "type": state.scan_type.name, "step": state.step,
                  "condition": state.condition, "count": state.count,
                  "scanned_bytes": state.scanned_bytes,
                  "unreadable_bytes": state.unreadable_bytes,
                  "vanished": [list(v) for v in state.vanished], "lost": state.lost,
                  "memory_bytes": state.memory_bytes, "disk_bytes": state.disk_bytes,
                  "matches": matches}
        if skipped is not None:
            report["skipped"] = skipped
        print(json.dumps(report, indent=1))
        return EXIT_OK
    print(f"step {state.step} ({state.condition}): {counted(state.count, 'match')} in "
          f"{human_size(state.scanned_bytes)} scanned, "
          f"{counted(state.unreadable_bytes, 'unreadable byte')} skipped"
          + (f", {counted(len(state.vanished), 'area')} vanished" if state.vanished else "")
          + (f", {counted(state.lost, 'candidate')} no longer mapped" if state.lost else ""))
    if skipped:
        print("  " + describe_skipped(skipped, " ".join(scan.SKIPPED_KINDS[k] for k in skipped)))
    for m in matches:
        print(f"  {m['address']:#018x}  {m['text']}")
    if state.count > len(matches):
        print(f"  ... {state.count - len(matches)} more (--limit)")
    return EXIT_OK


COMMANDS = {"ps": _cmd_ps, "maps": _cmd_maps, "read": _cmd_read, "write": _cmd_write,
            "journal": _cmd_journal, "revert": _cmd_revert, "scan": _cmd_scan,
            "apply": _cmd_apply,
            **kcli.KCOMMANDS, **desktop.DESKTOP_COMMANDS}


def run_cli(argv: list[str]) -> int:
    """Run one CLI command; its exit code: 0 done, 1 the operation failed,
    2 bad input (argparse's own errors and every InvalidInput). Other
    exceptions (BrokenPipeError, unexpected ones) go up to
    :func:`lainview.__main__.main`, which ends them in one line too."""
    parser = build_parser()
    args = parser.parse_args(argv)
    backend = Backend()
    try:
        code = COMMANDS[args.command](backend, args)
        sys.stdout.flush()      # a closed pipe shows here, not at interpreter exit
        return code
    except InvalidInput as exc:
        print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except LainviewError as exc:
        print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        try:
            backend.shutdown()
        except LainviewError as exc:    # stuck in a transfer the kernel never finishes
            print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)
