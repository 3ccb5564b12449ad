"""The journal file itself: ids, damaged tails, record validation, streaming."""

from __future__ import annotations

import json

import pytest

from lainview.backend import journal as journal_mod
from lainview.backend.journal import Journal, JournalProblems

TARGET = {"kind": "process", "pid": 1}


def intent(j: Journal, new: bytes = b"\1") -> int:
    return j.record_intent(target=TARGET, address=16, old=bytes(len(new)), new=new)


def test_sixteen_megabyte_torn_tail_is_terminated_once(tmp_path):
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    assert intent(j) == 1
    with open(path, "ab") as f:
        f.write(b'{"type":"intent","id":2,"time":1,"old":"' + b"ab" * (8 << 20))
    # The torn intent 2 never led to a write; its id is not reused.
    assert intent(j, b"\2") == 3
    (notice,) = j.take_notices()
    assert "damaged line" in notice and "16777" in notice
    assert intent(j, b"\3") == 4 and j.take_notices() == []
    problems = JournalProblems()
    assert [e.id for e in j.iter_entries(problems=problems)] == [1, 3, 4]
    assert problems.count == 1 and problems.first[0].line == 2
    j.close()


def test_a_line_past_the_size_limit_is_skipped_in_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_mod, "MAX_LINE", 1000)
    monkeypatch.setattr(journal_mod, "BLOCK", 256)
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    intent(j)
    with open(path, "ab") as f:
        f.write(b"{" + b"x" * 5000 + b"\n")
    intent(j)
    problems = JournalProblems()
    assert [e.id for e in j.iter_entries(problems=problems)] == [1, 2]
    assert "longer than 1000 bytes" in problems.first[0].reason
    j.close()


def test_hand_edited_intent_in_another_key_order_still_counts_for_ids(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"id": 41, "type": "intent", "time": 1, "target": TARGET,
                                "address": 0, "old": "00", "new": "01"}) + "\n")
    path.chmod(0o600)
    j = Journal(path)
    assert intent(j) == 42
    assert [e.id for e in j.entries()] == [41, 42]
    j.close()


def test_outcomes_join_their_intents_in_any_order_and_an_id_never_goes_back(tmp_path):
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    a, b, c = intent(j), intent(j), intent(j)
    j.record_outcome(b, "ok", 1)
    j.record_outcome(a, "failed", 0, "EIO")
    with open(path, "a") as f:     # a repeated id from a hand-edited file
        f.write(json.dumps({"type": "intent", "id": b, "time": 1, "target": TARGET,
                            "address": 0, "old": "00", "new": "05"}) + "\n")
    entries = j.entries()
    assert [(e.id, e.status, e.error) for e in entries] == [
        (a, "failed", "EIO"), (b, "ok", None), (c, None, None)]
    assert j.problems.count == 1 and "not above" in j.problems.first[0].reason
    j.close()


@pytest.mark.parametrize("line", [b"5", b"null", b'"intent"', b'{"type":"intent"}',
                                  b'{"type":"intent","id":true,"time":1,"target":{"pid":1},'
                                  b'"address":0,"old":"00","new":"01"}',
                                  b'{"type":"intent","id":3,"time":1,"target":{"pid":1},'
                                  b'"address":0,"old":"00","new":"0102"}',
                                  b'{"type":"intent","id":3,"time":1,"target":{"pid":"1"},'
                                  b'"address":0,"old":"00","new":"01"}',
                                  b'{"type":"intent","id":3,"time":NaN,"target":{"pid":1},'
                                  b'"address":0,"old":"00","new":"01"}',
                                  b'{"type":"intent","id":3,"time":1,"target":{"pid":1},'
                                  b'"address":-1,"old":"00","new":"01"}',
                                  b'[' * 100000, b'\xff\xfe'])
def test_every_wrong_shape_is_one_problem(tmp_path, line):
    path = tmp_path / "j.jsonl"
    j = Journal(path)
    intent(j)
    with open(path, "ab") as f:
        f.write(line + b"\n")
    assert intent(j) >= 2
    entries = j.entries()
    assert [e.id for e in entries][0] == 1 and j.problems.count == 1
    assert j.revertible("process")[-1].id == 1
    j.close()


def write_big_journal(path, n: int) -> None:
    target = {"kind": "process", "pid": 4242, "exe": "/usr/bin/game",
              "cmdline": ["game", "--level", "3"], "start_ticks": 123456}
    with open(path, "w") as f:
        for i in range(1, n + 1):
            f.write(json.dumps({"type": "intent", "id": i, "time": 1.7e9 + i, "target": target,
                                "address": 0x5555_0000 + i, "old": "00000000",
                                "new": f"{i:08x}", "reverts": None},
                               separators=(",", ":")) + "\n")
            if i % 1000:           # every thousandth writer died before its outcome
                f.write(json.dumps({"type": "outcome", "id": i, "time": 1.7e9 + i,
                                    "status": "ok" if i % 7 else "failed", "written": 4,
                                    "error": None if i % 7 else "EIO"},
                                   separators=(",", ":")) + "\n")
    path.chmod(0o600)


def test_listing_streams_in_bounded_memory(tmp_path):
    import tracemalloc
    path = tmp_path / "j.jsonl"
    write_big_journal(path, 30_000)
    assert path.stat().st_size > 8 << 20
    j = Journal(path)
    tracemalloc.start()
    try:
        seen = 0
        for e in j.iter_entries():
            seen += 1
            assert e.status == (None if e.id % 1000 == 0 else "ok" if e.id % 7 else "failed")
            assert e.error == (None if e.id % 7 or e.id % 1000 == 0 else "EIO")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == 30_000
    # One read block (1 MiB) and a few bytes per id: not the file, not the entries.
    assert peak < 3 << 20, peak


def test_backend_scan_streams_to_a_consumer_and_returns_the_problems(tmp_path):
    from lainview.backend.service import Backend
    path = tmp_path / "j.jsonl"
    write_big_journal(path, 5000)
    with open(path, "ab") as f:
        f.write(b"null\n")
    got = []
    with Backend(journal=Journal(path)) as backend:
        problems = backend.journal_scan(lambda e: got.append(e.id), pid=4242).result(60)
    assert got == list(range(1, 5001)) and problems.count == 1


def test_far_apart_ids_join_their_outcomes_without_a_huge_table(tmp_path):
    path = tmp_path / "j.jsonl"
    far = 10 ** 15
    lines = [{"type": "intent", "id": far, "time": 1, "target": TARGET, "address": 0,
              "old": "00", "new": "01", "reverts": None},
             {"type": "outcome", "id": far, "time": 1, "status": "partial", "written": 0,
              "error": "EIO"}]
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in lines))
    path.chmod(0o600)
    j = Journal(path)
    (e,) = j.entries()
    assert (e.id, e.status, e.written, e.error) == (far, "partial", 0, "EIO")
    assert intent(j) == far + 1
    j.close()
