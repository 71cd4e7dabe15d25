#!/usr/bin/env python3
"""Memory of one fake after 100,000 requests made of distinct input: flat, or not.

    python benchmarks/bench_memory.py              # 100,000 in-process + 5,000 over HTTP, 3 to 5 min
    python benchmarks/bench_memory.py --quick      # 20,000 + 1,000, ~40 s
    python benchmarks/bench_memory.py --cap 120    # stop the in-process phase after 120 s
    python benchmarks/bench_memory.py --phones     # also: the phones-feed cache, two designs compared

Everything the fake keeps per request must be bounded in entries and in bytes. One
FakeServer (and so one FakeApp) in a fresh child process receives a mix in which every
request differs from every other in what a careless cache or store would key on:
  - a distinct `Host` header on every request (the base URL of every link it renders),
  - a distinct OAuth nonce on every signed request (signed afresh, for that Host),
  - distinct detection codes: manual detections created (each with its own phone number),
    visited from `/d/{code}` by the phone's browser, polled, and left to expire,
  - long headers on every request (a 4 KiB User-Agent, a 2 KiB Cookie, a 2 KiB X-Trace),
  - refusals of long input (a 300-character unknown path, an 8 KiB
    `oauth_signature_method`: an Authorization header over the 8 KiB the fake reads, a 2 KiB
    XML element name, an unknown 1 KiB model id);
and the fake's virtual clock advances 60 s every 20 requests (`POST /_fake/clock`), so
that detection links expire as they would over days of use (the 100,000 requests span
~3.5 virtual days; a link lives an hour).

Two child processes, side by side (one per CPU), each a fresh interpreter:
  RSS run     the full count. A warm-up (in-process, then a tenth of it, at most 500, over
              HTTP: the server's threads and buffers, and the journal full) and then the
              requests, in-process through the WSGI interface (no sockets: fast), then
              over real HTTP to the same server (waitress, keep-alive). Sampled after the
              warm-up and every tenth: the process RSS, and every store's entry count and
              bytes (deep sizes: sys.getsizeof of everything it reaches, the shared phones
              database excluded).
  traced run  a tenth of the count, in-process, under tracemalloc (started after the same
              warm-up; it makes a request ~4x slower, hence the shorter run): what is still
              allocated at the end, and the source lines holding most of it.
Target: RSS +20 MB at most after the warm-up. Exits 0 whatever the figures; non-zero only
on an error (an unexpected status, a child that fails).
"""
from __future__ import annotations

import argparse
import gc
import http.client
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench_core import check_signer_against_oauthlib, oauth_header  # noqa: E402
from machineinfo import machine  # noqa: E402

MIB = 1024 * 1024
TARGET_MB = 20.0
CONSUMER = ("demo-consumer-key", "demo-consumer-secret")
USERS = {name: (f"{name}-access-token", f"{name}-access-secret") for name in ("admin", "alice", "bob")}
ATOM, OC = "http://www.w3.org/2005/Atom", "http://schemas.obexcode.com/syncserver/2009"
PHONE_UA = "HTC_Touch_Diamond/1.0 Mozilla/4.0 (compatible; MSIE 6.0; Windows CE; IEMobile 7.11)"
LONG_UA = PHONE_UA + " " + "u" * (4096 - len(PHONE_UA) - 1)
COOKIE = "session=" + "c" * 2040
TRACE = "t" * 2048
ADVANCE = 60  # virtual seconds per 20 requests


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --- the request mix -------------------------------------------------------------------------
class Mix:
    """Request i of the run: (method, path, body, headers, user, expected status prefix).

    Stateful only in the detection codes it has seen (the newest is visited and polled)."""

    def __init__(self) -> None:
        check_signer_against_oauthlib()  # bench_core's 37 µs signer, not oauthlib's ~185 µs
        self.code = None  # the newest detection code
        self.codes = 0

    def host(self, i: int) -> str:
        return f"c{i}.bench.example"

    def request(self, i: int):
        k = i % 20
        long_id = "9" * 1024
        anonymous = {
            0: ("GET", "/v2/phones/models/", "200"),
            1: ("GET", "/v2/phones/vendors/", "200"),
            2: ("GET", "/v2/phones/vendors/4/", "200"),
            3: ("GET", "/v2/phones/models/501/", "200"),
            4: ("GET", "/v2/phones/vendors/4/models/", "200"),
            12: ("GET", "/v2/phones/" + "m" * 300 + f"/{i}", "404"),
            16: ("GET", f"/v2/phones/models/{long_id}{i}", "404"),
            18: ("POST", "/v2/phones/models/", "405"),
        }
        if k in anonymous:
            method, path, expected = anonymous[k]
            return method, path, b"", {}, None, expected
        if k == 5:
            return "GET", "/v2/services/syncml/", b"", {}, "admin", "200"
        if k == 6:
            return "GET", "/v2/services/google/", b"", {}, "admin", "200"
        if k == 7:
            return "GET", "/v2/clients/", b"", {}, "bob", "200"
        if k == 8:
            number = f"+47{40000000 + i % 50_000_000:08d}"
            body = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{number}</oc:phone_number></entry>'
            return "POST", "/v2/phones/detect/manual/", body.encode(), {"Content-Type": "application/atom+xml"}, \
                "alice", "201"
        if k == 9:
            return "GET", f"/d/{self.code}", b"", {"User-Agent": LONG_UA}, None, "200"
        if k == 10:
            return "GET", f"/v2/phones/detect/manual/{self.code}/", b"", {}, "alice", "200"
        if k == 11:
            return "GET", "/v2/services/syncml/sessions/", b"", {}, "admin", "200"
        if k == 13:  # an 8 KiB signature method: the header is refused for its size, unparsed
            header = (f'OAuth oauth_consumer_key="{CONSUMER[0]}", oauth_token="{USERS["bob"][0]}", '
                      f'oauth_signature_method="{"H" * 8192}", oauth_signature="x", '
                      f'oauth_timestamp="{int(time.time())}", oauth_nonce="n{i}", oauth_version="1.0"')
            return "GET", "/v2/services/syncml/", b"", {"Authorization": header}, None, "401"
        if k == 14:  # a schema error naming a 2 KiB element
            name = "x" * 2048 + str(i)
            body = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>a</oc:name><oc:{name}/>'
                    f"</oc:client></entry>")
            return "POST", "/v2/services/datastore/", body.encode(), {"Content-Type": "application/atom+xml"}, \
                "admin", "400"
        if k == 15:  # a code that never existed
            return "GET", f"/v2/phones/detect/manual/nope{i}/", b"", {}, "alice", "4"
        if k == 17:
            return "GET", "/v2/phones/detect/manual/", b"", {}, "alice", "405"
        if k == 19:
            body = json.dumps({"advance": ADVANCE}).encode()
            return "POST", "/_fake/clock", body, {"Content-Type": "application/json"}, None, "200"
        raise AssertionError(k)

    def sign(self, user: str, method: str, url: str, i: int, headers: dict) -> dict:
        """Signed afresh: a nonce of its own, for this request's Host (in `url`)."""
        header = oauth_header(method, url, CONSUMER, USERS[user], f"bench{os.getpid()}n{i}", str(int(time.time())))
        return {**headers, "Authorization": header}

    def saw(self, k: int, status: str, location: str | None) -> None:
        if k == 8 and status.startswith("201"):
            self.code = location.rstrip("/").rsplit("/", 1)[1]
            self.codes += 1


def common_headers() -> dict:
    return {"User-Agent": LONG_UA, "Cookie": COOKIE, "X-Trace": TRACE}


class InProcess:
    """Requests through the WSGI interface: an environ built by hand, as a server would."""

    def __init__(self, app) -> None:
        self.app = app

    def send(self, method: str, path: str, body: bytes, headers: dict, host: str) -> tuple[str, str | None]:
        path, _, query = path.partition("?")
        environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
                   "SERVER_NAME": host, "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                   "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
                   "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
                   "wsgi.run_once": False, "HTTP_HOST": host}
        if body:
            environ["CONTENT_LENGTH"] = str(len(body))
        for name, value in headers.items():
            if name == "Content-Type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        seen = {}

        def start_response(status, response_headers, exc_info=None):
            seen["status"], seen["headers"] = status, response_headers

        result = self.app(environ, start_response)
        try:
            for _ in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        location = next((v for k, v in seen["headers"] if k.lower() == "location"), None)
        return seen["status"], location


class OverHttp:
    """Requests over one keep-alive connection; the Host header is set per request."""

    def __init__(self, server) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection(server.host, server.port, timeout=30)

    def send(self, method: str, path: str, body: bytes, headers: dict, host: str) -> tuple[str, str | None]:
        self.conn.request(method, path, body=body or None, headers={"Host": host, **headers})
        response = self.conn.getresponse()
        response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        return f"{response.status} {response.reason}", response.getheader("Location")

    def reconnect(self) -> None:
        """A fresh connection: the server closes one idle for 60 s (channel_timeout)."""
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)

    def close(self) -> None:
        self.conn.close()


def run(mix: Mix, transport, start: int, count: int) -> None:
    for i in range(start, start + count):
        method, path, body, headers, user, expected = mix.request(i)
        host = mix.host(i)
        headers = {**common_headers(), **headers}
        if user is not None:
            headers = mix.sign(user, method, f"http://{host}{path}", i, headers)
        status, location = transport.send(method, path, body, headers, host)
        if not status.startswith(expected):
            raise SystemExit(f"request {i}: {method} {path[:80]} answered {status}, expected {expected}…")
        mix.saw(i % 20, status, location)


# --- the child: one fake, measured ----------------------------------------------------------
_LEAVES = (str, bytes, int, float, bool, type(None))


def deep_size(root, seen: set[int]) -> int:
    """Bytes held by `root` and everything it reaches that `seen` does not hold yet
    (sys.getsizeof of each object once; iterative: stores hold 100,000s of objects)."""
    import datetime
    import threading
    import types

    total, stack = 0, [root]
    skip = (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType,
            type(threading.Lock()), type(threading.RLock()))
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, _LEAVES + (datetime.datetime, datetime.timedelta)):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)) or type(obj).__name__ == "deque":
            stack.extend(obj)
        else:
            for name in getattr(type(obj), "__slots__", ()):
                stack.append(getattr(obj, name, None))
            stack.extend(getattr(obj, "__dict__", {}).values())
    return total


def stores(app) -> dict:
    """What the fake holds that grows with traffic: entry counts, and bytes (deep sizes;
    the shared phones database excluded, and a store's objects counted in the first store
    that reaches them)."""
    from ocss_testkit.services.phones import cached_bodies as phones

    world = app.world
    templates = getattr(phones, "_templates", None)
    with world.lock:
        db = world.phones
        seen = {id(db), id(world.lock)} | {id(m) for m in db.models.values()} | {id(v) for v in db.vendors.values()}
        measured = {"journal": (len(app.journal), app.journal._entries),
                    "nonces": (len(app.auth.nonces), app.auth.nonces._minutes),
                    "outbox": (len(world.outbox), world.outbox),
                    "detections": (len(world.detection.detections),
                                   [world.detection.detections, world.detection._detection_expiry]),
                    "handsets": (len(world.detection.handsets), world.detection.handsets),
                    "phones": (templates.stats()["entries"] if templates else 0,
                               templates._items if templates else ())}
        out = {}
        for name, (count, obj) in measured.items():
            out[name] = count
            out[name + "_bytes"] = deep_size(obj, seen)
        out["world_bytes"] = deep_size(world, seen)  # the rest of the World
    return out


def _where(filename: str) -> str:
    for marker in ("ocss_testkit/", "site-packages/", "lib/python3"):
        if marker in filename:
            return filename[filename.index(marker):]
    return filename


def child(total: int, over_http: int, warmup: int, every: int, cap: float) -> None:
    """The RSS run: no tracemalloc (it would cost 4x the time), store sizes at each sample."""
    from ocss_testkit.app import FakeApp
    from ocss_testkit.server import FakeServer

    server = FakeServer(FakeApp(), threads=2).start()
    mix = Mix()
    local = InProcess(server.app)
    remote = OverHttp(server)
    http_warmup = min(500, warmup // 10)
    try:
        # Both ways in the warm-up: the server's threads, buffers and connection once.
        run(mix, local, 0, warmup - http_warmup)
        run(mix, remote, warmup - http_warmup, http_warmup)
        samples = []

        def sample(done: int, phase: str, elapsed: float) -> None:
            gc.collect()
            samples.append({"requests": done, "phase": phase, "rss": rss_bytes(), "elapsed": round(elapsed, 1),
                            **stores(server.app)})

        started = time.perf_counter()
        sample(0, "after warm-up", 0.0)
        done, stopped = 0, False
        while done < total:
            step = min(every, total - done)
            run(mix, local, warmup + done, step)
            done += step
            elapsed = time.perf_counter() - started
            sample(done, "in-process", elapsed)
            if elapsed > cap and done < total:
                stopped = True
                break
        http_done = 0
        remote.reconnect()
        while http_done < over_http:
            step = min(max(1, over_http // 2), over_http - http_done)
            run(mix, remote, warmup + done + http_done, step)
            http_done += step
            sample(done + http_done, "over HTTP", time.perf_counter() - started)
    finally:
        remote.close()
        server.stop()
    print(json.dumps({"samples": samples, "stopped_early": stopped, "codes": mix.codes}))


def traced_child(total: int, warmup: int) -> None:
    """The tracemalloc run: in-process only, shorter; what stays allocated, and where."""
    from ocss_testkit.app import FakeApp

    app = FakeApp()
    mix = Mix()
    local = InProcess(app)
    run(mix, local, 0, warmup)
    gc.collect()
    tracemalloc.start(1)
    started = time.perf_counter()
    run(mix, local, warmup, total)
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0]
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    top = [{"where": f"{_where(stat.traceback[0].filename)}:{stat.traceback[0].lineno}", "size": stat.size,
            "count": stat.count} for stat in snapshot.statistics("lineno")[:12]]
    tracemalloc.stop()
    print(json.dumps({"requests": total, "traced": traced, "top": top,
                      "elapsed": round(time.perf_counter() - started, 1)}))


# --- the phones cache: the two designs of the issue, side by side ----------------------------
def phones_child(design: str, hosts: int) -> None:
    """GET /v2/phones/models/ (350 KB) from `hosts` distinct Hosts: RSS growth and CPU."""
    from collections import OrderedDict

    from ocss_testkit.app import FakeApp
    from ocss_testkit.services.phones import cached_bodies as phones

    if design == "per-host LRU, 16 MiB":
        kept: OrderedDict = OrderedDict()
        size = [0]

        def cached(db, base, what, key=""):
            k = (db, base, what, key)
            if k in kept:
                kept.move_to_end(k)
                return kept[k]
            body = kept[k] = phones._render(db, base, what, key)
            size[0] += len(body)
            while size[0] > 16 * MIB:
                size[0] -= len(kept.popitem(last=False)[1])
            return body
        phones._cached = cached
    app = FakeApp()
    local = InProcess(app)
    for _ in range(3):
        local.send("GET", "/v2/phones/models/", b"", {}, "warm.example")
    gc.collect()
    before = rss_bytes()
    cpu = time.process_time()
    for i in range(hosts):
        status, _ = local.send("GET", "/v2/phones/models/", b"", {}, f"h{i}.example")
        if not status.startswith("200"):
            raise SystemExit(f"phones: {status}")
    cpu = (time.process_time() - cpu) / hosts
    gc.collect()
    print(json.dumps({"design": design, "rss_before": before, "rss_after": rss_bytes(), "cpu_ms": cpu * 1000}))


def spawn(args: list[str], timeout: float) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise SystemExit(f"child {' '.join(args)} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 + 1,000 requests instead of 100,000 + 5,000")
    parser.add_argument("--requests", type=int, default=None, help="in-process requests after the warm-up")
    parser.add_argument("--http", type=int, default=None, help="requests over HTTP after those")
    parser.add_argument("--traced", type=int, default=None, help="requests of the tracemalloc run (default: a tenth)")
    parser.add_argument("--warmup", type=int, default=5_000, help="requests before the first sample")
    parser.add_argument("--cap", type=float, default=300.0, help="stop the in-process phase after this many seconds")
    parser.add_argument("--phones", action="store_true", help="also compare the two phones-cache designs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--traced-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phones-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    total = args.requests or (20_000 if args.quick else 100_000)
    over_http = args.http if args.http is not None else (1_000 if args.quick else 5_000)
    traced_total = args.traced or max(1, total // 10)
    if args.child:
        child(total, over_http, args.warmup, max(1, total // 10), args.cap)
        return 0
    if args.traced_child:
        traced_child(traced_total, args.warmup)
        return 0
    if args.phones_child:
        phones_child(args.phones_child, 200)
        return 0

    print(f"bench_memory: {machine(with_time=True)}")
    print(f"  one FakeServer: {args.warmup:,} requests of warm-up, then {total:,} in-process (WSGI) and "
          f"{over_http:,} over HTTP, every request from a distinct Host with long headers; gc.collect() "
          f"before each sample. Beside it, a tracemalloc run of {traced_total:,} requests (in-process)")
    started = time.perf_counter()
    common = ["--warmup", str(args.warmup), "--requests", str(total), "--traced", str(traced_total)]
    with ThreadPoolExecutor(2) as pool:  # one child per CPU; each its own process, so RSS starts alike
        rss_run = pool.submit(spawn, ["--child", "--http", str(over_http), "--cap", str(args.cap), *common],
                              args.cap * 2 + 600)
        traced_run = pool.submit(spawn, ["--traced-child", *common], args.cap * 2 + 600)
        result, traced = rss_run.result(), traced_run.result()
    samples = result["samples"]
    print()
    columns = ("journal", "nonces", "outbox", "detections", "handsets", "phones")
    head = (f"{'requests':>9} {'phase':<13} | {'RSS MiB':>7} | "
            + " ".join(f"{c:>14}" for c in columns) + f" | {'world':>6} | {'s':>4}")
    print(f"{'':>23} | {'':>7} | {'entries / MiB held by each store':^89} | {'MiB':>6} |")
    print(head)
    print("-" * len(head))
    for s in samples:
        cells = " ".join(f"{s[c]:>7,}/{s[c + '_bytes'] / MIB:>6.2f}" for c in columns)
        print(f"{s['requests']:>9,} {s['phase']:<13} | {s['rss'] / MIB:>7.1f} | {cells} | "
              f"{s['world_bytes'] / MIB:>6.2f} | {s['elapsed']:>4.0f}")
    first, last = samples[0], samples[-1]
    rss = (last["rss"] - first["rss"]) / 1e6
    print()
    print(f"  {result['codes']:,} detection codes made and left to expire; 'world' = the rest of the World "
          "(clients, bindings, phone states, ...)")
    grown = sorted(((last[c + "_bytes"] - first[c + "_bytes"]) / 1e6, c) for c in columns + ("world",))
    print("  growth by store after the warm-up: " + ", ".join(f"{c} {mb:+.2f} MB" for mb, c in reversed(grown)))
    print(f"  tracemalloc run: {traced['requests']:,} requests after the same warm-up, "
          f"{traced['traced'] / 1e6:+.2f} MB "
          f"still allocated ({traced['traced'] / max(1, traced['requests']):.0f} B per request), "
          f"{traced['elapsed']:.0f} s; by line:")
    for t in traced["top"]:
        print(f"    {t['size'] / MIB:>7.2f} MiB {t['count']:>8,} blocks  {t['where']}")
    early = " (in-process phase stopped early at --cap)" if result["stopped_early"] else ""
    print("Target")
    verdict = "PASS" if rss <= TARGET_MB and not result["stopped_early"] else "FAIL"
    print(f"  RSS growth after the warm-up <= +{TARGET_MB:g} MB   {rss:+.1f} MB   {verdict}{early}")

    if args.phones:
        print()
        print("Phones feed cache: GET /v2/phones/models/ (350 KB) from 200 distinct Hosts, in-process")
        for design in ("shipped: host-free templates", "per-host LRU, 16 MiB"):
            r = spawn(["--phones-child", design], timeout=300)
            print(f"  {design:<32} RSS {r['rss_before'] / MIB:6.1f} -> {r['rss_after'] / MIB:6.1f} MiB, "
                  f"{r['cpu_ms']:6.2f} ms CPU per request")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
