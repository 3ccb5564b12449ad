"""Kernel sources behind one protocol, and the registry that chooses one.

A *kernel source* is where lainview gets the kernel's symbols and memory:

========  =======================================  ====  ====  =====  ====
source    needs                                    list  read  write  hold
========  =======================================  ====  ====  =====  ====
kmem      /dev/lainkmem (the lainko module), root  yes   yes   yes    yes
image     a vmlinux, System.map or ELF vmcore      yes   [1]   no     no
kcore     /proc/kcore (CONFIG_PROC_KCORE), root    yes   yes   no     no
kallsyms  nothing: the last resort of ``auto``     yes   no    no     no
========  =======================================  ====  ====  =====  ====

[1] a vmlinux gives initial values, a vmcore the memory at the crash; a
System.map alone cannot read.

Each source is one :class:`KernelSource` subclass: it says what it can do at
best (``offers``), opens itself from a :class:`SourceRequest` or raises a
LainviewError saying why it cannot, and once open states its capabilities
and, for each one it lacks, why and how to get it. :data:`REGISTRY` lists the
classes in the order ``auto`` tries them; :func:`choose` is a loop over it
that keeps every passed-over source's reason. A new source is one class and
one :func:`register` call: the CLI's ``--ksource``, ``kinfo`` and the GUI's
kernel browser read the registry.

Blocking: open and use sources on the backend thread.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator, Protocol

from .errors import CapabilityMissing, DeviceUnavailable, InvalidInput, LainviewError
from .kallsyms import KALLSYMS_PATH, Symbol, SymbolTable, load_kallsyms
from .kcore import KCORE_PATH, ElfCoreReader, SystemMap, VmlinuxImage, elf_type
from .kmem import POINTER_SIZE, KmemDevice, discover
from .memory import ReadResult
from .wording import quoted

# Every capability a source may have, in the order they are shown:
# list (symbols), read (memory), write (memory), hold (modules).
CAPABILITIES = ("list", "read", "write", "hold")
AUTO = "auto"


# -- what sources return ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class KernelValue:
    """The bytes of a symbol (or of what its pointer points to).

    ``address`` is where the bytes are, when known (the kmem device does not
    say; it is taken from kallsyms, or from the pointer for indirect
    reads). ``pointer`` is the pointer followed by an indirect read;
    ``via`` names the source's way of reading (e.g. "kmem READKSYM")."""

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
class KernelInfo:
    """The chosen source, why, what it can do and what the rest needs.

    ``missing``: capability -> why it is missing and how to get it.
    ``passed_over``: source name -> why ``auto`` did not choose it (or
    "not tried: ..." for the sources after the chosen one), in registry
    order; empty when a source was chosen by name."""

    source: str
    reason: str
    capabilities: frozenset[str]
    missing: dict[str, str] = field(default_factory=dict)
    symbols_from: str = KALLSYMS_PATH
    device: str | None = None
    writable: bool = False
    passed_over: dict[str, str] = field(default_factory=dict)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "reason": self.reason,
                "capabilities": [c for c in CAPABILITIES if c in self.capabilities],
                "missing": self.missing, "symbols_from": self.symbols_from,
                "device": self.device, "writable": self.writable,
                "passed_over": self.passed_over}


@dataclass(frozen=True, slots=True)
class SourceRequest:
    """What the user asked for: ``source`` ("auto" or a registered name),
    ``kmem_path`` (--kmem), ``images`` (--image paths), ``device_root``
    (where /dev and /sys are; tests), ``kallsyms_path`` and ``proc``."""

    source: str = AUTO
    kmem_path: str | None = None
    images: tuple[str, ...] = ()
    device_root: str = "/"
    kallsyms_path: str = KALLSYMS_PATH
    proc: str = "/proc"

    @property
    def explicit(self) -> bool:
        """True when the user named the source (its failure is then an error)."""
        return self.source != AUTO


class NotApplicable(LainviewError):
    """The request does not call for this source (e.g. no --image given):
    ``auto`` passes it over with this reason."""


class MemoryImage(Protocol):
    """What the file readers of kcore.py share (ElfCoreReader, VmlinuxImage,
    SystemMap): a path, a kind, a symbol table, and close. Those with memory
    also have ``read(address, size) -> ReadResult``."""

    path: str
    kind: str

    def symbols(self) -> SymbolTable: ...

    def close(self) -> None: ...


class MemoryReader(MemoryImage, Protocol):
    def read(self, address: int, size: int) -> ReadResult: ...


# -- the protocol ------------------------------------------------------------------------------------

class KernelSource(ABC):
    """One kernel source, opened.

    Class attributes: ``name`` (what --ksource takes), ``needs`` (one line
    for help and kinfo), ``offers`` (the capabilities it has at best), and
    ``names_symbols`` (True when it resolves names itself, so a symbol
    kallsyms lacks is still asked for). After :meth:`open`: ``reason`` (what
    was opened and why), ``capabilities``, ``missing`` (capability -> why it
    is missing, for every capability it lacks), ``device`` (a device node, for
    the journal) and ``writable``."""

    name: ClassVar[str]
    needs: ClassVar[str]
    offers: ClassVar[frozenset[str]]
    names_symbols: ClassVar[bool] = False
    # The request's options this source reads ("kmem": --kmem, "image":
    # --image); choosing it by name with another one given is an error.
    options: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, reason: str, capabilities: frozenset[str], missing: dict[str, str],
                 *, device: str | None = None, writable: bool = False):
        unexplained = set(CAPABILITIES) - capabilities - set(missing)
        if unexplained:
            raise TypeError(f"the {self.name} source lacks {', '.join(sorted(unexplained))} "
                            "without saying why")
        self.reason = reason
        self.capabilities = capabilities
        self.missing = missing
        self.device = device
        self.writable = writable

    @classmethod
    @abstractmethod
    def open(cls, request: SourceRequest) -> "KernelSource":
        """Open the source for ``request``. Raises LainviewError saying why
        it cannot (then nothing stays open): under ``auto`` the message is
        the reason it was passed over (NotApplicable: the request does not
        call for it), except InvalidInput (bad input, e.g. a missing
        --image file), which ends the choice; when chosen by name it is the
        error."""

    @abstractmethod
    def symbols(self, request: SourceRequest) -> SymbolTable:
        """The symbol table (read afresh: KernelMemory caches it). Raises
        LainviewError when it cannot be read."""

    def symbols_from(self, request: SourceRequest) -> str:
        """Where the symbols come from (a path, or paths joined by ", ")."""
        return request.kallsyms_path

    def read(self, name: str, size: int, *, module: str | None, indirect: bool,
             symbol: Symbol | None, table: SymbolTable | None) -> KernelValue:
        """``size`` bytes of ``name`` (or through its pointer). ``symbol`` is
        the table's entry (None when the table cannot say), ``table`` the
        loaded table if any. Only called when "read" is a capability."""
        raise CapabilityMissing(f"the {self.name} source cannot read", op="read")

    def write(self, name: str, data: bytes, *, module: str | None, indirect: bool) -> None:
        """Write ``data`` at ``name`` (or through its pointer); no journaling
        here. Only called when "write" is a capability."""
        raise CapabilityMissing(f"the {self.name} source cannot write", op="write")

    def lock(self, module: str) -> None:
        """One more hold on ``module``. Only called when "hold" is a capability."""
        raise CapabilityMissing(f"the {self.name} source cannot hold modules", op="hold")

    def unlock(self, module: str) -> None:
        raise CapabilityMissing(f"the {self.name} source cannot hold modules", op="hold")

    def close(self) -> None:
        """Close what the source opened (idempotent)."""


# -- the registry ------------------------------------------------------------------------------------

REGISTRY: list[type[KernelSource]] = []


def register(cls: type[KernelSource], *, before: str | None = None) -> type[KernelSource]:
    """Add a source class, last (tried last by ``auto``) or before the
    source named ``before``. Returns the class (usable as a decorator)."""
    if any(c.name == cls.name for c in REGISTRY) or cls.name == AUTO:
        raise ValueError(f"a kernel source named {cls.name!r} is already registered")
    if before is None:
        REGISTRY.append(cls)
    else:
        REGISTRY.insert([c.name for c in REGISTRY].index(before), cls)
    return cls


def unregister(name: str) -> None:
    REGISTRY[:] = [c for c in REGISTRY if c.name != name]


def source_class(name: str) -> type[KernelSource]:
    for cls in REGISTRY:
        if cls.name == name:
            return cls
    raise InvalidInput(f"unknown kernel source {quoted(name)}: choose one of "
                       f"{', '.join(source_names())}")


def source_names() -> tuple[str, ...]:
    """What --ksource accepts: "auto", then every registered source."""
    return (AUTO, *(c.name for c in REGISTRY))


class SourceNames:
    """A live view of :func:`source_names` (for argparse ``choices``: a
    source registered after the parser was built is still accepted)."""

    def __contains__(self, name: object) -> bool:
        return name in source_names()

    def __iter__(self) -> Iterator[str]:
        return iter(source_names())

    def __len__(self) -> int:
        return len(source_names())


def choose(request: SourceRequest) -> tuple[KernelSource, KernelInfo]:
    """Open the source ``request`` names, or under ``auto`` the first of
    :data:`REGISTRY` that opens, keeping why each one before it did not.
    Returns the open source and its :class:`KernelInfo`. Raises
    InvalidInput (unknown name), or the named source's error."""
    if request.explicit:
        cls = source_class(request.source)
        check_options(cls, request)
        source = cls.open(request)
        return source, _info(source, request, {})
    passed_over: dict[str, str] = {}
    for cls in REGISTRY:
        try:
            source = cls.open(request)
        except InvalidInput:
            raise
        except LainviewError as exc:
            passed_over[cls.name] = exc.message
            continue
        later = REGISTRY[REGISTRY.index(cls) + 1:]
        passed_over.update((c.name, f"not tried: {cls.name} comes first") for c in later)
        return source, _info(source, request, passed_over)
    raise DeviceUnavailable("no kernel source could be opened: " + "; ".join(
        f"{name}: {why}" for name, why in passed_over.items()), op="kernel")


# Each option of a request: (its name in SourceRequest's terms, the CLI flag).
_OPTIONS = (("kmem", "--kmem"), ("image", "--image"))


def check_options(cls: type[KernelSource], request: SourceRequest) -> None:
    """Raise InvalidInput when ``request`` gives an option the source
    ``cls`` would ignore (``--ksource kallsyms --image X``): a contradiction
    is said, never silently dropped."""
    given = {"kmem": request.kmem_path is not None, "image": any(request.images)}
    for option, flag in _OPTIONS:
        if given[option] and option not in cls.options:
            users = [c.name for c in REGISTRY if option in c.options]
            raise InvalidInput(f"{flag} is not used by --ksource {cls.name}: "
                               f"drop {flag}, or choose --ksource "
                               f"{' or '.join(users) or AUTO}")


def _info(source: KernelSource, request: SourceRequest,
          passed_over: dict[str, str]) -> KernelInfo:
    """The source's own explanations of what it lacks, each followed by why
    the passed-over sources that offer it were not chosen."""
    missing = {}
    for capability, why in source.missing.items():
        others = [f"{name}: {passed_over[name]}" for name in passed_over
                  if capability in source_class(name).offers
                  and not passed_over[name].startswith("not tried")]
        missing[capability] = why + (f" ({'; '.join(others)})" if others else "")
    how = f"--ksource {source.name}" if request.explicit else "auto"
    reason = f"{source.name} ({how}): {source.reason}"
    return KernelInfo(source.name, reason, source.capabilities, missing,
                      symbols_from=source.symbols_from(request), device=source.device,
                      writable=source.writable, passed_over=passed_over)


# -- the sources ------------------------------------------------------------------------------------

class KmemSource(KernelSource):
    """The kmem device of the lainko module: the live kernel, by symbol name."""

    name = "kmem"
    needs = "/dev/lainkmem (the lainko module), root"
    offers = frozenset(CAPABILITIES)
    names_symbols = True
    options = frozenset({"kmem"})

    def __init__(self, device: KmemDevice, reason: str):
        writable = device.writable
        missing = {} if writable else {
            "write": "the kmem device could not be opened read-write: run lainview as root"}
        super().__init__(reason, frozenset({"list", "read", "hold"} | ({"write"} if writable
                                                                        else set())),
                         missing, device=device.path, writable=writable)
        self.kmem: KmemDevice | None = device

    @classmethod
    def open(cls, request: SourceRequest) -> "KmemSource":
        if not request.explicit and request.images and not request.kmem_path:
            raise NotApplicable("an --image was given (add --kmem PATH or --ksource kmem "
                                "for the running kernel)", op="kernel")
        location = discover(request.kmem_path, request.device_root)
        try:
            device = KmemDevice(location.node, writable=True)
        except DeviceUnavailable as rw_exc:
            device = KmemDevice(location.node, writable=False)
            return cls(device, f"{location.reason}; opened read-only ({rw_exc.message})")
        return cls(device, location.reason)

    def _device(self) -> KmemDevice:
        if self.kmem is None:
            raise LainviewError("the kmem device is closed", op="kmem")
        return self.kmem

    def symbols(self, request: SourceRequest) -> SymbolTable:
        return load_kallsyms(request.kallsyms_path, proc=request.proc)

    def read(self, name: str, size: int, *, module: str | None, indirect: bool,
             symbol: Symbol | None, table: SymbolTable | None) -> KernelValue:
        device = self._device()
        data = device.read(name, size, module=module, indirect=indirect)
        hidden = table is not None and table.addresses_hidden
        address = symbol.address if symbol is not None and not hidden else None
        pointer = None
        if indirect:
            pointer = address = device.read_pointer(name, module=module)
        return KernelValue(name, module, indirect, address, ReadResult(address or 0, data),
                           "kmem " + ("IREADKSYM" if indirect else "READKSYM"), symbol,
                           pointer)

    def write(self, name: str, data: bytes, *, module: str | None, indirect: bool) -> None:
        self._device().write(name, data, module=module, indirect=indirect)

    def lock(self, module: str) -> None:
        self._device().lock(module)

    def unlock(self, module: str) -> None:
        self._device().unlock(module)

    def close(self) -> None:
        if self.kmem is not None:
            self.kmem.close()
            self.kmem = None


class _ReaderSource(KernelSource):
    """A source that reads memory by address from a file (kcore.py's
    readers), locating symbols through its table."""

    def __init__(self, reason: str, capabilities: frozenset[str], missing: dict[str, str],
                 reader: MemoryReader | None):
        super().__init__(reason, capabilities, missing)
        self.reader = reader

    def read(self, name: str, size: int, *, module: str | None, indirect: bool,
             symbol: Symbol | None, table: SymbolTable | None) -> KernelValue:
        assert self.reader is not None and symbol is not None and table is not None
        if table.addresses_hidden:
            raise CapabilityMissing(f"cannot locate {name}: the symbol addresses are hidden "
                                    f"({table.hidden_reason})", op="read")
        address, pointer = symbol.address, None
        if indirect:
            raw = self.reader.read(symbol.address, POINTER_SIZE).require(op="read pointer")
            pointer = address = int.from_bytes(raw, "little")
        result = self.reader.read(address, size)
        return KernelValue(name, module, indirect, address, result, self.reader.kind, symbol,
                           pointer)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class ImageSource(_ReaderSource):
    """An offline kernel: a vmlinux, a System.map, an ELF vmcore (--image)."""

    name = "image"
    needs = "a vmlinux, System.map or ELF vmcore (--image PATH)"
    offers = frozenset({"list", "read"})
    options = frozenset({"image"})

    def __init__(self, images: list[MemoryImage], reader: MemoryReader | None):
        missing = {"write": "an image file is a read-only snapshot, not the running kernel",
                   "hold": "holding modules needs the live kernel's kmem device"}
        if reader is None:
            missing["read"] = ("a System.map has symbols but no memory: add a vmlinux "
                               "(initial values) or a vmcore (--image PATH)")
        reason = ", ".join(f"{type(r).__name__} {r.path}" for r in images)
        super().__init__(reason, frozenset({"list"} | ({"read"} if reader else set())),
                         missing, reader)
        self.images = images

    @classmethod
    def open(cls, request: SourceRequest) -> "ImageSource":
        images = [p for p in request.images if p]
        if not images:
            if request.explicit:
                raise InvalidInput("--ksource image needs an image: give --image PATH "
                                   "(a vmlinux, a System.map or an ELF vmcore)")
            raise NotApplicable("no --image given", op="kernel")
        opened: list[MemoryImage] = []
        try:
            vmcore: ElfCoreReader | None = None
            vmlinux: VmlinuxImage | None = None
            maps: list[MemoryImage] = []
            for path in images:
                kind = elf_type(path)
                if kind == "ET_CORE":
                    if vmcore:
                        raise InvalidInput(f"two core files given ({vmcore.path}, {path})")
                    vmcore = ElfCoreReader(path)
                    opened.append(vmcore)
                elif kind is not None:
                    if vmlinux:
                        raise InvalidInput(f"two kernel images given ({vmlinux.path}, {path})")
                    vmlinux = VmlinuxImage(path)
                    opened.append(vmlinux)
                elif os.path.exists(path):
                    maps.append(SystemMap(path))
                else:
                    raise InvalidInput(f"image {path}: no such file")
        except BaseException:
            for r in opened:
                r.close()
            raise
        if vmcore and vmlinux:
            # KASLR moved the crashed kernel; the vmcore says by how much.
            vmlinux.offset = vmcore.kernel_offset
        ordered: list[MemoryImage] = [*([vmlinux] if vmlinux else []), *maps,
                                      *([vmcore] if vmcore else [])]
        return cls(ordered, vmcore or vmlinux)

    def symbols(self, request: SourceRequest) -> SymbolTable:
        tables = [r.symbols() for r in self.images]
        return max(tables, key=len) if tables else SymbolTable.empty()

    def symbols_from(self, request: SourceRequest) -> str:
        return ", ".join(r.path for r in self.images)

    def close(self) -> None:
        for r in self.images:
            r.close()
        self.images = []
        self.reader = None


class KcoreSource(_ReaderSource):
    """/proc/kcore: the running kernel's memory as an ELF core, read-only."""

    name = "kcore"
    needs = f"{KCORE_PATH} (CONFIG_PROC_KCORE), root"
    offers = frozenset({"list", "read"})
    path: ClassVar[str] = KCORE_PATH

    @classmethod
    def open(cls, request: SourceRequest) -> "KcoreSource":
        try:
            reader = ElfCoreReader(cls.path)
        except LainviewError as exc:      # not the user's input: the kernel's file
            raise DeviceUnavailable(exc.message, op="kcore", errno=exc.errno) from None
        return cls(f"{cls.path} is readable", frozenset({"list", "read"}), {
            "write": f"{cls.path} is a read-only view of kernel memory; writing needs the "
                     "kmem device",
            "hold": "holding modules needs the kmem device"}, reader)

    def symbols(self, request: SourceRequest) -> SymbolTable:
        return load_kallsyms(request.kallsyms_path, proc=request.proc)


class KallsymsSource(KernelSource):
    """Symbols only, from /proc/kallsyms: the last resort of ``auto``."""

    name = "kallsyms"
    needs = "nothing: /proc/kallsyms lists the symbols"
    offers = frozenset({"list"})

    @classmethod
    def open(cls, request: SourceRequest) -> "KallsymsSource":
        # Under auto, why kmem and kcore were passed over follows each reason
        # (with the advice to load the module): say the advice only when chosen by name.
        need = ("load the lainko module (it provides /dev/lainkmem) and run as root"
                if request.explicit else "see why each was not chosen")
        return cls("symbols only, no access to memory", frozenset({"list"}), {
            "read": f"reading kernel memory needs the kmem device or {KCORE_PATH}: {need}",
            "write": f"writing kernel memory needs the kmem device: {need}",
            "hold": f"holding modules needs the kmem device: {need}"})

    def symbols(self, request: SourceRequest) -> SymbolTable:
        return load_kallsyms(request.kallsyms_path, proc=request.proc)


for _cls in (KmemSource, ImageSource, KcoreSource, KallsymsSource):
    register(_cls)


__all__ = ["CAPABILITIES", "REGISTRY", "KernelSource", "KernelInfo", "KernelValue",
           "SourceRequest", "SourceNames", "NotApplicable", "check_options", "MemoryImage", "MemoryReader", "register",
           "unregister", "source_class", "source_names", "choose", "KmemSource",
           "ImageSource", "KcoreSource", "KallsymsSource"]
