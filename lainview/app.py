"""Starts the GUI (built by the application issue)."""

from __future__ import annotations

import sys


def run_gui(argv: list[str]) -> int:
    print("lainview: the GUI is not built yet; use a subcommand "
          "(ps, maps, read, write, journal, revert) — see lainview --help", file=sys.stderr)
    return 2
