"""Kernel types (backend/kernel_types.py): BTF and the DWARF of --image
files behind one lookup, on a gcc-built image with and without -g and this
machine's real BTF; built as bulk work that interactive requests overtake."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.kernel import KernelBackend
from lainview.backend.kernel_types import KernelTypes
from lainview.backend.service import Backend

BTF = "/sys/kernel/btf/vmlinux"
needs_btf = pytest.mark.skipif(not os.access(BTF, os.R_OK), reason=f"no readable {BTF}")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build a test image")
    from tests.ui.test_kernel_types_ui import IMAGE_C
    d = tmp_path_factory.mktemp("ktypes")
    (d / "img.c").write_text(IMAGE_C)
    out = {}
    for name, flags in (("debug", ["-g"]), ("plain", [])):
        out[name] = d / name
        subprocess.run(["gcc", *flags, "-O0", "-nostdlib", "-static", "-no-pie", "-o",
                        str(out[name]), str(d / "img.c")], check=True)
    return out


def test_dwarf_of_an_image_types_its_variables_without_btf(images, tmp_path):
    types = KernelTypes([str(images["debug"]), str(images["plain"])], btf_dir=str(tmp_path))
    try:
        assert types.available and types.btf is None
        assert any("without BTF" in n for n in types.notes)
        assert any("plain" in n and "no DWARF" in n for n in types.notes)
        t = types.variable("init_uts_ns")
        assert t is not None and t.c_name() == "struct uts_namespace" and t.size == 408
        assert types.variable("no_such_variable") is None
        assert types.find("uts_namespace").size == 408
        assert types.search("uts") == ["struct uts_namespace", "struct new_utsname"]
        assert types.search("") and types.search("zzz_none") == []
        with pytest.raises(InvalidInput, match="no type 'struct nope'"):
            types.find("struct nope")
    finally:
        types.close()


def test_no_types_at_all_is_said(images, tmp_path):
    types = KernelTypes([str(images["plain"])], btf_dir=str(tmp_path))
    assert not types.available and types.search("u") == []
    with pytest.raises(InvalidInput, match="cannot look up 'u32'.*without BTF"):
        types.find("u32")


@needs_btf
def test_btf_names_come_first_and_module_symbols_use_btf(images):
    types = KernelTypes([str(images["debug"])])
    try:
        found = types.search("new_utsname", 10)
        assert found.count("struct new_utsname") == 1      # BTF's and DWARF's: one entry
        assert types.find("struct task_struct").size > 1000  # only BTF has it
        assert types.find("struct uts_namespace").size == 408  # the image's DWARF first
    finally:
        types.close()


@needs_btf
def test_types_are_bulk_work_that_interactive_requests_overtake(images):
    backend = Backend()
    try:
        kernel = KernelBackend(backend, source="image", images=(str(images["debug"]),))
        order: list[str] = []
        types = kernel.types()
        info = kernel.info()
        types.add_done_callback(lambda _f: order.append("types"))
        info.add_done_callback(lambda _f: order.append("info"))
        loaded = types.result(timeout=60)
        info.result(timeout=60)
        assert order == ["info", "types"]
        assert loaded.variable("init_uts_ns") is not None
        assert kernel.types().result(timeout=60) is loaded          # built once
        assert kernel.find_type("struct uts_namespace").result(timeout=60).size == 408
    finally:
        backend.shutdown()
