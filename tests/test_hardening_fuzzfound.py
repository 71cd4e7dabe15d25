"""What the fuzz test (tests/test_fuzz.py) found, each fault as the kind it is (issue 10).

1. A lone surrogate (`"\\ud800"`, which JSON's grammar allows) echoed in a refusal could not be
   encoded: every JSON body is read as I-JSON (RFC 7493 §2.1) and its strings held to what
   an answer can carry (wire.load_json), and an error answer never fails to encode, whatever
   its text (wire.ApiError.response).
2. A byte over 0x7F in the query made werkzeug raise: the path, the query and form bodies
   must be UTF-8 text (RFC 3986 §2.5), refused with 400 naming the place otherwise
   (wire.target_problem, wire.StrictFormDataParser).
3. The state accepted strings XML cannot hold, and a later Atom answer failed: one check
   over every string and member name of the document, before anything loads
   (state.text_culprit), the JSON Schema saying the same (fixtures/world.schema.json).
4. A request token created at the end of time overflowed its expiry: every time of the
   document lies within the virtual clock's range, and a token's expiry stops at the
   clock's last second (tokens.RequestToken.expires).

Each refused input leaves the state (and the fault rules) as it was.
"""
from __future__ import annotations

import copy
import io
import json
import re
import socket
from datetime import datetime, timedelta, timezone

import pytest

from ocss_testkit import request_log
from ocss_testkit.answers import ApiError, json_response
from ocss_testkit.app import FakeApp
from ocss_testkit.routes import CONTROL_ROUTES, ROUTES
from ocss_testkit.server import FakeServer
from ocss_testkit.services.oauth.state import REQUEST_TOKEN_LIFETIME, RequestToken
from ocss_testkit.strict_json import load_json
from ocss_testkit.world.clock import LATEST
from ocss_testkit.world.errors import Invalid
from ocss_testkit.world.fixtures import FixtureError, FixtureSet, schema_problem
from ocss_testkit.world.text_rules import text_problem
from ocss_testkit.world.world import World
from tests.fuzz_strategies import Answer, Wire, call_wsgi, sign
from tests.world.test_state import busy_world

NUMBER = "+4798765432"  # alice's phone in busy_world
SURROGATE = "an unpaired surrogate \\ud800, which is no character (RFC 7493 §2.1)"
NUL = "U+0000, which XML 1.0 cannot hold (§2.2, Char)"
RANGE = "expected a UTC time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the virtual clock's range"
END = "9999-12-31T23:59:59Z"
OPEN_ELSEWHERE = "a way in outside this change's files; see the report"


# --- helpers ------------------------------------------------------------------------------------
def snapshot(app: FakeApp):
    return app.world.to_dict(), [f.as_dict() for f in app.faults.rules()]


def send(app: FakeApp, method: str, target: str, body=b"", headers=(), user: str | None = None) -> Answer:
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    wire = Wire(method, target, list(headers), body)
    if user is not None:
        wire = sign(wire, user)
        assert wire is not None
    return call_wsgi(app, wire)


def refused(app: FakeApp, method: str, target: str, status: int, reason: str, detail: str, body=b"",
            headers=(), user: str | None = None) -> Answer:
    """Sends the request and asserts its exact refusal and that nothing changed."""
    before = snapshot(app)
    answer = send(app, method, target, body, headers, user)
    assert (answer.status, answer.reason) == (status, reason), answer.body[:400]
    assert answer.body.decode("utf-8") == f"{status} {reason}: {detail}\n"
    assert snapshot(app) == before, "a refused request changed the state"
    return answer


def json_refusal(what: str, pointer: str, problem: str) -> str:
    return f"the {what} at {pointer} of the JSON body holds {problem}: no answer could show it"


@pytest.fixture
def busy(app):
    """The app with a world using every part of the state (one request token waiting to be
    exchanged too), and that state's document."""
    world = busy_world(app)
    with world.lock:
        issued = world.tokens.issue_request_token("demo-consumer-key", "http://x/cb")
        world.tokens.approve_request_token(issued.token, "alice")
    return app, world.to_dict()


def leaves(value, pointer=""):
    """(JSON Pointer, value) of every scalar of a document."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from leaves(child, f"{pointer}/{i}")
    else:
        yield pointer, value


def put_at(document, pointer: str, value) -> None:
    *parents, last = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    for token in parents:
        document = document[int(token)] if isinstance(document, list) else document[token]
    if isinstance(document, list):
        document[int(last)] = value
    else:
        document[last] = value


def loader_refusal(document, phones) -> str:
    with pytest.raises(Invalid) as error:
        World.from_dict(document, phones)
    return str(error.value)


# === 1. lone surrogates in JSON bodies, and refusals that always encode ===========================
# (method, path, content type, body, the pointer and what is named there, the problem)
JSON_WAYS_IN = [
    # the fuzz test's inputs
    ("POST", "/_fake/faults", "application/json", {"bogus\ud800": 1}, "member name", "/bogus\\ud800", SURROGATE),
    ("POST", "/_fake/clock", "application/json", {"x\ud800": 1}, "member name", "/x\\ud800", SURROGATE),
    ("PUT", f"/_fake/phone/{NUMBER}/autopilot", "application/json", {"x\ud800": 1}, "member name", "/x\\ud800",
     SURROGATE),
    ("PATCH", "/_fake/state", "application/json-patch+json", [{"op": "replace", "path": "/\ud800", "value": 1}],
     "string", "/0/path", SURROGATE),
    # its siblings: a value rather than a name, every route that reads JSON, other characters
    ("PATCH", "/_fake/state", "application/json-patch+json",
     [{"op": "replace", "path": "/users/1/email", "value": "a\x00@example.com"}], "string", "/0/value", NUL),
    ("POST", "/_fake/faults", "application/json", {"action": "status", "path": "/v2/*", "body": "b\ud800"},
     "string", "/body", SURROGATE),
    ("POST", "/_fake/faults", "application/json", {"action": "status", "path": "/v2/\x00"}, "string", "/path", NUL),
    ("POST", "/_fake/clock", "application/json", {"set": "2009-11-01T12:30:00Z\ud800"}, "string", "/set", SURROGATE),
    ("POST", f"/_fake/phone/{NUMBER}/visit", "application/json", {"user_agent": "Nokia6300\x01/2.0"}, "string",
     "/user_agent", "U+0001, which XML 1.0 cannot hold (§2.2, Char)"),
    ("POST", f"/_fake/phone/{NUMBER}/visit", "application/json", {"user_agent": "Nokia\ud800"}, "string",
     "/user_agent", SURROGATE),
    ("PUT", f"/_fake/phone/{NUMBER}/autopilot", "application/json", {"visit_after": 1, "user_agent": "N\ufffe"},
     "string", "/user_agent", "U+FFFE, which XML 1.0 cannot hold (§2.2, Char)"),
    ("PUT", f"/_fake/phone/{NUMBER}/autopilot", "application/json", {"user_agent": ["\uffff"]}, "string",
     "/user_agent/0", "U+FFFF, which XML 1.0 cannot hold (§2.2, Char)"),
    ("POST", f"/_fake/phone/{NUMBER}/accept-setup", "application/json", {"\x1f": 1}, "member name", "/\\x1f",
     "U+001F, which XML 1.0 cannot hold (§2.2, Char)"),
    ("POST", f"/_fake/phone/{NUMBER}/reject-sync", "application/json", {"message": "\b"}, "string", "/message",
     "U+0008, which XML 1.0 cannot hold (§2.2, Char)"),
]


@pytest.mark.parametrize("method, path, ctype, body, what, pointer, problem", JSON_WAYS_IN,
                         ids=[f"{m} {p} {w} {ptr}" for m, p, _, _, w, ptr, _ in JSON_WAYS_IN])
def test_a_json_body_holding_what_no_answer_can_carry_is_refused_naming_where(busy, method, path, ctype, body,
                                                                               what, pointer, problem):
    app, _ = busy
    refused(app, method, path.replace("+", "%2B"), 400, "Bad Request", json_refusal(what, pointer, problem),
            json.dumps(body).encode(), [("Content-Type", ctype)])


@pytest.mark.parametrize("raw", [
    b'{"user_agent": "\xed\xa0\x80"}',  # the UTF-8 form of a surrogate: Python's JSON reader takes it
    '{"user_agent": "\ud800"}'.encode("utf-16-le", "surrogatepass"),  # JSON may come as UTF-16 (RFC 8259 §8.1)
    '\ufeff{"user_agent": "\ud800"}'.encode("utf-16-be", "surrogatepass"),
], ids=["utf-8-encoded-surrogate", "utf-16-le", "utf-16-be-bom"])
def test_a_surrogate_that_arrives_as_bytes_is_refused_too(busy, raw):
    app, _ = busy
    refused(app, "POST", "/_fake/phone/%2B4798765432/visit", 400, "Bad Request",
            json_refusal("string", "/user_agent", SURROGATE), raw, [("Content-Type", "application/json")])


def test_text_json_allows_is_still_taken(busy):
    """Tab, line feed, carriage return, DEL, C1 controls, private use, U+FFFD and characters
    past the BMP (a surrogate pair in the escape form) are characters XML holds."""
    text = "Nokia\t\n\r\x7f\x85\ue000\ufffd\U0010ffff" + json.loads('"\\ud83d\\ude00"')
    assert load_json(json.dumps({"user_agent": text})) == {"user_agent": text}
    app, _ = busy
    with app.world.lock:
        app.world.detection.detect_manual(app.world.users["alice"], NUMBER, "http://x/d/{code}")
    answer = send(app, "POST", "/_fake/phone/%2B4798765432/visit", {"user_agent": text},
                  [("Content-Type", "application/json")])
    assert answer.status == 200, answer.body
    assert any(d.user_agent == text for d in app.world.detection.detections.values())


def test_out_of_range_numbers_are_still_named_first():
    with pytest.raises(ApiError) as error:
        load_json('{"a": 1e999, "b": "\\ud800"}')
    assert error.value.detail.startswith("the number 1e999 at /a is out of range")


def test_load_json_leaves_text_to_a_caller_that_checks_it():
    assert load_json('{"\\ud800": "\\u0000"}', text_checked=True) == {"\ud800": "\x00"}


# The fuzz test expects 422 here: the state document's own loader names the path (kind 3, which
# counts lone surrogates among what the state refuses). The JSON reader refuses first (400)
# until PUT /_fake/state reads its body with load_json(..., text_checked=True) (control/handlers.py).
@pytest.mark.parametrize("change, detail", [
    (lambda d: d.__setitem__("\ud800", 1),
     f"state /\\ud800: the member name holds {SURROGATE}: no answer could show it"),
    (lambda d: d["bindings"][0].__setitem__("source", "\ud800"),
     f"state /bindings/0/source: the string holds {SURROGATE}: no answer could show it"),
], ids=["member-name", "binding-source"])
def test_a_state_holding_a_lone_surrogate_is_422_naming_the_path(busy, change, detail):
    app, document = busy
    document = copy.deepcopy(document)
    change(document)
    refused(app, "PUT", "/_fake/state", 422, "Unprocessable Entity", detail, json.dumps(document).encode(),
            [("Content-Type", "application/json")])


def test_an_error_answer_encodes_whatever_its_text():
    error = ApiError(503, "Busy\r\nX-Evil: 1 \u65e5\ud800", "a \ud800 b\x00",
                     headers={"Allow": "GET\r\nX-Evil: 1", "X-Note": "caf\xe9 \ud800"})
    response = error.response("r1")
    assert response.get_data() == "503 Busy\r\nX-Evil: 1 \u65e5\\ud800: a \\ud800 b\x00\n".encode()
    assert response.status == "503 Busy\\r\\nX-Evil: 1 \\u65e5\\ud800"
    assert response.headers["Allow"] == "GET\\r\\nX-Evil: 1"
    assert response.headers["X-Note"] == "caf\xe9 \\ud800"  # Latin-1 stays: a header may carry it
    assert response.headers["X-Request-Id"] == "r1"


def test_a_fault_rule_added_from_python_cannot_break_its_answer(app):
    """Rules added from Python skip the JSON reader: their reason and body come back escaped,
    in-process and over HTTP, and the journal keeps what was sent."""
    app.faults.add({"action": "status", "status": 503, "method": "GET", "path": "/v2/services/syncml/",
                    "reason": "Busy\r\nX-Evil: 1\ud800", "body": "down \ud800\x00", "times": 2})
    answer = send(app, "GET", "/v2/services/syncml/")
    assert (answer.status, answer.reason) == (503, "Busy\\r\\nX-Evil: 1\\ud800")
    assert answer.body == b"503 Busy\r\nX-Evil: 1\\ud800: down \\ud800\x00\n"  # a body may hold CR LF
    server = FakeServer(app=app, host="127.0.0.1", port=0, threads=1).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            sock.sendall(b"GET /v2/services/syncml/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
    finally:
        server.stop()
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 503 Busy\\r\\nX-Evil: 1\\ud800"
    assert b"X-Evil" not in head.split(b"\r\n", 1)[1]
    assert body == b"503 Busy\r\nX-Evil: 1\\ud800: down \\ud800\x00\n"
    journal = json.loads(send(app, "GET", "/_fake/journal").body)
    assert [e["status"] for e in journal["entries"]] == [503, 503]


def test_json_answers_encode_whatever_the_text():
    """The journal, the state and the dashboard's data answer with json_response: ASCII
    JSON, escapes for the rest, never an encoding error."""
    data = {"detail": "a\ud800\x00\u65e5", "\udfff": ["\ufffe"]}
    body = json_response(data).get_data()
    assert body.isascii() and json.loads(body) == data


def test_the_journal_answers_whatever_an_entry_holds(app):
    entry = app.journal.start("r1", "GET", "/x\ud800", "q=\udfff")
    entry.detail = "why \ud800"
    app.journal.record(entry, 400, "Bad \ud800", 0.0)
    answer = send(app, "GET", "/_fake/journal")
    assert answer.status == 200
    (shown,) = json.loads(answer.body)["entries"]
    assert shown["path"].startswith("/x") and shown["status"] == 400


@pytest.mark.parametrize("fmt", request_log.FORMATS)
def test_a_request_log_line_encodes_whatever_the_text(fmt):
    """Written to a strict UTF-8 stream (a file), a line with lone surrogates and control
    characters in every field is one line, and no logging error."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    handler = request_log.configure(fmt, stream=stream)
    errors = []
    handler.handleError = lambda record: errors.append(record)  # logging would print and carry on
    try:
        request_log.log_request("r1", "G\ud800T", "/a\ud800\udfff", "400 Bad\ud800\x00", 0.0, "u\ud800\n")
    finally:
        request_log.reset()
    assert errors == []
    (line,) = raw.getvalue().decode("utf-8").splitlines()
    assert "\\ud800" in line and "r1" in line


# === 2. the path, the query and form bodies are UTF-8 text ========================================
def not_utf8(which: str, byte: int) -> str:
    return f"{which} is not UTF-8 (byte 0x{byte:02X}): percent-encode the UTF-8 bytes of text (RFC 3986 §2.5)"


QUERIES = [
    # the fuzz test's inputs: a raw byte, as in-process and other WSGI servers hand it over
    ("/_fake/outbox?to=\xff", not_utf8("the value of the query parameter 'to'", 0xFF)),
    ("/_fake/journal?problems=\xff", not_utf8("the value of the query parameter 'problems'", 0xFF)),
    ("/oauth/authorize?oauth_token=\xff", not_utf8("the value of the query parameter 'oauth_token'", 0xFF)),
    # percent-encoded, which werkzeug would keep as the three characters "%FF"
    ("/_fake/outbox?to=%FF", not_utf8("the value of the query parameter 'to'", 0xFF)),
    ("/_fake/outbox?%FF=1", not_utf8("a query parameter name ('%FF')", 0xFF)),
    ("/_fake/journal?after=1&path=%C0%AF", not_utf8("the value of the query parameter 'path'", 0xC0)),  # overlong
    ("/_fake/journal?user=%ED%A0%80", not_utf8("the value of the query parameter 'user'", 0xED)),  # a surrogate
    ("/_fake/journal?user=%E2%82", not_utf8("the value of the query parameter 'user'", 0xE2)),  # truncated
    ("/oauth/authorize?oauth_token=a%FEb", not_utf8("the value of the query parameter 'oauth_token'", 0xFE)),
    # an API route: refused before OAuth is even read, and journaled
    ("/v2/services/syncml/?oauth_token=%FF", not_utf8("the value of the query parameter 'oauth_token'", 0xFF)),
    # text no answer could carry
    ("/_fake/outbox?to=%00", f"the value of the query parameter 'to' holds {NUL}"),
    ("/_fake/journal?path=%1B%5B0m", "the value of the query parameter 'path' holds U+001B, which XML 1.0 "
                                     "cannot hold (§2.2, Char)"),
    ("/oauth/request_token?oauth_callback=http%3A%2F%2Fx%2F%01", "the value of the query parameter "
     "'oauth_callback' holds U+0001, which XML 1.0 cannot hold (§2.2, Char)"),
    ("/_fake/outbox?to=%EF%BF%BF", "the value of the query parameter 'to' holds U+FFFF, which XML 1.0 cannot "
                                   "hold (§2.2, Char)"),
    ("/_fake/outbox?a%00=1", f"a query parameter name ('a%00') holds {NUL}"),
]


@pytest.mark.parametrize("target, detail", QUERIES, ids=[t for t, _ in QUERIES])
def test_a_query_that_is_not_text_is_400_naming_the_parameter(busy, target, detail):
    app, _ = busy
    method = "POST" if target.startswith("/oauth/request_token") else "GET"
    refused(app, method, target, 400, "Bad Request", detail)


def test_a_refused_query_on_an_api_route_is_journaled(busy):
    app, _ = busy
    send(app, "GET", "/v2/services/syncml/?x=%FF")
    (entry,) = json.loads(send(app, "GET", "/_fake/journal").body)["entries"]
    assert (entry["status"], entry["path"], entry["query"]) == (400, "/v2/services/syncml/", "x=%FF")
    assert entry["detail"] == not_utf8("the value of the query parameter 'x'", 0xFF)


@pytest.mark.parametrize("target, to", [("/_fake/outbox?to=%2B47%C3%A9", "+47é"),
                                        ("/_fake/outbox?to=%2B47\xc3\xa9", "+47é"),  # raw UTF-8 bytes
                                        ("/_fake/outbox?to=%2B47+1%09", "+47 1\t")])  # '+' a space, tab
def test_a_query_of_text_is_read_as_before(busy, target, to):
    app, _ = busy
    with app.world.lock:
        for number in ("+47é", "+47 1\t"):
            app.world.detection.detect_manual(app.world.users["alice"], number, "http://x/d/{code}")
    answer = send(app, "GET", target)
    assert answer.status == 200, answer.body
    assert [m["to"] for m in json.loads(answer.body)["messages"]] == [to]


def test_a_bad_escape_is_no_byte_and_stays_as_sent(busy):
    """`%zz` encodes nothing: werkzeug keeps the three characters, and so does the check."""
    app, _ = busy
    refused(app, "GET", "/_fake/journal?path=%zz", 400, "Bad Request", "path must be a path or a pattern starting "
            "with / or * (like /v2/services/syncml/*), not a URL; got '%zz'")


PATHS = [
    ("GET", "/_fake/phone/%FF", None, not_utf8("the path '/_fake/phone/%FF'", 0xFF)),
    ("PUT", "/_fake/phone/%FE/autopilot", None, not_utf8("the path '/_fake/phone/%FE/autopilot'", 0xFE)),
    ("PUT", "/_fake/phone/%01/autopilot", None, "the path '/_fake/phone/%01/autopilot' holds U+0001, which "
                                                "XML 1.0 cannot hold (§2.2, Char)"),
    ("POST", "/_fake/phone/%2B47%00/visit", None, f"the path '/_fake/phone/+47%00/visit' holds {NUL}"),
    ("GET", "/d/%FF", None, not_utf8("the path '/d/%FF'", 0xFF)),
    ("GET", "/d/abc%EF%BF%BE", None, "the path '/d/abc%EF%BF%BE' holds U+FFFE, which XML 1.0 cannot hold "
                                     "(§2.2, Char)"),
    ("GET", "/v2/services/google/%FF/", "alice", not_utf8("the path '/v2/services/google/%FF/'", 0xFF)),
    ("DELETE", "/v2/services/datastore/x/contents/%ED%A0%80/", "alice",
     not_utf8("the path '/v2/services/datastore/x/contents/%ED%A0%80/'", 0xED)),
    ("GET", "/no/such/%FF", None, not_utf8("the path '/no/such/%FF'", 0xFF)),
]


@pytest.mark.parametrize("method, target, user, detail", PATHS, ids=[f"{m} {t}" for m, t, _, _ in PATHS])
def test_a_path_that_is_not_text_is_400_naming_it(busy, method, target, user, detail):
    """werkzeug reads a bad byte of a path as U+FFFD: /_fake/phone/%FF and /_fake/phone/%FE
    would name one phone, which neither request named. Refused before routing and OAuth."""
    app, _ = busy
    refused(app, method, target, 400, "Bad Request", detail, user=user)


def test_a_path_of_utf8_text_still_routes(busy):
    app, _ = busy
    answer = send(app, "GET", "/_fake/phone/%2B47%C3%A9")
    assert answer.status == 200 and json.loads(answer.body)["number"] == "+47é"
    assert send(app, "GET", "/no/such/caf%C3%A9").status == 404


def _request_token(app: FakeApp) -> str:
    with app.world.lock:
        return app.world.tokens.issue_request_token("demo-consumer-key", "oob").token


FORMS = [
    (b"oauth_token=\xff&user=alice&approve=yes", "application/x-www-form-urlencoded",
     not_utf8("the value of the form body parameter 'oauth_token'", 0xFF)),
    (b"oauth_token=%FF&user=alice&approve=yes", "application/x-www-form-urlencoded",
     not_utf8("the value of the form body parameter 'oauth_token'", 0xFF)),
    (b"oauth_token=@&us%E9r=alice", "application/x-www-form-urlencoded",
     not_utf8("a form body parameter name ('us%E9r')", 0xE9)),
    (b"oauth_token=@&user=ali%00ce&approve=yes", "application/x-www-form-urlencoded",
     f"the value of the form body parameter 'user' holds {NUL}"),
    (b'--b\r\nContent-Disposition: form-data; name="user"\r\n\r\nali\x01ce\r\n--b--\r\n',
     "multipart/form-data; boundary=b", "the form body field 'user' holds U+0001, which XML 1.0 cannot hold "
                                        "(§2.2, Char)"),
]


@pytest.mark.parametrize("body, ctype, detail", FORMS, ids=["raw-ff", "pct-ff", "name", "nul", "multipart"])
def test_a_form_body_that_is_not_text_is_400_naming_the_field(busy, body, ctype, detail):
    """werkzeug would read a raw byte over 0x7F as an empty form (its UnicodeDecodeError is a
    ValueError its parser swallows), and %FF as three characters."""
    app, _ = busy
    token = _request_token(app)
    refused(app, "POST", "/oauth/authorize", 400, "Bad Request", detail, body.replace(b"@", token.encode()),
            [("Content-Type", ctype)])


def test_a_form_of_text_still_approves(busy):
    app, _ = busy
    token = _request_token(app)
    answer = send(app, "POST", "/oauth/authorize", f"oauth_token={token}&user=alice&approve=yes".encode(),
                  [("Content-Type", "application/x-www-form-urlencoded")])
    assert answer.status == 200 and b"oauth_verifier=" in answer.body
    assert app.world.tokens.request_tokens[token].user == "alice"


def _raw(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_over_http_a_percent_encoded_bad_byte_is_the_same_400(busy):
    """waitress refuses a raw byte over 0x7F in the request line itself; its escape reaches
    the app, which answers as in-process."""
    app, _ = busy
    server = FakeServer(app=app, host="127.0.0.1", port=0, threads=1).start()
    try:
        before = snapshot(app)
        for target, detail in [("/_fake/outbox?to=%FF", not_utf8("the value of the query parameter 'to'", 0xFF)),
                               ("/_fake/phone/%FF", not_utf8("the path '/_fake/phone/%FF'", 0xFF))]:
            received = _raw(server.port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n"), received[:200]
            assert received.endswith(f"400 Bad Request: {detail}\n".encode()), received[-300:]
        received = _raw(server.port, b"GET /_fake/outbox?to=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert snapshot(app) == before
    finally:
        server.stop()


# === 3. every string of the state is text an answer can carry ====================================
def _strings(document):
    return [(p, v) for p, v in leaves(document) if isinstance(v, str)]


def test_the_busy_state_has_a_string_in_every_part(busy):
    _, document = busy
    parts = {p.split("/")[1] for p, _ in _strings(document)}
    assert {"users", "consumers", "clients", "setups", "outbox", "bindings", "detections", "phone_states",
            "autopilots", "schedule", "sessions", "chatlog", "request_tokens", "issued_tokens"} <= parts


def test_every_string_of_the_state_is_checked(busy):
    """A U+0000 in any string of the document, whatever its field, is refused naming that
    field: one check over the document, not one per field."""
    app, document = busy
    strings = _strings(document)
    assert len(strings) > 100
    for pointer, value in strings:
        changed = copy.deepcopy(document)
        put_at(changed, pointer, value + "\x00")
        message = loader_refusal(changed, app.world.phones)
        assert message == f"state {pointer}: the string holds {NUL}: no answer could show it", pointer


@pytest.mark.parametrize("where", ["handsets", "phone_states", "autopilots", "top"])
def test_every_member_name_of_the_state_is_checked(busy, where):
    app, document = busy
    document = copy.deepcopy(document)
    if where == "top":
        document["\ud800"] = 1
        pointer = "/\\ud800"
    else:
        document[where]["+47\x00"] = next(iter(document[where].values()))
        pointer = f"/{where}/+47\\x00"
    problem = SURROGATE if where == "top" else NUL
    assert loader_refusal(document, app.world.phones) == \
        f"state {pointer}: the member name holds {problem}: no answer could show it"


REFUSED_CHARACTERS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\ufffe", "\uffff", "\ud800",
                      "\udbff", "\udc00", "\udfff"]
TAKEN_CHARACTERS = ["\t", "\n", "\r", " ", "\x7f", "\x80", "\x9f", "\ud7ff", "\ue000", "\ufffd", "\U00010000",
                    "\U0010ffff", "\U0001f600"]


@pytest.mark.parametrize("char", REFUSED_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in REFUSED_CHARACTERS])
def test_a_character_xml_cannot_hold_is_refused(busy, char):
    app, document = busy
    document = copy.deepcopy(document)
    document["users"][1]["email"] = f"alice{char}@example.com"
    assert loader_refusal(document, app.world.phones).startswith("state /users/1/email: the string holds ")
    assert text_problem(char) is not None
    assert schema_problem(document)[0] == "/users/1/email"


@pytest.mark.parametrize("char", TAKEN_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in TAKEN_CHARACTERS])
def test_a_character_xml_holds_is_taken(busy, char):
    app, document = busy
    document = copy.deepcopy(document)
    document["users"][1]["email"] = f"alice{char}@example.com"
    assert World.from_dict(document, app.world.phones).users["alice"].email == f"alice{char}@example.com"
    assert text_problem(char) is None
    assert schema_problem(document) is None


# The fuzz test's inputs: each field was accepted (200) and a later Atom answer failed (500).
STATE_INPUTS = [
    ("syncml-phone-number", lambda d: _client(d, "syncml"), "phone_number", "admin", "/v2/services/syncml/"),
    ("bob-email", lambda d: next(u for u in d["users"] if u["name"] == "bob"), "email", "bob", "/v2/clients/"),
]


@pytest.mark.parametrize("name, part, field, user, read", STATE_INPUTS, ids=[s[0] for s in STATE_INPUTS])
def test_a_state_string_xml_cannot_hold_is_422_naming_the_path(busy, name, part, field, user, read):
    app, document = busy
    document = copy.deepcopy(document)
    target = part(document)
    target[field] += "\x00"
    pointer = next(p for p, v in leaves(document) if v is target[field])
    refused(app, "PUT", "/_fake/state", 422, "Unprocessable Entity",
            f"state {pointer}: the string holds {NUL}: no answer could show it", json.dumps(document).encode(),
            [("Content-Type", "application/json")])


@pytest.mark.parametrize("name, part, field, user, read", STATE_INPUTS, ids=[s[0] for s in STATE_INPUTS])
def test_a_state_string_xml_cannot_hold_never_loads_and_the_api_keeps_answering(busy, name, part, field, user,
                                                                                 read):
    """Refused (whatever the status), the state stays, and the answer that failed is fine."""
    app, document = busy
    document = copy.deepcopy(document)
    part(document)[field] += "\x00"
    before = snapshot(app)
    answer = send(app, "PUT", "/_fake/state", json.dumps(document).encode(), [("Content-Type", "application/json")])
    assert answer.status in (400, 422) and b"U+0000" in answer.body, answer.body
    assert snapshot(app) == before
    assert send(app, "GET", read, user=user).status == 200


def _client(document, kind: str) -> dict:
    return next(c for c in document["clients"] if c["kind"] == kind and c["owner"] == "alice")


def test_a_fixture_set_holding_such_a_string_is_refused_naming_it(tmp_path, busy):
    app, document = busy
    document = copy.deepcopy(document)
    _client(document, "datastore")["name"] = "Address\x00book"
    folder = tmp_path / "nul"
    folder.mkdir()
    (folder / "world.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(FixtureError) as error:
        FixtureSet.load(folder)
    pointer = next(p for p, v in leaves(document) if v == "Address\x00book")
    assert f"at {pointer}: expected text an answer can show" in str(error.value)


# Documents both the JSON Schema and the loader refuse, at the same pointer.
SCHEMA_AGREES = [
    lambda d: d["users"][1].__setitem__("email", "a\x00"),
    lambda d: d.__setitem__("description", "\x07"),
    lambda d: d.__setitem__("$schema", "\ud800"),
    lambda d: _client(d, "gdata")["datastores"][0]["token"]["scopes"].append("\x0b"),
    lambda d: _client(d, "datastore")["contents"][0].__setitem__("data", "BEGIN:VCARD\x1aEND"),
    lambda d: d["chatlog"][0].__setitem__("phone", "IMEI:\ufffe"),
    lambda d: d["detections"][0].__setitem__("user_agent", "Nokia\x01"),
    lambda d: d["request_tokens"][0].__setitem__("callback", "http://x/\x01"),
    lambda d: d["handsets"].__setitem__("+47", "\x00"),
    lambda d: d["autopilots"]["*"].__setitem__("user_agent", "\uffff"),
    lambda d: d["schedule"][0].__setitem__(5, "\x02"),
]


@pytest.mark.parametrize("change", SCHEMA_AGREES)
def test_the_schema_and_the_loader_refuse_such_strings_alike(busy, change):
    app, document = busy
    document = copy.deepcopy(document)
    document.setdefault("handsets", {})
    change(document)
    problem = schema_problem(document)
    message = loader_refusal(document, app.world.phones)
    assert problem is not None, "the schema accepted what the loader refuses"
    assert message.startswith(f"state {problem[0]}: the string holds "), (problem, message)


def test_the_schema_refuses_a_member_name_xml_cannot_hold(busy):
    _, document = busy
    document = copy.deepcopy(document)
    document["phone_states"]["+47\x00"] = {}
    path, message, _ = schema_problem(document)
    assert path == "/phone_states/+47\x00" and message.startswith("expected text an answer can show")


def test_a_detection_page_visit_cannot_store_a_user_agent_xml_cannot_hold(busy):
    """Over HTTP waitress refuses a control character in a header; in-process it arrives."""
    app, _ = busy
    with app.world.lock:
        code = app.world.detection.detect_manual(app.world.users["alice"], NUMBER, "http://x/d/{code}").code
    send(app, "GET", f"/d/{code}", headers=[("User-Agent", "Nokia6300\x01/2.0")])
    World.from_dict(app.world.to_dict(), app.world.phones)  # what a restart with --state-file does


@pytest.mark.parametrize("place", ["AUTH_HEADER", "BODY"])
def test_a_request_token_cannot_store_a_callback_xml_cannot_hold(app, place):
    from oauthlib.oauth1 import Client
    signer = Client("demo-consumer-key", client_secret="demo-consumer-secret", callback_uri="http://x/\x01cb",
                    signature_type=place)
    form = [("Content-Type", "application/x-www-form-urlencoded")] if place == "BODY" else []
    _, headers, body = signer.sign("http://localhost/oauth/request_token", http_method="POST",
                                   body="" if form else None, headers=dict(form))
    answer = call_wsgi(app, Wire("POST", "/oauth/request_token", list(headers.items()), (body or "").encode()))
    assert answer.status == 400 and b"oauth_callback" in answer.body, answer.body
    assert not app.world.tokens.request_tokens


# === 4. times at the ends of the clock's range ===================================================
TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


def _times(document) -> list[str]:
    return [p for p, v in leaves(document) if isinstance(v, str) and TIME.match(v)]


def test_a_request_token_created_at_the_end_of_time_loads_and_works(busy):
    """The fuzz test's input: PUT /_fake/state answered 500 (OverflowError in the expiry)."""
    app, document = busy
    document = copy.deepcopy(document)
    document["request_tokens"][0]["created"] = END
    token = document["request_tokens"][0]["token"]
    answer = send(app, "PUT", "/_fake/state", json.dumps(document).encode(), [("Content-Type", "application/json")])
    assert answer.status == 200, answer.body
    assert app.world.tokens.request_tokens[token].expires == datetime.fromtimestamp(LATEST, timezone.utc)
    assert send(app, "GET", f"/oauth/authorize?oauth_token={token}").status == 200  # alive until then
    assert json.loads(send(app, "GET", "/_fake/state").body)["request_tokens"][0]["created"] == END


@pytest.mark.parametrize("created, expires", [
    ("2009-11-01T12:30:00Z", "2009-11-01T12:40:00Z"),
    ("9999-12-31T23:49:59Z", END),
    ("9999-12-31T23:50:00Z", END),
    (END, END),
])
def test_a_request_tokens_expiry_stops_at_the_clocks_last_second(created, expires):
    def at(text):
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    token = RequestToken("t", "s", "k", "oob", at(created))
    assert token.expires == at(expires)
    assert token.expires - token.created <= timedelta(seconds=REQUEST_TOKEN_LIFETIME)


def test_a_request_token_is_issued_at_the_clocks_last_second(app):
    app.world.clock.freeze(END)
    answer = call_wsgi(app, sign(Wire("POST", "/oauth/request_token"), None, callback="oob"))
    assert answer.status == 200, answer.body
    (token,) = app.world.tokens.request_tokens.values()
    assert token.created == token.expires == datetime.fromtimestamp(LATEST, timezone.utc)


def test_every_time_of_the_state_is_bounded_to_the_clocks_range(busy):
    app, document = busy
    times = _times(document)
    assert len(times) > 30 and {p.split("/")[1] for p in times} >= {
        "clock", "clients", "setups", "outbox", "bindings", "detections", "sessions", "chatlog", "request_tokens"}
    for pointer in times:
        for value in ("1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z"):
            changed = copy.deepcopy(document)
            put_at(changed, pointer, value)
            assert loader_refusal(changed, app.world.phones) == f"state {pointer}: {RANGE}", (pointer, value)


def test_a_time_before_the_clock_is_422_naming_its_path(busy):
    app, document = busy
    document = copy.deepcopy(document)
    document["detections"][0]["created"] = "0001-01-01T00:00:00Z"
    refused(app, "PUT", "/_fake/state", 422, "Unprocessable Entity", f"state /detections/0/created: {RANGE}",
            json.dumps(document).encode(), [("Content-Type", "application/json")])
    refused(app, "PATCH", "/_fake/state", 422, "Unprocessable Entity", f"state /sessions/0/ended: {RANGE}",
            json.dumps([{"op": "replace", "path": "/sessions/0/ended", "value": "1969-12-31T23:59:59Z"}]).encode(),
            [("Content-Type", "application/json-patch+json")])


@pytest.mark.parametrize("when", ["1970-01-01T00:00:00Z", END])
def test_a_state_with_every_time_at_an_end_of_the_range_can_be_served(busy, when):
    """Every time of the busy state at the clock's first or last second: it loads, and every
    read route answers without a 5xx, for each user."""
    app, document = busy
    document = copy.deepcopy(document)
    for pointer in _times(document):
        put_at(document, pointer, when)
    assert send(app, "PUT", "/_fake/state", json.dumps(document).encode(),
                [("Content-Type", "application/json")]).status == 200
    ids = {"uuid": _client(document, "syncml")["uuid"], "client_id": _client(document, "datastore")["uuid"],
           "session": "1", "binding": "1", "code": document["detections"][0]["code"], "number": "%2B4798765432",
           "item": _client(document, "datastore")["contents"][0]["id"]}
    for route in ROUTES + CONTROL_ROUTES:
        if route.method != "GET":
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), route.path)
        for user in (("alice", "bob", "admin") if route.auth else (None,)):
            answer = send(app, "GET", path, user=user)
            assert answer.status < 500 or answer.status == 501, (route.path, user, answer.status, answer.body[:200])


def test_a_detection_code_is_issued_at_the_clocks_last_second(busy):
    app, _ = busy
    app.world.clock.freeze(END)
    body = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
            f"<oc:phone_number>{NUMBER}</oc:phone_number></entry>").encode()
    answer = send(app, "POST", "/v2/phones/detect/manual/", body, [("Content-Type", "application/atom+xml")],
                  user="alice")
    assert answer.status == 201, answer.body
