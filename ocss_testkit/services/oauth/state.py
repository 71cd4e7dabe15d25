"""OAuth 1.0a three-legged flow state (I16): request tokens, verifiers, issued tokens.

Kept in the World so a reset forgets every token the flow issued; the verification
maths stays in the auth package (oauthlib).

Request tokens live REQUEST_TOKEN_LIFETIME seconds of virtual time and are spent by the
exchange. Expired ones are purged whenever a new one is issued (oldest first, from an
expiry queue: amortised O(1), never a scan); at most `request_token_limit` live ones and
REQUEST_TOKEN_BYTES of them are kept, the oldest dropped first. A dropped token answers
as an expired one does ("unknown or expired request token"). Access tokens issued by the
flow are credentials and stay valid, but only the newest `issued_token_limit` of them:
an older one is revoked (401, unknown access token), so that traffic cannot grow them
without bound.
"""
from __future__ import annotations

import dataclasses
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocss_testkit.world.clock import expiry, iso_z
from ocss_testkit.world.errors import Invalid, NotFound
from ocss_testkit.world.service import Service, Slice
from ocss_testkit.world.tracked import TrackedDict

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User
    from ocss_testkit.world.world import World

REQUEST_TOKEN_LIFETIME = 600
DEFAULT_REQUEST_TOKEN_LIMIT = 10_000
REQUEST_TOKEN_BYTES = 8 * 1024 * 1024  # the callback URL comes from the client: bound the sum
DEFAULT_ISSUED_TOKEN_LIMIT = 10_000


@dataclass(slots=True)
class RequestToken:
    token: str
    secret: str
    consumer_key: str
    callback: str
    created: datetime
    user: str | None = None  # set when a user approves it
    verifier: str | None = None

    @property
    def expires(self) -> datetime:
        """`created` plus REQUEST_TOKEN_LIFETIME seconds, capped at the clock's last second
        (clock.expiry)."""
        return expiry(self.created, REQUEST_TOKEN_LIFETIME)

    @property
    def weight(self) -> int:
        """Roughly the bytes it holds: what REQUEST_TOKEN_BYTES counts."""
        return 128 + len(self.token) + len(self.secret) + len(self.consumer_key) + len(self.callback)


class TokensService(Service):
    """Request tokens and the access tokens the flow issued (`world.tokens`); every method
    runs under the World's lock."""

    name = "tokens"

    def _request_token_entry(self, token: str, t: RequestToken) -> dict[str, Any]:
        return {"token": t.token, "secret": t.secret, "consumer_key": t.consumer_key, "callback": t.callback,
                "created": iso_z(t.created), "user": t.user, "verifier": t.verifier}

    def _issued_token_entry(self, token: str) -> dict[str, Any] | None:
        user = self.world.users_by_token.get(token)
        if user is None:
            return None
        return {"user": user.name, "token": token, "secret": user.token_secret, "consumer_key": user.consumer_key}

    slices = (Slice("request_tokens", "keyed", "request_tokens", _request_token_entry, key_field="token"),
              Slice("issued_tokens", "sequence", "issued_tokens", _issued_token_entry))

    def __init__(self, world: World, request_token_limit: int = DEFAULT_REQUEST_TOKEN_LIMIT,
                 issued_token_limit: int = DEFAULT_ISSUED_TOKEN_LIMIT) -> None:
        super().__init__(world)
        self.request_tokens: TrackedDict[str, RequestToken] = TrackedDict()
        self.issued_tokens: deque[str] = deque()
        self.request_token_limit = request_token_limit
        self.issued_token_limit = issued_token_limit
        # Oldest first: purging pops the head (amortised O(1) per creation).
        self._request_token_expiry: deque[tuple[datetime, str]] = deque()
        self._request_token_bytes = 0

    def load(self, doc: StateReader) -> None:
        for t in doc.at("request_tokens", []).items():
            t.known("token", "secret", "consumer_key", "callback", "created", "user", "verifier")
            self.request_tokens[t.at("token").str(False)] = RequestToken(
                t.at("token").str(), t.at("secret").str(), t.at("consumer_key").str(), t.at("callback").str(),
                t.at("created").time(), t.at("user", None).opt_str(), t.at("verifier", None).opt_str())
        for t in doc.at("issued_tokens", []).items():
            t.known("user", "token", "secret", "consumer_key")
            user = self.world.users.get(t.at("user").str())
            if user is None:
                t.at("user").fail("names unknown user")
            issued = dataclasses.replace(user, token=t.at("token").str(False),
                                         token_secret=t.at("secret").str(False),
                                         consumer_key=t.at("consumer_key").str(False))
            self.world.users_by_token[issued.token] = issued
            self.issued_tokens.append(issued.token)

    def loaded(self) -> None:
        self._request_token_expiry = deque(sorted((rt.expires, token)
                                                  for token, rt in dict.items(self.request_tokens)))
        self._request_token_bytes = sum(rt.weight for rt in dict.values(self.request_tokens))

    def issue_request_token(self, consumer_key: str, callback: str, token: str | None = None,
                            secret: str | None = None) -> RequestToken:
        rt = RequestToken(token or secrets.token_urlsafe(16), secret or secrets.token_urlsafe(24),
                          consumer_key, callback, self.world.clock.now())
        self._purge_request_tokens(rt)
        self.request_tokens[rt.token] = rt
        self._request_token_expiry.append((rt.expires, rt.token))
        return rt

    def _purge_request_tokens(self, incoming: RequestToken) -> None:
        """Drop spent and expired tokens, then the oldest while one more would not fit.

        The byte total is a running sum that deletions elsewhere (the exchange) do not
        lower; only when it passes the limit is it recomputed, and the oldest are then
        dropped down to three quarters of it, so the usual issue costs O(1)."""
        queue, tokens, now = self._request_token_expiry, self.request_tokens, incoming.created
        while queue and (queue[0][0] < now or dict.get(tokens, queue[0][1]) is None):
            tokens.pop(queue.popleft()[1], None)
        while queue and len(tokens) >= self.request_token_limit:
            tokens.pop(queue.popleft()[1], None)
        self._request_token_bytes += incoming.weight
        if self._request_token_bytes > REQUEST_TOKEN_BYTES:
            total = sum(rt.weight for rt in dict.values(tokens)) + incoming.weight
            while queue and total > REQUEST_TOKEN_BYTES * 3 // 4:
                dropped = tokens.pop(queue.popleft()[1], None)
                if dropped is not None:
                    total -= dropped.weight
            self._request_token_bytes = total

    def request_token(self, token: str) -> RequestToken:
        rt = self.request_tokens.get(token)
        if rt is None or self.world.clock.now() > rt.expires:
            raise NotFound("unknown or expired request token")
        return rt

    def approve_request_token(self, token: str, username: str) -> RequestToken:
        rt = self.request_token(token)
        if username not in self.world.users:
            raise Invalid(f"unknown user {username!r}")
        if rt.verifier is not None:
            raise Invalid("this request token was already approved")
        rt.user, rt.verifier = username, secrets.token_urlsafe(12)
        return rt

    def exchange_request_token(self, token: str, access_token: str | None = None,
                               access_secret: str | None = None) -> User:
        """The access token for an approved request token; the request token is spent."""
        rt = self.request_tokens.pop(token)
        if rt.user is None:  # oauthlib checks the verifier first: an approved token names its user
            raise Invalid("this request token was never approved")
        user = dataclasses.replace(self.world.users[rt.user], token=access_token or secrets.token_urlsafe(16),
                                   token_secret=access_secret or secrets.token_urlsafe(24),
                                   consumer_key=rt.consumer_key)
        self.world.users_by_token[user.token] = user
        self.issued_tokens.append(user.token)
        while len(self.issued_tokens) > self.issued_token_limit:
            revoked = self.issued_tokens.popleft()
            if all(u.token != revoked for u in self.world.users.values()):  # never a fixture user's token
                self.world.users_by_token.pop(revoked, None)
        return user
