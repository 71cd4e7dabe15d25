"""Answers as the SyncServer sends them: a status with its own reason phrase, and the
sentences of refusals.

The docs give many statuses non-standard phrases (`200 Updated`, `400 No Entry provided`,
`404 No such Google client.`); werkzeug sends whatever phrase the status string holds.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

ATOM_TYPE = "application/atom+xml"


MAX_ECHO = 256  # characters of one space-free run (a path, a quoted value) an error sentence keeps
MAX_DETAIL = 4096  # characters of a whole error sentence


def bounded_detail(detail: str) -> str:
    """`detail` with every space-free run longer than MAX_ECHO cut in its middle (head and
    tail kept, `…(+N)…` naming what went), then the whole cut to MAX_DETAIL characters
    (and ` …(+N)`). Never longer than `detail`; no run of the result exceeds MAX_ECHO.

    Error sentences echo what the client sent (a path, an element name, a parameter), and
    the journal keeps them: a 200 KB echo must not come back, nor be stored, 1,000 times.
    Linear in the length of `detail` (a split on spaces, no regular expression)."""
    if len(detail) <= MAX_ECHO:
        return detail
    pieces = detail.split(" ")
    if any(len(piece) > MAX_ECHO for piece in pieces):
        head, tail = MAX_ECHO - 60, 20  # + the "…(+N)…" mark: shorter than MAX_ECHO
        detail = " ".join(piece if len(piece) <= MAX_ECHO else
                          f"{piece[:head]}…(+{len(piece) - head - tail})…{piece[-tail:]}" for piece in pieces)
    if len(detail) > MAX_DETAIL + 16:  # room for the mark: a cut sentence is never cut again
        detail = detail[:MAX_DETAIL] + f" …(+{len(detail) - MAX_DETAIL})"
    return detail


class ApiError(Exception):
    """An answer that is not a success: status, reason phrase, and a sentence for humans.

    The sentence is bounded (`bounded_detail`), as it may echo client input; `verbatim`
    keeps it whole, for text the test itself configured (a fault rule's body)."""

    def __init__(self, status: int, reason: str, detail: str = "", headers: dict | None = None,
                 verbatim: bool = False) -> None:
        detail = detail if verbatim else bounded_detail(detail)
        super().__init__(f"{status} {reason}: {detail}" if detail else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = headers or {}

    def response(self, request_id: str | None = None) -> Response:
        """`<status> <reason>: <detail>` as text/plain UTF-8. Never raises on any text: a
        character UTF-8 cannot encode (a lone surrogate) is written as its escape (`\\ud800`),
        and the reason phrase and header values as Latin-1 without control characters,
        which is all a status line and a header may carry (RFC 9110 §5.5)."""
        text = f"{self.status} {self.reason}"
        if self.detail:
            text += f": {self.detail}"
        headers = {name: header_safe(value) for name, value in self.headers.items()}
        if request_id:
            headers["X-Request-Id"] = request_id
        return Response((text + "\n").encode("utf-8", "backslashreplace"),
                        status=f"{self.status} {header_safe(self.reason)}",
                        content_type="text/plain; charset=utf-8", headers=headers)


_NOT_IN_HEADERS = re.compile(r"[^\t\x20-\x7e\x80-\xff]|[\x7f-\x9f]")  # HTAB, SP, VCHAR, obs-text; no C1


def header_safe(value) -> str:
    """`value` as a header value (or reason phrase) can carry it: Latin-1 without control
    characters (RFC 9110 §5.5: CR, LF and NUL are never allowed). Anything else is written
    as a Python escape (`\\x01`, `\\u65e5`), so no line can be broken or forged."""
    value = str(value)
    if not _NOT_IN_HEADERS.search(value):
        return value
    return _NOT_IN_HEADERS.sub(lambda m: m.group(0).encode("unicode_escape", "backslashreplace").decode("ascii"),
                               value)


class Prepared:
    """An answer whose bytes are fixed (a response-cache hit, response_cache.py), sent as
    they are: no werkzeug Response is built for it. `status` is the status line,
    `header_list` the headers as werkzeug's `Response.get_wsgi_headers` gave them for the
    answer first rendered (Content-Length included), `body` the bytes; the app sets
    `request_id`, sent last as X-Request-Id, as it is on every other answer. Read it as a
    Response is read: `status`, `status_code`, `get_data()`, `headers` (a copy)."""
    __slots__ = ("status", "header_list", "body", "request_id")

    def __init__(self, status: str, header_list: tuple[tuple[str, str], ...], body: bytes) -> None:
        self.status, self.header_list, self.body = status, header_list, body
        self.request_id: str | None = None

    @property
    def status_code(self) -> int:
        return int(self.status.partition(" ")[0])

    @property
    def headers(self) -> Headers:
        """A copy: setting a header on it changes nothing that is sent."""
        return Headers(self._wsgi_headers())

    def get_data(self) -> bytes:
        return self.body

    def response(self) -> Response:
        """The same answer as a werkzeug Response (for a fault rule that reworks it)."""
        return Response(self.body, status=self.status, headers=self._wsgi_headers())

    def _wsgi_headers(self) -> list[tuple[str, str]]:
        headers = list(self.header_list)
        if self.request_id is not None:
            headers.append(("X-Request-Id", self.request_id))
        return headers

    def __call__(self, environ, start_response):
        """The WSGI answer (PEP 3333); no body for a HEAD, as werkzeug sends none."""
        start_response(self.status, self._wsgi_headers())
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


@dataclass(frozen=True, slots=True)
class Answer:
    """What a handler returns for its route to render (routes.Route.render) when the
    answer needs more than the value: its own `status` line (default: the route's
    `status`) or extra `headers` (a 201's Location). A handler whose answer is just the
    value returns the value itself."""
    value: object
    status: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def atom(body: bytes, status: str = "200 OK") -> Response:
    """An Atom answer of rendered bytes (the renderers of services/*/atom.py write bytes
    from string templates, inside the World's lock, in less time than lxml took to
    serialize a tree alone: benchmarks/README.md, levers 2 and 3)."""
    return Response(body, status=status, content_type=ATOM_TYPE)


def empty(status: str, content_type: str | None = None) -> Response:
    response = Response(b"", status=status)
    if content_type:
        response.headers["Content-Type"] = content_type
    else:
        del response.headers["Content-Type"]
    return response


def status_line(code: int) -> str:
    """`404 Not Found`: werkzeug would send `404 NOT FOUND` for a bare integer status."""
    return f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"


def json_response(data, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=1, sort_keys=True) + "\n", status=status_line(status),
                    content_type="application/json")


def shown(value: str, limit: int = 40) -> str:
    """`value` quoted for a message, cut to `limit` characters (the sender already has it)."""
    if len(value) <= limit:
        return repr(value)
    return repr(value[:limit]) + f"… ({len(value)} characters)"
