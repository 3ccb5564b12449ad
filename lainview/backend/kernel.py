"""The kernel as a target: choosing a source, and the facade the UI and the
CLI use.

Sources (``auto|kmem|kcore|image``), and what each can do:

========  =======================================  ====  ====  =====  ====
source    needs                                    list  read  write  hold
========  =======================================  ====  ====  =====  ====
kmem      /dev/lainkmem (the lainko module), root  yes   yes   yes    yes
kcore     /proc/kcore (CONFIG_PROC_KCORE), root    yes   yes   no     no
image     a vmlinux, System.map or ELF vmcore      yes   [1]   no     no
kallsyms  nothing: the fallback of ``auto``        yes   no    no     no
========  =======================================  ====  ====  =====  ====

[1] a vmlinux gives initial values, a vmcore the memory at the crash; a
System.map alone cannot read.

The choice is recorded with its reason, and every missing capability with
what is missing and how to get it (:class:`KernelInfo`). Symbols come from
``/proc/kallsyms`` for the live sources, from the image otherwise.

:class:`KernelSession` does the work and blocks; :class:`KernelBackend` runs
it on the one backend thread (beside the process sessions) and returns
futures. Kernel writes are journaled before they are made, read back, and
can be reverted.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Concatenate, Iterable, ParamSpec, TypeVar

from .errors import (CapabilityMissing, DeviceUnavailable, InvalidInput, LainviewError,
                     NoSuchSymbol, VerifyMismatch)
from .journal import Journal, JournalEntry, OpenFreezes, revert_plan
from .kallsyms import (KALLSYMS_PATH, ModuleList, Symbol, SymbolTable, list_modules,
                       load_kallsyms)
from .kcore import KCORE_PATH, MAX_READ, ElfCoreReader, SystemMap, VmlinuxImage, elf_type
from .kmem import (POINTER_SIZE, KmemDevice, discover, encode_module_name,
                   encode_symbol_name)
from .memory import ReadResult, WriteStatus
from .service import Backend, RevertOutcome, RevertStatus
from .thread import BackendFuture, BackendThread

P = ParamSpec("P")
T = TypeVar("T")

SOURCES = ("auto", "kmem", "kcore", "image")
CAPABILITIES = ("list", "read", "write", "hold")
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"


def boot_id(path: str = BOOT_ID_PATH) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class KernelInfo:
    """The chosen source, why, what it can do and what the rest needs."""

    source: str                       # "kmem", "kcore", "image" or "kallsyms"
    reason: str
    capabilities: frozenset[str]
    missing: dict[str, str] = field(default_factory=dict)   # capability -> explanation
    symbols_from: str = KALLSYMS_PATH
    device: str | None = None
    writable: bool = False

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "reason": self.reason,
                "capabilities": [c for c in CAPABILITIES if c in self.capabilities],
                "missing": self.missing, "symbols_from": self.symbols_from,
                "device": self.device, "writable": self.writable}


@dataclass(frozen=True, slots=True)
class KernelValue:
    """The bytes of a symbol (or of what its pointer points to).

    ``address`` is where the bytes are, when known (the kmem device does not
    say; it is taken from kallsyms, or from the pointer for indirect
    reads). ``pointer`` is the pointer followed by an indirect read."""

    name: str
    module: str | None
    indirect: bool
    address: int | None
    result: ReadResult
    via: str
    symbol: Symbol | None = None
    pointer: int | None = None

    @property
    def data(self) -> bytes:
        return self.result.data


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


def _read_only_explanation(source: str) -> str:
    what = {"kcore": "/proc/kcore is a read-only view of kernel memory",
            "image": "an image file is a read-only snapshot, not the running kernel",
            "kallsyms": "/proc/kallsyms lists symbols but gives no access to memory"}[source]
    return what


class KernelSession:
    """One kernel source, opened. Blocking: use it on the backend thread
    (or through :class:`KernelBackend`)."""

    def __init__(self, source: str = "auto", *, kmem_path: str | None = None,
                 images: Iterable[str] = (), kallsyms_path: str = KALLSYMS_PATH,
                 proc: str = "/proc", device_root: str = "/"):
        if source not in SOURCES:
            raise InvalidInput(f"unknown kernel source {source!r}: choose one of "
                               f"{', '.join(SOURCES)}")
        self.kallsyms_path = kallsyms_path
        self.proc = proc
        self.device: KmemDevice | None = None
        self.reader: ElfCoreReader | VmlinuxImage | None = None
        self._image_symbols: list[VmlinuxImage | SystemMap | ElfCoreReader] = []
        self._table: SymbolTable | None = None
        self.holds: collections.Counter[str] = collections.Counter()
        images = [p for p in images if p]
        if source == "image" and not images:
            raise InvalidInput("--ksource image needs an image: give --image PATH "
                               "(a vmlinux, a System.map or an ELF vmcore)")
        try:
            self.info = self._choose(source, kmem_path, images, device_root)
        except BaseException:
            self.close()
            raise

    # -- choosing --------------------------------------------------------------------------------
    def _open_kmem(self, kmem_path: str | None, device_root: str) -> str:
        """Open the device, read-write if allowed; returns the reason."""
        location = discover(kmem_path, device_root)
        try:
            self.device = KmemDevice(location.node, writable=True)
        except DeviceUnavailable as rw_exc:
            self.device = KmemDevice(location.node, writable=False)
            return f"{location.reason}; opened read-only ({rw_exc.message})"
        return location.reason

    def _open_images(self, images: list[str]) -> str:
        vmcore = vmlinux = None
        for path in images:
            kind = elf_type(path)
            if kind == "ET_CORE":
                if vmcore:
                    raise InvalidInput(f"two core files given ({vmcore.path}, {path})")
                vmcore = ElfCoreReader(path)
            elif kind is not None:
                if vmlinux:
                    raise InvalidInput(f"two kernel images given ({vmlinux.path}, {path})")
                vmlinux = VmlinuxImage(path)
            elif os.path.exists(path):
                self._image_symbols.append(SystemMap(path))
            else:
                raise InvalidInput(f"image {path}: no such file")
        if vmcore and vmlinux:
            # KASLR moved the crashed kernel; the vmcore says by how much.
            vmlinux.offset = vmcore.kernel_offset
        if vmlinux:
            self._image_symbols.insert(0, vmlinux)
        if vmcore:
            self._image_symbols.append(vmcore)
            self.reader = vmcore
        elif vmlinux:
            self.reader = vmlinux
        parts = [f"{type(r).__name__} {r.path}" for r in self._image_symbols]
        return "image: " + ", ".join(parts)

    def _choose(self, source: str, kmem_path: str | None, images: list[str],
                device_root: str) -> KernelInfo:
        missing: dict[str, str] = {}
        kmem_failure = kcore_failure = None
        if source in ("auto", "kmem") and not (source == "auto" and images and not kmem_path):
            try:
                reason = self._open_kmem(kmem_path, device_root)
            except LainviewError as exc:
                if source == "kmem":
                    raise
                kmem_failure = exc.message
            else:
                assert self.device is not None      # _open_kmem opened it
                writable = self.device.writable
                caps = {"list", "read", "hold"} | ({"write"} if writable else set())
                if not writable:
                    missing["write"] = ("the kmem device could not be opened read-write: "
                                        "run lainview as root")
                why = "chosen with --ksource kmem" if source == "kmem" else "found"
                return KernelInfo("kmem", f"kmem: {why}: {reason}", frozenset(caps), missing,
                                  device=self.device.path, writable=writable)
        if source == "image" or (source == "auto" and images):
            reason = self._open_images(images)
            caps = {"list"} | ({"read"} if self.reader is not None else set())
            if self.reader is None:
                missing["read"] = ("a System.map has symbols but no memory: add a vmlinux "
                                   "(initial values) or a vmcore (--image PATH)")
            missing["write"] = _read_only_explanation("image")
            missing["hold"] = "holding modules needs the live kernel's kmem device"
            return KernelInfo("image", reason, frozenset(caps), missing,
                              symbols_from=", ".join(r.path for r in self._image_symbols))
        if source in ("auto", "kcore"):
            try:
                self.reader = ElfCoreReader(KCORE_PATH)
            except LainviewError as exc:
                if source == "kcore":
                    raise DeviceUnavailable(exc.message, op="kcore", errno=exc.errno) from None
                kcore_failure = exc.message
            else:
                why = ("chosen with --ksource kcore" if source == "kcore"
                       else f"no kmem device ({kmem_failure})")
                missing["write"] = (f"{_read_only_explanation('kcore')}; writing needs the "
                                    f"kmem device: {kmem_failure or 'not chosen'}")
                missing["hold"] = "holding modules needs the kmem device"
                return KernelInfo("kcore", f"kcore: {why}; {KCORE_PATH} is readable",
                                  frozenset({"list", "read"}), missing)
        need = ("load the lainko module (it provides /dev/lainkmem) and run as root")
        missing["read"] = (f"reading kernel memory needs the kmem device or {KCORE_PATH}: "
                           f"{kmem_failure}; {kcore_failure}")
        missing["write"] = f"writing kernel memory needs the kmem device: {need}"
        missing["hold"] = f"holding modules needs the kmem device: {need}"
        return KernelInfo("kallsyms", f"kallsyms only: {kmem_failure}; {kcore_failure}",
                          frozenset({"list"}), missing)

    # -- symbols ------------------------------------------------------------------------------
    def symbols(self, refresh: bool = False) -> SymbolTable:
        """The symbol table of this source (loaded once). Raises LainviewError
        if it cannot be read."""
        if self._table is None or refresh:
            if self.info.source == "image":
                tables = [r.symbols() for r in self._image_symbols]
                self._table = max(tables, key=len) if tables else SymbolTable.empty()
            else:
                self._table = load_kallsyms(self.kallsyms_path, proc=self.proc)
        return self._table

    def modules(self) -> ModuleList:
        table = None
        try:
            table = self.symbols()
        except LainviewError:
            pass
        return list_modules(table, proc=self.proc)

    def _require(self, capability: str) -> None:
        if capability not in self.info.capabilities:
            raise CapabilityMissing(
                f"the {self.info.source} source cannot {capability}: "
                f"{self.info.missing.get(capability, 'not supported')}", op=capability)

    def _lookup(self, name: str, module: str | None) -> Symbol | None:
        """The symbol from the table, or None when the table cannot say."""
        try:
            table = self.symbols()
        except LainviewError:
            return None
        try:
            return table.find(name, module)
        except LainviewError:
            if self.device is not None:
                return None   # the device is the authority; kallsyms may lack data symbols
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
        if self.device is not None:
            pointer = None
            data = self.device.read(name, size, module=module, indirect=indirect)
            address = symbol.address if symbol and not self._hidden() else None
            if indirect:
                pointer = self.device.read_pointer(name, module=module)
                address = pointer
            return KernelValue(name, module, indirect, address, ReadResult(address or 0, data),
                               "kmem " + ("IREADKSYM" if indirect else "READKSYM"), symbol,
                               pointer)
        assert symbol is not None and self.reader is not None
        table = self.symbols()
        if table.addresses_hidden:
            raise CapabilityMissing(f"cannot locate {name}: the symbol addresses are hidden "
                                    f"({table.hidden_reason})", op="read")
        address, pointer = symbol.address, None
        if indirect:
            raw = self.reader.read(symbol.address, POINTER_SIZE).require(op="read pointer")
            pointer = address = int.from_bytes(raw, "little")
        result = self.reader.read(address, size)
        return KernelValue(name, module, indirect, address, result,
                           getattr(self.reader, "kind", "image"), symbol, pointer)

    def _hidden(self) -> bool:
        return self._table is not None and self._table.addresses_hidden

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
        device = self.device
        assert device is not None
        before = self.read(name, len(data), module=module, indirect=indirect)
        old = before.data
        if if_changed and old == bytes(data):
            return KernelWrite(name, module, indirect, before.address, old, old, None)
        target = self._target(name, module, indirect, before.address)
        entry_id = journal.record_intent(target=target, address=before.address, old=old,
                                         new=bytes(data), reverts=reverts)
        try:
            back = self._write_verified(name, data, module, indirect, before.address)
        except LainviewError as exc:
            status = WriteStatus.VERIFY_MISMATCH if isinstance(exc, VerifyMismatch) \
                else WriteStatus.FAILED
            self._outcome(journal, entry_id, status,
                          len(data) if status != WriteStatus.FAILED else 0,
                          exc)
            raise
        self._outcome(journal, entry_id, WriteStatus.OK, len(data), None)
        return KernelWrite(name, module, indirect, before.address, old, back, entry_id)

    def _write_verified(self, name: str, data: bytes, module: str | None, indirect: bool,
                        address: int | None) -> bytes:
        """Write through the device and read back (no journaling here)."""
        device = self.device
        assert device is not None
        device.write(name, data, module=module, indirect=indirect)
        back = device.read(name, len(data), module=module, indirect=indirect)
        if back != bytes(data):
            raise VerifyMismatch(
                f"{name} reads back {back.hex()} after writing {bytes(data).hex()} (the "
                "kernel may have changed it again at once)", op="verify",
                address=address, size=len(data))
        return back

    def _target(self, name: str, module: str | None, indirect: bool,
                address: int | None) -> dict[str, object]:
        assert self.device is not None
        return {"kind": "kernel", "symbol": name, "module": module, "indirect": indirect,
                "address": address, "source": self.info.source, "device": self.device.path,
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

    @staticmethod
    def _outcome(journal: Journal, entry_id: int, status: WriteStatus, written: int,
                 exc: BaseException | None) -> None:
        try:
            journal.record_outcome(entry_id, status, written, str(exc) if exc else None)
        except LainviewError:
            pass   # the intent is on disk: the write stays revertible

    # -- holds --------------------------------------------------------------------------------
    def hold(self, module: str) -> int:
        """LOCKSYM ``module``; returns how many holds lainview now has on it."""
        encode_module_name(module)
        self._require("hold")
        assert self.device is not None
        self.device.lock(module)
        self.holds[module] += 1
        return self.holds[module]

    def release(self, module: str) -> int:
        """UNLOCKSYM ``module``; returns the holds lainview has left on it
        (holds taken by an earlier lainview process are released too)."""
        encode_module_name(module)
        self._require("hold")
        assert self.device is not None
        self.device.unlock(module)
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

    # -- reverting ----------------------------------------------------------------------------
    def revert(self, journal: Journal, entry_ids: list[int] | None = None, *,
               force: bool = False) -> list[RevertOutcome]:
        """Undo journaled kernel writes, newest first. Without ids: every
        kernel write that is not itself a revert and not yet reverted."""
        return [self._revert_one(journal, e, force)
                for e in journal.revertible("kernel", entry_ids)]

    def _revert_one(self, journal: Journal, entry: JournalEntry, force: bool) -> RevertOutcome:
        target = entry.target
        recorded_boot = target.get("boot_id")
        if recorded_boot and recorded_boot != boot_id():
            return RevertOutcome(entry.id, RevertStatus.GONE,
                                 "the machine has rebooted since this write: "
                                 "kernel memory no longer holds it")
        name: str = target.get("symbol") or ""
        module: str | None = target.get("module")
        indirect = bool(target.get("indirect"))
        try:
            current = self.read(name, len(entry.old), module=module, indirect=indirect)
            if indirect and entry.address is not None and current.address != entry.address:
                return RevertOutcome(
                    entry.id, RevertStatus.CONFLICT,
                    f"the pointer at {name} now points to {current.address:#x}, not "
                    f"{entry.address:#x} as when it was written; nothing reverted")
            plan = revert_plan(entry, current.result.require(op="revert"))
            if plan == "done":
                return RevertOutcome(entry.id, RevertStatus.ALREADY,
                                     f"{name} already holds the old bytes")
            if plan == "conflict" and not force:
                return RevertOutcome(
                    entry.id, RevertStatus.CONFLICT,
                    f"{name} changed since the write (now {current.data.hex()}, wrote "
                    f"{entry.new.hex()}); use --force to revert anyway")
            result = self.write(name, entry.old, journal, module=module, indirect=indirect,
                                reverts=entry.id)
            return RevertOutcome(entry.id, RevertStatus.REVERTED,
                                 f"restored {len(entry.old)} bytes of {name}", result.journal_id)
        except NoSuchSymbol as exc:
            return RevertOutcome(entry.id, RevertStatus.GONE, str(exc))
        except LainviewError as exc:
            return RevertOutcome(entry.id, RevertStatus.FAILED, str(exc))

    # -- closing ------------------------------------------------------------------------------
    def close(self) -> None:
        if self.device is not None:
            self.device.close()
            self.device = None
        for reader in [self.reader, *self._image_symbols]:
            if reader is not None:
                reader.close()
        self.reader = None
        self._image_symbols = []


class KernelBackend:
    """The kernel half of the backend facade: every call runs on the backend
    thread of ``backend`` and returns a Future. The source is opened on the
    first call; its descriptors are closed when the backend shuts down.
    ``release_holds_on_close``: release, at shutdown, the module holds this
    object took (the GUI does; the CLI's ``kmod hold`` must not)."""

    def __init__(self, backend: Backend, *, source: str = "auto",
                 kmem_path: str | None = None, images: Iterable[str] = (),
                 release_holds_on_close: bool = True, **session_kw: Any):
        self.thread: BackendThread = backend.thread
        self.journal: Journal = backend.journal
        self.freezes: OpenFreezes = backend.freezes
        self._args = (source, kmem_path, tuple(images))
        self._session_kw = session_kw
        self._session: KernelSession | None = None
        self._release_holds = release_holds_on_close
        self.thread.call_on_shutdown(self._close)

    def _get(self) -> KernelSession:
        if self._session is None:
            source, kmem_path, images = self._args
            self._session = KernelSession(source, kmem_path=kmem_path, images=images,
                                          **self._session_kw)
        return self._session

    def _submit(self, fn: Callable[Concatenate[KernelSession, P], T], /, *args: P.args,
                **kwargs: P.kwargs) -> BackendFuture[T]:
        return self.thread.submit(lambda: fn(self._get(), *args, **kwargs))

    def info(self) -> BackendFuture[KernelInfo]:
        """Future[KernelInfo]: the chosen source, the reason, the capabilities.
        Raises DeviceUnavailable when an explicitly chosen source is missing."""
        return self._submit(lambda s: s.info)

    def symbols(self, refresh: bool = False) -> BackendFuture[SymbolTable]:
        """Future[SymbolTable]."""
        return self._submit(KernelSession.symbols, refresh)

    def modules(self) -> BackendFuture[ModuleList]:
        """Future[ModuleList]."""
        return self._submit(KernelSession.modules)

    def read(self, name: str, size: int, *, module: str | None = None,
             indirect: bool = False) -> BackendFuture[KernelValue]:
        """Future[KernelValue]; see :meth:`KernelSession.read`."""
        return self._submit(KernelSession.read, name, size, module=module, indirect=indirect)

    def read_many(self, requests: Iterable[tuple[str, int, str | None]]
                  ) -> BackendFuture[list[KernelValue | LainviewError]]:
        """Future[list[KernelValue | LainviewError]]: several symbol reads,
        given as (name, size, module), in one request (the watch list's
        refresh). Each failure is returned in its place, not raised."""
        wanted = list(requests)

        def run(session: KernelSession) -> list[KernelValue | LainviewError]:
            out: list[KernelValue | LainviewError] = []
            for name, size, module in wanted:
                try:
                    out.append(session.read(name, size, module=module))
                except LainviewError as exc:
                    out.append(exc)
            return out
        return self._submit(run)

    def write(self, name: str, data: bytes, *, module: str | None = None,
              indirect: bool = False, if_changed: bool = False) -> BackendFuture[KernelWrite]:
        """Future[KernelWrite]: journaled, read back; see :meth:`KernelSession.write`."""
        return self._submit(KernelSession.write, name, bytes(data), self.journal,
                            module=module, indirect=indirect, if_changed=if_changed)

    def freeze_begin(self, name: str, held: bytes, *, module: str | None = None,
                     before: bytes | None = None) -> BackendFuture[int]:
        """Future[int]: journal a freeze of ``name`` (see :meth:`Target.freeze_begin`
        in service.py); end it with ``Backend.freeze_end``."""
        return self._submit(KernelSession.freeze_begin, self.freezes, name, bytes(held),
                            module=module, before=before)

    def freeze_write(self, journal_id: int, name: str, data: bytes, *,
                     module: str | None = None) -> BackendFuture[KernelWrite]:
        """Future[KernelWrite]: one write of an open freeze."""
        return self._submit(KernelSession.freeze_write, self.freezes, journal_id, name,
                            bytes(data), module=module)

    def freeze_end(self, journal_id: int, error: str | None = None
                   ) -> BackendFuture[int | None]:
        """Future[int | None]: record the end of a freeze (``Backend.freeze_end``)."""
        return self.thread.submit(self.freezes.end, journal_id, error)

    def hold(self, module: str) -> BackendFuture[int]:
        """Future[int]: the holds lainview now has on ``module``."""
        return self._submit(KernelSession.hold, module)

    def release(self, module: str) -> BackendFuture[int]:
        """Future[int]: the holds lainview has left on ``module``."""
        return self._submit(KernelSession.release, module)

    def holds(self) -> BackendFuture[dict[str, int]]:
        """Future[dict[str, int]]: the holds this lainview took."""
        return self._submit(lambda s: dict(s.holds))

    def revert(self, entry_ids: Iterable[int] | None = None, *,
               force: bool = False) -> BackendFuture[list[RevertOutcome]]:
        """Future[list[RevertOutcome]]: undo journaled kernel writes."""
        ids = list(entry_ids) if entry_ids is not None else None
        return self._submit(KernelSession.revert, self.journal, ids, force=force)

    def _close(self) -> None:
        if self._session is not None:
            if self._release_holds:
                self._session.release_all()
            self._session.close()
            self._session = None


__all__ = ["KernelSession", "KernelBackend", "KernelInfo", "KernelValue", "KernelWrite",
           "SOURCES", "CAPABILITIES", "boot_id"]


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
