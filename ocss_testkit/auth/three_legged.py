"""The signed steps of the three-legged flow (RFC 5849 §2.1 temporary credentials, §2.3
token credentials; route I16, "the OAuth flow"), through oauthlib's own endpoints, with a
validator bound to one World's consumers, users and request tokens."""
from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, unquote

from oauthlib.oauth1 import AccessTokenEndpoint, RequestTokenEndpoint, RequestValidator

from ocss_testkit.auth.nonces import NonceStore
from ocss_testkit.auth.params import authorization_params, protocol_parameters, refuse_duplicates
from ocss_testkit.auth.rules import (
    DUMMY_ACCESS_TOKEN,
    DUMMY_CLIENT,
    DUMMY_REQUEST_TOKEN,
    DUMMY_SECRET,
    TIMESTAMP_LIFETIME,
    cut,
    header_too_long,
    plausible,
)
from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.world import World

_FORM = "application/x-www-form-urlencoded"


class Validator(RequestValidator):
    """Binds oauthlib to one World's consumers and users, and the fake's NonceStore, for
    one request. `replayed` says whether it refused a nonce already seen."""

    def __init__(self, world: World, nonces: NonceStore) -> None:
        super().__init__()
        self.world = world
        self.nonces = nonces
        self.replayed = False

    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1",)
    timestamp_lifetime = TIMESTAMP_LIFETIME
    dummy_client = DUMMY_CLIENT
    dummy_access_token = DUMMY_ACCESS_TOKEN
    dummy_request_token = DUMMY_REQUEST_TOKEN

    # Fixture credentials come in any length or charset: accept anything printable.
    def check_client_key(self, client_key):
        return plausible(client_key)

    def check_access_token(self, token):
        return plausible(token)

    def check_nonce(self, nonce):
        return plausible(nonce)

    def check_realms(self, realms):
        return True

    def get_client_secret(self, client_key, request):
        return self.world.consumers.get(client_key, DUMMY_SECRET)

    def get_access_token_secret(self, client_key, token, request):
        user = self.world.users_by_token.get(token)
        return user.token_secret if user else DUMMY_SECRET

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

    # --- temporary credentials and verifiers -------------------------------------------------
    def check_request_token(self, token):
        return plausible(token)

    def check_verifier(self, verifier):
        return plausible(verifier)

    def get_default_realms(self, client_key, request):
        return []

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        return redirect_uri == "oob" or redirect_uri.startswith(("http://", "https://"))

    def save_request_token(self, token, request):
        self.world.tokens.issue_request_token(request.client_key, request.redirect_uri,
                                       token["oauth_token"], token["oauth_token_secret"])

    def _request_token(self, token):
        try:
            return self.world.tokens.request_token(token)  # None once expired, as for the approval page
        except DomainError:
            return None

    def get_request_token_secret(self, client_key, token, request):
        rt = self._request_token(token)
        return rt.secret if rt and rt.consumer_key == client_key else DUMMY_SECRET

    def validate_request_token(self, client_key, token, request):
        rt = self._request_token(token)
        return rt is not None and rt.consumer_key == client_key

    def validate_verifier(self, client_key, token, verifier, request):
        rt = self._request_token(token)
        return rt is not None and rt.verifier is not None and hmac.compare_digest(rt.verifier, verifier)

    def get_realms(self, token, request):
        return []

    def save_access_token(self, token, request):
        self.world.tokens.exchange_request_token(request.resource_owner_key, token["oauth_token"],
                                          token["oauth_token_secret"])

    def invalidate_request_token(self, client_key, request_token, request):
        self.world.tokens.request_tokens.pop(request_token, None)


def token_endpoint(nonces: NonceStore, world: World, step: str, uri: str, method: str, headers: dict,
                   body: bytes) -> tuple[dict, str, int]:
    """The signed steps of the three-legged flow: `request_token` (RFC 5849 §2.1) or
    `access_token` (§2.3).

    Answers (headers, form-encoded body, status) as oauthlib builds them, with a sentence
    saying why where oauthlib answers a refusal with an empty body; 400 for a malformed or
    unkeepable `oauth_callback`, 401 for an over-long Authorization header. Raises ApiError
    400 for a protocol parameter given twice (RFC 5849 §3.2). The nonce is remembered
    only when the step succeeded.
    """
    authorization = headers.get("Authorization") or ""
    refused = header_too_long(authorization)
    if refused:
        return {}, refused, 401
    validator = Validator(world, nonces)
    endpoint = (RequestTokenEndpoint if step == "request_token" else AccessTokenEndpoint)(validator)
    sent = {k: v for k, v in headers.items() if k in ("Authorization", "Content-Type")}
    text = body.decode("utf-8", "replace") if body else None
    form = text if _FORM in headers.get("Content-Type", "") else None
    refuse_duplicates(protocol_parameters(uri, authorization, form))
    params = authorization_params(authorization)  # the header's, parsed once for what follows
    callback = callback_problem(params, form)
    if callback:
        return {}, callback, 400
    create = (endpoint.create_request_token_response if step == "request_token"
              else endpoint.create_access_token_response)
    try:
        out_headers, out_body, status = create(uri, http_method=method, body=text, headers=sent)
    except ValueError as exc:  # oauthlib's query and header parsing: "Invalid hex encoding…"
        return {}, f"malformed OAuth parameters: {cut(str(exc))}", 400
    if status != 200 and not out_body:
        out_body = _token_why(world, step, params)
    if status == 200:
        nonces.add((params.get("oauth_consumer_key"), params.get("oauth_token"),
                    params.get("oauth_nonce"), params.get("oauth_timestamp")))
    return out_headers, out_body or "", status


def _token_why(world: World, step: str, params: dict[str, str]) -> str:
    """A human reason for a refused flow step (oauthlib answers with an empty body);
    `params` are the Authorization header's."""
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
            rt = world.tokens.request_token(params["oauth_token"])
        except DomainError:
            return "unknown, expired or already exchanged request token"
        if rt.verifier is None:
            return "the request token has not been approved yet"
        if not hmac.compare_digest(rt.verifier, params["oauth_verifier"]):
            return "oauth_verifier does not match the approval"
    return "invalid signature, stale timestamp or replayed nonce"


def callback_problem(params: dict[str, str], form: str | None) -> str | None:
    """Why the request's `oauth_callback` cannot be kept, or None: the token it goes into
    is state, and the state holds only text an answer can show (world.state.text_problem);
    the query is checked by the app before this (http_rules.target_problem)."""
    from ocss_testkit.world.text_rules import text_problem

    header = params.get("oauth_callback")  # the Authorization header's
    sent = [unquote(header) if header else None]  # percent-encoded in the header (RFC 5849 §3.5.1)
    sent += [value for name, value in parse_qsl(form or "", keep_blank_values=True) if name == "oauth_callback"]
    for value in sent:
        problem = text_problem(value) if value else None
        if problem:
            return f"oauth_callback holds {problem}"
    return None
