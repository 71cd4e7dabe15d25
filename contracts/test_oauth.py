"""OAuth 1.0a: the three-legged flow (route I16) and the verification rules of
docs/decisions.md, "OAuth 1.0a", checked at the wire level on a representative API route,
GET /v2/services/google/ (D1).

The SyncServer API Python interface ("Authentication") says protected parts of the API
need "both a consumer and access token" of "SyncServer's OAuth functionality"; the Google
Data Client API ("Authorization") says no listing or update is allowed to an anonymous
request. How the tokens are obtained is not documented: the fake is a standard
three-legged provider (docs/decisions.md, "Bodies of the inferred routes"), driven the way
the SmartFile Python client (its OAuthClient: request token, authorization URL, verifier,
access token) and the Hexoskin Python API Client (`oauth1_get_request_token_url` /
`oauth1_get_access_token` from the callback) drive one.

What runs where:
- Getting a request token, and every refusal of the token endpoints that needs no
  approval, runs against any target (mutating: the provider issues a token; an unused
  request token expires on its own, there is nothing for the ledger to delete).
- The approval page and its approval are the fake's stand-in for a person signing in to
  the web portal: a live server's approval needs a human, so every contract that needs an
  approved request token is fake_only.
- The verification refusals (tampered signature, wrong secrets, unknown token, replayed nonce,
  stale timestamp) are read-only GETs, signed by hand with oauthlib's Client.

These contracts sign requests themselves, so they talk through their own requests.Session
(`contract.target.new_session()`, which mounts the in-process transport on the fake) and
not through `contract.api`. Such a session bypasses the harness's safety guard; `Wire.send`
below applies the very same check (ocss_testkit.routes.safety against the contract's
safety class) before anything is sent, so the markers stay honest on every target.
"""
from __future__ import annotations

import re
import secrets
import time
from urllib.parse import parse_qs, parse_qsl, urlsplit

import lxml.html
import pytest
import requests
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1

from contracts.common import (
    ATOM_TYPE,
    GDATA_DOC,
    LIBRARY_DOC,
    G,
    GData,
    create_gdata,
    doc_request,
    text,
    uuid_of,
    xpath,
)
from contracts.harness.target import SAFETY_ORDER, Reply, UnsafeRequest
from ocss_testkit.routes import safety

REQUEST_TOKEN, AUTHORIZE, ACCESS_TOKEN = "/oauth/request_token", "/oauth/authorize", "/oauth/access_token"
# A callback no one answers (.invalid is reserved, RFC 2606); redirects are never followed.
CALLBACK = "http://ocss-contracts.invalid/callback"
FORM = "application/x-www-form-urlencoded"
CHALLENGE = re.compile(r'OAuth realm="[^"]+"')
WINDOW = 600  # docs/decisions.md, "OAuth 1.0a": timestamps older than 600 s are refused

FLOW = (f"{LIBRARY_DOC}, 'Authentication': consumer + access token from SyncServer's OAuth; a standard "
        "three-legged provider, driven as the SmartFile and Hexoskin Python clients drive one")
VERIFY = (f"{LIBRARY_DOC}, 'Authentication': protected parts need a consumer and an access token; "
          "HMAC-SHA1 verification (docs/decisions.md, 'OAuth 1.0a'), checked on GET /v2/services/google/")


# --- talking to the target with hand-made signatures -----------------------------------------
class Wire:
    """A contract's own session: requests signed by hand, the contract's safety class enforced."""

    def __init__(self, contract) -> None:
        self.contract = contract
        self.session = contract.target.new_session()
        self.creds = contract.target.credentials["user"]

    def _guard(self, method: str, path: str) -> None:
        # The harness's guard (contracts/harness/target.py Api.request), repeated here because
        # this session is not an Api: a request riskier than the marker is stopped unsent.
        allowed = self.contract.info.safety
        risk = safety(method, path)
        if SAFETY_ORDER.index(risk) > SAFETY_ORDER.index(allowed):
            raise UnsafeRequest(f"{method} {path} is {risk} but the contract is marked {allowed}")

    def url(self, path: str) -> str:
        return self.contract.base_url + path

    def send(self, method: str, path: str, *, url: str | None = None, auth=None, headers=None, data=None,
             params=None) -> Reply:
        """Send to `path` (or to `url`, a signed URL of that path with its query)."""
        if url is not None:  # the guard judges `path`: the URL must be that path
            assert urlsplit(url).path == urlsplit(self.url(path)).path, (url, path)
        self._guard(method, path)
        r = self.session.request(method, url or self.url(path), auth=auth, headers=headers, data=data,
                                 params=params, allow_redirects=False, timeout=self.contract.target.timeout)
        return Reply(r.status_code, r.reason, r.headers, r.content, method, path)

    def send_prepared(self, prepared, path: str) -> Reply:
        """Send an already signed request again, byte for byte (a replay)."""
        assert urlsplit(prepared.url).path == urlsplit(self.url(path)).path, (prepared.url, path)
        self._guard(prepared.method, path)
        r = self.session.send(prepared, allow_redirects=False, timeout=self.contract.target.timeout)
        return Reply(r.status_code, r.reason, r.headers, r.content, prepared.method, path)

    def signed(self, method: str, path: str, *, query: str = "", body: bytes | None = None,
               content_type: str | None = None, **client) -> tuple[str, dict]:
        """(URL, headers) signed by oauthlib's Client as the user; `client` overrides any of
        its arguments (client_secret, resource_owner_key, nonce, timestamp, ...)."""
        args = {"client_secret": self.creds.consumer_secret, "resource_owner_key": self.creds.token,
                "resource_owner_secret": self.creds.token_secret}
        args.update(client)
        key = args.pop("client_key", self.creds.consumer_key)
        headers = {"Content-Type": content_type} if content_type else {}
        url = self.url(path) + (f"?{query}" if query else "")
        uri, signed, _ = Client(key, **args).sign(url, http_method=method, body=body.decode() if body else None,
                                                  headers=headers)
        return uri, dict(signed)

    def get_signed(self, path: str, *, query: str = "", **client) -> Reply:
        uri, headers = self.signed("GET", path, query=query, **client)
        return self.send("GET", path, url=uri, headers=headers)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def wire(contract):
    w = Wire(contract)
    yield w
    w.close()


def _hide(contract, name: str, value: str) -> str:
    """Keep a token the server issued out of reports."""
    return contract.hide(f"{name}-{value[-4:]}", value) if value else value


def assert_refused(reply: Reply) -> None:
    """A request without valid OAuth gets 401 with `WWW-Authenticate: OAuth realm="…"`
    (docs/decisions.md, "Another user's object"), with a human-readable reason and nothing
    of the resource ("Bad input")."""
    assert reply.status_line == (401, "Unauthorized"), (reply, reply.text[:300])
    challenge = reply.headers.get("WWW-Authenticate", "")
    assert CHALLENGE.fullmatch(challenge), f"bad WWW-Authenticate: {challenge!r}"
    assert reply.body.strip(), "a 401 without a reason"
    assert b"<feed" not in reply.body and b"oauth_token=" not in reply.body, "a refusal that still answers"


def assert_listing(reply: Reply, base_url: str) -> None:
    """D1 as 001 "List all clients" shows it: 200 OK, an Atom feed with id …/google/all.xml."""
    assert reply.status_line == (200, "OK"), (reply, reply.text[:300])
    assert reply.content_type == ATOM_TYPE
    assert text(reply, "/a:feed/a:id") == f"{base_url}{G}all.xml"


# --- the three legs ----------------------------------------------------------------------
def request_token(contract, wire: Wire, callback: str = CALLBACK) -> dict:
    """Leg 1, signed with the consumer only (002 `get_request_token`, 004
    `oauth1_get_request_token_url`)."""
    auth = OAuth1(wire.creds.consumer_key, wire.creds.consumer_secret, callback_uri=callback)
    reply = wire.send("POST", REQUEST_TOKEN, auth=auth)
    assert reply.status_line == (200, "OK"), (reply, reply.text[:300])
    assert reply.content_type.split(";")[0].strip() == FORM
    token = dict(parse_qsl(reply.text, keep_blank_values=True, strict_parsing=True))
    _hide(contract, "request-token", token.get("oauth_token", ""))
    _hide(contract, "request-token-secret", token.get("oauth_token_secret", ""))
    return token


def exchange(wire: Wire, token: dict, verifier: str) -> Reply:
    """Leg 3: the request token and the verifier for an access token."""
    auth = OAuth1(wire.creds.consumer_key, wire.creds.consumer_secret, token["oauth_token"],
                  token["oauth_token_secret"], verifier=verifier)
    return wire.send("POST", ACCESS_TOKEN, auth=auth)


def authorization_form(wire: Wire, token: dict) -> tuple[str, dict, list[str]]:
    """The fake's approval page (a person signing in on the live portal): (action, hidden
    fields, users on offer)."""
    page = wire.send("GET", AUTHORIZE, params={"oauth_token": token["oauth_token"]})
    assert page.status_line == (200, "OK"), (page, page.text[:300])
    assert page.content_type.startswith("text/html")
    (form,) = lxml.html.fromstring(page.body).forms
    assert form.method.upper() == "POST"
    hidden = {i.name: i.value for i in form.inputs if getattr(i, "type", None) == "hidden"}
    return form.action, hidden, list(form.inputs["user"].value_options)


def approve(wire: Wire, token: dict, user: str) -> str:
    """Leg 2 on the fake: the user approves; the redirect carries the verifier."""
    _, hidden, _ = authorization_form(wire, token)
    reply = wire.send("POST", AUTHORIZE, data={**hidden, "user": user, "approve": "yes"})
    assert reply.status_line == (302, "Found"), (reply, reply.text[:300])
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    return query["oauth_verifier"][0]


# --- I16, leg 1: the request token (any target) ---------------------------------------------
@pytest.mark.inferred("I16", basis=FLOW)
@pytest.mark.mutating  # the provider issues a request token
def test_request_token_is_form_encoded_and_confirms_the_callback(contract, wire):
    token = request_token(contract, wire)
    assert set(token) >= {"oauth_token", "oauth_token_secret", "oauth_callback_confirmed"}
    assert token["oauth_callback_confirmed"] == "true"  # OAuth 1.0a (RFC 5849 §2.1)
    assert token["oauth_token"] and token["oauth_token_secret"]
    assert token["oauth_token"] != token["oauth_token_secret"]
    again = request_token(contract, wire)
    assert again["oauth_token"] != token["oauth_token"], "two request tokens are the same"


@pytest.mark.inferred("I16", basis=FLOW)
@pytest.mark.mutating  # POST /oauth/request_token: would issue a token if the signature passed
@pytest.mark.parametrize("case", ["wrong-consumer-secret", "unknown-consumer-key"])
def test_request_token_needs_the_consumers_signature(contract, wire, case):
    key, secret = wire.creds.consumer_key, wire.creds.consumer_secret
    if case == "wrong-consumer-secret":
        secret = "not-the-" + secrets.token_hex(6)
    else:
        key = contract.name("no-such-consumer")
    reply = wire.send("POST", REQUEST_TOKEN, auth=OAuth1(key, secret, callback_uri=CALLBACK))
    assert_refused(reply)


@pytest.mark.inferred("I16", basis=FLOW + "; RFC 5849 §2.1: oauth_callback is required")
@pytest.mark.mutating  # POST /oauth/request_token
def test_request_token_without_a_callback_is_400(contract, wire):
    auth = OAuth1(wire.creds.consumer_key, wire.creds.consumer_secret)  # no oauth_callback at all
    reply = wire.send("POST", REQUEST_TOKEN, auth=auth)
    assert reply.status_line == (400, "Bad Request"), (reply, reply.text[:300])
    assert b"oauth_token=" not in reply.body


@pytest.mark.inferred("I16", basis=FLOW)
@pytest.mark.mutating  # gets a request token
def test_request_token_is_not_an_access_token(contract, wire):
    token = request_token(contract, wire)
    reply = wire.get_signed(G, resource_owner_key=token["oauth_token"],
                            resource_owner_secret=token["oauth_token_secret"])
    assert_refused(reply)


# --- I16, leg 3 refused before any approval (any target) -------------------------------------
@pytest.mark.inferred("I16", basis=FLOW)
@pytest.mark.mutating  # gets a request token, tries to get an access token
def test_unapproved_request_token_cannot_be_exchanged(contract, wire):
    token = request_token(contract, wire)
    reply = exchange(wire, token, verifier="guessed-" + secrets.token_hex(4))
    assert_refused(reply)


# --- I16: the whole flow and its refusals on the fake (approval needs a person live) ---------
@pytest.mark.inferred("I16", basis=FLOW)
@pytest.mark.fake_only("approving a request token needs a person signing in on the live portal")
@pytest.mark.mutating
def test_three_legged_flow_gives_a_working_access_token(contract, fake, wire):
    # bob's own client, made with his demo token: the new token must show it, alice's must not
    _, bobs, _ = create_gdata(contract, role="other")
    token = request_token(contract, wire)

    action, hidden, users = authorization_form(wire, token)
    assert action == contract.base_url + AUTHORIZE
    assert hidden["oauth_token"] == token["oauth_token"]
    assert {"alice", "bob"} <= set(users)
    reply = wire.send("POST", AUTHORIZE, data={**hidden, "user": "bob", "approve": "yes"})
    assert reply.status_line == (302, "Found"), (reply, reply.text[:300])
    location = reply.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["oauth_token"] == [token["oauth_token"]]
    (verifier,) = query["oauth_verifier"]

    reply = exchange(wire, token, verifier)
    assert reply.status_line == (200, "OK"), (reply, reply.text[:300])
    assert reply.content_type.split(";")[0].strip() == FORM
    access = dict(parse_qsl(reply.text, strict_parsing=True))
    new_key = _hide(contract, "issued-token", access["oauth_token"])
    new_secret = _hide(contract, "issued-token-secret", access["oauth_token_secret"])
    assert new_key and new_secret
    assert new_key != token["oauth_token"] and new_secret != token["oauth_token_secret"]
    assert new_key not in (wire.creds.token, "bob-access-token")

    listing = wire.get_signed(G, resource_owner_key=new_key, resource_owner_secret=new_secret)
    assert_listing(listing, contract.base_url)
    mine = [f"{contract.base_url}{G}{bobs}"]
    assert [e.text for e in xpath(listing, "/a:feed/a:entry/a:id")] == mine, "the new token does not act as bob"
    assert contract.api.get(f"{G}{bobs}/").status == 403  # and alice's token still acts as alice
    # the request token is spent: a second exchange is refused, the issued token still works
    assert_refused(exchange(wire, token, verifier))
    assert_listing(wire.get_signed(G, resource_owner_key=new_key, resource_owner_secret=new_secret),
                   contract.base_url)


@pytest.mark.inferred("I16", basis=FLOW)
@pytest.mark.fake_only("approving a request token needs a person signing in on the live portal")
@pytest.mark.mutating
def test_wrong_verifier_is_refused_and_spends_nothing(contract, fake, wire):
    token = request_token(contract, wire)
    verifier = approve(wire, token, "bob")
    before = fake.state.get()
    assert_refused(exchange(wire, token, "not-" + verifier))
    assert fake.state.get() == before
    reply = exchange(wire, token, verifier)  # the refusal did not burn the request token
    assert reply.status_line == (200, "OK"), (reply, reply.text[:300])
    assert "oauth_token" in dict(parse_qsl(reply.text))


@pytest.mark.inferred("I16", basis=FLOW)
@pytest.mark.fake_only("the approval page is the fake's stand-in for the live portal's sign-in")
@pytest.mark.mutating
def test_approval_refusals_change_nothing(contract, fake, wire):
    unknown = contract.name("no-such-request-token")
    reply = wire.send("GET", AUTHORIZE, params={"oauth_token": unknown})
    assert reply.status_line == (400, "Bad Request"), (reply, reply.text[:300])
    token = request_token(contract, wire)
    before = fake.state.get()
    reply = wire.send("POST", AUTHORIZE, data={"oauth_token": unknown, "user": "bob"})
    assert reply.status_line == (400, "Bad Request"), (reply, reply.text[:300])
    reply = wire.send("POST", AUTHORIZE, data={"oauth_token": token["oauth_token"], "user": "mallory"})
    assert reply.status_line == (400, "Bad Request"), (reply, reply.text[:300])
    assert "Location" not in reply.headers
    assert fake.state.get() == before
    # still approvable, once: a second approval does not replace the first
    verifier = approve(wire, token, "bob")
    reply = wire.send("POST", AUTHORIZE, data={"oauth_token": token["oauth_token"], "user": "alice"})
    assert reply.status_line == (400, "Bad Request"), (reply, reply.text[:300])
    assert exchange(wire, token, verifier).status_line == (200, "OK")


# --- verification on the wire: GET /v2/services/google/ (read-only, any target) ---------------
@pytest.mark.documented(GDATA_DOC, "Authorization", "D1")
@pytest.mark.read_only
@pytest.mark.parametrize("authorization", [None, "Basic", "Bearer"])
def test_anonymous_listing_is_refused_with_an_oauth_challenge(contract, wire, authorization):
    """001 "Authorization": no listing to an anonymous request; a Basic login (002's
    BasicClient) or a bearer token is anonymous to an OAuth 1.0a server."""
    headers = {"Accept": ATOM_TYPE}
    if authorization == "Basic":
        headers["Authorization"] = "Basic YWxpY2U6c2VjcmV0"  # alice:secret
    elif authorization == "Bearer":
        headers["Authorization"] = f"Bearer {wire.creds.token}"
    assert_refused(wire.send("GET", G, headers=headers))


@pytest.mark.inferred("I16", basis=VERIFY)
@pytest.mark.read_only
def test_hand_signed_request_is_accepted(contract, wire):
    """The control for the refusals below: oauthlib's Client, as they use it, signs correctly."""
    assert_listing(wire.get_signed(G), contract.base_url)


def _bad_signature(wire: Wire) -> tuple[str, dict]:
    uri, headers = wire.signed("GET", G)
    sig = re.search(r'oauth_signature="([^"]+)"', headers["Authorization"]).group(1)
    forged = ("A" if sig[0] != "A" else "B") + sig[1:]
    headers["Authorization"] = headers["Authorization"].replace(f'oauth_signature="{sig}"',
                                                                f'oauth_signature="{forged}"')
    return uri, headers


REFUSALS = {  # case -> oauthlib Client arguments (None: build the request in the contract)
    "tampered-signature": None,
    "wrong-consumer-secret": {"client_secret": "not-the-consumer-secret"},
    "wrong-token-secret": {"resource_owner_secret": "not-the-token-secret"},
    "unknown-token": {"resource_owner_key": "ocss-contracts-no-such-token"},
    "unknown-consumer-key": {"client_key": "ocss-contracts-no-such-consumer"},
    "consumer-only": {"resource_owner_key": None, "resource_owner_secret": None},  # 000: needs both tokens
    "stale-timestamp": {"timestamp": lambda: str(int(time.time()) - WINDOW - 100)},
    "future-timestamp": {"timestamp": lambda: str(int(time.time()) + WINDOW + 100)},
}


@pytest.mark.inferred("I16", basis=VERIFY)
@pytest.mark.read_only
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_oauth_is_401(contract, wire, case):
    if REFUSALS[case] is None:
        uri, headers = _bad_signature(wire)
        reply = wire.send("GET", G, url=uri, headers=headers)
    else:
        args = {k: v() if callable(v) else v for k, v in REFUSALS[case].items()}
        reply = wire.get_signed(G, **args)
    assert_refused(reply)


@pytest.mark.inferred("I16", basis=VERIFY + "; OAuth 1.0a: the signature covers the query")
@pytest.mark.read_only
def test_signature_covers_the_query(contract, wire):
    uri, headers = wire.signed("GET", G, query="alt=atom")
    assert uri.endswith("?alt=atom")
    assert_refused(wire.send("GET", G, url=uri.replace("alt=atom", "alt=rss"), headers=headers))
    # the same headers with the query they were made for are accepted: only the change was refused
    assert_listing(wire.send("GET", G, url=uri, headers=headers), contract.base_url)


@pytest.mark.inferred("I16", basis=VERIFY + ": a nonce is used once")
@pytest.mark.read_only
def test_replayed_request_is_401(contract, wire):
    prepared = wire.session.prepare_request(
        requests.Request("GET", wire.url(G), auth=wire.creds.auth(), headers={"Accept": ATOM_TYPE}))
    assert_listing(wire.send_prepared(prepared, G), contract.base_url)
    assert_refused(wire.send_prepared(prepared, G))


@pytest.mark.inferred("I16", basis=VERIFY + ": a nonce is remembered only after the signature verifies")
@pytest.mark.read_only
def test_a_forged_request_does_not_burn_the_nonce(contract, wire):
    fixed = {"nonce": "ocss" + secrets.token_hex(12), "timestamp": str(int(time.time()))}
    assert_refused(wire.get_signed(G, resource_owner_secret="guessed-secret", **fixed))
    assert_listing(wire.get_signed(G, **fixed), contract.base_url)
    assert_refused(wire.get_signed(G, **fixed))  # now it is spent


@pytest.mark.inferred("I16", basis=VERIFY.replace("GET", "POST") + ": oauth_body_hash, when sent, is checked")
@pytest.mark.mutating  # POSTs a GData client (D2); the refused one must create nothing
def test_body_hash_is_checked_against_the_body(contract, wire):
    signed_for, sent = GData(contract), GData(contract)
    signed_body = doc_request("gdata-create", signed_for.substitute)
    sent_body = doc_request("gdata-create", sent.substitute)
    uri, headers = wire.signed("POST", G, body=signed_body, content_type=ATOM_TYPE)
    assert "oauth_body_hash=" in headers["Authorization"]
    reply = wire.send("POST", G, url=uri, data=sent_body, headers=headers)
    if reply.status < 300:  # should have been refused; the ledger deletes what it made anyway
        contract.created("gdata", sent.user_id, f"{G}{uuid_of(reply)}/")
    assert_refused(reply)
    listing = contract.api.get(G)
    assert listing.status_line == (200, "OK")
    assert not xpath(listing, f"/a:feed/a:entry[a:title='{sent.user_id}' or a:title='{signed_for.user_id}']"), \
        "a request with a wrong oauth_body_hash created a client"
    # the body it was signed for, with its hash, is accepted
    uri, headers = wire.signed("POST", G, body=signed_body, content_type=ATOM_TYPE)
    reply = wire.send("POST", G, url=uri, data=signed_body, headers=headers)
    if reply.status < 300:
        contract.created("gdata", signed_for.user_id, f"{G}{uuid_of(reply)}/")
    assert reply.status_line == (201, "Created"), (reply, reply.text[:300])
    assert text(reply, "/a:entry/a:title") == signed_for.user_id
