"""Tenants: one standalone fake for many CI jobs, each in a world of its own.

`ocss-fake serve` serves a TenantsApp: a WSGI layer in front of FakeApps. A path under
`/t/{tenant}/` goes to that tenant's own FakeApp, every other path to the default tenant,
which is the fake exactly as it is without tenants. The prefix moves from PATH_INFO to
SCRIPT_NAME (PEP 3333, "environ Variables"), so under it everything behaves as at the
root: routes, the journal and fault rules see `/v2/…` and `/_fake/…`, while ids and
links carry the tenant's base URL (`http://host/t/{tenant}/`) and OAuth verifies the URL
the client signed, prefix included (RFC 5849 §3.4.1.2).

A tenant is a FakeApp: its own World (state, virtual clock, outbox, simulated phones),
request journal, fault rules and OAuth nonce store, built on first use from the server's
fixture set, or by `PUT /_fake/tenants/{tenant}` from a named set or a state document.
What is read-only is shared: the parsed fixture sets and the phones database, the
compiled request schemas, the route map and the rendered phones feeds. An idle demo
tenant costs a few tens of KiB (benchmarks/README.md, "Tenants").

The nonce store stays per tenant, although sharing one would save a little: a signature
covers the tenant's URL, so a nonce cannot be replayed across tenants anyway; a shared,
bounded store would let one tenant's traffic push out another's nonces (and with them its
replay protection); and each tenant's state file keeps its own tenant's nonces across a
restart (the persistence package). The nonce budget of one fake (100,000) is shared out instead:
each tenant keeps `max(1000, 100000 // max_tenants)`.

Rules (`GET /_fake/tenants` lists them, `DELETE /_fake/tenants/{tenant}` drops one):
- a name is 1 to 64 of `A-Z a-z 0-9 _ . -`, not `.` or `..`; anything else is a 400;
- at most `max_tenants`; tenants unused for `tenant_idle` seconds are dropped, least
  recently used first (0: never). When the server is full, a new tenant gets 503 with
  Retry-After; a tenant in use (a request in flight, or one within the idle window) is
  never evicted for it;
- with a state folder (`--state-dir`, persistence.StateDir) every tenant keeps its state
  in `DIR/{tenant}.state` with the guarantees of `--state-file`; a restart brings every
  tenant back (as the server's fixture set's tenant: a reset then goes to that set), and
  dropping a tenant deletes its file.

The front is here; the URL rules are in tenant_paths.py and the registry (room, idleness,
building, state files) in tenant_registry.py.
"""
from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from ocss_testkit.answers import ApiError, shown
from ocss_testkit.app import FakeApp
from ocss_testkit.persistence import StateDir
from ocss_testkit.request_log import log_request
from ocss_testkit.route_matching import near_miss
from ocss_testkit.tenant_paths import PREFIX, TENANT_NAME, name_problem, routes_somewhere, tenant_path
from ocss_testkit.tenant_registry import FULL_RETRY_AFTER, Tenant, TenantRegistry
from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.fixtures import FixtureSet, available_sets

# Names importers have used from this module, now defined where their job is.
__all__ = ["DEFAULT_MAX_TENANTS", "DEFAULT_TENANT_IDLE", "FULL_RETRY_AFTER", "MIN_TENANT_NONCES", "NONCE_BUDGET",
           "PREFIX", "TENANT_NAME", "Tenant", "TenantsApp", "name_problem"]

DEFAULT_MAX_TENANTS = 256
DEFAULT_TENANT_IDLE = 3600  # seconds
NONCE_BUDGET = 100_000  # one fake's nonce store (auth.NonceStore), shared out among tenants
MIN_TENANT_NONCES = 1_000
_SIZE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class TenantsApp:
    """The WSGI app of `ocss-fake serve`: the default tenant (`default`, a FakeApp, served
    at the root) and named tenants under `/t/{tenant}/` (module doc).

    `default` is a FakeApp (made from `app_options` if not given); named tenants copy its
    options (base URL, limits) and its fixture set. `tenant_idle` is in seconds (0: never
    idle); `clock` is the monotonic clock idleness is measured on and `wall` the clock of
    the listing's times (both replaceable in tests). With `state_dir`, the folder is
    opened (locked) and every tenant in it loaded now: raises persistence.StateFileError
    naming the folder or a file that cannot be loaded, and ValueError for bad limits.
    """

    def __init__(self, default: FakeApp | None = None, *, max_tenants: int = DEFAULT_MAX_TENANTS,
                 tenant_idle: float = DEFAULT_TENANT_IDLE, state_dir: str | os.PathLike | None = None,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 **app_options) -> None:
        if not isinstance(max_tenants, int) or max_tenants < 1:
            raise ValueError(f"max_tenants must be a whole number from 1, not {max_tenants!r}")
        if tenant_idle < 0:
            raise ValueError(f"tenant_idle must be 0 (never) or a number of seconds, not {tenant_idle!r}")
        self.default = default if default is not None else FakeApp(**app_options)
        if self.default.tenants is not None:
            raise ValueError("this FakeApp is the default tenant of another TenantsApp already")
        self.max_tenants = max_tenants
        self.tenant_idle = tenant_idle
        self.tenant_nonces = max(MIN_TENANT_NONCES, NONCE_BUDGET // max_tenants)
        self._wall = wall
        self._sets_lock = threading.Lock()
        self._fixture_sets = {self.default.fixtures.name: self.default.fixtures}
        self._ids = itertools.count(1)
        self.state_dir = StateDir(state_dir).open() if state_dir is not None else None
        self._registry = TenantRegistry(lambda name: self._new_app(name, self.default.fixtures), max_tenants,
                                        tenant_idle, self.state_dir, clock)
        try:
            self._registry.load_all()
        except BaseException:
            self.close()
            raise
        self.default.tenants = self

    @property
    def max_body(self) -> int:
        """The body limit of every tenant (the server's parser refuses longer bodies)."""
        return self.default.max_body

    # --- WSGI ---------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        split = tenant_path(path)
        if split is None:
            return self.default(environ, start_response)
        started = time.perf_counter()
        name, rest = split
        try:
            tenant = self._tenant_for(name, rest)
        except ApiError as error:
            request_id = f"t{next(self._ids)}"
            response = error.response(request_id)
            log_request(request_id, environ.get("REQUEST_METHOD", ""), environ.get("SCRIPT_NAME", "") + path,
                        response.status, started, None)
            return response(environ, start_response)
        try:
            inner = dict(environ)
            inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + name
            inner["PATH_INFO"] = rest
            assert tenant.app is not None  # entered: built
            return tenant.app(inner, start_response)
        finally:
            self._registry.leave(tenant)

    def _tenant_for(self, name: str, rest: str) -> Tenant:
        """The tenant a request for `rest` under `/t/{name}` goes to, entered (`leave` it).
        Raises ApiError: 400 a bad name, 404 a new tenant's path that routes nowhere, 503
        no room or a tenant that cannot be built."""
        problem = name_problem(name)
        if problem:
            raise ApiError(400, "Bad Request", problem)
        if self.tenant(name) is None and not routes_somewhere(rest):
            raise ApiError(404, "Not Found",  # the near-miss hint, as inside a tenant
                           f"{near_miss(rest)} (no tenant is made for a request that "
                           "routes nowhere)")
        return self._registry.enter(name)

    # --- Python -------------------------------------------------------------------------
    def record_refusal(self, method: str, path_info: str, query: str, status: int, reason: str, sentence: str,
                       started: float, script_name: str = "") -> str:
        """Journal and log a request the HTTP server refused (FakeApp.record_refusal, same
        arguments) in the app it was meant for: a `/t/{tenant}/…` path in that tenant's
        journal when the tenant exists, as if the request had been read; else the default
        tenant's, the journal of the server as a whole. A refused request never creates a
        tenant: that would change the server's state (and could take the last free place)
        for a request answered without it."""
        app: FakeApp = self.default
        split = tenant_path(path_info)
        if split is not None:
            name, rest = split
            tenant = self.tenant(name) if name else None  # a lookup: never creates one
            if tenant is not None:
                app, script_name, path_info = tenant, script_name + PREFIX + name, rest
        return app.record_refusal(method, path_info, query, status, reason, sentence, started, script_name)

    def tenant(self, name: str) -> FakeApp | None:
        """The tenant's FakeApp, or None (this does not create it)."""
        return self._registry.app(name)

    def names(self) -> list[str]:
        """The tenants, by name (the default tenant is not one)."""
        return self._registry.names()

    def sweep(self) -> list[str]:
        """Drop the tenants idle for longer than `tenant_idle` now (each request does it
        too); returns their names."""
        return self._registry.sweep()

    def close(self) -> None:
        """Close every tenant's state file and release the state folder (after the last
        request; the tenants stay in memory)."""
        self._registry.close_state_files()
        if self.state_dir is not None:
            self.state_dir.close()

    # --- the control plane (control/tenants.py) -----------------------------------------
    def listing(self, base: str) -> dict:
        """Every tenant (module doc of control/tenants.py) after dropping idle ones;
        `base` is the server's base URL, ending in "/"."""
        now, rows = self._registry.rows()
        wall = self._wall()
        entries = [self._entry(base, t.name, app, requests, in_flight, now - last_use, wall)
                   for t, app, requests, in_flight, last_use in rows]
        return {"tenants": entries, "count": len(entries), "max_tenants": self.max_tenants,
                "tenant_idle": self.tenant_idle}

    def put(self, name: str, fixtures: str | FixtureSet | None = None, state: dict | None = None,
            base: str = "/") -> tuple[dict, bool]:
        """Create the tenant `name`, or replace it by a fresh one, from `fixtures` (by name:
        a shipped set or the server's own, never a folder, as names come over HTTP; from
        Python, any FixtureSet), from a whole `state` document, or else from the server's
        fixture set.
        Returns (its listing entry, whether it is new). Raises ApiError: 400 a bad name or
        an unknown set, 422 a state that does not load, 503 no room (with Retry-After) or
        a state file that cannot be written. A refused PUT changes nothing."""
        problem = name_problem(name)
        if problem:
            raise ApiError(400, "Bad Request", problem)
        if state is not None:
            fixture_set = FixtureSet("state document", state, self.default.fixtures.phones)
        elif fixtures is not None:
            fixture_set = self._fixture_set(fixtures)
        else:
            fixture_set = self.default.fixtures
        try:  # built before anything changes: a state that does not load is refused here
            app = self._new_app(name, fixture_set)
        except DomainError as exc:
            raise ApiError(422, "Unprocessable Entity", f"the state does not load: {exc}") from None
        created = self._registry.install(name, app)
        entry = self._entry(base, name, app, 0, 0, 0.0, self._wall())
        return entry, created

    def drop(self, name: str) -> None:
        """Drop the tenant and delete its state file. Requests still in flight in it end in
        its old world, which nothing sees any more, unjournaled; an API request among them
        answers 409 (FakeApp.retire). Raises ApiError: 400 a bad name, 404 no
        such tenant, 503 a state file that cannot be deleted."""
        problem = name_problem(name)
        if problem:
            raise ApiError(400, "Bad Request", problem)
        self._registry.remove(name)

    def _new_app(self, name: str, fixture_set: FixtureSet) -> FakeApp:
        """A tenant's FakeApp, with the default tenant's options and its share of nonces."""
        default = self.default
        app = FakeApp(fixture_set, base_url=f"{default.base_url}t/{name}/" if default.base_url else None,
                      trust_forwarded=default.trust_forwarded, max_body=default.max_body, max_depth=default.max_depth,
                      outbox_limit=default._world_options.get("outbox_limit"), journal_limit=default.journal.limit)
        app.auth.nonces.limit = self.tenant_nonces
        return app

    def _fixture_set(self, ref: str | FixtureSet) -> FixtureSet:
        """A set over HTTP: a shipped set's name or the server's own; parsed once, kept."""
        if isinstance(ref, FixtureSet):
            return ref
        known = self._fixture_sets.get(ref)
        if known is not None:
            return known
        names = sorted(set(available_sets()) | set(self._fixture_sets))
        if ref not in names:
            raise ApiError(400, "Bad Request", f"no fixture set {shown(ref)} on this server; available: "
                                               f"{', '.join(names)}")
        try:
            loaded = FixtureSet.load(ref)
        except ValueError as exc:  # a shipped set that does not load: the installation is broken
            raise ApiError(400, "Bad Request", str(exc)) from None
        with self._sets_lock:
            return self._fixture_sets.setdefault(ref, loaded)

    def _entry(self, base: str, name: str, app: FakeApp, requests: int, in_flight: int, idle: float,
               wall: float) -> dict:
        with app.world.lock:
            size = len(_SIZE_JSON.encode(app.world.to_dict()).encode("utf-8"))
        return {"name": name, "url": f"{base}t/{name}/", "fixtures": app.fixtures.name, "requests": requests,
                "in_flight": in_flight, "last_use": _iso(wall - idle), "idle_seconds": round(idle, 3),
                "size_bytes": size}
