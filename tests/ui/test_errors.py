"""One handler reports any exception that escapes a task or a slot: in the
status bar and the log, never asyncio's "never retrieved" (issue 12)."""

import logging
import pathlib
import re

import pytest
from PySide6.QtCore import QObject, QTimer, Signal

from lainview.models import tasks


async def _boom():
    raise RuntimeError("boom in a task")


def test_an_exception_escaping_a_task_is_reported(qtbot, window, caplog):
    caplog.set_level(logging.ERROR, logger="lainview")
    task = window.workspace.spawn(_boom())
    qtbot.waitUntil(task.done)
    qtbot.waitUntil(lambda: "boom in a task" in window.statusBar().currentMessage())
    message = window.statusBar().currentMessage()
    assert message.startswith("internal error in the workspace (_boom): RuntimeError")
    record = next(r for r in caplog.records if "boom in a task" in r.getMessage())
    assert record.exc_info and record.exc_info[0] is RuntimeError
    assert "never retrieved" not in caplog.text


class _Emitter(QObject):
    fire = Signal()


@pytest.mark.qt_no_exception_capture
def test_an_exception_escaping_a_slot_is_reported(qtbot, window, caplog):
    caplog.set_level(logging.ERROR, logger="lainview")
    restore = tasks.install_excepthook()
    try:
        emitter = _Emitter()

        def slot():
            raise ValueError("boom in a slot")
        emitter.fire.connect(slot)
        QTimer.singleShot(0, emitter.fire.emit)
        qtbot.waitUntil(lambda: "boom in a slot" in window.statusBar().currentMessage())
        assert "internal error in a slot: ValueError" in window.statusBar().currentMessage()
        assert any("boom in a slot" in r.getMessage() for r in caplog.records)
    finally:
        restore()


def test_one_helper_owns_fire_and_forget_tasks():
    """Nothing but models/tasks.py starts a task itself."""
    root = pathlib.Path(__file__).resolve().parents[2] / "lainview"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "tasks.py"
                 and re.search(r"ensure_future|create_task", p.read_text())]
    assert offenders == []


def test_lainviews_own_error_escaping_a_task_reads_as_itself(qtbot, window):
    from lainview.backend.errors import InvalidInput

    async def refused():
        raise InvalidInput("no area named 'x'")
    task = window.workspace.spawn(refused())
    qtbot.waitUntil(task.done)
    message = window.statusBar().currentMessage()
    assert message.startswith("the workspace (refused): ") and "no area named 'x'" in message
    assert "internal error" not in message
