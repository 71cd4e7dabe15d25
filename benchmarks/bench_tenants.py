#!/usr/bin/env python3
"""Tenants of one standalone fake (ocss_testkit/tenants.py): throughput and memory.

    python benchmarks/bench_tenants.py            # ~60 s
    python benchmarks/bench_tenants.py --quick    # ~20 s, noisier

Throughput: one FakeServer serving a TenantsApp (as `ocss-fake serve` does), in this
process, 6 threads; the load from bench_core's separate load-generator process (one
thread, epoll, raw HTTP/1.1, a fresh fast HMAC-SHA1 signature per request), 16 keep-alive
connections, each with one signed `GET …/v2/services/syncml/` in flight (closed loop):
  default      every connection on the unprefixed paths (the default tenant)
  1 tenant     every connection on /t/bench-00/
  16 tenants   connection i on /t/bench-{i}/ (tenants made before the phase)
All three phases run in every round, rounds interleaved, so drift of a shared machine
hits all alike.

Memory, each figure in a fresh child process, in-process WSGI (no sockets):
  traced   tracemalloc before and after 100 tenants, each made by one signed GET (its
           journal entry and nonce included): what an idle demo tenant holds;
  RSS      the process's resident size before and after 1,000 such tenants;
  creation the time of the first request of a tenant (building its World) vs a request
           to one that exists.
And the CPU of one signed GET in-process (werkzeug's test client, no sockets), on the
default tenant, one tenant and 16, best of 15 interleaved blocks of 64 requests: what
the tenants layer itself costs, without the network and with less of a busy machine's
noise than the throughput figures.
Exits 0 whatever the figures; non-zero only on an error.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import multiprocessing as mp
import os
import selectors
import signal
import socket
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench_core import (  # noqa: E402
    ADMIN,
    CONSUMER,
    FEED_PATH,
    HOST,
    SERVER_THREADS,
    _response_complete,
    check_signer_against_oauthlib,
    oauth_header,
)
from machineinfo import machine  # noqa: E402

TENANTS = 16
CONNS = 16
TARGET_KIB = 256  # an idle demo tenant (issue 13)


# --- the load: bench_core's generator, with a path per connection ---------------------------
def _request(host: str, port: int, path: str, nonce: str) -> bytes:
    url = f"http://{host}:{port}{path}"
    auth = oauth_header("GET", url, CONSUMER, ADMIN, nonce, str(int(time.time())))
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {auth}\r\n\r\n".encode()


def run_load(job: dict) -> dict:
    """bench_core's closed loop (`_Phase`: one thread, epoll, one request in flight per
    keep-alive connection), connection i sending to job["paths"][i]."""
    perf = time.perf_counter
    nonce_prefix = f"{os.getpid()}{os.urandom(4).hex()}"
    nonces = itertools.count()
    sel = selectors.DefaultSelector()
    latencies, errors, first_error = [], 0, ""
    slots = []
    for path in job["paths"]:
        sock = socket.create_connection((job["host"], job["port"]), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        slot = {"sock": sock, "buf": b"", "path": path}
        sel.register(sock, selectors.EVENT_READ, slot)
        slots.append(slot)

    def send(slot):
        slot["t0"] = perf()
        slot["sock"].setblocking(True)
        slot["sock"].sendall(_request(job["host"], job["port"], slot["path"], f"{nonce_prefix}{next(nonces)}"))
        slot["sock"].setblocking(False)

    for slot in slots:
        send(slot)
    warm_until = perf() + job["warmup"]
    deadline = warm_until + job["cap"]
    m_start = m_end = None
    while True:
        now = perf()
        if m_start is None and now >= warm_until:
            m_start = now
        if now >= deadline or errors >= 20:
            break
        for key, _ in sel.select(timeout=0.05):
            slot = key.data
            try:
                chunk = slot["sock"].recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                errors += 1
                first_error = first_error or "server closed the connection"
                break
            slot["buf"] += chunk
            parsed = _response_complete(slot["buf"])
            if parsed is None:
                continue
            t1 = perf()
            status, total, _ = parsed
            slot["buf"] = slot["buf"][total:]
            if status != 200:
                errors += 1
                first_error = first_error or f"{status}: {chunk[:300]!r}"
            elif m_start is not None and slot["t0"] >= m_start:
                latencies.append(t1 - slot["t0"])
                if len(latencies) >= job["requests"]:
                    m_end = t1
            send(slot)
        if m_end is not None:
            break
    m_end = m_end or perf()
    for slot in slots:
        with contextlib.suppress(OSError):
            sel.unregister(slot["sock"])
            slot["sock"].close()
    sel.close()
    return {"latencies": latencies, "elapsed": m_end - (m_start or m_end), "errors": errors,
            "first_error": first_error}


def loadgen_main(pipe) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(EOFError, BrokenPipeError):
        while (job := pipe.recv()) is not None:
            try:
                pipe.send(run_load(job))
            except Exception as exc:  # noqa: BLE001 - reported by the parent
                pipe.send({"crash": repr(exc)})


# --- memory, in fresh children -----------------------------------------------------------------
def _signed_get(client, path: str):
    from oauthlib.oauth1 import Client as OAuthClient

    signer = OAuthClient(CONSUMER[0], client_secret=CONSUMER[1], resource_owner_key=ADMIN[0],
                         resource_owner_secret=ADMIN[1])
    _, headers, _ = signer.sign("http://localhost" + path, http_method="GET")
    reply = client.get(path, headers=headers)
    if reply.status_code != 200:
        raise RuntimeError(f"GET {path}: {reply.status}")


def memory_child(kind: str, count: int, pipe) -> None:
    from werkzeug.test import Client

    from ocss_testkit.tenants import TenantsApp

    app = TenantsApp(max_tenants=max(count + 1, 2))
    client = Client(app)
    _signed_get(client, "/t/warm-up" + FEED_PATH)
    _signed_get(client, FEED_PATH)
    app.drop("warm-up")
    gc.collect()
    if kind == "traced":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            _signed_get(client, f"/t/t{i}" + FEED_PATH)
        gc.collect()
        pipe.send((tracemalloc.get_traced_memory()[0] - before) / count)
    elif kind == "rss":
        before = _rss()
        for i in range(count):
            _signed_get(client, f"/t/t{i}" + FEED_PATH)
        gc.collect()
        pipe.send((_rss() - before) / count)
    elif kind == "cpu":  # per request, in-process: best of interleaved blocks
        from oauthlib.oauth1 import Client as OAuthClient

        signer = OAuthClient(CONSUMER[0], client_secret=CONSUMER[1], resource_owner_key=ADMIN[0],
                             resource_owner_secret=ADMIN[1])
        phases = {"default": [FEED_PATH] * TENANTS, "1 tenant": [f"/t/t0{FEED_PATH}"] * TENANTS,
                  f"{TENANTS} tenants": [f"/t/t{i}{FEED_PATH}" for i in range(TENANTS)]}
        best = {name: float("inf") for name in phases}
        for _ in range(count):
            for name, paths in phases.items():
                signed = [(path, signer.sign("http://localhost" + path, http_method="GET")[1]) for path in paths * 4]
                t0 = time.process_time()
                for path, headers in signed:
                    client.get(path, headers=headers)
                best[name] = min(best[name], (time.process_time() - t0) / len(signed))
        pipe.send(best)
    else:  # creation: the first request of a tenant vs a request to an existing one
        first, again = [], []
        for i in range(count):
            t0 = time.perf_counter()
            _signed_get(client, f"/t/t{i}" + FEED_PATH)
            t1 = time.perf_counter()
            _signed_get(client, f"/t/t{i}" + FEED_PATH)
            first.append(t1 - t0)
            again.append(time.perf_counter() - t1)
        pipe.send((statistics.median(first), statistics.median(again)))


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def in_child(kind: str, count: int):
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=memory_child, args=(kind, count, child), daemon=True)
    proc.start()
    child.close()
    if not parent.poll(300):
        proc.terminate()
        raise RuntimeError(f"{kind}: no answer from the child")
    result = parent.recv()
    proc.join(timeout=10)
    return result


# --- main ----------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--cap", type=float, help="seconds per phase and round")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    cap = args.cap or (2.0 if args.quick else 5.0)
    check_signer_against_oauthlib()
    print(f"bench_tenants: {machine(with_time=True)}; load average {os.getloadavg()[0]:.1f}", flush=True)

    from ocss_testkit.server import FakeServer
    from ocss_testkit.tenants import TenantsApp

    ctx = mp.get_context("spawn")
    pipe, child = ctx.Pipe()
    loadgen = ctx.Process(target=loadgen_main, args=(child,), name="bench-loadgen", daemon=True)
    loadgen.start()
    child.close()
    server = FakeServer(TenantsApp(max_tenants=64), host=HOST, port=0, threads=SERVER_THREADS).start()
    try:
        for i in range(TENANTS):  # made before the phases: the figures are of tenants in use
            server.tenants.put(f"bench-{i:02d}")
        phases = {
            "default": [FEED_PATH] * CONNS,
            "1 tenant": [f"/t/bench-00{FEED_PATH}"] * CONNS,
            f"{TENANTS} tenants": [f"/t/bench-{i % TENANTS:02d}{FEED_PATH}" for i in range(CONNS)],
        }
        results: dict[str, list[dict]] = {name: [] for name in phases}
        for _ in range(rounds):
            for name, paths in phases.items():
                pipe.send({"host": HOST, "port": server.port, "paths": paths, "warmup": 0.5, "cap": cap,
                           "requests": 10**9})
                if not pipe.poll(cap + 60):
                    raise RuntimeError(f"{name}: the load generator did not finish")
                result = pipe.recv()
                if "crash" in result or result["errors"]:
                    raise RuntimeError(f"{name}: {result.get('crash') or result['first_error']}")
                results[name].append(result)
        listing = server.tenants.listing(server.url + "/")
    finally:
        with contextlib.suppress(OSError, BrokenPipeError):
            pipe.send(None)
        loadgen.join(timeout=5)
        server.stop()

    print(f"  throughput: signed GET {FEED_PATH} (200, feed of 2 entries), {CONNS} keep-alive connections, "
          f"{SERVER_THREADS} server threads, {rounds} round(s) of {cap:g} s per phase")
    print(f"    {'phase':<12} {'req/s':>8} {'median ms':>10} {'p99 ms':>8}  requests")
    base = None
    for name, runs in results.items():
        count = sum(len(r["latencies"]) for r in runs)
        rate = count / sum(r["elapsed"] for r in runs)
        latencies = sorted(x for r in runs for x in r["latencies"])
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        base = base or rate
        print(f"    {name:<12} {rate:8.0f} {statistics.median(latencies) * 1000:10.2f} {p99 * 1000:8.2f}  "
              f"{count:,} ({rate / base:.2f}x the default)")
    print(f"    tenants listed after the run: {listing['count']}, "
          f"{min(t['requests'] for t in listing['tenants']):,} to {max(t['requests'] for t in listing['tenants']):,} "
          "requests each")

    traced = in_child("traced", 100)
    rss = in_child("rss", 100 if args.quick else 1000)
    first, again = in_child("creation", 50 if args.quick else 200)
    cpu = in_child("cpu", 5 if args.quick else 15)
    print("  memory of an idle demo tenant (one signed GET made it)")
    print(f"    traced (tracemalloc, 100 tenants)            {traced / 1024:7.1f} KiB per tenant")
    print(f"    RSS ({100 if args.quick else 1000:,} tenants)"
          f"                          {rss / 1024:7.1f} KiB per tenant")
    print(f"    first request of a tenant (builds it)        {first * 1000:7.2f} ms median "
          f"(a request to an existing one: {again * 1000:.2f} ms)")
    print("  CPU of one signed GET in-process (best of interleaved blocks of 64)")
    for name, seconds in cpu.items():
        print(f"    {name:<12} {seconds * 1e6:7.0f} µs  ({seconds / cpu['default']:.2f}x the default)")
    print("Target")
    verdict = "PASS" if max(traced, rss) <= TARGET_KIB * 1024 else "FAIL"
    print(f"  an idle demo tenant within {TARGET_KIB} KiB   traced {traced / 1024:.1f} KiB, "
          f"RSS {rss / 1024:.1f} KiB   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
