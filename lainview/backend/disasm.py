"""x86-64 disassembly (capstone, Intel syntax) of bytes read from a target.

Decoding always starts at a known boundary and goes forward: the caller
gives the bytes from an instruction start (a symbol's start, an area's
start, or an address the user named), never a whole area.
:func:`sync` finds, decoding forward from such a boundary, the instruction
that covers a later address (to show the code around an address that may
fall inside an instruction).

Each :class:`Instruction` carries what a view links to: ``target``, the
address a direct branch or call goes to (``target_kind`` "code") or that a
RIP-relative memory operand reaches (``target_kind`` "data", e.g. a global
or a GOT slot). Bytes capstone cannot decode come out one at a time as
``(bad)``, as objdump prints them. No Qt, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from capstone import CS_ARCH_X86, CS_GRP_CALL, CS_GRP_JUMP, CS_MODE_64, Cs
from capstone.x86 import X86_OP_IMM, X86_OP_MEM, X86_REG_RIP

MAX_INSTRUCTION = 15     # bytes: the longest x86 instruction
BAD = "(bad)"


@dataclass(frozen=True, slots=True)
class Instruction:
    """One decoded instruction. ``address`` and ``target`` are absolute;
    ``data`` its bytes; ``mnemonic``/``operands`` capstone's Intel syntax.
    ``location`` and ``target_location`` are the symbolic names
    (``libc.so.6!getpid+0x4``) once :func:`named` has filled them."""

    address: int
    data: bytes
    mnemonic: str
    operands: str
    target: int | None = None
    target_kind: str | None = None          # "code" | "data" | None
    location: str = ""
    target_location: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def end(self) -> int:
        return self.address + len(self.data)

    @property
    def text(self) -> str:
        return f"{self.mnemonic} {self.operands}".rstrip()

    def to_json(self) -> dict[str, object]:
        """address, location, bytes (hex), mnemonic, operands, target
        (address or None), target_kind, target_location."""
        return {"address": self.address, "location": self.location,
                "bytes": self.data.hex(), "mnemonic": self.mnemonic,
                "operands": self.operands, "target": self.target,
                "target_kind": self.target_kind, "target_location": self.target_location}


def _engine(detail: bool) -> Cs:
    engine = Cs(CS_ARCH_X86, CS_MODE_64)
    engine.detail = detail
    return engine


_DETAIL = _engine(True)
_LITE = _engine(False)


def _target(insn: object) -> tuple[int | None, str | None]:
    groups = insn.groups            # type: ignore[attr-defined]
    branch = CS_GRP_JUMP in groups or CS_GRP_CALL in groups
    for op in insn.operands:        # type: ignore[attr-defined]
        if op.type == X86_OP_IMM and branch:
            return int(op.imm) & 0xFFFFFFFFFFFFFFFF, "code"
        if op.type == X86_OP_MEM and op.mem.base == X86_REG_RIP:
            end = insn.address + insn.size    # type: ignore[attr-defined]
            return (end + int(op.mem.disp)) & 0xFFFFFFFFFFFFFFFF, "data"
    return None, None


def iter_decode(code: bytes, address: int) -> Iterator[Instruction]:
    """Instructions of ``code`` (which starts at ``address``), in order, to
    the last whole instruction; an undecodable byte is one ``(bad)``."""
    view = memoryview(code)
    at = 0
    while at < len(code):
        progressed = False
        for insn in _DETAIL.disasm(bytes(view[at:at + 4096]), address + at):
            target, kind = _target(insn)
            yield Instruction(insn.address, bytes(insn.bytes), insn.mnemonic, insn.op_str,
                              target, kind)
            at += insn.size
            progressed = True
        if at >= len(code):
            return
        if not progressed or len(code) - at < MAX_INSTRUCTION:
            # capstone stopped: an undecodable byte, or a cut instruction at the end
            if len(code) - at < MAX_INSTRUCTION and _cut(view[at:]):
                return
            yield Instruction(address + at, bytes(view[at:at + 1]), BAD, "")
            at += 1


def _cut(tail: memoryview) -> bool:
    """Whether ``tail`` (shorter than the longest instruction) fails to
    decode only because it is cut: padded with NOPs it decodes longer."""
    padded = bytes(tail) + b"\x90" * MAX_INSTRUCTION
    for insn in _LITE.disasm_lite(padded, 0, 1):
        return bool(insn[1] > len(tail))
    return False


def decode(code: bytes, address: int, count: int | None = None) -> list[Instruction]:
    """At most ``count`` (all when None) instructions of ``code`` starting
    at ``address``; see :func:`iter_decode`."""
    out: list[Instruction] = []
    for insn in iter_decode(code, address):
        out.append(insn)
        if count is not None and len(out) >= count:
            break
    return out


def sync(code: bytes, boundary: int, address: int) -> int:
    """Decoding ``code`` (which starts at the instruction boundary
    ``boundary``) forward, the start of the instruction that covers
    ``address`` (``address`` itself when it starts one, or when the bytes
    run out before it). Fast: no operand detail."""
    at = 0
    limit = address - boundary
    while at < limit:
        moved = False
        for _addr, size, _m, _o in _LITE.disasm_lite(code[at:limit + MAX_INSTRUCTION],
                                                      boundary + at):
            if at + size > limit:
                return boundary + at
            at += size
            moved = True
            if at == limit:
                return address
        if not moved:
            at += 1             # a byte capstone cannot decode: "(bad)", one byte
    return address


def named(instructions: list[Instruction], name: Callable[[int], str]) -> list[Instruction]:
    """The instructions with ``location`` and ``target_location`` filled by
    ``name`` (an address -> ``module!symbol+off`` namer)."""
    return [replace(i, location=name(i.address),
                    target_location=name(i.target) if i.target is not None else None)
            for i in instructions]


__all__ = ["BAD", "Instruction", "MAX_INSTRUCTION", "decode", "iter_decode", "named", "sync"]
