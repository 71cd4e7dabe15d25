"""OAuth 1.0a three-legged flow state (I16): request tokens, verifiers, issued tokens.

Kept in the World so a reset forgets every token the flow issued; the verification
maths stays in auth.py (oauthlib).
"""
from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import Invalid, NotFound

REQUEST_TOKEN_LIFETIME = 600


@dataclass(slots=True)
class RequestToken:
    token: str
    secret: str
    consumer_key: str
    callback: str
    created: datetime
    user: str | None = None  # set when a user approves it
    verifier: str | None = None


class TokensService:
    """Mixed into World; every method runs under the World's lock."""

    def issue_request_token(self, consumer_key: str, callback: str, token: str | None = None,
                            secret: str | None = None) -> RequestToken:
        rt = RequestToken(token or secrets.token_urlsafe(16), secret or secrets.token_urlsafe(24),
                          consumer_key, callback, self.clock.now())
        self.request_tokens[rt.token] = rt
        return rt

    def request_token(self, token: str) -> RequestToken:
        rt = self.request_tokens.get(token)
        if rt is None or self.clock.now() > rt.created + timedelta(seconds=REQUEST_TOKEN_LIFETIME):
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
        user = dataclasses.replace(self.users[rt.user], token=access_token or secrets.token_urlsafe(16),
                                   token_secret=access_secret or secrets.token_urlsafe(24),
                                   consumer_key=rt.consumer_key)
        self.users_by_token[user.token] = user
        self.issued_tokens.append(user.token)
        return user
