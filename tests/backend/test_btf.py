"""The kernel BTF reader: a synthetic blob holding every kind with known
values, the running kernel's vmlinux BTF (every type builds; its C, compiled
by gcc, gives BTF's offsets; new_utsname matches <linux/utsname.h>), and
malformed blobs (hypothesis) raising only InvalidInput."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from lainview.backend import btf as btf_mod
from lainview.backend.btf import BTF, load_kernel_btf
from lainview.backend.ctypes_model import (Array, Base, Enum, Function, Pointer, Record,
                                           Typedef, c_closure, c_definition, typed_value)
from lainview.backend.errors import InvalidInput

VMLINUX = "/sys/kernel/btf/vmlinux"
needs_btf = pytest.mark.skipif(not os.access(VMLINUX, os.R_OK), reason="no kernel BTF")
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


class Writer:
    """Builds a BTF blob type by type (ids from 1), as the format documents."""

    def __init__(self, str_base: int = 0, first_id: int = 1) -> None:
        self.types = b""
        self.strings = b"" if str_base else b"\0"
        self.str_base = str_base
        self.next_id = first_id

    def s(self, text: str) -> int:
        if not text:
            return 0
        off = self.str_base + len(self.strings)
        self.strings += text.encode() + b"\0"
        return off

    def add(self, name: str, kind: int, vlen: int, size_or_type: int, extra: bytes = b"",
            flag: int = 0) -> int:
        info = (flag << 31) | (kind << 24) | vlen
        self.types += struct.pack("<III", self.s(name), info, size_or_type) + extra
        self.next_id += 1
        return self.next_id - 1

    def blob(self) -> bytes:
        hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(self.types), len(self.types),
                          len(self.strings))
        return hdr + self.types + self.strings


def sample() -> tuple[bytes, dict[str, int]]:
    w = Writer()
    ids: dict[str, int] = {}
    ids["int"] = w.add("int", btf_mod.INT, 0, 4, struct.pack("<I", (1 << 24) | 32))
    ids["char"] = w.add("char", btf_mod.INT, 0, 1, struct.pack("<I", (2 << 24) | 8))
    ids["uint"] = w.add("unsigned int", btf_mod.INT, 0, 4, struct.pack("<I", 32))
    ids["u64"] = w.add("long long unsigned int", btf_mod.INT, 0, 8, struct.pack("<I", 64))
    ids["float"] = w.add("double", btf_mod.FLOAT, 0, 8)
    ids["arr"] = w.add("", btf_mod.ARRAY, 0, 0, struct.pack("<III", ids["char"], ids["int"], 8))
    ids["fwd"] = w.add("later", btf_mod.FWD, 0, 0)
    ids["ptr"] = w.add("", btf_mod.PTR, 0, ids["fwd"])  # to struct later (declared only)
    ids["enum"] = w.add("colour", btf_mod.ENUM, 2, 4,
                        struct.pack("<IiIi", w.s("RED"), 0, w.s("BLUE"), -2), flag=1)
    ids["enum64"] = w.add("wide", btf_mod.ENUM64, 1, 8,
                          struct.pack("<III", w.s("HUGE"), 0, 1))
    # struct item { int count; char name[8]; unsigned a:3, b:5; struct item *next;
    #               enum colour c; double d; }  (size 40)
    members = [("count", ids["int"], 0, 0), ("name", ids["arr"], 32, 0),
               ("a", ids["uint"], 96, 3), ("b", ids["uint"], 99, 5),
               ("next", ids["ptr"], 128, 0), ("c", ids["enum"], 192, 0),
               ("d", ids["float"], 256, 0)]
    extra = b"".join(struct.pack("<III", w.s(n), t, (bits << 24) | off)
                     for n, t, off, bits in members)
    ids["item"] = w.add("item", btf_mod.STRUCT, len(members), 40, extra, flag=1)
    assert ids["ptr"] == 8 and ids["item"] == 11
    ids["ptr_item"] = w.add("", btf_mod.PTR, 0, ids["item"])
    ids["typedef"] = w.add("item_t", btf_mod.TYPEDEF, 0, ids["item"])
    ids["const"] = w.add("", btf_mod.CONST, 0, ids["int"])
    ids["volatile"] = w.add("", btf_mod.VOLATILE, 0, ids["int"])
    ids["restrict"] = w.add("", btf_mod.RESTRICT, 0, ids["ptr_item"])
    ids["proto"] = w.add("", btf_mod.FUNC_PROTO, 2, ids["int"],
                         struct.pack("<IIII", w.s("x"), ids["int"], 0, 0))
    ids["func"] = w.add("do_it", btf_mod.FUNC, 1, ids["proto"])
    ids["var"] = w.add("counter", btf_mod.VAR, 0, ids["int"], struct.pack("<I", 1))
    ids["datasec"] = w.add(".data", btf_mod.DATASEC, 1, 4,
                           struct.pack("<III", ids["var"], 0, 4))
    ids["decl_tag"] = w.add("tag", btf_mod.DECL_TAG, 0, ids["item"], struct.pack("<i", -1))
    ids["type_tag"] = w.add("user", btf_mod.TYPE_TAG, 0, ids["int"])
    ids["union"] = w.add("either", btf_mod.UNION, 2, 8, struct.pack(
        "<IIIIII", w.s("i"), ids["int"], 0, w.s("q"), ids["u64"], 0))
    ids["fptr"] = w.add("", btf_mod.PTR, 0, ids["proto"])
    return w.blob(), ids


def test_every_kind_reads_as_documented():
    data, ids = sample()
    b = BTF(data, name="sample")
    assert b.last_id == ids["fptr"]
    item = b.find("struct item")
    assert isinstance(item, Record) and item.size == 40
    got = [(f.name, f.offset, f.bit_offset, f.bit_size) for f in item.fields]
    assert got == [("count", 0, 0, 0), ("name", 4, 0, 0), ("a", 12, 96, 3),
                   ("b", 12, 99, 5), ("next", 16, 0, 0), ("c", 24, 0, 0), ("d", 32, 0, 0)]
    assert isinstance(item.fields[1].type, Array) and item.fields[1].type.count == 8
    enum = b.type(ids["enum"])
    assert isinstance(enum, Enum) and enum.values == {"RED": 0, "BLUE": -2} and enum.signed
    assert b.type(ids["enum64"]).values == {"HUGE": 1 << 32}
    assert isinstance(b.type(ids["typedef"]), Typedef)
    assert b.find("item_t").strip() is item
    assert b.type(ids["fwd"]).complete is False
    assert str(b.type(ids["const"])) == "const int"
    assert str(b.type(ids["restrict"])) == "struct item * restrict"
    assert isinstance(b.type(ids["proto"]), Function)
    assert str(b.type(ids["fptr"])) == "int (*)(int x, ...)"
    assert b.type(ids["func"]) is b.type(ids["proto"])
    assert b.type(ids["type_tag"]).size == 4
    sec = b.type(ids["datasec"])
    assert isinstance(sec, Record) and sec.fields[0].offset == 0
    assert b.variables() == {"counter": ids["int"]}
    assert isinstance(b.type(ids["u64"]), Base) and not b.type(ids["u64"]).signed
    assert b.find("either").size == 8 and b.find("union either").kind == "union"
    assert "struct item" in b.names() and "enum colour" in b.names()
    assert b.search("ITE") == ["struct item", "item_t"]
    # a typed value over this struct: bitfields, enum names, text, pointer
    raw = (struct.pack("<i", -7) + b"sword\0\0\0" + struct.pack("<I", 5 | (17 << 3))
           + struct.pack("<Q", 0x1000) + struct.pack("<i", -2) + b"\0" * 4
           + struct.pack("<d", 2.5))
    node = typed_value(item, raw)
    values = {n.path: n.value for n in node.walk()}
    assert values["count"] == -7 and values["name"] == "sword" and values["a"] == 5
    assert values["b"] == 17 and values["next"] == 0x1000 and values["c"] == "BLUE"
    assert values["d"] == 2.5


def test_split_btf_continues_ids_and_strings_of_its_base():
    base_data, ids = sample()
    base = BTF(base_data, name="vmlinux")
    str_len = struct.unpack_from("<I", base_data, 20)[0]
    w = Writer(str_base=str_len, first_id=base.last_id + 1)
    mod_id = w.add("mod_thing", btf_mod.STRUCT, 2, 16, struct.pack(
        "<IIIIII", w.s("owner"), ids["ptr_item"], 0, w.s("n"), ids["int"], 64))
    mod = BTF(w.blob(), base, name="mod")
    assert mod.first_id == mod_id
    thing = mod.find("struct mod_thing")
    assert [f.name for f in thing.fields] == ["owner", "n"]
    assert thing.fields[0].type.target is base.find("struct item")
    assert mod.find("struct item") is base.find("struct item")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d[:10], "too short"),
    (lambda d: b"\xeb\x9f" + d[2:], "big-endian"),
    (lambda d: d[:2] + b"\x02" + d[3:], "version 2"),
    (lambda d: d[:-5], "runs past the end"),
    (lambda d: d[:24 + 4] + struct.pack("<I", 25 << 24) + d[32:], "unknown kind 25"),
])
def test_malformed_blobs_say_what_is_wrong(mutate, message):
    data, _ = sample()
    with pytest.raises(InvalidInput, match=message):
        BTF(mutate(data), name="bad")


def _use_everything(b: BTF) -> None:
    for tid in range(1, b.last_id + 1):
        t = b.type(tid)
        c_definition(t)
        if isinstance(t, Pointer):
            str(t.target)
        b.type_name(tid)
    b.names()
    b.search("i")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_damage_gives_invalid_input_only(data):
    blob, _ = sample()
    blob = bytearray(blob)
    how = data.draw(st.sampled_from(["truncate", "bytes", "words"]))
    if how == "truncate":
        blob = blob[:data.draw(st.integers(0, len(blob)))]
    else:
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(blob) - 4))
            if how == "bytes":
                blob[at] = data.draw(st.integers(0, 255))
            else:
                blob[at:at + 4] = struct.pack("<I", data.draw(st.integers(0, 2**32 - 1)))
    try:
        _use_everything(BTF(bytes(blob), name="fuzz"))
    except InvalidInput:
        pass


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_invalid_input_only(blob):
    try:
        _use_everything(BTF(b"\x9f\xeb\x01\x00" + blob, name="fuzz"))
    except InvalidInput:
        pass


@needs_btf
def test_every_vmlinux_type_builds_and_prints():
    b = load_kernel_btf()
    assert b.last_id > 1000
    for tid in range(1, b.last_id + 1):
        c_definition(b.type(tid))
    assert "struct task_struct" in b.names()
    assert b.search("uts_name")[0] == "struct uts_namespace"


@needs_btf
@needs_gcc
@pytest.mark.parametrize("name", ["struct uts_namespace", "struct new_utsname",
                                  "struct ns_common", "struct list_head"])
def test_btf_offsets_match_gcc_compiling_the_printed_c(tmp_path, name):
    """The C the reader prints for a kernel type, compiled by gcc, puts every
    member where the kernel's BTF says it is."""
    b = load_kernel_btf()
    rec = b.find(name)
    lines = [f'printf("%zu %zu\\n", sizeof({name}), _Alignof({name}));']
    want = [f"{rec.size} {rec.align}"]
    for f in rec.members():
        if not f.bit_size:
            lines.append(f'printf("%zu\\n", offsetof({name}, {f.name}));')
            want.append(str(f.offset))
    src = tmp_path / "k.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n" + c_closure(rec)
                   + "int main(void) {\n" + "\n".join(lines) + "\nreturn 0; }\n")
    subprocess.run(["gcc", "-w", "-o", str(tmp_path / "k"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "k")], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:-1] == want


@needs_btf
@needs_gcc
def test_new_utsname_matches_the_uapi_header(tmp_path):
    """struct new_utsname from BTF against gcc on <linux/utsname.h> (the
    installed UAPI header; the running kernel's own headers are not here)."""
    if not os.path.exists("/usr/include/linux/utsname.h"):
        pytest.skip("no <linux/utsname.h>")
    rec = load_kernel_btf().find("struct new_utsname")
    names = [f.name for f in rec.fields]
    src = tmp_path / "u.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n#include <linux/utsname.h>\n"
                   "int main(void) {\nprintf(\"%zu\\n\", sizeof(struct new_utsname));\n"
                   + "".join(f'printf("%zu\\n", offsetof(struct new_utsname, {n}));\n'
                             for n in names) + "return 0; }\n")
    subprocess.run(["gcc", "-o", str(tmp_path / "u"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "u")], capture_output=True, text=True, check=True)
    assert [int(x) for x in out.stdout.split()] == [rec.size, *(f.offset for f in rec.fields)]


_NAME = st.text(alphabet="abcdeSTU_", min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_NAME, _NAME.map(lambda n: f"struct {n}")), max_size=40),
       st.text(alphabet="abcdeSTU_ ", max_size=4), st.integers(1, 60))
def test_name_index_search_finds_exactly_the_names_containing_the_text(names, text, limit):
    """Type-ahead (BTF's and DWARF's names): every name containing the text
    in any case, none other, those starting with it (after the tag) first,
    at most ``limit``."""
    from lainview.backend.btf import NameIndex
    found = NameIndex(names).search(text, limit)
    containing = {n for n in names if text.lower() in n.lower()}
    assert len(found) == len(set(found)) == min(limit, len(containing))
    assert set(found) <= containing
    starts = [n.split(" ")[-1].lower().startswith(text.lower()) for n in found]
    assert starts == sorted(starts, reverse=True)
    if len(containing) <= limit:
        assert set(found) == containing


@pytest.mark.parametrize("module", [".", "..", "vmlinux/..", "no_such_module"])
def test_a_module_name_that_is_no_module_file_is_invalid_input(module):
    """--module . read the directory (EISDIR, exit 1): a name that is not a
    module's BTF file is the user's mistake, named."""
    if not os.path.exists(VMLINUX):
        pytest.skip("no /sys/kernel/btf/vmlinux")
    with pytest.raises(InvalidInput, match="no BTF for module"):
        load_kernel_btf(module, os.path.dirname(VMLINUX))
