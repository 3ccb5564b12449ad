"""`read PID prog+OFF --type auto`: the global holding an address, typed
from the DWARF of the module it lies in (the C child built with -g, as
tests/c/struct_target.c holds it: a struct player with a followed heap
pointer), or from a separate --dwarf file; what has no DWARF or no global
is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lainview.cli import run_cli
from tests.c_child import build, start

C_DIR = Path(__file__).with_name("c")
SOURCE = C_DIR / "struct_target.c"


@pytest.fixture(scope="module")
def debug_exe(tmp_path_factory) -> Path:
    return build(SOURCE, tmp_path_factory.mktemp("auto-g"), "-g", "-O0", "-I", str(C_DIR))


@pytest.fixture(scope="module")
def plain_exe(tmp_path_factory) -> Path:
    return build(SOURCE, tmp_path_factory.mktemp("auto-plain"), "-O0", "-I", str(C_DIR))


@pytest.fixture
def child(debug_exe):
    c = start(debug_exe)
    yield c
    c.stop()


def module_location(pid: int, address: int) -> str:
    """``struct_target+0x…``: the address as the location grammar names it."""
    from lainview.backend.locations import locate
    from lainview.backend.memory import parse_maps
    with open(f"/proc/{pid}/maps") as f:
        return locate(address, parse_maps(f.read())).text


def test_auto_types_the_global_at_a_module_offset(child, capsys):
    location = module_location(child.pid, child.player)
    assert location.startswith("struct_target+0x")
    assert run_cli(["read", str(child.pid), location, "--type", "auto", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["variable"] == "player" and out["type"] == "struct player"
    assert out["address"] == child.player and out["size"] == child.size
    fields = out["value"]["fields"]
    assert fields["name"]["value"] == "lain" and fields["hp"]["value"] == 1234
    assert fields["favourite"]["value"] == "KIND_SHIELD"
    assert fields["held"]["fields"]["*"]["fields"]["name"]["value"] == "heap sword"
    assert out["dwarf"].endswith("struct_target")


def test_an_address_inside_the_global_shows_it_from_its_start(child, capsys):
    inside = module_location(child.pid, child.player + 8)
    assert run_cli(["read", str(child.pid), inside, "--dwarf", str(child.exe)]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"player: struct player at {child.player:#x}")
    assert "0x8 bytes into it" in first
    assert '"lain"' in out and "1234" in out


def test_a_separate_dwarf_file_types_a_stripped_program(plain_exe, debug_exe, capsys):
    """The program runs without debug information; --dwarf names the file
    that has it (as a distribution's -dbg package does)."""
    c = start(plain_exe)
    try:
        location = module_location(c.pid, c.player)
        assert run_cli(["read", str(c.pid), location, "--type", "auto"]) == 2
        err = capsys.readouterr().err
        assert "no DWARF debug information" in err and err.count("\n") == 1, err
        assert "Traceback" not in err
        assert run_cli(["read", str(c.pid), location, "--type", "auto", "--dwarf",
                        str(debug_exe), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["variable"] == "player" and out["value"]["fields"]["hp"]["value"] == 1234
    finally:
        c.stop()


def test_no_global_there_or_no_module_is_one_line(child, capsys):
    assert run_cli(["read", str(child.pid), f"{child.heap:#x}", "--type", "auto"]) == 2
    err = capsys.readouterr().err
    assert "in no mapped file" in err and err.count("\n") == 1, err
    assert run_cli(["read", str(child.pid), "struct_target+0x0", "--type", "auto"]) == 2
    err = capsys.readouterr().err
    assert "no global variable of struct_target holds" in err and err.count("\n") == 1, err
    assert run_cli(["read", str(child.pid), "struct_target+0x0", "--type", "auto",
                    "--c-header", "x.h"]) == 2
    assert "not from --c-header" in capsys.readouterr().err
