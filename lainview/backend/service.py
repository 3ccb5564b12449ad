"""The backend as the rest of lainview sees it: a facade whose every call
returns a Future, with all I/O on the one backend thread.

    backend = Backend()
    target = backend.attach(pid).result()
    data = target.read(address, 64).result().require()
    backend.shutdown()

The GUI awaits these futures through qasync (``asyncio.wrap_future``); the
CLI simply calls ``.result()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Generator, Iterable, ParamSpec, Self, TypeVar

from .attach import (BACKENDS, BULK_CHUNK, BulkStats, StreamConsumer,
                     attach_process, journal_place, journaled_location_write,
                     journaled_process_write, open_process_memory, resolve_in, stream)
from .errors import InvalidInput, LainviewError, TargetExited, Unresolved, VerifyMismatch
from .journal import (Journal, JournalEntry, JournalProblems, OpenFreezes, RevertOutcome,
                      RevertTarget, revert_entries)
from .locations import Location, ModuleSymbolLookup, StaticEnd
from .memory import (AttachInfo, Hole, MemoryArea, ReadResult, WriteResult,
                     area_at, page_buffer)
from .files import atomic_private_file, read_input_file
from .patch import BLOCKING as PATCH_BLOCKING, ApplyAction, Patch, plan as plan_patch, save_patch
from .processes import (ProcessIdentity, ProcessInfo, list_processes, process_identity,
                        start_ticks, StacksSeen, thread_stack_lookup, thread_stacks)
from .process_memory import ProcessMemory
from .thread import BackendFuture, BackendThread

if TYPE_CHECKING:
    # imported where used: numpy costs every CLI command's start-up
    from . import pointer_scan as _ptr, scan, watchpoints
    from .disasm import Instruction
    from .dwarf_types import DebugGlobal
    # imported where used (numpy, elftools, capstone): not every command's start-up
    from .module_symbols import ModuleSymbols, Symbolizer

P = ParamSpec("P")
T = TypeVar("T")

# Disassembly: how far back from an address a known boundary (a symbol's or
# an area's start) may be to decode forward from it; farther, decoding
# starts at the address itself.
MAX_DECODE_LEAD = 64 << 10
MAX_DISASSEMBLE = 4096          # instructions in one request


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What applying one write of a patch did (or would do, or why not)."""

    location: str
    address: int | None
    action: ApplyAction
    message: str = ""
    journal_id: int | None = None


@dataclass(frozen=True, slots=True)
class ApplyReport:
    pid: int
    applied: bool                    # False: nothing was written (see the outcomes)
    outcomes: tuple[ApplyOutcome, ...]


class ProcessReverter:
    """Reverts process writes (a :class:`journal.RevertTarget`): opens each
    process once with ``backend``, checks it is the process that was
    written (start time), writes the old bytes back through the journal."""

    def __init__(self, owner: "Backend", backend: str):
        self._owner = owner
        self._backend = backend
        self._memories: dict[int, ProcessMemory] = {}

    def gone(self, entry: JournalEntry) -> str | None:
        pid = entry.pid
        now = start_ticks(pid) if pid is not None else None
        if now is None or (entry.target.get("start_ticks") is not None
                           and now != entry.target["start_ticks"]):
            return (f"process {pid} has exited (or the pid now belongs to another "
                    "process); nothing to revert")
        return None

    def _memory(self, pid: int) -> ProcessMemory:
        if pid not in self._memories:
            self._memories[pid] = open_process_memory(pid, self._backend,
                                                      root=self._owner.device_root)[0]
        return self._memories[pid]

    def current(self, entry: JournalEntry) -> bytes:
        assert entry.pid is not None and entry.address is not None
        return self._memory(entry.pid).read(entry.address, len(entry.old)).require(
            op="revert")

    def where(self, entry: JournalEntry) -> str:
        return f"memory at {entry.address:#x}"

    def write_old(self, entry: JournalEntry) -> int | None:
        assert entry.pid is not None and entry.address is not None
        return journaled_process_write(self._owner.journal, self._memory(entry.pid),
                                      process_identity(entry.pid), entry.address, entry.old,
                                      reverts=entry.id, where=_static_place(entry)).journal_id

    def close(self) -> None:
        for memory in self._memories.values():
            memory.close()
        self._memories.clear()


def _static_place(entry: JournalEntry) -> Location | None:
    """The location ``entry`` kept, as the user gave it (``prog+0x10``,
    ``[heap]+0x40``), for the entry of its revert: the revert writes the
    same bytes, so it is kept in the same words. None (the revert's own
    address is located afresh) when the entry kept none, or one that moves
    (a pointer path, a thread's stack: the revert writes where the write
    was, not where the path leads now)."""
    where = entry.place
    return None if where is None or where.needs_target else where


# A consumer of bulk data, called on the backend thread for every chunk:
# (address, bytes view, holes in it). The view is reused after it returns.
ChunkConsumer = Callable[[int, memoryview, list[Hole]], None]


def _stat_stamp(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _write_text(path: str, text: str) -> None:
    with atomic_private_file(path, "w") as f:
        f.write(text)


# What Target.read_locations gives per item: (address, its bytes or why not),
# or why a location did not resolve.
LocatedRead = tuple[int, ReadResult | LainviewError] | Unresolved

# A write of a patch that reached the target: (index in the outcomes,
# address, the bytes it replaced, its journal id).
_Done = tuple[int, int, bytes, int]


class Target:
    """A proxy for one attached process. Every method returns a Future."""

    def __init__(self, backend: "Backend", memory: ProcessMemory, info: AttachInfo,
                 identity: ProcessIdentity):
        self._backend = backend
        self._memory = memory
        self.info = info
        self.identity = identity
        self._symbolizer: "Symbolizer | None" = None
        self._stacks_seen: StacksSeen = {}      # thread stacks found, for [stack#N]

    @property
    def pid(self) -> int:
        return self.info.pid

    def _submit(self, fn: Callable[P, T], /, *args: P.args,
                **kwargs: P.kwargs) -> BackendFuture[T]:
        return self._backend.thread.submit(fn, *args, **kwargs)

    def areas(self, refresh: bool = True) -> BackendFuture[list[MemoryArea]]:
        """Future[list[MemoryArea]], fresh from the kernel (``refresh``
        False: the map read last, e.g. by ``attach``, if there is one)."""
        return self._submit(self._memory.areas, refresh)

    def debug_global_at(self, address: int, *, dwarf: str | None = None,
                        follow: int = 1) -> BackendFuture["DebugGlobal"]:
        """Future[DebugGlobal]: the global variable holding ``address``,
        typed from the DWARF of the module mapped there (or of ``dwarf``);
        see :func:`.dwarf_types.global_at`. InvalidInput when the address is
        in no module, the file has no DWARF or no global covers it."""
        def run() -> "DebugGlobal":
            from .dwarf_types import global_at
            return global_at(address, self._memory.areas(True), pid=self.pid, dwarf=dwarf,
                             follow=follow)
        return self._submit(run)

    def resolve(self, location: Location, size: int = 1, *,
                refresh: bool = True) -> BackendFuture[int]:
        """Future[int]: the address ``location`` names in this process now,
        where ``size`` bytes must fit (backend/locations.py's resolver on the
        backend thread, with the map read afresh unless ``refresh`` is False,
        a pointer path's pointers read from the target, and a
        ``module!symbol`` looked up in that module's ELF symbols, a thread's
        stack ``[stack#N]`` found from its stack pointer, see
        ``processes.thread_stacks``). Raises
        Unresolved naming what did not resolve and why (for a pointer path,
        the level where it broke), TargetExited."""
        def run() -> int:
            return self._resolve_in(location, size, self._memory.areas(refresh=refresh))
        return self._submit(run)

    def _resolve_in(self, location: Location, size: int, areas: list[MemoryArea]) -> int:
        """:meth:`resolve`'s work, on the backend thread, in ``areas``."""
        return resolve_in(self._memory, location, size, areas, self._module_symbol(areas),
                          thread_stack_lookup(self.pid, areas, self._stacks_seen))

    def _module_symbol(self, areas: list[MemoryArea]) -> ModuleSymbolLookup:
        """The ``module!symbol`` lookup of a resolve in ``areas``: this
        target's symbolizer if it has read them, else the backend's cache
        reading only that module's table (an interactive request reads no more)."""
        def lookup(path: str, name: str) -> int | None:
            if self._symbolizer is not None and self._symbolizer.areas == areas:
                return self._symbolizer.module_symbol(path, name)
            return self._backend.module_symbols().module_symbol(self.pid, areas, path, name)
        return lookup

    def _static_end(self) -> StaticEnd:
        """Where a module's static data ends, for locating a write in its
        ``.bss`` (:func:`locations.locate`): this target's symbolizer if it
        has read the map now in use, else the backend's cache of ELF tables."""
        def static_end(path: str) -> int | None:
            areas = self._memory.areas(refresh=False)
            if self._symbolizer is not None and self._symbolizer.areas == areas:
                return self._symbolizer.static_end(path)
            return self._backend.module_symbols().static_end(self.pid, areas, path)
        return static_end

    def set_read_userfaultfd(self, on: bool) -> BackendFuture[None]:
        """Opt in (or out) to reading areas the target registered with
        userfaultfd: a read of a page it has not filled blocks the backend
        thread until the target serves the fault. Off by default. Future[None]."""
        def apply() -> None:
            self._memory.read_userfaultfd = bool(on)
            self._memory.areas(refresh=True)
        return self._submit(apply)

    def read(self, address: int, size: int) -> BackendFuture[ReadResult]:
        """Future[ReadResult]: page-aware, holes for unreadable pages."""
        return self._submit(self._memory.read, address, size)

    def read_many(self, ranges: Iterable[tuple[int, int]]
                  ) -> BackendFuture[list[ReadResult | LainviewError]]:
        """Future[list[ReadResult | LainviewError]]: many small reads in one request."""
        wanted = list(ranges)

        def run() -> list[ReadResult | LainviewError]:
            out: list[ReadResult | LainviewError] = []
            areas = self._memory.areas(refresh=True) if wanted else None   # one map for all
            for address, size in wanted:
                try:
                    out.append(self._memory.read(address, size, areas=areas))
                except TargetExited:
                    raise
                except LainviewError as exc:
                    out.append(exc)
            return out
        return self._submit(run)

    # -- locations resolved per request (a pointer path's pointers change) ---------------------
    def resolve_many(self, wanted: Iterable[tuple[Location, int]]
                     ) -> BackendFuture[list[int | Unresolved]]:
        """Future[list[int | Unresolved]]: :meth:`resolve` for many
        (location, size) pairs in one request and one fresh map; each the
        address, or the Unresolved saying why not."""
        items = list(wanted)

        def run() -> list[int | Unresolved]:
            areas = self._memory.areas(refresh=True) if items else []
            out: list[int | Unresolved] = []
            for location, size in items:
                try:
                    out.append(self._resolve_in(location, size, areas))
                except Unresolved as exc:
                    out.append(exc)
            return out
        return self._submit(run)

    def read_locations(self, wanted: Iterable[tuple[int | Location, int]]
                       ) -> BackendFuture[list[LocatedRead]]:
        """Future[list[LocatedRead]]: many small reads in one request (as
        :meth:`read_many`), each at an address or at a location resolved
        now, in one fresh map (pointer paths followed as :meth:`resolve`
        does): per item (address, ReadResult | LainviewError), or the
        Unresolved of a location that did not resolve. TargetExited fails
        the whole request."""
        items = list(wanted)

        def run() -> list[LocatedRead]:
            out: list[LocatedRead] = []
            areas = self._memory.areas(refresh=True) if items else []
            for where, size in items:
                if isinstance(where, Location):
                    try:
                        address = self._resolve_in(where, size, areas)
                    except Unresolved as exc:
                        out.append(exc)
                        continue
                else:
                    address = where
                try:
                    out.append((address, self._memory.read(address, size, areas=areas)))
                except TargetExited:
                    raise
                except LainviewError as exc:
                    out.append((address, exc))
            return out
        return self._submit(run)

    def write_location(self, location: Location, data: bytes, *,
                       if_changed: bool = False) -> BackendFuture[WriteResult]:
        """Future[WriteResult]: :meth:`write` at the address ``location``
        resolves to at that moment (a pointer path's pointers read in the
        same request), journaled as every write, with ``location`` as the
        place a patch file names. Raises Unresolved as :meth:`resolve`."""
        payload = bytes(data)

        def run() -> WriteResult:
            areas = self._memory.areas(refresh=True)
            return journaled_location_write(
                self._backend.journal, self._memory, self.identity, location, payload,
                if_changed=if_changed, areas=areas, module_symbol=self._module_symbol(areas),
                thread_stack=thread_stack_lookup(self.pid, areas, self._stacks_seen),
                static_end=self._static_end())
        return self._submit(run)

    def write(self, address: int, data: bytes, *,
              if_changed: bool = False) -> BackendFuture[WriteResult]:
        """Future[WriteResult]: journaled, verified by reading back. With
        ``if_changed``, memory that already holds ``data`` is left alone:
        nothing is journaled or written, and the result's ``journal_id`` is
        None (an edit that changes nothing is not a write)."""
        return self._submit(journaled_process_write, self._backend.journal, self._memory,
                            self.identity, address, bytes(data), if_changed=if_changed,
                            static_end=self._static_end())

    # -- freezes: one journal entry for all the writes that hold a value ----------------------
    def freeze_begin(self, address: int, held: bytes, before: bytes | None = None,
                     where: Location | None = None) -> BackendFuture[int]:
        """Future[int]: journal a freeze of ``held`` at ``address`` (one
        intent, before its first write; ``before`` is what the memory held
        when the user froze it, default: what it holds now; ``where``: the
        location frozen, a pointer path too, journaled as
        :func:`.attach.journal_place` says) and return its journal id for
        :meth:`freeze_write` and :meth:`Backend.freeze_end`. Raises
        JournalError (then nothing may be written), FaultError."""
        return self._submit(self._backend._freeze_begin, self._memory, self.identity,
                            address, bytes(held), before, where)

    def freeze_write(self, journal_id: int, address: int,
                     data: bytes) -> BackendFuture[WriteResult]:
        """Future[WriteResult]: one re-write of a freeze begun with
        :meth:`freeze_begin` (covered by its journal entry, verified by
        reading back). InvalidInput for an id that is not an open freeze of
        these bytes; VerifyMismatch, FaultError, TargetExited as for writes."""
        return self._submit(self._backend._freeze_write, self._memory, journal_id, address,
                            bytes(data))

    def read_bulk(self, address: int, size: int, consumer: ChunkConsumer | None = None,
                  *, chunk_size: int = BULK_CHUNK) -> BackendFuture[BulkStats]:
        """Bulk read in chunks on the backend thread; ``consumer`` sees each
        chunk. Interactive requests still run between chunks. Future[BulkStats]."""
        return self._backend.thread.submit_bulk(
            self._bulk_read, address, size, consumer, chunk_size, total=size)

    def _bulk_read(self, address: int, size: int, consumer: ChunkConsumer | None,
                   chunk_size: int) -> Generator[int, None, BulkStats]:
        buf = page_buffer(min(chunk_size, max(size, 1)))
        view = memoryview(buf)
        areas = self._memory.areas(refresh=True)
        done = 0
        holes: list[Hole] = []
        while done < size:
            n = min(len(buf), size - done)
            chunk_holes = self._memory.read_into(address + done, view[:n], areas=areas)
            if consumer is not None:
                consumer(address + done, view[:n], chunk_holes)
            holes.extend(chunk_holes)
            done += n
            yield done
        return BulkStats(address, size, sum(h.size for h in holes), tuple(holes))

    def read_stream(self, address: int, size: int, consumer: StreamConsumer, *,
                    chunk_size: int = BULK_CHUNK) -> BackendFuture[BulkStats]:
        """Future[BulkStats]: :func:`attach.stream` of [address, address+size)
        to ``consumer`` (called on the backend thread), as bulk work: progress
        in bytes covered; whatever the consumer raises fails the future."""
        return self._backend.thread.submit_bulk(
            stream, self._memory, address, size, consumer, chunk_size, total=size)

    # -- scanning ------------------------------------------------------------------------------
    def scan_first(self, scan_type: "scan.ScanType", cond: "scan.Condition", *,
                   align: int | None = None, areas: "scan.AreaFilter | None" = None,
                   limits: "scan.ScanLimits | None" = None,
                   live: "scan.LiveCount | None" = None) -> BackendFuture[scan.ScanState]:
        """Future[ScanState]: a first scan as bulk work (progress in bytes;
        ``live.found`` counts the matches so far)."""
        from . import scan
        chosen = areas or scan.AreaFilter()
        limits = limits or scan.ScanLimits()
        return self._backend.thread.submit_bulk(
            scan.first_scan, self._memory, scan_type, cond, align=align, areas=chosen,
            limits=limits, start_ticks=self.identity.start_ticks, live=live,
            total=self._scan_total(chosen))

    def scan_next(self, state: "scan.ScanState", cond: "scan.Condition", *,
                  limits: "scan.ScanLimits | None" = None,
                  live: "scan.LiveCount | None" = None) -> BackendFuture[scan.ScanState]:
        """Future[ScanState]: narrow ``state``; the old state stays for undo."""
        from . import scan
        scan.check_same_process(state, self.identity.start_ticks)
        return self._backend.thread.submit_bulk(
            scan.next_scan, self._memory, state, cond, limits=limits or scan.ScanLimits(),
            live=live, total=sum(r.size for r in state.regions if r.count))

    def scan_undo(self, state: "scan.ScanState") -> BackendFuture[scan.ScanState]:
        """Future[ScanState]: the step before the last (see :func:`scan.undo`)."""
        from . import scan
        return self._submit(scan.undo, state)

    # -- pointer scanning ----------------------------------------------------------------------
    def pointer_map(self, limits: "_ptr.PtrScanLimits | None" = None
                    ) -> BackendFuture["_ptr.PointerMap"]:
        """Future[PointerMap]: the target's pointer map (every aligned 8-byte
        value pointing into a mapped area, see :mod:`pointer_scan`), read as
        bulk work (progress in bytes of readable, writable areas; cancel
        stops at the next chunk and deletes its files). Close it with
        :meth:`Backend.close_pointer_map`. Raises TargetExited, Cancelled."""
        from . import pointer_scan as _ptr
        limits = limits or _ptr.PtrScanLimits()
        total = sum(a.size for a in _ptr.scanned_areas(self._memory.last_areas or []))
        return self._backend.thread.submit_bulk(
            _ptr.build_map, self._memory, limits=limits,
            start_ticks=self.identity.start_ticks, total=total)

    def pointer_scan(self, address: int, *, depth: int = 5, max_offset: int = 0x1000,
                     stacks: bool = False, limit: int = 1000,
                     pointer_map: "_ptr.PointerMap | None" = None,
                     limits: "_ptr.PtrScanLimits | None" = None
                     ) -> BackendFuture["_ptr.SearchResult"]:
        """Future[SearchResult]: the pointer paths from static bases (module
        areas with their .bss, which ends where the ELF program headers say;
        with ``stacks``, thread stacks too) to
        ``address``: at most ``depth`` dereferences, each pointing at most
        ``max_offset`` bytes below the address it leads to; ``limit`` paths
        listed, all counted. Builds a pointer map first (bulk work, progress
        in bytes read; deleted afterwards) unless ``pointer_map`` (from
        :meth:`pointer_map`, kept) is given. Raises InvalidInput (settings
        out of range), TargetExited, Cancelled."""
        from . import pointer_scan as _ptr
        limits = limits or _ptr.PtrScanLimits()
        total = 0 if pointer_map is not None else sum(
            a.size for a in _ptr.scanned_areas(self._memory.last_areas or []))
        return self._backend.thread.submit_bulk(
            self._pointer_scan, address, depth, max_offset, stacks, limit, pointer_map,
            limits, total=total)

    def _pointer_scan(self, address: int, depth: int, max_offset: int, stacks: bool,
                      limit: int, given: "_ptr.PointerMap | None",
                      limits: "_ptr.PtrScanLimits"
                      ) -> Generator[int, None, "_ptr.SearchResult"]:
        from . import pointer_scan as _ptr
        _ptr.search_settings(depth, max_offset, limit)     # before a long read
        pmap = given
        if pmap is None:
            pmap = yield from _ptr.build_map(self._memory, limits=limits,
                                                     start_ticks=self.identity.start_ticks)
        try:
            threads = (thread_stacks(self.pid, pmap.areas, self._stacks_seen) if stacks
                       else None)
            symbols, areas = self._backend.module_symbols(), pmap.areas

            def static_end(path: str) -> int | None:
                return symbols.static_end(self.pid, areas, path)
            return (yield from _ptr.search_steps(
                pmap, address, depth=depth, max_offset=max_offset, limit=limit,
                stacks=threads, max_nodes=limits.max_nodes, static_end=static_end))
        finally:
            if given is None:
                pmap.close()

    def pointer_rescan(self, paths: "list[_ptr.PointerPath]",
                       target: "_ptr.RescanTarget"
                       ) -> BackendFuture["list[_ptr.Resolved]"]:
        """Future[list[Resolved]]: the ``paths`` that, resolved in this
        process now, lead to ``target`` (an address, or an address holding a
        value), as bulk work (progress in paths). Raises TargetExited,
        InvalidInput, Cancelled."""
        from . import pointer_scan as _ptr
        return self._backend.thread.submit_bulk(_ptr.rescan, self._memory, list(paths),
                                                target, total=len(paths))

    def resolve_pointer_paths(self, paths: "list[_ptr.PointerPath]"
                              ) -> BackendFuture["list[int | None]"]:
        """Future[list[int | None]]: where each path leads now (None: the
        chain breaks)."""
        from . import pointer_scan as _ptr
        return self._submit(_ptr.resolve_paths, self._memory, list(paths))

    def _scan_total(self, chosen: "scan.AreaFilter") -> int:
        # The cached map is a fair estimate for the progress bar; the job
        # fetches the map afresh before it starts.
        cached = self._memory.last_areas or []
        return sum(a.size for a in chosen.select(cached))

    # -- watchpoints --------------------------------------------------------------------------
    def watchpoint(self, address: int, length: int, *, access: bool = False,
                   live: "watchpoints.WatchLive | None" = None,
                   seconds: float | None = None,
                   registers: bool = False) -> BackendFuture[watchpoints.WatchSnapshot]:
        """Future[WatchSnapshot]: arm a hardware watchpoint of ``length``
        bytes (1, 2, 4, 8, aligned) at ``address`` on every thread of the
        target, on writes (``access``: reads too), as bulk work that runs
        until ``live.stop()``, ``seconds`` pass or the target exits; the
        target is never stopped. ``live`` shows the hits as they come
        (every step, ~50 ms). ``registers``: each instruction keeps the user
        registers of its latest hit. Errors: see :func:`watchpoints.watch`."""
        from . import watchpoints
        watchpoints.check_request(address, length)
        return self._backend.thread.submit_bulk(
            watchpoints.watch, self.pid, address, length, access,
            live if live is not None else watchpoints.WatchLive(), seconds=seconds,
            pause=self._backend.thread.wait_idle, registers=registers)

    def name_hits(self, hits: "Iterable[watchpoints.WatchHit]"
                  ) -> BackendFuture[list[watchpoints.NamedHit]]:
        """Future[list[NamedHit]]: watchpoint hits named: each hit's
        accessing instruction (decoded forward from the start of the symbol,
        else of the area, holding ``ip - 1`` to the instruction that ends at
        the reported ``ip``; where no symbol is near, from several leads
        before ``ip``, kept only if they agree), its ``module!symbol+off``
        and its text. A hit
        whose code cannot be decoded that way (a ``call`` or ``ret`` that
        accessed the stack reports its target; unreadable code) keeps the
        reported ``ip`` named by its location. After the target exited, the
        map read last names them and no instruction is decoded."""
        wanted = list(hits)

        def run() -> list[watchpoints.NamedHit]:
            from . import watchpoints
            try:
                areas = self._memory.areas(refresh=True)
            except TargetExited:
                return watchpoints.name_hits(wanted, self._memory.last_areas or [])
            namer = _CodeNamer(self._memory, areas, self._symbolizer_now(areas))
            return watchpoints.name_hits(wanted, areas, namer)
        return self._submit(run)

    # -- module symbols and code ----------------------------------------------------------------
    def symbolizer(self) -> BackendFuture["Symbolizer"]:
        """Future[Symbolizer]: every mapped file's ELF symbols (see
        backend/module_symbols.py) for the map as it is now, as bulk work
        (progress: modules read; tables are cached by file identity, so a
        second call costs a stat per file). Names addresses
        (``libc.so.6!getpid+0x4``), finds symbols, and gives the
        ``module_symbol`` lookup of :func:`locations.resolve`."""
        cached = self._memory.last_areas or []
        files = len({a.file_path for a in cached if a.path.startswith("/")})
        return self._backend.thread.submit_bulk(self._symbolizer_job, total=files)

    def _symbolizer_job(self) -> Generator[int, None, "Symbolizer"]:
        from .module_symbols import Module, Symbolizer
        areas = self._memory.areas(refresh=True)
        if self._symbolizer is not None and self._symbolizer.areas == areas:
            return self._symbolizer
        modules: list[Module] = []
        for module in self._backend.module_symbols().iter_modules(self.pid, areas):
            modules.append(module)
            yield len(modules)
        self._symbolizer = Symbolizer(modules, areas)
        return self._symbolizer

    def _symbolizer_now(self, areas: list[MemoryArea]) -> "Symbolizer":
        if self._symbolizer is None or self._symbolizer.areas != areas:
            self._symbolizer = self._backend.module_symbols().symbolizer(self.pid, areas)
        return self._symbolizer

    def disassemble(self, address: int, count: int, *,
                    align: bool = False) -> BackendFuture[list["Instruction"]]:
        """Future[list[Instruction]]: up to ``count`` (1 .. 4096) x86-64
        instructions decoded forward from ``address``, each named
        (``location``, ``target_location``: ``module!symbol+off``). With
        ``align``, decoding starts at the nearest known boundary before
        ``address`` (the start of the symbol holding it, else of its area,
        if within 64 KiB) and the first instruction returned is the one
        covering ``address``. Stops early at bytes that cannot be read.
        Raises FaultError (``address`` not mapped or unreadable),
        InvalidInput (a bad count)."""
        if not isinstance(count, int) or not 1 <= count <= MAX_DISASSEMBLE:
            raise InvalidInput(f"an instruction count is 1 .. {MAX_DISASSEMBLE}, not {count!r}")
        return self._submit(self._disassemble, address, count, align)

    def _disassemble(self, address: int, count: int, align: bool) -> list["Instruction"]:
        from . import disasm
        from .errors import FaultError
        areas = self._memory.areas(refresh=True)
        area = area_at(areas, address)
        if area is None:
            raise FaultError(f"{address:#x} is not mapped in process {self.pid}",
                             op="disassemble", address=address, pid=self.pid)
        names = self._symbolizer_now(areas)
        start = address
        if align:
            boundary = area.start
            hit = names.symbol_at(address)
            if hit is not None and hit[0].address >= area.start:
                boundary = hit[0].address
            if 0 < address - boundary <= MAX_DECODE_LEAD:
                lead = self._memory.read(boundary, address - boundary + disasm.MAX_INSTRUCTION,
                                         areas=areas)
                start = disasm.sync(_readable_prefix(lead), boundary, address)
        got = self._memory.read(start, count * disasm.MAX_INSTRUCTION, areas=areas)
        code = _readable_prefix(got)
        if not code:
            raise FaultError(f"{start:#x} cannot be read in process {self.pid}",
                             op="disassemble", address=start, pid=self.pid)
        return disasm.named(disasm.decode(code, start, count), names.name)

    def detach(self) -> BackendFuture[None]:
        return self._submit(self._backend._detach, self)


class _CodeNamer:
    """The watchpoints' HitNamer over a process's memory, its map and its
    module symbols (backend/module_symbols.py, backend/disasm.py)."""

    def __init__(self, memory: ProcessMemory, areas: list[MemoryArea], names: "Symbolizer"):
        self._memory = memory
        self._areas = areas
        self._names = names

    def symbol(self, address: int) -> str | None:
        return self._names.name(address) if self._names.symbol_at(address) else None

    def instruction_before(self, ip: int) -> tuple[int, str] | None:
        area = area_at(self._areas, ip - 1)
        if area is None:
            return None
        boundary = area.start
        hit = self._names.symbol_at(ip - 1)
        if hit is not None and hit[0].address >= area.start:
            boundary = hit[0].address
        if 0 < ip - boundary <= MAX_DECODE_LEAD:
            return self._ending_at(boundary, ip)
        # No symbol near (a stripped library's local function): x86 decoding
        # falls into step within a few instructions, so decode from several
        # leads before ip and accept only an instruction they all agree on.
        found = {self._ending_at(start, ip) for start in
                 (ip - lead for lead in (48, 64, 96, 128)) if start >= area.start}
        return found.pop() if len(found) == 1 else None

    def _ending_at(self, start: int, ip: int) -> tuple[int, str] | None:
        """Decoding forward from ``start``, the instruction that ends at ``ip``."""
        from . import disasm
        try:
            code = _readable_prefix(self._memory.read(start, ip - start, areas=self._areas))
        except LainviewError:
            return None
        for insn in disasm.iter_decode(code, start):
            if insn.end == ip:
                return insn.address, insn.text
        return None


def _readable_prefix(result: ReadResult) -> bytes:
    """The bytes of ``result`` up to its first hole."""
    data = bytes(result.data)
    if result.holes:
        first = min(h.address for h in result.holes)
        data = data[:max(0, first - result.address)]
    return data


class Backend:
    """Owns the backend thread, the process memories and the write journal."""

    def __init__(self, *, journal: Journal | None = None, request_delay: float = 0.0,
                 device_root: str = "/"):
        self.thread = BackendThread(request_delay=request_delay)
        self.journal = journal or Journal()
        self.device_root = device_root
        self._targets: list[Target] = []
        self.freezes = OpenFreezes(self.journal)   # freezes under way (both kinds)
        # How a revert reaches targets other than processes: kind -> factory.
        self.revert_targets: dict[str, Callable[[], RevertTarget]] = {}
        self._module_symbols: "ModuleSymbols | None" = None    # made on first use
        self.thread.call_on_shutdown(self._close_all)

    def module_symbols(self) -> "ModuleSymbols":
        """The cache of ELF symbol tables by file identity (backend thread)."""
        if self._module_symbols is None:
            from .module_symbols import ModuleSymbols
            self._module_symbols = ModuleSymbols()
        return self._module_symbols

    # -- processes ----------------------------------------------------------------------------
    def list_processes(self) -> BackendFuture[list[ProcessInfo]]:
        """Future[list[ProcessInfo]]."""
        return self.thread.submit(list_processes)

    def attach(self, pid: int, backend: str = "auto", *,
               writable: bool = True) -> BackendFuture[Target]:
        """Future[Target]. Raises (through the future) TargetExited,
        PermissionDenied, DeviceUnavailable (only with backend="lainmemu")."""
        return self.thread.submit(self._attach, pid, backend, writable)

    def _attach(self, pid: int, backend: str, writable: bool) -> Target:
        process = attach_process(pid, backend, writable=writable, root=self.device_root)
        target = Target(self, process.memory, process.info, process.identity)
        self._targets.append(target)
        return target

    def _detach(self, target: Target) -> None:
        if target in self._targets:
            self._targets.remove(target)
            target._memory.close()

    def _close_all(self) -> None:
        self.freezes.end_all("lainview closed")
        for target in self._targets:
            target._memory.close()
        self._targets.clear()
        self.journal.close()

    # -- writes and the journal -------------------------------------------------------------
    def _freeze_begin(self, memory: ProcessMemory, identity: ProcessIdentity, address: int,
                      held: bytes, before: bytes | None, where: Location | None = None) -> int:
        current = memory.read(address, len(held)).require(op="freeze")
        old = before if before is not None and len(before) == len(held) else current
        areas = memory.areas(refresh=False)
        place = journal_place(where, address, areas, memory.pid,
                              lambda path: self.module_symbols().static_end(memory.pid, areas,
                                                                            path))
        return self.freezes.begin((memory.pid, address), target=identity.to_json(),
                                  address=address, old=old, held=held, location=place)

    def _freeze_write(self, memory: ProcessMemory, journal_id: int, address: int,
                      data: bytes) -> WriteResult:
        self.freezes.check(journal_id, (memory.pid, address), data)
        try:
            result = memory.write(address, data)
        except VerifyMismatch:
            self.freezes.wrote(journal_id)     # written; the target changed it again at once
            raise
        self.freezes.wrote(journal_id)
        return WriteResult(address=address, old=result.old, new=result.new,
                           journal_id=journal_id)

    def freeze_end(self, journal_id: int, error: str | None = None
                   ) -> BackendFuture[int | None]:
        """Future[int | None]: record that freeze ``journal_id`` (of a
        process or of the kernel) stopped (``error``: why, when it was not
        the user's choice), with how many times it wrote; the number of
        writes, None if it was not open."""
        return self.thread.submit(self.freezes.end, journal_id, error)

    def journal_entries(self, pid: int | None = None) -> BackendFuture[list[JournalEntry]]:
        """Future[list[JournalEntry]], oldest first; damaged lines skipped
        (see ``journal.problems`` afterwards)."""
        return self.thread.submit(self.journal.entries, pid=pid)

    def journal_scan(self, consumer: Callable[[JournalEntry], None],
                     pid: int | None = None) -> BackendFuture[JournalProblems]:
        """Stream the journal, oldest first, to ``consumer`` (called on the
        backend thread, one entry at a time) as bulk work: memory stays
        bounded whatever the journal's size. Future[JournalProblems]: the
        damaged lines that were skipped. An exception from ``consumer``
        ends the scan and is raised through the future."""
        return self.thread.submit_bulk(self._journal_scan, consumer, pid)

    def _journal_scan(self, consumer: Callable[[JournalEntry], None],
                      pid: int | None) -> Generator[int, None, JournalProblems]:
        problems = JournalProblems()
        for n, entry in enumerate(self.journal.iter_entries(pid=pid, problems=problems), 1):
            consumer(entry)
            if n % 4096 == 0:
                yield n
        return problems

    def revert(self, entry_ids: Iterable[int] | None = None, *, pid: int | None = None,
               kind: str | None = None, force: bool = False,
               backend: str = "auto") -> BackendFuture[list[RevertOutcome]]:
        """Undo journaled writes, newest first: ``entry_ids`` (of any kind),
        or every write to process ``pid``, or every write of target ``kind``
        ("process", "kernel"). Each entry goes to the RevertTarget of its
        kind (:attr:`revert_targets`; the kernel's is registered by
        ``KernelBackend``). ``backend`` opens the processes. Future[list[RevertOutcome]]."""
        ids = list(entry_ids) if entry_ids is not None else None
        targets = {**self.revert_targets,
                   "process": lambda: ProcessReverter(self, backend)}
        return self.thread.submit(revert_entries, self.journal, targets, ids, kind=kind,
                                  pid=pid, force=force)

    # -- patches -------------------------------------------------------------------------------
    def apply_patch(self, patch: Patch, pid: int, *, force: bool = False, dry_run: bool = False,
                    backend: str = "auto") -> BackendFuture[ApplyReport]:
        """Future[ApplyReport]: apply a patch to process ``pid``. Every write
        is checked first; if any location does not resolve, or (without
        ``force``) any target bytes are neither the old nor the new ones,
        nothing is written."""
        return self.thread.submit(self._apply_patch, patch, pid, force, dry_run, backend)

    def _apply_patch(self, patch: Patch, pid: int, force: bool, dry_run: bool,
                     backend: str) -> ApplyReport:
        memory, _ = open_process_memory(pid, backend, root=self.device_root)
        try:
            areas = memory.areas(refresh=True)
            planned = plan_patch(patch, areas, memory.read, pid=pid,
                                 thread_stack=thread_stack_lookup(pid, areas))
            blocked = [p for p in planned if p.action in PATCH_BLOCKING
                       or (p.action == ApplyAction.CONFLICT and not force)]
            if blocked or dry_run:
                return ApplyReport(pid, False, tuple(
                    ApplyOutcome(p.write.location.text, p.address,
                                 ApplyAction.WOULD_WRITE
                                 if p.action == ApplyAction.WRITE and dry_run else p.action,
                                 p.detail or ("not written: other writes of the patch cannot "
                                              "be applied" if blocked else ""))
                    for p in planned))
            identity = process_identity(pid)
            outcomes: list[ApplyOutcome] = []
            done: list[_Done] = []
            for p in planned:
                text = p.write.location.text
                if p.action == ApplyAction.ALREADY:
                    outcomes.append(ApplyOutcome(text, p.address, ApplyAction.ALREADY, p.detail))
                    continue
                # what plan() leaves to write: resolved, read
                assert p.address is not None and p.current is not None
                ids: list[int] = []
                try:
                    result = journaled_process_write(self.journal, memory, identity,
                                                     p.address, p.write.new, journal_ids=ids,
                                                     where=p.write.location)
                except LainviewError as exc:
                    reached = isinstance(exc, VerifyMismatch) or getattr(exc, "written", 0) > 0
                    if reached and ids:
                        # Part of this write reached the target: undo it too.
                        done.append((len(outcomes), p.address, p.current, ids[0]))
                    outcomes.append(ApplyOutcome(text, p.address, ApplyAction.FAILED, str(exc),
                                                 ids[0] if ids else None))
                    rest = planned[len(outcomes):]
                    outcomes += [ApplyOutcome(q.write.location.text, q.address,
                                              ApplyAction.NOT_WRITTEN,
                                              "stopped after the failure above") for q in rest]
                    self._roll_back(memory, identity, done, outcomes)
                    return ApplyReport(pid, False, tuple(outcomes))
                assert result.journal_id is not None    # journaled: not if_changed
                done.append((len(outcomes), p.address, p.current, result.journal_id))
                outcomes.append(ApplyOutcome(text, p.address, ApplyAction.WRITTEN,
                                             f"{p.current.hex()} -> {result.new.hex()}",
                                             result.journal_id))
            return ApplyReport(pid, True, tuple(outcomes))
        finally:
            memory.close()

    def _roll_back(self, memory: ProcessMemory, identity: ProcessIdentity, done: list[_Done],
                   outcomes: list[ApplyOutcome]) -> None:
        """Undo the writes of a patch that failed midway, newest first, each
        a journaled write of its old bytes (``reverts`` its entry). The
        outcomes say "rolled back" or "rollback failed"."""
        for index, address, old, entry_id in reversed(done):
            o = outcomes[index]
            try:
                undo = journaled_process_write(self.journal, memory, identity, address, old,
                                               reverts=entry_id)
            except LainviewError as exc:
                outcomes[index] = ApplyOutcome(
                    o.location, o.address, ApplyAction.ROLLBACK_FAILED,
                    f"written and could not be undone: {exc}; try: lainview revert {entry_id}",
                    entry_id)
                continue
            outcomes[index] = ApplyOutcome(o.location, o.address, ApplyAction.ROLLED_BACK,
                                           f"written, then undone (journal entry "
                                           f"{undo.journal_id})", entry_id)

    def close_scan(self, state: scan.ScanState) -> BackendFuture[None]:
        """Future[None]: free a scan's snapshots (every step of it) and
        delete its files, on the backend thread (a 1 GiB snapshot takes a
        while to unlink). Raises BackendClosed once shut down."""
        return self.thread.submit(state.close)

    def close_pointer_map(self, pointer_map: "_ptr.PointerMap") -> BackendFuture[None]:
        """Future[None]: free a pointer map and delete its files."""
        return self.thread.submit(pointer_map.close)

    def save_pointer_scan(self, scan: "_ptr.PointerScanFile",
                          path: str) -> BackendFuture[None]:
        """Future[None]: write a pointer-scan file (private, 0600). Raises InvalidInput."""
        from . import pointer_scan as _ptr
        return self.thread.submit(_ptr.save_results, scan, path)

    def load_pointer_scan(self, path: str) -> BackendFuture["_ptr.PointerScanFile"]:
        """Future[PointerScanFile]. Raises InvalidInput naming what is wrong."""
        from . import pointer_scan as _ptr
        return self.thread.submit(_ptr.load_results, path)

    # -- files, on the backend thread (a slow disk never stalls the caller) ------------------------
    def journal_stamp(self) -> BackendFuture[tuple[int, int] | None]:
        """Future[(size in bytes, mtime in ns) | None]: the journal file's
        stat, to notice another lainview's writes; None when it does not
        exist (yet) or cannot be read."""
        return self.thread.submit(_stat_stamp, self.journal.path)

    def write_text_file(self, path: str, text: str) -> BackendFuture[None]:
        """Future[None]: write ``text`` (UTF-8) to ``path`` atomically, as a
        private file (``files.atomic_private_file``). Raises InvalidInput
        naming the path and the reason."""
        return self.thread.submit(_write_text, path, text)

    def read_input_file(self, path: str, limit: int, *,
                        what: str = "file") -> BackendFuture[bytes]:
        """Future[bytes]: a file the user named, of at most ``limit`` bytes
        (``files.read_input_file``: InvalidInput names what is wrong)."""
        return self.thread.submit(read_input_file, path, limit, what=what, user_file=True)

    def save_patch(self, patch: Patch, path: str) -> BackendFuture[None]:
        """Future[None]: write ``patch`` to ``path`` (``patch.save_patch``)."""
        return self.thread.submit(save_patch, patch, path)

    # -- lifetime ---------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Close every process memory and the journal, and join the backend thread."""
        self.thread.shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


__all__ = ["Backend", "Target", "journaled_process_write", "BulkStats", "LocatedRead",
           "RevertOutcome", "open_process_memory", "BACKENDS", "ProcessInfo", "MemoryArea",
           "ReadResult", "WriteResult"]
