from tests.models.qt_support import demo, gui_backend, no_widgets_left, qloop, slow_backend, workspace  # noqa: F401

import pytest


@pytest.fixture
def window(qtbot, workspace, no_widgets_left):  # noqa: F811
    """The main window over the test's workspace, shown offscreen."""
    from lainview.ui.main_window import MainWindow
    w = MainWindow(workspace)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
