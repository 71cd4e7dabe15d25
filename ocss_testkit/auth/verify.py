"""The check of a signed API request (RFC 5849 §3.2), on oauthlib's primitives, by the
rules of oauthlib's resource endpoint; and the Authenticator the app holds.

The Authorization header is split once, each place of parameters read once, the signature
base string built once, the HMAC-SHA1 compared in constant time, the nonce's record
computed once; tests/auth/test_oauth_fastpath.py checks the verdicts against oauthlib's
`ResourceEndpoint`. No check is skipped for speed: the timestamp window, the nonce (looked
up before the signature, kept only after it verified, so a forged request cannot burn a
real client's nonce), the signature and `oauth_body_hash` against the body.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from werkzeug.datastructures import Headers

from ocss_testkit.answers import bounded_detail
from ocss_testkit.auth import base_string, params, three_legged
from ocss_testkit.auth.explain import SIGNATURE_MISMATCH, explain_signature, refusal
from ocss_testkit.auth.nonces import NonceStore
from ocss_testkit.auth.rules import (
    DUMMY_ACCESS_TOKEN,
    DUMMY_CLIENT,
    DUMMY_SECRET,
    REQUIRED,
    cut,
    header_too_long,
    in_window,
    plausible,
)
from ocss_testkit.world.users import User
from ocss_testkit.world.world import World

NO_CREDENTIALS = "no OAuth credentials: sign the request with OAuth 1.0a (HMAC-SHA1)"
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class AuthResult:
    """`user` the request acts for, or None and `reason`: one sentence, bounded here
    (answers.bounded_detail, or MAX_BASE_STRING for a quoted base string), so that the app
    sends it whole."""
    user: User | None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.reason and not self.reason.startswith(SIGNATURE_MISMATCH):  # that one is bounded where built
            object.__setattr__(self, "reason", bounded_detail(self.reason))


class Authenticator:
    """OAuth 1.0a for one fake: API requests (`verify`) and the signed steps of the
    three-legged flow (`token_endpoint`), sharing one NonceStore (`nonces`)."""

    def __init__(self, nonces: NonceStore | None = None) -> None:
        self.nonces = nonces or NonceStore()

    def token_endpoint(self, world: World, step: str, uri: str, method: str, headers: dict,
                       body: bytes) -> tuple[dict, str, int]:
        """`three_legged.token_endpoint` with this Authenticator's nonces."""
        return three_legged.token_endpoint(self.nonces, world, step, uri, method, headers, body)

    def verify(self, world: World, method: str, uri: str, headers: Mapping[str, str] | Headers,
               body: bytes) -> AuthResult:
        """The user a signed API request acts for, or None and a sentence saying why.

        `uri` is absolute, as the client signed it; `headers` maps header names as sent
        (Authorization, Content-Type); `body` is the raw body. The verdict is the one
        oauthlib's resource endpoint gives (oauthlib.oauth1.rfc5849.endpoints). Raises
        ApiError 400 for a protocol parameter given twice (RFC 5849 §3.2), before any
        verification: oauthlib would keep the last copy of a header parameter."""
        authorization = headers.get("Authorization") or ""
        refused = header_too_long(authorization)
        if refused:
            return AuthResult(None, refused)
        scheme = authorization[:6].lower() == "oauth "
        if not scheme and "oauth_" not in uri and b"oauth_" not in body[:4096]:
            return AuthResult(None, NO_CREDENTIALS)
        form = None
        if body and _FORM in headers.get("Content-Type", ""):  # an empty form carries no parameter
            try:
                form = body.decode("utf-8")
            except UnicodeDecodeError:
                return AuthResult(None, "form body is not UTF-8")
        try:
            if scheme and form is None and "?" not in uri:  # the Authorization header only: most requests
                read = params.read_header(authorization)
            else:
                located = params.locate(params.header_items(authorization) if scheme else None, uri, form)
                params.refuse_duplicates(located.found)
                places = sorted({where for _, where in located.found})
                if len(places) > 1:
                    return AuthResult(None, "OAuth parameters are sent in " + " and ".join(places) +
                                      ": RFC 5849 §3.5 allows one place only (header, form body or query)")
                read = params.read(located, authorization, form)
        except ValueError as exc:  # malformed header or query parameters
            return AuthResult(None, f"malformed OAuth parameters: {cut(str(exc))}")
        if read.oauth is None:
            if not read.header_has_oauth:
                return AuthResult(None, "missing OAuth parameters: " + ", ".join(REQUIRED))
            return AuthResult(None, "malformed OAuth parameters: the Authorization header cannot be parsed")
        return self._verify_signed(world, method, uri, read.oauth, read.params, body)

    def _verify_signed(self, world: World, method: str, uri: str, oauth: dict, signed: list,
                       body: bytes) -> AuthResult:
        """The checks of oauthlib's resource endpoint, in its order, then the body hash and
        the nonce. `oauth`: the protocol parameters, unescaped; `signed`: what the signature
        covers."""
        client_key, token = oauth.get("oauth_consumer_key"), oauth.get("oauth_token")
        nonce, timestamp = oauth.get("oauth_nonce"), oauth.get("oauth_timestamp")
        signature = oauth.get("oauth_signature")
        if not (signature and client_key and nonce and timestamp
                and oauth.get("oauth_signature_method") == "HMAC-SHA1"
                and oauth.get("oauth_version", "1.0") == "1.0" and in_window(timestamp)
                and plausible(client_key) and plausible(nonce) and plausible(token)):
            return AuthResult(None, refusal(oauth))
        # Only look here; the nonce is kept after the signature verified.
        record = NonceStore.record((client_key, token, nonce, timestamp))
        if self.nonces.seen(record):
            return AuthResult(None, refusal(oauth, replayed=True))
        # An unknown consumer or token is verified all the same, with stand-in secrets (as
        # oauthlib's dummy credentials are), so that its refusal takes as long as a bad signature.
        known_client = client_key in world.consumers
        signer = client_key if known_client else DUMMY_CLIENT
        user = world.users_by_token.get(token)
        owned = user is not None and user.consumer_key == signer
        holder = user if owned else world.users_by_token.get(DUMMY_ACCESS_TOKEN)
        secrets = base_string.Secrets(world.consumers.get(signer, DUMMY_SECRET),
                                      holder.token_secret if holder else DUMMY_SECRET)
        try:
            base_uri, base = base_string.base_string(method, uri, signed)
        except ValueError as exc:  # a port out of range in an absolute request target
            return AuthResult(None, f"malformed OAuth parameters: {cut(str(exc))}")
        expected = base_string.sign(base, secrets)
        # bytes: compare_digest refuses str with non-ASCII characters, which a client may send
        verified = hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "surrogatepass"))
        if not (known_client and owned and verified):
            mismatch = None if verified else explain_signature(method, base_uri, base)
            return AuthResult(None, refusal(oauth, client=known_client, owner=owned, mismatch=mismatch))
        body_hash = oauth.get("oauth_body_hash")
        if body_hash is not None:
            digest = base64.b64encode(hashlib.sha1(body).digest())
            if not hmac.compare_digest(digest, body_hash.encode("utf-8", "surrogatepass")):
                return AuthResult(None, "oauth_body_hash does not match the request body")
        if not self.nonces.remember(record):
            return AuthResult(None, "nonce already used (replayed request)")
        return AuthResult(user)
