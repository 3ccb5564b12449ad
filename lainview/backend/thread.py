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
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import threading
import time
from typing import Any, Callable, Generator

from .errors import Cancelled, LainviewError

log = logging.getLogger(__name__)

THREAD_NAME = "lainview-backend"


class BackendFuture(concurrent.futures.Future):
    """A Future whose running bulk work can also be asked to stop."""

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


class BackendClosed(LainviewError):
    """The backend thread has been shut down."""


class BackendThread:
    """Runs requests on one long-lived thread. Use ``shutdown()`` to stop it."""

    def __init__(self, *, request_delay: float = 0.0, name: str = THREAD_NAME):
        # request_delay: a test hook that slows every step, to prove the UI
        # never waits on the backend.
        self.request_delay = request_delay
        self._interactive: collections.deque = collections.deque()
        self._bulk: collections.deque = collections.deque()
        self._cv = threading.Condition()
        self._closing = False
        self._finalizers: list[Callable[[], None]] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- submitting ---------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args, **kwargs) -> BackendFuture:
        """Run ``fn(*args, **kwargs)`` on the backend thread, ahead of bulk work."""
        future = BackendFuture()
        self._enqueue(self._interactive, (future, fn, args, kwargs))
        return future

    def submit_bulk(self, job: Callable[..., Generator[int, None, Any]], *args,
                    total: int = 0, **kwargs) -> BackendFuture:
        """Run a generator job one step at a time. Each ``yield done`` ends a
        chunk and updates ``future.progress``; the generator's return value
        is the result."""
        future = BackendFuture()
        future.progress = (0, total)
        self._enqueue(self._bulk, (future, job, args, kwargs))
        return future

    def _enqueue(self, queue: collections.deque, item) -> None:
        with self._cv:
            if self._closing:
                raise BackendClosed("the backend has been shut down", op="submit")
            queue.append(item)
            self._cv.notify()

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
        running_bulk: list[tuple[BackendFuture, Generator]] = []
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

    def _run_interactive(self, future: BackendFuture, fn, args, kwargs) -> None:
        if not future.set_running_or_notify_cancel():
            return
        self._delay()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:   # noqa: BLE001 - handed to the caller
            future.set_exception(exc)
        else:
            future.set_result(result)

    def _start_bulk(self, future: BackendFuture, job, args, kwargs):
        if not future.set_running_or_notify_cancel():
            return None
        try:
            gen = job(*args, **kwargs)
        except BaseException as exc:   # noqa: BLE001
            future.set_exception(exc)
            return None
        return (future, gen) if self._step_bulk(future, gen) else None

    def _step_bulk(self, future: BackendFuture, gen: Generator) -> bool:
        """Run one chunk; True while the job has more to do."""
        if future.stop_requested:
            gen.close()
            future.set_exception(Cancelled("cancelled", op="bulk"))
            return False
        self._delay()
        try:
            done = next(gen)
        except StopIteration as stop:
            future.set_result(stop.value)
            return False
        except BaseException as exc:   # noqa: BLE001
            future.set_exception(exc)
            return False
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
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError("the backend thread did not stop")
