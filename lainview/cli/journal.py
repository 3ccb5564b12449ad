"""Journal commands: journal, revert, apply (process.py: ps, maps, read, write).

    lainview journal [--pid PID] [--json] [--export PATCH [--entries ID...]]
    lainview apply PATCH [--pid PID] [--dry-run] [--force]
    lainview revert ENTRY... | --pid PID | --kernel [--force]
"""

from __future__ import annotations

import json
import os
import sys
import time

from ..backend.errors import InvalidInput
from ..backend.patch import load_patch, patch_from_entries, save_patch
from ..backend.processes import matching_programs
from ..backend.service import Backend
from ..backend.wording import printable
from .output import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, kernel_backend, one_line,
                     print_journal_notices, print_journal_problems, print_json)


def _format_entry(e) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time))
    status = e.status or "unknown (the writer stopped before recording an outcome)"
    extra = f" reverts {e.reverts}" if e.reverts else ""
    if e.freeze:
        extra += f" ({e.freeze_text})"
    return (f"{e.id:>5} {when} {printable(e.label)} {printable(e.where)} {e.old.hex()} -> "
            f"{e.new.hex()} [{status}]{extra}")


def cmd_journal(backend: Backend, args) -> int:
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
    print_journal_problems(backend, problems)
    if wanted - seen:
        raise InvalidInput(f"no journal entry {min(wanted - seen)}"
                           + (f" for process {args.pid}" if args.pid else ""))
    if args.export:
        patch = patch_from_entries(selected)
        save_patch(patch, args.export)
        n = len(patch.writes)
        if args.json:
            print_json({"patch": args.export, "exe": patch.exe, "writes": n})
            return EXIT_OK
        print(f"saved {n} write{'' if n == 1 else 's'} to "
              f"{printable(patch.exe) if patch.exe else 'the program'} "
              f"as a patch in {printable(args.export)}")
        return EXIT_OK
    if args.json:
        out.write("\n]\n" if count else "[]\n")
        out.flush()
        return EXIT_OK
    if not count:
        whose = f" to process {args.pid}" if args.pid else ""
        print(f"no writes{whose} journaled in {backend.journal.path}", file=sys.stderr)
    return EXIT_OK


def cmd_revert(backend: Backend, args) -> int:
    if sum((bool(args.entries), bool(args.pid), args.kernel)) != 1:
        print("lainview revert: give journal entry ids, --pid PID or --kernel (one of them)",
              file=sys.stderr)
        return EXIT_USAGE
    kernel_backend(backend, args)   # reverts kernel entries (its source opens only if needed)
    outcomes = backend.revert(args.entries or None, pid=args.pid,
                              kind="kernel" if args.kernel else None, force=args.force,
                              backend=args.backend).result()
    print_journal_notices(backend.journal)
    print_journal_problems(backend, backend.journal.problems)
    if not outcomes:
        print("nothing to revert", file=sys.stderr)
    if args.json:
        print_json([{"entry_id": o.entry_id, "status": o.status, "message": o.message,
                     "new_entry_id": o.new_entry_id} for o in outcomes])
    else:
        for o in outcomes:
            print(f"entry {o.entry_id}: {o.status}: {o.message}")
    # A write to a process (or boot) that is gone cannot be undone: the revert failed.
    failed = any(o.status in ("conflict", "failed", "gone") for o in outcomes)
    return EXIT_ERROR if failed else EXIT_OK


def cmd_apply(backend: Backend, args) -> int:
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
    if args.json:
        print_json({"pid": pid, "patch": args.patch, "dry_run": args.dry_run,
                    "applied": report.applied,
                    "outcomes": [{"location": o.location, "address": o.address,
                                  "action": o.action, "message": o.message,
                                  "journal_id": o.journal_id} for o in report.outcomes]})
    else:
        for o in report.outcomes:
            where = f"{o.address:#x}" if o.address is not None else "-"
            extra = f" (journal entry {o.journal_id})" if o.journal_id else ""
            print(f"{printable(o.location)} @ {where}: {o.action}"
                  f"{': ' + one_line(o.message) if o.message else ''}{extra}")
    if args.dry_run:
        return EXIT_OK if all(o.action in ("would write", "already")
                              for o in report.outcomes) else EXIT_ERROR
    print_journal_notices(backend.journal)
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

