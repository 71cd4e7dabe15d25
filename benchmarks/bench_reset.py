#!/usr/bin/env python3
"""Per-test reset of the fake, side by side with a full reload from disk.

    python benchmarks/bench_reset.py [--quick] [--iterations N]

The pytest plugin resets the fake before every test: `FakeApp.reset()` builds a fresh
World from the fixture set parsed once per process, sharing the read-only phones
database (369 models). Target (issue): median <= 1 ms with the demo world, the phones
database shared, never copied. The full reload is what a reset would cost without that:
  (f1) FixtureSet.load("demo").build(): world.json read and parsed, the set validated by
       building a World, then a World built; the phones DB still comes from
       `load_phones`' per-process cache, so this is NOT a cold reload;
  (f2) the phones DB parse alone: PhonesDB.from_json(json.loads(fixtures/phones.json));
  (f3) the truly cold reload: (f1) with load_phones' cache emptied before each call, so
       phones.json is read and parsed again (the cache is restored afterwards).
Rows are timed in interleaved blocks, so drift of a shared machine hits all of them;
the garbage collector stays on (a test session runs with it). In-process, one thread.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from machineinfo import machine  # noqa: E402

from ocss_testkit.app import FakeApp  # noqa: E402
from ocss_testkit.package_data import fixtures_dir  # noqa: E402
from ocss_testkit.services.phones import database as phones_module  # noqa: E402
from ocss_testkit.services.phones.database import PhonesDB  # noqa: E402
from ocss_testkit.world.fixtures import FixtureSet  # noqa: E402

TARGET_MS = 1.0
BLOCKS = 8




def stats(samples_ns: list[int]) -> tuple[float, float, float]:
    ms = sorted(s / 1e6 for s in samples_ns)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return statistics.median(ms), p99, statistics.fmean(ms)


def dirty(app: FakeApp, n: int) -> None:
    """What a typical test leaves behind: a phone registered, its setup SMS sent."""
    world = app.world
    with world.lock:
        client = world.syncml.create_client(world.users["alice"], f"+47{90000000 + n}", "242", "Europe/Oslo")
        world.syncml.send_setup(world.users["alice"], client.uuid, "1234")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (~1 s instead of ~4 s)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="resets per reset row (default 2000, --quick 400); reloads get a tenth, "
                             "the cold rows a twentieth")
    args = parser.parse_args()
    n_reset = args.iterations or (400 if args.quick else 2000)
    n_reload = max(BLOCKS, n_reset // 10)
    n_cold = max(BLOCKS, n_reset // 20)

    print(f"bench_reset: {machine(with_time=True)}")
    fixture_set = FixtureSet.load("demo")
    app = FakeApp(fixture_set)
    shared = app.world.phones
    phones_path = (fixtures_dir() / "demo" / fixture_set.spec.get("phones", "../phones.json")).resolve()
    world = app.world
    print(f"  demo world: {len(world.users)} users, {len(world.clients)} clients; phones DB "
          f"{len(shared.models)} models from {phones_path.name} ({phones_path.stat().st_size:,} B); "
          f"{n_reset} resets per reset row, interleaved in {BLOCKS} blocks")

    samples: dict[str, list[int]] = {k: [] for k in ("r1", "r2", "f1", "f2", "f3")}
    identity_kept = True
    fresh_each_time = True
    clock = time.perf_counter_ns

    for _ in range(50):  # warm-up
        app.reset()
    for _block in range(BLOCKS):
        for _ in range(n_reset // BLOCKS):
            before = app.world
            t = clock()
            app.reset()
            samples["r1"].append(clock() - t)
            identity_kept &= app.world.phones is shared
            fresh_each_time &= app.world is not before
        for i in range(n_reset // BLOCKS):
            dirty(app, i)
            t = clock()
            app.reset()
            samples["r2"].append(clock() - t)
            identity_kept &= app.world.phones is shared
            fresh_each_time &= len(app.world.clients) == len(world.clients) and not app.world.outbox.messages()
        for _ in range(n_reload // BLOCKS):
            t = clock()
            FixtureSet.load("demo").build()
            samples["f1"].append(clock() - t)
        cached = dict(phones_module._loaded)
        try:
            for _ in range(n_cold // BLOCKS):
                t = clock()
                PhonesDB.from_json(json.loads(phones_path.read_text("utf-8")))
                samples["f2"].append(clock() - t)
            for _ in range(n_cold // BLOCKS):
                phones_module._loaded.clear()
                t = clock()
                cold = FixtureSet.load("demo").build()
                samples["f3"].append(clock() - t)
                assert cold.phones is not shared  # really parsed again
        finally:
            phones_module._loaded.clear()
            phones_module._loaded.update(cached)
    gc.collect()
    assert FixtureSet.load("demo").phones is shared, "the phones cache was not restored"

    rows = [
        ("r1", "FakeApp.reset(), untouched world"),
        ("r2", "FakeApp.reset() after a test's changes (+1 client, +1 SMS)"),
        ("f1", 'full reload, phones cached: FixtureSet.load("demo").build()'),
        ("f2", "phones DB parse alone: PhonesDB.from_json(json.loads(...))"),
        ("f3", "full reload, truly cold: f1 with phones.json parsed again"),
    ]
    figures = {key: stats(samples[key]) for key, _ in rows}
    width = max(len(label) for _, label in rows) + 5
    print()
    print(f"{'figure':<{width}} {'iterations':>10} {'median ms':>10} {'p99 ms':>9} {'mean ms':>9}")
    print("-" * (width + 42))
    for key, label in rows:
        median, p99, mean = figures[key]
        print(f"{'(' + key + ') ' + label:<{width}} {len(samples[key]):>10} {median:>10.3f} {p99:>9.3f} {mean:>9.3f}")

    r1, r2 = figures["r1"][0], figures["r2"][0]
    print()
    print(f"identity: app.world.phones is the same PhonesDB object after all {2 * (n_reset // BLOCKS) * BLOCKS} "
          f"resets: {'yes' if identity_kept else 'NO'} (id {id(shared):#x}); a new World each time: "
          f"{'yes' if fresh_each_time else 'NO'}")
    print("Target")
    worst = max(r1, r2)
    print(f"  per-test reset, median (worst of r1, r2)   <= {TARGET_MS:g} ms   {worst:.3f} ms   "
          f"{'PASS' if worst <= TARGET_MS and identity_kept else 'FAIL'}")
    print("Ratios (median)")
    print(f"  (f1)/(r1) cached full reload vs reset        {figures['f1'][0] / r1:6.1f}x")
    print(f"  (f3)/(r1) truly cold reload vs reset         {figures['f3'][0] / r1:6.1f}x")
    print(f"  (f2)/(f3) share of the cold reload spent on the phones DB  {figures['f2'][0] / figures['f3'][0]:.0%}")
    return 0 if identity_kept and fresh_each_time else 1


if __name__ == "__main__":
    sys.exit(main())
