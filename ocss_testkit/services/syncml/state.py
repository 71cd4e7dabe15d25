"""SyncML clients (SyncML API): phones, their setup SMS, server alerts and sync sessions."""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from ocss_testkit.services.phones.database import Model
from ocss_testkit.world.clients import COMMON_FIELDS, ClientKind
from ocss_testkit.world.clock import iso_z
from ocss_testkit.world.errors import Invalid, NotFound, Unsupported
from ocss_testkit.world.service import Slice
from ocss_testkit.world.state_reader import model as model_at

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User
    from ocss_testkit.world.world import World



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


class SyncMLService(ClientKind[SyncMLClient]):
    """SyncML clients and their setup SMS (`world.syncml`; SyncML API, 'SyncML Client API',
    'Setup and Phone Configuration', 'Server Initiated Synchronization'). Every method runs
    under the World's lock. The setup records are bounded as the outbox is."""

    name = "syncml"
    kind = "syncml"

    def _setup_entry(self, record: SetupRecord) -> dict[str, Any]:
        return {"number": record.number, "client": record.client_uuid, "pincode": record.pincode,
                "sent": iso_z(record.sent), "profile": record.profile}

    slices = (Slice("setups", "sequence", "setups", _setup_entry),)

    def __init__(self, world: World, setup_limit: int) -> None:
        super().__init__(world)
        self.setups: deque[SetupRecord] = deque(maxlen=setup_limit)
        self._setup_numbers = itertools.count(1)

    def create_client(self, user: User, phone_number: str, model_ref: str, timezone: str = "UTC",
                      imei: str = "") -> SyncMLClient:
        """Invalid for an unknown phone model (by id or uuid) or timezone (an IANA name)."""
        model = self.world.phones.model(model_ref)
        if model is None:
            raise Invalid(f"unknown phone model {model_ref!r}")
        if not valid_timezone(timezone):
            raise Invalid(f"unknown timezone {timezone!r}: use an IANA name such as Europe/Oslo")
        now = self.world.clock.now()
        client = SyncMLClient(self.world.clients.new_uuid(), user.name, phone_number, model_ref.strip(), model,
                              timezone, imei, now, now)
        return self.keep(client)

    def send_setup(self, user: User, client_uuid: str, pincode: str) -> SetupRecord:
        """Records the setup SMS (OMA client provisioning, protected by the pincode)."""
        client = self.client(user, client_uuid)
        now = self.world.clock.now()
        record = SetupRecord(next(self._setup_numbers), client.uuid, pincode, now, user.setup_profile)
        self.setups.append(record)
        client.setup_sent, client.setup_name, client.updated = now, record.profile, now
        self.world.outbox.send(client.phone_number, "setup-sms",
                               f"Sync settings '{record.profile}' for {client.model.name}. PIN: {pincode}",
                               client=client.uuid)
        return record

    def setup(self, user: User, client_uuid: str, number: int) -> SetupRecord:
        """The setup record `number` of one client: what its setup POST answered, found
        again at the id that answer showed (SyncML API, 'Setup and Phone Configuration').
        NotFound or Forbidden for the client as `client()`; NotFound when the client has
        no such setup, or when it is older than the records kept (as many as the outbox)."""
        client = self.client(user, client_uuid)
        for record in self.setups:
            if record.number == number and record.client_uuid == client.uuid:
                return record
        raise NotFound(f"SyncML client {client.uuid} has no setup {number} (the newest {self.setups.maxlen} "
                       "setups are kept)")

    def request_sync(self, user: User, client_uuid: str) -> Any:
        """Server-initiated sync: a SyncML server alert pushed to the phone (SyncML API,
        'Server Initiated Synchronization'); Unsupported when the model cannot take one."""
        client = self.client(user, client_uuid)
        if not client.model.server_alert:
            raise Unsupported(f"{client.model.name} does not support server-initiated sync")
        return self.world.outbox.send(client.phone_number, "server-alert",
                                      f"SyncML server alert for {client.model.name}", client=client.uuid)

    # --- the state document ---------------------------------------------------------------
    def load(self, doc: StateReader) -> None:
        for r in doc.at("setups", []).items():
            r.known("number", "client", "pincode", "sent", "profile")
            self.setups.append(SetupRecord(r.at("number").int(), r.at("client").str(), r.at("pincode").str(),
                                           r.at("sent").time(), r.at("profile", "SyncServer").str()))

    def loaded(self) -> None:
        self._setup_numbers = itertools.count(max((r.number for r in self.setups), default=0) + 1)

    def load_client(self, c: StateReader, common: dict[str, Any]) -> SyncMLClient:
        c.known(*COMMON_FIELDS, "phone_number", "model_uuid", "timezone", "imei", "setup", "datastores")
        ref = c.at("model_uuid")
        model = model_at(ref, self.world.phones)
        timezone = c.at("timezone", "UTC").str()
        if not valid_timezone(timezone):
            c.at("timezone").fail(f"unknown timezone {timezone!r}")
        setup = c.at("setup", {}).known("sent", "name")
        return SyncMLClient(
            phone_number=c.at("phone_number").str(False), model_ref=str(ref.value), model=model, timezone=timezone,
            imei=c.at("imei", "").str(), setup_sent=setup.at("sent", None).opt_time(),
            setup_name=setup.at("name", "").str(),
            datastores=[SyncMLDatastore(d.known("dataclass", "name").at("dataclass").str(False), d.at("name").str())
                        for d in c.at("datastores", []).items()], **common)
