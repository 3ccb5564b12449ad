"""Entry point: ``lainview`` and ``python -m lainview``.

A subcommand (ps, maps, read, write, journal, revert) runs the CLI; without
one, lainview opens the GUI.
"""

from __future__ import annotations

import sys

from .cli import COMMANDS, run_cli


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    words = [a for a in argv if not a.startswith("-")]
    # Global options such as --backend may come before the subcommand.
    if words and words[0] in COMMANDS or any(a in ("-h", "--help") for a in argv[:1]):
        return run_cli(argv)
    from .app import run_gui  # Qt is imported only for the GUI
    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
