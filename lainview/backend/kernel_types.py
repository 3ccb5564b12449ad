"""Types for kernel symbols: the running kernel's BTF (``/sys/kernel/btf``)
and the DWARF of the vmlinux images given with ``--image``, behind one
object the kernel browser and ``kread`` ask.

- :meth:`KernelTypes.search`: type-ahead over every type name (BTF's, then
  the images' DWARF names), safe to call from any thread once built.
- :meth:`KernelTypes.find`: a type by name (``struct uts_namespace``), from
  the images' DWARF when one has it (it describes the image being read),
  else from BTF (a module's split BTF for a module's symbol).
- :meth:`KernelTypes.variable`: the type DWARF gives a global variable of an
  image (``init_uts_ns`` → ``struct uts_namespace``), or None.

Blocking, and the DWARF readers hold their files open: build and ask it on
the backend thread (:meth:`lainview.backend.kernel.KernelBackend.types`).
Types handed to another thread are first :func:`settled` so that naming
their fields reads nothing more.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from .btf import BTF, BTF_DIR, NameIndex, load_kernel_btf
from .ctypes_model import CType, settled
from .dwarf_types import DebugTypes
from .errors import InvalidInput, LainviewError
from .wording import printable, quoted


class KernelTypes:
    """BTF (or why there is none) and the DWARF of images (or why not)."""

    def __init__(self, images: Iterable[str] = (), btf_dir: str = BTF_DIR, *,
                 index: bool = True):
        """``index`` False: the images' DWARF is opened but not indexed
        (their types are found once :meth:`index_steps` has run)."""
        self.notes: list[str] = []          # why a source of types is missing
        self.btf: BTF | None = None
        self._btf_dir = btf_dir
        self._modules: dict[str, BTF | None] = {}
        try:
            self.btf = load_kernel_btf(directory=btf_dir)
        except LainviewError as exc:
            self.notes.append(f"no kernel BTF: {exc}")
        self.dwarf: list[DebugTypes] = []
        for path in images:
            try:
                self.dwarf.append(DebugTypes(path, index=index))
            except LainviewError as exc:
                self._no_dwarf(path, exc)
        self._dwarf_names = NameIndex(())
        if index:
            self._name_dwarf()
        if self.btf is not None:
            self.btf.search("")             # builds the name index here, not on first use

    def _no_dwarf(self, path: str, exc: LainviewError) -> None:
        self.notes.append(f"no DWARF types from {printable(os.path.basename(path))}: {exc}")

    def _name_dwarf(self) -> None:
        names: list[str] = []
        for d in self.dwarf:
            names.extend(d.names())
        self._dwarf_names = NameIndex(names)

    def index_steps(self) -> Iterator[int]:
        """Index the images' DWARF one compilation unit per step (see
        :meth:`DebugTypes.index_steps`), as bulk work; an image whose DWARF
        turns out damaged is dropped with a note."""
        done = 0
        for d in list(self.dwarf):
            try:
                for _ in d.index_steps():
                    done += 1
                    yield done
            except InvalidInput as exc:
                self.dwarf.remove(d)
                d.close()
                self._no_dwarf(d.path, exc)
        self._name_dwarf()

    @property
    def available(self) -> bool:
        """True when some source of types (BTF or DWARF) was found."""
        return self.btf is not None or bool(self.dwarf)

    @property
    def origin(self) -> str:
        """Where types come from, for a note: ``BTF (/sys/kernel/btf/vmlinux)``,
        ``DWARF of vmlinux``, both, or "" when none."""
        parts = []
        if self.dwarf:
            parts.append("DWARF of " + ", ".join(printable(os.path.basename(d.path))
                                                 for d in self.dwarf))
        if self.btf is not None:
            parts.append(f"BTF ({self._btf_dir}/vmlinux)")
        return " and ".join(parts)

    def why_none(self) -> str:
        """Why no types are available (the notes, one sentence)."""
        return "; ".join(self.notes) or "no type information"

    def search(self, text: str, limit: int = 50) -> list[str]:
        """Type-ahead: up to ``limit`` type names containing ``text``, BTF's
        first (ordered as :meth:`NameIndex.search` orders), then DWARF's."""
        out = self.btf.search(text, limit) if self.btf is not None else []
        if len(out) < limit and len(self._dwarf_names):
            seen = set(out)
            out += [n for n in self._dwarf_names.search(text, limit) if n not in seen]
        return out[:limit]

    def find(self, name: str, module: str | None = None) -> CType:
        """The type ``name`` names, :func:`settled`. DWARF of the images
        first, then BTF (``module``'s split BTF when it has one). Raises
        InvalidInput naming where it looked."""
        for d in self.dwarf:
            try:
                return settled(d.find(name), follow=0)
            except InvalidInput:
                continue
        btf = self._module_btf(module) if module else self.btf
        if btf is not None:
            return settled(btf.find(name), follow=0)
        if not self.available:
            raise InvalidInput(f"cannot look up {quoted(name)}: {self.why_none()}")
        raise InvalidInput(f"no type {quoted(name)} in {self.origin}")

    def variable(self, name: str) -> CType | None:
        """The DWARF type of the global ``name`` in an image, :func:`settled`;
        None when no image describes it."""
        for d in self.dwarf:
            try:
                return settled(d.variable(name)[0], follow=0)
            except InvalidInput:
                continue
        return None

    def _module_btf(self, module: str) -> BTF | None:
        if module not in self._modules:
            try:
                self._modules[module] = load_kernel_btf(module, self._btf_dir)
            except LainviewError:
                self._modules[module] = self.btf
        return self._modules[module]

    def close(self) -> None:
        for d in self.dwarf:
            d.close()
        self.dwarf = []
