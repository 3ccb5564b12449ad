"""`lainview watchpoint` and `Process.watch` on the C watch target, as users run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import lainview
from tests.watch_support import WatchChild, build, watch_child, watch_exe  # noqa: F401

pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 watchpoints")


def lainview_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=60, **kw)


def test_json_lists_each_writer_with_its_hits(watch_child):
    out = lainview_cli("watchpoint", watch_child.pid, hex(watch_child.watched), "--len", "4",
                       "--seconds", "0.5", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    named = {watch_child.function_of(h["ip"]) for h in report["hits"]}
    assert named == {"writer_one", "writer_two"}
    for hit in report["hits"]:
        assert {"ip", "location", "symbol", "hits", "instruction"} <= set(hit)
        assert hit["hits"] > 0 and hit["location"].startswith("watch_target+0x")
        function = watch_child.function_of(hit["ip"])
        assert hit["address"] == watch_child.accesses[function][0]      # the access, not the next
        assert hit["symbol"].startswith(f"watch_target!{function}")
        assert hit["instruction"].startswith("mov ")
    assert report["total"] == sum(h["hits"] for h in report["hits"])
    assert report["ended"] == "time is up" and report["address"] == watch_child.watched


def test_registers_show_the_value_written(watch_child):
    """writer_one(v) writes v from edi: the recorded rdi at its hit is a
    round number the child's loop passed (below the progress count)."""
    out = lainview_cli("watchpoint", watch_child.pid, hex(watch_child.watched), "--seconds", "0.5",
                       "--registers", "--json")
    assert out.returncode == 0, out.stderr
    hits = {watch_child.function_of(h["ip"]): h for h in json.loads(out.stdout)["hits"]}
    registers = hits["writer_one"]["registers"]
    assert set(registers) >= {"rax", "rdi", "rsp", "rip", "r15"}
    assert registers["rip"] == hits["writer_one"]["ip"]     # the IP after the access
    assert 0 < registers["rdi"] <= watch_child.read_progress() + 1
    assert "registers" not in lainview_cli_json_no_registers(watch_child)


def lainview_cli_json_no_registers(watch_child) -> dict:
    out = lainview_cli("watchpoint", watch_child.pid, hex(watch_child.watched), "--seconds", "0.2",
                       "--json")
    return json.loads(out.stdout)["hits"][0]


def test_text_with_access_adds_the_reader_and_a_summary(watch_child):
    out = lainview_cli("watchpoint", watch_child.pid, hex(watch_child.watched), "--access",
                       "--seconds", "0.5")
    assert out.returncode == 0, out.stderr
    rows = out.stdout.splitlines()[1:]
    assert {watch_child.function_of(int(r.split()[1], 16)) for r in rows} == \
        {"writer_one", "writer_two", "reader"}
    assert "reads and writes" in out.stderr and "hits in" in out.stderr


def perf_events(pid: int) -> int:
    """How many perf event descriptors process ``pid`` holds."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]"
        except OSError:
            pass
    return count


def test_killing_the_child_ends_the_command_cleanly(watch_child):
    proc = subprocess.Popen([sys.executable, "-m", "lainview", "watchpoint", str(watch_child.pid),
                             hex(watch_child.watched), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    while perf_events(proc.pid) < 2:                # armed on both threads
        assert proc.poll() is None, proc.stderr.read()
    start = watch_child.read_progress()
    while watch_child.read_progress() < start + 500:     # the child runs on while it is armed
        pass
    watch_child.kill()
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout)["ended"] == f"process {watch_child.pid} exited"


@pytest.mark.parametrize("args,words", [
    (("--len", "4", "+0x2"), "aligned to 4"),
    (("--len", "3"), "invalid choice"),
    (("--seconds", "0"), "seconds must be more than 0"),
])
def test_bad_input_is_one_line_and_exit_2(watch_child, args, words):
    location = hex(watch_child.watched)
    if args[-1].startswith("+"):
        location, args = hex(watch_child.watched + 2), args[:-1]
    out = lainview_cli("watchpoint", watch_child.pid, location, *args)
    assert out.returncode == 2 and words in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_the_api_watch_runs_live_and_stops(watch_child):
    with lainview.attach(watch_child.pid, writable=False) as p:
        watch = p.watch(watch_child.watched, 4)
        while (watch.snapshot() is None or watch.snapshot().total < 50):
            pass
        live = watch.hits()
        final = watch.stop()
    assert {watch_child.function_of(h.ip) for h in live} == {"writer_one", "writer_two"}
    assert final.ended == "stopped" and final.total >= 50


def test_sigterm_stops_the_watch_and_reports_like_ctrl_c(watch_child):
    """SIGTERM ended the command with exit 143 and no report; it now stops
    the watch and reports what was seen, as ^C does (cli.output's one
    stop_on_signals for every long command)."""
    import signal
    import time
    proc = subprocess.Popen([sys.executable, "-m", "lainview", "watchpoint", str(watch_child.pid),
                             hex(watch_child.watched), "--len", "4", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        armed = False
        while not armed and time.monotonic() < deadline and proc.poll() is None:
            try:
                links = [os.readlink(f"/proc/{proc.pid}/fd/{fd}")
                         for fd in os.listdir(f"/proc/{proc.pid}/fd")]
            except OSError:
                links = []
            armed = any("perf_event" in link for link in links)
            time.sleep(0.02)
        assert armed, "the watchpoint was never armed"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["ended"] and "Traceback" not in err
    named = {watch_child.function_of(h["ip"]) for h in report["hits"]}
    assert named <= {"writer_one", "writer_two"}
