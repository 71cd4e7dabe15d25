#!/usr/bin/env python3
"""Journal memory over 100,000 requests: flat once the ring buffer is full.

    python benchmarks/bench_journal.py            # 100,000 requests per run, ~40 s
    python benchmarks/bench_journal.py --quick    # 20,000 requests per run, ~10 s

Every request the fake receives is journaled (`ocss_testkit/journal.py`), in a ring
buffer of 1000 entries by default. This sends cheap requests through the FakeApp WSGI
interface, in-process (no sockets, one thread), and samples memory every tenth of the
run: `tracemalloc`'s current traced size (after a `gc.collect()`) and the process RSS
(`/proc/self/statm`). Two runs, each in a fresh process so their RSS start alike:
  bounded  the shipped journal (limit 1000): memory should plateau once 1000 entries
           are in, i.e. from the first sample on;
  control  the same requests with a journal limit as large as the run: memory grows with
           every request, showing that the bound is what keeps the first run flat.
The mix, per 1000 requests: 900 anonymous GET /v2/phones/models/242?n=<i> (200, the
phones DB answer; the query makes every request distinct, as real traffic is), 50 GET
/v2/phones/models/999999 (404 from the handler), 20 POST /v2/phones/models/ (405),
29 unsigned GET /v2/services/syncml/ (401), 1 GET /v2/phones/modelz/242 (404 unrouted:
its near-miss hint costs ~2.5 ms, ~15 ms under tracemalloc, so only one in a thousand).
The two runs go side by side on two CPUs (one after the other on one); under tracemalloc
a request costs ~350 us, so each run takes ~35 s. Each stops early at --cap seconds
(default 80), saying so; its figures then cover the requests it sent.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machineinfo import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024
FLAT_MIB = 1.0  # "flat": traced memory grows less than this once the buffer is full

MIX = ([("GET", "/v2/phones/models/242?n={i}", "200")] * 900
       + [("GET", "/v2/phones/models/999999", "404")] * 50
       + [("POST", "/v2/phones/models/", "405")] * 20
       + [("GET", "/v2/services/syncml/", "401")] * 29
       + [("GET", "/v2/phones/modelz/242", "404")])  # per 1000 requests




def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(limit: int, total: int, every: int, cap: float) -> None:
    """One run, in this process; prints one JSON document."""
    from werkzeug.test import create_environ

    from ocss_testkit.app import FakeApp

    app = FakeApp(journal_limit=limit)
    templates = {}
    for method, path, _ in MIX:
        templates[(method, path)] = create_environ(path.split("?")[0], "http://localhost/", method=method)
    status = {}

    def start_response(line, headers, exc_info=None):
        status["line"] = line

    def send(i: int) -> None:
        method, path, expected = MIX[i % len(MIX)]
        environ = dict(templates[(method, path)])
        if "?" in path:
            environ["QUERY_STRING"] = path.split("?", 1)[1].format(i=i)
        for _ in app(environ, start_response):
            pass
        if not status["line"].startswith(expected):
            raise SystemExit(f"{method} {path}: expected {expected}, got {status['line']}")

    for i in range(200):  # warm-up: lazy imports, compiled routes, first allocations
        send(i)
    app.journal.clear()
    tracemalloc.start()
    samples = []

    def sample(done: int, elapsed: float) -> None:
        gc.collect()
        samples.append({"requests": done, "journal": len(app.journal), "traced": tracemalloc.get_traced_memory()[0],
                        "rss": rss_bytes(), "elapsed": round(elapsed, 2)})

    started = time.perf_counter()
    sample(0, 0.0)
    stopped = False
    for i in range(1, total + 1):
        send(i)
        if i % every == 0:
            elapsed = time.perf_counter() - started
            sample(i, elapsed)
            if elapsed > cap and i < total:
                stopped = True
                break
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"limit": app.journal.limit, "samples": samples, "peak": peak, "stopped_early": stopped}))


def run(limit: int, total: int, every: int, cap: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(limit), "--requests", str(total),
                          "--every", str(every), "--cap", str(cap)],
                         capture_output=True, text=True, timeout=cap * 3 + 60)
    if out.returncode:
        raise SystemExit(f"run with journal limit {limit} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 requests per run instead of 100,000")
    parser.add_argument("--requests", type=int, default=None, help="requests per run")
    parser.add_argument("--every", type=int, default=None, help="sample every N requests (default: a tenth)")
    parser.add_argument("--cap", type=float, default=80.0, help="stop a run after this many seconds")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    total = args.requests or (20_000 if args.quick else 100_000)
    every = args.every or max(1, total // 10)
    if args.child is not None:
        child(args.child, total, every, args.cap)
        return 0

    from ocss_testkit.journal import DEFAULT_LIMIT

    print(f"bench_journal: {machine(with_time=True)}")
    print(f"  {total:,} requests per run through FakeApp (WSGI, in-process), sampled every {every:,}; "
          f"tracemalloc on; gc.collect() before each sample")
    started = time.perf_counter()
    if (os.cpu_count() or 1) >= 2:
        with ThreadPoolExecutor(2) as pool:
            bounded, control = pool.map(lambda limit: run(limit, total, every, args.cap), (DEFAULT_LIMIT, total))
    else:
        bounded = run(DEFAULT_LIMIT, total, every, args.cap)
        control = run(total, total, every, args.cap)
    wall = time.perf_counter() - started

    print()
    head = (f"{'requests':>9} | {'journal':>7} {'traced MiB':>10} {'RSS MiB':>8} "
            f"| {'journal':>7} {'traced MiB':>10} {'RSS MiB':>8}")
    print(f"{'':>9} | {'bounded: limit ' + format(bounded['limit'], ','):^27} "
          f"| {'control: limit ' + format(control['limit'], ','):^27}")
    print(head)
    print("-" * len(head))
    for b, c in zip(bounded["samples"], control["samples"]):
        print(f"{b['requests']:>9,} | {b['journal']:>7,} {b['traced'] / MIB:>10.2f} {b['rss'] / MIB:>8.1f} | "
              f"{c['journal']:>7,} {c['traced'] / MIB:>10.2f} {c['rss'] / MIB:>8.1f}")
    extra = len(bounded["samples"]) - len(control["samples"])
    for b in bounded["samples"][len(control["samples"]):] if extra > 0 else ():
        print(f"{b['requests']:>9,} | {b['journal']:>7,} {b['traced'] / MIB:>10.2f} {b['rss'] / MIB:>8.1f} |")

    def growth(result: dict, key: str) -> tuple[int, int, float]:
        s = result["samples"]
        first, last = s[1], s[-1]  # from the first sample with the buffer full (limit <= a tenth)
        return first["requests"], last["requests"], (last[key] - first[key]) / MIB

    print()
    for name, result in (("bounded", bounded), ("control", control)):
        a, z, traced = growth(result, "traced")
        _, _, rss = growth(result, "rss")
        per = traced * MIB / (z - a) if z > a else 0.0
        early = "  (stopped early at --cap)" if result["stopped_early"] else ""
        print(f"  {name}: from {a:,} to {z:,} requests traced {traced * 1024:+,.0f} KiB, RSS {rss * 1024:+,.0f} KiB, "
              f"{per:.0f} B per request; tracemalloc peak {result['peak'] / MIB:.2f} MiB{early}")
    entry = (control["samples"][-1]["traced"] - bounded["samples"][-1]["traced"]) / max(
        1, control["samples"][-1]["journal"] - bounded["samples"][-1]["journal"])
    print(f"  one journal entry costs ~{entry:.0f} B (end of control minus end of bounded, per extra entry)")
    _, _, flat = growth(bounded, "traced")
    verdict = "PASS" if flat <= FLAT_MIB and not bounded["stopped_early"] else "FAIL"
    print("Target")
    print(f"  bounded journal: traced growth after the buffer is full   <= {FLAT_MIB:g} MiB   "
          f"{flat:+.2f} MiB   {verdict}")
    print(f"total {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
