"""What every CLI command shares: exit codes, one-line messages, the hole
report, journal notices, and the kernel backend built from the global
options. The command modules (process, scan, kernel) import this and never
each other (an import-linter contract in pyproject.toml)."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..backend.errors import LainviewError
from ..backend.wording import counted, printable

if TYPE_CHECKING:
    from ..backend.attach import AttachedProcess
    from ..backend.journal import Journal
    from ..backend.kernel import KernelBackend
    from ..backend.locations import Location
    from ..backend.service import Backend, Target

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived while a long command ran (raised in the
    main thread by :func:`stop_on_signals`)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def stop_on_signals(cleanup: Callable[[], None] | None = None) -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM raise :class:`Stopped` in
    the main thread, so a long command (scan, ptrscan, watchpoint) ends the
    same way for both. On the way out, however it leaves, further signals
    are ignored while ``cleanup`` runs (a second ^C must not cut it), then
    the previous handlers return."""
    import threading    # here: the one-shot commands (ps, maps, read, write) start no thread
    handlers: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        def stop(signum: int, _frame: object) -> None:
            raise Stopped(signum)
        handlers = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig in handlers:
            signal.signal(sig, signal.SIG_IGN)
        try:
            if cleanup is not None:
                cleanup()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)


def address_in(target: Target | AttachedProcess, location: Location, size: int = 1) -> int:
    """The address a process command's location argument names in
    ``target`` (an attached process: the facade's Target, or one attached
    directly with backend/attach.py): an absolute address as given (its
    bytes may be unmapped: a read reports them as holes), any other location
    resolved in the target's map, where ``size`` bytes must fit (0: an end
    address, which may be the area's end); a pointer path's pointers are
    read from the target. Raises Unresolved (an InvalidInput: exit 2)
    naming what did not resolve and why."""
    if location.kind == "absolute" and not location.steps:
        return location.offset
    from ..backend.attach import AttachedProcess, resolve_in   # here: ps attaches to nothing
    if isinstance(target, AttachedProcess):
        return resolve_in(target.memory, location, size, target.memory.areas(refresh=False))
    return int(target.resolve(location, size, refresh=False).result())


@contextlib.contextmanager
def backend_facade(command: str) -> Iterator[Backend]:
    """A backend facade (and its thread) for one command, shut down after
    it. A shutdown that fails (the thread stuck in a transfer the kernel
    never finishes: BackendStuck) is one line on stderr and does not hide
    what the command raised (^C still ends with 130)."""
    from ..backend.service import Backend
    backend = Backend()
    try:
        yield backend
    finally:
        try:
            backend.shutdown()
        except LainviewError as exc:
            print(f"lainview {command}: {one_line(exc)}", file=sys.stderr)


def one_line(text: object) -> str:
    """``text`` with its line breaks folded (with the white space around
    them, into one space) and any other control character escaped
    (:func:`printable`), for a one-line error message. Other runs of spaces
    stay: a name in a message is quoted as it was typed."""
    return printable(_LINE_BREAK.sub(" ", str(text).strip()))


_LINE_BREAK = re.compile(r"[ \t]*[\r\n]+\s*")


def note(text: str) -> None:
    """A ``# text`` comment line on stderr (what the command used, counts)."""
    print(f"# {text}", file=sys.stderr)


def print_json(value: Any) -> None:
    """``value`` as JSON on stdout, the way every ``--json`` prints it:
    ints stay ints (addresses too), bytes are given as hex strings by the
    caller, one key or item per line."""
    print(json.dumps(value, indent=1))


def holes_json(holes: Iterable[Any]) -> list[list[Any]]:
    """Unreadable stretches for ``--json``: ``[[address, size, reason], ...]``."""
    return [[h.address, h.size, h.reason] for h in holes]


def report_holes(command: str, holes: Iterable[Any]) -> None:
    """One stderr line per unreadable stretch of a read:
    ``lainview read: 4096 bytes unreadable: ... at 0x...`` (``holes``:
    the ``Hole`` records of a read result: address, size, reason, errno)."""
    for hole in holes:
        err = LainviewError(f"{counted(hole.size, 'byte')} unreadable: {hole.reason}",
                            errno=hole.errno, address=hole.address)
        print(f"lainview {command}: {err}", file=sys.stderr)


def print_journal_notices(journal: Journal) -> None:
    """Repairs the journal made while appending (a torn last line terminated)."""
    for notice in journal.take_notices():
        print(f"lainview: note: {notice}", file=sys.stderr)


def print_journal_problems(backend: Backend, problems: Any) -> None:
    """A warning naming the journal lines that could not be read, if any."""
    if problems:
        print(f"lainview: warning: {problems.summary(backend.journal.path)}", file=sys.stderr)


def kernel_backend(backend: Backend, args: argparse.Namespace) -> KernelBackend:
    """The kernel backend the global options (--ksource, --kmem, --image) choose."""
    from ..backend.kernel import KernelBackend
    # The CLI process ends at once: holds taken by `kmod hold` must outlive it.
    return KernelBackend(backend, source=args.ksource, kmem_path=args.kmem,
                         images=args.image, release_holds_on_close=False)
