"""Disassembly (backend/disasm.py, Target.disassemble) of the named
functions of tests/c/code_target.c, run for real as a PIE and as a
fixed-address build, against ``objdump -d -M intel`` of the same file.

Normalisation (capstone and objdump spell the same instruction
differently): mnemonics are compared exactly; operands after lower-casing,
dropping spaces and objdump's ``# comment`` and ``<symbol>`` annotations,
dropping the scale ``*1`` objdump writes and capstone leaves out, and
writing every number (capstone: ``1``, ``-1`` or ``0x2ec0``; objdump:
``0x1``, ``0xffffffff``) as one signed hex value (a 32- or 64-bit value
with its top bit set is taken as negative, so objdump's
``[rip+0xffffffffffffff9a]`` reads as capstone's ``[rip - 0x66]``); a direct branch target (objdump: a bare file
address; capstone: the run-time address) is compared as a file address,
capstone's less the load bias."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from lainview.backend import disasm
from lainview.backend.errors import FaultError, InvalidInput
from tests.code_target import FUNCTIONS, code_run, nm  # noqa: F401  (fixture)

_OBJDUMP_LINE = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
_NUMBER = re.compile(r"(-?)\b(0x[0-9a-f]+|[0-9]+)\b")


def _signed(m: re.Match) -> str:
    value = int(m.group(2), 0) * (-1 if m.group(1) else 1)
    for bits in (64, 32):
        if 1 << (bits - 1) <= value < 1 << bits:
            value -= 1 << bits
            break
    return hex(value)


def objdump(exe, symbol: str) -> list[tuple[int, str, str]]:
    out = subprocess.run(["objdump", "-d", "-M", "intel", "--no-show-raw-insn",
                          f"--disassemble={symbol}", str(exe)], check=True,
                         capture_output=True, text=True).stdout
    lines = []
    for line in out.splitlines():
        m = _OBJDUMP_LINE.match(line)
        if m:
            lines.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return lines


def _norm(operands: str, branch: bool, bias: int = 0) -> str:
    text = re.sub(r"<[^>]*>", "", operands.split("#")[0]).lower().replace(" ", "")
    if branch and re.fullmatch(r"(0x)?[0-9a-f]+", text):   # a direct target: a file address
        return hex(int(text, 16) - bias)
    text = _NUMBER.sub(_signed, text.replace("*1]", "]"))   # objdump writes a scale of 1
    return text.replace("+-", "-")           # objdump's [rip+0xff…9a] is [rip - 0x66]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_disassembly_equals_objdump(code_run, backend, function):
    listed = nm(code_run.exe)
    value, _letter, size = listed[function]
    reference = objdump(code_run.exe, function)
    assert reference and reference[0][0] == value
    target = backend.attach(code_run.pid, writable=False).result()
    names = target.symbolizer().result()
    module = names.module(str(code_run.exe))
    bias = module.base - (value - names.module_symbol(module.path, function))
    ours = target.disassemble(bias + value, len(reference)).result()
    assert [i.address - bias for i in ours] == [r[0] for r in reference]
    assert sum(i.size for i in ours) == size
    for insn, (_at, mnemonic, operands) in zip(ours, reference):
        assert insn.mnemonic == mnemonic
        branch = insn.target_kind == "code"
        assert _norm(insn.operands, branch, bias) == _norm(operands, branch), insn
    assert ours[0].location == f"{module.name}!{function}"


def test_links_name_calls_and_rip_relative_data(code_run, backend):
    target = backend.attach(code_run.pid, writable=False).result()
    target.symbolizer().result()
    bump = code_run.info["lv_bump"]
    lines = target.disassemble(bump, 6).result()
    calls = [i for i in lines if i.mnemonic == "call"]
    assert calls and calls[0].target == code_run.info["lv_add"]
    assert calls[0].target_kind == "code" and calls[0].target_location.endswith("!lv_add")
    data = [i for i in lines if i.target_kind == "data"]
    assert data and all(i.target == code_run.info["counter"] for i in data)
    assert data[0].target_location.endswith("!counter")


def test_align_decodes_from_the_symbol_start(code_run, backend):
    target = backend.attach(code_run.pid, writable=False).result()
    loop = code_run.info["lv_loop"]
    whole = target.disassemble(loop, 10).result()
    # inside the first instruction of two bytes or more from the fourth on
    n = next(k for k in range(3, 7) if whole[k + 1].address - whole[k].address >= 2)
    inside = whole[n].address + 1
    aligned = target.disassemble(inside, 3, align=True).result()
    assert [i.address for i in aligned] == [i.address for i in whole[n:n + 3]]
    exact = target.disassemble(whole[4].address, 2, align=True).result()
    assert exact[0].address == whole[4].address


def test_unmapped_and_bad_counts(code_run, backend):
    target = backend.attach(code_run.pid, writable=False).result()
    with pytest.raises(FaultError):
        target.disassemble(0x10, 4).result()
    for count in (0, -1, 100000):
        with pytest.raises(InvalidInput):
            target.disassemble(code_run.info["lv_add"], count)


def test_bad_bytes_decode_one_at_a_time():
    lines = disasm.decode(b"\x06\x90\xc3", 0x1000)          # 06 is not valid in 64-bit mode
    assert [(i.address, i.mnemonic) for i in lines] == [(0x1000, disasm.BAD), (0x1001, "nop"),
                                                          (0x1002, "ret")]


def test_a_cut_instruction_at_the_end_is_left_out():
    lines = disasm.decode(b"\x90\x48\x8b\x05\x00", 0)       # mov rax, [rip+...] cut short
    assert [i.mnemonic for i in lines] == ["nop"]


def test_sync_finds_the_covering_instruction():
    code = b"\x48\x8b\x05\x10\x00\x00\x00\x90\xc3"          # mov (7 bytes), nop, ret
    assert disasm.sync(code, 0x100, 0x103) == 0x100
    assert disasm.sync(code, 0x100, 0x107) == 0x107
    assert disasm.sync(code, 0x100, 0x108) == 0x108


def test_kernel_text_through_the_image_source(tmp_path, backend):
    from lainview.backend.kernel import KernelBackend
    from tests.kernel_image import build_image
    image = build_image(tmp_path)
    kernel = KernelBackend(backend, source="image", images=[str(image)])
    reference = objdump(image, "get")
    lines = kernel.disassemble("get", len(reference)).result()
    assert [i.address for i in lines] == [r[0] for r in reference]       # not relocated
    assert [i.mnemonic for i in lines] == [r[1] for r in reference]
    assert lines[0].location == "kernel:get" and lines[1].location.startswith("kernel:get+0x")
    data = [i for i in lines if i.target_kind == "data"]
    assert {i.target_location for i in data} >= {"kernel:hidden_local", "kernel:counter"}
    later = kernel.disassemble("get", 1, offset=lines[1].address - lines[0].address).result()
    assert later[0].address == lines[1].address


def test_targets_read_from_the_text_equal_capstones_operand_detail():
    """The links come from capstone's Intel text (fast); over 64 KiB of the
    real libc's code they equal what its operand-detail API says."""
    import ctypes.util
    from capstone import CS_ARCH_X86, CS_GRP_CALL, CS_GRP_JUMP, CS_MODE_64, Cs
    from capstone.x86 import X86_OP_IMM, X86_OP_MEM, X86_REG_RIP
    from elftools.elf.elffile import ELFFile
    path = next(p for p in ("/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6",
                            ctypes.util.find_library("c") or "") if p and os.path.exists(p))
    with open(path, "rb") as f:
        text = ELFFile(f).get_section_by_name(".text")
        code, base = text.data()[:64 << 10], text["sh_addr"]
    engine = Cs(CS_ARCH_X86, CS_MODE_64)
    engine.detail = True
    expected = {}
    for insn in engine.disasm(code, base):
        target = None
        branch = CS_GRP_JUMP in insn.groups or CS_GRP_CALL in insn.groups
        for op in insn.operands:
            if op.type == X86_OP_IMM and branch:
                target = (op.imm & (1 << 64) - 1, "code")
            elif op.type == X86_OP_MEM and op.mem.base == X86_REG_RIP:
                target = ((insn.address + insn.size + op.mem.disp) & (1 << 64) - 1, "data")
        expected[insn.address] = target
    ours = {i.address: (i.target, i.target_kind) if i.target is not None else None
            for i in disasm.decode(code, base) if i.address in expected}
    assert len(ours) == len(expected) > 10000
    assert ours == expected
    assert sum(v is not None for v in ours.values()) > 1000


def test_calls_into_the_plt_are_named_as_objdump_names_them(code_run, backend):
    """main calls printf through the PLT: the call's target reads
    prog!printf@plt (it read prog+0x1030), at the stub objdump names so."""
    from tests.code_target import objdump_plt
    from lainview.backend.locations import parse_location
    target = backend.attach(code_run.pid, writable=False).result()
    main = target.resolve(parse_location(f"{code_run.exe.name}!main"), 1).result()
    lines = target.disassemble(main, 40).result()
    plt = {i.target_location.split("!")[1]: i.target for i in lines
           if i.mnemonic == "call" and i.target_location and "@plt" in i.target_location}
    assert "printf@plt" in plt, [i.target_location for i in lines if i.mnemonic == "call"]
    stubs = objdump_plt(code_run.exe)
    base = plt["printf@plt"] - stubs["printf@plt"]           # the module's load bias
    assert all(plt[name] - base == stubs[name] for name in plt)
