"""Exit codes, as users meet them: every bad input (caught by argparse or
later) exits 2 with one line, a failed operation exits 1, a closed pipe ends
quietly, and no traceback ever reaches the terminal. Real subprocesses, a
real child, real files (the hostile ones from tests/corpus/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).with_name("corpus")


def lainview(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, **kw)


def assert_one_line(out, code: int, *needles: str) -> None:
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr
    assert out.returncode == code, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    # kernel commands may add "# ..." notes before the error; the error is one line
    errors = [line for line in lines if not line.startswith("#")]
    assert len(errors) == 1, out.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-files")
    (d / "empty").write_bytes(b"")
    (d / "garbage").write_bytes(os.urandom(64) + b"\0\xff")
    (d / "adir").mkdir()
    from tests.kernel_image import build_image
    vmlinux = build_image(d)
    return {"vmlinux": vmlinux, "missing": d / "no-such-file", "empty": d / "empty", "garbage": d / "garbage",
            "dir": d / "adir", **{p.name: p for p in CORPUS.iterdir()}}


HUGE = [str(2**40), str(2**63), str(2**64), str(2**200), hex(2**63)]
TOP = "0xffffffffffffff00"

# (args, message in the error line); {pid} {base} and {file:NAME} are filled in.
BAD_INPUT = [
    # pids, for every command that takes one
    *[((cmd, p, *rest), "not a process id") for cmd, rest in (
        ("maps", ()), ("read", ("{base}", "4")), ("write", ("{base}", "00")),
        ("scan", ("--type", "i32", "--value", "1")))
      for p in ("notapid", "0", "-5", "1.5", "", str(2**22 + 1), str(2**63), "0x10")],
    (("journal", "--pid", "x"), "not a process id"),
    (("revert", "--pid", "0"), "not a process id"),
    (("apply", "{file:garbage}", "--pid", "-1"), "not a process id"),
    # addresses
    *[((cmd, "{pid}", a, *rest), "") for cmd, rest in (("read", ("4",)), ("write", ("00",)))
      for a in ("nothex", "", "0x", "0xg", "1" * 17, hex(2**64), "-1")],
    # lengths: malformed, negative, and past the end of the address space
    *[(("read", "{pid}", "{base}", n), "") for n in ("-4", "12x", "", "0x", "1e3", "4.0")],
    *[(("read", "{pid}", TOP, n), "64-bit address space") for n in HUGE],
    (("read", "{pid}", "0", str(2**64 + 1)), "64-bit address space"),
    # hex bytes
    *[(("write", "{pid}", "{base}", h), "") for h in ("zz", "abc", "", "0x", "de ad g0", "\\x")],
    (("write", "{pid}", TOP, "00" * 512), "64-bit address space"),
    # journal entries
    *[(("revert", e), "not a journal entry id") for e in ("x", "0", "-1", "1.0")],
    (("journal", "--export", "{file:missing}", "--entries", "x"), "not a journal entry id"),
    # scan arguments
    (("scan", "{pid}", "--type", "i99", "--value", "1"), "invalid choice"),
    (("scan", "{pid}", "--type", "i32", "--value", "1", "--limit", "-1"), "negative"),
    (("scan", "{pid}", "--type", "i32", "--value", "1", "--limit", "x"), "not a count"),
    (("scan", "{pid}", "--type", "i32", "--value", "1", "--area", "zz"), "--area"),
    (("scan", "{pid}", "--type", "i32", "--value", "1", "--area", "10-5"), "--area"),
    # files: missing, a directory, empty, garbage, hostile
    *[(("apply", "{file:%s}" % f), "") for f in ("missing", "dir", "empty", "garbage")],
    *[(("--image", "{file:%s}" % f, "ksyms"), "") for f in ("missing", "dir", "empty", "garbage")],
    # the hostile corpus as --image: one line naming the file
    *[(("--image", "{file:%s}" % p.name, "ksyms"), p.name) for p in sorted(CORPUS.iterdir())
      if p.suffix in (".core", ".elf", ".txt") and p.name not in (
          "elf-load-past-eof.core", "elf-load-offset-2e64.core", "elf-phnum-65535.core",
          "vmlinux-good.elf", "vmlinux-data-past-eof.elf", "vmlinux-data-truncated.elf")],
    # the kernel commands
    (("ksyms", "--type", "Q"), ""),
    (("kread", "x" * 600), "too long"),
    (("kread", ""), ""),
    *[(("kread", "jiffies", n), "") for n in ("12x", "-1", "0")],
    *[(("--image", "{file:vmlinux}", "kread", "counter", n), "") for n in HUGE],
    (("kwrite", "jiffies", "zz", "--yes"), "malformed hex"),
    (("kmod", "hold", "m" * 80), "too long"),
    (("--ksource", "nope", "kinfo"), "invalid choice"),
    (("--backend", "nope", "ps"), "invalid choice"),
    (("ps", "--bogus"), "lainview ps: unrecognized arguments: --bogus (see lainview ps --help)"),
    (("read", "{pid}", "{base}", "--type", "int", "16"),
     "lainview read: unrecognized arguments: 16"),
    # an option the command or the chosen source would ignore is refused, not dropped
    (("--ksource", "kallsyms", "--image", "{file:vmlinux}", "ksyms"),
     "--image is not used by --ksource kallsyms"),
    (("--ksource", "kcore", "--kmem", "/dev/lainkmem", "kinfo"),
     "--kmem is not used by --ksource kcore"),
    (("--ksource", "kmem", "--image", "{file:vmlinux}", "kinfo"),
     "--image is not used by --ksource kmem"),
    (("--image", "{file:vmlinux}", "maps", "{pid}"), "maps does not use the kernel"),
    (("--ksource", "kcore", "read", "{pid}", "{base}", "4"), "read does not use the kernel"),
    (("scan", "--session", "{file:empty}", "--next", "changed", "--type", "i32"),
     "--type does not apply to a next scan"),
    (("scan", "--session", "{file:empty}", "--next", "changed", "--include-shared"),
     "--include-shared does not apply"),
    (("scan", "--session", "{file:empty}", "--undo", "--value", "3"),
     "--value does not apply to --undo"),
    # a global option after the command says where it goes (a new user's report)
    (("kinfo", "--ksource", "kcore"),
     "--ksource is a global option: give it before the command"),
    (("maps", "{pid}", "--backend=procfs"),
     "--backend is a global option: give it before the command"),
]


def fill(args, child, files) -> list[str]:
    out = []
    for a in args:
        if a.startswith("{file:"):
            out.append(str(files[a[6:-1]]))
        else:
            out.append(a.format(pid=child.pid, base=hex(child.base)))
    return out


@pytest.mark.parametrize("args,message", BAD_INPUT, ids=lambda v: " ".join(v)[:60]
                         if isinstance(v, tuple) else None)
def test_bad_input_exits_2_with_one_line(child, files, args, message):
    argv = fill(args, child, files)
    assert_one_line(lainview(*argv), 2, message)


def test_failed_operations_exit_1_with_one_line(child):
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert_one_line(lainview("maps", gone.pid), 1, "does not exist")
    assert_one_line(lainview("write", child.pid, "0x1000", "00"), 1, "EFAULT at 0x1000")


def test_a_closed_pipe_ends_quietly(child):
    """`lainview ps --json | head -c 100`: no "Exception ignored ...
    BrokenPipeError", no traceback; exit 1 (Python's convention for EPIPE)."""
    for args in (["ps", "--json"], ["ksyms"], ["read", str(child.pid), hex(child.base), "65536"],
                 ["read", str(child.pid), hex(child.base), "4096", "--raw"]):
        shell = subprocess.run(
            ["bash", "-c", 'set -o pipefail; "$@" | head -c 100 >/dev/null; '
             'echo "codes ${PIPESTATUS[*]}" >&2', "sh", sys.executable, "-m", "lainview",
             *args], capture_output=True, text=True, timeout=120)
        lines = [line for line in shell.stderr.splitlines()
                 if not line.startswith(("codes", "# "))]
        assert lines == [], shell.stderr
        code = shell.stderr.split("codes ")[1].split()[0]
        assert code in ("0", "1"), shell.stderr


def test_an_unexpected_exception_is_one_line_and_the_traceback_is_opt_in():
    crash = ("import sys, lainview.cli as c, lainview.__main__ as m\n"
             "def boom(args): raise KeyError('deep inside')\n"
             "c.COMMANDS['ps'] = boom\n"
             "sys.exit(m.main(['ps']))\n")
    out = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True,
                         timeout=60, env={k: v for k, v in os.environ.items()
                                          if k != "LAINVIEW_DEBUG"})
    assert_one_line(out, 1, "lainview ps: internal error: KeyError", "LAINVIEW_DEBUG=1")
    out = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "LAINVIEW_DEBUG": "1"})
    assert out.returncode == 1 and "Traceback" in out.stderr and "deep inside" in out.stderr
