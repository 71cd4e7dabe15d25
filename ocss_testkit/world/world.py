"""The mutable state of one simulated SyncServer: the parts every API shares (the phones
database, the virtual clock, the users, the outbox, the clients of every kind) and one
service object per API, composed.

A World is a plain object: make as many as you like (one per server, per test session,
per tenant). Resetting a server swaps in a fresh World built from its fixture set; the
phones database is shared between all of them and never copied.

Every public method that touches state must be called with ``world.lock`` held; the
HTTP layer holds it for the whole of each request, which makes every request atomic.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ocss_testkit.services.activesync.state import ActiveSyncService
from ocss_testkit.services.clients.state import BindingsService
from ocss_testkit.services.datastore.state import DatastoreService
from ocss_testkit.services.gdata.state import GDataService
from ocss_testkit.services.oauth.state import DEFAULT_ISSUED_TOKEN_LIMIT, DEFAULT_REQUEST_TOKEN_LIMIT, TokensService
from ocss_testkit.services.phones.database import PhonesDB
from ocss_testkit.services.phones.state import DEFAULT_CODE_LIFETIME, DEFAULT_DETECTION_LIMIT, DetectionService
from ocss_testkit.services.syncml.sessions import DEFAULT_CHATLOG_LIMIT, SyncMLSessions
from ocss_testkit.services.syncml.state import SyncMLService
from ocss_testkit.world import state as state_document
from ocss_testkit.world.clients import Clients
from ocss_testkit.world.clock import VirtualClock
from ocss_testkit.world.outbox import DEFAULT_OUTBOX_LIMIT, Outbox
from ocss_testkit.world.service import Service, Slice
from ocss_testkit.world.simulated_phones import SimulatedPhones
from ocss_testkit.world.users import User
from ocss_testkit.world.versioned_lock import VersionedLock

__all__ = ["World", "User"]


# The services of every World, in the order a state document loads them.
SERVICE_CLASSES: tuple[type[Service], ...] = (
    Outbox, Clients, GDataService, SyncMLService, SyncMLSessions, ActiveSyncService, DatastoreService,
    BindingsService, DetectionService, SimulatedPhones, TokensService)


def state_slices() -> tuple[Slice, ...]:
    """Every member of the state document a service owns, in load order (what persistence
    needs to read a state file without building a World)."""
    return tuple(s for cls in SERVICE_CLASSES for s in cls.slices)


class World:
    """The services, in the order a state document loads them (`services`): `outbox`,
    `clients` (every kind, by uuid), `gdata`, `syncml`, `syncml_sessions`, `activesync`,
    `datastore`, `bindings`, `detection`, `simulated_phones`, `tokens`.

    Everything that grows with traffic is bounded: the outbox and the setup records
    (`outbox_limit`, oldest dropped first), sessions and chatlog (`chatlog_limit`),
    detections and OAuth request tokens (purged once expired on the virtual clock, and at
    most `detection_limit` / `request_token_limit` live ones, oldest dropped first), the
    numbers auto detection learned, access tokens issued by the three-legged flow
    (`issued_token_limit`, oldest revoked), and the phones' states and scheduled actions,
    which follow the outbox (simulated_phones.py, `tidy`).

    Kept on purpose: clients, bindings and datastore contents are what users made, not
    traffic, and a deleted item's tombstone is what tells a client syncing `since` an
    older time to delete it (dropping it would make that client miss a change).
    """

    def __init__(self, phones: PhonesDB, users: list[User], consumers: dict[str, str],
                 clock: VirtualClock | None = None, outbox_limit: int = DEFAULT_OUTBOX_LIMIT,
                 chatlog_limit: int = DEFAULT_CHATLOG_LIMIT, settings: dict[str, Any] | None = None,
                 detection_limit: int = DEFAULT_DETECTION_LIMIT,
                 request_token_limit: int = DEFAULT_REQUEST_TOKEN_LIMIT,
                 issued_token_limit: int = DEFAULT_ISSUED_TOKEN_LIMIT) -> None:
        # Its `version` moves whenever anyone takes it: the response cache's test of change.
        self.lock = VersionedLock()
        self.phones = phones
        self.clock = clock or VirtualClock()
        self.settings: dict[str, Any] = {"detection_code_lifetime": DEFAULT_CODE_LIFETIME, **(settings or {})}
        self.consumers = dict(consumers)
        self.users = {u.name: u for u in users}
        self.users_by_token = {u.token: u for u in users}
        self.outbox = Outbox(self, outbox_limit)
        self.clients = Clients(self)
        self.gdata = GDataService(self)
        self.syncml = SyncMLService(self, setup_limit=outbox_limit)  # bounded as the outbox is
        self.syncml_sessions = SyncMLSessions(self, chatlog_limit)
        self.activesync = ActiveSyncService(self)
        self.datastore = DatastoreService(self)
        self.bindings = BindingsService(self)
        self.detection = DetectionService(self, detection_limit)
        self.simulated_phones = SimulatedPhones(self)
        self.tokens = TokensService(self, request_token_limit, issued_token_limit)
        # In SERVICE_CLASSES' order, each found by its `name` (its attribute here): one
        # listed there but not made above fails at once; one not listed,
        # tests/world/test_services.py names.
        self.services: tuple[Service, ...] = tuple(getattr(self, cls.name) for cls in SERVICE_CLASSES)
        self._kinds = {kind: s for s in self.services for kind in s.client_kinds}

    # --- the composition ---------------------------------------------------------------
    def kind_service(self, kind: str) -> Service:
        """The service that owns clients of `kind` (KeyError for none)."""
        return self._kinds[kind]

    def client_kinds(self) -> tuple[str, ...]:
        return tuple(self._kinds)

    def slices(self) -> Iterator[tuple[Service, Slice, Any]]:
        """Every slice of the state document the services own, with its service and the
        field holding it (persistence.py follows their changes)."""
        for service in self.services:
            for s, container in service.containers():
                yield service, s, container

    # --- change tracking (the persistence package) --------------------------------------------------
    def track_changes(self) -> None:
        """From now on, record the keys of the keyed slices that requests touch."""
        for _, s, container in self.slices():
            if s.shape == "keyed":
                container.touched = set()

    def take_changes(self) -> dict[str, set[Any]]:
        """The keys touched per keyed slice (by name) since the last call (or `track_changes`)."""
        changes = {}
        for _, s, container in self.slices():
            if s.shape == "keyed" and container.touched:
                changes[s.name], container.touched = container.touched, set()
        return changes

    # --- the state document ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole state as one JSON document (state.py); `World.from_dict` reverses it."""
        return state_document.dump(self)

    @classmethod
    def from_dict(cls, data: Any, phones: PhonesDB, **options: Any) -> World:
        """A World from a state document; Invalid naming the JSON Pointer of the first problem."""
        return state_document.load(data, phones, cls, **options)

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for c in self.clients.values():
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        return {"users": len(self.users), "clients": kinds, "outbox": len(self.outbox),
                "setups": len(self.syncml.setups), "sessions": len(self.syncml_sessions.sessions),
                "clock": self.clock.as_dict()}
