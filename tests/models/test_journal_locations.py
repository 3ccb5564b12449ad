"""Every journaled write keeps its location as the grammar prints it — what
the user typed or the watch holds — one way for the CLI, the API, watch
edits and freezes: a memfd as ``memfd:NAME+off`` (not the map's
``/memfd:NAME``), a pointer path as its path (not the address it led to).
Real children (tests/target_child.py's memfd, tests/c/pointer_chain.c),
the real CLI in child processes, and ``lainview revert``/``apply`` on what
was journaled."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

from lainview.backend.locations import Location, locate, parse_location
from lainview.models.watch_model import VALUE

from tests.models.qt_support import attach
from tests.models.test_pointer_paths import watch_type
from tests.pointer_chain_support import chain_child  # noqa: F401


def lainview(*args: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    return done


def journaled(pid: int) -> list[dict]:
    return json.loads(lainview("journal", "--pid", pid, "--json").stdout)


def texts(pid: int) -> list[str]:
    return [Location.from_json(e["location"]).text for e in journaled(pid)]


def test_cli_api_and_watch_writes_journal_a_memfd_as_typed(qtbot, workspace, child):
    """`write PID memfd:…+0x10` once journaled "/memfd:…", the GUI
    "memfd:…": now every way says memfd:lainview-test+0x10."""
    import lainview as api
    typed = "memfd:lainview-test+0x10"
    lainview("write", child.pid, typed, "01 02 03 04")
    with api.attach(child.pid) as target:
        target.write(typed, b"\x05\x06\x07\x08")
        target.write(child.memfd + 0x10, b"\x09\x0a\x0b\x0c")      # an address: located
    attach(qtbot, workspace, child.pid)
    watch = workspace.watch
    entry = watch.add(parse_location(typed), watch_type("u32"))
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    assert watch.setData(watch.index(watch.row_of(entry), VALUE), "77")
    qtbot.waitUntil(lambda: child.peek(child.memfd + 0x10, 4) == struct.pack("<I", 77),
                    timeout=10000)
    assert texts(child.pid) == [typed] * 4
    # stored as typed, not as the map names the file ("/memfd:lainview-test")
    assert [e["location"] for e in journaled(child.pid)] == [parse_location(typed).to_json()] * 4
    # `lainview revert` undoes all four, newest first, to the bytes before.
    ids = [e["id"] for e in journaled(child.pid)]
    lainview("revert", *ids)
    assert child.peek(child.memfd + 0x10, 4) == bytes(4)


def _path(ws, chain) -> Location:
    return parse_location(f"{locate(chain.info['global'], ws.target.areas).text}->+0x18->+0x8")


def test_a_pointer_path_is_journaled_as_its_path_by_every_writer(qtbot, workspace, tmp_path,
                                                                 chain_child):  # noqa: F811
    """CLI write, API write, a watch edit and a freeze of a pointer-path
    watch (which once journaled the absolute address it led to) all keep
    the path; the freeze's entries (one per address the path led to, each
    reverting its own bytes) too; revert and apply work on them."""
    import lainview as api
    attach(qtbot, workspace, chain_child.pid)
    path = _path(workspace, chain_child)
    lainview("write", chain_child.pid, path.text, "01 00 00 00")
    with api.attach(chain_child.pid) as target:
        target.write(path.text, struct.pack("<I", 2))
    watch = workspace.watch
    entry = watch.add(path, watch_type("u32"))
    qtbot.waitUntil(lambda: entry.data == struct.pack("<I", 2), timeout=10000)
    assert watch.setData(watch.index(watch.row_of(entry), VALUE), "3")
    qtbot.waitUntil(lambda: chain_child.command("peek")["number"] == 3, timeout=10000)
    assert watch.set_frozen(entry, True, struct.pack("<I", 55))
    qtbot.waitUntil(lambda: chain_child.command("peek")["number"] == 55, timeout=10000)
    chain_child.command("move")
    chain_child.command("set 9")
    qtbot.waitUntil(lambda: chain_child.command("peek")["number"] == 55, timeout=10000)
    qtbot.waitUntil(lambda: len(journaled(chain_child.pid)) == 5, timeout=10000)
    watch.set_frozen(entry, False)
    qtbot.waitUntil(lambda: all(e["ended"] for e in journaled(chain_child.pid)
                                if e["freeze"]) and not watch.freezer._inflight,
                    timeout=10000)
    entries = journaled(chain_child.pid)
    assert [e["freeze"] for e in entries] == [False, False, False, True, True]
    assert texts(chain_child.pid) == [path.text] * 5
    assert [e["location"] for e in entries] == [path.to_json()] * 5
    # revert undoes the freeze where the path led then; the journal exports
    # as a patch of the path, which applies where the path leads now.
    lainview("revert", entries[4]["id"])
    assert chain_child.command("peek")["number"] == 9
    patch = tmp_path / "fix.patch"
    lainview("journal", "--pid", chain_child.pid, "--entries", entries[2]["id"], "--export",
             patch)
    assert [Location.from_json(w["location"]).text
            for w in json.loads(patch.read_text())["writes"]] == [path.text]
    chain_child.command("set 2")
    lainview("apply", patch, "--pid", chain_child.pid)
    assert chain_child.command("peek")["number"] == 3
    applied = journaled(chain_child.pid)[-1]            # applying journals the path too
    assert (applied["new"], applied["location"]) == ("03000000", path.to_json())
