"""The command-line interface: the same backend as the GUI, without Qt.

    lainview ps | maps | read | write | journal | apply | revert   (process.py)
    lainview scan                                                  (scan.py)
    lainview ksyms | kread | kwrite | kmod | kinfo                 (kernel.py)
    lainview desktop                                               (lainview/desktop.py)

The grammar is in parser.py; what the commands share (exit codes, one-line
messages, the hole report, journal notices) in output.py. The command
modules never import each other. With no subcommand, lainview opens the GUI.
"""

from __future__ import annotations

import sys

from ..backend.errors import InvalidInput, LainviewError
from ..backend.service import Backend
from .. import desktop
from .kernel import KERNEL_COMMANDS
from .output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, one_line
from .parser import build_parser
from .process import PROCESS_COMMANDS
from .scan import SCAN_COMMANDS

COMMANDS = {**PROCESS_COMMANDS, **SCAN_COMMANDS, **KERNEL_COMMANDS, **desktop.DESKTOP_COMMANDS}


def run_cli(argv: list[str]) -> int:
    """Run one CLI command; its exit code: 0 done, 1 the operation failed,
    2 bad input (argparse's own errors and every InvalidInput). Other
    exceptions (BrokenPipeError, unexpected ones) go up to
    :func:`lainview.__main__.main`, which ends them in one line too."""
    parser = build_parser()
    args = parser.parse_args(argv)
    backend = Backend()
    try:
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
