#!/usr/bin/env python3
"""Core figures of the fake, printed side by side from ONE run (a script, not a test).

    python benchmarks/bench_core.py            # full run, about 80 s
    python benchmarks/bench_core.py --quick    # about 20 s, noisier
    python benchmarks/bench_core.py --profile  # then: where the server's time goes

HTTP phases, each on 127.0.0.1 and a free port, the server in this process (threads):
  (a)  the fake (FakeServer, waitress, as shipped): signed GET /v2/services/syncml/ as admin
  (a*) the same with the two waitress fixes this benchmark proposes (WaitressTuned, below)
  (a') the same FakeApp on cheroot
  (b)  the fake: signed POST of the 003 create body (201 Created)
  (c)  a bare WSGI app returning (a)'s bytes, on FakeServer's waitress settings; (c*) the
       same with the fixes; (c') on cheroot
  (d)  the same bare app on werkzeug's dev server (make_server(threaded=True))
All phases run in every round, rounds interleaved, so drift of a shared machine hits all.

The load comes from ONE separate process (multiprocessing, spawn): one thread, epoll,
--conns keep-alive connections (8), each with one request in flight (closed loop). Each
phase is a warm-up, then a fixed request count or a time cap, whichever comes first.
Every signed request is signed afresh by the load generator, since OAuth nonces are
single-use: the signing cost is on the client side, never in the server figures. To keep
the generator from being the bottleneck it signs with a small HMAC-SHA1 signer (checked
against oauthlib's Client at start-up) and speaks HTTP/1.1 over raw sockets; oauthlib's
own Client.sign is timed separately for reference.

(e) is in-process, one thread: per-call microseconds, median and p99.
Ctrl-C or SIGTERM stops every server and the load generator. Results and their reading:
benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import http.client
import itertools
import logging
import multiprocessing as mp
import os
import selectors
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from machineinfo import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
CONSUMER = ("demo-consumer-key", "demo-consumer-secret")
ADMIN = ("admin-access-token", "admin-access-secret")
FEED_PATH = "/v2/services/syncml/"
SERVER_THREADS = 6  # FakeServer's default; the same for every server compared

# The 003 "Create a new client" request body, verbatim (also in contracts/doc_examples/).
SYNCML_CREATE_BODY = b"""<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">
  <oc:client>
    <oc:phone_number>+4798765432</oc:phone_number>
    <oc:model_uuid>02978288-537f-102b-beff-000ea60275d1</oc:model_uuid>
    <oc:timezone>Europe/Paris</oc:timezone>
  </oc:client>
</entry>
"""

TARGET_RATIO = 3.0       # (a) fake authenticated GET vs (d) werkzeug dev server, req/s
TARGET_PARSE_US = 50.0   # (e1) safe.parse + XSD validation of a ~2 KB entry, median


# =========================================================================================
# OAuth 1.0a HMAC-SHA1 signing (RFC 5849), the load generator's side
# =========================================================================================
def _pct(value: str) -> str:
    return quote(value, safe="~")


def oauth_header(method: str, url: str, consumer: tuple[str, str], token: tuple[str, str],
                 nonce: str, timestamp: str) -> str:
    """The Authorization header for a request without query or form parameters.

    `url` must already be in base-string form (scheme://host[:port]/path, lower-case host).
    """
    params = [("oauth_consumer_key", consumer[0]), ("oauth_nonce", nonce),
              ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", timestamp),
              ("oauth_token", token[0]), ("oauth_version", "1.0")]
    normalized = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(params))
    base = f"{method.upper()}&{_pct(url)}&{_pct(normalized)}"
    key = f"{_pct(consumer[1])}&{_pct(token[1])}"
    signature = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    params.append(("oauth_signature", signature))
    return "OAuth " + ", ".join(f'{k}="{_pct(v)}"' for k, v in params)


def check_signer_against_oauthlib() -> None:
    """Refuse to run if the fast signer and oauthlib disagree on a signature."""
    from oauthlib.oauth1 import Client

    url = f"http://{HOST}:8080{FEED_PATH}"
    for method in ("GET", "POST"):
        nonce, ts = "benchnonce123", "1700000000"
        ours = oauth_header(method, url, CONSUMER, ADMIN, nonce, ts)
        client = Client(CONSUMER[0], client_secret=CONSUMER[1], resource_owner_key=ADMIN[0],
                        resource_owner_secret=ADMIN[1], nonce=nonce, timestamp=ts)
        _, headers, _ = client.sign(url, http_method=method,
                                    headers={"Content-Type": "application/atom+xml"} if method == "POST" else None)
        theirs = dict(p.split("=", 1) for p in headers["Authorization"][6:].split(", "))
        mine = dict(p.split("=", 1) for p in ours[6:].split(", "))
        if theirs != mine:
            raise SystemExit(f"bench signer disagrees with oauthlib:\n ours   {mine}\n theirs {theirs}")


# =========================================================================================
# The client process (shared by bench_side_by_side.py and bench_servers.py)
# =========================================================================================
def raw_request(method: str, path: str, port: int, headers: list[tuple[str, str]], body: bytes = b"",
                host: str = HOST) -> bytes:
    """The bytes of one HTTP/1.1 request, Host and Content-Length (when a body) included."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers)]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def build_request(job: dict, nonce: str | None = None) -> bytes:
    """A request of `job` (method, path, body, signed), signed now as admin with `nonce`."""
    method, path, body = job["method"], job["path"], job["body"]
    headers = []
    if job["signed"]:
        url = f"http://{job['host']}:{job['port']}{path}"
        headers.append(("Authorization", oauth_header(method, url, CONSUMER, ADMIN, nonce, str(int(time.time())))))
    if body:
        headers.append(("Content-Type", "application/atom+xml"))
    return raw_request(method, path, job["port"], headers, body, host=job["host"])


def _response_complete(buf: bytes) -> tuple[int, int, bool] | None:
    """(status, total length, close) once `buf` holds a whole response, else None."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = buf[:head_end].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, lines[0].startswith(b"HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    if chunked:  # whole when the last chunk has arrived (bodies here are small)
        end = buf.find(b"\r\n0\r\n\r\n", head_end + 4)
        return (status, end + 7, close) if end >= 0 else None
    total = head_end + 4 + length
    return (status, total, close) if len(buf) >= total else None


class _Phase:
    """One phase of the closed loop: `job["conns"]` keep-alive connections, each with one
    request in flight; an answer is parsed, timed, and the next request goes out at once.
    Requests come from job["pool"] (bytes built before timing: the client only writes and
    reads), else are built and signed afresh (`build_request`). Warm-up ends after
    job["warm"] answers (default: none counted) or job["warmup"] seconds; then answers are
    timed until job["requests"] of them, job["cap"] seconds or the pool's end. Only requests
    sent after the warm-up count; when a server closes the connection after an answer, the
    next request's time starts before the reconnect (its users wait for that too)."""

    def __init__(self, job: dict, report) -> None:
        self.job, self.report = job, report
        if "pool" in job:
            self.source = iter(job["pool"])
        else:
            prefix = f"{os.getpid()}{os.urandom(4).hex()}"
            self.source = (build_request(job, f"{prefix}{i}") for i in itertools.count())
        self.sel = selectors.DefaultSelector()
        self.latencies: list[float] = []
        self.errors, self.first_error, self.answered, self.reconnects, self.size = 0, "", 0, 0, 0
        self.in_flight = 0
        self.measuring, self.m_start, self.m_end, self.cpu0 = False, 0.0, 0.0, 0.0

    def open(self, slot: dict) -> None:
        sock = socket.create_connection((self.job["host"], self.job["port"]), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        slot.update(sock=sock, buf=b"")
        self.sel.register(sock, selectors.EVENT_READ, slot)

    def close(self, slot: dict) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.sel.unregister(slot["sock"])
        slot["sock"].close()

    def send_next(self, slot: dict, reopen: bool = False) -> None:
        request = next(self.source, None)
        if request is None:
            if reopen:
                self.close(slot)
            return
        t0 = time.perf_counter()
        if reopen:
            self.close(slot)
            self.open(slot)
            self.reconnects += 1
        slot["t0"] = t0
        sock = slot["sock"]
        sock.setblocking(True)  # a few hundred bytes: never blocks in practice
        sock.sendall(request)
        sock.setblocking(False)
        self.in_flight += 1

    def failed(self, why: str) -> bool:
        """Count an unexpected answer or a lost connection; True once there are too many."""
        self.errors += 1
        self.first_error = self.first_error or why
        return self.errors >= 20

    def readable(self, slot: dict) -> bool:
        """Read what arrived on `slot`; True when the phase is over."""
        try:
            chunk = slot["sock"].recv(65536)
        except BlockingIOError:
            return False
        except OSError as exc:
            chunk, why = b"", repr(exc)
        else:
            why = "server closed the connection before answering"
        if not chunk:
            self.in_flight -= 1
            self.send_next(slot, reopen=True)
            return self.failed(why)
        slot["buf"] += chunk
        parsed = _response_complete(slot["buf"])
        if parsed is None:
            return False
        t1 = time.perf_counter()
        self.in_flight -= 1
        self.answered += 1
        status, total, close = parsed
        self.size = total - slot["buf"].find(b"\r\n\r\n") - 4
        slot["buf"] = slot["buf"][total:]
        if status != self.job["expect"]:
            if self.failed(f"{status}: {chunk[:300]!r}"):
                return True
        elif self.measuring and slot["t0"] >= self.m_start:
            self.latencies.append(t1 - slot["t0"])
            if len(self.latencies) >= self.job["requests"]:
                self.m_end = t1
                return True
        self.send_next(slot, reopen=close)
        return False

    def start_measuring(self) -> None:
        self.measuring, self.m_start, self.cpu0 = True, time.perf_counter(), time.process_time()
        self.report.send(("measuring",))

    def run(self) -> dict:
        job = self.job
        slots = [{} for _ in range(job["conns"])]
        for slot in slots:
            self.open(slot)
        warm_until, warm_n = time.perf_counter() + job["warmup"], job.get("warm", float("inf"))
        for slot in slots:
            self.send_next(slot)
        deadline, done = None, False
        while not done and self.in_flight:
            now = time.perf_counter()
            if not self.measuring and (now >= warm_until or self.answered >= warm_n):
                self.start_measuring()
                deadline = now + job["cap"]
            if deadline is not None and now >= deadline:
                break
            for key, _ in self.sel.select(timeout=0.05):
                if self.readable(key.data):
                    done = True
                    break
        if not self.measuring:  # the pool ran out during the warm-up
            self.start_measuring()
        m_end = self.m_end or time.perf_counter()
        cpu = time.process_time() - self.cpu0
        for slot in slots:
            with contextlib.suppress(OSError, KeyError):
                self.close(slot)
        self.sel.close()
        return {"latencies": self.latencies, "elapsed": max(m_end - self.m_start, 1e-9), "cpu": cpu,
                "errors": self.errors, "first_error": self.first_error, "bytes": self.size,
                "reconnects": self.reconnects, "answered": self.answered}


def run_pool(job: dict, report) -> dict:
    """One phase of the closed loop (`_Phase`), in the client process; `report` gets
    ("measuring",) when the timed part begins."""
    return _Phase(job, report).run()


def client_main(pipe) -> None:
    """The client process: runs each job the pipe brings (`run_pool`) until it brings None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us on Ctrl-C
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
    except (EOFError, BrokenPipeError):  # the parent is gone: so are we
        return


class ClientProcess:
    """The load's separate process (multiprocessing, spawn: never fork a process that has
    server threads); `run(job)` also measures the server's CPU over the timed part."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=client_main, args=(child,), name="bench-client", daemon=True)
        self.proc.start()
        child.close()

    def run(self, job: dict, cpu=time.process_time) -> dict:
        """The phase's result (`_Phase.run`) and "server_cpu": `cpu()` seconds (this
        process's CPU unless told) per wall second of the timed part, 1.0 = one core.
        Raises RuntimeError when the client fails or does not answer in time, on an
        unexpected answer, or when no answer was timed."""
        self.pipe.send(job)
        limit = job["warmup"] + job["cap"] + 120
        if not self.pipe.poll(limit):
            raise RuntimeError(f"{job['name']}: the client did not start measuring")
        message = self.pipe.recv()
        if message[0] == "done":  # it failed before measuring
            raise RuntimeError(f"{job['name']}: client failed: {message[1].get('crash')}")
        cpu0, wall0 = cpu(), time.perf_counter()
        if not self.pipe.poll(limit):
            raise RuntimeError(f"{job['name']}: the client did not finish")
        _, result = self.pipe.recv()
        cpu1, wall1 = cpu(), time.perf_counter()
        if "crash" in result:
            raise RuntimeError(f"{job['name']}: client failed: {result['crash']}")
        name = f"{job['name']} ({job['conns']} conn)"
        if result["errors"]:
            raise RuntimeError(f"{name}: {result['errors']} unexpected answers, first {result['first_error']}")
        if not result["latencies"]:
            raise RuntimeError(f"{name}: no answer timed within the {job['cap']:g} s cap")
        result["server_cpu"] = (cpu1 - cpu0) / max(wall1 - wall0, 1e-9)
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
# Servers under test (all on 127.0.0.1, a free port, stopped by `stop`)
# =========================================================================================
class BareApp:
    """A WSGI app answering fixed bytes with no work (it reads a request body first, as any
    app must): every server's ceiling. It carries the attributes FakeServer reads from the
    app it serves."""
    trust_forwarded = False

    def __init__(self, status: str, headers: list, body: bytes) -> None:
        self.status, self.headers, self.body = status, [tuple(h) for h in headers], body

    def __call__(self, environ, start_response):
        length = environ.get("CONTENT_LENGTH")
        if length:
            environ["wsgi.input"].read(int(length))
        start_response(self.status, list(self.headers))
        return [self.body]


def bare_app(body: bytes, content_type: str = "application/atom+xml") -> BareApp:
    """A BareApp answering `body` 200 OK."""
    return BareApp("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))], body)


class Waitress:
    """The fake's own server class (FakeServer, as shipped), around any app, so a bare app
    runs on exactly the fake's waitress settings."""
    label = name = "waitress"

    def __init__(self, app, threads: int = SERVER_THREADS) -> None:
        from ocss_testkit.server import FakeServer
        self.threads = threads
        self.server = FakeServer(app=app, host=HOST, port=0, threads=threads).start()
        self.port = self.server.port

    def cpu(self) -> float:
        """CPU seconds of the server: this process's."""
        return time.process_time()

    def stop(self) -> None:
        self.server.stop()


def _lock_aware_channel():
    """The lock-aware channel this benchmark proposed, now shipped: the server's own."""
    from ocss_testkit.http_channel import Channel
    return Channel


class WaitressTuned(Waitress):
    """FakeServer with the two changes this benchmark proposes (NOT what ships):

    - asyncore_loop_timeout=1: waitress coerces the option with int(), so FakeServer's
      0.2 becomes 0 and select() never sleeps: the main loop polls non-stop, even idle;
    - the lock-aware channel above.
    Every other setting is FakeServer's own.
    """
    label = "waitress*"

    def __init__(self, app, threads: int = SERVER_THREADS) -> None:
        from ocss_testkit import server as module
        original, channel = module.create_server, _lock_aware_channel()

        def create_server(*args, **kwargs):
            kwargs["asyncore_loop_timeout"] = 1
            made = original(*args, **kwargs)
            made.channel_class = channel
            return made
        module.create_server = create_server
        try:
            super().__init__(app, threads)
        finally:
            module.create_server = original


class Cheroot:
    """cheroot.wsgi.Server in a thread of this process; `configure` may set it up before
    it binds."""
    label = name = "cheroot"

    def __init__(self, app, threads: int = SERVER_THREADS) -> None:
        from cheroot import wsgi
        self.threads = threads
        self.server = wsgi.Server((HOST, 0), app, numthreads=threads)
        self.configure(app)
        self.server.prepare()
        self.port = self.server.bind_addr[1]
        self.thread = threading.Thread(target=self.server.serve, name="bench-cheroot", daemon=True)
        self.thread.start()

    def configure(self, app) -> None:
        """Nothing here: cheroot's defaults."""

    def cpu(self) -> float:
        """CPU seconds of the server: this process's."""
        return time.process_time()

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=10)


class WerkzeugDev:
    """werkzeug.serving.make_server(threaded=True): what run_simple(threaded=True) serves with.

    Its per-request log line is silenced (it would only make it slower), so the 3x target
    is measured against the dev server at its fastest.
    """
    label = "werkzeug dev"

    def __init__(self, app, threads: int = SERVER_THREADS) -> None:  # a thread per connection
        from werkzeug.serving import make_server
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = make_server(HOST, 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="bench-werkzeug", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# =========================================================================================
# In-process figures (e)
# =========================================================================================
def gdata_entry_2k() -> bytes:
    """A GData create entry of about 2 KB: Atom head, two datastores (one per dataclass, as
    the fake accepts), each with a full access token and several scopes."""
    def store(dataclass: str, href: str, scopes: list[str]) -> str:
        scope_xml = "".join(f"\n        <scope>{s}</scope>" for s in scopes)
        return f"""
    <datastore dataclass="{dataclass}" href="{href}" name="{dataclass} of some_user">
      <token>
        <token_type>2</token_type>
        <key>1/aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-{dataclass}</key>
        <secret>zYxWvUtSrQpOnMlKjIhGfEdCbA9876543210_{dataclass}</secret>{scope_xml}
      </token>
    </datastore>"""
    cal = "http://www.google.com/calendar/feeds/e0an755fcc57j0a25ptli0d22g%40group.calendar.google.com/private/full"
    con = "http://www.google.com/m8/feeds/groups/some_user%40gmail.com/base/7d2f83ef088611c8"
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<entry xmlns="http://www.w3.org/2005/Atom">
  <author>
    <name>admin</name>
    <email>support@obexcode.com</email>
  </author>
  <id>http://api.obexcode.com/v2/services/google/</id>
  <link href="http://api.obexcode.com/v2/services/google/" rel="self"/>
  <link href="http://api.obexcode.com/v2/services/google/" rel="alternate" type="text/html"/>
  <published>2009-05-26T12:59:39Z</published>
  <title>some_user@gmail.com</title>
  <updated>2009-05-26T13:09:47Z</updated>
  <client xmlns="http://schemas.obexcode.com/syncserver/2009">
    <user_id>some_user@gmail.com</user_id>{store("Calendar", cal, [
        "https://www.google.com/calendar/feeds/", "http://www.google.com/calendar/feeds/",
        "https://www.google.com/calendar/feeds/default/private/full",
        "http://www.google.com/calendar/feeds/default/owncalendars/full"])}{store("Contacts", con, [
        "https://www.google.com/m8/feeds/", "http://www.google.com/m8/feeds/",
        "https://www.google.com/m8/feeds/contacts/default/full",
        "https://www.google.com/m8/feeds/groups/default/full"])}
  </client>
</entry>
"""
    return doc.encode()


def timed(fn, iterations: int, setup=None, warmup: int = 200) -> list[float]:
    """Per-call seconds of fn(arg), arg = setup() made outside the timed region."""
    perf = time.perf_counter_ns
    out = []
    for i in range(warmup + iterations):
        arg = setup() if setup else None
        t0 = perf()
        fn(arg)
        t1 = perf()
        if i >= warmup:
            out.append((t1 - t0) / 1e9)
    return out


def in_process_figures(iterations: int, blocks: int = 8) -> list[tuple[str, list[float]]]:
    """The (e) figures. They run interleaved, in `blocks` slices each, so that a slow spell
    of a shared machine spreads over all of them instead of skewing one."""
    from oauthlib.oauth1 import Client
    from werkzeug.test import EnvironBuilder

    from ocss_testkit.app import FakeApp
    from ocss_testkit.atom import safe
    from ocss_testkit.atom.schemas import schemas
    from ocss_testkit.services.syncml.atom import syncml_feed

    figures = []  # (label, fn, setup)
    entry = gdata_entry_2k()
    validator = schemas("request")

    def parse_validate(_):  # what the request path does for a valid body: one pass
        assert validator.parse_valid("gdata-client", entry, safe.DEFAULT_MAX_DEPTH) is not None
    figures.append((f"(e1) hardened parse + XSD validate, {len(entry)} B GData entry", parse_validate, None))

    app = FakeApp()
    world, admin = app.world, app.world.users["admin"]
    base = "http://127.0.0.1:8080/"
    url = base.rstrip("/") + FEED_PATH
    signer = Client(CONSUMER[0], client_secret=CONSUMER[1], resource_owner_key=ADMIN[0],
                    resource_owner_secret=ADMIN[1])

    def fresh_headers():  # a new nonce and timestamp every call, made outside the timed region
        return dict(signer.sign(url, http_method="GET")[1])

    def verify(headers):
        result = app.auth.verify(world, "GET", url, headers, b"")
        if result.user is not admin:
            raise RuntimeError(f"verification failed: {result}")
    figures.append(("(e2) Authenticator.verify, fresh signature", verify, fresh_headers))

    def render_feed(_):
        return syncml_feed(base, world.syncml.clients(admin), world.users, world.clock.now())
    figures.append((f"(e3) render SyncML feed (2 clients, {len(render_feed(None))} B)", render_feed, None))

    def fresh_environ():
        return EnvironBuilder(path=FEED_PATH, base_url=base, headers=fresh_headers()).get_environ()
    statuses = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(status)

    def wsgi_get(environ):
        b"".join(app(environ, start_response))
    figures.append(("(e4) whole WSGI GET of the feed, in-process", wsgi_get, fresh_environ))

    # For reference: what signing costs the CLIENT (never counted in the server figures).
    figures.append(("client side: oauthlib Client.sign (GET)", lambda _: fresh_headers(), None))
    n = itertools.count()
    figures.append(("client side: load generator's signer (GET)",
                    lambda _: oauth_header("GET", url, CONSUMER, ADMIN, f"n{next(n)}", str(int(time.time()))),
                    None))

    results: dict[str, list[float]] = {label: [] for label, _, _ in figures}
    for _label, fn, setup in figures:
        timed(fn, 0, setup, warmup=200)
    for block in range(blocks):
        count = iterations // blocks + (1 if block < iterations % blocks else 0)
        for label, fn, setup in figures:
            results[label] += timed(fn, count, setup, warmup=0)
    if statuses != {"200 OK"}:
        raise RuntimeError(f"in-process GET answered {statuses}")
    return [(label, results[label]) for label, _, _ in figures]


# =========================================================================================
# Server-side profile of phase (a) (--profile)
# =========================================================================================
class ProfiledApp:
    """Wraps a WSGI app: each request runs under its worker thread's own cProfile."""

    def __init__(self, app) -> None:
        import cProfile
        self.app, self._local, self.profiles, self._cls = app, threading.local(), [], cProfile.Profile

    def __call__(self, environ, start_response):
        prof = getattr(self._local, "prof", None)
        if prof is None:
            prof = self._local.prof = self._cls()
            self.profiles.append(prof)
        prof.enable()
        try:
            return list(self.app(environ, start_response))
        finally:
            prof.disable()

    def print_stats(self, limit: int = 25) -> None:
        import pstats
        stats = pstats.Stats(self.profiles[0])
        for p in self.profiles[1:]:
            stats.add(p)
        stats.sort_stats("cumulative").print_stats(limit)
        stats.sort_stats("tottime").print_stats(limit)


# =========================================================================================
# The run
# =========================================================================================
def percentile(sorted_values: list[float], q: float) -> float:
    """The `q` quantile (0..1) of already sorted values, nearest rank; NaN for none."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(round(q * (len(sorted_values) - 1))))]


def loadavg() -> str:
    """The machine's load average, for the lines beside the figures."""
    with contextlib.suppress(OSError, AttributeError):
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"
    return "load average unknown"


def background_load(seconds: float = 1.0) -> str:
    """How busy the machine is without us (Linux /proc/stat), to flag a contaminated run."""
    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return "unknown"
    busy = 1 - (idle1 - idle0) / max(total1 - total0, 1)
    return f"{busy * 100:.0f}% of all CPUs busy"


def create_body(phone: str | None = None) -> bytes:
    """The SyncML "Create a new client" body of the API documentation (verbatim in
    contracts/doc_examples, else SYNCML_CREATE_BODY), its phone number replaced by `phone`
    when given (`next_phone`: the same length, so the same Content-Length)."""
    doc = ROOT / "contracts" / "doc_examples" / "syncml-create.request.http"
    body = SYNCML_CREATE_BODY
    with contextlib.suppress(OSError, IndexError):
        body = doc.read_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)[1]
    return body if phone is None else body.replace(b"+4798765432", phone.encode())


_phone_ids = itertools.count()


def next_phone() -> str:
    """A phone number not used before in this process, as long as the documentation's +4798765432."""
    return f"+479{next(_phone_ids):07d}"


def signed_pool(method: str, path: str, port: int, n: int, post_template: bytes | None = None) -> list[bytes]:
    """n requests signed now as admin, each with its own nonce; for POST each carries
    `post_template` (a create body) with its own phone number."""
    url = f"http://{HOST}:{port}{path}"
    prefix, ts = os.urandom(6).hex(), str(int(time.time()))
    out = []
    for i in range(n):
        headers = [("Authorization", oauth_header(method, url, CONSUMER, ADMIN, f"{prefix}{i}", ts))]
        body = b""
        if post_template is not None:
            body = post_template.replace(b"+4798765432", next_phone().encode())
            headers.append(("Content-Type", "application/atom+xml"))
        out.append(raw_request(method, path, port, headers, body))
    return out


PHONES_PATH = "/v2/phones/vendors/"


def fake_answers(base: str = f"http://{HOST}:8080/") -> dict[str, tuple[str, list, bytes]]:
    """The fake's own answers (status, headers without Date and Server, body) to the signed
    list GET ("get"), the signed create ("post") and the anonymous phones vendors GET
    ("phones"), in-process: what the bare peers answer. Raises RuntimeError on an
    unexpected answer."""
    from werkzeug.test import Client as TestClient

    from ocss_testkit.app import FakeApp

    client = TestClient(FakeApp())
    url = base.rstrip("/") + FEED_PATH
    ts = str(int(time.time()))
    out = {}
    for key, method, path, body, expect in (("get", "GET", FEED_PATH, b"", 200),
                                            ("post", "POST", FEED_PATH, create_body(next_phone()), 201),
                                            ("phones", "GET", PHONES_PATH, b"", 200)):
        headers = {}
        if key != "phones":
            headers["Authorization"] = oauth_header(method, url, CONSUMER, ADMIN, f"probe-{key}", ts)
        if body:
            headers["Content-Type"] = "application/atom+xml"
        answer = client.open(path, method=method, base_url=base, headers=headers, data=body or None)
        if answer.status_code != expect:
            raise RuntimeError(f"probe {method} {path} answered {answer.status}: {answer.data[:300]!r}")
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in ("date", "server")]
        out[key] = (answer.status, kept, answer.data)
    if out["get"][2].count(b"<entry") != 2:
        raise RuntimeError("the demo world's admin does not hold two SyncML clients")
    return out


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM: the same clean stop as Ctrl-C


def run_script(main, stopped: str, handle_signals: bool = True) -> None:
    """A benchmark's `__main__`: Ctrl-C and SIGTERM stop it cleanly (exit 130, saying
    `stopped`), a RuntimeError is one line (exit 1), else main()'s exit status."""
    if handle_signals:
        signal.signal(signal.SIGTERM, _terminate)
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell
            signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print(f"\ninterrupted; {stopped}", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as exc:
        print(f"\nERROR {exc}", file=sys.stderr)
        sys.exit(1)


def thread_cpu() -> dict[int, float]:
    """CPU seconds of each thread of this process (Linux /proc), by native thread id."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    with contextlib.suppress(OSError):
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                out[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


PHASES = {
    # key: (label, server class, app, job options); run in this order in every round
    "a": ("(a)  fake: GET feed, signed", Waitress, "fake", {"signed": True}),
    "a*": ("(a*) fake: GET feed, signed", WaitressTuned, "fake", {"signed": True}),
    "a'": ("(a') fake app: GET feed, signed", Cheroot, "fake", {"signed": True}),
    "b": ("(b)  fake: POST create, signed", Waitress, "fake",
          {"signed": True, "method": "POST", "expect": 201}),
    "c": ("(c)  bare WSGI, same bytes", Waitress, "bare", {}),
    "c*": ("(c*) bare WSGI, same bytes", WaitressTuned, "bare", {}),
    "c'": ("(c') bare WSGI, same bytes", Cheroot, "bare", {}),
    "d": ("(d)  bare WSGI, same bytes", WerkzeugDev, "bare", {}),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one short round (~20 s in all), noisier")
    ap.add_argument("--conns", type=int, default=8, help="keep-alive connections held by the load generator")
    ap.add_argument("--rounds", type=int, help="interleaved rounds of all HTTP phases (full 2, quick 1)")
    ap.add_argument("--requests", type=int, help="measured requests per HTTP phase and round")
    ap.add_argument("--cap", type=float, help="time cap of each phase's measurement, seconds")
    ap.add_argument("--iterations", type=int, default=2000, help="iterations of each in-process figure")
    ap.add_argument("--profile", action="store_true",
                    help="afterwards, rerun (a) and (a*) counting main-loop passes and CPU per server "
                         "thread, then (a*) with the app under cProfile")
    args = ap.parse_args(argv)
    quick = args.quick
    rounds = max(args.rounds or (1 if quick else 2), 1)
    requests = args.requests or (3000 if quick else 10000)
    cap = args.cap or (1.5 if quick else 4.5)
    warmup = 0.3 if quick else 0.5
    iterations = max(args.iterations, 1)

    logging.getLogger("waitress").setLevel(logging.ERROR)  # "Canceling n pending task(s)" at stop
    check_signer_against_oauthlib()
    from ocss_testkit.app import FakeApp

    load_before = background_load()
    began = time.perf_counter()
    print(f"bench_core: {machine()}; before start: {load_before}")
    print(f"  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {'quick' if quick else 'full'} mode; HTTP: 1 load-generator "
          f"process, {args.conns} keep-alive connections, {rounds} interleaved round(s) of every phase, each "
          f"{warmup:g} s warm-up then {requests} requests or {cap:g} s; "
          f"servers: {SERVER_THREADS} worker threads (werkzeug dev: one per connection)")
    sys.stdout.flush()

    loadgen = ClientProcess()
    servers: list = []
    results: dict[str, list[dict]] = {key: [] for key in PHASES}
    body = create_body()
    feed = b""

    def serve(cls, app, threads: int = SERVER_THREADS):
        server = cls(app, threads)
        servers.append(server)
        return server

    def stop(server) -> None:
        servers.remove(server)
        server.stop()

    def run_phase(key: str, app=None, before_stop=None, threads: int = SERVER_THREADS) -> dict:
        label, cls, kind, options = PHASES[key]
        server = serve(cls, app or (FakeApp() if kind == "fake" else bare_app(feed)), threads)
        try:
            job = {"name": label, "host": HOST, "port": server.port, "method": "GET", "path": FEED_PATH,
                   "body": b"", "signed": False, "expect": 200, "conns": args.conns, "requests": requests,
                   "cap": cap, "warmup": warmup, **options}
            if job["method"] == "POST":
                job["body"] = body
            result = loadgen.run(job)
            if before_stop:
                before_stop(result)
        finally:
            try:
                stop(server)
            except Exception as exc:  # noqa: BLE001 - a figure is still a figure; say so at the end
                warnings.append(f"{label}: stopping {cls.label} raised {exc!r}")
        return result

    profile_lines: list[str] = []
    warnings: list[str] = []
    try:
        # The bytes (c) and (d) serve: the fake's own answer to (a), fetched once.
        probe = serve(Waitress, FakeApp())
        conn = http.client.HTTPConnection(HOST, probe.port, timeout=10)
        conn.request("GET", FEED_PATH, headers={"Authorization": oauth_header(
            "GET", f"http://{HOST}:{probe.port}{FEED_PATH}", CONSUMER, ADMIN, "bench-probe", str(int(time.time())))})
        answer = conn.getresponse()
        status, feed = answer.status, answer.read()
        conn.close()
        stop(probe)
        if status != 200 or feed.count(b"<entry") != 2:
            raise RuntimeError(f"probe GET answered {status}: {feed[:300]!r}")

        for _ in range(rounds):
            for key in PHASES:
                results[key].append(run_phase(key))
        if args.profile:
            profile_lines = profile_fake(run_phase, FakeApp)
    finally:
        for server in reversed(servers):
            with contextlib.suppress(Exception):
                server.stop()
        loadgen.close()

    inproc = in_process_figures(iterations)
    report(results, inproc, feed_len=len(feed), conns=args.conns)
    print(f"\ntotal {time.perf_counter() - began:.0f} s; machine after the run: {background_load()} "
          f"(anything but ~0% means another workload shared the machine)")
    for line in warnings:
        print(f"WARNING {line}")
    for line in profile_lines:
        print(line)
    return 0


def profile_fake(run_phase, fake_app_cls) -> list[str]:
    """Where the server's time goes under (a) and (a*): loop passes, CPU per thread, cProfile."""
    import io

    from waitress import wasyncore

    lines = ["", "--- --profile: the fake under the (a) load again (figures of these reruns only) ---"]
    for cls in (Waitress, WaitressTuned):  # no load at all: what does a fake cost sitting idle?
        server = cls(fake_app_cls())
        try:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            time.sleep(1.0)
            idle = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        finally:
            server.stop()
        lines.append(f"idle {cls.label:<10} (no client connected, 1 s): this process used {idle * 100:3.0f}% of a core")
    for key, threads in (("a", SERVER_THREADS), ("a*", SERVER_THREADS), ("a*", 1)):
        polls = itertools.count()
        original_poll = wasyncore.poll  # looked up by wasyncore.loop() when the server starts

        def counting_poll(*a, **kw):
            next(polls)
            return original_poll(*a, **kw)

        seen: dict = {}

        def sample(result):
            seen["cpu"] = thread_cpu()
            seen["names"] = {t.native_id: t.name for t in threading.enumerate()}
            seen["polls"] = next(polls)

        before = thread_cpu()
        wasyncore.poll = counting_poll
        try:
            result = run_phase(key, before_stop=sample, threads=threads)
        finally:
            wasyncore.poll = original_poll
        answered = result["answered"]
        lines.append(f"{PHASES[key][0]} on {PHASES[key][1].label}, {threads} worker thread(s): "
                     f"{len(result['latencies']) / result['elapsed']:.0f} "
                     f"req/s; {answered} answers (warm-up included); main-loop passes (select calls) "
                     f"{seen['polls']}, {seen['polls'] / max(answered, 1):.1f} per request")
        for tid, seconds in sorted(seen["cpu"].items(), key=lambda kv: -(kv[1] - before.get(kv[0], 0.0))):
            used = seconds - before.get(tid, 0.0)
            if used >= 0.05:
                lines.append(f"    thread {seen['names'].get(tid, tid)!s:<14} CPU {used:5.2f} s = "
                             f"{used * 1e6 / max(answered, 1):5.0f} µs per request")

    profiled = ProfiledApp(fake_app_cls())
    run_phase("a*", app=profiled)
    buffer = io.StringIO()
    stdout, sys.stdout = sys.stdout, buffer
    try:
        profiled.print_stats(20)
    finally:
        sys.stdout = stdout
    lines.append("cProfile of the app under the (a*) load (app time only, all worker threads; wall time "
                 "per thread, so it includes waits for the GIL and the World lock):")
    lines.extend(buffer.getvalue().splitlines())
    return lines


def report(results: dict[str, list[dict]], inproc, feed_len: int, conns: int) -> None:
    rate = {}
    print(f"\nHTTP over 127.0.0.1 from a separate load-generator process, {conns} keep-alive connections "
          f"(feed body {feed_len} B)")
    head = (f"{'phase':<33} {'server':<12} {'requests':>8} {'req/s':>6} {'per round':>11} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'srv CPU':>7} {'gen CPU':>7}")
    print(head)
    print("-" * len(head))
    for key, (label, cls, _, _) in PHASES.items():
        runs = results[key]
        per_round = [len(r["latencies"]) / r["elapsed"] for r in runs]
        count = sum(len(r["latencies"]) for r in runs)
        rate[key] = count / sum(r["elapsed"] for r in runs)
        lat = sorted(x for r in runs for x in r["latencies"])
        srv = sum(r["server_cpu"] for r in runs) / len(runs)
        gen = sum(r["cpu"] / r["elapsed"] for r in runs) / len(runs)
        rounds = "/".join(f"{x:.0f}" for x in per_round)
        print(f"{label:<33} {cls.label:<12} {count:>8} {rate[key]:>6.0f} {rounds:>11} "
              f"{percentile(lat, .5) * 1e3:>7.2f} {percentile(lat, .99) * 1e3:>7.2f} {srv * 100:>6.0f}% "
              f"{gen * 100:>6.0f}%")
    print("req/s: all rounds pooled (each round's own figure beside it). srv CPU / gen CPU: CPU time of the\n"
          "server / load-generator process over the measured window, 100% = one core.\n"
          "waitress = FakeServer as shipped; waitress* = the same with this script's own copy of the\n"
          "two waitress fixes (loop timeout 1, lock-aware channel), now shipped in ocss_testkit/server.py:\n"
          "the two rows should agree.")

    print("\nIn-process, one thread (µs per call)")
    head = f"{'figure':<52} {'iterations':>10} {'median':>8} {'p99':>8}"
    print(head)
    print("-" * len(head))
    med = {}
    for label, values in inproc:
        values = sorted(values)
        med[label.split()[0]] = percentile(values, .5) * 1e6
        print(f"{label:<52} {len(values):>10} {percentile(values, .5) * 1e6:>8.1f} "
              f"{percentile(values, .99) * 1e6:>8.1f}")

    def x(a: str, b: str) -> str:
        return f"{rate[a] / rate[b]:5.2f}x"

    ratio = rate["a"] / rate["d"]
    e1 = med["(e1)"]
    print("\nTargets (figures, not tests)")
    print(f"  (a)/(d)   fake signed GET vs werkzeug dev server, req/s   >= {TARGET_RATIO:.1f}x  {x('a', 'd')}    "
          f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")
    print(f"  (e1)      parse + XSD validate ~2 KB entry, median        <= {TARGET_PARSE_US:.0f} µs  {e1:5.1f} µs  "
          f"{'PASS' if e1 <= TARGET_PARSE_US else 'FAIL'}")
    print("Ratios (no target)")
    print(f"  (a*)/(d)  the fake with the script's copy of the fixes vs (d)   {x('a*', 'd')}")
    print(f"  (c)/(d)   bare waitress vs werkzeug dev: the most any app     {x('c', 'd')}   (c*)/(d) {x('c*', 'd')}")
    print(f"  (c)/(c')  bare waitress vs bare cheroot                       {x('c', 'c' + chr(39))}   "
          f"(c*)/(c') {x('c*', 'c' + chr(39))}")
    print(f"  (a)/(a')  the fake on waitress vs the same app on cheroot     {x('a', 'a' + chr(39))}   "
          f"(a*)/(a') {x('a*', 'a' + chr(39))}")
    print(f"  (b)/(a)   POST create vs signed GET                           {x('b', 'a')}")
    for fake, bare in (("a", "c"), ("a*", "c*")):
        print(f"  server µs per ({fake}) request: measured 1e6/({fake}) = {1e6 / rate[fake]:4.0f}; costs simply "
              f"added, 1e6/({bare}) + (e4) = {1e6 / rate[bare]:.0f} + {med['(e4)']:.0f} = "
              f"{1e6 / rate[bare] + med['(e4)']:.0f}")
    rest = med["(e4)"] - med["(e2)"] - med["(e3)"]
    print(f"  of (e4) {med['(e4)']:.0f} µs: OAuth verify (e2) {med['(e2)']:.0f}, "
          f"feed rendering (e3) {med['(e3)']:.0f}, "
          f"the rest (werkzeug request, routing, response) " + (f"~{rest:.0f}" if rest > 0 else "lost in the noise"))


if __name__ == "__main__":
    run_script(main, "servers stopped")
