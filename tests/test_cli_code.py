"""`lainview syms` and `lainview disasm`, and the API's symbols() and
disassemble(), against a PIE and a fixed-address build of
tests/c/code_target.c (real subprocesses, real /proc) and nm."""

from __future__ import annotations

import json
import subprocess
import sys

import lainview
from tests.code_target import code_run, nm  # noqa: F401  (fixture)


def run(*args):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_syms_json_lists_the_programs_functions_at_their_run_time_addresses(code_run):
    done = run("syms", code_run.pid, "lv_*", "--module", code_run.exe.name, "--json")
    assert done.returncode == 0, done.stderr
    found = {s["name"]: s for s in json.loads(done.stdout)}
    assert set(found) == {"lv_add", "lv_bump", "lv_loop"}
    listed = nm(code_run.exe)
    for name, sym in found.items():
        assert sym["address"] == code_run.info[name]
        assert sym["size"] == listed[name][2] and sym["type"] == listed[name][1]
    assert found["lv_loop"]["exported"] is False              # static: .symtab only


def test_syms_modules(code_run):
    done = run("syms", code_run.pid, "--modules", "--json")
    assert done.returncode == 0, done.stderr
    modules = {m["name"]: m for m in json.loads(done.stdout)}
    assert modules[code_run.exe.name]["path"] == str(code_run.exe)
    assert any(n.startswith("libc.so") and m["exported"] > 100 for n, m in modules.items())


def test_disasm_json_fields(code_run):
    bump = code_run.info["lv_bump"]
    done = run("disasm", code_run.pid, hex(bump), 6, "--json")
    assert done.returncode == 0, done.stderr
    lines = json.loads(done.stdout)
    assert lines[0]["address"] == bump
    assert lines[0]["location"] == f"{code_run.exe.name}!lv_bump"
    assert set(lines[0]) == {"address", "location", "bytes", "mnemonic", "operands", "target",
                             "target_kind", "target_location"}
    assert bytes.fromhex(lines[0]["bytes"])
    call = next(x for x in lines if x["mnemonic"] == "call")
    assert call["target"] == code_run.info["lv_add"] and call["target_kind"] == "code"
    assert any(x["target"] == code_run.info["counter"] and x["target_kind"] == "data"
               for x in lines)


def test_disasm_text_names_and_links(code_run):
    done = run("disasm", code_run.pid, hex(code_run.info["lv_bump"]), 6)
    assert done.returncode == 0, done.stderr
    assert f"{code_run.exe.name}!lv_bump+0x" in done.stdout
    assert f"; {code_run.exe.name}!lv_add" in done.stdout


def test_disasm_inside_an_instruction_starts_at_the_one_covering_it(code_run):
    """A new user asked for lv_bump+1 and got bytes decoded from the middle
    of an instruction: the first line is now the instruction covering the
    address (said on stderr); --exact decodes from the address itself."""
    bump = code_run.info["lv_bump"]
    first = json.loads(run("disasm", code_run.pid, hex(bump), 1, "--json").stdout)[0]
    size = len(bytes.fromhex(first["bytes"]))
    assert size > 1
    inside = run("disasm", code_run.pid, hex(bump + 1), 1, "--json")
    assert inside.returncode == 0, inside.stderr
    assert json.loads(inside.stdout)[0]["address"] == bump
    assert f"{bump + 1:#x} is inside the instruction at {bump:#x}" in inside.stderr
    exact = run("disasm", code_run.pid, hex(bump + 1), 1, "--exact", "--json")
    assert json.loads(exact.stdout)[0]["address"] == bump + 1


def test_bad_input_exits_2_and_failures_exit_1(code_run):
    bad = run("disasm", code_run.pid, hex(code_run.info["lv_bump"]), 0)
    assert bad.returncode == 2 and "disasm" in bad.stderr and "Traceback" not in bad.stderr
    gone = run("disasm", code_run.pid, "0x10", 4)
    assert gone.returncode == 1 and "not mapped" in gone.stderr
    regex = run("syms", code_run.pid, "(", "--regex")
    assert regex.returncode == 2 and "Traceback" not in regex.stderr


def test_api_symbols_and_disassemble(code_run):
    with lainview.attach(code_run.pid, writable=False) as p:
        (add,) = p.symbols("lv_add", module=code_run.exe.name)
        assert add.address == code_run.info["lv_add"]
        assert p.symbolize(add.address + 1) == f"{code_run.exe.name}!lv_add+0x1"
        lines = p.disassemble(add.address, 2)
        assert lines[0].address == add.address and lines[0].location.endswith("!lv_add")
        text = p.disassemble(f"{code_run.exe.name}+{add.offset:#x}", 1)
        assert text[0].address == add.address
        assert any(m.path == str(code_run.exe) for m in p.modules())


def test_a_mapped_malformed_elf_is_a_modules_problem_and_a_clear_error(tmp_path):
    from tests import hostile_elf as E
    bad = tmp_path / "libhostile.so"
    bad.write_bytes(E.Elf(E.ET_EXEC, [E.Phdr()], [E.Shdr()],
                          overrides={"e_shoff": 1 << 50}).pack() + bytes(4096))
    child = subprocess.Popen([sys.executable, "-c", (
        "import mmap, sys\n"
        f"f = open({str(bad)!r}, 'rb'); m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)\n"
        "print('ready', flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        modules = run("syms", child.pid, "--modules", "--json")
        assert modules.returncode == 0, modules.stderr
        (entry,) = [m for m in json.loads(modules.stdout) if m["name"] == bad.name]
        assert "malformed" in entry["problem"] and entry["symbols"] == 0
        read = run("read", child.pid, f"{bad.name}!anything", 4)
        assert read.returncode == 2 and "cannot be read" in read.stderr, read.stderr
        assert "Traceback" not in read.stderr + modules.stderr
    finally:
        child.stdin.close()
        child.wait(timeout=10)
