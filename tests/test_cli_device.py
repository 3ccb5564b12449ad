"""The CLI against the real lainko devices. These run inside the VM harness
(tests/vm/run.sh), where the module is loaded; elsewhere they skip."""

import json
import os
import platform
import subprocess
import sys

import pytest

from lainview.backend.memory import parse_maps

MEMU, KMEM = "/dev/lainmemu", "/dev/lainkmem"
pytestmark = [
    pytest.mark.device,
    pytest.mark.skipif(not (os.path.exists(MEMU) and os.path.exists(KMEM)),
                       reason="needs the lainko devices (/dev/lainmemu, /dev/lainkmem): "
                              "the module is not loaded; tests/vm/run.sh loads it in a VM"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the lainko nodes are root-only"),
]


def lainview(*args):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, errors="replace", timeout=120)


def test_maps_through_lainmemu_equals_proc(child):
    out = lainview("--backend", "lainmemu", "maps", child.pid, "--json")
    assert out.returncode == 0, out.stderr
    with open(f"/proc/{child.pid}/maps") as f:
        kernel = [a.to_json() for a in parse_maps(f.read()) if a.path != "[vsyscall]"]
    got = [a for a in json.loads(out.stdout) if a["path"] != "[vsyscall]"]
    assert got == kernel


def test_read_and_write_through_lainmemu(child):
    out = lainview("--backend", "lainmemu", "read", child.pid, hex(child.ro), "8")
    assert out.returncode == 0, out.stderr
    assert "|READONLY" in out.stdout
    out = lainview("--backend", "lainmemu", "write", child.pid, hex(child.ro), "4c 41 49 4e")
    assert out.returncode == 0, out.stderr
    assert child.peek(child.ro, 4) == b"LAIN"
    # The PROT_NONE guard page reads through the device as through /proc/<pid>/mem.
    out = lainview("--backend", "lainmemu", "read", child.pid, hex(child.guard - 2), "4")
    assert out.returncode == 0 and f"at {child.guard:#x} are in a no-access page" in out.stderr
    out = lainview("--backend", "lainmemu", "read", child.pid, "0x1000", "4")
    assert out.returncode == 1 and "EFAULT at 0x1000" in out.stderr


def test_auto_backend_picks_lainmemu_and_says_why(child):
    out = lainview("maps", child.pid)
    assert out.returncode == 0
    assert "lainmemu: the lainko module is loaded" in out.stderr


def test_ksyms_and_kread_through_kmem():
    out = lainview("ksyms", "init_uts_ns", "--json")
    assert out.returncode == 0, out.stderr
    names = [s["name"] for s in json.loads(out.stdout)]
    assert "init_uts_ns" in names
    out = lainview("kread", "init_uts_ns", "400", "--raw")
    assert out.returncode == 0, out.stderr
    assert platform.release() in out.stdout
    info = lainview("kinfo")
    assert "source: kmem" in info.stdout and "write  yes" in info.stdout
