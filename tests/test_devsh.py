"""dev.sh on a machine without apt-get: it says what the Debian packages
would have provided, and goes on when all of it is there."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def path_without_apt(tmp_path: Path) -> str:
    """A PATH with every program of this machine but apt-get and dpkg-query."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in ("/usr/sbin", "/usr/bin"):
        for prog in os.listdir(directory):
            if prog not in ("apt-get", "dpkg-query") and not (bin_dir / prog).exists():
                (bin_dir / prog).symlink_to(os.path.join(directory, prog))
    return str(bin_dir)


def dev_sh(*args, path: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "dev.sh"), *args], capture_output=True, text=True,
                          env={**os.environ, "PATH": path}, timeout=120)


def test_without_apt_goes_on_when_everything_is_there(tmp_path):
    out = dev_sh("deps", path=path_without_apt(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("dev.sh: no apt-get; found what these Debian packages "
                                 "provide: libglib2.0-0 libgl1")
    assert "installing" not in out.stderr


def test_without_apt_names_what_is_missing(tmp_path):
    path = path_without_apt(tmp_path)
    ldconfig = Path(path) / "ldconfig"
    ldconfig.unlink()
    ldconfig.write_text("#!/bin/sh\necho '0 libs found in cache'\n")   # no library anywhere
    ldconfig.chmod(0o755)
    out = dev_sh("deps", path=path)
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    assert lines[0] == ("dev.sh: no apt-get to install them; install with your "
                        "distribution's packages:")
    assert "  libGL.so.1 (Debian: libgl1)" in lines
    assert "  libxcb-cursor.so.0 (Debian: libxcb-cursor0)" in lines
    assert not [line for line in lines[1:] if "Debian: gcc" in line]   # gcc is there
