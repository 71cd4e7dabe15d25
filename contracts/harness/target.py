"""Where the contracts run: the in-process fake (default) or any base URL over HTTP.

Both targets are driven the same way, through `requests` signed by requests-oauthlib, so a
contract cannot tell them apart; the in-process one mounts a transport adapter that hands
the prepared request to the fake's WSGI app instead of a socket.
"""
from __future__ import annotations

import io
import netrc
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from lxml import etree
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests_oauthlib import OAuth1
from werkzeug.test import EnvironBuilder, run_wsgi_app

from ocss_testkit import client
from ocss_testkit.app import FakeApp
from ocss_testkit.routes import safety

from .snapshots import parse

IN_PROCESS_URL = "http://localhost"  # as ocss_testkit.client.SignedClient in-process
SAFETY_ORDER = ("read-only", "mutating", "side-effecting")
ENV = {  # role -> (token variable, secret variable)
    "user": ("OCSS_ACCESS_TOKEN", "OCSS_ACCESS_SECRET"),
    "other": ("OCSS_OTHER_ACCESS_TOKEN", "OCSS_OTHER_ACCESS_SECRET"),
}
# The demo world's users (README, "Demo credentials") when the target is the fake: alice is
# an ordinary account, bob the second user of the cross-user contracts.
DEMO = {"consumer": ("demo-consumer-key", "demo-consumer-secret"),
        "user": ("alice-access-token", "alice-access-secret"),
        "other": ("bob-access-token", "bob-access-secret")}


class CredentialsError(Exception):
    pass


@dataclass(frozen=True)
class Credentials(client.Credentials):
    """The toolkit's OAuth credentials, signing through requests-oauthlib here."""

    def auth(self) -> OAuth1:
        return OAuth1(self.consumer_key, self.consumer_secret, self.token, self.token_secret)

    def secrets(self, role: str) -> dict[str, str]:
        """Every value that must never reach a snapshot or report, by the name it shows as."""
        return {"consumer-key": self.consumer_key, "consumer-secret": self.consumer_secret,
                f"{role}-token": self.token, f"{role}-token-secret": self.token_secret}


def secrets_of(credentials: dict[str, Credentials]) -> dict[str, str]:
    """Every secret of these users' credentials, by the name reports show it as."""
    out = {}
    for role, creds in credentials.items():
        out.update(creds.secrets(role))
    return out


def demo_credentials() -> dict[str, Credentials]:
    key, secret = DEMO["consumer"]
    return {role: Credentials(key, secret, *DEMO[role]) for role in ("user", "other")}


def credentials_for(base_url: str, environ=os.environ, netrc_path: str | None = None) -> dict[str, Credentials]:
    """Credentials of a URL target: the OCSS_* variables, else the netrc entries.

    netrc (an extension of 002's convention to OAuth): `machine HOST login CONSUMER_KEY
    password CONSUMER_SECRET account TOKEN:SECRET` for the user, and `machine other.HOST
    account TOKEN:SECRET` for the second user. A variable set in the environment wins
    over the same value in netrc.
    """
    host = urlsplit(base_url).hostname or ""
    found = {"OCSS_CONSUMER_KEY": None, "OCSS_CONSUMER_SECRET": None}
    for token_var, secret_var in ENV.values():
        found[token_var] = found[secret_var] = None
    if netrc_path:
        try:
            entries = netrc.netrc(netrc_path).hosts
        except (OSError, netrc.NetrcParseError) as e:
            raise CredentialsError(f"cannot read the netrc file {netrc_path}: {e}") from None
        for machine, role in ((host, "user"), ("other." + host, "other")):
            if machine not in entries:
                continue
            login, account, password = entries[machine]
            if role == "user" or login:
                found["OCSS_CONSUMER_KEY"] = found["OCSS_CONSUMER_KEY"] or login
                found["OCSS_CONSUMER_SECRET"] = found["OCSS_CONSUMER_SECRET"] or password
            if account:
                token, colon, secret = account.partition(":")
                if not colon:
                    raise CredentialsError(f"netrc entry {machine}: account must be TOKEN:SECRET")
                found[ENV[role][0]], found[ENV[role][1]] = token, secret
    for name in found:
        if environ.get(name):
            found[name] = environ[name]
    missing = [n for n in ("OCSS_CONSUMER_KEY", "OCSS_CONSUMER_SECRET", *ENV["user"]) if not found[n]]
    if missing:
        raise CredentialsError(
            f"no credentials for {base_url}: set {', '.join(missing)} (or give --ocss-netrc with "
            f"an entry for machine {host})")
    creds = {"user": Credentials(found["OCSS_CONSUMER_KEY"], found["OCSS_CONSUMER_SECRET"],
                                 found["OCSS_ACCESS_TOKEN"], found["OCSS_ACCESS_SECRET"])}
    if found["OCSS_OTHER_ACCESS_TOKEN"] and found["OCSS_OTHER_ACCESS_SECRET"]:
        creds["other"] = Credentials(found["OCSS_CONSUMER_KEY"], found["OCSS_CONSUMER_SECRET"],
                                     found["OCSS_OTHER_ACCESS_TOKEN"], found["OCSS_OTHER_ACCESS_SECRET"])
    return creds


class WSGIAdapter(BaseAdapter):
    """A requests transport that calls a WSGI app in-process: no socket, same bytes."""

    def __init__(self, app) -> None:
        super().__init__()
        self.app = app

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else (request.body or b"")
        builder = EnvironBuilder(path=parts.path, query_string=parts.query, method=request.method,
                                 headers={k: v.decode("latin-1") if isinstance(v, bytes) else v
                                          for k, v in request.headers.items()}, data=body,
                                 base_url=f"{parts.scheme}://{parts.netloc}")
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        # what a real server reports: the path *with* its query (signatures cover both)
        environ["REQUEST_URI"] = environ["RAW_URI"] = parts.path + (f"?{parts.query}" if parts.query else "")
        app_iter, status, headers = run_wsgi_app(self.app, environ)
        try:
            content = b"".join(app_iter)
        finally:
            getattr(app_iter, "close", lambda: None)()
        response = requests.Response()
        code, _, reason = status.partition(" ")
        response.status_code, response.reason = int(code), reason
        response.headers = CaseInsensitiveDict(headers.to_wsgi_list())
        response.raw = io.BytesIO(content)
        response._content = content
        response.url, response.request, response.encoding = request.url, request, None
        return response

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: CaseInsensitiveDict
    body: bytes
    method: str
    path: str

    @property
    def status_line(self) -> tuple[int, str]:
        return self.status, self.reason

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def xml(self) -> etree._Element:
        """The body as XML, parsed as the fake parses requests (`snapshots.parse`): the
        target is untrusted. Raises ocss_testkit.atom.safe.XMLRejected, naming the fault."""
        return parse(self.body, self.content_type)

    def __repr__(self) -> str:  # short: assertion messages quote it
        return f"<Reply {self.method} {self.path}: {self.status} {self.reason}, {len(self.body)} bytes>"


class UnsafeRequest(AssertionError):
    """A contract sent a request riskier than its safety class allows: stopped before sending."""


class Api:
    """One user's view of the target. `allowed` is the contract's safety class: a request
    that would go beyond it is refused here, on every target, so a mislabelled contract
    fails against the fake long before it could touch production."""

    def __init__(self, target: Target, role: str | None, allowed: str = "read-only") -> None:
        self.target, self.role, self.allowed = target, role, allowed
        self.on_reply = None  # the contract's ledger watches every answer
        self.session = target.new_session()
        if role is not None:
            self.session.auth = target.credentials[role].auth()

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None, params: dict | None = None) -> Reply:
        risk = safety(method, path)
        if SAFETY_ORDER.index(risk) > SAFETY_ORDER.index(self.allowed):
            raise UnsafeRequest(f"{method} {path} is {risk} but the contract is marked {self.allowed}")
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(headers or {})
        if body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/atom+xml"
        r = self.session.request(method, self.target.base_url + path, data=body or None, headers=headers,
                                 params=params, allow_redirects=False, timeout=self.target.timeout)
        reply = Reply(r.status_code, r.reason, r.headers, r.content, method, path)
        if self.on_reply is not None:
            self.on_reply(self, reply)
        return reply

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body=None, **kw) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body=None, **kw) -> Reply:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw) -> Reply:
        return self.request("DELETE", path, **kw)

    def close(self) -> None:
        self.session.close()


class Target:
    """A server the contracts run against. `app` is set only for the in-process fake: the
    control plane that fake-only contracts need."""

    def __init__(self, base_url: str, credentials: dict[str, Credentials], app: FakeApp | None = None,
                 timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.app = app
        self.timeout = timeout

    @classmethod
    def in_process(cls, app: FakeApp | None = None) -> Target:
        return cls(IN_PROCESS_URL, demo_credentials(), app or FakeApp())

    @property
    def kind(self) -> str:
        return "fake" if self.app is not None else "url"

    def new_session(self) -> requests.Session:
        session = requests.Session()
        if self.app is not None:
            session.mount(IN_PROCESS_URL, WSGIAdapter(self.app))
        return session

    def api(self, role: str | None = "user", allowed: str = "read-only") -> Api:
        if role is not None and role not in self.credentials:
            raise CredentialsError(f"no credentials for the {role!r} user of {self.base_url}")
        return Api(self, role, allowed)

    def secrets(self) -> dict[str, str]:
        return secrets_of(self.credentials)
