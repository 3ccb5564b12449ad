"""The write journal never loses a write (issue 11): the CLI against a real
child, a real (small, full) file system, real symlinks and a real
unprivileged user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_as_nobody


def lainview(*args, env=None, prefix=()):
    return subprocess.run([*prefix, sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def journal_file(state: Path | None = None) -> Path:
    return Path(state or os.environ["XDG_STATE_HOME"]) / "lainview" / "journal.jsonl"


# -- (a) a short write of the intent record -----------------------------------------------------
@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs, unmounted afterwards."""
    mnt = tmp_path / "small"
    mnt.mkdir(mode=0o700)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(mnt: Path, leave: int) -> Path:
    """Fill the file system, then free ``leave`` bytes again."""
    filler = mnt / "filler"
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(b"\xff" * 4096)
            except OSError:
                break
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def test_disk_full_during_the_intent_means_no_write(child, small_fs):
    env = {"XDG_STATE_HOME": str(small_fs / "state")}
    first = lainview("write", child.pid, hex(child.counter + 32), "07", env=env)
    assert first.returncode == 0, first.stderr
    before = journal_file(small_fs / "state").read_bytes()
    fill(small_fs, leave=8192)
    # 4096 bytes: an intent record of about 16 KiB, cut by the full disk.
    out = lainview("write", child.pid, hex(child.base), "5a" * 4096, env=env)
    assert out.returncode == 1
    assert "No space left on device" in out.stderr and "no write was made" in out.stderr
    assert "undo with" not in out.stdout and "Traceback" not in out.stderr
    assert child.peek(child.base, 4096) == bytes(range(256)) * 16
    # Nothing of the cut record stays: the file is as it was.
    assert journal_file(small_fs / "state").read_bytes() == before
    (small_fs / "filler").unlink()
    listing = lainview("journal", "--json", env=env)
    assert [e["id"] for e in json.loads(listing.stdout)] == [1] and not listing.stderr
    back = lainview("revert", "1", env=env)
    assert back.returncode == 0 and "reverted" in back.stdout
    assert child.peek(child.counter + 32, 1) == b"\0"


# -- (b) a torn or NUL-filled last line --------------------------------------------------------
@pytest.mark.parametrize("tail", [b'{"type":"intent","id":2,"time":17', b"\0" * 100,
                                  b"\n" + b"\0" * 100],
                         ids=["torn", "nul", "nul-after-newline"])
def test_damaged_last_line_is_terminated_and_the_next_write_kept(child, tail):
    assert lainview("write", child.pid, hex(child.counter + 16), "01").returncode == 0
    with open(journal_file(), "ab") as f:
        f.write(tail)
    out = lainview("write", child.pid, hex(child.counter + 17), "02 03")
    assert out.returncode == 0, out.stderr
    assert "damaged line" in out.stderr and "terminated" in out.stderr
    new_id = int(out.stdout.split("undo with: lainview revert ")[1].split(")")[0])
    listing = lainview("journal", "--json")
    entries = json.loads(listing.stdout)
    assert [e["id"] for e in entries] == [1, new_id] and entries[1]["new"] == "0203"
    assert entries[1]["status"] == "ok"
    assert "skipped 1 damaged line" in listing.stderr
    back = lainview("revert", new_id)
    assert back.returncode == 0 and "reverted" in back.stdout
    assert child.peek(child.counter + 16, 3) == b"\x01\0\0"


# -- (c) lines of the right syntax and the wrong shape ------------------------------------------
BAD_LINES = [b"5", b"null", b'{"type":"intent"}', b"[1, 2]",
             b'{"type":"intent","id":"7","time":1,"target":{"pid":1},"address":0,'
             b'"old":"00","new":"01"}',
             b'{"type":"outcome","id":1,"time":1,"status":["ok"],"written":1}',
             b'{"type":"intent","id":[1],"time":1,"target":{"pid":1},"address":0,'
             b'"old":"00","new":"01"}']


def test_wrong_shaped_lines_are_skipped_and_reported_never_a_crash(child):
    assert lainview("write", child.pid, hex(child.counter + 24), "0a").returncode == 0
    with open(journal_file(), "ab") as f:
        f.write(b"\n".join(BAD_LINES) + b"\n")
    out = lainview("write", child.pid, hex(child.counter + 25), "0b")
    assert out.returncode == 0, out.stderr
    assert "undo with: lainview revert 2" in out.stdout
    for args in (("journal",), ("journal", "--json"), ("journal", "--pid", child.pid)):
        listing = lainview(*args)
        assert listing.returncode == 0, listing.stderr
        assert "Traceback" not in listing.stderr
        assert f"skipped {len(BAD_LINES)} damaged lines" in listing.stderr
    entries = json.loads(lainview("journal", "--json").stdout)
    assert [(e["id"], e["status"]) for e in entries] == [(1, "ok"), (2, "ok")]
    back = lainview("revert", "1")
    assert back.returncode == 0 and "entry 1: reverted" in back.stdout, back.stderr
    assert child.peek(child.counter + 24, 2) == b"\0\x0b"
    back = lainview("revert", "--pid", child.pid)
    assert back.returncode == 0 and "Traceback" not in back.stderr
    assert child.peek(child.counter + 24, 2) == b"\0\0"


# -- (d) symlinks and other people's files ------------------------------------------------------
def test_symlinked_journal_is_refused_and_nothing_written(child, tmp_path):
    victim = tmp_path / "bashrc"
    victim.write_text("# rc\n")
    journal_file().parent.mkdir(parents=True, mode=0o700)
    journal_file().symlink_to(victim)
    out = lainview("write", child.pid, hex(child.counter + 40), "ff")
    assert out.returncode == 1 and "symlink" in out.stderr and "no write was made" in out.stderr
    assert "undo with" not in out.stdout
    assert victim.read_text() == "# rc\n" and child.peek(child.counter + 40, 1) == b"\0"
    listing = lainview("journal")
    assert listing.returncode == 1 and "symlink" in listing.stderr


def test_dangling_symlink_is_not_created(child, tmp_path):
    journal_file().parent.mkdir(parents=True, mode=0o700)
    journal_file().symlink_to(tmp_path / "created-by-lainview")
    out = lainview("write", child.pid, hex(child.counter + 40), "ff")
    assert out.returncode == 1 and "symlink" in out.stderr
    assert not (tmp_path / "created-by-lainview").exists()
    assert child.peek(child.counter + 40, 1) == b"\0"


def test_state_dir_writable_by_others_is_refused(child):
    journal_file().parent.mkdir(parents=True)
    os.chmod(journal_file().parent, 0o777)
    out = lainview("write", child.pid, hex(child.counter + 40), "ff")
    assert out.returncode == 1 and "writable by others" in out.stderr
    assert child.peek(child.counter + 40, 1) == b"\0"
    assert not journal_file().exists()




@pytest.mark.skipif(run_as_nobody() is None, reason="needs root to drop to user nobody")
def test_journal_planted_by_another_user_is_refused(child, tmp_path, shared_dir):
    victim = tmp_path / "root-only"
    victim.write_text("secret\n")
    plant = subprocess.run(
        [*run_as_nobody(), "sh", "-c",
         f"mkdir -m 700 {shared_dir}/lainview && ln -s {victim} {shared_dir}/lainview/journal.jsonl"],
        capture_output=True, text=True)
    assert plant.returncode == 0, plant.stderr
    env = {"XDG_STATE_HOME": str(shared_dir)}
    out = lainview("write", child.pid, hex(child.counter + 40), "ff", env=env)
    assert out.returncode == 1 and "owned by uid 65534" in out.stderr
    assert victim.read_text() == "secret\n" and child.peek(child.counter + 40, 1) == b"\0"
    # Nobody's own (regular) journal in root's state dir is refused too.
    own = tmp_path / "state2" / "lainview"
    own.mkdir(parents=True, mode=0o700)
    (own / "journal.jsonl").write_text("")
    os.chown(own / "journal.jsonl", 65534, 65534)
    out = lainview("journal", env={"XDG_STATE_HOME": str(tmp_path / "state2")})
    assert out.returncode == 1 and "owned by uid 65534" in out.stderr


def test_revert_of_one_byte_says_one_byte(child):
    # A new user's report: reverting a one-byte write said "restored 1 bytes".
    first = lainview("write", child.pid, hex(child.counter + 32), "07")
    assert first.returncode == 0, first.stderr
    back = lainview("revert", "1")
    assert back.returncode == 0, back.stdout + back.stderr
    assert "restored 1 byte of memory at" in back.stdout, back.stdout


def test_revert_of_a_write_to_an_exited_process_fails(child):
    # A new user's report: the revert of a write to a process that has since
    # exited printed "gone ... nothing to revert" and exited 0.
    first = lainview("write", child.pid, hex(child.counter + 32), "07")
    assert first.returncode == 0, first.stderr
    child.kill()
    back = lainview("revert", "1")
    assert back.returncode == 1, back.stdout + back.stderr
    assert "entry 1: gone:" in back.stdout and "nothing to revert" in back.stdout
    assert "Traceback" not in back.stderr


def test_journal_text_marks_freezes(child, backend):
    # A new user's report: a freeze showed as "41000000 -> 41000000 [ok]",
    # like a write that changed nothing.
    target = backend.attach(child.pid).result()
    held = bytes.fromhex("41000000")
    ended = target.freeze_begin(child.counter, held).result()
    for _ in range(3):
        target.freeze_write(ended, child.counter, held).result()
    assert backend.freeze_end(ended).result() == 3
    holding = target.freeze_begin(child.counter + 8, held).result()
    target.freeze_write(holding, child.counter + 8, held).result()
    out = lainview("journal")
    assert out.returncode == 0, out.stderr
    lines = {int(line.split()[0]): line for line in out.stdout.splitlines()}
    assert "freeze ended " in lines[ended] and "after 3 writes" in lines[ended]
    assert "freeze (holding, or lainview stopped before its end)" in lines[holding]
    assert lines[ended].endswith(")") and "[ok]" in lines[ended]


def test_the_journal_shows_where_a_write_went_as_it_was_given(child):
    """(A new user's report) `lainview journal` listed a write made at
    `libc.so.6+0x…` by its address alone; it shows the location too."""
    from lainview.backend.memory import Perm, parse_maps
    with open(f"/proc/{child.pid}/maps") as f:
        areas = parse_maps(f.read())
    libc = [a for a in areas if os.path.basename(a.path).startswith("libc.so")]
    if not libc:
        pytest.skip("the child has no libc.so mapping")
    rw = [a for a in libc if a.perms & Perm.WRITE][-1]
    address = rw.end - 8                        # the end of libc's writable data
    where = f"{os.path.basename(rw.path)}+{address - min(a.start for a in libc):#x}"
    old = int.from_bytes(child.peek(address, 1), "little")
    wrote = lainview("write", child.pid, where, f"{old ^ 0x5a:02x}")
    assert wrote.returncode == 0, wrote.stderr
    listed = lainview("journal", "--pid", child.pid)
    assert listed.returncode == 0, listed.stderr
    assert f" {address:#x} {where} " in listed.stdout, listed.stdout
    assert lainview("revert", "--pid", child.pid).returncode == 0
