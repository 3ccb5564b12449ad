"""Structures and field-path watches in session files (models/session_file.py,
version 2): a hypothesis round trip, version-1 files still open, malformed
entries refused with a specific message."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from lainview.backend.errors import InvalidInput
from lainview.backend.locations import parse_location
from lainview.backend.placements import Placement, field_target
from lainview.backend.placements import value_type
from lainview.models.session_file import VERSION, SessionData, parse_session
from lainview.models.watch_entry import WatchEntry
from lainview.models.watch_values import ValueType

HEADER = "struct item { int32_t count; char name[12]; };\n" \
         "struct player { int32_t hp; struct item *held; struct item inv[3]; int flags:3; };"
PATHS = ["player.hp", "player.held->count", "player->inv[2].name", "player.inv[1].count",
         "player.held->name"]
LOCATIONS = ["memfd:lainview-demo+0xf80", "memfd:lainview-demo+0xfc0->+0x0", "[heap]+0x40",
             "0x7f0012340000", "libgame.so!player_ptr->+0x8", '"odd ->name"+0x10']


@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
       where=st.sampled_from(LOCATIONS), paths=st.lists(st.sampled_from(PATHS), max_size=4),
       cmdline=st.lists(st.text(max_size=8), max_size=3))
def test_structures_and_field_watches_round_trip(name, where, paths, cmdline):
    placement = Placement(name, HEADER, "struct player", parse_location(where))
    entries = []
    for path in paths:
        target = field_target(path.replace("player", name, 1), placement)
        name_, length = value_type(target.type)
        entries.append(WatchEntry(target.location, ValueType.of(name_, length), field=target))
    data = SessionData("/usr/bin/game", cmdline, "game",
                       watch=[e.to_json() for e in entries], structures=[placement])
    back = parse_session(json.dumps(data.to_json()).encode(), "s.json")
    assert [p.to_json() for p in back.structures] == [placement.to_json()]
    again = [WatchEntry.from_json(raw) for raw in back.watch]
    assert [e.where for e in again] == [e.where for e in entries]
    assert [e.location.text for e in again] == [e.location.text for e in entries]
    assert [e.field.placement.location.text for e in again] == \
        [placement.location.text] * len(entries)


def test_version_1_files_open_without_structures():
    raw = {"format": "lainview-session", "version": 1,
           "target": {"exe": "/bin/true", "cmdline": ["true"]},
           "watch": [{"location": {"kind": "absolute", "name": "", "offset": 16},
                      "type": {"name": "u8"}}]}
    data = parse_session(json.dumps(raw).encode(), "old.json")
    assert data.structures == [] and len(data.watch) == 1
    assert data.to_json()["version"] == VERSION == 2


@pytest.mark.parametrize("structures, message", [
    ({}, "the structures must be a list"),
    ([[]], "structure 1: a placement must be an object, not list"),
    ([{"declarations": "", "type": "int", "location": "0x10", "name": 3}],
     "structure 1: a placement's name must be text"),
    ([{"declarations": "", "type": "int", "location": "0x10"},
      {"declarations": "", "type": "int", "location": "->"}], "structure 2: placement int:"),
])
def test_malformed_structures_say_which_and_why(structures, message):
    raw = {"format": "lainview-session", "version": 2,
           "target": {"exe": "/bin/true", "cmdline": ["true"]}, "structures": structures}
    with pytest.raises(InvalidInput) as caught:
        parse_session(json.dumps(raw).encode(), "s.json")
    assert message in str(caught.value)


@pytest.mark.parametrize("vtype, frozen, message", [
    ({"name": "u64"}, None, r"field player.hp is int32_t: it is watched as i32, not u64"),
    ({"name": "i32"}, "00" * 10, "a frozen value of 10 bytes for a 4-byte i32"),
    ({"name": "i32"}, None, r"field player.inv is struct item\[3\]: it cannot be watched"),
    ({"name": "i32"}, "00000000", "player.flags is a bitfield: the watch list reads whole")])
def test_a_field_watch_is_watched_as_its_field_is(vtype, frozen, message):
    """A session's field watch must read its field as the field's type says
    (the attack pass: player.health watched as u64 read, and a freeze would
    write, 8 bytes over the next field)."""
    placement = Placement("player", HEADER, "struct player", parse_location("0x1000"))
    path = "player.inv" if "cannot" in message else \
        "player.flags" if "bitfield" in message else "player.hp"
    target = field_target(path, placement)
    raw = WatchEntry(target.location, ValueType.of("i32"), field=target).to_json()
    raw["type"] = vtype
    if frozen is not None:
        raw["frozen"] = frozen
    with pytest.raises(InvalidInput, match=message):
        WatchEntry.from_json(raw)
