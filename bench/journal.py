"""The write journal at scale, in one run, against same-run baselines:

1. ``lainview journal`` and ``lainview journal --json`` over N entries
   (default 300,000: intent + outcome lines), to /dev/null: wall time and
   peak RSS, against ``python -c "import lainview.cli"`` (start-up: time and
   RSS) and a plain read of the file that counts its lines (I/O baseline).
2. One journaled append after a torn last line of M MiB (default 16):
   time against a plain read of the file.

Usage: python bench/journal.py [--entries 300000] [--torn-mib 16]
       [--lainview DIR]   (run another checkout's lainview, e.g. an older one)
Prints seconds, MiB and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def build(path: str, n: int) -> None:
    target = {"kind": "process", "pid": 4242, "exe": "/usr/bin/game",
              "cmdline": ["game", "--level", "3"], "start_ticks": 123456}
    location = {"kind": "module", "name": "/usr/bin/game", "offset": 8000}
    with open(path, "w") as f:
        for i in range(1, n + 1):
            f.write(json.dumps({"type": "intent", "id": i, "time": 1.7e9 + i, "target": target,
                                "address": 0x5555_0000 + i, "old": "00000000",
                                "new": f"{i & 0xffffffff:08x}", "reverts": None,
                                "location": location}, separators=(",", ":")) + "\n")
            f.write(json.dumps({"type": "outcome", "id": i, "time": 1.7e9 + i, "status": "ok",
                                "written": 4, "error": None}, separators=(",", ":")) + "\n")
    os.chmod(path, 0o600)


def run(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child run."""
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.execvpe(cmd[0], cmd, env)
    os.close(w)
    os.close(r)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=300_000)
    ap.add_argument("--torn-mib", type=int, default=16)
    ap.add_argument("--lainview", help="directory holding the lainview package to run")
    args = ap.parse_args()
    state = tempfile.mkdtemp(prefix="lainview-bench-")
    env = {**os.environ, "XDG_STATE_HOME": state}
    py = [sys.executable]
    if args.lainview:
        # -S: no site processing, so the editable install's import hook does
        # not shadow the other checkout; its dependencies come from our
        # site-packages, put on the path by hand.
        import sysconfig
        py = [sys.executable, "-S"]
        env["PYTHONPATH"] = os.pathsep.join([args.lainview, sysconfig.get_paths()["purelib"]])
    os.makedirs(os.path.join(state, "lainview"), mode=0o700)
    path = os.path.join(state, "lainview", "journal.jsonl")
    build(path, args.entries)
    size = os.path.getsize(path)
    print(f"journal: {args.entries} entries, {size / 2**20:.1f} MiB")

    count = ("import sys; n = 0\nwith open(sys.argv[1], 'rb') as f:\n"
             "    for line in f: n += 1\n")
    base_t, base_rss = run([*py, "-c", "import lainview.cli; print(lainview.cli.__file__)"], env)
    read_t, read_rss = run([*py, "-c", count, path], env)
    print(f"baseline start-up      {base_t:7.2f} s  {base_rss:7.1f} MiB")
    print(f"baseline read lines    {read_t:7.2f} s  {read_rss:7.1f} MiB")
    for label, extra in (("journal", []), ("journal --json", ["--json"])):
        t, rss = run([*py, "-m", "lainview", "journal", *extra], env)
        print(f"{label:<22} {t:7.2f} s  {rss:7.1f} MiB   time x{t / read_t:.1f} of the read, "
              f"RSS +{rss - base_rss:.1f} MiB over start-up")

    # A torn tail of M MiB, then one journaled append.
    with open(path, "ab") as f:
        f.write(b'{"type":"intent","id":999999999,"time":1,"old":"'
                + b"ab" * (args.torn_mib << 19))
    append = ("from lainview.backend.journal import Journal\n"
              "import time, sys\nj = Journal(sys.argv[1]); t = time.perf_counter()\n"
              "j.record_intent(target={'kind':'process','pid':1}, address=0, old=b'\\0', "
              "new=b'\\1')\nprint(time.perf_counter() - t)")
    t0 = time.perf_counter()
    out = subprocess.run([*py, "-c", append, path], env=env, capture_output=True, text=True,
                         check=True)
    wall = time.perf_counter() - t0
    append_t = float(out.stdout.strip().splitlines()[-1])
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass
    plain = time.perf_counter() - t0
    print(f"append after a {args.torn_mib} MiB torn tail: {append_t:.3f} s "
          f"(process {wall:.2f} s); plain read of the file {plain:.3f} s: "
          f"x{append_t / max(plain, 1e-6):.1f}")


if __name__ == "__main__":
    main()
