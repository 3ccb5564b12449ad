"""The command-line interface: the same backend as the GUI, without Qt.

    lainview ps [--json]
    lainview maps PID [--json]
    lainview read PID ADDR LEN [--raw]
    lainview write PID ADDR HEXBYTES
    lainview journal [--pid PID] [--json]
    lainview revert ENTRY... | --pid PID | --kernel [--force]
    lainview ksyms | kread | kwrite | kmod | kinfo   (kernel symbols: see kcli.py)

With no subcommand, lainview opens the GUI.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from .backend.errors import LainviewError
from .backend.memory import ReadResult, parse_address, parse_hex_bytes, parse_size
from .backend.service import BACKENDS, Backend
from . import kcli

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _pid(text: str) -> int:
    try:
        pid = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}") from None
    if pid <= 0:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}")
    return pid


def _arg(parser_fn):
    def convert(text: str):
        try:
            return parser_fn(text)
        except LainviewError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None
    convert.__name__ = parser_fn.__name__
    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lainview", description="Inspect and edit the memory of Linux processes.")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="process-memory backend (default: lainmemu if loaded, else /proc)")
    kcli.add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ps", help="list processes and whether lainview can attach")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("maps", help="the memory areas of a process")
    p.add_argument("pid", type=_pid)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("read", help="hex dump (or raw bytes) of a range of a process's memory")
    p.add_argument("pid", type=_pid)
    p.add_argument("address", type=_arg(parse_address), help="hex, with or without 0x")
    p.add_argument("length", type=_arg(parse_size), help="decimal, or hex with 0x")
    p.add_argument("--raw", action="store_true", help="write the bytes to stdout")

    p = sub.add_parser("write", help="write bytes into a process's memory (journaled)")
    p.add_argument("pid", type=_pid)
    p.add_argument("address", type=_arg(parse_address), help="hex, with or without 0x")
    p.add_argument("hexbytes", type=_arg(parse_hex_bytes), help='e.g. "de ad be ef"')

    p = sub.add_parser("journal", help="list journaled writes")
    p.add_argument("--pid", type=_pid)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("revert", help="undo journaled writes, newest first")
    p.add_argument("entries", nargs="*", type=int, metavar="ENTRY")
    p.add_argument("--pid", type=_pid, help="revert every write to this process")
    p.add_argument("--force", action="store_true",
                   help="revert even where the memory changed since the write")
    kcli.add_revert_option(p)
    kcli.add_subcommands(sub)
    return parser


def hexdump(result: ReadResult, width: int = 16) -> str:
    """Classic dump; unreadable bytes are ``??`` (never 00) and ``?`` in ASCII."""
    lines = []
    start = result.address - result.address % width
    end = result.address + result.size
    for row in range(start, end, width):
        cells, text = [], []
        for addr in range(row, row + width):
            if not result.address <= addr < end:
                cells.append("  ")
                text.append(" ")
                continue
            value = result.byte_at(addr)
            if value is None:
                cells.append("??")
                text.append("?")
            else:
                cells.append(f"{value:02x}")
                text.append(chr(value) if 0x20 <= value < 0x7F else ".")
        half = width // 2
        lines.append(f"{row:016x}  {' '.join(cells[:half])}  {' '.join(cells[half:])}  "
                     f"|{''.join(text)}|")
    return "\n".join(lines)


def _cmd_ps(backend: Backend, args) -> int:
    procs = backend.list_processes().result()
    if args.json:
        print(json.dumps([p.to_json() for p in procs], indent=1))
        return EXIT_OK
    print(f"{'PID':>7} {'USER':<10} {'RSS':>9}  {'ATTACH':<6} COMMAND")
    for p in procs:
        mark = "yes" if p.attachable else "no"
        line = f"{p.pid:>7} {p.user[:10]:<10} {p.rss // 1024:>7}K  {mark:<6} {p.cmdline or p.name}"
        if not p.attachable:
            line += f"   [{p.reason.split(':')[0]}]"
        print(line)
    return EXIT_OK


def _cmd_maps(backend: Backend, args) -> int:
    target = backend.attach(args.pid, args.backend, writable=False).result()
    areas = target.areas().result()
    if args.json:
        print(json.dumps([a.to_json() for a in areas], indent=1))
    else:
        print(f"# pid {args.pid}, backend {target.info.reason}", file=sys.stderr)
        for a in areas:
            print(f"{a.start:016x}-{a.end:016x} {a.perms.letters} {a.offset:08x} "
                  f"{a.size:>12}  {a.path}")
    return EXIT_OK


def _cmd_read(backend: Backend, args) -> int:
    target = backend.attach(args.pid, args.backend, writable=False).result()
    result = target.read(args.address, args.length).result()
    if args.raw:
        if result.complete:
            sys.stdout.buffer.write(result.data)
            sys.stdout.buffer.flush()
    else:
        print(hexdump(result))
    if not result.complete:
        for hole in result.holes:
            err = LainviewError(f"{hole.size} bytes unreadable: {hole.reason}",
                                errno=hole.errno, address=hole.address)
            print(f"lainview: read: {err}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _cmd_write(backend: Backend, args) -> int:
    target = backend.attach(args.pid, args.backend).result()
    result = target.write(args.address, args.hexbytes).result()
    print(f"old {result.old.hex(' ')}")
    print(f"new {result.new.hex(' ')}")
    print(f"wrote {len(result.new)} bytes at {result.address:#x} (journal entry "
          f"{result.journal_id}; undo with: lainview revert {result.journal_id})")
    return EXIT_OK


def _cmd_journal(backend: Backend, args) -> int:
    entries = backend.journal_entries(args.pid).result()
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=1))
        return EXIT_OK
    if not entries:
        print(f"no writes journaled in {backend.journal.path}", file=sys.stderr)
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time))
        status = e.status or "unknown (the writer stopped before recording an outcome)"
        extra = f" reverts {e.reverts}" if e.reverts else ""
        addr = f"{e.address:#x}" if e.address is not None else "-"
        print(f"{e.id:>5} {when} {e.label} {addr} {e.old.hex()} -> {e.new.hex()} "
              f"[{status}]{extra}")
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
    if not outcomes:
        print("nothing to revert", file=sys.stderr)
    failed = False
    for o in outcomes:
        print(f"entry {o.entry_id}: {o.status}: {o.message}")
        failed |= o.status in ("conflict", "failed")
    return EXIT_ERROR if failed else EXIT_OK


COMMANDS = {"ps": _cmd_ps, "maps": _cmd_maps, "read": _cmd_read, "write": _cmd_write,
            "journal": _cmd_journal, "revert": _cmd_revert, **kcli.KCOMMANDS}


def run_cli(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    backend = Backend()
    try:
        return COMMANDS[args.command](backend, args)
    except LainviewError as exc:
        print(f"lainview {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    finally:
        backend.shutdown()
