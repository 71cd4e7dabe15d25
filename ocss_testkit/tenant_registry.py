"""The named tenants of a standalone fake: who is registered, in use, idle, or gone.

A TenantRegistry (tenants.py's TenantsApp holds one) keeps the tenants least recently
used first, at most `max_tenants` of them, and drops those idle for `tenant_idle` seconds
(0: never), never one with a request in flight. A tenant is built on first use outside the
registry's lock, while the requests for it wait; with a state folder every tenant keeps
its state in `DIR/{tenant}.state` (persistence.StateDir), written when the tenant is made
and deleted when it is dropped. Refusals are ApiErrors: 503 for a full server (with
Retry-After) or a state file that cannot be written or deleted, 404 for no such tenant.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from ocss_testkit.answers import ApiError, shown
from ocss_testkit.app import FakeApp
from ocss_testkit.persistence import StateDir, StateFile, StateFileError
from ocss_testkit.tenant_paths import name_problem
from ocss_testkit.world.errors import DomainError

log = logging.getLogger("ocss_testkit")

FULL_RETRY_AFTER = 60  # seconds a full server asks for when no tenant will go idle by itself


class Tenant:
    """One tenant: its fake (None while it is being built, or if building failed) and
    its use. `in_flight`, `requests` and `last_use` change under the registry's lock."""
    __slots__ = ("name", "app", "state_file", "requests", "in_flight", "last_use", "ready", "problem")

    def __init__(self, name: str, now: float, app: FakeApp | None = None, state_file: StateFile | None = None) -> None:
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


# A tenant's row in the listing: (tenant, its app, requests, in flight, last use).
Row = tuple[Tenant, FakeApp, int, int, float]


class TenantRegistry:
    """The tenants by name (module doc). `make_app(name)` builds a tenant's FakeApp from
    the server's fixture set (on first use, and for the state folder's tenants at start);
    `clock` is the monotonic clock idleness is measured on, in seconds."""

    def __init__(self, make_app: Callable[[str], FakeApp], max_tenants: int, tenant_idle: float,
                 state_dir: StateDir | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._make_app = make_app
        self.max_tenants = max_tenants
        self.tenant_idle = tenant_idle
        self.state_dir = state_dir
        self._clock = clock
        self._lock = threading.Lock()
        self._tenants: OrderedDict[str, Tenant] = OrderedDict()  # least recently used first

    # --- reading --------------------------------------------------------------------------
    def app(self, name: str) -> FakeApp | None:
        """The tenant's FakeApp, or None (this does not create it)."""
        with self._lock:
            tenant = self._tenants.get(name)
        return tenant.app if tenant is not None else None

    def names(self) -> list[str]:
        """The tenants, by name."""
        with self._lock:
            return sorted(name for name, tenant in self._tenants.items() if tenant.app is not None)

    def rows(self) -> tuple[float, list[Row]]:
        """(now, every built tenant's row by name) after dropping idle ones."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            rows = [(t, t.app, t.requests, t.in_flight, t.last_use) for t in self._tenants.values()
                    if t.app is not None]
        return now, sorted(rows, key=lambda row: row[0].name)

    def sweep(self) -> list[str]:
        """Drop the tenants idle for longer than `tenant_idle` now; returns their names."""
        with self._lock:
            return [tenant.name for tenant in self._sweep(self._clock())]

    def close_state_files(self) -> None:
        """Close every tenant's state file (the tenants stay in memory)."""
        with self._lock:
            tenants = list(self._tenants.values())
        for tenant in tenants:
            if tenant.state_file is not None:
                tenant.state_file.close()

    # --- a request's tenant ---------------------------------------------------------------
    def enter(self, name: str) -> Tenant:
        """The tenant a request goes to, counted in flight until `leave`; created on first use.
        Raises ApiError 503 when the server is full or building the tenant failed."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            found = self._tenants.get(name)
            build = found is None
            if found is None:
                self._check_room(name, now)
                tenant = self._tenants[name] = Tenant(name, now)
            else:
                tenant = found
                self._tenants.move_to_end(name)
            tenant.in_flight += 1
            tenant.requests += 1
            tenant.last_use = now
        if build:
            self._build(tenant)
        else:
            tenant.ready.wait()
        if tenant.app is None:  # building it failed (here or in the request that began it)
            self.leave(tenant)
            raise ApiError(503, "Service Unavailable", tenant.problem)
        return tenant

    def leave(self, tenant: Tenant) -> None:
        with self._lock:
            tenant.in_flight -= 1
            tenant.last_use = self._clock()
            if self._tenants.get(tenant.name) is tenant:
                self._tenants.move_to_end(tenant.name)

    def _build(self, tenant: Tenant) -> None:
        """Build a tenant on first use, outside the registry's lock (its state file is
        written, and fsynced, on the way); requests for it meanwhile wait for `ready`."""
        try:
            app = self._make_app(tenant.name)
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

    # --- the control plane ----------------------------------------------------------------
    def install(self, name: str, app: FakeApp) -> bool:
        """Register `app`, built already, as the tenant `name`, replacing the tenant of that
        name if there is one (its requests in flight end as stale ones); whether it is new.
        Raises ApiError 503 for no room or a state file that cannot be written."""
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
                    self._tenants[name] = Tenant(name, now, app, state_file)
                    self._tenants.move_to_end(name)
                    return old is None or old.app is None
            old.ready.wait()  # another request is building it: replace what it built

    def remove(self, name: str) -> None:
        """Drop the tenant and delete its state file. Raises ApiError: 404 no such tenant,
        503 a state file that cannot be deleted."""
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

    def load_all(self) -> None:
        """Every tenant of the state folder, at start. Raises StateFileError when it holds
        more than `max_tenants`, or a file that cannot be loaded."""
        state_dir = self.state_dir
        if state_dir is None:
            return
        names = []
        for name in state_dir.names():
            if name_problem(name):
                log.warning("state folder %s: %s.state is not a tenant's file (not a tenant name); left alone",
                            state_dir.path, name)
            else:
                names.append(name)
        if len(names) > self.max_tenants:
            raise StateFileError(f"state folder {state_dir.path}: holds {len(names)} tenants, more than "
                                 f"the limit of {self.max_tenants} (--max-tenants)")
        now = self._clock()
        for name in names:
            app = self._make_app(name)
            state_file = state_dir.state_file(name).install(app)
            self._tenants[name] = Tenant(name, now, app, state_file)

    # --- with the lock held ---------------------------------------------------------------
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

    def _replace_file(self, name: str, old: Tenant | None, app: FakeApp) -> StateFile | None:
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
