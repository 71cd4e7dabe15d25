"""OAuth 1.0a three-legged flow state (I16): request tokens, verifiers, issued tokens.

Kept in the World so a reset forgets every token the flow issued; the verification
maths stays in auth.py (oauthlib).

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
from datetime import datetime, timedelta, timezone

from ocss_testkit.world.clock import LATEST
from ocss_testkit.world.errors import Invalid, NotFound
from ocss_testkit.world.world_fields import WorldFields

REQUEST_TOKEN_LIFETIME = 600
_LAST = datetime.fromtimestamp(LATEST, timezone.utc)
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
        """`created` plus REQUEST_TOKEN_LIFETIME seconds, but never past the clock's last
        second (clock.LATEST, 9999-12-31T23:59:59Z): a token issued or loaded that late
        lives until then, and its expiry stays a time datetime can hold."""
        lifetime = timedelta(seconds=REQUEST_TOKEN_LIFETIME)
        return self.created + lifetime if self.created <= _LAST - lifetime else max(self.created, _LAST)

    @property
    def weight(self) -> int:
        """Roughly the bytes it holds: what REQUEST_TOKEN_BYTES counts."""
        return 128 + len(self.token) + len(self.secret) + len(self.consumer_key) + len(self.callback)


class TokensService(WorldFields):
    """Mixed into World; every method runs under the World's lock."""

    def issue_request_token(self, consumer_key: str, callback: str, token: str | None = None,
                            secret: str | None = None) -> RequestToken:
        rt = RequestToken(token or secrets.token_urlsafe(16), secret or secrets.token_urlsafe(24),
                          consumer_key, callback, self.clock.now())
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

    def _index_request_tokens(self) -> None:
        self._request_token_expiry = deque(sorted((rt.expires, token)
                                                  for token, rt in dict.items(self.request_tokens)))
        self._request_token_bytes = sum(rt.weight for rt in dict.values(self.request_tokens))

    def request_token(self, token: str) -> RequestToken:
        rt = self.request_tokens.get(token)
        if rt is None or self.clock.now() > rt.expires:
            raise NotFound("unknown or expired request token")
        return rt

    def approve_request_token(self, token: str, username: str) -> RequestToken:
        rt = self.request_token(token)
        if username not in self.users:
            raise Invalid(f"unknown user {username!r}")
        if rt.verifier is not None:
            raise Invalid("this request token was already approved")
        rt.user, rt.verifier = username, secrets.token_urlsafe(12)
        return rt

    def exchange_request_token(self, token: str, access_token: str | None = None,
                               access_secret: str | None = None):
        """The access token for an approved request token; the request token is spent."""
        rt = self.request_tokens.pop(token)
        if rt.user is None:  # oauthlib checks the verifier first: an approved token names its user
            raise Invalid("this request token was never approved")
        user = dataclasses.replace(self.users[rt.user], token=access_token or secrets.token_urlsafe(16),
                                   token_secret=access_secret or secrets.token_urlsafe(24),
                                   consumer_key=rt.consumer_key)
        self.users_by_token[user.token] = user
        self.issued_tokens.append(user.token)
        while len(self.issued_tokens) > self.issued_token_limit:
            revoked = self.issued_tokens.popleft()
            if all(u.token != revoked for u in self.users.values()):  # never a fixture user's token
                self.users_by_token.pop(revoked, None)
        return user
