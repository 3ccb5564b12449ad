"""The CLI's grammar: every subcommand and argument, in one place.

Arguments are converted by the argparse types in :mod:`.argtypes` (process
ids, addresses, lengths, hex bytes, kernel names); a backend parser's
InvalidInput becomes argparse's usage error (exit 2). Addresses plug in
through ``ADDRESS`` below, value types through the registry
(``backend/value_types``), read when the parser is built.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from ..backend.kallsyms import type_letters
from ..backend.ksources import SourceNames
from ..backend.locations import parse_location
from ..backend.memory import parse_hex_bytes, parse_size
from ..backend import scan, value_types
from ..backend.service import BACKENDS
from .. import __version__, desktop
from .argtypes import (KERNEL_MODULE_ALIAS, argtype, count as count_arg, entry_id,
                       kernel_module_name, kernel_read_length, kernel_symbol_name,
                       pid as pid_arg)
from .output import EXIT_USAGE, one_line

GUI_USAGE = """\
Without a COMMAND, lainview opens its window:
  lainview --demo                     attach to a bundled live demo process
  lainview --pick                     choose a process from a list
  lainview --pid PID [--address LOC]  attach to PID (LOC: 0x…, libc.so.6+0x1f00, [heap]+0x10)
  lainview --session FILE             reopen a saved session on its program
  lainview --kernel                   open the kernel-symbol browser
  lainview --screenshot PATH          render the window (on the demo) to a PNG and exit
"""

# Where an address argument is parsed (read, write; scan --area in .scan):
# a location by the grammar of backend/locations.py, resolved once attached.
ADDRESS = argtype(parse_location)
ADDRESS_HELP = ("a location: 0x7f12a000, libc.so.6+0x1f00, [heap]+0x10, memfd:NAME+0x8 "
                "(offsets are hex; see Locations in the README)")


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr and exit 2:
    ``lainview read: argument length: not a length: '12x' (see lainview read --help)``.
    Sub-parsers inherit the class (argparse makes them with ``type(self)``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {one_line(message)} (see {self.prog} --help)\n")

    def parse_known_args(self, args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, but the value after an option of
        :data:`SIGNED_VALUE_OPTIONS` is taken as its value even when it
        starts with ``-``: argparse reads only ``-5`` and ``-1.5`` as
        numbers, so ``--value -1e3``, ``--value -inf``, ``--value -0x10`` and
        ``--range -10..-5`` were "expected one argument"."""
        if args is not None:
            args = _join_signed_values(list(args))
        return super().parse_known_args(args, namespace)


# Options whose value may be a negative number (or a range of them).
SIGNED_VALUE_OPTIONS = frozenset({"--value", "--range", "--tolerance"})


def _join_signed_values(args: list[str]) -> list[str]:
    """``--value -1e3`` as ``--value=-1e3`` (an option name, ``--x``, after
    one of these is left alone: the value is missing)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in SIGNED_VALUE_OPTIONS and i + 1 < len(args) \
                and args[i + 1].startswith("-") and not args[i + 1].startswith("--"):
            out.append(f"{args[i]}={args[i + 1]}")
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The kernel-source options, shared by the CLI and the GUI's parser."""
    parser.add_argument("--kmem", metavar="PATH",
                        help="the kmem device node (default: /dev/lainkmem, then /dev/kmem "
                             "if it answers the kmem ioctls)")
    parser.add_argument("--ksource", choices=SourceNames(), default="auto",
                        help="kernel source (default auto: the first that opens of kmem, "
                             "image (with --image), kcore, kallsyms: symbols only)")
    parser.add_argument("--image", action="append", default=[], metavar="PATH",
                        help="an offline kernel: vmlinux, System.map or ELF vmcore "
                             "(repeat to combine a vmlinux with a vmcore)")


def build_parser() -> argparse.ArgumentParser:
    """The ``lainview`` parser with every subcommand (``args.command`` names it)."""
    parser = ArgumentParser(
        prog="lainview", description="Inspect and edit the memory of Linux processes.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=GUI_USAGE)
    parser.add_argument("--version", action="version", version=f"lainview {__version__}")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="process-memory backend (default: lainmemu if loaded, else /proc)")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_process_commands(sub)
    _add_scan_command(sub)
    _add_kernel_commands(sub)
    desktop.add_subcommands(sub)
    return parser


def _add_process_commands(sub: Any) -> None:
    p = sub.add_parser("ps", help="list processes and whether lainview can attach")
    p.add_argument("--json", action="store_true")
    p.add_argument("-w", "--wide", action="store_true",
                   help="whole command lines (by default each line is cut to the terminal's width)")

    p = sub.add_parser("maps", help="the memory areas of a process")
    p.add_argument("pid", type=pid_arg)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("read", help="hex dump (or raw bytes) of a range of a process's memory")
    p.add_argument("pid", type=pid_arg)
    p.add_argument("address", type=ADDRESS, help=ADDRESS_HELP)
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
    p.add_argument("address", type=ADDRESS, help=ADDRESS_HELP)
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
    p.add_argument("--kernel", action="store_true",
                   help="revert every journaled kernel write")


def _add_scan_command(sub: Any) -> None:
    p = sub.add_parser("scan", help="find the addresses that hold a value, then narrow them",
                       description="First scan: PID with --value, --range or --unknown. "
                       "Next scans: --session FILE --next MODE. The session file keeps "
                       "the scan between invocations.")
    p.add_argument("pid", type=pid_arg, nargs="?", help="the target (first scan)")
    p.add_argument("--type", choices=value_types.names(), help="value type (first scan)")
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
                   help="scan only this range, END excluded (repeatable); START and END are "
                        "locations (0x7f12a000, [heap]+0x100); write START..END when one "
                        "holds a '-'")
    p.add_argument("--session", metavar="FILE", help="load/save the scan state here")
    p.add_argument("--force", action="store_true",
                   help="let a first scan overwrite a --session FILE that is not a scan session")
    p.add_argument("--snapshot-memory", type=count_arg, metavar="MiB",
                   default=scan.ScanLimits().snapshot_memory >> 20,
                   help="compressed snapshots kept in memory before the rest spills to "
                   "0600 files under $TMPDIR (default %(default)s)")
    p.add_argument("--limit", type=count_arg, default=50, help="matches to print (default 50)")
    p.add_argument("--json", action="store_true")


def _add_kernel_commands(sub: Any) -> None:
    p = sub.add_parser("ksyms", help="list kernel symbols (name, address, type, module)")
    p.add_argument("pattern", nargs="?",
                   help="substring (case-insensitive), or a glob if it has * ? [")
    p.add_argument("--regex", action="store_true", help="PATTERN is a regular expression")
    p.add_argument("--module", metavar="M",
                   help=f"only this module's symbols ({KERNEL_MODULE_ALIAS}: the kernel proper)")
    p.add_argument("--type", metavar="T", type=argtype(type_letters),
                   help="type letters (T, t, D, ...) or words: text, data, bss, rodata, "
                        "weak, global, local (comma-separated)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("kread", help="read a kernel variable by name")
    p.add_argument("symbol", type=argtype(kernel_symbol_name))
    p.add_argument("length", nargs="?", type=argtype(kernel_read_length),
                   help="bytes (default: the distance to the next symbol, at most 256)")
    p.add_argument("--module", metavar="M", type=argtype(kernel_module_name),
                   help="look the symbol up only in this module")
    p.add_argument("--indirect", action="store_true",
                   help="the symbol holds a pointer: read where it points")
    p.add_argument("--raw", action="store_true", help="write the bytes to stdout")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("kwrite", help="patch a kernel variable by name (journaled; needs --yes)")
    p.add_argument("symbol", type=argtype(kernel_symbol_name))
    p.add_argument("hexbytes", type=argtype(parse_hex_bytes), help='e.g. "de ad be ef"')
    p.add_argument("--module", metavar="M", type=argtype(kernel_module_name))
    p.add_argument("--indirect", action="store_true",
                   help="write where the pointer stored at SYMBOL points")
    p.add_argument("--yes", action="store_true",
                   help="really write (without it, show what would be written)")

    p = sub.add_parser("kmod", help="loaded kernel modules; hold and release them")
    p.add_argument("action", choices=("list", "hold", "release"))
    p.add_argument("name", nargs="?", type=argtype(kernel_module_name))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("kinfo", help="the kernel source lainview would use and what it can do")
    p.add_argument("--json", action="store_true")
