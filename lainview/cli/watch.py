"""The watchpoint command: what writes (or accesses) an address.

    lainview watchpoint PID LOCATION [--len 4] [--access] [--seconds S] [--json]

Arms a hardware watchpoint on every thread of PID (backend/watchpoints.py;
the target is never stopped) until --seconds pass, ^C, or the process
exits; then prints each instruction that hit it, with its count.
"""

from __future__ import annotations

import sys

from ..backend.service import Backend
from ..backend.wording import counted, printable
from .output import EXIT_OK, Stopped, address_in, note, print_json, stop_on_signals


def cmd_watchpoint(backend: Backend, args) -> int:
    """Text: one line per instruction, most hits first (hits, its address
    (the reported IP where it could not be decoded), location, symbol,
    instruction), and a ``#`` summary on stderr; --json:
    ``{pid, address, length, access, seconds, total, lost, throttled, threads, ended,
    hits: [{ip, address, location, symbol, hits, threads, instruction}]}``."""
    from ..backend import watchpoints
    target = backend.attach(args.pid, args.backend, writable=False).result()
    address = address_in(target, args.location, args.len)
    watchpoints.check_request(address, args.len)
    live = watchpoints.WatchLive()
    future = target.watchpoint(address, args.len, access=args.access, live=live,
                               seconds=args.seconds, registers=args.registers)
    try:
        with stop_on_signals():          # ^C or SIGTERM: stop and report what was seen
            final = future.result()
    except Stopped:
        live.stop()
        final = future.result()
    named = target.name_hits(final.hits).result()
    what = "reads and writes" if args.access else "writes"
    summary = (f"watchpoint on {address:#x} ({counted(args.len, 'byte')}, {what}) of process "
               f"{args.pid}: {counted(len(named), 'instruction')}, {counted(final.total, 'hit')} "
               f"in {final.seconds:.1f} s ({final.rate:.0f}/s), {final.lost} lost, "
               f"{final.throttled} throttled, "
               f"{counted(final.threads, 'thread')} watched; {final.ended}")
    if args.json:
        print_json({"pid": args.pid, "address": address, "length": args.len,
                    "access": args.access, "seconds": round(final.seconds, 3),
                    "total": final.total, "lost": final.lost, "throttled": final.throttled,
                    "threads": final.threads,
                    "ended": final.ended, "hits": [h.to_json() for h in named]})
        return EXIT_OK
    note(summary)
    if named:
        print(f"{'HITS':>10}  {'ADDRESS':<18} {'LOCATION':<32} {'SYMBOL':<28} INSTRUCTION")
    for hit in named:
        instruction = hit.instruction or f"(the instruction before {hit.ip:#x})"
        at = hit.address if hit.address is not None else hit.ip
        print(f"{hit.hits:>10}  {at:#018x} {printable(hit.location):<32} "
              f"{printable(hit.symbol or '-'):<28} {printable(instruction)}")
        if hit.registers:
            print(" " * 12 + " ".join(f"{name}={value:#x}" for name, value in hit.registers))
    sys.stdout.flush()
    return EXIT_OK
