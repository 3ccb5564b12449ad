"""Typed reads in the CLI: `read --type --c-header` on a real C child
holding known structures, `ktype` on the running kernel's BTF, and `kread
--type` on a gcc-built image laid out by that BTF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lainview.cli import run_cli

C_DIR = Path(__file__).with_name("c")
HEADER = C_DIR / "player.h"
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
needs_btf = pytest.mark.skipif(not os.access("/sys/kernel/btf/vmlinux", os.R_OK),
                               reason="no kernel BTF")


@pytest.fixture(scope="module")
def struct_exe(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = tmp_path_factory.mktemp("struct-target") / "struct_target"
    subprocess.run(["gcc", "-O0", "-I", str(C_DIR), "-o", str(exe),
                    str(C_DIR / "struct_target.c")], check=True)
    return exe


@pytest.fixture
def target(struct_exe):
    proc = subprocess.Popen([str(struct_exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    info = json.loads(proc.stdout.readline())
    info["pid"] = proc.pid
    yield info
    proc.stdin.close()
    proc.wait(timeout=10)


def _typed(capsys, target, *extra: str) -> dict:
    assert run_cli(["read", str(target["pid"]), hex(target["player"]), "--type",
                    "struct player", "--c-header", str(HEADER), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_read_type_shows_every_kind_of_field(target, capsys):
    out = _typed(capsys, target)
    assert out["size"] == target["size"] and out["address"] == target["player"]
    f = out["value"]["fields"]
    assert f["name"]["value"] == "lain" and f["hp"]["value"] == 1234
    assert [e["value"] for e in f["pos"]["elements"]] == [1.5, -2.25, 100.0]
    s = f["stats"]["fields"]
    assert (s["str"]["value"], s["dex"]["value"], s["level"]["value"], s["mood"]["value"]) \
        == (9, 15, 777, -5)
    assert f["u"]["fields"]["speed"]["value"] == 0.5
    assert f["u"]["fields"]["raw"]["value"] == 0x3F000000
    inv = f["inv"]["elements"]
    assert [(i["fields"]["count"]["value"], i["fields"]["name"]["value"],
             i["fields"]["kind"]["value"]) for i in inv] == \
        [(1, "apple", "KIND_NONE"), (2, "sword", "KIND_SWORD"), (7, "shield", "KIND_SHIELD")]
    assert inv[2]["offset"] == f["inv"]["offset"] + 2 * 20
    held = f["held"]
    assert held["value"] == target["heap"]
    pointee = held["fields"]["*"]
    assert pointee["address"] == target["heap"]
    assert pointee["fields"]["name"]["value"] == "heap sword"
    assert pointee["fields"]["kind"]["value"] == "KIND_SWORD"
    assert f["nothing"]["value"] == 0 and "fields" not in f["nothing"]
    assert f["favourite"]["value"] == "KIND_SHIELD" and f["gold"]["value"] == 1e9 + 0.25


def test_read_type_offsets_match_gcc(target, capsys, tmp_path):
    """Every field's offset in the JSON equals gcc's offsetof on the same header."""
    out = _typed(capsys, target, "--follow", "0")
    names = list(out["value"]["fields"])
    src = tmp_path / "off.c"
    src.write_text('#include <stdio.h>\n#include <stddef.h>\n#include "player.h"\n'
                   "int main(void) {\n" + "".join(
                       f'printf("%zu\\n", offsetof(struct player, {n}));\n' for n in names)
                   + "return 0; }\n")
    subprocess.run(["gcc", "-I", str(C_DIR), "-o", str(tmp_path / "off"), str(src)], check=True)
    gcc = subprocess.run([str(tmp_path / "off")], capture_output=True, text=True).stdout
    assert [int(x) for x in gcc.split()] == [out["value"]["fields"][n]["offset"] for n in names]


def test_read_type_text_tree(target, capsys):
    assert run_cli(["read", str(target["pid"]), hex(target["player"]), "--type",
                    "struct player", "--c-header", str(HEADER)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"struct player at {target['player']:#x} (136 bytes)"
    assert lines[1] == '  +0x0  name: char[16] = "lain"'
    assert "    +0x22  level: uint16_t = 777 (bits 0..9)" in lines
    assert "    +0x23  mood: int16_t = -5 (bits 2..7)" in lines
    assert '      +0x54  name: char[12] = "shield"' in lines
    assert f"  +0x68  held: struct item * = {target['heap']:#x}" in lines
    assert f"    @{target['heap']:#x}  *: struct item" in lines
    assert f'      @{target["heap"] + 4:#x}  name: char[12] = "heap sword"' in lines
    assert lines[-1] == "  +0x80  gold: double = 1000000000.25"


@pytest.mark.parametrize("args, message", [
    (["--type", "struct nope", "--c-header", str(HEADER)], "no struct 'nope'"),
    (["--type", "struct player"], "'struct player' is a struct type no header declares: "
                                  "give its declarations with --c-header FILE, or take it "
                                  "from DWARF with --dwarf FILE"),
    (["--type", "union u"], "is a union type no header declares"),
    (["--type", "player_t"], "'player_t' is a type name no header declares: give its "
                             "declarations with --c-header FILE"),
    (["--type", "int["], "not a C type"),
    (["--type", "struct player", "--c-header", "/nonexistent.h"], "cannot read the header"),
    (["--c-header", str(HEADER)], "--c-header needs --type"),
    (["--type", "int", "16"], "give no LENGTH"),
    ([], "give a LENGTH"),
])
def test_read_type_bad_input_exits_2_with_one_line(target, capsys, args, message):
    location = hex(target["player"])
    extra = [a for a in args if a != "16"]
    argv = ["read", str(target["pid"]), location, *(["16"] if "16" in args else []), *extra]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("text, where", [
    ("struct ok { int a; };\nstruct broken { int x }\n", "bad.h:2:23: syntax error before '}'"),
    ("struct ok { int a; };\nstruct broken {\n  int x;\n", "bad.h:3:9: unexpected end of input"),
    ("struct ok { int a; };\nstruct uses {\n  foo_t b;\n};\n",
     "bad.h:3:3: unknown type name 'foo_t'"),
    ("struct ok { int a; };\nfoo_t b;\n", "bad.h:2:1: unknown type name 'foo_t'"),
    ("struct ok { int a; };\nstruct big { int x:40; };\n", "bad.h:2:18: bitfield 'x'"),
])
def test_read_type_malformed_header_names_line_and_column(target, capsys, tmp_path, text,
                                                          where):
    """A truncated header once said "bad.h: At end of input" and an
    undeclared type name "Invalid specifier list" with no position."""
    bad = tmp_path / "bad.h"
    bad.write_text(text)
    assert run_cli(["read", str(target["pid"]), hex(target["player"]), "--type",
                    "struct ok", "--c-header", str(bad)]) == 2
    err = capsys.readouterr().err
    assert where in err and err.count("\n") == 1, err


@needs_btf
def test_ktype_prints_c_and_json(capsys):
    assert run_cli(["ktype", "uts_namespace"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("struct uts_namespace {\n\tstruct new_utsname name; /* 0 390 */")
    assert run_cli(["ktype", "struct new_utsname", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "struct" and out["size"] == 390
    assert [(f["name"], f["offset"], f["size"]) for f in out["fields"]][:2] == \
        [("sysname", 0, 65), ("nodename", 65, 65)]
    assert run_cli(["ktype", "utsname", "--search"]) == 0
    assert "struct new_utsname" in capsys.readouterr().out.splitlines()
    assert run_cli(["ktype", "lainview_no_such_type"]) == 2
    assert "no type 'lainview_no_such_type'" in capsys.readouterr().err


@needs_btf
@needs_gcc
def test_kread_type_through_an_image(tmp_path, capsys):
    """An image whose init_uts_ns is laid out by the running kernel's BTF
    (its C, as ktype prints it): kread --type shows name.release."""
    from lainview.backend.btf import load_kernel_btf
    from lainview.backend.ctypes_model import c_closure
    rec = load_kernel_btf().find("struct uts_namespace")
    (tmp_path / "img.c").write_text(
        c_closure(rec) + "struct uts_namespace init_uts_ns = { .name = { .sysname = \"Linux\", "
        ".release = \"6.99.0-lainview\" } };\nvoid _start(void) { for (;;) ; }\n")
    image = tmp_path / "vmlinux"
    subprocess.run(["gcc", "-w", "-nostdlib", "-static", "-no-pie", "-o", str(image),
                    str(tmp_path / "img.c")], check=True)
    assert run_cli([f"--image={image}", "kread", "init_uts_ns", "--type",
                    "struct uts_namespace", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    name = out["value"]["fields"]["name"]["fields"]
    assert name["release"]["value"] == "6.99.0-lainview" and name["sysname"]["value"] == "Linux"
    assert out["type"] == "struct uts_namespace"
    assert run_cli([f"--image={image}", "kread", "init_uts_ns", "--type", "uts_namespace"]) == 0
    assert '    +0x82  release: char[65] = "6.99.0-lainview"' in \
        capsys.readouterr().out.splitlines()


def test_a_field_path_is_a_pointer_path_the_target_resolves(target, capsys):
    """held->name as a location (field_place + Location.steps): the CLI reads
    the heap item's name through the pointer stored in the global struct."""
    from lainview.backend.c_decls import parse_header
    from lainview.backend.ctypes_model import field_place
    from lainview.backend.locations import parse_location
    player = parse_header(HEADER.read_text(), "player.h").lookup("struct player")
    place = field_place(player, "held->name")
    location = place.located(parse_location(hex(target["player"])))
    assert location.text == f"{target['player'] + 0x68:#x}->+0x4"
    assert run_cli(["read", str(target["pid"]), location.text, "10", "--raw"]) == 0
    assert capsys.readouterr().out == "heap sword"


def test_a_cyclic_follow_is_bounded(target, capsys):
    assert run_cli(["read", str(target["pid"]), hex(target["player"]), "--type",
                    "struct player", "--c-header", str(HEADER), "--follow", "99"]) == 2
    assert "give 0 to 16 levels" in capsys.readouterr().err


@pytest.fixture(scope="module")
def debug_exe(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = tmp_path_factory.mktemp("struct-target-g") / "struct_target"
    subprocess.run(["gcc", "-g", "-O0", "-I", str(C_DIR), "-o", str(exe),
                    str(C_DIR / "struct_target.c")], check=True)
    return exe


def test_dwarf_types_read_the_same_tree_as_the_header(debug_exe, capsys):
    """The child built with -g: its DWARF `struct player` gives the same tree
    (offsets, types, values, the followed heap pointer) as the header does."""
    proc = subprocess.Popen([str(debug_exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        info = json.loads(proc.stdout.readline())
        info["pid"] = proc.pid
        from_header = _typed(capsys, info)
        assert run_cli(["read", str(proc.pid), hex(info["player"]), "--type", "struct player",
                        "--dwarf", str(debug_exe), "--json"]) == 0
        from_dwarf = json.loads(capsys.readouterr().out)
        assert from_dwarf == from_header
        assert from_dwarf["value"]["fields"]["held"]["fields"]["*"]["fields"]["name"][
            "value"] == "heap sword"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_dwarf_global_has_its_type_and_address(debug_exe):
    from lainview.backend.dwarf_types import DebugTypes
    debug = DebugTypes(str(debug_exe))
    try:
        ctype, address = debug.variable("player")
        assert ctype.c_name() == "struct player" and ctype.size == 136
        assert address is not None and address > 0
        assert "struct player" in debug.names() and "player" in debug.globals()
    finally:
        debug.close()


@pytest.mark.parametrize("content, message", [
    (b"not an elf at all", "not a readable ELF file"),
    (None, "has no DWARF debug information"),
])
def test_dwarf_bad_files_exit_2(target, struct_exe, tmp_path, capsys, content, message):
    path = tmp_path / "f"
    if content is None:
        path = struct_exe               # built without -g
    else:
        path.write_bytes(content)
    assert run_cli(["read", str(target["pid"]), hex(target["player"]), "--type",
                    "struct player", "--dwarf", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


@needs_gcc
def test_kread_type_auto_from_the_images_dwarf(tmp_path, capsys):
    """kread SYMBOL --type auto: the variable's type from the DWARF of an
    --image vmlinux built with -g; without DWARF, one line, exit 2."""
    from tests.ui.test_kernel_types_ui import IMAGE_C
    (tmp_path / "img.c").write_text(IMAGE_C)
    for flags, name in ((["-g"], "vmlinux"), ([], "plain")):
        subprocess.run(["gcc", *flags, "-O0", "-nostdlib", "-static", "-no-pie", "-o",
                        str(tmp_path / name), str(tmp_path / "img.c")], check=True)
    assert run_cli([f"--image={tmp_path / 'vmlinux'}", "kread", "init_uts_ns", "--type", "auto",
                    "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["type"] == "struct uts_namespace"
    fields = out["value"]["fields"]
    assert fields["name"]["fields"]["release"]["value"] == "9.9.9-lainview"
    assert fields["state"]["value"] == "LV_RUNNING" and fields["flags"]["value"] == 5
    assert run_cli([f"--image={tmp_path / 'plain'}", "kread", "init_uts_ns", "--type",
                    "auto"]) == 2
    err = capsys.readouterr().err
    assert "no DWARF type for init_uts_ns" in err and err.count("\n") == 1, err


def test_read_type_partial_shows_the_readable_fields(target, capsys):
    """A struct read across the end of its mapping: the fields in the mapped
    bytes have their values, the rest are unreadable (?? / null), the
    reason on stderr, exit 1 (partial)."""
    pid, player = target["pid"], target["player"]
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        if lo <= player < hi:
            end = hi
    argv = ["read", str(pid), hex(end - 20), "--type", "struct player", "--c-header",
            str(HEADER)]
    assert run_cli([*argv, "--json"]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    fields = out["value"]["fields"]
    assert isinstance(fields["name"]["value"], str) and isinstance(fields["hp"]["value"], int)
    assert "unreadable" not in fields["hp"]
    assert fields["pos"]["elements"][0] == {**fields["pos"]["elements"][0], "value": None,
                                            "unreadable": True}
    assert fields["gold"]["value"] is None and fields["gold"]["unreadable"] is True
    assert fields["stats"]["fields"]["dex"]["unreadable"] is True       # a bitfield
    assert out["holes"] and "unreadable" in captured.err
    assert run_cli(argv) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("  +0x10  hp: int32_t = ") and "??" not in line
               for line in lines), lines
    assert "  +0x80  gold: double = ??" in lines, lines


@needs_btf
@needs_gcc
def test_kread_type_partial_shows_the_typed_tree(tmp_path, capsys):
    """kread --type of a BTF type larger than what the image holds once fell
    back to a hex dump of ??: now the tree, the missing fields unreadable."""
    (tmp_path / "img.c").write_text(
        "struct two { unsigned long a, b; };\nstruct two tail_var = { 0x1234, 0x5678 };\n"
        "void _start(void) { for (;;) ; }\n")
    image = tmp_path / "vmlinux"
    subprocess.run(["gcc", "-w", "-nostdlib", "-static", "-no-pie", "-o", str(image),
                    str(tmp_path / "img.c")], check=True)
    argv = [f"--image={image}", "kread", "tail_var", "--type", "struct rb_node"]
    assert run_cli([*argv, "--json"]) == 1
    captured = capsys.readouterr()
    fields = json.loads(captured.out)["value"]["fields"]
    assert fields["__rb_parent_color"]["value"] == 0x1234
    assert fields["rb_right"]["value"] == 0x5678
    assert fields["rb_left"]["value"] is None and fields["rb_left"]["unreadable"] is True
    assert "8 bytes unreadable: in no section" in captured.err
    assert run_cli(argv) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("kernel:tail_var: struct rb_node at ")
    assert lines[-1] == "  +0x10  rb_left: struct rb_node * = ??"
