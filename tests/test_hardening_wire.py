"""HTTP wire rules of the fake's server, over raw sockets (issue 10, items 4, 10, 15, 17).

- Framing (RFC 9112 §6, §7; RFC 9110 §8.6): a transfer coding the server does not decode,
  chunked not last, both Content-Length and Transfer-Encoding, an invalid Content-Length:
  each a deliberate 4xx/501 with a sentence, and the connection closed after it.
- Body limit: a Content-Length over the limit is refused from the headers, before a byte
  of the body is sent and without `100 Continue`; a chunked body the moment it passes.
- Keep-alive: answers without content (204, empty 200s, HEAD, 405) keep the connection.
- HEAD changes nothing: `/_fake/state` is byte-identical after a HEAD of every GET route.

The client side is a plain socket and a byte parser, so what is asserted is what the
server put on the wire (status line, header fields, framing, end of stream).
"""
from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass, field

import pytest
from oauthlib.oauth1 import Client

from ocss_testkit.routes import CONTROL_ROUTES, ROUTES
from tests.helpers import (
    ADMIN_GDATA,
    ATOM,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    OC,
    signed_headers,
    unchanged,
)

LIMIT = 1024 * 1024  # the app's default body limit, named in every 413
NOKIA_6233_UA = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
TIMEOUT = 20  # seconds a read may wait: a hung server fails the test instead of hanging it


# --- a raw HTTP/1.x client ------------------------------------------------------------------

@dataclass
class Answer:
    version: str
    status: int
    reason: str
    headers: dict = field(default_factory=dict)  # lower-case names; repeated fields joined by ", "
    body: bytes = b""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Wire:
    """One TCP connection to the fake: write bytes, read answers one by one."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.sock = socket.create_connection(("127.0.0.1", fake.port), timeout=TIMEOUT)
        self.reader = self.sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def head(self, method: str, path: str, *fields: str, version: str = "1.1") -> bytes:
        """A request head; `Host` is the fake's (the URL requests are signed for)."""
        lines = [f"{method} {path} HTTP/{version}", f"Host: 127.0.0.1:{self.fake.port}", *fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def request(self, method: str, path: str, *fields: str, body: bytes = b"", version: str = "1.1",
                user: str | None = None) -> Answer:
        if user is not None:
            auth = signed_headers(user, method, self.fake.url + path)["Authorization"]
            fields = (*fields, f"Authorization: {auth}")
        if body or method in ("POST", "PUT", "PATCH"):
            fields = (*fields, f"Content-Length: {len(body)}")
        self.send(self.head(method, path, *fields, version=version) + body)
        return self.answer(head_request=method == "HEAD")

    def answer(self, head_request: bool = False) -> Answer:
        status_line = self.reader.readline()
        assert status_line, "the server closed the connection without an answer"
        match = re.fullmatch(rb"HTTP/(1\.[01]) (\d{3}) ?(.*)\r\n", status_line)
        assert match, status_line
        answer = Answer(match[1].decode(), int(match[2]), match[3].decode("latin-1"))
        while (line := self.reader.readline()) != b"\r\n":
            assert line.endswith(b"\r\n"), f"truncated head: {line!r}"
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            answer.headers[key] = (answer.headers[key] + ", " if key in answer.headers else "") + value.strip()
        if head_request or answer.status < 200 or answer.status in (204, 304):
            return answer
        if "content-length" in answer.headers:
            answer.body = self.reader.read(int(answer.headers["content-length"]))
        elif answer.headers.get("transfer-encoding") == "chunked":
            while size := int(self.reader.readline().split(b";")[0], 16):
                answer.body += self.reader.read(size)
                assert self.reader.read(2) == b"\r\n"
            assert self.reader.readline() == b"\r\n"
        else:
            answer.body = self.reader.read()  # delimited by the end of the connection
        return answer

    def at_end(self) -> bool:
        """True when the server ended the connection (an orderly end of stream, not a reset);
        a connection left open makes the read time out, which fails the test."""
        return self.reader.read(1) == b""


@pytest.fixture
def wire(fake):
    connection = Wire(fake)
    yield connection
    connection.close()


def assert_sentence(answer: Answer, status: int, reason: str, *needles: str) -> None:
    assert (answer.status, answer.reason) == (status, reason), (answer.status, answer.reason, answer.body)
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text.startswith(f"{status} {reason}: "), answer.text
    assert len(answer.text.split(": ", 1)[1].strip()) > 20, answer.text
    for needle in needles:
        assert needle in answer.text, (needle, answer.text)


def assert_closed_after(wire: Wire, answer: Answer) -> None:
    """The answer announced the close, and the connection then ended in order."""
    assert answer.headers.get("connection") == "close", answer.headers
    assert wire.at_end()


def assert_kept(answer: Answer, version: str = "1.1") -> None:
    connection = answer.headers.get("connection", "")
    assert "close" not in connection.lower(), answer.headers
    if version == "1.0":
        assert connection == "Keep-Alive", answer.headers


# --- item 4: transfer codings and Content-Length (RFC 9112 §6.1, §6.3, §7; RFC 9110 §8.6) ----

NOT_LAST = "chunked is not the final transfer coding"
FRAMING = [
    # (id, header fields, status, reason, words of the sentence)
    ("te-gzip", ["Transfer-Encoding: gzip"], 400, "Bad Request", [NOT_LAST, "'gzip'"]),
    ("te-identity", ["Transfer-Encoding: identity"], 400, "Bad Request", [NOT_LAST, "'identity'"]),
    ("te-compress-deflate", ["Transfer-Encoding: compress, deflate"], 400, "Bad Request", [NOT_LAST]),
    ("te-chunked-then-gzip", ["Transfer-Encoding: chunked, gzip"], 400, "Bad Request", [NOT_LAST]),
    ("te-chunked-then-gzip-in-two-fields", ["Transfer-Encoding: chunked", "Transfer-Encoding: gzip"],
     400, "Bad Request", [NOT_LAST]),
    ("te-chunked-with-a-parameter", ["Transfer-Encoding: chunked;q=1"], 400, "Bad Request", [NOT_LAST]),
    ("te-gzip-then-chunked", ["Transfer-Encoding: gzip, chunked"], 501, "Not Implemented",
     ["'gzip' is not supported", "chunked only"]),
    ("te-identity-then-chunked", ["Transfer-Encoding: identity, chunked"], 501, "Not Implemented",
     ["'identity' is not supported"]),
    ("te-chunked-twice", ["Transfer-Encoding: chunked, chunked"], 400, "Bad Request", ["more than once"]),
    ("te-chunked-twice-in-two-fields", ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
     400, "Bad Request", ["more than once"]),
    ("te-empty", ["Transfer-Encoding: "], 400, "Bad Request", ["names no transfer coding"]),
    ("te-and-content-length", ["Content-Length: 5", "Transfer-Encoding: chunked"], 400, "Bad Request",
     ["both Content-Length and Transfer-Encoding"]),
    ("content-length-and-te", ["Transfer-Encoding: chunked", "Content-Length: 0"], 400, "Bad Request",
     ["both Content-Length and Transfer-Encoding"]),
    ("cl-negative", ["Content-Length: -1"], 400, "Bad Request", ["'-1' is not a number of bytes"]),
    ("cl-letters", ["Content-Length: abc"], 400, "Bad Request", ["'abc' is not a number of bytes"]),
    ("cl-plus-sign", ["Content-Length: +5"], 400, "Bad Request", ["'+5' is not a number of bytes"]),
    ("cl-hexadecimal", ["Content-Length: 0x10"], 400, "Bad Request", ["is not a number of bytes"]),
    ("cl-decimal-point", ["Content-Length: 5.0"], 400, "Bad Request", ["is not a number of bytes"]),
    ("cl-inner-space", ["Content-Length: 1 0"], 400, "Bad Request", ["is not a number of bytes"]),
    ("cl-empty", ["Content-Length: "], 400, "Bad Request", ["'' is not a number of bytes"]),
    ("cl-superscript-two", ["Content-Length: \xb2"], 400, "Bad Request", ["is not a number of bytes"]),
    ("cl-two-differing", ["Content-Length: 5", "Content-Length: 6"], 400, "Bad Request",
     ["Content-Length given more than once ('5, 6')"]),
    ("cl-two-equal", ["Content-Length: 5", "Content-Length: 5"], 400, "Bad Request",
     ["Content-Length given more than once"]),
    ("cl-list", ["Content-Length: 5, 5"], 400, "Bad Request", ["Content-Length given more than once"]),
    ("cl-5000-digits", ["Content-Length: " + "9" * 5000], 413, "Request Entity Too Large",
     ["(5000 digits) bytes", f"the limit is {LIMIT} bytes"]),
    ("cl-leading-zeros-over-the-limit", ["Content-Length: 000" + str(LIMIT + 1)], 413,
     "Request Entity Too Large", [f"body of {LIMIT + 1} bytes"]),
]


@pytest.mark.parametrize("fields,status,reason,needles", [pytest.param(*case[1:], id=case[0]) for case in FRAMING])
def test_a_body_of_undeterminable_length_is_refused_and_the_connection_closed(fake, wire, fields, status,
                                                                              reason, needles):
    with unchanged(fake):
        # Expect: 100-continue asks for a go-ahead the server must not give to a refused request.
        wire.send(wire.head("POST", "/v2/services/syncml/", *fields, "Expect: 100-continue"))
        answer = wire.answer()
        assert_sentence(answer, status, reason, *needles)
        assert_closed_after(wire, answer)


def test_an_http_1_0_request_with_transfer_encoding_is_refused(fake, wire):
    # RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing, even with a Content-Length.
    wire.send(wire.head("POST", "/_fake/reset", "Connection: keep-alive", "Transfer-Encoding: chunked",
                        "Content-Length: 5", version="1.0") + b"0\r\n\r\n")
    answer = wire.answer()
    assert_sentence(answer, 400, "Bad Request", "Transfer-Encoding in an HTTP/1.0 request")
    assert_closed_after(wire, answer)


@pytest.mark.parametrize("order", ["content-length-first", "transfer-encoding-first"])
def test_a_smuggled_request_is_never_served(fake, wire, order):
    """CL.TE / TE.CL request smuggling (RFC 9112 §6.3, §11.2): the request hidden in the
    body must not run, whichever length a front end believed."""
    smuggled = b"GET /v2/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + smuggled
    fields = [f"Content-Length: {len(body)}", "Transfer-Encoding: chunked"]
    if order == "transfer-encoding-first":
        fields.reverse()
    wire.send(wire.head("POST", "/v2/services/google/", *fields) + body)
    answer = wire.answer()
    assert_sentence(answer, 400, "Bad Request", "both Content-Length and Transfer-Encoding")
    assert_closed_after(wire, answer)
    assert "/v2/smuggled" not in [entry.path for entry in fake.app.journal.entries()]


@pytest.mark.parametrize("codings", [["chunked"], ["Chunked"], ["CHUNKED"],
                                     ["chunked, "], [", chunked"], ["", "chunked"]])  # RFC 9110 §5.6.1
def test_a_chunked_body_is_read_and_the_connection_kept(fake, wire, codings):
    body = json.dumps({"freeze": True}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:5], body[5:])) + b"0\r\n\r\n"
    wire.send(wire.head("POST", "/_fake/clock", *[f"Transfer-Encoding: {value}" for value in codings],
                        "Content-Type: application/json") + chunked)
    answer = wire.answer()
    assert answer.status == 200, answer.body
    assert json.loads(answer.body)["frozen"] is True
    assert_kept(answer)
    assert wire.request("GET", "/_fake/health").status == 200


def test_a_malformed_chunked_body_is_a_sentence(fake, wire):
    wire.send(wire.head("POST", "/_fake/clock", "Transfer-Encoding: chunked") + b"zz\r\nhello\r\n0\r\n\r\n")
    answer = wire.answer()
    assert_sentence(answer, 400, "Bad Request", "malformed chunked body: invalid chunk size")
    assert_closed_after(wire, answer)


# --- item 10: the body limit, decided before the body is read -------------------------------

def _concrete(template: str) -> str:
    return re.sub(r"\{\w+\}", "x", template)


EVERY_ROUTE = sorted({(route.method, _concrete(route.path)) for route in ROUTES + CONTROL_ROUTES})


@pytest.mark.parametrize("method,path", EVERY_ROUTE, ids=[f"{m} {p}" for m, p in EVERY_ROUTE])
def test_an_oversized_content_length_is_refused_from_the_headers_on_every_route(fake, wire, method, path):
    with unchanged(fake):
        wire.send(wire.head(method, path, f"Content-Length: {LIMIT + 1}", "Expect: 100-continue",
                            "Content-Type: application/atom+xml"))
        answer = wire.answer()  # not `100 Continue`: nothing of the body was sent, nor asked for
        assert_sentence(answer, 413, "Request Entity Too Large",
                        f"body of {LIMIT + 1} bytes; the limit is {LIMIT} bytes")
        assert_closed_after(wire, answer)


@pytest.mark.parametrize("version,fields", [("1.1", ["Expect: 100-continue"]), ("1.1", []),
                                            ("1.0", ["Connection: keep-alive"])])
def test_a_2_gib_body_is_refused_before_it_is_sent(fake, wire, version, fields):
    """The reported input: `Expect: 100-continue` with Content-Length 2147483648 got
    `100 Continue`, and a body sent without Expect was read (spooled to disk) first."""
    with unchanged(fake):
        wire.send(wire.head("PUT", "/_fake/state", "Content-Type: application/json", "Content-Length: 2147483648",
                            *fields, version=version))
        answer = wire.answer()
        assert answer.version == version
        assert_sentence(answer, 413, "Request Entity Too Large",
                        f"body of 2147483648 bytes; the limit is {LIMIT} bytes")
        assert_closed_after(wire, answer)


def test_a_client_that_sends_its_oversized_body_anyway_reads_the_413(fake, wire):
    """The server refuses at the headers, then reads and discards what the client still
    sends until the client closes: closing with those bytes unread would send a TCP reset,
    and the client would get a connection error (or a broken pipe) instead of the 413."""
    size = 4 * LIMIT  # any byte left unread at the close would do
    with unchanged(fake):
        wire.send(wire.head("POST", "/v2/services/datastore/", f"Content-Length: {size}",
                            "Content-Type: application/atom+xml"))
        block = b"x" * (256 * 1024)
        for _ in range(size // len(block)):
            wire.send(block)
        answer = wire.answer()
        assert_sentence(answer, 413, "Request Entity Too Large", f"body of {size} bytes")
        assert_closed_after(wire, answer)


def test_a_body_of_exactly_the_limit_gets_100_continue_and_is_read(fake, wire):
    wire.send(wire.head("POST", "/_fake/faults", f"Content-Length: {LIMIT}", "Expect: 100-continue",
                        "Content-Type: application/json"))
    interim = wire.answer()
    assert (interim.status, interim.reason) == (100, "Continue")
    wire.send(b" " * LIMIT)  # JSON of blanks only: read whole, then refused by the handler
    answer = wire.answer()
    assert answer.status == 400, answer.body  # the app read it: no 413
    assert_kept(answer)
    assert wire.request("GET", "/_fake/health").status == 200


def test_no_100_continue_for_a_request_without_a_body(fake, wire):
    """waitress would send `100 Continue` and then wait for a body that never comes."""
    answer = wire.request("POST", "/_fake/reset", "Expect: 100-continue")  # Content-Length: 0
    assert answer.status == 200, answer.body
    assert_kept(answer)
    assert wire.request("GET", "/_fake/health").status == 200


@pytest.mark.parametrize("expect", [True, False])
def test_a_chunked_body_is_refused_the_moment_it_passes_the_limit(fake, wire, expect):
    with unchanged(fake):
        wire.send(wire.head("POST", "/v2/services/google/", "Transfer-Encoding: chunked",
                            "Content-Type: application/atom+xml", *(["Expect: 100-continue"] if expect else [])))
        if expect:  # the length is unknown until the body ends: the server asks for it
            assert wire.answer().status == 100
        block = b" " * (64 * 1024)
        for _ in range(LIMIT // len(block)):
            wire.send(b"%x\r\n%s\r\n" % (len(block), block))
        wire.send(b"1\r\n \r\n")  # byte LIMIT + 1; no last chunk follows
        answer = wire.answer()
        assert_sentence(answer, 413, "Request Entity Too Large", f"body of more than {LIMIT} bytes",
                        f"the limit is {LIMIT} bytes")
        assert_closed_after(wire, answer)


@pytest.mark.parametrize("where", ["chunk-extension", "trailer"])
def test_a_chunked_body_cannot_grow_through_its_framing(fake, wire, where):
    """Chunk extensions and trailers are not content, but waitress keeps them in memory
    until their line ends: they count against the limit too (plus an allowance)."""
    wire.send(wire.head("POST", "/_fake/clock", "Transfer-Encoding: chunked"))
    padding = b"a" * (LIMIT + 128 * 1024)
    wire.send(b"1;ext=" + padding if where == "chunk-extension" else b"0\r\nX-Trailer: " + padding)
    answer = wire.answer()
    assert_sentence(answer, 413, "Request Entity Too Large", "framing", f"the body limit is {LIMIT} bytes")
    assert_closed_after(wire, answer)


def test_a_request_head_over_waitress_limit_is_a_sentence(fake, wire):
    wire.send(wire.head("GET", "/_fake/health", "X-Padding: " + "p" * 300_000))
    answer = wire.answer()
    assert_sentence(answer, 431, "Request Header Fields Too Large", "the request line and headers exceed")
    assert_closed_after(wire, answer)


# --- item 15: answers without content keep the connection ------------------------------------

def _bodiless_answers(fake, wire: Wire, version: str) -> list[tuple[str, Answer]]:
    world = fake.app.world
    with world.lock:
        alice = world.users["alice"]
        syncml = world.syncml.create_client(alice, "+4798765432", "242", "Europe/Oslo").uuid
    fields = ["Connection: keep-alive"] if version == "1.0" else []
    detect = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>+4700000001</oc:phone_number>'
              "</entry>").encode()

    def ask(method, path, user=None, body=b"", *extra):
        return f"{method} {path}", wire.request(method, path, *fields, *extra, body=body, version=version,
                                                user=user)
    return [
        ask("POST", "/v2/phones/detect/auto/", "alice", detect, "Content-Type: application/atom+xml"),
        ask("POST", f"/v2/services/syncml/{syncml}/sync/", "alice"),
        ask("DELETE", f"/v2/services/syncml/{syncml}", "alice"),
        ask("DELETE", f"/v2/services/google/{ADMIN_GDATA}", "admin"),
        ask("HEAD", "/v2/services/google/", "admin"),
        ask("HEAD", "/v2/phones/models/"),
        ask("HEAD", "/d/unknown-code"),
        ask("HEAD", "/_fake/health"),
        ask("PUT", "/v2/phones/models/"),
        ask("DELETE", "/v2/services/syncml/sessions/", "admin"),
        ask("GET", "/v2/services/google/", None),
        ask("POST", "/_fake/reset"),
        ask("GET", "/_fake/health"),
    ]


@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_every_kind_of_answer_keeps_the_connection(fake, wire, version):
    answers = _bodiless_answers(fake, wire, version)
    kinds = [(what, answer.status, answer.reason) for what, answer in answers]
    assert kinds == [
        ("POST /v2/phones/detect/auto/", 204, "No Content"),
        (kinds[1][0], 200, "Ok"),
        (kinds[2][0], 200, "OK"),
        (kinds[3][0], 200, "Deleted"),
        ("HEAD /v2/services/google/", 200, "OK"),
        ("HEAD /v2/phones/models/", 200, "OK"),
        ("HEAD /d/unknown-code", 404, "Not Found"),
        ("HEAD /_fake/health", 200, "OK"),
        ("PUT /v2/phones/models/", 405, "Method Not Allowed"),
        ("DELETE /v2/services/syncml/sessions/", 405, "Method Not Allowed"),
        ("GET /v2/services/google/", 401, "Unauthorized"),
        ("POST /_fake/reset", 200, "OK"),
        ("GET /_fake/health", 200, "OK"),
    ]
    for what, answer in answers:
        assert_kept(answer, version)
        if answer.status == 204:  # RFC 9110 §8.6: no Content-Length on a 204
            assert "content-length" not in answer.headers and "transfer-encoding" not in answer.headers
        elif what.startswith("HEAD"):
            assert int(answer.headers["content-length"]) > 0  # the GET's length, no content
        elif answer.status == 200 and what.split()[0] in ("DELETE", "POST") and "/_fake/" not in what:
            assert (answer.headers["content-length"], answer.body) == ("0", b"")


@pytest.mark.parametrize("version,fields", [("1.1", ["Connection: close"]), ("1.0", [])])
def test_a_client_that_asks_for_the_close_gets_it_after_a_204(fake, wire, version, fields):
    detect = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>+4700000001</oc:phone_number>'
              "</entry>").encode()
    answer = wire.request("POST", "/v2/phones/detect/auto/", "Content-Type: application/atom+xml", *fields,
                          body=detect, version=version, user="alice")
    assert answer.status == 204
    assert_closed_after(wire, answer)


# --- item 17: HEAD never changes state --------------------------------------------------------

@dataclass
class RichWorld:
    ids: dict  # placeholder or route-specific key -> value
    request_token: tuple[str, str]  # an approved request token (token, secret)
    verifier: str


def _rich_world(fake) -> RichWorld:
    """alice owns one object of every kind a GET route shows (admin owns the GData client)."""
    world = fake.app.world
    with world.lock:
        alice = world.users["alice"]
        syncml = world.syncml.create_client(alice, "+4798765432", "242", "Europe/Oslo")
        setup = world.syncml.send_setup(alice, syncml.uuid, "1234")
        world.syncml.request_sync(alice, syncml.uuid)
        world.simulated_phones.answer_setup("+4798765432")
        session = world.simulated_phones.answer_sync("+4798765432")
        activesync = world.activesync.create_client(alice, "ann", "secret")
        store = world.datastore.create_client(alice, "Ann's book")
        item = world.datastore.add_content(alice, store.uuid, "BEGIN:VCARD\r\nEND:VCARD\r\n", "text/x-vcard", None,
                                           "Ann")
        binding = world.bindings.create(alice, store.uuid, activesync.uuid)
        detection = world.detection.detect_manual(alice, "+4711111111", fake.url + "/d/{code}")
        gdata = next(c.uuid for c in world.clients.values() if c.kind == "gdata")
        token = world.tokens.issue_request_token(CONSUMER_KEY, "oob")
        world.tokens.approve_request_token(token.token, "alice")
    ids = {"/v2/services/google/{uuid}": gdata, "/v2/services/syncml/{uuid}": syncml.uuid,
           "/v2/clients/{uuid}": activesync.uuid, "/v2/services/activesync/{uuid}": activesync.uuid,
           "/v2/services/datastore/{uuid}": store.uuid, "{session}": str(session.id), "{vendor}": "1",
           "{model}": "242", "{code}": detection.code, "{binding}": str(binding.id), "{item}": str(item.id),
           "{number}": "+4711111111", "{setup}": str(setup.number)}
    return RichWorld(ids, (token.token, token.secret), token.verifier)


def _path(template: str, ids: dict) -> str:
    for key, value in ids.items():
        if key.startswith("/") and template.startswith(key):
            template = value.join(template.split("{uuid}", 1))
    return re.sub(r"\{\w+\}", lambda m: ids[m.group(0)], template)


def _signed(fake, route, method: str, path: str, rich: RichWorld) -> list[str]:
    url = fake.url + path
    if route.path == "/oauth/request_token":
        signer = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, callback_uri="oob")
    elif route.path == "/oauth/access_token":
        signer = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key=rich.request_token[0],
                        resource_owner_secret=rich.request_token[1], verifier=rich.verifier)
    elif route.auth:  # admin: the demo's GData client and the chatlog; everything else is alice's
        user = "admin" if route.path.startswith("/v2/services/google/") or "chatlog" in route.path else "alice"
        return [f"Authorization: {signed_headers(user, method, url)['Authorization']}"]
    else:
        return []
    _, headers, _ = signer.sign(url, http_method=method)
    return [f"Authorization: {headers['Authorization']}"]


def _state(wire: Wire) -> bytes:
    answer = wire.request("GET", "/_fake/state")
    assert answer.status == 200
    return answer.body


GET_ROUTES = [route for route in ROUTES + CONTROL_ROUTES if route.method == "GET"]


@pytest.mark.parametrize("route", GET_ROUTES, ids=[route.path for route in GET_ROUTES])
def test_head_leaves_the_state_byte_identical_and_answers_the_get_headers(fake, wire, route):
    rich = _rich_world(fake)
    path = _path(route.path, rich.ids)
    if route.path == "/oauth/authorize":
        path += f"?oauth_token={rich.request_token[0]}"
    before = _state(wire)
    head = wire.request("HEAD", path, *_signed(fake, route, "HEAD", path, rich), "User-Agent: " + NOKIA_6233_UA)
    assert _state(wire) == before, f"HEAD {path} changed the state"
    assert head.body == b""
    if route.writes and route.peek is None:  # a token endpoint: its GET answer is the change
        assert (head.status, head.headers.get("allow")) == (405, "GET, POST")
        assert_kept(head)
        return
    get = wire.request("GET", path, *_signed(fake, route, "GET", path, rich), "User-Agent: " + NOKIA_6233_UA)
    assert head.status == get.status == (501 if route.path.endswith("/datastores/") else 200), (head, get.body)
    for name in ("content-type", "content-length", "allow", "www-authenticate"):
        assert head.headers.get(name) == get.headers.get(name), name
    assert_kept(head)


def test_head_of_the_detection_link_records_no_visit(fake, wire):
    """The reported input: `HEAD /d/{code}` recorded a detection. A link preview (HEAD)
    sees the page the phone would see; only the phone's GET is its visit."""
    rich = _rich_world(fake)
    code = rich.ids["{code}"]
    head = wire.request("HEAD", f"/d/{code}", f"User-Agent: {NOKIA_6233_UA}")
    assert (head.status, head.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert fake.app.world.detection.detections[code].status == "pending"
    get = wire.request("GET", f"/d/{code}", f"User-Agent: {NOKIA_6233_UA}")
    assert "Nokia 6233" in get.text
    assert head.headers["content-length"] == get.headers["content-length"]
    detection = fake.app.world.detection.detections[code]
    assert (detection.status, detection.model.name) == ("detected", "Nokia 6233")


def test_head_does_not_run_due_phone_actions(fake, wire):
    """Any other request first runs the phone actions whose virtual time has come
    (autopilot); a HEAD runs none and shows the world as it stands: the next GET runs them."""
    world = fake.app.world
    with world.lock:
        alice = world.users["alice"]
        world.simulated_phones.set_autopilot("+4722222222", {"user_agent": NOKIA_6233_UA, "visit_after": 60})
        code = world.detection.detect_manual(alice, "+4722222222", fake.url + "/d/{code}").code
        world.clock.advance(120)  # the phone's visit is due, not yet run
    poll = f"/v2/phones/detect/manual/{code}/"
    before = world.to_dict()  # not GET /_fake/state: as any request, it would run the visit
    head = wire.request("HEAD", poll, user="alice")
    assert head.status == 200 and head.body == b""
    assert world.to_dict() == before
    assert world.detection.detections[code].status == "pending"
    get = wire.request("GET", poll, user="alice")
    assert world.detection.detections[code].status == "detected"
    assert b"Nokia 6233" in get.body


def test_head_of_a_token_endpoint_issues_no_token(fake, wire):
    """Its GET answer is the new token: HEAD is refused, unsigned or signed, at no cost."""
    rich = _rich_world(fake)
    route = next(r for r in ROUTES if (r.method, r.path) == ("GET", "/oauth/access_token"))
    for path in ("/oauth/access_token", "/oauth/request_token"):
        unsigned = wire.request("HEAD", path)
        assert (unsigned.status, unsigned.headers.get("allow")) == (405, "GET, POST")
    head = wire.request("HEAD", "/oauth/access_token", *_signed(fake, route, "HEAD", "/oauth/access_token", rich))
    assert head.status == 405
    assert rich.request_token[0] in fake.app.world.tokens.request_tokens  # not spent by the HEAD
    get = wire.request("GET", "/oauth/access_token", *_signed(fake, route, "GET", "/oauth/access_token", rich))
    assert get.status == 200 and get.text.startswith("oauth_token=")
    assert rich.request_token[0] not in fake.app.world.tokens.request_tokens
