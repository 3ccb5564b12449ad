"""Kernel types against the real kernel, in the VM harness (tests/vm/run.sh:
lainko loaded, root, the guest's own /sys/kernel/btf/vmlinux).

- ``kread init_uts_ns --type 'struct uts_namespace' --json`` through the
  kmem device shows ``name.release`` equal to ``uname -r``.
- ``ktype uts_namespace``'s offsets (BTF) equal those gcc gives
  tests/vm/uts_offsets.c, built by run.sh on the host with kbuild against
  the booted kernel's headers (those lainko is built against; kbuild in
  the guest, under TCG, takes many minutes),
  and the raw bytes of init_uts_ns hold ``uname -s/-n/-r`` exactly there.
- The kernel browser over the kmem device shows init_uts_ns as a structure
  (the type chosen with the type-ahead field), and its window is saved as a
  PNG in the project's ignored ``.vm-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pytest

from tests.models.qt_support import gui_backend, no_widgets_left, qloop  # noqa: F401
from tests.ui.test_symbol_browser import open_browser, select, wait_value  # noqa: F401

pytestmark = pytest.mark.device

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / ".vm-artifacts"
BTF = "/sys/kernel/btf/vmlinux"


def lainview(capsys, *args: str) -> tuple[int, str, str]:
    """Run a lainview command in this process (an interpreter's start costs
    a minute under TCG): (exit status, stdout, stderr)."""
    from lainview.cli import run_cli
    capsys.readouterr()
    code = run_cli(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def btf(kmem_node):
    if not os.access(BTF, os.R_OK):
        pytest.fail(f"the guest kernel {platform.release()} has no {BTF}")
    return BTF


def ktype(capsys, name: str) -> dict:
    code, out, err = lainview(capsys, "ktype", name, "--json")
    assert code == 0, err
    return json.loads(out)


def test_kread_init_uts_ns_as_a_struct_through_kmem(btf, capsys):
    code, out, err = lainview(capsys, "--ksource", "kmem", "kread", "init_uts_ns", "--type",
                              "struct uts_namespace", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["via"].startswith("kmem"), got["via"]
    name = got["value"]["fields"]["name"]["fields"]
    uname = os.uname()
    assert name["release"]["value"] == uname.release == platform.release()
    assert name["sysname"]["value"] == uname.sysname
    assert name["nodename"]["value"] == uname.nodename
    assert name["version"]["value"] == uname.version


UTS_OFFSETS = ("sizeof", "name", "user_ns", "ucounts", "ns", "name.release")
"""The values of ``lv_offsets`` in tests/vm/uts_offsets.c, in its order."""


def _gcc_offsets() -> dict[str, int]:
    """sizeof(struct uts_namespace) and offsetof of its fields as gcc laid
    them out in uts_offsets.o, which run.sh built with kbuild on the host
    against this kernel's headers (the ones lainko is built against)."""
    run = os.environ.get("LAINKO_RUN")
    if not run:
        pytest.skip("LAINKO_RUN is not set: run by tests/vm/run.sh, which builds uts_offsets.o")
    from elftools.elf.elffile import ELFFile
    with open(Path(run) / "offsets" / "uts_offsets.o", "rb") as f:
        elf = ELFFile(f)
        symbol = elf.get_section_by_name(".symtab").get_symbol_by_name("lv_offsets")[0]
        section = elf.get_section(symbol["st_shndx"])
        start = symbol["st_value"]
        data = section.data()[start:start + 8 * len(UTS_OFFSETS)]
    values = [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data), 8)]
    assert len(values) == len(UTS_OFFSETS)
    return dict(zip(UTS_OFFSETS, values))


def test_ktype_uts_namespace_offsets_match_the_kernel_headers(btf, capsys):
    t = ktype(capsys, "uts_namespace")
    fields = {f["name"]: f["offset"] for f in t["fields"] if f["name"]}
    new = ktype(capsys, "new_utsname")
    release = {f["name"]: f["offset"] for f in new["fields"]}["release"]
    gcc = _gcc_offsets()
    assert set(fields) == set(UTS_OFFSETS) - {"sizeof", "name.release"}, fields
    assert gcc["sizeof"] == t["size"]
    for field, offset in fields.items():
        assert gcc[field] == offset, field
    assert gcc["name.release"] == fields["name"] + release


def test_the_raw_bytes_hold_uname_where_btf_says(btf, capsys):
    """Ground truth without headers: the bytes read through the device hold
    the kernel's own uname strings at the offsets BTF gives."""
    t = ktype(capsys, "uts_namespace")
    base = {f["name"]: f["offset"] for f in t["fields"]}["name"]
    new = {f["name"]: f["offset"] for f in ktype(capsys, "new_utsname")["fields"]}
    code, out, err = lainview(capsys, "--ksource", "kmem", "kread", "init_uts_ns",
                              str(t["size"]), "--json")
    assert code == 0, err
    data = bytes.fromhex(json.loads(out)["data"])
    uname = os.uname()
    for field, text in (("sysname", uname.sysname), ("nodename", uname.nodename),
                        ("release", uname.release), ("version", uname.version),
                        ("machine", uname.machine)):
        at = base + new[field]
        assert data[at:at + len(text) + 1] == text.encode() + b"\0", field


def test_the_kernel_browser_shows_init_uts_ns_as_a_structure(qtbot, open_browser, btf):  # noqa: F811
    from lainview.models.images import save_png
    browser = open_browser(source="kmem")
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.typing.types is not None, timeout=120000)
    assert ws.typing.available, ws.typing.types_error
    select(qtbot, browser, "init_uts_ns")
    wait_value(qtbot, browser)
    panel = browser.value
    panel.type_edit.setFocus()
    qtbot.keyClicks(panel.type_edit, "uts_namespace")
    assert "struct uts_namespace" in panel.type_names.stringList()
    task = panel._choose("struct uts_namespace")
    qtbot.waitUntil(task.done, timeout=60000)
    assert task.result() is True, ws.typing.note
    model = ws.typing.structure
    qtbot.waitUntil(lambda: model.find("name.release").isValid()
                    and model.data(model.find("name.release")) ==
                    json.dumps(platform.release()), timeout=60000)
    assert panel.tabs.currentWidget() is panel.tree
    panel.tree.expandAll()
    for column in range(3):
        panel.tree.resizeColumnToContents(column)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"kernel-browser-init_uts_ns-{platform.release()}.png"
    save_png(browser.grab(), str(path))
    assert path.stat().st_size > 10000
    print(f"wrote {path}")
