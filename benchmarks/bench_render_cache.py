#!/usr/bin/env python3
"""Levers 2 and 3 of the issue "a fast fake", before and after, in ONE run (a script, not a test).

    python benchmarks/bench_render_cache.py            # about 2 minutes
    python benchmarks/bench_render_cache.py --quick    # about 40 s

Three variants of the fake, the one that matters switched per measurement:
  before   element-tree renderers (lxml's element factory, then tostring; kept verbatim in
           tests/render_reference.py), no response cache
  lever 3  string-template renderers (ocss_testkit/services/syncml/atom.py), no response cache
  2 + 3    templates and the response cache (ocss_testkit/response_cache.py): as shipped
The element-tree renderers return elements, which the app serializes after the lock
(wire.AtomResponse); the cache keeps only bodies already written, so "lever 2 alone" is no
variant: without the templates it would keep nothing.

1. The SyncML feed of the demo world's admin (two clients) rendered to bytes, timeit, CPU
   time (time.process_time), best of 5 repeats.
2. bench_side_by_side.py's own in-process rows (`inproc_row`: the signed list GET, the
   signed POST create; environs built and signed outside the timed region), each variant
   in turn, the order reversed every round.
3. The signed list GET in short blocks, the variants alternating block by block in one
   process (each its own FakeApp, warmed up), so that a slow spell of a shared machine
   hits all of them: latency percentiles and CPU time per call. The blocks' POST creates
   go to other FakeApps, so the GET's feed stays two clients.

Exits 0; figures and their reading: benchmarks/README.md, "Levers 2 and 3".
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (str(ROOT), str(ROOT / "benchmarks")):
    if path not in sys.path:
        sys.path.insert(0, path)

import bench_core as core  # noqa: E402 - loadavg
import bench_side_by_side as side  # noqa: E402 - the InProcess rig and inproc_row
from machineinfo import machine  # noqa: E402

import ocss_testkit.app as app_module  # noqa: E402
from ocss_testkit import response_cache  # noqa: E402
from ocss_testkit.app import FakeApp  # noqa: E402
from ocss_testkit.services.syncml import atom as syncml_atom  # noqa: E402
from tests import render_reference as trees  # noqa: E402

RENDERERS = ("syncml_feed", "syncml_entry", "setup_entry")  # what the SyncML routes' renderers call
TREES = types.SimpleNamespace(**{name: getattr(trees, name) for name in RENDERERS})
templates = types.SimpleNamespace(**{name: getattr(syncml_atom, name) for name in RENDERERS})
VARIANTS = [("before: element trees, no cache", TREES, False), ("lever 3: templates, no cache", templates, False),
            ("levers 2+3: templates + cache", templates, True)]


def use(renderer, cached: bool) -> None:
    """The SyncML routes' renderers, and the response cache of every FakeApp made from now on."""
    use_renderers(renderer)
    app_module.shared_responses = response_cache.shared if cached else None
    response_cache.shared.clear()


def use_renderers(renderer) -> None:
    """What the SyncML routes' renderers (services/syncml/atom.py) call to write a body."""
    for name in RENDERERS:
        setattr(syncml_atom, name, getattr(renderer, name))


def q(values: list[float], f: float) -> float:
    return values[min(len(values) - 1, int(f * (len(values) - 1)))]


def render_figures() -> None:
    app = FakeApp()
    world, admin, base = app.world, app.world.users["admin"], side.BASE
    clients = world.syncml.clients(admin)
    assert trees.serialize(trees.syncml_feed(base, clients, world.users, world.clock.now())) == \
        templates.syncml_feed(base, clients, world.users, world.clock.now())
    print("1. the admin's SyncML feed (2 clients) to bytes, CPU µs per render, best of 5 x 500")
    for label, render in (("element trees + tostring", lambda: trees.serialize(
            trees.syncml_feed(base, clients, world.users, world.clock.now()))),
            ("string templates", lambda: templates.syncml_feed(base, clients, world.users, world.clock.now()))):
        best = min(timeit.repeat(render, number=500, repeat=5, timer=time.process_time)) / 500
        print(f"   {label:28} {best * 1e6:7.1f}")


def bench_rows(rounds: int, calls: int, cap: float) -> None:
    got: dict[str, dict[str, list]] = {name: {"get": [], "post": []} for name, *_ in VARIANTS}
    for r in range(rounds):
        for name, renderer, cached in (VARIANTS if r % 2 == 0 else VARIANTS[::-1]):
            use(renderer, cached)
            get = side.inproc_row(name, "signed_get", calls, "200 OK", cap, samples=1, warm=500)
            post = side.inproc_row(name, "signed_post", max(calls // 10, 200), "201 Created", cap, samples=1,
                                   warm=100)
            got[name]["get"].append(get["latencies"])
            got[name]["post"].append(post["latencies"])
        print(f"   round {r + 1} of {rounds} done; {core.loadavg()}", flush=True)
    print(f"2. bench_side_by_side's in-process rows, {rounds} rounds of up to {calls} GETs ({cap:g} s cap) and "
          f"{max(calls // 10, 200)} POSTs per variant; µs")
    print(f"   {'variant':34} {'GET median':>10} {'p99':>7} {'per round':>22} {'POST median':>12}")
    for name, *_ in VARIANTS:
        gets = sorted(x for run in got[name]["get"] for x in run)
        posts = sorted(x for run in got[name]["post"] for x in run)
        per = "/".join(f"{statistics.median(run) * 1e6:.0f}" for run in got[name]["get"])
        print(f"   {name:34} {q(gets, .5) * 1e6:10.1f} {q(gets, .99) * 1e6:7.1f} {per:>22} "
              f"{q(posts, .5) * 1e6:12.1f}")


def blocks(rounds: int, block: int) -> None:
    rig, apps, post_apps = side.InProcess(), {}, {}
    for name, renderer, cached in VARIANTS:
        use(renderer, cached)
        apps[name], post_apps[name] = FakeApp(), FakeApp()
        for _ in range(300):
            rig.call(apps[name], rig.signed_get())
    lat: dict[str, list] = {name: [] for name, *_ in VARIANTS}
    cpu: dict[str, list] = {name: [] for name, *_ in VARIANTS}
    post: dict[str, list] = {name: [] for name, *_ in VARIANTS}
    perf = time.perf_counter_ns
    for r in range(rounds):
        for name, renderer, _ in (VARIANTS if r % 2 == 0 else VARIANTS[::-1]):
            use_renderers(renderer)  # each app keeps the cache it was made with
            app, envs = apps[name], [rig.signed_get() for _ in range(block)]
            began = time.process_time()
            for env in envs:
                t0 = perf()
                rig.call(app, env)
                lat[name].append(perf() - t0)
            cpu[name].append((time.process_time() - began) / block * 1e6)
            for env in [rig.signed_post() for _ in range(block // 10)]:
                t0 = perf()
                rig.call(post_apps[name], env)
                post[name].append(perf() - t0)
    if set(rig.statuses) != {"200 OK", "201 Created"}:
        raise RuntimeError(f"unexpected answers: {rig.statuses}")
    print(f"3. {rounds} rounds x {block} signed list GETs (+{block // 10} POST creates) per variant, variants "
          "alternating block by block; µs per call")
    print(f"   {'variant':34} {'GET p10':>8} {'p25':>7} {'median':>7} {'CPU/call':>9} {'POST median':>12}")
    for name, *_ in VARIANTS:
        v, p = sorted(lat[name]), sorted(post[name])
        print(f"   {name:34} {q(v, .1) / 1e3:8.1f} {q(v, .25) / 1e3:7.1f} {q(v, .5) / 1e3:7.1f} "
              f"{statistics.median(cpu[name]):9.1f} {q(p, .5) / 1e3:12.1f}")
    cached = [apps[name].responses.stats() for name, _, on in VARIANTS if on]
    print(f"   the cache of the 2+3 variant: {cached[0]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds and calls (~40 s)")
    args = ap.parse_args(argv)
    rows = (2, 5000, 4.0) if args.quick else (4, 20000, 10.0)
    block_rounds = 12 if args.quick else 40
    print(f"bench_render_cache: {machine(with_time=True)}")
    print(f"  before start: {core.loadavg()}")
    began = time.perf_counter()
    try:
        render_figures()
        bench_rows(*rows)
        blocks(block_rounds, 250)
    finally:
        use(templates, True)
    print(f"total {time.perf_counter() - began:.0f} s; after: {core.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
