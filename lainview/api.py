"""lainview as a library: a synchronous API for scripts and notebooks.

    import lainview
    with lainview.attach(pid) as p:
        heap = p.resolve("[heap]")
        p.read(heap, 16)                   # bytes
        p.write(heap, b"\\x01\\x02")          # journaled, like the CLI's write
        scan = p.scan("i32", 100)
        scan.next("changed")
        scan.matches                       # [Match(address, value), ...]
    with lainview.kernel() as k:
        k.read("jiffies", 8)

Every call blocks until it is done, like drgn's; underneath, each
:class:`Process` and :class:`Kernel` owns a :class:`~lainview.backend.service.Backend`
(its own backend thread, which holds every descriptor, and the write
journal) and waits on its futures. Errors are the backend's
(:mod:`lainview.backend.errors`): :class:`PermissionDenied`,
:class:`TargetExited`, :class:`FaultError`, :class:`InvalidInput`, ...
Close what you open (``with``, or ``close()``); a closed object raises
:class:`~lainview.backend.thread.BackendClosed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

from .backend import pointer_scan as _ptr
from .backend import scan as _scan
from .backend import watchpoints as _watchpoints
from .backend.errors import (Cancelled, CapabilityMissing, DeviceUnavailable, FaultError,
                             InvalidInput, KernelReadOnly, LainviewError, NoSuchModule,
                             NoSuchSymbol, PermissionDenied, TargetExited, VerifyMismatch,
                             WatchpointLimit, WatchpointUnsupported)
from .backend.disasm import Instruction
from .backend.journal import Journal
from .backend.kallsyms import Symbol, SymbolTable
from .backend.kernel import KernelBackend, KernelWrite
from .backend.ksources import KernelInfo
from .backend.locations import parse_location
from .backend.memory import AttachInfo, MemoryArea, WriteResult
from .backend.module_symbols import Module, ModuleSymbol
from .backend.processes import ProcessIdentity
from .backend.service import Backend, Target
from .backend.thread import BackendClosed, BackendFuture
from .backend.wording import quoted

T = TypeVar("T")

# Seconds a call waits for the backend before it gives up. A request the
# kernel never finishes fails sooner, with BackendStuck (backend/thread.py).
TIMEOUT = 600.0

#: What a number, a string or bytes may be scanned as (``Process.scan``).
Value = int | float | str | bytes


def _wait(future: BackendFuture[T]) -> T:
    return future.result(TIMEOUT)


def attach(pid: int, *, backend: str = "auto", writable: bool = True,
           journal: Journal | None = None) -> Process:
    """Attach to process ``pid`` and return a :class:`Process`.

    ``backend``: "auto" (the lainmemu device when the lainko module is
    loaded, else ``/proc/PID/mem``), "lainmemu" or "procfs". ``writable``:
    False opens the target read-only. ``journal``: where writes are
    journaled (default: the user's journal, ``$XDG_STATE_HOME/lainview``,
    which ``lainview journal`` and ``lainview revert`` read).

    Raises :class:`TargetExited` (no such process), :class:`PermissionDenied`
    (the kernel's ptrace access check refused; the message says why on this
    machine), :class:`DeviceUnavailable` (only with backend="lainmemu"),
    :class:`InvalidInput` (an unknown backend, a pid that is not a positive
    int, the id of a thread rather than of its process)."""
    owner = Backend(journal=journal)
    try:
        target = _wait(owner.attach(pid, backend, writable=writable))
    except BaseException:
        owner.shutdown()
        raise
    return Process(owner, target)


def kernel(source: str = "auto", *, kmem_path: str | None = None,
           images: tuple[str, ...] = (), journal: Journal | None = None) -> Kernel:
    """Open the running kernel's memory and symbols as a :class:`Kernel`.

    ``source``: "auto" (the first of the kmem device, /proc/kcore, a
    vmlinux or core image, symbols only that works here), or one of "kmem",
    "kcore", "image", "kallsyms"; ``kmem_path`` a kmem device node,
    ``images`` vmlinux/vmcore files (see ``lainview kernel --help``).
    Nothing is opened until the first call; that call raises
    :class:`DeviceUnavailable` when an explicitly chosen source is missing."""
    owner = Backend(journal=journal)
    return Kernel(owner, KernelBackend(owner, source=source, kmem_path=kmem_path,
                                       images=images))


class _Owner:
    """Closes its backend once (``close``, or the end of a ``with``)."""

    def __init__(self, backend: Backend):
        self._backend = backend
        self._closed = False

    def close(self) -> None:
        """Close every descriptor and the journal, and stop the backend
        thread. Calling it again does nothing."""
        if not self._closed:
            self._closed = True
            self._backend.shutdown()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class Process(_Owner):
    """One attached process (see :func:`attach`).

    ``pid``; ``info``: the backend in use and why (:class:`AttachInfo`);
    ``identity``: its executable, command line and start time
    (:class:`ProcessIdentity`, read from /proc when attached)."""

    def __init__(self, backend: Backend, target: Target):
        super().__init__(backend)
        self._target = target
        self._scans: list[Scan] = []

    def close(self) -> None:
        """Delete the scans' snapshots, detach, and stop the backend thread.
        Calling it again does nothing."""
        if not self.closed:
            try:
                for found in self._scans:
                    _wait(self._backend.close_scan(found._state))
            finally:
                self._scans.clear()
                super().close()

    @property
    def pid(self) -> int:
        """The process id."""
        return self._target.pid

    @property
    def info(self) -> AttachInfo:
        """The backend in use ("lainmemu" or "procfs"), why, and whether writable."""
        return self._target.info

    @property
    def identity(self) -> ProcessIdentity:
        """Executable, command line and start time (ticks since boot) at attach."""
        return self._target.identity

    def maps(self) -> list[MemoryArea]:
        """The memory areas, read afresh from the kernel (``/proc/PID/maps``
        or the lainmemu device): ascending, disjoint ``[start, end)``, with
        permissions, file offset and path. Raises TargetExited."""
        return _wait(self._target.areas(refresh=True))

    def resolve(self, text: str) -> int:
        """The address ``text`` names in this process, as the GUI's go-to
        and the CLI read it: ``0x7f…`` (or bare hex), ``libc.so.6+0x10``
        (a mapped file by name or full path; its first mapping), ``[heap]+0x10``,
        ``memfd:NAME+0x10``, ``-`` offsets, pointer paths
        (``game+0x1f40->+0x18->+0x8``: each ``->`` reads a pointer from the
        target) (:mod:`lainview.backend.locations`).
        Reads the map afresh. Raises InvalidInput (``Unresolved``) naming what
        did not resolve and why."""
        return _wait(self._target.resolve(parse_location(text)))

    def modules(self) -> list[Module]:
        """The files mapped in the process, by base (:class:`Module`: name,
        path, base, size, and its ELF symbols, or the ``problem`` that kept
        them from being read). Reads the map afresh."""
        return _wait(self._target.symbolizer()).modules

    def symbols(self, pattern: str | None = None, *, module: str | None = None,
                regex: bool = False) -> list[ModuleSymbol]:
        """Symbols of the mapped files (ELF ``.symtab`` and ``.dynsym``)
        whose name holds ``pattern`` (ignoring case; a glob if it has * ? [;
        a regular expression with ``regex``; every symbol when None), in
        module order then by address: :class:`ModuleSymbol` (module, name,
        ``address``, offset from the module base, size, nm type letter,
        exported). ``module``: one file name or path. Raises InvalidInput
        (a bad pattern)."""
        for name, text in (("pattern", pattern), ("module", module)):
            if text is not None and not isinstance(text, str):
                raise InvalidInput(f"{name} is text or None, not {quoted(text)}")
        return _wait(self._target.symbolizer()).search(pattern, module=module, regex=bool(regex))

    def symbolize(self, address: int | str) -> str:
        """``address`` named as ``libc.so.6!getpid+0x4`` where a symbol
        holds it, else as a location (``libc.so.6+0x9a3f4``, ``[heap]+0x10``,
        ``0x7f…``). ``address``: an int, or location text as
        :meth:`resolve` reads it. Raises InvalidInput."""
        return _wait(self._target.symbolizer()).name(self._address(address, 1))

    def disassemble(self, location: str | int, count: int = 16, *,
                    align: bool = True) -> list[Instruction]:
        """``count`` (1 .. 4096) x86-64 instructions decoded from
        ``location`` (an address, or text as :meth:`resolve` reads it): with
        ``align`` (the default) the first is the instruction covering it,
        decoded from the symbol or area holding it; without, from ``location``
        itself,
        each an :class:`Instruction` (address, data, mnemonic, operands in
        Intel syntax, ``location`` as ``module!symbol+off``, and ``target``
        with ``target_kind`` "code" or "data" for a branch, a call or a
        RIP-relative operand). Stops early at unreadable bytes. Raises
        FaultError (not mapped), InvalidInput (bad location or count)."""
        return _wait(self._target.disassemble(self._address(location, 1), count, align=align))

    def _address(self, where: int | str, size: int) -> int:
        """An address given as an int, or a location's text (resolved now,
        where ``size`` bytes must fit). Raises InvalidInput."""
        if isinstance(where, str):
            return _wait(self._target.resolve(parse_location(where), size))
        if not isinstance(where, int) or isinstance(where, bool) or not 0 <= where < 1 << 64:
            raise InvalidInput(f"an address is an int below 2**64 or a location's text, not "
                               f"{quoted(where)}")
        return where

    def read(self, address: int | str, size: int) -> bytes:
        """``size`` bytes at ``address`` (an int, or a location's text as
        :meth:`resolve` reads it). Raises FaultError naming the first
        unreadable address (an unmapped or refused page) and its reason,
        TargetExited, InvalidInput (a negative size, an address that is
        neither, a location that does not resolve)."""
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput(f"cannot read {quoted(size)} bytes: a size is an int ≥ 0",
                               op="read")
        return _wait(self._target.read(self._address(address, size), size)).require(op="read")

    def write(self, address: int | str, data: bytes) -> WriteResult:
        """Write ``data`` (bytes-like) at ``address`` (an int, or a
        location's text): journaled before it is made (the same path as
        ``lainview write``, so ``lainview revert`` can undo it), then read
        back. Returns the old and new bytes and the journal entry's id.
        Raises InvalidInput (data that is not bytes, a bad address),
        JournalError (nothing written), FaultError, PartialWrite,
        VerifyMismatch (written, but the target changed it again),
        PermissionDenied, TargetExited."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInput(f"data to write is bytes, not {type(data).__name__} (encode "
                               "text first: b'...' or 'text'.encode())", op="write")
        data = bytes(data)
        if isinstance(address, str) and ((location := parse_location(address)).steps
                                         or location.kind != "absolute"):
            # resolved and written in one request, journaled as typed (attach.journal_place)
            return _wait(self._target.write_location(location, data))
        return _wait(self._target.write(self._address(address, len(data)), data))

    def watch(self, address: int | str, length: int = 4, *, access: bool = False,
              seconds: float | None = None, registers: bool = False) -> Watch:
        """Arm a hardware watchpoint: ``length`` bytes (1, 2, 4, 8, aligned)
        at ``address`` on every thread, on writes (``access``: reads too),
        until :meth:`Watch.stop`, ``seconds`` or the process exits; the
        process is never stopped (:mod:`lainview.backend.watchpoints`).
        ``registers``: each instruction keeps the user registers of its
        latest hit (``NamedHit.registers``). Returns at once with a :class:`Watch`. Raises InvalidInput (length,
        alignment); PermissionDenied (naming what is missing),
        WatchpointLimit (x86's 4 debug registers are in use) come from
        ``Watch.stop``/``Watch.wait``."""
        if not isinstance(length, int) or isinstance(length, bool):
            raise InvalidInput(f"a watchpoint's length is 1, 2, 4 or 8, not {quoted(length)}")
        if seconds is not None and (not isinstance(seconds, (int, float)) or isinstance(
                seconds, bool) or not 0 < seconds < float("inf")):
            raise InvalidInput(f"seconds is a positive, finite number, not {quoted(seconds)}")
        address = self._address(address, length)
        live = _watchpoints.WatchLive()
        future = self._target.watchpoint(address, length, access=access, live=live,
                                         seconds=seconds, registers=registers)
        return Watch(self, future, live)

    def scan(self, value_type: str, value: Value | None = None, mode: str = "exact", *,
             align: int | None = None, tolerance: float | None = None) -> Scan:
        """A first scan of the process's writable memory for ``value`` as
        ``value_type`` (``i8`` … ``u64``, ``f32``, ``f64`` with ``-be`` for
        big-endian, or ``bytes``, ``utf8``, ``utf16le``). ``value``: a
        Python int or float, text as the CLI takes it, or bytes for a byte
        pattern; ``mode``: "exact" (default), "range" ("LOW..HIGH"),
        "unknown" (every position), and so on as ``lainview scan`` takes
        them. ``align``: bytes between candidates (default the type's
        size). Raises InvalidInput (a bad type, value or mode)."""
        if align is not None and (not isinstance(align, int) or isinstance(align, bool)):
            raise InvalidInput(f"align is an int (bytes) or None, not {quoted(align)}")
        if tolerance is not None and (not isinstance(tolerance, (int, float))
                                      or isinstance(tolerance, bool)):
            raise InvalidInput(f"tolerance is a number or None, not {quoted(tolerance)}")
        scan_type = _scan.ScanType(*_split_type(value_type))
        cond = _scan.make_condition(scan_type, _mode(mode, _scan.FIRST_MODES),
                                    _text(value, scan_type), tolerance=tolerance)
        state = _wait(self._target.scan_first(scan_type, cond, align=align))
        found = Scan(self, state)
        self._scans.append(found)
        return found

    def pointer_scan(self, address: int | str, *, depth: int = _ptr.DEFAULT_DEPTH,
                     max_offset: int = _ptr.DEFAULT_MAX_OFFSET, stacks: bool = False,
                     limit: int = _ptr.DEFAULT_LIMIT) -> _ptr.SearchResult:
        """The pointer paths that lead to ``address`` (an int, or location
        text as :meth:`resolve` takes it) from static memory: a module's
        data (with its .bss) and, with ``stacks``, thread stacks. Reads
        every readable, writable area once into a pointer map (deleted
        afterwards), then walks backwards at most ``depth`` dereferences,
        each pointer pointing at most ``max_offset`` bytes below the address
        it leads to. Returns a :class:`~lainview.backend.pointer_scan.SearchResult`:
        ``paths`` (at most ``limit`` :class:`PointerPath`, shortest first;
        ``path.text`` is ``prog+0x4088->+0x18->+0x8``), ``total`` counted,
        ``by_depth``, the map's size. Raises InvalidInput (settings out of
        range, a location that does not resolve), TargetExited."""
        address = self._address(address, 1)
        for name, setting in (("depth", depth), ("max_offset", max_offset), ("limit", limit)):
            if not isinstance(setting, int) or isinstance(setting, bool):
                raise InvalidInput(f"{name} is an int, not {quoted(setting)}")
        if not isinstance(stacks, bool):
            raise InvalidInput(f"stacks is True or False, not {quoted(stacks)}")
        return _wait(self._target.pointer_scan(address, depth=depth, max_offset=max_offset,
                                               stacks=stacks, limit=limit))

    def pointer_rescan(self, paths: list[_ptr.PointerPath], address: int | str | None = None,
                       *, value: Value | None = None,
                       value_type: str | None = None) -> list[_ptr.Resolved]:
        """The ``paths`` (from :meth:`pointer_scan` or a saved pointer-scan
        file, perhaps of an earlier run) that, resolved in this process now,
        lead to ``address`` (int or location text), or to an address
        holding ``value`` as ``value_type`` (``i32``, ``f64``, …; ``-be``
        for big-endian). Each :class:`Resolved` gives the path and the
        address it leads to. Raises InvalidInput (neither or both given, a
        bad type or value), TargetExited."""
        if address is None and value is None:
            raise InvalidInput("give an address or a value (with its type) to rescan for")
        if address is not None and value is not None:
            raise InvalidInput("give an address or a value (with its type), not both")
        if isinstance(paths, (str, bytes)) or not hasattr(paths, "__iter__"):
            raise InvalidInput(f"paths is a list of PointerPath, not {quoted(paths)}")
        paths = list(paths)
        if not all(isinstance(p, _ptr.PointerPath) for p in paths):
            raise InvalidInput("paths is a list of PointerPath (from pointer_scan() or a saved "
                               "pointer-scan file)")
        if address is not None:
            target = _ptr.RescanTarget(address=self._address(address, 1))
        else:
            if value_type is None:
                raise InvalidInput("a value needs its type (value_type='i32', ...)")
            name, big = _split_type(value_type)
            target = _ptr.RescanTarget.holding(name, value, big)
        return _wait(self._target.pointer_rescan(paths, target))

    def _scan_next(self, state: _scan.ScanState, cond: _scan.Condition) -> _scan.ScanState:
        return _wait(self._target.scan_next(state, cond))

    def _scan_undo(self, state: _scan.ScanState) -> _scan.ScanState:
        return _wait(self._target.scan_undo(state))


def _mode(text: str, allowed: tuple[_scan.Mode, ...]) -> _scan.Mode:
    """The scan mode ``text`` names, if this step allows it; InvalidInput otherwise."""
    mode = next((m for m in allowed if m.value == text), None)
    if mode is None:
        raise InvalidInput(f"unknown scan mode {text!r} here: choose one of "
                           f"{', '.join(m.value for m in allowed)}", op="scan")
    return mode


def _split_type(name: str) -> tuple[str, bool]:
    """("i32", False) for "i32", ("i32", True) for "i32-be". InvalidInput
    for what is not a type's name."""
    if not isinstance(name, str):
        raise InvalidInput(f"a value type is its name as text ('i32', 'f64-be', …), not "
                           f"{quoted(name)}")
    if name.endswith("-be"):
        return name[:-3], True
    return name, False


def _text(value: Value | None, scan_type: _scan.ScanType) -> str | None:
    """A value as the scanner's text parser reads it (Python numbers exactly)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        if scan_type.numeric:
            raise InvalidInput(f"bytes cannot be scanned as {scan_type.name}; "
                               "give a number")
        return bytes(value).hex(" ")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"cannot scan for a {type(value).__name__}")
    return repr(value)


@dataclass(frozen=True, slots=True)
class Match:
    """One candidate of a scan: its ``address`` and its ``value`` at the
    last step (an int or float for numeric types, bytes otherwise)."""

    address: int
    value: int | float | bytes


class Scan:
    """A scan's current step (see :meth:`Process.scan`): ``count``
    candidates, ``matches``; :meth:`next` narrows it, :meth:`undo` goes
    back one step. Its snapshots live in a temporary directory until the
    process is closed."""

    def __init__(self, process: Process, state: _scan.ScanState):
        self._process = process
        self._state = state

    @property
    def count(self) -> int:
        """How many candidates this step holds."""
        return self._state.count

    @property
    def step(self) -> int:
        """1 for the first scan, one more for each :meth:`next`."""
        return self._state.step

    @property
    def matches(self) -> list[Match]:
        """Every candidate, in address order (see :meth:`page` for a part of
        a large result: this builds one object per candidate)."""
        return self.page(0, self.count)

    def page(self, start: int, stop: int) -> list[Match]:
        """Candidates ``start`` to ``stop - 1`` in address order (clipped to
        ``count``)."""
        stop = min(stop, self.count)
        if start >= stop:
            return []
        addresses, values = self._state.matches(max(0, start), stop)
        if self._state.scan_type.numeric:
            found: list[int | float | bytes] = values.tolist()
        else:
            found = [bytes(row) for row in values]
        return [Match(int(a), v) for a, v in zip(addresses.tolist(), found)]

    def next(self, mode: str, value: Value | None = None, *,
             tolerance: float | None = None) -> Scan:
        """Narrow the candidates: keep those whose value now is ``mode``
        ("changed", "unchanged", "increased", "decreased", "exact" with a
        ``value``, "increased-by"/"decreased-by" with one, "range" with
        "LOW..HIGH"), re-reading each from the process. Returns this scan.
        Raises InvalidInput, TargetExited (or the pid now names another
        process)."""
        st = self._state.scan_type
        cond = _scan.make_condition(st, _mode(mode, _scan.NEXT_MODES), _text(value, st),
                                    tolerance=tolerance)
        self._state = self._process._scan_next(self._state, cond)
        return self

    def undo(self) -> Scan:
        """Back to the step before the last :meth:`next` (one step is kept;
        the later one's snapshots are deleted). Raises InvalidInput when
        there is none, TargetExited (or the pid now names another process)."""
        self._state = self._process._scan_undo(self._state)
        return self


class Watch:
    """A running watchpoint (see :meth:`Process.watch`): ``snapshot()`` while
    it runs, ``stop()`` or ``wait()`` for the end, ``hits()`` named."""

    def __init__(self, process: Process, future: BackendFuture[_watchpoints.WatchSnapshot],
                 live: _watchpoints.WatchLive):
        self._process = process
        self._future = future
        self._live = live

    def snapshot(self) -> _watchpoints.WatchSnapshot | None:
        """The hits so far (None before it is armed); raises what arming raised."""
        if self._future.done():
            return self._future.result()
        return self._live.snapshot()

    def wait(self, timeout: float | None = None) -> _watchpoints.WatchSnapshot:
        """Block until it ends by itself (``seconds``, the process exited)."""
        return self._future.result(TIMEOUT if timeout is None else timeout)

    def stop(self) -> _watchpoints.WatchSnapshot:
        """End it (every event freed) and return the final snapshot."""
        self._live.stop()
        return _wait(self._future)

    def hits(self) -> list[_watchpoints.NamedHit]:
        """The hits so far, each instruction named by its location
        (``module!symbol+off``) and its accessing instruction (the one that
        ends at the reported ``ip``): ``ip``, ``address``, ``location``,
        ``symbol``, ``hits``, ``instruction``."""
        snap = self.snapshot()
        if snap is None or not snap.hits:
            return []
        return _wait(self._process._target.name_hits(snap.hits))


class Kernel(_Owner):
    """The running kernel (see :func:`kernel`)."""

    def __init__(self, backend: Backend, kernel: KernelBackend):
        super().__init__(backend)
        self._kernel = kernel

    def info(self) -> KernelInfo:
        """The source chosen, why, and what it can do (``capabilities``:
        "list", "read", "write", "hold"; ``missing``: why the others are
        not available)."""
        return _wait(self._kernel.info())

    def symbols(self) -> SymbolTable:
        """Every kernel symbol, from ``/proc/kallsyms`` (or the chosen
        image): ``len(table)``, ``table.symbol(i)`` a :class:`Symbol`,
        ``table.lookup(name)``, ``table.select(pattern)``. Addresses are 0
        when the kernel hides them from this user (``addresses_hidden``)."""
        return _wait(self._kernel.symbols())

    def read(self, name: str, size: int, *, module: str | None = None) -> bytes:
        """``size`` bytes of symbol ``name`` (in ``module`` when given), e.g.
        ``k.read("jiffies", 8)``. Raises NoSuchSymbol, FaultError (not
        readable), CapabilityMissing (the source cannot read: it says what
        is missing), PermissionDenied."""
        value = _wait(self._kernel.read(name, size, module=module))
        return value.result.require(op="read")

    def write(self, name: str, data: bytes, *, module: str | None = None) -> KernelWrite:
        """Write ``data`` to symbol ``name``: journaled, then read back.
        Needs the kmem device, writable (root). Raises CapabilityMissing,
        KernelReadOnly, NoSuchSymbol, JournalError."""
        return _wait(self._kernel.write(name, bytes(data), module=module))


__all__ = ["attach", "kernel", "Process", "Scan", "Match", "Kernel", "Value", "TIMEOUT",
           "MemoryArea", "WriteResult", "AttachInfo", "ProcessIdentity", "KernelInfo",
           "KernelWrite", "Symbol", "SymbolTable", "Module", "ModuleSymbol", "Instruction",
           "LainviewError", "InvalidInput", "PermissionDenied", "TargetExited", "FaultError",
           "VerifyMismatch", "DeviceUnavailable", "Cancelled", "CapabilityMissing",
           "KernelReadOnly", "NoSuchSymbol", "NoSuchModule", "BackendClosed", "Watch",
           "WatchpointLimit", "WatchpointUnsupported"]
