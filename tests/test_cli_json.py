"""--json on every command: values keep their types (ints as ints, addresses
as ints, bytes as hex strings); errors stay one line of text on stderr with
the text mode's exit codes. Real subprocesses against a real child."""

import json
import os
import subprocess
import sys

import pytest

from lainview.cli import build_parser


def lainview(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=60, **kw)


def subparsers():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.choices and a.dest == "command"]
    return sub.choices


@pytest.mark.parametrize("command", sorted(subparsers()))
def test_every_command_takes_json(command):
    options = {o for a in subparsers()[command]._actions for o in a.option_strings}
    assert "--json" in options


def test_read_json_gives_the_bytes_as_hex_and_addresses_as_ints(child):
    out = lainview("read", child.pid, hex(child.base + 4), "12", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "pid": child.pid, "address": child.base + 4, "length": 12,
        "chunks": [{"address": child.base + 4, "data": bytes(range(4, 16)).hex()}],
        "holes": [], "no_access": []}


def test_read_json_names_a_no_access_page(child):
    out = lainview("read", child.pid, hex(child.guard - 2), "4", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    (chunk,) = report["chunks"]            # one run: the forced read follows on
    assert chunk["address"] == child.guard - 2 and chunk["data"][:4] == "feff"
    assert report["no_access"] == [[child.guard, 2]]


def test_read_json_of_unmapped_bytes_lists_the_hole_and_exits_1(child):
    out = lainview("read", child.pid, "0x1000", "4", "--json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["chunks"] == []
    ((address, size, reason),) = report["holes"]
    assert (address, size) == (0x1000, 4) and "not mapped" in reason
    assert "EFAULT at 0x1000" in out.stderr      # the error is still text on stderr


def test_read_json_and_raw_together_are_bad_input(child):
    out = lainview("read", child.pid, hex(child.base), "4", "--json", "--raw")
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and "not allowed with" in out.stderr


def test_write_revert_export_and_apply_in_json(child, tmp_path):
    out = lainview("write", child.pid, hex(child.ro), "de ad", "--json")
    assert out.returncode == 0, out.stderr
    wrote = json.loads(out.stdout)
    assert wrote == {"pid": child.pid, "address": child.ro, "old": "5245", "new": "dead",
                     "journal_id": wrote["journal_id"]}
    assert type(wrote["journal_id"]) is int
    (entry,) = json.loads(lainview("journal", "--pid", child.pid, "--json").stdout)
    assert entry["id"] == wrote["journal_id"]

    patch = tmp_path / "fix.patch"
    out = lainview("journal", "--pid", child.pid, "--export", patch, "--json")
    assert out.returncode == 0, out.stderr
    exported = json.loads(out.stdout)
    assert exported["patch"] == str(patch) and exported["writes"] == 1

    out = lainview("revert", wrote["journal_id"], "--json")
    assert out.returncode == 0, out.stderr
    (undone,) = json.loads(out.stdout)
    assert undone["entry_id"] == wrote["journal_id"] and undone["status"] == "reverted"
    assert type(undone["new_entry_id"]) is int
    assert child.peek(child.ro, 2) == b"RE"

    out = lainview("apply", patch, "--pid", child.pid, "--dry-run", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert (plan["pid"], plan["dry_run"]) == (child.pid, True)
    assert [(o["address"], o["action"]) for o in plan["outcomes"]] == [(child.ro, "would write")]
    out = lainview("apply", patch, "--pid", child.pid, "--json")
    assert out.returncode == 0, out.stderr
    done = json.loads(out.stdout)
    assert done["applied"] is True and done["outcomes"][0]["action"] == "written"
    assert type(done["outcomes"][0]["journal_id"]) is int
    assert child.peek(child.ro, 2) == b"\xde\xad"


def test_json_errors_stay_text_on_stderr_with_the_same_exit_codes(child, tmp_path):
    bad = lainview("write", child.pid, "zz", "00", "--json")
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1
    gone = lainview("revert", "999", "--json")
    text = lainview("revert", "999")
    assert gone.returncode == text.returncode and gone.stderr == text.stderr
    missing = lainview("apply", tmp_path / "none.patch", "--json")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("lainview apply: ")


def test_desktop_json_lists_the_files(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    out = lainview("desktop", "install", "--json", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["action"] == "install" and report["paths"]
    assert all(p.startswith(str(tmp_path / "data")) for p in report["paths"])


def test_a_write_that_changes_nothing_is_neither_made_nor_journaled(child):
    """Writing the bytes memory already holds (as the GUI never does):
    nothing is written or journaled, in text and in JSON."""
    first = lainview("write", child.pid, hex(child.ro), "52 45")       # what it holds
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"memory at {child.ro:#x} already holds 52 45: " \
        "nothing written or journaled\n"
    out = lainview("write", child.pid, hex(child.ro), "5245", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == {
        "pid": child.pid, "address": child.ro, "old": "5245", "new": "5245", "journal_id": None}
    assert json.loads(lainview("journal", "--pid", child.pid, "--json").stdout) == []
