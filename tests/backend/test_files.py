"""The one home for lainview's own files: private, atomic, never through a symlink."""

from __future__ import annotations

import os
import stat

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.files import atomic_private_file, ensure_private_dir, open_state_file

from ..conftest import run_as_nobody


def test_atomic_file_is_private_and_replaces(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)
    with atomic_private_file(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["out.bin"]


def test_atomic_file_left_alone_on_error(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("kept")
    with pytest.raises(RuntimeError), atomic_private_file(path, "w") as f:
        f.write("half")
        raise RuntimeError("boom")
    assert path.read_text() == "kept"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_symlink_at_destination_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("root only")
    link = tmp_path / "session.npz"
    link.symlink_to(victim)
    with atomic_private_file(link, "w") as f:
        f.write("scan data")
    assert victim.read_text() == "root only"
    assert not link.is_symlink() and link.read_text() == "scan data"


def test_unwritable_directory_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInput, match="cannot write .*nodir"):
        with atomic_private_file(tmp_path / "nodir" / "x") as f:
            f.write(b"x")


def test_state_file_refuses_symlinks_and_non_regular(tmp_path):
    target = tmp_path / "bashrc"
    target.write_text("# rc\n")
    link = tmp_path / "journal.jsonl"
    link.symlink_to(target)
    with pytest.raises(InvalidInput, match="symlink"):
        open_state_file(link, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "would-be-created")
    with pytest.raises(InvalidInput, match="symlink"):
        open_state_file(dangling, os.O_RDWR | os.O_CREAT)
    assert not (tmp_path / "would-be-created").exists()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="not a regular file"):
        open_state_file(fifo, os.O_RDWR)
    assert target.read_text() == "# rc\n"


def test_state_file_created_private(tmp_path):
    fd = open_state_file(tmp_path / "j", os.O_RDWR | os.O_CREAT)
    os.close(fd)
    assert stat.S_IMODE((tmp_path / "j").stat().st_mode) == 0o600


def test_state_dir_checks(tmp_path):
    ensure_private_dir(tmp_path / "a" / "b")
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    open_dir = tmp_path / "shared"
    open_dir.mkdir()
    os.chmod(open_dir, 0o777)
    with pytest.raises(InvalidInput, match="writable by others"):
        ensure_private_dir(open_dir)
    (tmp_path / "link").symlink_to(tmp_path / "a")
    with pytest.raises(InvalidInput, match="not a directory"):
        ensure_private_dir(tmp_path / "link")


def test_state_file_owned_by_someone_else_is_refused(tmp_path):
    if run_as_nobody() is None:
        pytest.skip("needs root to make a file owned by another user")
    path = tmp_path / "journal.jsonl"
    path.write_text("")
    os.chown(path, 65534, 65534)
    with pytest.raises(InvalidInput, match="owned by uid 65534"):
        open_state_file(path, os.O_RDWR)


def test_an_input_file_that_cannot_seek_is_refused_not_an_internal_error():
    """/proc/PID/mem passes S_ISREG but cannot seek to its end: a library
    reading it in pieces (pyelftools) raised OSError (the attack pass:
    ``read --dwarf /proc/self/mem`` gave an internal error)."""
    from lainview.backend.dwarf_types import DebugTypes
    from lainview.backend.files import open_input_file
    with pytest.raises(InvalidInput, match="cannot be read as a file"):
        open_input_file("/proc/self/mem", what="the DWARF file")
    with pytest.raises(InvalidInput, match="/proc/self/mem"):
        DebugTypes("/proc/self/mem")
