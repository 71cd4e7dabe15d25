"""The mutable state of one simulated SyncServer, composed of one service per API.

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
from dataclasses import dataclass
from datetime import datetime

from ..clock import Clock, iso_z
from .clients import ActiveSyncClient, Binding, ClientsService, DatastoreClient
from .detection import DEFAULT_CODE_LIFETIME, Detection, DetectionService
from .errors import Forbidden, Invalid, NotFound
from .gdata import GDataClient, GDataDatastore, GDataService, Token
from .phone import PhoneService, PhoneState
from .phones import Model, PhonesDB
from .syncml import (DEFAULT_CHATLOG_LIMIT, SetupRecord, SyncMLClient, SyncMLDatastore, SyncMLService,
                     known_timezones, valid_timezone)
from .tokens import TokensService

DEFAULT_OUTBOX_LIMIT = 1000

__all__ = ["World", "User", "Message", "Token", "GDataDatastore", "GDataClient", "SyncMLClient",
           "SyncMLDatastore", "SetupRecord", "ActiveSyncClient", "DatastoreClient", "Binding", "Detection",
           "PhoneState", "known_timezones", "valid_timezone"]


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
    def __init__(self, phones: PhonesDB, users: list[User], consumers: dict[str, str],
                 clock: Clock | None = None, outbox_limit: int = DEFAULT_OUTBOX_LIMIT,
                 chatlog_limit: int = DEFAULT_CHATLOG_LIMIT, settings: dict | None = None) -> None:
        self.lock = threading.RLock()
        self.phones = phones
        self.clock = clock or Clock()
        self.settings = {"detection_code_lifetime": DEFAULT_CODE_LIFETIME, **(settings or {})}
        self.consumers = dict(consumers)
        self.users = {u.name: u for u in users}
        self.users_by_token = {u.token: u for u in users}
        self.clients: dict[str, object] = {}
        self.setups: list[SetupRecord] = []
        self.outbox: deque[Message] = deque(maxlen=outbox_limit)
        self.sessions: deque = deque(maxlen=chatlog_limit)
        self.chatlog: deque = deque(maxlen=chatlog_limit)
        self.bindings: dict[int, Binding] = {}
        self.detections: dict[str, Detection] = {}
        self.handsets: dict[str, Model] = {}  # what the simulated operator knows: number -> model
        self.phone_states: dict[str, PhoneState] = {}
        self.autopilots: dict[str, dict] = {}
        self.schedule: list[tuple] = []  # heap of delayed phone actions
        self.request_tokens: dict = {}
        self.issued_tokens: list[str] = []
        self._setup_numbers = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._session_ids = itertools.count(1)
        self._binding_ids = itertools.count(1)

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
        from .state import dump
        return dump(self)

    @classmethod
    def from_dict(cls, data: dict, phones: PhonesDB, **options) -> "World":
        from .state import load
        return load(data, phones, cls, **options)

    def summary(self) -> dict:
        kinds: dict[str, int] = {}
        for c in self.clients.values():
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        return {"users": len(self.users), "clients": kinds, "outbox": len(self.outbox),
                "setups": len(self.setups), "sessions": len(self.sessions), "clock": self.clock.as_dict()}
