"""The kernel half of the command line.

    lainview ksyms [PATTERN] [--module M] [--type T] [--regex] [--json]
    lainview kread SYMBOL [LEN] [--module M] [--indirect] [--raw] [--json]
    lainview kwrite SYMBOL HEXBYTES [--module M] [--indirect] --yes
    lainview kmod list [--json] | hold NAME | release NAME
    lainview kinfo [--json]

Global options: ``--kmem PATH`` (the kmem device node), ``--ksource
auto|kmem|kcore|image``, ``--image PATH`` (a vmlinux, System.map or ELF
vmcore; repeatable). ``lainview revert --kernel`` undoes kernel writes.
"""

from __future__ import annotations

import argparse
import json
import sys

from .argtypes import argtype
from .backend.errors import LainviewError, NoSuchModule, NoSuchSymbol
from .backend.kallsyms import KERNEL, type_letters
from .backend.kernel import CAPABILITIES, SOURCES, KernelBackend, check_read_length
from .backend.kmem import encode_module_name, encode_symbol_name
from .backend.memory import parse_hex_bytes, parse_size
from .backend.service import Backend
from .backend.wording import counted, printable
from .hexdump import hexdump

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
KERNEL_MODULE_ALIAS = "vmlinux"   # --module vmlinux: the kernel proper
DEFAULT_READ = 16


def add_global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kmem", metavar="PATH",
                        help="the kmem device node (default: /dev/lainkmem, then /dev/kmem "
                             "if it answers the kmem ioctls)")
    parser.add_argument("--ksource", choices=SOURCES, default="auto",
                        help="kernel source (default: the kmem device, else /proc/kcore, "
                             "else symbols only)")
    parser.add_argument("--image", action="append", default=[], metavar="PATH",
                        help="an offline kernel: vmlinux, System.map or ELF vmcore "
                             "(repeat to combine a vmlinux with a vmcore)")


def _symbol_name(text: str) -> str:
    encode_symbol_name(text)        # InvalidInput (ENAMETOOLONG) past the kernel's limit
    return text


def _module_name(text: str) -> str:
    if text != KERNEL_MODULE_ALIAS:
        encode_module_name(text)
    return text


def _read_length(text: str) -> int:
    return check_read_length(parse_size(text))


def add_subcommands(sub) -> None:
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
    p.add_argument("symbol", type=argtype(_symbol_name))
    p.add_argument("length", nargs="?", type=argtype(_read_length),
                   help="bytes (default: the distance to the next symbol, at most 256)")
    p.add_argument("--module", metavar="M", type=argtype(_module_name),
                   help="look the symbol up only in this module")
    p.add_argument("--indirect", action="store_true",
                   help="the symbol holds a pointer: read where it points")
    p.add_argument("--raw", action="store_true", help="write the bytes to stdout")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("kwrite", help="patch a kernel variable by name (journaled; needs --yes)")
    p.add_argument("symbol", type=argtype(_symbol_name))
    p.add_argument("hexbytes", type=argtype(parse_hex_bytes), help='e.g. "de ad be ef"')
    p.add_argument("--module", metavar="M", type=argtype(_module_name))
    p.add_argument("--indirect", action="store_true",
                   help="write where the pointer stored at SYMBOL points")
    p.add_argument("--yes", action="store_true",
                   help="really write (without it, show what would be written)")

    p = sub.add_parser("kmod", help="loaded kernel modules; hold and release them")
    p.add_argument("action", choices=("list", "hold", "release"))
    p.add_argument("name", nargs="?", type=argtype(_module_name))
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("kinfo", help="the kernel source lainview would use and what it can do")
    p.add_argument("--json", action="store_true")


def add_revert_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kernel", action="store_true",
                        help="revert every journaled kernel write")


def kernel_backend(backend: Backend, args) -> KernelBackend:
    # The CLI process ends at once: holds taken by `kmod hold` must outlive it.
    return KernelBackend(backend, source=args.ksource, kmem_path=args.kmem,
                         images=args.image, release_holds_on_close=False)


def _module(args) -> str | None:
    if args.module == KERNEL_MODULE_ALIAS:
        return KERNEL
    return args.module


def _note(text: str) -> None:
    print(f"# {text}", file=sys.stderr)


def cmd_ksyms(backend: Backend, args) -> int:
    kernel = kernel_backend(backend, args)
    table = kernel.symbols().result()
    module = _module(args)
    if module and not table.has_module(module):
        print(f"lainview ksyms: no module named {module!r} has symbols in {table.source}"
              f" (modules: {', '.join(table.module_names) or 'none'})", file=sys.stderr)
        return EXIT_ERROR
    indices = table.select(args.pattern, mode="regex" if args.regex else "auto",
                           module=module, types=args.type)
    hidden = table.addresses_hidden
    if args.json:
        out = []
        for sym in table.symbols(indices):
            item = sym.to_json()
            if hidden:
                item["address"] = None
            out.append(item)
        print(json.dumps(out, indent=1))
    else:
        _note(f"{len(indices)} of {len(table)} symbols from {table.source}")
        write = sys.stdout.write
        names, addresses, types, mod_ids, modules = (table.names, table.addresses,
                                                     table.types, table.module_ids,
                                                     table.modules)
        for i in indices.tolist():
            mod, name = modules[mod_ids[i]], names[i]
            if not name.isprintable():      # a --kallsyms file is anyone's text
                name = printable(name)
            if not mod.isprintable():
                mod = printable(mod)
            write(f"{int(addresses[i]):016x} {chr(types[i])} {name}"
                  + (f"\t[{mod}]\n" if mod else "\n"))
    if hidden:
        _note(f"addresses are hidden: {table.hidden_reason}")
    return EXIT_OK


def _describe(value_or_symbol) -> str:
    sym = value_or_symbol
    where = f" [{printable(sym.module)}]" if sym.module else ""
    addr = f" at {sym.address:#x}" if sym.address else ""
    return f"{printable(sym.name)}{where}: type {sym.type} ({sym.meaning}){addr}"


def cmd_kread(backend: Backend, args) -> int:
    kernel = kernel_backend(backend, args)
    info = kernel.info().result()
    module = _module(args)
    symbol = None
    try:
        table = kernel.symbols().result()
        symbol = table.find(args.symbol, module or None)
    except LainviewError as exc:
        if info.source != "kmem":   # the device can know what kallsyms lacks
            raise
        table = None
        _note(f"{exc}; asking the kmem device anyway")
    length = args.length
    if length is None:
        length = (table.size_hint(symbol.index) if symbol is not None and table is not None
                  else None) or DEFAULT_READ
    if symbol is not None:
        _note(_describe(symbol))
    value = kernel.read(args.symbol, length, module=module or None,
                        indirect=args.indirect).result()
    if args.indirect and value.pointer is not None:
        _note(f"pointer {value.pointer:#x}")
    _note(f"{length} bytes via {value.via} ({info.reason})")
    if args.json:
        print(json.dumps({"symbol": args.symbol, "module": module or None,
                          "indirect": args.indirect, "address": value.address,
                          "pointer": value.pointer, "via": value.via,
                          "data": value.data.hex(),
                          "holes": [[h.address, h.size, h.reason]
                                    for h in value.result.holes]}, indent=1))
    elif args.raw:
        if value.result.complete:
            sys.stdout.buffer.write(value.data)
            sys.stdout.buffer.flush()
    else:
        print(hexdump(value.result))
    if not value.result.complete:
        for hole in value.result.holes:
            err = LainviewError(f"{hole.size} bytes unreadable: {hole.reason}",
                                errno=hole.errno, address=hole.address)
            print(f"lainview kread: {err}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def cmd_kwrite(backend: Backend, args) -> int:
    kernel = kernel_backend(backend, args)
    info = kernel.info().result()
    module = _module(args) or None
    new = args.hexbytes
    target = f"{args.symbol}" + (f" in module {module}" if module else "") + \
        (" (through its pointer)" if args.indirect else "")
    if not args.yes:
        # Look the symbol up before saying what would be written: a missing
        # symbol or module fails here (NoSuchSymbol/NoSuchModule, exit 1).
        lines = []
        if info.can("read"):
            try:
                old = kernel.read(args.symbol, len(new), module=module,
                                  indirect=args.indirect).result()
                where = f" at {old.address:#x}" if old.address is not None else ""
                lines += [f"address{where or ' unknown'}", f"old {old.data.hex(' ')}"]
            except (NoSuchSymbol, NoSuchModule):
                raise
            except LainviewError as exc:
                lines.append(f"old bytes unreadable: {exc}")
        else:
            try:
                table = kernel.symbols().result()
            except LainviewError:
                table = None        # no table to ask: the write itself will say
            if table is not None:
                table.find(args.symbol, module)
        print(f"would write {counted(len(new), 'byte')} to {target}")
        for line in lines:
            print(line)
        print(f"new {new.hex(' ')}")
        if not info.can("write"):
            print(f"lainview kwrite: cannot write: {info.missing.get('write')}",
                  file=sys.stderr)
            return EXIT_ERROR
        print("nothing written: add --yes to write", file=sys.stderr)
        return EXIT_USAGE
    result = kernel.write(args.symbol, new, module=module, indirect=args.indirect).result()
    where = f" at {result.address:#x}" if result.address is not None else ""
    print(f"{target}{where}")
    print(f"old {result.old.hex(' ')}")
    print(f"new {result.new.hex(' ')}")
    print(f"wrote {counted(len(result.new), 'byte')} (journal entry {result.journal_id}; undo with: "
          f"lainview revert {result.journal_id})")
    return EXIT_OK


def cmd_kmod(backend: Backend, args) -> int:
    kernel = kernel_backend(backend, args)
    if args.action == "list":
        if args.name:
            print("lainview kmod list: takes no NAME", file=sys.stderr)
            return EXIT_USAGE
        mods = kernel.modules().result()
        if args.json:
            print(json.dumps({"source": mods.source, "note": mods.note,
                              "modules": [m.to_json() for m in mods.modules]}, indent=1))
            return EXIT_OK
        if mods.note:
            _note(mods.note)
        print(f"{'MODULE':<24} {'SIZE':>9} {'USED':>4}  {'STATE':<9} HOLDERS")
        for m in mods.modules:
            size = str(m.size) if m.size is not None else "-"
            used = str(m.refcount) if m.refcount is not None else "-"
            state = m.state or ("pseudo" if m.pseudo else "?")
            print(f"{printable(m.name):<24} {size:>9} {used:>4}  {printable(state):<9} "
                  f"{printable(','.join(m.holders)) or '-'}")
        return EXIT_OK
    if not args.name:
        print(f"lainview kmod {args.action}: give the module NAME", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "hold":
        kernel.hold(args.name).result()
        print(f"holding {args.name}: it cannot be unloaded until released "
              f"(lainview kmod release {args.name})")
    else:
        kernel.release(args.name).result()
        print(f"released one hold on {args.name}")
    return EXIT_OK


def cmd_kinfo(backend: Backend, args) -> int:
    kernel = kernel_backend(backend, args)
    info = kernel.info().result()
    table = None
    table_error = None
    try:
        table = kernel.symbols().result()
    except LainviewError as exc:
        table_error = str(exc)
    if args.json:
        out = info.to_json()
        out["symbols"] = len(table) if table is not None else None
        out["addresses_hidden"] = table.addresses_hidden if table is not None else None
        out["hidden_reason"] = table.hidden_reason if table is not None else None
        out["symbols_error"] = table_error
        print(json.dumps(out, indent=1))
        return EXIT_OK
    print(f"source: {info.source}")
    print(f"reason: {info.reason}")
    if table is not None:
        print(f"symbols: {len(table)} from {table.source}, {len(table.module_names)} modules")
        if table.addresses_hidden:
            print(f"addresses: hidden: {table.hidden_reason}")
    else:
        print(f"symbols: unavailable: {table_error}")
    for cap in CAPABILITIES:
        if info.can(cap):
            print(f"{cap:<6} yes")
        else:
            print(f"{cap:<6} no: {info.missing.get(cap, 'not supported by this source')}")
    return EXIT_OK


def partition_entries(backend: Backend, ids: list[int]) -> tuple[list[int], list[int]]:
    """Split journal entry ids into (kernel, other)."""
    wanted, kinds = set(ids), {}

    def note(e) -> None:
        if e.id in wanted:
            kinds[e.id] = e.kind
    if wanted:
        backend.journal_scan(note).result()     # streamed: the journal may be large
    kernel = [i for i in ids if kinds.get(i) == "kernel"]
    return kernel, [i for i in ids if kinds.get(i) != "kernel"]


def revert_kernel(backend: Backend, args, ids: list[int] | None) -> list:
    """Revert kernel writes (all when ``ids`` is None); RevertOutcome list."""
    return kernel_backend(backend, args).revert(ids, force=args.force).result()


KCOMMANDS = {"ksyms": cmd_ksyms, "kread": cmd_kread, "kwrite": cmd_kwrite, "kmod": cmd_kmod,
             "kinfo": cmd_kinfo}
