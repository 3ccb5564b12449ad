"""The kernel sources and the CLI's module holds against the real devices,
in the VM harness (tests/vm/run.sh: lainko loaded, /proc/kcore present,
root).

Three host tests check what lainview says when no kernel source can read
(tests/backend/test_kcore.py, tests/test_kcli.py, tests/ui/test_symbol_browser.py).
They skip wherever /dev/lainkmem or /proc/kcore is readable, so on a stock
machine run as root they run nowhere. Here each one is run as user nobody,
for whom both exist and both are refused (the device and /proc/kcore are
root-only): the test must pass there, not skip.

``kmod hold NAME`` then ``kmod release NAME`` run as two lainview
processes against the real device, whose holds are the module's reference
count, not per process (unlike the C stand-in of tests/test_kcli.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.device

PROJECT = Path(__file__).resolve().parents[2]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
          "--bounding-set=-all"]
# A small library module with no users and no side effects when loaded
# (the one tests/vm/test_kmem_device.py holds through raw ioctls).
SPARE_MODULE = "crc8"


def run_as_nobody(*argv: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
           "HOME": "/tmp", "TMPDIR": "/tmp", "QT_QPA_PLATFORM": "offscreen",
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([*NOBODY, sys.executable, *argv], cwd=PROJECT, env=env,
                          capture_output=True, text=True, errors="replace", timeout=600)


NO_SOURCE_TESTS = [
    "tests/backend/test_kcore.py::test_kcore_source_explains_what_is_missing",
    "tests/test_kcli.py::test_kread_without_a_source_says_what_is_missing",
    "tests/ui/test_symbol_browser.py::test_a_symbol_without_a_readable_source_explains_why",
]


def test_the_no_readable_source_tests_pass_as_nobody(kmem_node):
    """One pytest run as nobody for all three (a pytest start costs minutes under TCG)."""
    assert os.access("/proc/kcore", os.R_OK), "the VM's kernel has /proc/kcore, readable by root"
    out = run_as_nobody("-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
                        *NO_SOURCE_TESTS)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(rf"\b{len(NO_SOURCE_TESTS)} passed\b", out.stdout), out.stdout
    assert "skipped" not in out.stdout, out.stdout


def test_kinfo_as_nobody_says_why_each_source_was_passed_over(kmem_node):
    out = run_as_nobody("-m", "lainview", "kinfo")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("source: kallsyms\n")
    # The device exists here (lainko is loaded) and /proc/kcore too: both refused.
    assert "kmem: cannot open /dev/lainkmem" in out.stdout and "root-only" in out.stdout
    assert "kcore: cannot open the core file /proc/kcore" in out.stdout
    assert "needs root" in out.stdout


def _refcnt(module: str) -> int:
    with open(f"/sys/module/{module}/refcnt") as f:
        return int(f.read())


def lainview(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lainview", *args], cwd=PROJECT,
                          capture_output=True, text=True, errors="replace", timeout=120)


def test_kmod_hold_then_release_from_another_process(kmem_node):
    subprocess.run(["modprobe", SPARE_MODULE], check=True)
    assert _refcnt(SPARE_MODULE) == 0, f"{SPARE_MODULE} is in use; pick another spare module"
    hold = lainview("kmod", "hold", SPARE_MODULE)
    assert hold.returncode == 0, hold.stderr
    assert f"holding {SPARE_MODULE}" in hold.stdout
    try:
        # The hold outlives the process that took it: the module cannot go.
        assert _refcnt(SPARE_MODULE) == 1
        assert subprocess.run(["rmmod", SPARE_MODULE], capture_output=True).returncode != 0
        listed = lainview("kmod", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert f'"name": "{SPARE_MODULE}"' in listed.stdout
    finally:
        release = lainview("kmod", "release", SPARE_MODULE)
    # Released by another lainview process: the device's holds are not per process.
    assert release.returncode == 0, release.stderr
    assert f"released one hold on {SPARE_MODULE}" in release.stdout
    assert _refcnt(SPARE_MODULE) == 0
    again = lainview("kmod", "release", SPARE_MODULE)
    assert again.returncode == 1 and "no hold on it is left to release" in again.stderr
    assert "Traceback" not in again.stderr
    assert subprocess.run(["rmmod", SPARE_MODULE], capture_output=True).returncode == 0
    gone = lainview("kmod", "hold", SPARE_MODULE)
    assert gone.returncode == 1 and f"cannot hold module {SPARE_MODULE}" in gone.stderr
