"""The Host header, over raw sockets (issue 10, item 3).

Every absolute URL the fake answers with comes from Host, and werkzeug's IDNA step raised
on a 64-character label: a 500 on every route, /_fake/health included. RFC 7230 §5.4: an
HTTP/1.1 request without Host, with several, or with an invalid one gets a 400; the fake
says why in a sentence, before routing, faults or state are touched, with or without
`--base-url`.
"""
from __future__ import annotations

import json
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from ocss_testkit.app import FakeApp
from ocss_testkit.http_rules import host_problem
from ocss_testkit.server import FakeServer


@pytest.fixture(scope="module")
def server():
    fake = FakeServer(host="127.0.0.1", port=0).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    server.app.reset()
    return server


@pytest.fixture(scope="module")
def public():
    """A fake behind a proxy: its URLs come from --base-url, not from Host."""
    fake = FakeServer(FakeApp(base_url="http://sync.example.com/"), host="127.0.0.1", port=0).start()
    yield fake
    fake.stop()


def raw(fake, request: bytes) -> tuple[str, dict, bytes]:
    """One request on a fresh connection; (status line, headers, body)."""
    with socket.create_connection(("127.0.0.1", fake.port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return lines[0], headers, body


def get(fake, path: str, host: bytes | None, method: str = "GET", body: bytes = b"",
        version: str = "HTTP/1.1", extra: bytes = b"") -> tuple[str, dict, bytes]:
    lines = f"{method} {path} {version}\r\n".encode()
    if host is not None:
        lines += b"Host: " + host + b"\r\n"
    lines += extra + b"Connection: close\r\n"
    if body:
        lines += b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
    return raw(fake, lines + b"\r\n" + body)


BAD_HOSTS = {
    "64-character label": (b"h" * 64, "a label of 64 characters"),  # the report's input
    "long label in a name": (b"www." + b"h" * 64 + b".example.com", "a label of 64 characters"),
    "over 253 characters": (b".".join([b"a" * 60] * 5), "DNS names have at most 253"),
    "empty label": (b"a..b", "empty label"),
    "leading dot": (b".example.com", "empty label"),
    "only a dot": (b".", "names no host"),
    "empty": (b"", "the Host header is empty"),
    "port 99999": (b"localhost:99999", "the port '99999'"),
    "port 0": (b"localhost:0", "the port '0'"),
    "port abc": (b"localhost:abc", "the port 'abc'"),
    "empty port": (b"localhost:", "the port ''"),
    "port with a sign": (b"localhost:+80", "the port '+80'"),
    "non-ASCII": ("café.example".encode(), "is not printable ASCII"),
    "bare IPv6": (b"::1", "without brackets"),
    "unclosed IPv6": (b"[::1", "lacks its closing ']'"),
    "not IPv6": (b"[zz::1]", "is not an IPv6 address"),
    "IPv6 zone": (b"[fe80::1%25eth0]", "is not an IPv6 address"),
    "junk after IPv6": (b"[::1]x", "after its IPv6 address"),
    "user info": (b"user@localhost", "is not a host name"),
    "underscore": (b"my_host", "is not a host name"),
    "leading hyphen": (b"-a.example", "is not a host name"),
    "space": (b"a b", "is not a host name"),
    "broken punycode": (b"xn--zz.example", "not a valid xn-- (IDNA) label"),
}


@pytest.mark.parametrize("path", ["/_fake/health", "/_fake/state", "/v2/phones/vendors/", "/v2/services/google/",
                                  "/d/unknown-code", "/no/such/route"])
@pytest.mark.parametrize("case", sorted(BAD_HOSTS))
def test_an_invalid_host_is_400_with_a_sentence_on_every_route(fake, case, path):
    host, needle = BAD_HOSTS[case]
    status, headers, body = get(fake, path, host)
    text = body.decode("utf-8")
    assert status == "HTTP/1.1 400 Bad Request", (status, text)
    assert text.startswith("400 Bad Request: ") and needle in text and "Host" in text, text
    assert headers["content-type"].startswith("text/plain") and "x-request-id" in headers


def test_several_host_headers_are_400(fake):
    status, _, body = get(fake, "/_fake/health", b"localhost", extra=b"Host: example.com\r\n")
    assert status == "HTTP/1.1 400 Bad Request" and b"several Host headers" in body, body


def test_http_1_1_without_host_is_400_and_http_1_0_without_host_is_served(fake):
    status, _, body = get(fake, "/_fake/health", None)
    assert status == "HTTP/1.1 400 Bad Request" and b"needs a Host header" in body, body
    status, _, body = get(fake, "/v2/phones/vendors/", None, version="HTTP/1.0")
    # the server's own name stands in (waitress says "waitress.invalid": RFC 2606, no name known)
    assert status.endswith("200 OK") and f":{fake.port}/v2/phones/vendors/".encode() in body


def test_a_refused_host_changes_no_state_and_spends_no_fault(fake):
    fake.app.faults.add({"action": "status", "status": 503, "path": "/v2/phones/*", "times": 1})
    before = fake.app.world.to_dict()
    status, _, _ = get(fake, "/_fake/faults", b"h" * 64, method="POST", body=b'{"action": "drop"}')
    assert status == "HTTP/1.1 400 Bad Request"
    status, _, _ = get(fake, "/_fake/reset", b"h" * 64, method="POST")
    assert status == "HTTP/1.1 400 Bad Request"
    status, _, _ = get(fake, "/v2/phones/vendors/", b"h" * 64)
    assert status == "HTTP/1.1 400 Bad Request"
    assert [f.as_dict()["remaining"] for f in fake.app.faults.rules()] == [1]  # neither added nor spent
    assert fake.app.world.to_dict() == before
    (entry,) = [e for e in fake.app.journal.entries() if e.path == "/v2/phones/vendors/"]
    assert entry.status == 400  # journaled like any refusal


@pytest.mark.parametrize("host", [b"localhost", b"LocalHost.", b"127.0.0.1", b"[::1]", b"[::ffff:127.0.0.1]",
                                  b"h" * 63, b".".join([b"a" * 63] * 3) + b".abc", b"xn--caf-dma.example",
                                  b"sync-1.example.com:8080", b"localhost:65535"])
def test_a_valid_host_is_served_and_its_urls_are_the_host_as_sent(fake, host):
    status, _, body = get(fake, "/v2/phones/vendors/", host)
    assert status == "HTTP/1.1 200 OK", body[:300]
    assert b'href="http://' + host + b'/v2/phones/vendors/' in body  # ASCII, as sent: no IDNA decoding
    status, _, body = get(fake, "/_fake/health", host)
    assert status == "HTTP/1.1 200 OK" and json.loads(body)["status"] == "ok"


def test_with_base_url_an_invalid_host_is_still_400(public):
    status, _, body = get(public, "/v2/phones/vendors/", b"h" * 64)
    assert status == "HTTP/1.1 400 Bad Request" and b"a label of 64 characters" in body
    status, _, body = get(public, "/_fake/health", b"localhost:99999")
    assert status == "HTTP/1.1 400 Bad Request" and b"the port '99999'" in body


def test_with_base_url_urls_come_from_it_whatever_the_valid_host(public):
    status, _, body = get(public, "/v2/phones/vendors/", b"internal-name:8080")
    assert status == "HTTP/1.1 200 OK"
    assert b'href="http://sync.example.com/v2/phones/vendors/' in body and b"internal-name" not in body


# --- any Host: a 400 exactly when host_problem says so, never a 5xx (in-process) ---------------------
HOST_CHARS = st.sampled_from(list("abcxyz019-.:[]_@% ") + ["é", "\x7f", "h" * 63, "h" * 64, "xn--", "::1"])


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOST_CHARS, max_size=12).map("".join))
def test_any_host_is_served_or_refused_with_400_never_a_500(host):
    app = _shared_app()
    environ = EnvironBuilder("/v2/phones/vendors/", headers={"Host": host}).get_environ()
    problem = host_problem(environ)
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    if problem is None:
        assert seen["status"] == "200 OK", (host, body[:300])
    else:
        assert seen["status"] == "400 Bad Request" and problem.encode() in body, (host, body[:300])


_APP: list[FakeApp] = []


def _shared_app() -> FakeApp:
    if not _APP:
        _APP.append(FakeApp())
    return _APP[0]
