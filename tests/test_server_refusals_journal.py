"""Refusals the HTTP server makes from a request's head, before the app reads it (a body
over the limit, faulty framing, an oversized head, a target that is not a URI), are
recorded as the app's own refusals are: in the journal with the sentence the client
read, problem `invalid` and the request id of the answer's X-Request-Id, and in the
request log. Raw sockets: an HTTP client would not send most of these requests."""
from __future__ import annotations

import http.client
import json
import logging
import socket

import pytest

from ocss_testkit import request_log
from ocss_testkit.journal import MAX_TEXT
from ocss_testkit.server import FakeServer
from ocss_testkit.tenants import TenantsApp

MAX_BODY = 1000


def exchange(server: FakeServer, data: bytes) -> tuple[int, str, dict, str]:
    """Send `data` on a fresh connection and read the answer to its end (the server closes
    the connection after a refusal): (status, reason, headers by lower-case name, body)."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    _, code, reason = status_line.split(" ", 2)
    headers = {name.lower(): value.strip() for name, _, value in (f.partition(":") for f in fields)}
    return int(code), reason, headers, body.decode("utf-8")


def journal(server: FakeServer, prefix: str = "") -> list[dict]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request("GET", prefix + "/_fake/journal")
        reply = conn.getresponse()
        assert reply.status == 200
        return json.loads(reply.read())["entries"]
    finally:
        conn.close()


@pytest.fixture
def server():
    with FakeServer(port=0, max_body=MAX_BODY) as fake:
        yield fake


def chunked(size: int) -> bytes:
    return f"{size:x}\r\n".encode() + b"a" * size + b"\r\n"


HEAD = b"Host: fake\r\n"
# (request, status, reason, method, path, query, a part of the sentence)
REFUSALS = {
    "413 from Content-Length": (
        b"POST /v2/services/syncml/?x=1 HTTP/1.1\r\n" + HEAD + b"Content-Length: 5000\r\n\r\n",
        413, "Request Entity Too Large", "POST", "/v2/services/syncml/", "x=1",
        f"body of 5000 bytes; the limit is {MAX_BODY} bytes"),
    "chunked body over the limit": (
        b"POST /v2/services/syncml/ HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
        + chunked(600) + chunked(600) + b"0\r\n\r\n",
        413, "Request Entity Too Large", "POST", "/v2/services/syncml/", "",
        f"body of more than {MAX_BODY} bytes"),
    "bad Transfer-Encoding": (
        b"PUT /v2/services/google/ HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
        501, "Not Implemented", "PUT", "/v2/services/google/", "",
        "transfer coding 'gzip' is not supported"),
    "Transfer-Encoding not last": (
        b"POST /v2/services/syncml/ HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: chunked, gzip\r\n\r\n",
        400, "Bad Request", "POST", "/v2/services/syncml/", "",
        "chunked is not the final transfer coding"),
    "duplicated Content-Length": (
        b"POST /v2/services/syncml/ HTTP/1.1\r\n" + HEAD + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400, "Bad Request", "POST", "/v2/services/syncml/", "",
        "Content-Length given more than once ('3, 4')"),
    "Bad URI": (
        b"GET /v2/services/caf\xc3\xa9/?q=%41 HTTP/1.1\r\n" + HEAD + b"\r\n",
        400, "Bad Request", "GET", "/v2/services/café/", "q=%41",
        "malformed request head: Bad URI"),
    "malformed chunked body": (
        b"POST /v2/services/syncml/ HTTP/1.1\r\n" + HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        400, "Bad Request", "POST", "/v2/services/syncml/", "",
        "malformed chunked body"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_server_refusal_is_journaled_with_its_sentence_and_request_id(server, name):
    data, status, reason, method, path, query, sentence = REFUSALS[name]
    got_status, got_reason, headers, body = exchange(server, data)
    assert (got_status, got_reason) == (status, reason)
    request_id = headers["x-request-id"]
    (entry,) = journal(server)
    assert entry["request_id"] == request_id
    assert (entry["method"], entry["path"], entry["query"]) == (method, path, query)
    assert (entry["status"], entry["reason"], entry["problem"]) == (status, reason, "invalid")
    assert sentence in entry["detail"]
    assert body == f"{status} {reason}: {entry['detail']}\n"  # the very sentence the client read
    assert entry["route"] is None and entry["user"] is None


def test_request_ids_of_refusals_and_answers_are_one_sequence(server):
    """A refusal takes the app's next request id: no id is given twice."""
    ids = [exchange(server, REFUSALS["Bad URI"][0])[2]["x-request-id"] for _ in range(2)]
    ids.append(exchange(server, b"GET /v2/services/syncml/ HTTP/1.1\r\n" + HEAD + b"Connection: close\r\n\r\n")
               [2]["x-request-id"])
    assert len(set(ids)) == 3
    assert [e["request_id"] for e in journal(server)] == ids


def test_an_oversized_head_is_journaled_with_its_real_request_line_cut_as_the_journal_cuts(server):
    long = "a" * 300_000  # over waitress's 262,144 bytes of request line and headers
    status, reason, headers, body = exchange(server, f"GET /v2/{long}?q=1 HTTP/1.1\r\n".encode() + HEAD + b"\r\n")
    assert status == 431
    (entry,) = journal(server)
    assert entry["request_id"] == headers["x-request-id"]
    assert entry["problem"] == "invalid" and entry["status"] == 431
    assert body == f"431 {reason}: {entry['detail']}\n"
    assert entry["method"] == "GET"
    assert entry["path"].startswith("/v2/aaa") and entry["path"][MAX_TEXT:].startswith("…(+")
    assert len(entry["path"]) < MAX_TEXT + 16


def test_a_refusal_under_the_control_plane_is_logged_but_not_journaled(server, caplog):
    """As for the app's own refusals: the journal records the API traffic only."""
    with caplog.at_level(logging.INFO, logger=request_log.LOGGER_NAME):
        status, _, headers, _ = exchange(
            server, b"PUT /_fake/state HTTP/1.1\r\n" + HEAD + b"Content-Length: 99999\r\n\r\n")
    assert status == 413
    assert journal(server) == []
    lines = [r.args for r in caplog.records if r.name == request_log.LOGGER_NAME]
    assert [(f["path"], f["status"], f["request_id"]) for f in lines if f["status"] == 413] == [
        ("/_fake/state", 413, headers["x-request-id"])]


def test_a_refusal_gets_its_request_log_line(server, caplog):
    with caplog.at_level(logging.INFO, logger=request_log.LOGGER_NAME):
        _, _, headers, _ = exchange(server, REFUSALS["413 from Content-Length"][0])
    lines = [r.args for r in caplog.records if r.name == request_log.LOGGER_NAME and r.args["status"] == 413]
    assert len(lines) == 1
    line = lines[0]
    assert (line["method"], line["path"], line["reason"], line["user"], line["request_id"]) == (
        "POST", "/v2/services/syncml/", "Request Entity Too Large", None, headers["x-request-id"])


def test_with_tenants_a_refusal_goes_to_its_existing_tenant_else_to_the_default_and_creates_none(caplog):
    tenants = TenantsApp(max_body=MAX_BODY)
    tenants.put("ci")
    with FakeServer(tenants, port=0) as server, \
            caplog.at_level(logging.INFO, logger=request_log.LOGGER_NAME):
        too_large = b" HTTP/1.1\r\n" + HEAD + b"Content-Length: 5000\r\n\r\n"
        _, _, in_tenant, _ = exchange(server, b"POST /t/ci/v2/services/syncml/?x=1" + too_large)
        _, _, unknown, _ = exchange(server, b"POST /t/nobody/v2/services/syncml/" + too_large)
        _, _, bad_name, _ = exchange(server, b"POST /t/no%20name/v2/" + too_large)
        (entry,) = journal(server, "/t/ci")
        assert (entry["path"], entry["query"], entry["request_id"]) == (
            "/v2/services/syncml/", "x=1", in_tenant["x-request-id"])
        assert entry["problem"] == "invalid" and entry["status"] == 413
        default = journal(server)
        assert [(e["path"], e["request_id"]) for e in default] == [
            ("/t/nobody/v2/services/syncml/", unknown["x-request-id"]),
            ("/t/no name/v2/", bad_name["x-request-id"])]
        assert tenants.names() == ["ci"]
    logged = [(r.args["path"], r.args["request_id"]) for r in caplog.records
              if r.name == request_log.LOGGER_NAME and r.args["status"] == 413]
    assert logged == [("/t/ci/v2/services/syncml/", in_tenant["x-request-id"]),
                      ("/t/nobody/v2/services/syncml/", unknown["x-request-id"]),
                      ("/t/no%20name/v2/", bad_name["x-request-id"])]
