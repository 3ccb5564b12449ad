"""The GUI entry point: ``lainview [--demo | --pid PID | --pick] [--session FILE]
[--kernel] [--screenshot PATH]``.

Builds the QApplication, runs it on a qasync event loop (so slots can await
backend futures), and shuts the backend thread down on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
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
    parser.add_argument("--address", help="with --pid: go to this address or area+offset")
    # Kernel symbols (issue 4): the browser window and its source.
    parser.add_argument("--kernel", action="store_true",
                        help="open the kernel-symbol browser (with --screenshot: render it)")
    from lainview.kcli import add_global_options
    add_global_options(parser)
    parser.add_argument("--session", metavar="FILE",
                        help="open a saved session (watch list, bookmarks, view) on the "
                             "process running its program (with --pid: on that process)")
    return parser.parse_args(argv)


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
    from PySide6.QtWidgets import QApplication
    import qasync

    app = QApplication.instance() or QApplication([sys.argv[0]])
    identify_app(app)
    from lainview.ui.theme import apply_app_style
    apply_app_style(app)
    result = {"code": 0}

    async def main() -> None:
        result["code"] = await _main(app, args)

    try:
        qasync.run(main())
    except asyncio.CancelledError:
        pass
    return result["code"]


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
    from lainview.backend.service import Backend
    from lainview.models.workspace import Workspace
    from lainview.ui.demo_process import DemoProcess
    from lainview.ui.main_window import MainWindow

    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    app.lastWindowClosed.connect(closed.set)
    backend = Backend()
    workspace = Workspace(backend)
    window = MainWindow(workspace)
    window.kernel_options = dict(source=args.ksource, kmem_path=args.kmem,
                                 images=tuple(args.image))
    demo: DemoProcess | None = None
    code = 0
    try:
        if args.screenshot:
            window.resize(1920, 1080)
        window.show()
        if args.demo:
            demo = DemoProcess()
            ready: asyncio.Future = asyncio.get_running_loop().create_future()
            demo.ready.connect(lambda layout: ready.done() or ready.set_result(layout))
            demo.failed.connect(lambda text: ready.done() or ready.set_exception(RuntimeError(text)))
            demo.start()
            window.show_status("starting the demo target…")
            layout = await asyncio.wait_for(ready, 20)
            if await window.attach_and_open(layout["pid"], None, args.backend):
                workspace.open_span(layout["base"], layout["base"] + layout["size"],
                                    "demo mapping", layout["counter"])
                _scroll_demo_into_view(window, layout)
                window.vma_panel.select_address(layout["base"])
        elif args.pid is not None:
            if await window.attach_and_open(args.pid, None, args.backend) and args.address:
                try:
                    workspace.go_to(args.address)
                except Exception as exc:   # noqa: BLE001 - reported in the status bar
                    window.show_status(str(exc))
        elif not args.kernel and not args.session:
            window.show_picker()
        if args.session:
            pid = demo.pid if demo is not None else args.pid
            task = window.watch_docks.open_session(args.session, pid)
            if args.screenshot:
                await task
        if args.kernel:
            browser = window.show_kernel_symbols()
        if args.screenshot and args.kernel:
            code = await browser.screenshot(args.screenshot)
        elif args.screenshot:
            code = await _screenshot(window, args.screenshot)
        else:
            await closed.wait()
    except asyncio.TimeoutError:
        print("lainview: the demo target did not start", file=sys.stderr)
        code = 1
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


def _scroll_demo_into_view(window, layout: dict) -> None:
    """Show the counter, string and struct at the top and the guard page's
    ?? rows below them."""
    view = window.editor.view
    from lainview.models import hex_geometry as geo
    region = window.workspace.document.region
    row = geo.row_of(layout["counter"], region.start, view.bytes_per_row)
    view.set_first_row(row - 4)


async def _screenshot(window, path: str) -> int:
    """Wait until the visible bytes are in and a few refreshes happened (so
    the counter shows as changed), then save the window to ``path``."""
    document = window.workspace.document
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while loop.time() < deadline:
        pages = document.visible_pages()
        if pages and all(p in document.pages for p in pages) and document.refresh_count >= 8:
            break
        await asyncio.sleep(0.05)
    else:
        print("lainview: the screenshot timed out waiting for data", file=sys.stderr)
    window.editor.view.setFocus()
    await asyncio.sleep(0.05)
    pixmap = window.grab()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if not pixmap.save(path):
        print(f"lainview: could not write {path}", file=sys.stderr)
        return 1
    print(f"lainview: wrote {path} ({pixmap.width()}x{pixmap.height()})")
    return 0
