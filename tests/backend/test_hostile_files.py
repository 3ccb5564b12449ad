"""Files lainview reads may be hostile: --image ELF cores and kernel
images, kallsyms-like text, session JSON. Each reader either gives a
consistent result or raises InvalidInput naming the file and what is wrong;
it allocates no more than the sizes it can check, and never lets another
exception out. The corpus of the issue's cases is in tests/corpus/; the
fuzzers build files field by field (tests/hostile_elf.py) and mutate them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from lainview.backend.errors import InvalidInput
from lainview.backend.kallsyms import parse_kallsyms, parse_kallsyms_lines, read_symbol_file
from lainview.backend.kcore import ElfCoreReader, SystemMap, VmlinuxImage
from lainview.models.session_file import read_session
from tests import hostile_elf as E

CORPUS = Path(__file__).parent.parent / "corpus"
K = 0xFFFFFFFF82000000
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def corpus(prefix: str, suffix: str) -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.name.startswith(prefix)
                  and p.name.endswith(suffix))


# -- the corpus: what each file must give ----------------------------------------------------

REFUSED = {
    "elf-note-filesz-2e40.core": "PT_NOTE segment",
    "elf-overlapping-loads.core": "PT_LOAD segments overlap",
    "elf-filesz-over-memsz.core": "p_filesz > p_memsz",
    "elf-vaddr-wraps.core": "64-bit address space",
    "elf-bad-kerneloffset.core": "KERNELOFFSET",
    "elf-bad-symbol.core": "SYMBOL(init_uts_ns)",
    "elf-truncated-header.core": "malformed core file",
    "elf-phoff-2e63.core": "malformed core file",
    "vmlinux-symtab-2e40.elf": "symbol table",
    "vmlinux-symtab-bad-link.elf": "malformed kernel image",
    "vmlinux-shstrndx-99.elf": "malformed kernel image",
    "vmlinux-section-wraps.elf": "64-bit address space",
    "vmlinux-shentsize-0.elf": "malformed kernel image",
    "vmlinux-shstrtab-far.elf": "malformed kernel image",
    "kallsyms-empty.txt": "holds no symbols",
    "kallsyms-binary.txt": "kallsyms line",
    "kallsyms-17-digit-address.txt": "line 2: the address is not 1 to 16 hex digits",
    "kallsyms-five-fields.txt": "5 fields",
    "kallsyms-unicode-type.txt": "not one ASCII letter",
    "kallsyms-bad-module-tag.txt": "not [module]",
    "session-deep-nesting.json": "nested",
    "session-deep-view.json": "nested more than 64 levels",
    "session-nan-freeze.json": "NaN is not a number JSON allows",
    "session-infinite-rate.json": "out of range",
    "session-negative-rate.json": "plot_hz must be a positive number",
    "session-string-interval.json": "freeze_interval_ms must be a positive number",
    "session-bytes-per-row-2e70.json": "bytes_per_row must be a whole number",
    "session-plot-window-2e63.json": "plot_window_s must be a whole number",
    "session-area-size-2e64.json": "area.size",
    "session-area-size-2e63.json": "area.size must be 1 to 2^56 bytes",
    "session-saved-1e400.json": "the time saved must be a number of seconds",
    "session-cursor-offset-2e64.json": "view setting cursor: bad offset",
    "session-5000-digit-int.json": "digits",
    "session-not-an-object.json": "not a lainview session file",
    "session-id-list.json": "bad session version [1]",
}


def open_reader(path: Path):
    if path.suffix == ".core":
        return ElfCoreReader(str(path))
    if path.suffix == ".elf":
        reader = VmlinuxImage(str(path))
        reader.symbols()
        return reader
    if path.suffix == ".txt":
        return SystemMap(str(path))
    return read_session(path)


def test_every_corpus_file_has_an_expectation():
    names = {p.name for p in CORPUS.iterdir()}
    accepted = {"elf-load-past-eof.core", "elf-load-offset-2e64.core", "elf-phnum-65535.core",
                "vmlinux-good.elf", "vmlinux-data-past-eof.elf", "vmlinux-data-truncated.elf",
                "README.md", "session-watch-offset-2e63.json"}
    assert names - accepted == set(REFUSED)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_corpus_file_is_refused_naming_the_file_and_the_fault(name):
    path = CORPUS / name
    with pytest.raises(InvalidInput) as info:
        reader = open_reader(path)
        # session entries are checked when the session is parsed
        if name.startswith("session-"):
            from lainview.models.watch_model import WatchModel
            WatchModel.parse_json(reader.watch)
    message = str(info.value)
    assert "\n" not in message and REFUSED[name] in message, message
    if not name.startswith("session-watch"):
        assert str(path) in message or name in message, message


def test_a_note_claiming_a_terabyte_is_refused_before_any_allocation():
    import tracemalloc
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match="runs past the end of the file"):
            ElfCoreReader(str(CORPUS / "elf-note-filesz-2e40.core"))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_bytes_a_core_does_not_hold_are_holes_not_zeros():
    reader = ElfCoreReader(str(CORPUS / "elf-load-past-eof.core"))
    try:
        result = reader.read(K, 128)
        assert result.data[:64] == b"C" * 64
        (hole,) = result.holes
        assert (hole.address, hole.size) == (K + 64, 64) and "past the end" in hole.reason
        # past filesz but inside memsz: kdump's left-out zero pages, zeros by ELF's rules
    finally:
        reader.close()
    far = ElfCoreReader(str(CORPUS / "elf-load-offset-2e64.core"))
    try:
        assert far.read(K, 16).holes[0].size == 16
    finally:
        far.close()


def test_a_kernel_image_section_past_the_end_of_the_file_is_a_hole():
    image = VmlinuxImage(str(CORPUS / "vmlinux-data-past-eof.elf"))
    try:
        result = image.read(0xFFFFFFFF81000000, 16)
        assert result.holes and result.holes[0].size == 16
        assert "past the end" in result.holes[0].reason
        assert result.byte_at(0xFFFFFFFF81000000) is None
    finally:
        image.close()
    good = VmlinuxImage(str(CORPUS / "vmlinux-good.elf"))
    try:
        assert good.read(0xFFFFFFFF81000000, 16).require() == b"INITIAL-VALUES!!"
        assert good.symbols().find("counter").address == 0xFFFFFFFF81000000
    finally:
        good.close()


def test_non_regular_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for opener in (lambda p: ElfCoreReader(p), lambda p: VmlinuxImage(p),
                   lambda p: SystemMap(p), read_session):
        with pytest.raises(InvalidInput, match="not a regular file"):
            opener(str(fifo))
        with pytest.raises(InvalidInput, match="not a regular file"):
            opener("/dev/zero")
        with pytest.raises(InvalidInput):
            opener(str(tmp_path))                     # a directory


# -- fuzzing: ELF cores built field by field ---------------------------------------------------

INTERESTING = st.sampled_from([0, 1, 7, 8, 64, 0xB0, 4095, 4096, 1 << 31, 1 << 32, 1 << 40,
                               (1 << 63) - 1, 1 << 63, (1 << 64) - 1])
U64 = st.one_of(INTERESTING, st.integers(0, (1 << 64) - 1), st.integers(0, 8192))


def _check_reader(path: Path, reader_cls, addresses: list[int]) -> None:
    try:
        reader = reader_cls(str(path))
    except InvalidInput as exc:
        assert str(path) in str(exc)
        return
    try:
        if reader_cls is VmlinuxImage:
            try:
                reader.symbols()
            except InvalidInput:
                pass
        for address in addresses:
            for size in (1, 100, 5000):
                if address + size > 1 << 64:
                    continue
                whole = reader.read(address, size)
                assert len(whole.data) == size
                # one address, one answer: wherever the read starts
                if size > 1:
                    half = size // 2
                    a, b = reader.read(address, half), reader.read(address + half, size - half)
                    for at in (address, address + half - 1, address + half, address + size - 1):
                        part = a if at < address + half else b
                        assert whole.byte_at(at) == part.byte_at(at)
    finally:
        reader.close()


@FUZZ
@given(segments=st.lists(st.tuples(U64, U64, U64, U64), min_size=0, max_size=4),
       notes_size=st.one_of(st.none(), U64), data=st.data())
def test_fuzz_core_headers(tmp_path_factory, segments, notes_size, data):
    elf = E.vmcore([(K, b"x" * 32, 4096)], notes_size=notes_size)
    for vaddr, offset, filesz, memsz in segments:
        elf.phdrs.append(E.Phdr(E.PT_LOAD, 7, offset, vaddr, 0, filesz, memsz))
    for name in data.draw(st.lists(st.sampled_from(["e_phoff", "e_phnum", "e_phentsize",
                                                    "e_shoff", "e_shnum", "e_ehsize"]),
                                   max_size=2)):
        bits = 16 if name in ("e_phnum", "e_phentsize", "e_shnum", "e_ehsize") else 64
        elf.overrides[name] = data.draw(st.integers(0, (1 << bits) - 1))
    path = tmp_path_factory.mktemp("fuzz") / "core"
    path.write_bytes(elf.pack())
    _check_reader(path, ElfCoreReader, [K, K + 16] + [s[0] for s in segments[:2]])


@FUZZ
@given(fields=st.lists(st.tuples(st.integers(1, 4), st.sampled_from(
    ["sh_type", "sh_flags", "sh_addr", "sh_offset", "sh_size", "sh_link", "sh_entsize",
     "sh_name"]), U64), max_size=3), shstrndx=st.one_of(st.just(4), st.integers(0, 0xFFFF)))
def test_fuzz_kernel_image_sections(tmp_path_factory, fields, shstrndx):
    elf = E.image()
    elf.shstrndx = shstrndx
    for index, name, value in fields:
        if name in ("sh_type", "sh_name", "sh_link"):
            value &= 0xFFFFFFFF
        setattr(elf.shdrs[index], name, value)
    path = tmp_path_factory.mktemp("fuzz") / "vmlinux"
    path.write_bytes(elf.pack())
    _check_reader(path, VmlinuxImage, [0xFFFFFFFF81000000, 0xFFFFFFFF81000008])


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 1023), st.integers(0, 255)), min_size=1,
                      max_size=8), kind=st.sampled_from(["core", "image"]))
def test_fuzz_byte_mutations(tmp_path_factory, flips, kind):
    raw = bytearray((E.vmcore([(K, b"y" * 64, 4096)]) if kind == "core" else E.image()).pack())
    for at, value in flips:
        if at < len(raw):
            raw[at] = value
    assume(raw[:4] == b"\x7fELF")
    path = tmp_path_factory.mktemp("fuzz") / kind
    path.write_bytes(bytes(raw))
    _check_reader(path, ElfCoreReader if kind == "core" else VmlinuxImage,
                  [K, 0xFFFFFFFF81000000])


# -- fuzzing: kallsyms-like text ----------------------------------------------------------------

LINE = st.one_of(
    st.builds(lambda a, t, n, m: f"{a} {t} {n}" + (f"\t[{m}]" if m else ""),
              st.one_of(st.just("ffffffff81000000"), st.text("0123456789abcdefABCDEFxg",
                                                            min_size=0, max_size=18)),
              st.one_of(st.sampled_from("TtDdBbRrUuWwVvAa?"), st.text(max_size=2)),
              st.text(st.characters(blacklist_categories=("Zs", "Cc")), min_size=0,
                      max_size=12),
              st.one_of(st.none(), st.text(max_size=6))),
    st.text(max_size=30))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINE, max_size=12), newline=st.sampled_from(["\n", "\r\n"]))
def test_fuzz_kallsyms_text_parsers_agree_or_refuse(lines, newline):
    text = newline.join(lines)
    try:
        fast = parse_kallsyms(text.encode("utf-8", "surrogatepass"), source="fuzz")
    except InvalidInput:
        fast = None
    try:
        slow = parse_kallsyms_lines(text.encode("utf-8", "surrogatepass")
                                    .decode("utf-8", "surrogateescape"), source="fuzz")
    except InvalidInput:
        slow = None
    assert (fast is None) == (slow is None)
    if fast is not None:
        assert fast.names == slow.names
        assert fast.addresses.tolist() == slow.addresses.tolist()
        assert bytes(fast.types) == bytes(slow.types)
        assert [fast.modules[i] for i in fast.module_ids] == \
            [slow.modules[i] for i in slow.module_ids]


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_fuzz_symbol_files_from_bytes(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "System.map"
    path.write_bytes(raw)
    try:
        table = read_symbol_file(str(path))
    except InvalidInput as exc:
        assert str(path) in str(exc)
    else:
        assert len(table) > 0


# -- fuzzing: session JSON ---------------------------------------------------------------------

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)
VIEW_KEYS = st.sampled_from(["hex_refresh_hz", "watch_refresh_hz", "plot_hz",
                             "freeze_interval_ms", "bytes_per_row", "plot_window_s", "area",
                             "cursor"])


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(view=st.dictionaries(VIEW_KEYS, JSON, max_size=4),
       watch=st.lists(JSON, max_size=2), bookmarks=st.lists(JSON, max_size=2),
       top=st.dictionaries(st.sampled_from(["format", "version", "target", "saved", "scan"]),
                           JSON, max_size=2),
       raw_text=st.one_of(st.none(), st.sampled_from(["NaN", "-Infinity", "1e999", "[" * 5000,
                                                      "9" * 5000, '{"a":' * 3000])))
def test_fuzz_session_files(tmp_path_factory, view, watch, bookmarks, top, raw_text):
    import json
    from lainview.models.bookmarks import BookmarkModel
    from lainview.models.watch_model import WatchModel
    doc = {"format": "lainview-session", "version": 1,
           "target": {"exe": "/bin/true", "cmdline": ["true"]},
           "watch": watch, "bookmarks": bookmarks, "view": view, **top}
    text = json.dumps(doc)
    if raw_text is not None:
        text = text.replace('"view": {', '"view": {"plot_hz": ' + raw_text + ', ', 1)
    path = tmp_path_factory.mktemp("fuzz") / "s.json"
    path.write_text(text)
    try:
        data = read_session(path)
        WatchModel.parse_json(data.watch)
        BookmarkModel.parse_json(data.bookmarks)
    except InvalidInput as exc:
        assert "\n" not in str(exc)
        return
    # Accepted: every value the window hands to Qt fits what Qt takes
    # (None: the key is absent, the setting stays).
    for key in ("bytes_per_row", "plot_window_s"):
        if data.view.get(key) is not None:
            assert 0 < data.view[key] < 1 << 31
    for key in ("hex_refresh_hz", "watch_refresh_hz", "plot_hz", "freeze_interval_ms"):
        if data.view.get(key) is not None:
            value = data.view[key]
            assert value == value and abs(value) != float("inf")
    assert isinstance(data.exe, str)


def test_an_overlong_kallsyms_line_is_refused_before_it_is_parsed(tmp_path):
    """A "symbol" with a 4 MiB name (the attack pass: a 50 MB one cost 8x
    its size in memory and was listed as a symbol): no kallsyms line is
    longer than MAX_LINE, so the file is refused, naming the line."""
    import tracemalloc
    path = tmp_path / "kslong"
    path.write_bytes(b"ffffffff81000000 T _stext\n" + b"f" * 16 + b" T " + b"a" * (4 << 20)
                     + b"\n")
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match=r"kslong: line 2 is 4194323 bytes long"):
            read_symbol_file(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * (4 << 20), peak          # the file and one pass over it, no split
