"""OAuth 1.0a (HMAC-SHA1) verification of API requests, with oauthlib doing the maths.

docs/decisions.md, "OAuth 1.0a": keys of any form the fixtures hold, plain http, a 600 s
timestamp window, a nonce remembered only once its signature verified (so a forged
request cannot burn a real client's nonce), and `oauth_body_hash` checked against the
body when present. A refusal says why in one bounded sentence; for a signature that does
not verify, it quotes the signature base string the fake computed (`explain_signature`).

API requests are verified on oauthlib's own primitives (`oauthlib.oauth1.rfc5849.signature`
and `.utils`) by the rules of its resource endpoint, reading the Authorization header and
building the signature base string once each; tests/test_oauth_fastpath.py checks the
verdicts against that endpoint. The three-legged flow goes through oauthlib's endpoints.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple, TypeGuard
from urllib.parse import parse_qsl, unquote, urlsplit

from oauthlib.oauth1 import AccessTokenEndpoint, RequestTokenEndpoint, RequestValidator
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from .model.errors import DomainError
from .model.world import User, World
from .wire import ApiError, bounded_detail, shown

TIMESTAMP_LIFETIME = 600
_MAX_CREDENTIAL_LENGTH = 512
MAX_BASE_STRING = 1024  # characters of a signature base string a refusal quotes
_MAX_URL_SHOWN = 256
_DUMMY_SECRET = "ocss-dummy-secret"  # signs for an unknown consumer or token, so that its refusal takes as long
_REQUIRED = ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_signature",
             "oauth_timestamp", "oauth_nonce")


class NonceStore:
    """Nonces seen within the timestamp window; bounded in entries and in bytes, oldest
    (by timestamp) dropped first.

    A key is `(consumer key, token or None, nonce, timestamp)`, all strings as signed
    (RFC 5849 §3.3: the nonce is unique per timestamp, consumer and token). The store keeps
    a fixed-size record of it whatever the strings' length: 16 bytes of BLAKE2b over the
    four, and the timestamp. Records are grouped by timestamp minute; a group leaves once
    no timestamp in it can pass the check any more (more than `lifetime` seconds old), and
    beyond `capacity` records (`limit`, and `max_bytes` / RECORD_BYTES) the oldest minute
    loses records first. A key whose timestamp int() cannot read (or of more than 12
    characters) is never kept: no timestamp check accepts it (oauthlib's reads it with int()).

    With a state file (persistence.py) the store outlives the process, in the form
    `persisted` gives, `[32 hex digits of the digest, timestamp]`: `listener` is called with
    that of every new key (after the store's lock is released), `snapshot()` gives those
    still inside the window, and `restore()` takes them back at start, and keys as earlier
    files hold them (4 strings), so that a request replayed after a restart is still refused.
    """

    RECORD_BYTES = 128  # what one record costs in memory at most (tests/test_hardening_growth.py)
    _MINUTE = 60

    def __init__(self, limit: int = 100_000, lifetime: int = TIMESTAMP_LIFETIME,
                 max_bytes: int = 8 * 1024 * 1024) -> None:
        self._minutes: dict[int, dict[bytes, None]] = {}  # timestamp // 60 -> records
        self._count = 0
        self._lock = threading.Lock()
        self.limit = limit
        self.max_bytes = max_bytes
        self.lifetime = lifetime
        self.listener = None  # called with each new key's persisted form; must not call back into the store

    @property
    def capacity(self) -> int:
        """Records kept at most: `limit`, and fewer if `max_bytes` says so."""
        return max(1, min(self.limit, self.max_bytes // self.RECORD_BYTES))

    @staticmethod
    def _record(key) -> bytes | None:
        """24 bytes: BLAKE2b-128 of the key's strings (each length-prefixed, None apart from
        ""), then its timestamp as 8 bytes; None for a key no timestamp check accepts."""
        try:
            consumer, token, nonce, timestamp = key
        except (TypeError, ValueError):
            return None
        seconds = NonceStore._seconds(timestamp)
        if seconds is None:
            return None
        digest = hashlib.blake2b(digest_size=16)
        for part in (consumer, token, nonce, timestamp):
            data = b"\xff" if part is None else str(part).encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.digest() + seconds.to_bytes(8, "big", signed=True)

    @staticmethod
    def _seconds(timestamp) -> int | None:
        """The timestamp as oauthlib's check reads it (int(): other scripts' digits too)."""
        if not isinstance(timestamp, str) or len(timestamp) > 12:
            return None
        try:
            return int(timestamp)
        except ValueError:
            return None

    @classmethod
    def persisted(cls, key) -> list[str] | None:
        """The form `snapshot()` gives for a key: `[32 hex digits, timestamp]`."""
        record = cls._record(key)
        return None if record is None else cls._as_list(record)

    @staticmethod
    def _as_list(record: bytes) -> list[str]:
        return [record[:16].hex(), str(int.from_bytes(record[16:], "big", signed=True))]

    @classmethod
    def _from_persisted(cls, entry) -> bytes | None:
        if isinstance(entry, (list, tuple)) and len(entry) == 2 and all(isinstance(e, str) for e in entry):
            digest, timestamp = entry
            seconds = cls._seconds(timestamp)
            if len(digest) != 32 or seconds is None:
                return None
            try:
                return bytes.fromhex(digest) + seconds.to_bytes(8, "big", signed=True)
            except ValueError:
                return None
        return cls._record(tuple(entry)) if isinstance(entry, (list, tuple)) else None

    def __contains__(self, key: tuple) -> bool:
        record = self._record(key)
        if record is None:
            return False
        with self._lock:
            return record in self._minutes.get(self._minute(record), ())

    def add(self, key: tuple) -> bool:
        """Remember a nonce; False if it was already there (a replay). A key whose
        timestamp is not a number is not kept, and answers True."""
        record = self._record(key)
        if record is not None and not self._remember(record, time.time()):
            return False
        listener = self.listener
        if listener is not None and record is not None:
            listener(self._as_list(record))
        return True

    def _minute(self, record: bytes) -> int:
        return int.from_bytes(record[16:], "big", signed=True) // self._MINUTE

    def _remember(self, record: bytes, wall: float) -> bool:
        with self._lock:
            minute = self._minute(record)
            records = self._minutes.get(minute)
            if records is None:
                records = self._minutes[minute] = {}
            elif record in records:
                return False
            records[record] = None
            self._count += 1
            minutes = self._minutes
            # A minute leaves once its newest timestamp is more than `lifetime` s old.
            oldest = min(minutes)
            while (oldest + 1) * self._MINUTE - 1 < wall - self.lifetime:
                self._count -= len(minutes.pop(oldest))
                if not minutes:
                    break
                oldest = min(minutes)
            capacity = self.capacity
            while self._count > capacity:
                oldest = min(minutes)
                minutes[oldest].popitem()
                self._count -= 1
                if not minutes[oldest]:
                    del minutes[oldest]
            return True

    def _replayable(self, record: bytes, wall: float) -> bool:
        """Could a request with this record's timestamp still pass the check (±lifetime)?"""
        return abs(wall - int.from_bytes(record[16:], "big", signed=True)) <= self.lifetime

    def snapshot(self) -> list[list[str]]:
        """The records whose timestamp is still inside the window, oldest minute first,
        as `[32 hex digits of the digest, timestamp]`."""
        wall = time.time()
        with self._lock:
            records = [r for minute in sorted(self._minutes) for r in self._minutes[minute]]
        return [self._as_list(r) for r in records if self._replayable(r, wall)]

    def restore(self, entries) -> int:
        """Take back what `snapshot()` gave, or keys as the listener got them (lists or
        tuples of 4 strings, as earlier state files hold them); those outside the window,
        and anything else, are dropped. The listener is not called. Returns how many were kept."""
        wall, kept = time.time(), 0
        for entry in entries:
            record = self._from_persisted(entry)
            if record is not None and self._replayable(record, wall) and self._remember(record, wall):
                kept += 1
        return kept

    def __len__(self) -> int:
        return self._count


MAX_AUTHORIZATION = 8 * 1024  # characters of an Authorization header the fake reads at all


def authorization_too_long(headers) -> str | None:
    """The refusal sentence for an Authorization header of more than MAX_AUTHORIZATION
    characters, else None. Checked first, before the header is parsed: splitting it
    (urllib's parse_http_list, which oauthlib uses) walks it in Python, ~0.3 µs a
    character, so a 200,000-character header cost 58 ms of CPU for its 401, unsigned.
    The longest header of plausible values (consumer key, token, nonce and verifier of
    512 characters each, percent-encoded to at most 1,536) is ~6.4 KiB with the other
    parameters; 8 KiB is also the most a header line may hold in Apache httpd
    (LimitRequestFieldSize) and nginx (large_client_header_buffers) by default."""
    authorization = headers.get("Authorization") or ""
    if len(authorization) <= MAX_AUTHORIZATION:
        return None
    return (f"the Authorization header is {len(authorization):,} characters long, over the "
            f"{MAX_AUTHORIZATION:,} this server reads: an OAuth 1.0a header (RFC 5849 §3.5.1) holds "
            "a few hundred")


def _cut(message: str, limit: int = 200) -> str:
    """oauthlib's messages quote the whole query string: the client already has it."""
    return message if len(message) <= limit else message[:limit] + "…"


def _plausible(value: str | None) -> TypeGuard[str]:
    return value is not None and 0 < len(value) <= _MAX_CREDENTIAL_LENGTH and value.isprintable()


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
        refused = authorization_too_long(headers)
        if refused:
            return {}, refused, 401
        validator = _Validator(world, self.nonces)
        endpoint = (RequestTokenEndpoint if step == "request_token" else AccessTokenEndpoint)(validator)
        sent = {k: v for k, v in headers.items() if k in ("Authorization", "Content-Type")}
        text = body.decode("utf-8", "replace") if body else None
        form = text if "application/x-www-form-urlencoded" in headers.get("Content-Type", "") else None
        refuse_duplicates(protocol_parameters(uri, headers.get("Authorization", ""), form))
        callback = _callback_problem(uri, headers.get("Authorization", ""), form)
        if callback:
            return {}, callback, 400
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

        `uri` is absolute, as the client signed it; `headers` maps header names as sent
        (Authorization, Content-Type); `body` is the raw body. The verdict is the one
        oauthlib's resource endpoint gives (oauthlib.oauth1.rfc5849.endpoints), reached on
        its primitives: the Authorization header is parsed once, the signature base string
        (RFC 5849 §3.4.1) built once, the HMAC-SHA1 compared in constant time. Raises
        ApiError 400 for a protocol parameter given twice (RFC 5849 §3.2), before any
        verification: oauthlib would keep the last copy of a header parameter."""
        refused = authorization_too_long(headers)
        if refused:
            return AuthResult(None, refused)
        authorization = headers.get("Authorization", "")
        content_type = headers.get("Content-Type", "")
        scheme = authorization[:6].lower() == "oauth "
        if not scheme and "oauth_" not in uri and b"oauth_" not in body[:4096]:
            return AuthResult(None, "no OAuth credentials: sign the request with OAuth 1.0a (HMAC-SHA1)")
        form = None
        if "application/x-www-form-urlencoded" in content_type:
            try:
                form = body.decode("utf-8")
            except UnicodeDecodeError:
                return AuthResult(None, "form body is not UTF-8")
        items = oauth_utils.parse_http_list(authorization[6:]) if scheme else None
        found = _protocol_parameters(items, uri, form)
        refuse_duplicates(found)
        places = sorted({where for _, where in found})
        if len(places) > 1:
            return AuthResult(None, "OAuth parameters are sent in " + " and ".join(places) +
                              ": RFC 5849 §3.5 allows one place only (header, form body or query)")
        try:
            read = _read_parameters(uri, authorization, items, form)
        except ValueError as exc:  # malformed header or query parameters
            return AuthResult(None, f"malformed OAuth parameters: {_cut(str(exc))}")
        if read.oauth is None:
            if not read.header_has_oauth:
                return AuthResult(None, "missing OAuth parameters: " + ", ".join(_REQUIRED))
            return AuthResult(None, "malformed OAuth parameters: the Authorization header cannot be parsed")
        return self._verify_signed(world, method, uri, read.oauth, read.params, body)

    def _verify_signed(self, world: World, method: str, uri: str, oauth: dict, params: list,
                       body: bytes) -> AuthResult:
        """The checks of oauthlib's resource endpoint, in its order, then the body hash and
        the nonce. `oauth`: the protocol parameters, unescaped; `params`: what the signature
        covers."""
        client_key, token = oauth.get("oauth_consumer_key"), oauth.get("oauth_token")
        nonce, timestamp = oauth.get("oauth_nonce"), oauth.get("oauth_timestamp")
        signature = oauth.get("oauth_signature")
        if not (signature and client_key and nonce and timestamp
                and oauth.get("oauth_signature_method") == "HMAC-SHA1"
                and oauth.get("oauth_version", "1.0") == "1.0" and _in_window(timestamp)
                and _plausible(client_key) and _plausible(nonce) and _plausible(token)):
            return AuthResult(None, _refusal(oauth))
        # Only look here; the nonce is stored after the signature verified.
        if (client_key, token, nonce, timestamp) in self.nonces:
            return AuthResult(None, _refusal(oauth, replayed=True))
        # An unknown consumer or token is verified all the same, with stand-in secrets (as
        # oauthlib's dummy credentials do), so that its refusal takes as long as a bad signature.
        known_client = client_key in world.consumers
        signer = client_key if known_client else _Validator.dummy_client
        user = world.users_by_token.get(token)
        owned = user is not None and user.consumer_key == signer
        holder = user if owned else world.users_by_token.get(_Validator.dummy_access_token)
        secrets = _Secrets(world.consumers.get(signer, _DUMMY_SECRET),
                           holder.token_secret if holder else _DUMMY_SECRET)
        try:
            base_uri = _base_string_uri(uri)
            base = oauth_signature.signature_base_string(method, base_uri,
                                                         oauth_signature.normalize_parameters(params))
        except ValueError as exc:  # a port out of range in an absolute request target
            return AuthResult(None, f"malformed OAuth parameters: {_cut(str(exc))}")
        expected = oauth_signature.sign_hmac_sha1_with_client(base, secrets)
        # bytes: compare_digest refuses str with non-ASCII characters, which a client may send
        verified = hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "surrogatepass"))
        if not (known_client and owned and verified):
            mismatch = None if verified else explain_signature(method, base_uri, base)
            return AuthResult(None, _refusal(oauth, client=known_client, owner=owned, mismatch=mismatch))
        body_hash = oauth.get("oauth_body_hash")
        if body_hash is not None:
            digest = base64.b64encode(hashlib.sha1(body).digest())
            if not hmac.compare_digest(digest, body_hash.encode("utf-8", "surrogatepass")):
                return AuthResult(None, "oauth_body_hash does not match the request body")
        if not self.nonces.add((client_key, token, nonce, timestamp)):
            return AuthResult(None, "nonce already used (replayed request)")
        return AuthResult(user)

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


def _refusal(params: dict, replayed: bool = False, client: bool = True, owner: bool = True,
             mismatch: str | None = None) -> str:
    """A human reason for a refusal; only computed on the failure path. `params` are the
    protocol parameters as read; `client`, `owner`: whether the consumer key and the token
    (for that consumer) are known; `mismatch`: the explanation of a signature that did not
    verify, None if it did or was not computed."""
    missing = [p for p in _REQUIRED if not params.get(p)]
    if missing:
        return "missing OAuth parameters: " + ", ".join(missing)
    if params.get("oauth_signature_method") != "HMAC-SHA1":
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
    if replayed:
        return "nonce already used (replayed request)"
    if not client:
        return "unknown consumer key"
    if not owner:
        return "unknown access token (or not issued to this consumer)"
    if mismatch is not None:
        return mismatch
    return "request refused by OAuth verification"


@functools.lru_cache(maxsize=256)
def _cached_base_string_uri(uri: str) -> str:
    return oauth_signature.base_string_uri(uri)


def _base_string_uri(uri: str) -> str:
    """oauthlib's base string URI (RFC 5849 §3.4.1.2), a pure function of the URI,
    remembered for the 256 URIs last verified that are at most 2 KiB long (at most
    ~1 MB): most requests of a client go to a handful of URLs."""
    return _cached_base_string_uri(uri) if len(uri) <= 2048 else oauth_signature.base_string_uri(uri)


def _in_window(timestamp: str) -> bool:
    """oauthlib's timestamp rule (endpoints/base.py: 10 characters, within
    TIMESTAMP_LIFETIME seconds of now), in ASCII digits only (RFC 5849 §3.3: a positive
    integer). oauthlib reads it with int(), which also takes other scripts' digits
    ("١٧٩٦…"); NonceStore keeps no record of such a key, so one accepted could be replayed.
    What a refusal says of it is `_refusal`'s."""
    return (len(timestamp) == 10 and timestamp.isascii() and timestamp.isdigit()
            and abs(time.time() - int(timestamp)) <= TIMESTAMP_LIFETIME)


class _Secrets(NamedTuple):
    """The two shared secrets, as oauthlib's HMAC signer reads them from a client."""
    client_secret: str
    resource_owner_secret: str


class _Read(NamedTuple):
    """An API request's parameters as oauthlib's resource endpoint reads them
    (oauthlib.oauth1.rfc5849.endpoints.base, `_create_request`). `oauth`: the protocol
    parameters of the one place that carries them, values unescaped, or None where that
    endpoint finds them in no place, in two, or one of them twice; `params`: every
    parameter the signature covers (RFC 5849 §3.4.1.3.1); `header_has_oauth`: whether the
    Authorization header holds an oauth_* parameter."""
    oauth: dict | None
    params: list
    header_has_oauth: bool


def _read_parameters(uri: str, authorization: str, items: list[str] | None, form: str | None) -> _Read:
    """The parameters of the query, the Authorization header (`items`, its list as
    oauthlib's `utils.parse_http_list` split it, None if its scheme is not OAuth) and a
    form-encoded body (`form`, else None), each place read once with oauthlib's functions.

    Raises ValueError as oauthlib does: for a query that is not form-encoded (its message),
    or an Authorization header it cannot parse ("Malformed authorization header")."""
    query = urlsplit(uri).query
    from_query = (oauth_signature.collect_parameters(uri_query=query, exclude_oauth_signature=False)
                  if query else [])
    from_header: list[tuple[str, str]] = []
    if authorization:
        try:
            if items is None:
                raise ValueError
            pairs = oauth_utils.parse_keqv_list(items)
        except (IndexError, ValueError):
            raise ValueError("Malformed authorization header") from None
        from_header = [(k, oauth_utils.unescape(v) if k.startswith("oauth_") else v) for k, v in pairs.items()]
    from_body = (oauth_signature.collect_parameters(body=form, exclude_oauth_signature=False)
                 if form else [])
    header_has_oauth = any(k.startswith("oauth_") for k, _ in from_header)
    located = [place for place in (from_header, from_body, from_query)
               if any(k.startswith("oauth_") for k, _ in place)]
    params = [(k, v) for k, v in (*from_header, *from_body, *from_query) if k != "oauth_signature"]
    if len(located) != 1:
        return _Read(None, params, header_has_oauth)
    protocol = [(k, v) for k, v in located[0] if k.startswith("oauth_")]
    oauth = dict(protocol)
    if len(oauth) != len(protocol):
        return _Read(None, params, header_has_oauth)
    if "realm" in authorization:  # as oauthlib's endpoint: every "realm" leaves, from any place
        params = [(k, v) for k, v in params if k != "realm"]
    return _Read(oauth, params, header_has_oauth)


SIGNATURE_MISMATCH = "invalid signature"


def explain_signature(method: str, base_uri: str, base: str) -> str:
    """Why an HMAC-SHA1 signature did not verify, as far as the fake can tell: the method,
    the URL and the signature base string (RFC 5849 §3.4.1) it computed the signature
    over, exactly as it built it while verifying, and what usually makes a client's
    differ.

    `base_uri` is the base string URI (RFC 5849 §3.4.1.2), `base` the signature base
    string, both from oauthlib's `signature` functions. The base string holds no secret and
    the sentence never quotes the signature; it is cut to MAX_BASE_STRING characters (the
    URL to _MAX_URL_SHOWN), so the whole stays under about 2 KiB."""
    # The base string is percent-encoded (ASCII only); the URL is shown as the client would
    # type it, with anything unprintable escaped.
    url = base_uri.encode("unicode_escape").decode("ascii") if not base_uri.isprintable() else base_uri
    if len(url) > _MAX_URL_SHOWN:
        url = url[:_MAX_URL_SHOWN] + "…"
    quoted = base if len(base) <= MAX_BASE_STRING else (
        base[:MAX_BASE_STRING] + f"…(+{len(base) - MAX_BASE_STRING} characters)")
    return (f"{SIGNATURE_MISMATCH}: the fake verified {method} {url} (scheme, host and port "
            "from --base-url, else trusted forwarded headers, else the Host header) "
            "over the signature base string (RFC 5849 §3.4.1) "
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
    items = oauth_utils.parse_http_list(authorization[6:]) if authorization[:6].lower() == "oauth " else None
    return _protocol_parameters(items, uri, form)


def _protocol_parameters(items: list[str] | None, uri: str, form: str | None) -> list[tuple[str, str]]:
    """`protocol_parameters` with the Authorization header already split into `items`
    (oauthlib's `utils.parse_http_list`; None if its scheme is not OAuth)."""
    found: list[tuple[str, str]] = []
    if items is not None:
        for item in items:
            name = item.split("=", 1)[0].strip()
            if name.startswith("oauth_"):
                found.append((name, PLACES["header"]))
    for place, text in (("query", urlsplit(uri).query), ("body", form or "")):
        if "oauth_" in text:
            found.extend((name, PLACES[place]) for name, _ in parse_qsl(text, keep_blank_values=True)
                         if name.startswith("oauth_"))
    return found


def _callback_problem(uri: str, authorization: str, form: str | None) -> str | None:
    """Why the request's `oauth_callback` cannot be kept, or None: the token it goes into
    is state, and the state holds only text an answer can show (model.state.text_problem);
    the query is checked by the app before this (wire.py)."""
    from .model.state import text_problem  # the state module's rule, in one place

    header = authorization_params(authorization).get("oauth_callback")
    sent = [unquote(header) if header else None]  # percent-encoded in the header (RFC 5849 §3.5.1)
    sent += [value for name, value in parse_qsl(form or "", keep_blank_values=True) if name == "oauth_callback"]
    for value in sent:
        problem = text_problem(value) if value else None
        if problem:
            return f"oauth_callback holds {problem}"
    return None


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
