"""Kernel symbols as a feature of the main window: View ▸ Kernel symbols…
(Ctrl+K) opens the symbol browser, a window of its own over the same
backend and the workspace's one kernel source (``workspace.kernel``, made
by app.py from ``--ksource/--kmem/--image``)."""

from __future__ import annotations


class KernelFeature:
    def __init__(self, window):
        self.window = window
        self.browser = None
        window.add_action("View", "&Kernel symbols…", self.show, "Ctrl+K", separator=True)
        window.add_key_note("kernel symbols", "Ctrl+F / F5 / Ctrl+S",
                            "filter / re-read / write the edited bytes…")
        window.on_close(self.shutdown)

    def show(self):
        from .symbol_browser import open_kernel_browser
        if self.browser is None:
            workspace = self.window.workspace
            self.browser = open_kernel_browser(workspace.backend, self.window,
                                               kernel=workspace.kernel)
        self.browser.show()
        self.browser.raise_()
        self.browser.activateWindow()
        return self.browser

    def shutdown(self) -> None:
        if self.browser is not None:
            self.browser.shutdown()
