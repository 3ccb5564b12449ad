"""Where watched values come from: one value source per kind of location.

- :class:`ProcessValues`: addresses in the attached process (``0x…``,
  ``module+offset``, ``[heap]+offset``), resolved against its map and read
  through its :class:`~lainview.backend.service.Target`.
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
from lainview.backend.locations import resolve
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
        try:
            address: int | None = resolve(entry.location, target.areas, entry.vtype.size,
                                          pid=target.pid, module_symbol=target.module_symbol)
            unresolved = ""
        except Unresolved as exc:
            address, unresolved = None, exc.message
        if address != entry.address:
            entry.data = None
            entry.error = ""
        entry.address = address
        entry.unresolved = unresolved

    def readable(self, entries: list[WatchEntry]) -> list[WatchEntry]:
        if not self.available:
            return []
        return [e for e in entries if e.address is not None and not e.unresolved]

    async def read(self, entries: list[WatchEntry], sizes: list[int]) -> list[bytes | str | None]:
        """One ``read_many`` for all of ``entries``. A target that exited is
        marked so and raises TargetExited."""
        target = self.target.target
        if target is None:                      # detached meanwhile: nothing to read
            return [None] * len(entries)
        addresses: list[int] = []
        for e in entries:
            assert e.address is not None        # readable() keeps resolved entries only
            addresses.append(e.address)
        try:
            replies = await asyncio.wrap_future(target.read_many(list(zip(addresses, sizes))))
        except TargetExited as exc:
            self.target.mark_exited(exc)
            raise
        return [value_of(reply, 0, size) if entry.address == address else None
                for entry, address, reply, size in zip(entries, addresses, replies, sizes)]

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
        """The backend's WriteResult (``journal_id`` None: nothing needed writing)."""
        return await self._call(self._target(entry).write(entry.address, data,
                                                          if_changed=if_changed))

    async def freeze_begin(self, entry: WatchEntry, held: bytes, before: bytes | None) -> int:
        return await self._call(self._target(entry).freeze_begin(entry.address, held, before))

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
        elif entry.location.offset < 0:
            entry.unresolved = (f"{entry.location.text}: the watch list reads a kernel value "
                                "from its symbol on, so its offset cannot be negative")
        else:
            entry.unresolved = ""

    def readable(self, entries: list[WatchEntry]) -> list[WatchEntry]:
        return [e for e in entries if not e.unresolved] if self.available else []

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
