"""The leaf fields of a placed structure as spans of bytes: sorted, never
overlapping, so a view finds a row's fields with one bisection. The one
home of "which bytes does a field occupy": the Structure model gives its
placed tree's spans (:meth:`StructureModel.field_spans`), the hex view
tints and names them (:mod:`.field_overlay`), Select field selects them.
No Qt."""

from __future__ import annotations

from typing import NamedTuple

from lainview.backend.ctypes_model import Node


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
