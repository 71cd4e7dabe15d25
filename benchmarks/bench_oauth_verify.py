#!/usr/bin/env python3
"""OAuth verification of API requests: oauthlib's endpoint pipeline against its primitives
(issue 14, lever 1), in one run (a script, not a test).

    python benchmarks/bench_oauth_verify.py              # 5,000 calls of each, about 1 minute
    python benchmarks/bench_oauth_verify.py --calls 1000 # quicker, noisier
    python benchmarks/bench_oauth_verify.py --profile    # then a cProfile of the in-process GET

In-process, one thread, no sockets. "before" is the former verifier, oauthlib's
`ResourceEndpoint.validate_protected_resource_request` (kept as `EndpointAuthenticator`
in tests/test_oauth_fastpath.py, which checks that both give the same verdicts); "after"
is `Authenticator.verify` as shipped. Two figures each, calls alternating between before
and after so that a slow spell of a shared machine hits both:
  GET    the whole WSGI call of a signed GET /v2/services/syncml/ as admin (the demo
         world's two SyncML clients), the environ built and signed before timing
  verify Authenticator.verify alone on the same kind of request
Every request carries a fresh nonce and timestamp, signed by oauthlib's Client outside the
timed region. Each call is timed twice: CPU time of the thread (time.thread_time_ns: what a
shared machine's other jobs do not inflate) and wall time (perf_counter_ns).
Figures and their reading: benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

from machineinfo import machine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from oauthlib.oauth1 import Client  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from ocss_testkit.app import FakeApp  # noqa: E402
from ocss_testkit.auth import Authenticator  # noqa: E402
from tests.test_oauth_fastpath import EndpointAuthenticator  # noqa: E402

BASE = "http://127.0.0.1:8080"
PATH = "/v2/services/syncml/"
SIGNER = Client("demo-consumer-key", client_secret="demo-consumer-secret",
                resource_owner_key="admin-access-token", resource_owner_secret="admin-access-secret")


def signed_headers() -> dict:
    return dict(SIGNER.sign(BASE + PATH, http_method="GET")[1])


def environ() -> dict:
    return EnvironBuilder(path=PATH, base_url=BASE, headers=signed_headers()).get_environ()


def run(calls: int) -> dict[str, list[float]]:
    app = FakeApp()
    world, admin = app.world, app.world.users["admin"]
    verifiers = {"before": EndpointAuthenticator(), "after": Authenticator()}
    statuses: set[str] = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(status)

    for name, verifier in verifiers.items():  # warm-up, and a check that both accept
        app.auth = verifier
        for _ in range(200):
            b"".join(app(environ(), start_response))
            assert verifier.verify(world, "GET", BASE + PATH, signed_headers(), b"").user is admin, name
    if statuses != {"200 OK"}:
        raise RuntimeError(f"unexpected answers {statuses}")
    times: dict[str, list[float]] = {f"{what} {name} {clock}": [] for what in ("GET", "verify")
                                     for name in verifiers for clock in ("cpu", "wall")}
    cpu, wall = time.thread_time_ns, time.perf_counter_ns
    gc.collect()
    for i in range(calls):
        order = list(verifiers.items()) if i % 2 else list(verifiers.items())[::-1]
        for name, verifier in order:
            app.auth = verifier
            env = environ()
            c0, w0 = cpu(), wall()
            b"".join(app(env, start_response))
            w1, c1 = wall(), cpu()
            times[f"GET {name} cpu"].append((c1 - c0) / 1e3)
            times[f"GET {name} wall"].append((w1 - w0) / 1e3)
            headers = signed_headers()
            c0, w0 = cpu(), wall()
            result = verifier.verify(world, "GET", BASE + PATH, headers, b"")
            w1, c1 = wall(), cpu()
            times[f"verify {name} cpu"].append((c1 - c0) / 1e3)
            times[f"verify {name} wall"].append((w1 - w0) / 1e3)
            if result.user is not admin:
                raise RuntimeError(f"{name}: {result.reason}")
    if statuses != {"200 OK"}:
        raise RuntimeError(f"unexpected answers {statuses}")
    return times


def steps(calls: int) -> list[tuple[str, float]]:
    """CPU µs (median of 5 repeats) of each step of the shipped verifier, on one request."""
    import timeit

    from oauthlib.oauth1.rfc5849 import signature

    from ocss_testkit.auth import NonceStore, base_string, params

    uri, authorization = BASE + PATH, signed_headers()["Authorization"]
    items = params.header_items(authorization)
    located = params.locate(items, uri, None)
    signed = params.read(located, authorization, None).params
    base_uri, base = base_string.base_string("GET", uri, signed)
    secrets = base_string.Secrets("demo-consumer-secret", "admin-access-secret")
    store = NonceStore()
    record = NonceStore.record(("demo-consumer-key", "admin-access-token", "a-nonce", str(int(time.time()))))
    work = [
        ("split the header (parse_http_list)", lambda: params.header_items(authorization)),
        ("locate, duplicates and places", lambda: params.refuse_duplicates(params.locate(items, uri, None).found)),
        ("read the parameters (unescape)", lambda: params.read(located, authorization, None)),
        ("base string (URI cached)", lambda: base_string.base_string("GET", uri, signed)),
        ("  oauthlib's: normalize + signature_base_string",
         lambda: signature.signature_base_string("GET", base_uri, signature.normalize_parameters(signed))),
        ("sign_hmac_sha1_with_client", lambda: base_string.sign(base, secrets)),
        ("nonce record (BLAKE2b), once per request",
         lambda: NonceStore.record(("demo-consumer-key", "admin-access-token", "a-nonce", "1700000000"))),
        ("nonce store: look-up of the record", lambda: store.seen(record)),
    ]
    return [(label, sorted(timeit.repeat(fn, number=calls, repeat=5, timer=time.thread_time))[2] / calls * 1e6)
            for label, fn in work]


def profile(calls: int) -> str:
    app = FakeApp()
    environs = [environ() for _ in range(calls)]
    sink = []
    profiler = cProfile.Profile()
    profiler.enable()
    for env in environs:
        b"".join(app(env, lambda status, headers, exc_info=None: sink.append(status)))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(28)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000, help="timed calls of each (default 5000)")
    parser.add_argument("--profile", action="store_true", help="then a cProfile of the in-process GET (after)")
    args = parser.parse_args()
    print(f"bench_oauth_verify: {machine(with_time=True)}")
    began = time.perf_counter()
    times = run(args.calls)
    print(f"  {args.calls:,} calls of each, alternating; microseconds per call")
    print(f"  {'':22} {'median':>8} {'p99':>8} {'mean':>8}")
    for label, values in times.items():
        values.sort()
        print(f"  {label:22} {statistics.median(values):8.1f} {values[int(len(values) * 0.99)]:8.1f} "
              f"{statistics.fmean(values):8.1f}")
    for what in ("GET", "verify"):
        for clock in ("cpu", "wall"):
            before, after = (statistics.median(times[f"{what} {name} {clock}"]) for name in ("before", "after"))
            print(f"  {what} ({clock}): after/before {after / before:.2f}, median {before - after:.1f} µs "
                  "less per call")
    print(f"  ({time.perf_counter() - began:.0f} s)")
    print("  steps of the shipped verifier, CPU µs per call (timeit, median of 5):")
    for label, micros in steps(2000):
        print(f"    {label:50} {micros:6.1f}")
    if args.profile:
        print(profile(min(args.calls, 2000)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
