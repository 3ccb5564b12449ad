"""Kernel commands: ksyms, kread, ktype, kwrite, kmod, kinfo.

    lainview ksyms [PATTERN] [--module M] [--type T] [--regex] [--json]
    lainview kread LOCATION [LEN] [--module M] [--indirect] [--raw] [--json]
    lainview kread LOCATION --type CTYPE [--module M] [--json]   (CTYPE from BTF)
    lainview kread SYMBOL --type auto --image vmlinux   (its type from the image's DWARF)
    lainview ktype NAME [--module M] [--search] [--json]
    lainview kwrite LOCATION HEXBYTES [--module M] [--indirect] --yes

LOCATION is ``kernel:[MODULE:]SYMBOL[+offset]`` of the one location grammar
(``backend/locations.py``), or the same without ``kernel:``.
    lainview kmod list [--json] | hold NAME | release NAME
    lainview kinfo [--json]

Global options: ``--kmem PATH`` (the kmem device node), ``--ksource
auto|kmem|image|kcore|kallsyms``, ``--image PATH`` (a vmlinux, System.map or ELF
vmcore; repeatable). ``lainview revert --kernel`` undoes kernel writes.
"""

from __future__ import annotations

import sys

from ..backend.errors import InvalidInput, LainviewError, NoSuchModule, NoSuchSymbol
from ..backend.kallsyms import KERNEL
from ..backend.locations import Location
from ..backend.kernel import check_read_length
from ..backend.memory import Hole, ReadResult, Span
from ..backend.ksources import CAPABILITIES
from ..backend.service import Backend
from ..backend.wording import counted, printable
from .argtypes import KERNEL_MODULE_ALIAS
from .output import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, holes_json, kernel_backend,
                     note, print_json, report_holes)

DEFAULT_READ = 16


def _module(args) -> str | None:
    """The module named by the location (``kernel:MODULE:SYMBOL``) or by
    ``--module``; InvalidInput when both name one and they differ."""
    given = KERNEL if args.module == KERNEL_MODULE_ALIAS else args.module
    location = getattr(args, "symbol", None)
    if not isinstance(location, Location) or not location.module:
        return given
    named = location.module
    if given is not None and named != given:
        raise InvalidInput(f"{location.text} names module {printable(named)} but --module says "
                           f"{printable(given or KERNEL_MODULE_ALIAS)}: give one")
    return named


def _window(result: ReadResult, offset: int, length: int) -> ReadResult:
    """The ``length`` bytes at ``offset`` of a read from a symbol's start."""
    start, end = result.address + offset, result.address + offset + length
    holes = tuple(Hole(max(h.address, start), min(h.end, end) - max(h.address, start),
                       h.errno, h.reason)
                  for h in result.holes if h.address < end and h.end > start)
    spans = tuple(Span(max(s.address, start), min(s.end, end) - max(s.address, start))
                  for s in result.no_access if s.address < end and s.end > start)
    return ReadResult(start, result.data[offset:offset + length], holes, spans)


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
        print_json(out)
    else:
        note(f"{len(indices)} of {len(table)} symbols from {table.source}")
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
        note(f"addresses are hidden: {table.hidden_reason}")
    return EXIT_OK


def _describe(value_or_symbol) -> str:
    sym = value_or_symbol
    where = f" [{printable(sym.module)}]" if sym.module else ""
    addr = f" at {sym.address:#x}" if sym.address else ""
    return f"{printable(sym.name)}{where}: type {sym.type} ({sym.meaning}){addr}"


def _kernel_types(module: str | None):
    """The BTF to look types up in: vmlinux's, on top of which ``module``'s
    (split BTF) when one is named and has BTF."""
    from ..backend.btf import load_kernel_btf
    if module and module != KERNEL:
        return load_kernel_btf(module)
    return load_kernel_btf()


def cmd_ktype(backend: Backend, args) -> int:
    """``ktype NAME``: the type as C with offsets and sizes (as pahole
    prints), or with --json ``{name, kind, size, align, c, fields: [{name,
    offset, size, type, bit_offset, bit_size}]}``; ``--search``: the names
    containing NAME (sorted, those starting with it first)."""
    from ..backend.ctypes_model import Record, Typedef, c_definition
    btf = _kernel_types(_module(args))
    if args.search:
        names = btf.search(args.name, limit=200)
        if args.json:
            print_json(names)
        else:
            for name in names:
                print(printable(name))
        return EXIT_OK if names else EXIT_ERROR
    ctype = btf.find(args.name)
    inner = ctype.strip()
    if args.json:
        fields = [{"name": f.name, "offset": f.offset, "size": f.type.size,
                   "type": f.type.c_name(), "bit_offset": f.bit_offset if f.bit_size else None,
                   "bit_size": f.bit_size or None}
                  for f in (inner.fields if isinstance(inner, Record) else [])]
        kind = "typedef" if isinstance(ctype, Typedef) else \
            inner.kind if isinstance(inner, Record) else type(inner).__name__.lower()
        print_json({"name": ctype.c_name(), "kind": kind,
                    "size": ctype.size, "align": ctype.align, "c": c_definition(ctype),
                    "fields": fields})
    else:
        print(c_definition(ctype))
    return EXIT_OK


def cmd_kread(backend: Backend, args) -> int:
    location: Location = args.symbol
    name, offset = location.name, location.offset
    module = _module(args)
    kernel = kernel_backend(backend, args)
    info = kernel.info().result()
    ctype = None
    if args.ctype is not None:
        if args.length is not None or args.raw:
            raise InvalidInput("--type reads one value of that type: give no LENGTH and no "
                               "--raw")
        if args.ctype.strip() == "auto":
            ctype = kernel.variable_type(name).result() if not module else None
            if ctype is None:
                raise InvalidInput(f"no DWARF type for {printable(name)}: --type auto needs "
                                   "--image with a vmlinux built with debug information "
                                   "(CONFIG_DEBUG_INFO); or name a BTF type: --type CTYPE")
        else:
            ctype = _kernel_types(module).find(args.ctype)
        if ctype.size <= 0:
            raise InvalidInput(f"{printable(args.ctype)} has no size (declared, never "
                               "defined)")
        args.length = ctype.size
    symbol = None
    try:
        table = kernel.symbols().result()
        symbol = table.find(name, module or None)
    except LainviewError as exc:
        if not info.can("read"):
            # Say what is missing (the read below raises CapabilityMissing),
            # not that kallsyms lacks a symbol (no CONFIG_KALLSYMS_ALL).
            table = None
        elif info.source != "kmem":   # the device can know what kallsyms lacks
            raise
        else:
            table = None
            note(f"{exc}; asking the kmem device anyway")
    length = args.length
    if length is None:
        hint = (table.size_hint(symbol.index) if symbol is not None and table is not None
                else None)
        length = hint - offset if hint is not None and hint > offset else DEFAULT_READ
    # Kernel values are read by name from the symbol's first byte: read up
    # to the offset's end and show the window the location names.
    check_read_length(offset + length)
    if symbol is not None:
        note(_describe(symbol))
    value = kernel.read(name, offset + length, module=module or None,
                        indirect=args.indirect).result()
    if args.indirect and value.pointer is not None:
        note(f"pointer {value.pointer:#x}")
    result = _window(value.result, offset, length)
    note(f"{length} bytes" + (f" at offset {offset:#x}" if offset else "")
         + f" via {value.via} ({info.reason})")
    address = value.address + offset if value.address is not None else None
    tree = None
    if ctype is not None:       # a partial read: the fields it lacks are unreadable (??)
        from ..backend.ctypes_model import typed_value
        tree = typed_value(ctype, result.data, address,
                           unread=[(h.address - result.address, h.size) for h in result.holes])
    if args.json:
        out = {"symbol": name, "module": module or None, "offset": offset,
               "indirect": args.indirect, "address": address,
               "pointer": value.pointer, "via": value.via, "data": result.data.hex(),
               "holes": holes_json(result.holes)}
        if ctype is not None:
            out["type"] = ctype.c_name()
            out["value"] = tree.to_json() if tree is not None else None
        print_json(out)
    elif tree is not None and ctype is not None:
        at = f" at {address:#x}" if address is not None else ""
        print("\n".join(tree.lines(f"{printable(location.text)}: {ctype.c_name()}{at} "
                                   f"({ctype.size} bytes)")))
    elif args.raw:
        if result.complete:
            sys.stdout.buffer.write(result.data)
            sys.stdout.buffer.flush()
    else:
        from ..hexdump import hexdump
        print(hexdump(result))
    if not result.complete:
        report_holes("kread", result.holes)
        return EXIT_ERROR
    return EXIT_OK


def cmd_kwrite(backend: Backend, args) -> int:
    location: Location = args.symbol
    if location.offset:
        raise InvalidInput(f"{location.text}: kernel writes start at the symbol (the kmem device "
                         "writes by name), so a location with an offset cannot be written")
    name = location.name
    module = _module(args) or None
    kernel = kernel_backend(backend, args)
    info = kernel.info().result()
    new = args.hexbytes
    target = f"{name}" + (f" in module {module}" if module else "") + \
        (" (through its pointer)" if args.indirect else "")
    if not args.yes:
        # Look the symbol up before saying what would be written: a missing
        # symbol or module fails here (NoSuchSymbol/NoSuchModule, exit 1).
        lines = []
        plan = {"symbol": name, "module": module, "indirect": args.indirect,
                "address": None, "old": None, "old_error": None, "new": new.hex(),
                "written": False}
        if info.can("read"):
            try:
                old = kernel.read(name, len(new), module=module,
                                  indirect=args.indirect).result()
                where = f" at {old.address:#x}" if old.address is not None else ""
                lines += [f"address{where or ' unknown'}", f"old {old.data.hex(' ')}"]
                plan.update(address=old.address, old=old.data.hex())
            except (NoSuchSymbol, NoSuchModule):
                raise
            except LainviewError as exc:
                lines.append(f"old bytes unreadable: {exc}")
                plan["old_error"] = str(exc)
        else:
            try:
                table = kernel.symbols().result()
            except LainviewError:
                table = None        # no table to ask: the write itself will say
            if table is not None:
                table.find(name, module)
        if args.json:
            print_json(plan)
        else:
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
    result = kernel.write(name, new, module=module, indirect=args.indirect).result()
    if args.json:
        print_json({"symbol": name, "module": module, "indirect": args.indirect,
                    "address": result.address, "old": result.old.hex(),
                    "new": result.new.hex(), "journal_id": result.journal_id,
                    "written": True})
        return EXIT_OK
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
            print_json({"source": mods.source, "note": mods.note,
                        "modules": [m.to_json() for m in mods.modules]})
            return EXIT_OK
        if mods.note:
            note(mods.note)
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
        if args.json:
            print_json({"module": args.name, "action": "hold"})
            return EXIT_OK
        print(f"holding {args.name}: it cannot be unloaded until released "
              f"(lainview kmod release {args.name})")
    else:
        kernel.release(args.name).result()
        if args.json:
            print_json({"module": args.name, "action": "release"})
            return EXIT_OK
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
        print_json(out)
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
    for name, why in info.passed_over.items():
        print(f"not chosen: {name}: {why}")
    return EXIT_OK

