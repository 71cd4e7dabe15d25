"""The wire rules every request meets before routing: the Host header (RFC 7230 §5.4),
the request-target and form bodies as text, and parameters given once."""
from __future__ import annotations

import functools
import io
import ipaddress
import re
from urllib.parse import quote, unquote_to_bytes

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.formparser import FormDataParser

from ocss_testkit.answers import ApiError, shown
from ocss_testkit.world.text_rules import text_problem


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
HOST_CACHED = 256  # Host values whose verdict is remembered: a client sends one or a few
HOST_CACHED_LENGTH = 300  # characters of a Host value remembered at most (its sentence is as long at most)
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
    HTTP/1.0 is fine: the server's own address stands in.

    The verdicts of the HOST_CACHED values last checked, each at most HOST_CACHED_LENGTH
    characters long, are remembered (least recently used out): ~200 KB at most."""
    value = environ.get("HTTP_HOST")
    if value is None:
        if environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
            return f"an HTTP/1.1 request needs a Host header (RFC 7230 §5.4): {_HOST_FORM}"
        return None
    if len(value) <= HOST_CACHED_LENGTH:
        return _cached_host_value_problem(value)
    return _host_value_problem(value)


def _host_value_problem(value: str) -> str | None:
    """`host_problem` of a Host header's value."""
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


# The same few Hosts come with every request; the check walks each label in Python.
_cached_host_value_problem = functools.lru_cache(maxsize=HOST_CACHED)(_host_value_problem)
