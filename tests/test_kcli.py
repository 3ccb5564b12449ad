"""The k* subcommands: on this machine's real kallsyms, on a gcc-built image,
and (writes, journal, revert) through the preloaded kmem stand-in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lainview.backend.journal import default_journal_path
from lainview.cli import run_cli
from lainview.cli.parser import SUBCOMMANDS
from tests.kmem_support import build as build_fake_kmem, fake_memory

KALLSYMS = "/proc/kallsyms"
needs_kallsyms = pytest.mark.skipif(not os.access(KALLSYMS, os.R_OK),
                                    reason=f"{KALLSYMS} is not readable here")
no_device = not os.path.exists("/dev/lainkmem")


@needs_kallsyms
def test_ksyms_lists_every_real_symbol(capsys):
    assert run_cli(["ksyms"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    with open(KALLSYMS, "rb") as f:
        real = f.read().decode().splitlines()
    assert len(lines) == len(real)
    assert lines == real
    assert f"{len(real)} of {len(real)} symbols" in err


@needs_kallsyms
def test_kread_on_a_source_that_cannot_read_says_so_first(capsys):
    """A new user's report: `kread jiffies` on a kernel without
    CONFIG_KALLSYMS_ALL said "no symbol named jiffies" (ENOENT), though no
    symbol could have been read: what is missing is a source that reads."""
    assert run_cli(["--ksource", "kallsyms", "kread", "lainview_no_such_symbol"]) == 1
    err = capsys.readouterr().err
    assert "the kallsyms source cannot read" in err and "no symbol named" not in err, err
    assert err.count("\n") == 1


@needs_kallsyms
def test_ksyms_filters_and_json(capsys):
    assert run_cli(["ksyms", "_st*xt", "--type", "T", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "_stext" in {r["name"] for r in rows}
    assert all(r["type"] == "T" and r["meaning"] == "text, global" for r in rows)
    assert run_cli(["ksyms", "^_stext$", "--regex"]) == 0
    assert capsys.readouterr().out.split()[1:] == ["T", "_stext"]
    assert run_cli(["ksyms", "--module", "lainview_no_module"]) == 1
    assert "no module named" in capsys.readouterr().err


@needs_kallsyms
def test_kinfo_states_source_and_capabilities(capsys):
    assert run_cli(["kinfo", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["source"] in ("kmem", "kcore", "kallsyms")
    assert "list" in info["capabilities"]
    for cap in ("read", "write", "hold"):
        assert (cap in info["capabilities"]) != (cap in info["missing"])
    assert info["symbols"] > 1000
    assert run_cli(["kinfo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"source: {info['source']}\nreason: ")


def addresses_shown() -> bool:
    """Whether /proc/kallsyms shows this user real addresses (not zeros)."""
    with open(KALLSYMS) as f:
        return int(f.readline().split()[0], 16) != 0


@needs_kallsyms
@pytest.mark.skipif(os.access("/dev/lainkmem", os.R_OK) or os.access("/proc/kcore", os.R_OK),
                    reason="the kmem device or /proc/kcore is readable: reads would work "
                           "(tests/vm/test_kernel_sources_device.py runs this as nobody)")
def test_kread_without_a_source_says_what_is_missing(capsys):
    assert run_cli(["kread", "_stext", "16"]) == 1
    err = capsys.readouterr().err
    assert "_stext: type T (text, global)" + (" at 0x" if addresses_shown() else "\n") in err
    assert "needs the kmem device or /proc/kcore" in err
    if os.path.exists("/dev/lainkmem"):      # the VM, as nobody: loaded, but root-only
        assert "cannot open /dev/lainkmem" in err and "root-only" in err, err
    else:                                    # no module: say which one to load
        assert "lainko" in err, err


def test_kread_unknown_symbol(image, capsys):
    # A source that reads (kallsyms alone says it cannot read, first).
    assert run_cli([f"--image={image}", "kread", "lainview_no_such_symbol", "8"]) == 1
    assert "no symbol named lainview_no_such_symbol" in capsys.readouterr().err


@needs_kallsyms
@pytest.mark.skipif(not no_device, reason="the kmem device is present")
def test_kwrite_without_the_device_writes_nothing(capsys, tmp_path):
    assert run_cli(["kwrite", "_stext", "90", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "kmem device" in err
    journal = default_journal_path()
    assert not journal.exists() or "_stext" not in journal.read_text()


@pytest.fixture
def image(tmp_path) -> Path:
    """A gcc-built kernel image holding linux_banner."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build a test image")
    (tmp_path / "img.c").write_text(
        'const char linux_banner[] = "Linux version 9.9.9-lainview";\n'
        "void _start(void) { for (;;) ; }\n")
    image = tmp_path / "vmlinux"
    subprocess.run(["gcc", "-nostdlib", "-static", "-no-pie", "-o", str(image),
                    str(tmp_path / "img.c")], check=True)
    return image


def test_kread_from_an_image(image, capsys):
    assert run_cli([f"--image={image}", "kread", "linux_banner", "--raw"]) == 0
    assert capsys.readouterr().out == "Linux version 9.9.9-lainview\0"
    assert run_cli([f"--image={image}", "kwrite", "linux_banner", "00", "--yes"]) == 1
    assert "read-only snapshot" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["kernel:linux_banner+0x6", "linux_banner+6",
                                  "kernel:vmlinux:linux_banner+0x6"])
def test_kread_takes_the_location_grammar(image, capsys, text):
    """kread takes kernel:[MODULE:]SYMBOL+offset (and the same without
    kernel:) through locations.parse_location, like process read/write."""
    args = [f"--image={image}", "kread", text, "7", "--raw"]
    if text.startswith("kernel:vmlinux:"):
        # vmlinux names the kernel proper in --module; as a location's module it is a
        # module of that name, which the image does not have.
        assert run_cli(args) == 1
        assert "vmlinux" in capsys.readouterr().err
        return
    assert run_cli(args) == 0
    assert capsys.readouterr().out == "version"


def test_kread_json_gives_the_offset_and_its_address(image, capsys):
    assert run_cli([f"--image={image}", "kread", "linux_banner", "4", "--json"]) == 0
    whole = json.loads(capsys.readouterr().out)
    assert run_cli([f"--image={image}", "kread", "kernel:linux_banner+0x2", "4", "--json"]) == 0
    part = json.loads(capsys.readouterr().out)
    assert part["offset"] == 2 and whole["offset"] == 0
    assert part["address"] == whole["address"] + 2
    assert bytes.fromhex(part["data"]) == b"nux "


@pytest.mark.parametrize("args,message", [
    (("kread", "jiffies-0x8", "4"), "offset cannot be negative"),
    (("kread", "kernel:jiffies->+0x8", "4"), "use --indirect"),
    (("kread", "kernel:ext4:jiffies", "4", "--module", "xfs"), "give one"),
    (("kwrite", "kernel:jiffies+0x4", "00", "--yes"), "kernel writes start at the symbol"),
    (("kread", "kernel:", "4"), "needs a symbol name"),
])
def test_kernel_locations_that_cannot_be_read_are_usage_errors(capsys, args, message):
    try:
        code = run_cli(list(args))
    except SystemExit as exc:       # argparse's own usage error
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# -- writes through the preloaded kmem stand-in --------------------------------------------------------

@pytest.fixture
def fake(tmp_path):
    lib = build_fake_kmem(tmp_path)
    node = fake_memory(tmp_path / "kmem")
    env = dict(os.environ, LD_PRELOAD=str(lib), FAKE_KMEM_PATH=str(node),
               XDG_STATE_HOME=str(tmp_path / "state"))

    def run(*args: str) -> subprocess.CompletedProcess:
        # --kmem only where the command uses a kernel source (elsewhere it is refused)
        kmem = [f"--kmem={node}"] if SUBCOMMANDS[args[0]].kernel else []
        return subprocess.run([sys.executable, "-m", "lainview", *kmem, *args],
                              env=env, capture_output=True, text=True, timeout=60)
    run.node = node
    return run


def test_kinfo_with_the_device(fake):
    info = json.loads(fake("kinfo", "--json").stdout)
    assert info["source"] == "kmem"
    assert set(info["capabilities"]) == {"list", "read", "write", "hold"}
    assert "--kmem" in info["reason"]


def test_kwrite_needs_yes(fake):
    proc = fake("kwrite", "fake_var", "41 42")
    assert proc.returncode == 2
    assert "old 56 41" in proc.stdout and "new 41 42" in proc.stdout
    assert "add --yes" in proc.stderr
    assert fake.node.read_bytes()[:8] == b"VARVALUE"


def test_kwrite_without_yes_fails_for_a_missing_symbol(fake):
    # A new user's report: "would write 1 bytes to SYMBOL" for a symbol that
    # does not exist (kread said ENOENT).
    proc = fake("kwrite", "lainview_no_such_symbol", "00")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "lainview_no_such_symbol" in proc.stderr and "would write" not in proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert fake.node.read_bytes()[:8] == b"VARVALUE"


def test_kwrite_journal_and_revert(fake):
    proc = fake("kwrite", "fake_var", "4e 45 57", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "old 56 41 52" in proc.stdout and "new 4e 45 57" in proc.stdout
    assert fake.node.read_bytes()[:8] == b"NEWVALUE"
    entries = json.loads(fake("journal", "--json").stdout)
    assert len(entries) == 1
    entry = entries[0]
    assert entry["target"]["kind"] == "kernel" and entry["target"]["symbol"] == "fake_var"
    assert entry["target"]["indirect"] is False
    assert (entry["old"], entry["new"], entry["status"]) == ("564152", "4e4557", "ok")

    proc = fake("kwrite", "fake_ptr", "21 21", "--indirect", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "at 0x100" in proc.stdout
    assert fake.node.read_bytes()[256:264] == b"!!INTED!"

    proc = fake("revert", "--kernel")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.count(": reverted:") == 2
    assert fake.node.read_bytes()[:8] == b"VARVALUE"
    assert fake.node.read_bytes()[256:264] == b"POINTED!"
    assert "nothing to revert" in fake("revert", "--kernel").stderr


def test_revert_by_id_and_conflict(fake):
    fake("kwrite", "fake_var", "58", "--yes")
    mem = bytearray(fake.node.read_bytes())
    mem[0] = ord("Z")       # someone else changed it since
    fake.node.write_bytes(bytes(mem))
    proc = fake("revert", "1")
    assert proc.returncode == 1 and "conflict" in proc.stdout
    proc = fake("revert", "1", "--force")
    assert proc.returncode == 0 and fake.node.read_bytes()[:1] == b"V"


def test_kwrite_read_only_symbol_is_explained(fake):
    proc = fake("kwrite", "fake_ro", "00", "--yes")
    assert proc.returncode == 1
    assert "read-only kernel memory" in proc.stderr and "nothing was written" in proc.stderr
    entries = json.loads(fake("journal", "--json").stdout)
    assert entries[0]["status"] == "failed"
    assert fake.node.read_bytes()[64:72] == b"READONLY"


def test_kread_through_the_device(fake):
    proc = fake("kread", "fake_ptr", "8", "--indirect", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert bytes.fromhex(out["data"]) == b"POINTED!" and out["pointer"] == 256
    proc = fake("kread", "kernel:fake_var+0x3", "5", "--raw")
    assert proc.returncode == 0 and proc.stdout == "VALUE"
    proc = fake("kread", "fake_var", "8", "--module", "nomod")
    assert proc.returncode == 1 and "no loaded module named nomod" in proc.stderr


def test_kmod_hold_and_release(fake):
    assert fake("kmod", "hold", "fakemod").returncode == 0
    proc = fake("kmod", "hold", "ext9")
    assert proc.returncode == 1 and "cannot hold module ext9" in proc.stderr
    # The stand-in forgets holds between processes; the device keeps them.
    proc = fake("kmod", "release", "fakemod")
    assert proc.returncode == 1 and "no hold on it is left" in proc.stderr


@pytest.mark.parametrize("args,message", [
    (("kread", "a" * 600, "8"), "symbol name of 600 bytes is too long"),
    (("kwrite", "b" * 512, "00", "--yes"), "at most 511"),
    (("kread", "jiffies", "8", "--module", "m" * 70), "module name of 70 bytes is too long"),
    (("kmod", "hold", "m" * 56), "at most 55"),
])
def test_names_past_the_kernels_limits_are_refused_up_front(args, message):
    out = subprocess.run([sys.executable, "-m", "lainview", *args], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and message in out.stderr


def test_kwrite_kmod_and_revert_in_json(fake):
    proc = fake("kwrite", "fake_var", "41 42", "--json")        # without --yes: the plan
    assert proc.returncode == 2 and "add --yes" in proc.stderr
    plan = json.loads(proc.stdout)
    assert (plan["old"], plan["new"], plan["written"]) == ("5641", "4142", False)
    # The device reads by name and does not say where (text: "address unknown").
    assert plan["address"] is None and fake.node.read_bytes()[:2] == b"VA"

    proc = fake("kwrite", "fake_var", "41 42", "--yes", "--json")
    assert proc.returncode == 0, proc.stderr
    wrote = json.loads(proc.stdout)
    assert (wrote["symbol"], wrote["old"], wrote["new"], wrote["written"]) == \
        ("fake_var", "5641", "4142", True)
    assert type(wrote["journal_id"]) is int

    proc = fake("kmod", "hold", "fakemod", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"module": "fakemod", "action": "hold"}

    proc = fake("revert", "--kernel", "--json")
    assert proc.returncode == 0, proc.stderr
    (undone,) = json.loads(proc.stdout)
    assert (undone["entry_id"], undone["status"]) == (wrote["journal_id"], "reverted")
    assert fake.node.read_bytes()[:8] == b"VARVALUE"
