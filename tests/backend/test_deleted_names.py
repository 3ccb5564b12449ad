"""Names that are not what they seem (issue 11): a real file named
``lib (deleted)`` and a deleted file ``lib`` look the same in
/proc/PID/maps; lainview tells them apart by device and inode."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from lainview.backend.locations import locate, resolve
from lainview.backend.patch import patch_from_entries, plan

# Maps DIR/NAME... each private and read-only; names prefixed "-" are
# deleted once mapped. Prints {name: address}.
MAPPER = textwrap.dedent("""
    import ctypes, json, mmap, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    where, out = sys.argv[1], {}
    for spec in sys.argv[2:]:
        name, doomed = spec.lstrip("-"), spec.startswith("-")
        path = os.path.join(where, name)
        with open(path, "wb") as f:
            f.write(spec.encode().ljust(mmap.PAGESIZE, b"."))
        fd = os.open(path, os.O_RDONLY)
        out[spec] = libc.mmap(None, mmap.PAGESIZE, 1, 2, fd, 0)
        os.close(fd)
        if doomed:
            os.unlink(path)
    print(json.dumps(out), flush=True)
    sys.stdin.readline()
""")


@pytest.fixture
def mapper(tmp_path):
    procs = []

    def start(subdir: str, *specs: str) -> tuple[int, dict]:
        where = tmp_path / subdir
        where.mkdir(exist_ok=True)
        proc = subprocess.Popen([sys.executable, "-c", MAPPER, str(where), *specs],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc.pid, {k: v for k, v in json.loads(proc.stdout.readline()).items()}
    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


def test_real_file_named_deleted_is_not_a_deleted_mapping(backend, mapper, tmp_path):
    pid, at = mapper("d", "lib (deleted)", "-lib")
    target = backend.attach(pid).result(10)
    areas = target.areas().result(10)
    real = next(a for a in areas if a.start == at["lib (deleted)"])
    gone = next(a for a in areas if a.start == at["-lib"])
    lib = str(tmp_path / "d" / "lib")
    assert real.path == gone.path == lib + " (deleted)"     # the kernel prints them alike
    assert not real.deleted and real.file_path == lib + " (deleted)"
    assert gone.deleted and gone.file_path == lib
    assert locate(real.start + 8, areas).name == lib + " (deleted)"
    assert locate(gone.start + 8, areas).name == lib
    assert resolve(locate(real.start + 8, areas), areas) == real.start + 8
    assert resolve(locate(gone.start + 8, areas), areas) == gone.start + 8


def test_patch_for_the_real_file_does_not_apply_to_the_deleted_one(backend, mapper):
    pid, at = mapper("e", "lib (deleted)", "-lib")
    target = backend.attach(pid).result(10)
    target.write(at["lib (deleted)"], b"X").result(10)
    patch = patch_from_entries(backend.journal_entries(pid).result(10))
    # Another process whose "lib" (same directory) is a deleted file.
    other_pid, other_at = mapper("e", "-lib")
    other = backend.attach(other_pid).result(10)
    (planned,) = plan(patch, other.areas().result(10), lambda a, n: other.read(a, n).result(10))
    assert planned.action == "unresolved", planned
    # ... and it does apply to a process that maps the real file.
    third_pid, third_at = mapper("e", "lib (deleted)")
    third = backend.attach(third_pid).result(10)
    (planned,) = plan(patch, third.areas().result(10), lambda a, n: third.read(a, n).result(10))
    assert planned.action == "write" and planned.address == third_at["lib (deleted)"]


def test_program_named_deleted_is_not_a_deleted_program(tmp_path):
    import os
    import shutil
    from lainview.backend.processes import list_processes, matching_programs, process_identity
    real = tmp_path / "prog (deleted)"
    doomed = tmp_path / "prog"
    shutil.copy("/bin/sleep", real)
    shutil.copy("/bin/sleep", doomed)
    procs = [subprocess.Popen([str(real), "60"]), subprocess.Popen([str(doomed), "60"])]
    try:
        # Popen returns once exec has succeeded: each runs its own binary.
        assert [os.readlink(f"/proc/{p.pid}/exe") for p in procs] == [str(real), str(doomed)]
        doomed.unlink()
        assert os.readlink(f"/proc/{procs[1].pid}/exe") == str(real)   # the kernel: alike
        assert process_identity(procs[0].pid).exe == str(real)
        assert process_identity(procs[1].pid).exe == str(doomed)
        exact, loose = matching_programs(str(real), [str(real), "60"], list_processes())
        assert [p.pid for p in exact + loose] == [procs[0].pid]
        exact, loose = matching_programs(str(doomed), [str(doomed), "60"], list_processes())
        assert [p.pid for p in exact + loose] == [procs[1].pid]
    finally:
        for p in procs:
            p.kill()
            p.wait(10)
