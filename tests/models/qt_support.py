"""Fixtures shared by the model and widget tests: a qasync loop on the
test's QApplication, a backend that is always shut down, and the bundled
demo target as a real child process with known memory."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QLineEdit


@pytest.fixture
def qloop(qapp):
    """A qasync event loop that counts as running while Qt processes events
    (qtbot.waitUntil/waitSignal), so slots can await backend futures."""
    import qasync
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    # Let the cancellations run.
    deadline = loop.time() + 5
    while any(not t.done() for t in tasks) and loop.time() < deadline:
        QCoreApplication.processEvents()
    loop._QEventLoop__is_running = False        # already_running loops have no exec to leave
    asyncio.events._set_running_loop(None)
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def gui_backend(qloop):
    from lainview.backend.service import Backend
    backend = Backend()
    yield backend
    backend.shutdown()


@pytest.fixture
def slow_backend(qloop):
    """Every request takes 250 ms on the backend thread."""
    from lainview.backend.service import Backend
    backend = Backend(request_delay=0.25)
    yield backend
    backend.shutdown()


@dataclass
class Demo:
    proc: subprocess.Popen
    layout: dict

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __getattr__(self, name):
        try:
            return self.layout[name]
        except KeyError:
            raise AttributeError(name) from None

    def command(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        while True:
            reply = self.proc.stdout.readline()
            if not reply:
                raise RuntimeError(f"the demo died answering {line!r}")
            return reply.strip()

    def peek(self, address: int, size: int) -> bytes:
        """The demo's own view of its memory."""
        return bytes.fromhex(self.command(f"peek {address:x} {size}").split(" ", 1)[1]
                             if size else "")

    def poke(self, address: int, data: bytes) -> None:
        assert self.command(f"poke {address:x} {data.hex()}") == "poked"

    def map(self, size: int) -> int:
        reply = self.command(f"map {size}")
        assert reply.startswith("mapped "), reply
        return int(reply.split()[1], 16)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def demo():
    d = start_demo()
    yield d
    d.kill()


def start_demo() -> Demo:
    """The bundled demo target, running (kill it when done)."""
    proc = subprocess.Popen([sys.executable, "-m", "lainview.demo_target"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("lainview-demo "):
        proc.kill()
        raise RuntimeError(f"the demo target did not start: {line!r}")
    return Demo(proc, json.loads(line.split(" ", 1)[1]))


@pytest.fixture
def workspace(gui_backend, qtbot):
    from lainview.models.workspace import Workspace
    ws = Workspace(gui_backend)
    yield ws
    ws.stop()
    assert not ws.document._timer.isActive() and not ws._areas_timer.isActive()
    ws.deleteLater()


def attach(qtbot, ws, pid: int, timeout: int = 10000) -> None:
    task = ws.spawn(ws.attach(pid))
    qtbot.waitUntil(task.done, timeout=timeout)
    assert task.result() is True, "attach failed"


def open_demo(qtbot, ws, demo: Demo, visible_bytes: int = 0x400) -> None:
    """Attach to the demo and open its whole mapping with the counter on screen."""
    attach(qtbot, ws, demo.pid)
    ws.open_span(demo.base, demo.base + demo.size, "demo", demo.counter)
    ws.document.set_visible(demo.counter - 0x100, demo.counter - 0x100 + visible_bytes)
    wait_loaded(qtbot, ws.document)


def open_demo_window(qtbot, window, demo: Demo) -> None:
    """Attach the main window to the demo and open its whole mapping."""
    ws = window.workspace
    task = ws.spawn(window.attach_and_open(demo.pid, None))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result()
    ws.open_span(demo.base, demo.base + demo.size, "demo", demo.counter)
    wait_loaded(qtbot, ws.document)


def wait_loaded(qtbot, document, timeout: int = 10000) -> None:
    qtbot.waitUntil(lambda: document.visible_pages() and all(
        p in document.pages and document.pages[p].data is not None
        for p in document.visible_pages()), timeout=timeout)


def open_editor(qtbot, table, index) -> QLineEdit:
    """Open the line editor of ``table``'s cell at ``index`` as a user
    would (focus, current cell, edit) and select its text."""
    table.setFocus()
    table.setCurrentIndex(index)
    table.edit(index)
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit), timeout=5000)
    editor = QApplication.focusWidget()
    editor.selectAll()
    return editor


@pytest.fixture
def no_widgets_left(qapp):
    """Fails a test that leaves a top-level widget open."""
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    open_widgets = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not open_widgets, f"widgets left open: {open_widgets}"
