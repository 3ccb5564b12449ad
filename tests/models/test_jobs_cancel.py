"""A bulk job cancelled before the backend thread started it reports
Cancelled, exactly like one cancelled while running."""

import asyncio
import threading

import pytest

from lainview.backend.errors import Cancelled
from lainview.models.jobs import start_dump


def test_job_cancelled_while_queued_raises_cancelled(backend, child, tmp_path):
    target = backend.attach(child.pid).result(10)
    area = next(a for a in target.areas().result(10) if a.contains(child.base))
    gate = threading.Event()
    backend.thread.submit(gate.wait, 10)       # hold the thread: the dump stays queued
    try:
        job, writer = start_dump(target, area, str(tmp_path / "dump.bin"))
        job.cancel()
        assert job.future.cancelled()
        with pytest.raises(Cancelled, match="before it started"):
            asyncio.run(job.wait())
        writer.abandon()
    finally:
        gate.set()
