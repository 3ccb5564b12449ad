"""Small C programs the tests compile and run (tests/*.c, tests/c/*.c): one
home for building them with gcc, starting them (their first line on stdout
is a JSON object of what they hold where) and stopping them."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class CChild:
    """A running C test program: its process, the JSON object it printed
    first (``info``; its keys read as attributes or items) and its file."""

    proc: subprocess.Popen
    info: dict[str, Any]
    exe: Path | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["info"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self.info[name]

    def command(self, line: str) -> str:
        """Send one line on stdin; the child's one-line reply."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"{self.exe or 'the child'} died answering {line!r}")
        return reply.strip()

    def stop(self, farewell: str | None = None) -> None:
        """End it: ``farewell`` (if given) and end of input, else a kill."""
        if self.proc.poll() is None:
            try:
                if farewell is not None:
                    self.proc.stdin.write(farewell + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):    # not left to the collector
            if pipe is not None and not pipe.closed:
                try:
                    pipe.close()
                except OSError:
                    pass


def build(source: Path, directory: Path, *flags: str, name: str | None = None) -> Path:
    """``source`` compiled by gcc with ``flags`` into ``directory`` (the
    test is skipped where there is no gcc)."""
    if not shutil.which("gcc"):
        pytest.skip(f"gcc is needed to build {source.name}")
    exe = directory / (name or source.stem)
    subprocess.run(["gcc", *flags, "-o", str(exe), str(source)], check=True)
    return exe


def start(exe: Path, *args: str, kind: type[CChild] = CChild) -> CChild:
    """Run ``exe`` with ``args``; returns once it printed its JSON line."""
    proc = subprocess.Popen([str(exe), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        proc.wait(timeout=5)
        raise RuntimeError(f"{exe.name} did not start")
    return kind(proc, json.loads(line), exe)
