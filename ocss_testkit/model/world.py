"""The mutable state of one simulated SyncServer: users, clients, setups, the outbox.

A World is a plain object: make as many as you like (one per server, per test session,
per tenant). Resetting a server swaps in a fresh World built from its fixture set; the
phones database is shared between all of them and never copied.

Every public method that touches state must be called with ``world.lock`` held; the
HTTP layer holds it for the whole of each request, which makes every request atomic.
"""
from __future__ import annotations

import itertools
import threading
import uuid as uuidlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from ..clock import Clock
from .errors import Conflict, Forbidden, Invalid, NotFound, Unsupported
from .phones import Model, PhonesDB

DEFAULT_OUTBOX_LIMIT = 1000


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


@dataclass(slots=True)
class Token:
    type: int
    key: str | None
    secret: str | None
    scopes: list[str]
    type_tag: str = "type"  # `type` or `token_type`: 001 shows both; echoed as sent on create


@dataclass(slots=True)
class GDataDatastore:
    dataclass: str
    href: str
    name: str
    token: Token | None


@dataclass(slots=True)
class GDataClient:
    uuid: str
    owner: str
    user_id: str
    datastores: list[GDataDatastore]
    published: datetime
    updated: datetime
    kind: str = "gdata"


@dataclass(slots=True)
class SyncMLDatastore:
    dataclass: str
    name: str  # the phone-side store name, e.g. `C:Contacts.cdb` (003)


@dataclass(slots=True)
class SyncMLClient:
    uuid: str
    owner: str
    phone_number: str
    model_ref: str  # as sent: `242` or `02978288-…` (003 echoes either)
    model: Model
    timezone: str
    imei: str
    published: datetime
    updated: datetime
    setup_sent: datetime | None = None
    setup_name: str = ""
    datastores: list[SyncMLDatastore] = field(default_factory=list)
    kind: str = "syncml"


@dataclass(frozen=True, slots=True)
class SetupRecord:
    number: int
    client_uuid: str
    pincode: str
    sent: datetime
    profile: str


@dataclass(frozen=True, slots=True)
class Message:
    """Anything that would have reached a phone: an SMS or a WAP push. Nothing is sent."""
    id: int
    to: str
    kind: str  # setup-sms | server-alert
    body: str
    time: datetime
    client: str | None = None
    code: str | None = None

    def as_dict(self) -> dict:
        from ..clock import iso_z
        return {"id": self.id, "to": self.to, "kind": self.kind, "body": self.body,
                "time": iso_z(self.time), "client": self.client, "code": self.code}


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    """IANA zone names, read once (FakeApp warms this at start-up, off the request path)."""
    return frozenset(z for z in available_timezones() if z != "Factory")


def valid_timezone(name: str) -> bool:
    return name in known_timezones()


class World:
    def __init__(self, phones: PhonesDB, users: list[User], consumers: dict[str, str],
                 clock: Clock | None = None, outbox_limit: int = DEFAULT_OUTBOX_LIMIT) -> None:
        self.lock = threading.RLock()
        self.phones = phones
        self.clock = clock or Clock()
        self.consumers = dict(consumers)
        self.users = {u.name: u for u in users}
        self.users_by_token = {u.token: u for u in users}
        self.clients: dict[str, GDataClient | SyncMLClient] = {}
        self.setups: list[SetupRecord] = []
        self.outbox: deque[Message] = deque(maxlen=outbox_limit)
        self._setup_numbers = itertools.count(1)
        self._message_ids = itertools.count(1)

    # --- lookups ---------------------------------------------------------------------
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

    # --- Google Data clients (001) ---------------------------------------------------
    def gdata_clients(self, user: User) -> list[GDataClient]:
        return self._list(user, "gdata")

    def gdata_client(self, user: User, client_uuid: str) -> GDataClient:
        return self._owned(user, client_uuid, "gdata")

    def create_gdata_client(self, user: User, user_id: str,
                            datastores: list[GDataDatastore]) -> GDataClient:
        # "Only one client registration per end user" (001, Add a new client).
        if any(c.kind == "gdata" and c.user_id == user_id for c in self.clients.values()):
            raise Conflict(f"a Google client for {user_id!r} is already registered")
        _check_one_per_dataclass(datastores)
        now = self.clock.now()
        client = GDataClient(self._new_uuid(), user.name, user_id, list(datastores), now, now)
        self.clients[client.uuid] = client
        return client

    def update_gdata_client(self, user: User, client_uuid: str, user_id: str | None,
                            datastores: list[GDataDatastore]) -> GDataClient:
        """Adds datastores (001: "Updating a client is used to add datastores").

        A datastore of a dataclass the client already has replaces it (one definition
        per dataclass, 001); every other one is kept: merge, not replace.
        """
        client = self.gdata_client(user, client_uuid)
        if user_id is not None and user_id != client.user_id:
            raise Invalid(f"user_id cannot be changed (is {client.user_id!r}, got {user_id!r})")
        _check_one_per_dataclass(datastores)
        merged = {d.dataclass: d for d in client.datastores}
        for d in datastores:
            merged[d.dataclass] = d
        client.datastores = list(merged.values())
        client.updated = self.clock.now()
        return client

    def delete_gdata_client(self, user: User, client_uuid: str) -> None:
        client = self.gdata_client(user, client_uuid)
        del self.clients[client.uuid]

    # --- SyncML clients (003) --------------------------------------------------------
    def syncml_clients(self, user: User) -> list[SyncMLClient]:
        return self._list(user, "syncml")

    def syncml_client(self, user: User, client_uuid: str) -> SyncMLClient:
        return self._owned(user, client_uuid, "syncml")

    def create_syncml_client(self, user: User, phone_number: str, model_ref: str,
                             timezone: str = "UTC", imei: str = "") -> SyncMLClient:
        model = self.phones.model(model_ref)
        if model is None:
            raise Invalid(f"unknown phone model {model_ref!r}")
        if not valid_timezone(timezone):
            raise Invalid(f"unknown timezone {timezone!r}: use an IANA name such as Europe/Oslo")
        now = self.clock.now()
        client = SyncMLClient(self._new_uuid(), user.name, phone_number, model_ref.strip(), model,
                              timezone, imei, now, now)
        self.clients[client.uuid] = client
        return client

    def delete_syncml_client(self, user: User, client_uuid: str) -> None:
        client = self.syncml_client(user, client_uuid)
        del self.clients[client.uuid]

    def send_setup(self, user: User, client_uuid: str, pincode: str) -> SetupRecord:
        """Records the setup SMS (OMA client provisioning, protected by the pincode)."""
        client = self.syncml_client(user, client_uuid)
        now = self.clock.now()
        record = SetupRecord(next(self._setup_numbers), client.uuid, pincode, now, user.setup_profile)
        self.setups.append(record)
        client.setup_sent, client.setup_name, client.updated = now, record.profile, now
        self._send(client.phone_number, "setup-sms",
                   f"Sync settings '{record.profile}' for {client.model.name}. PIN: {pincode}",
                   client=client.uuid)
        return record

    def request_sync(self, user: User, client_uuid: str) -> Message:
        """Server-initiated sync: a SyncML server alert pushed to the phone (003)."""
        client = self.syncml_client(user, client_uuid)
        if not client.model.server_alert:
            raise Unsupported(f"{client.model.name} does not support server-initiated sync")
        return self._send(client.phone_number, "server-alert",
                          f"SyncML server alert for {client.model.name}", client=client.uuid)

    def syncml_sessions(self, user: User) -> list:
        return []  # filled by the simulated phone's sync sessions

    # --- outbox ----------------------------------------------------------------------
    def _send(self, to: str, kind: str, body: str, client: str | None = None,
              code: str | None = None) -> Message:
        message = Message(next(self._message_ids), to, kind, body, self.clock.now(), client, code)
        self.outbox.append(message)
        return message

    def messages(self, to: str | None = None, kind: str | None = None) -> list[Message]:
        return [m for m in self.outbox
                if (to is None or m.to == to) and (kind is None or m.kind == kind)]

    # --- seeding (fixtures) ----------------------------------------------------------
    def add_client(self, client: GDataClient | SyncMLClient) -> None:
        if client.owner not in self.users:
            raise Invalid(f"client {client.uuid} names unknown owner {client.owner!r}")
        self.clients[client.uuid.lower()] = client

    def to_dict(self) -> dict:
        """The whole mutable state as JSON-able data (users and phones are fixture data)."""
        from ..clock import iso_z

        def when(dt):
            return iso_z(dt) if dt else None

        clients = []
        for c in sorted(self.clients.values(), key=lambda c: c.uuid):
            base = {"kind": c.kind, "uuid": c.uuid, "owner": c.owner,
                    "published": when(c.published), "updated": when(c.updated)}
            if c.kind == "gdata":
                base.update(user_id=c.user_id, datastores=[
                    {"dataclass": d.dataclass, "href": d.href, "name": d.name,
                     "token": None if d.token is None else {
                         "type": d.token.type, "key": d.token.key, "secret": d.token.secret,
                         "scopes": list(d.token.scopes), "type_tag": d.token.type_tag}}
                    for d in c.datastores])
            else:
                base.update(phone_number=c.phone_number, model_uuid=c.model_ref, timezone=c.timezone,
                            imei=c.imei, setup={"sent": when(c.setup_sent), "name": c.setup_name},
                            datastores=[{"dataclass": d.dataclass, "name": d.name} for d in c.datastores])
            clients.append(base)
        return {
            "clients": clients,
            "setups": [{"number": r.number, "client": r.client_uuid, "pincode": r.pincode,
                        "sent": when(r.sent), "profile": r.profile} for r in self.setups],
            "outbox": [m.as_dict() for m in self.outbox],
        }

    def summary(self) -> dict:
        kinds: dict[str, int] = {}
        for c in self.clients.values():
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        return {"users": len(self.users), "clients": kinds, "outbox": len(self.outbox),
                "setups": len(self.setups), "clock": self.clock.as_dict()}


def _check_one_per_dataclass(datastores: list[GDataDatastore]) -> None:
    seen = set()
    for d in datastores:
        if d.dataclass in seen:
            raise Invalid(f"two datastores for dataclass {d.dataclass!r}: one per dataclass (001)")
        seen.add(d.dataclass)
