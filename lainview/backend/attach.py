"""Attaching to a process, and the blocking work on an attached process:
opening its process memory (lainmemu or /proc), streaming a range,
resolving a location, a journaled write.

Everything here blocks. The facade (:mod:`.service`: ``Backend.attach``,
``Target.read_stream``, ``Target.resolve``, ``Target.write``) runs it on the
backend thread; the CLI's one-shot process commands (``maps``, ``read``,
``write``) call it directly in their only thread, so they start no backend
thread and import neither the facade nor the journal until a write needs it
(start-up, issue 13).

    with attach_process(pid, writable=False) as process:
        areas = process.memory.areas(refresh=False)     # read by attaching
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generator, Self, TypeVar

from .errors import DeviceUnavailable, InvalidInput, LainviewError
from .lainmemu import LainmemuMemory
from .memory import AttachInfo, Hole, MemoryArea, WriteResult
from .process_memory import BACKENDS, ProcessMemory
from .processes import (ProcessIdentity, check_process_id, process_identity,
                        thread_stack_lookup)
from .procfs import ProcfsMemory

if TYPE_CHECKING:
    from .journal import Journal
    from .locations import Location, ModuleSymbolLookup, StaticEnd, ThreadStackLookup

R = TypeVar("R")

BULK_CHUNK = 1 << 20           # bytes a bulk read or a stream moves per step

PROCFS_LIMITS = (
    "reads and writes go through /proc/<pid>/mem, under the kernel's ptrace "
    "access check (the same check lainmemu makes)",
)

# A consumer of a stream (:func:`stream`): (address, view, holes, no_access)
# for bytes read (no_access: a PROT_NONE page read through forced access),
# or (address, None, [hole], False) for an unreadable stretch skipped unread.
StreamConsumer = Callable[[int, "memoryview | None", list[Hole], bool], None]


def open_process_memory(pid: int, backend: str = "auto", *, writable: bool = True,
                        root: str = "/") -> tuple[ProcessMemory, str]:
    """Open the process memory of ``pid`` with the chosen backend; return it with the
    reason for the choice. Blocking."""
    if backend not in BACKENDS:
        raise InvalidInput(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    check_process_id(pid)
    if backend == "procfs":
        return ProcfsMemory(pid, writable=writable), "/proc: chosen with --backend procfs"
    try:
        memory = LainmemuMemory(pid, root=root, writable=writable)
    except DeviceUnavailable as exc:
        if backend == "lainmemu":
            raise
        return ProcfsMemory(pid, writable=writable), f"/proc: {exc.message}"
    loc = memory.location
    why = "chosen with --backend lainmemu" if backend == "lainmemu" else "the lainko module is loaded"
    return memory, f"lainmemu: {why} (major {loc.major}, {loc.node})"


@dataclass(frozen=True, slots=True)
class AttachedProcess:
    """A process opened by :func:`attach_process`: its process memory (the
    map already read), what the attach chose (``info``) and what identifies
    the process beyond its pid (``identity``). Close it (or use ``with``)."""

    memory: ProcessMemory
    info: AttachInfo
    identity: ProcessIdentity

    def close(self) -> None:
        self.memory.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def attach_process(pid: int, backend: str = "auto", *, writable: bool = True,
                   root: str = "/") -> AttachedProcess:
    """Open process ``pid`` (:func:`open_process_memory`) and read its map.
    Blocking. Raises TargetExited, PermissionDenied, InvalidInput (an
    unknown backend, a thread's id), DeviceUnavailable (only with
    backend="lainmemu")."""
    memory, reason = open_process_memory(pid, backend, writable=writable, root=root)
    try:
        memory.areas(refresh=True)
    except LainviewError:
        memory.close()
        raise
    limits = PROCFS_LIMITS if memory.backend_name == "procfs" else ()
    info = AttachInfo(pid=pid, backend=memory.backend_name, reason=reason,
                      writable=getattr(memory, "writable", writable), limits=limits)
    return AttachedProcess(memory, info, process_identity(pid))


@dataclass(frozen=True, slots=True)
class BulkStats:
    """What a bulk read did: bytes covered and unreadable bytes skipped."""

    address: int
    size: int
    unreadable: int
    holes: tuple[Hole, ...]


def stream(memory: ProcessMemory, address: int, size: int, consumer: StreamConsumer,
           chunk_size: int = BULK_CHUNK) -> Generator[int, None, BulkStats]:
    """Stream [address, address+size) of ``memory`` to ``consumer``, in
    address order, one step per chunk (one ``chunk_size`` buffer, reused):
    ``consumer(address, view, holes, no_access)`` for bytes read
    (``holes``: pages the kernel refused within them; ``no_access``: a
    PROT_NONE page, read through forced access), ``consumer(address, None,
    [hole], False)`` for an unreadable stretch skipped unread (any length:
    a 16 GiB gap costs one call). Each step yields the bytes covered so
    far; the generator returns the :class:`BulkStats`. Whatever the
    consumer raises ends it. Blocking (the facade runs it as bulk work,
    ``Target.read_stream``; :func:`run_to_end` runs it here)."""
    buffer = memoryview(bytearray(max(1, min(chunk_size, size))))
    holes: list[Hole] = []
    for at, view, chunk_holes, no_access in memory.iter_read(address, size, buffer):
        consumer(at, view, chunk_holes, no_access)
        holes.extend(chunk_holes)
        yield (at + (len(view) if view is not None else chunk_holes[0].size)) - address
    return BulkStats(address, size, sum(h.size for h in holes), tuple(holes))


def run_to_end(work: Generator[int, None, R]) -> R:
    """Run bulk work (a generator of progress steps) to its end, here, and
    return its result."""
    while True:
        try:
            next(work)
        except StopIteration as done:
            result: R = done.value
            return result


def resolve_in(memory: ProcessMemory, location: Location, size: int, areas: list[MemoryArea],
               module_symbol: ModuleSymbolLookup | None = None,
               thread_stack: ThreadStackLookup | None = None) -> int:
    """The address ``location`` names in the process of ``memory``, in
    ``areas`` (its map), where ``size`` bytes must fit: backend/locations.py's
    resolver with a pointer path's pointers read from ``memory``, a
    ``module!symbol`` looked up by ``module_symbol`` (default: that module's
    ELF symbols, read now) and a ``[stack#N]`` by ``thread_stack`` (default:
    the threads' stacks found now, ``processes.thread_stack_lookup``).
    Blocking. Raises Unresolved naming what did not resolve and why (for a
    pointer path, the level where it broke), TargetExited."""
    # here, not at the top: ps and maps take no location
    from .locations import POINTER_SIZE, resolve

    def read_pointer(address: int) -> int:
        data = memory.read(address, POINTER_SIZE, areas=areas).require("read pointer")
        return int.from_bytes(data, "little")

    if module_symbol is None:
        def module_symbol(path: str, name: str) -> int | None:
            from .module_symbols import ModuleSymbols
            return ModuleSymbols().module_symbol(memory.pid, areas, path, name)
    return resolve(location, areas, size, pid=memory.pid, read_pointer=read_pointer,
                   module_symbol=module_symbol,
                   thread_stack=thread_stack or thread_stack_lookup(memory.pid, areas))


def journaled_process_write(journal: Journal, memory: ProcessMemory,
                            identity: ProcessIdentity, address: int, data: bytes, *,
                            reverts: int | None = None, journal_ids: list[int] | None = None,
                            if_changed: bool = False, where: Location | None = None,
                            static_end: StaticEnd | None = None) -> WriteResult:
    """Write ``data`` at ``address`` of a process through ``journal``: the
    one unit of work of every process write (edits, patches, rollbacks,
    reverts; :func:`journal.journaled_write`: intent on disk, write, verify,
    outcome). ``identity`` names the process in the entry; ``reverts`` is the
    id of the entry this write undoes. ``journal_ids`` (if given) receives
    the intent's id as soon as it is on disk, so a caller still knows it
    when the write then fails. ``if_changed``: a write that would change
    nothing is not made (nor journaled; ``journal_id`` None). ``where``: the
    location the write was aimed at (what the user typed, what a watch
    holds: a pointer path, ``memfd:NAME+0x10``), kept in the journal as
    given, for patch files; default (and for an absolute address without
    pointer steps): the most durable location of ``address`` in the map
    (a module's ``.bss`` bounded by ``static_end``, see :func:`journal_place`).
    One rule for every write and freeze: :func:`journal_place`. Blocking.
    Raises JournalError (nothing written), FaultError, VerifyMismatch,
    TargetExited."""
    # here, not at the top: ps, maps and read write nothing
    from .journal import WriteIntent, journaled_write
    old = memory.old_bytes(address, len(data))
    if if_changed and old == data:
        return WriteResult(address=address, old=data, new=data, journal_id=None)
    # old_bytes read the map afresh: say where the bytes are in a way a
    # later run can find, for patch files.
    place = journal_place(where, address, memory.areas(refresh=False), memory.pid, static_end)
    intent = WriteIntent(identity.to_json(), address, old, data, reverts, place)
    entry_id, result = journaled_write(
        journal, intent, lambda: memory.write(address, data, old=old),
        on_intent=journal_ids.append if journal_ids is not None else None)
    return WriteResult(address=address, old=result.old, new=result.new, journal_id=entry_id)


def journal_place(where: Location | None, address: int, areas: list[MemoryArea], pid: int,
                  static_end: StaticEnd | None = None) -> dict[str, Any]:
    """The location a journal entry keeps for a write or a freeze at
    ``address`` in process ``pid``: ``where`` (the location the user gave or
    the watch holds, as the grammar prints it) unless it is None or a bare
    absolute address, then the most durable location of ``address`` in
    ``areas`` (:func:`.locations.locate`: ``module+off``,
    ``memfd:NAME+off``), a module's ``.bss`` bounded by its ELF segments
    (``static_end``; default: read from the file, only for an address in
    an anonymous area right after a module)."""
    from .locations import locate      # here: ps and maps take no location
    if where is None or (where.kind == "absolute" and not where.steps):
        if static_end is None:
            def static_end(path: str) -> int | None:
                from .module_symbols import ModuleSymbols
                return ModuleSymbols().static_end(pid, areas, path)
        where = locate(address, areas, static_end)
    return where.to_json()


def journaled_location_write(journal: Journal, memory: ProcessMemory,
                             identity: ProcessIdentity, location: Location, data: bytes, *,
                             if_changed: bool = False, areas: list[MemoryArea] | None = None,
                             module_symbol: ModuleSymbolLookup | None = None,
                             thread_stack: ThreadStackLookup | None = None,
                             static_end: StaticEnd | None = None) -> WriteResult:
    """:func:`journaled_process_write` at the address ``location`` resolves
    to now (:func:`resolve_in` in ``areas``, default the map read now; a
    pointer path's pointers read in the same request), with ``location`` as
    the place the journal keeps for patch files. Blocking. Raises Unresolved
    as :func:`resolve_in`, and what :func:`journaled_process_write` raises."""
    if areas is None:
        areas = memory.areas(refresh=True)
    address = resolve_in(memory, location, len(data), areas, module_symbol, thread_stack)
    return journaled_process_write(journal, memory, identity, address, data,
                                   if_changed=if_changed, where=location, static_end=static_end)


__all__ = ["BACKENDS", "BULK_CHUNK", "PROCFS_LIMITS", "AttachedProcess", "BulkStats",
           "StreamConsumer", "attach_process", "journal_place", "journaled_location_write",
           "journaled_process_write", "open_process_memory",
           "resolve_in", "run_to_end", "stream"]
