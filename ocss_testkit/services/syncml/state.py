"""SyncML clients (SyncML API): phones, their setup SMS, server alerts and sync sessions."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Literal

from ocss_testkit.services.phones.database import Model
from ocss_testkit.world.errors import Invalid, NotFound, Unsupported
from ocss_testkit.world.world_fields import WorldFields

DEFAULT_CHATLOG_LIMIT = 2000


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    """IANA zone names, read once (FakeApp warms this at start-up, off the request path).

    From the tzdata package's list, not the host's zoneinfo folder, which also holds
    `localtime`, `posix/…` and `right/…` entries that are not zone names.
    """
    names = resources.files("tzdata").joinpath("zones").read_text("utf-8").split()
    return frozenset(z for z in names if z != "Factory")


def valid_timezone(name: str) -> bool:
    return name in known_timezones()


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
    kind: Literal["syncml"] = "syncml"

    def state(self) -> dict:
        from ocss_testkit.world.clock import iso_z
        return {"phone_number": self.phone_number, "model_uuid": self.model_ref, "timezone": self.timezone,
                "imei": self.imei,
                "setup": {"sent": iso_z(self.setup_sent) if self.setup_sent else None, "name": self.setup_name},
                "datastores": [{"dataclass": d.dataclass, "name": d.name} for d in self.datastores]}


@dataclass(frozen=True, slots=True)
class SetupRecord:
    number: int
    client_uuid: str
    pincode: str
    sent: datetime
    profile: str


@dataclass(frozen=True, slots=True)
class SessionStore:
    dataclass: str
    name: str
    sync_type: str  # "slow" on a first sync, else "two-way"
    items_from_phone: int
    items_to_phone: int


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    client_uuid: str
    owner: str
    started: datetime
    ended: datetime
    outcome: str  # ok | failed
    reason: str
    datastores: tuple[SessionStore, ...]

    @property
    def updated(self) -> datetime:  # feeds sort and date entries by `updated`
        return self.ended


@dataclass(frozen=True, slots=True)
class ChatMessage:
    session_id: int
    number: int  # SyncML MsgID within the session
    direction: str  # "from-phone" | "to-phone"
    time: datetime
    xml: str

    @property
    def updated(self) -> datetime:
        return self.time


class SyncMLService(WorldFields):
    """Mixed into World; every method runs under the World's lock."""

    def syncml_clients(self, user) -> list[SyncMLClient]:
        return self._list(user, "syncml")

    def syncml_client(self, user, client_uuid: str) -> SyncMLClient:
        return self._owned(user, client_uuid, "syncml")

    def create_syncml_client(self, user, phone_number: str, model_ref: str,
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

    def delete_syncml_client(self, user, client_uuid: str) -> None:
        self._remove_client(self.syncml_client(user, client_uuid))

    def send_setup(self, user, client_uuid: str, pincode: str) -> SetupRecord:
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

    def request_sync(self, user, client_uuid: str):
        """Server-initiated sync: a SyncML server alert pushed to the phone (003)."""
        client = self.syncml_client(user, client_uuid)
        if not client.model.server_alert:
            raise Unsupported(f"{client.model.name} does not support server-initiated sync")
        return self._send(client.phone_number, "server-alert",
                          f"SyncML server alert for {client.model.name}", client=client.uuid)

    # --- sessions (D12) and chatlog (D13) ------------------------------------------------
    def syncml_sessions(self, user) -> list[Session]:
        return [s for s in self.sessions if s.owner == user.name]

    def syncml_session(self, user, session_id: int) -> Session:
        for s in self.sessions:
            if s.id == session_id:
                return s
        raise NotFound(f"no SyncML session {session_id}")

    def chat_messages(self, session_id: int | None = None) -> list[ChatMessage]:
        return [m for m in self.chatlog if session_id is None or m.session_id == session_id]

    def run_session(self, client: SyncMLClient, installed: bool) -> Session:
        """A simulated SyncML session, as the phone would run it after accepting an alert.

        Without the sync settings installed (setup accepted) the phone cannot reach the
        server: the session fails. The first successful session reports the model's
        phone-side datastores, which then appear in the client entry (003: "These
        datastores are generated on the first synchronization of the phone").
        """
        from ocss_testkit.services.syncml.chat import session_messages

        started = self.clock.now()
        first = not client.datastores
        stores: tuple[SessionStore, ...]
        if not installed:
            stores, outcome = (), "failed"
            reason = "the phone has no sync settings for this server (setup not accepted)"
        elif not client.model.datastores:
            stores, outcome, reason = (), "failed", f"{client.model.name} reported no datastores"
        else:
            stores = tuple(SessionStore(dc, name, "slow" if first else "two-way", 0, 0)
                           for dc, name in client.model.datastores)
            outcome, reason = "ok", ""
        session = Session(next(self._session_ids), client.uuid, client.owner, started, self.clock.now(),
                          outcome, reason, stores)
        self.sessions.append(session)
        for number, (direction, xml) in enumerate(session_messages(session, client), start=1):
            self.chatlog.append(ChatMessage(session.id, number, direction, session.ended, xml))
        if outcome == "ok" and first:
            client.datastores = [SyncMLDatastore(dc, name) for dc, name in client.model.datastores]
            client.updated = session.ended
        return session
