"""OAuth 1.0a verification over real HTTP, driven by independent client libraries
(docs/decisions.md, "OAuth 1.0a").

requests-oauthlib and authlib sign ordinary requests; where a test needs control over the
nonce, timestamp, signature method or body hash it builds the Authorization header itself
with oauthlib's `Client.sign`. Every refusal is a 401 with `WWW-Authenticate: OAuth realm="…"`
and a body saying why, and a refused write leaves the world exactly as it was.
"""
from __future__ import annotations

import http.client
import re
import time
import uuid

import pytest
import requests
from authlib.integrations.requests_client import OAuth1Auth, OAuth1Session
from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY, Client
from requests_oauthlib import OAuth1

from tests.helpers import unchanged

CONSUMER_KEY, CONSUMER_SECRET = "demo-consumer-key", "demo-consumer-secret"
SYNCML = "/v2/services/syncml/"
ATOM_XML = {"Content-Type": "application/atom+xml"}


def token(user: str) -> tuple[str, str]:
    return f"{user}-access-token", f"{user}-access-secret"


def create_body(phone: str = "+4798765432") -> bytes:
    return ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
            f"<oc:client><oc:phone_number>{phone}</oc:phone_number>"
            "<oc:model_uuid>02978288-537f-102b-beff-000ea60275d1</oc:model_uuid>"
            "<oc:timezone>Europe/Paris</oc:timezone></oc:client></entry>").encode()


def ro_auth(user: str = "alice", **kw) -> OAuth1:
    key, secret = token(user)
    return OAuth1(CONSUMER_KEY, CONSUMER_SECRET, key, secret, **kw)


def sign(url: str, method: str = "GET", body: bytes | None = None, *, consumer_key=CONSUMER_KEY,
         consumer_secret=CONSUMER_SECRET, user="alice", token_key=None, token_secret=None,
         headers=None, **client_kw) -> dict:
    """Headers signed by oauthlib's Client (with oauth_body_hash when there is a body)."""
    key, secret = token(user)
    client = Client(consumer_key, client_secret=consumer_secret,
                    resource_owner_key=token_key or key, resource_owner_secret=token_secret or secret,
                    **client_kw)
    headers = dict(headers if headers is not None else (ATOM_XML if body else {}))
    _, signed, _ = client.sign(url, http_method=method, body=body.decode() if body else None,
                               headers=headers)
    return dict(signed)


def assert_401(fake, reply: requests.Response, *why: str) -> None:
    assert reply.status_code == 401, (reply.status_code, reply.text)
    assert reply.reason == "Unauthorized"
    challenge = reply.headers.get("WWW-Authenticate", "")
    match = re.fullmatch(r'OAuth realm="([^"]+)"', challenge)
    assert match, f"bad WWW-Authenticate: {challenge!r}"
    assert match.group(1).startswith(fake.url)
    assert reply.text.startswith("401 Unauthorized: ")
    assert len(reply.text.split(": ", 1)[1].strip()) > 10, reply.text
    for needle in why:
        assert needle.lower() in reply.text.lower(), f"{needle!r} not in {reply.text!r}"


def syncml_uuids(fake, user: str) -> set[str]:
    return {c["uuid"] for c in fake.app.world.to_dict()["clients"]
            if c["kind"] == "syncml" and c["owner"] == user}


# --- the libraries real clients use succeed ------------------------------------------------

def test_requests_oauthlib_get_and_post(fake):
    with requests.Session() as s:
        s.auth = ro_auth("alice")
        listing = s.get(fake.url + SYNCML, timeout=10)
        assert listing.status_code == 200, listing.text
        assert listing.headers["Content-Type"].startswith("application/atom+xml")
        created = s.post(fake.url + SYNCML, data=create_body(), headers=ATOM_XML, timeout=10)
        assert created.status_code == 201, created.text
    assert len(syncml_uuids(fake, "alice")) == 1
    (new,) = syncml_uuids(fake, "alice")
    assert new in created.text


def test_authlib_session_get_and_post(fake):
    key, secret = token("bob")
    with OAuth1Session(CONSUMER_KEY, CONSUMER_SECRET, token=key, token_secret=secret) as s:
        listing = s.get(fake.url + SYNCML, timeout=10)
        assert listing.status_code == 200, listing.text
        created = s.post(fake.url + SYNCML, data=create_body(), headers=ATOM_XML, timeout=10)
        assert created.status_code == 201, created.text
    assert len(syncml_uuids(fake, "bob")) == 1


def test_authlib_auth_with_body_hash_is_accepted(fake):
    key, secret = token("alice")
    auth = OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, token=key, token_secret=secret, force_include_body=True)
    reply = requests.post(fake.url + SYNCML, data=create_body(), headers=ATOM_XML, auth=auth, timeout=10)
    authorization = reply.request.headers["Authorization"]
    assert "oauth_body_hash" in (authorization.decode() if isinstance(authorization, bytes) else authorization)
    assert reply.status_code == 201, reply.text


def test_oauthlib_body_hash_correct_is_accepted(fake):
    url = fake.url + SYNCML
    headers = sign(url, "POST", create_body())
    assert "oauth_body_hash=" in headers["Authorization"]
    reply = requests.post(url, data=create_body(), headers=headers, timeout=10)
    assert reply.status_code == 201, reply.text


def test_oauthlib_body_hash_wrong_is_refused(fake):
    url = fake.url + SYNCML
    headers = sign(url, "POST", create_body("+4711111111"))
    with unchanged(fake):
        reply = requests.post(url, data=create_body("+4722222222"), headers=headers, timeout=10)
    assert_401(fake, reply, "oauth_body_hash")


def test_oauthlib_body_hash_refusal_does_not_burn_the_nonce(fake):
    url = fake.url + SYNCML
    fixed = dict(nonce=uuid.uuid4().hex, timestamp=str(int(time.time())))
    wrong = sign(url, "POST", create_body("+4711111111"), **fixed)
    with unchanged(fake):
        assert_401(fake, requests.post(url, data=create_body("+4722222222"), headers=wrong, timeout=10),
                   "oauth_body_hash")
    right = sign(url, "POST", create_body("+4722222222"), **fixed)
    reply = requests.post(url, data=create_body("+4722222222"), headers=right, timeout=10)
    assert reply.status_code == 201, reply.text


# --- refusals: each one is a 401 with a reason, and a refused write changes nothing -------

def _tampered(url, body):
    headers = sign(url, "POST" if body else "GET", body)
    sig = re.search(r'oauth_signature="([^"]+)"', headers["Authorization"]).group(1)
    forged = ("A" if sig[0] != "A" else "B") + sig[1:]
    headers["Authorization"] = headers["Authorization"].replace(sig, forged)
    return headers


def _missing(url, body):
    headers = sign(url, "POST", body)
    params = dict(re.findall(r'(oauth_\w+)="([^"]*)"', headers["Authorization"]))
    del params["oauth_nonce"], params["oauth_signature"]
    headers["Authorization"] = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in params.items())
    return headers


REFUSALS = {
    # name: (headers for a POST of `body` to `url`, words the 401 body must contain)
    "tampered-signature": (_tampered, ("invalid signature",)),
    "wrong-consumer-secret": (lambda url, body: sign(url, "POST", body, consumer_secret="not-the-secret"),
                              ("invalid signature",)),
    "wrong-token-secret": (lambda url, body: sign(url, "POST", body, token_secret="not-the-secret"),
                           ("invalid signature",)),
    "unknown-token": (lambda url, body: sign(url, "POST", body, token_key="nobody-access-token"),
                      ("unknown access token",)),
    "unknown-consumer-key": (lambda url, body: sign(url, "POST", body, consumer_key="who-are-you"),
                             ("unknown consumer key",)),
    "stale-timestamp": (lambda url, body: sign(url, "POST", body, timestamp=str(int(time.time()) - 700)),
                        ("oauth_timestamp", "600")),
    "future-timestamp": (lambda url, body: sign(url, "POST", body, timestamp=str(int(time.time()) + 700)),
                         ("oauth_timestamp", "600")),
    "missing-nonce-and-signature": (_missing, ("missing OAuth parameters", "oauth_nonce", "oauth_signature")),
    "hmac-sha256": (lambda url, body: sign(url, "POST", body, signature_method="HMAC-SHA256"),
                    ("unsupported signature method", "HMAC-SHA256", "HMAC-SHA1")),
    "plaintext": (lambda url, body: sign(url, "POST", body, signature_method="PLAINTEXT"),
                  ("unsupported signature method", "PLAINTEXT")),
    "no-credentials": (lambda url, body: dict(ATOM_XML), ("no OAuth credentials",)),
    "bearer-instead-of-oauth": (lambda url, body: {**ATOM_XML, "Authorization": "Bearer alice-access-token"},
                                ("no OAuth credentials",)),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_write_is_401_with_reason_and_changes_nothing(fake, case):
    make, why = REFUSALS[case]
    url = fake.url + SYNCML
    body = create_body()
    with unchanged(fake):
        reply = requests.post(url, data=body, headers=make(url, body), timeout=10)
    assert_401(fake, reply, *why)


@pytest.mark.parametrize("case", ["tampered-signature", "unknown-token", "stale-timestamp", "no-credentials"])
def test_refused_read_is_401_with_reason(fake, case):
    url = fake.url + SYNCML
    headers = {
        "tampered-signature": lambda: _tampered(url, None),
        "unknown-token": lambda: sign(url, token_key="nobody-access-token"),
        "stale-timestamp": lambda: sign(url, timestamp=str(int(time.time()) - 700)),
        "no-credentials": lambda: {},
    }[case]()
    assert_401(fake, requests.get(url, headers=headers, timeout=10), *REFUSALS[case][1])


@pytest.mark.parametrize("lib", ["requests-oauthlib", "authlib"])
def test_wrong_secrets_through_the_libraries_are_refused(fake, lib):
    key, _ = token("alice")
    if lib == "requests-oauthlib":
        auth = OAuth1(CONSUMER_KEY, "wrong-consumer-secret", key, "wrong-token-secret")
    else:
        auth = OAuth1Auth(CONSUMER_KEY, "wrong-consumer-secret", token=key, token_secret="wrong-token-secret")
    with unchanged(fake):
        reply = requests.post(fake.url + SYNCML, data=create_body(), headers=ATOM_XML, auth=auth, timeout=10)
    assert_401(fake, reply, "invalid signature")


def test_token_used_with_another_consumer_key_is_refused(fake):
    # A second, perfectly valid consumer: the demo world has only one.
    fake.app.world.consumers["other-consumer-key"] = "other-consumer-secret"
    url = fake.url + SYNCML
    own = requests.get(url, auth=OAuth1("other-consumer-key", "other-consumer-secret"), timeout=10)
    assert own.status_code == 401  # a consumer alone is not a user
    with unchanged(fake):
        reply = requests.post(url, data=create_body(), headers=sign(
            url, "POST", create_body(), consumer_key="other-consumer-key",
            consumer_secret="other-consumer-secret"), timeout=10)
    assert_401(fake, reply, "not issued to this consumer")


def test_oauth_version_other_than_1_0_is_refused(fake):
    url = fake.url + SYNCML
    headers = sign(url, "POST", create_body())
    headers["Authorization"] = headers["Authorization"].replace('oauth_version="1.0"', 'oauth_version="2.0"')
    with unchanged(fake):
        reply = requests.post(url, data=create_body(), headers=headers, timeout=10)
    assert_401(fake, reply, "oauth_version")


def test_non_numeric_timestamp_is_refused(fake):
    url = fake.url + SYNCML
    headers = sign(url, "POST", create_body())
    headers["Authorization"] = re.sub(r'oauth_timestamp="\d+"', 'oauth_timestamp="soon"', headers["Authorization"])
    with unchanged(fake):
        reply = requests.post(url, data=create_body(), headers=headers, timeout=10)
    assert_401(fake, reply, "oauth_timestamp", "not a number")


def test_timestamps_just_inside_the_window_are_accepted(fake):
    url = fake.url + SYNCML
    for skew in (-590, +590):
        headers = sign(url, timestamp=str(int(time.time()) + skew))
        reply = requests.get(url, headers=headers, timeout=10)
        assert reply.status_code == 200, (skew, reply.text)


def test_header_without_any_oauth_parameter_names_what_is_missing(fake):
    url = fake.url + SYNCML
    with unchanged(fake):
        reply = requests.post(url, data=create_body(), timeout=10,
                              headers={**ATOM_XML, "Authorization": 'OAuth realm="ocss"'})
    assert_401(fake, reply, "missing OAuth parameters", "oauth_consumer_key", "oauth_signature")


# --- replay protection ----------------------------------------------------------------------

def test_replayed_read_is_refused(fake):
    with requests.Session() as s:
        prepared = s.prepare_request(requests.Request("GET", fake.url + SYNCML, auth=ro_auth("alice")))
        first = s.send(prepared, timeout=10)
        second = s.send(prepared, timeout=10)
    assert first.status_code == 200, first.text
    assert_401(fake, second, "nonce already used")


def test_replayed_write_is_refused_and_creates_nothing(fake):
    with requests.Session() as s:
        prepared = s.prepare_request(requests.Request("POST", fake.url + SYNCML, data=create_body(),
                                                      headers=ATOM_XML, auth=ro_auth("alice")))
        first = s.send(prepared, timeout=10)
        assert first.status_code == 201, first.text
        with unchanged(fake):
            second = s.send(prepared, timeout=10)
    assert_401(fake, second, "nonce already used")
    assert len(syncml_uuids(fake, "alice")) == 1


def test_nonce_of_a_failed_signature_is_still_usable(fake):
    url = fake.url + SYNCML
    fixed = dict(nonce="fixed" + uuid.uuid4().hex, timestamp=str(int(time.time())))
    forged = sign(url, "POST", create_body(), token_secret="guessed-secret", **fixed)
    with unchanged(fake):
        assert_401(fake, requests.post(url, data=create_body(), headers=forged, timeout=10), "invalid signature")
    # the same nonce and timestamp, correctly signed: the forgery must not have burnt it
    genuine = sign(url, "POST", create_body(), **fixed)
    assert genuine["Authorization"] != forged["Authorization"]
    accepted = requests.post(url, data=create_body(), headers=genuine, timeout=10)
    assert accepted.status_code == 201, accepted.text
    # ...and now that it verified, it is spent
    with unchanged(fake):
        assert_401(fake, requests.post(url, data=create_body(), headers=genuine, timeout=10),
                   "nonce already used")


def test_nonce_is_per_token(fake):
    """The same nonce and timestamp from two different users are two different requests."""
    url = fake.url + SYNCML
    fixed = dict(nonce="shared" + uuid.uuid4().hex, timestamp=str(int(time.time())))
    for user in ("alice", "bob"):
        reply = requests.get(url, headers=sign(url, user=user, **fixed), timeout=10)
        assert reply.status_code == 200, (user, reply.text)


# --- where the parameters are and what the signature covers ----------------------------

def test_signature_over_query_parameters(fake):
    url = fake.url + SYNCML + "?foo=bar"
    r1 = requests.get(url, auth=ro_auth("alice"), timeout=10)
    assert r1.status_code == 200, r1.text
    key, secret = token("alice")
    r2 = requests.get(url, auth=OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, token=key, token_secret=secret),
                      timeout=10)
    assert r2.status_code == 200, r2.text
    r3 = requests.get(url, headers=sign(url), timeout=10)
    assert r3.status_code == 200, r3.text


def test_signature_over_tricky_ascii_query_parameters(fake):
    url = fake.url + SYNCML + "?foo=bar&foo=baz&empty=&sp=a%20b&plus=a+b&slash=%2Fx&amp=%26&tilde=~"
    reply = requests.get(url, auth=ro_auth("alice"), timeout=10)
    assert reply.status_code == 200, reply.text


def test_query_parameters_are_covered_by_the_signature(fake):
    url = fake.url + SYNCML
    headers = sign(url + "?foo=bar")
    reply = requests.get(url + "?foo=evil", headers=headers, timeout=10)
    assert_401(fake, reply, "invalid signature")


def test_signature_over_non_ascii_query_parameter(fake):
    """The signature base string uses the URI as sent, percent-escapes intact (RFC 5849 3.4.1)."""
    reply = requests.get(fake.url + SYNCML, params={"q": "café"}, auth=ro_auth("alice"), timeout=10)
    assert reply.status_code == 200, reply.text


def test_signature_over_non_ascii_path(fake):
    reply = requests.get(fake.url + "/v2/services/google/caf%C3%A9/", auth=ro_auth("alice"), timeout=10)
    assert (reply.status_code, reply.reason) == (404, "No such Google client."), reply.text


def test_signature_over_percent_encoded_sub_delimiters_in_the_path(fake):
    reply = requests.get(fake.url + "/v2/services/google/some_user%40gmail.com/", auth=ro_auth("alice"), timeout=10)
    assert (reply.status_code, reply.reason) == (404, "No such Google client."), reply.text


def _absolute_form_get(fake, path: str) -> tuple[int, str, str]:
    """GET with an absolute-form request target, as a client talking through an HTTP proxy
    sends it (RFC 9112 3.2.2); signed by oauthlib over exactly that URI."""
    url = fake.url + path
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request("GET", url, headers=sign(url))
        reply = conn.getresponse()
        return reply.status, reply.reason, reply.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/v2/services/syncml/", "/v2/services/syncml/?foo=bar",
                                  "/v2/services/syncml/?q=caf%C3%A9"])
def test_signature_with_an_absolute_form_request_target(fake, path):
    status, reason, text = _absolute_form_get(fake, path)
    assert (status, reason) == (200, "OK"), text


@pytest.mark.parametrize("path", ["/v2/services/google/some_user%40gmail.com/", "/v2/services/google/caf%c3%a9/"])
def test_signature_with_an_absolute_form_target_keeps_escapes(fake, path):
    status, reason, text = _absolute_form_get(fake, path)
    assert (status, reason) == (404, "No such Google client."), text


def test_signature_over_path_with_sub_delimiters(fake):
    reply = requests.get(fake.url + "/v2/services/google/some_user@gmail.com:x,y;z=1/",
                         auth=ro_auth("alice"), timeout=10)
    assert (reply.status_code, reply.reason) == (404, "No such Google client."), reply.text


def test_oauth_parameters_in_the_query_string(fake):
    key, secret = token("alice")
    auth = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, key, secret, signature_type=SIGNATURE_TYPE_QUERY)
    listing = requests.get(fake.url + SYNCML + "?foo=bar", auth=auth, timeout=10)
    assert "oauth_signature=" in listing.request.url
    assert "Authorization" not in listing.request.headers
    assert listing.status_code == 200, listing.text
    created = requests.post(fake.url + SYNCML, data=create_body(), headers=ATOM_XML, auth=auth, timeout=10)
    assert "oauth_signature=" in created.request.url
    assert created.status_code == 201, created.text
    authlib_auth = OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, token=key, token_secret=secret,
                              signature_type="QUERY")
    again = requests.get(fake.url + SYNCML, auth=authlib_auth, timeout=10)
    assert "oauth_signature=" in again.request.url
    assert again.status_code == 200, again.text
    assert len(syncml_uuids(fake, "alice")) == 1


def test_query_string_oauth_with_a_bad_signature_is_refused(fake):
    url = fake.url + SYNCML
    client = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key="alice-access-token",
                    resource_owner_secret="wrong", signature_type=SIGNATURE_TYPE_QUERY)
    signed_url, headers, _ = client.sign(url, http_method="POST")
    with unchanged(fake):
        reply = requests.post(signed_url, data=create_body(), headers={**headers, **ATOM_XML}, timeout=10)
    assert_401(fake, reply, "invalid signature")


def test_oauth_parameters_in_header_and_query_at_once_are_refused(fake):
    # The same protocol parameters in both places: duplicated, a 400 (RFC 5849 §3.2).
    url = fake.url + SYNCML
    query_client = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key="alice-access-token",
                          resource_owner_secret="alice-access-secret", signature_type=SIGNATURE_TYPE_QUERY)
    signed_url, _, _ = query_client.sign(url)
    reply = requests.get(signed_url, headers=sign(url), timeout=10)
    assert (reply.status_code, reply.reason) == (400, "Bad Request"), reply.text
    assert "given 2 times in the Authorization header and in the query" in reply.text


def test_oauth_parameters_split_between_header_and_query_are_refused(fake):
    # Each parameter once, but in two places: RFC 5849 §3.5 allows one.
    url = fake.url + SYNCML
    headers = sign(url)
    nonce = re.search(r'oauth_nonce="([^"]+)"', headers["Authorization"]).group(1)
    headers["Authorization"] = re.sub(r'oauth_nonce="[^"]+",?\s*', "", headers["Authorization"])
    reply = requests.get(f"{url}?oauth_nonce={nonce}", headers=headers, timeout=10)
    assert_401(fake, reply, "the Authorization header and the query", "one place")


def test_every_user_token_maps_to_its_own_user(fake):
    for user in ("alice", "bob", "admin"):
        reply = requests.post(fake.url + SYNCML, data=create_body(), headers=ATOM_XML,
                              auth=ro_auth(user), timeout=10)
        assert reply.status_code == 201, reply.text
        assert len(syncml_uuids(fake, user)) == (3 if user == "admin" else 1)
