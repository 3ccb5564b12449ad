"""Code commands: module symbols and disassembly of a process.

    lainview syms PID [PATTERN] [--module M] [--regex] [--modules] [--json]
    lainview disasm PID LOCATION [COUNT] [--json]
"""

from __future__ import annotations

from ..backend.service import Backend
from ..backend.wording import counted, printable
from .output import EXIT_OK, address_in, note, print_json


def cmd_syms(backend: Backend, args) -> int:
    """The symbols (or with --modules, the modules) of every file mapped in
    the process, from their ELF .symtab and .dynsym."""
    target = backend.attach(args.pid, args.backend, writable=False).result()
    names = target.symbolizer().result()
    if args.modules:
        modules = [m for m in names.modules if args.module in (None, m.name, m.path)]
        if args.json:
            print_json([m.to_json() for m in modules])
            return EXIT_OK
        print(f"{'BASE':>16} {'SIZE':>10} {'SYMBOLS':>8} {'EXPORTED':>8}  NAME  PATH")
        for m in modules:
            exported = m.symbols.exported_count if m.symbols else 0
            tail = f"  ({printable(m.problem)})" if m.problem else ""
            print(f"{m.base:016x} {m.size:>10} {m.symbol_count:>8} {exported:>8}  "
                  f"{printable(m.name)}  {printable(m.path)}{tail}")
        return EXIT_OK
    found = names.search(args.pattern, module=args.module, regex=args.regex,
                         limit=args.limit + 1)
    more = len(found) > args.limit
    found = found[:args.limit]
    if args.json:
        print_json([s.to_json() for s in found])
    else:
        for s in found:
            print(f"{s.address:016x} {s.size:>8} {s.type} {'E' if s.exported else ' '} "
                  f"{printable(s.text)}")
    if more:
        note(f"only the first {counted(args.limit, 'symbol')}: narrow the pattern or "
             "raise --limit")
    if not found:
        what = f" matches {printable(args.pattern)}" if args.pattern else " was found"
        inside = f" in {printable(args.module)}" if args.module else ""
        note(f"no symbol{what}{inside}")
    for m in names.modules:
        if m.problem and args.module in (None, m.name, m.path):
            note(f"no symbols of {printable(m.name)}: {printable(m.problem)}")
    return EXIT_OK


def cmd_disasm(backend: Backend, args) -> int:
    """COUNT x86-64 instructions decoded from LOCATION, each with its
    symbolic location, bytes, mnemonic, operands and (for a branch, a call
    or a RIP-relative operand) the address it reaches."""
    target = backend.attach(args.pid, args.backend, writable=False).result()
    start = address_in(target, args.address)
    lines = target.disassemble(start, args.count, align=not args.exact).result()
    if lines and lines[0].address != start:
        note(f"{start:#x} is inside the instruction at {lines[0].address:#x} (--exact decodes "
             f"from {start:#x} itself)")
    if args.json:
        print_json([i.to_json() for i in lines])
        return EXIT_OK
    width = max((len(printable(i.location)) for i in lines), default=0)
    for i in lines:
        link = f"    ; {printable(i.target_location)}" if i.target_location else ""
        print(f"{i.address:016x}  {printable(i.location):<{width}}  {i.data.hex(' '):<29} "
              f"{i.mnemonic:<7} {printable(i.operands)}{link}")
    if len(lines) < args.count:
        note(f"stopped after {counted(len(lines), 'instruction')}: the bytes after "
             "cannot be read")
    return EXIT_OK
