"""HTTP responses as the SyncServer sends them: a status with its own reason phrase.

The docs give many statuses non-standard phrases (`200 Updated`, `400 No Entry provided`,
`404 No such Google client.`); werkzeug sends whatever phrase the status string holds.
"""
from __future__ import annotations

import ipaddress
import json
import math
import re

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from .atom.render import serialize

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
        text = f"{self.status} {self.reason}"
        if self.detail:
            text += f": {self.detail}"
        headers = dict(self.headers)
        if request_id:
            headers["X-Request-Id"] = request_id
        return Response(text + "\n", status=f"{self.status} {self.reason}",
                        content_type="text/plain; charset=utf-8", headers=headers)


class AtomResponse(Response):
    """An Atom answer whose XML is serialized after the World's lock is released.

    Handlers build the element tree under the lock (it copies every value it shows);
    lxml's tostring releases the GIL while it works, and doing that inside the lock made
    the other workers queue behind it (benchmarks/README.md).
    """
    element = None

    def finish(self) -> None:
        if self.element is not None:
            self.set_data(serialize(self.element))
            self.element = None


def atom(body, status: str = "200 OK") -> Response:
    """`body`: bytes, or an lxml element the app serializes once the lock is released."""
    if isinstance(body, bytes):
        return Response(body, status=status, content_type=ATOM_TYPE)
    response = AtomResponse(b"", status=status, content_type=ATOM_TYPE)
    response.element = body
    return response


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


# --- numbers and parameters from requests ------------------------------------------------
# The largest integer the fake takes anywhere (ids, counts, seconds): the range of exact
# integers in JSON (RFC 7493 "I-JSON", §2.2). Past it, JSON readers disagree on values, and
# Python's int() refuses strings of more than 4,300 digits outright.
MAX_INT = 2 ** 53 - 1


def parse_id(text: str) -> int | None:
    """An id from a URL segment: ASCII digits (leading zeros allowed) up to MAX_INT, else None.

    Never calls int() on an unbounded string: a 5,000-digit id is simply no id."""
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_INT)):
        return None
    value = int(digits)
    return value if value <= MAX_INT else None


class _OutOfRange:
    """Stands in for a JSON number no field could take, so the message can name the field."""
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _json_int(text: str):
    if len(text.lstrip("-")) > len(str(MAX_INT)):
        return _OutOfRange(text)
    value = int(text)
    return value if -MAX_INT <= value <= MAX_INT else _OutOfRange(text)


def _json_float(text: str):
    value = float(text)  # 1e999 reads as infinity
    return value if math.isfinite(value) else _OutOfRange(text)


def _counting(parse, made: list):
    def hook(text: str):
        value = parse(text)
        if isinstance(value, _OutOfRange):
            made.append(value)
        return value
    return hook


def _json_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class _DuplicateKey(ValueError):
    pass


def _json_object(pairs: list) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return data


def load_json(raw: bytes | str):
    """A JSON request body (RFC 8259), strictly: raises ApiError 400 naming the culprit for
    a body that is not JSON, nests too deep, gives a member twice (RFC 8259 §4 leaves the
    meaning open), or holds a number outside the I-JSON range (RFC 7493 §2.2: integers of
    magnitude at most 2**53 - 1, finite floats; 1e999 is no number). Named by JSON Pointer
    (RFC 6901), e.g. `/times`."""
    made: list = []  # out-of-range numbers met: the document is walked only when there are some
    try:
        data = json.loads(raw, parse_int=_counting(_json_int, made), parse_float=_counting(_json_float, made),
                          parse_constant=_json_constant, object_pairs_hook=_json_object)
    except _DuplicateKey as exc:
        raise ApiError(400, "Bad Request", f"the JSON body gives the member {shown(str(exc))} twice: "
                                           "give each member once") from None
    except RecursionError:
        raise ApiError(400, "Bad Request", "the JSON body nests too deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Bad Request", f"the body is not JSON: {exc}") from None
    where = _out_of_range(data) if made else None
    if where is not None:
        pointer, number = where
        digits = number.text if len(number.text) <= 24 else f"{number.text[:20]}… ({len(number.text)} characters)"
        raise ApiError(400, "Bad Request", f"the number {digits} at {pointer or 'the top level'} is out of range: "
                                           f"integers up to ±{MAX_INT}, finite decimals (RFC 7493 §2.2)")
    return data


def _out_of_range(data) -> tuple[str, _OutOfRange] | None:
    """The JSON Pointer and value of the first out-of-range number; iterative, as the
    document may nest as deep as the parser allows."""
    stack = [("", data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, _OutOfRange):
            return pointer, value
        if isinstance(value, dict):
            children = [(f"{pointer}/{_escape_pointer(k)}", v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(f"{pointer}/{i}", v) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return None


def _escape_pointer(key: str) -> str:
    key = key.replace("~", "~0").replace("/", "~1")
    return key if len(key) <= 64 else key[:64] + "…"


class SingleValueParams(ImmutableMultiDict):
    """Query (and form) parameters where reading a name given more than once is an error.

    `?dataclass=Contacts&dataclass=Notes` has no single meaning; werkzeug would silently
    read the first. Only names the fake reads are refused, when read, so a parameter it
    ignores may repeat. Raises ApiError 400 naming the parameter."""

    def _once(self, key) -> None:
        values = self.getlist(key)
        if len(values) > 1:
            raise ApiError(400, "Bad Request", f"the parameter {shown(str(key))} is given {len(values)} times: "
                                               "give it once")

    def __getitem__(self, key):
        self._once(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        self._once(key)
        return super().get(key, default, type)


# --- the Host header ----------------------------------------------------------------------
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE | re.ASCII)
_HOST_FORM = "send the server's name or address and port, as in Host: localhost:8080"


def host_problem(environ: dict) -> str | None:
    """Why the request's Host header cannot name this server, or None when it can.

    The fake builds every absolute URL it answers with (links, ids, Location, the OAuth
    realm) from Host, so it must be a host as URIs write one (RFC 3986 §3.2.2): a DNS name
    of letters, digits and inner hyphens, labels of 1 to 63 characters, 253 in all (RFC 1123
    §2.1, RFC 1035 §2.3.4), `xn--` labels valid IDNA (RFC 5891), or an IPv4 or bracketed
    IPv6 address; an optional port from 1 to 65535. RFC 7230 §5.4: an HTTP/1.1 request
    without Host, or with several, or an invalid one, is a 400. A request without Host in
    HTTP/1.0 is fine: the server's own address stands in."""
    value = environ.get("HTTP_HOST")
    if value is None:
        if environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            return f"an HTTP/1.1 request needs a Host header (RFC 7230 §5.4): {_HOST_FORM}"
        return None
    if not value:
        return f"the Host header is empty: {_HOST_FORM}"
    if not (value.isascii() and value.isprintable()):
        # WSGI hands headers over as latin-1: show the bytes that came, escaped.
        sent = value.encode("latin-1", "replace").decode("ascii", "backslashreplace")
        return (f"the Host header '{sent[:80]}' is not printable ASCII: write an international name "
                "in its xn-- form (RFC 5891)")
    if "," in value:
        return f"the request has several Host headers ({shown(value)}): send one"
    port = None
    if value.startswith("["):
        address, bracket, rest = value[1:].partition("]")
        if not bracket:
            return f"the IPv6 address in the Host header {shown(value)} lacks its closing ']'"
        try:
            ipaddress.IPv6Address(address)
            valid = "%" not in address  # a zone id names an interface of the client, not us
        except ValueError:
            valid = False
        if not valid:
            return f"{shown(address)} in the Host header is not an IPv6 address"
        if rest and not rest.startswith(":"):
            return f"the Host header {shown(value)} has {shown(rest)} after its IPv6 address"
        name = None
        port = rest[1:] if rest else None
    else:
        if value.count(":") > 1:
            return f"the Host header {shown(value)} holds an IPv6 address without brackets: write [::1]:8080"
        name, colon, after = value.partition(":")
        port = after if colon else None
    if port is not None and not (port.isdigit() and len(port) <= 5 and port[0] != "0" and int(port) <= 65535):
        return f"the port {shown(port)} of the Host header is not a port number from 1 to 65535"
    if name is None:
        return None
    stripped = name[:-1] if name.endswith(".") else name  # one trailing dot: a fully qualified name
    if not stripped:
        return f"the Host header {shown(value)} names no host: {_HOST_FORM}"
    if len(stripped) > 253:
        return f"the host name of the Host header has {len(stripped)} characters: DNS names have at most 253"
    for label in stripped.split("."):
        if not label:
            return f"the host name {shown(name)} of the Host header has an empty label (two dots in a row)"
        if len(label) > 63:
            return f"the host name of the Host header has a label of {len(label)} characters: at most 63"
        if not _LABEL.fullmatch(label):
            return (f"the label {shown(label)} of the Host header is not a host name: letters, digits "
                    "and inner hyphens only")
        if label[:4].lower() == "xn--":
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return f"the label {shown(label)} of the Host header is not a valid xn-- (IDNA) label"
    return None
