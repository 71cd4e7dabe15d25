"""A small signed client: OAuth 1.0a like a real OCSS client, over HTTP or in-process.

In-process (pass a FakeApp) skips sockets entirely: the fastest way to drive the fake
from tests. Over HTTP it keeps one connection alive, as real clients do.
"""
from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

from oauthlib.oauth1 import Client as OAuthClient
from werkzeug.test import Client as WSGIClient

from ocss_testkit.app import FakeApp


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str

    @classmethod
    def of(cls, app: FakeApp, user: str) -> Credentials:
        u = app.world.users[user]
        return cls(u.consumer_key, app.world.consumers[u.consumer_key], u.token, u.token_secret)


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class SignedClient:
    def __init__(self, target: str | FakeApp, credentials: Credentials | None = None) -> None:
        self.credentials = credentials
        self._wsgi: WSGIClient | None = None
        self._conn: http.client.HTTPConnection | None = None
        if isinstance(target, FakeApp):
            self._wsgi = WSGIClient(target)
            # Signed for the URL the app answers as: its base URL, which is also the URL it
            # verifies signatures against (behind a proxy); else http://localhost.
            self.base = target.base_url.rstrip("/") if target.base_url else "http://localhost"
        else:
            self.base = target.rstrip("/")
            parts = urlsplit(self.base)
            if parts.hostname is None:
                raise ValueError(f"target must be a FakeApp or a URL with a host, e.g. http://127.0.0.1:8000, "
                                 f"not {target[:100]!r}")
            self._conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)

    def _sign(self, method: str, url: str, body: bytes, headers: dict) -> dict:
        if self.credentials is None:
            return headers
        c = self.credentials
        signer = OAuthClient(c.consumer_key, client_secret=c.consumer_secret,
                             resource_owner_key=c.token, resource_owner_secret=c.token_secret)
        _, signed, _ = signer.sign(url, http_method=method, headers=headers)
        return dict(signed)

    def request(self, method: str, path: str, body: bytes | str = b"", headers: dict | None = None) -> Reply:
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(headers or {})
        if body and "Content-Type" not in headers:
            headers["Content-Type"] = "application/atom+xml"
        url = self.base + path
        headers = self._sign(method, url, body, headers)
        if self._wsgi is not None:
            r = self._wsgi.open(path, method=method, data=body, headers=headers)
            status, _, reason = r.status.partition(" ")
            return Reply(int(status), reason, dict(r.headers), r.get_data())
        assert self._conn is not None  # a client is made with one of the two
        self._conn.request(method, path, body=body or None, headers=headers)
        response = self._conn.getresponse()
        return Reply(response.status, response.reason, dict(response.getheaders()), response.read())

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: bytes | str = b"", **kw) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: bytes | str = b"", **kw) -> Reply:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw) -> Reply:
        return self.request("DELETE", path, **kw)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
