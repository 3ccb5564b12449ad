"""The bundled demo target behaves like the programs lainview is for."""

import struct
import subprocess
import sys
import time


def test_the_demo_counter_counts_on_from_a_value_written_into_it(demo):
    """The README's first try is to watch and freeze the demo's counter. A
    game's counter lives in memory: a value written into it (by lainview,
    through /proc/<pid>/mem) is where it counts on from, so a freeze holds it.
    It used to count in a variable of its own and overwrite the write 100 ms
    later: a frozen counter kept climbing."""
    start = 1_000_000_000
    proc = subprocess.run([sys.executable, "-m", "lainview", "write", str(demo.pid),
                           hex(demo.counter), struct.pack("<Q", start).hex()],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + 10
    while True:                             # the demo ticks every 100 ms
        value = struct.unpack("<Q", demo.peek(demo.counter, 8))[0]
        if value != start or time.monotonic() > deadline:
            break
    assert start < value <= start + 100, value
