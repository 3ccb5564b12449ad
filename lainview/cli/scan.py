"""The scan command: find the addresses that hold a value, then narrow them.

    lainview scan PID --type T (--value V | --range LO..HI | --unknown) [--session FILE]
    lainview scan --session FILE --next MODE [--value V]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile

from ..backend import scan
from ..backend.errors import InvalidInput, LainviewError
from ..backend.locations import parse_location
from ..backend.memory import parse_size
from ..backend.service import Backend
from ..backend.wording import counted, quoted
from ..models.formats import describe_skipped, human_size
from .output import EXIT_OK, EXIT_USAGE, Stopped, address_in, stop_on_signals


def _scan_areas(args, target) -> "scan.AreaFilter":
    """The filter of a first scan; each ``--area START-END`` (or
    ``START..END``, needed when a location holds a '-') is two locations
    resolved in ``target``'s map, END excluded."""
    ranges = []
    for text in args.area:
        if ".." in text:
            parts = text.split("..")
        else:
            parts = text.split("-")
        if len(parts) != 2:
            raise InvalidInput(f"--area takes START-END (or START..END when a location "
                               f"holds a '-'), not {text!r}")
        lo, hi = address_in(target, parse_location(parts[0])), \
            address_in(target, parse_location(parts[1]), 0)
        if hi <= lo:
            raise InvalidInput(f"--area {text}: END must be above START")
        ranges.append((lo, hi))
    return scan.AreaFilter(include_readonly=args.include_readonly,
                           include_file_backed=args.include_file_backed,
                           include_shared=args.include_shared, ranges=tuple(ranges))


@contextlib.contextmanager
def _scan_scratch(backend: Backend):
    """The scan command's own private temporary directory, removed on every
    way out: success, an error, SIGINT or SIGTERM (raised as Stopped in
    the main thread). Scan states made meanwhile (first scans, loaded
    sessions) put their working directories in it (``tempfile.tempdir``).
    The backend thread is shut down first, so no job writes into the
    directory while it is removed."""
    scratch = tempfile.mkdtemp(prefix="lainview-scan-")
    old_tempdir = tempfile.tempdir
    tempfile.tempdir = scratch

    def cleanup() -> None:
        try:
            backend.shutdown()
        finally:
            tempfile.tempdir = old_tempdir
            shutil.rmtree(scratch, ignore_errors=True)
    with stop_on_signals(cleanup):
        yield scratch


def _unused_options(args) -> list[str]:
    """The options given that this kind of step would ignore: a next scan or
    an undo takes the type, alignment and areas from its session; an undo
    takes no value."""
    if not (args.next or args.undo):
        return []
    first_only = [("--type", args.type is not None), ("--big-endian", args.big_endian),
                  ("--unknown", args.unknown), ("--align", args.align != "natural"),
                  ("--include-readonly", args.include_readonly),
                  ("--include-file-backed", args.include_file_backed),
                  ("--include-shared", args.include_shared), ("--area", bool(args.area)),
                  ("--force", args.force)]
    unused = [flag for flag, given in first_only if given]
    if args.undo:
        unused += [flag for flag, given in (("--next", bool(args.next)),
                                            ("--value", args.value is not None),
                                            ("--range", args.value_range is not None),
                                            ("--tolerance", args.tolerance is not None))
                   if given]
    return unused


def cmd_scan(backend: Backend, args) -> int:
    unused = _unused_options(args)
    if unused:
        step = "--undo" if args.undo else "a next scan"
        raise InvalidInput(f"{unused[0]} does not apply to {step}: the session keeps the "
                           "type, alignment and areas of its first scan"
                           + ("; an undo takes no value or mode" if args.undo else "")
                           + f" (drop {', '.join(unused)})")
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
    except Stopped as stop:
        name = stop.name
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
            if args.value_range is not None and args.next != scan.Mode.RANGE.value:
                raise InvalidInput(f"--range goes with a first scan or --next range, "
                                   f"not --next {args.next}")
            value = args.value_range if args.value_range is not None else args.value
            cond = scan.make_condition(state.scan_type, args.next,
                                       value, tolerance=args.tolerance)
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
            try:
                align = int(parse_size(args.align))
            except InvalidInput:
                align = 0
            if align <= 0:
                raise InvalidInput(f"--align takes natural, any or a positive number of bytes, "
                                   f"not {quoted(args.align)}")
        target = backend.attach(args.pid, args.backend, writable=False).result()
        areas = _scan_areas(args, target)
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
        data = r.data if not isinstance(r, LainviewError) and r.complete else None
        matches.append({"address": address,
                        "value": state.scan_type.to_json(data) if data is not None
                        else None,
                        "text": state.scan_type.format(data) if data is not None
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

