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
