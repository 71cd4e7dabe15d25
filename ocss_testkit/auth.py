"""OAuth 1.0a (HMAC-SHA1) verification of API requests, with oauthlib doing the maths.

docs/decisions.md, "OAuth 1.0a": keys of any form the fixtures hold, plain http, a 600 s
timestamp window, a nonce remembered only once its signature verified (so a forged
request cannot burn a real client's nonce), and `oauth_body_hash` checked against the
body when present. A refusal says why in one bounded sentence; for a signature that does
not verify, it quotes the signature base string the fake computed (`explain_signature`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit
from urllib.request import parse_http_list

from oauthlib.oauth1 import AccessTokenEndpoint, RequestTokenEndpoint, RequestValidator, ResourceEndpoint
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from .model.errors import DomainError
from .model.world import User, World
from .wire import ApiError, bounded_detail, shown

TIMESTAMP_LIFETIME = 600
_MAX_CREDENTIAL_LENGTH = 512
MAX_BASE_STRING = 1024  # characters of a signature base string a refusal quotes
_MAX_URL_SHOWN = 256


class NonceStore:
    """Nonces seen within the timestamp window; bounded, oldest dropped first.

    A key is `(consumer key, token or None, nonce, timestamp)`, all strings as signed.
    With a state file (persistence.py) the store outlives the process: `listener` is
    called with every new key (after the store's lock is released), `snapshot()` gives
    the keys still inside the window and `restore()` takes them back at start, so a
    request replayed after a restart is still refused (RFC 5849 §3.3: the nonce is unique
    per timestamp, consumer and token).
    """

    def __init__(self, limit: int = 100_000, lifetime: int = TIMESTAMP_LIFETIME) -> None:
        self._seen: OrderedDict[tuple, float] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit
        self.lifetime = lifetime
        self.listener = None  # called with each new key; must not call back into the store

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return key in self._seen

    def add(self, key: tuple) -> bool:
        """Remember a nonce; False if it was already there (a replay)."""
        if not self._remember(key, time.monotonic()):
            return False
        listener = self.listener
        if listener is not None:
            listener(key)
        return True

    def _remember(self, key: tuple, now: float) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = now
            horizon = now - 2 * self.lifetime
            while self._seen and (len(self._seen) > self.limit or next(iter(self._seen.values())) < horizon):
                self._seen.popitem(last=False)
            return True

    def _replayable(self, key: tuple, wall: float) -> bool:
        """Could a request with this key still pass the timestamp check (±lifetime)?"""
        try:
            return abs(wall - int(key[3])) <= self.lifetime
        except (TypeError, ValueError, IndexError, OverflowError):
            return True  # not a number: keep it, the store's bound still holds

    def snapshot(self) -> list[tuple]:
        """The keys whose timestamp is still inside the window, oldest first."""
        wall = time.time()
        with self._lock:
            keys = list(self._seen)
        return [k for k in keys if self._replayable(k, wall)]

    def restore(self, keys) -> int:
        """Take back keys from `snapshot()` (lists or tuples); those outside the window are
        dropped. The listener is not called. Returns how many were kept."""
        wall, now, kept = time.time(), time.monotonic(), 0
        for key in keys:
            key = tuple(key)
            if len(key) == 4 and self._replayable(key, wall) and self._remember(key, now):
                kept += 1
        return kept

    def __len__(self) -> int:
        return len(self._seen)


def _cut(message: str, limit: int = 200) -> str:
    """oauthlib's messages quote the whole query string: the client already has it."""
    return message if len(message) <= limit else message[:limit] + "…"


def _plausible(value: str | None) -> bool:
    return bool(value) and len(value) <= _MAX_CREDENTIAL_LENGTH and value.isprintable()


class _Validator(RequestValidator):
    """Binds oauthlib to one World's consumers and users for one request."""

    def __init__(self, world: World, nonces: NonceStore) -> None:
        super().__init__()
        self.world = world
        self.nonces = nonces
        self.replayed = False

    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1",)
    timestamp_lifetime = TIMESTAMP_LIFETIME
    dummy_client = "ocss-dummy-consumer"
    dummy_access_token = "ocss-dummy-token"

    # Fixture credentials come in any length or charset: accept anything printable.
    def check_client_key(self, client_key):
        return _plausible(client_key)

    def check_access_token(self, token):
        return _plausible(token)

    def check_nonce(self, nonce):
        return _plausible(nonce)

    def check_realms(self, realms):
        return True

    def get_client_secret(self, client_key, request):
        return self.world.consumers.get(client_key, "ocss-dummy-secret")

    def get_access_token_secret(self, client_key, token, request):
        user = self.world.users_by_token.get(token)
        return user.token_secret if user else "ocss-dummy-secret"

    def validate_client_key(self, client_key, request):
        return client_key in self.world.consumers

    def validate_access_token(self, client_key, token, request):
        user = self.world.users_by_token.get(token)
        return user is not None and user.consumer_key == client_key

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request,
                                     request_token=None, access_token=None):
        # Only look here; the nonce is stored after the signature verified.
        if (client_key, access_token, nonce, timestamp) in self.nonces:
            self.replayed = True
            return False
        return True

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True

    # --- the three-legged flow (I16): temporary credentials and verifiers ----------------
    dummy_request_token = "ocss-dummy-request-token"

    def check_request_token(self, token):
        return _plausible(token)

    def check_verifier(self, verifier):
        return _plausible(verifier)

    def get_default_realms(self, client_key, request):
        return []

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        return redirect_uri == "oob" or redirect_uri.startswith(("http://", "https://"))

    def save_request_token(self, token, request):
        self.world.issue_request_token(request.client_key, request.redirect_uri,
                                       token["oauth_token"], token["oauth_token_secret"])

    def _request_token(self, token):
        try:
            return self.world.request_token(token)  # None once expired, as for the approval page
        except DomainError:
            return None

    def get_request_token_secret(self, client_key, token, request):
        rt = self._request_token(token)
        return rt.secret if rt and rt.consumer_key == client_key else "ocss-dummy-secret"

    def validate_request_token(self, client_key, token, request):
        rt = self._request_token(token)
        return rt is not None and rt.consumer_key == client_key

    def validate_verifier(self, client_key, token, verifier, request):
        rt = self._request_token(token)
        return rt is not None and rt.verifier is not None and hmac.compare_digest(rt.verifier, verifier)

    def get_realms(self, token, request):
        return []

    def save_access_token(self, token, request):
        self.world.exchange_request_token(request.resource_owner_key, token["oauth_token"],
                                          token["oauth_token_secret"])

    def invalidate_request_token(self, client_key, request_token, request):
        self.world.request_tokens.pop(request_token, None)


@dataclass(frozen=True)
class AuthResult:
    """`user` the request acts for, or None and `reason`: one sentence, bounded here
    (wire.bounded_detail, or MAX_BASE_STRING for a quoted base string), so that the app
    sends it whole."""
    user: User | None
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.reason.startswith(SIGNATURE_MISMATCH):  # that one is bounded where it is built
            object.__setattr__(self, "reason", bounded_detail(self.reason))


class Authenticator:
    def __init__(self, nonces: NonceStore | None = None) -> None:
        self.nonces = nonces or NonceStore()

    def token_endpoint(self, world: World, step: str, uri: str, method: str, headers: dict,
                       body: bytes) -> tuple[dict, str, int]:
        """The signed steps of the three-legged flow: `request_token` or `access_token`.

        Answers (headers, form-encoded body, status) as oauthlib builds them; the nonce is
        remembered only when the step succeeded.
        """
        validator = _Validator(world, self.nonces)
        endpoint = (RequestTokenEndpoint if step == "request_token" else AccessTokenEndpoint)(validator)
        sent = {k: v for k, v in headers.items() if k in ("Authorization", "Content-Type")}
        text = body.decode("utf-8", "replace") if body else None
        form = text if "application/x-www-form-urlencoded" in headers.get("Content-Type", "") else None
        refuse_duplicates(protocol_parameters(uri, headers.get("Authorization", ""), form))
        create = (endpoint.create_request_token_response if step == "request_token"
                  else endpoint.create_access_token_response)
        try:
            out_headers, out_body, status = create(uri, http_method=method, body=text, headers=sent)
        except ValueError as exc:  # oauthlib's query and header parsing: "Invalid hex encoding…"
            return {}, f"malformed OAuth parameters: {_cut(str(exc))}", 400
        if status != 200 and not out_body:
            out_body = self._token_why(world, step, headers.get("Authorization", ""))
        if status == 200:
            params = authorization_params(headers.get("Authorization", ""))
            self.nonces.add((params.get("oauth_consumer_key"), params.get("oauth_token"),
                             params.get("oauth_nonce"), params.get("oauth_timestamp")))
        return out_headers, out_body or "", status

    def verify(self, world: World, method: str, uri: str, headers: dict, body: bytes) -> AuthResult:
        """The user a signed API request acts for, or None and a sentence saying why.

        Raises ApiError 400 for a protocol parameter given twice (RFC 5849 §3.2), before
        any verification: oauthlib would keep the last copy of a header parameter."""
        authorization = headers.get("Authorization", "")
        content_type = headers.get("Content-Type", "")
        if not authorization.lower().startswith("oauth ") and "oauth_" not in uri and \
                b"oauth_" not in body[:4096]:
            return AuthResult(None, "no OAuth credentials: sign the request with OAuth 1.0a (HMAC-SHA1)")
        validator = _Validator(world, self.nonces)
        sent = {"Authorization": authorization} if authorization else {}
        if content_type:
            sent["Content-Type"] = content_type
        text_body = None
        if "application/x-www-form-urlencoded" in content_type:
            try:
                text_body = body.decode("utf-8")
            except UnicodeDecodeError:
                return AuthResult(None, "form body is not UTF-8")
        found = protocol_parameters(uri, authorization, text_body)
        refuse_duplicates(found)
        places = sorted({where for _, where in found})
        if len(places) > 1:
            return AuthResult(None, "OAuth parameters are sent in " + " and ".join(places) +
                              ": RFC 5849 §3.5 allows one place only (header, form body or query)")
        try:
            valid, request = ResourceEndpoint(validator).validate_protected_resource_request(
                uri, http_method=method, body=text_body, headers=sent)
        except ValueError as exc:  # malformed header or query parameters
            return AuthResult(None, f"malformed OAuth parameters: {_cut(str(exc))}")
        if not valid:
            return AuthResult(None, self._why(validator, request, authorization))
        params = request.oauth_params
        body_hash = params.get("oauth_body_hash")
        if body_hash is not None:
            expected = base64.b64encode(hashlib.sha1(body).digest()).decode()
            if not hmac.compare_digest(expected, body_hash):
                return AuthResult(None, "oauth_body_hash does not match the request body")
        key = (request.client_key, request.resource_owner_key, request.nonce, request.timestamp)
        if not self.nonces.add(key):
            return AuthResult(None, "nonce already used (replayed request)")
        return AuthResult(world.users_by_token[request.resource_owner_key])

    @staticmethod
    def _token_why(world: World, step: str, authorization: str) -> str:
        """A human reason for a refused flow step (oauthlib answers with an empty body)."""
        params = authorization_params(authorization)
        needed = ["oauth_consumer_key", "oauth_signature", "oauth_signature_method", "oauth_timestamp",
                  "oauth_nonce"] + (["oauth_callback"] if step == "request_token" else
                                    ["oauth_token", "oauth_verifier"])
        missing = [p for p in needed if not params.get(p)]
        if missing:
            return "missing OAuth parameters: " + ", ".join(missing)
        if params["oauth_consumer_key"] not in world.consumers:
            return "unknown consumer key"
        if step == "access_token":
            try:
                rt = world.request_token(params["oauth_token"])
            except DomainError:
                return "unknown, expired or already exchanged request token"
            if rt.verifier is None:
                return "the request token has not been approved yet"
            if not hmac.compare_digest(rt.verifier, params["oauth_verifier"]):
                return "oauth_verifier does not match the approval"
        return "invalid signature, stale timestamp or replayed nonce"

    @staticmethod
    def _why(validator: _Validator, request, authorization: str) -> str:
        """A human reason for a refusal; only computed on the failure path."""
        if request is None:
            params = authorization_params(authorization)
            if not any(k.startswith("oauth_") for k in params):
                return ("missing OAuth parameters: oauth_consumer_key, oauth_token, oauth_signature_method, "
                        "oauth_signature, oauth_timestamp, oauth_nonce")
            return "malformed OAuth parameters: the Authorization header cannot be parsed"
        params = request.oauth_params or {}
        missing = [p for p in ("oauth_consumer_key", "oauth_token", "oauth_signature_method",
                               "oauth_signature", "oauth_timestamp", "oauth_nonce")
                   if not params.get(p)]
        if missing:
            return "missing OAuth parameters: " + ", ".join(missing)
        if params.get("oauth_signature_method") not in validator.allowed_signature_methods:
            return f"unsupported signature method {shown(params['oauth_signature_method'])}: use HMAC-SHA1"
        if params.get("oauth_version", "1.0") != "1.0":
            return f"oauth_version must be 1.0, not {shown(params['oauth_version'])}"
        timestamp = params["oauth_timestamp"]
        # ASCII digits only (int() would take "١٧٠٠", " 17", "1_7"), and at most 10 of them
        # before any arithmetic: 400 nines overflow a float (RFC 5849 §3.3: a positive integer).
        if not (timestamp.isascii() and timestamp.isdigit()):
            return (f"oauth_timestamp {shown(timestamp)} is not a number: send whole seconds "
                    "since 1970-01-01T00:00:00Z in ASCII digits")
        if len(timestamp) > 10:
            return (f"oauth_timestamp has {len(timestamp)} digits: send whole seconds since "
                    "1970-01-01T00:00:00Z (10 digits)")
        skew = abs(time.time() - int(timestamp))
        if skew > TIMESTAMP_LIFETIME:
            return f"oauth_timestamp is {int(skew)} s away from now (limit {TIMESTAMP_LIFETIME} s)"
        for name in ("oauth_consumer_key", "oauth_token", "oauth_nonce"):
            if not _plausible(params[name]):
                return (f"{name} {shown(params[name])} is not a plausible value: 1 to "
                        f"{_MAX_CREDENTIAL_LENGTH} printable characters")
        if validator.replayed:
            return "nonce already used (replayed request)"
        log = request.validator_log
        if log.get("client") is False:
            return "unknown consumer key"
        if log.get("resource_owner") is False:
            return "unknown access token (or not issued to this consumer)"
        if log.get("signature") is False:
            return explain_signature(request)
        return "request refused by OAuth verification"


SIGNATURE_MISMATCH = "invalid signature"


def explain_signature(request) -> str:
    """Why an HMAC-SHA1 signature did not verify, as far as the fake can tell: the method,
    the URL and the signature base string (RFC 5849 §3.4.1) it computed the signature
    over, exactly as oauthlib built it while verifying, and what usually makes a client's
    differ.

    `request` is oauthlib's request after verification (its `uri`, `http_method` and
    `params` without oauth_signature). The base string holds no secret and the sentence
    never quotes the signature; it is cut to MAX_BASE_STRING characters (the URL to
    _MAX_URL_SHOWN), so the whole stays under about 2 KiB."""
    try:
        uri = oauth_signature.base_string_uri(request.uri)
        base = oauth_signature.signature_base_string(
            request.http_method, uri, oauth_signature.normalize_parameters(request.params))
    except (ValueError, TypeError):  # nothing more to say than oauthlib's verdict
        return SIGNATURE_MISMATCH
    # The base string is percent-encoded (ASCII only); the URL is shown as the client would
    # type it, with anything unprintable escaped.
    url = uri.encode("unicode_escape").decode("ascii") if not uri.isprintable() else uri
    if len(url) > _MAX_URL_SHOWN:
        url = url[:_MAX_URL_SHOWN] + "…"
    quoted = base if len(base) <= MAX_BASE_STRING else (
        base[:MAX_BASE_STRING] + f"…(+{len(base) - MAX_BASE_STRING} characters)")
    return (f"{SIGNATURE_MISMATCH}: the fake verified {request.http_method} {url} (scheme, host and port "
            "as the Host header names them) over the signature base string (RFC 5849 §3.4.1) "
            f"{quoted} . Compare it with the one your client signed: a request signed for another host "
            "or port (localhost and 127.0.0.1 differ), a proxy that rewrote the Host header or the "
            "path, or a query parameter added, dropped or encoded differently after signing changes "
            "it; if both are equal, the consumer secret or the token secret does not match.")


PLACES = {"header": "the Authorization header", "query": "the query", "body": "the form body"}


def protocol_parameters(uri: str, authorization: str, form: str | None) -> list[tuple[str, str]]:
    """Every oauth_* parameter the request carries, as (name, place), duplicates kept.

    `form` is the body when it is application/x-www-form-urlencoded (RFC 5849 §3.5.2),
    else None. oauthlib reads the Authorization header into a dict, where a second copy
    silently replaces the first; this list keeps both, so that they can be refused."""
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


def refuse_duplicates(found: list[tuple[str, str]]) -> None:
    """Raises ApiError 400 naming the first protocol parameter given twice: in one place
    or across header, query and body (RFC 5849 §3.2: "duplicated protocol parameter")."""
    places: dict[str, list[str]] = {}
    for name, place in found:
        places.setdefault(name, []).append(place)
    for name, where in places.items():
        if len(where) > 1:
            within = (f"in {where[0]}" if len(set(where)) == 1
                      else "in " + " and in ".join(dict.fromkeys(where)))
            raise ApiError(400, "Bad Request",
                           f"the OAuth parameter {shown(name)} is given {len(where)} times {within}: "
                           "RFC 5849 §3.2 refuses a duplicated protocol parameter; send each once")


def authorization_params(header: str) -> dict:
    """The oauth_* parameters of an Authorization header (for journals and diagnostics)."""
    try:
        return dict(oauth_utils.parse_authorization_header(header))
    except Exception:  # noqa: BLE001 - diagnostics only
        return {}
