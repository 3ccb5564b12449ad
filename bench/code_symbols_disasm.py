"""Module symbols and disassembly: cost against same-run baselines.

On a child running this interpreter (its program and libraries mapped):

- module symbols, cold (every mapped file's .symtab/.dynsym read) and cached
  (a stat per file), against ``nm -D --defined-only`` of the same files run
  as processes (the baseline: a C tool reading the same tables);
- disassembly of COUNT instructions of libc from ``memcpy``, named
  (``module!symbol+off`` for each line and its target), against capstone
  decoding the same bytes bare (no operand detail, no names).

Prints median times and ratios; no pass/fail.

Usage: python bench/code_symbols_disasm.py [--repeat 5] [--count 4096]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from lainview.backend.module_symbols import ModuleSymbols
from lainview.backend.service import Backend


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--count", type=int, default=4096)
    args = parser.parse_args()
    child = subprocess.Popen([sys.executable, "-c", "import ctypes, json, ssl, sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    time.sleep(1.0)
    backend = Backend()
    try:
        target = backend.attach(child.pid, writable=False).result()
        areas = target.areas().result()
        paths = sorted({a.file_path for a in areas if a.path.startswith("/")})
        cold = median_time(lambda: ModuleSymbols().symbolizer(child.pid, areas), args.repeat)
        warm = ModuleSymbols()
        warm.symbolizer(child.pid, areas)
        cached = median_time(lambda: warm.symbolizer(child.pid, areas), args.repeat)
        nm = median_time(lambda: subprocess.run(["nm", "-D", "--defined-only", *paths],
                                                capture_output=True), args.repeat)
        names = warm.symbolizer(child.pid, areas)
        count = sum(m.symbol_count for m in names.modules)
        print(f"module symbols: {len(paths)} files, {count} symbols")
        print(f"  cold   {cold * 1000:8.1f} ms  {cold / nm:6.2f}x nm -D ({nm * 1000:.1f} ms)")
        print(f"  cached {cached * 1000:8.1f} ms  {cached / nm:6.2f}x nm -D")
        libc = next(m for m in names.modules if m.name.startswith("libc.so"))
        start = libc.base + names.module_symbol(libc.path, "memcpy")
        code = target.read(start, args.count * 15).result().data
        lines = target.disassemble(start, args.count).result()
        named = median_time(lambda: target.disassemble(start, args.count).result(), args.repeat)
        engine = Cs(CS_ARCH_X86, CS_MODE_64)

        def bare() -> None:
            for n, _insn in enumerate(engine.disasm_lite(code, start), 1):
                if n >= args.count:
                    break
        raw = median_time(bare, args.repeat)
        print(f"disassembly: {len(lines)} instructions from libc memcpy")
        print(f"  named  {named * 1000:8.1f} ms  {named / raw:6.2f}x bare capstone "
              f"({raw * 1000:.1f} ms); {len(lines) / named:,.0f} instructions/s")
    finally:
        backend.shutdown()
        child.stdin.close()
        child.wait(timeout=10)


if __name__ == "__main__":
    main()
