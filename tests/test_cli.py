"""The CLI as users run it: real subprocesses against a real child."""

import json
import os
import subprocess
import sys

import pytest

from lainview.backend.memory import parse_maps
from tests.conftest import run_as_nobody


def lainview(*args, prefix=(), **kw):
    return subprocess.run([*prefix, sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=60, **kw)


def test_maps_json_equals_proc_maps(child):
    out = lainview("maps", child.pid, "--json")
    assert out.returncode == 0, out.stderr
    with open(f"/proc/{child.pid}/maps") as f:
        kernel = parse_maps(f.read())
    assert json.loads(out.stdout) == [a.to_json() for a in kernel]
    first = json.loads(out.stdout)[0]
    assert set(first) == {"start", "end", "perms", "offset", "path"}


def test_read_dump_and_raw(child):
    out = lainview("read", child.pid, f"{child.ro:x}", "8")
    assert out.returncode == 0, out.stderr
    assert "52 45 41 44 4f 4e 4c 59" in out.stdout and "|READONLY" in out.stdout
    raw = subprocess.run([sys.executable, "-m", "lainview", "read", str(child.pid),
                          hex(child.base), "0x10", "--raw"], capture_output=True, timeout=60)
    assert raw.returncode == 0 and raw.stdout == bytes(range(16))


def test_read_of_a_no_access_page_shows_its_bytes_and_says_so(child):
    out = lainview("read", child.pid, hex(child.guard - 2), "4")
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first.split("|")[0].split()[-2:] == ["fe", "ff"]
    assert second.split("|")[0].split()[1:] == ["00", "00"]
    assert f"2 bytes at {child.guard:#x} are in a no-access page" in out.stderr


def test_read_of_unmapped_bytes_exits_1_naming_errno_and_address(child):
    out = lainview("read", child.pid, "0x1000", "4")
    assert out.returncode == 1
    assert out.stdout.split("|")[0].split()[1:] == ["??"] * 4 and "|????" in out.stdout
    assert "EFAULT at 0x1000" in out.stderr and "not mapped" in out.stderr


def test_write_prints_old_and_new_and_journals(child):
    out = lainview("write", child.pid, hex(child.ro), "de ad")
    assert out.returncode == 0, out.stderr
    assert "old 52 45" in out.stdout and "new de ad" in out.stdout
    assert child.peek(child.ro, 2) == b"\xde\xad"
    listing = lainview("journal", "--pid", child.pid, "--json")
    (entry,) = json.loads(listing.stdout)
    assert entry["old"] == "5245" and entry["new"] == "dead" and entry["status"] == "ok"
    text = lainview("journal")
    assert f"pid {child.pid}" in text.stdout and "5245 -> dead [ok]" in text.stdout
    back = lainview("revert", entry["id"])
    assert back.returncode == 0 and "reverted" in back.stdout
    assert child.peek(child.ro, 2) == b"RE"



def test_read_and_write_follow_a_pointer_path_and_a_broken_one_exits_2(child):
    """A chain in the child's page 0: base+0x100 -> base+0x200; +0x18 ->
    base+0x300; the value at +0x8. The CLI reads the pointers from the
    target, as the GUI does."""
    base = child.base
    for at, value in ((base + 0x100, base + 0x200), (base + 0x218, base + 0x300)):
        assert child.command(f"poke {at:x} {value.to_bytes(8, 'little').hex()}") == "ok"
    path = f"{base + 0x100:#x} -> +0x18 -> +0x8"
    out = lainview("read", child.pid, path, "4", "--raw")
    assert out.returncode == 0, out.stderr
    assert out.stdout == bytes(range(8, 12)).decode()
    out = lainview("write", child.pid, path, "de ad be ef")
    assert out.returncode == 0, out.stderr
    assert child.peek(base + 0x308, 4) == b"\xde\xad\xbe\xef"
    # Journaled with the path, so a patch made from it follows the pointers.
    (entry,) = json.loads(lainview("journal", "--pid", child.pid, "--json").stdout)
    assert entry["location"]["steps"] == [0x18, 0x8], entry
    assert child.command(f"poke {base + 0x218:x} {bytes(8).hex()}") == "ok"
    out = lainview("read", child.pid, path, "4")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "at level 3 (the value), 0x8 is not mapped in the map of pid" in out.stderr


def test_journal_for_another_pid_does_not_say_the_journal_is_empty(child, tmp_path):
    """`journal --pid N` with writes to other processes only said "no writes
    journaled in PATH", as if the journal were empty; the export said
    "wrote 1 writes to PROGRAM", as if it had written into the program."""
    assert lainview("write", child.pid, hex(child.ro), "de ad").returncode == 0
    other = child.pid + 1_000_000
    out = lainview("journal", "--pid", other)
    assert out.returncode == 0
    assert f"no writes to process {other} journaled in" in out.stderr, out.stderr
    out = lainview("journal", "--pid", child.pid, "--export", tmp_path / "fix.json")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("saved 1 write to ") and "as a patch in" in out.stdout, out.stdout

def test_revert_all_for_a_pid(child):
    lainview("write", child.pid, hex(child.counter + 8), "01")
    lainview("write", child.pid, hex(child.counter + 9), "02")
    out = lainview("revert", "--pid", child.pid)
    assert out.returncode == 0 and out.stdout.count("reverted") == 2
    assert child.peek(child.counter + 8, 2) == b"\0\0"


@pytest.mark.parametrize("args,message", [
    (("write", "{pid}", "{base}", "zz"), "malformed hex: 'z'"),
    (("write", "{pid}", "{base}", "abc"), "odd number of digits"),
    (("read", "{pid}", "0xnothex", "4"), "not a hex address: '0xnothex'"),
    (("read", "{pid}", "nothex", "4"), "no module named nothex in the map of pid "),
    (("read", "{pid}", "{base}", "-4"), "length must not be negative"),
    (("read", "{pid}", "{base}", "12x"), "not a length"),
    (("maps", "notapid"), "not a process id"),
])
def test_bad_input_exits_2_with_a_specific_message(child, args, message):
    args = [a.format(pid=child.pid, base=hex(child.base)) for a in args]
    out = lainview(*args)
    assert out.returncode == 2 and message in out.stderr


def test_write_to_unmapped_address_exits_1_and_writes_nothing(child):
    out = lainview("write", child.pid, "0x1000", "00")
    assert out.returncode == 1 and "EFAULT at 0x1000" in out.stderr
    assert lainview("journal", "--json").stdout.strip() == "[]"


def test_missing_process(child):
    gone = subprocess.Popen(["true"])
    gone.wait()
    out = lainview("maps", gone.pid)
    assert out.returncode == 1 and "does not exist" in out.stderr


def test_forced_procfs_backend(child):
    out = lainview("--backend", "procfs", "read", child.pid, hex(child.base), "2")
    assert out.returncode == 0 and "00 01" in out.stdout


@pytest.mark.skipif(run_as_nobody() is None, reason="needs root to drop to user nobody")
def test_unprivileged_user_gets_eperm_with_advice(child):
    out = lainview("maps", child.pid, prefix=run_as_nobody(),
                   env={**os.environ, "XDG_STATE_HOME": "/tmp"})
    assert out.returncode == 1
    assert "denied" in out.stderr and "not root" in out.stderr
    assert "CAP_SYS_PTRACE" in out.stderr


def test_ps_lists_the_child_as_attachable(child):
    out = lainview("ps", "--json")
    procs = {p["pid"]: p for p in json.loads(out.stdout)}
    assert procs[child.pid]["attachable"] is True
    assert procs[2]["attachable"] is False and "kernel thread" in procs[2]["reason"]


def test_ps_cuts_command_lines_to_the_terminal_width_unless_wide():
    # A new user's report: `lainview ps` printed whole command lines,
    # thousands of characters each.
    long_arg = "x" * 3000
    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", long_arg],
                               stdin=subprocess.PIPE)
    try:
        env = {**os.environ, "COLUMNS": "100"}
        out = lainview("ps", env=env)
        assert out.returncode == 0, out.stderr
        assert all(len(line) <= 100 for line in out.stdout.splitlines())
        mine = [line for line in out.stdout.splitlines() if line.split()[:1] == [str(sleeper.pid)]]
        assert len(mine) == 1 and mine[0].endswith("…") and len(mine[0]) == 100, mine
        for flag in ("-w", "--wide"):
            wide = lainview("ps", flag, env=env)
            assert any(line.split()[:1] == [str(sleeper.pid)] and line.endswith(long_arg)
                       for line in wide.stdout.splitlines())
        procs = {p["pid"]: p for p in json.loads(lainview("ps", "--json", env=env).stdout)}
        assert procs[sleeper.pid]["cmdline"].endswith(long_arg)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_scan_first_and_next_across_invocations(child, tmp_path):
    session = tmp_path / "scan.npz"
    area = f"{child.scan:x}-{child.scan + 4 * child.page:x}"
    child.command(f"poke {child.scan + 40:x} {(4242).to_bytes(4, 'little').hex()}")
    child.command(f"poke {child.scan + 3 * child.page:x} {(4242).to_bytes(4, 'little').hex()}")
    out = lainview("scan", child.pid, "--type", "i32", "--value", "4242", "--area", area,
                   "--session", session, "--json")
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)
    assert [m["address"] for m in first["matches"]] == [child.scan + 40,
                                                        child.scan + 3 * child.page]
    assert first["count"] == 2 and first["unreadable_bytes"] == child.page
    assert all(m["value"] == 4242 for m in first["matches"])
    child.command(f"poke {child.scan + 40:x} {(4243).to_bytes(4, 'little').hex()}")
    out = lainview("scan", "--session", session, "--next", "changed")
    assert out.returncode == 0, out.stderr
    assert "step 2 (changed): 1 match in" in out.stdout and f"{child.scan + 40:#018x}" in out.stdout
    assert "4243" in out.stdout
    out = lainview("scan", "--session", session, "--undo", "--json")
    assert json.loads(out.stdout)["count"] == 2


@pytest.mark.parametrize("args,message", [
    (("scan", "{pid}", "--type", "i32"), "needs --value, --range or --unknown"),
    (("scan", "{pid}", "--type", "i8", "--value", "999"), "does not fit in i8"),
    (("scan", "--next", "changed"), "need --session"),
    (("scan", "{pid}", "--type", "bytes", "--value", "zz"), "malformed byte pattern"),
])
def test_scan_bad_input(child, args, message):
    out = lainview(*[a.format(pid=child.pid) for a in args])
    assert out.returncode == 2 and message in out.stderr


def test_journal_export_and_apply_to_a_new_run(tmp_path):
    from tests.conftest import spawn_child
    first = spawn_child(tmp_path)
    try:
        assert lainview("write", first.pid, hex(first.spaced), "50 41 54 43 48").returncode == 0
        patch = tmp_path / "fix.json"
        out = lainview("journal", "--pid", first.pid, "--export", patch)
        assert out.returncode == 0 and "saved 1 write to" in out.stdout, out.stderr
    finally:
        first.kill()
    second = spawn_child(tmp_path)
    try:
        out = lainview("apply", patch, "--dry-run")
        assert out.returncode == 0 and "would write" in out.stdout, out.stderr
        assert second.peek(second.spaced, 5) == b"SPACE"
        out = lainview("apply", patch)            # finds the one process of the program
        assert out.returncode == 0, out.stderr
        assert f"@ {second.spaced:#x}: written" in out.stdout
        assert second.peek(second.spaced, 5) == b"PATCH"
        out = lainview("apply", patch, "--pid", second.pid)
        assert out.returncode == 0 and "already" in out.stdout
    finally:
        second.kill()


def test_apply_refuses_a_malformed_patch_and_an_ambiguous_target(child, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "lainview-patch", "version": 1}')
    out = lainview("apply", bad, "--pid", child.pid)
    assert out.returncode == 2 and "must name the executable" in out.stderr
    patch = tmp_path / "p.json"
    patch.write_text(json.dumps({
        "format": "lainview-patch", "version": 1,
        "program": {"exe": "/no/such/program", "cmdline": []},
        "writes": [{"location": {"kind": "absolute", "name": "", "offset": 4096},
                    "old": "00", "new": "01"}]}))
    out = lainview("apply", patch)
    assert out.returncode == 2 and "0 processes run /no/such/program" in out.stderr


def test_messages_say_counts_and_sizes_in_good_english(child):
    # A new user's report: "1 matches", "wrote 1 bytes", "is not a i32
    # value", "0.0 MiB scanned" for one page.
    from lainview.backend.wording import article, counted
    assert [counted(n, "match") for n in (0, 1, 2)] == ["0 matches", "1 match", "2 matches"]
    assert counted(1, "write") == "1 write" and counted(3, "byte") == "3 bytes"
    assert [article(t) for t in ("i32", "u8", "f64", "s16", "utf8", "bytes")] == \
        ["an i32", "a u8", "an f64", "an s16", "a utf8", "a bytes"]
    child.command(f"poke {child.scan + 40:x} {(0x7a7a1234).to_bytes(4, 'little').hex()}")
    area = f"{child.scan:x}-{child.scan + child.page:x}"
    out = lainview("scan", child.pid, "--type", "i32", "--value", str(0x7a7a1234), "--area", area)
    assert out.returncode == 0, out.stderr
    assert "1 match in 4.0 KiB scanned, 0 unreadable bytes skipped" in out.stdout, out.stdout
    bad = lainview("scan", child.pid, "--type", "i32", "--value", "abc", "--area", area)
    assert bad.returncode == 2 and "'abc' is not an i32 value" in bad.stderr, bad.stderr
    wrote = lainview("write", child.pid, hex(child.counter + 32), "07")
    assert wrote.returncode == 0 and "wrote 1 byte at" in wrote.stdout, wrote.stdout


def test_text_a_process_chooses_cannot_forge_rows_or_drive_the_terminal():
    # CI found it: some process on a fresh machine had a newline in its
    # command line, and `ps` printed it as a row of its own. The kind: any
    # text the target (or a file) chooses, printed by the CLI. A command line
    # and a memfd name with a newline and an ESC [2J (clear screen) in them.
    code = ("import os, mmap, sys\n"
            "fd = os.memfd_create('evil\\n\\x1b[2Jname')\n"
            "os.ftruncate(fd, 4096)\n"
            "m = mmap.mmap(fd, 4096)\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n")
    child = subprocess.Popen([sys.executable, "-c", code, "line one\nfake row\x1b[2J"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        ps = lainview("ps", "--wide")
        assert ps.returncode == 0, ps.stderr
        rows = ps.stdout.splitlines()
        assert "\x1b" not in ps.stdout
        mine = [r for r in rows if r.split()[:1] == [str(child.pid)]]
        assert len(mine) == 1 and mine[0].endswith("line one\\nfake row\\x1b[2J"), mine
        assert not any(r.startswith("fake row") for r in rows)
        maps = lainview("maps", str(child.pid))
        assert maps.returncode == 0, maps.stderr
        assert "\x1b" not in maps.stdout
        memfd = [r for r in maps.stdout.splitlines() if "memfd:" in r]
        assert memfd and all(r.endswith("\\x1b[2Jname (deleted)") for r in memfd), memfd
    finally:
        child.kill()
        child.wait()


def test_bad_input_reads_as_the_message_alone(child):
    # A new user's report: "lainview read: EINVAL: no module named …". The
    # errno is for programs; a person's typo gets the message only, and the
    # device's or kernel's EINVAL (errno given by them) keeps its name.
    from lainview.backend.errors import InvalidInput
    out = lainview("read", str(child.pid), "libfoo.so+0x10", "4")
    assert out.returncode == 2
    assert out.stderr.startswith("lainview read: no module named libfoo.so in the map of pid ")
    assert "EINVAL" not in out.stderr
    assert str(InvalidInput("refused", errno=22)) == "EINVAL: refused"
    assert str(InvalidInput("bad", address=0x10)) == "at 0x10: bad"


@pytest.mark.parametrize("typed, named", [
    ("multi   spaces+0x10", "multi   spaces"),        # runs of spaces kept, as typed
    ('" lead"+0x10', '" lead"'),                      # quoted: the parser strips spaces
])
def test_a_name_in_an_error_reads_as_it_can_be_typed_back(child, typed, named):
    """(Attack pass) "no module named multi spaces" named a module nobody
    typed, and a name that starts with a space was shown unquoted, so
    typing it back as shown named another module."""
    out = lainview("read", str(child.pid), typed, "4")
    assert out.returncode == 2
    assert out.stderr.startswith(f"lainview read: no module named {named} in the map of "), \
        out.stderr
