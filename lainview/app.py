"""The GUI entry point: ``lainview [--demo | --pid PID | --pick] [--session FILE]
[--kernel] [--screenshot PATH]``.

Builds the QApplication, runs it on a qasync event loop (so slots can await
backend futures), and shuts the backend thread down on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

from lainview import __version__
from lainview.backend.service import BACKENDS


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="lainview",
        description="A Linux desktop memory editor. Without a subcommand it opens the "
                    "window; see `lainview --help` for the command-line tools.")
    parser.add_argument("--version", action="version", version=f"lainview {__version__}")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--demo", action="store_true",
                      help="start the bundled demo process and attach to it")
    what.add_argument("--pid", type=int, help="attach to this process")
    what.add_argument("--pick", action="store_true", help="open the process picker")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="how to reach the target's memory (default: auto)")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="render the window (attached to the demo unless --pid is "
                             "given) to a PNG and exit")
    parser.add_argument("--address", help="with --pid or --demo: go to this address or "
                                          "area+offset; with --kernel: select this symbol")
    # Kernel symbols (issue 4): the browser window and its source.
    parser.add_argument("--kernel", action="store_true",
                        help="open the kernel-symbol browser (with --screenshot: render it)")
    from lainview.cli.parser import add_global_options
    add_global_options(parser)
    parser.add_argument("--session", metavar="FILE",
                        help="open a saved session (watch list, bookmarks, view) on the "
                             "process running its program (with --pid: on that process)")
    args = parser.parse_args(argv)
    if args.address and not (args.demo or args.pid is not None or args.kernel
                             or args.screenshot):
        parser.error("--address needs --pid PID or --demo (the process to go to it in), "
                     "or --kernel (the symbol to select)")
    if args.ksource != "auto":
        # A source chosen by name with an option it would ignore: say so now
        # (exit 2), as the CLI does, not in the browser later.
        from lainview.backend.errors import InvalidInput
        from lainview.backend.ksources import SourceRequest, check_options, source_class
        try:
            check_options(source_class(args.ksource), SourceRequest(
                args.ksource, args.kmem, tuple(args.image)))
        except InvalidInput as exc:
            parser.error(exc.message)
    return args


def run_gui(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.screenshot and args.pid is None and not args.kernel:
        args.demo = True
    if not _has_display():
        if not args.screenshot:
            print("lainview: no display (neither DISPLAY nor WAYLAND_DISPLAY is set). Run it in "
                  "a desktop session, use a subcommand (lainview --help), or render with "
                  "--screenshot PATH", file=sys.stderr)
            return 1
        os.environ["QT_QPA_PLATFORM"] = "offscreen"   # a screenshot needs no screen
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication
    import qasync

    qInstallMessageHandler(_qt_message)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)        # lainview makes no other kind
    identify_app(app)
    from lainview.ui.theme import apply_app_style
    apply_app_style(app)
    result = {"code": 0}
    from lainview.models import tasks
    _log_to_stderr()
    restore_hook = tasks.install_excepthook()

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(tasks.loop_exception_handler)
        result["code"] = await _main(app, args)

    try:
        qasync.run(main())
    except asyncio.CancelledError:
        pass
    finally:
        restore_hook()
    return result["code"]


def kernel_options(args: argparse.Namespace) -> dict:
    """The kernel source the options ask for (``--ksource/--kmem/--image``),
    as ``Workspace(kernel_options=...)`` takes it."""
    return dict(source=args.ksource, kmem_path=args.kmem, images=tuple(args.image))


class _OneLine(logging.Formatter):
    """One line per message on the terminal: tracebacks only with
    LAINVIEW_DEBUG=1 (no traceback reaches a user)."""

    def formatException(self, ei) -> str:  # noqa: N802
        return super().formatException(ei) if os.environ.get("LAINVIEW_DEBUG") else ""


def _log_to_stderr() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine("lainview: %(message)s"))
    log = logging.getLogger("lainview")
    if not log.handlers:
        log.addHandler(handler)
        log.setLevel(logging.DEBUG if os.environ.get("LAINVIEW_DEBUG") else logging.WARNING)
        log.propagate = False


def _qt_message(kind, _context, text: str) -> None:
    """Qt's own warnings (e.g. the offscreen platform's "does not support
    raise()") go to the lainview.qt log, not to the user's terminal."""
    from PySide6.QtCore import QtMsgType
    level = logging.ERROR if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) \
        else logging.DEBUG
    logging.getLogger("lainview.qt").log(level, "%s", text)


def identify_app(app) -> None:
    """Name, version, desktop file name (the Wayland app id, which desktops
    match to the installed entry) and window icon of the QApplication."""
    from PySide6.QtGui import QIcon
    from lainview.desktop import APP_ID, ICON_PATH
    app.setOrganizationName("lainview")
    app.setApplicationName("lainview")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(QIcon(str(ICON_PATH)))


def _has_display() -> bool:
    return bool(os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")
                or os.environ.get("WAYLAND_DISPLAY"))


async def _main(app, args: argparse.Namespace) -> int:
    from PySide6.QtCore import QSize
    from lainview.backend.service import Backend
    from lainview.models.workspace import Workspace
    from lainview.ui.demo_process import DemoProcess
    from lainview.ui.main_window import MainWindow

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    app.lastWindowClosed.connect(closed.set)
    backend = Backend()
    workspace = Workspace(backend, kernel_options=kernel_options(args))
    window = MainWindow(workspace)
    said: list[str] = []                   # status messages: the reason a screenshot fails
    workspace.status.connect(said.append)
    demo: DemoProcess | None = None
    code = 0
    try:
        if args.screenshot:
            # Plain offscreen rendering has an 800x800 "screen": draw at
            # 1920x1080 there; on a real (or configured) screen, at the size
            # a first start gets.
            plain = os.environ.get("QT_QPA_PLATFORM") == "offscreen"
            window.resize(QSize(1920, 1080) if plain else window.default_size())
        window.show()
        attached = True
        if args.demo:
            demo = DemoProcess()
            ready: asyncio.Future = asyncio.get_running_loop().create_future()
            def on_ready(layout: object) -> None:
                if not ready.done():
                    ready.set_result(layout)

            def on_failed(text: str) -> None:
                if not ready.done():
                    ready.set_exception(RuntimeError(text))
            demo.ready.connect(on_ready)
            demo.failed.connect(on_failed)
            demo.start()
            window.show_status("starting the demo target…")
            layout = await asyncio.wait_for(ready, 20)
            attached = await window.attach_and_open(layout["pid"], None, args.backend)
            if attached:
                workspace.open_span(layout["base"], layout["base"] + layout["size"],
                                    address=layout["counter"])
                _scroll_demo_into_view(window, layout)
                window.vma_panel.select_address(layout["base"])
        elif args.pid is not None:
            attached = await window.attach_and_open(args.pid, None, args.backend)
        elif not args.kernel and not args.session:
            window.show_picker()
        if attached and args.address and (args.demo or args.pid is not None):
            try:
                workspace.go_to(args.address)
            except Exception as exc:   # noqa: BLE001 - reported in the status bar
                window.show_status(str(exc))
                if args.screenshot:
                    raise ScreenshotFailed(f"--address {args.address}: {exc}") from None
        if args.screenshot and not attached:
            raise ScreenshotFailed(said[-1] if said else "could not attach to the target")
        if args.session:
            pid = demo.pid if demo is not None else args.pid
            task = window.watch_docks.open_session(args.session, pid)
            if args.screenshot:
                outcome = await task
                if outcome != "opened":
                    raise ScreenshotFailed(said[-1] if said else f"session {outcome}",
                                           2 if outcome == "invalid" else 1)
        if args.kernel:
            browser = window.show_kernel_symbols()
            if args.address and not args.screenshot:
                async def select_symbol(name: str) -> None:
                    if await browser.wait_loaded() and not browser.select_symbol(name):
                        browser.status.setText(f"no kernel symbol named {name}")
                workspace.spawn(select_symbol(args.address))
        if args.screenshot and args.kernel:
            code = await browser.screenshot(args.screenshot, args.address)
        elif args.screenshot:
            code = await _screenshot(window, args.screenshot, bool(args.session))
        else:
            await closed.wait()
    except asyncio.TimeoutError:
        print("lainview: the demo target did not start", file=sys.stderr)
        code = 1
    except ScreenshotFailed as exc:
        print(f"lainview: no screenshot: {' '.join(str(exc.args[0]).split())}", file=sys.stderr)
        code = exc.code
    finally:
        workspace.stop()
        if window.isVisible():
            window.save_geometry() if not args.screenshot else None
            window.hide()
        if demo is not None:
            demo.stop()
        backend.shutdown()
        window.deleteLater()
    return code


class ScreenshotFailed(Exception):
    """What --screenshot was asked to show is not shown (one line why);
    ``code`` is the exit code: 2 for bad input (a malformed session file), else 1."""

    def __init__(self, why: str, code: int = 1):
        super().__init__(why)
        self.code = code


def _scroll_demo_into_view(window, layout: dict) -> None:
    """Show the counter, string and struct at the top and the guard page's
    ?? rows below them."""
    view = window.editor.view
    from lainview.models import hex_geometry as geo
    region = window.workspace.document.region
    row = geo.row_of(layout["counter"], region.start, view.bytes_per_row)
    view.set_first_row(row - 4)


async def _screenshot(window, path: str, session: bool = False, timeout: float = 15) -> int:
    """Wait until the visible bytes are in and a few refreshes happened (so
    the counter shows as changed) and, with a session, every watch entry
    has a value or says why not; then save the window to ``path`` and print
    one line, and a JSON report of what is shown, to stdout. Raises
    ScreenshotFailed if the data never arrived."""
    document = window.workspace.document
    watch = window.workspace.watch
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    waiting = "the hex view's bytes"
    while loop.time() < deadline:
        pages = document.visible_pages()
        if not (pages and all(p in document.pages and document.pages[p].data is not None
                              for p in pages) and document.refresh_count >= 8):
            waiting = "the hex view's bytes"
        elif session and any(e.data is None and not (e.unresolved or e.error)
                             for e in watch.entries):
            waiting = "the watch list's values"
        else:
            break
        await asyncio.sleep(0.05)
    else:
        raise ScreenshotFailed(f"{waiting} did not arrive within {timeout:g} s")
    window.editor.view.setFocus()
    await asyncio.sleep(0.05)
    pixmap = window.grab()
    from lainview.backend.errors import LainviewError
    from lainview.models.images import save_png
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        save_png(pixmap, path)
    except LainviewError as exc:
        raise ScreenshotFailed(str(exc)) from None
    print(f"lainview: wrote {path} ({_report_sizes(window, pixmap)})")
    print("lainview-shown " + json.dumps(_shown(window)))
    return 0


def _shown(window) -> dict:
    """What the window shows: the target, the area, the cell states on
    screen, the watch list and the bookmarks."""
    ws = window.workspace
    document, view = ws.document, window.editor.view
    region = document.region
    states: dict[str, int] = {}
    if region is not None:
        first = region.start + view.first_row * view.bytes_per_row
        count = min(view.rows_on_screen() * view.bytes_per_row, region.end - first)
        for cell in document.cells(first, max(0, count)):
            states[cell.state.name.lower()] = states.get(cell.state.name.lower(), 0) + 1
    return {
        "pid": ws.target.pid, "state": ws.target.state.value,
        "area": [region.start, region.end] if region is not None else None,
        "bytes_per_row": view.bytes_per_row, "cells": states,
        "watch": [{"label": e.label, "location": e.location.text, "address": e.address,
                   "value": e.value_text, "unresolved": e.unresolved} for e in ws.watch.entries],
        "bookmarks": [{"name": b.name, "address": b.address, "unresolved": b.unresolved}
                      for b in ws.bookmarks.bookmarks],
    }


def _report_sizes(window, pixmap) -> str:
    """The image's pixels, and the window's, its minimum's and the screen's
    size in logical pixels."""
    hint = window.minimumSizeHint()
    screen = window.screen().availableGeometry()
    return (f"{pixmap.width()}x{pixmap.height()} px; window {window.width()}x{window.height()}, "
            f"minimum {hint.width()}x{hint.height()}, screen {screen.width()}x{screen.height()}")
