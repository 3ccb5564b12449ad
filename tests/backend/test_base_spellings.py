"""C base type spellings: ``unsigned long`` == ``long unsigned int`` ==
``unsigned long int`` wherever a type is named (BTF, DWARF, C
declarations), checked against gcc's own idea of which spellings are the
same type."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from lainview.backend.c_decls import Declarations
from lainview.backend.ctypes_model import Base, c_base_name, gcc_base_name
from lainview.cli import run_cli

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
needs_btf = pytest.mark.skipif(not os.access("/sys/kernel/btf/vmlinux", os.R_OK),
                               reason="no kernel BTF")

# gcc's name → the words of one spelling (any order, "int" optional where C allows)
TYPES = {
    "char": ["char"], "signed char": ["signed", "char"], "unsigned char": ["unsigned", "char"],
    "short int": ["short"], "short unsigned int": ["unsigned", "short"],
    "int": ["int"], "unsigned int": ["unsigned"],
    "long int": ["long"], "long unsigned int": ["unsigned", "long"],
    "long long int": ["long", "long"], "long long unsigned int": ["unsigned", "long", "long"],
}


@st.composite
def spellings(draw) -> tuple[str, str]:
    gcc = draw(st.sampled_from(sorted(TYPES)))
    words = list(TYPES[gcc])
    if gcc not in ("char", "signed char", "unsigned char") and "int" not in words:
        words += ["int"] * draw(st.integers(0, 1))
    if gcc in ("int", "short int", "long int", "long long int"):
        words += ["signed"] * draw(st.integers(0, 1))
    return gcc, " ".join(draw(st.permutations(words)))


@settings(max_examples=200, deadline=None)
@given(spellings())
def test_every_spelling_has_gccs_name(pair):
    gcc, text = pair
    assert gcc_base_name(text) == gcc
    b = Declarations().lookup(text)
    assert isinstance(b, Base) and b.name == c_base_name(gcc)


@pytest.mark.parametrize("text", ["long short", "unsigned signed", "long long long",
                                  "char int", "u32", "struct x", "unsigned float", ""])
def test_no_base_type_is_none(text):
    assert gcc_base_name(text) is None


@needs_gcc
def test_gcc_agrees_which_spellings_are_one_type(tmp_path):
    """Every spelling :func:`gcc_base_name` equates gcc calls compatible
    types, and every two it tells apart gcc does too."""
    texts = [" ".join(p) for words in TYPES.values()
             for p in set(itertools.permutations([*words, *(["int"] if "char" not in words
                                                             and "int" not in words
                                                             else [])]))]
    texts += [" ".join(w) for w in TYPES.values()]
    lines = []
    for a, b in itertools.product(texts, repeat=2):
        same = int(gcc_base_name(a) == gcc_base_name(b))
        lines.append(f"_Static_assert(__builtin_types_compatible_p({a}, {b}) == {same}, "
                     f"\"{a} / {b}\");")
    src = tmp_path / "spell.c"
    src.write_text("\n".join(lines) + "\n")
    done = subprocess.run(["gcc", "-fsyntax-only", str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[:2000]


@needs_btf
@pytest.mark.parametrize("text, gcc", [("unsigned long", "long unsigned int"),
                                       ("unsigned long int", "long unsigned int"),
                                       ("long unsigned", "long unsigned int"),
                                       ("short", "short int"), ("unsigned", "unsigned int"),
                                       ("long long", "long long int"),
                                       ("signed char", "signed char"), ("char *", "char")])
def test_btf_finds_every_spelling(text, gcc):
    from lainview.backend.btf import load_kernel_btf
    btf = load_kernel_btf()
    assert btf.find(text).c_name().removesuffix(" *") == gcc
    assert btf.find(text).size == btf.find(gcc if "*" not in text else "char *").size


@needs_btf
def test_ktype_unsigned_long(capsys):
    """Once: no type 'unsigned long' in the kernel's BTF (did you mean
    ZSTD_longLengthType_e…)."""
    assert run_cli(["ktype", "unsigned long", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == 8 and out["name"] == "long unsigned int"


CHILD = r"""
#include <stdio.h>
unsigned long big = 0xfeedface12345678UL;
short neg = -2;
unsigned long long huge = 18446744073709551615ULL;
signed char tiny = -7;
int main(void) {
    printf("{\"big\": %lu, \"neg\": %lu, \"huge\": %lu, \"tiny\": %lu}\n",
           (unsigned long)&big, (unsigned long)&neg, (unsigned long)&huge,
           (unsigned long)&tiny);
    fflush(stdout);
    getchar();
    return 0;
}
"""


@needs_gcc
def test_dwarf_and_headerless_reads_take_every_spelling(tmp_path, capsys):
    """A -g child: `read --dwarf EXE --type 'unsigned long'` finds gcc's
    `long unsigned int`; without --dwarf the base type needs no header."""
    (tmp_path / "child.c").write_text(CHILD)
    exe = tmp_path / "child"
    subprocess.run(["gcc", "-g", "-O0", "-o", str(exe), str(tmp_path / "child.c")], check=True)
    from lainview.backend.dwarf_types import DebugTypes
    debug = DebugTypes(str(exe))
    try:
        assert debug.find("unsigned long").c_name() == "long unsigned int"
        assert debug.find("long long unsigned").c_name() == "long long unsigned int"
        assert debug.find("short signed").c_name() == "short int"
    finally:
        debug.close()
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        where = json.loads(proc.stdout.readline())
        cases = [("big", "unsigned long", 0xfeedface12345678), ("neg", "short int signed", -2),
                 ("huge", "long unsigned long int", 2**64 - 1), ("tiny", "char signed", -7)]
        for name, text, value in cases:
            for extra in (["--dwarf", str(exe)], []):
                assert run_cli(["read", str(proc.pid), hex(where[name]), "--type", text,
                                *extra, "--json"]) == 0, capsys.readouterr().err
                assert json.loads(capsys.readouterr().out)["value"]["value"] == value
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
