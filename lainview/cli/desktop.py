"""The desktop command: install or remove the desktop entry, icon, man page
and completion (the files themselves: lainview/desktop.py).

    lainview desktop install | uninstall | install-pkexec | uninstall-pkexec [--json]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..backend.errors import LainviewError
from ..desktop import data_home, install, install_pkexec, uninstall, uninstall_pkexec
from .output import EXIT_OK, print_json


def cmd_desktop(_backend: object, args: argparse.Namespace) -> int:
    """Handler of ``lainview desktop``: prints one line per file (with
    ``--json``: ``{"action", "paths": [...]}``); exit 0, or 1 when a file
    cannot be written or removed."""
    home = data_home()
    if args.action.endswith("-pkexec") and os.geteuid() != 0 and args.prefix == "/":
        raise LainviewError("needs root: sudo lainview desktop " + args.action)
    paths = {"install": lambda: install(home), "uninstall": lambda: uninstall(home),
             "install-pkexec": lambda: install_pkexec(Path(args.prefix)),
             "uninstall-pkexec": lambda: uninstall_pkexec(Path(args.prefix))}[args.action]()
    if args.json:
        print_json({"action": args.action, "paths": [str(p) for p in paths]})
        return EXIT_OK
    verb = "removed" if args.action.startswith("uninstall") else "installed"
    for path in paths:
        print(f"{verb} {path}")
    if args.action == "install":
        print(f"zsh: add {home / 'zsh/site-functions'} to fpath for completion")
    elif not paths:
        print(f"nothing to remove under {home if args.action == 'uninstall' else args.prefix}")
    return EXIT_OK

