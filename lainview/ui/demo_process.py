"""Starts the bundled demo target (``python -m lainview.demo_target``) as a
QProcess and reports its layout line without ever blocking."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QObject, QProcess, Signal


class DemoProcess(QObject):
    ready = Signal(dict)          # the demo's layout: pid, base, counter, ...
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.errorOccurred.connect(lambda err: self.failed.emit(
            f"the demo target could not run: {self.process.errorString()}"))
        self.layout: dict | None = None
        self._buffer = b""

    def start(self) -> None:
        self.process.start(sys.executable, ["-m", "lainview.demo_target"])

    def _read(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput().data())
        while b"\n" in self._buffer and self.layout is None:
            line, self._buffer = self._buffer.split(b"\n", 1)
            if line.startswith(b"lainview-demo "):
                self.layout = json.loads(line[len(b"lainview-demo "):])
                self.ready.emit(self.layout)

    @property
    def pid(self) -> int | None:
        return self.layout["pid"] if self.layout else None

    def stop(self) -> None:
        """Close its stdin (it exits on that), then make sure."""
        if self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.closeWriteChannel()
            self.process.terminate()
            if not self.process.waitForFinished(1000):
                self.process.kill()
                self.process.waitForFinished(1000)
