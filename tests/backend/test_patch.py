"""Patch files: export journaled writes from one run of a program, apply
them to another run at other addresses; refuse, writing nothing, when any
write cannot be applied; clear errors for malformed files."""

import json

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.locations import Location
from lainview.backend.patch import (Patch, PatchWrite, load_patch, patch_from_entries,
                                    save_patch)
from tests.conftest import spawn_child


def export_from(backend, child, tmp_path, writes) -> str:
    target = backend.attach(child.pid).result(10)
    for offset, data in writes:
        target.write(child.spaced + offset, data).result(10)
    patch = patch_from_entries(backend.journal_entries(child.pid).result(10))
    path = str(tmp_path / "fix.lainview-patch.json")
    save_patch(patch, path)
    return path


def test_patch_from_one_run_applies_to_the_next(backend, tmp_path):
    first = spawn_child(tmp_path)
    try:
        path = export_from(backend, first, tmp_path, [(0, b"PATCH!"), (16, b"\x01\x02")])
    finally:
        first.kill()
    patch = load_patch(path)
    assert [w.location.kind for w in patch.writes] == ["module", "module"]
    assert patch.writes[0].location.name.endswith("a file with spaces.bin")
    assert patch.writes[0].old == b"SPACED" and patch.writes[0].new == b"PATCH!"
    second = spawn_child(tmp_path)
    try:
        report = backend.apply_patch(patch, second.pid).result(10)
        assert report.applied
        assert [o.action for o in report.outcomes] == ["written", "written"]
        assert report.outcomes[0].address == second.spaced
        assert second.peek(second.spaced, 6) == b"PATCH!"
        assert second.peek(second.spaced + 16, 2) == b"\x01\x02"
        # Applied writes are journaled like any other, and so revertible.
        undo = backend.revert([report.outcomes[1].journal_id]).result(10)
        assert [o.status for o in undo] == ["reverted"]
        assert second.peek(second.spaced + 16, 2) == b"\0\0"
        again = backend.apply_patch(patch, second.pid).result(10)
        assert [o.action for o in again.outcomes] == ["already", "written"]
    finally:
        second.kill()


def test_nothing_is_written_when_any_write_cannot_be_applied(backend, child, tmp_path):
    good = PatchWrite(Location("module", child.spaced_path, 0), b"SPACED", b"GOOD!!")
    gone = PatchWrite(Location("module", "/no/such/lib.so", 0x10), b"\0", b"\1")
    report = backend.apply_patch(Patch("x", (), (good, gone)), child.pid).result(10)
    assert not report.applied
    assert [o.action for o in report.outcomes] == ["write", "unresolved"]
    assert report.outcomes[1].message.startswith(
        f"no module named /no/such/lib.so in the map of pid {child.pid}; modules: ")
    assert child.peek(child.spaced, 6) == b"SPACED"


def test_conflicting_bytes_refuse_unless_forced(backend, child):
    w = PatchWrite(Location("module", child.spaced_path, 0), b"OTHER!", b"PATCH!")
    report = backend.apply_patch(Patch("x", (), (w,)), child.pid).result(10)
    assert not report.applied and report.outcomes[0].action == "conflict"
    assert "holds 535041434544" in report.outcomes[0].message
    assert child.peek(child.spaced, 6) == b"SPACED"
    dry = backend.apply_patch(Patch("x", (), (w,)), child.pid, force=True,
                              dry_run=True).result(10)
    assert not dry.applied and child.peek(child.spaced, 6) == b"SPACED"
    forced = backend.apply_patch(Patch("x", (), (w,)), child.pid, force=True).result(10)
    assert forced.applied and child.peek(child.spaced, 6) == b"PATCH!"


def test_dry_run_writes_nothing(backend, child):
    w = PatchWrite(Location("module", child.spaced_path, 0), b"SPACED", b"PATCH!")
    report = backend.apply_patch(Patch("x", (), (w,)), child.pid, dry_run=True).result(10)
    assert [o.action for o in report.outcomes] == ["would write"] and not report.applied
    assert child.peek(child.spaced, 6) == b"SPACED"


GOOD = {"format": "lainview-patch", "version": 1, "program": {"exe": "/bin/x", "cmdline": []},
        "writes": [{"location": {"kind": "module", "name": "/bin/x", "offset": 16},
                    "old": "00", "new": "01"}]}


@pytest.mark.parametrize("change,message", [
    (lambda p: p.update(format="other"), "is not a lainview patch"),
    (lambda p: p.update(version=9), "version 9"),
    (lambda p: p.update(writes=[]), "non-empty list"),
    (lambda p: p["writes"][0].update(new="zz"), "write 1: malformed hex"),
    (lambda p: p["writes"][0].update(new="0102"), "same length"),
    (lambda p: p["writes"][0].update(location={"kind": "moon", "name": "x", "offset": 0}),
     "unknown location kind 'moon'"),
    (lambda p: p["writes"][0].update(location={"kind": "kernel", "name": "jiffies",
                                               "offset": 0}), "is to the kernel"),
    (lambda p: p.update(program={"cmdline": []}), "must name the executable"),
])
def test_malformed_patch_files_are_refused_clearly(tmp_path, change, message):
    raw = json.loads(json.dumps(GOOD))
    change(raw)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(InvalidInput, match=message):
        load_patch(path)


def test_not_json_and_missing_file(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInput, match="is not valid JSON"):
        load_patch(bad)
    with pytest.raises(InvalidInput, match="cannot read"):
        load_patch(tmp_path / "absent.json")


def test_export_leaves_out_failed_and_reverted_writes(backend, child, tmp_path):
    target = backend.attach(child.pid).result(10)
    kept = target.write(child.spaced, b"A").result(10)
    undone = target.write(child.spaced + 1, b"B").result(10)
    backend.revert([undone.journal_id]).result(10)
    patch = patch_from_entries(backend.journal_entries(child.pid).result(10))
    assert [w.journal_id for w in patch.writes] == [kept.journal_id]
