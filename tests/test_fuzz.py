"""Fuzzing every route for the answers the fake must never give (issue 10).

Bounded and deterministic: hypothesis with a fixed derivation of its seed (`derandomize`),
no example database, a fixed number of examples per test. Most of it runs in-process
(tests/fuzz_strategies.py builds the WSGI environ waitress would); a smaller phase sends
raw bytes to a real server for what only exists on the wire (Host, Transfer-Encoding,
Content-Length, repeated headers, Expect).

Every request starts from the same seeded world (alice owns a client of every kind, a
binding, items, a session, a detection code; tests/fuzz_strategies.py), and must:
- never answer 5xx (no faults are injected; the only 5xx by design is `501 Not implemented
  yet` of GET /v2/services/syncml/datastores/, SyncML Client API "Datastore API");
- leave the state (the state document and the fault rules) as it was when it answers 4xx,
  and whatever it answers when it only reads (GET and HEAD, except the routes that record
  a visit or issue a token);
- say what was wrong: a 4xx body is "<status> <reason>: <a sentence>";
- be well-formed: a Content-Type on every body, XML and JSON bodies that parse, no CR or
  LF in a header value, `Allow` on 405 (RFC 9110 §15.5.6), `WWW-Authenticate` on 401
  (RFC 9110 §15.5.2).

A longer campaign: `OCSS_FUZZ_EXAMPLES=200` (examples per route; every other test scales in
proportion; default 10), `OCSS_FUZZ_SEED=<int>` for another sequence than CI's, and
`OCSS_FUZZ_RECORD=findings.jsonl` to log every violation and carry on instead of failing at
the first one of each test.
"""
from __future__ import annotations

import http.client
import io
import json
import os
import re
import socket
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from lxml import etree
from werkzeug.exceptions import HTTPException

from ocss_testkit.routes import CONTROL_ROUTES, ROUTES, Route, build_map
from ocss_testkit.server import FakeServer
from tests.fuzz_strategies import (
    HUGE,
    JSON_CONTENT_TYPES,
    JSON_EXAMPLES,
    USERS,
    VALID_BODIES,
    Answer,
    RawCase,
    Seeded,
    Wire,
    between,
    call_wsgi,
    compact,
    host_values,
    json_diff,
    json_text,
    known_key,
    nasty_text,
    oauth_header,
    one,
    patch_operations,
    pct,
    query_string,
    raw_request,
    route_path,
    seed_world,
    sign,
    state_mutation,
    xml_body,
)

PER_ROUTE = 10
EXAMPLES = int(os.environ.get("OCSS_FUZZ_EXAMPLES") or PER_ROUTE)
SEED = os.environ.get("OCSS_FUZZ_SEED")


def fuzz(default: int):
    """Hypothesis settings for a fuzz test that runs `default` examples at PER_ROUTE."""
    def decorate(test):
        test = settings(max_examples=max(1, default * EXAMPLES // PER_ROUTE), deadline=None, database=None,
                        derandomize=SEED is None, print_blob=False,
                        phases=(Phase.explicit, Phase.generate, Phase.shrink),
                        suppress_health_check=list(HealthCheck))(test)
        return seed(int(SEED))(test) if SEED else test
    return decorate


ALL_ROUTES: tuple[Route, ...] = ROUTES + CONTROL_ROUTES
BY_KEY = {f"{r.method} {r.path}": r for r in ALL_ROUTES}
NOT_IMPLEMENTED = {"GET /v2/services/syncml/datastores/"}  # 501 by design (SyncML Client API, "Datastore API")


@pytest.fixture(scope="module")
def seeded() -> Seeded:
    return seed_world()


# --- the properties -------------------------------------------------------------------------
def changes(before, after) -> list[str]:
    if before is None or after is None:  # not compared
        return []
    (world_a, faults_a), (world_b, faults_b) = before, after
    changed = [k for k in sorted(set(world_a) | set(world_b)) if world_a.get(k) != world_b.get(k)]
    return changed + (["faults"] if faults_a != faults_b else [])


def violations(wire: Wire, answer: Answer, before, after, *, reads: bool, allowed_5xx=(),
               strict: bool = True) -> list[str]:
    """What is wrong with this answer to this request (empty: nothing)."""
    found = []
    status = answer.status
    text = answer.body.decode("utf-8", "replace")
    if status >= 500 and status not in allowed_5xx:
        found.append(f"answered {status} {answer.reason}: {compact(text, 300)}")
    changed = changes(before, after)
    if changed and status >= 400:
        found.append(f"refused with {status} but changed the state: {', '.join(changed)}")
    elif changed and reads:
        found.append(f"a {wire.method} that only reads changed the state: {', '.join(changed)}")
    for name, value in answer.headers:
        if "\r" in value or "\n" in value:
            found.append(f"header {name} holds a line break: {value!r}")
    ctype = (answer.header("Content-Type") or "").split(";")[0].strip().lower()
    if answer.body and not ctype:
        found.append("a body without Content-Type")
    if answer.body and ctype in ("application/atom+xml", "application/xml", "text/xml"):
        try:
            etree.fromstring(answer.body, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            found.append(f"{ctype} body does not parse: {exc}")
    if answer.body and ctype == "application/json":
        try:
            json.loads(answer.body)
        except ValueError as exc:
            found.append(f"JSON body does not parse: {exc}")
    if 400 <= status < 600 and wire.method.upper() != "HEAD":
        if ctype == "text/html":  # the pages a person's (or a phone's) browser shows
            detail = re.sub(r"<[^>]*>", " ", text.split("<body", 1)[-1])
        elif not strict:  # the HTTP server's own refusals (before the app) have their own layout
            detail = text
        else:
            detail = text.split(": ", 1)[1].strip() if text.startswith(f"{status} ") and ": " in text else ""
        if len(detail.strip()) < 10 or not re.search(r"[A-Za-z]{2}", detail):
            found.append(f"a {status} body that is not '<status> <reason>: <sentence>': {compact(text, 200)!r}")
        if "Traceback" in text:
            found.append("a traceback in the body")
    if status == 405 and not answer.header("Allow"):
        found.append("405 without Allow")
    if status == 401 and not answer.header("WWW-Authenticate"):
        found.append("401 without WWW-Authenticate")
    return found


def send(seeded: Seeded, wire: Wire, route: Route | None, user: str | None = None, host: str = "localhost",
         sign_in_query: bool = False) -> tuple[Wire, Answer, list[str]]:
    """Restore the seeded world, send the request (signed for `user` if given), check it.
    Returns the request as sent, the answer and what was wrong with it."""
    before = seeded.restore()
    wire = Wire(wire.method, seeded.resolve(wire.target), wire.headers,
                seeded.resolve(wire.body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape"))
    if route is not None:
        wire = signed(seeded, wire, route, user, host, sign_in_query)
    answer = call_wsgi(seeded.app, wire)
    return wire, answer, check(seeded, wire, answer, before)


def check(seeded: Seeded, wire: Wire, answer: Answer, before, allowed_5xx=(), strict: bool = True) -> list[str]:
    """The violations of an answer, judged against the route the request reached."""
    after = seeded.snapshot()
    seeded.settle(after)
    reached = matched(wire)
    reads = wire.method.upper() == "HEAD" or reached is None or not reached.writes
    if reached is not None and route_id(reached) in NOT_IMPLEMENTED:
        allowed_5xx = (*allowed_5xx, 501)
    return violations(wire, answer, before, after, reads=reads, allowed_5xx=allowed_5xx, strict=strict)


def matched(wire: Wire) -> Route | None:
    """The route a request reaches, as the app matches it (None: 404 or 405)."""
    path = unquote_to_bytes(wire.target.split("?")[0]).decode("latin-1")
    path = "/" + path.lstrip("/")
    try:
        route, _ = build_map().bind("localhost").match(path[:-1] if len(path) > 1 and path.endswith("/") else path,
                                                      method=wire.method.upper())
    except HTTPException:
        return None
    return route


RECORD = os.environ.get("OCSS_FUZZ_RECORD")  # a campaign: append findings to this file instead of failing


def verdict(wire: Wire | RawCase, problems: list[str], where: str = "in-process") -> None:
    report = "\n".join(problems) + f"\n--- reproducer ({where}, seeded world) ---\n" + wire.describe()
    if RECORD and problems:
        with open(RECORD, "a", encoding="utf-8") as out:
            out.write(json.dumps({"problems": problems, "reproducer": wire.describe(10 ** 6), "where": where}) + "\n")
        return
    assert not problems, report


# Which of VALID_BODIES a route's base request sends (else the first).
DEFAULT_BODY = {"POST /v2/services/google/": 2, "PUT /v2/services/google/": 1, "POST /v2/services/activesync/": 1}
ADMIN_ONLY = {"GET /v2/services/syncml/sessions/chatlog/", "GET /v2/services/syncml/sessions/{session}/chatlog/"}


def default_user(route: Route) -> str:
    return "admin" if route_id(route) in ADMIN_ONLY else "alice"


def default_body(route: Route, seeded: Seeded) -> tuple[list[tuple[str, str]], bytes]:
    """A body the route accepts, for the tests that fuzz everything else."""
    if route.request_schema:
        body = VALID_BODIES[route.request_schema][DEFAULT_BODY.get(route_id(route), 0)]
        return [("Content-Type", "application/atom+xml")], body.encode()
    key = f"{route.method} {route.path}"
    if key in JSON_EXAMPLES:
        return [("Content-Type", "application/json")], json.dumps(JSON_EXAMPLES[key][0]).encode()
    if key == "PUT /_fake/state":
        return [("Content-Type", "application/json")], json.dumps(seeded.state).encode()
    if key == "PATCH /_fake/state":
        return [("Content-Type", "application/json-patch+json")], b'[{"op": "test", "path": "/version", "value": 1}]'
    if key == "POST /oauth/authorize":
        return ([("Content-Type", "application/x-www-form-urlencoded")],
                b"oauth_token=@request_token@&user=alice&approve=yes")
    return [], b""


def signed(seeded: Seeded, wire: Wire, route: Route, user: str | None, host: str = "localhost",
           in_query: bool = False) -> Wire:
    """Signed as the route needs: an access token for the API, the consumer alone for a request
    token, the approved request token and its verifier for an access token. Unsigned when
    `user` is None or oauthlib will not sign the URI."""
    if user is None:
        return wire
    k = seeded.known
    if route.path == "/oauth/request_token":
        return sign(wire, None, host, in_query=in_query, callback="oob") or wire
    if route.path == "/oauth/access_token":
        return sign(wire, None, host, in_query=in_query, token=(k["approved_token"], k["approved_secret"]),
                    verifier=k["verifier"]) or wire
    if not route.auth:
        return wire
    return sign(wire, user, host, in_query=in_query) or wire


def known_path(route: Route, draw=None) -> str:
    """The route's path with real ids of the seeded world (the first of each kind, or drawn)."""
    def fill(m: re.Match) -> str:
        keys = known_key(route.path, m.group(1))
        return "@%s@" % (one(draw, keys) if draw else keys[0])
    path = re.sub(r"\{(\w+)\}", fill, route.path)
    return path + "?oauth_token=@request_token@" if route_id(route) == "GET /oauth/authorize" else path


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


# --- 0. the fuzzers start from requests that reach every handler -------------------------------
REFUSED_BY_DESIGN = {"DELETE /v2/services/google/": 400, "POST /v2/services/syncml/setup/": 400,
                     "POST /v2/services/syncml/sync/": 400, "GET /v2/services/syncml/datastores/": 501,
                     # a fake of one world (the seeded one) has no tenants to make or drop (tenants.py)
                     "PUT /_fake/tenants/{tenant}": 404, "DELETE /_fake/tenants/{tenant}": 404}


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
def test_base_requests_reach_the_handler(seeded, route):
    """The request every fuzz test mutates (real ids, a valid body, signed) passes routing,
    OAuth and validation: without it the fuzzers would only ever test refusals."""
    headers, body = default_body(route, seeded)
    wire, answer, problems = send(seeded, Wire(route.method, known_path(route), headers, body), route,
                                  default_user(route))
    verdict(wire, problems)
    expected = 405 if route.refuses else REFUSED_BY_DESIGN.get(route_id(route))
    if expected:
        assert answer.status == expected, (answer.status, answer.body)
    else:
        assert answer.status < 400, (answer.status, answer.body)


# --- what the fuzzers found: each input, its expected answer ----------------------------------
# (id, method, target, headers, body, user, expected status (None: any that keeps the rules above),
# words the message must hold).
# Items of issue 10 and what these tests found; ids and values of the seeded world as @key@.
_DUP_AUTH = ('OAuth oauth_token="bob-access-token", oauth_signature="AAAA", ')
FOUND = [
    ("item1-binding-id", "GET", f"/v2/clients/bindings/{HUGE}/", [], b"", "alice", 404, ["binding"]),
    ("item1-session-id", "GET", f"/v2/services/syncml/sessions/{HUGE}/", [], b"", "alice", 404, ["session"]),
    ("item1-journal-after", "GET", f"/_fake/journal?after={HUGE}", [], b"", None, 400, ["after"]),
    ("item1-fault-id", "DELETE", f"/_fake/faults/{HUGE}", [], b"", None, 404, ["fault"]),
    ("item2-oauth-timestamp", "GET", "/v2/services/syncml/", [("Authorization", (
        'OAuth oauth_consumer_key="demo-consumer-key", oauth_token="alice-access-token", '
        'oauth_signature_method="HMAC-SHA1", oauth_signature="AAAA", oauth_nonce="n", '
        f'oauth_timestamp="{"9" * 400}", oauth_version="1.0"'))], b"", None, 401, ["oauth_timestamp"]),
    ("item3-host-label-64", "GET", "/_fake/health", [("Host", "h" * 64)], b"", None, 400, ["host"]),
    ("item3-host-label-64-signed", "GET", "/v2/services/syncml/", [("Host", "h" * 64)], b"", "alice", 400,
     ["host"]),
    ("item16-repeated-dataclass", "GET", "/v2/services/datastore/@datastore@/contents/?dataclass=Contacts"
     "&dataclass=Notes", [], b"", "alice", 400, ["dataclass"]),
    ("item16-repeated-since", "GET", "/v2/services/datastore/@datastore@/contents/?since=2009-11-01T12:30:00Z"
     "&since=2009-11-01T12:30:00Z", [], b"", "alice", 400, ["since"]),
    ("item16-repeated-outbox-to", "GET", "/_fake/outbox?to=%2B4798765432&to=%2B4790981948", [], b"", None, 400,
     ["to"]),
    ("item16-repeated-journal-after", "GET", "/_fake/journal?after=1&after=2", [], b"", None, 400, ["after"]),
    ("item17-head-detection-page", "HEAD", "/d/@code@", [], b"", None, 200, []),
    ("oauth-endpoint-query-not-urlencoded", "POST", "/oauth/access_token?a[]=1", [], b"", None, 400, []),
    ("oauth-request-token-bad-escape", "GET", "/oauth/request_token?%zz=1", [], b"", None, 400, []),
    ("json-nesting-clock", "POST", "/_fake/clock", [("Content-Type", "application/json")], b"[" * 100_000, None,
     400, ["json"]),
    ("json-nesting-faults", "POST", "/_fake/faults", [("Content-Type", "application/json")], b"[" * 100_000, None,
     400, ["json"]),
    ("json-nesting-state-put", "PUT", "/_fake/state", [("Content-Type", "application/json")], b"[" * 100_000, None,
     400, ["json"]),
    ("json-nesting-state-patch", "PATCH", "/_fake/state", [("Content-Type", "application/json-patch+json")],
     b"[" * 100_000, None, 400, ["json"]),
    ("json-nesting-phone-visit", "POST", "/_fake/phone/@number@/visit", [("Content-Type", "application/json")],
     b'{"a":' * 50_000, None, 400, ["json"]),
    ("state-client-not-an-object", "PUT", "/_fake/state", [("Content-Type", "application/json")],
     lambda state: {**state, "clients": [[]]}, None, 422, ["/clients/0"]),
    ("state-session-store-not-an-object", "PUT", "/_fake/state", [("Content-Type", "application/json")],
     lambda state: {**state, "sessions": [{**state["sessions"][0], "datastores": [[]]}]}, None, 422,
     ["/sessions/0/datastores/0"]),
    ("state-patch-client-not-an-object", "PATCH", "/_fake/state",
     [("Content-Type", "application/json-patch+json")],
     lambda state: [{"op": "replace", "path": "/clients/0", "value": []}], None, 422, ["/clients/0"]),
    ("state-refusal-echoes-a-lone-surrogate", "PUT", "/_fake/state", [("Content-Type", "application/json")],
     lambda state: {**state, "bindings": [{**state["bindings"][0], "source": "\ud800"}]}, None, 422,
     ["/bindings/0/source"]),
    # A raw byte over 0x7F in the query (the HTTP server refuses it at the head; in-process and
    # behind other WSGI servers it reaches the app): werkzeug's request.args decodes it strictly.
    *((f"raw-latin1-query-{name}", "GET", target, [], b"", None, 400, []) for name, target in [
        ("outbox", "/_fake/outbox?to=\xff"), ("journal", "/_fake/journal?problems=\xff"),
        ("authorize", "/oauth/authorize?oauth_token=\xff")]),
    # A JSON string may hold a lone surrogate ("\ud800"); echoed in a refusal, it cannot be encoded.
    *((f"lone-surrogate-echoed-{name}", method, path, [("Content-Type", ctype)], json.dumps(doc).encode(), None,
       status, []) for name, method, path, ctype, doc, status in [
        ("faults", "POST", "/_fake/faults", "application/json", {"bogus\ud800": 1}, 400),
        ("clock", "POST", "/_fake/clock", "application/json", {"x\ud800": 1}, 400),
        ("autopilot", "PUT", "/_fake/phone/@number@/autopilot", "application/json", {"x\ud800": 1}, 400),
        ("state-patch", "PATCH", "/_fake/state", "application/json-patch+json",
         [{"op": "replace", "path": "/\ud800", "value": 1}], 400),
        ("state-put", "PUT", "/_fake/state", "application/json", {"version": 1, "\ud800": 1}, 422)]),
    ("state-request-token-created-at-the-end-of-time", "PUT", "/_fake/state", [("Content-Type", "application/json")],
     lambda state: {**state, "request_tokens": [{**state["request_tokens"][0], "created": "9999-12-31T23:59:59Z"}]},
     None, None, []),
]


@pytest.mark.parametrize("case", FOUND, ids=[c[0] for c in FOUND])
def test_found_inputs_get_the_right_answer(seeded, case):
    _, method, target, headers, body, user, status, words = case
    if callable(body):  # a change to the seeded state document
        body = json.dumps(body(seeded.state)).encode()
    route = matched(Wire(method, seeded.resolve(target)))
    wire = Wire(method, target, headers, body)
    host = dict(headers).get("Host", "localhost")
    wire, answer, problems = send(seeded, wire, route, user, host=host)
    verdict(wire, problems)
    assert status is None or answer.status == status, (answer.status, answer.body[:300])
    for word in words:
        assert word.lower() in answer.body.decode("utf-8", "replace").lower(), (word, answer.body[:300])


# --- 1. every route: path placeholders, query strings, methods, who signs --------------------
ODD_METHODS = ["HEAD", "OPTIONS", "TRACE", "PATCH", "CONNECT", "get", "FOO", "M-SEARCH", "PROPFIND", "GET" * 30]


@pytest.mark.parametrize("route", ALL_ROUTES, ids=route_id)
@fuzz(PER_ROUTE)
@given(data=st.data())
def test_every_route_takes_any_path_and_query(seeded, route, data):
    path = route_path(data.draw, route)
    query = query_string(data.draw, route)
    method = one(data.draw, [route.method] * 6 + ODD_METHODS[:6] + ["GET", "POST", "PUT", "DELETE"])
    user = one(data.draw, ["alice"] * 5 + ["bob", "admin", None])
    headers, body = default_body(route, seeded)
    wire, _, problems = send(seeded, Wire(method, path + query, headers, body), route, user,
                             sign_in_query=between(data.draw, 0, 5) == 0)
    verdict(wire, problems)


# --- 2. bodies: mutated XML on every route that takes one ------------------------------------
BODY_ROUTES = [r for r in ROUTES if r.request_schema]


@pytest.mark.parametrize("route", BODY_ROUTES, ids=route_id)
@fuzz(3 * PER_ROUTE)
@given(data=st.data())
def test_write_routes_take_any_xml_body(seeded, route, data):
    ctype, body = xml_body(data.draw, route.request_schema)
    path = known_path(route, data.draw)
    headers = [("Content-Type", ctype)] if ctype else []
    wire, _, problems = send(seeded, Wire(route.method, path, headers, body), route,
                             one(data.draw, ["alice"] * 4 + ["bob", "admin"]))
    verdict(wire, problems)


# --- 3. the control plane's JSON bodies -------------------------------------------------------
JSON_ROUTES = [BY_KEY[k] for k in [*JSON_EXAMPLES, "PUT /_fake/state", "PATCH /_fake/state"]]


@pytest.mark.parametrize("route", JSON_ROUTES, ids=route_id)
@fuzz(3 * PER_ROUTE)
@given(data=st.data())
def test_control_plane_takes_any_json_body(seeded, route, data):
    key = route_id(route)
    if key == "PATCH /_fake/state":
        text = patch_operations(data.draw, seeded.state)
        right = "application/json-patch+json"
    elif key == "PUT /_fake/state":
        text = json_text(data.draw, seeded.state)
        right = "application/json"
    else:
        text = json_text(data.draw, one(data.draw, JSON_EXAMPLES[key]))
        right = "application/json"
    ctype = one(data.draw, [right] * 6 + JSON_CONTENT_TYPES)
    number = one(data.draw, ["@number@", "@number@", "%2A", pct(data.draw(nasty_text()))])
    path = route.path.replace("{number}", number)
    wire, _, problems = send(seeded, Wire(route.method, path, [("Content-Type", ctype)] if ctype else [],
                                          text.encode("utf-8", "surrogatepass")), route)
    where = "in-process"
    if key == "PUT /_fake/state" and problems:
        try:
            where += "; the body is the seeded state changed at " + "; ".join(json_diff(seeded.state, json.loads(text)))
        except ValueError:
            pass
    verdict(wire, problems, where)


# --- 4. OAuth: absurd, missing, repeated protocol parameters ----------------------------------
AUTH_ROUTES = [r for r in ROUTES if r.auth and not r.refuses] + [BY_KEY["POST /oauth/request_token"],
                                                                 BY_KEY["POST /oauth/access_token"]]


def _with_oauth_query(draw, target: str) -> str:
    name = one(draw, ["oauth_token", "oauth_signature", "oauth_timestamp", "oauth_nonce",
                      "oauth_consumer_key", "oauth_signature_method"])
    value = pct(draw(nasty_text()))
    return target + ("&" if "?" in target else "?") + f"{name}={value}"


@fuzz(12 * PER_ROUTE)
@given(data=st.data())
def test_oauth_takes_any_protocol_parameters(seeded, data):
    route = one(data.draw, AUTH_ROUTES)
    path = known_path(route)
    headers, body = default_body(route, seeded)
    mode = one(data.draw, ["garbage", "absurd-signed", "repeated", "query", "two-headers"])
    before = seeded.restore()
    wire = Wire(route.method, seeded.resolve(path), headers, seeded.resolve(body.decode()).encode())
    user = one(data.draw, USERS)
    if mode == "garbage":
        wire.headers = [*wire.headers, ("Authorization", oauth_header(data.draw))]
    elif mode == "absurd-signed":
        # Signed correctly, with absurd values in what the signature covers.
        from oauthlib.oauth1 import Client
        nonce = one(data.draw, ["n" * 5000, "é", "\x00", "  ", HUGE, "a,b", '"']) if between(data.draw, 0, 1) \
            else data.draw(nasty_text())
        stamp = one(data.draw, ["9" * 400, HUGE, "-1", "0", "1e10", "\u0661\u0662", "12.5", " 1"])
        signer = Client("demo-consumer-key", client_secret="demo-consumer-secret",
                        resource_owner_key=f"{user}-access-token", resource_owner_secret=f"{user}-access-secret",
                        nonce=nonce, timestamp=stamp)
        try:
            _, signed, _ = signer.sign(f"http://localhost{wire.target}", http_method=wire.method)
            wire.headers = [*wire.headers, ("Authorization", signed["Authorization"])]
        except (ValueError, TypeError, UnicodeError):
            wire.headers = [*wire.headers, ("Authorization", oauth_header(data.draw))]
    else:
        signed = sign(wire, user)
        authorization = signed.header("Authorization")
        if mode == "repeated":
            extra = oauth_header(data.draw).split(" ", 1)[-1]
            authorization = authorization.replace("OAuth ", f"OAuth {extra}, " if extra else "OAuth ", 1)
            wire.headers = [*wire.headers, ("Authorization", authorization)]
        elif mode == "query":
            wire.target = _with_oauth_query(data.draw, wire.target)
            wire.headers = [*wire.headers, ("Authorization", authorization)]
        else:
            wire.headers = [*wire.headers, ("Authorization", authorization),
                            ("Authorization", oauth_header(data.draw))]
    answer = call_wsgi(seeded.app, wire)
    problems = check(seeded, wire, answer, before)
    repeated = repeated_protocol_parameters(wire)
    if repeated and answer.status < 400:
        problems.append(f"accepted with {', '.join(repeated)} given twice (RFC 5849 §3.2: refuse)")
    verdict(wire, problems)


def repeated_protocol_parameters(wire: Wire) -> list[str]:
    """The oauth_* parameters a request gives more than once, in its Authorization header(s)
    and query together (RFC 5849 §3.2)."""
    names = re.findall(r'(?:^|[\s,])(oauth_\w+)\s*=', wire.header("Authorization") or "")
    query = wire.target.partition("?")[2]
    names += [p.split("=", 1)[0] for p in re.split(r"[&;]", query) if p.startswith("oauth_")]
    return sorted({n for n in names if names.count(n) > 1})


# --- 5. Host headers --------------------------------------------------------------------------
@fuzz(12 * PER_ROUTE)
@given(data=st.data())
def test_any_host_header(seeded, data):
    route = one(data.draw, ALL_ROUTES)
    host = data.draw(host_values(), "host")
    path = route_path(data.draw, route)
    headers, body = default_body(route, seeded)
    headers = [("Host", host), *headers]
    wire, _, problems = send(seeded, Wire(route.method, path, headers, body), route, default_user(route), host=host)
    verdict(wire, problems)


# --- 6. HEAD and odd methods on every route ---------------------------------------------------
@fuzz(12 * PER_ROUTE)
@given(data=st.data())
def test_odd_methods_on_every_route(seeded, data):
    route = one(data.draw, ALL_ROUTES)
    method = one(data.draw, ["HEAD"] * 4 + ODD_METHODS)
    path = known_path(route)
    headers, body = default_body(route, seeded)
    wire, _, problems = send(seeded, Wire(method, path, headers, body), route, default_user(route))
    verdict(wire, problems)


# --- 7. a state that loads is a state the API can show ---------------------------------------
READ_ROUTES = [r for r in ALL_ROUTES if r.method == "GET" and not r.writes and r.path != "/_fake/"]


@fuzz(4 * PER_ROUTE)
@given(data=st.data())
def test_any_state_that_loads_can_be_served(seeded, data):
    """PUT /_fake/state, then GET what shows it: a document the fake accepts (as state, fixture
    set or state file) must never make a later answer fail."""
    text = state_mutation(data.draw, seeded.state)
    wire, answer, problems = send(seeded, Wire("PUT", "/_fake/state", [("Content-Type", "application/json")],
                                               text.encode("utf-8", "surrogatepass")), BY_KEY["PUT /_fake/state"])
    verdict(wire, problems)
    if answer.status != 200:
        return
    for route, user in [(r, u) for r in READ_ROUTES for u in (USERS if "{" not in r.path else [default_user(r)])]:
        read = signed(seeded, Wire("GET", seeded.resolve(known_path(route))), route, user)
        shown = call_wsgi(seeded.app, read)
        allowed = (501,) if route_id(route) in NOT_IMPLEMENTED else ()
        problems = violations(read, shown, None, None, reads=True, allowed_5xx=allowed)
        verdict(read, problems, where="in-process, after PUT /_fake/state of the seeded state changed at "
                                      + "; ".join(json_diff(seeded.state, json.loads(text))))
    seeded.clean = False


# --- 8. raw bytes to a real server: framing, Host, repeated and broken header lines ------------
@pytest.fixture(scope="module")
def server(seeded):
    started = FakeServer(app=seeded.app, host="127.0.0.1", port=0, threads=2).start()
    yield started
    started.stop()


def exchange(port: int, case: RawCase) -> bytes:
    """Send the bytes, close our side (a server waiting for more body then sees the end), read
    everything until the server closes. With Expect: 100-continue and a body over any limit,
    only the headers go out and only the first answer line comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            sock.sendall(case.data)
            if case.expect_big:
                try:
                    return sock.makefile("rb").readline()
                except TimeoutError:  # it waits for the body: what the test reports
                    return b""
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server refused early and closed: read what it said
            pass
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


def first_answer(received: bytes, method: str) -> Answer | None:
    class _Socket:
        def makefile(self, *args, **kwargs):
            return io.BytesIO(received)
    response = http.client.HTTPResponse(_Socket(), method=method)
    try:
        response.begin()
        body = response.read()
    except (http.client.HTTPException, OSError):
        return None
    return Answer(response.status, response.reason, response.getheaders(), body)


@fuzz(8 * PER_ROUTE)
@given(data=st.data())
def test_raw_http_messages(seeded, server, data):
    route = one(data.draw, ALL_ROUTES)
    host = f"127.0.0.1:{server.port}"
    before = seeded.restore()
    headers, body = default_body(route, seeded)
    query = query_string(data.draw, route) if between(data.draw, 0, 3) == 0 else ""
    target = seeded.resolve(known_path(route)) + query
    method = one(data.draw, [route.method] * 8 + ["HEAD", "get", "FOO", "OPTIONS"])
    wire = Wire(method, seeded.resolve(target), headers, seeded.resolve(body.decode()).encode())
    wire = signed(seeded, wire, route, default_user(route), host)
    case = raw_request(data.draw, wire.method, wire.target, wire.headers, wire.body, host)
    received = exchange(server.port, case)
    problems = []
    if case.expect_big:
        seeded.settle(None)
        if received.startswith(b"HTTP/1.1 100"):
            problems.append("100 Continue for a body over the limit: refuse at the headers (413)")
        elif not received:
            problems.append("no answer to headers announcing a body over the limit (waits for the body)")
        elif not re.match(rb"HTTP/1\.[01] (413|417|400)", received):
            problems.append(f"Expect: 100-continue with a body over the limit answered {received[:60]!r}")
    else:
        answer = first_answer(received, method.upper())
        if answer is None:
            seeded.settle(None)
            if case.complete and received:
                shown = compact(received.decode("latin-1"), 200)
                problems.append(f"an answer that does not parse as HTTP/1.1: {shown!r}")
            elif case.complete and case.version_1x:
                problems.append("no answer to a complete request")
        else:
            allowed = ((501,) if case.other_coding else ()) + ((505,) if not case.version_1x else ())
            sent = Wire(method, case.target, wire.headers, wire.body)
            problems = check(seeded, sent, answer, before, allowed, strict=False)
    verdict(case, problems, where=f"raw bytes to a FakeServer, {host}")
