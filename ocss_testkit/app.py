"""The WSGI application: routing, limits, OAuth, validation and decoding, atomic dispatch,
rendering, errors.

Order of checks for an API request: route (404 with near-miss hints / 405 with Allow),
body size (413), OAuth (401), media type (415), XML hardening, schema and decoding (400),
then the handler under the World's lock, and the route's renderer for the value it
returns. Nothing before the handler touches state, so bad input can never change it.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from ocss_testkit import forwarded, public_url
from ocss_testkit.answers import Answer, ApiError, Prepared, atom, status_line
from ocss_testkit.atom import safe
from ocss_testkit.auth import Authenticator
from ocss_testkit.fault_answers import DropConnection, faulty_answer
from ocss_testkit.faults import Fault, FaultRules
from ocss_testkit.http_rules import SingleValueParams, StrictFormDataParser, host_problem, target_problem
from ocss_testkit.journal import DEFAULT_LIMIT as DEFAULT_JOURNAL_LIMIT
from ocss_testkit.journal import Entry, Journal
from ocss_testkit.request_body import BodyDecoder, read_body, takes_body
from ocss_testkit.request_context import RequestContext
from ocss_testkit.request_log import log_request
from ocss_testkit.response_cache import shared as shared_responses
from ocss_testkit.route_matching import RouteMatcher
from ocss_testkit.routes import CONTROL_ROUTES, ROUTES, Route, build_map
from ocss_testkit.services.syncml.state import known_timezones
from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.fixtures import FixtureSet
from ocss_testkit.world.world import World

if TYPE_CHECKING:
    from ocss_testkit.tenants import TenantsApp

log = logging.getLogger("ocss_testkit")

DEFAULT_MAX_BODY = 1024 * 1024


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
        self.routing = RouteMatcher(build_map())
        self.auth = Authenticator()
        self.journal = Journal(journal_limit)
        self.faults = FaultRules()
        # Answers of signed GETs kept while the World is unchanged (response_cache.py);
        # None renders every answer.
        self.responses = shared_responses
        # Called with the World (its lock held) after every change, before the answer
        # leaves: the place for persistence (a state file) to write what it acknowledges.
        self.on_change: Callable[[World], None] | None = None
        # The tenants this fake is the default tenant of (tenants.TenantsApp), managed by its
        # /_fake/tenants routes; None for a fake of one world.
        self.tenants: TenantsApp | None = None
        self.bodies = BodyDecoder(ROUTES + CONTROL_ROUTES, max_depth)  # schemas compiled now, not on first use
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
        request = ApiRequest(environ)
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

    def handle(self, request: Request) -> Response | Prepared:
        request_id = f"r{next(self._ids)}"
        started = time.perf_counter()
        control = request.path.startswith("/_fake")
        trace = None if control else self.journal.start(request_id, request.method, request.path,
                                                         request.query_string.decode("latin-1"))
        bad_request = self._wire_problem(request)
        with self._swap:  # the World and the fault rule of one generation (class doc)
            world = self.world
            fault = None if control or bad_request else self.faults.take(request.method, request.path)
        try:
            response = self._answer(request, request_id, trace, world, fault, bad_request, control)
        except DropConnection:
            if trace is not None:  # always: a fault (the only drop) is taken for API requests only
                self._record(world, trace, 0, "connection dropped", started)
            log_request(request_id, request.method, request.root_path + request.path, "0 connection dropped",
                        started, trace.user if trace is not None else None)
            raise
        if isinstance(response, Prepared):  # a cached answer's bytes, shared: the id goes beside them
            response.request_id = request_id
        else:
            response.headers["X-Request-Id"] = request_id
        if trace is not None:
            status, _, reason = response.status.partition(" ")
            self._record(world, trace, int(status), reason, started)
        # One line per request for whoever listens: request_log.py (the CLI's --log-format).
        # The path with its root (a tenant's /t/{tenant}): one log for every tenant.
        log_request(request_id, request.method, request.root_path + request.path, response.status, started,
                    trace.user if trace is not None else None)
        return response

    def _wire_problem(self, request: Request) -> str | None:
        """One place for the wire rules, API and control plane alike. A parameter given
        twice is refused when a handler reads it (http_rules.SingleValueParams, set on
        ApiRequest). The Host header is checked first of all (RFC 7230 §5.4), as every
        absolute URL of an answer is built from it and werkzeug's IDNA step raises on a bad
        one; with --base-url too, where URLs do not come from Host: a request's answer does
        not depend on the fake's configuration, and the OAuth signature base string still
        holds Host. Then the path and query must be text (UTF-8, nothing an answer cannot
        hold), before routing, and so must a form body when a handler reads it
        (http_rules.target_problem, StrictFormDataParser): werkzeug would raise, or read
        other text than sent. Then, trusted, the proxy's forwarded headers."""
        if not isinstance(request, ApiRequest):  # a caller's own Request: the same rules
            request.parameter_storage_class = SingleValueParams
            request.form_data_parser_class = StrictFormDataParser
        return (host_problem(request.environ) or target_problem(request.environ)
                or public_url.forwarded_problem(request, self.trust_forwarded))

    def _answer(self, request: Request, request_id: str, trace: Entry | None, world, fault: Fault | None,
                bad_request: str | None, control: bool) -> Response | Prepared:
        """The response to a request, refusals and unexpected errors included (never raises
        but DropConnection)."""
        try:
            if bad_request:
                raise ApiError(400, "Bad Request", bad_request)
            response: Response | Prepared
            if fault is not None:
                assert trace is not None  # a fault is taken for API requests only, which are journaled
                trace.fault, trace.detail = fault.id, fault.describe()
                trace.injected = fault.action != "delay"
                response = faulty_answer(fault, lambda: _werkzeug(self._dispatch(request, trace, world)))
            else:
                response = self._dispatch(request, trace, world)
            if not control and not self._current(world):
                raise ApiError(409, "Conflict", STALE)
            return response
        except ApiError as error:
            if trace is not None:  # the journal keeps the sentence the client read
                trace.detail = error.detail or None
            return error.response(request_id)
        except DropConnection:
            raise
        except Exception:  # noqa: BLE001 - the client gets a request id, never a traceback
            log.exception("unexpected error handling %s %s [%s]", request.method, request.path, request_id)
            failure = ApiError(500, "Internal Server Error",
                               f"unexpected error; the server log has request id {request_id}")
            if trace is not None:
                trace.detail = failure.detail or None
            return failure.response()

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

    def _dispatch(self, request: Request, trace: Entry | None, world: World) -> Response | Prepared:
        """`world`: one World for the whole request, the one current when it began (handle),
        even if a reset swaps it meanwhile (a delay fault sleeps before this)."""
        trace = trace or Entry(0, "", 0.0, request.method, request.path, "")  # control plane: not journaled
        route, args = self.routing.match(request.method, request.path)
        trace.route = route.path
        body = read_body(request, self.max_body)
        root = public_url.root(request, self.base_url, self.trust_forwarded)
        user = self._signed_in(route, request, body, root, world, trace) if route.auth else None
        try:
            decoded = self.bodies.decode(route, request, body)
        except ApiError as error:
            trace.validation = f"{error.reason}: {error.detail}"
            raise
        if takes_body(route, body):
            trace.validation = "ok"
        ctx = RequestContext(request, world, user, root + "/", decoded, self)
        return self._call(route, ctx, world, args)

    def _signed_in(self, route: Route, request: Request, body: bytes, root: str, world, trace: Entry):
        """The user whose OAuth signature the request carries; ApiError 401 saying why not."""
        uri = public_url.signed_uri(request, root, self.base_url, self.trust_forwarded)
        result = self.auth.verify(world, request.method, uri, request.headers, body)
        if result.user is None:
            trace.auth = result.reason
            # verbatim: auth.py bounds every reason itself, and a signature base string
            # must come back whole up to its own bound, not cut in its middle.
            raise ApiError(401, "Unauthorized", result.reason, verbatim=True,
                           headers={"WWW-Authenticate": f'OAuth realm="{root}/"'})
        trace.auth, trace.user = "ok", result.user.name
        return result.user

    def _call(self, route: Route, ctx: RequestContext, world, args: dict) -> Response | Prepared:
        head = ctx.request.method == "HEAD"
        handler = _head_handler(route, ctx) if head and route.writes else route.handler
        # A cacheable GET takes the lock without moving the World's version (response_cache.py).
        cached = self.responses.reader(route, ctx, world) if self.responses is not None else None
        with world.lock if cached is None else world.lock.reading():
            # Due phone actions are left for the next other request to run: a HEAD shows
            # the world as it stands.
            due = len(world.simulated_phones.schedule)
            ran = world.simulated_phones.run_due() if due and not head else 0  # phone actions whose time has come
            if cached is not None:  # phone actions that ran moved the version: no hit, on_change below
                hit = cached.lookup(changed=bool(ran) or len(world.simulated_phones.schedule) != due)
                if hit is not None:
                    return hit
            try:
                response = _rendered(route, ctx, handler(ctx, **args))
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

    # --- the public URL and the route table, for handlers and the tenants' layer ------------
    def signed_uri(self, request: Request, base: str) -> str:
        """The URI the client signed (public_url.signed_uri), for the OAuth token endpoints;
        `base` is the request's public base URL (`ctx.base`), computed once per request."""
        return public_url.signed_uri(request, base[:-1], self.base_url, self.trust_forwarded)

    def allowed_methods(self, path: str) -> list[str]:
        """For handlers that refuse by design and must name what is allowed instead."""
        return self.routing.allowed_methods(path)


class ApiRequest(Request):
    """A request as the fake reads it: a query or form parameter given twice is refused
    when a handler reads it, and a form body must be text (http_rules)."""
    parameter_storage_class = SingleValueParams
    form_data_parser_class = StrictFormDataParser


def _head_handler(route: Route, ctx: RequestContext):
    """The handler of a HEAD on a route that changes state. HEAD is safe (RFC 9110 §9.2.1,
    §9.3.2): not one change. A GET that changes state answers HEAD through its
    side-effect-free peek; one without a peek (the token endpoints, whose answer IS the
    change) refuses HEAD rather than copy the World per request, which anyone could ask
    for unsigned."""
    if route.peek is None:
        raise ApiError(405, "Method Not Allowed",
                       f"HEAD is not supported on {ctx.request.path}: its GET answer issues "
                       "credentials, and HEAD never changes state; allowed: GET, POST",
                       headers={"Allow": "GET, POST"})
    return route.peek


def _werkzeug(response: Response | Prepared) -> Response:
    """A werkzeug Response of the answer, for a fault rule to rework."""
    return response.response() if isinstance(response, Prepared) else response


def _rendered(route: Route, ctx: RequestContext, result) -> Response:
    """A handler's result as a Response: a Response as it is; a value, or an Answer (a
    value with its own status or headers), rendered by the route into an Atom answer."""
    if isinstance(result, Response):
        return result
    if route.render is None:
        raise TypeError(f"{route.method} {route.path}: the handler returned a value, and the route has no renderer")
    answer = result if isinstance(result, Answer) else Answer(result)
    response = atom(route.render(ctx, answer.value), answer.status or route.status)
    for name, value in answer.headers.items():
        response.headers[name] = value
    return response


def make_app(fixtures: FixtureSet | str = "demo", **options) -> FakeApp:
    return FakeApp(fixtures, **options)

