"""The backend thread: ordering, cancellation and shutdown."""

import threading

import pytest

from lainview.backend.errors import Cancelled
from lainview.backend.thread import BackendClosed, BackendThread


@pytest.fixture
def thread():
    t = BackendThread()
    yield t
    t.shutdown()


def test_requests_run_on_the_backend_thread(thread):
    assert thread.submit(threading.current_thread).result(5) is thread._thread
    assert thread.submit(thread.is_backend_thread).result(5)
    assert not thread.is_backend_thread()


def test_errors_reach_the_caller(thread):
    with pytest.raises(ZeroDivisionError):
        thread.submit(lambda: 1 / 0).result(5)
    assert thread.submit(lambda: 42).result(5) == 42


def test_interactive_request_waits_behind_at_most_one_chunk(thread):
    log = []
    ran = threading.Event()

    def bulk():
        for i in range(10):
            log.append(("chunk", i))
            if i == 3:   # an interactive request arrives while chunk 3 runs
                thread.submit(lambda: (log.append(("interactive",)), ran.set()))
            yield i + 1
        return "done"

    future = thread.submit_bulk(bulk, total=10)
    assert future.result(5) == "done"
    assert ran.is_set()
    assert log.index(("interactive",)) == log.index(("chunk", 3)) + 1
    assert future.progress == (10, 10)


def test_two_bulk_jobs_share_the_thread_round_robin(thread):
    log = []

    def job(name):
        for i in range(3):
            log.append(name)
            yield i + 1

    gate = threading.Event()
    thread.submit(gate.wait, 5)           # hold the thread so both jobs queue up
    a, b = thread.submit_bulk(job, "a"), thread.submit_bulk(job, "b")
    gate.set()
    a.result(5), b.result(5)
    assert log == ["a", "b", "a", "b", "a", "b"]


def test_running_bulk_job_stops_within_one_chunk_when_cancelled(thread):
    steps = []
    started = threading.Event()
    resume = threading.Event()

    def bulk():
        for i in range(1000):
            steps.append(i)
            if i == 2:
                started.set()
                resume.wait(5)
            yield i
        return "finished"

    future = thread.submit_bulk(bulk)
    assert started.wait(5)
    future.cancel()
    resume.set()
    with pytest.raises(Cancelled):
        future.result(5)
    assert steps == [0, 1, 2]


def test_pending_request_can_be_cancelled(thread):
    gate = threading.Event()
    thread.submit(gate.wait, 5)
    calls = []
    pending = thread.submit(calls.append, 1)
    assert pending.cancel()
    gate.set()
    thread.submit(lambda: None).result(5)
    assert calls == [] and pending.cancelled()


def test_shutdown_runs_finalizers_on_the_thread_and_joins():
    t = BackendThread()
    seen = []
    t.call_on_shutdown(lambda: seen.append(t.is_backend_thread()))
    t.shutdown()
    assert seen == [True] and not t.alive
    with pytest.raises(BackendClosed):
        t.submit(lambda: None)


def test_shutdown_cancels_running_bulk_work():
    t = BackendThread()

    def forever():
        while True:
            yield 0

    future = t.submit_bulk(forever)
    t.submit(lambda: None).result(5)
    t.shutdown()
    with pytest.raises(Cancelled):
        future.result(5)


def test_a_polling_job_waits_idle_but_wakes_for_any_request(thread):
    """wait_idle (how a watchpoint paces its steps) gives way at once to an
    interactive request and to another bulk job's chunks."""
    steps = []

    def poller():
        while True:
            steps.append(1)
            yield len(steps)
            thread.wait_idle(30.0)

    job = thread.submit_bulk(poller)
    while not steps:
        threading.Event().wait(0.01)
    assert thread.submit(lambda: 7).result(5) == 7       # not 30 s behind the poller

    def counter():
        for i in range(50):
            yield i
        return "done"
    assert thread.submit_bulk(counter).result(5) == "done"
    job.cancel()                      # takes effect at its next step: any request wakes it
    thread.submit(lambda: None).result(5)
    with pytest.raises(Cancelled):
        job.result(5)
