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
restart (persistence.py). The nonce budget of one fake (100,000) is shared out instead:
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
"""
from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict
from datetime import datetime, timezone

from ocss_testkit.answers import ApiError, shown
from ocss_testkit.app import FakeApp
from ocss_testkit.persistence import StateDir, StateFileError
from ocss_testkit.request_log import log_request
from ocss_testkit.routes import build_map
from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.fixtures import FixtureSet, available_sets

log = logging.getLogger("ocss_testkit")

PREFIX = "/t/"
TENANT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
DEFAULT_MAX_TENANTS = 256
DEFAULT_TENANT_IDLE = 3600  # seconds
NONCE_BUDGET = 100_000  # one fake's nonce store (auth.NonceStore), shared out among tenants
MIN_TENANT_NONCES = 1_000
FULL_RETRY_AFTER = 60  # seconds a full server asks for when no tenant will go idle by itself
_SIZE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def name_problem(name: str) -> str | None:
    """Why `name` is not a tenant name, as a sentence; None for a good one."""
    if not name:
        return "the tenant name is missing: use /t/{tenant}/… with a name of 1 to 64 letters, digits, '_', '.' or '-'"
    if name in (".", "..") or not TENANT_NAME.fullmatch(name):
        try:  # PEP 3333: PATH_INFO holds the URL's bytes as latin-1; say the name as sent
            name = name.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
        return (f"{shown(name)} is not a tenant name: use 1 to 64 letters, digits, '_', '.' or '-' "
                "(not '.' or '..'), e.g. ci-job-42")
    if name == "_fake":  # /t/_fake/… is a typo for /_fake/…, never a tenant
        return "'_fake' is reserved: the server's own control plane is /_fake/…, a tenant's /t/{tenant}/_fake/…"
    return None


def _routed(path: str) -> bool:
    """Whether `path` (below a tenant's prefix) matches any route, by any method: a
    request that routes nowhere must not make a tenant (and take a place) for its 404."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    adapter = build_map().bind("localhost")
    return any(adapter.test(path or "/", method) for method in ("GET", "POST", "PUT", "PATCH", "DELETE"))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Tenant:
    """One tenant: its fake (None while it is being built, or if building failed) and
    its use. `in_flight`, `requests` and `last_use` change under the registry's lock."""
    __slots__ = ("name", "app", "state_file", "requests", "in_flight", "last_use", "ready", "problem")

    def __init__(self, name: str, now: float, app: FakeApp | None = None, state_file=None) -> None:
        self.name = name
        self.app = app
        self.state_file = state_file
        self.requests = 0
        self.in_flight = 0
        self.last_use = now  # the registry's monotonic clock
        self.ready = threading.Event()
        self.problem = ""
        if app is not None:
            self.ready.set()


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
                 clock=time.monotonic, wall=time.time, **app_options) -> None:
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
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._tenants: OrderedDict[str, Tenant] = OrderedDict()  # least recently used first
        self._fixture_sets = {self.default.fixtures.name: self.default.fixtures}
        self._ids = itertools.count(1)
        self.state_dir: StateDir | None = None
        if state_dir is not None:
            self.state_dir = StateDir(state_dir).open()
            try:
                self._load_all()
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
        if not (path == PREFIX[:-1] or path.startswith(PREFIX)):
            return self.default(environ, start_response)
        started = time.perf_counter()
        name, slash, rest = path[len(PREFIX):].partition("/")
        try:
            problem = name_problem(name)
            if problem:
                raise ApiError(400, "Bad Request", problem)
            if self.tenant(name) is None and not _routed(slash + rest):
                raise ApiError(404, "Not Found",  # the near-miss hint, as inside a tenant
                               f"{self.default._near_miss(slash + rest)} (no tenant is made for a request that "
                               "routes nowhere)")
            tenant = self._enter(name)
        except ApiError as error:
            request_id = f"t{next(self._ids)}"
            response = error.response(request_id)
            log_request(request_id, environ.get("REQUEST_METHOD", ""), environ.get("SCRIPT_NAME", "") + path,
                        response.status, started, None)
            return response(environ, start_response)
        try:
            inner = dict(environ)
            inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + name
            inner["PATH_INFO"] = slash + rest
            return tenant.app(inner, start_response)
        finally:
            self._leave(tenant)

    # --- Python -------------------------------------------------------------------------
    def tenant(self, name: str) -> FakeApp | None:
        """The tenant's FakeApp, or None (this does not create it)."""
        with self._lock:
            tenant = self._tenants.get(name)
        return tenant.app if tenant is not None else None

    def names(self) -> list[str]:
        """The tenants, by name (the default tenant is not one)."""
        with self._lock:
            return sorted(name for name, tenant in self._tenants.items() if tenant.app is not None)

    def sweep(self) -> list[str]:
        """Drop the tenants idle for longer than `tenant_idle` now (each request does it
        too); returns their names."""
        with self._lock:
            return [tenant.name for tenant in self._sweep(self._clock())]

    def close(self) -> None:
        """Close every tenant's state file and release the state folder (after the last
        request; the tenants stay in memory)."""
        with self._lock:
            tenants = list(self._tenants.values())
        for tenant in tenants:
            if tenant.state_file is not None:
                tenant.state_file.close()
        if self.state_dir is not None:
            self.state_dir.close()

    # --- the control plane (control/tenants.py) -----------------------------------------
    def listing(self, base: str) -> dict:
        """Every tenant (module doc of control/tenants.py) after dropping idle ones;
        `base` is the server's base URL, ending in "/"."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            tenants = sorted((t for t in self._tenants.values() if t.app is not None), key=lambda t: t.name)
            rows = [(t, t.app, t.requests, t.in_flight, t.last_use) for t in tenants]
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
        while True:
            with self._lock:
                now = self._clock()
                self._sweep(now)
                old = self._tenants.get(name)
                if old is None or old.ready.is_set():
                    if old is None:
                        self._check_room(name, now)
                    state_file = self._replace_file(name, old, app)
                    if old is not None and old.app is not None:
                        old.app.retire()  # its requests in flight end as stale ones
                    tenant = Tenant(name, now, app, state_file)
                    self._tenants[name] = tenant
                    self._tenants.move_to_end(name)
                    break
            old.ready.wait()  # another request is building it: replace what it built
        entry = self._entry(base, name, app, 0, 0, 0.0, self._wall())
        return entry, old is None or old.app is None

    def drop(self, name: str) -> None:
        """Drop the tenant and delete its state file. Requests still in flight in it end in
        its old world, which nothing sees any more, unjournaled; an API request among them
        answers 409 (FakeApp.retire). Raises ApiError: 400 a bad name, 404 no
        such tenant, 503 a state file that cannot be deleted."""
        problem = name_problem(name)
        if problem:
            raise ApiError(400, "Bad Request", problem)
        while True:
            with self._lock:
                tenant = self._tenants.get(name)
                if tenant is None or (tenant.ready.is_set() and tenant.app is None):
                    raise ApiError(404, "Not Found", f"no tenant {shown(name)}; GET /_fake/tenants lists them")
                if tenant.ready.is_set():
                    del self._tenants[name]
                    try:
                        self._retire([tenant])
                    except StateFileError as exc:
                        raise ApiError(503, "Service Unavailable",
                                       f"tenant {name!r} is dropped, but {exc}; it comes back at the next "
                                       "start unless the file is deleted") from None
                    return
            tenant.ready.wait()

    # --- inside -------------------------------------------------------------------------
    def _enter(self, name: str) -> Tenant:
        """The tenant a request goes to, counted in flight until `_leave`; created on first use."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            tenant = self._tenants.get(name)
            build = tenant is None
            if build:
                self._check_room(name, now)
                tenant = self._tenants[name] = Tenant(name, now)
            else:
                self._tenants.move_to_end(name)
            tenant.in_flight += 1
            tenant.requests += 1
            tenant.last_use = now
        if build:
            self._build(tenant)
        else:
            tenant.ready.wait()
        if tenant.app is None:  # building it failed (here or in the request that began it)
            self._leave(tenant)
            raise ApiError(503, "Service Unavailable", tenant.problem)
        return tenant

    def _leave(self, tenant: Tenant) -> None:
        with self._lock:
            tenant.in_flight -= 1
            tenant.last_use = self._clock()
            if self._tenants.get(tenant.name) is tenant:
                self._tenants.move_to_end(tenant.name)

    def _build(self, tenant: Tenant) -> None:
        """Build a tenant on first use, outside the registry's lock (its state file is
        written, and fsynced, on the way); requests for it meanwhile wait for `ready`."""
        try:
            app = self._new_app(tenant.name, self.default.fixtures)
            state_file = None
            if self.state_dir is not None:
                state_file = self.state_dir.state_file(tenant.name).install(app)
        except Exception as exc:  # noqa: BLE001 - every request for it gets the sentence, none hangs
            if not isinstance(exc, (StateFileError, DomainError, OSError)):
                log.exception("building tenant %r", tenant.name)
            tenant.problem = f"tenant {tenant.name!r} cannot be created: {' '.join(str(exc).splitlines())}"
            with self._lock:
                if self._tenants.get(tenant.name) is tenant:
                    del self._tenants[tenant.name]
        else:
            tenant.app, tenant.state_file = app, state_file
        finally:
            tenant.ready.set()

    def _new_app(self, name: str, fixture_set: FixtureSet) -> FakeApp:
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
        with self._lock:
            return self._fixture_sets.setdefault(ref, loaded)

    def _check_room(self, name: str, now: float) -> None:
        """Raises the 503 for a new tenant when the server is full (lock held, after a sweep)."""
        if len(self._tenants) < self.max_tenants:
            return
        if self.tenant_idle:
            waits = [t.last_use + self.tenant_idle - now for t in self._tenants.values() if not t.in_flight]
            retry = max(1, math.ceil(min(waits) if waits else self.tenant_idle))
            why = (f"all in use (a request in flight, or one within the last {self.tenant_idle:g} s, "
                   "--tenant-idle)")
        else:
            retry = FULL_RETRY_AFTER
            why = "kept until dropped (--tenant-idle 0)"
        raise ApiError(503, "Service Unavailable",
                       f"no room for tenant {name!r}: the server holds its maximum of {self.max_tenants} tenants "
                       f"(--max-tenants), {why}; retry after {retry} s, or drop one with "
                       "DELETE /_fake/tenants/{tenant}", headers={"Retry-After": str(retry)})

    def _sweep(self, now: float) -> list[Tenant]:
        """Drop tenants idle for `tenant_idle` seconds, least recently used first, never one
        with a request in flight (lock held)."""
        if not self.tenant_idle:
            return []
        idle = []
        for tenant in self._tenants.values():  # least recently used first
            if now - tenant.last_use < self.tenant_idle:
                break
            if not tenant.in_flight and tenant.app is not None:
                idle.append(tenant)
        for tenant in idle:
            del self._tenants[tenant.name]
        try:
            self._retire(idle)
        except StateFileError as exc:
            log.warning("dropping idle tenants: %s", exc)
        return idle

    def _retire(self, tenants: list[Tenant]) -> None:
        """Close the state files of tenants no longer registered (lock held: a tenant of
        the same name cannot be created meanwhile) and delete them. Their requests still
        in flight end in their own worlds as stale ones (FakeApp.retire: not journaled, an
        API request answers 409); their saves are ignored (StateFile.retire)."""
        for tenant in tenants:
            if tenant.app is not None:
                tenant.app.retire()
            if tenant.state_file is not None:
                tenant.state_file.retire()
        if self.state_dir is not None and tenants:
            self.state_dir.remove([t.name for t in tenants if t.state_file is not None])

    def _replace_file(self, name: str, old: Tenant | None, app: FakeApp):
        """The state file of a tenant that replaces `old` (lock held): written over the old
        one, whose requests in flight can no longer write to it."""
        if self.state_dir is None:
            return None
        if old is not None and old.state_file is not None:
            old.state_file.retire()
        try:
            return self.state_dir.state_file(name).install(app, fresh=True)
        except StateFileError as exc:
            if old is not None:  # its file is closed: keeping it would lose its writes
                del self._tenants[name]
            raise ApiError(503, "Service Unavailable",
                           f"tenant {name!r} cannot be written: {' '.join(str(exc).splitlines())}"
                           + ("; the tenant it would replace is dropped (its last state stays in its file)"
                              if old is not None else "")) from None

    def _load_all(self) -> None:
        """Every tenant of the state folder, at start."""
        names = []
        for name in self.state_dir.names():
            if name_problem(name):
                log.warning("state folder %s: %s.state is not a tenant's file (not a tenant name); left alone",
                            self.state_dir.path, name)
            else:
                names.append(name)
        if len(names) > self.max_tenants:
            raise StateFileError(f"state folder {self.state_dir.path}: holds {len(names)} tenants, more than "
                                 f"the limit of {self.max_tenants} (--max-tenants)")
        now = self._clock()
        for name in names:
            app = self._new_app(name, self.default.fixtures)
            state_file = self.state_dir.state_file(name).install(app)
            self._tenants[name] = Tenant(name, now, app, state_file)

    def _entry(self, base: str, name: str, app: FakeApp, requests: int, in_flight: int, idle: float,
               wall: float) -> dict:
        with app.world.lock:
            size = len(_SIZE_JSON.encode(app.world.to_dict()).encode("utf-8"))
        return {"name": name, "url": f"{base}t/{name}/", "fixtures": app.fixtures.name, "requests": requests,
                "in_flight": in_flight, "last_use": _iso(wall - idle), "idle_seconds": round(idle, 3),
                "size_bytes": size}
