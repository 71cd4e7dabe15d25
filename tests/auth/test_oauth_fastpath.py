"""The OAuth verifier of API requests against oauthlib's own endpoint (issue 14, lever 1).

`Authenticator.verify` reads the protocol parameters with oauthlib's primitives and builds
the signature base string once; before, it ran oauthlib's `ResourceEndpoint` pipeline.
`EndpointAuthenticator` below is that former verifier, kept here as the reference. A few
thousand requests (hypothesis, fixed seed, bounded) go to both, each with its own nonce
store, in the same order: correctly signed ones with random parameters (unicode, repeated
names, form bodies, body hashes, realms) in the header, the query or the form body, and
the same with one thing changed (a character of the signature, timestamp, nonce, token,
URL or body; a parameter dropped, doubled, moved to another place; a replay). Both must
give the same verdict: accepted for the same user, or refused with the same status and
the same sentence.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import time
from unittest import mock
from urllib.parse import parse_qsl, quote, urlsplit
from urllib.request import parse_http_list

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import (
    SIGNATURE_TYPE_AUTH_HEADER,
    SIGNATURE_TYPE_BODY,
    SIGNATURE_TYPE_QUERY,
    Client,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from ocss_testkit.answers import ApiError
from ocss_testkit.auth import (
    SIGNATURE_MISMATCH,
    Authenticator,
    AuthResult,
    NonceStore,
    authorization_params,
    base_string,
    refuse_duplicates,
)
from ocss_testkit.auth.base_string import Secrets
from ocss_testkit.auth.explain import explain_signature, refusal
from ocss_testkit.auth.params import PLACES
from ocss_testkit.auth.rules import cut
from ocss_testkit.auth.three_legged import Validator
from ocss_testkit.world.fixtures import FixtureSet

CONSUMER_KEY, CONSUMER_SECRET = "demo-consumer-key", "demo-consumer-secret"
OTHER_KEY, OTHER_SECRET = "other-consumer-key", "other-consumer-secret"
FORM = "application/x-www-form-urlencoded"
ATOM = "application/atom+xml"
FEW = 400  # signed requests; 3 × FEW changed ones: 1,600, each sent twice, to both verifiers


# --- the reference: the verifier as it was, on oauthlib's ResourceEndpoint -------------------
def _reference_protocol_parameters(uri: str, authorization: str, form: str | None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if authorization[:6].lower() == "oauth ":
        for item in parse_http_list(authorization[6:]):
            name = item.split("=", 1)[0].strip()
            if name.startswith("oauth_"):
                found.append((name, PLACES["header"]))
    for place, text in (("query", urlsplit(uri).query), ("body", form or "")):
        if "oauth_" in text:
            found.extend((name, PLACES[place]) for name, _ in parse_qsl(text, keep_blank_values=True)
                         if name.startswith("oauth_"))
    return found


def _reference_explain(request) -> str:
    try:
        uri = oauth_signature.base_string_uri(request.uri)
        base = oauth_signature.signature_base_string(
            request.http_method, uri, oauth_signature.normalize_parameters(request.params))
    except (ValueError, TypeError):
        return SIGNATURE_MISMATCH
    # The sentence is the fake's own; what it quotes, the URI and the base string, oauthlib's.
    return explain_signature(request.http_method, uri, base)


def _reference_why(validator, request, authorization: str) -> str:
    if request is None:
        params = authorization_params(authorization)
        if not any(k.startswith("oauth_") for k in params):
            return ("missing OAuth parameters: oauth_consumer_key, oauth_token, oauth_signature_method, "
                    "oauth_signature, oauth_timestamp, oauth_nonce")
        return "malformed OAuth parameters: the Authorization header cannot be parsed"
    # Which faults oauthlib's pipeline found; the sentence naming the first of them is the
    # fake's own (auth/explain.py, `refusal`), the one the new verifier gives too.
    log = request.validator_log
    mismatch = _reference_explain(request) if log.get("signature") is False else None
    return refusal(request.oauth_params or {}, replayed=validator.replayed, client=log.get("client") is not False,
                   owner=log.get("resource_owner") is not False, mismatch=mismatch)


class EndpointAuthenticator(Authenticator):
    """The former `Authenticator.verify`: oauthlib's `validate_protected_resource_request`
    with the fake's validator, then the body hash and the nonce. Two changes, both also
    made in the new verifier: the body hash is compared as bytes (as str, a non-ASCII
    oauth_body_hash raised TypeError: a 500), and a timestamp must be ASCII digits (oauthlib
    reads it with int(), which takes "١٧٩٦…" too, and NonceStore keeps no record of such
    a key: accepted, it could be replayed)."""

    def verify(self, world, method, uri, headers, body):
        authorization = headers.get("Authorization", "")
        content_type = headers.get("Content-Type", "")
        if not authorization.lower().startswith("oauth ") and "oauth_" not in uri and \
                b"oauth_" not in body[:4096]:
            return AuthResult(None, "no OAuth credentials: sign the request with OAuth 1.0a (HMAC-SHA1)")
        validator = Validator(world, self.nonces)
        sent = {"Authorization": authorization} if authorization else {}
        if content_type:
            sent["Content-Type"] = content_type
        text_body = None
        if FORM in content_type:
            try:
                text_body = body.decode("utf-8")
            except UnicodeDecodeError:
                return AuthResult(None, "form body is not UTF-8")
        found = _reference_protocol_parameters(uri, authorization, text_body)
        refuse_duplicates(found)
        places = sorted({where for _, where in found})
        if len(places) > 1:
            return AuthResult(None, "OAuth parameters are sent in " + " and ".join(places) +
                              ": RFC 5849 §3.5 allows one place only (header, form body or query)")
        try:
            valid, request = ResourceEndpoint(validator).validate_protected_resource_request(
                uri, http_method=method, body=text_body, headers=sent)
        except ValueError as exc:
            return AuthResult(None, f"malformed OAuth parameters: {cut(str(exc))}")
        if not valid or not (request.timestamp.isascii() and request.timestamp.isdigit()):
            return AuthResult(None, _reference_why(validator, request, authorization))
        body_hash = request.oauth_params.get("oauth_body_hash")
        if body_hash is not None:
            expected = base64.b64encode(hashlib.sha1(body).digest())
            if not hmac.compare_digest(expected, body_hash.encode("utf-8", "surrogatepass")):
                return AuthResult(None, "oauth_body_hash does not match the request body")
        key = (request.client_key, request.resource_owner_key, request.nonce, request.timestamp)
        if not self.nonces.add(key):
            return AuthResult(None, "nonce already used (replayed request)")
        return AuthResult(world.users_by_token[request.resource_owner_key])


# --- the comparison ---------------------------------------------------------------------------
def verdict(authenticator, world, wire) -> tuple:
    method, uri, headers, body = wire
    try:
        result = authenticator.verify(world, method, uri, headers, body)
    except ApiError as error:
        return (error.status, error.detail)
    return (200, result.user.name) if result.user is not None else (401, result.reason)


class Pair:
    """The new verifier and the reference over one World, each with its own nonce store."""

    def __init__(self) -> None:
        self.world = FixtureSet.load("demo").build()
        self.world.consumers[OTHER_KEY] = OTHER_SECRET  # a valid consumer to whom no token belongs
        self.fast, self.reference = Authenticator(), EndpointAuthenticator()

    def check(self, wire) -> tuple:
        # one clock for both: a timestamp at the edge of the window cannot fall on two sides
        now = time.time()
        with mock.patch.object(time, "time", new=lambda: now):
            expected = verdict(self.reference, self.world, wire)
            got = verdict(self.fast, self.world, wire)
        assert got == expected, f"{wire!r}\n  primitives: {got}\n  endpoint:   {expected}"
        return got


@pytest.fixture(scope="module")
def pair() -> Pair:
    return Pair()


_nonces = itertools.count()
# Strategies built once (hypothesis validates each new one); a small alphabet, cheap to
# draw, with every kind of character the encodings treat apart.
text = st.text(st.sampled_from("aZ09-._~ !*'()&=+%/?#[]@,;:$\"<>\\é\u00a0中😀\t"), max_size=10)
names = st.one_of(st.sampled_from(["a", "b", "q", "realm", "x y", "é", "a[]", "c%"]), text)
pairs = st.tuples(st.lists(st.tuples(names, text), max_size=4), st.booleans()).map(
    lambda drawn: drawn[0] + drawn[0][:1] if drawn[1] else drawn[0])  # the first pair twice, sometimes
users = st.sampled_from(["alice", "bob", "admin"])
consumers = st.sampled_from([(CONSUMER_KEY, CONSUMER_SECRET)] * 5 + [(OTHER_KEY, OTHER_SECRET)])
places = st.sampled_from([SIGNATURE_TYPE_AUTH_HEADER] * 3 + [SIGNATURE_TYPE_QUERY, SIGNATURE_TYPE_BODY])
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE"])
hosts = st.sampled_from(["localhost", "127.0.0.1:8080", "Example.COM:80", "[::1]:5000"])
segments = st.lists(text, max_size=2)
bodies = st.sampled_from(["none", "xml", "xml-no-hash", "form"])
form_types = st.sampled_from([FORM, FORM + "; charset=utf-8"])
# mostly inside the window; then outside it, and the forms int() reads besides ASCII digits
skews = st.one_of(st.integers(-550, 550), st.integers(-550, 550), st.integers(-550, 550),
                  st.sampled_from([-5000, -700, 700, 5000]))
stamp_forms = st.sampled_from(["plain"] * 6 + ["arabic-indic", "leading zero", "plus", "underscore"])
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
realms = st.sampled_from([None, None, "ocss", "Photos"])
nonce_prefixes = st.sampled_from(["", "", "é", "n ", "\x00", "n" * 520])  # the last two: implausible


def _encoded(pairs_: list) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs_)


@st.composite
def signed_requests(draw) -> tuple:
    """(method, uri, headers, body) signed by oauthlib's Client, and what to expect: whether
    it was signed with the consumer the tokens belong to, and with a timestamp and nonce
    oauthlib's endpoint takes."""
    user, consumer, where = draw(users), draw(consumers), draw(places)
    nonce = draw(nonce_prefixes) + str(next(_nonces))
    skew, form = draw(skews), draw(stamp_forms)
    stamp = str(int(time.time()) + skew)
    stamp = {"plain": stamp, "arabic-indic": stamp.translate(ARABIC_INDIC), "leading zero": "0" + stamp,
             "plus": "+" + stamp[1:], "underscore": stamp[:1] + "_" + stamp[2:]}[form]
    # what both verifiers accept: 10 ASCII digits inside the window, a plausible nonce
    fine = abs(skew) <= 550 and form == "plain" and nonce.isprintable() and len(nonce) <= 512
    method = "POST" if where == SIGNATURE_TYPE_BODY else draw(methods)
    path = "/v2/services/syncml/" + "".join(quote(s, safe="") + "/" for s in draw(segments))
    query = draw(pairs)
    uri = f"http://{draw(hosts)}{path}" + (f"?{_encoded(query)}" if query else "")
    kind = "form" if where == SIGNATURE_TYPE_BODY else draw(bodies)
    if method == "GET":
        kind = "none"
    headers, body, signed_body = {}, b"", None
    if kind == "form":
        body_text = _encoded(draw(pairs))
        headers["Content-Type"] = draw(form_types)
        body, signed_body = body_text.encode(), body_text
    elif kind.startswith("xml"):
        body_text = f"<entry><title>{quote(draw(text))}</title></entry>"
        headers["Content-Type"] = ATOM
        body = body_text.encode()
        signed_body = body_text if kind == "xml" else None  # unsigned: no oauth_body_hash
    client = Client(consumer[0], client_secret=consumer[1], resource_owner_key=f"{user}-access-token",
                    resource_owner_secret=f"{user}-access-secret", signature_type=where,
                    realm=draw(realms), nonce=nonce, timestamp=stamp)
    # oauthlib's Client wants the bare form type; the verifier finds it in any Content-Type
    sign_headers = {"Content-Type": FORM if kind == "form" else ATOM} if "Content-Type" in headers else {}
    if signed_body is None and body:  # sign as if bodiless: the header carries no body hash
        sign_headers = {}
    signed_uri, signed_headers, out_body = client.sign(uri, http_method=method, body=signed_body,
                                                       headers=sign_headers)
    if "Authorization" in signed_headers:
        headers["Authorization"] = signed_headers["Authorization"]
    if where == SIGNATURE_TYPE_BODY:
        body = out_body.encode()
    return (method, signed_uri, headers, body), {"own consumer": consumer[0] == CONSUMER_KEY, "fine": fine}


@seed(1401)
@settings(max_examples=FEW, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(signed=signed_requests())
def test_correctly_signed_requests_get_the_same_verdict(pair, signed):
    wire, made = signed
    method, uri, headers, body = wire
    got = pair.check(wire)
    # oauthlib's endpoint leaves every "realm" parameter out of the base string when the
    # Authorization header mentions a realm, a query's or a form body's too, where its
    # Client signs them: such a request is refused by both, and so kept.
    signed_names = urlsplit(uri).query + ("&" + body.decode() if FORM in headers.get("Content-Type", "") else "")
    realm_quirk = "realm" in headers.get("Authorization", "") and "realm" in dict(
        parse_qsl(signed_names, keep_blank_values=True))
    if not made["fine"]:
        assert got[0] == 401 and any(word in got[1] for word in ("oauth_nonce", "oauth_timestamp")), got
    elif not made["own consumer"]:
        assert got == (401, "unknown access token (or not issued to this consumer)")
    elif realm_quirk:
        assert got[0] == 401 and got[1].startswith("invalid signature"), got
    else:
        assert got == (200, wire_user(wire)), got
        assert pair.check(wire) == (401, "nonce already used (replayed request)")  # the same bytes again


def wire_user(wire) -> str:
    token = re.search(r"oauth_token(?:=|%3D|\=\")(\w+)-access-token", " ".join(_places(wire).values()))
    return token.group(1)


def _change(value: str, where: int, char: str) -> str:
    """`value` with its character at `where` (modulo its length) replaced by `char`, or by
    another character where that would change nothing."""
    if not value:
        return char
    i = where % len(value)
    new = value[:i] + char + value[i + 1:]
    return new if new != value else value[:i] + ("A" if char != "A" else "B") + value[i + 1:]


def _places(wire) -> dict:
    method, uri, headers, body = wire
    return {"header": headers.get("Authorization", ""), "uri": uri, "body": body.decode("latin-1")}


def _find(wire, name: str):
    """(place, start, end) of the value of the protocol parameter `name`, or None."""
    for place, textual in _places(wire).items():
        m = re.search(rf'(?:^|[\s,&?]){name}="?([^"&,]*)', textual)
        if m:
            return place, m.start(1), m.end(1)
    return None


def _replace(wire, place: str, start: int, end: int, new: str):
    method, uri, headers, body = wire
    textual = _places(wire)[place]
    changed = textual[:start] + new + textual[end:]
    if place == "header":
        headers = {**headers, "Authorization": changed}
    elif place == "uri":
        uri = changed
    else:
        body = changed.encode("latin-1", "replace")
    return method, uri, headers, body


VALUE_CHANGES = {"signature": "oauth_signature", "timestamp": "oauth_timestamp", "nonce": "oauth_nonce",
                 "token": "oauth_token", "consumer": "oauth_consumer_key"}
VALUE_SWAPS = {"method-name": "oauth_signature_method", "version": "oauth_version"}
mutations = st.sampled_from([*VALUE_CHANGES, *VALUE_SWAPS, "url", "body", "header-byte", "drop", "double",
                             "to-query", "to-body", "realm", "content-type"])
positions = st.integers(0, 10_000)
characters = st.sampled_from([*"A0z9%+=&,\"é ~_", "%20", "%zz"])
movable = st.sampled_from(["oauth_signature", "oauth_nonce", "oauth_token", "oauth_timestamp", "oauth_body_hash",
                           "oauth_version"])
swapped = st.sampled_from(["HMAC-SHA256", "PLAINTEXT", "1.0", "2.0", "", "1.0 "])
content_types = st.sampled_from([FORM, ATOM, "text/plain", FORM.upper()])


@st.composite
def changed_requests(draw) -> tuple:
    """A correctly signed request with one thing changed (or, where that thing is not
    there, as it was)."""
    wire, _ = draw(signed_requests())
    method, uri, headers, body = wire
    kind, at, char = draw(mutations), draw(positions), draw(characters)
    name = VALUE_CHANGES.get(kind) or VALUE_SWAPS.get(kind) or draw(movable)
    found = _find(wire, name)
    if kind in VALUE_CHANGES and found:
        place, start, end = found
        return _replace(wire, place, start, end, _change(_places(wire)[place][start:end], at, char))
    if kind in VALUE_SWAPS and found:
        return _replace(wire, *found, draw(swapped))
    if kind == "url":
        split = uri.index("/", len("http://"))
        return method, uri[:split + 1] + _change(uri[split + 1:], at, char), headers, body
    if kind == "body":
        return method, uri, headers, _change(body.decode("latin-1"), at, char).encode("latin-1", "replace")
    if kind == "header-byte" and headers.get("Authorization"):
        return method, uri, {**headers, "Authorization": _change(headers["Authorization"], at, char)}, body
    if kind in ("drop", "double", "to-query", "to-body") and found:
        place, start, end = found
        textual = _places(wire)[place]
        value = textual[start:end]
        # the whole `name=value` (with its closing quote in the header) goes, or is copied
        lo = textual.rfind(name, 0, start)
        hi = end + (1 if textual[end:end + 1] == '"' else 0)
        cut = _replace(wire, place, lo, hi, "")
        if kind == "drop":
            return cut
        if kind == "double":
            return _replace(wire, place, lo, lo, f'{name}="{value}", ' if place == "header" else f"{name}={value}&")
        m, u, h, b = cut if draw(st.booleans()) else wire  # moved, or copied
        if kind == "to-query":
            return m, u + ("&" if "?" in u else "?") + f"{name}={value}", h, b
        return m, u, {"Content-Type": FORM, **h}, b + (b"&" if b else b"") + f"{name}={value}".encode("latin-1")
    if kind == "realm" and headers.get("Authorization"):
        headers = {**headers, "Authorization": headers["Authorization"].replace("OAuth ", 'OAuth realm="x", ', 1)}
        return method, uri + ("&" if "?" in uri else "?") + "realm=y", headers, body
    if kind == "content-type":
        return method, uri, {**headers, "Content-Type": draw(content_types)}, body
    return wire


KINDS = {"invalid signature": "signature", "nonce already used": "replay", "missing OAuth": "missing",
         "unknown access token": "token", "unknown consumer": "consumer", "oauth_timestamp": "timestamp",
         "malformed OAuth": "malformed", "OAuth parameters are sent in": "two places", "RFC 5849 §3.2": "duplicate",
         "unsupported signature method": "method", "oauth_version": "version", "oauth_body_hash": "body hash",
         "is not a plausible value": "implausible"}


def test_changed_requests_get_the_same_verdict():
    """Each changed request, then its replay, gets the same verdict from both; and the
    comparison is not idle: its requests are accepted and refused for every reason."""
    seen: set[str] = set()
    pair = Pair()

    @seed(1402)
    @settings(max_examples=3 * FEW, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(wire=changed_requests())
    def compare(wire):
        for _ in range(2):  # the request, then the same again
            status, text = pair.check(wire)
            seen.update(kind for needle, kind in KINDS.items() if needle in str(text))
            if status == 200:
                seen.add("accepted")

    compare()
    assert seen >= {"accepted", *KINDS.values()} - {"implausible"}, sorted(seen)


# --- what the comparison cannot see: fixed cases ----------------------------------------------
def test_a_non_ascii_body_hash_is_refused_not_an_error(pair):
    """Before, hmac.compare_digest raised TypeError on it: a 500 for a correctly signed request."""
    client = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key="alice-access-token",
                    resource_owner_secret="alice-access-secret")
    params = client.get_oauth_params

    def with_hash(request):
        return [*params(request), ("oauth_body_hash", "é")]
    client.get_oauth_params = with_hash
    uri = "http://localhost/v2/services/syncml/"
    headers = dict(client.sign(uri)[1])
    assert verdict(pair.fast, pair.world, ("GET", uri, headers, b"")) == (
        401, "oauth_body_hash does not match the request body")


def test_the_explained_base_string_is_the_one_verified():
    """The 401 quotes the base string the HMAC was computed over; with the right secrets
    the same base string gives the signature the client sent."""
    world = FixtureSet.load("demo").build()
    uri = "http://localhost/v2/services/syncml/?q=%C3%A9&q=a"
    client = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key="alice-access-token",
                    resource_owner_secret="not-alice-secret")
    headers = dict(client.sign(uri)[1])
    reason = Authenticator().verify(world, "GET", uri, headers, b"").reason
    base = reason.split("(RFC 5849 §3.4.1) ", 1)[1].split(" . Compare", 1)[0]
    assert base.startswith("GET&http%3A%2F%2Flocalhost%2Fv2%2Fservices%2Fsyncml%2F&")
    sent = dict(oauth_utils.parse_authorization_header(headers["Authorization"]))["oauth_signature"]
    secrets = Secrets(CONSUMER_SECRET, "not-alice-secret")
    assert oauth_signature.sign_hmac_sha1_with_client(base, secrets) == oauth_utils.unescape(sent)


def test_unknown_consumer_and_token_are_verified_with_stand_in_secrets(monkeypatch):
    """A refusal for an unknown consumer or token still computes an HMAC (over the same
    base string), so it does not answer faster than a bad signature."""
    world = FixtureSet.load("demo").build()
    signed: list[tuple] = []
    real = oauth_signature.sign_hmac_sha1_with_client
    monkeypatch.setattr(oauth_signature, "sign_hmac_sha1_with_client",
                        lambda base, client: signed.append(tuple(client)) or real(base, client))
    uri = "http://localhost/v2/services/syncml/"
    for key, token in (("who-are-you", "alice-access-token"), (CONSUMER_KEY, "nobody-access-token"),
                       (CONSUMER_KEY, "alice-access-token")):
        client = Client(key, client_secret="x", resource_owner_key=token, resource_owner_secret="y")
        Authenticator().verify(world, "GET", uri, dict(client.sign(uri)[1]), b"")
    assert signed == [("ocss-dummy-secret", "ocss-dummy-secret"), (CONSUMER_SECRET, "ocss-dummy-secret"),
                      (CONSUMER_SECRET, "alice-access-secret")]


def test_a_timestamp_in_other_digits_is_refused_so_never_replayed():
    """int() reads "١٧٩٦…" (Arabic-Indic digits) as the current time, and oauthlib's endpoint
    accepted such a request; the nonce store keeps no record of it, so it is refused."""
    world = FixtureSet.load("demo").build()
    verifier = Authenticator()
    uri = "http://localhost/v2/services/syncml/"
    now = str(int(time.time()))
    for stamp, expected in ((now.translate(ARABIC_INDIC), "is not a number"), (now, None)):
        client = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key="bob-access-token",
                        resource_owner_secret="bob-access-secret", timestamp=stamp, nonce="same-nonce")
        headers = dict(client.sign(uri)[1])
        for attempt in range(2):
            result = verifier.verify(world, "GET", uri, headers, b"")
            if expected:
                assert result.user is None and expected in result.reason, result
            else:  # the same request in ASCII digits: accepted once, then a replay
                assert (result.user is not None) == (attempt == 0), result


# --- the base string built once, without encoding anything twice -----------------------------
@seed(1403)
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(params=st.lists(st.tuples(names, text), max_size=8), method=methods,
       uri=st.sampled_from(["http://localhost/v2/services/syncml/", "http://Example.COM:80/a%20b/?q=1",
                            "http://[::1]:5000/v2/services/google/caf%C3%A9/"]))
def test_the_base_string_is_oauthlibs(params, method, uri):
    """Values of unreserved characters are not run through oauthlib's escape, and the
    normalized parameters are encoded a second time by str.replace: the same strings as
    oauthlib's `normalize_parameters` and `signature_base_string` give, for any text."""
    normalized = oauth_signature.normalize_parameters(params)
    assert base_string.normalized_parameters(params) == normalized
    base_uri = oauth_signature.base_string_uri(uri)
    assert base_string.base_string(method, uri, params) == (
        base_uri, oauth_signature.signature_base_string(method, base_uri, normalized))


def test_the_nonce_record_is_computed_once_and_kept(monkeypatch):
    """One BLAKE2b record per accepted request, looked up before the signature and kept
    after it (the same bytes again are a replay); the record is the one earlier state
    files hold (the digest of the four length-prefixed strings)."""
    world = FixtureSet.load("demo").build()
    verifier = Authenticator()
    computed: list[tuple] = []
    real = NonceStore.record
    monkeypatch.setattr(NonceStore, "record", staticmethod(lambda key: computed.append(key) or real(key)))
    uri = "http://localhost/v2/services/syncml/"
    client = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key="bob-access-token",
                    resource_owner_secret="bob-access-secret", nonce="once")
    headers = dict(client.sign(uri)[1])
    assert verifier.verify(world, "GET", uri, headers, b"").user.name == "bob"
    assert len(computed) == 1 and computed[0][2] == "once" and computed[0] in verifier.nonces
    assert verifier.verify(world, "GET", uri, headers, b"").reason == "nonce already used (replayed request)"
    assert NonceStore.persisted(("demo-consumer-key", "admin-access-token", "n-é-1", "1700000000")) == [
        "1e22b504b5a42d32ed19a5d6ceb1f6ee", "1700000000"]
