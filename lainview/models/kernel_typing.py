"""The selected kernel symbol as a typed value: which type it has, and its
fields (offset, type, live value) as a tree.

The type comes, in this order, from the user's choice for that symbol
(remembered in the settings file under ``kernel_types/``, restored when
the symbol is selected again), or from the DWARF of an ``--image`` vmlinux
(variables get their type automatically); else the user picks one with
type-ahead over every BTF (and DWARF) type name
(:meth:`SymbolTyping.search`). Types are looked up on the backend thread
(:meth:`KernelBackend.find_type`); the tree is a
:class:`~.structure_model.StructureModel` over the value controller's
:class:`~.block_document.BlockDocument`, so it is refreshed by the same
reads (live timer, F5, after a write) and its number fields edit through
the browser's staged-patch flow.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from lainview.backend.ctypes_model import CType, Field, Record
from lainview.backend.errors import InvalidInput, LainviewError
from lainview.backend.kallsyms import is_pseudo_module
from lainview.backend.kernel import KernelBackend
from lainview.backend.kernel_types import KernelTypes
from lainview.backend.placements import check_placeable
from lainview.backend.wording import printable

from . import settings
from .structure_model import StructureModel
from .tasks import TaskSet

if TYPE_CHECKING:
    from .kernel_workspace import KernelValueController

SETTINGS_GROUP = "kernel_types"
SEARCH_LIMIT = 100


def settings_key(name: str, module: str | None) -> str:
    """The settings key of a symbol's remembered type."""
    return f"{SETTINGS_GROUP}/{module or 'vmlinux'}.{name}"


class SymbolTyping(QObject):
    """The type of the value controller's symbol and its tree (``structure``).

    ``type_name`` is "" while untyped; ``origin`` says where the type came
    from ("chosen", "remembered", "DWARF"); ``note`` is one line for the
    panel (what is shown, or why nothing is)."""

    changed = Signal()          # type, origin or note changed
    types_ready = Signal()      # the type names can be searched

    def __init__(self, kernel: KernelBackend, value: "KernelValueController",
                 parent: QObject | None = None):
        super().__init__(parent)
        self.kernel = kernel
        self.value = value
        self.structure = StructureModel(value.document, None, self)
        self.types: KernelTypes | None = None
        self.types_error = ""
        self.type_name = ""
        self.origin = ""
        self.note = "loading kernel types…"
        self.ctype: CType | None = None
        self._key: tuple[str, str | None] | None = None
        self._request = 0
        self._tasks = TaskSet("the kernel types")
        value.changed.connect(self._on_value_changed)
        value.document.region_changed.connect(self._on_region)

    # -- loading ---------------------------------------------------------------------------------
    def start(self) -> asyncio.Task:
        """Load the type names (BTF, images' DWARF) on the backend thread."""
        return self._tasks.spawn(self._load())

    async def _load(self) -> None:
        try:
            self.types = await asyncio.wrap_future(self.kernel.types())
        except LainviewError as exc:
            self.types_error = str(exc)
        if self.types is not None and not self.types.available:
            self.types_error = self.types.why_none()
        self.types_ready.emit()
        self._key = None                     # type the selected symbol now
        self._on_value_changed()

    @property
    def available(self) -> bool:
        return self.types is not None and self.types.available

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> list[str]:
        """Type-ahead: type names containing ``text`` (BTF's first)."""
        if self.types is None:
            return []
        return self.types.search(text.strip(), limit)

    # -- the selected symbol -------------------------------------------------------------------
    def _symbol_key(self) -> tuple[str, str | None] | None:
        symbol = self.value.symbol
        if symbol is None:
            return None
        module = symbol.module if symbol.module and not is_pseudo_module(symbol.module) \
            else None
        return symbol.name, module

    def _on_value_changed(self) -> None:
        key = self._symbol_key()
        if key == self._key:
            return
        self._key = key
        self._request += 1
        self.ctype, self.type_name, self.origin = None, "", ""
        self.structure.clear()
        self.changed.emit()
        if key is None:
            self._set_note("")
            return
        if self.types is None:
            self._set_note("loading kernel types…")
            return
        remembered = settings.value(settings_key(*key), "", str)
        if remembered:
            self._tasks.spawn(self._apply(key, remembered, "remembered"))
        else:
            self._tasks.spawn(self._from_dwarf(key))

    async def _from_dwarf(self, key: tuple[str, str | None]) -> None:
        request = self._request
        ctype = None
        if key[1] is None:                   # the images describe vmlinux's globals
            try:
                ctype = await asyncio.wrap_future(self.kernel.variable_type(key[0]))
            except LainviewError:
                ctype = None
        if request != self._request:
            return
        if ctype is not None and ctype.size > 0:
            self._show(ctype, ctype.c_name(), "DWARF")
            return
        if not self.available:
            self._set_note(f"No types to show {printable(key[0])} with: {self.types_error}")
        else:
            self._set_note(f"choose a type for {printable(key[0])} (type-ahead over "
                           f"{self.types.origin if self.types else 'the types'})")

    def choose(self, type_name: str) -> asyncio.Task:
        """The user's type for the selected symbol: shown, and remembered
        for it (an empty name forgets the choice)."""
        return self._tasks.spawn(self._choose(type_name.strip()))

    async def _choose(self, type_name: str) -> bool:
        key = self._symbol_key()
        if key is None:
            self._set_note("select a symbol first")
            return False
        if not type_name:
            settings.remove(settings_key(*key))
            self._key = None
            self._on_value_changed()
            return True
        return await self._apply(key, type_name, "chosen")

    async def _apply(self, key: tuple[str, str | None], type_name: str, origin: str) -> bool:
        self._request += 1
        request = self._request
        if not self.available:
            self._set_note(f"No types to look {printable(type_name)} up in: {self.types_error}")
            return False
        try:
            ctype = await asyncio.wrap_future(self.kernel.find_type(type_name, key[1]))
        except LainviewError as exc:
            if request == self._request:
                self._set_note(str(exc))
            return False
        if request != self._request or key != self._symbol_key():
            return False
        try:
            check_placeable(ctype, type_name, limit=None)   # the value's size caps what is read
        except InvalidInput as exc:
            self._set_note(str(exc))
            return False
        if origin == "chosen":
            settings.set_value(settings_key(*key), type_name)
        self._show(ctype, type_name, origin)
        return True

    def _show(self, ctype: CType, type_name: str, origin: str) -> None:
        self.ctype, self.type_name, self.origin = ctype, type_name, origin
        self.value.set_size(ctype.size)        # capped at what one value shows
        self._place()
        where = {"DWARF": "its type from the image's DWARF",
                 "remembered": "the type chosen for it before",
                 "chosen": "remembered for this symbol"}[origin]
        cut = f"; the first {self.value.size} bytes shown" if ctype.size > self.value.size \
            else ""
        note = f"{type_name}, {ctype.size} bytes ({where}{cut})"
        if self.value.error:
            note += f". {self.value.error}"
        self._set_note(note)

    def _place(self) -> None:
        region = self.value.document.region
        if self.ctype is None or region is None:
            return
        shown = self.ctype
        if not isinstance(shown.strip(), Record):
            # A number, pointer, enum or array: one row named after the symbol.
            name = self._key[0] if self._key else "value"
            shown = Record("struct", "", [Field(name, self.ctype, 0)], self.ctype.size,
                           self.ctype.align, complete=True)
        try:
            self.structure.place_type(shown, self.type_name, region.start)
        except InvalidInput as exc:
            self._set_note(str(exc))

    def _on_region(self) -> None:
        region = self.value.document.region
        if self.ctype is not None and region is not None \
                and self.structure.address != region.start:
            self._place()                    # followed a pointer, or the block moved

    def _set_note(self, text: str) -> None:
        self.note = text
        self.changed.emit()

    def stop(self) -> None:
        self._request += 1
        self._tasks.cancel_all()
        self.structure.stop()
