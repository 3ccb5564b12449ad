"""The CLI's grammar: every subcommand and argument, in one place.

``SUBCOMMANDS`` names each subcommand, its one-line help, the function that
declares its arguments and the function that runs it (``module:function``,
imported only when that command runs). Arguments are converted by the
argparse types in :mod:`.argtypes`; a backend parser's InvalidInput becomes
argparse's usage error (exit 2). Addresses plug in through ``ADDRESS`` (the
grammar of backend/locations.py), value types through the registry
(``backend/value_types``, in ``_scan_arguments``).

Start-up: a parser built with ``lazy=True`` declares a subcommand's
arguments only when that subcommand is parsed, so ``lainview maps`` never
imports the scanner (numpy) or the kernel readers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from ..backend.errors import InvalidInput
from ..backend.memory import parse_hex_bytes, parse_size
from ..backend.process_memory import BACKENDS
from .argtypes import (KERNEL_MODULE_ALIAS, argtype, count as count_arg, entry_id,
                       kernel_location, kernel_module_name, kernel_read_length,
                       pid as pid_arg)
from .output import EXIT_USAGE, one_line

if TYPE_CHECKING:
    from ..backend.locations import Location

GUI_USAGE = """\
Without a COMMAND, lainview opens its window:
  lainview --demo                     attach to a bundled live demo process
  lainview --pick                     choose a process from a list
  lainview --pid PID [--address LOC]  attach to PID (LOC: 0x…, libc.so.6+0x1f00, [heap]+0x10)
  lainview --session FILE             reopen a saved session on its program
  lainview --kernel                   open the kernel-symbol browser
  lainview --screenshot PATH          render the window (on the demo) to a PNG and exit
"""

def parse_location(text: str) -> Location:
    """backend/locations.py's parser, imported when an address is parsed
    (ps and maps take none)."""
    from ..backend.locations import parse_location as parse
    return parse(text)


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
        self._usage_error(self, message)

    def _usage_error(self, parser: argparse.ArgumentParser, message: str) -> NoReturn:
        """``message`` as ``parser`` (this one or a subcommand's) says it,
        with this parser's hint about misplaced global options."""
        self.exit(EXIT_USAGE, f"{parser.prog}: {one_line(message)}{self._misplaced(message)} "
                              f"(see {parser.prog} --help)\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but arguments left over after a subcommand are
        reported as that subcommand's (``lainview read: unrecognized
        arguments: 16``), with its help to see."""
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            command = getattr(parsed, "command", None)
            subparser = next((a.choices[command] for a in self._actions
                              if isinstance(a, argparse._SubParsersAction)
                              and command in a.choices), self)
            self._usage_error(subparser, f"unrecognized arguments: {' '.join(extra)}")
        return parsed

    def _misplaced(self, message: str) -> str:
        """A hint when an unrecognized argument is one of this parser's own
        options given after the command (``lainview kinfo --ksource kcore``)."""
        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        given = [arg.split("=", 1)[0] for arg in message[len(prefix):].split()]
        ours = [arg for arg in given if arg.startswith("--") and arg not in ("--help", "--version")
                and arg in self._option_string_actions]
        if not ours:
            return ""
        return (f"; {ours[0]} is a global option: give it before the command "
                f"({self.prog} {ours[0]} ... COMMAND ...)")


# Options whose value may be a negative number (or a range of them).
SIGNED_VALUE_OPTIONS = frozenset({"--value", "--range", "--tolerance"})


def join_signed_values(args: Sequence[str]) -> list[str]:
    """``args`` with ``--value -1e3`` as ``--value=-1e3``: the value after an
    option of :data:`SIGNED_VALUE_OPTIONS` is taken as its value even when
    it starts with ``-`` (argparse reads only ``-5`` and ``-1.5`` as
    numbers, so ``--value -1e3``, ``--value -inf``, ``--value -0x10`` and
    ``--range -10..-5`` were "expected one argument"). An option name
    (``--x``) after one is left alone: the value is missing."""
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


class LazyChoices(Sequence[str]):
    """``choices`` for argparse read from ``load()`` when first needed (a
    value to check, a help or usage line): the module that knows them is
    imported only then."""

    def __init__(self, load: Callable[[], Sequence[str]]):
        self._load = load

    def _choices(self) -> Sequence[str]:
        return self._load()

    def __getitem__(self, index: Any) -> Any:
        return self._choices()[index]

    def __len__(self) -> int:
        return len(self._choices())

    def __iter__(self) -> Iterator[str]:
        return iter(self._choices())

    def __contains__(self, value: object) -> bool:
        return value in self._choices()


def _kernel_sources() -> Sequence[str]:
    """The registry's source names (a live view: read on every use)."""
    from ..backend.ksources import SourceNames
    return list(SourceNames())


# The global options that take a value (a separate token: --image vmlinux).
VALUE_OPTIONS = ("--backend", "--kmem", "--ksource", "--image")


def subcommand_in(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (the first token that is neither an
    option nor a global option's value), None when there is none."""
    tokens = iter(argv)
    for token in tokens:
        if token in VALUE_OPTIONS:
            next(tokens, None)
        elif not token.startswith("-"):
            return token if token in SUBCOMMANDS else None
    return None


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """The kernel-source options, shared by the CLI and the GUI's parser."""
    parser.add_argument("--kmem", metavar="PATH",
                        help="the kmem device node (default: /dev/lainkmem, then /dev/kmem "
                             "if it answers the kmem ioctls)")
    # A metavar keeps argparse from reading the choices while it builds the parser.
    parser.add_argument("--ksource", choices=LazyChoices(_kernel_sources), default="auto",
                        metavar="SOURCE",
                        help="kernel source: %(choices)s (default auto: the first that opens "
                             "of kmem, image (with --image), kcore, kallsyms: symbols only)")
    parser.add_argument("--image", action="append", default=[], metavar="PATH",
                        help="an offline kernel: vmlinux, System.map or ELF vmcore "
                             "(repeat to combine a vmlinux with a vmcore)")


Declare = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Subcommand:
    """One subcommand: its one-line ``help``, the function that declares its
    arguments, the ``module:function`` that runs it (``function(backend,
    args) -> exit code``), an ``example`` shown by its ``--help``, and an
    optional longer ``description``. ``kernel`` False: the command never
    uses a kernel source, so a kernel option given with it (--ksource,
    --kmem, --image) is refused instead of ignored. ``facade`` False: the
    command does its one short job without the backend facade and its
    thread (``function(args)``; it attaches with backend/attach.py):
    start-up."""
    help: str
    declare: Declare
    run: str
    example: str
    description: str | None = None
    kernel: bool = True
    facade: bool = True


class _Formatter(argparse.HelpFormatter):
    """Fills each line of a description or epilog on its own; a line that
    starts with a space (a command in an example) is kept as it is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line if line.startswith(" ") or not line
                         else super(_Formatter, self)._fill_text(line, width, indent)
                         for line in text.splitlines())


class _Subcommands(argparse._SubParsersAction):
    """Subparsers whose arguments a lazy parser declares only once that
    subcommand is the one given (see build_parser)."""

    pending: dict[str, Declare]

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        declare = self.pending.pop(values[0], None) if values else None
        if declare is not None:
            declare(self.choices[values[0]])
        super().__call__(parser, namespace, values, option_string)


def check_kernel_options(args: argparse.Namespace) -> None:
    """InvalidInput when a kernel option (--ksource, --kmem, --image) is
    given to a command that never uses a kernel source (``lainview --image
    vmlinux maps 1``): refused, not silently ignored."""
    spec = SUBCOMMANDS.get(args.command)
    if spec is None or spec.kernel:
        return
    given = [flag for flag, value in (("--ksource", getattr(args, "ksource", "auto") != "auto"),
                                      ("--kmem", getattr(args, "kmem", None) is not None),
                                      ("--image", bool(getattr(args, "image", None))))
             if value]
    if given:
        raise InvalidInput(f"{given[0]} is a kernel option and {args.command} does not use "
                           f"the kernel: drop {given[0]}")


def build_parser(lazy: bool = False, only: str | None = None) -> argparse.ArgumentParser:
    """The ``lainview`` parser with every subcommand (``args.command`` names
    it). ``lazy``: declare a subcommand's arguments only when it is parsed
    (for running one command; the whole grammar is there otherwise).
    ``only``: make just this subcommand's parser (the one being run: each
    costs argparse's message-catalogue lookups at start-up); the top-level
    help and its list of commands need them all."""
    parser = ArgumentParser(
        prog="lainview", description="Inspect and edit the memory of Linux processes.",
        formatter_class=_Formatter, epilog=GUI_USAGE)
    parser.register("action", "parsers", _Subcommands)
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="process-memory backend (default: lainmemu if loaded, else /proc)")
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    assert isinstance(sub, _Subcommands)
    sub.pending = {}
    for name, spec in SUBCOMMANDS.items():
        if only is not None and name != only:
            continue
        p = sub.add_parser(name, help=spec.help, description=spec.description or spec.help,
                           epilog="example:\n" + spec.example, formatter_class=_Formatter)
        if lazy:
            sub.pending[name] = spec.declare
        else:
            spec.declare(p)
    return parser


class _VersionAction(argparse._VersionAction):
    """``--version``: ``lainview VERSION``, the package metadata read only then."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> NoReturn:
        from .. import __version__
        self.version = f"lainview {__version__}"
        super().__call__(parser, namespace, values, option_string)
        raise AssertionError("unreachable: argparse's version action exits")


# -- the subcommands' arguments ------------------------------------------------------------

def _json(p: argparse.ArgumentParser | Any, shape: str) -> None:
    """``--json``: what the command prints instead, for scripts (errors stay
    text on stderr, with the same exit codes)."""
    p.add_argument("--json", action="store_true", help=f"print JSON instead: {shape}")


def _pid(p: argparse.ArgumentParser, help: str = "the target process id") -> None:
    p.add_argument("pid", type=pid_arg, help=help)


def _ps_arguments(p: argparse.ArgumentParser) -> None:
    _json(p, "a list of {pid, name, user, cmdline, rss, attachable, reason, exe}")
    p.add_argument("-w", "--wide", action="store_true",
                   help="whole command lines (by default each line is cut to the terminal's width)")


def _maps_arguments(p: argparse.ArgumentParser) -> None:
    _pid(p)
    _json(p, "a list of {start, end, perms, offset, path}, one area a line")


def _read_arguments(p: argparse.ArgumentParser) -> None:
    _pid(p)
    p.add_argument("address", type=ADDRESS, help=ADDRESS_HELP)
    p.add_argument("length", nargs="?", type=argtype(parse_size),
                   help="decimal, or hex with 0x; any length whose range ends within the "
                        "64-bit address space (streamed; unmapped stretches are skipped); "
                        "not with --type (the type's size is read)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--raw", action="store_true",
                     help="write the bytes to stdout (up to the first unreadable one)")
    _json(how, "{pid, address, length, chunks: [{address, data: hex}] (the readable runs), "
               "holes: [[address, size, reason]], no_access: [[address, size]]}; with "
               "--type: {pid, location, address, type, size, value: {offset, address, type, "
               "size, value, fields: {NAME: ...} | elements: [...]}}")
    p.add_argument("--type", dest="ctype", metavar="CTYPE",
                   help="show the memory as this C type, a tree of fields ('struct player', "
                        "'uint32_t[4]', 'struct item *'); a struct, union, enum or typedef "
                        "comes from --c-header or --dwarf; 'auto': the global variable "
                        "holding the address, typed from its module's DWARF (the default "
                        "with --dwarf)")
    p.add_argument("--c-header", metavar="FILE",
                   help="a C header declaring the types --type names (not preprocessed: "
                        "#include lines are skipped; <stdint.h> names are known)")
    p.add_argument("--dwarf", metavar="ELF",
                   help="take the types --type names from this ELF file's DWARF debug "
                        "information (built with -g) instead of a header; without --type: "
                        "type the global at the address from it (a separate debug file)")
    p.add_argument("--follow", metavar="N", type=int, default=1,
                   help="with --type: follow pointers to structs N levels deep (default 1; "
                        "0: show pointers only; at most 16)")
    p.add_argument("--userfaultfd", action="store_true",
                   help="also read areas the target registered with userfaultfd (a page "
                        "it has not filled blocks the read until it does)")


def _write_arguments(p: argparse.ArgumentParser) -> None:
    _pid(p)
    p.add_argument("address", type=ADDRESS, help=ADDRESS_HELP)
    p.add_argument("hexbytes", type=argtype(parse_hex_bytes), help='e.g. "de ad be ef"')
    _json(p, "{pid, address, old: hex, new: hex, journal_id} (journal_id null: the memory "
             "already held the bytes, so nothing was written or journaled)")


def _watchpoint_arguments(p: argparse.ArgumentParser) -> None:
    _pid(p)
    p.add_argument("location", type=ADDRESS, help=ADDRESS_HELP + "; aligned to --len")
    p.add_argument("--len", type=int, choices=(1, 2, 4, 8), default=4, metavar="{1,2,4,8}",
                   help="bytes watched from LOCATION (1, 2, 4 or 8; default 4)")
    p.add_argument("--access", action="store_true",
                   help="report reads too (by default only writes)")
    p.add_argument("--registers", action="store_true",
                   help="also record the user registers: each instruction shows those of "
                        "its latest hit (JSON: registers {name: value})")
    p.add_argument("--seconds", type=argtype(_positive_seconds), default=None, metavar="S",
                   help="stop after S seconds (by default: at ^C or when the process exits)")
    _json(p, "{pid, address, length, access, seconds, total, lost, throttled, threads, ended, "
             "hits: [{ip, address, location, symbol, hits, threads, instruction}]}")


def _positive_seconds(text: str) -> float:
    from ..backend.errors import InvalidInput
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 1e9:
        raise InvalidInput(f"seconds must be more than 0: {text!r}")
    return value


def _journal_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pid", type=pid_arg, help="only the writes to this process")
    _json(p, "a list of journal entries, one a line (with --export: {patch, exe, writes})")
    p.add_argument("--export", metavar="PATCH",
                   help="write the listed process writes (one program: use --pid or "
                        "--entries) to a patch file for `lainview apply`")
    p.add_argument("--entries", type=entry_id, nargs="+", metavar="ID",
                   help="with --export: only these entries")


def _apply_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("patch", metavar="PATCH",
                   help="a patch file (from `lainview journal --export` or the GUI)")
    p.add_argument("--pid", type=pid_arg,
                   help="the process (default: the one running the patch's program)")
    p.add_argument("--dry-run", action="store_true", help="check every write, write nothing")
    p.add_argument("--force", action="store_true",
                   help="write even where the bytes are not the patch's old bytes")
    _json(p, "{pid, patch, dry_run, applied, outcomes: [{location, address, action, "
             "message, journal_id}]}")


def _revert_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("entries", nargs="*", type=entry_id, metavar="ENTRY",
                   help="journal entry ids (as `lainview journal` lists them)")
    p.add_argument("--pid", type=pid_arg, help="revert every write to this process")
    p.add_argument("--force", action="store_true",
                   help="revert even where the memory changed since the write")
    p.add_argument("--kernel", action="store_true",
                   help="revert every journaled kernel write")
    _json(p, "a list of {entry_id, status, message, new_entry_id}")


def _ptrscan_arguments(p: argparse.ArgumentParser) -> None:
    from ..backend import value_types
    p.add_argument("pid", type=pid_arg, nargs="?",
                   help="the target process (with --rescan: the process to filter against)")
    p.add_argument("location", type=ADDRESS, nargs="?",
                   help="where the value is now: " + ADDRESS_HELP)
    p.add_argument("--depth", type=count_arg, default=5, metavar="N",
                   help="at most N pointers followed from a static base (1-16, default 5)")
    p.add_argument("--max-offset", type=argtype(parse_size), default=0x1000, metavar="N",
                   help="at most N bytes from where a pointer points to the next address "
                        "(decimal, or hex with 0x; default 0x1000)")
    p.add_argument("--stacks", action="store_true",
                   help="also take thread stacks as bases (an offset below each thread's "
                        "stack top: [stack#N]-0x..., N: 0 the main thread, then the others "
                        "in creation order)")
    p.add_argument("--limit", type=count_arg, default=1000, metavar="N",
                   help="list (and save) at most N paths (up to 100,000), shortest first; "
                        "all are counted (default 1000)")
    p.add_argument("--session", metavar="FILE",
                   help="save the paths to this pointer-scan file (0600); with --rescan: "
                        "read them from it and write back the ones kept")
    p.add_argument("--rescan", action="store_true",
                   help="keep the paths of --session FILE that, in process PID now, lead to "
                        "LOCATION (or to an address holding --value)")
    p.add_argument("--value", help="with --rescan and --type: keep paths leading to an "
                                   "address holding this value")
    p.add_argument("--type", choices=value_types.names(), help="the type of --value")
    _json(p, "{pid, address, total, by_depth, listed, paths: [{path, base, offsets, "
             "resolved}], map: {pointers, memory_bytes, disk_bytes, scanned_bytes}}")


def _scan_arguments(p: argparse.ArgumentParser) -> None:
    from ..backend import scan, value_types
    p.add_argument("pid", type=pid_arg, nargs="?", help="the target (first scan)")
    p.add_argument("--type", choices=value_types.names(), help="value type (first scan)")
    p.add_argument("--big-endian", action="store_true",
                   help="the value is stored big-endian (default: little-endian)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--value", help="the value: a number, hex bytes with ?? wildcards, "
                      "or text for utf8/utf16le")
    what.add_argument("--range", dest="value_range", metavar="LO..HI",
                      help="any value from LO to HI, both included")
    what.add_argument("--unknown", action="store_true", help="unknown initial value")
    p.add_argument("--next", choices=[m.value for m in scan.NEXT_MODES],
                   help="narrow the session's scan")
    p.add_argument("--undo", action="store_true", help="go back one step in the session")
    p.add_argument("--align", default="natural",
                   help="'natural' (the type's size, default), 'any', or a number of bytes")
    p.add_argument("--tolerance", type=float, help="for f32/f64")
    p.add_argument("--include-readonly", action="store_true",
                   help="also scan areas the target cannot write")
    p.add_argument("--include-file-backed", action="store_true",
                   help="also scan areas mapped from files (libraries, the program)")
    p.add_argument("--include-shared", action="store_true",
                   help="also scan shared mappings")
    p.add_argument("--area", action="append", default=[], metavar="START-END",
                   help="scan only the pages of this range (START rounded down, END up, "
                        "to whole pages; repeatable); START and END are locations "
                        "(0x7f12a000, [heap]+0x100); write START..END when one holds a '-'")
    p.add_argument("--session", metavar="FILE", help="load/save the scan state here")
    p.add_argument("--force", action="store_true",
                   help="let a first scan overwrite a --session FILE that is not a scan session")
    p.add_argument("--snapshot-memory", type=count_arg, metavar="MiB",
                   default=scan.ScanLimits().snapshot_memory >> 20,
                   help="compressed snapshots kept in memory before the rest spills to "
                   "0600 files under $TMPDIR (default %(default)s)")
    p.add_argument("--limit", type=count_arg, default=50, help="matches to print (default 50)")
    _json(p, "{pid, type, step, condition, count, ..., matches: [{address, value, text}]}")


def _syms_arguments(p: argparse.ArgumentParser) -> None:
    _pid(p)
    p.add_argument("pattern", nargs="?",
                   help="substring (case-insensitive), or a glob if it has * ? [ "
                        "(default: every symbol)")
    p.add_argument("--regex", action="store_true", help="PATTERN is a regular expression")
    p.add_argument("--module", metavar="M",
                   help="only this module's symbols (its file name, e.g. libc.so.6, or path)")
    p.add_argument("--modules", action="store_true",
                   help="list the mapped modules (name, base, size, symbol counts, path) "
                        "instead of symbols")
    p.add_argument("--limit", type=count_arg, default=1000,
                   help="symbols to print at most (default %(default)s)")
    _json(p, "a list of {module, path, name, address, offset, size, type, exported}; with "
             "--modules a list of {name, path, base, size, symbols, exported, problem}")


def _instruction_count(text: str) -> int:
    from ..backend.service import MAX_DISASSEMBLE
    value = count_arg(text)
    if not 1 <= value <= MAX_DISASSEMBLE:
        raise argparse.ArgumentTypeError(f"not 1 .. {MAX_DISASSEMBLE}: {text!r}")
    return value


def _disasm_arguments(p: argparse.ArgumentParser) -> None:
    from ..backend.service import MAX_DISASSEMBLE
    _pid(p)
    p.add_argument("address", type=ADDRESS, metavar="location",
                   help=ADDRESS_HELP + "; the first line is the instruction covering it, "
                   "decoded from the symbol (or area) that holds it")
    p.add_argument("count", nargs="?", type=_instruction_count, default=16,
                   help=f"instructions to decode (1 .. {MAX_DISASSEMBLE}, default %(default)s)")
    p.add_argument("--exact", action="store_true",
                   help="decode from LOCATION itself, even inside an instruction")
    _json(p, "a list of {address, location, bytes: hex, mnemonic, operands, target, "
             "target_kind, target_location}")


def _ksyms_arguments(p: argparse.ArgumentParser) -> None:
    from ..backend.kallsyms import type_letters
    p.add_argument("pattern", nargs="?",
                   help="substring (case-insensitive), or a glob if it has * ? [")
    p.add_argument("--regex", action="store_true", help="PATTERN is a regular expression")
    p.add_argument("--module", metavar="M",
                   help=f"only this module's symbols ({KERNEL_MODULE_ALIAS}: the kernel proper)")
    p.add_argument("--type", metavar="T", type=argtype(type_letters),
                   help="type letters (T, t, D, ...) or words: text, data, bss, rodata, "
                        "weak, global, local (comma-separated)")
    _json(p, "a list of {name, address, type, meaning, module, size} (address null "
             "when hidden)")


def _kread_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("symbol", type=argtype(kernel_location), metavar="LOCATION",
                   help="kernel:[MODULE:]SYMBOL[+offset], or SYMBOL[+offset] (a symbol as "
                        "`lainview ksyms` lists it; the offset counts from its first byte)")
    p.add_argument("length", nargs="?", type=argtype(kernel_read_length),
                   help="bytes (default: the distance to the next symbol, at most 256)")
    p.add_argument("--module", metavar="M", type=argtype(kernel_module_name),
                   help="look the symbol up only in this module")
    p.add_argument("--indirect", action="store_true",
                   help="the symbol holds a pointer: read where it points")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--raw", action="store_true", help="write the bytes to stdout")
    _json(how, "{symbol, module, indirect, address, pointer, via, data: hex, "
               "holes: [[address, size, reason]]}; with --type also value: {offset, "
               "address, type, size, value, fields | elements}")
    p.add_argument("--type", dest="ctype", metavar="CTYPE",
                   help="show the variable as this kernel type from BTF "
                        "('struct uts_namespace', 'u64'; see lainview ktype); LENGTH is "
                        "then the type's size; 'auto': the variable's type from the DWARF "
                        "of an --image vmlinux built with debug information")


def _ktype_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="a type of the kernel's BTF: 'struct uts_namespace', "
                                "'uts_namespace' (struct, union, enum or typedef), 'u32'")
    p.add_argument("--module", metavar="M", type=argtype(kernel_module_name),
                   help="look in this module's BTF too (/sys/kernel/btf/M)")
    p.add_argument("--search", action="store_true",
                   help="list the type names containing NAME instead (type-ahead)")
    _json(p, "{name, kind, size, align, c, fields: [{name, offset, size, type, bit_offset, "
             "bit_size}]}; with --search a list of names")


def _kwrite_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("symbol", type=argtype(kernel_location), metavar="LOCATION",
                   help="kernel:[MODULE:]SYMBOL or SYMBOL (a symbol as `lainview ksyms` "
                        "lists it; kernel writes start at the symbol, so no offset)")
    p.add_argument("hexbytes", type=argtype(parse_hex_bytes), help='e.g. "de ad be ef"')
    p.add_argument("--module", metavar="M", type=argtype(kernel_module_name),
                   help="look the symbol up only in this module")
    p.add_argument("--indirect", action="store_true",
                   help="write where the pointer stored at SYMBOL points")
    p.add_argument("--yes", action="store_true",
                   help="really write (without it, show what would be written)")
    _json(p, "{symbol, module, indirect, address, old: hex, new: hex, journal_id, written} "
             "(without --yes: old_error instead of journal_id, written false)")


def _kmod_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("list", "hold", "release"),
                   help="list the loaded modules; hold one so it cannot be unloaded; "
                        "release a hold")
    p.add_argument("name", nargs="?", type=argtype(kernel_module_name),
                   help="the module to hold or release")
    _json(p, "list: {source, note, modules: [...]}; hold, release: {module, action}")


def _kinfo_arguments(p: argparse.ArgumentParser) -> None:
    _json(p, "{source, reason, capabilities, ..., symbols, addresses_hidden}")


def _desktop_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("install", "uninstall", "install-pkexec",
                                      "uninstall-pkexec"),
                   help="install-pkexec (as root): a launcher, polkit policy and "
                        "'lainview (as root)' entry, so that pkexec starts lainview as root "
                        "on the user's display; uninstall-pkexec removes them")
    p.add_argument("--prefix", default="/", help=argparse.SUPPRESS)
    _json(p, "{action, paths: [...]}")


SUBCOMMANDS: dict[str, Subcommand] = {
    "ps": Subcommand("list processes and whether lainview can attach", _ps_arguments,
                     "lainview.cli.ps:cmd_ps", "  lainview ps --wide",
                     kernel=False, facade=False),

    "maps": Subcommand("the memory areas of a process", _maps_arguments,
                       "lainview.cli.process:cmd_maps", "  lainview maps 1234 --json",
                       kernel=False, facade=False),

    "read": Subcommand("hex dump (or raw bytes) of a range of a process's memory",
                       _read_arguments, "lainview.cli.process:cmd_read",
                       "  lainview read 1234 '[heap]+0x10' 64\n"
                       "  lainview read 1234 0x7f12a000 --type 'struct player' "
                       "--c-header player.h\n"
                       "  lainview read 1234 game+0x4010 --type auto", kernel=False,
                       facade=False),
    "write": Subcommand("write bytes into a process's memory (journaled; bytes it already "
                        "holds are left alone)", _write_arguments,
                        "lainview.cli.process:cmd_write",
                        '  lainview write 1234 0x7f0000001000 "de ad be ef"', kernel=False,
                        facade=False),
    "watchpoint": Subcommand("find what writes (or accesses) an address: a hardware "
                             "watchpoint on every thread, never stopping the process",
                             _watchpoint_arguments, "lainview.cli.watch:cmd_watchpoint",
                             "  lainview watchpoint 1234 0x5566a0c04070 --len 4 --seconds 5",
                             kernel=False),
    "journal": Subcommand("list journaled writes, or export them as a patch",
                          _journal_arguments, "lainview.cli.journal:cmd_journal",
                          "  lainview journal --pid 1234 --export fix.patch", kernel=False),

    "apply": Subcommand("apply a patch file to a running process of its program",
                        _apply_arguments, "lainview.cli.journal:cmd_apply",
                        "  lainview apply fix.patch --dry-run", kernel=False),

    "revert": Subcommand("undo journaled writes, newest first", _revert_arguments,
                         "lainview.cli.journal:cmd_revert", "  lainview revert 17 18"),

    "scan": Subcommand("find the addresses that hold a value, then narrow them",
                       _scan_arguments, "lainview.cli.scan:cmd_scan",
                       "  lainview scan 1234 --type i32 --value 100 --session hp.scan\n"
                       "  lainview scan --session hp.scan --next decreased",
                       description="First scan: PID with --value, --range or --unknown. "
                       "Next scans: --session FILE --next MODE. The session file keeps "
                       "the scan between invocations.", kernel=False),
    "syms": Subcommand("list the ELF symbols of the files a process maps", _syms_arguments,
                       "lainview.cli.code:cmd_syms", "  lainview syms 1234 getpid --module "
                       "libc.so.6", kernel=False),
    "disasm": Subcommand("disassemble (x86-64) a process's code at a location",
                         _disasm_arguments, "lainview.cli.code:cmd_disasm",
                         "  lainview disasm 1234 'libc.so.6!getpid' 8", kernel=False),
    "ptrscan": Subcommand("find pointer paths from static memory to an address, then "
                          "filter them against another run",
                          _ptrscan_arguments, "lainview.cli.ptrscan:cmd_ptrscan",
                          "  lainview ptrscan 1234 [heap]+0x2a8 --depth 4 --session hp.ptrscan\n"
                          "  lainview ptrscan --session hp.ptrscan --rescan 5678 0x55d0c0de12a8\n"
                          "  lainview ptrscan --session hp.ptrscan --rescan 5678 --value 100 "
                          "--type i32",
                          description="Scan: PID LOCATION lists the pointer paths (module+off"
                          "->+off->...) that lead to LOCATION now. Rescan: --session FILE "
                          "--rescan PID (LOCATION | --value V --type T) keeps the saved paths "
                          "that lead there in PID now (e.g. after a restart) and writes them "
                          "back to FILE.", kernel=False),
    "ksyms": Subcommand("list kernel symbols (name, address, type, module)", _ksyms_arguments,
                        "lainview.cli.kernel:cmd_ksyms", "  lainview ksyms 'jiffies*' --type data"),
    "kread": Subcommand("read a kernel variable by name", _kread_arguments,
                        "lainview.cli.kernel:cmd_kread", "  lainview kread jiffies 8\n"
                        "  lainview kread init_uts_ns --type 'struct uts_namespace'"),
    "ktype": Subcommand("print a kernel type from BTF as C, with offsets", _ktype_arguments,
                        "lainview.cli.kernel:cmd_ktype", "  lainview ktype uts_namespace\n"
                        "  lainview ktype task --search"),
    "kwrite": Subcommand("patch a kernel variable by name (journaled; needs --yes)",
                         _kwrite_arguments, "lainview.cli.kernel:cmd_kwrite",
                         "  lainview kwrite panic_on_oops 00000000 --yes"),
    "kmod": Subcommand("loaded kernel modules; hold and release them", _kmod_arguments,
                       "lainview.cli.kernel:cmd_kmod", "  lainview kmod hold ext4"),
    "kinfo": Subcommand("the kernel source lainview would use and what it can do",
                        _kinfo_arguments, "lainview.cli.kernel:cmd_kinfo",
                        "  lainview kinfo --json"),
    "desktop": Subcommand("install or remove the desktop entry, icon, man page and "
                          "completion for this user", _desktop_arguments,
                          "lainview.cli.desktop:cmd_desktop", "  lainview desktop install",
                          description="install: copy the desktop entry, icon, AppStream "
                          "metainfo, man page and bash/zsh completion into $XDG_DATA_HOME "
                          "(default ~/.local/share); uninstall: remove them.", kernel=False),
}
