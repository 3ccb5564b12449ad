"""Every file lainview writes (issue 11, "Files lainview writes"): 0600, and
never written through a symlink another user planted at the destination or
at a temporary name, in a shared sticky directory like /tmp. Root writes;
user nobody plants. Real CLI, real child, real files."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_as_nobody

pytestmark = pytest.mark.skipif(run_as_nobody() is None,
                                reason="needs root to act as user nobody")


def lainview(*args):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=120)




def plant(shared: Path, dest: Path, victim: Path) -> list[str]:
    """As nobody: symlinks to ``victim`` at ``dest`` and at the temporary
    names lainview used to use."""
    names = [dest.name, dest.name + ".tmp", *(f"{dest.name}.tmp{p}" for p in
                                                 range(os.getpid(), os.getpid() + 400))]
    script = "; ".join(f"ln -s {victim} {shared / n}" for n in names)
    r = subprocess.run([*run_as_nobody(), "sh", "-c", script], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return names


def write_patch(child, dest: Path) -> None:
    assert lainview("write", child.pid, hex(child.counter + 8), "01").returncode == 0
    out = lainview("journal", "--pid", child.pid, "--export", dest)
    assert out.returncode == 0, out.stderr


def write_scan_session(child, dest: Path) -> None:
    args = ("scan", child.pid, "--type", "u8", "--value", "0x41",
            "--area", f"{child.base:x}-{child.base + child.page:x}", "--session", dest)
    # What the planted symlink leads to is no scan session: refused unless forced.
    out = lainview(*args)
    assert out.returncode == 2 and "--force" in out.stderr, out.stderr
    out = lainview(*args, "--force")
    assert out.returncode == 0, out.stderr


def write_dump(child, dest: Path) -> None:
    from lainview.backend.service import Backend
    from lainview.models.jobs import start_dump
    with Backend() as backend:
        target = backend.attach(child.pid).result(10)
        area = next(a for a in target.areas().result(10) if a.contains(child.base))
        job, writer = start_dump(target, area, str(dest))
        stats = asyncio.run(job.wait())
        writer.finish(stats)


def write_session(child, dest: Path) -> None:
    from lainview.models.session_file import SessionData, write_session as write
    write(dest, SessionData(exe="/bin/x", cmdline=["x"], watch=[{"address": child.base}]))


def write_screenshot(child, dest: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "lainview", "--screenshot", str(dest)],
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("writer", [write_patch, write_scan_session, write_dump, write_session,
                                    write_screenshot],
                         ids=["patch", "scan-session", "dump", "session", "screenshot"])
def test_written_privately_and_never_through_a_planted_symlink(child, tmp_path, shared_dir,
                                                               writer):
    victim = tmp_path / "root-only"
    victim.write_text("secret\n")
    os.chmod(victim, 0o600)
    dest = shared_dir / "out.file"
    planted = plant(shared_dir, dest, victim)
    writer(child, dest)
    assert victim.read_text() == "secret\n"
    st = os.lstat(dest)
    assert stat.S_ISREG(st.st_mode) and st.st_uid == 0
    assert stat.S_IMODE(st.st_mode) == 0o600
    # The planted names, the destination among them, and no temporary left behind.
    assert set(os.listdir(shared_dir)) == set(planted)


def test_dump_to_an_unusable_directory_is_a_clear_error(child, tmp_path):
    from lainview.backend.errors import InvalidInput
    with pytest.raises(InvalidInput, match="cannot write .*nodir"):
        write_dump(child, tmp_path / "nodir" / "dump.bin")
