"""The mutable state of one simulated SyncServer, composed of one service per API.

A World is a plain object: make as many as you like (one per server, per test session,
per tenant). Resetting a server swaps in a fresh World built from its fixture set; the
phones database is shared between all of them and never copied.

Every public method that touches state must be called with ``world.lock`` held; the
HTTP layer holds it for the whole of each request, which makes every request atomic.
"""
from __future__ import annotations

import itertools
import uuid as uuidlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from ocss_testkit.services.clients.state import ActiveSyncClient, Binding, ClientsService, DatastoreClient
from ocss_testkit.services.gdata.state import GDataClient, GDataDatastore, GDataService, Token
from ocss_testkit.services.oauth.state import DEFAULT_ISSUED_TOKEN_LIMIT, DEFAULT_REQUEST_TOKEN_LIMIT, TokensService
from ocss_testkit.services.phones.database import Model, PhonesDB
from ocss_testkit.services.phones.detection import (
    DEFAULT_CODE_LIFETIME,
    DEFAULT_DETECTION_LIMIT,
    DEFAULT_HANDSET_LIMIT,
    Detection,
    DetectionService,
)
from ocss_testkit.services.syncml.state import (
    DEFAULT_CHATLOG_LIMIT,
    SetupRecord,
    SyncMLClient,
    SyncMLDatastore,
    SyncMLService,
    known_timezones,
    valid_timezone,
)
from ocss_testkit.world.clock import VirtualClock, iso_z
from ocss_testkit.world.errors import Forbidden, Invalid, NotFound
from ocss_testkit.world.simulated_phones import PhoneService, PhoneState
from ocss_testkit.world.versioned_lock import VersionedLock

DEFAULT_OUTBOX_LIMIT = 1000
_MISSING = object()

__all__ = ["World", "User", "Message", "Token", "GDataDatastore", "GDataClient", "SyncMLClient",
           "SyncMLDatastore", "SetupRecord", "ActiveSyncClient", "DatastoreClient", "Binding", "Detection",
           "PhoneState", "known_timezones", "valid_timezone", "TrackedDict"]


class TrackedDict(dict):
    """A dict that, once `touched` is a set, records every key written, deleted or read.

    Persistence (persistence.py) writes only what changed since its last save. A key read
    through `d[key]` or `d.get(key)` counts as touched because that is how the services
    reach an object they then change in place (a client's `updated`, a detection's
    status); writing one unchanged object again costs little, missing one would lose it.
    Iterating, `in` and `len` touch nothing. Only present keys are recorded, so a stream
    of lookups of unknown keys cannot grow the set; it is emptied by every save.
    """
    __slots__ = ("touched",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.touched: set | None = None

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if self.touched is not None:
            self.touched.add(key)
        return value

    def get(self, key, default=None):
        value = dict.get(self, key, _MISSING)
        if value is _MISSING:
            return default
        if self.touched is not None:
            self.touched.add(key)
        return value

    def __setitem__(self, key, value) -> None:
        dict.__setitem__(self, key, value)
        if self.touched is not None:
            self.touched.add(key)

    def __delitem__(self, key) -> None:
        dict.__delitem__(self, key)
        if self.touched is not None:
            self.touched.add(key)

    def pop(self, key, *default):
        if self.touched is not None and dict.__contains__(self, key):
            self.touched.add(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key, default=None):
        if self.touched is not None:
            self.touched.add(key)
        return dict.setdefault(self, key, default)

    def popitem(self):
        key, value = dict.popitem(self)
        if self.touched is not None:
            self.touched.add(key)
        return key, value

    def update(self, *args, **kwargs) -> None:
        other = dict(*args, **kwargs)
        dict.update(self, other)
        if self.touched is not None:
            self.touched.update(other)

    def clear(self) -> None:
        if self.touched is not None:
            self.touched.update(self.keys())
        dict.clear(self)

    def __ior__(self, other):
        self.update(other)
        return self

    def __reduce__(self):  # copy and pickle as a plain dict: tracking belongs to one World
        return dict, (dict(self),)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    account_id: int
    email: str
    consumer_key: str
    token: str
    token_secret: str
    admin: bool = False
    may_detect_auto: bool = False
    setup_profile: str = "SyncServer"


@dataclass(frozen=True, slots=True)
class Message:
    """Anything that would have reached a phone: an SMS or a WAP push. Nothing is sent."""
    id: int
    to: str
    kind: str  # detection-link | setup-sms | server-alert
    body: str
    time: datetime
    client: str | None = None
    code: str | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "to": self.to, "kind": self.kind, "body": self.body,
                "time": iso_z(self.time), "client": self.client, "code": self.code}


class World(GDataService, SyncMLService, ClientsService, DetectionService, PhoneService, TokensService):
    """Everything that grows with traffic is bounded: the outbox and the setup records
    (`outbox_limit`, oldest dropped first), sessions and chatlog (`chatlog_limit`),
    detections and OAuth request tokens (purged once expired on the virtual clock, and at
    most `detection_limit` / `request_token_limit` live ones, oldest dropped first), the
    numbers auto detection learned (`handset_limit`), access tokens issued by the
    three-legged flow (`issued_token_limit`, oldest revoked), and the phones' states and
    scheduled actions, which follow the outbox (phone.py, `tidy_phones`).

    Kept on purpose: clients, bindings and datastore contents are what users made, not
    traffic, and a deleted item's tombstone is what tells a client syncing `since` an
    older time to delete it (dropping it would make that client miss a change).
    """

    # The slices persistence tracks key by key (see TrackedDict); the rest are bounded
    # deques it follows by identity, and a few small fields it compares whole.
    TRACKED = ("clients", "bindings", "detections", "handsets", "phone_states", "autopilots", "request_tokens")

    def __init__(self, phones: PhonesDB, users: list[User], consumers: dict[str, str],
                 clock: VirtualClock | None = None, outbox_limit: int = DEFAULT_OUTBOX_LIMIT,
                 chatlog_limit: int = DEFAULT_CHATLOG_LIMIT, settings: dict | None = None,
                 detection_limit: int = DEFAULT_DETECTION_LIMIT,
                 request_token_limit: int = DEFAULT_REQUEST_TOKEN_LIMIT,
                 issued_token_limit: int = DEFAULT_ISSUED_TOKEN_LIMIT) -> None:
        # Its `version` moves whenever anyone takes it: the response cache's test of change.
        self.lock = VersionedLock()
        self.phones = phones
        self.clock = clock or VirtualClock()
        self.settings = {"detection_code_lifetime": DEFAULT_CODE_LIFETIME, **(settings or {})}
        self.consumers = dict(consumers)
        self.users = {u.name: u for u in users}
        self.users_by_token = {u.token: u for u in users}
        self.clients: dict[str, object] = TrackedDict()
        self.setups: deque[SetupRecord] = deque(maxlen=outbox_limit)  # bounded as the outbox is
        self.outbox: deque[Message] = deque(maxlen=outbox_limit)
        self.sessions: deque = deque(maxlen=chatlog_limit)
        self.chatlog: deque = deque(maxlen=chatlog_limit)
        self.bindings: dict[int, Binding] = TrackedDict()
        self.detections: dict[str, Detection] = TrackedDict()
        self.handsets: dict[str, Model] = TrackedDict()  # what the simulated operator knows: number -> model
        self.phone_states: dict[str, PhoneState] = TrackedDict()
        self.autopilots: dict[str, dict] = TrackedDict()
        self.schedule: list[tuple] = []  # heap of delayed phone actions
        self.request_tokens: dict = TrackedDict()
        self.issued_tokens: deque[str] = deque()
        self.detection_limit = detection_limit
        self.request_token_limit = request_token_limit
        self.issued_token_limit = issued_token_limit
        self.handset_limit = DEFAULT_HANDSET_LIMIT
        self._learned_handsets: deque[str] = deque()
        # Expiry queues, oldest first: purging pops their heads (amortised O(1) per creation).
        self._detection_expiry: deque[tuple[datetime, str]] = deque()
        self._request_token_expiry: deque[tuple[datetime, str]] = deque()
        self._request_token_bytes = 0
        self._setup_numbers = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._sent_since_tidy = 0  # messages sent since the last `tidy_phones`
        self._session_ids = itertools.count(1)
        self._binding_ids = itertools.count(1)

    # --- change tracking (persistence.py) --------------------------------------------------
    def track_changes(self) -> None:
        """From now on, record the keys of the TRACKED slices that requests touch."""
        for name in self.TRACKED:
            getattr(self, name).touched = set()

    def take_changes(self) -> dict[str, set]:
        """The keys touched per TRACKED slice since the last call (or `track_changes`)."""
        changes = {}
        for name in self.TRACKED:
            tracked = getattr(self, name)
            if tracked.touched:
                changes[name], tracked.touched = tracked.touched, set()
        return changes

    def index_expiry(self) -> None:
        """Rebuild the expiry queues from the detections and request tokens (after a load)."""
        self._index_detections()
        self._index_request_tokens()

    # --- shared by the services ----------------------------------------------------------
    def _owned(self, user: User, client_uuid: str, kind: str):
        client = self.clients.get(client_uuid.lower())
        if client is None or client.kind != kind:
            raise NotFound(f"no {kind} client {client_uuid}")
        if client.owner != user.name:
            raise Forbidden(f"{kind} client {client_uuid} belongs to another user")
        return client

    def _list(self, user: User, kind: str) -> list:
        return [c for c in self.clients.values() if c.kind == kind and c.owner == user.name]

    def _new_uuid(self) -> str:
        return str(uuidlib.uuid1())

    def _remove_client(self, client) -> None:
        """Deleting a client also drops the bindings that name it."""
        del self.clients[client.uuid]
        for binding_id in [b.id for b in self.bindings.values() if client.uuid in (b.source, b.target)]:
            del self.bindings[binding_id]

    # --- outbox ----------------------------------------------------------------------
    def _send(self, to: str, kind: str, body: str, client: str | None = None,
              code: str | None = None) -> Message:
        message = Message(next(self._message_ids), to, kind, body, self.clock.now(), client, code)
        self.outbox.append(message)
        # Phone states and the schedule follow the outbox (phone.py): tidied once per
        # outbox's worth of messages, so what refers to dropped ones stays bounded.
        self._sent_since_tidy += 1
        if self._sent_since_tidy >= (self.outbox.maxlen or 1):
            self._sent_since_tidy = 0
            self.tidy_phones()
        self._autopilot_for(message)
        return message

    def messages(self, to: str | None = None, kind: str | None = None) -> list[Message]:
        return [m for m in self.outbox
                if (to is None or m.to == to) and (kind is None or m.kind == kind)]

    # --- seeding (fixtures) ----------------------------------------------------------
    def add_client(self, client) -> None:
        if client.owner not in self.users:
            raise Invalid(f"client {client.uuid} names unknown owner {client.owner!r}")
        self.clients[client.uuid.lower()] = client

    def to_dict(self) -> dict:
        """The whole state as one JSON document (see state.py); `World.from_dict` reverses it."""
        from ocss_testkit.world.state import dump
        return dump(self)

    @classmethod
    def from_dict(cls, data: dict, phones: PhonesDB, **options) -> World:
        from ocss_testkit.world.state import load
        return load(data, phones, cls, **options)

    def summary(self) -> dict:
        kinds: dict[str, int] = {}
        for c in self.clients.values():
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        return {"users": len(self.users), "clients": kinds, "outbox": len(self.outbox),
                "setups": len(self.setups), "sessions": len(self.sessions), "clock": self.clock.as_dict()}
