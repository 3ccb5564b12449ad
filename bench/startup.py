"""CLI start-up: each command's wall time against a bare interpreter start.

Runs, in one run, ``python -c pass`` of the same interpreter (the baseline)
and the ``lainview`` commands ``--version``, ``ps``, ``maps PID``, ``read
PID ADDR 16`` (hex dump and ``--raw``), ``write PID ADDR BYTES`` on a child
holding one mapped page, each as a whole process, and prints the median wall
time of ``--repeat`` runs and its ratio to the baseline (issue 13's goal:
at most 3x for maps, read, write and ps).

Then ``maps --json`` on a child with ``--areas`` areas (default 60,000; every
other page read-only so the kernel cannot merge them): the median wall time
(issue 10's goal: within 0.5 s) and its ratio to a raw read of
/proc/PID/maps (``cat``, a whole process too).

Journal writes go to a temporary XDG_STATE_HOME, removed at the end.

Every run uses compiled bytecode, as an installed lainview does (pip writes
the .pyc files; an editable install writes them on first import): with
PYTHONDONTWRITEBYTECODE set (as in some sandboxes) each start would compile
lainview's sources again, and the bench would time the compiler. So the
runs get PYTHONDONTWRITEBYTECODE unset and a temporary PYTHONPYCACHEPREFIX
(removed at the end), and each command runs once unmeasured first. The
baseline runs the same way. ``--source`` keeps the environment as it is.

Usage: python bench/startup.py [--repeat 9] [--areas 60000] [--source]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _many_areas import spawn



def lainview_command() -> list[str]:
    """The installed ``lainview`` script beside this interpreter, else ``-m``."""
    script = os.path.join(os.path.dirname(sys.executable), "lainview")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "lainview"]


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of ``argv`` as a whole process (output discarded)."""
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr}")
    return elapsed


def walls(commands: list[list[str]], env: dict[str, str], repeat: int) -> list[float]:
    """Median wall time of each command, after one unmeasured run of each
    (bytecode written, caches warm). The runs are interleaved (each round
    runs every command once), so a machine whose load drifts during the
    bench weighs on the baseline as on the commands."""
    for argv in commands:
        run_once(argv, env)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for argv, samples in zip(commands, times):
            samples.append(run_once(argv, env))
    return [statistics.median(samples) for samples in times]


def wall(argv: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall time of ``argv`` (:func:`walls` of one command)."""
    return walls([argv], env, repeat)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9, help="runs per command (median)")
    ap.add_argument("--areas", type=int, default=60000,
                    help="areas of the large child for maps --json")
    ap.add_argument("--source", action="store_true",
                    help="keep PYTHONDONTWRITEBYTECODE as set (time compiling the sources too)")
    args = ap.parse_args()
    state = tempfile.mkdtemp(prefix="lainview-startup-")
    env = {**os.environ, "XDG_STATE_HOME": state}
    if not args.source:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(state, "pycache")
    lv = lainview_command()
    small, address = spawn(1)
    big = None
    try:
        pid = str(small.pid)
        commands = (("--version", ["--version"]), ("ps", ["ps"]), ("maps", ["maps", pid]),
                    ("read", ["read", pid, hex(address), "16"]),
                    ("read --raw", ["read", pid, hex(address), "16", "--raw"]),
                    ("write", ["write", pid, hex(address), "2a"]))
        base, *times = walls([[sys.executable, "-c", "pass"],
                              *([*lv, *extra] for _, extra in commands)], env, args.repeat)
        print(f"bare interpreter: {base * 1000:7.1f} ms (median of {args.repeat}; bytecode "
              f"{'as the environment says' if args.source else 'compiled once, cached'})")
        for (label, _), t in zip(commands, times):
            print(f"  {label:12s} {t * 1000:7.1f} ms  {t / base:5.2f}x bare")
        big, _ = spawn(args.areas)
        with open(f"/proc/{big.pid}/maps") as f:
            n = sum(1 for _ in f)
        raw = wall(["cat", f"/proc/{big.pid}/maps"], env, args.repeat)
        t = wall([*lv, "maps", "--json", str(big.pid)], env, args.repeat)
        print(f"maps --json, {n} areas: {t * 1000:7.1f} ms  {t / raw:5.2f}x cat /proc/PID/maps "
              f"({raw * 1000:.1f} ms)  {t / base:5.2f}x bare  (goal: 500 ms)")
    finally:
        for child in (small, big):
            if child is not None:
                child.kill()
                child.wait()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
