#!/usr/bin/env python3
"""The whole contract suite against the in-process fake, on one core and on two.

    python benchmarks/bench_contracts.py [--rounds N]

Each round runs `python -m pytest contracts -q -p no:cacheprovider` in a child process,
once with `-n 0` and once with `-n 2`, alternating which goes first so that drift of a
shared machine hits both alike. Reported: wall-clock time of the child (interpreter start,
collection, the contracts, teardown) and pytest's own "passed in" time, median and
spread over the rounds, and the ratio of the medians. Target (issue): the whole suite in
seconds, and -n 2 faster than -n 0.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machineinfo import machine  # noqa: E402

PASSED = re.compile(r"(\d+) passed.* in ([\d.]+)s")


def one(workers: str) -> tuple[float, float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCSS_", "PYTEST_"))}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "contracts", "-q", "-p", "no:cacheprovider",
                             "-n", workers], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"the suite failed with -n {workers}:\n{result.stdout[-2000:]}")
    match = PASSED.search(result.stdout.strip().splitlines()[-1])
    return wall, float(match.group(2)), int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float, int]]] = {"0": [], "2": []}
    for i in range(args.rounds):
        for workers in (("0", "2") if i % 2 == 0 else ("2", "0")):
            runs[workers].append(one(workers))
    print(f"machine: {machine(with_time=True)}")
    print(f"contracts: {runs['0'][0][2]} passed per run, {args.rounds} rounds")
    print(f"{'':6} {'wall median':>12} {'min..max':>14} {'pytest median':>14}")
    medians = {}
    for workers, rows in runs.items():
        walls, inner = [r[0] for r in rows], [r[1] for r in rows]
        medians[workers] = statistics.median(walls)
        print(f"-n {workers:3} {medians[workers]:11.2f}s {min(walls):6.2f}..{max(walls):5.2f}s "
              f"{statistics.median(inner):13.2f}s")
    print(f"-n 2 / -n 0 wall: {medians['2'] / medians['0']:.2f}  (below 1: two workers are faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
