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
    """The process identity is read from /proc; only ps lists processes with psutil."""
    argv = [a.format(pid=child.pid, base=hex(child.base), data=hex(child.ro))
            for a in command]
    assert loaded(modules_after(tmp_path, *argv), ["psutil"]) == []


def test_the_check_sees_what_a_command_imports(tmp_path):
    # kinfo loads the kernel readers, and they use numpy.
    modules = modules_after(tmp_path, "kinfo", "--json")
    assert {"lainview.backend.kernel", "lainview.cli.kernel", "numpy"} <= modules
