"""The kernel-source registry: a new source is one class and one register
call, and the choice, the reads, kinfo and the explanations reach it."""

from __future__ import annotations

import json
import os
from typing import ClassVar

import pytest

from lainview.backend import ksources
from lainview.backend.errors import CapabilityMissing, InvalidInput
from lainview.backend.kallsyms import SymbolTable, read_symbol_file
from lainview.backend.kernel import KernelMemory
from lainview.backend.ksources import (CAPABILITIES, KcoreSource, KernelSource, SourceRequest,
                                       choose)
from lainview.backend.memory import Hole, ReadResult


class FlatFileSource(KernelSource):
    """Test-only: kernel "memory" is a real file (address = offset +
    ``base``), symbols come from a System.map beside it. Reads, never
    writes or holds."""

    name = "flatfile"
    needs = "a flat memory file and its System.map (tests)"
    offers = frozenset({"list", "read"})
    memory_path: ClassVar[str] = ""
    map_path: ClassVar[str] = ""
    base: ClassVar[int] = 0xffff_8000_0000_0000

    def __init__(self, fd: int):
        super().__init__(f"memory file {self.memory_path}", frozenset({"list", "read"}),
                         {"write": "the memory file is a copy, opened read-only",
                          "hold": "a file has no modules to hold"})
        self.fd: int | None = fd

    @classmethod
    def open(cls, request: SourceRequest) -> "FlatFileSource":
        if not cls.memory_path:
            raise ksources.NotApplicable("no memory file set", op="kernel")
        return cls(os.open(cls.memory_path, os.O_RDONLY | os.O_CLOEXEC))

    def symbols(self, request: SourceRequest) -> SymbolTable:
        return read_symbol_file(self.map_path, what="System.map")

    def symbols_from(self, request: SourceRequest) -> str:
        return self.map_path

    def read(self, name, size, *, module, indirect, symbol, table):
        assert self.fd is not None and symbol is not None
        address = symbol.address
        data = os.pread(self.fd, size, address - self.base)
        holes = ((Hole(address + len(data), size - len(data), 14, "past the end of the file"),)
                 if len(data) < size else ())
        return ksources.KernelValue(name, module, indirect, address,
                                    ReadResult(address, data.ljust(size, b"\0"), holes),
                                    "flat file", symbol)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def flatfile(tmp_path, monkeypatch):
    """FlatFileSource registered first (auto tries it before kmem), over a
    real file with two variables."""
    memory = tmp_path / "memory.bin"
    memory.write_bytes(b"\0" * 16 + b"HELLOKRN" + b"\x2a\0\0\0" + b"\0" * 4)
    system_map = tmp_path / "System.map"
    base = FlatFileSource.base
    system_map.write_text(f"{base + 16:016x} D greeting\n{base + 24:016x} D answer\n")
    monkeypatch.setattr(FlatFileSource, "memory_path", str(memory))
    monkeypatch.setattr(FlatFileSource, "map_path", str(system_map))
    monkeypatch.setattr(ksources, "REGISTRY", list(ksources.REGISTRY))
    ksources.register(FlatFileSource, before="kmem")
    return memory


def test_a_registered_source_is_chosen_and_read(flatfile):
    session = KernelMemory("auto")
    try:
        info = session.info
        assert info.source == "flatfile" and session.source.fd is not None
        assert info.reason == f"flatfile (auto): memory file {flatfile}"
        assert info.capabilities == {"list", "read"}
        # Every capability it lacks is explained; the sources after it were not tried.
        assert info.missing["write"].startswith("the memory file is a copy")
        assert info.missing["hold"] == "a file has no modules to hold"
        assert info.passed_over == {c.name: "not tried: flatfile comes first"
                                    for c in ksources.REGISTRY[1:]}
        assert [s.name for s in session.symbols().symbols(range(2))] == ["greeting", "answer"]
        value = session.read("greeting", 8)
        assert value.data == b"HELLOKRN" and value.via == "flat file"
        assert int.from_bytes(session.read("answer", 4).data, "little") == 42
        with pytest.raises(CapabilityMissing, match="cannot write: the memory file is a copy"):
            session.write("answer", b"\1\0\0\0", journal=None)     # refused before the journal
        with pytest.raises(CapabilityMissing, match="cannot hold: a file has no modules"):
            session.hold("flatfile_mod")
    finally:
        session.close()
    assert session.source.fd is None
    # Chosen by name as well: --ksource takes every registered name.
    assert "flatfile" in ksources.source_names() and "flatfile" in ksources.SourceNames()
    session = KernelMemory("flatfile")
    assert session.info.reason.startswith("flatfile (--ksource flatfile): ")
    assert session.info.passed_over == {}
    session.close()


def test_kinfo_lists_a_registered_source(flatfile, capsys):
    from lainview.cli import run_cli
    assert run_cli(["kinfo", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["source"] == "flatfile" and info["capabilities"] == ["list", "read"]
    assert info["missing"]["write"].startswith("the memory file is a copy")
    assert info["symbols"] == 2
    assert set(info["passed_over"]) == {c.name for c in ksources.REGISTRY[1:]}
    assert run_cli(["kinfo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("source: flatfile\nreason: flatfile (auto): memory file ")
    assert out.count("\nnot chosen: ") == len(ksources.REGISTRY) - 1
    assert "\nnot chosen: kcore: not tried: flatfile comes first\n" in out
    assert run_cli(["--ksource", "flatfile", "kinfo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("source: flatfile\nreason: flatfile (--ksource flatfile)")
    assert "write  no: the memory file is a copy" in out
    assert "hold   no: a file has no modules to hold" in out
    assert run_cli(["--ksource", "flatfile", "kread", "greeting", "8", "--raw"]) == 0
    assert capsys.readouterr().out == "HELLOKRN"


def test_auto_keeps_why_each_source_was_passed_over(tmp_path, monkeypatch):
    """No kmem device under an empty device root, no /proc/kcore at a
    missing path, no --image: auto ends at kallsyms and says why each
    other source was not chosen, in registry order, in what is missing."""
    monkeypatch.setattr(KcoreSource, "path", str(tmp_path / "kcore"))
    source, info = choose(SourceRequest(device_root=str(tmp_path)))
    source.close()
    assert info.source == "kallsyms" and info.capabilities == {"list"}
    assert list(info.passed_over) == ["kmem", "image", "kcore"]
    assert "lainko" in info.passed_over["kmem"]
    assert info.passed_over["image"] == "no --image given"
    assert str(tmp_path / "kcore") in info.passed_over["kcore"]
    # read: the kallsyms source's explanation, then why kmem, image and kcore
    # (the sources that could read) were passed over; write and hold: only kmem.
    assert info.missing["read"].count("kmem: no kmem device") == 1
    assert "image: no --image given" in info.missing["read"]
    assert "kcore: " in info.missing["read"]
    assert "image:" not in info.missing["write"] and "kmem: no kmem" in info.missing["write"]
    assert set(info.missing) == {"read", "write", "hold"}


def test_bad_input_ends_the_choice(tmp_path):
    """A missing --image file is the user's mistake (exit 2), not a reason
    to fall back to another source."""
    with pytest.raises(InvalidInput, match="no such file"):
        KernelMemory("auto", images=[str(tmp_path / "vmlinux")])


def test_a_named_source_fails_with_its_own_error(tmp_path, monkeypatch):
    monkeypatch.setattr(KcoreSource, "path", str(tmp_path / "kcore"))
    with pytest.raises(InvalidInput, match="unknown kernel source 'nosuch'"):
        KernelMemory("nosuch")
    with pytest.raises(InvalidInput, match="--ksource image needs an image"):
        KernelMemory("image")
    with pytest.raises(Exception, match=str(tmp_path / "kcore")) as exc:
        KernelMemory("kcore")
    assert type(exc.value).__name__ == "DeviceUnavailable"


def test_a_source_must_explain_every_capability_it_lacks():
    class Mute(KernelSource):
        name, needs, offers = "mute", "nothing", frozenset({"list"})

        @classmethod
        def open(cls, request):
            return cls("here", frozenset({"list"}), {"read": "no memory"})

        def symbols(self, request):
            return SymbolTable.empty()

    with pytest.raises(TypeError, match="lacks hold, write without saying why"):
        Mute.open(SourceRequest())
    assert set(CAPABILITIES) == {"list", "read", "write", "hold"}
    with pytest.raises(ValueError, match="already registered"):
        ksources.register(KcoreSource)
