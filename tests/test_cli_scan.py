"""`lainview scan` as users run it, against a small C target with known
memory: values printed as typed, what a scan left out, and nothing left in
TMPDIR on any way out (errors, SIGINT, SIGTERM)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).with_name("c") / "scan_target.c"
PAGE = os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="session")
def scan_target_exe(tmp_path_factory) -> Path:
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the scan target")
    exe = tmp_path_factory.mktemp("scan-target") / "scan_target"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(SOURCE)], check=True)
    return exe


class Target:
    def __init__(self, exe: Path, n: int, big: int = 0, areas: int = 0):
        self.proc = subprocess.Popen([str(exe), str(n), str(big), str(areas)],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.pid = self.proc.pid
        self.private, self.shared, self.bulk = info["private"], info["shared"], info["bulk"]

    def area(self, start: int, size: int = PAGE) -> str:
        return f"{start:x}-{start + size:x}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


@pytest.fixture
def target(scan_target_exe):
    t = Target(scan_target_exe, 1123)
    yield t
    t.stop()


@pytest.fixture
def tmpdir_env(tmp_path) -> dict:
    """An environment whose TMPDIR is a fresh, empty directory."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    return {**os.environ, "TMPDIR": str(tmp)}


def lainview(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def left_behind(env: dict) -> list[str]:
    return sorted(os.listdir(env["TMPDIR"]))


# -- values as typed ------------------------------------------------------------------------------

@pytest.mark.parametrize("scan_type,value,text,json_value", [
    ("f32", "1.123", "1.123", 1.123),
    ("f64", "1.123", "1.123", 1.123),
    ("utf8", "name=1123", "name=1123", "name=1123"),
    ("utf16le", "1123", "1123", "1123"),
])
def test_matches_print_as_the_user_typed_them(target, scan_type, value, text, json_value):
    args = ("scan", target.pid, "--type", scan_type, "--value", value,
            "--area", target.area(target.private))
    out = lainview(*args)
    assert out.returncode == 0, out.stderr
    assert "1 match in" in out.stdout
    assert f"step 1 (exact {text}):" in out.stdout     # the condition as typed too, not hex
    [line] = [ln for ln in out.stdout.splitlines() if ln.strip().startswith("0x")]
    assert line.split(None, 1)[1] == text            # not 1.1230000257492065, not hex
    out = lainview(*args, "--json")
    [match] = json.loads(out.stdout)["matches"]
    assert match["value"] == json_value and type(match["value"]) is type(json_value)
    assert match["text"] == text
    if scan_type.startswith("f"):
        assert '"value": 1.123' in out.stdout        # a JSON number, in its shortest form


# -- what was skipped --------------------------------------------------------------------------------

def test_nothing_found_says_shared_areas_were_not_scanned(target):
    out = lainview("scan", target.pid, "--type", "i32", "--value", "1123")
    assert out.returncode == 0, out.stderr
    assert "0 matches" in out.stdout
    assert "not scanned:" in out.stdout and "shared" in out.stdout \
        and "--include-shared" in out.stdout
    out = lainview("scan", target.pid, "--type", "i32", "--value", "1123", "--json")
    assert json.loads(out.stdout)["skipped"]["shared"] >= PAGE
    out = lainview("scan", target.pid, "--type", "i32", "--value", "1123", "--include-shared",
                   "--json")
    report = json.loads(out.stdout)
    assert [m["address"] for m in report["matches"]] == [target.shared + 64]
    assert "shared" not in report["skipped"]


# -- nothing left behind ------------------------------------------------------------------------------

def first_scan_with_session(target, tmp_path, env) -> Path:
    session = tmp_path / "s.npz"
    out = lainview("scan", target.pid, "--type", "f32", "--unknown", "--session", session,
                   "--area", target.area(target.private), env=env)
    assert out.returncode == 0, out.stderr
    assert left_behind(env) == []
    return session


# -- next scans take their values as first scans do ------------------------------------------------

def test_next_range_takes_the_range_option(target, tmp_path):
    # A new user's report: `--next range --range 1.1..1.2` said "a range scan
    # needs LOW..HIGH" (only --value 1.1..1.2 was read), and "a exact scan".
    session = tmp_path / "r.scan"
    out = lainview("scan", target.pid, "--type", "f32", "--unknown", "--session", session,
                   "--area", target.area(target.private))
    assert out.returncode == 0, out.stderr
    out = lainview("scan", "--session", session, "--next", "range", "--range", "1.12..1.13",
                   "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [m["address"] for m in report["matches"]] == [target.private]
    assert report["condition"] == "range 1.12..1.13"
    out = lainview("scan", "--session", session, "--next", "exact", "--range", "1..2")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "--range goes with a first scan or --next range, not --next exact" in out.stderr
    out = lainview("scan", "--session", session, "--next", "exact")
    assert out.returncode == 2 and "an exact scan needs a value" in out.stderr, out.stderr


@pytest.mark.parametrize("next_args", [
    ("--next", "exact", "--value", "zz"),                  # a bad value
    ("--next", "increased-by"),                             # a value missing
    ("--undo",),                                            # nothing to undo
])
def test_a_failed_next_scan_leaves_nothing_in_tmpdir(target, tmp_path, tmpdir_env, next_args):
    session = first_scan_with_session(target, tmp_path, tmpdir_env)
    before = session.read_bytes()
    out = lainview("scan", "--session", session, *next_args, env=tmpdir_env)
    assert out.returncode != 0 and out.stderr.count("\n") == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert left_behind(tmpdir_env) == []
    assert session.read_bytes() == before


@pytest.mark.parametrize("next_args", [
    ("--next", "exact", "--value", "zz"),                  # refused before the scan runs
    ("--next", "changed"),                                  # the target exits first
])
def test_a_failed_next_scan_of_a_spilled_state_leaves_nothing(target, tmp_path, tmpdir_env,
                                                              next_args):
    """--snapshot-memory 0: every snapshot chunk of the first scan, and of
    the state loaded for the next one, lives in a spill file under TMPDIR."""
    session = tmp_path / "spilled.scan"
    out = lainview("scan", target.pid, "--type", "u8", "--unknown", "--session", session,
                   "--area", target.area(target.private), "--snapshot-memory", "0", "--json",
                   env=tmpdir_env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["disk_bytes"] > 0 and left_behind(tmpdir_env) == []
    before = session.read_bytes()
    if next_args == ("--next", "changed"):
        target.stop()
    out = lainview("scan", "--session", session, "--snapshot-memory", "0", *next_args,
                   env=tmpdir_env)
    assert out.returncode in (1, 2) and out.stderr.count("\n") == 1, out.stderr
    assert out.returncode == (2 if "zz" in next_args else 1)
    assert left_behind(tmpdir_env) == []
    assert session.read_bytes() == before


def test_snapshot_memory_chooses_memory_or_disk(target, tmp_path):
    def first(*extra):
        out = lainview("scan", target.pid, "--type", "u8", "--unknown", "--json",
                       "--area", target.area(target.private), *extra)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)
    kept = first()
    assert kept["disk_bytes"] == 0 and kept["memory_bytes"] > 0
    spilled = first("--snapshot-memory", "0")
    assert spilled["disk_bytes"] > 0 and spilled["count"] == kept["count"]
    out = lainview("scan", target.pid, "--type", "u8", "--unknown",
                   "--snapshot-memory", "-1")
    assert out.returncode == 2 and "--snapshot-memory" in out.stderr


def test_a_next_scan_of_an_exited_target_leaves_nothing(target, tmp_path, tmpdir_env):
    session = first_scan_with_session(target, tmp_path, tmpdir_env)
    target.stop()
    out = lainview("scan", "--session", session, "--next", "changed", env=tmpdir_env)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert left_behind(tmpdir_env) == []


def test_a_malformed_session_leaves_nothing(target, tmp_path, tmpdir_env):
    import numpy as np
    session = tmp_path / "bad.npz"
    meta = {"version": 1, "pid": target.pid, "start_ticks": None, "type": "i32",
            "big_endian": False, "align": 4, "item": 4,
            "steps": [{"step": 1, "condition": "= 1", "scanned": PAGE, "unreadable": 0,
                       "vanished": [], "regions": [{"start": target.private, "size": PAGE,
                                                    "count": 1, "dense": True}]}]}
    with open(session, "wb") as f:       # the region's mask and snapshot are missing
        np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    not_a_zip = tmp_path / "bad2.npz"
    not_a_zip.write_bytes(b"PK\x03\x04 and then nothing of a zip")
    for path in (session, not_a_zip):
        out = lainview("scan", "--session", path, "--next", "changed", env=tmpdir_env)
        assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
        assert out.stderr.count("\n") == 1 and str(path) in out.stderr
        assert left_behind(tmpdir_env) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_scan_stops_it_cleanly(scan_target_exe, tmp_path, tmpdir_env, sig):
    big = 256 << 20
    t = Target(scan_target_exe, 1123, big)
    try:
        session = tmp_path / "s.npz"
        proc = subprocess.Popen([sys.executable, "-m", "lainview", "scan", str(t.pid),
                                 "--type", "u8", "--unknown", "--session", str(session),
                                 "--area", t.area(t.bulk, big), "--snapshot-memory", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=tmpdir_env)
        tmp = Path(tmpdir_env["TMPDIR"])
        # Signal once the scan is writing its snapshot (spilled at once:
        # --snapshot-memory 0).
        while not any(p.is_file() for p in tmp.rglob("*")):
            try:
                proc.wait(timeout=0.01)
                break
            except subprocess.TimeoutExpired:
                pass
        assert proc.poll() is None, "the scan ended before it could be interrupted"
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 128 + sig, stderr
        assert stderr.strip() == f"lainview scan: stopped by {sig.name}; {session} was not " \
                                 "changed"
        assert not session.exists()
        assert left_behind(tmpdir_env) == []
    finally:
        t.stop()


# -- overwriting ---------------------------------------------------------------------------------------

def test_a_first_scan_never_overwrites_a_file_that_is_not_a_session(target, tmp_path):
    precious = tmp_path / "notes.txt"
    precious.write_text("my notes\n")
    args = ("scan", target.pid, "--type", "f32", "--value", "1.123",
            "--area", target.area(target.private), "--session", precious)
    out = lainview(*args)
    assert out.returncode == 2 and "is not a lainview scan session" in out.stderr \
        and "--force" in out.stderr
    assert precious.read_text() == "my notes\n"
    # A scan session may be replaced by a new first scan; anything with --force.
    out = lainview(*args, "--force")
    assert out.returncode == 0, out.stderr
    out = lainview(*args)
    assert out.returncode == 0, out.stderr
    out = lainview("scan", "--session", precious, "--next", "unchanged", "--json")
    assert json.loads(out.stdout)["count"] == 1


# -- maps at scale ---------------------------------------------------------------------------------------

def test_maps_json_at_65000_areas_is_the_kernels_map(scan_target_exe):
    from lainview.backend.memory import parse_maps_line
    with open("/proc/sys/vm/max_map_count") as f:
        areas = min(64_000, int(f.read()) - 1000)
    t = Target(scan_target_exe, 1123, 0, areas)
    try:
        with open(f"/proc/{t.pid}/maps") as f:
            kernel = [parse_maps_line(line) for line in f if line.strip()]
        out = lainview("maps", t.pid, "--json")
        assert out.returncode == 0, out.stderr
        assert len(kernel) >= areas
        assert json.loads(out.stdout) == [a.to_json() for a in kernel]
        assert out.stdout.count("\n") == len(kernel)       # one area a line
    finally:
        t.stop()


def test_an_area_covers_the_whole_pages_it_touches(target):
    """As README's Locations and `scan --help` say (a new user expected
    "scan only this range" to be exact): --area START..END is widened to
    whole pages, so the f32 at the page's first byte is found from a range
    that starts 8 bytes in."""
    out = lainview("scan", target.pid, "--type", "f32", "--value", "1.123", "--json",
                   "--area", f"{target.private + 8:#x}..{target.private + 16:#x}")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["scanned_bytes"] == PAGE
    assert [m["address"] for m in report["matches"]] == [target.private]
    assert "whole pages" in lainview("scan", "--help").stdout
