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


# -- the API and CLI attack pass of issue 13 --------------------------------------------------------

def _vsyscall(pid: int) -> int | None:
    with open(f"/proc/{pid}/maps") as f:
        return next((int(line.split("-")[0], 16) for line in f if "[vsyscall]" in line), None)


def test_a_mapped_address_from_2_63_up_is_a_hole_not_an_internal_error(child):
    """[vsyscall] lies above 2**63: pread refuses such positions, and the
    int overflowed on the way there (an internal error, and half a JSON
    document on stdout). Now its bytes are holes: exit 1, valid JSON."""
    import json
    import pytest
    at = _vsyscall(child.pid)
    if at is None:
        pytest.skip("this kernel maps no [vsyscall]")
    for args in (("read", child.pid, "[vsyscall]", "8"), ("write", child.pid, "[vsyscall]", "41"),
                 ("read", child.pid, "0xffffffff00000000", "0x100000000", "--raw")):
        out = lainview(*args)
        assert out.returncode == 1, out
        assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    out = lainview("read", child.pid, "[vsyscall]", "8", "--json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["chunks"] == [] and report["no_access"] == []
    assert [h[:2] for h in report["holes"]] == [[at, 8]]
    import lainview as api
    from lainview.backend.errors import FaultError
    with api.attach(child.pid) as p, pytest.raises(FaultError, match="the kernel refused"):
        p.read(at, 8)


def test_a_journal_line_with_an_impossible_time_is_skipped_not_fatal(child):
    """A record with "time": 1e300 stopped `lainview journal` at that line
    (the date cannot be shown). It is malformed: skipped with a warning."""
    import json
    assert lainview("write", child.pid, f"{child.base:x}", "41").returncode == 0
    from lainview.backend.journal import default_journal_path
    path = default_journal_path()
    with open(path) as f:
        first = json.loads(f.readline())
    bad = dict(first, id=first["id"] + 100, time=1e300)
    with open(path, "a") as f:
        f.write(json.dumps(bad) + "\n")
    assert lainview("write", child.pid, f"{child.base + 1:x}", "42").returncode == 0
    out = lainview("journal")
    assert out.returncode == 0, out.stderr
    assert "internal error" not in out.stderr and "warning" in out.stderr
    assert out.stdout.count(f"pid {child.pid}") == 2


def test_a_thread_id_is_refused_as_a_process_id(tmp_path):
    """/proc/TID answers for a thread, so a thread's id was attached to and
    its writes journaled under that id, which `revert --pid` of the process
    never found. Every command that takes a PID refuses it, naming the
    process."""
    code = ("import threading, sys, os\n"
            "t = threading.Thread(target=sys.stdin.read, daemon=True); t.start()\n"
            "print(t.native_id, flush=True)\n"
            "sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        tid = int(proc.stdout.readline())
        for args in (("maps", tid), ("read", tid, "[heap]", "4"), ("write", tid, "[heap]", "00")):
            out = lainview(*args)
            assert out.returncode == 2, out
            assert f"{tid} is a thread of process {proc.pid}, not a process" in out.stderr
        import lainview as api
        from lainview.backend.errors import InvalidInput
        import pytest
        with pytest.raises(InvalidInput, match="is a thread of process"):
            api.attach(tid)
        for bad in (-1, 0, "abc", True):
            with pytest.raises(InvalidInput, match="a process id is a positive integer"):
                api.attach(bad)
    finally:
        proc.kill()
        proc.wait()
    assert not os.path.exists(tmp_path / "state" / "lainview" / "journal.jsonl") or \
        str(tid) not in (tmp_path / "state" / "lainview" / "journal.jsonl").read_text()


def test_a_name_with_a_newline_is_named_as_it_types_back(tmp_path):
    """The kernel writes a newline in a mapped file's name as \\012; maps
    kept that form, which never named the file, and printed locations with
    control characters escaped Python's way, which cannot be typed back.
    Now the name is the file's own, and a location holding unprintable
    characters is printed quoted (JSON escapes), which reads back."""
    import json
    odd = tmp_path / "ev\nil\x1b[31m.bin"
    odd.write_bytes(b"NEWLINE!" + bytes(4088))
    code = ("import mmap, sys\n"
            f"f = open({str(odd)!r}, 'rb')\n"
            "m = mmap.mmap(f.fileno(), 4096, prot=mmap.PROT_READ)\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        maps = json.loads(lainview("maps", proc.pid, "--json").stdout)
        assert str(odd) in [a["path"] for a in maps]
        typed = '"ev\\nil\\u001b[31m.bin"+0'
        out = lainview("read", proc.pid, typed, "8", "--raw")
        assert out.returncode == 0, out.stderr
        assert out.stdout == "NEWLINE!"
        from lainview.backend.locations import Location, LocationKind, parse_location
        text = Location(LocationKind.MODULE, str(odd), 0).text
        assert text == typed.replace("+0", "+0x0") and text.isprintable()
        assert parse_location(text).name == odd.name
        out = lainview("read", proc.pid, "nope+0", "4")
        assert out.returncode == 2 and '"ev\\nil\\u001b[31m.bin"' in out.stderr
    finally:
        proc.kill()
        proc.wait()


def test_the_api_refuses_arguments_of_the_wrong_kind_as_invalid_input(child):
    """`p.read("libc+0x10", 4)` raised TypeError from deep inside and
    `p.write(a, "text")` another: arguments of the wrong kind are
    InvalidInput naming what was expected, and a location's text is
    accepted where an address is."""
    import pytest
    import lainview as api
    from lainview.backend.errors import InvalidInput
    with api.attach(child.pid) as p:
        assert p.read(f"{child.ro:#x}", 8) == b"READONLY"
        assert p.read("a file with spaces.bin+0", 6) == b"SPACED"
        with pytest.raises(InvalidInput, match="data to write is bytes, not str"):
            p.write(child.base, "text")
        for bad in (-1, 1 << 64, 1.5, None):
            with pytest.raises(InvalidInput, match="an address is an int"):
                p.read(bad, 4)
        with pytest.raises(InvalidInput, match="a size is an int"):
            p.read(child.base, "4")
        result = p.write(f"{child.base:#x}", bytearray(b"\x01"))
        assert result.new == b"\x01" and child.peek(child.base, 1) == b"\x01"


# -- the attack pass on pointer scans, types and watchpoints ------------------------------------------

def test_headers_and_dwarf_files_that_are_not_regular_files_are_refused(child, tmp_path):
    """`--c-header /dev/zero` grew to 10 GB and a FIFO hung `read --type`
    (and `--dwarf FIFO`): what lainview reads from a file the user names
    is a bounded, regular file (files.read_input_file / open_input_file)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    big = tmp_path / "big.h"
    big.write_text("int x;\n" * 200_000)               # 1.4 MB of declarations
    for args, message in ((("--c-header", "/dev/zero"), "is not a regular file"),
                          (("--c-header", fifo), "is not a regular file"),
                          (("--c-header", big), "larger than"),
                          (("--dwarf", fifo), "is not a regular file")):
        out = lainview("read", child.pid, hex(child.base), "--type", "int", *args, timeout=30)
        assert out.returncode == 2, out
        assert message in out.stderr and len(out.stderr.splitlines()) == 1, out.stderr
    deep = tmp_path / "deep.h"
    deep.write_text("struct a { " * 3000 + "int x; " + "} f; " * 3000 + "};")
    out = lainview("read", child.pid, hex(child.base), "--type", "int", "--c-header", deep,
                   timeout=60)
    assert out.returncode == 2 and "nested too deeply" in out.stderr, out


def test_a_scalar_type_prints_its_value(child):
    """`read --type int` printed only its title line."""
    out = lainview("read", child.pid, hex(child.base + 4), "--type", "uint32_t")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith(f"= {int.from_bytes(bytes(range(4, 8)), 'little')}")


def test_a_pointer_scan_file_with_too_many_paths_is_refused():
    """A valid file of 2,000,000 paths took 1.6 GB and minutes to rescan."""
    import json
    import pytest
    from lainview.backend import pointer_scan as ptr
    from lainview.backend.errors import InvalidInput
    doc = {"format": ptr.FILE_MAGIC, "version": ptr.FILE_VERSION,
           "paths": [{}] * (ptr.MAX_LISTED + 1)}
    with pytest.raises(InvalidInput, match="holds at most 100,000"):
        ptr.parse_results(json.dumps(doc).encode(), "many.ptrscan")


def test_the_api_checks_pointer_scan_and_watch_arguments(child):
    """Wrong kinds escaped as OverflowError, TypeError or AttributeError;
    seconds=nan armed a watchpoint that never expired."""
    import pytest
    import lainview as api
    from lainview.backend.errors import InvalidInput
    with api.attach(child.pid) as p:
        for bad in (-1, 1 << 64, None):
            with pytest.raises(InvalidInput):
                p.pointer_scan(bad)
        with pytest.raises(InvalidInput, match="depth is an int"):
            p.pointer_scan(child.base, depth=True)
        for bad in (None, [1], ["prog+0x10->+0x8"]):
            with pytest.raises(InvalidInput, match="paths is a list of PointerPath"):
                p.pointer_rescan(bad, child.base)
        for seconds in (float("nan"), float("inf"), -1, 0):
            with pytest.raises(InvalidInput, match="seconds is a positive, finite number"):
                p.watch(child.counter, 4, seconds=seconds)
        with pytest.raises(InvalidInput, match="length is 1, 2, 4 or 8"):
            p.watch(child.counter, True)


def test_the_api_checks_types_symbols_and_rescan_arguments(child):
    """The second attack pass: value_type=5 and scan(5, 0) raised
    AttributeError, symbolize("t+0x10") and symbols(5) TypeError,
    symbolize(-1) gave "-0x1", stacks="no" counted as true, and a rescan
    given neither an address nor a value said "not both"."""
    import pytest
    import lainview as api
    from lainview.backend.errors import InvalidInput
    with api.attach(child.pid) as p:
        with pytest.raises(InvalidInput, match="a value type is its name as text"):
            p.scan(5, 0)
        with pytest.raises(InvalidInput, match="a value type is its name as text"):
            p.pointer_rescan([], value=5, value_type=5)
        with pytest.raises(InvalidInput, match="to rescan for"):
            p.pointer_rescan([])
        for bad in (-1, 1 << 64, None, 1.5):
            with pytest.raises(InvalidInput, match="an address is an int"):
                p.symbolize(bad)
        assert p.symbolize(hex(child.base)) == p.symbolize(child.base)
        with pytest.raises(InvalidInput, match="pattern is text or None"):
            p.symbols(5)
        with pytest.raises(InvalidInput, match="stacks is True or False"):
            p.pointer_scan(child.base, stacks="no")
        with pytest.raises(InvalidInput, match="align is an int"):
            p.scan("i32", 5, align="4")
        with pytest.raises(InvalidInput, match="tolerance is a number"):
            p.scan("f32", 1.5, tolerance="0.1")
