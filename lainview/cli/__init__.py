"""The command-line interface: the same backend as the GUI, without Qt.

    lainview ps                                                    (ps.py)
    lainview maps | read | write                                   (process.py)
    lainview journal | apply | revert                              (journal.py)
    lainview scan                                                  (scan.py)
    lainview ksyms | kread | kwrite | kmod | kinfo                 (kernel.py)
    lainview desktop                                               (desktop.py)

The grammar is in parser.py (``SUBCOMMANDS``: every subcommand, its
arguments and the function that runs it); what the commands share (exit
codes, one-line messages, JSON output, the hole report, journal notices) in
output.py. Every command takes ``--json``: values keep their types (ints as
ints, addresses as ints, bytes as hex strings); errors stay text on stderr
with the same exit codes.
The command modules never import each other, and a command's module is
imported only when it runs: ``lainview maps`` loads neither the scanner
(numpy) nor the kernel readers. ps, maps, read and write run without the
backend facade (no backend thread: they attach with backend/attach.py in
their one thread). With no subcommand, lainview opens the GUI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from ..backend.errors import InvalidInput, LainviewError
from .output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, backend_facade, one_line
from .parser import (SUBCOMMANDS, Subcommand, build_parser, check_kernel_options,
                     join_signed_values, subcommand_in)

Command = Callable[[argparse.Namespace], int]


def _runner(name: str, spec: Subcommand) -> Command:
    """Run subcommand ``name``: its ``module:function``, imported when first
    run, called as ``function(backend, args)`` with a backend facade made
    for it and shut down after it, or (``spec.facade`` False: ps, maps,
    read, write) as ``function(args)``, which attaches by itself
    (backend/attach.py) and starts no backend thread."""
    module, function = spec.run.split(":")

    def run(args: argparse.Namespace) -> int:
        command = getattr(importlib.import_module(module), function)
        if not spec.facade:
            code: int = command(args)
            return code
        with backend_facade(name) as backend:
            code = command(backend, args)
            return code
    run.__qualname__ = run.__name__ = function
    return run


COMMANDS: dict[str, Command] = {name: _runner(name, spec) for name, spec in SUBCOMMANDS.items()}
"""Each subcommand's name and the function that runs it: ``(args) -> exit code``."""


def run_cli(argv: list[str]) -> int:
    """Run one CLI command; its exit code: 0 done, 1 the operation failed,
    2 bad input (argparse's own errors and every InvalidInput). Other
    exceptions (BrokenPipeError, unexpected ones) go up to
    :func:`lainview.__main__.main`, which ends them in one line too."""
    command = subcommand_in(argv)
    # Only that command's parser is made, unless a help or --version given
    # before it needs the whole grammar.
    before = argv[:argv.index(command)] if command is not None else argv
    whole = command is None or any(a in ("-h", "--help", "--version") for a in before)
    parser = build_parser(lazy=True, only=None if whole else command)
    args = parser.parse_args(join_signed_values(argv))
    try:
        check_kernel_options(args)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()      # a closed pipe shows here, not at interpreter exit
        return code
    except InvalidInput as exc:
        print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except LainviewError as exc:
        print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR


__all__ = ["COMMANDS", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "build_parser", "one_line",
           "run_cli", "subcommand_in"]
