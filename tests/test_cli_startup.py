"""Start-up: a command imports only what it uses (issue 13). Which modules a
command loads is deterministic, unlike its time (bench/startup.py measures
that): each case runs ``lainview.__main__.main`` in a fresh interpreter
against a real child and lists ``sys.modules`` afterwards."""

import json
import subprocess
import sys

import pytest

# Nothing a process command uses: the scanner and numpy, the kernel readers
# (numpy, elftools), Qt, the models, the package metadata (only --version).
HEAVY = ("numpy", "PySide6", "elftools", "importlib.metadata", "lainview.backend.scan",
         "lainview.backend.kernel", "lainview.backend.kallsyms", "lainview.models",
         "lainview.cli.scan", "lainview.cli.kernel", "lainview.backend.pointer_scan",
         "lainview.cli.ptrscan")

# What ps, maps, read and write do without: they attach with backend/attach.py
# in their one thread, so neither the backend facade nor its thread (and its
# futures and logging) is imported; the patch files are apply's; a temporary
# file is made only by atomic writes; a traceback is printed only in debug mode.
FACADE = ("lainview.backend.service", "lainview.backend.thread", "concurrent.futures",
          "logging", "threading", "psutil", "lainview.backend.patch", "tempfile", "traceback")
# ... and per command what only the others use: the journal (write), the
# location grammar (read, write: their ADDRESS), the process-memory backends
# (ps attaches to nothing). No command imports psutil (ps reads /proc) or
# starts a thread.
NOT_USED_BY = {
    "ps": ("lainview.backend.journal", "lainview.backend.locations",
           "lainview.backend.attach", "lainview.backend.procfs", "lainview.backend.lainmemu"),
    "maps": ("lainview.backend.journal", "lainview.backend.locations"),
    "read": ("lainview.backend.journal",),
    "write": (),
}

RUN = """
import json, sys
from lainview.__main__ import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def modules_after(tmp_path, *argv: str) -> set[str]:
    report = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", RUN, str(report), *argv],
                          capture_output=True, timeout=120)
    result = json.loads(report.read_text())
    assert result["code"] == 0, done.stderr
    return set(result["modules"])


def loaded(modules: set[str], names) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize("command", [
    ("ps",), ("maps", "{pid}"), ("maps", "--json", "{pid}"),
    ("read", "{pid}", "{base}", "16", "--raw"), ("write", "{pid}", "{data}", "2a"),
])
def test_a_process_command_imports_nothing_it_does_not_use(child, tmp_path, command):
    argv = [a.format(pid=child.pid, base=hex(child.base), data=hex(child.ro))
            for a in command]
    assert loaded(modules_after(tmp_path, *argv), HEAVY) == []


def test_a_short_hex_dump_imports_nothing_heavy_a_long_one_numpy(child, tmp_path):
    modules = modules_after(tmp_path, "read", str(child.pid), hex(child.base), "16")
    assert loaded(modules, HEAVY) == []            # formatted in plain Python
    modules = modules_after(tmp_path, "read", str(child.pid), hex(child.base), "4096")
    assert "numpy" in modules          # 256 rows: the vectorised formatter
    assert loaded(modules, [n for n in HEAVY if n != "numpy"]) == []


@pytest.mark.parametrize("command", [
    ("maps", "{pid}"), ("read", "{pid}", "{base}", "16"), ("write", "{pid}", "{data}", "2a"),
])
def test_attaching_does_not_import_psutil(child, tmp_path, command):
    """The process identity is read from /proc (and so is ps's list)."""
    argv = [a.format(pid=child.pid, base=hex(child.base), data=hex(child.ro))
            for a in command]
    assert loaded(modules_after(tmp_path, *argv), ["psutil"]) == []


@pytest.mark.parametrize("command", [
    ("ps", "--json"), ("maps", "{pid}"), ("maps", "--json", "{pid}"),
    ("read", "{pid}", "{base}", "16"), ("read", "{pid}", "{base}", "16", "--raw"),
    ("read", "{pid}", "{base}", "16", "--json"), ("read", "{pid}", "[heap]", "16"),
    ("write", "{pid}", "{data}", "2a"), ("write", "{pid}", "{data}", "2a", "--json"),
])
def test_a_one_shot_process_command_runs_without_the_facade(child, tmp_path, command):
    """ps, maps, read and write start no backend thread: they attach, read
    and write through backend/attach.py directly, and import only what
    they use (issue 13: start-up)."""
    argv = [a.format(pid=child.pid, base=hex(child.base), data=hex(child.ro))
            for a in command]
    modules = modules_after(tmp_path, *argv)
    assert loaded(modules, [*FACADE, *NOT_USED_BY[command[0]]]) == []


def test_a_write_is_still_journaled_without_the_facade(child, tmp_path):
    modules = modules_after(tmp_path, "write", str(child.pid), hex(child.ro), "2a")
    assert {"lainview.backend.journal", "lainview.backend.attach"} <= modules
    done = subprocess.run([sys.executable, "-m", "lainview", "journal", "--json",
                           "--pid", str(child.pid)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert [(e["address"], e["new"], e["status"]) for e in entries] == [
        (child.ro, "2a", "ok")]


def test_the_check_sees_what_a_command_imports(child, tmp_path):
    # kinfo loads the kernel readers, and they use numpy.
    modules = modules_after(tmp_path, "kinfo", "--json")
    assert {"lainview.backend.kernel", "lainview.cli.kernel", "numpy"} <= modules
    # read --userfaultfd reads on the backend thread (its watchdog gives up
    # on a page the target never fills): the facade is loaded then.
    modules = modules_after(tmp_path, "read", str(child.pid), hex(child.base), "16",
                            "--userfaultfd")
    assert {"lainview.backend.service", "lainview.backend.thread"} <= modules
