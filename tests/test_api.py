"""The public API (lainview.attach / lainview.kernel) against a real child
process (tests/target_child.py) and the real /proc, and the README's API
examples run as written."""

import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import lainview
from lainview.backend.journal import Journal
from lainview.backend.thread import BackendClosed

README = Path(__file__).parent.parent / "README.md"


def test_import_lainview_does_not_load_the_api_or_the_backend():
    """`import lainview` stays cheap: the API (and numpy, the backend) load
    on first use of lainview.attach."""
    code = ("import sys, lainview; "
            "print(sorted(m for m in ('lainview.api', 'lainview.backend', 'numpy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    assert callable(lainview.attach) and "lainview.api" in sys.modules


def test_maps_resolve_and_read_see_the_childs_memory(child):
    with lainview.attach(child.pid) as p:
        assert p.pid == child.pid
        assert p.identity.start_ticks and p.info.backend in ("procfs", "lainmemu")
        areas = p.maps()
        assert any(a.start <= child.base < a.end for a in areas)
        assert p.resolve(f"{child.base:#x}") == child.base
        heap = p.resolve("[heap]")
        assert any(a.path == "[heap]" and a.start == heap for a in areas)
        assert p.read(child.base, 8) == bytes(range(8))
        assert p.read(child.ro, 8) == b"READONLY"


def test_read_of_a_hole_raises_fault_error_naming_the_first_unreadable_address(child):
    with lainview.attach(child.pid) as p:
        end = max(a.end for a in p.maps() if a.start <= child.base < a.end)
        gap = end
        while any(a.start <= gap < a.end for a in p.maps()):
            gap = next(a.end for a in p.maps() if a.start <= gap < a.end)
        with pytest.raises(lainview.FaultError) as caught:
            p.read(gap - 4, 8)
        assert caught.value.address == gap and f"{gap:#x}" in str(caught.value)


def test_a_name_that_does_not_resolve_says_so(child):
    with lainview.attach(child.pid) as p, pytest.raises(lainview.InvalidInput) as caught:
        p.resolve("no-such-library.so+0x10")
    assert "no-such-library.so" in str(caught.value)


def test_write_is_journaled_and_reaches_the_child(child):
    with lainview.attach(child.pid) as p:
        result = p.write(child.base + 16, b"\xde\xad")
    assert result.old == bytes([16, 17]) and result.new == b"\xde\xad"
    assert child.peek(child.base + 16, 2) == b"\xde\xad"
    entries = Journal().entries()
    assert [(e.id, e.address, e.old, e.new) for e in entries] == \
        [(result.journal_id, child.base + 16, bytes([16, 17]), b"\xde\xad")]
    assert entries[0].target["pid"] == child.pid


def test_scan_takes_python_ints_and_floats_and_narrows(child):
    with lainview.attach(child.pid) as p:
        p.write(child.scan, struct.pack("<d", 2.75))
        found = p.scan("f64", 2.75)
        assert child.scan in [m.address for m in found.matches]
        assert next(m.value for m in found.matches if m.address == child.scan) == 2.75

        counter = child.counter + 8           # "COUNTER" then a u32
        start = struct.unpack("<I", p.read(counter, 4))[0]
        scan = p.scan("u32", start)
        assert counter in [m.address for m in scan.matches] and scan.step == 1
        assert child.command("tick") == "ok"
        assert scan.next("increased") is scan and scan.step == 2
        assert [m for m in scan.matches if m.address == counter] == \
            [lainview.Match(counter, start + 1)]
        assert child.command("tick") == "ok"
        assert scan.next("increased-by", 1).step == 3
        assert lainview.Match(counter, start + 2) in scan.matches
        with pytest.raises(lainview.InvalidInput, match="unknown scan mode 'sideways'"):
            scan.next("sideways")
        assert scan.undo().step == 2
        assert lainview.Match(counter, start + 1) in scan.matches

        patterns = p.scan("bytes", b"COUNTER")     # writable areas only, by default
        assert lainview.Match(child.counter, b"COUNTER") in patterns.matches
        with pytest.raises(lainview.InvalidInput):
            p.scan("i32", b"\x01")


def test_close_ends_the_backend_and_a_closed_process_refuses(child):
    p = lainview.attach(child.pid)
    with p:
        p.scan("u8", 1)
    assert p.closed
    with pytest.raises(BackendClosed):
        p.read(child.base, 1)
    p.close()                                 # again: nothing


def test_attach_to_a_process_that_does_not_exist_raises_target_exited():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with pytest.raises(lainview.TargetExited):
        lainview.attach(proc.pid)


def test_kernel_lists_symbols_and_reads_or_says_what_is_missing():
    with lainview.kernel() as k:
        info = k.info()
        table = k.symbols()
        data_symbols = table.select(types="Dd")
        assert len(table) > 1000 and len(data_symbols)
        name = table.symbol(int(data_symbols[0])).name
        assert table.lookup(name)
        if info.can("read"):
            assert len(k.read(name, 8)) == 8
        else:
            with pytest.raises(lainview.CapabilityMissing) as caught:
                k.read(name, 8)
            assert "cannot read" in str(caught.value) and info.missing["read"]
        with pytest.raises(lainview.LainviewError):
            k.read("no_such_symbol_in_any_kernel", 8)


def _api_examples() -> list[str]:
    """The ```python blocks of the README's "## API" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_api_examples_run_against_a_real_child(child, capsys):
    examples = _api_examples()
    assert examples and any("PID" in code for code in examples)
    for code in examples:
        exec(compile(code.replace("PID", str(child.pid)), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "journal entry" in out and "symbols" in out
