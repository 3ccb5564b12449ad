"""The ptrscan command: pointer paths from static memory to an address.

    lainview ptrscan PID LOCATION [--depth N] [--max-offset N] [--stacks] [--limit N]
                     [--session FILE] [--json]
    lainview ptrscan --session FILE --rescan PID (LOCATION | --value V --type T)
"""

from __future__ import annotations

import sys
from typing import Any

from ..backend import pointer_scan as ptr
from ..backend.errors import InvalidInput
from ..backend.service import Backend
from ..backend.wording import counted, printable
from ..models.formats import human_size
from .output import EXIT_ERROR, EXIT_OK, Stopped, address_in, note, print_json, stop_on_signals


def cmd_ptrscan(backend: Backend, args) -> int:
    """The command; SIGINT and SIGTERM stop it with exit 128+signal, and
    the backend's shutdown (run_cli) then ends the running job, which
    deletes the pointer map's files."""
    try:
        with stop_on_signals():
            return _run(backend, args)
    except Stopped as stopped:
        print(f"lainview ptrscan: stopped by {stopped.name}", file=sys.stderr)
        return stopped.exit_code


def _run(backend: Backend, args) -> int:
    if args.rescan:
        return _rescan(backend, args)
    if args.value is not None or args.type is not None:
        raise InvalidInput("--value and --type go with --rescan")
    if args.pid is None or args.location is None:
        raise InvalidInput("give PID and LOCATION (or --session FILE --rescan PID ...)")
    ptr.search_settings(args.depth, args.max_offset, args.limit)
    target = backend.attach(args.pid, args.backend, writable=False).result()
    address = address_in(target, args.location, 8)
    result = target.pointer_scan(address, depth=args.depth, max_offset=args.max_offset,
                                 stacks=args.stacks, limit=args.limit).result()
    if args.session:
        saved = ptr.scan_file(result, pid=target.pid, start_ticks=target.identity.start_ticks)
        backend.save_pointer_scan(saved, args.session).result()
    resolved = [address] * len(result.paths)
    if args.json:
        print_json({"pid": target.pid, "address": address,
                    "location": result.location.text if result.location else None,
                    "depth": result.depth, "max_offset": result.max_offset,
                    "total": result.total, "by_depth": result.by_depth,
                    "cut": result.cut, "listed": len(result.paths),
                    "paths": _paths_json(result.paths, resolved),
                    "map": {"pointers": result.map_count,
                            "memory_bytes": result.map_memory_bytes,
                            "disk_bytes": result.map_disk_bytes,
                            "scanned_bytes": result.scanned_bytes}})
        return EXIT_OK
    note(f"map: {counted(result.map_count, 'pointer')} in {human_size(result.scanned_bytes)} "
         f"read ({human_size(result.map_memory_bytes)} in memory, "
         f"{human_size(result.map_disk_bytes)} on disk)")
    depths = ", ".join(f"depth {d}: {n}" for d, n in sorted(result.by_depth.items()))
    note(f"{counted(result.total, 'path')} to {address:#x}"
         + (f" ({depths})" if depths else "")
         + (f"; listed {len(result.paths)} (--limit)" if len(result.paths) < result.total
            else "")
         + ("; cut: some levels had too many addresses to follow" if result.cut else ""))
    for path in result.paths:
        print(path.text)
    if args.session:
        note(f"saved to {args.session}")
    return EXIT_OK


def _rescan(backend: Backend, args) -> int:
    if not args.session:
        raise InvalidInput("--rescan needs --session FILE from an earlier ptrscan")
    if args.pid is None:
        raise InvalidInput("--rescan needs the PID to filter against")
    if (args.location is None) == (args.value is None):
        raise InvalidInput("--rescan keeps paths leading to LOCATION or to --value V "
                           "--type T: give one")
    saved = backend.load_pointer_scan(args.session).result()
    target = backend.attach(args.pid, args.backend, writable=False).result()
    if args.value is not None:
        if args.type is None:
            raise InvalidInput("--value needs --type (i32, f64, ...)")
        wanted = ptr.RescanTarget.holding(args.type, args.value)
    else:
        wanted = ptr.RescanTarget(address=address_in(target, args.location, 8))
    before = len(saved.paths)
    kept = target.pointer_rescan(saved.paths, wanted).result()
    if not kept and before:
        # A stale --value or a wrong pid must not cost the user their paths.
        message = (f"none of the {counted(before, 'path')} leads there in pid {target.pid} "
                   f"now; {printable(args.session)} is left as it was")
        if args.json:
            print_json({"pid": target.pid, "address": wanted.address, "before": before,
                        "total": 0, "listed": 0, "paths": [], "saved": False})
        print(f"lainview ptrscan: {message}", file=sys.stderr)
        return EXIT_ERROR
    saved.paths = [k.path for k in kept]
    saved.total = len(kept)
    saved.pid, saved.start_ticks = target.pid, target.identity.start_ticks
    backend.save_pointer_scan(saved, args.session).result()
    if args.json:
        print_json({"pid": target.pid, "address": wanted.address, "before": before,
                    "total": len(kept), "listed": len(kept), "saved": True,
                    "paths": _paths_json([k.path for k in kept], [k.address for k in kept])})
        return EXIT_OK
    note(f"kept {counted(len(kept), 'path')} of {before}; {printable(args.session)} now "
         "holds them")
    for k in kept:
        print(f"{k.path.text}  = {k.address:#x}")
    return EXIT_OK


def _paths_json(paths: list[ptr.PointerPath], resolved: list[int]) -> list[dict[str, Any]]:
    return [{"path": p.text, "base": p.base.text, "offsets": list(p.offsets), "resolved": r}
            for p, r in zip(paths, resolved)]
