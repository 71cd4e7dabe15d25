"""How the OCSS library talks HTTP (SyncServer API Python interface, 'Installation' and
'Exceptions'): one keep-alive connection per API object, one transparent retry of an
idempotent request on a dropped keep-alive connection (re-signed, RFC 5849 §3.3 nonce),
never of a POST, and nothing but the library's own exceptions out of any broken answer.

A scripted raw HTTP server stands in for the API here, so that each request can be
answered exactly as a test needs; the in-process variant drives the fake's WSGI app
through ``ocss.transport.WSGITransport``.
"""
from __future__ import annotations

import re
import select
import socket
import socketserver
import threading

import pytest

import ocss
import ocss.transport
from ocss.exceptions import ConnectionError, NotFoundError, ServerError
from ocss.transport import WSGITransport
from ocss_testkit import make_app

ATOM, OC = "http://www.w3.org/2005/Atom", "http://schemas.obexcode.com/syncserver/2009"
UUID = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"


def vendor_entry(vendor_id: str) -> bytes:
    return (f'<entry xmlns="{ATOM}"><id>http://h/v2/phones/vendors/{vendor_id}</id><title>V{vendor_id}</title>'
            f'<vendor xmlns="{OC}"><id>{vendor_id}</id><name>Vendor {vendor_id}</name></vendor></entry>').encode()


def store_entry() -> bytes:
    return (f'<entry xmlns="{ATOM}"><id>http://h/v2/services/datastore/{UUID}</id>'
            f'<client xmlns="{OC}"><uuid>{UUID}</uuid><name>Store</name></client></entry>').encode()


class Scripted(socketserver.ThreadingTCPServer):
    """Answers the n-th request as ``script[n]`` says; records every request it read.

    ok: 200 with an entry, kept alive; close-after: the same, then closes the connection
    (no ``Connection: close`` header: a keep-alive the server ends while idle); drop: closes
    without answering; garbage-status: a line that is not HTTP; html: a 200 HTML page;
    doctype: a 200 with an entity-declaring DOCTYPE; silent: never answers.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.connections = 0
        self.closed = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_action(self, method: str, path: str, headers: dict[str, str]) -> str:
        with self.lock:
            self.requests.append((method, path, headers))
            return self.script.pop(0) if self.script else "drop"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: Scripted = self.server  # type: ignore[assignment]
        with server.lock:
            server.connections += 1
        while True:
            line = self.rfile.readline()
            if not line.strip():
                return
            method, path, _ = line.decode("latin-1").split(" ", 2)
            headers = {}
            while (header := self.rfile.readline().decode("latin-1")).strip():
                name, _, value = header.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.rfile.read(int(headers.get("content-length", "0")))
            if not self._answer(server.next_action(method, path, headers), method, path):
                return

    def _answer(self, action: str, method: str, path: str) -> bool:
        server: Scripted = self.server  # type: ignore[assignment]
        if action == "drop":
            return False
        if action == "silent":
            server.release.wait(10)
            return False
        if action == "garbage-status":
            self.wfile.write(b"\x00\x01 not http at all\r\n\r\n")
            return False
        status, body = "200 OK", vendor_entry(path.rstrip("/").rsplit("/", 1)[-1])
        if method == "POST":
            status, body = "201 Created", store_entry()
        elif action == "html":
            body = b"<html><body>Welcome to the hotel network</body></html>"
        elif action == "doctype":
            body = (b'<?xml version="1.0"?><!DOCTYPE entry [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    b'<entry xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></entry>')
        self.wfile.write(f"HTTP/1.1 {status}\r\nContent-Type: application/atom+xml\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.wfile.flush()
        if action == "close-after":
            self.connection.shutdown(socket.SHUT_RDWR)
            server.closed.set()
            return False
        return True


@pytest.fixture
def scripted():
    made: list[Scripted] = []
    apis: list[ocss.SyncServerAPI] = []

    def start(*script: str, timeout: float = 5) -> tuple[Scripted, ocss.SyncServerAPI]:
        server = Scripted(list(script))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        made.append(server)
        auth = ocss.SyncServerAuth("ck", "cs", "tk", "ts")
        apis.append(ocss.SyncServerAPI(auth, base_url=server.url, timeout=timeout))
        return server, apis[-1]
    yield start
    for api in apis:
        api.close()
    for server in made:
        server.release.set()
        server.shutdown()
        server.server_close()


def nonce(headers: dict[str, str]) -> str:
    return re.search(r'oauth_nonce="([^"]+)"', headers["authorization"]).group(1)


def test_one_keep_alive_connection_serves_every_request_signed_with_hmac_sha1(scripted):
    server, api = scripted("ok", "ok", "ok")
    assert [api.phones.vendors[str(i)].name for i in (1, 2)] == ["Vendor 1", "Vendor 2"]
    assert api.clients.datastore.new(name="Store").id == UUID
    assert server.connections == 1 and len(server.requests) == 3
    for _, _, headers in server.requests:
        assert headers["authorization"].startswith("OAuth ")
        assert 'oauth_signature_method="HMAC-SHA1"' in headers["authorization"]
        assert 'oauth_token="tk"' in headers["authorization"]
        assert headers["accept"] == "application/atom+xml"
    assert server.requests[2][2]["content-type"] == "application/atom+xml"
    assert len({nonce(h) for _, _, h in server.requests}) == 3


def test_a_get_on_a_dropped_keep_alive_connection_is_resent_once_with_a_new_nonce(scripted):
    server, api = scripted("ok", "drop", "ok")
    api.phones.vendors["1"].name
    assert api.phones.vendors["2"].name == "Vendor 2"
    assert [path for _, path, _ in server.requests] == ["/v2/phones/vendors/1/"] + ["/v2/phones/vendors/2/"] * 2
    assert nonce(server.requests[1][2]) != nonce(server.requests[2][2])
    assert server.connections == 2


def test_a_post_on_a_dropped_keep_alive_connection_is_not_resent(scripted):
    server, api = scripted("ok", "drop", "ok")
    api.phones.vendors["1"].name
    with pytest.raises(ConnectionError) as raised:
        api.clients.datastore.new(name="Store")
    assert raised.value.status is None and raised.value.body is None
    assert [m for m, _, _ in server.requests] == ["GET", "POST"]
    assert api.phones.vendors["3"].name == "Vendor 3"  # the API object reconnects


def test_a_drop_on_a_fresh_connection_is_not_a_dropped_keep_alive(scripted):
    server, api = scripted("drop", "ok")
    with pytest.raises(ConnectionError):
        api.phones.vendors["1"].name
    assert len(server.requests) == 1


def test_a_keep_alive_the_server_closed_while_idle_is_replaced_before_a_post(scripted):
    server, api = scripted("close-after", "ok")
    api.phones.vendors["1"].name
    assert server.closed.wait(5)
    sock = api._transport._conn.sock  # the idle connection: wait until its end has arrived
    assert select.select([sock], [], [], 5)[0]
    assert api.clients.datastore.new(name="Store").id == UUID
    assert [m for m, _, _ in server.requests] == ["GET", "POST"] and server.connections == 2


def test_an_answer_later_than_the_timeout_is_a_connection_error_not_retried(scripted):
    server, api = scripted("ok", "silent", timeout=0.3)
    api.phones.vendors["1"].name
    with pytest.raises(ConnectionError, match="no answer within 0.3 s"):
        api.phones.vendors["2"].name
    assert len(server.requests) == 2


@pytest.mark.parametrize(("action", "error"), [("garbage-status", ConnectionError), ("html", ServerError),
                                                ("doctype", ServerError)])
def test_an_answer_that_is_not_atom_is_the_librarys_own_error(scripted, action, error):
    server, api = scripted(action)
    with pytest.raises(error) as raised:
        api.phones.vendors["1"].name
    if error is ServerError:
        assert raised.value.status == 200 and raised.value.body
        assert b"root:" not in raised.value.body


def test_an_oversized_answer_is_refused(scripted, monkeypatch):
    monkeypatch.setattr(ocss.transport, "MAX_RESPONSE_BYTES", 64)
    server, api = scripted("ok")
    with pytest.raises(ConnectionError, match="larger than 64 bytes"):
        api.phones.vendors["1"].name


def test_no_server_at_all_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = ocss.SyncServerAPI(base_url=f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ConnectionError):
        len(api.phones.vendors)
    api.close()


# --- in-process: the fake's WSGI app, no sockets ----------------------------------------------------
def test_the_library_runs_in_process_through_a_wsgi_transport():
    app = make_app()
    auth = ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret", "alice-access-token",
                               "alice-access-secret")
    api = ocss.SyncServerAPI(auth, base_url="http://localhost", transport=WSGITransport(app))
    assert [(v.name, len(v.models)) for v in api.phones.vendors][:4] == [("HTC", 26), ("Nokia", 188), ("LG", 5),
                                                                         ("Sony Ericsson", 84)]
    store = api.clients.datastore.new(name="In process")
    store.contents.new("hello", "text/plain", dataclass="notes")
    assert [c.data for c in store.contents(since="2000-01-01T00:00:00Z", dataclass="notes")] == ["hello"]
    with pytest.raises(NotFoundError):
        api.clients.datastore["00000000-0000-0000-0000-000000000000"]
    journal = [e for e in app.journal.entries() if e.path.startswith("/v2/services")]
    assert journal and all(e.auth == "ok" for e in journal)


def test_an_application_that_fails_is_a_connection_error():
    def broken(environ, start_response):
        raise RuntimeError("boom")
    api = ocss.SyncServerAPI(base_url="http://localhost", transport=WSGITransport(broken))
    with pytest.raises(ConnectionError, match="RuntimeError"):
        len(api.phones.vendors)


def test_a_feed_the_library_cannot_use_is_a_server_error_with_the_status_received():
    """Well-formed Atom that names no resource is as unreadable as garbage: a ServerError
    carrying the answer's status, reason and body as received (here a 200)."""
    feed = f'<feed xmlns="{ATOM}"><entry><title>a vendor without an id</title></entry></feed>'.encode()

    def answer(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/atom+xml")])
        return [feed]
    api = ocss.SyncServerAPI(base_url="http://localhost", transport=WSGITransport(answer))
    with pytest.raises(ServerError) as raised:
        len(api.phones.vendors)
    assert (raised.value.status, raised.value.reason, raised.value.body) == (200, "OK", feed)
    assert "without an id" in raised.value.message


def test_a_request_http_client_cannot_build_is_a_value_error_and_opens_no_connection(scripted):
    server, _ = scripted("ok")
    transport = ocss.transport.HTTPTransport(server.url, timeout=5)
    try:
        with pytest.raises(ValueError, match="nothing was sent"):
            transport.request("GET", "/v2/phones/vendors/1/", {"X-Note": "a\r\nInjected: yes"}, None,
                              lambda method, url, headers: headers)
        assert server.connections == 0 and server.requests == []
        answer = transport.request("GET", "/v2/phones/vendors/1/", {}, None, lambda method, url, headers: headers)
        assert answer.status == 200  # the transport is still usable
    finally:
        transport.close()
