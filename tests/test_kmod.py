"""The lainko module's sources, checked on the host (no VM): its UAPI
header compiled in user space against lainview's own view of the ABI, the
test fixtures kept out of lainko.ko, and, where kernel headers are
installed, the build itself."""

from __future__ import annotations

import ctypes
import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lainview.backend import kmem, lainmemu_abi

ROOT = Path(__file__).resolve().parent.parent
KMOD = ROOT / "kmod"
UAPI = KMOD / "uapi" / "lainko.h"

ABI_PROBE = r"""
#include <stddef.h>
#include <stdio.h>
#include "lainko.h"
#define P(name, value) printf("%s %llu\n", name, (unsigned long long)(value))
int main(void)
{
	P("sizeof_arg", sizeof(struct memu_ioctl_arg));
	P("off_u_buf", offsetof(struct memu_ioctl_arg, u_buf));
	P("off_target_pid", offsetof(struct memu_ioctl_arg, target_pid));
	P("sizeof_entry", sizeof(struct memu_vm_entry));
	P("off_vm_start", offsetof(struct memu_vm_entry, vm_start));
	P("off_vm_end", offsetof(struct memu_vm_entry, vm_end));
	P("off_file_off", offsetof(struct memu_vm_entry, file_off));
	P("off_prot", offsetof(struct memu_vm_entry, prot));
	P("off_file_path", offsetof(struct memu_vm_entry, file_path));
	P("sizeof_rksym", sizeof(struct mioc_rksym));
	P("off_mirk_modname", offsetof(struct mioc_rksym, mirk_modname));
	P("off_mirk_symname", offsetof(struct mioc_rksym, mirk_symname));
	P("off_mirk_buf", offsetof(struct mioc_rksym, mirk_buf));
	P("off_mirk_buflen", offsetof(struct mioc_rksym, mirk_buflen));
	P("OPEN_TGT", MEMU_IOC_OPEN_TGT(MAJOR));
	P("RELEASE_TGT", MEMU_IOC_RELEASE_TGT(MAJOR));
	P("GET_MAP", MEMU_IOC_GET_MAP(MAJOR));
	P("GET_MAP_SZ", MEMU_IOC_GET_MAP_SZ(MAJOR));
	P("READKSYM", MIOC_READKSYM);
	P("IREADKSYM", MIOC_IREADKSYM);
	P("WRITEKSYM", MIOC_WRITEKSYM);
	P("IWRITEKSYM", MIOC_IWRITEKSYM);
	P("LOCKSYM", MIOC_LOCKSYM);
	P("UNLOCKSYM", MIOC_UNLOCKSYM);
	P("MAXSYMNMLEN", KMEM_MAXSYMNMLEN);
	P("MODMAXNAMELEN", KMEM_MODMAXNAMELEN);
	P("PATH_LEN", MEMU_PATH_LEN);
	return 0;
}
"""


def probe_uapi(tmp_path: Path, major: int) -> dict[str, int]:
    src = tmp_path / "probe.c"
    src.write_text(ABI_PROBE)
    exe = tmp_path / "probe"
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", "-pedantic", f"-DMAJOR={major}",
                    "-I", str(UAPI.parent), "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


@pytest.mark.parametrize("major", [240, 511])
def test_uapi_header_is_the_abi_lainview_speaks(tmp_path, major):
    """The UAPI header, compiled in user space, gives the sizes, offsets and
    request numbers of docs/*.md, as lainview's backend encodes them."""
    c = probe_uapi(tmp_path, major)
    arg, entry, rk = lainmemu_abi.IoctlArg, lainmemu_abi.VmEntry, kmem.MiocRksym
    assert c["sizeof_arg"] == ctypes.sizeof(arg) == 16
    assert (c["off_u_buf"], c["off_target_pid"]) == (arg.u_buf.offset, arg.target_pid.offset)
    assert c["sizeof_entry"] == ctypes.sizeof(entry) == 4128
    for field in ("vm_start", "vm_end", "file_off", "prot", "file_path"):
        assert c[f"off_{field}"] == getattr(entry, field).offset, field
    assert c["PATH_LEN"] == lainmemu_abi.PATH_MAX
    assert c["sizeof_rksym"] == ctypes.sizeof(rk) == 32
    for field in ("mirk_modname", "mirk_symname", "mirk_buf", "mirk_buflen"):
        assert c[f"off_{field}"] == getattr(rk, field).offset, field
    for call in lainmemu_abi.Call:
        assert c[call.name] == lainmemu_abi.request(call, major), call.name
    for request in kmem.Request:
        assert c[request.name] == request.value, request.name
    assert (c["MAXSYMNMLEN"], c["MODMAXNAMELEN"]) == (kmem.MAXSYMNMLEN, kmem.MODMAXNAMELEN)


def test_uapi_header_holds_no_kernel_internals():
    text = UAPI.read_text()
    includes = re.findall(r"#include <([^>]+)>", text)
    assert includes == ["linux/ioctl.h", "linux/types.h"]
    assert "__user" not in text and "unsigned long" not in text
    internal = (KMOD / "lainko.h").read_text()
    assert '#include "uapi/lainko.h"' in internal
    for name in ("struct memu_vm_entry {", "struct mioc_rksym {", "#define MIOC_READKSYM"):
        assert name not in internal, name     # one home for the ABI


def test_fixtures_are_not_in_the_production_module_sources():
    kbuild = (KMOD / "Kbuild").read_text()
    objects = re.search(r"^lainko-y := (.*)$", kbuild, re.M).group(1).split()
    for obj in objects:
        source = (KMOD / obj.replace(".o", ".c")).read_text()
        assert "lainko_kmem_banner" not in source and "lainko_kmem_scratch" not in source, obj
    assert "obj-$(if $(LAINKO_SELFTEST),m) += lainko_selftest.o" in kbuild
    assert "lainko_kmem_scratch" in (KMOD / "lainko_selftest.c").read_text()


def test_dkms_conf_builds_for_x86_64_only():
    conf = (KMOD / "dkms.conf").read_text()
    assert 'BUILD_EXCLUSIVE_ARCH="x86_64"' in conf
    assert "LAINKO_SELFTEST" not in conf


def kernel_builds() -> list[str]:
    """Kernel versions with a build tree in /lib/modules."""
    return sorted(os.path.basename(os.path.dirname(os.path.dirname(build)))
                  for build in glob.glob("/lib/modules/*/build/Makefile"))


@pytest.mark.skipif(not kernel_builds(), reason="no kernel headers in /lib/modules/*/build "
                    "(linux-headers-amd64; the VM stage installs them)")
@pytest.mark.parametrize("kver", kernel_builds() or ["none"])
def test_make_builds_the_module(tmp_path, kver):
    """`make -C kmod KVER=...` builds lainko.ko without warnings; with
    LAINKO_SELFTEST=1 also lainko_selftest.ko, which alone holds the
    fixtures; lainko.ko names the IBT way out in its messages."""
    tree = tmp_path / "kmod"
    shutil.copytree(KMOD, tree, ignore=shutil.ignore_patterns("*.o", "*.ko", ".*.cmd"))
    out = subprocess.run(["make", "-C", str(tree), f"KVER={kver}", "LAINKO_SELFTEST=1"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "warning" not in (out.stdout + out.stderr).lower(), out.stderr
    production = (tree / "lainko.ko").read_bytes()
    selftest = (tree / "lainko_selftest.ko").read_bytes()
    assert b"lainko_kmem_scratch" not in production
    assert b"lainko_kmem_scratch" in selftest
    # Kernels that enforce IBT: the refusal says what and how to proceed
    # (compiled in where the kernel can enforce it).
    config = Path(f"/lib/modules/{kver}/build/.config").read_text()
    if "CONFIG_X86_KERNEL_IBT=y" not in config:
        return
    assert (b"this kernel enforces indirect branch tracking (IBT) and %s, which lainko calls "
            b"indirectly, is not a valid indirect-call target: refusing to load. To use "
            b"lainko, boot with ibt=off") in production
