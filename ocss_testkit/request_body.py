"""The request body: read within its limit, then validated and decoded for its route, in
one place, so that a handler gets a domain value (`ctx.body`), never bytes or XML.

A route that takes a body names its schema and decoder (routes.Route.request_schema,
.decode). What a refused body answers, whatever the route:

- longer than the limit: 413 Request Entity Too Large;
- empty where the route needs one: 400 No Entry provided (Google Data Client API, "Add a
  new client");
- another media type than XML (`XML_TYPES`), or a charset no codec reads: 415;
- not well-formed, hostile (atom/safe.py), or refused by the schema or the decoder:
  400 Bad Request with the reason;
- an entry without the oc: element it exists to carry (atom/reader.py, MissingPayload):
  400 No Entry provided, said before the schema's own message.
"""
from __future__ import annotations

from collections.abc import Callable

from lxml import etree
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

from ocss_testkit.answers import ApiError
from ocss_testkit.atom import reader, safe
from ocss_testkit.atom.schemas import schemas
from ocss_testkit.routes import Route

XML_TYPES = ("application/atom+xml", "application/xml", "text/xml")


def read_body(request: Request, max_body: int) -> bytes:
    """The body, at most `max_body` bytes; ApiError 413 beyond. Over real HTTP the server
    (server.py) has refused a longer one already, from its headers, before reading it;
    this is the same rule for in-process WSGI calls.

    A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3):
    b"" without asking werkzeug, which would wrap the input stream to read nothing (~10 %
    of a signed GET: benchmarks/README.md, "Lever 5")."""
    environ = request.environ
    if not environ.get("CONTENT_LENGTH") and "HTTP_TRANSFER_ENCODING" not in environ:
        return b""
    length = request.content_length
    if length is not None and length > max_body:
        raise ApiError(413, "Request Entity Too Large", f"body of {length} bytes; the limit is {max_body} bytes")
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large",
                       f"body of more than {max_body} bytes; the limit is {max_body} bytes") from None


def takes_body(route: Route, body: bytes) -> bool:
    """Whether the request carries a body the route reads (one with a request schema and
    more than white space): what BodyDecoder decodes and the journal calls validated."""
    return route.request_schema is not None and bool(body) and not body.isspace()


class BodyDecoder:
    """Validates and decodes the bodies of a route table's routes (module doc).

    Made with the routes it serves: a route naming a schema that xsd/request/ lacks, or
    taking a body without a decoder, is a ValueError here, when the app is made, not a
    500 on the first request."""

    def __init__(self, routes: tuple[Route, ...], max_depth: int) -> None:
        self.schemas = schemas("request")  # compiled now, not on the first request
        self.max_depth = max_depth
        for route in routes:
            if route.request_schema is None:
                continue
            if route.request_schema not in self.schemas:
                raise ValueError(f"{route.method} {route.path}: no request schema {route.request_schema!r} in "
                                 f"xsd/request/ (it has {', '.join(self.schemas.names)})")
            if not callable(route.decode):
                raise ValueError(f"{route.method} {route.path} takes a {route.request_schema} body but has no decoder")

    def decode(self, route: Route, request: Request, body: bytes):
        """The route's decoded body, or None when it takes none (or may go without, and
        came without). Raises ApiError (module doc)."""
        if route.request_schema is None or route.decode is None:  # BodyDecoder refused the latter
            return None
        if not takes_body(route, body):
            if route.body_required:
                raise ApiError(400, "No Entry provided", "send an Atom entry as the request body")
            return None
        mimetype = request.mimetype
        if mimetype and mimetype not in XML_TYPES:
            raise ApiError(415, "Unsupported Media Type", f"{mimetype} is not accepted; send application/atom+xml")
        try:
            # RFC 7303 §3.2: the charset parameter decides the encoding (after a byte order mark).
            charset = safe.charset_of(request.headers.get("Content-Type"))
        except safe.UnsupportedCharset as error:
            raise ApiError(415, "Unsupported Media Type", str(error)) from None
        except safe.XMLRejected as error:
            raise ApiError(400, "Bad Request", str(error)) from None
        try:
            return route.decode(self._valid_root(route.request_schema, route.decode, body, charset))
        except reader.MissingPayload as error:  # an entry with nothing in it is no entry
            raise ApiError(400, "No Entry provided", str(error)) from None
        except safe.XMLRejected as error:
            raise ApiError(400, "Bad Request", str(error)) from None

    def _valid_root(self, name: str, decode: Callable, body: bytes, charset: str | None) -> etree._Element:
        """The root element of a body valid against schema `name`; XMLRejected
        (MissingPayload first, when that is what the schema refused: `decode`'s payload)
        otherwise."""
        root = self.schemas.parse_valid(name, body, self.max_depth, charset)
        if root is None:  # refused by the schema: parsed again, to say first what is missing, then why
            root = safe.parse(body, self.max_depth, charset)
            reader.require_payload(decode, root)
            self.schemas.validate(name, root)
        return root
