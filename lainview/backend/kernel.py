"""The kernel as a target: the facade the UI and the CLI use.

The sources (kmem device, /proc/kcore, an image, symbols only), what each can
do and how one is chosen are in ``ksources.py``: :class:`KernelMemory` opens
the one :func:`ksources.choose` picks and records the choice with its reason,
every missing capability with what is missing and how to get it, and why the
other sources were passed over (:class:`KernelInfo`).

:class:`KernelMemory` does the work and blocks; :class:`KernelBackend` runs
it on the one backend thread (beside the process memories) and returns
futures. Kernel writes are journaled before they are made, read back, and
can be reverted.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import (TYPE_CHECKING, Any, Callable, Concatenate, Generator, Iterable, ParamSpec,
                    TypeVar)

from .errors import CapabilityMissing, InvalidInput, LainviewError, VerifyMismatch
from .journal import (Journal, JournalEntry, OpenFreezes, RevertOutcome, RevertStatus,
                      WriteIntent, journaled_write)
from .kallsyms import KALLSYMS_PATH, ModuleList, Symbol, SymbolTable, list_modules
from .kcore import MAX_READ
from .kmem import encode_module_name, encode_symbol_name
from .ksources import (KernelInfo, KernelSource, KernelValue, SourceRequest,
                       choose)
from .service import Backend

if TYPE_CHECKING:
    from .ctypes_model import CType
    from .disasm import Instruction
    from .kernel_types import KernelTypes
from .thread import BackendFuture, BackendThread

P = ParamSpec("P")
T = TypeVar("T")

BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"


def boot_id(path: str = BOOT_ID_PATH) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class KernelWrite:
    """A kernel write that was made and read back."""

    name: str
    module: str | None
    indirect: bool
    address: int | None
    old: bytes
    new: bytes
    journal_id: int | None


class KernelMemory:
    """One kernel source, opened. Blocking: use it on the backend thread
    (or through :class:`KernelBackend`). ``source``: "auto" or a name of
    ``ksources.REGISTRY``. Raises InvalidInput (unknown source, bad image
    list) or the chosen source's error."""

    def __init__(self, source: str = "auto", *, kmem_path: str | None = None,
                 images: Iterable[str] = (), kallsyms_path: str = KALLSYMS_PATH,
                 proc: str = "/proc", device_root: str = "/"):
        self.request = SourceRequest(source, kmem_path, tuple(p for p in images if p),
                                     device_root, kallsyms_path, proc)
        self._table: SymbolTable | None = None
        self.holds: collections.Counter[str] = collections.Counter()
        self.source: KernelSource
        self.source, self.info = choose(self.request)

    # -- symbols ------------------------------------------------------------------------------
    def symbols(self, refresh: bool = False) -> SymbolTable:
        """The symbol table of this source (loaded once). Raises LainviewError
        if it cannot be read."""
        if self._table is None or refresh:
            self._table = self.source.symbols(self.request)
        return self._table

    def modules(self) -> ModuleList:
        table = None
        try:
            table = self.symbols()
        except LainviewError:
            pass
        return list_modules(table, proc=self.request.proc)

    def _require(self, capability: str) -> None:
        if capability not in self.info.capabilities:
            raise CapabilityMissing(
                f"the {self.info.source} source cannot {capability}: "
                f"{self.info.missing.get(capability, 'not supported')}", op=capability)

    def _lookup(self, name: str, module: str | None) -> Symbol | None:
        """The symbol from the table, or None when the table cannot say and
        the source resolves names itself (the kmem device: kallsyms may lack
        data symbols, or be unreadable)."""
        try:
            return self.symbols().find(name, module)
        except LainviewError:
            if self.source.names_symbols:
                return None
            raise

    # -- reading ------------------------------------------------------------------------------
    def read(self, name: str, size: int, *, module: str | None = None,
             indirect: bool = False) -> KernelValue:
        """Read ``size`` bytes of ``name`` (or through its pointer). Raises
        CapabilityMissing (no source can read, with what is missing),
        NoSuchSymbol, NoSuchModule, FaultError, InvalidInput."""
        check_read_length(size)
        _check_names(name, module)
        self._require("read")
        symbol = self._lookup(name, module)
        return self.source.read(name, size, module=module, indirect=indirect, symbol=symbol,
                                table=self._table)

    # -- code ---------------------------------------------------------------------------------
    def disassemble(self, name: str, count: int, *, module: str | None = None,
                    offset: int = 0) -> list["Instruction"]:
        """``count`` (1 .. 4096) x86-64 instructions of kernel text decoded
        from symbol ``name`` plus ``offset`` (0 .. 64 KiB; decoding starts
        exactly there), read through this source like :meth:`read`, each
        named ``kernel:symbol+off`` by the symbol table. Stops early at
        bytes that cannot be read. Raises what :meth:`read` raises,
        InvalidInput (a bad count or offset), FaultError (nothing readable),
        LainviewError when the source does not say where the symbol is."""
        from . import disasm
        from .errors import FaultError
        from .locations import Location
        from .service import MAX_DECODE_LEAD, MAX_DISASSEMBLE
        if not 1 <= count <= MAX_DISASSEMBLE:
            raise InvalidInput(f"an instruction count is 1 .. {MAX_DISASSEMBLE}, not {count}")
        if not 0 <= offset <= MAX_DECODE_LEAD:
            raise InvalidInput(f"an offset into a kernel symbol is 0 .. {MAX_DECODE_LEAD:#x}, "
                               f"not {offset:#x}")
        size = min(offset + count * disasm.MAX_INSTRUCTION, MAX_READ)
        value = self.read(name, size, module=module)
        if value.address is None:
            raise LainviewError(f"the {self.info.source} source does not say where {name} is",
                                op="disassemble")
        result = value.result
        end = min((h.address for h in result.holes), default=result.address + result.size)
        code = bytes(result.data[offset:max(offset, end - result.address)])
        if not code:
            raise FaultError(f"kernel:{name}+{offset:#x} cannot be read", op="disassemble",
                             address=value.address + offset)
        table = self._table

        def kernel_name(address: int) -> str:
            symbol = table.symbol_at(address) if table is not None else None
            if symbol is None or table is None or table.addresses_hidden:
                return f"{address:#x}"
            return Location.kernel_symbol(symbol.name, address - symbol.address,
                                          symbol.module or None).text
        return disasm.named(disasm.decode(code, value.address + offset, count), kernel_name)

    # -- writing ------------------------------------------------------------------------------
    def write(self, name: str, data: bytes, journal: Journal, *, module: str | None = None,
              indirect: bool = False, reverts: int | None = None,
              if_changed: bool = False) -> KernelWrite:
        """Journal, write, read back. The old bytes are read first and the
        intent is on disk before the device is asked to write. With
        ``if_changed``, a value that already holds ``data`` is left alone
        (nothing journaled or written; ``journal_id`` is None). Raises
        CapabilityMissing (no kmem device, opened read-only), KernelReadOnly
        (EFAULT: nothing written), VerifyMismatch, NoSuchSymbol, NoSuchModule,
        JournalError (nothing written)."""
        _check_names(name, module)
        self._require("write")
        if not data:
            raise InvalidInput("nothing to write", op="write")
        before = self.read(name, len(data), module=module, indirect=indirect)
        old = before.data
        if if_changed and old == bytes(data):
            return KernelWrite(name, module, indirect, before.address, old, old, None)
        intent = WriteIntent(self._target(name, module, indirect, before.address),
                             before.address, old, bytes(data), reverts)
        entry_id, back = journaled_write(journal, intent, lambda: self._write_verified(
            name, data, module, indirect, before.address))
        return KernelWrite(name, module, indirect, before.address, old, back, entry_id)

    def _write_verified(self, name: str, data: bytes, module: str | None, indirect: bool,
                        address: int | None) -> bytes:
        """Write through the device and read back (no journaling here)."""
        self.source.write(name, data, module=module, indirect=indirect)
        back = self.read(name, len(data), module=module, indirect=indirect).data
        if back != bytes(data):
            raise VerifyMismatch(
                f"{name} reads back {back.hex()} after writing {bytes(data).hex()} (the "
                "kernel may have changed it again at once)", op="verify",
                address=address, size=len(data))
        return back

    def _target(self, name: str, module: str | None, indirect: bool,
                address: int | None) -> dict[str, object]:
        return {"kind": "kernel", "symbol": name, "module": module, "indirect": indirect,
                "address": address, "source": self.info.source, "device": self.info.device,
                "boot_id": boot_id()}

    # -- freezes: one journal entry for all the writes that hold a value ----------------------
    def freeze_begin(self, freezes: OpenFreezes, name: str, held: bytes, *,
                     module: str | None = None, before: bytes | None = None) -> int:
        """Journal a freeze of symbol ``name`` at ``held`` (``before``: the
        value when the user froze it, default: now); its journal id."""
        _check_names(name, module)
        self._require("write")
        current = self.read(name, len(held), module=module)
        old = before if before is not None and len(before) == len(held) else current.data
        return freezes.begin(("kernel", name, module),
                             target=self._target(name, module, False, current.address),
                             address=current.address, old=old, held=bytes(held))

    def freeze_write(self, freezes: OpenFreezes, journal_id: int, name: str, data: bytes, *,
                     module: str | None = None) -> KernelWrite:
        """One write of an open freeze (covered by its journal entry)."""
        freezes.check(journal_id, ("kernel", name, module), data)
        self._require("write")
        try:
            back = self._write_verified(name, data, module, False, None)
        except VerifyMismatch:
            freezes.wrote(journal_id)
            raise
        freezes.wrote(journal_id)
        return KernelWrite(name, module, False, None, b"", back, journal_id)

    # -- holds --------------------------------------------------------------------------------
    def hold(self, module: str) -> int:
        """LOCKSYM ``module``; returns how many holds lainview now has on it."""
        encode_module_name(module)
        self._require("hold")
        self.source.lock(module)
        self.holds[module] += 1
        return self.holds[module]

    def release(self, module: str) -> int:
        """UNLOCKSYM ``module``; returns the holds lainview has left on it
        (holds taken by an earlier lainview process are released too)."""
        encode_module_name(module)
        self._require("hold")
        self.source.unlock(module)
        if self.holds[module] > 0:
            self.holds[module] -= 1
        if not self.holds[module]:
            del self.holds[module]
        return self.holds.get(module, 0)

    def release_all(self) -> None:
        for module, count in list(self.holds.items()):
            for _ in range(count):
                try:
                    self.release(module)
                except LainviewError:
                    break

    # -- closing ------------------------------------------------------------------------------
    def close(self) -> None:
        self.source.close()


class KernelReverter:
    """Reverts kernel writes (a :class:`journal.RevertTarget`) through an
    open :class:`KernelMemory`: a write made before the last boot is gone;
    an indirect write whose pointer moved since is a conflict."""

    def __init__(self, memory: KernelMemory, journal: Journal):
        self._memory = memory
        self._journal = journal

    def gone(self, entry: JournalEntry) -> str | None:
        recorded = entry.target.get("boot_id")
        if recorded and recorded != boot_id():
            return "the machine has rebooted since this write: kernel memory no longer holds it"
        return None

    def current(self, entry: JournalEntry) -> bytes | RevertOutcome:
        name, module, indirect = _symbol_of(entry)
        now = self._memory.read(name, len(entry.old), module=module, indirect=indirect)
        if indirect and entry.address is not None and now.address != entry.address:
            return RevertOutcome(
                entry.id, RevertStatus.CONFLICT,
                f"the pointer at {name} now points to {now.address:#x}, not "
                f"{entry.address:#x} as when it was written; nothing reverted")
        return now.result.require(op="revert")

    def where(self, entry: JournalEntry) -> str:
        return _symbol_of(entry)[0]

    def write_old(self, entry: JournalEntry) -> int | None:
        name, module, indirect = _symbol_of(entry)
        return self._memory.write(name, entry.old, self._journal, module=module,
                                   indirect=indirect, reverts=entry.id).journal_id

    def close(self) -> None:
        pass        # the memory belongs to its KernelBackend


def _symbol_of(entry: JournalEntry) -> tuple[str, str | None, bool]:
    target = entry.target
    return target["symbol"], target.get("module"), bool(target.get("indirect"))


class KernelBackend:
    """The kernel half of the backend facade: every call runs on the backend
    thread of ``backend`` and returns a Future. The source is opened on the
    first call; its descriptors are closed when the backend shuts down.
    ``release_holds_on_close``: release, at shutdown, the module holds this
    object took (the GUI does; the CLI's ``kmod hold`` must not)."""

    def __init__(self, backend: Backend, *, source: str = "auto",
                 kmem_path: str | None = None, images: Iterable[str] = (),
                 release_holds_on_close: bool = True, **memory_kw: Any):
        self.backend = backend
        self.thread: BackendThread = backend.thread
        self.journal: Journal = backend.journal
        self.freezes: OpenFreezes = backend.freezes
        self._args = (source, kmem_path, tuple(images))
        self._types_kw = {"btf_dir": memory_kw.pop("btf_dir")} if "btf_dir" in memory_kw \
            else {}
        self._memory_kw = memory_kw
        self._memory: KernelMemory | None = None
        self._types: KernelTypes | None = None
        self._types_building: KernelTypes | None = None
        self._release_holds = release_holds_on_close
        self.thread.call_on_shutdown(self._close)
        # Backend.revert hands kernel entries to this kernel's memory.
        backend.revert_targets["kernel"] = self.reverter

    def _get(self) -> KernelMemory:
        if self._memory is None:
            source, kmem_path, images = self._args
            self._memory = KernelMemory(source, kmem_path=kmem_path, images=images,
                                          **self._memory_kw)
        return self._memory

    def reverter(self) -> KernelReverter:
        """The RevertTarget of kernel writes, over this kernel's memory
        (opened if need be: LainviewError if it cannot be). Backend thread."""
        return KernelReverter(self._get(), self.journal)

    def _submit(self, fn: Callable[Concatenate[KernelMemory, P], T], /, *args: P.args,
                **kwargs: P.kwargs) -> BackendFuture[T]:
        return self.thread.submit(lambda: fn(self._get(), *args, **kwargs))

    def info(self) -> BackendFuture[KernelInfo]:
        """Future[KernelInfo]: the chosen source, the reason, the capabilities.
        Raises DeviceUnavailable when an explicitly chosen source is missing."""
        return self._submit(lambda s: s.info)

    def symbols(self, refresh: bool = False, *,
                prepared: bool = False) -> BackendFuture[SymbolTable]:
        """Future[SymbolTable] (``refresh``: read the source again). With
        ``prepared``, the table's name order and search buffers are built
        first, on the backend thread (:meth:`SymbolTable.prepare`), so a
        browser's first sort and filter do not stall the GUI."""
        def run(memory: KernelMemory) -> SymbolTable:
            table = memory.symbols(refresh)
            return table.prepare() if prepared else table
        return self._submit(run)

    def modules(self) -> BackendFuture[ModuleList]:
        """Future[ModuleList]."""
        return self._submit(KernelMemory.modules)

    def read(self, name: str, size: int, *, module: str | None = None,
             indirect: bool = False) -> BackendFuture[KernelValue]:
        """Future[KernelValue]; see :meth:`KernelMemory.read`."""
        return self._submit(KernelMemory.read, name, size, module=module, indirect=indirect)

    def disassemble(self, name: str, count: int, *, module: str | None = None,
                    offset: int = 0) -> BackendFuture[list["Instruction"]]:
        """Future[list[Instruction]]; see :meth:`KernelMemory.disassemble`."""
        return self._submit(KernelMemory.disassemble, name, count, module=module, offset=offset)

    def read_many(self, requests: Iterable[tuple[str, int, str | None]]
                  ) -> BackendFuture[list[KernelValue | LainviewError]]:
        """Future[list[KernelValue | LainviewError]]: several symbol reads,
        given as (name, size, module), in one request (the watch list's
        refresh). Each failure is returned in its place, not raised."""
        wanted = list(requests)

        def run(memory: KernelMemory) -> list[KernelValue | LainviewError]:
            out: list[KernelValue | LainviewError] = []
            for name, size, module in wanted:
                try:
                    out.append(memory.read(name, size, module=module))
                except LainviewError as exc:
                    out.append(exc)
            return out
        return self._submit(run)

    def write(self, name: str, data: bytes, *, module: str | None = None,
              indirect: bool = False, if_changed: bool = False) -> BackendFuture[KernelWrite]:
        """Future[KernelWrite]: journaled, read back; see :meth:`KernelMemory.write`."""
        return self._submit(KernelMemory.write, name, bytes(data), self.journal,
                            module=module, indirect=indirect, if_changed=if_changed)

    def freeze_begin(self, name: str, held: bytes, *, module: str | None = None,
                     before: bytes | None = None) -> BackendFuture[int]:
        """Future[int]: journal a freeze of ``name`` (see :meth:`Target.freeze_begin`
        in service.py); end it with ``Backend.freeze_end``."""
        return self._submit(KernelMemory.freeze_begin, self.freezes, name, bytes(held),
                            module=module, before=before)

    def freeze_write(self, journal_id: int, name: str, data: bytes, *,
                     module: str | None = None) -> BackendFuture[KernelWrite]:
        """Future[KernelWrite]: one write of an open freeze."""
        return self._submit(KernelMemory.freeze_write, self.freezes, journal_id, name,
                            bytes(data), module=module)

    def freeze_end(self, journal_id: int, error: str | None = None
                   ) -> BackendFuture[int | None]:
        """Future[int | None]: record the end of a freeze (``Backend.freeze_end``)."""
        return self.thread.submit(self.freezes.end, journal_id, error)

    def types(self) -> BackendFuture["KernelTypes"]:
        """Future[KernelTypes]: the running kernel's BTF and the DWARF of
        the ``--image`` files, built once on the backend thread as bulk
        work (the images' DWARF one compilation unit per chunk, so reads go
        ahead meanwhile), whether or not the kernel source opens; never
        raises: what is missing is in its ``notes``."""
        def job() -> Generator[int, None, "KernelTypes"]:
            if self._types is None:
                from .kernel_types import KernelTypes
                building = KernelTypes([p for p in self._args[2] if p], index=False,
                                       **self._types_kw)
                self._types_building = building
                try:
                    yield 0
                    yield from building.index_steps()
                except BaseException:        # shut down or cancelled half-way
                    building.close()
                    raise
                finally:
                    self._types_building = None
                if self._types is None:
                    self._types = building
                else:
                    building.close()
            return self._types
        return self.thread.submit_bulk(job)

    def find_type(self, name: str, module: str | None = None) -> BackendFuture[CType]:
        """Future[CType]: the type ``name`` names, settled for use on any
        thread (see :meth:`KernelTypes.find`); InvalidInput when there is
        none."""
        return self.thread.submit(lambda: self._kernel_types().find(name, module))

    def variable_type(self, name: str) -> BackendFuture[CType | None]:
        """Future[CType | None]: the type the images' DWARF gives the global
        ``name`` (None when none does)."""
        return self.thread.submit(lambda: self._kernel_types().variable(name))

    def _kernel_types(self) -> "KernelTypes":
        if self._types is None and self._types_building is not None:
            return self._types_building      # being indexed: what is there so far
        if self._types is None:
            from .kernel_types import KernelTypes
            self._types = KernelTypes([p for p in self._args[2] if p], **self._types_kw)
        return self._types

    def hold(self, module: str) -> BackendFuture[int]:
        """Future[int]: the holds lainview now has on ``module``."""
        return self._submit(KernelMemory.hold, module)

    def release(self, module: str) -> BackendFuture[int]:
        """Future[int]: the holds lainview has left on ``module``."""
        return self._submit(KernelMemory.release, module)

    def holds(self) -> BackendFuture[dict[str, int]]:
        """Future[dict[str, int]]: the holds this lainview took."""
        return self._submit(lambda s: dict(s.holds))

    def _close(self) -> None:
        if self._types is not None:
            self._types.close()
            self._types = None
        if self._memory is not None:
            if self._release_holds:
                self._memory.release_all()
            self._memory.close()
            self._memory = None


__all__ = ["KernelMemory", "KernelBackend", "KernelReverter", "KernelWrite", "boot_id"]


def check_read_length(size: int) -> int:
    """``size`` if it is a usable kernel read length (1 .. MAX_READ bytes),
    else InvalidInput."""
    if not 0 < size <= MAX_READ:
        raise InvalidInput(f"length {size} out of range: read 1 to {MAX_READ} bytes "
                           "of a kernel symbol", op="read")
    return size


def _check_names(name: str, module: str | None) -> None:
    """Names the kernel could never hold are refused (ENAMETOOLONG) before
    any lookup or request, whatever the source."""
    encode_symbol_name(name)
    if module:
        encode_module_name(module)
