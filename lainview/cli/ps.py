"""The process list: ``lainview ps [--json] [--wide]``.

Like maps, read and write it runs without the backend facade (parser.py:
``facade=False``); it attaches to nothing, so it imports none of the
process-memory backends either, and the list is read from /proc directly
(backend/processes.py, without psutil).
"""

from __future__ import annotations

import shutil

from ..backend.processes import list_processes
from ..backend.wording import printable
from .output import EXIT_OK, print_json


def cmd_ps(args) -> int:
    procs = list_processes()
    if args.json:
        print_json([p.to_json() for p in procs])
        return EXIT_OK
    # Like ps(1): a command line (thousands of characters for some) is cut
    # to the terminal's width (COLUMNS, else the tty's, else 80) unless --wide.
    width = None if args.wide else shutil.get_terminal_size().columns
    print(f"{'PID':>7} {'USER':<10} {'RSS':>9}  {'ATTACH':<6} COMMAND")
    for p in procs:
        mark = "yes" if p.attachable else "no"
        head = f"{p.pid:>7} {printable(p.user)[:10]:<10} {p.rss // 1024:>7}K  {mark:<6} "
        tail = "" if p.attachable else f"   [{printable(p.reason.split(':')[0])}]"
        # A process chooses its own command line: a newline or an escape
        # sequence in it must not forge rows or drive the terminal.
        command = printable(p.cmdline or p.name)
        if width is not None:
            room = max(width - len(head) - len(tail), 8)
            if len(command) > room:
                command = command[:room - 1] + "…"
        print(head + command + tail)
    return EXIT_OK
