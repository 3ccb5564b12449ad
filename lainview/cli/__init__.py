"""The command-line interface: the same backend as the GUI, without Qt.

    lainview ps | maps | read | write | journal | apply | revert   (process.py)
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
(numpy) nor the kernel readers. With no subcommand, lainview opens the GUI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..backend.errors import InvalidInput, LainviewError
from .output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, one_line
from .parser import SUBCOMMANDS, build_parser, check_kernel_options, join_signed_values

if TYPE_CHECKING:
    from ..backend.service import Backend

Command = Callable[["Backend", argparse.Namespace], int]


def _runner(where: str) -> Command:
    """The command ``module:function``, imported when first run."""
    module, function = where.split(":")

    def run(backend: Backend, args: argparse.Namespace) -> int:
        command: Command = getattr(importlib.import_module(module), function)
        return command(backend, args)
    run.__qualname__ = run.__name__ = function
    return run


COMMANDS: dict[str, Command] = {name: _runner(spec.run) for name, spec in SUBCOMMANDS.items()}
"""Each subcommand's name and the function that runs it: ``(backend, args) -> exit code``."""


def run_cli(argv: list[str]) -> int:
    """Run one CLI command; its exit code: 0 done, 1 the operation failed,
    2 bad input (argparse's own errors and every InvalidInput). Other
    exceptions (BrokenPipeError, unexpected ones) go up to
    :func:`lainview.__main__.main`, which ends them in one line too."""
    from ..backend.service import Backend
    args = build_parser(lazy=True).parse_args(join_signed_values(argv))
    backend = Backend()
    try:
        check_kernel_options(args)
        code = COMMANDS[args.command](backend, args)
        sys.stdout.flush()      # a closed pipe shows here, not at interpreter exit
        return code
    except InvalidInput as exc:
        print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except LainviewError as exc:
        print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        try:
            backend.shutdown()
        except LainviewError as exc:    # stuck in a transfer the kernel never finishes
            print(f"lainview {args.command}: {one_line(exc)}", file=sys.stderr)


__all__ = ["COMMANDS", "EXIT_ERROR", "EXIT_OK", "EXIT_USAGE", "build_parser", "one_line",
           "run_cli"]
