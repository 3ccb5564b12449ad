"""Fixtures for the in-guest device tests of the lainko module.

The tests here talk to /dev/lainmemu and /dev/lainkmem with the standard
library only. Outside the VM harness the devices are normally absent and
the tests skip; inside it (LAINKO_VM=1) a missing device is a failure.
"""

import os

import pytest

MEMU_NODE = "/dev/lainmemu"
KMEM_NODE = "/dev/lainkmem"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "device: needs the real lainko devices (/dev/lainmemu, /dev/lainkmem); runs in the VM harness",
    )
    config.addinivalue_line("markers", "root: needs to run as root")


def _require(node):
    if os.path.exists(node) and os.geteuid() == 0:
        return
    reason = f"{node} absent (lainko not loaded)" if not os.path.exists(node) else "needs root"
    if os.environ.get("LAINKO_VM") == "1":
        pytest.fail(f"inside the VM harness but {reason}")
    pytest.skip(reason)


@pytest.fixture
def memu_node():
    _require(MEMU_NODE)
    return MEMU_NODE


@pytest.fixture
def kmem_node():
    _require(KMEM_NODE)
    return KMEM_NODE
