#!/usr/bin/env python3
"""Lever 5 of the issue "a fast fake" (request plumbing), each change measured by taking it
out, in ONE run (a script, not a test).

    python benchmarks/bench_plumbing.py            # about 1.5 minutes
    python benchmarks/bench_plumbing.py --quick    # about 30 s, noisier

The fake as shipped ("all") beside itself with ONE change undone ("all but X"), for each
change of lever 5 and the OAuth reading that came with it. A change is undone by putting
back, for the time of its blocks, the code it replaced (kept below, verbatim, or the
library function it stands in for):

  split_list      the Authorization header split by urllib's parse_http_list (a character
                  loop in Python), not str.split where that gives the same list (auth/params.py)
  read_header     a header-only request read by locate + refuse_duplicates + read, as a
                  request with parameters in several places is (auth/params.py, verify.py)
  prepared hits   a response-cache hit as a new werkzeug Response, sent by werkzeug, not
                  the kept bytes (answers.Prepared)
  phones cached   the anonymous phones GETs rendered every time (response_cache.PUBLIC)
  host verdicts   the Host header checked label by label every time (http_rules.host_problem)
  route matches   every request matched by werkzeug's matcher (route_matching._remembered)
  bodiless read   a request without Content-Length or Transfer-Encoding read through
                  werkzeug's input stream (request_body.read_body)
  root from Host  the public root from werkzeug's `request.host` every time (public_url.root)

Rows, in-process, one thread, the environs built and signed outside the timed region
(bench_side_by_side.InProcess): the signed GET /v2/services/syncml/ (admin, two clients),
the anonymous GET /v2/phones/vendors/, the signed POST create. Each variant has its own
FakeApps, warmed up; the variants run block by block, in an order turned every round, so
that a slow spell of a shared machine hits all of them. Before timing, every variant's
answers are compared with the shipped fake's, byte for byte (status, headers but
X-Request-Id, body). Figures: µs per call, p10 and median of the calls' wall time, and CPU
time per call (the median of the blocks'); "vs all" is the variant's CPU per call over the
shipped fake's (above 1: the change saves that much).

Exits 0; 1 if a variant answers other bytes. Figures and their reading: benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
for path in (str(ROOT), str(ROOT / "benchmarks")):
    if path not in sys.path:
        sys.path.insert(0, path)

import bench_core as core  # noqa: E402 - loadavg
import bench_side_by_side as side  # noqa: E402 - the InProcess rig
from machineinfo import machine  # noqa: E402
from oauthlib.oauth1.rfc5849 import utils as oauth_utils  # noqa: E402
from werkzeug.exceptions import RequestEntityTooLarge  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

import ocss_testkit.app as app_module  # noqa: E402
from ocss_testkit import http_rules, public_url, response_cache, route_matching  # noqa: E402
from ocss_testkit.answers import ApiError  # noqa: E402
from ocss_testkit.app import FakeApp  # noqa: E402
from ocss_testkit.auth import params  # noqa: E402


# --- the code each change replaced ------------------------------------------------------------
def _read_in_places(authorization: str) -> params.Read:
    located = params.locate(params.header_items(authorization), "", None)
    params.refuse_duplicates(located.found)
    return params.read(located, authorization, None)


def _get_as_response(self, key, version, second):
    found = response_cache.ResponseCache._get(self, key, version, second)
    if found is None:
        return None
    return Response(found.body, status=found.status, headers=list(found.header_list))


class _ResponseCacheOfResponses(response_cache.ResponseCache):
    _get = _get_as_response


def _read_body_by_werkzeug(request, max_body: int) -> bytes:
    length = request.content_length
    if length is not None and length > max_body:
        raise ApiError(413, "Request Entity Too Large", f"body of {length} bytes; the limit is {max_body} bytes")
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large",
                       f"body of more than {max_body} bytes; the limit is {max_body} bytes") from None


def _root_from_werkzeug(request, base_url, trust_forwarded) -> str:
    if base_url or trust_forwarded:
        return shipped_root(request, base_url, trust_forwarded)
    return f"{request.scheme}://{request.host}{quote(request.root_path.rstrip('/'), safe=public_url._SUB_DELIMS)}"


shipped_root = public_url.root
_UNCACHED_MATCH = route_matching._remembered.__wrapped__

# name -> [(object, attribute, stand-in)], the stand-ins put back while the variant runs.
# "prepared hits" swaps the class of the cache the variant's apps are made with (below).
UNDO = {
    "split_list": [(params, "split_list", oauth_utils.parse_http_list)],
    "read_header": [(params, "read_header", _read_in_places)],
    "prepared hits": [],
    "phones cached": [(response_cache, "PUBLIC", ())],
    "host verdicts": [(http_rules, "_cached_host_value_problem", http_rules._host_value_problem)],
    "route matches": [(route_matching, "_remembered", _UNCACHED_MATCH)],
    "bodiless read": [(app_module, "read_body", _read_body_by_werkzeug)],
    "root from Host": [(public_url, "root", _root_from_werkzeug)],
}
VARIANTS = ["all", *(f"all but {name}" for name in UNDO)]


@contextlib.contextmanager
def undone(variant: str):
    name = variant.removeprefix("all but ")
    saved = [(obj, attr, obj.__dict__[attr]) for obj, attr, _ in UNDO.get(name, [])]
    for obj, attr, stand_in in UNDO.get(name, []):
        setattr(obj, attr, stand_in)
    try:
        yield
    finally:
        for obj, attr, value in saved:
            setattr(obj, attr, value)


def make_app(variant: str) -> FakeApp:
    app = FakeApp()
    if variant == "all but prepared hits":
        app.responses = _ResponseCacheOfResponses()
    else:
        app.responses = response_cache.ResponseCache()  # its own: no variant evicts another's answers
    return app


# (label, InProcess environ maker, block divisor: a POST costs several GETs)
ROWS = (("GET list, signed", "signed_get", 1), ("GET phones, anon", "phones", 1),
        ("POST create, signed", "signed_post", 5))


def answer(app, env) -> tuple:
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"], got["headers"] = status, [(k, v) for k, v in headers if k != "X-Request-Id"]

    body = b"".join(app(env, start_response))
    return got["status"], got["headers"], body


def check_answers(rig: side.InProcess) -> bool:
    """Every variant's answers are the shipped fake's, byte for byte (a second GET: a hit)."""
    same = True
    for label, make, _ in ROWS:
        seen = {}
        for variant in VARIANTS:
            with undone(variant):
                app = make_app(variant)
                answers = [answer(app, getattr(rig, make)()) for _ in range(2)]
            if make == "signed_post":  # a new client each time: its id and phone differ
                answers = [(status, [h for h in headers if h[0] not in ("Location", "Content-Length")], b"")
                           for status, headers, _ in answers]
            seen[variant] = answers
        for variant, answers in seen.items():
            if answers != seen["all"]:
                print(f"  DIFFERENT ANSWERS: {label}, {variant}: {answers[0][:2]} vs {seen['all'][0][:2]}")
                same = False
    return same


def run(rounds: int, block: int) -> dict:
    rig = side.InProcess()
    apps = {}
    for variant in VARIANTS:
        with undone(variant):
            apps[variant] = {make: make_app(variant) for _, make, _ in ROWS}
            for _, make, divisor in ROWS:
                for _ in range(300 // divisor):
                    rig.call(apps[variant][make], getattr(rig, make)())
    lat = {(v, make): [] for v in VARIANTS for _, make, _ in ROWS}
    cpu = {(v, make): [] for v in VARIANTS for _, make, _ in ROWS}
    perf, thread_time = time.perf_counter_ns, time.thread_time_ns
    gc.collect()
    for r in range(rounds):
        order = VARIANTS[r % len(VARIANTS):] + VARIANTS[:r % len(VARIANTS)]
        for variant in (order if r % 2 == 0 else order[::-1]):
            with undone(variant):
                for _, make, divisor in ROWS:
                    app, n = apps[variant][make], block // divisor
                    envs = [getattr(rig, make)() for _ in range(n)]
                    began = thread_time()
                    for env in envs:
                        t0 = perf()
                        rig.call(app, env)
                        lat[(variant, make)].append(perf() - t0)
                    cpu[(variant, make)].append((thread_time() - began) / n / 1e3)
        if (r + 1) % max(rounds // 4, 1) == 0:
            print(f"  round {r + 1} of {rounds}; {core.loadavg()}", flush=True)
    if set(rig.statuses) != {"200 OK", "201 Created"}:
        raise RuntimeError(f"unexpected answers: {rig.statuses}")
    return {"lat": lat, "cpu": cpu}


def report(figures: dict, rounds: int, block: int) -> None:
    lat, cpu = figures["lat"], figures["cpu"]
    print(f"\nIn-process, {rounds} rounds of blocks of {block} calls ({block // 5} POSTs) per variant and row; "
          "µs per call")
    for label, make, _ in ROWS:
        print(f"\n{label}")
        head = f"  {'variant':28} {'p10':>7} {'median':>7} {'CPU/call':>9} {'vs all':>7}"
        print(head)
        print("  " + "-" * (len(head) - 2))
        shipped = statistics.median(cpu[("all", make)])
        for variant in VARIANTS:
            values = sorted(lat[(variant, make)])
            own = statistics.median(cpu[(variant, make)])
            print(f"  {variant:28} {values[len(values) // 10] / 1e3:7.1f} {values[len(values) // 2] / 1e3:7.1f} "
                  f"{own:9.1f} {own / shipped:6.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="8 rounds, not 24 (~30 s)")
    args = ap.parse_args(argv)
    rounds, block = (8, 150) if args.quick else (24, 200)
    print(f"bench_plumbing: {machine(with_time=True)}")
    print(f"  before start: {core.loadavg()}")
    began = time.perf_counter()
    if not check_answers(side.InProcess()):
        return 1
    print("  every variant answers the shipped fake's bytes")
    figures = run(rounds, block)
    report(figures, rounds, block)
    print(f"\ntotal {time.perf_counter() - began:.0f} s; after: {core.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
