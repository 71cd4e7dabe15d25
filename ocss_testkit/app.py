"""The WSGI application: routing, limits, OAuth, validation, atomic dispatch, errors.

Order of checks for an API request: route (404 with near-miss hints / 405 with Allow),
body size (413), OAuth (401), media type (415), XML hardening and schema (400), then
the handler under the World's lock. Nothing before the handler touches state, so bad
input can never change it.
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from urllib.parse import quote, urlsplit

from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from ocss_testkit import forwarded
from ocss_testkit.answers import ATOM_TYPE, ApiError, AtomResponse, status_line
from ocss_testkit.atom import incoming, safe
from ocss_testkit.atom.incoming import MissingClient
from ocss_testkit.atom.schemas import schemas
from ocss_testkit.auth import Authenticator
from ocss_testkit.faults import Fault, FaultRules
from ocss_testkit.http_rules import SingleValueParams, StrictFormDataParser, host_problem, target_problem
from ocss_testkit.journal import DEFAULT_LIMIT as DEFAULT_JOURNAL_LIMIT
from ocss_testkit.journal import Entry, Journal
from ocss_testkit.request_context import RequestContext
from ocss_testkit.request_log import log_request
from ocss_testkit.response_cache import shared as shared_responses
from ocss_testkit.routes import Route, build_map
from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.fixtures import FixtureSet
from ocss_testkit.world.world import World, known_timezones

log = logging.getLogger("ocss_testkit")

DEFAULT_MAX_BODY = 1024 * 1024
XML_TYPES = ("application/atom+xml", "application/xml", "text/xml")


STALE = ("the fake was reset, or its state replaced, or its tenant dropped, while this request was in flight: "
         "it changed nothing in the world that replaced it; send it again")


class FakeApp:
    """One fake SyncServer. Its state is `self.world`; `reset()` swaps in a fresh one.

    The public URL (what OAuth verifies and what links say): `base_url` when given (an
    absolute http(s) URL, a path prefix allowed: a reverse proxy's public address), else
    with `trust_forwarded` what the proxy says in `Forwarded` (RFC 7239) or
    `X-Forwarded-Proto/Host/Port/Prefix` (forwarded.py), else the request's own Host.
    Both at once raise ValueError: a fixed public URL leaves nothing for a proxy to say.

    Generations: a request belongs to the World current when it began (its fault rule is
    taken, its journal entry kept, its change persisted and its due phone actions run in
    that World only). A request still in flight when `reset`, `replace_state`,
    `patch_state` or `retire` (a dropped tenant) swaps the World runs to its end in the
    discarded one, is not journaled, and an API request answers 409 saying so."""

    def __init__(self, fixtures: FixtureSet | str = "demo", base_url: str | None = None,
                 max_body: int = DEFAULT_MAX_BODY, max_depth: int = safe.DEFAULT_MAX_DEPTH,
                 outbox_limit: int | None = None, journal_limit: int = DEFAULT_JOURNAL_LIMIT,
                 trust_forwarded: bool = False) -> None:
        if base_url and trust_forwarded:
            raise ValueError("give a base URL or trust forwarded headers, not both: a base URL fixes the public "
                             "URL, forwarded headers say it per request")
        self.fixtures = fixtures if isinstance(fixtures, FixtureSet) else FixtureSet.load(fixtures)
        self._world_options = {"outbox_limit": outbox_limit} if outbox_limit else {}
        self.world = self.fixtures.build(**self._world_options)
        self.base_url = forwarded.base_url(base_url) if base_url else None
        self.trust_forwarded = trust_forwarded
        # Held to swap the World (and with it the journal and fault rules) and to bind a
        # request to one: never while waiting for a World's lock, except the new World's
        # before it is published (lock order: a World's lock, then this one).
        self._swap = threading.RLock()
        self._retired = False
        self.max_body = max_body
        self.max_depth = max_depth
        self.url_map = build_map()
        self.auth = Authenticator()
        self.journal = Journal(journal_limit)
        self.faults = FaultRules()
        # Answers of signed GETs kept while the World is unchanged (response_cache.py);
        # None renders every answer.
        self.responses = shared_responses
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
        self._swap_in(self.fixtures.build(**self._world_options), clear=True)

    def _swap_in(self, world, clear: bool = False, replacing=None) -> None:
        """Publish `world`, persisted before anyone can use it; with `replacing`, only if
        that World is still the current one (else 409: another swap came first)."""
        with self._swap, world.lock:  # nobody holds the new World's lock yet: no lock-order cycle
            if replacing is not None and replacing is not self.world:
                raise ApiError(409, "Conflict", "the state was reset or replaced while this patch was applied; "
                                                "nothing was patched: send it again")
            self.world = world
            if clear:
                self.faults.clear()
                self.journal.clear()
            if self.on_change is not None:
                self.on_change(world)

    def _current(self, world) -> bool:
        """Whether `world` is still this fake's generation (ctx with `_swap` held to act on it)."""
        return world is self.world and not self._retired

    def retire(self) -> None:
        """This fake is discarded (a dropped or replaced tenant): its requests still in
        flight end as stale ones (class doc)."""
        with self._swap:
            self._retired = True

    def replace_state(self, data, replacing=None) -> None:
        """Swap in a World loaded from a state document; a bad one changes nothing."""
        try:
            world = World.from_dict(data, self.fixtures.phones, **self._world_options)
        except DomainError as exc:
            raise ApiError(422, "Unprocessable Entity", str(exc)) from None
        self._swap_in(world, replacing=replacing)

    def patch_state(self, operations) -> None:
        """Apply RFC 6902 operations to the state document, then load it: all or nothing.
        Raises ApiError 400 (not a patch, or an operation that cannot be applied), 409 (a
        test operation failed, or the World was swapped meanwhile), 422 (the result does
        not load); a failed operation is named by its index, op and path
        (fixtures.PatchFailed: `operation 0 (test /users/1/name) failed: the value is
        'alice', not 'bob'`)."""
        from ocss_testkit.world.fixtures import PatchFailed, apply_patch

        if not isinstance(operations, list):
            raise ApiError(400, "Bad Request", "a JSON Patch is a list of operations")
        world = self.world
        with world.lock:  # no request may change the state between dump and swap
            try:
                patched = apply_patch(world.to_dict(), operations)
            except PatchFailed as exc:
                if exc.test:
                    raise ApiError(409, "Conflict", str(exc)) from None
                raise ApiError(400, "Bad Request", f"invalid JSON Patch: {exc}") from None
            self.replace_state(patched, replacing=world)

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
        bad_request = host_problem(request.environ) or target_problem(request.environ) or self._public_problem(request)
        with self._swap:  # the World and the fault rule of one generation (class doc)
            world = self.world
            fault = None if control or bad_request else self.faults.take(request.method, request.path)
        try:
            if bad_request:
                raise ApiError(400, "Bad Request", bad_request)
            if fault is not None:
                trace.fault, trace.detail = fault.id, fault.describe()
                trace.injected = fault.action != "delay"
                response = self._faulty(fault, request, trace, world)
            else:
                response = self._dispatch(request, trace, world)
            if not control and not self._current(world):
                raise ApiError(409, "Conflict", STALE)
        except ApiError as error:
            response = error.response(request_id)
            if trace is not None:  # the journal keeps the sentence the client read
                trace.detail = error.detail or None
        except DropConnection:
            self._record(world, trace, 0, "connection dropped", started)
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
            self._record(world, trace, int(status), reason, started)
        # One line per request for whoever listens: request_log.py (the CLI's --log-format).
        # The path with its root (a tenant's /t/{tenant}): one log for every tenant.
        log_request(request_id, request.method, request.root_path + request.path, response.status, started,
                    trace.user if trace is not None else None)
        return response

    def record_refusal(self, method: str, path_info: str, query: str, status: int, reason: str, sentence: str,
                       started: float, script_name: str = "") -> str:
        """Journal and log a request the HTTP server refused before this app ran (server.py:
        body size, framing, request head, target), as `handle` does its own refusals; the
        control plane (`/_fake/…`) is logged only, as there. `path_info`, `query` and
        `script_name` are in their WSGI form (PEP 3333: latin-1 text of the bytes),
        `sentence` is what the client read after `<status> <reason>: `, `started` the
        time.perf_counter() of the refusal. Returns the request id for its X-Request-Id."""
        request_id = f"r{next(self._ids)}"
        request = Request({"REQUEST_METHOD": method, "SCRIPT_NAME": script_name, "PATH_INFO": path_info,
                           "QUERY_STRING": query})  # werkzeug decodes the path as for any request
        if not request.path.startswith("/_fake"):
            self.journal.refused(request_id, request.method, request.path, request.query_string.decode("latin-1"),
                                 status, reason, sentence, started)
        log_request(request_id, request.method, request.root_path + request.path, f"{status} {reason}", started,
                    None)
        return request_id

    def _record(self, world, trace: Entry, status: int, reason: str, started: float) -> None:
        """Journal a request in its own generation's journal only: a fresh journal never
        shows a request that began before the swap."""
        with self._swap:
            if self._current(world):
                self.journal.record(trace, status, reason, started)

    def _faulty(self, fault: Fault, request: Request, trace: Entry, world=None) -> Response:
        """Answer as the fault rule says (faults.py)."""
        if fault.action == "delay":
            time.sleep(fault.delay)
            return self._dispatch(request, trace, world)
        if fault.action == "drop":
            raise DropConnection()
        if fault.action == "garbage":
            return Response(os.urandom(512), status=status_line(fault.status), content_type=ATOM_TYPE)
        if fault.action == "truncate":
            try:
                response = self._dispatch(request, trace, world)
            except ApiError as error:
                response = error.response()
            return _truncated(response)
        reason = fault.reason or HTTP_STATUS_CODES.get(fault.status, "Error")
        raise ApiError(fault.status, reason, fault.body or f"fault {fault.id} injected by the test")

    def _dispatch(self, request: Request, trace: Entry | None = None, world=None) -> Response:
        trace = trace or Entry(0, "", 0.0, request.method, request.path, "")  # not journaled
        # One World for the whole request, the one current when it began (handle), even if
        # a reset swaps it meanwhile (a delay fault sleeps before this).
        world = world if world is not None else self.world
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
        ctx = RequestContext(request, world, user, self._base(request), entry, self)
        response = self._call(route, ctx, world, args)
        if isinstance(response, AtomResponse):
            response.finish()  # serialize outside the lock
        return response

    def _call(self, route: Route, ctx: RequestContext, world, args: dict) -> Response:
        head = ctx.request.method == "HEAD"
        # A cacheable GET takes the lock without moving the World's version (response_cache.py).
        cached = self.responses.reader(route, ctx, world) if self.responses is not None else None
        with world.lock if cached is None else world.lock.reading():
            handler = route.handler
            # HEAD is safe (RFC 9110 §9.2.1, §9.3.2): not one change. A GET that changes
            # state answers HEAD through its side-effect-free peek; one without a peek (the
            # token endpoints, whose answer IS the change) refuses HEAD rather than copy the
            # World per request, which anyone could ask for unsigned. Due phone actions are
            # left for the next other request to run: a HEAD shows the world as it stands.
            if head and route.writes:
                if route.peek is None:
                    raise ApiError(405, "Method Not Allowed",
                                   f"HEAD is not supported on {ctx.request.path}: its GET answer issues "
                                   "credentials, and HEAD never changes state; allowed: GET, POST",
                                   headers={"Allow": "GET, POST"})
                handler = route.peek
            due = len(world.schedule)
            ran = world.run_due() if due and not head else 0  # phone actions whose time has come
            if cached is not None:  # phone actions that ran moved the version: no hit, on_change below
                hit = cached.lookup(changed=bool(ran) or len(world.schedule) != due)
                if hit is not None:
                    return hit
            try:
                response = handler(ctx, **args)
                if cached is not None:
                    cached.store(response)
                changed = not head and (ran or (route.writes and response.status_code < 400))
                if self.on_change is not None and changed:
                    with self._swap:  # a discarded World is never persisted over its successor
                        if self._current(world):
                            self.on_change(world)
                return response
            except DomainError as error:
                status, reason = route.status_for(error)
                raise ApiError(status, reason, str(error)) from None
            except MissingClient as error:  # an entry with nothing in it is no entry (001)
                raise ApiError(400, "No Entry provided", str(error)) from None
            except safe.XMLRejected as error:
                raise ApiError(400, "Bad Request", str(error)) from None

    def _public_problem(self, request: Request) -> str | None:
        """With `trust_forwarded`: read the proxy's headers once (forwarded.py), or say why
        they cannot be used (a 400, before anything else runs)."""
        if not self.trust_forwarded:
            return None
        try:
            request.environ["ocss.public"] = forwarded.public(request.environ)
        except forwarded.ForwardedError as exc:
            return str(exc)
        return None

    def _root(self, request: Request) -> str:
        """The public URL of this fake's root, without a trailing "/" (class doc): the base
        URL, else the trusted proxy's (forwarded.py), else from the Host as sent. Not
        werkzeug's host_url: an IRI, which turns an xn-- name the client sent into Unicode
        it never sent. A tenant's base URL names its own root (`…/t/{tenant}/`)."""
        if self.base_url:
            return self.base_url[:-1]
        if self.trust_forwarded:
            found = request.environ.get("ocss.public")
            if found is None:  # _dispatch called directly, not through handle
                try:
                    found = forwarded.public(request.environ)
                except forwarded.ForwardedError as exc:
                    raise ApiError(400, "Bad Request", str(exc)) from None
            return forwarded.root_url(found, request.root_path)
        root = quote(request.root_path.rstrip("/"), safe="/!$&'()*+,;=:@%")
        return f"{request.scheme}://{request.host}{root}"

    def _signed_uri(self, request: Request) -> str:
        """The URI as the client sent (and signed) it, percent-escapes intact: the public
        root (`_root`) and the request target below this fake's root (RFC 5849 §3.4.1.2).

        werkzeug's `request.url` is an IRI with escapes decoded, which changes the OAuth
        signature base string for any non-ASCII path or query.
        """
        environ = request.environ
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if raw and raw.lower().startswith(("http://", "https://")):  # absolute form (via a proxy)
            if not (self.base_url or self.trust_forwarded):
                return raw
            parts = urlsplit(raw)
            raw = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        script = environ.get("SCRIPT_NAME", "")
        script_sent = quote(script, safe="/!$&'()*+,;=:@%")
        if raw and raw.startswith("/") and (not script or raw.startswith((script, script_sent))):
            below = raw[len(script if raw.startswith(script) else script_sent):]
            return self._root(request) + below
        path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~%")
        query = environ.get("QUERY_STRING", "")
        return self._root(request) + path + (f"?{query}" if query else "")

    def _base(self, request: Request) -> str:
        """The absolute base URL of answers, ending in "/" (`_root`)."""
        return self._root(request) + "/"

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
        from ocss_testkit import near_miss

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

