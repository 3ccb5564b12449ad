"""Entry point: ``lainview`` and ``python -m lainview``.

A subcommand (ps, maps, read, write, journal, revert) runs the CLI; without
one, lainview opens the GUI.
"""

from __future__ import annotations

import sys

from .cli import COMMANDS, run_cli


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if _subcommand(argv) is not None or argv[:1] in (["-h"], ["--help"], ["--version"]):
        return run_cli(argv)
    from .app import run_gui  # Qt is imported only for the GUI
    return run_gui(argv)


def _subcommand(argv: list[str]) -> str | None:
    """The CLI subcommand in ``argv``, skipping global options and their values."""
    tokens = iter(argv)
    for token in tokens:
        if token in ("--backend", "--kmem", "--ksource", "--image"):
            next(tokens, None)
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


if __name__ == "__main__":
    sys.exit(main())
