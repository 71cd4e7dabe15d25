"""The fake on a real HTTP port: waitress (keep-alive, threaded) in a background thread.

Used by the CLI, the pytest plugin and the tests alike; `stop()` always closes the port.

waitress parses the wire; the subclasses below make the answers it gives on its own
deliberate ones, each `<status> <reason>: <sentence>` in text/plain like the app's:

- framing (RFC 9112 §6): a request whose body length is ambiguous or malformed is
  refused with 400 and its connection closed; a transfer coding other than chunked
  (applied before a final chunked) is 501, as RFC 9112 §6.1 says;
- size: a body over the app's `max_body` is refused with 413 as soon as that is known:
  from the headers when they carry a Content-Length (no `100 Continue`, no byte of the
  body read), else the moment a chunked body passes the limit;
- connections: an answer without content (204, an empty 200, any HEAD) keeps the
  connection open like any other, and a connection that ends after an answer is closed
  gracefully, so a client still sending a refused body reads the refusal, not a reset;
- records: each such refusal carries an `X-Request-Id` and is journaled and logged by the
  app it was meant for, as the app's own refusals are (`_ErrorTask`), so the journal,
  the dashboard and the pytest plugin show the sentence the client read.
"""
from __future__ import annotations

import http.client
import logging
import re
import socket
import threading
import time
from urllib.parse import unquote_to_bytes

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, crack_first_line, get_header_lines
from waitress.rfc7230 import HEADER_FIELD_RE
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error, RequestHeaderFieldsTooLarge

from ocss_testkit.app import DEFAULT_MAX_BODY, FakeApp
from ocss_testkit.tenants import PREFIX, TenantsApp

log = logging.getLogger("ocss_testkit")
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

# A chunked body may spend this much on framing (chunk sizes, extensions, trailers) on
# top of its content before it is refused: waitress bounds none of them by itself.
CHUNK_FRAMING_ALLOWANCE = 64 * 1024
# How long a connection closed after an answer keeps reading (and discarding) what the
# client still sends, so that its unread bytes do not turn the close into a reset that
# destroys the answer before the client reads it (RFC 9112 §9.6): until the client ends
# the connection, it is silent this long, or this much time passed in all (nginx's
# lingering_timeout and lingering_time).
LINGER_IDLE_SECONDS = 5.0
LINGER_SECONDS = 30.0

_DIGITS = re.compile(r"[0-9]+")


class _Refusal(Error):
    """An answer decided before the app runs; the connection is always closed after it
    (waitress's ErrorTask), as RFC 9112 §6.3 requires for every framing error."""

    def __init__(self, code: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.reason = code, reason

    def to_response(self, ident=None):
        body = f"{self.code} {self.reason}: {self.body}\n".encode()
        return f"{self.code} {self.reason}", [("Content-Type", "text/plain; charset=utf-8")], body


def _shown(value: str, limit: int = 40) -> str:
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"… ({len(value)} characters)"


def _too_large(size: str, max_body: int) -> _Refusal:
    return _Refusal(413, "Request Entity Too Large", f"body of {size} bytes; the limit is {max_body} bytes")


def _framing(header_plus: bytes, max_body: int) -> tuple[_Refusal | None, str]:
    """Judge how the request head frames its body: (a refusal or None, HTTP version).

    Raises waitress's ParsingError for a head it cannot read at all."""
    end = header_plus.find(b"\r\n")
    if end < 0:
        return None, "1.0"  # waitress refuses a head without a line end itself
    method, _, version = crack_first_line(header_plus[:end].rstrip())
    version = version.decode("latin-1")
    if not method:
        return None, "1.0"  # likewise an unreadable request line
    codings_fields, lengths = [], []
    for line in get_header_lines(header_plus[end + 2:]):
        match = HEADER_FIELD_RE.match(line)
        if match is None:
            return None, version  # waitress refuses the malformed field itself
        name = match.group("name").lower()
        value = match.group("value").strip(b" \t").decode("latin-1")
        if name == b"transfer-encoding":
            codings_fields.append(value)
        elif name == b"content-length":
            lengths.append(value)
    if codings_fields:
        return _transfer_codings(", ".join(codings_fields), version, bool(lengths)), version
    if not lengths:
        return None, version
    if len(lengths) > 1 or "," in lengths[0]:
        return _Refusal(400, "Bad Request",
                        f"Content-Length given more than once ({_shown(', '.join(lengths))}); send it once "
                        "(RFC 9110 §8.6)"), version
    value = lengths[0]
    if not _DIGITS.fullmatch(value):
        return _Refusal(400, "Bad Request",
                        f"Content-Length {_shown(value)} is not a number of bytes (RFC 9110 §8.6)"), version
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(max_body)) or int(digits) > max_body:  # no int() of 5,000 digits
        return _too_large(digits if len(digits) <= 40 else f"{digits[:20]}… ({len(digits)} digits)",
                          max_body), version
    return None, version


def _transfer_codings(field: str, version: str, with_length: bool) -> _Refusal | None:
    if version != "1.1":
        return _Refusal(400, "Bad Request",
                        f"Transfer-Encoding in an HTTP/{version or '0.9'} request: the coding is HTTP/1.1's, so "
                        "the body's framing is faulty (RFC 9112 §6.1)")
    if with_length:
        return _Refusal(400, "Bad Request",
                        "both Content-Length and Transfer-Encoding: the body's length is ambiguous; send one "
                        "(RFC 9112 §6.3)")
    codings = [c.strip(" \t").lower() for c in field.split(",") if c.strip(" \t")]
    if not codings:
        return _Refusal(400, "Bad Request", "Transfer-Encoding names no transfer coding (RFC 9112 §6.1)")
    if codings[-1] != "chunked":
        return _Refusal(400, "Bad Request",
                        f"Transfer-Encoding {_shown(field)}: chunked is not the final transfer coding, so the "
                        "body's length cannot be determined (RFC 9112 §6.3); send chunked, or a Content-Length")
    if codings.count("chunked") > 1:
        return _Refusal(400, "Bad Request",
                        f"Transfer-Encoding {_shown(field)} applies chunked more than once (RFC 9112 §7)")
    unknown = ", ".join(c for c in codings if c != "chunked")
    if not unknown:
        return None
    return _Refusal(501, "Not Implemented",
                    f"transfer coding {_shown(unknown)} is not supported: the server decodes chunked only "
                    "(RFC 9112 §6.1); send the body with chunked alone, or with a Content-Length")


def _one_chunked(header_plus: bytes) -> bytes:
    """The head with its Transfer-Encoding fields, judged by `_framing` to hold chunked
    once and last, as one `Transfer-Encoding: chunked`: waitress refuses empty list
    elements (`chunked, `) that RFC 9110 §5.6.1 says a recipient must ignore."""
    end = header_plus.find(b"\r\n")
    if end < 0:
        return header_plus
    lines = get_header_lines(header_plus[end + 2:])
    fields = [line for line in lines if not line.lower().startswith(b"transfer-encoding:")]
    if len(fields) == len(lines):
        return header_plus
    return b"\r\n".join([header_plus[:end], *fields, b"Transfer-Encoding: chunked"])


def _request_target(head: bytes) -> tuple[str, str, str]:
    """(method, PATH_INFO, QUERY_STRING) of the request line that begins `head`, as far as
    it can be read, in their WSGI form (PEP 3333: latin-1 text of the bytes, the path
    percent-decoded): what a refused request is journaled by, whatever it held."""
    line = head.lstrip(b"\r\n").partition(b"\n")[0].strip()
    method, _, rest = line.partition(b" ")
    target = rest.strip()
    if target.rpartition(b" ")[2].upper().startswith(b"HTTP/"):
        target = target.rpartition(b" ")[0].strip()
    target = target.partition(b"#")[0]
    if not target.startswith(b"/") and b"://" in target:  # absolute form (RFC 9112 §3.2.2)
        after = target.partition(b"://")[2]
        ends = [i for i in (after.find(b"/"), after.find(b"?")) if i >= 0]
        target = after[min(ends):] if ends else b""
    path, _, query = target.partition(b"?")
    return method.decode("latin-1"), unquote_to_bytes(path).decode("latin-1"), query.decode("latin-1")


class _Parser(HTTPRequestParser):
    """waitress's request parser with the fake's framing and size rules (module doc)."""
    max_body = DEFAULT_MAX_BODY  # set per connection from the app
    request_line = b""  # the head's first line, for the record of a refusal
    refused_at = 0.0  # time.perf_counter() of the refusal

    def parse_header(self, header_plus):
        self.request_line = header_plus.partition(b"\n")[0]
        version = ""
        try:
            refusal, version = _framing(header_plus, self.max_body)
            if refusal is None:
                super().parse_header(_one_chunked(header_plus))
                if self.body_rcv is None:
                    # No content to wait for: waitress would send 100 Continue, then wait
                    # for a body that never comes (RFC 9110 §10.1.1 lets a server omit it).
                    self.expect_continue = False
                return
        except ParsingError as exc:
            refusal = _Refusal(400, "Bad Request", f"malformed request head: {exc.args[0]}")
        self._refuse(refusal, version)

    def _refuse(self, refusal: _Refusal, version: str = "") -> None:
        self.refused_at = time.perf_counter()
        if self.body_rcv is not None:
            self.body_rcv.getbuf().close()
        self.error = refusal
        self.body_rcv = None  # nothing more of this request is read
        self.chunked, self.content_length = False, 0
        self.expect_continue = False  # never `100 Continue` for a request already refused
        self.connection_close = True
        if version in ("1.0", "1.1"):
            self.version = version

    def received(self, data):
        consumed = super().received(data)
        error = self.error
        if error is None and self.chunked and self.body_rcv is not None:
            if len(self.body_rcv) > self.max_body:
                refusal = _too_large(f"more than {self.max_body}", self.max_body)
            elif self.body_bytes_received > self.max_body + CHUNK_FRAMING_ALLOWANCE:
                refusal = _Refusal(413, "Request Entity Too Large",
                                   f"chunked body framing (chunk sizes, extensions, trailers) of more than "
                                   f"{CHUNK_FRAMING_ALLOWANCE} bytes on top of its content; the body limit is "
                                   f"{self.max_body} bytes")
            else:
                return consumed
            self._refuse(refusal)
            self.completed = True
            return len(data)  # stop here: the rest is never read
        if error is not None and not isinstance(error, _Refusal):
            if isinstance(error, RequestHeaderFieldsTooLarge):
                detail = f"the request line and headers exceed {self.adj.max_request_header_size} bytes"
                # waitress parsed a stand-in head (`GET / HTTP/1.0`); the journal gets the real line
                self.request_line = (self.header_plus + data).lstrip(b"\r\n").partition(b"\n")[0]
            else:  # a malformed chunked body
                detail = f"malformed chunked body: {error.body[:1].lower()}{error.body[1:]}"
            self._refuse(_Refusal(error.code, error.reason, detail))
        return consumed


def _served(server):
    """The FakeApp or TenantsApp a waitress server serves: its `application` is waitress's
    proxy-headers wrapper around it whenever proxy headers are cleared or trusted."""
    return getattr(server, "ocss_app", server.application)


def _record_refusal(application, parser: _Parser) -> str | None:
    """Journal and log `parser`'s refusal in the app it was meant for; its request id.

    With tenants, a `/t/{tenant}/…` path goes to that tenant's journal when the tenant
    exists, as it would have had the request been read; else (no such tenant, or no
    tenant path) to the default tenant's, the journal of the server as a whole. A refused
    request never creates a tenant: it would change the server's state (and could take
    the last free tenant place) for a request that is answered without it."""
    error = parser.error
    method, path_info, query = _request_target(parser.request_line)
    app, script_name = application, ""
    if isinstance(application, TenantsApp):
        app = application.default
        if path_info == PREFIX[:-1] or path_info.startswith(PREFIX):
            name, slash, rest = path_info[len(PREFIX):].partition("/")
            tenant = application.tenant(name) if name else None  # a lookup: never creates one
            if tenant is not None:
                app, script_name, path_info = tenant, PREFIX + name, slash + rest
    if not isinstance(app, FakeApp):
        return None
    return app.record_refusal(method, path_info, query, error.code, error.reason, str(error.body),
                              parser.refused_at or time.perf_counter(), script_name)


class _ErrorTask(ErrorTask):
    """waitress's answer to a request its parser refused (`_Refusal.to_response`),
    recorded before it is sent, so that the journal holds it once the client has read it."""

    def execute(self):
        try:
            request_id = _record_refusal(_served(self.channel.server), self.request)
        except Exception:  # noqa: BLE001 - the client gets its refusal even if recording fails
            log.exception("could not record the refusal %s", self.request.error.body)
            request_id = None
        if request_id is not None:
            self.response_headers.append(("X-Request-Id", request_id))
        super().execute()


class _Task(WSGITask):
    def get_environment(self):
        environ = super().get_environment()
        environ["ocss.drop_connection"] = self._drop
        return environ

    def _drop(self) -> None:
        """A `drop` fault: close the socket with no answer, as a crashed server would."""
        sock = self.channel.socket  # None once the loop closed the channel (the client left)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.close_on_finish = True

    def build_response_header(self):
        """waitress closes every answer that has no Content-Length, even one that has no
        content to delimit (1xx, 204, 304: RFC 9112 §6.3) or is chunked in HTTP/1.1; here
        those keep the connection the client asked to keep."""
        connection = self.request.headers.get("CONNECTION", "").lower()
        keep = not self.close_on_finish and (connection != "close" if self.version == "1.1"
                                             else connection == "keep-alive")
        head = super().build_response_header()
        if not (keep and self.close_on_finish):
            return head
        if self.has_body and not (self.version == "1.1" and self.chunked_response):
            return head  # an HTTP/1.0 body without a length ends with the connection
        self.close_on_finish = False
        self.response_headers = [(name, value) for name, value in self.response_headers
                                 if not (name == "Connection" and value.lower() == "close")]
        if self.version == "1.0":
            self.response_headers.append(("Connection", "Keep-Alive"))
        lines = [f"HTTP/{self.version} {self.status}"]
        lines += ["%s: %s" % field for field in sorted(self.response_headers, key=lambda field: field[0])]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Channel(HTTPChannel):
    """waitress's channel with the fake's parser and task (above), a graceful close, and
    a main loop that does not spin while a worker is flushing its own output.

    In waitress 3 a worker writes its response itself, holding the channel's outbuf lock;
    the stock `writable()` still answers True meanwhile, so select() returns at once,
    `handle_write` fails to take the lock, and the loop spins holding the GIL the worker
    needs (benchmarks/README.md measured 173 select() calls per request). Here the
    channel is not writable while a worker holds the lock; the worker's trigger (or the
    end of its task) wakes the loop. A body too big for the socket buffer may then wait
    for the end of its task before the loop sends the rest: fine for the fake's bodies.
    """
    task_class = _Task
    error_task_class = _ErrorTask
    linger_until: float | None = None  # lingering: the answer is sent, the write side shut
    linger_deadline = 0.0

    def parser_class(self, adj) -> _Parser:  # waitress calls `self.parser_class(adj)`
        parser = _Parser(adj)
        parser.max_body = getattr(_served(self.server), "max_body", DEFAULT_MAX_BODY)
        return parser

    def writable(self):
        if self.will_close or self.close_when_flushed:
            return True
        if not self.total_outbufs_len:
            return False
        if not self.requests:
            return True
        if self.outbuf_lock.acquire(False):
            self.outbuf_lock.release()
            return True
        return False

    def readable(self):
        if self.linger_until is not None:
            if time.monotonic() < self.linger_until:
                return True
            self.will_close = True  # writable() now; handle_write closes
            return False
        return super().readable()

    def handle_write(self):
        if self.linger_until is None and self.close_when_flushed and not self.will_close and not self.requests:
            # The answer that ends this connection: send it, shut the write side, then
            # read and discard what the client still sends until it closes (or time is
            # up). Closing at once with its bytes unread would send a TCP reset, which
            # can destroy the answer before the client reads it.
            self._flush_exception(self._flush_some)
            if self.socket is None:
                # The send found the peer gone (a `drop` fault shut the socket, or the
                # client reset it) and wasyncore closed the channel already.
                return
            if self.will_close:
                self.handle_close()
            elif not self.total_outbufs_len:
                self.close_when_flushed = False
                try:
                    self.socket.shutdown(socket.SHUT_WR)
                except OSError:
                    self.handle_close()
                    return
                now = time.monotonic()
                self.linger_deadline = now + LINGER_SECONDS
                self.linger_until = now + LINGER_IDLE_SECONDS
            return
        super().handle_write()

    def handle_read(self):
        if self.linger_until is None:
            return super().handle_read()
        try:
            self.recv(64 * 1024)  # discarded; at the client's end of stream recv() closes
        except OSError:
            self.handle_close()
            return
        if self.connected:
            self.linger_until = min(time.monotonic() + LINGER_IDLE_SECONDS, self.linger_deadline)


class FakeServer:
    """`app` on a real HTTP port: a FakeApp (one world; made from `app_options` if not
    given), or a tenants.TenantsApp (`ocss-fake serve`), which is then what is served,
    as `tenants`, while `app` is its default tenant's FakeApp."""

    def __init__(self, app: FakeApp | TenantsApp | None = None, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 6, **app_options) -> None:
        if isinstance(app, TenantsApp):
            self.tenants: TenantsApp | None = app
            self.app = app.default
        else:
            self.tenants = None
            self.app = app or FakeApp(**app_options)
        self.host = host
        self._requested_port = port
        self.threads = threads
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return self._server.effective_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> FakeServer:
        # asyncore_loop_timeout is a whole number of seconds to waitress (it int()s it: 0.2
        # becomes 0 and the loop polls non-stop, a full core even when idle). Stopping does
        # not wait for it: stop() wakes the loop through its trigger. The body limit is the
        # app's, applied by _Parser with the fake's sentence (waitress's own would count a
        # chunked body's framing against it, and answer in its own words): waitress's is
        # set beyond reach.
        self._server = create_server(self.tenants or self.app, host=self.host, port=self._requested_port,
                                     threads=self.threads, asyncore_loop_timeout=1,
                                     channel_timeout=60, ident="ocss-fake",
                                     # Forwarded headers are read by the app (forwarded.py: also in-process,
                                     # with X-Forwarded-Prefix, and a 400 sentence for a malformed one); waitress
                                     # strips them unless the app trusts its proxy.
                                     clear_untrusted_proxy_headers=not getattr(self.app, "trust_forwarded", False),
                                     max_request_body_size=2 ** 62)
        self._server.channel_class = _Channel
        self._server.ocss_app = self.tenants or self.app  # `application` may be waitress's proxy wrapper
        self._thread = threading.Thread(target=self._server.run, name="ocss-fake", daemon=True)
        self._thread.start()
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout: float) -> None:
        """Poll `/_fake/health` until it answers 200; past `timeout` seconds stop the server
        and raise (the last connection error, or RuntimeError naming the last status)."""
        deadline = time.monotonic() + timeout
        while True:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=1)
            try:
                conn.request("GET", "/_fake/health")
                status = conn.getresponse().status
                if status == 200:
                    return
                problem: Exception = RuntimeError(f"GET /_fake/health answered {status}, not 200")
            except (OSError, http.client.HTTPException) as exc:
                problem = exc
            finally:
                conn.close()
            if time.monotonic() > deadline:
                self.stop()
                raise problem
            time.sleep(0.02)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        # Workers first (they finish their requests, the loop still flushing for them),
        # then the sockets, closed inside the loop's own thread: closing them from here
        # while select() waits on them fails with EBADF in the loop.
        server.task_dispatcher.shutdown(timeout=5)
        trigger = server.trigger

        def close_in_loop() -> None:
            # Everything but the trigger closes here; the trigger only leaves the map (the
            # loop ends when the map is empty) and is closed below, after the join: so the
            # wake-up write of pull_trigger can never meet a closed, or reused, descriptor.
            for fd, dispatcher in list(server._map.items()):
                if dispatcher is trigger:
                    del server._map[fd]
                else:
                    dispatcher.close()

        trigger.pull_trigger(close_in_loop)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        trigger.close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
