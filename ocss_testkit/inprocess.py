"""The in-process fake for the HTTP clients people use: `requests` and `httpx` (sync and
async) reach a WSGI app, such as `FakeApp`, with no socket, signed as over HTTP.

    from ocss_testkit import make_app
    from ocss_testkit.client import Credentials
    from ocss_testkit.inprocess import httpx_client, requests_session

    app = make_app()
    session = requests_session(app, Credentials.of(app, "alice"))   # a requests.Session
    session.get("http://localhost/v2/services/syncml/")              # -> 200 OK, no socket
    with httpx_client(app, Credentials.of(app, "admin")) as client:  # an httpx.Client
        client.get("/v2/services/syncml/")                           # base URL http://localhost

One gateway (`WSGIGateway`) does what an HTTP server does in front of a WSGI app (PEP 3333):
it builds the environ from the request line and headers, including `REQUEST_URI`, the
request target exactly as sent, percent-escapes intact. The fake verifies OAuth 1.0a
signatures over that URI (RFC 5849 §3.4.1.2), so a non-ASCII path or query verifies
in-process exactly as over HTTP. The three client transports are thin wrappers of it.

Why not httpx's own `WSGITransport` (httpx 0.28): it puts the percent-decoded path, as
text, in `PATH_INFO` and sends no `REQUEST_URI`, so a signed request for a non-ASCII path
is refused (401), and it drops the reason phrase (the fake's `400 No Entry provided`
reads `Bad Request`). Nor an ASGI bridge for async: it would add a dependency, and ASGI
has no reason phrase at all. The async transport runs the same gateway in a worker
thread (`anyio.to_thread`, as httpx itself depends on anyio: asyncio and trio alike), so
a slow answer (a `delay` fault) never blocks the event loop.

Signing: requests through requests-oauthlib's `OAuth1`; httpx through `HttpxOAuth1`
here, an `httpx.Auth` over oauthlib (the library the fake verifies with). Authlib's httpx
integration was not taken: Authlib 1.9 deprecates it for `httpx` (in favour of
`httpx2`), and Authlib is not a dependency of this package.

What a dropped connection or a cut-short body looks like matches each client over a
real socket: a `drop` fault raises `requests.ConnectionError` / `httpx.RemoteProtocolError`,
a `truncate` fault `requests.exceptions.ChunkedEncodingError` / `httpx.RemoteProtocolError`
when the body is read. Timeouts are not applied in-process (a `delay` fault only delays
the answer): test timeouts over real HTTP (the plugin's `ocss_fake`).

`requests`, `requests-oauthlib` and `httpx` are optional: each name below needs only its
own client library, and a missing one is an ImportError naming what to install.
"""
from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes, urlsplit

from oauthlib.oauth1 import Client as _OAuthClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

DEFAULT_ORIGIN = "http://localhost"  # as the plugin's ocss_fake_wsgi and client.SignedClient
_FORM = "application/x-www-form-urlencoded"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class OAuthCredentials(Protocol):
    """What signing needs; `ocss_testkit.client.Credentials` is one."""

    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str


# --- the gateway: what a server does in front of a WSGI app ------------------------------------
class InProcessError(ConnectionError):
    """A request the in-process gateway could not deliver or answer completely. The client
    transports turn it into their library's own connection error."""


class WrongOrigin(InProcessError):
    """The request's URL is not on the gateway's origin: in-process, nothing else is reachable,
    and nothing may leave the process."""


class ConnectionDropped(InProcessError):
    """The app asked for the connection to be closed without an answer (the fake's `drop`
    fault), as a crashed server would."""


@dataclass(frozen=True)
class Answer:
    """An app's complete answer: `status` (int), `reason` (the phrase as the app gave it,
    e.g. "No Entry provided"), `headers` (name, value) pairs in order, repeats kept, as
    latin-1 text (PEP 3333 §"Unicode Issues"), `body` bytes as the app produced them (a
    `truncate` fault makes them fewer than Content-Length says)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def missing_bytes(self) -> int:
        """How many bytes the body lacks against its Content-Length (0 when complete or
        when there is no valid Content-Length)."""
        for name, value in self.headers:
            if name.lower() == "content-length" and value.strip().isdigit():
                return max(0, int(value) - len(self.body))
        return 0


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is no number: never our origin
        port = -1
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, -1)


class WSGIGateway:
    """Calls a WSGI `app` the way an HTTP server on `origin` would, with no socket.

    `origin` is "scheme://host[:port]" (default "http://localhost"); only URLs on it are
    answered, anything else raises `WrongOrigin`. The app may be called from several
    threads at once (the fake is thread-safe)."""

    def __init__(self, app, origin: str = DEFAULT_ORIGIN) -> None:
        scheme, host, port = _origin(origin)
        if scheme not in _DEFAULT_PORTS or not host or port < 0 or urlsplit(origin).path.strip("/"):
            raise ValueError(f"origin must be http:// or https:// and a host[:port], nothing after it, "
                             f"e.g. {DEFAULT_ORIGIN}; got {origin!r}")
        self.app = app
        self.origin = origin.rstrip("/")
        self._key = (scheme, host, port)

    def call(self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes = b"") -> Answer:
        """Send one request; `url` is absolute, ASCII, percent-encoded as on the wire.

        Header values are text (latin-1 on the wire); a name given more than once is
        joined with ", " (RFC 9110 §5.3), as servers do. Raises `WrongOrigin` for a URL off
        the origin, `ConnectionDropped` when the app asks to drop the connection; whatever
        else the app raises propagates (the fake raises nothing: it answers)."""
        if _origin(url) != self._key:
            parts = urlsplit(url)
            raise WrongOrigin(
                f"the in-process fake answers {self.origin} only, not {parts.scheme}://{parts.netloc} "
                f"({method} {url}); use {self.origin} as the base URL, or the ocss_fake fixture for real HTTP")
        parts = urlsplit(url)
        path = parts.path or "/"
        target = path + (f"?{parts.query}" if parts.query else "")
        joined: dict[str, tuple[str, str]] = {}
        for name, value in headers:
            seen = joined.get(name.lower())
            joined[name.lower()] = (name, f"{seen[1]}, {value}" if seen else value)
        builder = EnvironBuilder(method=method.upper(), base_url=self.origin, headers=list(joined.values()),
                                 data=body, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        # What a server puts in the environ for this request target (PEP 3333: PATH_INFO is
        # the decoded path as latin-1 text; REQUEST_URI/RAW_URI as mod_wsgi and gunicorn keep
        # it). Set here, not by the builder, which would read "//x" as a host.
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
        environ["QUERY_STRING"] = parts.query
        environ["REQUEST_URI"] = environ["RAW_URI"] = target
        dropped = threading.Event()
        environ["ocss.drop_connection"] = dropped.set  # the hook the HTTP server gives (http_channel.py)
        app_iter, status, response_headers = run_wsgi_app(self.app, environ)
        try:
            content = b"".join(app_iter)
        finally:
            getattr(app_iter, "close", lambda: None)()
        if dropped.is_set():
            raise ConnectionDropped(f"the fake dropped the connection of {method} {target} without an answer")
        code, _, reason = status.partition(" ")
        return Answer(int(code), reason, response_headers.to_wsgi_list(), content)


# --- signing -----------------------------------------------------------------------------------
def authorization(credentials: OAuthCredentials, method: str, url: str,
                  content_type: str | None = None, body: bytes | None = None) -> str:
    """The `Authorization: OAuth …` header value for one request, HMAC-SHA1 (RFC 5849 §3.5.1).

    `url` is absolute and percent-encoded as sent; its query parameters are signed, and the
    body's parameters only for a form body (`application/x-www-form-urlencoded`, RFC 5849
    §3.4.1.3.1), as requests-oauthlib does. Raises ValueError (from oauthlib) for a form
    body that does not decode as one."""
    signer = _OAuthClient(credentials.consumer_key, client_secret=credentials.consumer_secret,
                          resource_owner_key=credentials.token, resource_owner_secret=credentials.token_secret)
    form = (content_type or "").split(";")[0].strip().lower() == _FORM
    headers = {"Content-Type": _FORM} if form else {}
    _, signed, _ = signer.sign(url, http_method=method.upper(),
                               body=body.decode("latin-1") if form and body else None, headers=headers)
    return signed["Authorization"]


# --- requests ----------------------------------------------------------------------------------
def _need(module: str, install: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{error}: this part of ocss_testkit.inprocess needs `pip install {install}`") from error


def _request_body(body: Any) -> bytes:
    """A prepared requests body as the bytes a socket would carry: str as UTF-8 (urllib3 2),
    a file read whole, an iterable (chunked upload) joined."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return b"".join(part.encode("utf-8") if isinstance(part, str) else part for part in body)


try:
    import requests as _requests
    from requests.adapters import HTTPAdapter as _HTTPAdapter
except ImportError:  # optional: only RequestsAdapter and requests_session need it
    _requests = None  # type: ignore[assignment]  # tested as `_requests is not None` before use

if _requests is not None:
    from urllib3 import HTTPResponse as _UrllibResponse

    class RequestsAdapter(_HTTPAdapter):
        """A requests transport adapter answering from a WSGI app in-process.

        Mount it on a Session's "http://" and "https://" (as `requests_session` does) so
        that no request leaves the process: a URL off `origin` raises
        `requests.ConnectionError` naming it. The response is built by requests' own
        `HTTPAdapter.build_response` from a urllib3 response, so `reason`, `raw`, encoding
        and `stream=True` behave as over a socket, and a body shorter than its
        Content-Length raises `requests.exceptions.ChunkedEncodingError` when read. A
        `drop` fault raises `requests.ConnectionError`. `timeout`, `verify`, `cert` and
        `proxies` are accepted and have nothing to act on."""

        def __init__(self, app, origin: str = DEFAULT_ORIGIN) -> None:
            super().__init__(max_retries=0)
            self.gateway = WSGIGateway(app, origin)

        def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
            headers = [(k, v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in request.headers.items()]
            try:
                answer = self.gateway.call(request.method, request.url, headers, _request_body(request.body))
            except InProcessError as error:
                raise _requests.ConnectionError(str(error), request=request) from None
            # A list of pairs, not a Mapping: repeated headers (Set-Cookie) stay apart.
            raw = _UrllibResponse(body=io.BytesIO(answer.body), headers=answer.headers,  # type: ignore[arg-type]
                                  status=answer.status, reason=answer.reason, preload_content=False,
                                  decode_content=False, enforce_content_length=True,
                                  request_method=request.method, request_url=request.url)
            return self.build_response(request, raw)

    def requests_session(app, credentials: OAuthCredentials | None = None,
                         origin: str = DEFAULT_ORIGIN) -> _requests.Session:
        """A `requests.Session` whose every request goes to `app` in-process, signed with
        `credentials` (requests-oauthlib's `OAuth1`, HMAC-SHA1) or unsigned when None.

        URLs are absolute on `origin` ("http://localhost/v2/…"). The environment is not
        consulted (`trust_env` False: no proxies, no netrc). Needs requests, and
        requests-oauthlib for `credentials` (ImportError naming them otherwise)."""
        session = _requests.Session()
        session.trust_env = False
        adapter = RequestsAdapter(app, origin)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if credentials is not None:
            oauth1 = _need("requests_oauthlib", "requests-oauthlib").OAuth1
            session.auth = oauth1(credentials.consumer_key, credentials.consumer_secret,
                                  credentials.token, credentials.token_secret)
        return session


# --- httpx -------------------------------------------------------------------------------------
try:
    import httpx as _httpx
except ImportError:  # optional: only the httpx transports, auth and clients need it
    _httpx = None  # type: ignore[assignment]  # tested as `_httpx is not None` before use

if _httpx is not None:
    def _httpx_answer(gateway: WSGIGateway, request, content: bytes):
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            return gateway.call(request.method, str(request.url), headers, content)
        except ConnectionDropped:
            # the words of httpx over a socket when the server closes without answering
            raise _httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                             request=request) from None
        except WrongOrigin as error:
            raise _httpx.ConnectError(str(error), request=request) from None

    def _httpx_response(answer: Answer, stream):
        return _httpx.Response(answer.status,
                               headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers],
                               stream=stream,
                               extensions={"reason_phrase": answer.reason.encode("latin-1"),
                                           "http_version": b"HTTP/1.1"})

    def _cut_short(answer: Answer) -> str:
        return (f"peer closed connection without sending complete message body "
                f"(received {len(answer.body)} bytes, expected {len(answer.body) + answer.missing_bytes()})")

    class _Body(_httpx.SyncByteStream, _httpx.AsyncByteStream):
        """The body, then, if it is shorter than its Content-Length, the error httpx raises
        when a server closes mid-body (RFC 9112 §8: an incomplete message)."""

        def __init__(self, answer: Answer) -> None:
            self._answer = answer

        def __iter__(self):
            if self._answer.body:
                yield self._answer.body
            if self._answer.missing_bytes():
                raise _httpx.RemoteProtocolError(_cut_short(self._answer))

        async def __aiter__(self):
            for chunk in self.__iter__():
                yield chunk

    class HttpxTransport(_httpx.BaseTransport):
        """An httpx transport answering from a WSGI app in-process (for `httpx.Client`).

        Keeps what httpx's `WSGITransport` loses: the request target as sent
        (`REQUEST_URI`, so signatures over non-ASCII paths verify) and the reason phrase
        (`response.reason_phrase`). A URL off `origin` raises `httpx.ConnectError`; a
        `drop` fault `httpx.RemoteProtocolError`, and so does reading a body shorter than
        its Content-Length. Timeouts are not applied."""

        def __init__(self, app, origin: str = DEFAULT_ORIGIN) -> None:
            self.gateway = WSGIGateway(app, origin)

        def handle_request(self, request):
            answer = _httpx_answer(self.gateway, request, request.read())
            return _httpx_response(answer, _Body(answer))

    class AsyncHttpxTransport(_httpx.AsyncBaseTransport):
        """The same for `httpx.AsyncClient`: the app runs in a worker thread
        (`anyio.to_thread.run_sync`, under asyncio or trio), so the event loop never waits
        on it; everything else as `HttpxTransport`."""

        def __init__(self, app, origin: str = DEFAULT_ORIGIN) -> None:
            self.gateway = WSGIGateway(app, origin)

        async def handle_async_request(self, request):
            import anyio.to_thread  # httpx's own dependency

            content = await request.aread()
            answer = await anyio.to_thread.run_sync(_httpx_answer, self.gateway, request, content)
            return _httpx_response(answer, _Body(answer))

    class HttpxOAuth1(_httpx.Auth):
        """Signs each httpx request with OAuth 1.0a HMAC-SHA1 (RFC 5849 §3.5.1: the
        `Authorization` header), over the URL as sent; works with any transport, sync or
        async, in-process or over HTTP. See `authorization` for what is signed."""

        requires_request_body = True  # a form body's parameters are signed

        def __init__(self, credentials: OAuthCredentials) -> None:
            self.credentials = credentials

        def auth_flow(self, request):
            request.headers["Authorization"] = authorization(
                self.credentials, request.method, str(request.url),
                request.headers.get("Content-Type"), request.content)
            yield request

    def httpx_client(app, credentials: OAuthCredentials | None = None, origin: str = DEFAULT_ORIGIN,
                     **options) -> _httpx.Client:
        """An `httpx.Client` on `app` in-process, `base_url` `origin`, signed with
        `credentials` (`HttpxOAuth1`) or unsigned when None. `options` go to
        `httpx.Client` (e.g. `headers=`, `event_hooks=`); the environment is not consulted
        (`trust_env` False), so no proxy can take a request out of the process."""
        return _httpx.Client(transport=HttpxTransport(app, origin), base_url=origin, trust_env=False,
                             auth=HttpxOAuth1(credentials) if credentials is not None else None, **options)

    def httpx_async_client(app, credentials: OAuthCredentials | None = None, origin: str = DEFAULT_ORIGIN,
                           **options) -> _httpx.AsyncClient:
        """The same as `httpx_client`, as an `httpx.AsyncClient` (`AsyncHttpxTransport`)."""
        return _httpx.AsyncClient(transport=AsyncHttpxTransport(app, origin), base_url=origin, trust_env=False,
                                  auth=HttpxOAuth1(credentials) if credentials is not None else None, **options)


_NEEDS = {"RequestsAdapter": "requests", "requests_session": "requests requests-oauthlib",
          "HttpxTransport": "httpx", "AsyncHttpxTransport": "httpx", "HttpxOAuth1": "httpx",
          "httpx_client": "httpx", "httpx_async_client": "httpx"}


def __getattr__(name: str):
    # Reached only for a name not defined above: its client library is not installed.
    if name in _NEEDS:
        raise ImportError(f"ocss_testkit.inprocess.{name} needs `pip install {_NEEDS[name]}`")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
