"""DWARF types: damaged debug information gives InvalidInput, never a
pyelftools traceback (hypothesis over the bytes of .debug_info/.debug_abbrev
of a small -g build). The types themselves are checked against the header
and the live child in tests/test_cli_types.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lainview.backend.ctypes_model import Pointer, c_definition, typed_value
from lainview.backend.dwarf_types import DebugTypes
from lainview.backend.errors import InvalidInput

C_DIR = Path(__file__).parent.parent / "c"


@pytest.fixture(scope="module")
def debug_build(tmp_path_factory) -> tuple[bytes, list[tuple[int, int]]]:
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = tmp_path_factory.mktemp("dwarf") / "t"
    subprocess.run(["gcc", "-g", "-O0", "-I", str(C_DIR), "-o", str(exe),
                    str(C_DIR / "struct_target.c")], check=True)
    from elftools.elf.elffile import ELFFile
    with open(exe, "rb") as f:
        elf = ELFFile(f)
        spans = [(s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()
                 if s.name in (".debug_info", ".debug_abbrev", ".debug_str")]
    return exe.read_bytes(), spans


def _use(path: Path) -> None:
    debug = DebugTypes(str(path))
    try:
        for name in debug.names():
            t = debug.find(name)
            c_definition(t)
            typed_value(t, bytes(min(t.size, 4096)))
            if isinstance(t, Pointer):
                str(t.target)
        for g in debug.globals():
            debug.variable(g)
    finally:
        debug.close()


def test_the_intact_build_reads(debug_build, tmp_path):
    data, _ = debug_build
    (tmp_path / "ok").write_bytes(data)
    _use(tmp_path / "ok")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_damaged_debug_information_gives_invalid_input_only(debug_build, tmp_path, data):
    blob, spans = debug_build
    blob = bytearray(blob)
    for _ in range(data.draw(st.integers(1, 6))):
        start, size = data.draw(st.sampled_from(spans))
        at = start + data.draw(st.integers(0, size - 1))
        blob[at] = data.draw(st.integers(0, 255))
    path = tmp_path / "damaged"
    path.write_bytes(bytes(blob))
    try:
        _use(path)
    except InvalidInput:
        pass


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_a_base_type_the_program_never_used_is_still_found(tmp_path):
    """--dwarf with --type 'long long unsigned int' said "no type" when the
    program's DWARF had no such base type (the second attack pass): C base
    types have one layout on x86-64 whatever the program used."""
    src = tmp_path / "few.c"
    src.write_text("int counter = 3;\nint main(void) { return counter; }\n")
    exe = tmp_path / "few"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(src)], check=True)
    debug = DebugTypes(str(exe))
    try:
        assert debug.find("int").size == 4                       # from the DWARF
        assert debug.find("long long unsigned int").size == 8    # not in it
        assert debug.find("unsigned short *").size == 8
        with pytest.raises(InvalidInput, match="no type 'nosuch'"):
            debug.find("nosuch")
    finally:
        debug.close()
