"""The journal dock's model says when it skipped damaged journal lines,
and still lists every good entry."""

from __future__ import annotations

from tests.models.qt_support import attach


def test_damaged_lines_are_reported_in_the_status(qtbot, workspace, child):
    attach(qtbot, workspace, child.pid)
    journal = workspace.journal
    target = workspace.target.target
    target.write(child.counter + 8, b"\x01").result()
    with open(workspace.backend.journal.path, "ab") as f:
        f.write(b'5\n{"type":"intent","id":[1]}\n')
    target.write(child.counter + 9, b"\x02").result()
    messages = []
    journal.status.connect(messages.append)
    journal.start()
    qtbot.waitUntil(lambda: journal.rowCount() == 2, timeout=10000)
    qtbot.waitUntil(lambda: any("skipped 2 damaged lines" in m for m in messages),
                    timeout=10000)
    assert "line 3 (byte" in journal.error and "not a positive integer" in journal.error
