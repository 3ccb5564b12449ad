"""The placed structure's fields as spans of bytes, for the hex view: which
field each byte belongs to (its tint and its tooltip) and the bytes of a
field (Select field).

The spans come from the structure model's tree (:attr:`StructureModel.root`,
the :class:`~lainview.backend.ctypes_model.Node` s of the placed type):
every leaf field of the placed struct itself (a followed pointee lies
elsewhere and is left out), sorted by address. Fields that share bytes
(bitfields in one byte, a union's members) form one span listing them all,
so spans never overlap and the view finds a row's spans with one bisection.
The tree's values are updated in place on each refresh, so a tooltip reads
the live value; the spans are rebuilt only when the tree's shape changes
(``modelReset``, a new placement) and then :attr:`FieldOverlay.changed`
is emitted.
"""

from __future__ import annotations

import bisect
from PySide6.QtCore import QObject, Signal

from lainview.backend.wording import printable

from .field_spans import FieldSpan, byte_size
from .structure_model import StructureModel


class FieldOverlay(QObject):
    """The structure model's leaf fields for the hex view (see module doc).
    ``changed`` (no arguments): the spans changed (placed, cleared, a
    new tree): repaint."""

    changed = Signal()

    def __init__(self, model: StructureModel, parent: QObject | None = None):
        super().__init__(parent)
        self.model = model
        self.spans: list[FieldSpan] = []
        self.title = ""                       # the placed type, as C names it
        self.generation = 0                   # counts rebuilds (views cache by it)
        self._starts: list[int] = []
        model.modelReset.connect(self._rebuild)
        model.placed_changed.connect(self._rebuild)
        self._rebuild()

    def _rebuild(self) -> None:
        root = self.model.root
        spans = self.model.field_spans()
        if not spans and not self.spans:
            return
        self.title = root.type if root is not None else ""
        self.spans = spans
        self._starts = [s.start for s in spans]
        self.generation += 1
        self.changed.emit()

    def spans_in(self, lo: int, hi: int) -> list[FieldSpan]:
        """The spans holding any byte of [lo, hi), in address order."""
        spans, starts = self.spans, self._starts
        i = bisect.bisect_right(starts, lo) - 1
        if i < 0 or spans[i].end <= lo:
            i += 1
        out: list[FieldSpan] = []
        while i < len(spans) and spans[i].start < hi:
            out.append(spans[i])
            i += 1
        return out

    def span_at(self, address: int) -> FieldSpan | None:
        """The span holding the byte at ``address``, or None."""
        found = self.spans_in(address, address + 1)
        return found[0] if found else None

    def describe(self, address: int) -> str:
        """Tooltip lines for the byte at ``address``: each field holding it
        as ``struct demo.health: int32_t = 77  (+0x4, 4 bytes)``; "" for a
        byte of no field."""
        span = self.span_at(address)
        if span is None:
            return ""
        lines = []
        for node in span.nodes:
            value = node.value_text() if node.value != "??" else "??"
            where = f"+{node.offset:#x}" if node.offset is not None else ""
            size = byte_size(node)
            extent = f"bits {node.bits[0]}..{node.bits[0] + node.bits[1] - 1}" if node.bits \
                else f"{size} byte{'s' if size != 1 else ''}"
            line = f"{self.title}.{node.path}: {node.type}"
            if value:
                line += f" = {value}"
            lines.append(printable(line) + f"  ({where}, {extent})")
        return "\n".join(lines)
