#!/usr/bin/env python3
"""The fake beside its peers, every target of the issue "a fast fake" from ONE run (a script, not a test).

    python benchmarks/bench_side_by_side.py             # full run, about 4 minutes
    python benchmarks/bench_side_by_side.py --quick     # about 1 minute, noisier
    python benchmarks/bench_side_by_side.py --profile   # then a cProfile of the in-process signed GET

HTTP rows, each server in this process (threads) on 127.0.0.1 and a free port, fresh for
every phase and stopped after it; phases interleaved in rounds, peers next to each other:
  GET    the fake (FakeServer): signed GET /v2/services/syncml/ as admin (the demo world's
         two SyncML clients) | werkzeug's dev server (make_server(threaded=True), what
         run_simple(threaded=True) serves with) answering the same bytes with no work |
         moto's server (ThreadedMotoServer, what `moto_server` runs) answering S3
         ListBuckets for an account holding two buckets, as boto3 sends it (SigV4-signed)
  POST   the fake: signed POST of the SyncML create body, 201 | werkzeug's dev server reading
         the body and answering the fake's 201 bytes
  phones the fake: anonymous GET /v2/phones/vendors/ | a bare WSGI app answering the same
         bytes on FakeServer's own waitress settings

The client is ONE separate process (multiprocessing, spawn), one thread, epoll, --conns
keep-alive connections (default 1), each with one request in flight. Every request is built
and signed before timing: OAuth nonces are single-use, so each phase gets a pool of
requests signed with unique nonces (and, for POST, unique phone numbers); the client only
sends bytes and reads answers. werkzeug's dev server and moto answer `Connection: close`
to every request, so their client reconnects each time: that connect is in their latency,
as it is in what their users wait for.

In-process rows (a WSGI call, no sockets; the environ is built and signed outside the
timed region): the signed list GET and the anonymous phones GET, each 100,000 calls (or
--inproc-cap seconds, whichever first: today's fake needs minutes for 100,000 signed GETs on
a busy 2-core machine) with the process RSS sampled every tenth (garbage collected first),
and 2,000 signed creates. Interrupting the run before the HTTP rows leaves no server behind
either: none is started before them.

Exits 0 whatever the figures; 1 on an unexpected answer or a server that does not answer;
130 on Ctrl-C or SIGTERM, every server and the client process stopped. Figures and their
reading: benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import array
import contextlib
import gc
import io
import logging
import multiprocessing as mp
import os
import re
import signal
import socket
import sys
import sysconfig
import time
from pathlib import Path

import bench_core as core  # the fast OAuth signer (checked against oauthlib), HTTP framing, servers
from machineinfo import machine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST, FEED_PATH = core.HOST, core.FEED_PATH
PHONES_PATH = "/v2/phones/vendors/"
BASE = f"http://{HOST}:8080/"  # the in-process rows' base URL (no socket behind it)

# The targets, as numbers.
T_GET_WERKZEUG = 3.0     # fake signed list GET vs werkzeug dev serving bytes, req/s
T_GET_MOTO = 8.0         # fake signed list GET vs moto ListBuckets, req/s
T_POST_WERKZEUG = 2.0    # fake signed POST create vs werkzeug dev serving bytes, req/s
T_INPROC_US = 100.0      # in-process signed list GET, median µs
T_PHONES_BARE = 1.0      # fake anonymous phones GET vs bare WSGI on the same server, req/s
T_TAIL = 3.0             # p99 / p50, every row of the fake
T_RSS_MIB = 1.0          # RSS growth over the in-process run, after its warm-up


# =========================================================================================
# The client process: sends a pre-built pool of requests
# =========================================================================================
def run_pool(job: dict, report) -> dict:
    """One phase: warm up, then time answers until `requests` of them, the cap, or the pool's end.

    job["pool"] holds every request's bytes, in order; each connection has one request in
    flight (closed loop). Warm-up ends after `warm` answers or `warmup` seconds; only
    requests sent after that count. When a server closes the connection after an answer,
    the next request's time starts before the reconnect.
    """
    import selectors

    perf = time.perf_counter
    pool, expect = job["pool"], job["expect"]
    nxt = 0
    sel = selectors.DefaultSelector()
    latencies: list[float] = []
    errors, first_error, answered, reconnects, size = 0, "", 0, 0, 0
    measuring, m_start, m_end, cpu0 = False, 0.0, 0.0, 0.0
    in_flight = 0

    def open_conn(slot: dict) -> None:
        sock = socket.create_connection((job["host"], job["port"]), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        slot.update(sock=sock, buf=b"")
        sel.register(sock, selectors.EVENT_READ, slot)

    def close_conn(slot: dict) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            sel.unregister(slot["sock"])
        slot["sock"].close()

    def send_next(slot: dict, reopen: bool = False) -> None:
        nonlocal nxt, in_flight, reconnects
        if nxt >= len(pool):
            if reopen:
                close_conn(slot)
            return
        t0 = perf()
        if reopen:
            close_conn(slot)
            open_conn(slot)
            reconnects += 1
        slot["t0"] = t0
        sock = slot["sock"]
        sock.setblocking(True)  # a few hundred bytes: never blocks in practice
        sock.sendall(pool[nxt])
        sock.setblocking(False)
        nxt += 1
        in_flight += 1

    slots = [{} for _ in range(job["conns"])]
    for slot in slots:
        open_conn(slot)
    start = perf()
    warm_until, warm_n = start + job["warmup"], job["warm"]
    for slot in slots:
        send_next(slot)
    deadline = None
    done = False
    while not done and in_flight:
        now = perf()
        if not measuring and (now >= warm_until or answered >= warm_n):
            measuring, m_start, cpu0 = True, now, time.process_time()
            deadline = now + job["cap"]
            report.send(("measuring",))
        if deadline is not None and now >= deadline:
            break
        for key, _ in sel.select(timeout=0.05):
            slot = key.data
            try:
                chunk = slot["sock"].recv(65536)
            except BlockingIOError:
                continue
            except OSError as exc:
                chunk, why = b"", repr(exc)
            else:
                why = "server closed the connection before answering"
            if not chunk:
                errors += 1
                first_error = first_error or why
                in_flight -= 1
                send_next(slot, reopen=True)
                if errors >= 20:
                    done = True
                    break
                continue
            slot["buf"] += chunk
            parsed = core._response_complete(slot["buf"])
            if parsed is None:
                continue
            t1 = perf()
            in_flight -= 1
            answered += 1
            status, total, close = parsed
            size = total - slot["buf"].find(b"\r\n\r\n") - 4
            slot["buf"] = slot["buf"][total:]
            if status != expect:
                errors += 1
                first_error = first_error or f"{status}: {chunk[:300]!r}"
                if errors >= 20:
                    done = True
                    break
            elif measuring and slot["t0"] >= m_start:
                latencies.append(t1 - slot["t0"])
                if len(latencies) >= job["requests"]:
                    m_end, done = t1, True
                    break
            send_next(slot, reopen=close)
    if not measuring:  # the pool ran out during the warm-up
        m_start, cpu0 = perf(), time.process_time()
        report.send(("measuring",))
    m_end = m_end or perf()
    cpu = time.process_time() - cpu0
    for slot in slots:
        with contextlib.suppress(OSError, KeyError):
            close_conn(slot)
    sel.close()
    return {"latencies": latencies, "elapsed": max(m_end - m_start, 1e-9), "cpu": cpu, "errors": errors,
            "first_error": first_error, "bytes": size, "reconnects": reconnects, "answered": answered}


def client_main(pipe) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    try:
        while True:
            job = pipe.recv()
            if job is None:
                return
            try:
                result = run_pool(job, pipe)
            except (EOFError, BrokenPipeError):
                raise
            except Exception as exc:  # noqa: BLE001 - reported by the parent
                result = {"crash": repr(exc)}
            pipe.send(("done", result))
    except (EOFError, BrokenPipeError):
        return


class Client:
    """The client process; `run(job)` also measures this (the servers') process's CPU."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that has server threads
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=client_main, args=(child,), name="bench-client", daemon=True)
        self.proc.start()
        child.close()

    def run(self, job: dict) -> dict:
        self.pipe.send(job)
        limit = job["warmup"] + job["cap"] + 120
        if not self.pipe.poll(limit):
            raise RuntimeError(f"{job['name']}: the client did not start measuring")
        message = self.pipe.recv()
        if message[0] == "done":  # it failed before measuring
            raise RuntimeError(f"{job['name']}: client failed: {message[1].get('crash')}")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if not self.pipe.poll(limit):
            raise RuntimeError(f"{job['name']}: the client did not finish")
        _, result = self.pipe.recv()
        if "crash" in result:
            raise RuntimeError(f"{job['name']}: client failed: {result['crash']}")
        result["server_cpu"] = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9)
        return result

    def close(self) -> None:
        if self.proc.is_alive():
            with contextlib.suppress(OSError, BrokenPipeError):
                self.pipe.send(None)
            self.proc.join(timeout=3)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=3)


# =========================================================================================
# Requests, bodies, servers
# =========================================================================================
_phone_ids = iter(range(10_000_000))


def create_body(phone: str | None = None) -> bytes:
    """The SyncML "Create a new client" body of the API documentation (contracts/doc_examples),
    with its phone number replaced by `phone` (same length, so the same Content-Length)."""
    text = (ROOT / "contracts" / "doc_examples" / "syncml-create.request.http").read_bytes()
    body = text.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
    if phone is not None:
        body = body.replace(b"+4798765432", phone.encode())
    return body


def next_phone() -> str:
    return f"+479{next(_phone_ids):07d}"  # as long as the documentation's +4798765432


def raw_request(method: str, path: str, port: int, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers)]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def signed_pool(method: str, path: str, port: int, n: int, post_template: bytes | None = None) -> list[bytes]:
    """n requests signed now (admin's token), each with its own nonce; for POST each carries
    the create body with its own phone number."""
    url = f"http://{HOST}:{port}{path}"
    prefix, ts = os.urandom(6).hex(), str(int(time.time()))
    out = []
    for i in range(n):
        auth = core.oauth_header(method, url, core.CONSUMER, core.ADMIN, f"{prefix}{i}", ts)
        headers = [("Authorization", auth)]
        body = b""
        if post_template is not None:
            body = post_template.replace(b"+4798765432", next_phone().encode())
            headers.append(("Content-Type", "application/atom+xml"))
        out.append(raw_request(method, path, port, headers, body))
    return out


def bare_app(status: str, headers: list[tuple[str, str]], body: bytes):
    """Answers `body` with the fake's own headers; reads a request body first, as any app must."""
    headers = list(headers)

    def app(environ, start_response):
        length = environ.get("CONTENT_LENGTH")
        if length:
            environ["wsgi.input"].read(int(length))
        start_response(status, list(headers))
        return [body]
    return app


class FakeHTTP(core.Waitress):
    """FakeServer, as shipped (waitress, its settings), around a given app."""
    label = "FakeServer"


class BareWaitress(core.Waitress):
    label = "waitress (FakeServer's)"


class WerkzeugDev(core.WerkzeugDev):
    label = "werkzeug dev"


class Moto:
    """moto's own server (moto.server.ThreadedMotoServer: werkzeug's make_server, threaded,
    with moto's request handler), holding two S3 buckets. `request` is S3 ListBuckets exactly
    as boto3 sends it (captured from boto3's before-send event), plus the Host line."""
    label = "moto server"

    def __init__(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self.server.start()
        self.port = self.server.get_host_and_port()[1]
        s3 = boto3.client("s3", endpoint_url=f"http://{HOST}:{self.port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="bench-one")
        s3.create_bucket(Bucket="bench-two")
        seen = []
        s3.meta.events.register("before-send", lambda request, **_: seen.append(request))
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        if names != ["bench-one", "bench-two"]:
            raise RuntimeError(f"moto ListBuckets answered {names}")
        sent = seen[-1]
        headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in sent.headers.items()]
        self.request = raw_request(sent.method, "/", self.port, headers)

    def stop(self) -> None:
        self.server.stop()
        with contextlib.suppress(Exception):
            self.server._server.server_close()  # stop() leaves the listening socket open


def fake_answers() -> dict[str, tuple[str, list, bytes]]:
    """The fake's own answers (status, headers, body) to the three requests, in-process."""
    from werkzeug.test import Client as TestClient

    from ocss_testkit.app import FakeApp

    client = TestClient(FakeApp())
    url = BASE.rstrip("/") + FEED_PATH
    ts = str(int(time.time()))
    out = {}
    for key, method, path, body, expect in (("get", "GET", FEED_PATH, b"", 200),
                                            ("post", "POST", FEED_PATH, create_body(next_phone()), 201),
                                            ("phones", "GET", PHONES_PATH, b"", 200)):
        headers = {}
        if key != "phones":
            headers["Authorization"] = core.oauth_header(method, url, core.CONSUMER, core.ADMIN,
                                                         f"probe-{key}", ts)
        if body:
            headers["Content-Type"] = "application/atom+xml"
        answer = client.open(path, method=method, base_url=BASE, headers=headers, data=body or None)
        if answer.status_code != expect:
            raise RuntimeError(f"probe {method} {path} answered {answer.status}: {answer.data[:300]!r}")
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in ("date", "server")]
        out[key] = (answer.status, kept, answer.data)
    if out["get"][2].count(b"<entry") != 2:
        raise RuntimeError("the demo world's admin does not hold two SyncML clients")
    return out


# =========================================================================================
# In-process rows
# =========================================================================================
def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class InProcess:
    """Environs for the fake's WSGI interface, made and signed outside the timed region."""

    def __init__(self) -> None:
        from werkzeug.test import EnvironBuilder
        self.get_env = EnvironBuilder(path=FEED_PATH, base_url=BASE, method="GET").get_environ()
        self.phones_env = EnvironBuilder(path=PHONES_PATH, base_url=BASE, method="GET").get_environ()
        self.template = create_body()
        self.post_env = EnvironBuilder(path=FEED_PATH, base_url=BASE, method="POST", data=self.template,
                                       content_type="application/atom+xml").get_environ()
        self.url = BASE.rstrip("/") + FEED_PATH
        self.prefix = os.urandom(6).hex()
        self.n = 0
        self.statuses: dict[str, int] = {}

    def signed_get(self) -> dict:
        self.n += 1
        env = self.get_env.copy()
        env["HTTP_AUTHORIZATION"] = core.oauth_header("GET", self.url, core.CONSUMER, core.ADMIN,
                                                      f"{self.prefix}{self.n}", str(int(time.time())))
        env["wsgi.input"] = io.BytesIO(b"")
        return env

    def phones(self) -> dict:
        env = self.phones_env.copy()
        env["wsgi.input"] = io.BytesIO(b"")
        return env

    def signed_post(self) -> dict:
        self.n += 1
        env = self.post_env.copy()
        env["HTTP_AUTHORIZATION"] = core.oauth_header("POST", self.url, core.CONSUMER, core.ADMIN,
                                                      f"{self.prefix}{self.n}", str(int(time.time())))
        env["wsgi.input"] = io.BytesIO(self.template.replace(b"+4798765432", next_phone().encode()))
        return env

    def start_response(self, status, headers, exc_info=None):
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def call(self, app, env) -> None:
        result = app(env, self.start_response)
        try:
            for _ in result:
                pass
        finally:
            if hasattr(result, "close"):
                result.close()


def nonce_count(app) -> int | None:
    with contextlib.suppress(Exception):
        return len(app.auth.nonces)
    return None


def inproc_row(label: str, make_env, n: int, expect: str, cap: float, samples: int = 10,
               warm: int = 2000) -> dict:
    """n WSGI calls into a fresh FakeApp (fewer if `cap` seconds pass first), each timed alone;
    RSS (after gc.collect()) sampled before the first timed call, after every n/samples, and
    at the end."""
    from ocss_testkit.app import FakeApp

    app, rig = FakeApp(), InProcess()
    make = getattr(rig, make_env)
    for _ in range(warm):  # lazy imports, caches, the journal's ring buffer filled
        rig.call(app, make())
    times = array.array("q", bytes(8 * n))  # allocated before the baseline: the figures do not grow
    perf = time.perf_counter_ns
    gc.collect()
    marks = [(0, rss_bytes(), nonce_count(app))]
    step = max(n // samples, 1)
    began = time.perf_counter()
    stop_at, done = began + cap, 0
    for i in range(n):
        env = make()
        t0 = perf()
        rig.call(app, env)
        times[i] = perf() - t0
        done = i + 1
        if done % step == 0 or done == n or t0 > stop_at * 1e9:
            env = None
            gc.collect()
            marks.append((done, rss_bytes(), nonce_count(app)))
            if t0 > stop_at * 1e9:
                break
    wall = time.perf_counter() - began
    if set(rig.statuses) != {expect}:
        raise RuntimeError(f"{label}: in-process answers {rig.statuses}, expected only {expect}")
    values = sorted(t / 1e9 for t in times[:done])
    return {"label": label, "latencies": values, "busy": sum(values), "wall": wall, "marks": marks,
            "capped": done < n}


def nonce_entry_bytes(count: int = 10_000) -> float | None:
    """Bytes one remembered nonce costs in a fresh NonceStore (tracemalloc), keys shaped as
    the signed GET's are; None if the store is not there any more."""
    import tracemalloc
    try:
        from ocss_testkit.auth import NonceStore
        store = NonceStore()
        prefix, ts = os.urandom(6).hex(), str(int(time.time()))
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            store.add((core.CONSUMER[0], core.ADMIN[0], f"{prefix}{i}", ts))
        used = tracemalloc.get_traced_memory()[0] - before
    except Exception:  # noqa: BLE001 - an estimate only
        return None
    finally:
        tracemalloc.stop()
    return used / count


def profile_lines(iterations: int, limit: int = 25) -> list[str]:
    """cProfile of `iterations` in-process signed list GETs (the app call only), top `limit` by
    cumulative time; file names shortened to package-relative ones."""
    import cProfile
    import pstats

    from ocss_testkit.app import FakeApp

    app, rig = FakeApp(), InProcess()
    for _ in range(300):
        rig.call(app, rig.signed_get())
    prof = cProfile.Profile()
    for _ in range(iterations):
        env = rig.signed_get()
        prof.enable()
        rig.call(app, env)
        prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(limit)
    prefixes = sorted({str(ROOT) + os.sep, *(p + os.sep for p in (sysconfig.get_paths()["purelib"],
                                                                    sysconfig.get_paths()["platlib"],
                                                                    sysconfig.get_paths()["stdlib"]))},
                      key=len, reverse=True)
    lines = []
    for line in out.getvalue().splitlines():
        for prefix in prefixes:
            line = line.replace(prefix, "")
        line = re.sub(r"\S*/site-packages/", "", line)
        if line.strip() and not line.lstrip().startswith("Ordered by"):
            lines.append(line.rstrip())
    return lines


# =========================================================================================
# The run
# =========================================================================================
def pct(values: list[float], q: float) -> float:
    return core.percentile(values, q)


def loadavg() -> str:
    with contextlib.suppress(OSError, AttributeError):
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"
    return "load average unknown"


# key: (row, who, label, server factory kind)
PHASES = [
    ("get", "fake", "fake: GET syncml list, signed", "fake"),
    ("get", "werkzeug", "werkzeug dev: same bytes", "werkzeug"),
    ("get", "moto", "moto: S3 ListBuckets (2)", "moto"),
    ("post", "fake", "fake: POST create, signed", "fake"),
    ("post", "werkzeug", "werkzeug dev: same bytes", "werkzeug"),
    ("phones", "fake", "fake: GET phones vendors, anon", "fake"),
    ("phones", "bare", "bare WSGI: same bytes", "bare"),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="~1 minute: one short round, 20,000 in-process calls")
    ap.add_argument("--conns", type=int, default=1, help="keep-alive connections of the judged rows (1)")
    ap.add_argument("--more-conns", type=int,
                    help="also one round at this many connections, figures beside (full 8, quick 0 = none)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds at --conns (full 4, quick 1)")
    ap.add_argument("--requests", type=int, help="timed requests per HTTP phase and round (full 2000, quick 1500)")
    ap.add_argument("--cap", type=float, help="time cap of each HTTP phase, seconds (full 2, quick 1.5)")
    ap.add_argument("--inproc", type=int, help="in-process calls of the GET rows (full 100000, quick 20000)")
    ap.add_argument("--inproc-cap", type=float,
                    help="time cap of each in-process GET row, seconds (full 75, quick 12): with today's fake "
                         "on a busy 2-core machine 100,000 signed GETs take minutes")
    ap.add_argument("--profile", action="store_true", help="afterwards, cProfile of the in-process signed GET")
    args = ap.parse_args(argv)
    quick = args.quick
    rounds = max(args.rounds or (1 if quick else 4), 1)
    more = args.more_conns if args.more_conns is not None else (0 if quick else 8)
    requests = args.requests or (1500 if quick else 2000)
    cap = args.cap or (1.5 if quick else 2.0)
    warmup, warm_n = (0.3, 100) if quick else (0.5, 200)
    n_inproc = args.inproc or (20_000 if quick else 100_000)
    n_post = 1000 if quick else 2000
    inproc_cap = args.inproc_cap or (12.0 if quick else 75.0)
    conns_list = [max(args.conns, 1)] * rounds + ([more] if more > 0 else [])

    logging.getLogger("waitress").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    core.check_signer_against_oauthlib()
    began = time.perf_counter()
    print(f"bench_side_by_side: {machine(with_time=True)}")
    print(f"  before start: {loadavg()}; {core.background_load()}")
    print(f"  {'quick' if quick else 'full'} mode; HTTP: 1 client process, {args.conns} keep-alive "
          f"connection(s), {rounds} interleaved round(s)" + (f" + 1 round at {more} connections" if more else "")
          + f"; each phase {warm_n} requests or {warmup:g} s of warm-up, then {requests} requests or {cap:g} s; "
          f"in-process: {n_inproc} calls per GET row (or {inproc_cap:g} s), {n_post} creates")
    sys.stdout.flush()

    answers = fake_answers()

    # --- in-process rows first: a fresh process, so RSS reads the fake and nothing else ---
    inproc = [inproc_row("in-process: GET syncml list, signed", "signed_get", n_inproc, "200 OK", inproc_cap),
              inproc_row("in-process: GET phones vendors, anon", "phones", n_inproc, "200 OK", inproc_cap),
              inproc_row("in-process: POST create, signed", "signed_post", n_post, "201 Created", inproc_cap,
                         samples=1, warm=200)]
    per_nonce = nonce_entry_bytes()
    print(f"  in-process rows done at {time.perf_counter() - began:.0f} s; {loadavg()}")
    sys.stdout.flush()

    from ocss_testkit.app import FakeApp

    client = Client()
    servers: list = []
    results: dict[tuple[int, str, str], list[dict]] = {}
    first_last: dict[int, tuple[float, float]] = {}

    def start(kind: str, row: str):
        if kind == "fake":
            server = FakeHTTP(FakeApp())
        elif kind == "werkzeug":
            server = WerkzeugDev(bare_app(*answers[row]))
        elif kind == "bare":
            server = BareWaitress(bare_app(*answers[row]))
        else:
            server = Moto()
        servers.append(server)
        return server

    def pool_for(kind: str, row: str, server, n: int) -> list[bytes]:
        if kind == "moto":
            return [server.request] * n
        if kind == "fake" and row == "get":
            return signed_pool("GET", FEED_PATH, server.port, n)
        if kind == "fake" and row == "post":
            return signed_pool("POST", FEED_PATH, server.port, n, post_template=create_body())
        if row == "post":  # the bare peer gets the same request bytes, signature and all
            return signed_pool("POST", FEED_PATH, server.port, n, post_template=create_body())
        if row == "get":
            return signed_pool("GET", FEED_PATH, server.port, n)
        return [raw_request("GET", PHONES_PATH, server.port, [])] * n

    try:
        for conns in conns_list:
            for row, who, label, kind in PHASES:
                server = start(kind, row)
                try:
                    job = {"name": label, "host": HOST, "port": server.port, "conns": conns,
                           "requests": requests, "cap": cap, "warmup": warmup, "warm": warm_n,
                           "expect": 201 if row == "post" else 200,
                           "pool": pool_for(kind, row, server, warm_n + requests + conns)}
                    result = client.run(job)
                finally:
                    servers.remove(server)
                    server.stop()
                if result["errors"]:
                    raise RuntimeError(f"{label} ({conns} conn): {result['errors']} unexpected answers, "
                                       f"first {result['first_error']}")
                if not result["latencies"]:
                    raise RuntimeError(f"{label} ({conns} conn): no answer timed")
                results.setdefault((conns, row, who), []).append(result)
                if row == "post" and who == "fake":
                    lat = result["latencies"]
                    q = max(len(lat) // 4, 1)
                    first_last[conns] = (pct(sorted(lat[:q]), .5), pct(sorted(lat[-q:]), .5))  # last round
            print(f"  HTTP round at {conns} connection(s) done at {time.perf_counter() - began:.0f} s; {loadavg()}")
            sys.stdout.flush()
    finally:
        for server in reversed(servers):
            with contextlib.suppress(Exception):
                server.stop()
        client.close()

    profile = profile_lines(1000 if quick else 2000) if args.profile else []
    report(results, inproc, answers, conns_list, first_last, per_nonce, args.conns, more)
    print(f"\ntotal {time.perf_counter() - began:.0f} s; after the run: {loadavg()}; {core.background_load()}")
    if profile:
        print(f"\n--- --profile: cProfile of {1000 if quick else 2000} in-process signed list GETs "
              "(the WSGI call only), top 25 by cumulative time ---")
        for line in profile:
            print(line)
    return 0


def report(results, inproc, answers, conns_list, first_last, per_nonce, judged: int, more: int) -> None:
    rate: dict[tuple[int, str, str], float] = {}
    tails: list[tuple[str, float, float]] = []  # the fake's rows: (label, p50, p99)
    server_name = {"fake": FakeHTTP.label, "werkzeug": WerkzeugDev.label, "moto": Moto.label,
                   "bare": BareWaitress.label}
    print(f"\nHTTP over 127.0.0.1, one client process; bodies: list feed {len(answers['get'][2])} B, "
          f"create answer {len(answers['post'][2])} B, phones vendors {len(answers['phones'][2])} B")
    head = (f"{'row':<33} {'server':<23} {'conns':>5} {'requests':>8} {'req/s':>6} {'per round':>11} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} {'conn/req':>8} {'srv CPU':>7}")
    print(head)
    print("-" * len(head))
    for conns in dict.fromkeys(conns_list):
        for row, who, label, kind in PHASES:
            runs = results[(conns, row, who)]
            count = sum(len(r["latencies"]) for r in runs)
            rate[(conns, row, who)] = count / sum(r["elapsed"] for r in runs)
            per_round = "/".join(f"{len(r['latencies']) / r['elapsed']:.0f}" for r in runs)
            lat = sorted(x for r in runs for x in r["latencies"])
            p50, p99 = pct(lat, .5), pct(lat, .99)
            answered = sum(r["answered"] for r in runs)
            reconnects = sum(r["reconnects"] for r in runs) / max(answered, 1)
            srv = sum(r["server_cpu"] for r in runs) / len(runs)
            print(f"{label:<33} {server_name[kind]:<23} {conns:>5} {count:>8} {rate[(conns, row, who)]:>6.0f} "
                  f"{per_round:>11} {p50 * 1e3:>7.2f} {p99 * 1e3:>7.2f} {p99 / p50:>7.2f} {reconnects:>8.2f} "
                  f"{srv * 100:>6.0f}%")
            if who == "fake" and conns == judged:
                tails.append((f"HTTP {label}, {conns} conn", p50, p99))
    print("req/s: rounds pooled (each round's own beside it); latency: send to last byte, plus the reconnect\n"
          "when the server closed the connection after the previous answer; conn/req: new connections per\n"
          "answer (werkzeug's dev server and moto answer every request with Connection: close); srv CPU: this\n"
          "process (the server) over the measured window, 100% = one core.")
    for conns, (first, last) in first_last.items():
        print(f"POST create, {conns} conn, last round: p50 of the first quarter {first * 1e3:.2f} ms, of the last "
              f"{last * 1e3:.2f} ms ({last / first:.2f}x; each phase adds its creates to a fresh demo world)")

    print("\nIn-process, one thread, WSGI call only (environ built and signed outside the timed region)")
    head = f"{'row':<40} {'calls':>7} {'median µs':>9} {'p99 µs':>8} {'p99/p50':>7} {'req/s':>7}"
    print(head)
    print("-" * len(head))
    for r in inproc:
        lat = r["latencies"]
        p50, p99 = pct(lat, .5), pct(lat, .99)
        r["p50"] = p50
        print(f"{r['label']:<40} {len(lat):>7} {p50 * 1e6:>9.1f} {p99 * 1e6:>8.1f} {p99 / p50:>7.2f} "
              f"{len(lat) / r['busy']:>7.0f}")
        tails.append((r["label"], p50, p99))
    print("req/s: calls / the sum of their own times (back to back on one core, no environ building)")

    print("\nMemory: process RSS (after gc.collect()) over the in-process runs, after 2,000 warm-up calls")
    growth = {}
    for r in inproc[:2]:
        marks = r["marks"]
        print(f"  {r['label']}")
        print(f"    {'calls':>8} {'RSS MiB':>8} {'nonces':>8}")
        for calls, rss, nonces in marks:
            print(f"    {calls:>8,} {rss / 2**20:>8.1f} {'' if nonces is None else f'{nonces:,}':>8}")
        grew = marks[-1][1] - marks[0][1]
        growth[r["label"]] = grew
        nonces = (marks[-1][2] or 0) - (marks[0][2] or 0)
        line = (f"    grew {grew / 2**20:+.1f} MiB over {marks[-1][0]:,} calls"
                + (" (stopped by the time cap)" if r["capped"] else "")
                + f", {grew / max(marks[-1][0], 1):.0f} B per call")
        if nonces and per_nonce:
            line += (f"; {nonces:,} nonces remembered, ~{per_nonce:.0f} B each (tracemalloc, a fresh NonceStore)"
                     f" = ~{nonces * per_nonce / 2**20:.1f} MiB of it")
        print(line)

    def ratio(conns, row, who, peer):
        return rate[(conns, row, who)] / rate[(conns, row, peer)]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    c = judged
    print(f"\nTargets (figures, not tests; HTTP at {c} keep-alive connection(s))")
    rows = [
        ("GET list, signed: fake / werkzeug dev (same bytes)", ratio(c, "get", "fake", "werkzeug"), T_GET_WERKZEUG),
        ("GET list, signed: fake / moto S3 ListBuckets", ratio(c, "get", "fake", "moto"), T_GET_MOTO),
        ("POST create, signed: fake / werkzeug dev (same bytes)", ratio(c, "post", "fake", "werkzeug"),
         T_POST_WERKZEUG),
        ("GET phones, anonymous: fake / bare WSGI, same server", ratio(c, "phones", "fake", "bare"), T_PHONES_BARE),
    ]
    for text, value, target in rows:
        print(f"  {text:<58} >= {target:.1f}x  {value:6.2f}x   {verdict(value >= target)}")
    med = inproc[0]["p50"] * 1e6
    print(f"  {'in-process GET list, signed: median':<58} <= {T_INPROC_US:.0f} µs {med:6.1f} µs  "
          f"{verdict(med <= T_INPROC_US)}   ({1e6 / med:,.0f} req/s at the median)")
    for text, p50, p99 in tails:
        print(f"  {'p99 / p50, ' + text:<58} <= {T_TAIL:.1f}x  {p99 / p50:6.2f}x   {verdict(p99 <= T_TAIL * p50)}")
    for label, grew in growth.items():
        calls = next(r["marks"][-1][0] for r in inproc if r["label"] == label)
        per_100k = grew * 100_000 / max(calls, 1)  # a capped run: its growth scaled to 100,000 calls
        label = "RSS growth per 100,000 calls, " + label.replace("in-process: ", "")
        print(f"  {label:<58} <= {T_RSS_MIB:.0f} MiB {per_100k / 2**20:+6.1f} MiB "
              f"{verdict(per_100k <= T_RSS_MIB * 2**20)}"
              + ("" if calls == 100_000 else f"   (measured {grew / 2**20:+.1f} MiB over {calls:,} calls)"))
    if more:
        print(f"Ratios at {more} connections (no target)")
        print(f"  GET: fake / werkzeug {ratio(more, 'get', 'fake', 'werkzeug'):.2f}x, fake / moto "
              f"{ratio(more, 'get', 'fake', 'moto'):.2f}x; POST: fake / werkzeug "
              f"{ratio(more, 'post', 'fake', 'werkzeug'):.2f}x; phones: fake / bare "
              f"{ratio(more, 'phones', 'fake', 'bare'):.2f}x")
    http_us = 1e6 / rate[(c, "get", "fake")]
    print(f"Signed list GET at {c} conn: {http_us:.0f} µs per answer over HTTP; the app's own work in-process "
          f"{med:.0f} µs (median); FakeServer's waitress answering the bare phones bytes: "
          f"{1e6 / rate[(c, 'phones', 'bare')]:.0f} µs per answer (the HTTP floor)")


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM: the same clean stop as Ctrl-C


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers and the client process stopped", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:
        print(f"\nERROR {exc}", file=sys.stderr)
        sys.exit(1)
