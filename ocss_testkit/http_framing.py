"""How the fake's HTTP server judges a request's framing and size before the app runs.

waitress parses the wire; `RequestParser` (its parser, subclassed) makes the answers it
gives on its own deliberate ones, each a `Refusal` answered as `<status> <reason>:
<sentence>` in text/plain like the app's:

- framing (RFC 9112 §6): a request whose body length is ambiguous or malformed is
  refused with 400 and its connection closed; a transfer coding other than chunked
  (applied before a final chunked) is 501, as RFC 9112 §6.1 says;
- size: a body over the app's `max_body` is refused with 413 as soon as that is known:
  from the headers when they carry a Content-Length (no `100 Continue`, no byte of the
  body read), else the moment a chunked body passes the limit.

The channel (http_channel.py) records each refusal in the app it was meant for.
"""
from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import unquote_to_bytes

from waitress.parser import HTTPRequestParser, ParsingError, crack_first_line, get_header_lines
from waitress.rfc7230 import HEADER_FIELD_RE
from waitress.utilities import Error, RequestHeaderFieldsTooLarge

from ocss_testkit.answers import shown
from ocss_testkit.app import DEFAULT_MAX_BODY

# A chunked body may spend this much on framing (chunk sizes, extensions, trailers) on
# top of its content before it is refused: waitress bounds none of them by itself.
CHUNK_FRAMING_ALLOWANCE = 64 * 1024

_DIGITS = re.compile(r"[0-9]+")


class Refusal(Error):
    """An answer decided before the app runs; the connection is always closed after it
    (waitress's ErrorTask), as RFC 9112 §6.3 requires for every framing error."""

    def __init__(self, code: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.reason = code, reason

    def to_response(self, ident=None):
        body = f"{self.code} {self.reason}: {self.body}\n".encode()
        return f"{self.code} {self.reason}", [("Content-Type", "text/plain; charset=utf-8")], body


def _too_large(size: str, max_body: int) -> Refusal:
    return Refusal(413, "Request Entity Too Large", f"body of {size} bytes; the limit is {max_body} bytes")


def framing(header_plus: bytes, max_body: int) -> tuple[Refusal | None, str]:
    """Judge how the request head frames its body: (a refusal or None, HTTP version).

    Raises waitress's ParsingError for a head it cannot read at all."""
    end = header_plus.find(b"\r\n")
    if end < 0:
        return None, "1.0"  # waitress refuses a head without a line end itself
    method, _, raw_version = crack_first_line(header_plus[:end].rstrip())
    version = raw_version.decode("latin-1")
    if not method:
        return None, "1.0"  # likewise an unreadable request line
    codings_fields: list[str] = []
    lengths: list[str] = []
    for line in get_header_lines(header_plus[end + 2:]):
        match = HEADER_FIELD_RE.match(line)
        if match is None:
            return None, version  # waitress refuses the malformed field itself
        name = match.group("name").lower()
        value = match.group("value").strip(b" \t").decode("latin-1")
        if name == b"transfer-encoding":
            codings_fields.append(value)
        elif name == b"content-length":
            lengths.append(value)
    if codings_fields:
        return _transfer_codings(", ".join(codings_fields), version, bool(lengths)), version
    return _content_length(lengths, max_body), version


def _content_length(lengths: list[str], max_body: int) -> Refusal | None:
    """Judge the Content-Length fields of a head without Transfer-Encoding."""
    if not lengths:
        return None
    if len(lengths) > 1 or "," in lengths[0]:
        return Refusal(400, "Bad Request",
                       f"Content-Length given more than once ({shown(', '.join(lengths))}); send it once "
                       "(RFC 9110 §8.6)")
    value = lengths[0]
    if not _DIGITS.fullmatch(value):
        return Refusal(400, "Bad Request", f"Content-Length {shown(value)} is not a number of bytes (RFC 9110 §8.6)")
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(max_body)) or int(digits) > max_body:  # no int() of 5,000 digits
        return _too_large(digits if len(digits) <= 40 else f"{digits[:20]}… ({len(digits)} digits)", max_body)
    return None


def _transfer_codings(field: str, version: str, with_length: bool) -> Refusal | None:
    if version != "1.1":
        return Refusal(400, "Bad Request",
                       f"Transfer-Encoding in an HTTP/{version or '0.9'} request: the coding is HTTP/1.1's, so "
                       "the body's framing is faulty (RFC 9112 §6.1)")
    if with_length:
        return Refusal(400, "Bad Request",
                       "both Content-Length and Transfer-Encoding: the body's length is ambiguous; send one "
                       "(RFC 9112 §6.3)")
    codings = [c.strip(" \t").lower() for c in field.split(",") if c.strip(" \t")]
    if not codings:
        return Refusal(400, "Bad Request", "Transfer-Encoding names no transfer coding (RFC 9112 §6.1)")
    if codings[-1] != "chunked":
        return Refusal(400, "Bad Request",
                       f"Transfer-Encoding {shown(field)}: chunked is not the final transfer coding, so the "
                       "body's length cannot be determined (RFC 9112 §6.3); send chunked, or a Content-Length")
    if codings.count("chunked") > 1:
        return Refusal(400, "Bad Request",
                       f"Transfer-Encoding {shown(field)} applies chunked more than once (RFC 9112 §7)")
    unknown = ", ".join(c for c in codings if c != "chunked")
    if not unknown:
        return None
    return Refusal(501, "Not Implemented",
                   f"transfer coding {shown(unknown)} is not supported: the server decodes chunked only "
                   "(RFC 9112 §6.1); send the body with chunked alone, or with a Content-Length")


def _one_chunked(header_plus: bytes) -> bytes:
    """The head with its Transfer-Encoding fields, judged by `framing` to hold chunked
    once and last, as one `Transfer-Encoding: chunked`: waitress refuses empty list
    elements (`chunked, `) that RFC 9110 §5.6.1 says a recipient must ignore."""
    end = header_plus.find(b"\r\n")
    if end < 0:
        return header_plus
    lines = get_header_lines(header_plus[end + 2:])
    fields = [line for line in lines if not line.lower().startswith(b"transfer-encoding:")]
    if len(fields) == len(lines):
        return header_plus
    return b"\r\n".join([header_plus[:end], *fields, b"Transfer-Encoding: chunked"])


def request_target(head: bytes) -> tuple[str, str, str]:
    """(method, PATH_INFO, QUERY_STRING) of the request line that begins `head`, as far as
    it can be read, in their WSGI form (PEP 3333: latin-1 text of the bytes, the path
    percent-decoded): what a refused request is journaled by, whatever it held."""
    line = head.lstrip(b"\r\n").partition(b"\n")[0].strip()
    method, _, rest = line.partition(b" ")
    target = rest.strip()
    if target.rpartition(b" ")[2].upper().startswith(b"HTTP/"):
        target = target.rpartition(b" ")[0].strip()
    target = target.partition(b"#")[0]
    if not target.startswith(b"/") and b"://" in target:  # absolute form (RFC 9112 §3.2.2)
        after = target.partition(b"://")[2]
        ends = [i for i in (after.find(b"/"), after.find(b"?")) if i >= 0]
        target = after[min(ends):] if ends else b""
    path, _, query = target.partition(b"?")
    return method.decode("latin-1"), unquote_to_bytes(path).decode("latin-1"), query.decode("latin-1")


class RequestParser(HTTPRequestParser):
    """waitress's request parser with the fake's framing and size rules (module doc)."""
    max_body = DEFAULT_MAX_BODY  # set per connection from the app
    request_line = b""  # the head's first line, for the record of a refusal
    refused_at = 0.0  # time.perf_counter() of the refusal
    # waitress's own attributes, declared for the type checker (waitress ships no types)
    body_rcv: Any
    error: Any

    def parse_header(self, header_plus):
        self.request_line = header_plus.partition(b"\n")[0]
        version = ""
        try:
            refusal, version = framing(header_plus, self.max_body)
            if refusal is None:
                super().parse_header(_one_chunked(header_plus))
                if self.body_rcv is None:
                    # No content to wait for: waitress would send 100 Continue, then wait
                    # for a body that never comes (RFC 9110 §10.1.1 lets a server omit it).
                    self.expect_continue = False
                return
        except ParsingError as exc:
            refusal = Refusal(400, "Bad Request", f"malformed request head: {exc.args[0]}")
        self._refuse(refusal, version)

    def _refuse(self, refusal: Refusal, version: str = "") -> None:
        self.refused_at = time.perf_counter()
        if self.body_rcv is not None:
            self.body_rcv.getbuf().close()
        self.error = refusal
        self.body_rcv = None  # nothing more of this request is read
        self.chunked, self.content_length = False, 0
        self.expect_continue = False  # never `100 Continue` for a request already refused
        self.connection_close = True
        if version in ("1.0", "1.1"):
            self.version = version

    def received(self, data):
        consumed = super().received(data)
        error = self.error
        if error is None and self.chunked and self.body_rcv is not None:
            refusal = self._chunked_too_large()
            if refusal is None:
                return consumed
            self._refuse(refusal)
            self.completed = True
            return len(data)  # stop here: the rest is never read
        if error is not None and not isinstance(error, Refusal):
            if isinstance(error, RequestHeaderFieldsTooLarge):
                detail = f"the request line and headers exceed {self.adj.max_request_header_size} bytes"
                # waitress parsed a stand-in head (`GET / HTTP/1.0`); the journal gets the real line
                self.request_line = (self.header_plus + data).lstrip(b"\r\n").partition(b"\n")[0]
            else:  # a malformed chunked body
                detail = f"malformed chunked body: {error.body[:1].lower()}{error.body[1:]}"
            self._refuse(Refusal(error.code, error.reason, detail))
        return consumed

    def _chunked_too_large(self) -> Refusal | None:
        """The 413 for a chunked body received so far, when its content or its framing
        has passed the limit; None while it has not."""
        if len(self.body_rcv) > self.max_body:
            return _too_large(f"more than {self.max_body}", self.max_body)
        if self.body_bytes_received > self.max_body + CHUNK_FRAMING_ALLOWANCE:
            return Refusal(413, "Request Entity Too Large",
                           f"chunked body framing (chunk sizes, extensions, trailers) of more than "
                           f"{CHUNK_FRAMING_ALLOWANCE} bytes on top of its content; the body limit is "
                           f"{self.max_body} bytes")
        return None
