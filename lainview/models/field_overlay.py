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
from typing import NamedTuple

from PySide6.QtCore import QObject, Signal

from lainview.backend.ctypes_model import Node
from lainview.backend.wording import printable

from .structure_model import StructureModel


class FieldSpan(NamedTuple):
    """Bytes [start, start + size) of one leaf field (or of several sharing
    those bytes: ``nodes``); ``ordinal`` counts spans from the struct's start
    (even and odd alternate tints), ``depth`` is the nesting of the first
    field (1 for a member of the placed struct, 2 for a member of a member)."""

    start: int
    size: int
    path: str
    depth: int
    ordinal: int
    nodes: tuple[Node, ...]

    @property
    def end(self) -> int:
        return self.start + self.size


def byte_size(node: Node) -> int:
    """The bytes a field's value occupies (a bitfield: the bytes its bits touch)."""
    if node.bits:
        return max(1, (node.bits[0] + node.bits[1] + 7) // 8)
    return node.size


def spans_of(root: Node | None) -> list[FieldSpan]:
    """The leaf fields of the tree ``root`` (the placed struct) as sorted,
    non-overlapping spans. A leaf is a field with a value or without
    members inside the struct (a ``char[]``, a number, a pointer even when
    followed, an empty struct); fields of no size are left out."""
    if root is None or root.address is None:
        return []
    leaves: list[tuple[int, int, int, Node]] = []

    def visit(node: Node, depth: int) -> None:
        inside = [c for c in node.children if c.offset is not None]
        if node is not root and not inside:
            size = byte_size(node)
            if node.address is not None and size > 0:
                leaves.append((node.address, node.address + size, depth, node))
            return
        for child in inside:
            visit(child, depth + 1)

    visit(root, 0)
    leaves.sort(key=lambda leaf: (leaf[0], leaf[1]))
    merged: list[list] = []
    for start, end, depth, node in leaves:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            last[3].append(node)
        else:
            merged.append([start, end, depth, [node]])
    return [FieldSpan(start, end - start, ", ".join(n.path for n in nodes), depth, i,
                      tuple(nodes))
            for i, (start, end, depth, nodes) in enumerate(merged)]


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
        root = self.model.root if self.model.ctype is not None else None
        spans = spans_of(root)
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
