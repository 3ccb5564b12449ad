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
