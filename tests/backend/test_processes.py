"""The process list and its attachability, from the real /proc."""

import os
import pwd
import subprocess

import pytest

from lainview.backend.processes import (PF_KTHREAD, attach_check, has_address_space,
                                        is_kernel_thread, list_processes, process_identity,
                                        start_ticks, stat_fields)

from ..conftest import run_as_nobody


def test_list_includes_a_child_with_its_details(child):
    procs = {p.pid: p for p in list_processes()}
    me = procs[child.pid]
    assert me.attachable and me.reason == ""
    assert "target_child.py" in me.cmdline and me.rss > 0
    assert me.user == pwd.getpwuid(os.getuid()).pw_name


@pytest.mark.skipif(run_as_nobody() is None, reason="needs root to drop to user nobody")
def test_a_process_of_another_user_is_listed_with_that_user():
    sleeper = subprocess.Popen(run_as_nobody() + ["sh", "-c", "echo dropped; exec sleep 60"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert sleeper.stdout.readline() == "dropped\n"      # running as nobody now
        procs = {p.pid: p for p in list_processes()}
        assert procs[sleeper.pid].user == pwd.getpwuid(65534).pw_name
        assert procs[sleeper.pid].user != pwd.getpwuid(os.getuid()).pw_name
    finally:
        sleeper.kill()
        sleeper.wait(timeout=10)


def test_kernel_threads_are_marked_with_the_reason():
    procs = {p.pid: p for p in list_processes()}
    assert is_kernel_thread(2)
    assert not procs[2].attachable and procs[2].reason.startswith("kernel thread")


def test_gone_process():
    ok, reason = attach_check(2**22 + 777)
    assert not ok and reason.startswith("gone")


def test_identity_names_one_process(child):
    ident = process_identity(child.pid)
    assert ident.pid == child.pid
    assert ident.start_ticks == start_ticks(child.pid) and ident.start_ticks > 0
    assert "target_child.py" in " ".join(ident.cmdline)
    assert ident.to_json() == {"kind": "process", "pid": child.pid, "exe": ident.exe,
                               "cmdline": list(ident.cmdline),
                               "start_ticks": ident.start_ticks}


def test_identity_from_proc_agrees_with_psutil_on_every_process():
    """process_identity reads /proc itself (no psutil at start-up): its
    executable and arguments are what psutil reports, for every process we
    may look at (a title rewritten with spaces, kernel threads, zombies)."""
    import psutil
    compared = 0
    for p in psutil.process_iter():
        try:
            with p.oneshot():
                exe, cmdline = p.exe(), p.cmdline()
        except (psutil.AccessDenied, psutil.ZombieProcess, psutil.NoSuchProcess):
            continue
        ident = process_identity(p.pid)
        if start_ticks(p.pid) != ident.start_ticks:
            continue            # gone or replaced meanwhile
        assert (ident.exe, list(ident.cmdline)) == (exe, cmdline), p.pid
        compared += 1
    assert compared > 3


def test_the_process_list_from_proc_agrees_with_psutil_on_every_process(child):
    """list_processes reads /proc itself (psutil cost ps's start-up more
    than the listing): name, real user, command line and executable are
    what psutil reports, for every process (kernel threads, zombies, names
    cut to 15 characters, other users'), and so is the resident memory of
    a sleeping one. Processes that changed while we looked (exec, exit, a
    workqueue thread renamed by its work) are those psutil sees differently
    before and after our list; they are left out."""
    import psutil

    def seen() -> dict[int, tuple]:
        return {p.info["pid"]: (p.info["name"] or "", p.info["username"] or "",
                                " ".join(p.info["cmdline"] or []), p.info["exe"] or "")
                for p in psutil.process_iter(["pid", "name", "username", "cmdline", "exe"])}
    before = seen()
    ours = {p.pid: p for p in list_processes()}
    after = seen()
    stable = [pid for pid in before if pid in ours and before[pid] == after.get(pid)]
    assert len(stable) > 3
    assert {pid: (ours[pid].name, ours[pid].user, ours[pid].cmdline, ours[pid].exe)
            for pid in stable} == {pid: before[pid] for pid in stable}
    assert ours[child.pid].rss == psutil.Process(child.pid).memory_info().rss


def test_a_long_name_is_completed_from_the_command_line():
    from lainview.backend.processes import process_name
    stat = b"4242 (gnome-keyring-d) S 1 4242"
    assert process_name(stat, ("/usr/bin/gnome-keyring-daemon", "--start")) == \
        "gnome-keyring-daemon"
    assert process_name(stat, ("/usr/bin/other", "--start")) == "gnome-keyring-d"
    assert process_name(b"7 (a) b) R 1", ()) == "a) b"      # a name holding ")"


def _fake_stat(proc, pid: int, name: str, state: str, flags: int, ticks: int) -> None:
    """A /proc/PID/stat as proc(5) lays it out: pid (comm) state ppid pgrp
    session tty_nr tpgid flags ... starttime (field 22) ..."""
    fields = [state, "1", "1", "1", "0", "-1", str(flags)] + ["0"] * 12 + [str(ticks), "0"]
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "stat").write_text(f"{pid} ({name}) {' '.join(fields)}\n")


def test_stat_fields_start_after_a_name_holding_parentheses_and_spaces(tmp_path):
    _fake_stat(tmp_path, 10, "x) R 1 (y", "Z", 0, 4242)
    _fake_stat(tmp_path, 11, "worker (2)", "S", PF_KTHREAD, 77)
    assert stat_fields(10, str(tmp_path))[0] == b"Z"
    assert (start_ticks(10, str(tmp_path)), start_ticks(11, str(tmp_path))) == (4242, 77)
    assert not has_address_space(10, str(tmp_path)) and has_address_space(11, str(tmp_path))
    assert is_kernel_thread(11, str(tmp_path)) and not is_kernel_thread(10, str(tmp_path))
    assert stat_fields(12, str(tmp_path)) is None and start_ticks(12, str(tmp_path)) is None
    assert not has_address_space(12, str(tmp_path)) and not is_kernel_thread(12, str(tmp_path))


def test_stat_fields_of_this_process_are_the_real_ones():
    fields = stat_fields(os.getpid())
    assert fields is not None and fields[0] == b"R" and int(fields[1]) == os.getppid()
