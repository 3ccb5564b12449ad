"""Fire-and-forget tasks, and the one place an exception that escapes a task
or a slot is reported.

Every object that starts coroutines it does not await keeps a
:class:`TaskSet`: it holds the tasks (asyncio keeps only weak references),
cancels them on ``cancel_all()``, and hands any exception a task ends with
to :func:`report_exception` instead of letting asyncio print "Task
exception was never retrieved" at some later garbage collection.

:func:`report_exception` logs the traceback (logger ``lainview``) and calls
every reporter added with :func:`add_reporter` with a one-line text — the
main window adds one that shows it in the status bar. ``app.py`` routes
``sys.excepthook`` (exceptions escaping Qt slots) and the event loop's
exception handler here too.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Callable, Coroutine, Iterator

from lainview.backend.errors import LainviewError

log = logging.getLogger("lainview")

_reporters: list[Callable[[str], None]] = []


def add_reporter(reporter: Callable[[str], None]) -> Callable[[], None]:
    """Call ``reporter(text)`` for every reported exception; returns a
    function that removes it again."""
    _reporters.append(reporter)

    def remove() -> None:
        if reporter in _reporters:
            _reporters.remove(reporter)
    return remove


def describe_exception(exc: BaseException, where: str) -> str:
    """The one line a user sees: ``internal error in WHERE: Type: message``
    (for lainview's own errors, which explain themselves: ``WHERE: message``)."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, LainviewError) and message:
        return f"{where}: {message}"
    text = f"internal error in {where}: {type(exc).__name__}"
    return f"{text}: {message}" if message else text


def report_exception(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its traceback and tell every reporter in one line;
    returns that line. Never raises."""
    text = describe_exception(exc, where)
    log.error("%s", text, exc_info=(type(exc), exc, exc.__traceback__))
    for reporter in list(_reporters):
        try:
            reporter(text)
        except Exception:   # noqa: BLE001 - a broken reporter must not hide the first error
            log.exception("an exception reporter failed")
    return text


def install_excepthook() -> Callable[[], None]:
    """Route exceptions that escape a Qt slot (PySide hands them to
    ``sys.excepthook``) to :func:`report_exception`; returns a function
    that puts the previous hook back."""
    previous = sys.excepthook

    def hook(kind, exc, tb) -> None:
        if issubclass(kind, (KeyboardInterrupt, SystemExit)):
            previous(kind, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        report_exception(exc, "a slot")
    sys.excepthook = hook

    def restore() -> None:
        sys.excepthook = previous
    return restore


def loop_exception_handler(_loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """For ``loop.set_exception_handler``: what asyncio itself would print
    (a callback's exception, a task nobody awaited) is reported instead."""
    exc = context.get("exception")
    where = context.get("message") or "the event loop"
    if exc is None:
        exc = RuntimeError(where)
        where = "the event loop"
    report_exception(exc, where)


class TaskSet:
    """The tasks one object started and does not await itself.

    ``spawn(coro)`` schedules ``coro`` on the running event loop and returns
    its task (callers may await it or read its result); the set keeps a
    reference until it is done. A task that ends with an exception other
    than cancellation is reported (:func:`report_exception`, naming
    ``owner`` and the coroutine)."""

    def __init__(self, owner: str = "a task"):
        self.owner = owner
        self._tasks: set[asyncio.Future] = set()

    def spawn(self, coro: Coroutine | asyncio.Future) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        name = getattr(getattr(coro, "cr_code", None), "co_name", None) or "task"
        task.add_done_callback(lambda t: self._done(t, name))
        return task

    def _done(self, task: asyncio.Future, name: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            report_exception(exc, f"{self.owner} ({name})")

    def cancel_all(self) -> None:
        """Cancel every task still running."""
        for task in list(self._tasks):
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[asyncio.Future]:
        return iter(list(self._tasks))

    def discard(self, task: asyncio.Future) -> None:
        self._tasks.discard(task)

    def add(self, task: asyncio.Future) -> None:
        """Keep (and watch) a task started elsewhere."""
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, "task"))


__all__ = ["TaskSet", "add_reporter", "report_exception", "describe_exception",
           "install_excepthook", "loop_exception_handler"]
