"""A compiled C child holding a pointer chain (tests/c/pointer_chain.c):
global -> player, player+0x18 -> inventory, inventory+0x8 = a u32; the
tests move the inventory, break the chain and mend it through stdin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import c_child
from tests.c_child import CChild

SOURCE = Path(__file__).with_name("c") / "pointer_chain.c"


class ChainChild(CChild):
    def command(self, line: str) -> dict:             # type: ignore[override]
        """Send one command (move, break, fix, set N); the child's new state."""
        self.info = json.loads(super().command(line))
        return self.info


def build(directory: Path) -> Path:
    return c_child.build(SOURCE, directory, "-O0", "-fPIE", "-pie")


def start(exe: Path) -> ChainChild:
    child = c_child.start(exe, kind=ChainChild)
    assert isinstance(child, ChainChild)
    return child


@pytest.fixture
def chain_child(tmp_path):
    child = start(build(tmp_path))
    yield child
    child.stop()
