"""Kernel symbols: ``/proc/kallsyms`` (or a System.map, or a vmlinux's
symbol table) held column by column, and the loaded modules.

A kallsyms file has about 122,000 lines. They are not turned into 122,000
objects: :class:`SymbolTable` keeps one numpy array of addresses, one of
type letters, one of module numbers and one list of names, and builds a
:class:`Symbol` only when one is asked for.

Line grammar (``kernel/kallsyms.c``)::

    ADDRESS TYPE NAME            kernel proper
    ADDRESS TYPE NAME\\t[MODULE]  a module's symbol (also the pseudo-modules
                                 __builtin__ftrace, bpf, ...)

:func:`parse_kallsyms` parses the common layout (every address 16 hex digits,
kernel lines first, module lines after) in a few vectorised steps and falls
back to the line-by-line :func:`parse_kallsyms_lines`, which is the
definition of the grammar, for anything else.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from .errors import InvalidInput, NoSuchModule, NoSuchSymbol
from .files import read_input_file
from .processes import effective_capabilities
from .wording import quoted

KALLSYMS_PATH = "/proc/kallsyms"
KERNEL = ""          # the module name of the kernel proper
SIZE_HINT_CAP = 256  # bytes: the default cap of a size guessed from the next symbol

_KINDS = {
    "t": "text", "d": "data", "b": "bss", "r": "read-only data", "a": "absolute",
    "c": "common", "g": "small data", "s": "small bss", "n": "debug",
    "i": "indirect function", "p": "unwind",
}
_SPECIAL = {"W": "weak", "w": "weak", "V": "weak object", "v": "weak object",
            "U": "undefined", "u": "unique global"}


def type_kind(letter: str) -> str:
    """What a type letter stands for, without its scope: "text", "data",
    "bss", "read-only data", "weak", ... ("unknown" for letters nm does not
    define)."""
    return _SPECIAL.get(letter) or _KINDS.get(letter.lower(), "unknown")


def type_scope(letter: str) -> str | None:
    """"global" for an upper-case letter, "local" for a lower-case one; None
    for the letters whose case means something else (weak, undefined)."""
    if letter in _SPECIAL:
        return None
    return "global" if letter.isupper() else "local"


def type_meaning(letter: str) -> str:
    """E.g. "T" -> "text, global", "d" -> "data, local", "W" -> "weak"."""
    scope = type_scope(letter)
    return f"{type_kind(letter)}, {scope}" if scope else type_kind(letter)


_KNOWN_LETTERS = frozenset("".join(_KINDS) + "".join(_KINDS).upper() + "".join(_SPECIAL) + "?")

# Words accepted wherever a type filter is given, mapped to their letters.
TYPE_WORDS = {
    "text": "Tt", "data": "Dd", "bss": "Bb", "rodata": "Rr", "read-only": "Rr",
    "weak": "WwVv", "absolute": "Aa",
}


def type_letters(spec: str) -> str:
    """Turn a type filter ("T", "tT", "text", "data,bss", "global") into the set
    of letters it selects. Raises InvalidInput for unknown words."""
    letters = []
    for part in re.split(r"[,\s]+", spec.strip()):
        if not part:
            continue
        if part in TYPE_WORDS:
            letters.append(TYPE_WORDS[part])
        elif part == "global":
            letters.append("ABCDGIRSTUVW")
        elif part == "local":
            letters.append("abcdgirstuvw")
        elif all(c in _KNOWN_LETTERS for c in part):
            letters.append(part)
        else:
            raise InvalidInput(
                f"unknown symbol type {quoted(part)}: give letters (T, t, D, ...) or one of "
                f"{', '.join(sorted(TYPE_WORDS))}, global, local")
    if not letters:
        raise InvalidInput("empty symbol type filter")
    return "".join(sorted(set("".join(letters))))


@dataclass(frozen=True, slots=True)
class Symbol:
    """One kernel symbol. ``module`` is "" for the kernel proper;
    ``address`` is 0 where kptr_restrict hides it (see the table's
    ``addresses_hidden``); ``size`` is known only from an ELF symbol table."""

    index: int
    name: str
    address: int
    type: str
    module: str = KERNEL
    size: int | None = None

    @property
    def meaning(self) -> str:
        return type_meaning(self.type)

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "address": self.address, "type": self.type,
                "meaning": self.meaning, "module": self.module or None, "size": self.size}


class SymbolTable:
    """Symbols in columns. Index ``i`` is the i-th symbol of the source, in
    its order (kernel proper first, then modules: the standard search order).

    ``modules[0]`` is the kernel proper (""); ``module_ids[i]`` indexes
    ``modules``. ``types`` holds ASCII codes of the type letters.
    """

    def __init__(self, addresses: np.ndarray, types: np.ndarray, names: list[str],
                 module_ids: np.ndarray, modules: list[str], *, source: str = "",
                 sizes: np.ndarray | None = None, hidden_reason: str | None = None):
        n = len(names)
        if not (len(addresses) == len(types) == len(module_ids) == n):
            raise ValueError("symbol columns differ in length")
        self.addresses = addresses
        self.types = types
        self.names = names
        self.module_ids = module_ids
        self.modules = modules
        self.sizes = sizes
        self.source = source
        self.addresses_hidden = bool(n) and not bool(addresses.any())
        self.hidden_reason = hidden_reason if self.addresses_hidden else None
        self._by_name: dict[str, int | list[int]] | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._blob: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._blob_case: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._non_ascii: np.ndarray | None = None
        self._name_order: np.ndarray | None = None

    @classmethod
    def empty(cls, source: str = "") -> "SymbolTable":
        return cls(np.zeros(0, np.uint64), np.zeros(0, np.uint8), [], np.zeros(0, np.int32),
                   [KERNEL], source=source)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> Symbol:
        return self.symbol(index)

    def symbol(self, index: int) -> Symbol:
        index = int(index)
        if not 0 <= index < len(self.names):
            raise IndexError(index)
        size = int(self.sizes[index]) if self.sizes is not None else None
        return Symbol(index=index, name=self.names[index], address=int(self.addresses[index]),
                      type=chr(self.types[index]),
                      module=self.modules[self.module_ids[index]], size=size)

    def symbols(self, indices: Iterable[int]) -> list[Symbol]:
        return [self.symbol(i) for i in indices]

    def name_order(self) -> np.ndarray:
        """The indices sorted by name (ties in source order), int64, computed
        once. About 30 ms for 122k names: call it on the backend thread first
        (:meth:`prepare`)."""
        if self._name_order is None:
            names = self.names
            self._name_order = np.fromiter(sorted(range(len(names)), key=names.__getitem__),
                                           dtype=np.int64, count=len(names))
        return self._name_order

    def prepare(self) -> "SymbolTable":
        """Build, once, everything slow a browser of this table needs: the
        name order and the buffers :meth:`select` searches (lower-case for
        substrings and globs, as written for regexes). Returns ``self``.
        Blocking (tens of ms for 122k names): run it on the backend thread."""
        self.name_order()
        self._search_buffer(False)
        self._search_buffer(True)
        return self

    # -- lookups --------------------------------------------------------------------------
    def _name_index(self) -> dict[str, int | list[int]]:
        if self._by_name is None:
            index: dict[str, int | list[int]] = {}
            for i, name in enumerate(self.names):
                prev = index.setdefault(name, i)
                if prev != i:
                    if isinstance(prev, list):
                        prev.append(i)
                    else:
                        index[name] = [prev, i]
            self._by_name = index
        return self._by_name

    @property
    def module_names(self) -> list[str]:
        """The modules that have symbols here (not the kernel proper)."""
        return [m for m in self.modules if m]

    def has_module(self, module: str) -> bool:
        return module in self.modules[1:]

    def lookup(self, name: str, module: str | None = None) -> list[int]:
        """Indices of every symbol named ``name`` (in ``module`` if given),
        in the standard search order."""
        hit = self._name_index().get(name)
        found = [] if hit is None else ([hit] if isinstance(hit, int) else list(hit))
        if module is not None:
            found = [i for i in found if self.modules[self.module_ids[i]] == module]
        return found

    def find(self, name: str, module: str | None = None) -> Symbol:
        """The first symbol named ``name`` in the standard search order (the
        kernel proper, then modules), or only in ``module``. Raises
        NoSuchModule if the module has no symbols here, NoSuchSymbol if
        there is no such symbol."""
        if module is not None and module != KERNEL and not self.has_module(module):
            raise NoSuchModule(f"no module named {quoted(module)} has symbols in {self.source}",
                               op="lookup")
        found = self.lookup(name, module)
        if not found:
            where = f" in module {module}" if module else ""
            raise NoSuchSymbol(f"no symbol named {name}{where} in {self.source}", op="lookup")
        return self.symbol(found[0])

    def _sorted_addresses(self) -> tuple[np.ndarray, np.ndarray]:
        if self._sorted is None:
            order = np.argsort(self.addresses, kind="stable")
            self._sorted = (order, self.addresses[order])
        return self._sorted

    def size_hint(self, index: int, cap: int = SIZE_HINT_CAP) -> int | None:
        """A guess at a symbol's size: its ELF size if known, else the
        distance to the next higher symbol address, at most ``cap``. None
        when addresses are hidden."""
        if self.sizes is not None and int(self.sizes[index]):
            return min(int(self.sizes[index]), cap)
        if self.addresses_hidden:
            return None
        _, sorted_addr = self._sorted_addresses()
        address = self.addresses[index]
        j = int(np.searchsorted(sorted_addr, address, side="right"))
        if j >= len(sorted_addr):
            return cap
        return int(max(1, min(int(sorted_addr[j]) - int(address), cap)))

    def symbol_at(self, address: int) -> Symbol | None:
        """The symbol with the highest address <= ``address`` (to name where a
        pointer points), or None."""
        if self.addresses_hidden or not len(self):
            return None
        order, sorted_addr = self._sorted_addresses()
        j = int(np.searchsorted(sorted_addr, np.uint64(address), side="right")) - 1
        return self.symbol(int(order[j])) if j >= 0 else None

    # -- filtering ----------------------------------------------------------------------------
    def select(self, pattern: str | None = None, *, mode: str = "auto",
               module: str | None = None, types: str | None = None,
               candidates: np.ndarray | None = None) -> np.ndarray:
        """Indices (ascending) of the symbols that match.

        ``mode``: "substring", "glob", "regex", or "auto" (glob when the
        pattern has * ? or [, else substring). Substring and glob ignore
        case. ``module``: a module name, or "" for the kernel proper.
        ``types``: a type filter as :func:`type_letters` reads it.
        ``candidates``: narrow an earlier result instead of the whole table.
        Raises InvalidInput for a bad regex, type or mode."""
        idx: np.ndarray = np.arange(len(self)) if candidates is None else np.asarray(candidates)
        if module is not None:
            try:
                mod_id = self.modules.index(module)
            except ValueError:
                return np.zeros(0, dtype=np.int64)
            keep = self.module_ids[idx] == mod_id
            idx = idx[keep]
        if types:
            letters = np.frombuffer(type_letters(types).encode("ascii"), dtype=np.uint8)
            idx = idx[np.isin(self.types[idx], letters)]
        if not pattern:
            return idx
        if (mode == "substring" or mode == "auto" and not any(c in pattern for c in "*?[")) \
                and "\n" not in pattern:
            if len(idx) * 16 < len(self):
                # Narrowing a small earlier result (the next keystroke):
                # checking its names is cheaper than searching them all.
                return _matching(self.names, idx, _name_matcher(pattern, "substring"))
            hits = self._substring_hits(pattern)
            return idx[np.isin(idx, hits, assume_unique=True)] if len(idx) != len(self) \
                else hits
        match = _name_matcher(pattern, mode)
        if mode in ("glob", "auto") and not pattern.strip("*"):
            return idx.astype(np.int64, copy=False)     # "*" (the first key of a glob)
        if candidates is not None and len(idx) * 16 < len(self):
            # Narrowing a small earlier result: matching its names beats
            # any pass over all of them.
            return _matching(self.names, idx, match)
        if mode in ("glob", "auto") and "\n" not in pattern:
            found = self._glob_hits(pattern, match)
            if found is not None:
                return found if len(idx) == len(self) else \
                    idx[np.isin(idx, found, assume_unique=True)].astype(np.int64, copy=False)
        if mode == "regex":
            found = self._regex_hits(pattern, match)
            if found is not None:
                return found if len(idx) == len(self) else \
                    idx[np.isin(idx, found, assume_unique=True)].astype(np.int64, copy=False)
        literal = required_literal(pattern, mode)
        if len(literal) >= 2:
            # Only names holding the literal can match: a vectorised pass
            # leaves the regex engine a few hundred names instead of all.
            hits = self._substring_hits(literal)
            non_ascii = self._non_ascii_names()
            if len(non_ascii):
                # Unicode case folding (the Kelvin sign matches k) escapes
                # the lower-case search: leave those names to the matcher.
                hits = np.union1d(hits, non_ascii)
            idx = hits if len(idx) == len(self) else idx[np.isin(idx, hits, assume_unique=True)]
        names = self.names
        chosen = names if len(idx) == len(self) else list(map(names.__getitem__, idx.tolist()))
        keep = np.fromiter(map(bool, map(match, chosen)), dtype=np.bool_, count=len(chosen))
        chosen_idx: np.ndarray = idx[keep]
        return chosen_idx.astype(np.int64, copy=False)

    def _non_ascii_names(self) -> np.ndarray:
        """Indices of the names that are not pure ASCII (computed once)."""
        if self._non_ascii is None:
            self._non_ascii = np.flatnonzero(np.fromiter(
                (not n.isascii() for n in self.names), dtype=np.bool_, count=len(self)))
        return self._non_ascii

    def _glob_hits(self, pattern: str, match: Matcher) -> np.ndarray | None:
        """Indices of the names a glob matches, found with vectorised
        searches for its literal runs: the first run must start a name and
        the last end it (unless a wildcard is there), every run must occur.
        A glob of one run between ``*`` is answered by that alone; otherwise
        only the names holding every run go to ``match``. None when the glob
        has no ASCII run to search for."""
        runs = _glob_literals(pattern)
        needles = [(r, i == 0, i == len(runs) - 1) for i, r in enumerate(runs) if r]
        if not needles or not all(r.isascii() for r, _, _ in needles):
            return None
        hits: np.ndarray | None = None
        for text, start, end in sorted(needles, key=lambda n: -len(n[0])):
            found = self._substring_hits(text, start=start, end=end)
            hits = found if hits is None else np.intersect1d(hits, found, assume_unique=True)
            if not len(hits):
                break
        assert hits is not None     # needles is not empty
        non_ascii = self._non_ascii_names()
        exact = len(needles) == 1 and not any(c in pattern for c in "?[")
        keep: np.ndarray
        if exact:
            # Unicode case folding (the Kelvin sign matches k) escapes the
            # lower-case search: only non-ASCII names go to the matcher.
            keep = hits[~np.isin(hits, non_ascii)] if len(non_ascii) else hits
            verify = non_ascii
        else:
            keep = np.zeros(0, dtype=np.int64)
            verify = np.union1d(hits, non_ascii) if len(non_ascii) else hits
        names = self.names
        if len(verify):
            ok = np.fromiter(map(bool, map(match, map(names.__getitem__, verify.tolist()))),
                             dtype=np.bool_, count=len(verify))
            keep = np.union1d(keep, verify[ok])
        return keep.astype(np.int64, copy=False)

    def _regex_hits(self, pattern: str, match: Matcher) -> np.ndarray | None:
        """Indices of the names a regex matches, narrowed first by a
        case-sensitive vectorised search for its top-level literal runs
        (anchored where ``^`` or ``$`` sits next to one). A regex that is only
        ``^``, literals and ``$`` is answered by the search alone; otherwise
        only the names holding every run go to ``match``. None when the
        regex gives nothing to search for (or sets flags inline)."""
        try:
            # the stdlib's own regex parser, which typeshed does not describe
            from re import _constants, _parser  # type: ignore[attr-defined]
            parsed = _parser.parse(pattern)
        except Exception:   # noqa: BLE001 - a bad regex is reported by the matcher
            return None
        if parsed.state.flags & (re.IGNORECASE | re.MULTILINE | re.VERBOSE):
            return None
        ops = list(parsed)
        begin = (_constants.AT, _constants.AT_BEGINNING)
        finish = (_constants.AT, _constants.AT_END)
        start_anchor = bool(ops) and ops[0] == begin
        end_anchor = bool(ops) and ops[-1] == finish and len(ops) > start_anchor
        body = ops[start_anchor:len(ops) - end_anchor]
        if not body and start_anchor and not end_anchor:
            return np.arange(len(self), dtype=np.int64)        # "^": every name
        needles, run, run_start = [], [], start_anchor
        for op, arg in body + [(None, None)]:
            if op is _constants.LITERAL:
                run.append(chr(arg))
                continue
            if run:
                needles.append(("".join(run), run_start, op is None and end_anchor))
            run, run_start = [], False
        if not needles or not all(r.isascii() and "\n" not in r for r, _, _ in needles):
            return None
        hits: np.ndarray | None = None
        for text, start, end in sorted(needles, key=lambda n: -len(n[0])):
            found = self._substring_hits(text, start=start, end=end, case=True)
            hits = found if hits is None else np.intersect1d(hits, found, assume_unique=True)
            if not len(hits):
                break
        assert hits is not None     # needles is not empty
        if all(op is _constants.LITERAL for op, _ in body):
            return hits.astype(np.int64, copy=False)
        names = self.names
        ok = np.fromiter(map(bool, map(match, map(names.__getitem__, hits.tolist()))),
                         dtype=np.bool_, count=len(hits))
        return hits[ok].astype(np.int64, copy=False)

    def _search_buffer(self, case: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All names joined by newlines (lower-cased unless ``case``), the
        name index of every byte, and where each name's newline is."""
        cached = self._blob_case if case else self._blob
        if cached is None:
            encoded = [(n if case else n.lower()).encode("utf-8", "surrogateescape")
                       for n in self.names]
            lengths = np.fromiter((len(e) + 1 for e in encoded), dtype=np.int64,
                                  count=len(encoded))
            line_of = np.repeat(np.arange(len(encoded), dtype=np.int32), lengths)
            cached = (np.frombuffer(b"\n".join(encoded) + b"\n", dtype=np.uint8), line_of,
                      np.cumsum(lengths) - 1)
            self._non_ascii_names()
            if case:
                self._blob_case = cached
            else:
                self._blob = cached
        return cached

    def _substring_hits(self, pattern: str, *, start: bool = False,
                        end: bool = False, case: bool = False) -> np.ndarray:
        """Indices of names containing ``pattern`` (ignoring case unless
        ``case``), with ``start``/``end`` only where it begins/ends the name:
        a vectorised search over all names joined into one buffer."""
        blob, line_of, ends = self._search_buffer(case)
        needle = np.frombuffer((pattern if case else pattern.lower()).encode(
            "utf-8", "surrogateescape"), dtype=np.uint8)
        k = len(needle)
        if k == 0 or k > len(blob):
            return np.zeros(0, dtype=np.int64)
        if start or end:
            # Anchored: compare only the first/last k bytes of each name
            # (one pass over the names, not over the whole buffer).
            starts = np.concatenate(([0], ends[:-1] + 1))
            lengths = ends - starts
            names = np.flatnonzero(lengths == k if start and end else lengths >= k)
            pos = starts[names] if start else ends[names] - k
            for j in range(k):
                keep = blob[pos + j] == needle[j]
                names, pos = names[keep], pos[keep]
            return names.astype(np.int64, copy=False)
        pos = np.flatnonzero(blob[:len(blob) - k + 1] == needle[0])
        for j in range(1, k):
            pos = pos[blob[pos + j] == needle[j]]
        mask = np.zeros(len(self), dtype=np.bool_)
        mask[line_of[pos]] = True
        return np.flatnonzero(mask)


def _glob_literals(pattern: str) -> list[str]:
    """The runs of plain characters in a glob (every match contains each)."""
    runs: list[str] = []
    run: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c in "*?":
            runs.append("".join(run))
            run = []
        elif c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            close = pattern.find("]", j)
            if close < 0:
                run.append(c)       # fnmatch reads an unclosed [ as itself
            else:
                runs.append("".join(run))
                run = []
                i = close
        else:
            run.append(c)
        i += 1
    runs.append("".join(run))
    return runs


def _regex_literals(pattern: str) -> list[str]:
    """The runs of literal characters at the top level of a regex: every
    match contains each of them. Empty when the regex cannot be analysed."""
    try:
        # the stdlib's own regex parser, which typeshed does not describe
        from re import _constants, _parser  # type: ignore[attr-defined]
        parsed = _parser.parse(pattern)
    except Exception:   # noqa: BLE001 - a bad regex is reported by the matcher
        return []
    runs, run = [], []
    for op, arg in parsed:
        if op is _constants.LITERAL:
            run.append(chr(arg))
        else:
            runs.append("".join(run))
            run = []
    runs.append("".join(run))
    return runs


def required_literal(pattern: str, mode: str) -> str:
    """The longest ASCII text that every name matching ``pattern`` contains,
    ignoring case ("" when there is none to rely on)."""
    if mode == "auto":
        mode = "glob" if any(c in pattern for c in "*?[") else "substring"
    if mode == "substring":
        runs = [pattern]
    elif mode == "glob":
        runs = _glob_literals(pattern)
    elif mode == "regex":
        runs = _regex_literals(pattern)
    else:
        return ""
    runs = [r for r in runs if r.isascii() and "\n" not in r]
    return max(runs, key=len, default="")


# A name matcher: truthy when the name matches (a bound re method or a lambda).
Matcher = Callable[[str], object]


def _matching(names: list[str], idx: np.ndarray, match: Matcher) -> np.ndarray:
    ok = np.fromiter(map(bool, map(match, map(names.__getitem__, idx.tolist()))),
                     dtype=np.bool_, count=len(idx))
    picked: np.ndarray = idx[ok]
    return picked.astype(np.int64, copy=False)


_REGEX_TAIL_OK = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.*+?]*")
# A pattern ending where more characters would continue its last token:
# a backslash escape with digits (\1 then 0 is \10), an open {m,n}.
_REGEX_OPEN_END = re.compile(r"(\\[0-9]+|\{[0-9,]*)$")


def narrows(old: str, new: str, mode: str) -> bool:
    """True when every name ``new`` matches also matches ``old`` in ``mode``
    (so a filter may search the earlier result only): for a substring, the
    new text contains the old; for a regex (searched, not anchored), the
    new text is the old, a valid regex, followed by plain characters
    (letters, digits, _ and .; *, + and ? after the first) that cannot
    re-read its end (no |, groups, classes, braces or escapes). False when
    it cannot tell. Globs are matched whole, so they never narrow here."""
    if not old:
        return False
    if mode == "substring":
        return old.lower() in new.lower()
    if mode != "regex" or not new.startswith(old) or new == old:
        return False
    if not _REGEX_TAIL_OK.fullmatch(new[len(old):]) or _REGEX_OPEN_END.search(old):
        return False
    try:
        re.compile(old)
    except re.error:
        return False
    return True


def _name_matcher(pattern: str, mode: str) -> Matcher:
    if mode == "auto":
        mode = "glob" if any(c in pattern for c in "*?[") else "substring"
    if mode == "substring":
        needle = pattern.lower()
        return lambda name: needle in name.lower()
    # Bound methods, not lambdas: select() maps them over 100k names.
    if mode == "glob":
        # "*rest" matches what "rest" matches at the end of some suffix: a
        # search for it is much faster than matching a leading ".*".
        rest = pattern.lstrip("*")
        rx = re.compile(fnmatch.translate(rest), re.IGNORECASE)
        return rx.search if rest != pattern else rx.match
    if mode == "regex":
        try:
            return re.compile(pattern).search
        except re.error as exc:
            raise InvalidInput(f"bad regular expression {quoted(pattern)}: {exc}") from None
    raise InvalidInput(f"unknown match mode {quoted(mode)}: substring, glob, regex or auto")


# -- parsing -----------------------------------------------------------------------------------

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _bad(lineno: int, line: str, why: str) -> InvalidInput:
    return InvalidInput(f"kallsyms line {lineno}: {why}: {quoted(line, 60)}", op="kallsyms")


def parse_kallsyms_lines(text: str, *, source: str = "") -> SymbolTable:
    """Parse kallsyms text line by line; the grammar's definition.

    A line is ``ADDRESS TYPE NAME`` or ``ADDRESS TYPE NAME [MODULE]`` with
    whitespace between fields: ADDRESS is 1 to 16 hex digits, TYPE one
    printable ASCII character, MODULE non-empty. Blank lines are skipped.
    Raises InvalidInput naming the first malformed line."""
    addresses: list[int] = []
    types: list[str] = []
    names: list[str] = []
    mod_ids: list[int] = []
    modules = [KERNEL]
    mod_index = {KERNEL: 0}
    for lineno, line in enumerate(text.split("\n"), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in (3, 4):
            raise _bad(lineno, line, f"{len(fields)} fields, expected 3 or 4")
        addr, letter, name = fields[0], fields[1], fields[2]
        if not 1 <= len(addr) <= 16 or not _HEX_DIGITS.issuperset(addr):
            raise _bad(lineno, line, "the address is not 1 to 16 hex digits")
        if len(letter) != 1 or not (letter.isascii() and letter.isprintable()):
            raise _bad(lineno, line, "the type is not one ASCII letter")
        module = KERNEL
        if len(fields) == 4:
            tag = fields[3]
            if len(tag) < 3 or tag[0] != "[" or tag[-1] != "]":
                raise _bad(lineno, line, "the fourth field is not [module]")
            module = tag[1:-1]
        addresses.append(int(addr, 16))
        types.append(letter)
        names.append(name)
        if module not in mod_index:
            mod_index[module] = len(modules)
            modules.append(module)
        mod_ids.append(mod_index[module])
    return SymbolTable(np.array(addresses, dtype=np.uint64),
                       np.frombuffer("".join(types).encode("ascii"), dtype=np.uint8).copy(),
                       names, np.array(mod_ids, dtype=np.int32), modules, source=source)


def _fast_block(text: str, stride: int
                ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]] | None:
    """Columns of a block whose every line has exactly ``stride`` fields and a
    16-digit address, or None when the block is not that regular."""
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    tokens = text.split()
    if len(tokens) != stride * lines:
        return None
    addr_tokens = tokens[0::stride]
    if addr_tokens and set(map(len, addr_tokens)) != {16}:
        return None
    try:
        raw = bytes.fromhex("".join(addr_tokens))
        letters = "".join(tokens[1::stride]).encode("ascii")
    except (ValueError, UnicodeEncodeError):
        return None
    if len(letters) != lines or any(c <= 32 or c >= 127 for c in set(letters)):
        return None
    addresses = np.frombuffer(raw, dtype=">u8").astype(np.uint64)
    types = np.frombuffer(letters, dtype=np.uint8)
    return addresses, types, tokens[2::stride], (tokens[3::stride] if stride == 4 else [])


# The longest line a kallsyms file can hold: a 16-digit address, a type,
# a name of at most KSYM_NAME_LEN (512) bytes and a module name of at most
# MODULE_NAME_LEN (56), with room to spare. A longer line is no symbol, and
# parsing it would cost several times its size in memory.
MAX_LINE = 4096


def _check_line_lengths(data: bytes) -> None:
    """InvalidInput naming the first line longer than MAX_LINE. Costs one
    byte per byte of ``data``, once, and nothing per symbol."""
    if len(data) <= MAX_LINE:
        return
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 0x0A)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    long_ = np.flatnonzero(stops - starts > MAX_LINE)
    if len(long_):
        i = int(long_[0])
        raise InvalidInput(f"line {i + 1} is {int(stops[i] - starts[i])} bytes long: no kallsyms "
                           f"line is longer than {MAX_LINE}", op="kallsyms")


def parse_kallsyms(data: bytes | str, *, source: str = "") -> SymbolTable:
    """Parse the whole of a kallsyms file (or System.map) in a few vectorised
    steps; the result equals :func:`parse_kallsyms_lines`'s. Raises
    InvalidInput naming the first malformed line, or a line longer than
    MAX_LINE bytes (checked before anything is decoded or split)."""
    if isinstance(data, bytes):
        _check_line_lengths(data)
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    tab = text.find("\t")
    split_at = len(text) if tab < 0 else text.rfind("\n", 0, tab) + 1
    kernel_part, module_part = text[:split_at], text[split_at:]
    kernel = _fast_block(kernel_part, 3)
    modules = _fast_block(module_part, 4) if module_part else (
        np.zeros(0, np.uint64), np.zeros(0, np.uint8), [], [])
    if kernel is None or modules is None:
        return parse_kallsyms_lines(text, source=source)
    mod_tags = modules[3]
    module_list = [KERNEL]
    mod_index: dict[str, int] = {KERNEL: 0}
    mod_ids = np.zeros(len(kernel[2]) + len(mod_tags), dtype=np.int32)
    base = len(kernel[2])
    for j, tag in enumerate(mod_tags):
        got = mod_index.get(tag)
        if got is None:
            if len(tag) < 3 or tag[0] != "[" or tag[-1] != "]":
                return parse_kallsyms_lines(text, source=source)
            got = mod_index[tag] = len(module_list)
            module_list.append(tag[1:-1])
        mod_ids[base + j] = got
    # Two tags can name one module only if the line parser would also merge
    # them; tags are the full "[name]" string, so they cannot.
    addresses = np.concatenate([kernel[0], modules[0]]) if len(mod_tags) else kernel[0]
    types = np.concatenate([kernel[1], modules[1]]) if len(mod_tags) else kernel[1]
    names = kernel[2] + modules[2] if len(mod_tags) else kernel[2]
    return SymbolTable(addresses, types, names, mod_ids, module_list, source=source)


# A kallsyms file or System.map is tens of MiB; past this it is not one.
MAX_SYMBOL_FILE = 256 << 20


def read_proc_file(path: str, limit: int = MAX_SYMBOL_FILE) -> bytes:
    """The whole of a regular file, /proc ones included; see
    :func:`lainview.backend.files.read_input_file` (errors as a system file)."""
    return read_input_file(path, limit, user_file=False)


def read_symbol_file(path: str, *, what: str = "symbol file",
                     user_file: bool = True) -> SymbolTable:
    """Read and parse a kallsyms-format file (``/proc/kallsyms``, a saved
    copy, a System.map), bounded by MAX_SYMBOL_FILE. Raises InvalidInput,
    naming the file, when it is not a regular file, too large or malformed,
    and for a ``user_file`` (one the user named) also when it is missing or
    holds no symbol; LainviewError when it cannot be read (EACCES, EIO)."""
    data = read_input_file(path, MAX_SYMBOL_FILE, what=what, user_file=user_file)
    try:
        table = parse_kallsyms(data, source=path)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}", op="kallsyms") from None
    if user_file and not len(table):
        raise InvalidInput(f"{path} holds no symbols: not a {what}", op="kallsyms")
    return table



def _sysctl_int(proc: str, name: str) -> int | None:
    try:
        with open(f"{proc}/sys/kernel/{name}") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


CAP_SYSLOG = 34


def hidden_addresses_reason(proc: str = "/proc") -> str:
    """Why /proc/kallsyms shows zero addresses to this process, and what to do
    (the kernel's kallsyms_show_value() rules)."""
    restrict = _sysctl_int(proc, "kptr_restrict")
    paranoid = _sysctl_int(proc, "perf_event_paranoid")
    has_syslog = bool(effective_capabilities(proc) >> CAP_SYSLOG & 1)
    if restrict is not None and restrict >= 2:
        return ("kernel.kptr_restrict is 2: the kernel hides symbol addresses from "
                "everyone, root included (as root: sysctl kernel.kptr_restrict=1)")
    if restrict == 1 or (restrict == 0 and paranoid is not None and paranoid > 1):
        why = ("kernel.kptr_restrict is 1" if restrict == 1 else
               f"kernel.perf_event_paranoid is {paranoid} (> 1)")
        if has_syslog:
            return (f"{why} and addresses are shown only to CAP_SYSLOG, which this "
                    "process has; the file was probably opened without it")
        return (f"{why}: the kernel shows symbol addresses only to processes with "
                "CAP_SYSLOG (run lainview as root)")
    return ("every address is zero: the kernel hid them (kptr_restrict) when the "
            "file was opened (run lainview as root)")


def load_kallsyms(path: str = KALLSYMS_PATH, *, proc: str = "/proc") -> SymbolTable:
    """Read and parse ``path``. When every address is zero, the table still
    has every name and says why in ``hidden_reason``. Raises
    LainviewError when the file cannot be read, InvalidInput when it is
    malformed."""
    table = read_symbol_file(path, what="kallsyms file", user_file=path != KALLSYMS_PATH)
    if table.addresses_hidden:
        table.hidden_reason = hidden_addresses_reason(proc)
    return table


# -- modules -----------------------------------------------------------------------------------

PSEUDO_MODULES = frozenset({"bpf", "kprobes"})


def is_pseudo_module(name: str) -> bool:
    """kallsyms tags that are not loadable modules: ftrace trampolines
    (__builtin__ftrace), BPF programs, kprobe insns."""
    return name.startswith("__builtin__") or name in PSEUDO_MODULES


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """A module from /proc/modules (``loaded``) or only seen in kallsyms."""

    name: str
    size: int | None = None
    refcount: int | None = None
    holders: tuple[str, ...] = ()
    state: str | None = None
    address: int | None = None
    loaded: bool = True
    pseudo: bool = False

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "refcount": self.refcount,
                "holders": list(self.holders), "state": self.state,
                "address": self.address, "loaded": self.loaded, "pseudo": self.pseudo}


@dataclass(frozen=True, slots=True)
class ModuleList:
    modules: tuple[ModuleInfo, ...]
    source: str
    note: str | None = None

    def get(self, name: str) -> ModuleInfo | None:
        for m in self.modules:
            if m.name == name:
                return m
        return None


def parse_proc_modules(text: str) -> list[ModuleInfo]:
    """Parse /proc/modules: ``name size refcount holders, state address``.
    Raises InvalidInput on a malformed line."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 3:
            raise InvalidInput(f"/proc/modules line {lineno} is malformed: {quoted(line)}")
        try:
            size = int(fields[1])
            refcount = None if fields[2] == "-" else int(fields[2])
        except ValueError:
            raise InvalidInput(f"/proc/modules line {lineno} is malformed: {quoted(line)}") from None
        holders: tuple[str, ...] = ()
        if len(fields) > 3 and fields[3] != "-":
            holders = tuple(h for h in fields[3].split(",") if h)
        state = fields[4] if len(fields) > 4 else None
        address = None
        if len(fields) > 5:
            try:
                address = int(fields[5], 16)
            except ValueError:
                address = None
        out.append(ModuleInfo(fields[0], size, refcount, holders, state, address))
    return out


def list_modules(table: SymbolTable | None = None, *, proc: str = "/proc") -> ModuleList:
    """The loaded modules with their holders from /proc/modules; modules that
    only kallsyms knows (pseudo-modules, or every module when /proc/modules
    does not exist) are added after them, marked ``loaded=False``."""
    path = f"{proc}/modules"
    note = None
    try:
        with open(path) as f:
            mods = parse_proc_modules(f.read())
        source = path
    except FileNotFoundError:
        mods = []
        source = "kallsyms"
        note = (f"{path} does not exist: this kernel was built without loadable-module "
                "support (CONFIG_MODULES=n), so there is nothing to hold; the names "
                "below are kallsyms pseudo-modules")
    except OSError as exc:
        mods = []
        source = "kallsyms"
        note = f"cannot read {path}: {exc.strerror or exc}; holders are unknown"
    known = {m.name for m in mods}
    if table is not None:
        for name in table.module_names:
            if name not in known:
                pseudo = is_pseudo_module(name)
                mods.append(ModuleInfo(name, loaded=False, pseudo=pseudo))
                known.add(name)
    return ModuleList(tuple(mods), source, note)


__all__ = ["Symbol", "SymbolTable", "ModuleInfo", "ModuleList", "parse_kallsyms",
           "parse_kallsyms_lines", "load_kallsyms", "list_modules", "parse_proc_modules",
           "type_kind", "type_scope", "type_meaning", "type_letters", "hidden_addresses_reason",
           "is_pseudo_module", "read_symbol_file"]
