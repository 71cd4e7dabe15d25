"""How requests reach the server: one keep-alive HTTP(S) connection per API object
(standard library ``http.client`` only: SyncServer API Python interface, 'Installation'),
or, for tests, a WSGI application called in-process.

A transport takes the request target (path and query), the headers and the body, and a
``sign`` callable that returns the headers to send; it calls ``sign`` again for every
attempt, so a retried request carries a fresh OAuth nonce.
"""
from __future__ import annotations

import http.client
import io
import select
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from . import checks
from .exceptions import ConnectionError

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a larger answer is refused, not buffered
_CHUNK = 64 * 1024
Signer = Callable[[str, str, dict[str, str]], dict[str, str]]
# The ways a keep-alive connection the server has closed shows itself on reuse.
_DROPPED = (http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError, ConnectionResetError,
            ConnectionAbortedError)


@dataclass
class Response:
    """One HTTP answer: ``status`` (int), ``reason`` (str), ``headers`` (lower-case names),
    ``body`` (bytes, the whole of it)."""
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Transport(Protocol):
    """What :class:`ocss.SyncServerAPI` needs from a transport."""

    origin: str  # scheme://host[:port], what signatures are computed over

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes | None,
                sign: Signer) -> Response: ...

    def close(self) -> None: ...


def origin_of(base_url: str) -> tuple[str, str, str]:
    """``(scheme, netloc, path prefix)`` of a base URL.

    :raises TypeError: not a ``str``.
    :raises ValueError: not an ``http://`` or ``https://`` URL with a host; a port that is
        not a number from 1 to 65535; user information, a query, a fragment, white space
        or a control character (credentials go in :class:`ocss.SyncServerAuth`).
    """
    checks.text(base_url, "base_url")
    parts = urlsplit(base_url)
    wrong = ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        wrong = "must be http:// or https:// with a host"
    elif any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in base_url):
        wrong = "must not contain white space or control characters"
    elif "@" in parts.netloc:
        wrong = "must not hold user information (credentials go in SyncServerAuth)"
    elif parts.query or parts.fragment or base_url.rstrip("/").endswith(("?", "#")):
        wrong = "must not have a query or a fragment"
    else:
        try:
            port = parts.port
        except ValueError:
            port = -1
        if port is not None and not 1 <= port <= 65535:
            wrong = "has a port that is not a number from 1 to 65535"
    if wrong:
        raise ValueError(f"the base URL {wrong}: {base_url!r}")
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def netrc_machines(base_url: str) -> tuple[str, ...]:
    """The netrc ``machine`` names for a base URL, in the order they are tried:
    ``host:port`` when the URL names a port, then the bare host name (lower case; an
    IPv6 address without brackets, ``[::1]:8080`` with a port)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port is None:
        return (host,)
    return (f"[{host}]:{parts.port}" if ":" in host else f"{host}:{parts.port}", host)


class HTTPTransport:
    """One keep-alive connection, reopened when dropped; thread-safe (one request at a time).

    A request on a reused connection that the server closed in the meantime fails with
    RemoteDisconnected, BrokenPipe, ConnectionReset or BadStatusLine; an idempotent request
    (GET, HEAD, PUT, DELETE) is then sent once more on a new connection, re-signed. A POST
    is never resent: it may have been acted on. Before reuse, a connection the server has
    visibly closed (readable while idle) is replaced, so that POSTs rarely meet a dead one.

    :param base_url: ``http://`` or ``https://`` URL of the API.
    :param timeout: seconds to wait for the connection and for each read (a positive
        ``int`` or ``float``).
    :raises TypeError: a base URL that is not a ``str``, a timeout that is not a number.
    :raises ValueError: a base URL that is not http or https (see :func:`origin_of`), a
        timeout that is not positive and finite.
    """

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        scheme, netloc, _ = origin_of(base_url)
        self.origin = f"{scheme}://{netloc}"
        self._scheme, self._netloc = scheme, netloc
        self.timeout = checks.timeout(timeout)
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._netloc, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _reusable(self, conn: http.client.HTTPConnection) -> bool:
        """True for an open connection the server has not visibly closed while idle."""
        sock = conn.sock
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            readable = [sock]
        if readable:  # EOF or unsolicited bytes on an idle connection: unusable
            self._drop()
            return False
        return True

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes | None,
                sign: Signer) -> Response:
        """Send one request and read the whole answer.

        :raises ConnectionError: no answer (refused, dropped, timed out), an incomplete,
            unreadable or oversized one; after the one retry allowed for idempotent methods.
        :raises ValueError: the request cannot be put on the wire (``http.client`` refuses
            a header or the target); nothing was sent.
        """
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                reused = self._reusable(conn)
                conn = self._connection()
                try:
                    return self._exchange(conn, method, target, sign(method, self.origin + target, dict(headers)),
                                          body)
                except _DROPPED as exc:
                    self._drop()
                    if reused and attempt == 1 and method in IDEMPOTENT:
                        continue
                    raise ConnectionError(f"{method} {target}: the server closed the connection "
                                          f"without answering ({_name(exc)})") from None
                except TimeoutError:
                    self._drop()
                    raise ConnectionError(f"{method} {target}: no answer within {self.timeout} s") from None
                except (OSError, http.client.HTTPException) as exc:  # TLS failures included
                    self._drop()
                    raise ConnectionError(f"{method} {target}: {_name(exc)}") from None
                except _Unsendable as exc:
                    self._drop()
                    raise ValueError(f"{method} {target}: cannot be sent ({exc.args[0]}); nothing was sent") from None
                except ValueError as exc:  # e.g. a host name IDNA cannot encode, met on connecting
                    self._drop()
                    raise ConnectionError(f"{method} {target}: {_name(exc)}") from None
            raise AssertionError("unreachable")  # pragma: no cover

    def _exchange(self, conn: http.client.HTTPConnection, method: str, target: str, headers: dict[str, str],
                  body: bytes | None) -> Response:
        # conn.request() in two steps, so that what http.client refuses to build (a header
        # with a line break, a target with a space) is told from what fails on the wire:
        # nothing goes out, nor is a connection opened, before endheaders().
        names = {name.lower() for name in headers}
        try:
            conn.putrequest(method, target, skip_host="host" in names,
                            skip_accept_encoding="accept-encoding" in names)
            for name, value in headers.items():
                conn.putheader(name, value)
            if "content-length" not in names and (body is not None or method in ("POST", "PUT", "PATCH")):
                conn.putheader("Content-Length", str(len(body or b"")))
        except (ValueError, http.client.InvalidURL) as exc:
            raise _Unsendable(_name(exc)) from None
        conn.endheaders(body)
        answer = conn.getresponse()
        chunks: list[bytes] = []
        size = 0
        while chunk := answer.read(_CHUNK):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                self._drop()
                raise ConnectionError(f"{method} {target}: answer larger than {MAX_RESPONSE_BYTES} bytes, refused",
                                      answer.status, answer.reason)
            chunks.append(chunk)
        data = b"".join(chunks)
        if answer.length:  # bytes still owed: an incomplete message
            raise http.client.IncompleteRead(data, answer.length)
        return Response(answer.status, answer.reason, {k.lower(): v for k, v in answer.getheaders()}, data)


class _Unsendable(Exception):
    """http.client refused to build the request: nothing was sent."""


def _name(exc: BaseException) -> str:
    detail = str(exc)
    return type(exc).__name__ + (f": {detail}" if detail else "")


class WSGITransport:
    """Calls a WSGI application in-process instead of opening a socket: the same bytes,
    no network (for tests and embedding). Any exception the application raises, or an
    unreadable answer, is a :class:`~ocss.exceptions.ConnectionError`.

    :param app: the WSGI callable.
    :param base_url: the URL the application believes it serves (``Host`` and scheme).
    :raises TypeError: ``app`` is not callable; ``base_url`` is not a ``str``.
    :raises ValueError: ``base_url`` is not an http or https URL (:func:`origin_of`).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], base_url: str = "http://localhost") -> None:
        if not callable(app):
            raise TypeError(f"WSGITransport(): app must be a WSGI callable, not {type(app).__name__}")
        scheme, netloc, _ = origin_of(base_url)
        self.origin = f"{scheme}://{netloc}"
        self.app = app
        self._scheme, self._netloc = scheme, netloc

    def close(self) -> None:
        """Nothing to close."""

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes | None,
                sign: Signer) -> Response:
        """Call the application once (there is no connection to drop, so no retry)."""
        environ = self._environ(method, target, sign(method, self.origin + target, dict(headers)), body or b"")
        started: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started["status"], started["headers"] = status, response_headers

        try:
            result = self.app(environ, start_response)
            try:
                data = b"".join(result)
            finally:
                getattr(result, "close", lambda: None)()
        except Exception as exc:  # noqa: BLE001 - an application failure is a lost connection to the caller
            raise ConnectionError(f"{method} {target}: the application failed ({_name(exc)})") from None
        code, _, reason = str(started.get("status", "")).partition(" ")
        if not code.isdigit():
            raise ConnectionError(f"{method} {target}: the application sent no status line")
        return Response(int(code), reason, {k.lower(): v for k, v in started.get("headers", [])}, data)

    def _environ(self, method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        path, _, query = target.partition("?")
        parts = urlsplit(self.origin)
        host, port = parts.hostname or "localhost", str(parts.port or (443 if self._scheme == "https" else 80))
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query, "REQUEST_URI": target, "RAW_URI": target,
            "SERVER_NAME": host, "SERVER_PORT": port, "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self._netloc, "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0), "wsgi.url_scheme": self._scheme, "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        return environ

