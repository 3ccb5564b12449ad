from tests.models.qt_support import demo, gui_backend, no_widgets_left, qloop, slow_backend, workspace  # noqa: F401
