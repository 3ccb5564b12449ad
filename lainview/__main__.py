"""Entry point: ``lainview`` and ``python -m lainview``.

A subcommand (ps, maps, read, write, journal, revert, ...) runs the CLI;
without one, lainview opens the GUI.

Whatever happens, no traceback reaches the user: an exception nothing else
handled ends in one line on stderr and exit code 1; with the environment
variable ``LAINVIEW_DEBUG=1`` the full traceback follows that line. A reader
that goes away (``lainview ps --json | head -c 100``) ends the output quietly
(exit 1, the standard Python way: stdout is pointed at /dev/null so the
interpreter's last flush cannot fail again). Ctrl+C ends with exit 130.
"""

from __future__ import annotations

import os
import signal
import sys

# Ctrl+C while the modules load simply ends the process (no traceback); once
# main() runs it raises KeyboardInterrupt, handled below.
signal.signal(signal.SIGINT, signal.SIG_DFL)

from .backend.errors import LainviewError  # noqa: E402
from .cli import EXIT_ERROR, one_line, run_cli, subcommand_in  # noqa: E402

EXIT_INTERRUPTED = 130
DEBUG_ENV = "LAINVIEW_DEBUG"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if subcommand_in(argv) is not None or argv[:1] in (["-h"], ["--help"], ["--version"]):
            return run_cli(argv)
        from .app import run_gui  # Qt is imported only for the GUI
        return run_gui(argv)
    except BrokenPipeError:
        silence_stdout()
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("lainview: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except LainviewError as exc:   # e.g. BackendStuck at exit: a transfer never finished
        print(f"lainview: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:   # noqa: BLE001 - the last guard: one line, never a traceback
        report_unexpected(exc, argv)
        return EXIT_ERROR


def silence_stdout() -> None:
    """Point stdout at /dev/null: the reader of our output went away, and the
    interpreter's final flush must not raise BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def report_unexpected(exc: BaseException, argv: list[str]) -> None:
    """One line naming the exception; the traceback only with LAINVIEW_DEBUG=1."""
    where = subcommand_in(argv) or ""
    prefix = f"lainview {where}".rstrip()
    detail = one_line(str(exc)) or "(no message)"
    if os.environ.get(DEBUG_ENV):
        import traceback    # here: only a crash in debug mode needs it (start-up)
        print(f"{prefix}: internal error: {type(exc).__name__}: {detail}", file=sys.stderr)
        traceback.print_exception(exc, file=sys.stderr)
    else:
        print(f"{prefix}: internal error: {type(exc).__name__}: {detail} "
              f"(set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
