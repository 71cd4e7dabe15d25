#!/usr/bin/env python3
"""The HTTP server under the fake: waitress (FakeServer) against granian and cheroot, one run (a script, not a test).

    python benchmarks/bench_servers.py            # full run, about 3.5 minutes
    python benchmarks/bench_servers.py --quick    # about 1 minute, noisier
    python benchmarks/bench_servers.py --check    # the functional checks only, about 30 s

Issue 14, lever 4: measure before switching. Three servers, the same app, the same client:
  waitress  FakeServer as shipped (ocss_testkit/server.py: waitress with the fake's parser,
            task and channel), in this process, --threads worker threads
  cheroot   cheroot.wsgi.Server in this process, --threads threads, its body limit set to
            the app's (max_request_body_size) and a gateway that gives the app the
            `ocss.drop_connection` hook (below)
  granian   `python -m granian --interface wsgi --workers 1 --blocking-threads N` in a child
            process (its own main process and one worker process); its CPU is read from
            /proc for the whole process tree
Rows, each on a fresh server (a fresh FakeApp: the POST rows add clients to its world):
  get     signed GET /v2/services/syncml/ as admin (the demo world's two SyncML clients)
  post    signed POST /v2/services/syncml/ with the create body of the API documentation, 201
  phones  anonymous GET /v2/phones/vendors/
  bare    a bare WSGI app answering the phones answer's bytes and headers with no work: each
          server's own ceiling
at 1 and 8 keep-alive connections; all phases of a round run back to back (peers next to
each other) and rounds are interleaved, so a slow spell of the machine hits all servers.

The client is bench_core's (as bench_side_by_side.py's): ONE separate process (multiprocessing, spawn), one
thread, epoll, each connection with one request in flight; every signed request is signed
before timing (a pool of unique nonces), so the client only sends bytes and reads answers.
p50/p99: client-side latency, send to last byte. srv CPU: the server's CPU over the measured
window (this process for waitress and cheroot, granian's process tree), 100 % = one core.

--check runs the functional requirements of the issue against each server serving FakeApp
(keep-alive on every kind of answer, reason phrases, the drop fault, the body limit from the
headers, --port 0 with a ready line, clean SIGTERM, running in a thread of this process) and
prints pass/FAIL per server with what was seen. Checks that exercise a capability a server
lacks say so instead of failing the run.

Exits 0 whatever the figures or the checks say; 1 if a server cannot be started or answers
what it must not (an unexpected status in a benchmark phase); 130 on Ctrl-C or SIGTERM, every
server, granian process and the client process stopped. Figures: benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _path in (str(HERE), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import bench_core as core  # noqa: E402 - the client process, servers, requests; stdlib only at import

HOST, FEED_PATH, PHONES_PATH = core.HOST, core.FEED_PATH, core.PHONES_PATH
BARE_ENV = "OCSS_BENCH_BARE_ANSWER"  # a JSON file with the bare app's answer, for granian's worker
SERVERS = ("waitress", "cheroot", "granian")
ROWS = (("get", "signed GET syncml list (admin)"), ("post", "signed POST create"),
        ("phones", "anon GET phones vendors"), ("bare", "bare WSGI, fixed bytes"))


# =========================================================================================
# WSGI targets granian's worker process imports (`bench_servers:...`): keep them light
# =========================================================================================
def bare_factory() -> core.BareApp:
    """bench_core's BareApp (the same class on every server) for granian's worker, its
    answer read from the file BARE_ENV names."""
    with open(os.environ[BARE_ENV], encoding="utf-8") as f:
        answer = json.load(f)
    return core.BareApp(answer["status"], answer["headers"], base64.b64decode(answer["body"]))


def granian_drop_factory():
    """FakeApp behind a best-effort drop for granian, which gives a WSGI app no way to reach
    its connection: when the app asks for a drop, the answer announces one byte of content
    and its iterable raises instead of giving it, so granian aborts the response (a raise
    from the app itself would be answered 500). Whether the client then reads nothing, or
    a status line first, is a race in granian (see --check). OCSS_BENCH_DROP_STYLE=after-chunk
    sends one byte of the content before the raise, for comparison."""
    from ocss_testkit.app import FakeApp

    app = FakeApp()
    after_chunk = os.environ.get("OCSS_BENCH_DROP_STYLE") == "after-chunk"

    def abort():
        if after_chunk:
            yield b"x"
        raise ConnectionAbortedError("drop fault: no answer")

    def wrapped(environ, start_response):
        dropped: list[bool] = []
        started: list = []
        environ["ocss.drop_connection"] = lambda: dropped.append(True)
        result = app(environ, lambda *a: started.append(a))  # deferred: the head is ours to decide
        if not dropped:
            start_response(*started[0])
            return result
        with contextlib.suppress(Exception):
            result.close()
        start_response("500 Internal Server Error", [("Content-Length", "2" if after_chunk else "1")])
        return abort()
    return wrapped


# =========================================================================================
# Processes (Linux /proc): granian's tree, its CPU, its listening port
# =========================================================================================
def descendants(pid: int) -> list[int]:
    """pid's children, grandchildren, ... (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{parent}/task"):
                with contextlib.suppress(OSError):
                    for child in Path(f"/proc/{parent}/task/{task}/children").read_text().split():
                        out.append(int(child))
                        todo.append(int(child))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (those still alive)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def listening_ports(pids: list[int]) -> set[int]:
    """TCP ports (IPv4) these processes listen on: their socket inodes matched in /proc/net/tcp."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
    ports = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) > 9 and parts[3] == "0A" and parts[9] in inodes:
                ports.add(int(parts[1].split(":")[1], 16))
    return ports


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# =========================================================================================
# The servers
# =========================================================================================
def _cheroot_gateway():
    """cheroot's WSGI 1.0 gateway with the fake's drop hook: the app may close its socket
    unanswered (a `drop` fault), as server.py's task lets it on waitress."""
    from cheroot import wsgi

    class Gateway(wsgi.Gateway_10):
        def get_environ(self):
            environ = super().get_environ()
            request = self.req

            def drop() -> None:
                request.close_connection = True
                with contextlib.suppress(OSError, AttributeError):
                    request.conn.socket.shutdown(socket.SHUT_RDWR)
            environ["ocss.drop_connection"] = drop
            return environ
    return Gateway


WaitressServer = core.Waitress  # FakeServer as shipped, around `app`


class CherootServer(core.Cheroot):
    """cheroot.wsgi.Server in a thread of this process, set up as the fake would ship it."""

    def configure(self, app) -> None:
        # 413 from the headers, before a `100 Continue` (cheroot checks it first)
        self.server.max_request_body_size = getattr(app, "max_body", 0)
        self.server.gateway = _cheroot_gateway()


class GranianServer:
    """granian in a child process (its own session): `python -m granian --interface wsgi`,
    one worker process, `threads` blocking (Python) threads, HTTP/1.1 only. granian prints
    no bound port for --port 0 ("Listening at: http://127.0.0.1:0"), so the port is read
    from the worker's listening socket in /proc."""
    name = "granian"

    def __init__(self, target: str, threads: int, env: dict | None = None, port: int = 0,
                 timeout: float = 30.0, health: str = "/_fake/health") -> None:
        self.log = tempfile.TemporaryFile()
        cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", HOST, "--port", str(port),
               "--workers", "1", "--blocking-threads", str(threads), "--http", "1", "--no-ws",
               "--log-level", "warning", "--factory", "--working-dir", str(HERE), target]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                     start_new_session=True)
        try:
            self.port = self._wait_for_port(port, timeout)
            _wait_answering(self.port, health, timeout, self._check_alive)
        except BaseException:
            self.stop()
            raise

    def pids(self) -> list[int]:
        return [self.proc.pid, *descendants(self.proc.pid)]

    def cpu(self) -> float:
        return cpu_seconds(self.pids())

    def log_tail(self, lines: int = 15) -> str:
        self.log.seek(0)
        return "\n".join(self.log.read().decode("utf-8", "replace").splitlines()[-lines:])

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"granian exited with {self.proc.returncode}:\n{self.log_tail()}")

    def _wait_for_port(self, port: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            ports = listening_ports(self.pids())
            if port in ports or (port == 0 and ports):
                return port or min(ports)
            if time.monotonic() > deadline:
                raise RuntimeError(f"granian did not listen within {timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM to granian's main process, then SIGKILL to its process group if anything of
        it is left after 10 s."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: only granian's processes
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.log.close()


def _wait_answering(port: int, path: str, timeout: float, check=None) -> None:
    import http.client
    deadline = time.monotonic() + timeout
    while True:
        if check:
            check()
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", path)
            answer = conn.getresponse()
            answer.read()
            if answer.status == 200:
                return
            problem = f"GET {path} answered {answer.status}"
        except (OSError, http.client.HTTPException) as exc:
            problem = repr(exc)
        finally:
            conn.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} not answering within {timeout:g} s: {problem}")
        time.sleep(0.05)


def granian_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("granian")
    except PackageNotFoundError:
        return ""


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version
    out = []
    for name in ("waitress", "cheroot", "granian", "werkzeug"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} missing")
    return ", ".join(out)


# =========================================================================================
# The benchmark
# =========================================================================================
def bench(args) -> int:
    import logging

    from machineinfo import machine

    quick = args.quick
    rounds = max(args.rounds or (1 if quick else 3), 1)
    requests = args.requests or (1500 if quick else 3000)
    cap = args.cap or (1.0 if quick else 1.5)
    warmup, warm_n = (0.3, 100) if quick else (0.5, 200)
    conns_list = (1, 8)
    logging.getLogger("waitress").setLevel(logging.ERROR)
    core.check_signer_against_oauthlib()
    began = time.perf_counter()
    print(f"bench_servers: {machine(with_time=True)}")
    print(f"  {versions()}")
    print(f"  before start: {core.loadavg()}")
    print(f"  {'quick' if quick else 'full'} mode; {rounds} interleaved round(s); each phase {warm_n} requests or "
          f"{warmup:g} s of warm-up, then {requests} requests or {cap:g} s; {args.threads} server threads "
          f"(granian: 1 worker process, {args.threads} blocking threads)")
    sys.stdout.flush()

    answers = core.fake_answers()
    phones = answers["phones"]
    bare_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    with bare_file:
        json.dump({"status": phones[0], "headers": phones[1], "body": base64.b64encode(phones[2]).decode()},
                  bare_file)
    from ocss_testkit.app import FakeApp

    running: list = []
    results: dict[tuple[str, str, int], list[dict]] = {}
    client = core.ClientProcess()

    def start(server: str, row: str):
        kind = "bare" if row == "bare" else "fake"
        if server == "granian":
            target = "bench_servers:bare_factory" if kind == "bare" else "ocss_testkit.app:FakeApp"
            made = GranianServer(target, args.threads, env={BARE_ENV: bare_file.name},
                                 health=PHONES_PATH if kind == "bare" else "/_fake/health")
        else:
            app = core.BareApp(*phones) if kind == "bare" else FakeApp()
            made = (WaitressServer if server == "waitress" else CherootServer)(app, args.threads)
        running.append(made)
        return made

    def pool(row: str, port: int, n: int) -> list[bytes]:
        if row == "get":
            return core.signed_pool("GET", FEED_PATH, port, n)
        if row == "post":
            return core.signed_pool("POST", FEED_PATH, port, n, post_template=core.create_body())
        return [core.raw_request("GET", PHONES_PATH, port, [])] * n

    try:
        for number in range(rounds):
            for conns in conns_list:
                for row, label in ROWS:
                    for server in SERVERS:
                        made = start(server, row)
                        try:
                            job = {"name": f"{label} on {server}", "host": HOST, "port": made.port, "conns": conns,
                                   "requests": requests, "cap": cap, "warmup": warmup, "warm": warm_n,
                                   "expect": 201 if row == "post" else 200,
                                   "pool": pool(row, made.port, warm_n + requests + conns)}
                            result = client.run(job, cpu=made.cpu)
                        finally:
                            running.remove(made)
                            made.stop()
                        results.setdefault((server, row, conns), []).append(result)
            print(f"  round {number + 1} done at {time.perf_counter() - began:.0f} s; {core.loadavg()}")
            sys.stdout.flush()
    finally:
        for made in reversed(running):
            with contextlib.suppress(Exception):
                made.stop()
        client.close()
        with contextlib.suppress(OSError):
            os.unlink(bare_file.name)

    report(results, conns_list, core.percentile)
    print(f"\ntotal {time.perf_counter() - began:.0f} s; after the run: {core.loadavg()}")
    return 0


def report(results, conns_list, pct) -> None:
    rate: dict[tuple[str, str, int], float] = {}
    head = (f"{'row':<31} {'server':<9} {'conns':>5} {'requests':>8} {'req/s':>6} {'per round':>11} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} {'srv CPU':>7} {'CPU µs/req':>10}")
    print("\nHTTP over 127.0.0.1, one client process (bench_core's), keep-alive connections")
    print(head)
    print("-" * len(head))
    for conns in conns_list:
        for row, label in ROWS:
            for server in SERVERS:
                runs = results[(server, row, conns)]
                count = sum(len(r["latencies"]) for r in runs)
                rate[(server, row, conns)] = count / sum(r["elapsed"] for r in runs)
                per_round = "/".join(f"{len(r['latencies']) / r['elapsed']:.0f}" for r in runs)
                lat = sorted(x for r in runs for x in r["latencies"])
                p50, p99 = pct(lat, .5), pct(lat, .99)
                srv = sum(r["server_cpu"] for r in runs) / len(runs)
                print(f"{label:<31} {server:<9} {conns:>5} {count:>8} {rate[(server, row, conns)]:>6.0f} "
                      f"{per_round:>11} {p50 * 1e3:>7.2f} {p99 * 1e3:>7.2f} {p99 / p50:>7.2f} {srv * 100:>6.0f}% "
                      f"{srv / rate[(server, row, conns)] * 1e6:>10.0f}")
        print()
    print("req/s: rounds pooled (each round's own beside it); latency: client side, send to last byte;\n"
          "srv CPU: the server's CPU over the measured window (waitress, cheroot: this process; granian: its\n"
          "main and worker processes), 100% = one core; CPU µs/req = srv CPU / req/s.")
    print("\nRatios of req/s to waitress (the shipped FakeServer), same row, same connections")
    print(f"  {'row':<31} {'conns':>5} {'cheroot':>8} {'granian':>8}")
    for conns in conns_list:
        for row, label in ROWS:
            base = rate[("waitress", row, conns)]
            print(f"  {label:<31} {conns:>5} {rate[('cheroot', row, conns)] / base:>7.2f}x "
                  f"{rate[('granian', row, conns)] / base:>7.2f}x")
    print("Anonymous phones GET / bare app answering the same bytes, same server (issue target >= 1x)")
    for conns in conns_list:
        print(f"  {conns} conn: " + ", ".join(
            f"{s} {rate[(s, 'phones', conns)] / rate[(s, 'bare', conns)]:.2f}x" for s in SERVERS))


# =========================================================================================
# --check: the functional requirements, per server
# =========================================================================================
LIMIT = 1024 * 1024  # FakeApp's default body limit
TIMEOUT = 10.0
# The demo world's objects the keep-alive sequence acts on (fixtures/demo)
ADMIN_GDATA = "4f1d2dd0-49e4-11de-b387-002215064801"
ADMIN_SYNCML = ("2fb295cc-0e50-11de-81c8-002215064801", "bfb81234-30a9-11de-b930-002215064801")
DETECT_BODY = (b'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
               b"<oc:phone_number>+4700000001</oc:phone_number></entry>")


class Answer:
    def __init__(self, version: str, status: int, reason: str, headers: dict, body: bytes) -> None:
        self.version, self.status, self.reason, self.headers, self.body = version, status, reason, headers, body

    def __repr__(self) -> str:
        return f"{self.status} {self.reason}"


class NoAnswer(Exception):
    """The connection ended (`how`: "end of stream" or "reset") before a status line."""

    def __init__(self, how: str, got: bytes = b"") -> None:
        super().__init__(how)
        self.how, self.got = how, got


class Wire:
    """One raw TCP connection: requests written as bytes, answers parsed from the wire."""

    def __init__(self, port: int, timeout: float = TIMEOUT) -> None:
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def head(self, method: str, path: str, *fields: str, version: str = "1.1") -> bytes:
        lines = [f"{method} {path} HTTP/{version}", f"Host: {HOST}:{self.port}", *fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def request(self, method: str, path: str, *fields: str, body: bytes = b"", version: str = "1.1",
                user=None) -> Answer:
        if user is not None:
            consumer, token = user
            auth = core.oauth_header(method, f"http://{HOST}:{self.port}{path}", consumer, token,
                                     os.urandom(8).hex(), str(int(time.time())))
            fields = (*fields, f"Authorization: {auth}")
        if body or method in ("POST", "PUT", "PATCH", "DELETE"):
            fields = (*fields, f"Content-Length: {len(body)}")
        self.sock.sendall(self.head(method, path, *fields, version=version) + body)
        return self.answer(head_request=method == "HEAD")

    def _more(self) -> bytes:
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            raise NoAnswer("reset", self.buf) from None
        if not chunk:
            raise NoAnswer("end of stream", self.buf)
        self.buf += chunk
        return chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def answer(self, head_request: bool = False) -> Answer:
        line = self._line()
        match = re.fullmatch(rb"HTTP/(1\.[01]) (\d{3}) ?(.*)", line)
        if not match:
            raise NoAnswer(f"not a status line: {line[:80]!r}")
        headers: dict[str, str] = {}
        while (field := self._line()) != b"":
            name, _, value = field.decode("latin-1").partition(":")
            key = name.strip().lower()
            headers[key] = (headers[key] + ", " if key in headers else "") + value.strip()
        status = int(match[2])
        body = b""
        if not (head_request or status < 200 or status in (204, 304)):
            if "content-length" in headers:
                body = self._take(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                while size := int(self._line().split(b";")[0], 16):
                    body += self._take(size)
                    self._take(2)
                self._line()
            else:
                with contextlib.suppress(NoAnswer):
                    while True:
                        self._more()
                body, self.buf = self.buf, b""
        return Answer(match[1].decode(), status, match[3].decode("latin-1"), headers, body)

    def ending(self, wait: float = 3.0) -> str:
        """How the connection ends now: "end of stream", "reset", or "open" (nothing in `wait` s)."""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return "end of stream"
                self.buf += chunk
        except TimeoutError:
            return "open"
        except ConnectionResetError:
            return "reset"
        except OSError as exc:
            return repr(exc)


def _kept(answer: Answer, version: str) -> bool:
    connection = answer.headers.get("connection", "").lower()
    if version == "1.0":
        return "keep-alive" in connection
    return "close" not in connection


def _port_closed(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=2).close()
    except OSError:
        return True
    return False


def credentials() -> dict:
    """(consumer, token) pairs of the demo world's users, each (key, secret)."""
    from ocss_testkit.app import FakeApp
    world = FakeApp().world
    return {name: ((user.consumer_key, world.consumers[user.consumer_key]), (user.token, user.token_secret))
            for name, user in world.users.items()}


def check_keep_alive(port: int, creds: dict, version: str, token: str = "keep-alive") -> tuple[bool, str, list]:
    """Every kind of answer without content, and some with, on ONE connection; the last request
    must still be answered on it (HTTP/1.0: each asks `Connection: <token>`). Returns (ok, note, answers)."""
    admin, alice = creds["admin"], creds["alice"]
    fields = [f"Connection: {token}"] if version == "1.0" else []
    wire = Wire(port)
    seen: list[tuple[str, Answer | str]] = []
    steps = [
        ("POST", "/v2/phones/detect/auto/", alice, DETECT_BODY, ["Content-Type: application/atom+xml"]),
        ("POST", f"/v2/services/syncml/{ADMIN_SYNCML[0]}/sync/", admin, b"", []),
        ("DELETE", f"/v2/services/syncml/{ADMIN_SYNCML[1]}", admin, b"", []),
        ("DELETE", f"/v2/services/google/{ADMIN_GDATA}", admin, b"", []),
        ("HEAD", "/v2/services/google/", admin, b"", []),
        ("HEAD", "/v2/phones/models/", None, b"", []),
        ("HEAD", "/_fake/health", None, b"", []),
        ("PUT", "/v2/phones/models/", None, b"", []),
        ("GET", "/v2/services/google/", None, b"", []),
        ("POST", "/_fake/reset", None, b"", []),
        ("GET", "/_fake/health", None, b"", []),
    ]
    try:
        for method, path, user, body, extra in steps:
            try:
                answer = wire.request(method, path, *fields, *extra, body=body, version=version, user=user)
            except (NoAnswer, OSError) as exc:
                seen.append((f"{method} {path}", f"no answer ({exc})"))
                break
            seen.append((f"{method} {path}", answer))
            if not _kept(answer, version):
                break
    finally:
        wire.close()
    bad = [f"{what} -> {a!r}" + ("" if isinstance(a, str) else f" (Connection: {a.headers.get('connection')})")
           for what, a in seen if isinstance(a, str) or not _kept(a, version)]
    kinds = ", ".join(f"{a.status}" for _, a in seen if not isinstance(a, str))
    if bad or len(seen) < len(steps):
        return False, f"closed after {bad[0] if bad else seen[-1][0]}", seen
    return True, f"{len(seen)} answers on one connection ({kinds})", seen


def check_reasons(seen: list) -> tuple[bool, str]:
    """The API documentation's own reason phrases (`200 Ok` of a sync, `200 Deleted`) reach the wire."""
    expected = {"POST /v2/services/syncml/" + ADMIN_SYNCML[0] + "/sync/": "Ok",
                f"DELETE /v2/services/google/{ADMIN_GDATA}": "Deleted"}
    got = {what: a.reason for what, a in seen if what in expected and not isinstance(a, str)}
    wrong = [f"'{a}' instead of '{expected[w]}'" for w, a in got.items() if a != expected[w]]
    if len(got) < len(expected):
        return False, "not reached (the connection closed before)"
    return (not wrong), ("; ".join(wrong) if wrong else "'200 Ok', '200 Deleted' as the app sent them")


def check_drop(port: int, tries: int = 1) -> tuple[bool, str]:
    """A `drop` fault on the anonymous phones GET: the client must read no byte, the connection
    must end, and the server must serve the next connection."""
    import http.client
    outcomes: dict[str, int] = {}
    for _ in range(tries):
        conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        body = json.dumps({"action": "drop", "method": "GET", "path": PHONES_PATH, "times": 1})
        conn.request("POST", "/_fake/faults", body=body, headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        conn.close()
        if answer.status not in (200, 201):
            return False, f"adding the fault answered {answer.status}"
        wire = Wire(port)
        try:
            got = wire.request("GET", PHONES_PATH)
            outcome = f"answered {got.status} {got.reason}"
        except NoAnswer as exc:
            first_line = exc.got.split(b"\r\n", 1)[0][:40]
            outcome = (f"{exc.how}, no byte" if not exc.got
                       else f"{exc.how} after {len(exc.got)} bytes ({first_line!r})")
        except OSError as exc:
            outcome = repr(exc)
        finally:
            wire.close()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # the fault rule used, the server must serve on
    wire = Wire(port)
    try:
        after = wire.request("GET", PHONES_PATH).status
    except (NoAnswer, OSError) as exc:
        after = repr(exc)
    finally:
        wire.close()
    clean = sum(n for what, n in outcomes.items() if what.endswith("no byte"))
    summary = "; ".join(f"{what}" + (f" x{n}" if tries > 1 else "") for what, n in outcomes.items())
    return clean == tries and after == 200, f"{summary}; next request {after}"


def check_limit_expect(port: int) -> tuple[bool, str]:
    """Content-Length over the limit with `Expect: 100-continue`: 413 first (no 100 Continue,
    no byte of the body read), then the connection closed."""
    wire = Wire(port)
    try:
        wire.sock.sendall(wire.head("PUT", "/_fake/state", "Content-Type: application/json",
                                    f"Content-Length: {LIMIT + 1}", "Expect: 100-continue"))
        answer = wire.answer()
        end = wire.ending()
    except NoAnswer as exc:
        return False, f"no answer: {exc.how}"
    except OSError as exc:
        return False, repr(exc)
    finally:
        wire.close()
    ok = answer.status == 413 and end != "open"
    return ok, f"first answer {answer!r}, then {end}" + ("" if answer.status != 100 else " (asked for the body)")


def check_limit_sent_anyway(port: int) -> tuple[bool, str]:
    """A client that sends its whole oversized body (4 MiB) before reading must be able to send
    it all and then read the 413: the server refuses at the headers, then reads and discards
    until the client is done (a close with bytes unread is a reset, and most clients stop at
    the failed send). Reading the 413 after a failed send is noted, not passed."""
    wire = Wire(port)
    size = 4 * LIMIT
    sent = 0
    try:
        wire.sock.sendall(wire.head("POST", "/v2/services/datastore/", "Content-Type: application/atom+xml",
                                    f"Content-Length: {size}"))
        block = b"x" * (256 * 1024)
        with contextlib.suppress(OSError):
            for _ in range(size // len(block)):
                wire.sock.sendall(block)
                sent += len(block)
        answer = wire.answer()
    except NoAnswer as exc:
        return False, f"{exc.how} instead of the 413 (client had sent {sent} of {size} bytes)"
    except OSError as exc:
        return False, f"{exc!r} (client had sent {sent} of {size} bytes)"
    finally:
        wire.close()
    if sent < size:
        return False, (f"the server closed while the body was coming: the send failed after {sent} of {size} "
                       f"bytes; read {answer!r} after that")
    return answer.status == 413, f"read {answer!r} after sending all {size} bytes"


def check_limit_chunked(port: int) -> tuple[bool, str]:
    """A chunked body passing the limit: 413 the moment it does (no last chunk is ever sent)."""
    wire = Wire(port)
    try:
        wire.sock.sendall(wire.head("POST", "/_fake/faults", "Transfer-Encoding: chunked",
                                    "Content-Type: application/json"))
        block = b" " * (64 * 1024)
        with contextlib.suppress(OSError):
            for _ in range(LIMIT // len(block)):
                wire.sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            wire.sock.sendall(b"1\r\n \r\n")
        answer = wire.answer()
    except NoAnswer as exc:
        return False, f"no answer: {exc.how}"
    except OSError as exc:
        return False, repr(exc)
    finally:
        wire.close()
    return answer.status == 413, f"{answer!r}"


class Child:
    """A server in a child process (its own session), its output collected line by line."""

    def __init__(self, cmd: list[str], env: dict | None = None) -> None:
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                     start_new_session=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip())

    def wait_line(self, pattern: str, timeout: float = 30.0) -> re.Match | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.proc.poll() is not None:
                time.sleep(0.1)
                return next((m for line in self.lines if (m := re.search(pattern, line))), None)
            time.sleep(0.05)
        return None

    def pids(self) -> list[int]:
        return [self.proc.pid, *descendants(self.proc.pid)]

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


def check_cli(server: str, threads: int) -> tuple[tuple[bool, str], tuple[bool, str]]:
    """--port 0 with a ready line naming the bound port, then SIGTERM with an idle keep-alive
    connection open: ((port ok, note), (sigterm ok, note))."""
    if server == "waitress":
        cmd = [sys.executable, "-m", "ocss_testkit", "serve", "--port", "0", "--quiet", "--threads", str(threads)]
        pattern = r"ready at http://127\.0\.0\.1:(\d+)"
    elif server == "cheroot":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-cheroot", "--threads", str(threads)]
        pattern = r"ready at http://127\.0\.0\.1:(\d+)"
    else:  # granian's own CLI, what `ocss-fake serve` would wrap
        cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", HOST, "--port", "0", "--workers", "1",
               "--blocking-threads", str(threads), "--http", "1", "--no-ws", "--factory", "ocss_testkit.app:FakeApp"]
        pattern = r"Listening at: http://127\.0\.0\.1:(\d+)"
    child = Child(cmd)
    try:
        match = child.wait_line(pattern)
        if match is None:
            return (False, f"no ready line; output: {' | '.join(child.lines[-5:])}"), (False, "not started")
        told = int(match[1])
        deadline = time.monotonic() + 30
        while not (ports := listening_ports(child.pids())) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not ports:
            return (False, f"ready line {match[0]!r}, but nothing listens"), (False, "not listening")
        port = told if told in ports else min(ports)
        port_result = ((told == port and told != 0),
                       ("this script's --serve-cheroot, the CLI's shape: " if server == "cheroot" else "")
                       + f"ready line {match[0]!r}" + ("" if told == port else f"; the bound port ({port}) is in no "
                                                                              "line: found in /proc"))
        _wait_answering(port, "/_fake/health", 30)
        idle = Wire(port)
        first = idle.request("GET", "/_fake/health").status
        pids = child.pids()
        started = time.monotonic()
        child.proc.send_signal(signal.SIGTERM)
        try:
            code = child.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - started
        ended = idle.ending(wait=1.0)
        idle.close()
        time.sleep(0.2)
        left = [pid for pid in pids if alive(pid)]
        closed = _port_closed(port)
        ok = first == 200 and code == 0 and not left and closed and took < 10
        note = (f"exit {code if code is not None else 'none after 15 s'} in {took:.2f} s; idle keep-alive "
                f"connection: {ended}; port {'closed' if closed else 'STILL OPEN'}"
                + (f"; {len(left)} process(es) left" if left else "; no process left"))
        return port_result, (ok, note)
    finally:
        child.kill()


class GranianThread:
    """granian serving `app` in threads of THIS process: granian's embedded server refuses
    the WSGI interface ("WSGI is not supported in embedded mode") and its thread-worker
    server (granian.server.MTServer) installs signal handlers and blocks, so this drives the
    private extension type its worker uses (granian._granian.WSGIWorker), with the argument
    list of granian 2.x's server/mt.py. Not an API: any release may change it."""

    def __init__(self, app, threads: int) -> None:
        from granian._futures import _new_cbscheduler
        from granian._granian import ListenerSpec, WorkerSignal, WSGIWorker
        from granian._loops import loops
        from granian.constants import HTTPModes
        from granian.wsgi import _callback_wrapper

        self.spec = ListenerSpec(HOST, 0, 128)
        holder = self.spec.build()
        probe = socket.socket(fileno=os.dup(holder.get_fd()))
        self.port = probe.getsockname()[1]
        probe.close()
        self.signal = WorkerSignal()
        loop = loops.get("asyncio")
        worker = WSGIWorker(1, (self.spec, None), None, 1, 512, threads, 30, 1024, HTTPModes.http1, None, None,
                            None, False, None, None, None, "tls1.3", None, [], False, (None, None))
        scheduler = _new_cbscheduler(loop, _callback_wrapper(app, {"url_path_prefix": None}, None),
                                     impl_asyncio=True)
        worker.serve_mtr(scheduler, loop, self.signal)  # returns at once: the Rust runtime's threads serve

    def stop(self) -> None:
        self.signal.set()


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def check_in_thread(server: str, threads: int, creds: dict) -> tuple[bool, str]:
    """Start on port 0 inside this process, a signed GET, stop: the port closes and no thread is left."""
    from ocss_testkit.app import FakeApp

    before = os_threads()
    started = time.monotonic()
    try:
        if server == "waitress":
            made = WaitressServer(FakeApp(), threads)
        elif server == "cheroot":
            made = CherootServer(FakeApp(), threads)
        else:
            made = GranianThread(FakeApp(), threads)
    except Exception as exc:  # noqa: BLE001 - the finding
        return False, f"cannot start in a thread: {exc!r}"
    port = made.port
    try:
        _wait_answering(port, "/_fake/health", 10)
        wire = Wire(port)
        try:
            status = wire.request("GET", FEED_PATH, user=creds["admin"]).status
        finally:
            wire.close()
    finally:
        made.stop()
    took = time.monotonic() - started
    deadline = time.monotonic() + 5
    while os_threads() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    extra = os_threads() - before
    closed = _port_closed(port)
    ok = status == 200 and closed and extra <= 0
    note = (f"port 0 -> {port}, signed GET {status}, start+stop {took:.2f} s, port {'closed' if closed else 'OPEN'}, "
            f"{max(extra, 0)} OS thread(s) left")
    if server == "granian":
        note += "; private API (granian._granian.WSGIWorker)"
    return ok, note


def checks(args) -> int:
    import logging

    from machineinfo import machine

    from ocss_testkit.app import FakeApp

    logging.getLogger("waitress").setLevel(logging.ERROR)
    logging.getLogger("cheroot").setLevel(logging.CRITICAL)
    logging.getLogger("ocss_testkit").setLevel(logging.CRITICAL)
    began = time.perf_counter()
    print(f"bench_servers --check: {machine(with_time=True)}")
    print(f"  {versions()}; each server serves FakeApp (granian: a child process, as benchmarked)")
    sys.stdout.flush()
    creds = credentials()
    table: dict[str, dict[str, tuple[bool | None, str]]] = {}
    running: list = []
    try:
        for server in SERVERS:
            row = table.setdefault(server, {})
            if server == "granian":
                made = GranianServer("ocss_testkit.app:FakeApp", args.threads)
            else:
                made = (WaitressServer if server == "waitress" else CherootServer)(FakeApp(), args.threads)
            running.append(made)
            try:
                ok, note, seen = check_keep_alive(made.port, creds, "1.1")
                row["keep-alive, HTTP/1.1"] = (ok, note)
                row["reason phrases kept"] = check_reasons(seen)
                reset = Wire(made.port)
                with contextlib.suppress(NoAnswer, OSError):
                    reset.request("POST", "/_fake/reset")
                reset.close()
                ok, note, _ = check_keep_alive(made.port, creds, "1.0")
                if not ok:  # the field's value is case-insensitive (RFC 9110 §7.6.1): the other spelling
                    with contextlib.suppress(NoAnswer, OSError):
                        reset = Wire(made.port)
                        reset.request("POST", "/_fake/reset")
                        reset.close()
                    other, _, _ = check_keep_alive(made.port, creds, "1.0", token="Keep-Alive")
                    note += f"; asked as 'Connection: Keep-Alive': {'kept' if other else 'closed too'}"
                row["keep-alive, HTTP/1.0 + keep-alive"] = (ok, note)
                row["drop fault"] = check_drop(made.port)
                row["413 from headers, Expect"] = check_limit_expect(made.port)
                tries = [check_limit_sent_anyway(made.port) for _ in range(3)]
                row["413 read, body sent anyway"] = (all(ok for ok, _ in tries),
                                                     f"{sum(ok for ok, _ in tries)} of 3: " + tries[-1][1])
                row["413 chunked over limit"] = check_limit_chunked(made.port)
            finally:
                running.remove(made)
                made.stop()
            if server == "granian":
                made = GranianServer("bench_servers:granian_drop_factory", args.threads)
                running.append(made)
                try:
                    ok, note = check_drop(made.port, tries=40)
                    row["drop fault, raising iterable"] = (ok, note)
                finally:
                    running.remove(made)
                    made.stop()
            else:
                row["drop fault, raising iterable"] = (None, "not needed")
            row["--port 0 + ready line"], row["SIGTERM clean"] = check_cli(server, args.threads)
            row["in a thread of this process"] = check_in_thread(server, args.threads, creds)
            print(f"  {server} checked at {time.perf_counter() - began:.0f} s")
            sys.stdout.flush()
    finally:
        for made in reversed(running):
            with contextlib.suppress(Exception):
                made.stop()

    names = list(table["waitress"])
    print(f"\nFunctional checks ({args.threads} server threads)")
    print(f"{'check':<36} " + " ".join(f"{s:<8}" for s in SERVERS))
    for name in names:
        cells = []
        for server in SERVERS:
            ok, _ = table[server].get(name, (None, ""))
            cells.append("n/a" if ok is None else ("pass" if ok else "FAIL"))
        print(f"{name:<36} " + " ".join(f"{c:<8}" for c in cells))
    print("\nWhat each server did")
    for name in names:
        print(f"  {name}")
        for server in SERVERS:
            ok, note = table[server].get(name, (None, ""))
            print(f"    {server:<9} {'n/a ' if ok is None else ('pass' if ok else 'FAIL')}  {note}")
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


def serve_cheroot(args) -> int:
    """What `ocss-fake serve --port 0` would be on cheroot: the ready line names the bound port;
    SIGINT/SIGTERM stop the server and exit 0."""
    import logging

    from ocss_testkit.app import FakeApp

    logging.getLogger("cheroot").setLevel(logging.CRITICAL)
    server = CherootServer(FakeApp(), args.threads)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"cheroot ready at http://{HOST}:{server.port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="~1 minute: one short round")
    ap.add_argument("--check", action="store_true", help="the functional checks only, no figures")
    ap.add_argument("--threads", type=int, default=6, help="server threads, every server (FakeServer's 6)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (full 3, quick 1)")
    ap.add_argument("--requests", type=int, help="timed requests per phase and round (full 3000, quick 1500)")
    ap.add_argument("--cap", type=float, help="time cap of each phase, seconds (full 1.5, quick 1)")
    ap.add_argument("--serve-cheroot", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_cheroot:
        return serve_cheroot(args)
    if not granian_version():
        print("granian is not installed: pip install '.[bench]'", file=sys.stderr)
        return 1
    return checks(args) if args.check else bench(args)


if __name__ == "__main__":
    core.run_script(main, "servers, granian and the client process stopped",
                    handle_signals="--serve-cheroot" not in sys.argv)
