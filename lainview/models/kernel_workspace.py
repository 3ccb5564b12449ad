"""Everything the kernel-symbol browser shows, without widgets: the kernel
source and what it can do, the symbol and module tables, and the value of
the selected symbol with its patch flow.

- :class:`KernelWorkspace` opens the source and loads the symbols on the
  backend thread (never on the GUI thread), holds and releases modules.
- :class:`KernelValueController` reads the selected symbol's value into a
  :class:`~.block_document.BlockDocument` (size guessed from the next
  symbol, changeable; refreshed live on a timer; optionally through its
  pointer), and patches it in two steps: :meth:`~KernelValueController.propose_patch`
  reads the current bytes and builds a :class:`PatchProposal` for the user
  to confirm; only :meth:`~KernelValueController.commit` writes, through the
  backend, which journals, writes and reads back.

Replies carry request ids: a read that is no longer the newest is dropped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from lainview.backend.errors import KernelReadOnly, LainviewError
from lainview.backend.kallsyms import Symbol, SymbolTable, is_pseudo_module, type_kind
from lainview.backend.kernel import KernelBackend, KernelWrite
from lainview.backend.ksources import CAPABILITIES, KernelInfo
from lainview.backend.service import Backend
from lainview.backend.wording import counted

from .block_document import BlockDocument
from .cursor import HexCursor
from .inspector_model import InspectorModel
from .symbol_model import ModuleModel, SymbolTableModel
from .tasks import TaskSet

DEFAULT_SIZE = 16           # bytes, when the size cannot be guessed
MAX_SIZE = 1 << 16          # the most one value shows
DEFAULT_REFRESH_HZ = 2.0
READ_ONLY_KINDS = {"text": "code", "read-only data": "read-only data"}


@dataclass(frozen=True, slots=True)
class PatchProposal:
    """What a confirmed patch will write: ``new`` over ``old`` from the
    symbol's first byte (a write by name always starts at the symbol), at
    ``address`` when known."""

    name: str
    module: str | None
    indirect: bool
    address: int | None
    old: bytes
    new: bytes
    symbol: Symbol | None = None
    pointer: int | None = None
    note: str = ""

    @property
    def changed_offsets(self) -> list[int]:
        return [i for i, (a, b) in enumerate(zip(self.old, self.new)) if a != b]

    @property
    def target(self) -> str:
        where = f" in module {self.module}" if self.module else ""
        through = " (through its pointer)" if self.indirect else ""
        return f"{self.name}{where}{through}"


def explain_write_error(exc: LainviewError, symbol: Symbol | None) -> str:
    """The backend's message, plus why the kernel refused when it is EFAULT
    on memory the kernel keeps read-only."""
    text = str(exc)
    if isinstance(exc, KernelReadOnly) and symbol is not None:
        kind = READ_ONLY_KINDS.get(type_kind(symbol.type))
        if kind:
            text += (f". {symbol.name} is {type_kind(symbol.type)} (type {symbol.type}): "
                     f"the kernel maps its {kind} read-only, so patching it is refused")
    return text


class KernelValueController(QObject):
    """The selected symbol's value, read and patched through a KernelBackend."""

    changed = Signal()          # symbol, size, mode, value or error: relabel
    message = Signal(str)       # for the inline message line ("" hides it)
    written = Signal(object)    # KernelWrite, after a confirmed write was read back

    def __init__(self, kernel: KernelBackend, document: BlockDocument,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.kernel = kernel
        self.document = document
        self.info: KernelInfo | None = None
        self.table: SymbolTable | None = None
        self.symbol: Symbol | None = None
        self.size = DEFAULT_SIZE
        self.size_guess: int | None = None
        self.indirect = False
        self.value = None               # the last KernelValue applied
        self.error = ""                 # why the value cannot be shown
        self.ambiguity = ""             # the name reaches another symbol
        self.last_write: KernelWrite | None = None
        self.reads = 0
        self.dropped_replies = 0
        self._request = 0
        self._reading = False
        self._tasks = TaskSet("the kernel value")
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.set_refresh_rate(DEFAULT_REFRESH_HZ)

    # -- what the source can do ---------------------------------------------------------------
    def set_source(self, info: KernelInfo | None, table: SymbolTable | None) -> None:
        self.info = info
        self.table = table
        self.document.describe_pointer_with = self.describe_pointer
        self._update_read_only()
        self.changed.emit()

    def can(self, capability: str) -> bool:
        return self.info is not None and self.info.can(capability)

    def why_not(self, capability: str) -> str:
        """Why ``capability`` is missing and how to get it ("" when present)."""
        if self.info is None:
            return "the kernel source is not open yet"
        if self.info.can(capability):
            return ""
        return self.info.missing.get(capability, f"the {self.info.source} source cannot "
                                                 f"{capability}")

    def capabilities(self) -> list[tuple[str, bool, str]]:
        """(capability, available, why not) for every capability a kernel
        source may have (``ksources.CAPABILITIES``: list, read, write, hold)."""
        return [(c, self.can(c), self.why_not(c)) for c in CAPABILITIES]

    def passed_over(self) -> list[str]:
        """One line per source the choice passed over: "kmem: why not"
        (empty when the source was chosen by name, or is not open yet)."""
        if self.info is None:
            return []
        return [f"{name}: {why}" for name, why in self.info.passed_over.items()]

    def _update_read_only(self) -> None:
        if not self.can("write"):
            self.document.set_read_only(f"editing is off: {self.why_not('write')}")
        elif self.symbol is None:
            self.document.set_read_only("no symbol selected")
        else:
            self.document.set_read_only(None)

    # -- choosing what to show ---------------------------------------------------------------
    def select(self, index: int) -> None:
        """Show the value of the table's symbol ``index``: its size guessed
        from the distance to the next symbol (capped), read at once."""
        table = self.table
        if table is None:
            return
        symbol = table.symbol(index)
        self.symbol = symbol
        self.size_guess = table.size_hint(index)
        self.size = self.size_guess or DEFAULT_SIZE
        self.indirect = False
        self.value = None
        self.ambiguity = self._ambiguity(symbol)
        self._update_read_only()
        self._open()
        self.refresh()

    def clear(self) -> None:
        self.symbol = None
        self.value = None
        self.error = ""
        self._request += 1
        self.document.close_block()
        self._update_read_only()
        self.changed.emit()

    def set_size(self, size: int) -> None:
        size = max(1, min(int(size), MAX_SIZE))
        if size != self.size:
            self.size = size
            if self.symbol is not None:
                self._open()
                self.refresh()

    def set_indirect(self, indirect: bool) -> None:
        """Follow the pointer stored at the symbol (IREADKSYM, or the
        pointed-to address through kcore or an image)."""
        if indirect != self.indirect:
            self.indirect = indirect
            self.value = None
            if self.symbol is not None:
                self._open()
                self.refresh()

    def _module_arg(self, symbol: Symbol) -> str | None:
        if not symbol.module or is_pseudo_module(symbol.module):
            return None
        return symbol.module

    def _ambiguity(self, symbol: Symbol) -> str:
        table = self.table
        same = table.lookup(symbol.name, self._module_arg(symbol)) if table is not None else []
        if table is not None and len(same) > 1 and same[0] != symbol.index:
            first = table.symbol(same[0])
            where = "" if table.addresses_hidden else f" at {first.address:#x}"
            return (f"{len(same)} symbols are named {symbol.name}: reads and writes by name "
                    f"reach the first{where}, not this one")
        return ""

    def _label(self) -> str:
        symbol = self.symbol
        if symbol is None:
            return ""
        name = symbol.name if not symbol.module else f"{symbol.module}:{symbol.name}"
        return f"*{name}" if self.indirect else name

    def _start(self) -> int:
        symbol = self.symbol
        if self.indirect:
            value = self.value
            return value.address if value is not None and value.address is not None else 0
        if symbol is None or (self.table is not None and self.table.addresses_hidden):
            return 0
        return symbol.address

    def _open(self) -> None:
        self._request += 1          # replies for the previous block are stale
        self.error = ""
        self.document.open_block(self._start(), self.size, self._label())
        self.changed.emit()

    # -- reading ------------------------------------------------------------------------------
    def refresh(self) -> asyncio.Task | None:
        """Read the value now. When the source cannot read, the document
        shows why instead."""
        symbol = self.symbol
        if symbol is None:
            return None
        if not self.can("read"):
            self._fail_read(f"Values cannot be read here: {self.why_not('read')}")
            return None
        self._request += 1
        request = self._request
        self._reading = True
        try:
            future = self.kernel.read(symbol.name, self.size, module=self._module_arg(symbol),
                                      indirect=self.indirect)
        except LainviewError as exc:        # the backend is shutting down
            self._reading = False
            self._fail_read(str(exc))
            return None
        return self._spawn(self._await_read(request, future))

    async def _await_read(self, request: int, future) -> None:
        try:
            value = await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            return
        except LainviewError as exc:
            if request == self._request:
                self._fail_read(str(exc))
            else:
                self.dropped_replies += 1
            return
        finally:
            if request == self._request:
                self._reading = False
        if request != self._request:
            self.dropped_replies += 1
            return
        self.reads += 1
        start = value.address if value.address is not None else 0
        region = self.document.region
        if region is None or region.start != start:
            # Through a pointer: the block is where it points (and moves with it).
            had_staged = self.document.staged
            self.value = value
            self.document.open_block(start, self.size, self._label())
            if had_staged:
                self.message.emit("the pointer changed: the staged edits were dropped")
        self.value = value
        self.error = ""
        self.document.set_snapshot(value.result)
        self.changed.emit()

    def _fail_read(self, text: str) -> None:
        self.error = text
        self.document.set_unavailable(text)
        self.changed.emit()

    # -- live refresh ------------------------------------------------------------------------------
    def set_refresh_rate(self, hz: float) -> None:
        self.refresh_hz = max(0.2, min(float(hz), 30.0))
        self._timer.setInterval(int(round(1000 / self.refresh_hz)))

    def set_live(self, live: bool) -> None:
        if live:
            self._timer.start()
        else:
            self._timer.stop()
        self.changed.emit()

    @property
    def live(self) -> bool:
        return self._timer.isActive()

    def _tick(self) -> None:
        if self.symbol is not None and not self._reading and self.can("read"):
            self.refresh()

    # -- patching ------------------------------------------------------------------------------------
    async def propose_patch(self) -> PatchProposal | None:
        """Read the bytes the staged edits will overwrite, fresh, and return
        what a confirmed write would do. None (with a message) when nothing
        is staged, the source cannot write, or the bytes cannot be read."""
        symbol, document = self.symbol, self.document
        end = document.staged_end()
        if symbol is None or end is None:
            self.message.emit("nothing to write: type new bytes in the hex view first")
            return None
        if not self.can("write"):
            self.message.emit(f"cannot write: {self.why_not('write')}")
            return None
        module = self._module_arg(symbol)
        try:
            fresh = await asyncio.wrap_future(
                self.kernel.read(symbol.name, end, module=module, indirect=self.indirect))
            current = fresh.result.require(op="read")
        except LainviewError as exc:
            self.message.emit(f"cannot read the current bytes of {symbol.name}: {exc}")
            return None
        region = document.region
        if self.indirect and region is not None and fresh.address != region.start:
            self.message.emit(f"the pointer at {symbol.name} changed (now "
                              f"{fresh.address:#x}): refresh and edit again")
            return None
        new = document.apply_staged(current)
        if new == current:
            # Writes that change nothing are not made (nor journaled).
            document.discard_staged()
            self.message.emit(f"nothing to write: {symbol.name} already holds the edited bytes")
            return None
        return PatchProposal(symbol.name, module, self.indirect, fresh.address, current,
                             new, symbol, fresh.pointer, self.ambiguity)

    async def commit(self, proposal: PatchProposal) -> KernelWrite | None:
        """Write a confirmed proposal: the backend journals, writes
        (WRITEKSYM or IWRITEKSYM) and reads back. None (with the reason
        inline, and the edited cells marked) when it fails."""
        self._request += 1          # a read issued before the write is stale
        try:
            result = await asyncio.wrap_future(self.kernel.write(
                proposal.name, proposal.new, module=proposal.module,
                indirect=proposal.indirect))
        except LainviewError as exc:
            text = explain_write_error(exc, proposal.symbol)
            self.document.mark_failed(text)
            self.message.emit(f"write failed: {text}")
            return None
        self.last_write = result
        if self.symbol is not None and self.symbol.name == proposal.name:
            self.document.store_written(0, result.new)
        where = f" at {result.address:#x}" if result.address is not None else ""
        self.message.emit(f"wrote {counted(len(result.new), 'byte')} to {proposal.target}{where}, read "
                          f"back and journaled (entry {result.journal_id})")
        self.written.emit(result)
        self.changed.emit()
        self.refresh()
        return result

    async def revert_last(self) -> str:
        """Undo the last confirmed write (through the journal)."""
        last = self.last_write
        if last is None or last.journal_id is None:
            return "nothing to revert"
        try:
            outcomes = await asyncio.wrap_future(
                self.kernel.backend.revert([last.journal_id]))
        except LainviewError as exc:
            text = f"revert failed: {exc}"
        else:
            text = "; ".join(f"{o.status}: {o.message}" for o in outcomes) or "nothing reverted"
            if any(o.status in ("reverted", "already") for o in outcomes):
                self.last_write = None
        self.message.emit(text)
        self.changed.emit()
        self.refresh()
        return text

    # -- pointers ---------------------------------------------------------------------------------------
    def describe_pointer(self, value: int) -> str:
        """The symbol a kernel pointer points into: "jiffies+0x8 [module]"."""
        table = self.table
        if table is None or table.addresses_hidden:
            return "(symbol addresses hidden)"
        symbol = table.symbol_at(value)
        if symbol is None or value - symbol.address > 1 << 24:
            return "(no symbol)"
        where = f" [{symbol.module}]" if symbol.module else ""
        offset = value - symbol.address
        return f"{symbol.name}+{offset:#x}{where}" if offset else f"{symbol.name}{where}"

    # -- plumbing -----------------------------------------------------------------------------------------
    def _spawn(self, coro) -> asyncio.Task:
        task = self._tasks.spawn(coro)
        return task

    def stop(self) -> None:
        self._timer.stop()
        self._request += 1
        self._tasks.cancel_all()


class KernelWorkspace(QObject):
    """The kernel source, its symbols and modules, and the selected value."""

    status = Signal(str)            # one-line messages
    loaded = Signal()               # the source is open and the symbols are in (or failed)
    holds_changed = Signal()

    def __init__(self, backend: Backend, *, kernel: KernelBackend | None = None,
                 source: str = "auto", kmem_path: str | None = None,
                 images: tuple[str, ...] = (), parent: QObject | None = None, **memory_kw):
        """Over ``kernel`` (the application's one kernel service,
        ``Workspace.kernel``), or a KernelBackend made from the source
        options when none is given (the browser on its own, tests)."""
        super().__init__(parent)
        self.kernel = kernel if kernel is not None else KernelBackend(
            backend, source=source, kmem_path=kmem_path, images=images, **memory_kw)
        self.symbols = SymbolTableModel(self)
        self.modules = ModuleModel(self)
        self.document = BlockDocument(self)
        self.cursor = HexCursor(self)
        self.inspector = InspectorModel(self.document, self.cursor, self)
        self.value = KernelValueController(self.kernel, self.document, self)
        from .kernel_typing import SymbolTyping      # it builds on this module's controller
        self.typing = SymbolTyping(self.kernel, self.value, self)
        self.info: KernelInfo | None = None
        self.table: SymbolTable | None = None
        self.error = ""                 # why the source or the symbols are unavailable
        self.holds: dict[str, int] = {}
        self.loading = False
        self._tasks = TaskSet("the kernel workspace")
        self.document.region_changed.connect(self._on_region)

    def _on_region(self) -> None:
        region = self.document.region
        if region is not None:
            self.cursor.set_bounds(region.start, region.end)

    # -- loading ---------------------------------------------------------------------------------
    def start(self) -> asyncio.Task:
        """Open the source and load the symbols and modules on the backend
        thread, then the type names (BTF, the images' DWARF)."""
        return self.spawn(self._load())

    async def _load(self) -> bool:
        self.loading = True
        self.status.emit("opening the kernel source…")
        try:
            try:
                self.info = await asyncio.wrap_future(self.kernel.info())
            except LainviewError as exc:
                self.error = f"cannot open the kernel source: {exc}"
                self.status.emit(self.error)
                return False
            self.value.set_source(self.info, None)
            self.status.emit(f"loading kernel symbols ({self.info.symbols_from})…")
            try:
                table = await asyncio.wrap_future(self.kernel.symbols(prepared=True))
            except LainviewError as exc:
                self.error = f"cannot load the kernel symbols: {exc}"
                self.status.emit(self.error)
                return False
            self.table = table
            self.symbols.set_table(table)
            self.value.set_source(self.info, table)
            modules = len(table.module_names)
            self.status.emit(f"{len(table):,} symbols from {table.source} ({modules} "
                             f"module{'s' if modules != 1 else ''}) · source: "
                             f"{self.info.source}")
            await self.refresh_modules()
            return True
        finally:
            self.loading = False
            self.loaded.emit()
            task = asyncio.current_task()
            if task is None or not task.cancelling():
                self.typing.start()          # after the symbols: they are wanted first

    async def refresh_modules(self) -> None:
        try:
            modules = await asyncio.wrap_future(self.kernel.modules())
        except LainviewError as exc:
            self.status.emit(f"cannot list modules: {exc}")
            return
        self.modules.set_modules(modules)
        self.modules.set_holds(self.holds)

    # -- module holds ------------------------------------------------------------------------------
    async def hold(self, module: str) -> bool:
        """LOCKSYM ``module``: it cannot be unloaded while lainview holds it."""
        return await self._hold_call(module, hold=True)

    async def release(self, module: str) -> bool:
        """UNLOCKSYM ``module``."""
        return await self._hold_call(module, hold=False)

    async def _hold_call(self, module: str, *, hold: bool) -> bool:
        if not self.value.can("hold"):
            self.status.emit(f"cannot {'hold' if hold else 'release'} {module}: "
                             f"{self.value.why_not('hold')}")
            return False
        call = self.kernel.hold if hold else self.kernel.release
        try:
            count = await asyncio.wrap_future(call(module))
        except LainviewError as exc:
            self.status.emit(f"{'hold' if hold else 'release'} {module}: {exc}")
            return False
        if count:
            self.holds[module] = count
        else:
            self.holds.pop(module, None)
        self.modules.set_holds(self.holds)
        self.holds_changed.emit()
        self.status.emit(f"holding {module} ({count} hold{'s' if count != 1 else ''}): it "
                         "cannot be unloaded" if count else
                         f"released {module}: lainview holds it no more")
        await self.refresh_modules()
        return True

    # -- lifetime ------------------------------------------------------------------------------------------
    def spawn(self, coro) -> asyncio.Task:
        task = self._tasks.spawn(coro)
        return task

    def stop(self) -> None:
        """Stop timers and tasks (before the backend shuts down); holds are
        released by the backend at shutdown."""
        self.value.stop()
        self.typing.stop()
        self.document.stop()
        self._tasks.cancel_all()


__all__ = ["KernelWorkspace", "KernelValueController", "PatchProposal", "explain_write_error",
           "DEFAULT_SIZE", "MAX_SIZE"]
