"""kallsyms: the parser against this machine's /proc/kallsyms, hostile lines
through hypothesis, type letters, modules, and hidden addresses."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lainview.backend import kallsyms
from lainview.backend.errors import InvalidInput, NoSuchModule, NoSuchSymbol
from lainview.backend.kallsyms import (parse_kallsyms, parse_kallsyms_lines,
                                       parse_proc_modules, type_letters, type_meaning)

KALLSYMS = "/proc/kallsyms"


@pytest.fixture(scope="module")
def real_table():
    if not os.access(KALLSYMS, os.R_OK):
        pytest.skip(f"{KALLSYMS} is not readable here")
    return kallsyms.load_kallsyms()


def test_real_kallsyms_line_count_matches_wc(real_table):
    lines = int(subprocess.run(["wc", "-l", KALLSYMS], capture_output=True, text=True,
                               check=True).stdout.split()[0])
    assert len(real_table) == lines
    assert len(real_table) > 1000


def test_real_kallsyms_spot_checks(real_table):
    # Spot-check against independent parses of the same file with grep/awk.
    for name in ("_stext", "schedule", "printk" if real_table.lookup("printk") else "_printk",
                 "do_sys_open" if real_table.lookup("do_sys_open") else "vfs_read"):
        line = subprocess.run(["awk", f'$3 == "{name}" {{print; exit}}', KALLSYMS],
                              capture_output=True, text=True, check=True).stdout.split()
        sym = real_table.find(name)
        assert sym.address == int(line[0], 16)
        assert sym.type == line[1]
        assert sym.module == ""
    assert real_table.find("_stext").meaning == "text, global"


def test_real_kallsyms_module_lines(real_table):
    out = subprocess.run(["grep", "-c", "\t\\[", KALLSYMS], capture_output=True, text=True)
    module_lines = int(out.stdout.strip() or 0)
    assert int((real_table.module_ids != 0).sum()) == module_lines
    for module in real_table.module_names:
        first = real_table.select(module=module)[0]
        line = subprocess.run(
            ["awk", f'$4 == "[{module}]" {{print; exit}}', KALLSYMS],
            capture_output=True, text=True, check=True).stdout.split()
        assert real_table.names[first] == line[2]


def test_fast_parse_equals_the_line_parser_on_the_real_file(real_table):
    data = kallsyms.read_proc_file(KALLSYMS)
    slow = parse_kallsyms_lines(data.decode("utf-8", "surrogateescape"))
    fast = parse_kallsyms(data)
    assert fast.names == slow.names
    assert np.array_equal(fast.addresses, slow.addresses)
    assert np.array_equal(fast.types, slow.types)
    assert fast.modules == slow.modules
    assert np.array_equal(fast.module_ids, slow.module_ids)


def test_real_addresses_visible_as_root(real_table):
    if os.geteuid() != 0:
        pytest.skip("addresses are shown to root only")
    if open("/proc/sys/kernel/kptr_restrict").read().strip() == "2":
        pytest.skip("kptr_restrict=2 hides addresses from root too")
    assert not real_table.addresses_hidden and real_table.hidden_reason is None


def test_select_filters(real_table):
    text = real_table.select(types="T")
    assert len(text) and all(chr(real_table.types[i]) == "T" for i in text[:500])
    both = real_table.select("sched", types="text")
    assert len(both) and all("sched" in real_table.names[i].lower() for i in both)
    glob = real_table.select("_st*xt")
    assert "_stext" in {real_table.names[i] for i in glob}
    regex = real_table.select("^_stext$", mode="regex")
    assert [real_table.names[i] for i in regex] == ["_stext"]
    narrowed = real_table.select("ext$", mode="regex", candidates=glob)
    assert set(narrowed) <= set(glob)
    with pytest.raises(InvalidInput):
        real_table.select("(", mode="regex")


def test_find_errors(real_table):
    with pytest.raises(NoSuchSymbol, match="no symbol named lainview_nope"):
        real_table.find("lainview_nope")
    with pytest.raises(NoSuchModule):
        real_table.find("_stext", module="lainview_no_module")


def test_size_hint_and_symbol_at(real_table):
    sym = real_table.find("_stext")
    hint = real_table.size_hint(sym.index)
    assert 1 <= hint <= kallsyms.SIZE_HINT_CAP
    assert real_table.symbol_at(sym.address + 1).address == sym.address


# -- synthetic input ---------------------------------------------------------------------------------

SAMPLE = (b"ffffffff81000000 T _stext\n"
          b"ffffffff81000010 t local_fn\n"
          b"ffffffff82000000 D jiffies\n"
          b"ffffffff82000040 b bss_thing\n"
          b"ffffffffc0001000 t ext4_init\t[ext4]\n"
          b"ffffffffc0001100 d ext4_data\t[ext4]\n"
          b"ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n")


def test_sample_columns():
    t = parse_kallsyms(SAMPLE, source="sample")
    assert len(t) == 7
    assert t.modules == ["", "ext4", "__builtin__ftrace"]
    assert t.find("ext4_data").module == "ext4"
    assert t.find("ext4_data", module="ext4").address == 0xFFFFFFFFC0001100
    assert t.size_hint(0) == 0x10
    assert t.size_hint(t.find("jiffies").index) == 0x40
    assert list(t.select(module="")) == [0, 1, 2, 3]
    assert [t.names[i] for i in t.select(types="local")] == [
        "local_fn", "bss_thing", "ext4_init", "ext4_data", "ftrace_trampoline"]


def test_hidden_addresses_keep_names_and_say_why(tmp_path):
    hidden = b"".join(b"0000000000000000 " + line[17:] for line in SAMPLE.splitlines(True))
    path = tmp_path / "kallsyms"
    path.write_bytes(hidden)
    proc = tmp_path / "proc"
    (proc / "sys/kernel").mkdir(parents=True)
    (proc / "sys/kernel/kptr_restrict").write_text("1\n")
    (proc / "self").mkdir()
    (proc / "self/status").write_text("CapEff:\t0000000000000000\n")
    t = kallsyms.load_kallsyms(str(path), proc=str(proc))
    assert t.addresses_hidden and len(t) == 7 and t.names[2] == "jiffies"
    assert "kptr_restrict is 1" in t.hidden_reason and "CAP_SYSLOG" in t.hidden_reason
    assert t.size_hint(0) is None and t.symbol_at(5) is None
    (proc / "sys/kernel/kptr_restrict").write_text("2\n")
    assert "root included" in kallsyms.hidden_addresses_reason(str(proc))


def test_type_meanings():
    assert type_meaning("T") == "text, global"
    assert type_meaning("t") == "text, local"
    assert type_meaning("D") == "data, global"
    assert type_meaning("b") == "bss, local"
    assert type_meaning("R") == "read-only data, global"
    assert type_meaning("W") == "weak"
    assert type_letters("text,data") == "DTdt"
    assert type_letters("tT") == "Tt"
    with pytest.raises(InvalidInput):
        type_letters("nonsense")


def test_proc_modules_holders(tmp_path):
    text = ("nf_nat 61440 2 xt_MASQUERADE,nft_chain_nat, Live 0xffffffffc0a00000\n"
            "ext4 1019904 1 - Live 0xffffffffc0800000 (E)\n"
            "lainko 16384 0 - Loading 0x0000000000000000 (OE)\n")
    mods = parse_proc_modules(text)
    assert [m.name for m in mods] == ["nf_nat", "ext4", "lainko"]
    assert mods[0].holders == ("xt_MASQUERADE", "nft_chain_nat")
    assert mods[1].holders == () and mods[1].refcount == 1 and mods[1].address == 0xFFFFFFFFC0800000
    assert mods[2].state == "Loading"
    (tmp_path / "modules").write_text(text)
    listing = kallsyms.list_modules(parse_kallsyms(SAMPLE), proc=str(tmp_path))
    assert [m.name for m in listing.modules][:3] == ["nf_nat", "ext4", "lainko"]
    extra = listing.get("__builtin__ftrace")
    assert extra is not None and extra.pseudo and not extra.loaded
    assert listing.get("ext4").loaded and listing.note is None


def test_modules_without_proc_modules_say_why(tmp_path):
    listing = kallsyms.list_modules(parse_kallsyms(SAMPLE), proc=str(tmp_path))
    assert "CONFIG_MODULES" in listing.note
    assert {m.name for m in listing.modules} == {"ext4", "__builtin__ftrace"}


# -- hostile input ------------------------------------------------------------------------------------

hexaddr = st.integers(0, 2**64 - 1).map(lambda v: f"{v:016x}")
name = st.text(st.characters(min_codepoint=33, max_codepoint=126,
                             blacklist_characters="[]"), min_size=1, max_size=30)
letter = st.sampled_from("TtDdBbRrWwVvAaU")
good_line = st.tuples(hexaddr, letter, name, st.one_of(st.none(), name)).map(
    lambda f: f"{f[0]} {f[1]} {f[2]}" + (f"\t[{f[3]}]" if f[3] else "") + "\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(good_line, max_size=40))
def test_well_formed_lines_parse_exactly(lines):
    kernel = [ln for ln in lines if "\t" not in ln]
    modules = [ln for ln in lines if "\t" in ln]
    text = "".join(kernel + modules)
    t = parse_kallsyms(text.encode())
    assert len(t) == len(lines)
    for i, line in enumerate(kernel + modules):
        fields = line.split()
        sym = t.symbol(i)
        assert (sym.address, sym.type, sym.name) == (int(fields[0], 16), fields[1], fields[2])
        assert sym.module == (fields[3][1:-1] if len(fields) == 4 else "")


hostile_piece = st.one_of(
    good_line, st.text(max_size=40), st.binary(max_size=40).map(
        lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(["\n", "\t", " ", "\t[]", "[x]", "0x10 T a\n", "ffffffff81000000 TT a\n",
                     "ffffffff81000000 T\n", "1_0 T a\n", "ffffffff81000000 T a b c\n",
                     "ffffffff8100000 T short\n", "ffffffff81000000\u2003T em\n",
                     "ffffffff81000000 T a\t[m]\nffffffff81000000 T b\n", "\r\n", "\x0b"]))


def _kernel_then_modules(lines: list[str]) -> list[str]:
    """Lines in a kallsyms file's order: the kernel's, then the modules'."""
    return [ln for ln in lines if "\t" not in ln] + [ln for ln in lines if "\t" in ln]


# A whole well-formed file, in the kernel's order, with or without the last
# newline: the fast path parses these.
well_formed_file = st.tuples(st.lists(good_line, max_size=40), st.booleans()).map(
    lambda f: "".join(_kernel_then_modules(f[0]))[:None if f[1] else -1])
# A well-formed file with one hostile piece spliced in at a line boundary.
damaged_file = st.tuples(st.lists(good_line, min_size=1, max_size=40), hostile_piece,
                         st.integers(0, 40)).map(
    lambda f: "".join(_kernel_then_modules(f[0])[:f[2]] + [f[1]]
                      + _kernel_then_modules(f[0])[f[2]:]))
hostile_file = st.lists(hostile_piece, max_size=30).map("".join)
# Mostly well-formed files, so that the fast path is compared with the line
# parser, not the line parser with itself (the fallback); the test counts it.
kallsyms_text = st.sampled_from([well_formed_file] * 6 + [damaged_file] * 3
                               + [hostile_file]).flatmap(lambda files: files)


def test_hostile_input_matches_the_line_parser_or_is_refused(monkeypatch):
    """parse_kallsyms (the vectorised fast path, falling back to the line
    parser) gives the line parser's table or refuses what it refuses. At
    least half the examples must take the fast path: otherwise the test
    would mostly compare the line parser with itself."""
    paths: dict[str, int] = {"fast": 0, "fallback": 0, "refused": 0}
    fallbacks: list[str] = []

    def line_parser_called(text: str, **kw):
        fallbacks.append(text)
        return parse_kallsyms_lines(text, **kw)

    monkeypatch.setattr(kallsyms, "parse_kallsyms_lines", line_parser_called)

    @settings(max_examples=500, deadline=None)
    @given(kallsyms_text)
    def compare(text: str) -> None:
        try:
            expected = parse_kallsyms_lines(text)
        except InvalidInput:
            with pytest.raises(InvalidInput):
                parse_kallsyms(text.encode("utf-8", "surrogateescape"))
            paths["refused"] += 1
            return
        fallbacks.clear()
        got = parse_kallsyms(text.encode("utf-8", "surrogateescape"))
        paths["fallback" if fallbacks else "fast"] += 1
        assert got.names == expected.names
        assert np.array_equal(got.addresses, expected.addresses)
        assert np.array_equal(got.types, expected.types)
        assert [got.modules[m] for m in got.module_ids] == [
            expected.modules[m] for m in expected.module_ids]

    compare()
    assert paths["fast"] >= sum(paths.values()) // 2, paths
    assert paths["fallback"] and paths["refused"], paths    # the other paths ran too


@pytest.mark.parametrize("pattern", ["s", "sched", "SCHED_", "e_", "do_sys_op", "_stext",
                                     "lainview_nothing", "t\u00e9"])
def test_vectorised_substring_equals_a_plain_search(real_table, pattern):
    expected = [i for i, n in enumerate(real_table.names) if pattern.lower() in n.lower()]
    assert real_table.select(pattern, mode="substring").tolist() == expected
    text = real_table.select(types="t")
    assert real_table.select(pattern, mode="substring", candidates=text).tolist() == [
        i for i in expected if real_table.names[i] and chr(real_table.types[i]) == "t"]


# -- glob and regex: the literal prefilter never changes the answer -----------------------------

def _naive(names, pattern, mode):
    import fnmatch
    import re
    if mode == "glob":
        rx = re.compile(fnmatch.translate(pattern), re.IGNORECASE)
        return [i for i, n in enumerate(names) if rx.match(n)]
    rx = re.compile(pattern)
    return [i for i, n in enumerate(names) if rx.search(n)]


@pytest.mark.parametrize("pattern, mode", [
    ("sched*", "glob"), ("*SCHED*", "glob"), ("_st*xt", "glob"), ("do_sys_[ow]*", "glob"),
    ("[!_]*_init", "glob"), ("*[", "glob"), ("a?c*", "glob"),
    ("^sched", "regex"), ("sched_(in|out)", "regex"), ("ext4|btrfs", "regex"),
    (r"^__x64_sys_\w+$", "regex"), ("(?i)SCHED_C", "regex"), ("ab*c", "regex"),
    ("sched_?clock", "regex"), (r"\bfoo", "regex"), ("s", "regex")])
def test_glob_and_regex_select_equal_a_plain_match(real_table, pattern, mode):
    expected = real_table.select(pattern, mode=mode).tolist()
    assert expected == _naive(real_table.names, pattern, mode)
    text = real_table.select(types="t")
    narrowed = real_table.select(pattern, mode=mode, candidates=text).tolist()
    assert narrowed == [i for i in expected if chr(real_table.types[i]) == "t"]


@pytest.mark.parametrize("pattern, mode, literal", [
    ("sched*", "glob", "sched"), ("*[ab]cdef?g", "glob", "cdef"), ("x[", "glob", "x["),
    ("^do_sys_(open|at)", "regex", "do_sys_"), ("a|bcd", "regex", ""),
    ("ab*cde", "regex", "cde"), ("plain", "substring", "plain")])
def test_required_literal(pattern, mode, literal):
    assert kallsyms.required_literal(pattern, mode) == literal


name_text = st.text(alphabet=st.sampled_from("abcsSkK_\u212a\u017f\u0130i1["), max_size=8)
pattern_text = st.text(alphabet=st.sampled_from("abcsSkK_\u212a\u017f\u0130i1[]!*?^$|().+"),
                       min_size=1, max_size=8)


@settings(max_examples=400, deadline=None)
@given(st.lists(name_text.filter(bool), min_size=1, max_size=30), pattern_text,
       st.sampled_from(["glob", "regex"]))
def test_prefilter_is_exact_on_hostile_names(names, pattern, mode):
    import re
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)   # "possible nested set" in [[
        if mode == "regex":
            try:
                re.compile(pattern)
            except re.error:
                return
        n = len(names)
        table = kallsyms.SymbolTable(np.arange(1, n + 1, dtype=np.uint64),
                                     np.full(n, ord("T"), np.uint8), names,
                                     np.zeros(n, np.int32), [""])
        assert table.select(pattern, mode=mode).tolist() == _naive(names, pattern, mode)


@pytest.mark.parametrize("first, then", [("sch", "sched_c"), ("e_", "E_S"), ("do_", "do_sys"),
                                         ("lainview_", "lainview_nothing")])
def test_narrowing_a_small_result_equals_a_fresh_select(real_table, first, then):
    earlier = real_table.select(first, mode="substring")
    assert len(earlier) * 16 < len(real_table) or first == "e_"
    assert real_table.select(then, mode="substring", candidates=earlier).tolist() == \
        real_table.select(then, mode="substring").tolist()


from hypothesis import given as _given, settings as _settings, strategies as _st  # noqa: E402

_NAMES = ["tick_nohz_idle", "tick_sched", "a{2", "aa", "ab", "a", "a|b", "x10", "\x01", "a0",
          "tick_do_nohz", "nohz_tick", "AB", "a.b", "a*b", "abc", "b"]


@_settings(max_examples=400, deadline=None)
@_given(old=_st.text("ab.*+?|{}()[]\\0123,_^$", min_size=1, max_size=6),
        tail=_st.text("ab.*+?|{}()[]\\0123,_^$", min_size=1, max_size=4))
def test_a_regex_said_to_narrow_matches_a_subset(old, tail):
    """narrows(old, new) lets the symbol browser search only the earlier
    result: whenever it says so, no name matches new without matching old."""
    import re
    new = old + tail
    if not kallsyms.narrows(old, new, "regex"):
        return
    rx_old, rx_new = re.compile(old), re.compile(new)
    for name in _NAMES:
        assert not rx_new.search(name) or rx_old.search(name), (old, new, name)


def test_regex_narrowing_cases():
    assert kallsyms.narrows("tick_", "tick_.*nohz", "regex")
    assert kallsyms.narrows("tick_.*", "tick_.*n", "regex")
    assert not kallsyms.narrows("tick_.", "tick_.*", "regex")     # a quantifier widens
    assert not kallsyms.narrows("ab", "ab|c", "regex")
    assert not kallsyms.narrows("a{2", "a{2}", "regex")
    assert not kallsyms.narrows("(a)\\1", "(a)\\10", "regex")
    assert not kallsyms.narrows("sched", "sched", "glob")
    assert kallsyms.narrows("Sched", "xsched_clock", "substring")


def test_narrowing_a_small_result_gives_what_a_full_search_gives():
    names = [f"tick_{i}_nohz" if i % 37 == 0 else f"other_{i}" for i in range(3000)]
    table = kallsyms.parse_kallsyms_lines("".join(
        f"{0xffffffff81000000 + i * 16:016x} T {n}\n" for i, n in enumerate(names)))
    first = table.select("tick_", mode="regex")
    assert len(first) * 16 < len(table)
    narrowed = table.select("tick_.*9_nohz", mode="regex", candidates=first)
    assert narrowed.tolist() == table.select("tick_.*9_nohz", mode="regex").tolist() != []
