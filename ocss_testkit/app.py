"""The WSGI application: routing, limits, OAuth, validation, atomic dispatch, errors.

Order of checks for an API request: route (404 with near-miss hints / 405 with Allow),
body size (413), OAuth (401), media type (415), XML hardening and schema (400), then
the handler under the World's lock. Nothing before the handler touches state, so bad
input can never change it.
"""
from __future__ import annotations

import difflib
import itertools
import logging
import os
import time

import jsonpatch
from urllib.parse import quote

from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from .atom import incoming, safe
from .atom.incoming import MissingClient
from .atom.schemas import schemas
from .auth import Authenticator
from .handlers import Call
from .model.errors import DomainError
from .model.fixtures import FixtureSet
from .model.world import World, known_timezones
from .routes import CONTROL_ROUTES, ROUTES, Route, build_map
from .faults import Fault, Faults
from .journal import DEFAULT_LIMIT as DEFAULT_JOURNAL_LIMIT
from .journal import Entry, Journal
from .request_log import log_request
from .wire import (ATOM_TYPE, ApiError, AtomResponse, SingleValueParams, StrictFormDataParser, host_problem,
                   status_line, target_problem)

log = logging.getLogger("ocss_testkit")

DEFAULT_MAX_BODY = 1024 * 1024
XML_TYPES = ("application/atom+xml", "application/xml", "text/xml")


class FakeApp:
    """One fake SyncServer. Its state is `self.world`; `reset()` swaps in a fresh one."""

    def __init__(self, fixtures: FixtureSet | str = "demo", base_url: str | None = None,
                 max_body: int = DEFAULT_MAX_BODY, max_depth: int = safe.DEFAULT_MAX_DEPTH,
                 outbox_limit: int | None = None, journal_limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        self.fixtures = fixtures if isinstance(fixtures, FixtureSet) else FixtureSet.load(fixtures)
        self._world_options = {"outbox_limit": outbox_limit} if outbox_limit else {}
        self.world = self.fixtures.build(**self._world_options)
        self.base_url = (base_url.rstrip("/") + "/") if base_url else None
        self.max_body = max_body
        self.max_depth = max_depth
        self.url_map = build_map()
        self.auth = Authenticator()
        self.journal = Journal(journal_limit)
        self.faults = Faults()
        # Called with the World (its lock held) after every change, before the answer
        # leaves: the place for persistence (a state file) to write what it acknowledges.
        self.on_change = None
        # The tenants this fake is the default tenant of (tenants.TenantsApp), managed by its
        # /_fake/tenants routes; None for a fake of one world.
        self.tenants = None
        self.request_schemas = schemas("request")  # compiled now, not on the first request
        known_timezones()  # likewise the IANA zone list
        self._ids = itertools.count(1)

    def reset(self) -> None:
        """A fresh fake: a new World from the fixture set, no faults, an empty journal."""
        self.world = self.fixtures.build(**self._world_options)
        self.faults.clear()
        self.journal.clear()
        self._changed(self.world)

    def _changed(self, world) -> None:
        if self.on_change is not None:
            with world.lock:
                self.on_change(world)

    def replace_state(self, data) -> None:
        """Swap in a World loaded from a state document; a bad one changes nothing."""
        try:
            world = World.from_dict(data, self.fixtures.phones, **self._world_options)
        except DomainError as exc:
            raise ApiError(422, "Unprocessable Entity", str(exc)) from None
        self.world = world
        self._changed(world)

    def patch_state(self, operations) -> None:
        """Apply RFC 6902 operations to the state document, then load it: all or nothing."""
        if not isinstance(operations, list):
            raise ApiError(400, "Bad Request", "a JSON Patch is a list of operations")
        with self.world.lock:  # no request may change the state between dump and swap
            try:
                patched = jsonpatch.JsonPatch(operations).apply(self.world.to_dict())
            except jsonpatch.JsonPatchTestFailed as exc:
                raise ApiError(409, "Conflict", f"a test operation failed: {exc}") from None
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
                raise ApiError(400, "Bad Request", f"invalid JSON Patch: {exc}") from None
            self.replace_state(patched)

    # --- WSGI -------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = self.max_body
        try:
            response = self.handle(request)
        except DropConnection:
            drop = environ.get("ocss.drop_connection")
            if drop is None:  # in-process: there is no connection to drop
                raise
            drop()
            response = Response(b"", status=status_line(500))
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        request_id = f"r{next(self._ids)}"
        started = time.perf_counter()
        control = request.path.startswith("/_fake")
        trace = None if control else self.journal.start(request_id, request.method, request.path,
                                                         request.query_string.decode("latin-1"))
        # One place for the wire rules, API and control plane alike. A parameter given twice
        # is refused when a handler reads it (wire.SingleValueParams). The Host header is
        # checked first of all (RFC 7230 §5.4), as every absolute URL of an answer is built
        # from it and werkzeug's IDNA step raises on a bad one; with --base-url too, where
        # URLs do not come from Host: a request's answer does not depend on the fake's
        # configuration, and the OAuth signature base string still holds Host. Then the
        # path and query must be text (UTF-8, nothing an answer cannot hold), before
        # routing, and so must a form body when a handler reads it (wire.target_problem,
        # wire.StrictFormDataParser): werkzeug would raise, or read other text than sent.
        request.parameter_storage_class = SingleValueParams
        request.form_data_parser_class = StrictFormDataParser
        bad_request = host_problem(request.environ) or target_problem(request.environ)
        fault = None if control or bad_request else self.faults.take(request.method, request.path)
        try:
            if bad_request:
                raise ApiError(400, "Bad Request", bad_request)
            if fault is not None:
                trace.fault, trace.detail = fault.id, fault.describe()
                trace.injected = fault.action != "delay"
                response = self._faulty(fault, request, trace)
            else:
                response = self._dispatch(request, trace)
        except ApiError as error:
            response = error.response(request_id)
            if trace is not None:  # the journal keeps the sentence the client read
                trace.detail = error.detail or None
        except DropConnection:
            self.journal.record(trace, 0, "connection dropped", started)
            log_request(request_id, request.method, request.root_path + request.path, "0 connection dropped",
                        started, trace.user)
            raise
        except Exception:  # noqa: BLE001 - the client gets a request id, never a traceback
            log.exception("unexpected error handling %s %s [%s]", request.method, request.path, request_id)
            error = ApiError(500, "Internal Server Error",
                             f"unexpected error; the server log has request id {request_id}")
            response = error.response()
            if trace is not None:
                trace.detail = error.detail or None
        response.headers["X-Request-Id"] = request_id
        if trace is not None:
            status, _, reason = response.status.partition(" ")
            self.journal.record(trace, int(status), reason, started)
        # One line per request for whoever listens: request_log.py (the CLI's --log-format).
        # The path with its root (a tenant's /t/{tenant}): one log for every tenant.
        log_request(request_id, request.method, request.root_path + request.path, response.status, started,
                    trace.user if trace is not None else None)
        return response

    def _faulty(self, fault: Fault, request: Request, trace: Entry) -> Response:
        """Answer as the fault rule says (faults.py)."""
        if fault.action == "delay":
            time.sleep(fault.delay)
            return self._dispatch(request, trace)
        if fault.action == "drop":
            raise DropConnection()
        if fault.action == "garbage":
            return Response(os.urandom(512), status=status_line(fault.status), content_type=ATOM_TYPE)
        if fault.action == "truncate":
            try:
                response = self._dispatch(request, trace)
            except ApiError as error:
                response = error.response()
            return _truncated(response)
        reason = fault.reason or HTTP_STATUS_CODES.get(fault.status, "Error")
        raise ApiError(fault.status, reason, fault.body or f"fault {fault.id} injected by the test")

    def _dispatch(self, request: Request, trace: Entry | None = None) -> Response:
        trace = trace or Entry(0, "", 0.0, request.method, request.path, "")  # not journaled
        world = self.world  # one World for the whole request, even if a reset swaps it
        route, args = self._match(request)
        trace.route = route.path
        body = self._read_body(request)
        user = None
        if route.auth:
            result = self.auth.verify(world, request.method, self._signed_uri(request), request.headers, body)
            if result.user is None:
                trace.auth = result.reason
                # verbatim: auth.py bounds every reason itself, and a signature base string
                # must come back whole up to its own bound, not cut in its middle.
                raise ApiError(401, "Unauthorized", result.reason, verbatim=True,
                               headers={"WWW-Authenticate": f'OAuth realm="{self._base(request)}"'})
            user = result.user
            trace.auth, trace.user = "ok", user.name
        try:
            entry = self._entry(route, request, body)
        except ApiError as error:
            trace.validation = f"{error.reason}: {error.detail}"
            raise
        if entry is not None:
            trace.validation = "ok"
        call = Call(request, world, user, self._base(request), entry, self)
        response = self._call(route, call, world, args)
        if isinstance(response, AtomResponse):
            response.finish()  # serialize outside the lock
        return response

    def _call(self, route: Route, call: Call, world, args: dict) -> Response:
        head = call.request.method == "HEAD"
        with world.lock:
            handler = route.handler
            # HEAD is safe (RFC 9110 §9.2.1, §9.3.2): not one change. A GET that changes
            # state answers HEAD through its side-effect-free peek; one without a peek (the
            # token endpoints, whose answer IS the change) refuses HEAD rather than copy the
            # World per request, which anyone could ask for unsigned. Due phone actions are
            # left for the next other request to run: a HEAD shows the world as it stands.
            if head and route.writes:
                if route.peek is None:
                    raise ApiError(405, "Method Not Allowed",
                                   f"HEAD is not supported on {call.request.path}: its GET answer issues "
                                   "credentials, and HEAD never changes state; allowed: GET, POST",
                                   headers={"Allow": "GET, POST"})
                handler = route.peek
            ran = world.run_due() if world.schedule and not head else 0  # phone actions whose time has come
            try:
                response = handler(call, **args)
                changed = not head and (ran or (route.writes and response.status_code < 400))
                if self.on_change is not None and changed and world is self.world:
                    self.on_change(world)
                return response
            except DomainError as error:
                status, reason = route.status_for(error)
                raise ApiError(status, reason, str(error)) from None
            except MissingClient as error:  # an entry with nothing in it is no entry (001)
                raise ApiError(400, "No Entry provided", str(error)) from None
            except safe.XMLRejected as error:
                raise ApiError(400, "Bad Request", str(error)) from None

    @staticmethod
    def _signed_uri(request: Request) -> str:
        """The URI as the client sent (and signed) it, percent-escapes intact.

        werkzeug's `request.url` is an IRI with escapes decoded, which changes the OAuth
        signature base string for any non-ASCII path or query.
        """
        environ = request.environ
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if raw and raw.startswith("/"):
            return f"{request.scheme}://{request.host}{raw}"
        if raw and raw.lower().startswith(("http://", "https://")):  # absolute form (via a proxy)
            return raw
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~%")
        query = environ.get("QUERY_STRING", "")
        return f"{request.scheme}://{request.host}{environ.get('SCRIPT_NAME', '')}{path}" + (f"?{query}" if query else "")

    def _base(self, request: Request) -> str:
        """The absolute base URL of answers, ending in "/": `--base-url`, else the Host as
        sent. Not werkzeug's host_url: an IRI, which turns an xn-- name the client sent into
        Unicode it never sent."""
        if self.base_url:
            return self.base_url
        root = quote(request.root_path.rstrip("/"), safe="/!$&'()*+,;=:@%")
        return f"{request.scheme}://{request.host}{root}/"

    def _match(self, request: Request) -> tuple[Route, dict]:
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            return adapter.match(path, method=request.method)
        except MethodNotAllowed as exc:
            allowed = self._allowed(adapter, path, exc.valid_methods or ())
            raise ApiError(405, "Method Not Allowed",
                           f"{request.method} is not supported on {request.path}; allowed: {', '.join(allowed)}",
                           headers={"Allow": ", ".join(allowed)}) from None
        except NotFound:
            raise ApiError(404, "Not Found", self._near_miss(request.path)) from None

    @staticmethod
    def _allowed(adapter, path: str, methods) -> list[str]:
        """The methods this URL supports: not those whose route exists only to refuse."""
        allowed = set()
        for method in set(methods) - {"HEAD"}:
            route, _ = adapter.match(path, method=method)
            if not route.refuses:
                allowed.add(method)
        if "GET" in allowed:
            allowed.add("HEAD")
        return sorted(allowed)

    def allowed_methods(self, path: str) -> list[str]:
        """For handlers that refuse by design and must name what is allowed instead."""
        adapter = self.url_map.bind("localhost")
        return self._allowed(adapter, path, adapter.allowed_methods(path))

    def _near_miss(self, path: str) -> str:
        """Name the closest routes, so a typo in a client's URL is obvious.

        Anyone may send an unknown path unsigned, so the hint's work is bounded whatever
        the path (near_miss.py); the path is echoed cut to 200 characters."""
        from . import near_miss

        shown = path if len(path) <= 200 else path[:200] + "…"
        hints = "; ".join(f"{methods} {template}" for methods, template in near_miss.closest(path))
        return f"no route for {shown}. Closest: {hints}"

    def _read_body(self, request: Request) -> bytes:
        """The body, at most `max_body` bytes. Over real HTTP the server (server.py) has
        refused a longer one already, from its headers, before reading it; this is the
        same rule for in-process WSGI calls."""
        if request.content_length is not None and request.content_length > self.max_body:
            raise ApiError(413, "Request Entity Too Large",
                           f"body of {request.content_length} bytes; the limit is {self.max_body} bytes")
        try:
            return request.get_data(cache=True)
        except RequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large",
                           f"body of more than {self.max_body} bytes; the limit is {self.max_body} bytes") from None

    def _entry(self, route: Route, request: Request, body: bytes):
        if route.body is None:
            return None
        if not body.strip():
            if route.body_required:
                raise ApiError(400, "No Entry provided", "send an Atom entry as the request body")
            return None
        mimetype = request.mimetype
        if mimetype and mimetype not in XML_TYPES:
            raise ApiError(415, "Unsupported Media Type",
                           f"{mimetype} is not accepted; send application/atom+xml")
        try:
            # RFC 7303 §3.2: the charset parameter decides the encoding (after a byte order mark).
            charset = safe.charset_of(request.headers.get("Content-Type"))
        except safe.UnsupportedCharset as error:
            raise ApiError(415, "Unsupported Media Type", str(error)) from None
        except safe.XMLRejected as error:
            raise ApiError(400, "Bad Request", str(error)) from None
        try:
            root = self.request_schemas.parse_valid(route.body, body, self.max_depth, charset)
            if root is not None:
                return root
            # Refused by the schema: parsed again, to say first what is missing, then why.
            root = safe.parse(body, self.max_depth, charset)
            incoming.require_payload(route.body, root)
            self.request_schemas.validate(route.body, root)
        except MissingClient as error:
            raise ApiError(400, "No Entry provided", str(error)) from None
        except safe.XMLRejected as error:
            raise ApiError(400, "Bad Request", str(error)) from None
        return root


class DropConnection(Exception):
    """A fault asked for the connection to be closed without an answer."""


def _truncated(response: Response) -> Response:
    """The response with its full Content-Length but only half the body: the server then
    closes the connection, and the client reads an incomplete message."""
    body = response.get_data()
    half = body[: max(1, len(body) // 2)]

    def chunks():
        yield half
    truncated = Response(chunks(), status=response.status, headers=list(response.headers.items()))
    truncated.headers["Content-Length"] = str(max(len(body), len(half) + 1))
    return truncated


def make_app(fixtures: FixtureSet | str = "demo", **options) -> FakeApp:
    return FakeApp(fixtures, **options)

