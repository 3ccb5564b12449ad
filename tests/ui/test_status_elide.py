"""Text that does not fit is cut with "…", never mid-letter (issue 12): the
status bar's messages, painted by the real widget offscreen."""

from PySide6.QtCore import Qt

from lainview.ui.fit import ElidingStatusBar


def test_a_long_status_message_ends_in_an_ellipsis_and_is_whole_in_the_tooltip(qtbot, window):
    bar = window.statusBar()
    assert isinstance(bar, ElidingStatusBar)
    window.resize(1024, 640)
    long = "cannot write " + "/very/long/path/" * 40 + "file: permission denied"
    window.show_status(long)
    qtbot.waitUntil(lambda: bar.currentMessage() == long)
    shown = bar.elided_message()
    assert shown != long and shown.endswith("…")
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.message_rect().width()
    assert bar.toolTip() == long
    # The permanent fields keep their place: the message stops before them.
    fields = [w for w in window.status_fields.values() if w.isVisible()]
    assert fields and all(bar.message_rect().right() < w.geometry().left() for w in fields)
    bar.grab()                      # paints through paintEvent without error
    window.show_status("short")
    qtbot.waitUntil(lambda: bar.elided_message() == "short")
    bar.clearMessage()
    assert bar.toolTip() == "" and bar.elided_message() == ""
