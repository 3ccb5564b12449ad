"""Shared fixtures: real target processes, an isolated journal, and a check
that no test leaves the backend thread running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest


def _isolate_user_dirs() -> None:
    """Point every per-user directory lainview (or Qt) could read or write at
    a fresh one for this run, before anything reads them: the test command
    does the same, this covers a bare ``pytest``."""
    import tempfile
    root = tempfile.mkdtemp(prefix="lainview-tests-")
    for var, sub in (("XDG_STATE_HOME", "state"), ("XDG_CONFIG_HOME", "config"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_DATA_HOME", "data"), ("TMPDIR", "tmp")):
        path = os.path.join(root, sub)
        os.makedirs(path, mode=0o700)
        os.environ[var] = path
    tempfile.tempdir = None          # re-read TMPDIR


_isolate_user_dirs()

from lainview.backend.thread import THREAD_NAME  # noqa: E402

TARGET_SCRIPT = Path(__file__).with_name("target_child.py")


@dataclass
class Child:
    """A running target_child.py and the addresses it reported."""

    proc: subprocess.Popen
    info: dict

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __getattr__(self, name):
        try:
            return self.info[name]
        except KeyError:
            raise AttributeError(name) from None

    def command(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"target child died answering {line!r}")
        return reply.strip()

    def peek(self, address: int, size: int) -> bytes:
        """The child's own view of its memory."""
        return bytes.fromhex(self.command(f"peek {address:x} {size}"))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def spawn_child(workdir: Path) -> Child:
    proc = subprocess.Popen([sys.executable, str(TARGET_SCRIPT), str(workdir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("target child failed to start")
    return Child(proc, json.loads(line))


@pytest.fixture
def child(tmp_path):
    c = spawn_child(tmp_path)
    yield c
    c.kill()


@pytest.fixture(autouse=True)
def isolated_state(tmp_path, monkeypatch):
    """Each test gets its own journal and settings directories."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def no_backend_thread_left():
    yield
    left = [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]
    assert not left, f"a test left {len(left)} backend thread(s) running"


@pytest.fixture
def bss_tail(tmp_path):
    """tests/c/bss_tail.c running: a PIE program whose .bss (ending at
    ``end``) has an anonymous mapping placed right after it, which the
    kernel merges into the .bss area (``tail`` lies in it; ``root`` is a
    global in .data)."""
    from tests import c_child
    exe = c_child.build(Path(__file__).with_name("c") / "bss_tail.c", tmp_path,
                        "-O0", "-fPIE", "-pie", "-pthread")
    child = c_child.start(exe)
    yield child
    child.stop("exit")


@pytest.fixture
def backend():
    from lainview.backend.service import Backend
    b = Backend()
    yield b
    b.shutdown()


def run_as_nobody() -> list[str] | None:
    """A command prefix that drops to user nobody, or None if we can't."""
    if os.geteuid() != 0:
        return None
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all"]


@pytest.fixture
def shared_dir():
    """A world-writable sticky directory like /tmp, that user nobody can reach."""
    import shutil
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="lainview-shared-", dir="/tmp"))
    os.chmod(path, 0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)
