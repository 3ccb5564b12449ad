"""The backend thread: the one thread that owns every device and /proc
descriptor, and runs every request.

Requests come in two kinds:

- *interactive* (a 4 KiB page for the hex view, a write, a map): run in
  arrival order, ahead of any bulk work;
- *bulk* (a 1 GiB read, a dump, a scan): a generator that does one chunk
  per step. Between two steps the thread runs every waiting interactive
  request, so one never waits behind more than one chunk.

Every call returns a :class:`BackendFuture`. Pending requests can be
cancelled; a running bulk request stops at its next chunk when cancelled and
fails with :class:`~lainview.backend.errors.Cancelled`.

One transfer the kernel never finishes (a userfaultfd page its target never
fills) must not wedge the application: once a request or chunk has run for
``STUCK_AFTER`` seconds, a watchdog fails every waiting request, and every new
one at once, with :class:`BackendStuck` saying what the thread is stuck in;
``shutdown`` then returns within a second (raising BackendStuck), and the
daemon thread ends with the process. If the transfer completes after all,
the thread carries on.
"""

from __future__ import annotations

import collections
import concurrent.futures
import errno as _errno
import logging
import threading
import time
from typing import Any, Callable, Generator, Generic, ParamSpec, TypeVar

from .errors import Cancelled, LainviewError

log = logging.getLogger(__name__)

THREAD_NAME = "lainview-backend"
STUCK_AFTER = 5.0          # seconds one request or chunk may run before it counts as stuck

T = TypeVar("T")
P = ParamSpec("P")


class BackendFuture(concurrent.futures.Future[T], Generic[T]):
    """A Future whose running bulk work can also be asked to stop.

    ``BackendFuture[R]``: ``result()`` returns an ``R`` or raises what the
    request raised (a :class:`~lainview.backend.errors.LainviewError`).
    """

    def __init__(self) -> None:
        super().__init__()
        self._stop_requested = False
        self.progress: tuple[int, int] = (0, 0)   # (done, total) for bulk work

    def cancel(self) -> bool:
        self._stop_requested = True
        return super().cancel()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested


# A queued request: its future, the callable (or generator function), args, kwargs.
_Item = tuple[BackendFuture[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class BackendClosed(LainviewError):
    """The backend thread has been shut down."""


class BackendStuck(LainviewError):
    """The backend thread has been inside one request for longer than
    STUCK_AFTER seconds (a transfer the kernel does not finish); the request
    this error answers was not run."""

    default_errno = _errno.ETIMEDOUT


class BackendThread:
    """Runs requests on one long-lived thread. Use ``shutdown()`` to stop it."""

    def __init__(self, *, request_delay: float = 0.0, name: str = THREAD_NAME):
        # request_delay: a test hook that slows every step, to prove the UI
        # never waits on the backend.
        self.request_delay = request_delay
        self._interactive: collections.deque[_Item] = collections.deque()
        self._bulk: collections.deque[_Item] = collections.deque()
        self._cv = threading.Condition()
        self._closing = False
        self._finalizers: list[Callable[[], None]] = []
        self.stuck_after = STUCK_AFTER
        self._current: tuple[str, float] | None = None   # (what, time.monotonic() at start)
        self._running_bulk = 0                           # bulk jobs started and not finished
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._watchdog = threading.Thread(target=self._watch, name=f"{name}-watchdog",
                                          daemon=True)
        self._watchdog.start()

    # -- submitting ---------------------------------------------------------------------
    def submit(self, fn: Callable[P, T], /, *args: P.args,
               **kwargs: P.kwargs) -> BackendFuture[T]:
        """Run ``fn(*args, **kwargs)`` on the backend thread, ahead of bulk work."""
        future: BackendFuture[T] = BackendFuture()
        self._enqueue(self._interactive, (future, fn, args, kwargs))
        return future

    def submit_bulk(self, job: Callable[..., Generator[int, None, T]], *args: Any,
                    total: int = 0, **kwargs: Any) -> BackendFuture[T]:
        """Run a generator job one step at a time. Each ``yield done`` ends a
        chunk and updates ``future.progress``; the generator's return value
        is the result."""
        future: BackendFuture[T] = BackendFuture()
        future.progress = (0, total)
        self._enqueue(self._bulk, (future, job, args, kwargs))
        return future

    def _enqueue(self, queue: collections.deque[_Item], item: _Item) -> None:
        with self._cv:
            if self._closing:
                raise BackendClosed("the backend has been shut down", op="submit")
            reason = self.stuck()
            if reason is None:
                queue.append(item)
                self._cv.notify()
                return
        item[0].set_exception(BackendStuck(reason, op="submit"))

    # -- the watchdog ---------------------------------------------------------------------
    def stuck(self) -> str | None:
        """Why the thread counts as stuck (what it has been in, for how
        long), or None while it is not."""
        current = self._current
        if current is None:
            return None
        what, since = current
        elapsed = time.monotonic() - since
        if elapsed < self.stuck_after:
            return None
        return (f"the backend has been inside {what} for {elapsed:.0f} s (a transfer the "
                "kernel does not finish, e.g. a page of a userfaultfd area the target never "
                "fills); the request was not run")

    def _watch(self) -> None:
        """Fail every waiting request while the thread is stuck."""
        while not self._stopped.wait(min(1.0, self.stuck_after / 4)):
            reason = self.stuck()
            if reason is None:
                continue
            with self._cv:
                waiting = list(self._interactive) + list(self._bulk)
                self._interactive.clear()
                self._bulk.clear()
            for future, *_ in waiting:
                if future.set_running_or_notify_cancel():
                    future.set_exception(BackendStuck(reason, op="submit"))

    def wait_idle(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds unless other work is waiting or
        running: for a bulk job that polls (a watchpoint) between its steps,
        so it neither spins nor delays anything else."""
        with self._cv:
            if self._interactive or self._bulk or self._closing or self._running_bulk > 1:
                return
            self._cv.wait(timeout)

    def call_on_shutdown(self, finalizer: Callable[[], None]) -> None:
        """Run ``finalizer`` on the backend thread when it shuts down (close
        descriptors that are still open)."""
        self._finalizers.append(finalizer)

    def is_backend_thread(self) -> bool:
        return threading.current_thread() is self._thread

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        running_bulk: list[tuple[BackendFuture[Any], Generator[int, None, Any]]] = []
        while True:
            with self._cv:
                while not (self._interactive or self._bulk or running_bulk or self._closing):
                    self._cv.wait()
                if self._closing and not self._interactive:
                    break
                item = self._interactive.popleft() if self._interactive else None
                new_bulk = self._bulk.popleft() if item is None and self._bulk else None
            if item is not None:
                self._run_interactive(*item)
            elif new_bulk is not None:
                started = self._start_bulk(*new_bulk)
                if started is not None:
                    running_bulk.append(started)
            elif running_bulk:
                self._running_bulk = len(running_bulk)
                # Round-robin: one chunk of the oldest job, then back to the queue.
                job = running_bulk.pop(0)
                if self._step_bulk(*job):
                    running_bulk.append(job)
        for future, gen in running_bulk:
            gen.close()
            future.set_exception(Cancelled("the backend shut down", op="bulk"))
        with self._cv:
            leftovers = list(self._bulk)
            self._bulk.clear()
        for future, *_ in leftovers:
            future.cancel()
        for finalizer in reversed(self._finalizers):
            try:
                finalizer()
            except Exception:   # noqa: BLE001 - shutdown must finish
                log.exception("backend finalizer failed")

    def _delay(self) -> None:
        if self.request_delay:
            time.sleep(self.request_delay)

    def _run_interactive(self, future: BackendFuture[Any], fn: Callable[..., Any],
                         args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        self._delay()
        self._current = (_describe(fn), time.monotonic())
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:   # noqa: BLE001 - handed to the caller
            future.set_exception(exc)
        else:
            future.set_result(result)
        finally:
            self._current = None

    def _start_bulk(self, future: BackendFuture[Any], job: Callable[..., Any],
                    args: tuple[Any, ...], kwargs: dict[str, Any],
                    ) -> tuple[BackendFuture[Any], Generator[int, None, Any]] | None:
        if not future.set_running_or_notify_cancel():
            return None
        try:
            gen = job(*args, **kwargs)
        except BaseException as exc:   # noqa: BLE001
            future.set_exception(exc)
            return None
        return (future, gen) if self._step_bulk(future, gen) else None

    def _step_bulk(self, future: BackendFuture[Any], gen: Generator[int, None, Any]) -> bool:
        """Run one chunk; True while the job has more to do."""
        if future.stop_requested:
            gen.close()
            future.set_exception(Cancelled("cancelled", op="bulk"))
            return False
        self._delay()
        self._current = (_describe(gen), time.monotonic())
        try:
            done = next(gen)
        except StopIteration as stop:
            future.set_result(stop.value)
            return False
        except BaseException as exc:   # noqa: BLE001
            future.set_exception(exc)
            return False
        finally:
            self._current = None
        future.progress = (done, future.progress[1])
        return True

    # -- stopping ----------------------------------------------------------------------------
    def shutdown(self, timeout: float | None = 10.0) -> None:
        """Finish waiting interactive requests, cancel bulk work, run the
        finalizers (which close every descriptor) and join the thread."""
        with self._cv:
            self._closing = True
            self._cv.notify()
        if threading.current_thread() is not self._thread:
            # A request still running gets until it would count as stuck.
            current = self._current
            if current is not None and timeout is not None:
                left = self.stuck_after - (time.monotonic() - current[1])
                timeout = min(timeout, max(1.0, left))
            self._thread.join(timeout)
            self._stopped.set()
            if self._thread.is_alive():
                raise BackendStuck(
                    f"the backend thread did not stop: {self.stuck() or 'still busy'}; "
                    "leaving it to end with the process", op="shutdown")
        else:
            self._stopped.set()


def _describe(fn: object) -> str:
    """A short name for a request: the function or generator's qualified name."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name or type(fn).__name__
