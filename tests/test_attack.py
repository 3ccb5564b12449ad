"""Faults found by attacking the CLI as a hostile user: each test is the
reproduction, run against real processes and real files."""
import os
import subprocess
import sys


def lainview(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_scan_next_on_a_fifo_session_is_refused_not_hung(tmp_path):
    fifo = tmp_path / "session"
    os.mkfifo(fifo)
    out = lainview("scan", "--session", fifo, "--next", "changed", timeout=20)
    assert out.returncode == 2, out.stderr
    assert "not a regular file" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_export_never_replaces_a_device_node_or_fifo(tmp_path, child):
    """`journal --export /dev/null` as root used to rename a regular file
    over /dev/null. A FIFO or device at the destination is refused, exit 2."""
    assert lainview("write", child.pid, f"{child.base:x}", "41").returncode == 0
    fifo = tmp_path / "patch.json"
    os.mkfifo(fifo)
    out = lainview("journal", "--pid", child.pid, "--export", fifo)
    assert out.returncode == 2, out
    assert "not a regular file" in out.stderr
    import stat
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".patch")] == []


def test_a_full_disk_is_a_failed_operation_not_bad_input(tmp_path, child):
    """Saving a scan session onto a full file system exited 2 (bad input);
    it is an operation that failed: exit 1, one line naming ENOSPC."""
    import pytest
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "full"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mnt)], check=True)
    try:
        fd = os.open(mnt / "fill", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 512):
                pass
        except OSError:
            pass
        os.close(fd)
        out = lainview("scan", child.pid, "--type", "u8", "--unknown",
                       "--session", mnt / "session")
        assert out.returncode == 1, out
        assert "ENOSPC" in out.stderr and len(out.stderr.strip().splitlines()) == 1
        assert sorted(p.name for p in mnt.iterdir()) == ["fill"]
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_screenshot_of_a_malformed_session_file_is_bad_input(tmp_path):
    """`lainview --session FILE --screenshot out.png` with a malformed or
    missing FILE exited 1 (failed operation); it is bad input: exit 2."""
    bad = tmp_path / "s.json"
    bad.write_text("[]")
    for path in (bad, tmp_path / "missing.json"):
        out = subprocess.run([sys.executable, "-m", "lainview", "--session", str(path),
                              "--screenshot", str(tmp_path / "o.png")], capture_output=True,
                             text=True, timeout=60,
                             env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert out.returncode == 2, out
        assert "Traceback" not in out.stderr
        assert not (tmp_path / "o.png").exists()


def _finishes(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter, which must end within
    ``timeout`` (a bound on a hang, not a timing test)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, check=True)


def test_a_megabyte_location_with_a_run_of_spaces_is_parsed_at_once():
    """parse_location backtracked in quadratic time over a long run of
    spaces (10 000 took 6 s; a 1 MB location from a session or patch file
    hung). The grammar is read in one pass from the end."""
    out = _finishes(
        "from lainview.backend.errors import InvalidInput\n"
        "from lainview.backend.locations import parse_location\n"
        "loc = parse_location('a' + ' ' * 1_000_000 + 'b')\n"
        "print(loc.kind, len(loc.name), loc.offset)\n"
        "loc = parse_location('lib' + ' ' * 1_000_000 + '- 0x10')\n"
        "print(loc.kind, loc.name, loc.offset)\n"
        "try:\n"
        "    parse_location('kernel:a' + ' ' * 1_000_000 + 'b')\n"
        "except InvalidInput:\n"
        "    print('refused')\n")
    assert out.stdout.splitlines() == ["module 1000002 0", "module lib -16", "refused"]


def test_cli_read_of_a_long_hostile_location_is_bad_input_not_a_hang(child):
    """The largest single argument Linux passes (128 KiB) took minutes."""
    out = lainview("read", child.pid, "a" + " " * 100_000 + "b", 4, timeout=60)
    assert out.returncode == 2, out.stderr[-300:]
    assert "no module named a" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    # What the user typed is quoted clipped, not echoed whole.
    assert len(out.stderr) < 1000, len(out.stderr)
    for text, says in (("0x" + "f" * 100_000, "address out of range: 0xfff"),
                       ("[heap]+" + "f" * 100_000, "offset out of range: +0xfff"),
                       ("kernel:" + "\x1b" * 100_000, "bad kernel symbol name '"),
                       ("[" + "x" * 100_000, "bad area name '[xxx")):
        out = lainview("read", child.pid, text, 4, timeout=60)
        assert out.returncode == 2 and says in out.stderr, out.stderr[:300]
        assert len(out.stderr) < 1000 and "…" in out.stderr, len(out.stderr)


def test_a_watch_type_with_a_long_run_of_spaces_is_refused_at_once():
    """The watch list's type column parsed ``i32``/``f64 be``/``utf8[16]``
    with a regular expression whose runs of spaces met: cubic backtracking,
    2 000 pasted spaces took 47 s in the GUI thread. A length of 5 000 digits
    raised ValueError (not InvalidInput) from int()."""
    out = _finishes(
        "from lainview.backend.errors import InvalidInput\n"
        "from lainview.models.watch_values import ValueType\n"
        "for text in ('i32' + ' ' * 1_000_000 + 'x', 'utf8[' + '9' * 5000 + ']'):\n"
        "    try:\n"
        "        ValueType.parse(text)\n"
        "    except InvalidInput as exc:\n"
        "        print(exc.message[:40])\n"
        "print(ValueType.parse(' bytes [ 8 ] ').label)\n")
    assert out.stdout.splitlines() == [
        "not a value type: 'i32" + " " * 18, "the length in utf8[" + "9" * 21,
        "bytes[8]"], out.stdout


def test_hostile_scan_values_are_bad_input_and_inf_and_nan_are_found(child):
    """A 5 000-digit number made the "does not fit" message raise ValueError
    (exit 1, internal error); argv bytes that are not UTF-8 (lone
    surrogates) raised UnicodeEncodeError; f64 took 1e400 as inf; a nan
    tolerance or range end was taken; an exact scan for inf or nan found
    nothing (inf - inf is nan) and numpy printed RuntimeWarnings."""
    pid = child.pid
    for args, says in [
            (("--type", "i32", "--value", "0x" + "f" * 5000), "does not fit in i32"),
            (("--type", "i32", "--range", "0x" + "f" * 5000 + "..1"), "does not fit in i32"),
            (("--type", "i64", "--value", "9" * 5000), "is not an i64 value"),
            (("--type", "f64", "--value", "1e400"), "'1e400' does not fit in f64"),
            (("--type", "f32", "--value=-1e39"), "does not fit in f32"),
            (("--type", "f64", "--value", "1", "--tolerance", "nan"), "not nan"),
            (("--type", "f64", "--range", "nan..1"), "cannot end at nan"),
            (("--type", "utf8", "--value", os.fsdecode(b"ab\xff")), "lone surrogate"),
            (("--type", "utf16le", "--value", os.fsdecode(b"\xff")), "lone surrogate")]:
        out = lainview("scan", pid, *args)
        assert out.returncode == 2, (args, out.stderr)
        assert says in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert len(out.stderr) < 400, out.stderr
    import struct
    assert child.command(f"poke {child.scan:x} {struct.pack('<dd', float('inf'), float('nan')).hex()}") == "ok"
    for value, address in (("inf", child.scan), ("nan", child.scan + 8), ("-inf", None)):
        out = lainview("scan", pid, "--type", "f64", f"--value={value}", "--json",
                       "--area", f"{child.scan:#x}..{child.scan + 4096:#x}")
        assert out.returncode == 0 and out.stderr == "", out.stderr
        import json
        found = [m["address"] for m in json.loads(out.stdout)["matches"]]
        if address is None:
            assert child.scan not in found
        else:
            assert address in found, (value, found)


def test_a_kmem_path_that_cannot_be_a_device_is_bad_input(tmp_path):
    """`--kmem DIR|FIFO|missing` was exit 1 (or, under --ksource auto, a
    missing path was silently passed over for /proc/kallsyms); like a
    missing --image it is bad input: exit 2, one line, no hang."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    for name in ("fifo", "dir", "missing"):
        for source in ("auto", "kmem"):
            out = lainview("--ksource", source, "--kmem", tmp_path / name, "kread", "jiffies",
                           timeout=30)
            assert out.returncode == 2, (name, source, out.stderr)
            assert f"--kmem {tmp_path / name}" in out.stderr, out.stderr
            assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_a_patch_that_is_not_a_regular_file_or_holds_nan_is_refused_in_one_clear_line(
        tmp_path, child):
    """load_patch raised InvalidInput inside a try that caught ValueError (its
    base class), so /dev/zero was "is not JSON: EINVAL: /dev/zero is not a
    regular file"; and it took NaN and 1e400 ("version nan"). Patches are
    now read by the one reader of untrusted JSON files (backend/files.py)."""
    nan = tmp_path / "nan.json"
    nan.write_text('{"format": "lainview-patch", "version": NaN, "writes": []}')
    big = tmp_path / "big.json"
    big.write_text('{"format": "lainview-patch", "version": 1e400, "writes": []}')
    for path, says in (("/dev/zero", "patch file /dev/zero is not a regular file"),
                       (tmp_path, "is not a regular file"),
                       (nan, "NaN is not a number JSON allows"),
                       (big, "number 1e400 is out of range")):
        out = lainview("apply", "--pid", child.pid, "--dry-run", path)
        assert out.returncode == 2, out.stderr
        assert says in out.stderr and "EINVAL" not in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_negative_values_need_no_equals_sign(child):
    """argparse reads only -5 and -1.5 as values: `--range -10..-5`,
    `--value -0x10`, `--value -1e3` and `--value -inf` were "expected one
    argument", exit 2, for a scan any user would type."""
    import json
    import struct
    area = ("--area", f"{child.scan:#x}..{child.scan + 4096:#x}")
    assert child.command(f"poke {child.scan:x} {struct.pack('<i', -7).hex()}") == "ok"
    for args in (("--type", "i32", "--range", "-10..-5"), ("--type", "i32", "--value", "-0x7"),
                 ("--type", "i32", "--value", "-7")):
        out = lainview("scan", child.pid, *args, *area, "--json")
        assert out.returncode == 0, (args, out.stderr)
        assert child.scan in [m["address"] for m in json.loads(out.stdout)["matches"]]
    assert child.command(f"poke {child.scan:x} {struct.pack('<d', float('-inf')).hex()}") == "ok"
    for args in (("--value", "-inf"), ("--value", "-1e400"), ("--range", "-inf..-1e3")):
        out = lainview("scan", child.pid, "--type", "f64", *args, *area, "--json")
        if args[1] == "-1e400":
            assert out.returncode == 2 and "does not fit in f64" in out.stderr, out.stderr
            continue
        assert out.returncode == 0, (args, out.stderr)
        assert child.scan in [m["address"] for m in json.loads(out.stdout)["matches"]]


def test_a_bad_alignment_is_said_in_the_users_words(child):
    """`--align -1` said "length must not be negative"; `--align 3` said
    "the scan chunk (1048576) must be a multiple of 8 x the alignment (3)"."""
    for align, says in (("-1", "--align takes natural, any or a positive number of bytes, "
                               "not '-1'"),
                        ("0", "not '0'"), ("x", "not 'x'"),
                        ("3", "an alignment of 3 bytes is not supported: it must divide "
                              "131072 (1, 2, 4, 8, 16 … bytes)")):
        out = lainview("scan", child.pid, "--type", "u8", "--unknown", "--align", align)
        assert out.returncode == 2 and says in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_one_byte_is_one_byte(child):
    """`read` of one unmapped byte said "1 bytes unreadable", a revert of a
    one-byte write "restored 1 bytes of memory": counts go through
    wording.counted (also the hex editor's selection, copy status, the
    patch dialog's button and a watch entry's unreadable value)."""
    out = lainview("read", child.pid, "0x10", 1)
    assert out.returncode == 1, out.stderr
    assert "EFAULT at 0x10: 1 byte unreadable" in out.stderr, out.stderr
    out = lainview("read", child.pid, f"{child.guard:#x}", 1)
    assert f"note: 1 byte at {child.guard:#x} is in a no-access page" in out.stderr, out.stderr
    assert lainview("write", child.pid, f"{child.base:#x}", "41").returncode == 0
    out = lainview("revert", "--pid", child.pid)
    assert out.returncode == 0 and "restored 1 byte of memory" in out.stdout, out.stdout


def test_values_that_stay_nan_or_inf_are_unchanged(child, tmp_path):
    """--next unchanged dropped a value that stayed nan (nan equals nothing)
    or stayed inf (inf - inf is nan), --next changed kept them, and numpy
    printed "RuntimeWarning: invalid value encountered in subtract"."""
    import json
    import struct
    session = tmp_path / "scan.session"
    addresses = [child.scan, child.scan + 8, child.scan + 16]
    poke = lambda *values: child.command(  # noqa: E731
        f"poke {child.scan:x} {struct.pack('<3d', *values).hex()}")
    assert poke(float("nan"), float("inf"), 1.0) == "ok"
    out = lainview("scan", child.pid, "--type", "f64", "--unknown", "--session", session,
                   "--area", f"{child.scan:#x}..{child.scan + 24:#x}")
    assert out.returncode == 0 and out.stderr == "", out.stderr

    def step(mode):
        out = lainview("scan", "--session", session, "--next", mode, "--json")
        assert out.returncode == 0 and out.stderr == "", out.stderr
        return [m["address"] for m in json.loads(out.stdout)["matches"]]
    assert set(addresses) <= set(step("unchanged"))
    assert poke(float("nan"), float("inf"), 2.0) == "ok"
    assert [a for a in step("changed") if a in addresses] == addresses[2:]
