"""A gcc-built stand-in for vmlinux (the one tests/backend/test_kcore.py
builds), for tests that read kernel symbols through the image source."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.backend.test_kcore import IMAGE_C


def build_image(directory: Path) -> Path:
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build a test kernel image")
    (directory / "img.c").write_text(IMAGE_C)
    out = directory / "vmlinux"
    subprocess.run(["gcc", "-O0", "-nostdlib", "-static", "-no-pie", "-o", str(out),
                    str(directory / "img.c")], check=True)
    return out
