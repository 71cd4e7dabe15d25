"""HTTP responses as the SyncServer sends them: a status with its own reason phrase.

The docs give many statuses non-standard phrases (`200 Updated`, `400 No Entry provided`,
`404 No such Google client.`); werkzeug sends whatever phrase the status string holds.
"""
from __future__ import annotations

import io
import ipaddress
import json
import math
import re
from urllib.parse import quote, unquote_to_bytes

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from .atom.render import serialize
from .model.state import escape_pointer, text_culprit, text_problem

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


class AtomResponse(Response):
    """An Atom answer given as an lxml element, serialized after the World's lock is released.

    The fake's own renderers (atom/render.py) write bytes from string templates, in less
    time than lxml took to serialize the tree alone, and those go out as a plain Response.
    This stays for a body built as an element tree: lxml's tostring releases the GIL while
    it works, and doing that inside the lock made the other workers queue behind it
    (benchmarks/README.md). The response cache (response_cache.py) keeps no such answer.
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


def load_json(raw: bytes | str, *, text_checked: bool = False):
    """A JSON request body (RFC 8259), strictly: raises ApiError 400 naming the culprit for
    a body that is not JSON, nests too deep, gives a member twice (RFC 8259 §4 leaves the
    meaning open), or holds a number outside the I-JSON range (RFC 7493 §2.2: integers of
    magnitude at most 2**53 - 1, finite floats; 1e999 is no number). Named by JSON Pointer
    (RFC 6901), e.g. `/times`.

    Every string, member names included, must be text an answer can carry (`text_problem`
    of model/state.py), else ApiError 400 naming it: no unpaired surrogate (`"\\ud800"`,
    which RFC 8259 §8.2 lets through and RFC 7493 §2.1, I-JSON, forbids: it is no
    character, and no answer could encode it), and no character XML 1.0 cannot hold
    (U+0000, U+0001, U+FFFE…), as a string the fake keeps is shown in Atom answers.
    `text_checked=True` leaves that check to a caller that makes it itself and names its
    own paths (the state document: model/state.py refuses such strings, 422)."""
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
    # The walks that name a culprit run only when there is one: an out-of-range number was
    # made, or some string holds what `text_problem` refuses (text_culprit looks at C speed
    # first).
    where = _out_of_range(data) if made else None
    if where is not None:
        pointer, number = where
        digits = number.text if len(number.text) <= 24 else f"{number.text[:20]}… ({len(number.text)} characters)"
        raise ApiError(400, "Bad Request", f"the number {digits} at {pointer or 'the top level'} is out of range: "
                                           f"integers up to ±{MAX_INT}, finite decimals (RFC 7493 §2.2)")
    found = None if text_checked else text_culprit(data)
    if found is not None:
        pointer, what, problem = found
        raise ApiError(400, "Bad Request", f"the {what} at {pointer or 'the top level'} of the JSON body holds "
                                           f"{problem}: no answer could show it")
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
            children = [(f"{pointer}/{escape_pointer(k)}", v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(f"{pointer}/{i}", v) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return None


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

    # werkzeug declares `get` as overloads; this one takes and passes on the same arguments.
    def get(self, key, default=None, type=None):  # type: ignore[override]  # noqa: A002 - werkzeug's signature
        self._once(key)
        return super().get(key, default, type)


# --- the request-target and form bodies as text -----------------------------------------------
def target_problem(environ: dict) -> str | None:
    """Why the path or the query of a request cannot be read as text, or None when both can.

    Text in a URI is UTF-8, percent-encoded (RFC 3986 §2.5; RFC 5849 §3.6 for what OAuth
    signs), and whatever the fake keeps from a request it may show in an Atom answer
    (`text_problem`). werkzeug reads a path that is not UTF-8 with U+FFFD in place of each
    bad byte, so /_fake/phone/%FF and /_fake/phone/%FE would name the same phone, and its
    `request.args` raises UnicodeDecodeError on a raw byte over 0x7F in the query (a 500)
    while it keeps a percent-escape of one (`%FF`) as those three characters: every form
    is refused alike here (400), before routing. waitress refuses raw bytes in the
    request line already ("Bad URI"); in-process and behind other WSGI servers they
    arrive. `environ` holds PATH_INFO and QUERY_STRING as WSGI's Latin-1 strings."""
    raw_path = _octets(environ.get("PATH_INFO", ""))
    try:
        path = raw_path.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"the path {_sent(raw_path)} is not UTF-8 (byte 0x{exc.object[exc.start]:02X}): "
                "percent-encode the UTF-8 bytes of text (RFC 3986 §2.5)")
    problem = text_problem(path)
    if problem:
        return f"the path {_sent(path.encode('utf-8', 'surrogatepass'))} holds {problem}"
    return params_problem(environ.get("QUERY_STRING", ""), "query")


def params_problem(text: str, where: str) -> str | None:
    """Why `text`, a query or an application/x-www-form-urlencoded body as received (one
    character per byte, as WSGI hands the query over), cannot be read as parameters of
    text, or None: each name and value, once percent-decoded ('+' a space, as the form
    encoding and werkzeug read it), must be UTF-8 and pass `text_problem`. `where` names
    the place in the sentence ("query", "form body"). Linear in the length of `text`."""
    if text.isascii() and text.isprintable() and "%" not in text:
        return None  # printable ASCII with nothing escaped: text by construction
    for piece in text.split("&"):
        name, _, value = (unquote_to_bytes(_octets(part.replace("+", " "))) for part in piece.partition("="))
        for which, raw in ((f"a {where} parameter name ({_sent(name)})", name),
                           (f"the value of the {where} parameter {_sent(name)}", value)):
            try:
                problem = text_problem(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                return (f"{which} is not UTF-8 (byte 0x{exc.object[exc.start]:02X}): percent-encode the UTF-8 "
                        "bytes of text (RFC 3986 §2.5)")
            if problem:
                return f"{which} holds {problem}"
    return None


def _octets(text: str) -> bytes:
    # WSGI strings hold one byte per character; a server that handed over text instead
    # gets it read as UTF-8 (a lone surrogate then fails to decode, as it should).
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _sent(raw: bytes) -> str:
    """Bytes as a client would write them in a URI: printable ASCII, the rest %XX; cut."""
    text = quote(raw, safe="/:@!$&'()*+,;=-._~")
    return repr(text) if len(text) <= 80 else repr(text[:80]) + f"… ({len(text)} characters)"


class StrictFormDataParser(FormDataParser):
    """werkzeug's form parser, refusing (ApiError 400, `params_problem`) a form body that
    is not text rather than reading it as an empty form (a raw byte over 0x7F: werkzeug's
    UnicodeDecodeError is a ValueError its silent parser swallows) or keeping `%FF` as
    three characters. Multipart field values werkzeug decodes itself (U+FFFD for a bad
    byte); they are held to `text_problem`. Set per request, on
    `Request.form_data_parser_class`."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        raw = stream.read()
        problem = params_problem(raw.decode("latin-1"), "form body")
        if problem:
            raise ApiError(400, "Bad Request", problem)
        return super()._parse_urlencoded(io.BytesIO(raw), mimetype, content_length, options)

    def _parse_multipart(self, stream, mimetype, content_length, options):
        parsed = super()._parse_multipart(stream, mimetype, content_length, options)
        for name, value in parsed[1].items(multi=True):
            problem = text_problem(name) or text_problem(value)
            if problem:
                raise ApiError(400, "Bad Request", f"the form body field {shown(name)} holds {problem}")
        return parsed


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
