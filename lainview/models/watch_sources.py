"""Where watched values come from: one value source per kind of location.

- :class:`ProcessValues`: addresses in the attached process (``0x…``,
  ``module+offset``, ``[heap]+offset``), resolved against its map and read
  through its :class:`~lainview.backend.service.Target`. A pointer path
  (``game+0x1f40->+0x18->+0x8``) is resolved again on every read, in the
  same backend request (its pointers change), and written at the address it
  resolves to at that moment.
- :class:`KernelValues`: ``kernel:symbol[+offset]``, read by name through the
  application's :class:`~lainview.backend.kernel.KernelBackend`.

Both answer the same questions for the poller and the freezer: can this
entry be read or written now, read a batch of entries in one request, write
one (journaled by the backend; ``if_changed`` skips writes that change
nothing), and freeze one (one journal entry for all its writes). A read
returns, per entry, the value's bytes, an error text, or None for a reply
that went stale (the entry moved while the read was on its way).
"""

from __future__ import annotations

import asyncio

from lainview.backend.errors import InvalidInput, LainviewError, TargetExited, Unresolved
from lainview.backend.locations import Location, resolve
from lainview.backend.memory import ReadResult

from .attached_target import AttachedTarget, TargetState
from .watch_entry import WatchEntry


def value_of(reply, offset: int, size: int) -> bytes | str:
    """``size`` bytes at ``offset`` of a read reply, or why there are none."""
    if isinstance(reply, ReadResult):
        try:
            return reply.require()[offset:offset + size]
        except LainviewError as exc:
            return f"unreadable: {exc}"
    if isinstance(reply, LainviewError):
        return f"unreadable: {reply}"
    return f"unreadable: {reply!r}"


class ProcessValues:
    """Values in the attached process."""

    def __init__(self, target: AttachedTarget):
        self.target = target

    def owns(self, entry: WatchEntry) -> bool:
        return not entry.is_kernel

    @property
    def available(self) -> bool:
        return self.target.live and self.target.target is not None

    def resolve(self, entry: WatchEntry) -> None:
        """Find the entry's address in the current map (or say why not)."""
        target = self.target
        if target.target is None or not target.areas:
            entry.address = None
            entry.unresolved = "no target attached" if target.target is None \
                else "the memory map is not read yet"
            return
        if entry.follows_pointers:
            # Resolved by every read (read()), on the backend thread: keep
            # what the last one found.
            entry.unresolved = entry.chain_unresolved
            return
        try:
            address: int | None = resolve(entry.location, target.areas, entry.vtype.size,
                                          pid=target.pid, module_symbol=target.module_symbol)
            unresolved = ""
        except Unresolved as exc:
            address, unresolved = None, entry.why_unresolved(exc)
        if address != entry.address:
            entry.data = None
            entry.error = ""
        entry.address = address
        entry.unresolved = unresolved

    def readable(self, entries: list[WatchEntry]) -> list[WatchEntry]:
        if not self.available:
            return []
        return [e for e in entries
                if e.follows_pointers or (e.address is not None and not e.unresolved)]

    async def read(self, entries: list[WatchEntry], sizes: list[int]) -> list[bytes | str | None]:
        """One request for all of ``entries`` (``read_many``, or
        ``read_locations`` when a pointer path is among them: it is resolved
        in the same request, and the entry's address and ``unresolved``
        follow). A target that exited is marked so and raises TargetExited."""
        target = self.target.target
        if target is None:                      # detached meanwhile: nothing to read
            return [None] * len(entries)
        wanted: list[int | Location] = []
        for e in entries:
            if e.follows_pointers:
                wanted.append(e.location)
            else:
                assert e.address is not None    # readable() keeps resolved entries only
                wanted.append(e.address)
        chained = any(isinstance(w, Location) for w in wanted)
        try:
            if chained:
                located = await asyncio.wrap_future(target.read_locations(list(zip(wanted,
                                                                                   sizes))))
            else:
                replies = await asyncio.wrap_future(target.read_many(
                    [(w, size) for w, size in zip(wanted, sizes) if isinstance(w, int)]))
                located = [(w, reply) for w, reply in zip(wanted, replies)
                           if isinstance(w, int)]
        except TargetExited as exc:
            self.target.mark_exited(exc)
            raise
        out: list[bytes | str | None] = []
        for entry, where, reply, size in zip(entries, wanted, located, sizes):
            if isinstance(where, Location):
                if entry.location != where:
                    out.append(None)            # edited meanwhile: a stale reply
                elif isinstance(reply, Unresolved):
                    why = entry.why_unresolved(reply)
                    entry.chain_unresolved = entry.unresolved = why
                    out.append(f"unresolved: {why}")
                else:
                    entry.chain_unresolved = entry.unresolved = ""
                    entry.address = reply[0]
                    out.append(value_of(reply[1], 0, size))
            elif isinstance(reply, Unresolved) or entry.address != where:
                out.append(None)
            else:
                out.append(value_of(reply[1], 0, size))
        return out

    def check_writable(self, entry: WatchEntry) -> None:
        if entry.unresolved:
            raise InvalidInput(f"unresolved: {entry.unresolved}")
        if self.target.state == TargetState.EXITED:
            raise InvalidInput("the target has exited")
        if not self.target.writable:
            raise InvalidInput("the target is not attached for writing")

    def _target(self, entry: WatchEntry):
        target = self.target.target
        if target is None or entry.address is None:
            raise InvalidInput("no target to write to")
        return target

    async def _call(self, future):
        try:
            return await asyncio.wrap_future(future)
        except TargetExited as exc:
            self.target.mark_exited(exc)
            raise

    async def write(self, entry: WatchEntry, data: bytes, *, if_changed: bool):
        """The backend's WriteResult (``journal_id`` None: nothing needed
        writing). A pointer path is written where it resolves at that
        moment (resolved and written in one backend request)."""
        if entry.follows_pointers or entry.location.kind != "absolute":
            # resolved and written at once, journaled as the watch holds its location
            target = self.target.target
            if target is None:
                raise InvalidInput("no target to write to")
            return await self._call(target.write_location(entry.location, data,
                                                          if_changed=if_changed))
        return await self._call(self._target(entry).write(entry.address, data,
                                                          if_changed=if_changed))

    async def freeze_begin(self, entry: WatchEntry, held: bytes, before: bytes | None) -> int:
        return await self._call(self._target(entry).freeze_begin(entry.address, held, before,
                                                                 entry.location))

    async def freeze_write(self, entry: WatchEntry, journal_id: int, data: bytes):
        return await self._call(self._target(entry).freeze_write(journal_id, entry.address,
                                                                 data))

    def freeze_end(self, journal_id: int, why: str | None) -> None:
        self.target.backend.freeze_end(journal_id, why)


class KernelValues:
    """Values of kernel symbols, read by name."""

    def __init__(self, kernel=None):
        self.kernel = kernel            # a KernelBackend, or None: no kernel source

    def owns(self, entry: WatchEntry) -> bool:
        return entry.is_kernel

    @property
    def available(self) -> bool:
        return self.kernel is not None

    def resolve(self, entry: WatchEntry) -> None:
        if self.kernel is None:
            entry.unresolved = "no kernel source was given to the watch list"
        elif entry.follows_pointers:
            entry.unresolved = (f"{entry.location.text}: the watch list does not follow "
                                "pointer paths in kernel memory")
        elif entry.location.offset < 0:
            entry.unresolved = (f"{entry.location.text}: the watch list reads a kernel value "
                                "from its symbol on, so its offset cannot be negative")
        else:
            entry.unresolved = ""

    def readable(self, entries: list[WatchEntry]) -> list[WatchEntry]:
        return [e for e in entries if not e.unresolved and not e.follows_pointers] \
            if self.available else []

    async def read(self, entries: list[WatchEntry], sizes: list[int]) -> list[bytes | str | None]:
        """One ``read_many`` by name for all of ``entries`` (each from its
        symbol's first byte to its offset plus ``size``)."""
        replies = await asyncio.wrap_future(self.kernel.read_many(
            [(e.location.name, e.location.offset + size, e.location.module)
             for e, size in zip(entries, sizes)]))
        return [value_of(getattr(reply, "result", reply), e.location.offset, size)
                for e, reply, size in zip(entries, replies, sizes)]

    def check_writable(self, entry: WatchEntry) -> None:
        if entry.unresolved:
            raise InvalidInput(f"unresolved: {entry.unresolved}")
        if entry.location.offset:
            raise InvalidInput("kernel writes start at the symbol: an offset cannot be written")

    async def write(self, entry: WatchEntry, data: bytes, *, if_changed: bool):
        """The KernelWrite (``journal_id`` None: nothing needed writing)."""
        return await asyncio.wrap_future(self.kernel.write(
            entry.location.name, data, module=entry.location.module, if_changed=if_changed))

    async def freeze_begin(self, entry: WatchEntry, held: bytes, before: bytes | None) -> int:
        self.check_writable(entry)
        return await asyncio.wrap_future(self.kernel.freeze_begin(
            entry.location.name, held, module=entry.location.module, before=before))

    async def freeze_write(self, entry: WatchEntry, journal_id: int, data: bytes):
        return await asyncio.wrap_future(self.kernel.freeze_write(
            journal_id, entry.location.name, data, module=entry.location.module))

    def freeze_end(self, journal_id: int, why: str | None) -> None:
        if self.kernel is not None:
            self.kernel.freeze_end(journal_id, why)
